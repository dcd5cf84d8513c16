"""Compiled (numba) kernels of the fast Steiner heuristic and dual ascent.

Every kernel works on one symmetric CSR graph given as plain arrays:

* ``indptr`` (int64, n + 1), ``indices`` (int64, 2m), ``w`` (float64, 2m):
  arc ``p`` runs from the row node ``u`` (``indptr[u] <= p < indptr[u + 1]``)
  to ``indices[p]`` with weight ``w[p]``; an infinite weight hides the arc.
* ``rev`` (int64, 2m): position of the reverse arc of ``p``.
* The arcs of every row are sorted by weight, so a bounded search stops
  scanning a row at the first arc that is too long.
* A tree is a boolean arc mask ``tarc`` (both arcs of a tree edge set) with
  the tree degree ``tdeg`` of every node.

The kernels are compiled on first use and cached on disk (``cache=True``),
so only the first run on a machine pays the compilation (a few seconds).
"""

from __future__ import annotations

import numpy as np
from numba import njit

_INF = np.inf
_EPS = 1e-9
#: Heap sizes and counts: int64 scalars (see :func:`_new_heap`) or ints.
_Size = int | np.int64
#: Local search: per pass, search from pieces of at most max(_LS_MIN_PIECE,
#: _LS_WORK / tree size) nodes (no cap below ~2,000-node trees), and only
#: from the smallest pieces that hold at most min(_LS_WORK, _LS_WORK_PER_ARC
#: * arcs) nodes in all: a pass is then O(arcs) whatever the tree (PACE 2018
#: instances 143-146, 1,000 terminals on 2,700 nodes: 70 -> 15 ms a pass).
_LS_WORK = 2_000_000
_LS_WORK_PER_ARC = 8
_LS_MIN_PIECE = 64
#: Local search: nodes one reconnection search may settle beyond the pieces'
#: own (deterministic; the moves it finds are still exact improvements): at
#: least _LS_SETTLE, and up to _LS_SETTLE_PER_NODE * nodes / moves of the
#: pass, so that a pass settles O(nodes) in all. Few terminals on a big graph
#: have long key paths whose better reconnections lie far (PACE 2018 road
#: grids of 8,000-19,000 nodes with 16-53 terminals: 4.1-6.7 % -> 0.8-3.5 %).
_LS_SETTLE = 128
_LS_SETTLE_PER_NODE = 8
#: ... and arcs it may scan, per node it may settle: binds on dense graphs only
#: (PACE 2018 instance 077, a complete graph on 640 nodes: 5.2 -> 3.4 s).
_LS_ARCS = 256


# --------------------------------------------------------------------------- helpers


@njit(cache=True)
def _root_of(uf: np.ndarray, x: int) -> int:
    while uf[x] != x:
        uf[x] = uf[uf[x]]
        x = uf[x]
    return x


@njit(cache=True)
def _hpush(
    hk: np.ndarray, hv: np.ndarray, size: _Size, key: float, val: int
) -> tuple[np.ndarray, np.ndarray, _Size]:
    """Push ``(key, val)`` on the binary min-heap ``hk, hv[:size]``; grow the arrays if full.

    Pairs are ordered by key, then by value, as :mod:`heapq` orders tuples.
    A hand-written heap on two arrays instead of ``heapq`` on a list of
    tuples: numba compiles it about ten times faster and it runs faster.
    """
    if size == hk.size:
        hk2 = np.empty(2 * size + 16)
        hv2 = np.empty(2 * size + 16, dtype=np.int64)
        for j in range(size):  # a loop: slice assignment costs numba seconds to compile
            hk2[j] = hk[j]
            hv2[j] = hv[j]
        hk, hv = hk2, hv2
    i = size
    while i > 0:
        up = (i - 1) >> 1
        if hk[up] < key or (hk[up] == key and hv[up] <= val):
            break
        hk[i] = hk[up]
        hv[i] = hv[up]
        i = up
    hk[i] = key
    hv[i] = val
    return hk, hv, size + 1


@njit(cache=True)
def _hpop(hk: np.ndarray, hv: np.ndarray, size: _Size) -> tuple[float, int, _Size]:
    """Pop the smallest pair of the heap ``hk, hv[:size]``; return ``(key, val, size - 1)``."""
    key = hk[0]
    val = hv[0]
    size -= 1
    lk = hk[size]
    lv = hv[size]
    i = 0
    while True:
        c = 2 * i + 1
        if c >= size:
            break
        if c + 1 < size and (hk[c + 1] < hk[c] or (hk[c + 1] == hk[c] and hv[c + 1] < hv[c])):
            c += 1
        if lk < hk[c] or (lk == hk[c] and lv <= hv[c]):
            break
        hk[i] = hk[c]
        hv[i] = hv[c]
        i = c
    hk[i] = lk
    hv[i] = lv
    return key, val, size


@njit(cache=True)
def _new_heap(capacity: _Size) -> tuple[np.ndarray, np.ndarray, _Size]:
    # np.int64(0), not 0: a literal would make numba compile every caller's heap twice
    return np.empty(max(capacity, 16)), np.empty(max(capacity, 16), dtype=np.int64), np.int64(0)


@njit(cache=True)
def _sort_pairs(keys: np.ndarray, vals: np.ndarray, n: _Size) -> tuple[np.ndarray, np.ndarray]:
    """Sort the first ``n`` pairs by key, then value (heapsort: no ``np.argsort`` to compile)."""
    hk, hv, hn = _new_heap(n)
    for i in range(n):
        hk, hv, hn = _hpush(hk, hv, hn, keys[i], vals[i])
    sk = np.empty(n)
    sv = np.empty(n, dtype=np.int64)
    for i in range(n):
        key, val, hn = _hpop(hk, hv, hn)
        sk[i] = key
        sv[i] = val
    return sk, sv


@njit(cache=True)
def prune_leaves(
    indptr: np.ndarray, indices: np.ndarray, tarc: np.ndarray, tdeg: np.ndarray, is_term: np.ndarray
) -> None:
    """Delete non-terminal leaves of the tree in place, repeatedly."""
    n = indptr.size - 1
    stack = [0]  # a typed list of int64 (numba), empty
    stack.pop()
    for v in range(n):
        if tdeg[v] == 1 and not is_term[v]:
            stack.append(v)  # noqa: PERF401 (numba: typed list, no extend from a generator)
    while stack:
        v = stack.pop()
        if tdeg[v] != 1 or is_term[v]:
            continue
        for p in range(indptr[v], indptr[v + 1]):
            if tarc[p]:
                u = indices[p]
                tarc[p] = False
                for q in range(indptr[u], indptr[u + 1]):
                    if indices[q] == v:
                        tarc[q] = False
                        break
                tdeg[v] -= 1
                tdeg[u] -= 1
                if tdeg[u] == 1 and not is_term[u]:
                    stack.append(u)
                break


@njit(cache=True)
def tree_weight(w: np.ndarray, tarc: np.ndarray) -> float:
    """Total weight of the tree (each edge counted once)."""
    s = 0.0
    for p in range(w.size):
        if tarc[p]:
            s += w[p]
    return s / 2.0


@njit(cache=True)
def _add_edge(p: int, u: int, v: int, rev: np.ndarray, tarc: np.ndarray, tdeg: np.ndarray) -> None:
    if not tarc[p]:
        tarc[p] = True
        tarc[rev[p]] = True
        tdeg[u] += 1
        tdeg[v] += 1


# --------------------------------------------------------------------------- MST on a node set


@njit(cache=True)
def mst_prune(
    indptr: np.ndarray,
    indices: np.ndarray,
    w: np.ndarray,
    rev: np.ndarray,
    node_set: np.ndarray,
    is_term: np.ndarray,
    start: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Prim's MST of the subgraph induced by ``node_set`` from ``start``, then leaf pruning.

    Returns ``(tarc, tdeg)``; nodes of ``node_set`` not reached from ``start`` stay out.
    """
    n = indptr.size - 1
    tarc = np.zeros(w.size, dtype=np.bool_)
    tdeg = np.zeros(n, dtype=np.int64)
    done = np.zeros(n, dtype=np.bool_)
    best = np.full(n, _INF)
    via = np.full(n, -1, dtype=np.int64)
    hk, hv, hn = _new_heap(n)
    hk, hv, hn = _hpush(hk, hv, hn, 0.0, start)
    best[start] = 0.0
    while hn:
        d, v, hn = _hpop(hk, hv, hn)
        if done[v] or d > best[v]:
            continue
        done[v] = True
        if via[v] >= 0:
            p = via[v]
            _add_edge(p, indices[rev[p]], v, rev, tarc, tdeg)
        for p in range(indptr[v], indptr[v + 1]):
            u = indices[p]
            if node_set[u] and not done[u] and w[p] < best[u]:
                best[u] = w[p]
                via[u] = p
                hk, hv, hn = _hpush(hk, hv, hn, w[p], u)
    prune_leaves(indptr, indices, tarc, tdeg, is_term)
    return tarc, tdeg


# --------------------------------------------------------------------------- SPH


@njit(cache=True)
def sph(
    indptr: np.ndarray,
    indices: np.ndarray,
    w: np.ndarray,
    is_term: np.ndarray,
    n_terms: int,
    root: int,
) -> np.ndarray:
    """Takahashi-Matsuyama shortest-path heuristic from ``root``; return its node set.

    The distance to the growing tree is kept by one Dijkstra that every added
    path re-seeds at distance 0, settled only up to the nearest terminal.
    Arcs of infinite weight are ignored; terminals out of reach are left out.
    """
    n = indptr.size - 1
    dist = np.full(n, _INF)
    pred = np.full(n, -1, dtype=np.int64)
    in_tree = np.zeros(n, dtype=np.bool_)
    in_tree[root] = True
    dist[root] = 0.0
    hk, hv, hn = _new_heap(n)
    hk, hv, hn = _hpush(hk, hv, hn, 0.0, root)
    tk, tv, tn = _new_heap(n_terms)
    left = n_terms - (1 if is_term[root] else 0)
    while left > 0:
        while tn and (in_tree[tv[0]] or tk[0] > dist[tv[0]]):
            _, _, tn = _hpop(tk, tv, tn)
        while hn and (not tn or hk[0] < tk[0]):
            d, v, hn = _hpop(hk, hv, hn)
            if d > dist[v]:
                continue
            for p in range(indptr[v], indptr[v + 1]):
                nd = d + w[p]
                u = indices[p]
                if nd < dist[u]:
                    dist[u] = nd
                    pred[u] = v
                    hk, hv, hn = _hpush(hk, hv, hn, nd, u)
                    if is_term[u] and not in_tree[u]:
                        tk, tv, tn = _hpush(tk, tv, tn, nd, u)
            while tn and (in_tree[tv[0]] or tk[0] > dist[tv[0]]):
                _, _, tn = _hpop(tk, tv, tn)
        if not tn:
            break
        _, x, tn = _hpop(tk, tv, tn)
        v = x
        while not in_tree[v]:
            in_tree[v] = True
            if is_term[v]:
                left -= 1
            dist[v] = 0.0
            hk, hv, hn = _hpush(hk, hv, hn, 0.0, v)
            v = pred[v]
    return in_tree


@njit(cache=True)
def mehlhorn(
    indptr: np.ndarray, indices: np.ndarray, w: np.ndarray, rev: np.ndarray, is_term: np.ndarray
) -> np.ndarray:
    """Mehlhorn's distance-network heuristic; return the node set of its tree.

    The terminals' Voronoi regions (one multi-source Dijkstra) give, for
    every boundary arc ``u -> v``, a terminal-to-terminal path of length
    ``d(u) + w + d(v)``; Kruskal over those picks the MST of the distance
    network, whose paths are marked. (The MST of the marked nodes, pruned,
    is the tree: :func:`mst_prune`.)
    """
    n = indptr.size - 1
    dist = np.full(n, _INF)
    src = np.full(n, -1, dtype=np.int64)
    pred = np.full(n, -1, dtype=np.int64)
    hk, hv, hn = _new_heap(n)
    for v in range(n):
        if is_term[v]:
            dist[v] = 0.0
            src[v] = v
            hk, hv, hn = _hpush(hk, hv, hn, 0.0, v)
    while hn:
        d, v, hn = _hpop(hk, hv, hn)
        if d > dist[v]:
            continue
        for p in range(indptr[v], indptr[v + 1]):
            u = indices[p]
            if d + w[p] < dist[u]:
                dist[u] = d + w[p]
                src[u] = src[v]
                pred[u] = p
                hk, hv, hn = _hpush(hk, hv, hn, dist[u], u)
    ck = np.empty(w.size // 2 + 1)
    cp = np.empty(w.size // 2 + 1, dtype=np.int64)
    nc = np.int64(0)  # not a literal 0: see _new_heap
    for v in range(n):
        for p in range(indptr[v], indptr[v + 1]):
            u = indices[p]
            if v < u and src[v] >= 0 and src[u] >= 0 and src[v] != src[u]:
                ck[nc] = dist[v] + w[p] + dist[u]
                cp[nc] = p
                nc += 1
    uf = np.arange(n)
    nodes = is_term.copy()
    for p in _sort_pairs(ck, cp, nc)[1]:
        v = indices[rev[p]]
        u = indices[p]
        a = _root_of(uf, src[v])
        b = _root_of(uf, src[u])
        if a == b:
            continue
        uf[a] = b
        for end in (v, u):
            x = end
            while not nodes[x]:  # up to a marked node: its path is marked already
                nodes[x] = True
                x = indices[rev[pred[x]]]
    return nodes


# --------------------------------------------------------------------------- local search


@njit(cache=True)
def _root_tree(
    indptr: np.ndarray,
    indices: np.ndarray,
    rev: np.ndarray,
    tarc: np.ndarray,
    root: int,
    par: np.ndarray,
    parc: np.ndarray,
    order: np.ndarray,
) -> int:
    """Root the tree at ``root`` by BFS: parent node, arc to the parent, BFS order."""
    order[0] = root
    par[root] = -1
    parc[root] = -1
    k = 1
    i = 0
    while i < k:
        v = order[i]
        i += 1
        for p in range(indptr[v], indptr[v + 1]):
            if tarc[p]:
                u = indices[p]
                if u != par[v]:
                    par[u] = v
                    parc[u] = rev[p]
                    order[k] = u
                    k += 1
    return k


@njit(cache=True)
def _root_sized(
    indptr: np.ndarray,
    indices: np.ndarray,
    rev: np.ndarray,
    tarc: np.ndarray,
    root: int,
    par: np.ndarray,
    parc: np.ndarray,
    order: np.ndarray,
    size: np.ndarray,
) -> int:
    """:func:`_root_tree`, plus the subtree size of every tree node in ``size``."""
    k = _root_tree(indptr, indices, rev, tarc, root, par, parc, order)
    for i in range(k):
        size[order[i]] = 1
    for i in range(k - 1, 0, -1):
        size[par[order[i]]] += size[order[i]]
    return k


@njit(cache=True)
def _central_terminal(
    indptr: np.ndarray,
    indices: np.ndarray,
    rev: np.ndarray,
    tarc: np.ndarray,
    is_term: np.ndarray,
    root: int,
    par: np.ndarray,
    parc: np.ndarray,
    order: np.ndarray,
    size: np.ndarray,
) -> int:
    """Return the terminal nearest (in tree edges) to the tree's centroid.

    Rooting the local search there keeps the subtrees it searches from small.
    """
    k = _root_sized(indptr, indices, rev, tarc, root, par, parc, order, size)
    c = root
    for i in range(k):  # the deepest node whose subtree still holds half the tree
        if 2 * size[order[i]] >= k:
            c = order[i]
    # nearest terminal to c: BFS in the tree
    if is_term[c]:
        return c
    queue = [np.int64(c)]  # BFS from c; par (now free) holds each node's BFS parent
    par[c] = -1
    i = 0
    while i < len(queue):
        v = queue[i]
        i += 1
        for p in range(indptr[v], indptr[v + 1]):
            if tarc[p] and indices[p] != par[v]:
                u = indices[p]
                if is_term[u]:
                    return u
                par[u] = v
                queue.append(u)
    return root


@njit(cache=True)
def _is_key(v: int, tdeg: np.ndarray, is_term: np.ndarray) -> bool:
    return is_term[v] or tdeg[v] >= 3


@njit(cache=True)
def _reconnect(  # noqa: C901, PLR0912, PLR0915 - one move: label, search, MST, apply or undo
    indptr: np.ndarray,
    indices: np.ndarray,
    w: np.ndarray,
    rev: np.ndarray,
    tarc: np.ndarray,
    tdeg: np.ndarray,
    is_term: np.ndarray,
    path_arcs: np.ndarray,
    n_arcs: int,
    freed: np.ndarray,
    n_freed: int,
    ends: np.ndarray,
    n_child: int,
    removed_cost: float,
    settle: int,
    scratch: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray],
) -> bool:
    """Remove a key vertex or key path; reconnect the pieces if that is cheaper.

    Removing ``path_arcs`` and the inner nodes ``freed`` leaves ``n_child``
    child subtrees (one below each of ``ends``) and the piece holding the root.
    A Dijkstra from the child subtrees (their Voronoi regions), searched only
    up to ``removed_cost`` and stopping at the root piece's nodes, finds the
    cheapest paths between pieces; if the MST of the pieces over them costs
    less than what was removed, it replaces it. The search settles at most
    ``settle`` nodes beyond the pieces'. ``scratch`` = ``(lab, dist, src,
    pred, gone)``, reset on exit.
    """
    lab, dist, src, pred, gone = scratch
    big = n_child  # label of the root piece (never stored)
    for i in range(n_arcs):
        p = path_arcs[i]
        tarc[p] = False
        tarc[rev[p]] = False
    for i in range(n_freed):
        gone[freed[i]] = True
    touched = [0]
    touched.pop()
    stack = [0]  # a typed list of int64 (numba), empty
    stack.pop()
    hk, hv, hn = _new_heap(np.int64(64))
    for k in range(n_child):
        e = ends[k]
        lab[e] = k
        stack.append(e)
        while stack:
            v = stack.pop()
            touched.append(v)
            dist[v] = 0.0
            src[v] = v
            hk, hv, hn = _hpush(hk, hv, hn, 0.0, v)
            for p in range(indptr[v], indptr[v + 1]):
                if tarc[p] and lab[indices[p]] < 0:
                    lab[indices[p]] = k
                    stack.append(indices[p])
    ck, cp, cn = _new_heap(np.int64(64))  # candidate connections: cost and arc
    best2 = removed_cost  # with two pieces: stop at the first connection found
    budget = len(touched) + settle  # nodes settled outside the pieces, at most
    scans = (len(touched) + _LS_SETTLE) * _LS_ARCS  # and arcs scanned (dense graphs)
    while hn:
        d, v, hn = _hpop(hk, hv, hn)
        if d > dist[v]:
            continue
        if d >= best2:
            break
        budget -= 1
        if budget < 0 or scans < 0:
            break  # a far reconnection: rare, and searching for it costs O(m) per move
        lv = lab[src[v]]
        for p in range(indptr[v], indptr[v + 1]):
            scans -= 1
            c = d + w[p]
            if c >= best2:
                break  # rows are sorted by weight: no cheaper arc follows
            u = indices[p]
            if lab[u] >= 0:  # a child piece's node
                if lab[u] != lv and c < removed_cost:
                    ck, cp, cn = _hpush(ck, cp, cn, c, p)
                continue
            if tdeg[u] > 0 and not gone[u]:  # the root piece
                if c < removed_cost:
                    ck, cp, cn = _hpush(ck, cp, cn, c, p)
                    if n_child == 1:
                        best2 = min(best2, c)
                continue
            if src[u] >= 0 and lab[src[u]] != lv and c + dist[u] < removed_cost:
                ck, cp, cn = _hpush(ck, cp, cn, c + dist[u], p)
            if c < dist[u] and c < removed_cost:
                if src[u] < 0:
                    touched.append(u)
                dist[u] = c
                src[u] = src[v]
                pred[u] = p
                hk, hv, hn = _hpush(hk, hv, hn, c, u)
    uf = np.arange(n_child + 1)
    total = 0.0
    chosen = [0]
    chosen.pop()
    while cn:
        _, p, cn = _hpop(ck, cp, cn)
        v = indices[rev[p]]
        u = indices[p]
        a = _root_of(uf, lab[src[v]])
        if lab[u] >= 0:
            b = lab[u]
            du = 0.0
        elif tdeg[u] > 0 and not gone[u]:
            b = big
            du = 0.0
        else:
            b = lab[src[u]]
            du = dist[u]
        b = _root_of(uf, b)
        if a == b:
            continue
        uf[a] = b
        total += dist[v] + w[p] + du
        chosen.append(p)
        if len(chosen) == n_child:
            break
    better = len(chosen) == n_child and total < removed_cost - _EPS * max(1.0, removed_cost)
    if better:
        for i in range(n_arcs):
            p = path_arcs[i]
            tdeg[indices[rev[p]]] -= 1
            tdeg[indices[p]] -= 1
        for p in chosen:
            v = indices[rev[p]]
            u = indices[p]
            on_tree = tdeg[u] > 0  # before adding: a piece node (a freed one has tdeg 0 now)
            _add_edge(p, v, u, rev, tarc, tdeg)
            x = v
            while src[x] != x:
                q = pred[x]
                y = indices[rev[q]]
                _add_edge(q, y, x, rev, tarc, tdeg)
                x = y
            x = u
            while not on_tree and src[x] >= 0 and src[x] != x:
                q = pred[x]
                y = indices[rev[q]]
                _add_edge(q, y, x, rev, tarc, tdeg)
                x = y
        prune_leaves(indptr, indices, tarc, tdeg, is_term)
    else:
        for i in range(n_arcs):
            p = path_arcs[i]
            tarc[p] = True
            tarc[rev[p]] = True
    for v in touched:
        lab[v] = -1
        dist[v] = _INF
        src[v] = -1
        pred[v] = -1
    for i in range(n_freed):
        gone[freed[i]] = False
    return better


@njit(cache=True)
def _path_up(
    w: np.ndarray,
    par: np.ndarray,
    parc: np.ndarray,
    tdeg: np.ndarray,
    is_term: np.ndarray,
    b: int,
    path_arcs: np.ndarray,
    n_arcs: int,
    freed: np.ndarray,
    n_freed: int,
) -> tuple[int, int, float]:
    """Append the key path from ``b`` up to the next key vertex; return counts and cost."""
    cost = 0.0
    x = b
    while True:
        path_arcs[n_arcs] = parc[x]
        n_arcs += 1
        cost += w[parc[x]]
        x = par[x]
        if _is_key(x, tdeg, is_term):
            return n_arcs, n_freed, cost
        freed[n_freed] = x
        n_freed += 1


@njit(cache=True)
def _path_down(
    indptr: np.ndarray,
    indices: np.ndarray,
    w: np.ndarray,
    tarc: np.ndarray,
    tdeg: np.ndarray,
    is_term: np.ndarray,
    par: np.ndarray,
    parc: np.ndarray,
    c: int,
    path_arcs: np.ndarray,
    n_arcs: int,
    freed: np.ndarray,
    n_freed: int,
) -> tuple[int, int, int, float]:
    """Append the key path from child ``c`` down to a key vertex; return its end too."""
    cost = 0.0
    x = c
    while True:
        path_arcs[n_arcs] = parc[x]
        n_arcs += 1
        cost += w[parc[x]]
        if _is_key(x, tdeg, is_term):
            return x, n_arcs, n_freed, cost
        freed[n_freed] = x
        n_freed += 1
        for p in range(indptr[x], indptr[x + 1]):
            if tarc[p] and indices[p] != par[x]:
                x = indices[p]
                break


@njit(cache=True)
def local_search(  # noqa: C901 - one pass loop nest; a helper kernel would add compile seconds
    indptr: np.ndarray,
    indices: np.ndarray,
    w: np.ndarray,
    rev: np.ndarray,
    tarc: np.ndarray,
    tdeg: np.ndarray,
    is_term: np.ndarray,
    root: int,
    max_passes: int,
) -> int:
    """Key-vertex elimination and key-path exchange until no move improves.

    The tree is rooted at the terminal ``root``; every move removes a key
    path (the one above a key vertex) or a Steiner key vertex with its key
    paths and reconnects the pieces by cheapest paths (see
    :func:`_reconnect`). Works in place on ``(tarc, tdeg)``; returns the
    number of improving moves. The work of a pass is bounded by counts, never
    the clock (see :data:`_LS_WORK_PER_ARC`): moves from pieces too large for
    the bound are skipped, so the result is a function of the input.
    """
    n = indptr.size - 1
    scratch = (
        np.full(n, -1, dtype=np.int64),
        np.full(n, _INF),
        np.full(n, -1, dtype=np.int64),
        np.full(n, -1, dtype=np.int64),
        np.zeros(n, dtype=np.bool_),
    )
    par = np.full(n, -1, dtype=np.int64)
    parc = np.full(n, -1, dtype=np.int64)
    order = np.empty(n, dtype=np.int64)
    size = np.zeros(n, dtype=np.int64)
    path_arcs = np.empty(n + 1, dtype=np.int64)
    freed = np.empty(n + 1, dtype=np.int64)
    ends = np.empty(n + 1, dtype=np.int64)
    load = np.zeros(n + 1, dtype=np.int64)  # nodes labelled by the moves, by piece size
    tries = np.zeros(n + 1, dtype=np.int64)  # moves, by piece size
    work = min(_LS_WORK, _LS_WORK_PER_ARC * w.size)
    moves = 0
    for _ in range(max_passes):
        improved = 0
        root = _central_terminal(indptr, indices, rev, tarc, is_term, root, par, parc, order, size)
        k = _root_sized(indptr, indices, rev, tarc, root, par, parc, order, size)
        # on big trees, skip moves whose pieces to search from exceed the cap
        cap = min(k, max(_LS_MIN_PIECE, _LS_WORK // k))
        # and only from the smallest pieces that hold at most `work` nodes in
        # all (a key path exchange labels the piece below v, a key vertex
        # elimination about as many nodes again): a pass is O(work) on any tree
        for s in range(cap + 1):
            load[s] = 0
            tries[s] = 0
        for i in range(1, k):
            v = order[i]
            if size[v] <= cap and (is_term[v] or tdeg[v] >= 3):
                load[size[v]] += size[v] if is_term[v] else 2 * size[v]
                tries[size[v]] += 1 if is_term[v] else 2
        total = 0
        for s in range(1, cap + 1):
            total += load[s]
            if total > work:
                cap = max(_LS_MIN_PIECE, s - 1)
                break
        n_tries = 1
        for s in range(1, cap + 1):
            n_tries += tries[s]
        settle = max(_LS_SETTLE, _LS_SETTLE_PER_NODE * n // n_tries)
        nodes = order[:k].copy()
        for v in nodes:
            if tdeg[v] == 0 or v == root or size[v] > cap:
                continue
            # move 0: eliminate the Steiner key vertex v with its key paths;
            # move 1: exchange the key path above the key vertex v
            for move in range(2):
                if move == 0 and (is_term[v] or tdeg[v] < 3):
                    continue
                if move == 1 and not _is_key(v, tdeg, is_term):
                    continue
                n_arcs, n_freed, cost = _path_up(
                    w, par, parc, tdeg, is_term, v, path_arcs, 0, freed, 1 - move
                )
                n_child = 0
                if move == 0:
                    freed[0] = v
                    for p in range(indptr[v], indptr[v + 1]):
                        if tarc[p] and indices[p] != par[v]:
                            e, n_arcs, n_freed, c = _path_down(
                                indptr, indices, w, tarc, tdeg, is_term, par, parc,
                                indices[p], path_arcs, n_arcs, freed, n_freed,
                            )  # fmt: skip
                            ends[n_child] = e
                            n_child += 1
                            cost += c
                else:
                    ends[0] = v
                    n_child = 1
                if _reconnect(
                    indptr, indices, w, rev, tarc, tdeg, is_term, path_arcs, n_arcs,
                    freed, n_freed, ends, n_child, cost, settle, scratch,
                ):  # fmt: skip
                    improved += 1
                    _root_sized(indptr, indices, rev, tarc, root, par, parc, order, size)
                    break
        moves += improved
        if improved == 0:
            break
    return moves


# --------------------------------------------------------------------------- dual ascent


@njit(cache=True)
def dual_ascent(  # noqa: C901, PLR0912, PLR0915 - Wong's ascent: one loop nest (numba)
    indptr: np.ndarray,
    indices: np.ndarray,
    rev: np.ndarray,
    w: np.ndarray,
    terminals: np.ndarray,
    root: int,
    max_steps: int,
) -> tuple[float, np.ndarray, int]:
    """Wong's dual ascent; return ``(lower_bound, reduced arc costs, steps)``.

    The active terminal of smallest current cut is grown first; a terminal
    stops when its zero-reduced-cost ancestor set reaches the root or another
    active terminal. ``max_steps`` < 0: no limit; any stop leaves a feasible
    dual, hence a valid bound.

    When the same terminal is grown twice in a row (two thirds of the steps
    on PACE 2018 road graphs), its ancestor set is extended from the tails of
    the arcs the first step saturated instead of searched afresh: the same
    sets, cuts and reduced costs, 5-17x faster on 15,000-20,000-node graphs.
    """
    n = indptr.size - 1
    rc = w.copy()
    active = np.zeros(n, dtype=np.bool_)
    hk, hv, hn = _new_heap(terminals.size)
    for x in terminals:
        if x != root:
            active[x] = True
            hk, hv, hn = _hpush(hk, hv, hn, float(indptr[x + 1] - indptr[x]), x)
    mark = np.zeros(n, dtype=np.int64)
    stamp = 0
    lb = 0.0
    steps = 0
    W = np.empty(n, dtype=np.int64)
    cut = np.empty(rc.size, dtype=np.int64)
    tails = np.empty(rc.size, dtype=np.int64)
    nw = 0
    live = 0
    last = -1  # the terminal of the last step, while its ancestor set W is kept
    while hn:
        if max_steps >= 0 and steps >= max_steps:
            break
        _, x, hn = _hpop(hk, hv, hn)
        if not active[x]:
            continue
        stop = False
        nc = 0
        if x == last:
            # x again right after its own step: only the cut arcs that step
            # saturated changed, so W grows from their tails (the same set a
            # search from scratch finds, at the cost of the new nodes only)
            i = nw
            for j in range(live):
                a = cut[j]
                u = tails[j]
                if rc[a] > 0.0:
                    cut[nc] = a
                    tails[nc] = u
                    nc += 1
                elif mark[u] != stamp:
                    if u == root or active[u]:
                        stop = True
                        break
                    mark[u] = stamp
                    W[nw] = u
                    nw += 1
        else:
            stamp += 1
            mark[x] = stamp
            W[0] = x
            nw = 1
            i = 0
        while i < nw and not stop:
            v = W[i]
            i += 1
            for q in range(indptr[v], indptr[v + 1]):
                u = indices[q]
                if mark[u] == stamp:
                    continue
                a = rev[q]  # arc u -> v
                if rc[a] <= 0.0:
                    if u == root or active[u]:
                        stop = True
                        break
                    mark[u] = stamp
                    W[nw] = u
                    nw += 1
                else:
                    cut[nc] = a
                    tails[nc] = u
                    nc += 1
        last = -1
        if stop:
            active[x] = False
            continue
        delta = _INF
        live = 0
        for j in range(nc):
            if mark[tails[j]] != stamp:
                cut[live] = cut[j]
                tails[live] = tails[j]
                live += 1
                delta = min(delta, rc[cut[j]])
        if live == 0:
            active[x] = False
            continue
        for j in range(live):
            a = cut[j]
            rc[a] = max(0.0, rc[a] - delta)
        lb += delta
        steps += 1
        last = x
        hk, hv, hn = _hpush(hk, hv, hn, float(live), x)
    return lb, rc, steps


# --------------------------------------------------------------------------- vertex insertion


@njit(cache=True)
def _total(x: np.ndarray) -> float:
    s = 0.0
    for v in x:
        s += v
    return s


@njit(cache=True)
def _sorted_tree_edges(
    indptr: np.ndarray, indices: np.ndarray, w: np.ndarray, tarc: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Arc positions (tail < head) of the tree edges, sorted by weight, and their weights."""
    n = indptr.size - 1
    k = np.int64(0)  # not a literal 0: see _new_heap
    for v in range(n):
        for p in range(indptr[v], indptr[v + 1]):
            if tarc[p] and v < indices[p]:
                k += 1
    arcs = np.empty(k, dtype=np.int64)
    k = np.int64(0)
    for v in range(n):
        for p in range(indptr[v], indptr[v + 1]):
            if tarc[p] and v < indices[p]:
                arcs[k] = p
                k += 1
    ws, arcs = _sort_pairs(w[arcs], arcs, k)
    return arcs, ws


@njit(cache=True)
def _may_insert(vw: np.ndarray, k: _Size, ws: np.ndarray) -> bool:
    """Tell whether a node with tree edges ``vw[:k]`` can shorten the tree (edges ``ws``).

    Both are sorted by weight.

    Joining it by its ``j`` cheapest edges removes ``j - 1`` tree edges, at
    most the ``j - 1`` heaviest: without ``sum(vw[:j]) < sum(ws[-(j - 1):])``
    for some ``j >= 2`` no insertion can pay.
    """
    add = vw[0]
    gain = 0.0
    for j in range(1, min(k, ws.size + 1)):
        add += vw[j]
        gain += ws[ws.size - j]
        if add < gain:
            return True
    return False


@njit(cache=True)
def _root_depth(
    indptr: np.ndarray,
    indices: np.ndarray,
    rev: np.ndarray,
    tarc: np.ndarray,
    root: int,
    par: np.ndarray,
    parc: np.ndarray,
    order: np.ndarray,
    depth: np.ndarray,
) -> None:
    """:func:`_root_tree`, plus the depth of every tree node in ``depth``."""
    k = _root_tree(indptr, indices, rev, tarc, root, par, parc, order)
    depth[root] = 0
    for i in range(1, k):
        depth[order[i]] = depth[par[order[i]]] + 1


@njit(cache=True)
def _cycle_max(
    a: int, b: int, w: np.ndarray, par: np.ndarray, parc: np.ndarray, depth: np.ndarray,
    cut: np.ndarray,
) -> int:  # fmt: skip
    """Arc of the heaviest edge on the tree path ``a .. b``; -1 if the path has a ``cut`` arc."""
    best = -1
    best_w = -1.0
    while a != b:
        if depth[a] < depth[b]:
            a, b = b, a
        q = parc[a]
        if cut[q]:
            return -1
        if w[q] > best_w:
            best_w = w[q]
            best = q
        a = par[a]
    return best


@njit(cache=True)
def vertex_insertion(  # noqa: C901 - one scan over the candidate nodes; numba inlines no closures
    indptr: np.ndarray,
    indices: np.ndarray,
    w: np.ndarray,
    rev: np.ndarray,
    tarc: np.ndarray,
    tdeg: np.ndarray,
    is_term: np.ndarray,
) -> int:
    """Steiner-vertex insertion: add a node when joining it shortens the tree.

    A non-tree node ``v`` with tree neighbours ``u1, u2, ...`` (by edge
    weight) joins by its cheapest edge ``(v, u1)``; each further edge
    ``(v, uj)`` closes a cycle through ``v`` and replaces the heaviest tree
    edge on it when that is heavier (the incremental MST step, so the result
    is the MST of the tree plus ``v``'s edges when the tree was the MST of
    its nodes). ``v`` is inserted when the exchanges pay for ``(v, u1)``.
    Each candidate costs ``O(deg(v)^2 depth)`` on the tree rooted at a
    terminal. Works in place; returns the number of insertions.
    """
    n = indptr.size - 1
    _, ws = _sorted_tree_edges(indptr, indices, w, tarc)
    total = _total(ws)
    root = 0
    for x in range(n):
        if is_term[x]:
            root = x
            break
    par = np.full(n, -1, dtype=np.int64)
    parc = np.full(n, -1, dtype=np.int64)
    order = np.empty(n, dtype=np.int64)
    depth = np.zeros(n, dtype=np.int64)
    _root_depth(indptr, indices, rev, tarc, root, par, parc, order, depth)
    cut = np.zeros(w.size, dtype=np.bool_)
    vp = np.empty(n, dtype=np.int64)
    vw = np.empty(n)
    out_arcs = np.empty(n, dtype=np.int64)
    in_arcs = np.empty(n, dtype=np.int64)
    moves = 0
    for v in range(n):
        if tdeg[v] > 0 or is_term[v]:
            continue
        k = np.int64(0)  # not a literal 0: see _new_heap
        for p in range(indptr[v], indptr[v + 1]):
            if tdeg[indices[p]] > 0:
                vp[k] = p
                vw[k] = w[p]
                k += 1
        if k < 2:
            continue
        vw_s, vp_s = _sort_pairs(vw, vp, k)
        if not _may_insert(vw_s, k, ws):
            continue
        gain = -vw_s[0]
        in_arcs[0] = vp_s[0]
        n_in = 1
        n_out = 0
        for j in range(1, k):
            # the tree path from uj to v ends at the one joined node whose
            # path to uj crosses no replaced edge (one per piece of the cut tree)
            q = -1
            for i in range(n_in):
                q = _cycle_max(indices[in_arcs[i]], indices[vp_s[j]], w, par, parc, depth, cut)
                if q >= 0:
                    break
            if q >= 0 and w[q] > vw_s[j]:
                gain += w[q] - vw_s[j]
                cut[q] = True
                out_arcs[n_out] = q
                n_out += 1
                in_arcs[n_in] = vp_s[j]
                n_in += 1
        for i in range(n_out):
            cut[out_arcs[i]] = False
        if gain <= _EPS * max(1.0, total):
            continue
        for i in range(n_out):
            q = out_arcs[i]
            tarc[q] = False
            tarc[rev[q]] = False
            tdeg[indices[q]] -= 1
            tdeg[indices[rev[q]]] -= 1
        for i in range(n_in):
            _add_edge(in_arcs[i], v, indices[in_arcs[i]], rev, tarc, tdeg)
        prune_leaves(indptr, indices, tarc, tdeg, is_term)
        _root_depth(indptr, indices, rev, tarc, root, par, parc, order, depth)
        _, ws = _sorted_tree_edges(indptr, indices, w, tarc)
        total = _total(ws)
        moves += 1
    return moves


@njit(cache=True)
def saturated_reach(
    indptr: np.ndarray, indices: np.ndarray, rc: np.ndarray, root: int
) -> np.ndarray:
    """Nodes the root reaches by arcs of zero reduced cost (the ascend-and-prune node set)."""
    n = indptr.size - 1
    seen = np.zeros(n, dtype=np.bool_)
    seen[root] = True
    stack = [np.int64(root)]
    while stack:
        v = stack.pop()
        for p in range(indptr[v], indptr[v + 1]):
            u = indices[p]
            if rc[p] <= 0.0 and not seen[u]:
                seen[u] = True
                stack.append(u)
    return seen
