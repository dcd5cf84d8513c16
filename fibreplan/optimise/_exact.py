"""Exact Steiner tree solver: directed-cut branch-and-cut on HiGHS.

The undirected instance is bidirected and rooted at a terminal ``r``; a
Steiner arborescence is an arc set ``x`` with ``x(delta^-(W)) >= 1`` for every
node set ``W`` holding a terminal but not ``r``. There are exponentially many
such cuts, so they are added lazily: the LP starts with the cuts of Wong's
dual ascent, is re-solved (warm-started dual simplex), violated cuts are found
by maximum flow from the root to each terminal (root-side, terminal-side and
nested minimum cuts), and the loop repeats. Every few rounds a heuristic runs
on the LP support, and arcs whose LP reduced cost proves them useless against
the incumbent are fixed to zero. The (usually integral) LP optimum ends the
search; otherwise the HiGHS MIP solver takes the model with the cuts found so
far, its integer solutions re-separated until one is connected.

Determinism: HiGHS runs on one thread with the caller's random seed, and the
search is bounded by *work* (:class:`WorkLimits`: separation rounds, MIP
branch-and-bound nodes), never by the clock unless the caller passes an
explicit ``time_limit``; the same input and options give the same tree.
"""

from __future__ import annotations

import logging
import math
import os
import sys
import time
from dataclasses import dataclass

import highspy
import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse import csgraph

from fibreplan._csr import canonical_csr
from fibreplan.optimise._bound import dual_ascent_cuts
from fibreplan.optimise._graph import canonical_edges

__all__ = ["ExactResult", "WorkLimits", "solve_exact"]

logger = logging.getLogger(__name__)

_EPS = 1e-6
#: Nested cuts per terminal and separation round (Koch & Martin 1998).
_NESTED = 3
#: Also add root-side minimum cuts (besides terminal-side "back" cuts).
_FRONT = True
#: Run the LP-guided primal heuristic every this many LP rounds.
_PRIMAL_EVERY = 3
#: Violated cuts gathered per separation round before the LP is solved again
#: (a maximum flow per terminal is the expensive part: most rounds stop early).
_CUTS_PER_ROUND = 100
#: Start the LP with the cuts of this many dual-ascent steps at most (Wong 1984).
_DA_CUTS = 600
_SCALE = 1_000_000  # integer capacity scale for scipy's maximum_flow


@dataclass(frozen=True)
class WorkLimits:
    """Work budget of :func:`solve_exact` (a count of steps, not seconds).

    Attributes
    ----------
    max_rounds : int or None
        Cut-separation rounds of the LP phase, and re-solves of the MIP phase
        with new connectivity cuts; None: no limit.
    max_mip_nodes : int or None
        Branch-and-bound nodes of one HiGHS MIP solve; None: no limit.

    Notes
    -----
    Under a round limit the MIP phase runs only after the cutting-plane LP
    has converged (no violated cut left): an LP stopped early makes a weak
    MIP whose root alone can cost more than the rest of the search.
    """

    max_rounds: int | None = None
    max_mip_nodes: int | None = None


@dataclass(frozen=True)
class ExactResult:
    """Result of :func:`solve_exact`.

    Attributes
    ----------
    edges : numpy.ndarray of int64, shape (k, 2)
        Best tree found (canonical), empty if none was found.
    cost : float
        Its weight (``inf`` if none).
    lower_bound : float
        Valid lower bound on the optimum.
    optimal : bool
        Whether optimality was proven: of ``edges``, or -- when ``edges`` is
        empty -- of the caller's incumbent of weight ``upper_bound``.
    time_limit_hit : bool
        Whether the caller's ``time_limit`` stopped the search.
    """

    edges: npt.NDArray[np.int64]
    cost: float
    lower_bound: float
    optimal: bool
    time_limit_hit: bool = False


class _Cutter:
    """Bidirected instance on compressed nodes plus cut separation."""

    def __init__(self, A: sp.csr_array, terminals: npt.NDArray[np.int64], root: int) -> None:
        coo = sp.coo_array(A)
        self.n = A.shape[0]
        self.tail = np.asarray(coo.row, dtype=np.int64)
        self.head = np.asarray(coo.col, dtype=np.int64)
        self.cost = np.asarray(coo.data, dtype=np.float64)
        self.root = root
        self.nested = _NESTED
        self.front = _FRONT
        self.terminals = terminals[terminals != root]
        self.narc = self.tail.size
        # arc index matrix (arc id + 1) for building capacity matrices in one step
        order = np.lexsort((self.head, self.tail))
        self.tail, self.head, self.cost = self.tail[order], self.head[order], self.cost[order]
        self.indptr = np.searchsorted(self.tail, np.arange(self.n + 1)).astype(np.int32)
        self.indices = self.head.astype(np.int32)
        # arcs in (head, tail) order: the reversed graph's CSR order
        self.rev_order = np.lexsort((self.tail, self.head))

    def cut_row(self, W: npt.NDArray[np.bool_]) -> npt.NDArray[np.int64]:
        """Arcs entering node set ``W`` (boolean mask)."""
        return np.flatnonzero(~W[self.tail] & W[self.head])

    def _reach(
        self, mask_arcs: npt.NDArray[np.bool_], start: int, *, reverse: bool
    ) -> npt.NDArray[np.bool_]:
        """Nodes ``start`` reaches (or, ``reverse``, that reach it) along the masked arcs."""
        t, h = (self.head, self.tail) if reverse else (self.tail, self.head)
        keep = mask_arcs if not reverse else mask_arcs[self.rev_order]
        tails = t[self.rev_order] if reverse else t
        heads = h[self.rev_order] if reverse else h
        indptr = np.zeros(self.n + 1, dtype=np.int32)
        np.cumsum(np.bincount(tails[keep], minlength=self.n), out=indptr[1:])
        G = sp.csr_array(
            (np.ones(int(keep.sum())), heads[keep].astype(np.int32), indptr),
            shape=(self.n, self.n),
        )
        order = csgraph.breadth_first_order(G, start, directed=True, return_predecessors=False)
        out = np.zeros(self.n, dtype=bool)
        out[order] = True
        return out

    def _residual(self, C: sp.csr_array, flow: sp.csr_array) -> npt.NDArray[np.int64]:
        """Residual capacity of every arc (in arc order) after a maximum flow."""
        if np.array_equal(flow.indptr, C.indptr) and np.array_equal(flow.indices, C.indices):
            return C.data.astype(np.int64) - flow.data
        # scipy added arcs to the flow's structure: look the arcs up one by one
        F = sp.csr_array(flow)
        return C.data.astype(np.int64) - np.asarray(F[self.tail, self.head]).ravel()

    def separate(
        self, x: npt.NDArray[np.float64], *, flows: bool = True, start: int = 0
    ) -> list[npt.NDArray[np.int64]]:
        """Return violated Steiner cuts (arc index arrays) for arc values ``x``.

        Terminals are tried in turn from position ``start``; the search stops
        once :data:`_CUTS_PER_ROUND` cuts are found, so an empty list means
        that no terminal has a violated cut (the LP bound is the cut bound).
        """
        cuts: list[npt.NDArray[np.int64]] = []
        seen: set[bytes] = set()

        def add(arcs: npt.NDArray[np.int64]) -> None:
            if arcs.size == 0:
                return
            if x[arcs].sum() < 1.0 - _EPS:
                key = arcs.tobytes()
                if key not in seen:
                    seen.add(key)
                    cuts.append(arcs)

        support = x > _EPS
        S = self._reach(support, self.root, reverse=False)
        missing = self.terminals[~S[self.terminals]]
        if missing.size and not flows:
            for t in missing[:50].tolist():
                W = self._reach(support, t, reverse=True) & ~S
                add(self.cut_row(W))
            add(self.cut_row(~S))
            return cuts
        cap = np.rint(x * _SCALE).astype(np.int32)
        # a terminal joined to the root by a path of arcs at 1 has flow 1: no cut there
        whole = self._reach(x >= 1.0 - _EPS, self.root, reverse=False)
        todo = np.roll(self.terminals, -start)
        for t in todo[~whole[todo]].tolist():
            if len(cuts) >= _CUTS_PER_ROUND:
                break
            C = sp.csr_array((cap.copy(), self.indices, self.indptr), shape=(self.n, self.n))
            for _ in range(self.nested):
                res = csgraph.maximum_flow(C, self.root, t)
                if res.flow_value >= _SCALE * (1.0 - _EPS):
                    break
                # residual capacity on every arc, including reverse arcs of flow
                resid = self._residual(C, res.flow)
                Sv = self._reach(resid > 0, self.root, reverse=False)
                a1 = self.cut_row(~Sv)
                if self.front:
                    add(a1)
                # back cut: nodes that still reach t in the residual graph
                Tv = self._reach(resid > 0, t, reverse=True)
                a2 = self.cut_row(Tv)
                add(a2)
                # nested cuts (Koch & Martin 1998): saturate this cut and look again
                if self.front:
                    C.data[a1] = _SCALE
                C.data[a2] = _SCALE
        return cuts


def _quiet_highs() -> highspy.Highs:
    """Return a silent HiGHS instance.

    HiGHS prints its banner to the process's standard output from C++ when the
    first solver is created, before any option can turn output off; a library
    must not write to its caller's terminal, so file descriptor 1 is pointed at
    ``os.devnull`` for the construction only.
    """
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:  # noqa: PTH123 - a raw descriptor is needed
            os.dup2(null.fileno(), 1)
            h = highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
    h.setOptionValue("output_flag", False)  # noqa: FBT003
    return h


def _add_cut_rows(h: highspy.Highs, cuts: list[npt.NDArray[np.int64]]) -> None:
    if not cuts:
        return
    starts = np.cumsum([0] + [c.size for c in cuts[:-1]]).astype(np.int32)
    idx = np.concatenate(cuts).astype(np.int32)
    vals = np.ones(idx.size)
    k = len(cuts)
    h.addRows(k, np.ones(k), np.full(k, highspy.kHighsInf), idx.size, starts, idx, vals)


def _highs(seed: int) -> highspy.Highs:
    """Return a silent, single-threaded HiGHS with a fixed seed (same input, same answer)."""
    h = _quiet_highs()
    h.setOptionValue("threads", 1)
    h.setOptionValue("random_seed", int(seed) % 2_147_483_647)
    # warm-started dual simplex between cut rounds: presolve would discard the basis
    h.setOptionValue("presolve", "off")
    h.setOptionValue("solver", "simplex")
    return h


class _Rows:
    """Rows of the base model, gathered before one ``addRows`` call."""

    def __init__(self) -> None:
        self.lo: list[float] = []
        self.hi: list[float] = []
        self.starts: list[int] = []
        self.idx: list[npt.NDArray[np.int64]] = []
        self.vals: list[npt.NDArray[np.float64]] = []
        self.nnz = 0

    def add(
        self, ix: npt.NDArray[np.int64], vx: npt.NDArray[np.float64], lo: float, hi: float
    ) -> None:
        self.starts.append(self.nnz)
        self.idx.append(ix)
        self.vals.append(vx)
        self.lo.append(lo)
        self.hi.append(hi)
        self.nnz += ix.size

    def into(self, h: highspy.Highs) -> None:
        if self.starts:
            h.addRows(
                len(self.starts),
                np.asarray(self.lo),
                np.asarray(self.hi),
                self.nnz,
                np.asarray(self.starts, dtype=np.int32),
                np.concatenate(self.idx).astype(np.int32),
                np.concatenate(self.vals),
            )


def _base_rows(cut: _Cutter, tmask: npt.NDArray[np.bool_]) -> _Rows:
    """In-degree, flow-balance, ``x_vw <= x(in(v))`` and antiparallel-arc rows."""
    inf = highspy.kHighsInf
    rows = _Rows()
    order_in = np.argsort(cut.head, kind="stable")
    in_ptr = np.searchsorted(cut.head[order_in], np.arange(cut.n + 1))
    for v in range(cut.n):
        if v == cut.root:
            continue
        ins = order_in[in_ptr[v] : in_ptr[v + 1]]
        if tmask[v]:
            rows.add(ins, np.ones(ins.size), 1.0, 1.0)
            continue
        outs = np.arange(cut.indptr[v], cut.indptr[v + 1])
        rows.add(ins, np.ones(ins.size), -inf, 1.0)
        # flow balance: x(in) <= x(out)
        rows.add(
            np.concatenate([ins, outs]), np.r_[np.ones(ins.size), -np.ones(outs.size)], -inf, 0.0
        )
        # x_vw <= x(in(v)) for each out-arc
        for a in outs.tolist():
            rows.add(np.r_[a, ins], np.r_[1.0, -np.ones(ins.size)], -inf, 0.0)
    # antiparallel arcs: x_uv + x_vu <= 1
    rev = np.lexsort((cut.tail, cut.head))
    for a in np.flatnonzero(cut.tail < cut.head).tolist():
        rows.add(np.array([a, rev[a]]), np.ones(2), -inf, 1.0)
    return rows


class _Search:
    """One branch-and-cut: the model, its cuts, the incumbent and the bound."""

    def __init__(
        self,
        A: sp.csr_array,
        terminals: npt.NDArray[np.int64],
        *,
        upper_bound: float,
        lower_bound: float,
        seed: int,
        deadline: float | None,
    ) -> None:
        # compress to the nodes that carry edges (and the terminals)
        keep = np.union1d(np.flatnonzero(np.diff(A.indptr) > 0), terminals)
        self.keep = keep
        self.pos = np.full(A.shape[0], -1, dtype=np.int64)
        self.pos[keep] = np.arange(keep.size)
        self.Ac = sp.csr_array(A[keep][:, keep])
        self.Ac.sort_indices()
        self.tc = self.pos[terminals]
        root = int(self.tc[np.argmax(np.diff(self.Ac.indptr)[self.tc])])
        self.cut = _Cutter(self.Ac, self.tc, root)
        self.integral = bool(np.all(self.cut.cost == np.round(self.cut.cost)))
        self.seed = seed
        self.deadline = deadline
        self.time_limit_hit = False
        self.upper_bound = upper_bound
        self.lower = self.bound_of(lower_bound)
        self.best = math.inf
        self.best_edges = np.empty((0, 2), dtype=np.int64)
        tmask = np.zeros(self.cut.n, dtype=bool)
        tmask[self.tc] = True
        self.h = _highs(seed)
        narc = self.cut.narc
        self.ub_col = np.ones(narc)
        self.ub_col[self.cut.head == root] = 0.0  # nothing enters the root
        self.h.addVars(narc, np.zeros(narc), self.ub_col)
        self.h.changeColsCost(narc, np.arange(narc, dtype=np.int32), self.cut.cost)
        _base_rows(self.cut, tmask).into(self.h)
        # Wong's dual-ascent cuts make a strong starting LP (as in SCIP-Jack)
        _add_cut_rows(self.h, dual_ascent_cuts(self.Ac, self.tc, root=root, max_steps=_DA_CUTS))
        self.x = np.zeros(narc)

    def bound_of(self, value: float) -> float:
        """Return a float bound made safe (tiny slack), rounded up for integer weights."""
        v = value - 1e-9 * max(1.0, abs(value))
        return float(math.ceil(v - 1e-6)) if self.integral else v

    def arcs_to_edges(self, xv: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
        on = xv > 0.5
        e = np.stack([self.keep[self.cut.tail[on]], self.keep[self.cut.head[on]]], axis=1)
        return canonical_edges(e)

    def out_of_time(self) -> bool:
        """Whether the caller's wall-clock limit has passed (then say so)."""
        if self.deadline is not None and time.perf_counter() >= self.deadline:
            self.time_limit_hit = True
        return self.time_limit_hit

    def run(self) -> highspy.HighsModelStatus:
        if self.deadline is not None:
            self.h.setOptionValue("time_limit", max(self.deadline - time.perf_counter(), 0.01))
        if self.h.run() == highspy.HighsStatus.kError and (
            self.h.getModelStatus() == highspy.HighsModelStatus.kNotset
        ):
            # HiGHS refuses to start when another solver in this process (steinerpy, a
            # modelling layer) has started its shared thread scheduler with more threads
            # than this single-threaded, deterministic solve asks for: restart it, retry
            highspy.Highs.resetGlobalScheduler(True)  # noqa: FBT003 - wait for its workers
            self.h.run()
        status = self.h.getModelStatus()
        if status == highspy.HighsModelStatus.kTimeLimit:
            self.time_limit_hit = True
        return status

    def result(self, *, optimal: bool) -> ExactResult:
        return ExactResult(
            self.best_edges,
            self.best,
            min(self.lower, self.best),
            optimal=optimal,
            time_limit_hit=self.time_limit_hit,
        )

    def primal(self, lp_val: float) -> None:
        """Heuristic tree on the LP support; keep it when it beats the incumbent."""
        ub = self.upper_bound
        if lp_val >= ub - 1e-9 * max(1.0, ub):
            return
        e = _lp_primal(self.cut, self.x, self.tc, seed=self.seed)
        if e is None:
            return
        c = float(self.Ac[e[:, 0], e[:, 1]].sum())
        if c < ub - 1e-9 * max(1.0, ub):
            logger.debug("exact: LP-guided heuristic %.6g (was %.6g)", c, ub)
            self.upper_bound, self.best = c, c
            self.best_edges = canonical_edges(self.keep[e])

    def lp_phase(self, max_rounds: int | None) -> bool:
        """Cutting-plane loop; True when the LP optimum over all Steiner cuts is reached."""
        rounds = 0
        fixed = 0
        while not self.out_of_time() and (max_rounds is None or rounds < max_rounds):
            if self.run() != highspy.HighsModelStatus.kOptimal:
                logger.warning("HiGHS LP stopped with status %s", self.h.getModelStatus())
                return False
            sol = self.h.getSolution()
            self.x = np.asarray(sol.col_value)
            lp_val = self.h.getInfo().objective_function_value
            # the LP over some of the cuts relaxes the full one: a valid bound every round
            self.lower = max(self.lower, self.bound_of(lp_val))
            if rounds % _PRIMAL_EVERY == 0:
                self.primal(lp_val)
            if math.isfinite(self.upper_bound):
                fixed += _fix_by_reduced_cost(
                    self.h, sol, lp_val, self.upper_bound, self.ub_col, integral=self.integral
                )
            cuts = self.cut.separate(self.x, start=rounds * _CUTS_PER_ROUND)
            rounds += 1
            if not cuts:
                logger.debug("exact: LP done after %d rounds, %d arcs fixed", rounds, fixed)
                return True
            _add_cut_rows(self.h, cuts)
        logger.debug("exact: LP stopped after %d rounds (work or time limit)", rounds)
        return False

    def mip_phase(self, warm_edges: npt.NDArray[np.int64] | None, limits: WorkLimits) -> bool:
        """HiGHS MIP with lazy connectivity cuts; True when optimality is proven."""
        narc = self.cut.narc
        h = self.h
        h.changeColsIntegrality(
            narc, np.arange(narc, dtype=np.int32), np.ones(narc, dtype=np.uint8)
        )
        h.setOptionValue("presolve", "on")
        h.setOptionValue("solver", "choose")
        h.setOptionValue("mip_rel_gap", 0.0)
        h.setOptionValue("mip_abs_gap", 1.0 - 1e-6 if self.integral else 1e-9)
        if limits.max_mip_nodes is not None:
            h.setOptionValue("mip_max_nodes", int(limits.max_mip_nodes))
        warm = None
        if warm_edges is not None and warm_edges.size:
            warm = _orient(warm_edges, self.pos, self.cut)
        rounds = 0
        while not self.out_of_time() and (limits.max_rounds is None or rounds < limits.max_rounds):
            rounds += 1
            if warm is not None:
                sol = highspy.HighsSolution()
                sol.col_value = warm.tolist()
                sol.value_valid = True
                h.setSolution(sol)
            status = self.run()
            info = h.getInfo()
            if status != highspy.HighsModelStatus.kOptimal:
                # work or time limit: keep the dual bound (the incumbent may be disconnected)
                if np.isfinite(info.mip_dual_bound):
                    self.lower = max(self.lower, self.bound_of(info.mip_dual_bound))
                return False
            x = np.asarray(h.getSolution().col_value)
            cuts = self.cut.separate(np.rint(x), flows=False)
            if cuts:
                _add_cut_rows(h, cuts)
                continue
            val = float(self.cut.cost[x > 0.5].sum())
            self.lower = max(self.lower, self.bound_of(info.mip_dual_bound))
            if val < self.best:
                self.best, self.best_edges = val, self.arcs_to_edges(x)
            return True
        return False


def solve_exact(
    A: sp.csr_array,
    terminals: npt.NDArray[np.int64],
    *,
    upper_bound: float = math.inf,
    lower_bound: float = 0.0,
    warm_edges: npt.NDArray[np.int64] | None = None,
    seed: int = 0,
    limits: WorkLimits | None = None,
    time_limit: float | None = None,
) -> ExactResult:
    """Solve a Steiner tree instance to proven optimality by branch-and-cut.

    Parameters
    ----------
    A : scipy.sparse.csr_array
        Canonical symmetric adjacency (weights > 0), all terminals in one
        component.
    terminals : numpy.ndarray of int64
        Distinct terminals (at least two).
    upper_bound : float, optional
        Weight of a known tree (the LP-guided heuristic and reduced-cost
        fixing work against it).
    lower_bound : float, optional
        A valid lower bound already known (e.g. from dual ascent).
    warm_edges : numpy.ndarray of int64, optional
        A known Steiner tree of ``A`` given to HiGHS as a starting incumbent.
    seed : int, default 0
        HiGHS random seed (and the LP-guided heuristic's).
    limits : WorkLimits, optional
        Work budget; default none (run until proven).
    time_limit : float, optional
        Wall-clock limit in seconds; ``None`` (default) means no limit.

    Returns
    -------
    ExactResult
        Best tree found and a valid lower bound; ``optimal`` when they meet.

    Notes
    -----
    Directed-cut formulation with in-degree, flow-balance and ``x_vw <=
    x(delta^-(v))`` constraints. Cuts are separated at LP solutions by
    connectivity of the support and by max-flow (Dinic, scipy) from the root
    to each terminal, adding both the root-side and the terminal-side minimum
    cut (nested, [1]); integer MIP solutions are re-separated by connectivity
    until connected. When all weights are integers the bound is rounded up.
    Without ``time_limit`` the result is a function of the input, ``seed``
    and ``limits`` alone. Worst case exponential (NP-hard problem); each
    separation round is O(|T| * maxflow(n, m)).

    References
    ----------
    .. [1] T. Koch, A. Martin, "Solving Steiner tree problems in graphs to
       optimality", Networks 32(3):207-232, 1998,
       doi:10.1002/(SICI)1097-0037(199810)32:3<207::AID-NET5>3.0.CO;2-O.
    .. [2] R. T. Wong, "A dual ascent approach for Steiner tree problems on a
       directed graph", Math. Programming 28:271-287, 1984,
       doi:10.1007/BF02612335.
    """
    limits = limits or WorkLimits()
    deadline = None if time_limit is None else time.perf_counter() + time_limit
    terminals = np.asarray(terminals, dtype=np.int64)
    s = _Search(
        A,
        terminals,
        upper_bound=upper_bound,
        lower_bound=lower_bound,
        seed=seed,
        deadline=deadline,
    )
    lp_done = s.lp_phase(limits.max_rounds)
    frac = np.abs(s.x - np.rint(s.x)) > _EPS
    if lp_done and not frac.any():
        s.best_edges = s.arcs_to_edges(s.x)
        s.best = float(s.cut.cost[s.x > 0.5].sum())
        return s.result(optimal=True)
    if lp_done and s.lower >= s.upper_bound - 1e-9 * max(1.0, s.upper_bound):
        # the incumbent (LP-guided or the caller's heuristic tree) is optimal
        return s.result(optimal=True)
    if s.time_limit_hit or (limits.max_rounds is not None and not lp_done):
        return s.result(optimal=False)
    return s.result(optimal=s.mip_phase(warm_edges, limits))


def _lp_primal(
    cut: _Cutter, x: npt.NDArray[np.float64], terminals: npt.NDArray[np.int64], *, seed: int
) -> npt.NDArray[np.int64] | None:
    """Heuristic tree on the support of an LP solution (compressed node ids), or None."""
    from fibreplan.optimise._fast import fast_heuristic  # numba only once the LP runs

    on = x > 1e-3
    if not on.any():
        return None
    S = canonical_csr(
        sp.coo_array((cut.cost[on], (cut.tail[on], cut.head[on])), shape=(cut.n, cut.n))
    )
    _, lab = csgraph.connected_components(S, directed=False)
    if not np.all(lab[terminals] == lab[terminals[0]]):
        return None
    return fast_heuristic(S, terminals, seed=seed).edges


def _fix_by_reduced_cost(
    h: highspy.Highs,
    sol: highspy.HighsSolution,
    lp_val: float,
    upper_bound: float,
    ub_col: npt.NDArray[np.float64],
    *,
    integral: bool,
) -> int:
    """Fix to 0 every arc whose LP reduced-cost bound exceeds ``upper_bound``.

    Any feasible ``x`` with ``x_a = 1`` costs at least ``lp_val + d_a`` for the
    reduced cost ``d_a`` of an optimal dual solution of the current LP (a
    relaxation), so an arc whose bound is strictly above the incumbent weight
    ``upper_bound`` lies in no minimum tree. Returns the number of arcs newly
    fixed; O(number of arcs).
    """
    d = np.asarray(sol.col_dual)
    lb_arc = lp_val + d
    if integral:
        lb_arc = np.ceil(lb_arc - 1e-6)
    dead = (lb_arc > upper_bound + 1e-6 * max(1.0, abs(upper_bound))) & (ub_col > 0)
    k = int(dead.sum())
    if k:
        idx = np.flatnonzero(dead).astype(np.int32)
        ub_col[idx] = 0.0
        h.changeColsBounds(k, idx, np.zeros(k), np.zeros(k))
    return k


def _orient(
    edges: npt.NDArray[np.int64], pos: npt.NDArray[np.int64], cut: _Cutter
) -> npt.NDArray[np.float64] | None:
    """Arc vector of ``edges`` oriented away from the root, or None if not a tree of the model."""
    e = pos[edges]
    if np.any(e < 0):
        return None
    n = cut.n
    T = sp.coo_array((np.ones(e.shape[0]), (e[:, 0], e[:, 1])), shape=(n, n)).tocsr()
    T = T + T.T
    order, pred = csgraph.breadth_first_order(T, cut.root, directed=False)
    x = np.zeros(cut.narc)
    key = cut.tail * n + cut.head
    sorter = np.argsort(key)
    for v in order[1:].tolist():
        k = int(pred[v]) * n + v
        i = np.searchsorted(key, k, sorter=sorter)
        if i >= key.size or key[sorter[i]] != k:
            return None
        x[sorter[i]] = 1.0
    return x
