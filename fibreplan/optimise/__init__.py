"""Steiner tree optimiser: the trench plan as a minimum Steiner tree.

The trench network that reaches every premises at least cost is a minimum
Steiner tree of the street graph with the premises' drop nodes (and the
headend) as terminals. This subpackage solves it on a CSR adjacency
(:func:`steiner_tree_csr`) or on a networkx graph (:func:`steiner_tree`):

* ``method="heuristic"`` -- compiled (numba) kernels: dual ascent from
  several roots with ascend-and-prune trees, the shortest-path heuristic,
  local search (key-vertex elimination, key-path exchange, vertex insertion)
  and recombination of the elite trees; about 0.1-0.2 % above the optimum on
  SteinLib C and D on average (networkx's approximations: 3-8 %) in less
  time than networkx's Mehlhorn approximation, with a certified gap.
* ``method="exact"`` -- the compiled heuristic, done when its bound proves
  its tree optimal; otherwise reductions, the pure-Python heuristic, dual
  ascent, reduced-cost fixing and branch-and-cut (HiGHS) until optimality
  is proven.
* ``method="auto"`` (default) -- the pure-Python path of ``"exact"`` (no
  numba to load), with the branch-and-cut only when the bound does not
  already prove optimality, within a time limit (60 s unless given).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from collections.abc import Hashable
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse import csgraph

from fibreplan._errors import DisconnectedTerminalsError
from fibreplan._errors import InputValidationError
from fibreplan.optimise._bound import dual_ascent
from fibreplan.optimise._bound import reduced_cost_fixing
from fibreplan.optimise._bound import saturated_subgraph
from fibreplan.optimise._exact import solve_exact
from fibreplan.optimise._graph import canonical_csr
from fibreplan.optimise._graph import canonical_edges
from fibreplan.optimise._graph import check_terminals
from fibreplan.optimise._graph import is_steiner_tree
from fibreplan.optimise._graph import tree_cost
from fibreplan.optimise._heuristic import heuristic_tree
from fibreplan.optimise._heuristic import recombine_trees
from fibreplan.optimise._reduce import reduce_instance
from fibreplan.optimise._stp import parse_stp
from fibreplan.optimise._stp import read_stp

if TYPE_CHECKING:
    import networkx as nx

__all__ = [
    "AUTO_TIME_LIMIT",
    "SteinerResult",
    "load_kernels",
    "parse_stp",
    "read_stp",
    "steiner_tree",
    "steiner_tree_csr",
]

logger = logging.getLogger(__name__)

#: Default time limit (seconds) of ``method="auto"`` when ``time_limit`` is None.
AUTO_TIME_LIMIT = 60.0
#: Relative tolerance under which cost and bound count as equal (proven optimal).
_GAP_TOL = 1e-9
#: Dual-ascent runs (different root terminals) in every method.
_DA_ROOTS = 2
# Above this many terminals, dual ascent runs from one root only.
_DA_MANY_TERMINALS = 5_000
#: ... and in "auto" (each also seeds the dual-ascent heuristic's elite tree)
_HEUR_DA_ROOTS = 4
#: Whether :func:`load_kernels` has run in this process.
_KERNELS = {"loaded": False}
#: method="heuristic" reduces the instance first from this many nodes up (street graphs).
_HEUR_REDUCE_NODES = 5_000
#: Perturbed restarts before recombining the elite trees (when a gap is left).
_GRASP_RESTARTS = 6
#: ... more (up to this many) on instances with few terminals (cheap restarts)
_GRASP_MAX_RESTARTS = 20
_GRASP_WORK = 300
#: Extra heuristic starts when the exact stage follows (it finds the optimum anyway).
_PROVE_STARTS = 0


@dataclass(frozen=True)
class SteinerResult:
    """A Steiner tree with its cost and a certified lower bound.

    Attributes
    ----------
    edges : numpy.ndarray of int64, shape (k, 2)
        Canonical tree edges (``u < v`` per row, rows sorted).
    cost : float
        Total weight of ``edges`` (units of the input weights, e.g. metres or GBP).
    lower_bound : float
        Valid lower bound on the optimum; equals ``cost`` when proven optimal.
    optimal : bool
        Whether optimality was proven.
    method : str
        ``"heuristic"``, ``"exact"`` or ``"auto"``.
    seconds : float
        Wall-clock time of the call.
    time_limit_hit : bool
        Whether the opt-in wall-clock ``time_limit`` cut the search short
        (the result then depends on the machine's speed and load).
    """

    edges: npt.NDArray[np.int64]
    cost: float
    lower_bound: float
    optimal: bool
    method: str
    seconds: float
    time_limit_hit: bool = False

    @property
    def gap(self) -> float:
        """Relative certified gap ``(cost - lower_bound) / lower_bound`` (0 when optimal)."""
        if self.cost <= self.lower_bound:
            return 0.0
        return (
            (self.cost - self.lower_bound) / self.lower_bound if self.lower_bound > 0 else math.inf
        )


def _is_integral(A: sp.csr_array) -> bool:
    return bool(np.all(A.data == np.round(A.data)))


def _round_bound(lb: float, integral: bool) -> float:
    """Make a float bound safe (tiny slack) and round it up for integer weights."""
    lb -= 1e-9 * max(1.0, abs(lb))
    return float(math.ceil(lb - 1e-6)) if integral else lb


def _solve(
    A: sp.csr_array,
    t: npt.NDArray[np.int64],
    *,
    method: str,
    seed: int,
    time_limit: float | None,
    prove: bool,
) -> tuple[npt.NDArray[np.int64], float, bool]:
    """Run the "exact"/"auto" pipeline: reductions, heuristic, bound, branch-and-cut."""
    t0 = time.perf_counter()
    deadline = None if time_limit is None else t0 + time_limit
    integral = _is_integral(A)
    red = reduce_instance(A, t, rounds=6)
    if red.terminals.size <= 1:
        edges = red.expand(np.empty((0, 2), dtype=np.int64))
        cost = tree_cost(A, edges)
        return edges, cost, True
    # "exact" aims at the proof, and branch-and-cut finds the optimum anyway:
    # one heuristic start suffices. "auto" keeps the full heuristic.
    cheap = method == "exact"
    starts = _PROVE_STARTS if cheap else None
    H = heuristic_tree(red.A, red.terminals, seed=seed, n_roots=starts, deadline=deadline)
    ub = tree_cost(red.A, H)
    elite = [H]
    # Dual ascent from a few roots: keep the best bound, and run the heuristic
    # again on each saturated subgraph (Polzin & Daneshmand's DA heuristic).
    rng = np.random.default_rng(seed)
    extra = min((_DA_ROOTS if cheap else _HEUR_DA_ROOTS) - 1, red.terminals.size)
    if red.terminals.size > _DA_MANY_TERMINALS:
        extra = 0  # one root: on large instances each run costs more than it adds
    roots = [None, *rng.choice(red.terminals, size=extra, replace=False).tolist()]
    da = None
    for root in roots[: red.terminals.size]:
        now = time.perf_counter()
        if deadline is not None and now > deadline:
            break
        d = dual_ascent(red.A, red.terminals, root=root, deadline=deadline)
        if da is None or d.lower_bound > da.lower_bound:
            da = d
        if ub - da.lower_bound <= _GAP_TOL * max(1.0, ub):
            break
        S = saturated_subgraph(red.A, d)
        _, lab = csgraph.connected_components(S, directed=False)
        if np.all(lab[red.terminals] == lab[red.terminals[0]]):
            H2 = heuristic_tree(
                S, red.terminals, seed=seed, n_roots=0 if cheap else 2, deadline=deadline
            )
            c2 = tree_cost(red.A, H2)
            elite.append(H2)
            if c2 < ub - _GAP_TOL * max(1.0, ub):
                H, ub = H2, c2
    if da is None:
        da = dual_ascent(red.A, red.terminals)
    lb_red = da.lower_bound

    def proven() -> bool:
        return ub - lb_red <= _GAP_TOL * max(1.0, ub) or (
            integral and math.ceil(lb_red - 1e-6) >= ub
        )

    optimal = proven()
    if not optimal and not cheap and (deadline is None or time.perf_counter() < deadline):
        # a gap is left: perturbed restarts and recombination of the elite trees
        H3 = recombine_trees(
            red.A,
            red.terminals,
            elite,
            seed=seed,
            n_restarts=max(
                _GRASP_RESTARTS, min(_GRASP_MAX_RESTARTS, _GRASP_WORK // red.terminals.size)
            ),
            deadline=deadline,
            lower_bound=math.ceil(lb_red - 1e-6) if integral else lb_red,
        )
        c3 = tree_cost(red.A, H3)
        if c3 < ub - _GAP_TOL * max(1.0, ub):
            H, ub = H3, c3
            optimal = proven()
    best = H
    logger.info(
        "%s: heuristic %.6g, dual ascent %.6g (+ fixed %.6g)", method, ub, lb_red, red.fixed_cost
    )
    if prove and not optimal:
        remaining = None if deadline is None else max(deadline - time.perf_counter(), 0.0)
        if remaining is None or remaining > 0:
            A2, removed = reduced_cost_fixing(red.A, red.terminals, da, ub)
            logger.info("reduced-cost fixing removed %d of %d edges", removed, red.A.nnz // 2)
            ex = solve_exact(A2, red.terminals, upper_bound=ub, warm_edges=H, time_limit=remaining)
            lb_red = max(lb_red, ex.lower_bound)
            if ex.edges.size and ex.cost < ub:
                best, ub = ex.edges, ex.cost
            optimal = ex.optimal or ub - lb_red <= _GAP_TOL * max(1.0, ub)
    edges = red.expand(best)
    cost = tree_cost(A, edges)
    lb = min(_round_bound(lb_red + red.fixed_cost, integral), cost)
    if optimal:
        lb = cost
    return edges, lb, optimal


def load_kernels() -> float:
    """Compile, or load from numba's disk cache, the compiled heuristic's kernels.

    ``method="heuristic"`` and ``"exact"`` otherwise load them at their
    first call in a process (compiling them once per machine, about 15 s;
    about 0.2 s from the cache). Benchmarks and servers
    call this first so that no timed call pays for it.

    Returns
    -------
    float
        Seconds taken.
    """
    from fibreplan.optimise._fast import load_kernels as _load  # numba only when asked

    seconds = _load()
    _KERNELS["loaded"] = True
    return seconds


def _method_heuristic(
    A: sp.csr_array, t: npt.NDArray[np.int64], *, seed: int, time_limit: float | None
) -> tuple[npt.NDArray[np.int64], float, bool]:
    deadline = None if time_limit is None else time.perf_counter() + time_limit
    return _compiled_heuristic(A, t, seed=seed, deadline=deadline)


def _compiled_heuristic(
    A: sp.csr_array, t: npt.NDArray[np.int64], *, seed: int, deadline: float | None
) -> tuple[npt.NDArray[np.int64], float, bool]:
    """Run the compiled heuristic (reducing street-size graphs first); tree, bound, proven."""
    # numba (about 0.5 s to import) only for the methods that use it
    from fibreplan.optimise._fast import fast_heuristic

    if not _KERNELS["loaded"]:
        logger.info("loading the optimiser's compiled kernels (built once per machine, ~15 s)")
        logger.info("compiled kernels ready in %.1f s", load_kernels())
    integral = _is_integral(A)
    if A.shape[0] < _HEUR_REDUCE_NODES:
        res = fast_heuristic(A, t, seed=seed, deadline=deadline)
        edges, cost, lb = res.edges, res.cost, res.lower_bound
    else:
        # street graphs: contracting premises leaves and degree-2 chains first
        # makes the dual ascent and the local search several times faster
        red = reduce_instance(A, t, rounds=1)
        if red.terminals.size <= 1:
            edges, lb = red.expand(np.empty((0, 2), dtype=np.int64)), red.fixed_cost
        else:
            res = fast_heuristic(red.A, red.terminals, seed=seed, deadline=deadline)
            edges, lb = red.expand(res.edges), res.lower_bound + red.fixed_cost
        cost = tree_cost(A, edges)
    lb = min(_round_bound(lb, integral), cost)
    optimal = cost - lb <= _GAP_TOL * max(1.0, cost)
    return edges, lb, optimal


def _method_exact(
    A: sp.csr_array, t: npt.NDArray[np.int64], *, seed: int, time_limit: float | None
) -> tuple[npt.NDArray[np.int64], float, bool]:
    # the compiled heuristic's own dual-ascent bound often proves its tree
    # optimal already (most SteinLib B instances, about half of C and D)
    t0 = time.perf_counter()
    deadline = None if time_limit is None else t0 + time_limit
    edges, lb, optimal = _compiled_heuristic(A, t, seed=seed, deadline=deadline)
    if optimal or (deadline is not None and time.perf_counter() >= deadline):
        return edges, lb, optimal
    remaining = None if time_limit is None else time_limit - (time.perf_counter() - t0)
    edges2, lb2, optimal2 = _solve(
        A, t, method="exact", seed=seed, time_limit=remaining, prove=True
    )
    if tree_cost(A, edges) < tree_cost(A, edges2):  # the proof ran out of time
        return edges, max(lb, lb2), False
    return edges2, max(lb, lb2), optimal2


def _method_auto(
    A: sp.csr_array, t: npt.NDArray[np.int64], *, seed: int, time_limit: float | None
) -> tuple[npt.NDArray[np.int64], float, bool]:
    limit = AUTO_TIME_LIMIT if time_limit is None else time_limit
    return _solve(A, t, method="auto", seed=seed, time_limit=limit, prove=True)


_METHODS: dict[str, Callable[..., tuple[npt.NDArray[np.int64], float, bool]]] = {
    "heuristic": _method_heuristic,
    "exact": _method_exact,
    "auto": _method_auto,
}


def steiner_tree_csr(
    A: sp.sparray | sp.spmatrix | npt.ArrayLike,
    terminals: npt.ArrayLike,
    *,
    method: str = "auto",
    seed: int = 0,
    time_limit: float | None = None,
) -> SteinerResult:
    """Find a minimum-weight tree connecting the terminals of a weighted graph.

    Parameters
    ----------
    A : sparse matrix or array-like, shape (n, n)
        Weighted adjacency; stored entries are edges with weight > 0 (e.g.
        trench cost in GBP or length in metres). Asymmetric entries or
        duplicates keep the smaller weight.
    terminals : array-like of int
        Node indices to connect (duplicates ignored).
    method : {"auto", "heuristic", "exact"}, default "auto"
        ``"heuristic"``: the compiled heuristic and its dual-ascent bound only.
        ``"exact"``: prove optimality (no time limit unless ``time_limit``).
        ``"auto"``: heuristic, then the exact stage if the bound leaves a gap,
        within ``time_limit`` (default :data:`AUTO_TIME_LIMIT` = 60 s).
    seed : int, default 0
        Seed of the randomised heuristic starts.
    time_limit : float, optional
        Wall-clock budget in seconds for the whole call (approximate: the
        reductions and one heuristic pass always run). When it expires the best
        tree found is returned with ``optimal=False`` and the best valid bound.

    Returns
    -------
    SteinerResult
        Tree edges, cost, valid lower bound, optimality flag, method, seconds.

    Raises
    ------
    InputValidationError
        If ``A`` is not a square adjacency with positive finite weights, a
        terminal index is out of range, or ``method`` is unknown.
    DisconnectedTerminalsError
        If the terminals are not all in one connected component
        (``err.unreachable`` lists those away from the first terminal).

    Notes
    -----
    Guarantee: the result is always a tree spanning the terminals, and
    ``lower_bound <= optimum <= cost``; when ``optimal`` is True,
    ``cost == lower_bound`` is the optimum. With integer weights the bound is
    rounded up. The problem is NP-hard. ``"heuristic"`` runs compiled
    kernels (see :func:`fibreplan.optimise._fast.fast_heuristic`): up to
    twelve dual ascents (O(m^2) worst case, near-linear in practice) with
    ascend-and-prune trees [4], Mehlhorn's and two shortest-path-heuristic
    trees (the result is never worse than either), local
    search on the best three (key-vertex elimination, key-path exchange,
    vertex insertion; a pass costs O(sum of subtree sizes x degree x log n))
    and two recombination rounds on the union of the elite trees [5]; on
    graphs of 5,000 nodes or more the degree and distance reductions [1] run
    first, and above 1,000 terminals one ascent and one polished tree
    suffice. Its first call in a process loads the kernels from numba's disk
    cache (compiled once per machine, about 15 s). ``"exact"`` (when that
    bound leaves a gap) and ``"auto"`` run reductions, the pure-Python
    heuristic, dual ascent with reduced-cost fixing and branch-and-cut [3];
    ``"exact"`` is exponential in the worst case. Zero or fewer than two
    terminals give an empty tree of cost 0.

    References
    ----------
    .. [1] C. W. Duin, A. Volgenant, "Reduction tests for the Steiner problem in
       graphs", Networks 19(5):549-567, 1989, doi:10.1002/net.3230190506.
    .. [2] R. T. Wong, "A dual ascent approach for Steiner tree problems on a
       directed graph", Math. Programming 28:271-287, 1984,
       doi:10.1007/BF02612335.
    .. [3] T. Koch, A. Martin, "Solving Steiner tree problems in graphs to
       optimality", Networks 32(3):207-232, 1998,
       doi:10.1002/(SICI)1097-0037(199810)32:3<207::AID-NET5>3.0.CO;2-O.
    .. [4] T. Polzin, S. V. Daneshmand, "Improved algorithms for the Steiner
       problem in networks", Discrete Appl. Math. 112:263-300, 2001,
       doi:10.1016/S0166-218X(00)00319-X.
    .. [5] C. C. Ribeiro, E. Uchoa, R. F. Werneck, "A hybrid GRASP with
       perturbations for the Steiner problem in graphs", INFORMS J. Computing
       14(3):228-246, 2002, doi:10.1287/ijoc.14.3.228.116.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> A = sp.csr_array(np.array([[0, 1, 3], [1, 0, 1], [3, 1, 0]], dtype=float))
    >>> r = steiner_tree_csr(A, [0, 2])
    >>> r.cost, r.optimal, r.edges.tolist()
    (2.0, True, [[0, 1], [1, 2]])
    """
    t0 = time.perf_counter()
    if method not in _METHODS:
        raise InputValidationError(f"method must be one of {sorted(_METHODS)}; got {method!r}.")
    if time_limit is not None and not (time_limit > 0):
        raise InputValidationError(f"time_limit must be > 0 seconds or None; got {time_limit!r}.")
    Ac = canonical_csr(A)
    t = check_terminals(Ac, terminals)
    if t.size <= 1:
        edges = np.empty((0, 2), dtype=np.int64)
        return SteinerResult(
            edges, 0.0, 0.0, optimal=True, method=method, seconds=time.perf_counter() - t0
        )
    edges, lb, optimal = _METHODS[method](Ac, t, seed=seed, time_limit=time_limit)
    ok, why = is_steiner_tree(Ac, edges, t)
    if not ok:  # defensive: never hand back a broken tree
        logger.error("internal error (%s); falling back to the plain heuristic", why)
        edges = canonical_edges(heuristic_tree(Ac, t, seed=seed))
        optimal = False
    cost = tree_cost(Ac, edges)
    lb = min(lb, cost)
    return SteinerResult(
        edges, cost, lb, optimal=optimal, method=method, seconds=time.perf_counter() - t0
    )


def steiner_tree(
    G: nx.Graph,
    terminals: Iterable[Hashable],
    weight: str = "weight",
    *,
    method: str = "auto",
    seed: int = 0,
    time_limit: float | None = None,
) -> nx.Graph:
    """Return a minimum Steiner tree of a networkx graph (drop-in for networkx's).

    Parameters
    ----------
    G : networkx.Graph or networkx.MultiGraph
        Undirected graph with arbitrary hashable nodes. For parallel edges the
        cheapest is used. An edge without the ``weight`` attribute weighs 1
        (networkx convention); weights must be > 0 and finite.
    terminals : iterable of hashable
        Nodes of ``G`` to connect.
    weight : str, default "weight"
        Edge attribute holding the weight (e.g. ``"cost_gbp"`` or ``"length_m"``).
    method : {"auto", "heuristic", "exact"}, default "auto"
        See :func:`steiner_tree_csr`.
    seed : int, default 0
        Seed of the randomised heuristic starts.
    time_limit : float, optional
        Wall-clock budget in seconds (``"auto"`` defaults to 60 s).

    Returns
    -------
    networkx.Graph
        The tree; its edges carry a copy of the input edge's attributes (of the
        cheapest parallel edge), and ``T.graph`` holds ``"cost"``,
        ``"lower_bound"``, ``"optimal"``, ``"method"`` and ``"seconds"``. With
        a single terminal the tree is that node alone.

    Raises
    ------
    InputValidationError
        If ``G`` is directed, a terminal is not a node of ``G``, a weight is not
        positive and finite, or ``method`` is unknown.
    DisconnectedTerminalsError
        If the terminals are not all connected; ``err.unreachable`` holds the
        original node labels of those away from the first terminal.

    Notes
    -----
    Guarantee and complexity as :func:`steiner_tree_csr`, plus O(n + m) to
    convert the graph. Unlike ``networkx.algorithms.approximation.steiner_tree``
    (a 2-approximation) the result carries a certified lower bound and is
    optimal when ``T.graph["optimal"]`` is True.

    References
    ----------
    .. [1] R. T. Wong, "A dual ascent approach for Steiner tree problems on a
       directed graph", Math. Programming 28:271-287, 1984,
       doi:10.1007/BF02612335.
    .. [2] T. Koch, A. Martin, "Solving Steiner tree problems in graphs to
       optimality", Networks 32(3):207-232, 1998,
       doi:10.1002/(SICI)1097-0037(199810)32:3<207::AID-NET5>3.0.CO;2-O.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.Graph([("a", "b", {"weight": 1}), ("b", "c", {"weight": 1}),
    ...               ("a", "c", {"weight": 3})])
    >>> T = steiner_tree(G, ["a", "c"])
    >>> sorted(T.edges()), T.graph["cost"]
    ([('a', 'b'), ('b', 'c')], 2.0)
    """
    import networkx as nx

    if G.is_directed():
        raise InputValidationError("G must be undirected; convert with G.to_undirected() first.")
    nodes = list(G.nodes)
    index = {v: i for i, v in enumerate(nodes)}
    term_labels = list(dict.fromkeys(terminals))
    missing = [v for v in term_labels if v not in index]
    if missing:
        raise InputValidationError(
            f"{len(missing)} terminals are not nodes of G (first few: {missing[:10]!r})."
        )
    best: dict[tuple[int, int], tuple[float, dict[str, Any]]] = {}
    edge_iter = G.edges(keys=True, data=True) if G.is_multigraph() else G.edges(data=True)
    for item in edge_iter:
        u, v, d = item[0], item[1], item[-1]
        iu, iv = index[u], index[v]
        if iu == iv:
            continue
        key = (iu, iv) if iu < iv else (iv, iu)
        w = d.get(weight, 1)
        try:
            wf = float(w)
        except (TypeError, ValueError) as exc:
            raise InputValidationError(
                f"edge ({u!r}, {v!r}) has non-numeric {weight!r} = {w!r}."
            ) from exc
        if key not in best or wf < best[key][0]:
            best[key] = (wf, d)
    n = len(nodes)
    keys = np.asarray(list(best.keys()), dtype=np.int64).reshape(-1, 2)
    ws = np.asarray([b[0] for b in best.values()], dtype=np.float64)
    A = sp.csr_array(
        (
            np.concatenate([ws, ws]),
            (np.concatenate([keys[:, 0], keys[:, 1]]), np.concatenate([keys[:, 1], keys[:, 0]])),
        ),
        shape=(n, n),
    )
    t = np.asarray([index[v] for v in term_labels], dtype=np.int64)
    try:
        res = steiner_tree_csr(A, t, method=method, seed=seed, time_limit=time_limit)
    except DisconnectedTerminalsError as err:
        labels = [nodes[i] for i in err.unreachable]
        raise DisconnectedTerminalsError(
            f"{len(labels)} of {len(term_labels)} terminals are not connected to terminal "
            f"{term_labels[0]!r} (first few: {labels[:10]!r}).",
            unreachable=labels,
        ) from err
    T = nx.Graph()
    if len(term_labels) == 1:
        T.add_node(term_labels[0], **G.nodes[term_labels[0]])
    for iu, iv in res.edges.tolist():
        u, v = nodes[iu], nodes[iv]
        T.add_node(u, **G.nodes[u])
        T.add_node(v, **G.nodes[v])
        T.add_edge(u, v, **dict(best[(iu, iv)][1]))
    T.graph.update(
        cost=res.cost,
        lower_bound=res.lower_bound,
        optimal=res.optimal,
        method=res.method,
        seconds=res.seconds,
    )
    return T
