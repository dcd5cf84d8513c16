"""Fast primal heuristics for the Steiner tree problem in graphs.

Everything works on the canonical graph form of :mod:`fibreplan.optimise._graph`
(symmetric ``scipy.sparse.csr_array`` with positive weights) and on trees given
as sorted ``(k, 2)`` int64 node-pair arrays. The hot paths are calls to
:func:`scipy.sparse.csgraph.dijkstra` (multi-source, ``min_only=True``: the
Voronoi regions of a node set), :func:`scipy.sparse.csgraph.minimum_spanning_tree`
and vectorised numpy; Python loops run over terminals, SPH path nodes and
candidate moves, never over all edges of the graph.

:func:`recombine_trees` goes further when a gap to the lower bound is left:
perturbed restarts (Ribeiro, Uchoa & Werneck's hybrid GRASP,
doi:10.1287/ijoc.14.3.228.116) diversify a pool of trees, and the Steiner
problem on the union of the best of them is solved exactly (reductions and
branch-and-cut on that small graph).
"""

from __future__ import annotations

import logging
import math
import time

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse import csgraph

from fibreplan.optimise._bound import dual_ascent
from fibreplan.optimise._graph import canonical_edges
from fibreplan.optimise._local_search import Graph
from fibreplan.optimise._local_search import local_search as _improve
from fibreplan.optimise._local_search import mst_prune
from fibreplan.optimise._local_search import prune_leaves
from fibreplan.optimise._local_search import voronoi_tree
from fibreplan.optimise._reduce import reduce_instance

__all__ = ["heuristic_tree", "mst_distance_network_tree", "recombine_trees"]

logger = logging.getLogger(__name__)

#: shortest-path-heuristic starts need |T| Dijkstra runs and a |T| x n matrix:
#: used while terminals x (edges + nodes) and terminals x nodes stay below these
_SPH_WORK = 20_000_000
_SPH_MEMORY = 5_000_000
#: SPH roots by default: this many divided by the number of terminals (1 to 16)
_ROOT_WORK = 600
#: default perturbed restarts: one per this many edges, at most _MAX_RESTARTS (0: off,
#: they cost more time than networkx's Mehlhorn takes on SteinLib C/D)
_RESTART_EDGES = 3_000
_MAX_RESTARTS = 0
#: relative weight noise of a restart, and the extra noise on the best tree's edges
_NOISE = 0.1
_PENALTY = 0.5
#: relative weight noise of a GRASP restart before recombination (Ribeiro et al.)
_GRASP_NOISE = 0.25
#: number of cheapest distinct trees whose union is recombined
_ELITE = 8
#: ... and the smaller elite tried when branch-and-cut on the first union hits its cap
_ELITE_SMALL = 2
#: wall-clock cap (seconds) of one branch-and-cut on the union of elite trees
_RECOMBINE_SECONDS = 1.5
#: work budget (edges + nodes) deciding how many constructions get the local search
_LS_WORK = 2_000
#: Mehlhorn's tree gets the local search if at most this much dearer than the best SPH tree
_LS_MEHLHORN_SLACK = 0.05
#: ... and always when there are at most this many terminals (small trees: cheap)
_LS_MEHLHORN_TERMINALS = 20


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


def _terminal_distances(
    g: Graph, terminals: npt.NDArray[np.int64], limit: float
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int32]]:
    """Return distances and predecessors from every terminal, shape ``(|T|, n)``, up to ``limit``.

    The shortest-path heuristic never joins a terminal farther from the tree
    than the bottleneck of the terminal distance network's MST (some MST edge
    crosses every cut), so searches stop there; farther entries are ``inf``.
    """
    dist, pred = csgraph.dijkstra(
        g.A,
        directed=True,
        indices=terminals,
        return_predecessors=True,
        limit=limit * (1.0 + 1e-9) + 1e-12,
    )
    return dist, pred


def _sph_from_matrix(
    terminals: npt.NDArray[np.int64],
    dist: npt.NDArray[np.float64],
    pred: npt.NDArray[np.int32],
    root: int,
) -> npt.NDArray[np.int64]:
    r"""Return the shortest-path-heuristic tree from terminal index ``root``.

    Parameters
    ----------
    terminals : numpy.ndarray of int64
        Distinct terminals.
    dist, pred : numpy.ndarray, shape (|T|, n)
        Distances and predecessors of shortest paths from every terminal.
    root : int
        Index into ``terminals`` of the start.

    Returns
    -------
    numpy.ndarray of int64, shape (k, 2)
        Tree edges (not canonical; ties may leave a cycle, removed by the
        caller's MST).

    Notes
    -----
    Takahashi and Matsuyama's heuristic: repeatedly join the terminal nearest
    to the tree by a shortest path. With all terminal distances at hand, the
    distance of every pending terminal to the tree is a running minimum over
    the columns of the newly added nodes, so each step is :math:`O(|T| \cdot
    |P|)` numpy work and a whole tree :math:`O(|T| n)` after the
    :math:`O(|T| (m + n \log n))` Dijkstra runs shared by all roots.

    References
    ----------
    .. [1] H. Takahashi and A. Matsuyama, "An approximate solution for the
       Steiner problem in graphs", Math. Japonica 24(6):573-577, 1980.
    """
    k, n = dist.shape
    tidx = np.full(n, -1, dtype=np.int64)
    tidx[terminals] = np.arange(k)
    in_tree = np.zeros(n, dtype=bool)
    r = int(terminals[root])
    in_tree[r] = True
    to_tree = dist[:, r].copy()
    near = np.full(k, r, dtype=np.int64)
    to_tree[root] = np.inf
    done = np.zeros(k, dtype=bool)
    done[root] = True
    us: list[int] = []
    vs: list[int] = []
    for _ in range(k - 1):
        j = int(np.argmin(to_tree))
        if not np.isfinite(to_tree[j]):
            break
        row = pred[j]
        x = int(near[j])
        new: list[int] = []
        while x != terminals[j]:
            y = int(row[x])
            us.append(x)
            vs.append(y)
            if in_tree[y]:
                break
            new.append(y)
            x = y
        to_tree[j] = np.inf
        done[j] = True
        if not new:
            continue
        nodes = np.asarray(new, dtype=np.int64)
        in_tree[nodes] = True
        hit = tidx[nodes]
        done[hit[hit >= 0]] = True
        to_tree[done] = np.inf
        sub = dist[:, nodes]
        arg = sub.argmin(axis=1)
        best = sub[np.arange(k), arg]
        better = (best < to_tree) & ~done
        to_tree[better] = best[better]
        near[better] = nodes[arg[better]]
    return np.column_stack([np.asarray(us, dtype=np.int64), np.asarray(vs, dtype=np.int64)])


def _search_graph(A: sp.csr_array, t: npt.NDArray[np.int64]) -> tuple[Graph, npt.NDArray[np.bool_]]:
    """Return the local-search graph of ``A`` and the terminal mask."""
    g = Graph.from_csr(A)
    is_term = np.zeros(g.n, dtype=bool)
    is_term[t] = True
    return g, is_term


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
        Seed of the random choice of SPH roots and weight perturbations; the
        result is a deterministic function of ``(A, terminals, seed, n_roots,
        local_search)`` unless a ``deadline`` cuts the search short.
    n_roots : int or None, default None
        Number of shortest-path-heuristic (SPH) constructions, each from a
        random terminal; on instances too big for SPH (``|T| (m + n) > 2e7`` or
        ``|T| n > 5e6``) the number of restarts from Mehlhorn's heuristic on
        randomly perturbed weights instead. ``None``: ``clip(600 // |T|, 1,
        16)`` SPH roots where SPH is affordable, no perturbed restarts.
    local_search : bool, default True
        Improve the best constructions by local search.
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
    Constructions: Mehlhorn's distance-network heuristic (always; see
    :func:`mst_distance_network_tree`) and, where affordable, the
    shortest-path heuristic from ``n_roots`` random terminals, computed from
    one batch of Dijkstra runs from all terminals that stop at the bottleneck
    of the terminal distance network. Mehlhorn's tree (unless more than 5 %
    dearer than the best SPH tree with over 20 terminals) and the cheapest
    SPH trees (``max(1, 2000 // (m + n))`` of them) then get the
    local search of :func:`fibreplan.optimise._local_search.local_search`
    (Steiner-vertex insertion and elimination, key-path exchange, key-vertex
    elimination), which only accepts strict improvements.

    Guarantee: a valid Steiner tree, never costlier than
    :func:`mst_distance_network_tree` (hence at most ``2 (1 - 1/l)`` times
    the optimum, ``l`` the leaves of an optimal tree). Time
    :math:`O(m + n \log n)` for Mehlhorn, :math:`O(|T| (m + n \log n))` for
    the SPH distances (usually far less thanks to the search limit) plus
    :math:`O(|T| n)` per SPH root, and :math:`O(m + n \log n)` numpy/C work
    per local-search pass; a few passes reach the local optimum.

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
    g, is_term = _search_graph(A, t)
    rng = np.random.default_rng(seed)

    def expired() -> bool:
        return deadline is not None and time.perf_counter() >= deadline

    def improve(edges: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        if local_search:
            return _improve(g, edges, is_term, deadline=deadline)
        return edges

    first, bottleneck = voronoi_tree(g, t, with_bottleneck=True)
    mehlhorn = mst_prune(g, first.ravel(), is_term)
    if t.size == 2:
        return canonical_edges(mehlhorn)

    use_sph = t.size * (g.m + g.n) <= _SPH_WORK and t.size * g.n <= _SPH_MEMORY
    if n_roots is None:
        n_starts = int(np.clip(_ROOT_WORK // t.size, 1, 16)) if use_sph else 0
        n_restarts = int(np.clip(g.m // _RESTART_EDGES, 0, _MAX_RESTARTS))
    else:
        n_starts = max(int(n_roots), 0) if use_sph else 0
        n_restarts = 0 if use_sph else max(int(n_roots), 0)

    # constructions: Mehlhorn, then SPH from random terminals;
    # the cheapest few get the local search
    pool = [(g.cost(mehlhorn), 0, mehlhorn)]
    if use_sph and n_starts and not expired():
        dist, pred = _terminal_distances(g, t, bottleneck)
        for i, r in enumerate(rng.permutation(t.size)[: min(n_starts, t.size)]):
            if expired():
                break
            tree = mst_prune(g, _sph_from_matrix(t, dist, pred, int(r)).ravel(), is_term)
            pool.append((g.cost(tree), i + 1, tree))
    # local search on Mehlhorn's tree and on the cheapest SPH trees
    sph = sorted(pool[1:], key=lambda item: (item[0], item[1]))
    n_ls = int(np.clip(_LS_WORK // (g.m + g.n), 1, 16))
    best_cost, _, best = min(pool, key=lambda item: (item[0], item[1]))
    seen: list[float] = []
    # Mehlhorn's tree is improved too unless it starts far behind the best SPH tree
    keep_mehlhorn = (
        not sph
        or t.size <= _LS_MEHLHORN_TERMINALS
        or pool[0][0] <= sph[0][0] * (1.0 + _LS_MEHLHORN_SLACK)
    )
    order = [pool[0], *sph] if keep_mehlhorn else sph
    for cost0, _, tree in order[: n_ls + int(keep_mehlhorn)]:
        if expired():
            break
        if any(abs(cost0 - c) <= 1e-9 * max(c, 1.0) for c in seen):
            continue
        seen.append(cost0)
        cand = improve(tree)
        cost = g.cost(cand)
        if cost < best_cost - 1e-9 * max(best_cost, 1.0):
            best, best_cost = cand, cost

    # restarts: Mehlhorn on perturbed weights, edges of the best tree made dearer
    for i in range(n_restarts):
        if expired():
            break
        factors = 1.0 + _NOISE * rng.random(g.m)
        in_best = g.edge_ids(best)
        factors[in_best] += _PENALTY * rng.random(in_best.size)
        start = mst_prune(g, voronoi_tree(g.perturbed(factors), t).ravel(), is_term)
        cand = improve(start)
        cost = g.cost(cand)
        logger.debug("restart %d: cost %.6g (best %.6g)", i, cost, best_cost)
        if cost < best_cost - 1e-9 * max(best_cost, 1.0):
            best, best_cost = cand, cost
    return canonical_edges(best)


def _union_csr(g: Graph, trees: list[npt.NDArray[np.int64]]) -> sp.csr_array:
    """Return the canonical adjacency of the union of some trees' edges (same node ids)."""
    ids = np.unique(np.concatenate([g.edge_ids(x) for x in trees if x.shape[0]]))
    u, v, w = g.eu[ids], g.ev[ids], g.ew[ids]
    U = sp.csr_array(
        (np.concatenate([w, w]), (np.concatenate([u, v]), np.concatenate([v, u]))),
        shape=(g.n, g.n),
    )
    U.sort_indices()
    return U


def _solve_union(
    g: Graph,
    terminals: npt.NDArray[np.int64],
    trees: list[npt.NDArray[np.int64]],
    deadline: float | None,
) -> tuple[npt.NDArray[np.int64] | None, bool]:
    """Solve the Steiner problem on the union of ``trees``; return ``(tree, settled)``.

    The union graph is reduced (:func:`fibreplan.optimise._reduce.reduce_instance`);
    when a dual-ascent bound of what is left shows that the union holds no tree
    cheaper than the best of ``trees``, the answer is ``(None, True)``;
    otherwise branch-and-cut (:func:`fibreplan.optimise._exact.solve_exact`)
    runs within ``_RECOMBINE_SECONDS`` (and the deadline), and only a proven
    optimum of the union is returned, ``(tree, True)``; ``(None, False)`` when
    the cap was hit. So the result does not depend on the machine's speed
    unless that cap is hit.
    """
    # imported here: _exact imports this module
    from fibreplan.optimise._exact import solve_exact

    red = reduce_instance(_union_csr(g, trees), terminals)
    if red.terminals.size <= 1:
        return red.expand(np.empty((0, 2), dtype=np.int64)), True
    ub = min(g.cost(x) for x in trees) - red.fixed_cost
    da = dual_ascent(red.A, red.terminals)
    lb = da.lower_bound
    if bool(np.all(red.A.data == np.round(red.A.data))):
        lb = math.ceil(lb - 1e-6)
    if lb >= ub - 1e-9 * max(ub, 1.0):
        return None, True
    limit = _RECOMBINE_SECONDS
    if deadline is not None:
        limit = min(limit, deadline - time.perf_counter())
        if limit <= 0:
            return None, False
    ex = solve_exact(red.A, red.terminals, upper_bound=ub, time_limit=limit)
    if not ex.optimal or ex.edges.shape[0] == 0:
        return None, False
    return red.expand(ex.edges), True


def recombine_trees(
    A: sp.csr_array,
    terminals: npt.NDArray[np.int64],
    trees: list[npt.NDArray[np.int64]],
    *,
    seed: int = 0,
    n_restarts: int = 6,
    deadline: float | None = None,
    lower_bound: float = -math.inf,
) -> npt.NDArray[np.int64]:
    r"""Improve Steiner trees by perturbed restarts and recombination of the elite.

    Parameters
    ----------
    A : scipy.sparse.csr_array, shape (n, n)
        Canonical adjacency; weights are edge lengths in any unit.
    terminals : numpy.ndarray of int64
        Distinct terminals (at least two), all in one connected component.
    trees : list of numpy.ndarray of int64, shape (k, 2)
        Known Steiner trees of ``A`` (at least one), e.g. from
        :func:`heuristic_tree` and the dual-ascent heuristic.
    seed : int, default 0
        Seed of the weight perturbations.
    n_restarts : int, default 6
        Number of perturbed restarts.
    deadline : float or None, default None
        A ``time.perf_counter()`` value; after it no further restart or
        recombination is tried and the best tree so far is returned.
    lower_bound : float, default -inf
        A valid lower bound on the optimum (e.g. from dual ascent): the search
        stops as soon as a tree reaches it.

    Returns
    -------
    numpy.ndarray of int64, shape (k, 2)
        Canonical tree edges spanning every terminal, never costlier than the
        cheapest of ``trees``.

    Notes
    -----
    The hybrid GRASP of Ribeiro, Uchoa and Werneck: each restart multiplies
    every edge weight by a random factor in ``[1, 1.25)`` (the edges of the
    best tree so far by up to a further 0.5), builds Mehlhorn's tree on the
    perturbed weights, runs the local search of
    :func:`fibreplan.optimise._local_search.local_search` on the perturbed and
    then on the true weights. The restarts diversify the pool; the
    recombination then solves the Steiner problem on the union of the
    cheapest 8 distinct trees -- a sparse graph of a few times the tree size,
    which the exact reductions shrink further. A dual-ascent bound on it
    first checks whether the union can hold a cheaper tree at all; if so,
    branch-and-cut (:func:`fibreplan.optimise._exact.solve_exact`, capped at
    1.5 s per call) finds its optimum: the best combination of the elite
    trees' pieces, at least as good as each of them. When the cap is hit the
    union of the best two trees is tried, and if that is capped too, the
    shortest-path heuristic from every terminal on that union. The
    recombined tree gets one more local search. Deterministic for a given
    seed unless the deadline or the cap cuts a step short.

    Time: ``2 n_restarts + 1`` local searches (each a few
    :math:`O(m + n \log n)` passes) plus reductions, dual ascent and at most
    two capped branch-and-cut runs on union graphs.

    References
    ----------
    .. [1] C. C. Ribeiro, E. Uchoa and R. F. Werneck, "A hybrid GRASP with
       perturbations for the Steiner problem in graphs", INFORMS Journal on
       Computing 14(3):228-246, 2002. doi:10.1287/ijoc.14.3.228.116
    .. [2] E. Uchoa and R. F. Werneck, "Fast local search for Steiner trees in
       graphs", Proc. ALENEX 2010, pp. 1-10. doi:10.1137/1.9781611972900.1
    """
    t = np.asarray(terminals, dtype=np.int64).ravel()
    g, is_term = _search_graph(A, t)
    rng = np.random.default_rng(seed)

    def expired() -> bool:
        return deadline is not None and time.perf_counter() >= deadline

    def done() -> bool:
        return expired() or best_cost <= lower_bound + 1e-9 * max(abs(lower_bound), 1.0)

    pool = [np.asarray(x, dtype=np.int64).reshape(-1, 2) for x in trees]
    costs = [g.cost(x) for x in pool]
    i_best = int(np.argmin(costs))
    best, best_cost = pool[i_best], costs[i_best]
    if t.size <= 2:
        return canonical_edges(best)
    for i in range(max(int(n_restarts), 0)):
        if done():
            break
        factors = 1.0 + _GRASP_NOISE * rng.random(g.m)
        in_best = g.edge_ids(best)
        factors[in_best] += _PENALTY * rng.random(in_best.size)
        gp = g.perturbed(factors)
        start = mst_prune(gp, voronoi_tree(gp, t).ravel(), is_term)
        start = _improve(gp, start, is_term, deadline=deadline)
        cand = _improve(g, start, is_term, deadline=deadline)
        cost = g.cost(cand)
        logger.debug("perturbed restart %d: cost %.6g (best %.6g)", i, cost, best_cost)
        pool.append(cand)
        if cost < best_cost - 1e-9 * max(best_cost, 1.0):
            best, best_cost = cand, cost
    # the elite: the cheapest distinct trees (smaller union, faster branch-and-cut)
    elite: list[npt.NDArray[np.int64]] = []
    seen: set[bytes] = set()
    for j in np.argsort([g.cost(x) for x in pool], kind="stable").tolist():
        key = np.sort(g.edge_ids(pool[j])).tobytes()
        if key in seen:
            continue
        seen.add(key)
        elite.append(pool[j])
        if len(elite) >= _ELITE:
            break
    cand = None
    settled = len(elite) < 2
    for size in (_ELITE, _ELITE_SMALL):
        if len(elite[:size]) < 2 or done():
            break
        # branch-and-cut capped: retry on the union of fewer trees
        cand, settled = _solve_union(g, t, elite[:size], deadline)
        if settled:
            break
    if not settled and not done():
        # still capped: recombine heuristically (SPH from every terminal) on the union
        cand = heuristic_tree(
            _union_csr(g, elite[:_ELITE_SMALL]),
            t,
            seed=seed,
            n_roots=t.size,
            local_search=False,
            deadline=deadline,
        )
    if cand is not None and cand.shape[0]:
        cand = _improve(g, cand, is_term, deadline=deadline)
        cost = g.cost(cand)
        logger.debug("recombination of %d trees: cost %.6g (best %.6g)", len(pool), cost, best_cost)
        if cost < best_cost - 1e-9 * max(best_cost, 1.0):
            best, best_cost = cand, cost
    return canonical_edges(best)
