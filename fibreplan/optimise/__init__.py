"""Steiner tree optimiser: the trench plan as a minimum Steiner tree.

The trench network that reaches every premises at least cost is a minimum
Steiner tree of the street graph with the premises' drop nodes (and the
headend) as terminals. This subpackage is its guide and public API; it works
on arrays only (numpy, scipy, numba, HiGHS; networkx only inside
:func:`steiner_tree`).

Functions
---------
* :func:`steiner_tree_csr` -- tree, cost, certified bound on a CSR adjacency.
* :func:`steiner_tree` -- the same on a networkx graph; a drop-in for
  ``networkx.algorithms.approximation.steiner_tree`` returning the input's
  graph class (a MultiGraph keeps each chosen edge's key and data).
* :func:`load_kernels` -- load the compiled kernels before timing anything.
* :func:`start_kernels` -- start building them in the background (first use).
* :func:`read_stp`, :func:`parse_stp` -- SteinLib STP files.
* :func:`canonical_csr` -- the canonical adjacency every routine works on.

Conventions (as ``scipy.sparse.csgraph``)
-----------------------------------------
A graph is a symmetric adjacency; weights are finite and ``>= 0`` in the
input's units (metres, GBP). In a *sparse* input every stored entry is an
edge, a stored 0 being a zero-weight edge; in a *dense* input a 0 means "no
edge". Parallel edges keep the cheapest. Negative, NaN or infinite weights
raise :class:`~fibreplan._errors.InputValidationError`. Zero-weight edges are
contracted before solving and expanded after (same cost).

Methods
-------
* ``method="auto"`` (default) -- the compiled heuristic and its dual-ascent
  certificate; while a gap is left, the exact stage (reductions, reduced-cost
  fixing, branch-and-cut on HiGHS) within a *work* budget (separation
  rounds, branch-and-bound nodes, instance size; see
  :mod:`fibreplan.optimise._solve`). Deterministic: the tree is a function
  of the input, the options and the seed, never of the machine's load.
* ``method="heuristic"`` -- the compiled heuristic alone (dual ascent with
  ascend-and-prune trees, shortest-path heuristic, Mehlhorn, local search,
  recombination): about 0.1-0.2 % above the optimum on SteinLib C and D,
  with a certified gap.
* ``method="exact"`` -- like ``"auto"`` without a work budget: runs until
  optimality is proven.

``time_limit`` (seconds, default None) is an opt-in wall-clock cap for every
method; when it cuts the search short the result says so
(``SteinerResult.time_limit_hit``) and may then depend on the machine.

Modules: ``_solve`` (the methods), ``_fast`` and ``_jit`` (compiled
heuristic and dual ascent), ``_dw`` (exact trees for a few terminals,
Dreyfus-Wagner), ``_bound`` (dual-ascent bound, reduced-cost
fixing), ``_reduce`` (reduction tests), ``_exact`` (branch-and-cut),
``_zero`` (zero-weight edges), ``_graph`` (conventions, tree checks),
``_networkx`` (graph conversion), ``_stp`` (STP reader).
"""

from __future__ import annotations

import math
import time
from collections.abc import Hashable
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from fibreplan._csr import canonical_csr
from fibreplan._errors import DisconnectedTerminalsError
from fibreplan._errors import FibreplanError
from fibreplan._errors import InputValidationError
from fibreplan.optimise._graph import check_terminals
from fibreplan.optimise._graph import is_steiner_tree
from fibreplan.optimise._graph import tree_cost
from fibreplan.optimise._solve import METHODS
from fibreplan.optimise._solve import load_kernels
from fibreplan.optimise._solve import solve
from fibreplan.optimise._solve import start_kernels
from fibreplan.optimise._stp import parse_stp
from fibreplan.optimise._stp import read_stp

if TYPE_CHECKING:
    import networkx as nx

__all__ = [
    "SteinerResult",
    "canonical_csr",
    "load_kernels",
    "parse_stp",
    "read_stp",
    "start_kernels",
    "steiner_tree",
    "steiner_tree_csr",
]


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
        Weighted adjacency, weights finite and >= 0 (e.g. trench cost in GBP
        or length in metres). In a sparse input every stored entry is an
        edge (a stored 0 is a zero-weight edge); in a dense input a 0 means
        no edge. Asymmetric entries or duplicates keep the smaller weight.
    terminals : array-like of int
        Node indices to connect (duplicates ignored).
    method : {"auto", "heuristic", "exact"}, default "auto"
        ``"heuristic"``: the compiled heuristic and its dual-ascent bound only.
        ``"exact"``: then the exact stage until optimality is proven.
        ``"auto"``: then the exact stage while a gap is left, within a work
        budget (:data:`fibreplan.optimise._solve.AUTO_LIMITS`: separation
        rounds and HiGHS nodes; skipped when the reduced instance is past
        ``AUTO_MAX_SEPARATION_WORK`` terminals x arcs). No method depends on
        the clock unless ``time_limit`` is given.
    seed : int, default 0
        Seed of the heuristic's random roots and of HiGHS.
    time_limit : float, optional
        Opt-in wall-clock cap in seconds for the whole call (approximate: the
        reductions and one heuristic pass always run); default None, no cap.
        When it cuts the search short the best tree found is returned with
        the best valid bound and ``time_limit_hit=True``; the result may then
        differ from run to run.

    Returns
    -------
    SteinerResult
        Tree edges, cost, valid lower bound, optimality flag, method, seconds,
        whether ``time_limit`` cut the search short.

    Raises
    ------
    InputValidationError
        If ``A`` is not square, a weight is negative, NaN or infinite, a
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
    cache (compiled once per machine, about 11 s of CPU). When that bound leaves a
    gap, ``"exact"`` and ``"auto"`` run the reductions, the compiled
    heuristic and dual ascent on the reduced instance, reduced-cost fixing
    and branch-and-cut on HiGHS [3] (one thread, fixed seed); ``"exact"`` is
    exponential in the worst case. Zero-weight edges are contracted first
    (union of their endpoints) and the tree expanded after, at the same
    cost. Zero or fewer than two terminals give an empty tree of cost 0.

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
    if method not in METHODS:
        msg = (
            f"{method} is not a valid choice for an algorithm; "
            f"method must be one of {sorted(METHODS)}."
        )
        raise InputValidationError(msg)
    if time_limit is not None and not (time_limit > 0):
        msg = f"time_limit must be > 0 seconds or None; got {time_limit!r}."
        raise InputValidationError(msg)
    Ac = canonical_csr(A)
    t = check_terminals(Ac, terminals)
    if t.size <= 1:
        edges = np.empty((0, 2), dtype=np.int64)
        return SteinerResult(
            edges, 0.0, 0.0, optimal=True, method=method, seconds=time.perf_counter() - t0
        )
    sol = solve(Ac, t, method=method, seed=seed, time_limit=time_limit)
    ok, why = is_steiner_tree(Ac, sol.edges, t)
    if not ok:  # never hand back a broken tree as if it were a plan
        msg = f"internal error in the optimiser ({why}); please report it with the input."
        raise FibreplanError(msg)
    cost = tree_cost(Ac, sol.edges)
    return SteinerResult(
        sol.edges,
        cost,
        min(sol.lower_bound, cost),
        optimal=sol.optimal,
        method=method,
        seconds=time.perf_counter() - t0,
        time_limit_hit=sol.time_limit_hit,
    )


def steiner_tree(
    G: nx.Graph,
    terminals: Iterable[Hashable],
    weight: str | None = "weight",
    *,
    method: str | None = "auto",
    seed: int = 0,
    time_limit: float | None = None,
) -> nx.Graph:
    """Return a minimum Steiner tree of a networkx graph (drop-in for networkx's).

    Parameters
    ----------
    G : networkx.Graph or networkx.MultiGraph
        Undirected graph with arbitrary hashable nodes (osmnx graphs: convert
        with ``G.to_undirected()``). For parallel edges the cheapest is used.
        An edge without the ``weight`` attribute weighs 1 (networkx
        convention); weights must be finite and >= 0 (0 is allowed).
    terminals : iterable of hashable
        Nodes of ``G`` to connect.
    weight : str or None, default "weight"
        Edge attribute holding the weight (e.g. ``"cost_gbp"`` or
        ``"length_m"``); None: every edge weighs 1 (networkx convention).
    method : {"auto", "heuristic", "exact"} or None, default "auto"
        See :func:`steiner_tree_csr`; None means ``"auto"``.
    seed : int, default 0
        Seed of the heuristic's random roots and of HiGHS.
    time_limit : float, optional
        Opt-in wall-clock cap in seconds; default None, no cap.

    Returns
    -------
    networkx.Graph or networkx.MultiGraph
        The tree as a new graph of ``G``'s class (as networkx's function
        does): ``G.graph``'s attributes, the tree's nodes with their
        attributes, and each tree edge as the cheapest input edge between its
        nodes -- on a multigraph with its original key -- carrying a copy of
        its data. ``T.graph`` also holds ``"cost"``, ``"lower_bound"``,
        ``"optimal"``, ``"method"``, ``"seconds"`` and ``"time_limit_hit"``.
        With a single terminal the tree is that node alone.

    Raises
    ------
    InputValidationError
        If ``G`` is directed, a terminal is not a node of ``G``, a weight is
        negative, NaN, infinite or not a number, or ``method`` is unknown.
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
    from fibreplan.optimise._networkx import from_networkx
    from fibreplan.optimise._networkx import to_networkx

    inst = from_networkx(G, terminals, weight)
    try:
        res = steiner_tree_csr(
            inst.A, inst.terminals, method=method or "auto", seed=seed, time_limit=time_limit
        )
    except DisconnectedTerminalsError as err:
        labels = [inst.nodes[int(str(i))] for i in err.unreachable]
        first = inst.nodes[int(inst.terminals[0])]
        msg = (
            f"{len(labels)} of {inst.terminals.size} terminals are not connected to terminal "
            f"{first!r} (first few: {labels[:10]!r})."
        )
        raise DisconnectedTerminalsError(msg, unreachable=labels) from err
    T = to_networkx(G, inst, res.edges)
    T.graph.update(
        cost=res.cost,
        lower_bound=res.lower_bound,
        optimal=res.optimal,
        method=res.method,
        seconds=res.seconds,
        time_limit_hit=res.time_limit_hit,
    )
    return T
