"""How each method runs: compiled heuristic, its certificate, the exact stage.

Every method starts the same way: zero-weight edges are contracted
(:mod:`fibreplan.optimise._zero`), then the compiled heuristic
(:func:`fibreplan.optimise._fast.fast_heuristic`) gives a tree and its
dual-ascent bound. When the bound does not prove the tree optimal,
``"exact"`` and ``"auto"`` run the exact stage: reductions, the compiled
heuristic and dual ascent on the reduced instance, reduced-cost fixing and
branch-and-cut on HiGHS. ``"auto"`` bounds that stage by work, never by the
clock (:data:`AUTO_LIMITS`, :data:`AUTO_MAX_SEPARATION_WORK`), so its answer
is a function of the input, the options and the seed.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from fibreplan.optimise._bound import dual_ascent
from fibreplan.optimise._bound import reduced_cost_fixing
from fibreplan.optimise._exact import WorkLimits
from fibreplan.optimise._exact import solve_exact
from fibreplan.optimise._graph import tree_cost
from fibreplan.optimise._reduce import Reduction
from fibreplan.optimise._reduce import reduce_instance
from fibreplan.optimise._zero import contract_zero_edges

__all__ = [
    "AUTO_LIMITS",
    "AUTO_MAX_SEPARATION_WORK",
    "METHODS",
    "Solution",
    "load_kernels",
    "solve",
    "start_kernels",
]

logger = logging.getLogger(__name__)

#: Work budget of the exact stage in ``method="auto"``: cut-separation rounds
#: of the LP (each up to three max-flows per terminal) and HiGHS
#: branch-and-bound nodes (the MIP runs only once the LP has converged).
#: About 5 s on SteinLib c18 (500 nodes, 83 terminals) on a busy 2-core machine.
AUTO_LIMITS = WorkLimits(max_rounds=10, max_mip_nodes=500)
#: ``"auto"`` skips the exact stage when (terminals x arcs) of the reduced,
#: fixed instance exceeds this: one separation round would cost more than the
#: whole heuristic (street graphs with thousands of premises end here).
AUTO_MAX_SEPARATION_WORK = 5_000_000
#: ... and does not even start its reductions when the instance the heuristic
#: solved is this many times past that budget (they rarely remove more).
_AUTO_PRECHECK_SLACK = 4
#: Relative tolerance under which cost and bound count as equal (proven optimal).
_GAP_TOL = 1e-9
#: The compiled heuristic reduces the instance first from this many nodes up (street graphs).
_HEUR_REDUCE_NODES = 5_000
#: Reduction passes before the exact stage.
_EXACT_REDUCE_ROUNDS = 6
#: Whether :func:`load_kernels` has run in this process.
_KERNELS = {"loaded": False}


@dataclass(frozen=True)
class Solution:
    """A tree of the canonical graph, a valid bound, and how the search ended."""

    edges: npt.NDArray[np.int64]
    lower_bound: float
    optimal: bool
    time_limit_hit: bool = False
    #: terminals x arcs of the instance the heuristic solved (after its reductions)
    size: int = 0


class _Clock:
    """The caller's optional wall-clock limit (``None``: the search is bounded by work only)."""

    def __init__(self, time_limit: float | None) -> None:
        self.deadline = None if time_limit is None else time.perf_counter() + time_limit
        self.hit = False

    def expired(self) -> bool:
        if self.deadline is not None and time.perf_counter() >= self.deadline:
            self.hit = True
        return self.hit

    def remaining(self) -> float | None:
        return None if self.deadline is None else max(self.deadline - time.perf_counter(), 0.0)


def load_kernels() -> float:
    """Compile, or load from numba's disk cache, the compiled heuristic's kernels.

    Every method otherwise loads them at its first call in a process
    (compiling them once per machine, about 11 s of CPU; 0.2 s from the
    cache). Benchmarks and servers call this first so that no timed call
    pays for it.

    Returns
    -------
    float
        Seconds taken.
    """
    from fibreplan.optimise._fast import load_kernels as _load  # numba only when asked

    seconds = _load()
    _KERNELS["loaded"] = True
    return seconds


def start_kernels() -> bool:
    """Start building the compiled kernels in the background, if that is due.

    On a machine where they are not yet in numba's disk cache, a child
    process starts compiling half of them at once, so that the compilation
    overlaps whatever the caller does before its first solve (reading the
    inputs, building the trench graph); :func:`load_kernels`, or the first
    solve, waits for it. Returns at once; does nothing where the kernels are
    cached, already loaded, or only one CPU is there.

    Returns
    -------
    bool
        Whether a background compilation is running.
    """
    if _KERNELS["loaded"]:
        return False
    from fibreplan.optimise._fast import start_kernels as _start  # numba only when asked

    return _start()


def _is_integral(A: sp.csr_array) -> bool:
    return bool(np.all(A.data == np.round(A.data)))


def _round_bound(lb: float, *, integral: bool) -> float:
    """Make a float bound safe (tiny slack) and round it up for integer weights."""
    lb -= 1e-9 * max(1.0, abs(lb))
    return float(math.ceil(lb - 1e-6)) if integral else lb


def _closes(cost: float, lb: float) -> bool:
    return cost - lb <= _GAP_TOL * max(1.0, cost)


def _heuristic(A: sp.csr_array, t: npt.NDArray[np.int64], *, seed: int, clock: _Clock) -> Solution:
    """Run the compiled heuristic (reducing street-size graphs first): tree, bound, proven."""
    from fibreplan.optimise._fast import fast_heuristic  # numba only when solving

    if not _KERNELS["loaded"]:
        logger.info("loading the optimiser's compiled kernels (built once per machine, ~11 s CPU)")
        logger.info("compiled kernels ready in %.1f s", load_kernels())
    integral = _is_integral(A)
    size = t.size * A.nnz
    if A.shape[0] < _HEUR_REDUCE_NODES:
        res = fast_heuristic(A, t, seed=seed, deadline=clock.deadline)
        edges, cost, lb = res.edges, res.cost, res.lower_bound
    else:
        # street graphs: contracting premises leaves and degree-2 chains first
        # makes the dual ascent and the local search several times faster (the
        # distance test costs |T| shortest-path trees: more than it saves here)
        red = reduce_instance(A, t, rounds=1, distance=False)
        size = red.terminals.size * red.A.nnz
        if red.terminals.size <= 1:
            edges, lb = red.expand(np.empty((0, 2), dtype=np.int64)), red.fixed_cost
        else:
            res = fast_heuristic(red.A, red.terminals, seed=seed, deadline=clock.deadline)
            edges, lb = red.expand(res.edges), res.lower_bound + red.fixed_cost
        cost = tree_cost(A, edges)
    lb = min(_round_bound(lb, integral=integral), cost)
    return Solution(edges, lb, _closes(cost, lb), time_limit_hit=clock.expired(), size=size)


def _exact_stage(
    A: sp.csr_array,
    t: npt.NDArray[np.int64],
    start: Solution,
    *,
    seed: int,
    clock: _Clock,
    limits: WorkLimits | None,
) -> Solution:
    """Reductions, heuristic and dual ascent on the reduced graph, fixing, branch-and-cut."""
    from fibreplan.optimise._fast import fast_heuristic

    integral = _is_integral(A)
    red = reduce_instance(A, t, rounds=_EXACT_REDUCE_ROUNDS)
    if red.terminals.size <= 1:  # the reductions solved it
        edges = red.expand(np.empty((0, 2), dtype=np.int64))
        return Solution(edges, tree_cost(A, edges), optimal=True, time_limit_hit=clock.hit)
    # bounds of the reduced instance: opt(reduced) = opt(original) - fixed cost
    start_cost = tree_cost(A, start.edges)
    res = fast_heuristic(red.A, red.terminals, seed=seed, deadline=clock.deadline)
    ub = min(res.cost, start_cost - red.fixed_cost)
    da = dual_ascent(red.A, red.terminals)
    lb = max(res.lower_bound, da.lower_bound, start.lower_bound - red.fixed_cost)
    candidates = [start.edges, red.expand(res.edges)]
    optimal = _closes(ub, _round_bound(lb, integral=integral))
    if not optimal and not clock.expired():
        A2, removed = reduced_cost_fixing(red.A, red.terminals, da, ub)
        work = red.terminals.size * A2.nnz
        logger.info(
            "exact stage: %d terminals, %d edges after fixing (%d removed)",
            red.terminals.size,
            A2.nnz // 2,
            removed,
        )
        if limits is not None and work > AUTO_MAX_SEPARATION_WORK:
            logger.info("exact stage skipped: %d terminals x arcs is past auto's budget", work)
        else:
            ex = solve_exact(
                A2,
                red.terminals,
                upper_bound=ub,
                lower_bound=lb,
                warm_edges=res.edges,
                seed=seed,
                limits=limits,
                time_limit=clock.remaining(),
            )
            lb = max(lb, ex.lower_bound)
            optimal = ex.optimal
            clock.hit |= ex.time_limit_hit
            if ex.edges.size:
                candidates.append(red.expand(ex.edges))
    return _best_of(A, candidates, lb + red.fixed_cost, red, optimal=optimal, integral=integral)


def _best_of(
    A: sp.csr_array,
    candidates: list[npt.NDArray[np.int64]],
    lb: float,
    red: Reduction,
    *,
    optimal: bool,
    integral: bool,
) -> Solution:
    """Return the cheapest candidate tree (the first on ties) with the bound made safe."""
    costs = [tree_cost(A, e) for e in candidates]
    i = int(np.argmin(costs))
    cost = costs[i]
    lb = min(_round_bound(lb, integral=integral), cost)
    optimal = optimal or _closes(cost, lb)
    logger.info(
        "exact stage: tree %.6g, bound %.6g (reductions fixed %.6g)", cost, lb, red.fixed_cost
    )
    return Solution(candidates[i], cost if optimal else lb, optimal)


def _method_heuristic(
    A: sp.csr_array, t: npt.NDArray[np.int64], *, seed: int, clock: _Clock
) -> Solution:
    return _heuristic(A, t, seed=seed, clock=clock)


def _method_exact(
    A: sp.csr_array, t: npt.NDArray[np.int64], *, seed: int, clock: _Clock
) -> Solution:
    start = _heuristic(A, t, seed=seed, clock=clock)
    if start.optimal or clock.expired():
        return start
    sol = _exact_stage(A, t, start, seed=seed, clock=clock, limits=None)
    return dataclasses.replace(sol, time_limit_hit=clock.hit)


def _method_auto(
    A: sp.csr_array, t: npt.NDArray[np.int64], *, seed: int, clock: _Clock
) -> Solution:
    start = _heuristic(A, t, seed=seed, clock=clock)
    if start.optimal or clock.expired():
        return start
    if start.size > _AUTO_PRECHECK_SLACK * AUTO_MAX_SEPARATION_WORK:
        logger.info(
            "exact stage skipped: %d terminals x arcs is far past auto's budget", start.size
        )
        return start
    sol = _exact_stage(A, t, start, seed=seed, clock=clock, limits=AUTO_LIMITS)
    return dataclasses.replace(sol, time_limit_hit=clock.hit)


#: The methods of :func:`fibreplan.optimise.steiner_tree_csr`.
METHODS: dict[str, Callable[..., Solution]] = {
    "heuristic": _method_heuristic,
    "exact": _method_exact,
    "auto": _method_auto,
}


def solve(
    A: sp.csr_array,
    t: npt.NDArray[np.int64],
    *,
    method: str,
    seed: int,
    time_limit: float | None,
) -> Solution:
    """Solve a canonical instance (zero weights allowed) with one of :data:`METHODS`.

    Parameters
    ----------
    A : scipy.sparse.csr_array
        Canonical adjacency (:func:`fibreplan._csr.canonical_csr`).
    t : numpy.ndarray of int64
        At least two distinct terminals, all in one component.
    method : {"heuristic", "exact", "auto"}
        Key of :data:`METHODS`.
    seed : int
        Seed of the heuristic's random roots and of HiGHS.
    time_limit : float or None
        Opt-in wall-clock limit (seconds).

    Returns
    -------
    Solution
        Tree of ``A``, valid lower bound, proven flag, whether the clock stopped it.
    """
    clock = _Clock(time_limit)
    run = METHODS[method]
    if not np.any(A.data == 0):
        return run(A, t, seed=seed, clock=clock)
    c = contract_zero_edges(A, t)
    logger.info("contracted zero-weight edges: %d -> %d nodes", A.shape[0], c.A.shape[0])
    if c.terminals.size <= 1:  # the terminals are joined by zero edges alone
        return Solution(c.expand(np.empty((0, 2), dtype=np.int64)), 0.0, optimal=True)
    sol = run(c.A, c.terminals, seed=seed, clock=clock)
    return dataclasses.replace(sol, edges=c.expand(sol.edges))
