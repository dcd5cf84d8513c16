"""Vectorised building blocks and local search for Steiner trees in graphs.

The moves follow Uchoa and Werneck (2010): Steiner-vertex insertion and
elimination (judged by minimum spanning trees over the tree's node set),
key-path exchange and key-vertex elimination. Instead of their dynamic trees
and mergeable heaps the moves are estimated in bulk -- path maxima by binary
lifting, replacement edges by one union-find sweep, reconnections from one
multi-source Dijkstra (the Voronoi regions of all tree vertices) -- which suits
:mod:`scipy.sparse.csgraph` and numpy; every accepted move is re-checked by an
exact MST of the new node set.

A tree is a ``(k, 2)`` int64 array of node pairs (not necessarily canonical
inside this module; :func:`fibreplan.optimise._graph.canonical_edges` makes it
so).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse import csgraph

__all__ = ["Graph", "local_search", "mst_prune", "prune_leaves", "voronoi_tree"]

logger = logging.getLogger(__name__)

_REL_TOL = 1e-9
_MAX_ROUNDS = 100
_SINGLE_TRIES = 3
_KVE_HOPS = 12
_QUICK_PRUNE_LEVELS = 8
#: stop once a whole pass gains less than this fraction of the cost
_MIN_ROUND_GAIN = 1e-5


@dataclass(frozen=True)
class Graph:
    """Canonical adjacency with the per-edge arrays the heuristics need.

    Parameters
    ----------
    A : scipy.sparse.csr_array
        Canonical symmetric adjacency, sorted indices.
    row : numpy.ndarray of int64
        Row of every stored entry of ``A``.
    eid : numpy.ndarray of int64
        Undirected edge id of every stored entry.
    eu, ev : numpy.ndarray of int64
        End nodes of every undirected edge, ``eu < ev``, sorted.
    ew : numpy.ndarray of float64
        Weight of every undirected edge.
    """

    A: sp.csr_array
    row: npt.NDArray[np.int64]
    eid: npt.NDArray[np.int64]
    eu: npt.NDArray[np.int64]
    ev: npt.NDArray[np.int64]
    ew: npt.NDArray[np.float64]

    @property
    def n(self) -> int:
        """Number of nodes."""
        return int(self.A.shape[0])

    @property
    def m(self) -> int:
        """Number of undirected edges."""
        return int(self.eu.size)

    @classmethod
    def from_csr(cls, A: sp.csr_array) -> Graph:
        """Prepare a canonical adjacency.

        Parameters
        ----------
        A : scipy.sparse.csr_array
            Canonical adjacency (symmetric, positive weights).

        Returns
        -------
        Graph
            The prepared graph; ``A`` is shared, not copied, when already sorted.
        """
        A = sp.csr_array(A, dtype=np.float64)
        if not A.has_sorted_indices:
            A = A.copy()
            A.sort_indices()
        n = A.shape[0]
        indptr = np.asarray(A.indptr, dtype=np.int64)
        col = np.asarray(A.indices, dtype=np.int64)
        row = np.repeat(np.arange(n, dtype=np.int64), np.diff(indptr))
        upper = row < col
        eu, ev = row[upper], col[upper]
        ew = np.asarray(A.data, dtype=np.float64)[upper]
        keys = eu * n + ev
        lo = np.minimum(row, col)
        hi = np.maximum(row, col)
        eid = np.searchsorted(keys, lo * n + hi)
        return cls(A=A, row=row, eid=eid, eu=eu, ev=ev, ew=ew)

    def perturbed(self, factors: npt.NDArray[np.float64]) -> Graph:
        """Return the same graph with every edge weight multiplied by ``factors[edge]``.

        Parameters
        ----------
        factors : numpy.ndarray of float64, shape (m,)
            Positive factor per undirected edge.

        Returns
        -------
        Graph
            Graph with the perturbed weights.
        """
        A = self.A.copy()
        A.data = self.ew[self.eid] * factors[self.eid]
        return Graph(A=A, row=self.row, eid=self.eid, eu=self.eu, ev=self.ev, ew=self.ew * factors)

    def edge_ids(self, edges: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """Return the undirected edge id of every node pair (pairs must be edges).

        Parameters
        ----------
        edges : numpy.ndarray of int64, shape (k, 2)
            Node pairs.

        Returns
        -------
        numpy.ndarray of int64, shape (k,)
            Edge ids.
        """
        lo = np.minimum(edges[:, 0], edges[:, 1])
        hi = np.maximum(edges[:, 0], edges[:, 1])
        return np.searchsorted(self.eu * self.n + self.ev, lo * self.n + hi)

    def cost(self, edges: npt.NDArray[np.int64]) -> float:
        """Return the total weight of an edge set.

        Parameters
        ----------
        edges : numpy.ndarray of int64, shape (k, 2)
            Node pairs, each an edge of the graph.

        Returns
        -------
        float
            Sum of weights.
        """
        if edges.shape[0] == 0:
            return 0.0
        return float(self.ew[self.edge_ids(edges)].sum())


def _nodes_of(n: int, items: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Return the distinct node ids in ``items``, sorted (a mask, faster than ``np.unique``)."""
    mask = np.zeros(n, dtype=bool)
    mask[items.ravel()] = True
    return np.flatnonzero(mask)


def _mark_ancestors(
    pred: npt.NDArray[np.int32], starts: npt.NDArray[np.int64], marked: npt.NDArray[np.bool_]
) -> None:
    """Mark ``starts`` and all their ancestors in a predecessor forest (in place).

    Parameters
    ----------
    pred : numpy.ndarray of int
        Predecessor of every node; negative for roots and unreached nodes.
    starts : numpy.ndarray of int64
        Nodes whose root paths are marked.
    marked : numpy.ndarray of bool
        Marks, updated in place; a marked node stops the walk.
    """
    frontier = starts[~marked[starts]]
    while frontier.size:
        marked[frontier] = True
        up = pred[frontier]
        up = up[up >= 0]
        # duplicates (siblings) are harmless: marking is idempotent
        frontier = up[~marked[up]]


def prune_leaves(
    edges: npt.NDArray[np.int64], is_term: npt.NDArray[np.bool_]
) -> npt.NDArray[np.int64]:
    r"""Remove non-terminal leaves of a forest repeatedly.

    Parameters
    ----------
    edges : numpy.ndarray of int64, shape (k, 2)
        Edges of a forest.
    is_term : numpy.ndarray of bool, shape (n,)
        Terminal mask.

    Returns
    -------
    numpy.ndarray of int64, shape (k', 2)
        Edges on paths between terminals, in the input's order.

    Notes
    -----
    Roots each tree at a terminal (breadth-first order) and keeps the edges
    whose lower end has a terminal below it: :math:`O(k \log k)`.
    """
    if edges.shape[0] == 0:
        return edges
    nodes = _nodes_of(is_term.size, edges)
    loc = np.full(is_term.size, -1, dtype=np.int64)
    loc[nodes] = np.arange(nodes.size)
    inv = loc[edges]
    k = nodes.size
    # cheap path: strip Steiner leaves level by level while few levels remain
    steiner = ~is_term[nodes]
    alive = np.ones(edges.shape[0], dtype=bool)
    for _ in range(_QUICK_PRUNE_LEVELS):
        deg = np.bincount(inv[alive].ravel(), minlength=k)
        leaf = steiner & (deg == 1)
        if not leaf.any():
            return edges[alive]
        alive &= ~(leaf[inv[:, 0]] | leaf[inv[:, 1]])
    tree = sp.coo_array((np.ones(edges.shape[0]), (inv[:, 0], inv[:, 1])), shape=(k, k)).tocsr()
    term_local = np.flatnonzero(is_term[nodes])
    if term_local.size == 0:
        return edges[:0]
    # a forest: root every component at one of its terminals
    _, labels = csgraph.connected_components(tree, directed=False)
    pred = np.full(k, -1, dtype=np.int64)
    _, firsts = np.unique(labels[term_local], return_index=True)
    for r in term_local[firsts]:
        _, p = csgraph.breadth_first_order(tree, int(r), directed=False, return_predecessors=True)
        reached = p >= 0
        pred[reached] = p[reached]
    marked = np.zeros(k, dtype=bool)
    _mark_ancestors(pred, term_local, marked)
    child = np.where(pred[inv[:, 0]] == inv[:, 1], inv[:, 0], inv[:, 1])
    return edges[marked[child]]


def mst_prune(
    g: Graph, nodes: npt.NDArray[np.int64], is_term: npt.NDArray[np.bool_]
) -> npt.NDArray[np.int64]:
    r"""Return the pruned minimum spanning tree of the subgraph induced by ``nodes``.

    Parameters
    ----------
    g : Graph
        Prepared graph.
    nodes : numpy.ndarray of int64
        Nodes whose induced subgraph is spanned (repeats are ignored).
    is_term : numpy.ndarray of bool, shape (n,)
        Terminal mask.

    Returns
    -------
    numpy.ndarray of int64, shape (k, 2)
        Edges of the MST with non-terminal leaves removed repeatedly.

    Notes
    -----
    This is the Steiner-vertex evaluation of Uchoa and Werneck: the best tree
    with a given node set is its MST; pruning can only lower the cost.
    :math:`O(m + k \log k)`.

    References
    ----------
    .. [1] E. Uchoa and R. F. Werneck, "Fast local search for Steiner trees in
       graphs", Proc. ALENEX 2010, pp. 1-10. doi:10.1137/1.9781611972900.1
    """
    inside = np.zeros(g.n, dtype=bool)
    inside[nodes] = True
    nodes = np.flatnonzero(inside)
    sel = inside[g.eu] & inside[g.ev]
    loc = np.full(g.n, -1, dtype=np.int64)
    loc[nodes] = np.arange(nodes.size)
    k = nodes.size
    sub = sp.csr_array((g.ew[sel], (loc[g.eu[sel]], loc[g.ev[sel]])), shape=(k, k))
    mst = sp.coo_array(csgraph.minimum_spanning_tree(sub))
    edges = np.column_stack([nodes[mst.row], nodes[mst.col]]).astype(np.int64)
    return prune_leaves(edges, is_term)


def _pair_keys(mst: sp.coo_array, k: int) -> npt.NDArray[np.int64]:
    """Return ``min * k + max`` of every stored pair in int64 (scipy gives int32 indices)."""
    r = np.asarray(mst.row, dtype=np.int64)
    c = np.asarray(mst.col, dtype=np.int64)
    return np.minimum(r, c) * k + np.maximum(r, c)


def _boundary(
    g: Graph,
    dist: npt.NDArray[np.float64],
    base: npt.NDArray[np.int64],
    sidx: npt.NDArray[np.int64],
    limit: float = np.inf,
) -> tuple[
    npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float64], npt.NDArray[np.int64]
]:
    """Return the cheapest boundary edge between every pair of adjacent Voronoi regions.

    Parameters
    ----------
    g : Graph
        Prepared graph.
    dist : numpy.ndarray of float64
        Distance of every node to its region's base (``inf`` if unreached).
    base : numpy.ndarray of int64
        Base (source node) of every node's region; negative if unreached.
    sidx : numpy.ndarray of int64
        Index of every source node among the sources, -1 for others.
    limit : float, default inf
        Boundary edges costing ``limit`` or more are dropped.

    Returns
    -------
    lo, hi : numpy.ndarray of int64
        Source indices of the two regions, ``lo < hi``, pairs sorted.
    cost : numpy.ndarray of float64
        ``d(u) + w(u, v) + d(v)`` of the cheapest boundary edge.
    edge : numpy.ndarray of int64
        Its undirected edge id.
    """
    bu = base[g.eu]
    bv = base[g.ev]
    ok = (bu >= 0) & (bv >= 0) & (bu != bv)
    ok &= np.isfinite(dist[g.eu]) & np.isfinite(dist[g.ev])
    e = np.flatnonzero(ok)
    cost = dist[g.eu[e]] + g.ew[e] + dist[g.ev[e]]
    if np.isfinite(limit):
        cheap = cost < limit
        e, cost = e[cheap], cost[cheap]
    a = sidx[bu[e]]
    b = sidx[bv[e]]
    lo = np.minimum(a, b)
    hi = np.maximum(a, b)
    order = np.lexsort((e, cost, hi, lo))
    lo, hi, cost, e = lo[order], hi[order], cost[order], e[order]
    first = np.ones(lo.size, dtype=bool)
    first[1:] = (lo[1:] != lo[:-1]) | (hi[1:] != hi[:-1])
    return lo[first], hi[first], cost[first], e[first]


def _voronoi(
    A: sp.csr_array, sources: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int32], npt.NDArray[np.int64]]:
    """Return distance, predecessor and base of every node for the Voronoi regions of ``sources``.

    Parameters
    ----------
    A : scipy.sparse.csr_array
        Adjacency (entries of ``inf`` act as missing edges).
    sources : numpy.ndarray of int64
        Region bases.

    Returns
    -------
    dist, pred, base : numpy.ndarray
        As from ``scipy.sparse.csgraph.dijkstra(..., min_only=True)``.
    """
    dist, pred, base = csgraph.dijkstra(
        A, directed=True, indices=sources, min_only=True, return_predecessors=True
    )
    return dist, pred, np.asarray(base, dtype=np.int64)


def voronoi_tree(
    g: Graph, sources: npt.NDArray[np.int64], *, with_bottleneck: bool = False
) -> npt.NDArray[np.int64] | tuple[npt.NDArray[np.int64], float]:
    r"""Return Mehlhorn's tree (before MST and pruning) connecting ``sources``.

    Parameters
    ----------
    g : Graph
        Prepared graph.
    sources : numpy.ndarray of int64
        Distinct nodes to connect, all in one component.
    with_bottleneck : bool, default False
        Also return the largest edge of the distance-network MST.

    Returns
    -------
    edges : numpy.ndarray of int64, shape (k, 2)
        Tree edges: boundary edges of the MST of the Voronoi distance network
        plus the shortest paths joining their ends to the region bases.
    bottleneck : float
        Only with ``with_bottleneck``: the largest distance-network MST edge
        (every cut between sources is crossed by a path no longer than it).

    Notes
    -----
    Shortest paths inside Voronoi regions form a forest, so the expansion of
    the distance-network MST is already a tree. :math:`O(m + n \log n)`.

    References
    ----------
    .. [1] K. Mehlhorn, "A faster approximation algorithm for the Steiner
       problem in graphs", Information Processing Letters 27(3):125-128, 1988.
       doi:10.1016/0020-0190(88)90066-X
    """
    dist, pred, base = _voronoi(g.A, sources)
    k = sources.size
    sidx = np.full(g.n, -1, dtype=np.int64)
    sidx[sources] = np.arange(k)
    lo, hi, cost, e = _boundary(g, dist, base, sidx)
    net = sp.csr_array((cost, (lo, hi)), shape=(k, k))
    mst = sp.coo_array(csgraph.minimum_spanning_tree(net))
    pos = np.searchsorted(lo * k + hi, _pair_keys(mst, k))
    edges = _expand(g, pred, e[pos])
    if with_bottleneck:
        return edges, float(mst.data.max()) if mst.nnz else 0.0
    return edges


def _expand(
    g: Graph, pred: npt.NDArray[np.int32], edge: npt.NDArray[np.int64]
) -> npt.NDArray[np.int64]:
    """Return boundary edges plus the shortest-path-forest paths from their ends to the roots.

    Parameters
    ----------
    g : Graph
        Prepared graph.
    pred : numpy.ndarray of int
        Shortest-path forest (negative at roots).
    edge : numpy.ndarray of int64
        Boundary edge ids.

    Returns
    -------
    numpy.ndarray of int64, shape (k, 2)
        The edges.
    """
    marked = np.zeros(g.n, dtype=bool)
    _mark_ancestors(pred, np.concatenate([g.eu[edge], g.ev[edge]]), marked)
    x = np.flatnonzero(marked)
    x = x[pred[x] >= 0]
    return np.concatenate(
        [np.column_stack([x, pred[x].astype(np.int64)]), np.column_stack([g.eu[edge], g.ev[edge]])]
    )


@dataclass(frozen=True)
class _KeyPaths:
    """Key-path decomposition of a rooted tree (key vertices: terminals and branchings)."""

    key: npt.NDArray[np.int64]  # key vertices (global ids), sorted
    kidx: npt.NDArray[np.int64]  # key index of every node (-1 if not key)
    pid: npt.NDArray[np.int64]  # key path of every tree edge
    ends: npt.NDArray[np.int64]  # (p, 2) key indices of each key path's ends
    pcost: npt.NDArray[np.float64]  # cost of each key path
    inner: npt.NDArray[np.bool_]  # mask of inner (degree-2 Steiner) tree nodes
    nodes: npt.NDArray[np.int64]  # tree nodes, sorted
    tpar: npt.NDArray[np.int64]  # parent of every tree node (-1 at the root / off the tree)
    dt: npt.NDArray[np.float64]  # distance from the root along the tree
    node_pid: npt.NDArray[np.int64]  # key path of every inner node (-1 for others)
    upper: npt.NDArray[np.int64]  # global id of the end of each key path nearer the root
    lower: npt.NDArray[np.int64]  # global id of the other end
    inner_sorted: npt.NDArray[np.int64]  # inner nodes sorted by (key path, dt)


def _key_paths(g: Graph, edges: npt.NDArray[np.int64], is_term: npt.NDArray[np.bool_]) -> _KeyPaths:
    """Decompose a pruned tree into key paths and root it at a terminal.

    Parameters
    ----------
    g : Graph
        Prepared graph.
    edges : numpy.ndarray of int64, shape (k, 2)
        A Steiner tree without non-terminal leaves.
    is_term : numpy.ndarray of bool
        Terminal mask.

    Returns
    -------
    _KeyPaths
        The decomposition.
    """
    n = g.n
    u, v = edges[:, 0], edges[:, 1]
    deg = np.bincount(edges.ravel(), minlength=n)
    in_tree = deg > 0
    is_key = in_tree & (is_term | (deg != 2))
    inner = in_tree & ~is_key
    both_inner = inner[u] & inner[v]
    cc = sp.csr_array(
        (np.ones(int(both_inner.sum())), (u[both_inner], v[both_inner])), shape=(n, n)
    )
    _, label = csgraph.connected_components(cc, directed=False)
    raw = np.where(inner[u], label[u], np.where(inner[v], label[v], -1)).astype(np.int64)
    kk = raw < 0
    raw[kk] = n + np.arange(int(kk.sum()))
    used = np.zeros(n + int(kk.sum()), dtype=bool)
    used[raw] = True
    pid = (np.cumsum(used) - 1)[raw]
    p = int(pid.max()) + 1
    w = g.ew[g.edge_ids(edges)]
    pcost = np.bincount(pid, weights=w, minlength=p)
    key = np.flatnonzero(is_key)
    kidx = np.full(n, -1, dtype=np.int64)
    kidx[key] = np.arange(key.size)
    end_pid = np.concatenate([pid[is_key[u]], pid[is_key[v]]])
    end_node = np.concatenate([kidx[u[is_key[u]]], kidx[v[is_key[v]]]])
    order = np.argsort(end_pid, kind="stable")
    ends = end_node[order].reshape(p, 2)
    # root the tree at a terminal
    nodes = np.flatnonzero(in_tree)
    tree = sp.csr_array((w, (u, v)), shape=(n, n))
    root = int(np.flatnonzero(is_term & in_tree)[0])
    dt, tp = csgraph.dijkstra(tree, directed=False, indices=root, return_predecessors=True)
    tpar = np.asarray(tp, dtype=np.int64)
    tpar[tpar < 0] = -1
    node_pid = np.full(n, -1, dtype=np.int64)
    node_pid[u[inner[u]]] = pid[inner[u]]
    node_pid[v[inner[v]]] = pid[inner[v]]
    ga, gb = key[ends[:, 0]], key[ends[:, 1]]
    a_up = dt[ga] <= dt[gb]
    upper = np.where(a_up, ga, gb)
    lower = np.where(a_up, gb, ga)
    inn = np.flatnonzero(inner)
    inner_sorted = inn[np.lexsort((dt[inn], node_pid[inn]))]
    return _KeyPaths(
        key=key,
        kidx=kidx,
        pid=pid,
        ends=ends,
        pcost=pcost,
        inner=inner,
        nodes=nodes,
        tpar=tpar,
        dt=dt,
        node_pid=node_pid,
        upper=upper,
        lower=lower,
        inner_sorted=inner_sorted,
    )


@dataclass(frozen=True)
class _Cands:
    """Candidate connections between key vertices (cheapest per key-vertex pair).

    Candidate ``i`` joins key vertices ``lo[i] < hi[i]`` at cost ``cost[i]`` by
    the boundary edge ``edge[i]`` between the Voronoi regions of two tree
    vertices, the shortest paths from its ends to those tree vertices and, for
    a tree vertex inside a key path, the piece of that key path to the chosen
    key end (``seg_*``).
    """

    lo: npt.NDArray[np.int64]
    hi: npt.NDArray[np.int64]
    cost: npt.NDArray[np.float64]
    edge: npt.NDArray[np.int64]
    seg_a: npt.NDArray[np.int64]  # inner base (or -1) of the first end
    seg_a_end: npt.NDArray[np.int64]  # key end (global id) it is joined to
    seg_b: npt.NDArray[np.int64]
    seg_b_end: npt.NDArray[np.int64]


def _side_variants(
    kp: _KeyPaths, a: npt.NDArray[np.int64]
) -> tuple[
    npt.NDArray[np.int64], npt.NDArray[np.float64], npt.NDArray[np.int64], npt.NDArray[np.int64]
]:
    """Key vertices a tree vertex can stand for: itself, or both ends of its key path.

    Returns ``(key index, extra cost, inner base or -1, key end)`` with two
    columns per vertex (the second is ``-1`` for key vertices).
    """
    is_in = kp.inner[a]
    q = np.where(is_in, kp.node_pid[a], 0)
    up, low = kp.upper[q], kp.lower[q]
    k0 = np.where(is_in, kp.kidx[up], kp.kidx[a])
    k1 = np.where(is_in, kp.kidx[low], -1)
    x0 = np.where(is_in, kp.dt[a] - kp.dt[up], 0.0)
    x1 = np.where(is_in, kp.dt[low] - kp.dt[a], 0.0)
    s = np.where(is_in, a, -1)
    e0 = np.where(is_in, up, -1)
    e1 = np.where(is_in, low, -1)
    return (
        np.column_stack([k0, k1]),
        np.column_stack([x0, x1]),
        np.column_stack([s, s]),
        np.column_stack([e0, e1]),
    )


def _candidates(g: Graph, kp: _KeyPaths, limit: float) -> tuple[_Cands, npt.NDArray[np.int32]]:
    """Build candidate key-vertex connections from the Voronoi regions of the tree vertices.

    Every boundary edge between the regions of tree vertices ``a`` and ``b``
    is a path outside the tree joining them. A key vertex stands for itself;
    an inner vertex of a key path stands for either end of its key path, at
    the extra cost of the piece of key path in between, so the path plus that
    piece joins two key vertices. The cheapest such connection per pair of key
    vertices is kept.

    Parameters
    ----------
    g : Graph
        Prepared graph.
    kp : _KeyPaths
        Decomposition of the current tree.
    limit : float
        Candidates costing ``limit`` or more are dropped (they cannot improve).

    Returns
    -------
    cands : _Cands
        Cheapest candidate per key-vertex pair.
    pred : numpy.ndarray
        Shortest-path forest of the regions, for expansion.
    """
    dist, pred, base = _voronoi(g.A, kp.nodes)
    tidx = np.full(g.n, -1, dtype=np.int64)
    tidx[kp.nodes] = np.arange(kp.nodes.size)
    lo1, hi1, c1, e1 = _boundary(g, dist, base, tidx, limit)
    ka, xa, sa, ea = _side_variants(kp, kp.nodes[lo1])
    kb, xb, sb, eb = _side_variants(kp, kp.nodes[hi1])
    # 2 x 2 combinations of the variants of both ends
    ia = np.array([0, 0, 1, 1])
    ib = np.array([0, 1, 0, 1])
    A_k, B_k = ka[:, ia].ravel(), kb[:, ib].ravel()
    cost = (c1[:, None] + xa[:, ia] + xb[:, ib]).ravel()
    ok = (A_k >= 0) & (B_k >= 0) & (A_k != B_k) & (cost < limit)
    rep = np.repeat(np.arange(lo1.size), 4)[ok]
    A_k, B_k, cost = A_k[ok], B_k[ok], cost[ok]
    seg_a, seg_a_end = sa[:, ia].ravel()[ok], ea[:, ia].ravel()[ok]
    seg_b, seg_b_end = sb[:, ib].ravel()[ok], eb[:, ib].ravel()[ok]
    lo = np.minimum(A_k, B_k)
    hi = np.maximum(A_k, B_k)
    edge = e1[rep]
    order = np.lexsort((cost, hi, lo))
    lo, hi = lo[order], hi[order]
    first = np.ones(lo.size, dtype=bool)
    first[1:] = (lo[1:] != lo[:-1]) | (hi[1:] != hi[:-1])
    sel = order[first]
    cands = _Cands(
        lo=lo[first],
        hi=hi[first],
        cost=cost[sel],
        edge=edge[sel],
        seg_a=seg_a[sel],
        seg_a_end=seg_a_end[sel],
        seg_b=seg_b[sel],
        seg_b_end=seg_b_end[sel],
    )
    return cands, pred


def _segment_edges(
    kp: _KeyPaths, inner_node: npt.NDArray[np.int64], end: npt.NDArray[np.int64]
) -> npt.NDArray[np.int64]:
    """Return the tree edges on the key-path pieces between inner nodes and key ends."""
    keep = inner_node >= 0
    inner_node, end = inner_node[keep], end[keep]
    if inner_node.size == 0:
        return np.empty((0, 2), dtype=np.int64)
    spid = kp.node_pid[kp.inner_sorted]
    sdt = kp.dt[kp.inner_sorted]
    parts: list[npt.NDArray[np.int64]] = []
    for a, z in zip(inner_node.tolist(), end.tolist(), strict=True):
        q = kp.node_pid[a]
        ps = np.searchsorted(spid, q, side="left")
        pe = np.searchsorted(spid, q, side="right")
        lo_dt, hi_dt = sorted((kp.dt[a], kp.dt[z]))
        # nodes w on the piece own the edge (w, parent(w)): dt in (lo_dt, hi_dt]
        i0 = ps + np.searchsorted(sdt[ps:pe], lo_dt, side="right")
        i1 = ps + np.searchsorted(sdt[ps:pe], hi_dt, side="right")
        parts.append(kp.inner_sorted[i0:i1])
        if kp.dt[z] > kp.dt[a]:
            parts.append(np.array([z], dtype=np.int64))
    w = np.unique(np.concatenate(parts))
    return np.column_stack([w, kp.tpar[w]])


def _cand_edges(
    g: Graph,
    kp: _KeyPaths,
    cands: _Cands,
    idx: npt.NDArray[np.int64],
    pred: npt.NDArray[np.int32],
) -> npt.NDArray[np.int64]:
    """Return the graph edges that realise candidates ``idx``."""
    return np.concatenate(
        [
            _expand(g, pred, cands.edge[idx]),
            _segment_edges(kp, cands.seg_a[idx], cands.seg_a_end[idx]),
            _segment_edges(kp, cands.seg_b[idx], cands.seg_b_end[idx]),
        ]
    )


def _key_path_exchange(
    kp: _KeyPaths, cands: _Cands
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.int64]] | None:
    """Replace key paths by cheaper candidate connections, all at once, by an MST.

    The key tree (key vertices, key paths as edges) plus the candidates form a
    small multigraph; its MST keeps every key path that no cheaper candidate
    can replace (key paths win ties). Returns ``(kept key paths, chosen
    candidates)`` or ``None`` when every key path is kept.
    """
    if cands.lo.size == 0:
        return None
    k = kp.key.size
    plo = np.minimum(kp.ends[:, 0], kp.ends[:, 1])
    phi = np.maximum(kp.ends[:, 0], kp.ends[:, 1])
    p = plo.size
    all_lo = np.concatenate([plo, cands.lo])
    all_hi = np.concatenate([phi, cands.hi])
    all_cost = np.concatenate([kp.pcost * (1.0 - 1e-12), cands.cost])
    ref = np.arange(all_lo.size)
    order = np.lexsort((ref, all_cost, all_hi, all_lo))
    all_lo, all_hi, all_cost, ref = all_lo[order], all_hi[order], all_cost[order], ref[order]
    first = np.ones(all_lo.size, dtype=bool)
    first[1:] = (all_lo[1:] != all_lo[:-1]) | (all_hi[1:] != all_hi[:-1])
    all_lo, all_hi, all_cost, ref = all_lo[first], all_hi[first], all_cost[first], ref[first]
    net = sp.csr_array((all_cost, (all_lo, all_hi)), shape=(k, k))
    mst = sp.coo_array(csgraph.minimum_spanning_tree(net))
    pos = np.searchsorted(all_lo * k + all_hi, _pair_keys(mst, k))
    chosen = ref[pos]
    new = chosen[chosen >= p] - p
    if new.size == 0:
        return None
    keep_path = np.zeros(p, dtype=bool)
    keep_path[chosen[chosen < p]] = True
    return keep_path, new


def _rooted(
    k: int, a: npt.NDArray[np.int64], b: npt.NDArray[np.int64], root: int
) -> tuple[
    npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]
]:
    """Root a tree on ``k`` nodes with edges ``(a, b)``.

    Returns preorder position, subtree size, parent (``-1`` at the root) and
    depth of every node; the subtree of ``x`` occupies positions
    ``[pos[x], pos[x] + size[x])``.
    """
    tree = sp.csr_array((np.ones(a.size), (a, b)), shape=(k, k))
    order, par = csgraph.depth_first_order(tree, root, directed=False, return_predecessors=True)
    par = np.asarray(par, dtype=np.int64)
    par[par < 0] = -1
    pos = np.empty(k, dtype=np.int64)
    pos[order] = np.arange(order.size)
    size = np.ones(k, dtype=np.int64)
    # accumulate subtree sizes bottom-up, one depth level at a time
    depth = _depths(tree, root)
    by_depth = np.argsort(-depth, kind="stable")
    cuts = np.flatnonzero(np.diff(depth[by_depth])) + 1
    for at in np.split(by_depth, cuts):
        if depth[at[0]] > 0:
            np.add.at(size, par[at], size[at])
    return pos, size, par, depth


def _key_vertex_elimination(
    is_term: npt.NDArray[np.bool_],
    kp: _KeyPaths,
    cands: _Cands,
    deadline: float | None,
) -> list[tuple[float, npt.NDArray[np.int64], npt.NDArray[np.int64]]]:
    """Evaluate removing each Steiner key vertex and reconnecting its parts by an MST.

    The key tree (key vertices joined by key paths) is rooted once. A
    candidate connection can only help to remove the key vertices strictly
    inside its key-tree path; these pairs are enumerated for all candidates at
    once by climbing from both ends (paths longer than ``_KVE_HOPS`` key paths
    are skipped). The part (child subtree or the rest) of each end follows from
    preorder positions, and a small Kruskal per vertex gives the reconnection.
    Returns improving moves ``(gain, removed key paths, chosen candidates)``
    sorted by decreasing gain.
    """
    k = kp.key.size
    steiner = ~is_term[kp.key]
    if not steiner.any() or cands.lo.size == 0:
        return []
    ea, eb = kp.ends[:, 0], kp.ends[:, 1]
    root = int(np.flatnonzero(~steiner)[0])
    pos, size, par, depth = _rooted(k, ea, eb, root)
    p = ea.size
    around = np.bincount(np.concatenate([ea, eb]), weights=np.tile(kp.pcost, 2), minlength=k)
    # (candidate, inner key vertex) pairs by climbing both ends to their meeting point
    a, b = cands.lo.copy(), cands.hi.copy()
    ci = np.arange(a.size)
    pair_c: list[npt.NDArray[np.int64]] = []
    pair_s: list[npt.NDArray[np.int64]] = []
    for _ in range(_KVE_HOPS):
        live = a != b
        if not live.any():
            break
        a, b, ci = a[live], b[live], ci[live]
        swap = depth[a] < depth[b]
        a, b = np.where(swap, b, a), np.where(swap, a, b)
        a = par[a]
        inner = (a != cands.lo[ci]) & (a != cands.hi[ci])
        pair_c.append(ci[inner])
        pair_s.append(a[inner])
    if not pair_c:
        return []
    pc = np.concatenate(pair_c)
    ps = np.concatenate(pair_s)
    keep = steiner[ps] & (cands.cost[pc] < around[ps])
    pc, ps = pc[keep], ps[keep]
    if pc.size == 0:
        return []
    # part of each end relative to s: child subtree (child's id) or the rest (k)
    children = np.flatnonzero(par >= 0)
    child_key = par[children] * (k + 1) + pos[children]
    corder = np.argsort(child_key, kind="stable")
    children, child_key = children[corder], child_key[corder]

    def part(x: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        inside = (pos[x] > pos[ps]) & (pos[x] < pos[ps] + size[ps])
        j = np.searchsorted(child_key, ps * (k + 1) + pos[x], side="right") - 1
        return np.where(inside, children[np.clip(j, 0, children.size - 1)], k)

    pa, pb = part(cands.lo[pc]), part(cands.hi[pc])
    plo, phi = np.minimum(pa, pb), np.maximum(pa, pb)
    order = np.lexsort((cands.cost[pc], phi, plo, ps))
    pc, ps, plo, phi = pc[order], ps[order], plo[order], phi[order]
    first = np.ones(pc.size, dtype=bool)
    first[1:] = (ps[1:] != ps[:-1]) | (plo[1:] != plo[:-1]) | (phi[1:] != phi[:-1])
    pc, ps, plo, phi = pc[first], ps[first], plo[first], phi[first]
    # per vertex: candidates by cost
    order = np.lexsort((cands.cost[pc], ps))
    pc, ps, plo, phi = pc[order], ps[order], plo[order], phi[order]
    bounds = np.flatnonzero(np.diff(ps)) + 1
    starts = np.concatenate([[0], bounds])
    ends = np.concatenate([bounds, [ps.size]])
    inc_all = np.concatenate([ea, eb])
    inc_order = np.argsort(inc_all, kind="stable")
    inc_start = np.searchsorted(inc_all[inc_order], np.arange(k + 1))
    n_parts = np.bincount(inc_all, minlength=k)
    cost_l = cands.cost[pc].tolist()
    plo_l, phi_l, pc_l = plo.tolist(), phi.tolist(), pc.tolist()
    moves: list[tuple[float, npt.NDArray[np.int64], npt.NDArray[np.int64]]] = []
    for i0, i1 in zip(starts.tolist(), ends.tolist(), strict=True):
        if deadline is not None and time.perf_counter() >= deadline:
            break
        s = int(ps[i0])
        need = int(n_parts[s]) - 1
        if i1 - i0 < need:
            continue
        removed = float(around[s])
        comp: dict[int, int] = {}

        def find(x: int, comp: dict[int, int] = comp) -> int:
            while comp.get(x, x) != x:
                x = comp[x]
            return x

        chosen: list[int] = []
        total = 0.0
        for j in range(i0, i1):
            ra, rb = find(plo_l[j]), find(phi_l[j])
            if ra != rb:
                comp[ra] = rb
                chosen.append(pc_l[j])
                total += cost_l[j]
                if len(chosen) == need or total >= removed:
                    break
        if len(chosen) != need:
            continue
        gain = removed - total
        if gain <= _REL_TOL * max(removed, 1.0):
            continue
        inc = inc_order[inc_start[s] : inc_start[s + 1]] % p
        moves.append((gain, inc, np.asarray(chosen, dtype=np.int64)))
    moves.sort(key=lambda mv: -mv[0])
    return moves


def _rooted_local_tree(
    n: int,
    nodes: npt.NDArray[np.int64],
    edges: npt.NDArray[np.int64],
    roots: npt.NDArray[np.bool_],
) -> tuple[npt.NDArray[np.int64], sp.csr_array, int, npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Index a tree's nodes locally and root it at its first node in ``roots``.

    Returns the global-to-local map (-1 off the tree), the local adjacency, the
    local root, the parent of each local node (-1 at the root) and its depth.
    """
    loc = np.full(n, -1, dtype=np.int64)
    loc[nodes] = np.arange(nodes.size)
    k = nodes.size
    tree = sp.csr_array(
        (np.ones(edges.shape[0]), (loc[edges[:, 0]], loc[edges[:, 1]])), shape=(k, k)
    )
    root = int(loc[np.flatnonzero(roots)[0]])
    _, par = csgraph.breadth_first_order(tree, root, directed=False, return_predecessors=True)
    par = np.asarray(par, dtype=np.int64)
    par[root] = -1
    return loc, tree, root, par, _depths(tree, root)


def _vertex_insertion(
    g: Graph, edges: npt.NDArray[np.int64], is_term: npt.NDArray[np.bool_]
) -> npt.NDArray[np.int64]:
    """Return outside vertices worth inserting, by decreasing estimated gain.

    For an outside vertex ``x`` joined to tree vertices ``u1`` (cheapest link
    ``w1``) and ``u_j`` (``w_j``, ``j > 1``), inserting ``x`` lets each link
    ``j`` replace the heaviest edge ``M_j`` on the tree path ``u1 .. u_j``
    (the MST update of Uchoa and Werneck): the estimated gain is
    ``sum_j max(M_j - w_j, 0) - w1`` (optimistic when cycles overlap,
    pessimistic as pruning is ignored). Path maxima come from binary lifting,
    vectorised over all links. Vertices with a non-negative estimate are
    returned.
    """
    in_tree = np.zeros(g.n, dtype=bool)
    in_tree[edges.ravel()] = True
    col = g.A.indices
    link = np.flatnonzero(in_tree[col] & ~in_tree[g.row])
    if link.size == 0:
        return link
    hits = np.bincount(g.row[link], minlength=g.n)
    link = link[hits[g.row[link]] >= 2]
    if link.size == 0:
        return link
    x = g.row[link]
    u = np.asarray(col[link], dtype=np.int64)
    w = np.asarray(g.A.data[link], dtype=np.float64)
    order = np.lexsort((w, x))
    x, u, w = x[order], u[order], w[order]
    head = np.ones(x.size, dtype=bool)
    head[1:] = x[1:] != x[:-1]
    start = np.flatnonzero(head)
    grp = np.cumsum(head) - 1
    u1 = u[start][grp]
    w1 = w[start][grp]
    other = ~head
    x, u1, w1, uj, wj = x[other], u1[other], w1[other], u[other], w[other]
    # root the tree and build binary-lifting tables over local indices
    nodes = np.flatnonzero(in_tree)
    loc, _, root, par, depth = _rooted_local_tree(g.n, nodes, edges, is_term & in_tree)
    k = nodes.size
    par[root] = root
    pw = np.zeros(k, dtype=np.float64)
    nonroot = np.arange(k) != root
    ids = g.edge_ids(np.column_stack([nodes[nonroot], nodes[par[nonroot]]]))
    pw[nonroot] = g.ew[ids]
    levels = max(1, int(depth.max()).bit_length())
    up = [par]
    mx = [pw]
    for _ in range(1, levels):
        up.append(up[-1][up[-1]])
        mx.append(np.maximum(mx[-1], mx[-1][up[-2]]))
    a, b = loc[u1], loc[uj]
    best = np.zeros(a.size, dtype=np.float64)
    swap = depth[a] < depth[b]
    a, b = np.where(swap, b, a), np.where(swap, a, b)
    diff = depth[a] - depth[b]
    for j in range(levels):
        bit = ((diff >> j) & 1).astype(bool)
        best = np.where(bit, np.maximum(best, mx[j][a]), best)
        a = np.where(bit, up[j][a], a)
    for j in range(levels - 1, -1, -1):
        ua, ub = up[j][a], up[j][b]
        go = ua != ub
        best = np.where(go, np.maximum(best, np.maximum(mx[j][a], mx[j][b])), best)
        a = np.where(go, ua, a)
        b = np.where(go, ub, b)
    neq = a != b
    best = np.where(neq, np.maximum(best, np.maximum(mx[0][a], mx[0][b])), best)
    # each further link may replace the heaviest edge of its cycle; overlapping
    # cycles make this an optimistic estimate, checked by the caller's MST
    save = np.maximum(best - wj, 0.0)
    xs = _nodes_of(g.n, x)
    xloc = np.full(g.n, -1, dtype=np.int64)
    xloc[xs] = np.arange(xs.size)
    inv = xloc[x]
    gain = np.bincount(inv, weights=save, minlength=xs.size)
    first_w = np.zeros(xs.size)
    first_w[inv] = w1
    gain -= first_w
    # zero estimated gain may still pay off once dangling paths are pruned
    good = gain > -_REL_TOL * np.maximum(first_w, 1.0)
    order = np.argsort(-gain[good], kind="stable")
    return xs[good][order]


def _vertex_elimination(
    g: Graph,
    edges: npt.NDArray[np.int64],
    is_term: npt.NDArray[np.bool_],
    accept: Callable[..., bool],
    deadline: float | None,
) -> bool:
    r"""Remove a Steiner vertex and re-span the rest of the node set by its MST.

    Removing Steiner vertex ``v`` cuts off the subtree of each child ``c``;
    the cheapest non-tree edge of the node set joining that subtree to the
    rest, not incident to ``v`` (its replacement cost ``r(c)``), reconnects
    it. Gains ``sum of v's tree edges - sum_c r(c)`` are estimated for all
    Steiner vertices from one sweep of the non-tree edges in increasing cost
    with a union-find over the rooted tree (MST sensitivity analysis,
    :math:`O(m \alpha(n))`); the best few are checked by recomputing the MST.
    """
    nodes = _nodes_of(g.n, edges)
    inside = np.zeros(g.n, dtype=bool)
    inside[nodes] = True
    tree_ids = g.edge_ids(edges)
    is_tree = np.zeros(g.m, dtype=bool)
    is_tree[tree_ids] = True
    nt = np.flatnonzero(inside[g.eu] & inside[g.ev] & ~is_tree)
    if nt.size == 0:
        return False
    loc, _, _, par_arr, depth_arr = _rooted_local_tree(g.n, nodes, edges, is_term & inside)
    k = nodes.size
    ea, eb = loc[edges[:, 0]], loc[edges[:, 1]]
    depth = depth_arr.tolist()
    par = par_arr.tolist()
    nt = nt[np.argsort(g.ew[nt], kind="stable")]
    xs = loc[g.eu[nt]].tolist()
    ys = loc[g.ev[nt]].tolist()
    ws = g.ew[nt].tolist()
    dsu = list(range(k))
    r = [np.inf] * k

    def find(a: int) -> int:
        while dsu[a] != a:
            dsu[a] = dsu[dsu[a]]
            a = dsu[a]
        return a

    left = k - 1
    for x, y, w in zip(xs, ys, ws, strict=True):
        a, b = find(x), find(y)
        while a != b:
            if depth[a] < depth[b]:
                a, b = b, a
            pa = par[a]
            if pa in (x, y):
                # edge (a, pa) would be replaced through pa itself: not for eliminating pa
                a = pa if dsu[pa] == pa else find(pa)
                continue
            r[a] = w
            dsu[a] = pa
            left -= 1
            a = find(pa)
        if left <= 0:
            break
    w_edge = g.ew[tree_ids]
    incident = np.bincount(
        np.concatenate([ea, eb]), weights=np.concatenate([w_edge, w_edge]), minlength=k
    )
    child = np.flatnonzero(par_arr >= 0)
    repl = np.bincount(par_arr[child], weights=np.asarray(r)[child], minlength=k)
    gain = incident - repl
    steiner = ~is_term[nodes] & (par_arr >= 0) & np.isfinite(gain)
    cand = np.flatnonzero(steiner & (gain > -_REL_TOL * np.maximum(incident, 1.0)))
    if cand.size == 0:
        return False
    cand = cand[np.argsort(-gain[cand], kind="stable")][:_SINGLE_TRIES]
    for v in nodes[cand]:
        if deadline is not None and time.perf_counter() >= deadline:
            break
        if accept(mst_prune(g, nodes[nodes != v], is_term), spanned=True):
            return True
    return False


def _depths(tree: sp.csr_array, root: int) -> npt.NDArray[np.int64]:
    """Return the number of edges from ``root`` to every node of a tree (``-1`` if unreached)."""
    d = csgraph.dijkstra(tree, directed=False, indices=root, unweighted=True)
    out = np.full(d.size, -1, dtype=np.int64)
    ok = np.isfinite(d)
    out[ok] = d[ok].astype(np.int64)
    return out


def local_search(
    g: Graph,
    edges: npt.NDArray[np.int64],
    is_term: npt.NDArray[np.bool_],
    *,
    deadline: float | None = None,
    max_rounds: int = _MAX_ROUNDS,
) -> npt.NDArray[np.int64]:
    r"""Improve a Steiner tree to a local optimum of the Uchoa-Werneck neighbourhoods.

    Parameters
    ----------
    g : Graph
        Prepared graph.
    edges : numpy.ndarray of int64, shape (k, 2)
        A Steiner tree spanning all terminals, without non-terminal leaves.
    is_term : numpy.ndarray of bool, shape (n,)
        Terminal mask.
    deadline : float or None, default None
        ``time.perf_counter()`` value after which the best tree so far is returned.
    max_rounds : int, default 100
        Cap on the number of passes over the neighbourhoods.

    Returns
    -------
    numpy.ndarray of int64, shape (k', 2)
        A Steiner tree no costlier than ``edges`` (strictly cheaper if any move
        improved it).

    Notes
    -----
    Each pass tries, accepting only strict improvements (checked exactly: the
    new node set is re-spanned by its MST and pruned):

    * Steiner-vertex insertion: for every outside vertex with two or more
      tree neighbours, the gain of linking it (each further link replaces the
      heaviest edge on its tree cycle, found by binary lifting) is estimated;
      promising vertices are inserted together, else the best few singly;
    * Steiner-vertex elimination: the replacement cost of every tree edge
      (cheapest non-tree edge of the node set across it, one union-find
      sweep) estimates the gain of dropping each Steiner vertex; the best few
      are tried;
    * key-path exchange: the Voronoi regions of all tree vertices give
      connections between key vertices (terminals and branchings); an MST of
      the key tree plus these connections swaps, at once, every key path that
      has a cheaper replacement;
    * key-vertex elimination: drop a Steiner key vertex with its key paths and
      reconnect the parts by the cheapest connections (a small Kruskal per
      vertex); independent improving moves are applied together.

    The search stops at a local optimum, when a pass gains less than
    ``1e-5`` of the cost, at ``max_rounds`` or at the deadline. A pass costs
    one multi-source Dijkstra, a few MSTs, :math:`O(m \log m)` numpy work and
    a Python union-find sweep over the non-tree edges inside the node set.
    Deterministic.

    References
    ----------
    .. [1] E. Uchoa and R. F. Werneck, "Fast local search for Steiner trees in
       graphs", Proc. ALENEX 2010, pp. 1-10. doi:10.1137/1.9781611972900.1
    .. [2] C. C. Ribeiro, E. Uchoa and R. F. Werneck, "A hybrid GRASP with
       perturbations for the Steiner problem in graphs", INFORMS Journal on
       Computing 14(3):228-246, 2002. doi:10.1287/ijoc.14.3.228.116
    """
    best = edges
    best_cost = g.cost(best)
    n_term = int(is_term.sum())

    def expired() -> bool:
        return deadline is not None and time.perf_counter() >= deadline

    def accept(cand_edges: npt.NDArray[np.int64] | None, *, spanned: bool = False) -> bool:
        nonlocal best, best_cost
        if cand_edges is None or cand_edges.shape[0] == 0:
            return False
        # a pruned MST is the MST of its own node set: no need to span it again
        tree = cand_edges if spanned else mst_prune(g, _nodes_of(g.n, cand_edges), is_term)
        nodes = _nodes_of(g.n, tree)
        if tree.shape[0] != nodes.size - 1 or is_term[nodes].sum() != n_term:
            logger.debug("local search: discarded a disconnected candidate")
            return False
        c = g.cost(tree)
        if c < best_cost - _REL_TOL * max(best_cost, 1.0):
            best, best_cost = tree, c
            return True
        return False

    def analyse() -> tuple[_KeyPaths, _Cands, npt.NDArray[np.int32]]:
        kp = _key_paths(g, best, is_term)
        around = np.bincount(kp.ends.ravel(), weights=np.repeat(kp.pcost, 2), minlength=kp.key.size)
        steiner = ~is_term[kp.key]
        limit = max(float(kp.pcost.max()), float(around[steiner].max()) if steiner.any() else 0.0)
        cands, pred = _candidates(g, kp, limit)
        return kp, cands, pred

    for rnd in range(max_rounds):
        if expired():
            break
        start_cost = best_cost
        improved = False
        picked = _vertex_insertion(g, best, is_term)
        if picked.size:
            nodes = _nodes_of(g.n, best)
            improved = accept(mst_prune(g, np.concatenate([nodes, picked]), is_term), spanned=True)
            for v in picked[: _SINGLE_TRIES if not improved else 0]:
                if accept(mst_prune(g, np.append(nodes, v), is_term), spanned=True):
                    improved = True
                    break
        if expired():
            break
        improved = _vertex_elimination(g, best, is_term, accept, deadline) or improved
        if expired():
            break
        kp, cands, pred = analyse()
        swap = _key_path_exchange(kp, cands)
        if swap is not None:
            keep_path, new = swap
            if accept(
                np.concatenate([best[keep_path[kp.pid]], _cand_edges(g, kp, cands, new, pred)])
            ):
                improved = True
                kp, cands, pred = analyse()
        if expired():
            break
        moves = _key_vertex_elimination(is_term, kp, cands, deadline)
        if moves:
            used = np.zeros(kp.key.size, dtype=bool)
            drop = np.zeros(kp.pcost.size, dtype=bool)
            add: list[npt.NDArray[np.int64]] = []
            for _gain, inc, chosen in moves:
                touched = np.unique(
                    np.concatenate([kp.ends[inc].ravel(), cands.lo[chosen], cands.hi[chosen]])
                )
                if used[touched].any():
                    continue
                used[touched] = True
                drop[inc] = True
                add.append(chosen)
            together = np.concatenate(
                [best[~drop[kp.pid]], _cand_edges(g, kp, cands, np.concatenate(add), pred)]
            )
            if accept(together):
                improved = True
            elif len(add) > 1:
                _gain, inc, chosen = moves[0]
                drop[:] = False
                drop[inc] = True
                single = np.concatenate(
                    [best[~drop[kp.pid]], _cand_edges(g, kp, cands, chosen, pred)]
                )
                improved = accept(single) or improved
        logger.debug("local search round %d: %.6g -> %.6g", rnd, start_cost, best_cost)
        if not improved or start_cost - best_cost < _MIN_ROUND_GAIN * start_cost:
            break
    return best
