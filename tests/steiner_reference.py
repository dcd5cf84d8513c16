"""Plain reference versions of the optimiser's compiled algorithms (test oracles).

Slow, short and written to be read against the papers: the compiled kernels
of :mod:`fibreplan.optimise._jit` are checked against these. They are not
part of the package.
"""

from __future__ import annotations

import heapq

import numpy as np
import scipy.sparse as sp
from scipy.sparse import csgraph


def reverse_index(A: sp.csr_array) -> np.ndarray:
    """Position of entry ``(v, u)`` for every stored entry ``(u, v)`` of symmetric ``A``."""
    rows = np.repeat(np.arange(A.shape[0]), np.diff(A.indptr))
    return np.lexsort((rows, A.indices)).astype(np.int64)


def dual_ascent(
    A: sp.csr_array, terminals: np.ndarray, root: int
) -> tuple[float, np.ndarray, list[list[int]]]:
    """Wong's dual ascent (1984): bound, reduced arc costs (aligned with ``A.data``), cuts.

    The active terminal of smallest current cut is grown first (ties: smaller
    node); a terminal stops when the nodes reaching it by zero-reduced-cost
    arcs include the root or another active terminal.
    """
    n = A.shape[0]
    rev = reverse_index(A)
    rc = A.data.astype(np.float64).copy()
    # in-arcs of v: the arc (indices[p] -> v) is stored at rev[p] for p in row v
    in_arcs = [
        [(int(A.indices[p]), int(rev[p])) for p in range(A.indptr[v], A.indptr[v + 1])]
        for v in range(n)
    ]
    active = np.zeros(n, dtype=bool)
    heap = []
    for x in np.asarray(terminals).tolist():
        if x != root:
            active[x] = True
            heap.append((len(in_arcs[x]), x))
    heapq.heapify(heap)
    lb = 0.0
    cuts = []
    while heap:
        _, x = heapq.heappop(heap)
        if not active[x]:
            continue
        W, cut, stop = {x}, [], False
        queue = [x]
        while queue and not stop:
            v = queue.pop(0)
            for u, a in in_arcs[v]:
                if u in W:
                    continue
                if rc[a] <= 0.0:
                    if u == root or active[u]:
                        stop = True
                        break
                    W.add(u)
                    queue.append(u)
                else:
                    cut.append((a, u))
        if stop:
            active[x] = False
            continue
        live = [a for a, u in cut if u not in W]
        if not live:
            active[x] = False
            continue
        delta = min(rc[a] for a in live)
        for a in live:
            rc[a] = max(0.0, rc[a] - delta)
        lb += delta
        cuts.append(sorted(live))
        heapq.heappush(heap, (len(live), x))
    return lb, rc, cuts


def prune_leaves(edges: list[tuple[int, int]], terminals: set[int]) -> list[tuple[int, int]]:
    """Remove non-terminal leaves of a tree until none is left."""
    edges = list(edges)
    while True:
        deg: dict[int, int] = {}
        for u, v in edges:
            deg[u] = deg.get(u, 0) + 1
            deg[v] = deg.get(v, 0) + 1
        leaves = {x for x, d in deg.items() if d == 1 and x not in terminals}
        if not leaves:
            return edges
        edges = [(u, v) for u, v in edges if u not in leaves and v not in leaves]


def mehlhorn_tree(A: sp.csr_array, terminals: np.ndarray) -> np.ndarray:
    """Mehlhorn's distance-network heuristic (1988), as networkx's ``method="mehlhorn"``.

    Voronoi regions of the terminals; every edge between two regions is a
    terminal-graph edge of cost ``d(u) + w(u, v) + d(v)``; the MST of that
    graph, each edge expanded to its path, the MST of the union, pruned.
    """
    t = np.unique(np.asarray(terminals, dtype=np.int64))
    if t.size <= 1:
        return np.empty((0, 2), dtype=np.int64)
    dist, pred, src = csgraph.dijkstra(
        A, directed=False, indices=t, min_only=True, return_predecessors=True
    )
    coo = sp.triu(A, k=1, format="coo")
    best: dict[tuple[int, int], tuple[float, int, int]] = {}
    for u, v, w in zip(coo.row.tolist(), coo.col.tolist(), coo.data.tolist(), strict=True):
        a, b = int(src[u]), int(src[v])
        if a < 0 or b < 0 or a == b:
            continue
        key = (min(a, b), max(a, b))
        c = dist[u] + w + dist[v]
        if key not in best or c < best[key][0]:
            best[key] = (c, u, v)
    pos = {int(x): i for i, x in enumerate(t)}
    rows = [pos[a] for a, _ in best]
    cols = [pos[b] for _, b in best]
    G1 = sp.coo_array(([c for c, _, _ in best.values()], (rows, cols)), shape=(t.size, t.size))
    mst = sp.coo_array(csgraph.minimum_spanning_tree(G1))
    union: set[tuple[int, int]] = set()
    for i, j in zip(mst.row.tolist(), mst.col.tolist(), strict=True):
        key = (min(int(t[i]), int(t[j])), max(int(t[i]), int(t[j])))
        _, u, v = best[key]
        union.add((min(u, v), max(u, v)))
        for end in (u, v):
            x = end
            while pred[x] >= 0:
                union.add((min(x, int(pred[x])), max(x, int(pred[x]))))
                x = int(pred[x])
    e = np.asarray(sorted(union), dtype=np.int64)
    w = np.asarray(A[e[:, 0], e[:, 1]]).ravel()
    n = A.shape[0]
    sub = sp.coo_array(csgraph.minimum_spanning_tree(sp.csr_array((w, (e[:, 0], e[:, 1])), (n, n))))
    tree = prune_leaves(list(zip(sub.row.tolist(), sub.col.tolist(), strict=True)), set(t.tolist()))
    out = np.sort(np.asarray(tree, dtype=np.int64).reshape(-1, 2), axis=1)
    return out[np.lexsort((out[:, 1], out[:, 0]))]
