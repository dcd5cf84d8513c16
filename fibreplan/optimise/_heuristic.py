"""Fast primal heuristics for the Steiner tree problem in graphs.

Everything works on the canonical graph form of :mod:`fibreplan.optimise._graph`
(symmetric ``scipy.sparse.csr_array`` with positive weights) and on trees given
as sorted ``(k, 2)`` int64 node-pair arrays. The hot paths are one call each to
:func:`scipy.sparse.csgraph.dijkstra` (multi-source, ``min_only=True``: the
Voronoi regions of a node set), :func:`scipy.sparse.csgraph.minimum_spanning_tree`
and vectorised numpy; no Python loop runs over all edges.
"""

from __future__ import annotations

import logging
import time

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse import csgraph

from fibreplan.optimise._graph import canonical_edges
from fibreplan.optimise._local_search import Graph
from fibreplan.optimise._local_search import local_search as _improve
from fibreplan.optimise._local_search import mst_prune
from fibreplan.optimise._local_search import prune_leaves
from fibreplan.optimise._local_search import voronoi_tree

__all__ = ["heuristic_tree", "mst_distance_network_tree"]

logger = logging.getLogger(__name__)

#: largest terminal count for which the shortest-path heuristic is used as a start
_SPH_MAX_TERMINALS = 64
#: work budget (terminals x (edges + nodes)) for the shortest-path-heuristic roots
_SPH_WORK = 3_000_000
#: graphs with at most this many edges get one perturbed restart by default
_SMALL_EDGES = 2_000
#: work budget (edges + nodes) deciding how many constructions get the local search
_LS_WORK = 2_000


def mst_distance_network_tree(
    A: sp.csr_array, terminals: npt.NDArray[np.int64]
) -> npt.NDArray[np.int64]:
    r"""Return Mehlhorn's distance-network heuristic tree (the plain baseline).

    Parameters
    ----------
    A : scipy.sparse.csr_array, shape (n, n)
        Canonical adjacency; weights are edge lengths (any unit, e.g. metres).
    terminals : numpy.ndarray of int64
        Distinct terminal nodes, all in one connected component.

    Returns
    -------
    numpy.ndarray of int64, shape (k, 2)
        Canonical tree edges spanning every terminal; ``(0, 2)`` for at most one
        terminal.

    Notes
    -----
    This is what ``networkx.algorithms.approximation.steiner_tree(G, T,
    method="mehlhorn")`` computes: the Voronoi regions of the terminals (one
    multi-source Dijkstra) give the boundary edges ``(u, v)`` of cost
    ``d1(u) + w(u, v) + d1(v)``; the minimum spanning tree of the terminal
    graph they induce is the MST of a complete distance network
    :math:`G_1'`; each of its edges is expanded to the shortest path through
    the two regions, the minimum spanning tree of the union is taken and
    non-terminal leaves are pruned. Guarantee: cost at most ``2 (1 - 1/l)``
    times the optimum, ``l`` the number of leaves of an optimal tree. Time
    :math:`O(m + n \log n)`.

    References
    ----------
    .. [1] K. Mehlhorn, "A faster approximation algorithm for the Steiner
       problem in graphs", Information Processing Letters 27(3):125-128, 1988.
       doi:10.1016/0020-0190(88)90066-X
    """
    t = np.asarray(terminals, dtype=np.int64).ravel()
    if t.size <= 1:
        return np.empty((0, 2), dtype=np.int64)
    g = Graph.from_csr(A)
    is_term = np.zeros(g.n, dtype=bool)
    is_term[t] = True
    return canonical_edges(prune_leaves(voronoi_tree(g, t), is_term))


def _shortest_path_heuristic(
    g: Graph, terminals: npt.NDArray[np.int64], root: int
) -> npt.NDArray[np.int64]:
    r"""Return the Takahashi-Matsuyama shortest-path heuristic tree grown from ``root``.

    Parameters
    ----------
    g : Graph
        Prepared graph.
    terminals : numpy.ndarray of int64
        Distinct terminals.
    root : int
        Terminal the tree starts from.

    Returns
    -------
    numpy.ndarray of int64, shape (k, 2)
        Tree edges (not canonical, not pruned).

    Notes
    -----
    Repeatedly joins the terminal nearest to the current tree by a shortest
    path. Distances to the tree are kept incrementally: after a path ``P`` is
    added, one multi-source Dijkstra from ``P`` lowers them. Time
    :math:`O(|T| (m + n \log n))`, so it is only used for few terminals.

    References
    ----------
    .. [1] H. Takahashi and A. Matsuyama, "An approximate solution for the
       Steiner problem in graphs", Math. Japonica 24(6):573-577, 1980.
    .. [2] C. C. Ribeiro, E. Uchoa and R. F. Werneck, "A hybrid GRASP with
       perturbations for the Steiner problem in graphs", INFORMS Journal on
       Computing 14(3):228-246, 2002. doi:10.1287/ijoc.14.3.228.116
    """
    in_tree = np.zeros(g.n, dtype=bool)
    in_tree[root] = True
    dist, pred = csgraph.dijkstra(g.A, directed=True, indices=root, return_predecessors=True)
    pending = terminals[terminals != root]
    us: list[npt.NDArray[np.int64]] = []
    vs: list[npt.NDArray[np.int64]] = []
    while pending.size:
        j = int(np.argmin(dist[pending]))
        t = int(pending[j])
        pending = np.delete(pending, j)
        path = [t]
        x = t
        while not in_tree[x]:
            x = int(pred[x])
            path.append(x)
        p = np.asarray(path, dtype=np.int64)
        us.append(p[:-1])
        vs.append(p[1:])
        new = p[:-1]
        in_tree[new] = True
        if not pending.size:
            break
        d2, p2, _ = csgraph.dijkstra(
            g.A, directed=True, indices=new, min_only=True, return_predecessors=True
        )
        better = d2 < dist
        dist[better] = d2[better]
        pred[better] = p2[better]
    return np.column_stack([np.concatenate(us), np.concatenate(vs)])


def heuristic_tree(
    A: sp.csr_array,
    terminals: npt.NDArray[np.int64],
    *,
    seed: int = 0,
    n_roots: int | None = None,
    local_search: bool = True,
    deadline: float | None = None,
) -> npt.NDArray[np.int64]:
    r"""Return a near-optimal Steiner tree by multi-start construction and local search.

    Parameters
    ----------
    A : scipy.sparse.csr_array, shape (n, n)
        Canonical adjacency (validated by the caller); weights are edge lengths
        in any unit (metres for trench routes).
    terminals : numpy.ndarray of int64
        Distinct terminal nodes, all in one connected component.
    seed : int, default 0
        Seed of the random choice of roots and weight perturbations; the result
        is a deterministic function of ``(A, terminals, seed, n_roots,
        local_search)`` when no ``deadline`` cuts the search short.
    n_roots : int or None, default None
        Number of constructions: shortest-path heuristic roots when there are
        at most 64 terminals, otherwise Mehlhorn trees on randomly perturbed
        weights. ``None`` picks it from the instance size (fewer on big graphs).
    local_search : bool, default True
        Improve every start with :func:`fibreplan.optimise._local_search.local_search`.
    deadline : float or None, default None
        A ``time.perf_counter()`` value; after it no further start or
        improvement is tried and the best tree so far is returned.

    Returns
    -------
    numpy.ndarray of int64, shape (k, 2)
        Canonical tree edges spanning every terminal; ``(0, 2)`` when there is
        at most one terminal.

    Notes
    -----
    The first start is always Mehlhorn's distance-network heuristic
    (:func:`mst_distance_network_tree`), so the result is never costlier than
    it, and the local search only accepts strict improvements: the cost is at
    most ``2 (1 - 1/l)`` times the optimum. Further starts are the
    shortest-path heuristic from several terminals (few terminals) or
    Mehlhorn on weights multiplied by random factors in ``[1, 1.25)`` (many
    terminals), each followed by the local search (Steiner-vertex insertion,
    key-path exchange, key-vertex elimination). Time per start is
    :math:`O(m + n \log n)` per local-search pass for Mehlhorn starts and
    :math:`O(|T| (m + n \log n))` for a shortest-path start.

    References
    ----------
    .. [1] K. Mehlhorn, "A faster approximation algorithm for the Steiner
       problem in graphs", Information Processing Letters 27(3):125-128, 1988.
       doi:10.1016/0020-0190(88)90066-X
    .. [2] H. Takahashi and A. Matsuyama, "An approximate solution for the
       Steiner problem in graphs", Math. Japonica 24(6):573-577, 1980.
    .. [3] E. Uchoa and R. F. Werneck, "Fast local search for Steiner trees in
       graphs", Proc. ALENEX 2010, pp. 1-10. doi:10.1137/1.9781611972900.1
    .. [4] C. C. Ribeiro, E. Uchoa and R. F. Werneck, "A hybrid GRASP with
       perturbations for the Steiner problem in graphs", INFORMS Journal on
       Computing 14(3):228-246, 2002. doi:10.1287/ijoc.14.3.228.116
    """
    t = np.asarray(terminals, dtype=np.int64).ravel()
    if t.size <= 1:
        return np.empty((0, 2), dtype=np.int64)
    g = Graph.from_csr(A)
    is_term = np.zeros(g.n, dtype=bool)
    is_term[t] = True
    rng = np.random.default_rng(seed)

    def expired() -> bool:
        return deadline is not None and time.perf_counter() >= deadline

    def improve(edges: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        if local_search:
            return _improve(g, edges, is_term, deadline=deadline)
        return edges

    mehlhorn = mst_prune(g, np.unique(voronoi_tree(g, t)), is_term)
    if t.size == 2:
        return canonical_edges(mehlhorn)

    use_sph = t.size <= _SPH_MAX_TERMINALS
    if n_roots is None:
        if use_sph:
            n_starts = int(np.clip(_SPH_WORK // (t.size * (g.m + g.n)), 1, 16))
        else:
            n_starts = 1 if g.m <= _SMALL_EDGES else 0
    else:
        n_starts = max(int(n_roots), 0)

    # constructions: Mehlhorn, then SPH from random terminals (few terminals);
    # the cheapest few get the local search
    pool = [(g.cost(mehlhorn), 0, mehlhorn)]
    if use_sph:
        for i, r in enumerate(rng.permutation(t)[: min(n_starts, t.size)]):
            if expired():
                break
            tree = mst_prune(g, np.unique(_shortest_path_heuristic(g, t, int(r))), is_term)
            pool.append((g.cost(tree), i + 1, tree))
    pool.sort(key=lambda item: (item[0], item[1]))
    n_ls = int(np.clip(_LS_WORK // (g.m + g.n), 2, 16))
    best, best_cost = pool[0][2], pool[0][0]
    seen: list[float] = []
    for cost0, _, tree in pool:
        if len(seen) >= n_ls or expired():
            break
        if any(abs(cost0 - c) <= 1e-9 * max(c, 1.0) for c in seen):
            continue
        seen.append(cost0)
        cand = improve(tree)
        cost = g.cost(cand)
        if cost < best_cost - 1e-9 * max(best_cost, 1.0):
            best, best_cost = cand, cost

    # restarts: Mehlhorn on randomly perturbed weights (many terminals)
    for i in range(0 if use_sph else n_starts):
        if expired():
            break
        factors = 1.0 + 0.25 * rng.random(g.m)
        start = mst_prune(g, np.unique(voronoi_tree(g.perturbed(factors), t)), is_term)
        cand = improve(start)
        cost = g.cost(cand)
        logger.debug("restart %d: cost %.6g (best %.6g)", i, cost, best_cost)
        if cost < best_cost - 1e-9 * max(best_cost, 1.0):
            best, best_cost = cand, cost
    return canonical_edges(best)

    use_sph = t.size <= _SPH_MAX_TERMINALS
    if n_roots is None:
        if use_sph:
            n_starts = int(min(t.size, max(2, 4_000_000 // max(g.m * t.size, 1))))
            n_starts = min(n_starts, 8)
        else:
            n_starts = 3 if g.m <= 200_000 else 0
    else:
        n_starts = max(int(n_roots), 0)
    roots = rng.permutation(t)[: min(n_starts, t.size)] if use_sph else None

    for i in range(n_starts):
        if expired():
            break
        if use_sph and roots is not None:
            if i >= roots.size:
                break
            start = _shortest_path_heuristic(g, t, int(roots[i]))
        else:
            factors = 1.0 + 0.25 * rng.random(g.m)
            start = voronoi_tree(g.perturbed(factors), t)
        cand = improve(mst_prune(g, np.unique(start), is_term))
        cost = g.cost(cand)
        logger.debug("start %d: cost %.6g (best %.6g)", i, cost, best_cost)
        if cost < best_cost - 1e-9 * max(best_cost, 1.0):
            best, best_cost = cand, cost
    return canonical_edges(best)
