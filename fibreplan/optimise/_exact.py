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

from fibreplan.optimise._bound import dual_ascent
from fibreplan.optimise._graph import canonical_csr
from fibreplan.optimise._graph import canonical_edges
from fibreplan.optimise._heuristic import heuristic_tree

__all__ = ["ExactResult", "solve_exact"]

logger = logging.getLogger(__name__)

_EPS = 1e-6
#: Nested cuts per terminal and separation round (Koch & Martin 1998).
_NESTED = 3
#: Also add root-side minimum cuts (besides terminal-side "back" cuts).
_FRONT = True
#: Run the LP-guided primal heuristic every this many LP rounds.
_PRIMAL_EVERY = 3
#: Extra HiGHS options for the LP phase.
_LP_OPTIONS: dict[str, object] = {}
_SCALE = 1_000_000  # integer capacity scale for scipy's maximum_flow


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
    """

    edges: npt.NDArray[np.int64]
    cost: float
    lower_bound: float
    optimal: bool


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

    def cut_row(self, W: npt.NDArray[np.bool_]) -> npt.NDArray[np.int64]:
        """Arcs entering node set ``W`` (boolean mask)."""
        return np.flatnonzero(~W[self.tail] & W[self.head])

    def _reach(
        self, mask_arcs: npt.NDArray[np.bool_], start: int, *, reverse: bool
    ) -> npt.NDArray[np.bool_]:
        t, h = (self.head, self.tail) if reverse else (self.tail, self.head)
        G = sp.csr_array(
            (np.ones(int(mask_arcs.sum())), (t[mask_arcs], h[mask_arcs])), shape=(self.n, self.n)
        )
        order = csgraph.breadth_first_order(G, start, directed=True, return_predecessors=False)
        out = np.zeros(self.n, dtype=bool)
        out[order] = True
        return out

    def separate(
        self, x: npt.NDArray[np.float64], *, flows: bool = True
    ) -> list[npt.NDArray[np.int64]]:
        """Return violated Steiner cuts (arc index arrays) for arc values ``x``."""
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
        for t in self.terminals.tolist():
            C = sp.csr_array((cap.copy(), self.indices, self.indptr), shape=(self.n, self.n))
            for _ in range(self.nested):
                res = csgraph.maximum_flow(C, self.root, t)
                if res.flow_value >= _SCALE * (1.0 - _EPS):
                    break
                # residual capacity on every arc, including reverse arcs of flow
                resid = (C - res.flow).tocsr()
                resid.data[resid.data < 0] = 0
                resid.eliminate_zeros()
                order = csgraph.breadth_first_order(
                    resid, self.root, directed=True, return_predecessors=False
                )
                Sv = np.zeros(self.n, dtype=bool)
                Sv[order] = True
                a1 = self.cut_row(~Sv)
                if self.front:
                    add(a1)
                # back cut: nodes that still reach t in the residual graph
                order = csgraph.breadth_first_order(
                    resid.T.tocsr(), t, directed=True, return_predecessors=False
                )
                Tv = np.zeros(self.n, dtype=bool)
                Tv[order] = True
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


def solve_exact(
    A: sp.csr_array,
    terminals: npt.NDArray[np.int64],
    *,
    upper_bound: float = math.inf,
    warm_edges: npt.NDArray[np.int64] | None = None,
    time_limit: float | None = None,
) -> ExactResult:
    """Solve a Steiner tree instance to proven optimality by branch-and-cut.

    Parameters
    ----------
    A : scipy.sparse.csr_array
        Canonical symmetric adjacency (positive weights), all terminals in one
        component.
    terminals : numpy.ndarray of int64
        Distinct terminals (at least two).
    upper_bound : float, optional
        Weight of a known tree (for logging and early stop when the LP bound
        meets it).
    warm_edges : numpy.ndarray of int64, optional
        A known Steiner tree of ``A`` given to HiGHS as a starting incumbent.
    time_limit : float, optional
        Wall-clock limit in seconds; ``None`` means no limit.

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
    cut; integer MIP solutions are re-separated by connectivity until
    connected. When all weights are integers the bound is rounded up.
    Worst case exponential (NP-hard problem); each separation round is
    O(|T| * maxflow(n, m)).

    References
    ----------
    .. [1] T. Koch, A. Martin, "Solving Steiner tree problems in graphs to
       optimality", Networks 32(3):207-232, 1998,
       doi:10.1002/(SICI)1097-0037(199810)32:3<207::AID-NET5>3.0.CO;2-O.
    .. [2] R. T. Wong, "A dual ascent approach for Steiner tree problems on a
       directed graph", Math. Programming 28:271-287, 1984,
       doi:10.1007/BF02612335.
    """
    t0 = time.perf_counter()
    deadline = math.inf if time_limit is None else t0 + time_limit
    terminals = np.asarray(terminals, dtype=np.int64)
    # compress to the nodes that carry edges (and the terminals)
    deg = np.diff(A.indptr)
    keep = np.flatnonzero(deg > 0)
    keep = np.union1d(keep, terminals)
    pos = np.full(A.shape[0], -1, dtype=np.int64)
    pos[keep] = np.arange(keep.size)
    Ac = sp.csr_array(A[keep][:, keep])
    Ac.sort_indices()
    tc = pos[terminals]
    root = int(tc[np.argmax(np.diff(Ac.indptr)[tc])])
    cut = _Cutter(Ac, tc, root)
    integral = bool(np.all(cut.cost == np.round(cut.cost)))
    tmask = np.zeros(cut.n, dtype=bool)
    tmask[tc] = True

    # ---- model --------------------------------------------------------------
    h = _quiet_highs()
    # warm-started dual simplex between cut rounds: presolve would discard the basis
    h.setOptionValue("presolve", "off")
    h.setOptionValue("solver", "simplex")
    for k, v in _LP_OPTIONS.items():
        h.setOptionValue(k, v)
    narc = cut.narc
    ub_col = np.ones(narc)
    ub_col[cut.head == root] = 0.0  # nothing enters the root
    h.addVars(narc, np.zeros(narc), ub_col)
    h.changeColsCost(narc, np.arange(narc, dtype=np.int32), cut.cost)
    rows_lo: list[float] = []
    rows_hi: list[float] = []
    starts: list[int] = []
    idx: list[npt.NDArray[np.int64]] = []
    vals: list[npt.NDArray[np.float64]] = []
    nnz = 0

    def row(ix: npt.NDArray[np.int64], vx: npt.NDArray[np.float64], lo: float, hi: float) -> None:
        nonlocal nnz
        starts.append(nnz)
        idx.append(ix)
        vals.append(vx)
        rows_lo.append(lo)
        rows_hi.append(hi)
        nnz += ix.size

    inf = highspy.kHighsInf
    order_in = np.argsort(cut.head, kind="stable")
    in_ptr = np.searchsorted(cut.head[order_in], np.arange(cut.n + 1))
    for v in range(cut.n):
        if v == root:
            continue
        ins = order_in[in_ptr[v] : in_ptr[v + 1]]
        if tmask[v]:
            row(ins, np.ones(ins.size), 1.0, 1.0)
            continue
        outs = np.arange(cut.indptr[v], cut.indptr[v + 1])
        row(ins, np.ones(ins.size), -inf, 1.0)
        # flow balance: x(in) <= x(out)
        row(np.concatenate([ins, outs]), np.r_[np.ones(ins.size), -np.ones(outs.size)], -inf, 0.0)
        # x_vw <= x(in(v)) for each out-arc
        for a in outs.tolist():
            row(np.r_[a, ins], np.r_[1.0, -np.ones(ins.size)], -inf, 0.0)
    # antiparallel arcs: x_uv + x_vu <= 1
    rev = np.lexsort((cut.tail, cut.head))
    anti = np.flatnonzero(cut.tail < cut.head)
    for a in anti.tolist():
        row(np.array([a, rev[a]]), np.ones(2), -inf, 1.0)
    if starts:
        h.addRows(
            len(starts),
            np.asarray(rows_lo),
            np.asarray(rows_hi),
            nnz,
            np.asarray(starts, dtype=np.int32),
            np.concatenate(idx).astype(np.int32),
            np.concatenate(vals),
        )

    # Wong's dual-ascent cuts make a strong starting LP (as in SCIP-Jack)
    da = dual_ascent(Ac, tc, root=root, record_cuts=True)
    if da.cuts:
        _add_cut_rows(h, da.cuts)
    lower = 0.0

    def bound_of(value: float) -> float:
        v = value - 1e-9 * max(1.0, abs(value))
        return float(math.ceil(v - 1e-6)) if integral else v

    def arcs_to_edges(xv: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
        on = xv > 0.5
        e = np.stack([keep[cut.tail[on]], keep[cut.head[on]]], axis=1)
        return canonical_edges(e)

    def remaining() -> float:
        return deadline - time.perf_counter()

    lower = bound_of(da.lower_bound) if integral else da.lower_bound * (1 - 1e-9)
    # ---- LP cutting-plane loop ---------------------------------------------
    rounds = 0
    fixed_total = 0
    best_edges = np.empty((0, 2), dtype=np.int64)
    best = math.inf
    x = np.zeros(narc)
    lp_done = False
    while remaining() > 0:
        h.setOptionValue("time_limit", max(remaining(), 0.01))
        h.run()
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            logger.warning("HiGHS LP stopped with status %s", h.getModelStatus())
            break
        sol = h.getSolution()
        x = np.asarray(sol.col_value)
        lp_val = h.getInfo().objective_function_value
        if rounds % _PRIMAL_EVERY == 0 and lp_val < upper_bound - 1e-9 * max(1.0, upper_bound):
            e = _lp_primal(cut, x, tc)
            if e is not None:
                c = float(Ac[e[:, 0], e[:, 1]].sum())
                if c < upper_bound - 1e-9 * max(1.0, upper_bound):
                    logger.debug("exact: LP-guided heuristic %.6g (was %.6g)", c, upper_bound)
                    upper_bound, best = c, c
                    best_edges = canonical_edges(keep[e])
        if math.isfinite(upper_bound):
            fixed_total += _fix_by_reduced_cost(
                h, sol, lp_val, upper_bound, ub_col, integral=integral
            )
        cuts = cut.separate(x)
        rounds += 1
        if not cuts:
            lower = max(lower, bound_of(lp_val))
            lp_done = True
            break
        _add_cut_rows(h, cuts)
    logger.debug(
        "exact: %d LP rounds, bound %.6g, %d rows, %d arcs fixed by LP reduced costs",
        rounds,
        lower,
        h.getNumRow(),
        fixed_total,
    )
    frac = np.abs(x - np.rint(x)) > _EPS
    if lp_done and not frac.any():
        edges = arcs_to_edges(x)
        c = float(cut.cost[x > 0.5].sum())
        return ExactResult(edges, c, min(lower, c), optimal=True)
    if lp_done and lower >= upper_bound - 1e-9 * max(1.0, upper_bound):
        # the incumbent (LP-guided or the caller's heuristic tree) is optimal
        return ExactResult(best_edges, best, lower, optimal=True)

    # ---- MIP with lazy connectivity cuts ------------------------------------
    h.changeColsIntegrality(narc, np.arange(narc, dtype=np.int32), np.ones(narc, dtype=np.uint8))
    h.setOptionValue("presolve", "on")
    h.setOptionValue("solver", "choose")
    h.setOptionValue("mip_rel_gap", 0.0)
    h.setOptionValue("mip_abs_gap", 1.0 - 1e-6 if integral else 1e-9)
    warm = None
    if warm_edges is not None and warm_edges.size:
        warm = _orient(warm_edges, pos, cut)
    while remaining() > 0:
        h.setOptionValue("time_limit", max(remaining(), 0.01))
        if warm is not None:
            sol = highspy.HighsSolution()
            sol.col_value = warm.tolist()
            sol.value_valid = True
            h.setSolution(sol)
        h.run()
        status = h.getModelStatus()
        info = h.getInfo()
        if status == highspy.HighsModelStatus.kOptimal:
            x = np.asarray(h.getSolution().col_value)
            cuts = cut.separate(np.rint(x), flows=False)
            if not cuts:
                val = float(cut.cost[x > 0.5].sum())
                lower = max(lower, bound_of(info.mip_dual_bound))
                if val < best:
                    best, best_edges = val, arcs_to_edges(x)
                lower = min(lower, best)
                return ExactResult(best_edges, best, lower, optimal=True)
            _add_cut_rows(h, cuts)
            continue
        # time limit or other stop: keep the dual bound and any incumbent
        if np.isfinite(info.mip_dual_bound):
            lower = max(lower, bound_of(info.mip_dual_bound))
        break
    return ExactResult(best_edges, best, lower, optimal=False)


def _lp_primal(
    cut: _Cutter, x: npt.NDArray[np.float64], terminals: npt.NDArray[np.int64]
) -> npt.NDArray[np.int64] | None:
    """Heuristic tree on the support of an LP solution (compressed node ids), or None."""
    on = x > 1e-3
    if not on.any():
        return None
    S = canonical_csr(
        sp.coo_array((cut.cost[on], (cut.tail[on], cut.head[on])), shape=(cut.n, cut.n))
    )
    _, lab = csgraph.connected_components(S, directed=False)
    if not np.all(lab[terminals] == lab[terminals[0]]):
        return None
    return heuristic_tree(S, terminals, n_roots=1)


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
