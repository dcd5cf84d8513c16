"""Fast Steiner heuristic: ascend-and-prune, SPH, local search and recombination.

Everything here runs the compiled kernels of :mod:`fibreplan.optimise._jit`
on one graph; this module only chooses the roots and keeps the elite trees.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from fibreplan.optimise import _jit
from fibreplan.optimise._bound import _reverse_index
from fibreplan.optimise._dw import dreyfus_wagner

__all__ = ["FastResult", "fast_heuristic", "load_kernels", "start_kernels"]

#: Shortest-path-heuristic constructions (from the best-connected terminal, then random ones).
_SPH_ROOTS = 2
#: Dual-ascent runs, each from another root terminal, each giving an ascend-and-prune tree.
_DA_ROOTS = 8
#: Above this many terminals (street networks: every premises is one) the
#: constructions are already within about 0.1 % and every local-search pass
#: costs O(|T| depth): one dual ascent, and only the best construction is
#: polished, without recombination.
_MANY_TERMINALS = 1_000
#: Above this many edges or nodes, a medium effort (every pass of local search
#: and vertex insertion is then O(m) or more: networkx's whole Mehlhorn
#: heuristic is about one such pass).
_MANY_EDGES = 30_000
_MANY_NODES = 5_000
#: Dual-ascent roots on such a big graph (then one recombination round, no
#: perturbation unless the weights are tied). One: on PACE 2018 road graphs of
#: 15,000-20,000 nodes and 400-900 terminals each ascent costs 0.3-1.5 s, and
#: two more gave the same trees.
_BIG_DA_ROOTS = 1
#: Constructions polished by local search (the best SPH tree and the best DA trees).
_POLISHED = 3
#: Recombination rounds: dual ascent on the union of the elite trees.
_ROUNDS = 2
_ELITE = 4
_ROUND_ROOTS = 4
#: Improvement rounds (local search pass, MST of the node set, vertex insertion).
_IMPROVE_ROUNDS = 20
_GAP_TOL = 1e-9
#: Diversification while a gap is left: rounds, relative weight noise, recombination period.
_PERTURB_ROUNDS = 4
_PERTURB = 0.2
_PERTURB_LS = 1
_PERTURB_RECOMBINE = 4
#: Gap-driven effort (full effort only): perturbation rounds only while the
#: tree is more than this fraction above the bound (a tree within it is at
#: most that far above the optimum; on SteinLib C and D skipping their
#: rounds saved 10-30 % of the time and left them at most 0.5 % above) ...
_PERTURB_GAP = 0.01
#: ... and then up to this many rounds instead of _PERTURB_ROUNDS (where the
#: dual-ascent bound is 1-3 % loose: SteinLib c18, c19, d18, d19) ...
_PERTURB_MAX_ROUNDS = 6
#: ... with at most this many terminals (PACE 2018 instances 143-146, 1,000
#: terminals: the same trees at 0.4-0.7 s more each).
_WIDE_MAX_TERMINALS = 500
#: Tail rounds (same terminal cap): up to this many more while the tree is
#: still more than this fraction above the bound, each from an
#: ascend-and-prune tree of the perturbed weights (where local search from
#: the best tree and SPH restarts stay in one basin: c18 on one node order
#: 116 after 10 rounds, optimum 113). The bound of c18 and d18 is 2-3 % loose,
#: so only trees over 1-2 % above the optimum get them: over 20 orders x 5
#: seeds c18 max 2.65 % -> 1.77 %, d18 1.79 % -> 1.35 %, at 4 % and 20 % more time.
_TAIL_ROUNDS = 2
_TAIL_GAP = 0.04
#: ... but not past this gap, where the bound is too loose to say the tree is
#: far from the optimum: on PACE 2018 track 3 up to 5,000 nodes every gap
#: left after the rounds is 6.7-29 %, and tail rounds there changed 6 of 82
#: trees (by 0.1-1.7 %) at 20 % more time.
_TAIL_GAP_MAX = 0.065
#: Up to this many terminals, and a Dreyfus-Wagner table of at most this many
#: cells (2^(k-1) x nodes), an open gap is closed by the exact dynamic programme.
_EXACT_TERMINALS = 6
_EXACT_CELLS = 2_000_000
#: Weights count as tied when there are at most this many distinct values per
#: edge (unit or small-integer weights: hypercubes, VLSI grids, SteinLib);
#: there the perturbation runs at lower efforts too, for it alone breaks the ties
#: that trap the constructions (PACE 2018 hypercube of 2,048 terminals: 19 %
#: above the optimum without it, 5 % with).
_TIED = 0.05
#: Seconds to wait for the child process compiling half the kernels.
_CHILD_TIMEOUT = 120.0


@dataclass(frozen=True)
class FastResult:
    """Tree and bound of :func:`fast_heuristic` (edges canonical, ``u < v``)."""

    edges: npt.NDArray[np.int64]
    cost: float
    lower_bound: float


class _Arrays:
    """CSR arrays of a graph with every row sorted by weight, and reverse arcs."""

    def __init__(self, A: sp.csr_array, rev: npt.NDArray[np.int64] | None = None) -> None:
        """``rev``: :func:`_reverse_index` of ``A`` when known (same pattern, other weights)."""
        n = A.shape[0]
        rows = np.repeat(np.arange(n, dtype=np.int64), np.diff(A.indptr))
        w = A.data.astype(np.float64)
        order = np.lexsort((w, rows))
        where = np.empty_like(order)
        where[order] = np.arange(order.size)
        self.indptr = A.indptr.astype(np.int64)
        self.indices = A.indices.astype(np.int64)[order]
        self.w = w[order]
        self.rev = where[(_reverse_index(A) if rev is None else rev)[order]]

    def edges(self, tarc: npt.NDArray[np.bool_]) -> npt.NDArray[np.int64]:
        rows = np.repeat(np.arange(self.indptr.size - 1, dtype=np.int64), np.diff(self.indptr))
        sel = tarc & (rows < self.indices)
        edges = np.column_stack([rows[sel], self.indices[sel]]).astype(np.int64)
        return edges[np.lexsort((edges[:, 1], edges[:, 0]))]


def _induced(A: sp.csr_array, keep_nodes: npt.NDArray[np.bool_]) -> sp.csr_array:
    """Subgraph of ``A`` induced by ``keep_nodes`` (same shape; rows stay sorted)."""
    rows = np.repeat(np.arange(A.shape[0]), np.diff(A.indptr))
    keep = keep_nodes[rows] & keep_nodes[A.indices]
    indptr = np.zeros(A.shape[0] + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows[keep], minlength=A.shape[0]), out=indptr[1:])
    return sp.csr_array((A.data[keep], A.indices[keep], indptr), shape=A.shape)


def fast_heuristic(
    A: sp.csr_array,
    terminals: npt.NDArray[np.int64],
    *,
    seed: int = 0,
    deadline: float | None = None,
) -> FastResult:
    r"""Near-optimal Steiner tree and a valid lower bound, in compiled code.

    Parameters
    ----------
    A : scipy.sparse.csr_array, shape (n, n)
        Canonical symmetric adjacency (see :mod:`fibreplan.optimise._graph`),
        weights in any unit (metres, GBP).
    terminals : numpy.ndarray of int64
        At least two distinct terminals, all in one connected component.
    seed : int, default 0
        Seed of the choice of roots; the result is a deterministic function
        of ``(A, terminals, seed)`` unless ``deadline`` cuts it short.
    deadline : float, optional
        ``time.perf_counter()`` value after which no new construction,
        polish or recombination round starts.

    Returns
    -------
    FastResult
        Canonical tree edges, their total weight and Wong's dual-ascent bound
        (the best of its runs).

    Notes
    -----
    1. Mehlhorn's distance-network tree, the shortest-path heuristic (SPH)
       [1]_ from two roots, and Wong's dual ascent
       from up to eight root terminals; each ascent yields a lower bound and
       an *ascend-and-prune* tree: the MST of the nodes the root reaches by
       arcs of zero reduced cost, with non-terminal leaves pruned [2]_.
    2. The best SPH tree and the two best ascend-and-prune trees are polished
       by local search: key-vertex elimination and key-path exchange [3]_
       (each removed part is replaced by the MST of the pieces over cheapest
       paths, searched only up to the removed cost), MST of the node set and
       Steiner-vertex insertion, until no move improves.
    3. With at most six terminals and a gap left, the exact optimum by
       Dreyfus and Wagner's dynamic programme (:mod:`._dw`).
    4. Up to two recombination rounds while a gap is left: dual ascent from
       four further roots on the subgraph induced by the nodes of the four
       best trees, ascend-and-prune, local search [4]_.
    5. Perturbation rounds while the gap is wider than 1 %: local search
       on randomly perturbed weights from the best tree (iterated local
       search) or, after a round without improvement, from a fresh SPH
       tree; polished with the true weights and recombined every four
       rounds [4]_. Up to six rounds (four with more than 500 terminals),
       then up to two more while the tree is still 4-6.5 % above the
       bound, each from an ascend-and-prune tree of the perturbed weights:
       the effort follows the gap, counted in rounds, never seconds.

    Every tree is valid; the cost never exceeds Mehlhorn's tree nor the
    MST-pruned SPH tree from the first root (both within ``2 (1 - 1/l)`` of
    the optimum, ``l`` the leaves of an optimal tree). Time per construction
    :math:`O(m \log n)` in practice (dual ascent is :math:`O(m^2)` in the
    worst case), per local-search pass
    :math:`O(\sum_v |\text{subtree}(v)| \bar d \log n)` on the rooted tree.

    References
    ----------
    .. [1] H. Takahashi and A. Matsuyama, "An approximate solution for the
       Steiner problem in graphs", Math. Japonica 24(6):573-577, 1980.
    .. [2] T. Polzin and S. Vahdati Daneshmand, "Improved algorithms for the
       Steiner problem in networks", Discrete Applied Mathematics
       112:263-300, 2001. doi:10.1016/S0166-218X(00)00319-X
    .. [3] E. Uchoa and R. F. Werneck, "Fast local search for Steiner trees in
       graphs", Proc. ALENEX 2010, pp. 1-10. doi:10.1137/1.9781611972900.1
    .. [4] C. C. Ribeiro, E. Uchoa and R. F. Werneck, "A hybrid GRASP with
       perturbations for the Steiner problem in graphs", INFORMS Journal on
       Computing 14(3):228-246, 2002. doi:10.1287/ijoc.14.3.228.116
    """
    search = _Search(A, np.asarray(terminals, dtype=np.int64), seed=seed, deadline=deadline)
    search.construct()
    search.exact()
    search.recombine()
    search.diversify()
    cost, _, tarc = search.elite[0]
    return FastResult(search.g.edges(tarc), float(cost), float(search.lb))


_Cand = tuple[float, int, npt.NDArray[np.bool_], npt.NDArray[np.int64]]


def _node_set(g: _Arrays, tarc: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
    nodes = np.zeros(g.indptr.size - 1, dtype=np.bool_)
    nodes[g.indices[tarc]] = True
    return nodes


def _improve(g: _Arrays, tarc0: npt.NDArray[np.bool_], tdeg0: npt.NDArray[np.int64],
             is_term: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:  # fmt: skip
    """Local search, MST of the node set and vertex insertion, alternated until none improves."""
    tarc, tdeg = tarc0.copy(), tdeg0.copy()
    start = int(np.flatnonzero(is_term)[0])
    for _ in range(_IMPROVE_ROUNDS):
        _jit.local_search(g.indptr, g.indices, g.w, g.rev, tarc, tdeg, is_term, start, 1)
        tarc2, tdeg2 = _jit.mst_prune(g.indptr, g.indices, g.w, g.rev, tdeg > 0, is_term, start)
        if _jit.tree_weight(g.w, tarc2) <= _jit.tree_weight(g.w, tarc):
            tarc, tdeg = tarc2, tdeg2
        if _jit.vertex_insertion(g.indptr, g.indices, g.w, g.rev, tarc, tdeg, is_term) == 0:
            break
    return tarc


class _Search:
    """State of one :func:`fast_heuristic` run: graph, roots, best bound, elite trees."""

    def __init__(
        self, A: sp.csr_array, t: npt.NDArray[np.int64], *, seed: int, deadline: float | None
    ) -> None:
        self.A = A
        self.t = t
        self.is_term = np.zeros(A.shape[0], dtype=np.bool_)
        self.is_term[t] = True
        self.rev = _reverse_index(A)
        self.g = _Arrays(A, self.rev)
        deg = np.diff(self.g.indptr)
        self.first = int(t[np.argmax(deg[t])])
        rng = np.random.default_rng(seed)
        self.rng = rng
        self.roots = [self.first, *rng.permutation(t[t != self.first]).tolist()]
        self.deadline = deadline
        self.lb = 0.0
        self.elite: list[tuple[float, int, npt.NDArray[np.bool_]]] = []
        # effort: light (one ascent, one polish) on many terminals, medium on
        # a big graph, full otherwise; fixed by the input, never by the clock
        self.many = t.size > _MANY_TERMINALS
        big = A.nnz // 2 > _MANY_EDGES or A.shape[0] > _MANY_NODES
        self.full = not (self.many or big)
        # tied weights: perturbation at lower efforts too, but not with many
        # terminals on a big graph (one round costs more than the whole search)
        tied = np.unique(A.data).size <= _TIED * (A.nnz // 2) and not (self.many and big)
        self.n_da = 1 if self.many else (_BIG_DA_ROOTS if big else _DA_ROOTS)
        self.rounds = 0 if self.many else (1 if big else _ROUNDS)
        self.perturb_rounds = _PERTURB_ROUNDS if tied or self.full else 0

    def expired(self) -> bool:
        return self.deadline is not None and time.perf_counter() >= self.deadline

    def closes(self, cost: float) -> bool:
        return cost - self.lb <= _GAP_TOL * max(1.0, cost)

    def proven(self) -> bool:
        return bool(self.elite) and self.closes(self.elite[0][0])

    def pruned(self, node_set: npt.NDArray[np.bool_], root: int) -> _Cand:
        g = self.g
        tarc, tdeg = _jit.mst_prune(g.indptr, g.indices, g.w, g.rev, node_set, self.is_term, root)
        return _jit.tree_weight(g.w, tarc), root, tarc, tdeg

    def ascend_and_prune(
        self, h: _Arrays, rts: list[int], *, bound: bool, ub: float
    ) -> list[_Cand]:
        """Dual ascent from each root on ``h``; the pruned MST of each saturated reach."""
        out: list[_Cand] = []
        for r in rts:
            if out and self.expired():
                break
            low, rc, _ = _jit.dual_ascent(h.indptr, h.indices, h.rev, h.w, self.t, r, -1)
            if bound:
                self.lb = max(self.lb, low)
            out.append(self.pruned(_jit.saturated_reach(h.indptr, h.indices, rc, r), r))
            ub = min(ub, out[-1][0])
            if bound and self.closes(ub):  # optimal already: no further ascent can help
                break
        return out

    def polish(self, cands: list[_Cand], k: int) -> None:
        """Improve the ``k`` cheapest candidates into the elite (stop once proven)."""
        for _, _, tarc0, tdeg0 in sorted(cands, key=lambda c: c[0])[:k]:
            if self.elite and (self.expired() or self.proven()):
                return
            tarc = _improve(self.g, tarc0, tdeg0, self.is_term)
            self.elite.append((_jit.tree_weight(self.g.w, tarc), len(self.elite), tarc))
            self.elite.sort(key=lambda e: (e[0], e[1]))

    def construct(self) -> None:
        """SPH, Mehlhorn and ascend-and-prune trees; polish the best of them."""
        g, t = self.g, self.t
        sph = [
            self.pruned(_jit.sph(g.indptr, g.indices, g.w, self.is_term, t.size, r), r)
            for r in self.roots[:_SPH_ROOTS]
        ]
        # Mehlhorn's tree too (as networkx computes it): the result is never worse
        sph.append(
            self.pruned(_jit.mehlhorn(g.indptr, g.indices, g.w, g.rev, self.is_term), self.first)
        )
        da = self.ascend_and_prune(
            g, self.roots[: self.n_da], bound=True, ub=min(c[0] for c in sph)
        )
        start = min(sph + da, key=lambda c: c[0])
        if self.closes(start[0]):  # proven optimal before any local search
            self.elite.append((start[0], 0, start[2]))
        elif not self.full:  # light or medium effort
            self.polish(sph + da, 1)
        else:
            self.polish(sph, 1)
            self.polish(da, _POLISHED - 1)

    def gap(self) -> float:
        """Relative gap between the best tree and the bound."""
        return (self.elite[0][0] - self.lb) / max(self.lb, _GAP_TOL)

    def exact(self) -> None:
        """With a few terminals and a gap left: the optimum by Dreyfus-Wagner; bound = its cost."""
        k = self.t.size
        if self.proven() or k > _EXACT_TERMINALS or self.A.shape[0] << (k - 1) > _EXACT_CELLS:
            return
        cost, _, tarc, _ = self.pruned(dreyfus_wagner(self.A, self.t), int(self.t[-1]))
        self.elite.insert(0, (cost, -1, tarc))
        self.lb = max(self.lb, cost)

    def diversify(self) -> None:
        """While the bound leaves a gap: local search on randomly perturbed weights, recombined.

        Ties between equal weights (common in small-integer instances) make
        every construction follow the node order; perturbed weights break
        them differently each round [4]_. At full effort a round starts from
        the best tree (iterated local search: a local optimum of the
        perturbed weights, polished with the true ones), except after an odd
        number of rounds in a row without improvement, when it starts afresh
        from an SPH tree of the perturbed weights (SteinLib c17 on one node
        order: 19 from the best tree, 18 with the restarts). There the rounds
        run only while the gap is wider than :data:`_PERTURB_GAP`, up to
        :data:`_PERTURB_MAX_ROUNDS` of them with at most
        :data:`_WIDE_MAX_TERMINALS` terminals, then up to :data:`_TAIL_ROUNDS`
        more, from ascend-and-prune trees of the perturbed weights, while it
        is wider than :data:`_TAIL_GAP` (up to :data:`_TAIL_GAP_MAX`). On big
        graphs every round is an SPH restart.
        """
        coo = sp.triu(self.A, k=1, format="coo")
        wide = self.full and self.t.size <= _WIDE_MAX_TERMINALS
        rounds = max(self.perturb_rounds, _PERTURB_MAX_ROUNDS if wide else 0)
        stalls = 0
        for i in range(rounds + (_TAIL_ROUNDS if wide else 0)):
            if self.proven() or self.expired():
                return
            if self.full and self.gap() <= (_PERTURB_GAP if i < rounds else _TAIL_GAP):
                return
            if i >= rounds and self.gap() > _TAIL_GAP_MAX:
                return
            before = self.elite[0][0]
            noise = 1.0 + _PERTURB * self.rng.random(coo.data.size)
            wp = coo.data * noise
            P = sp.csr_array(
                (np.r_[wp, wp], (np.r_[coo.row, coo.col], np.r_[coo.col, coo.row])),
                shape=self.A.shape,
            )
            P.sort_indices()
            # A's own pattern (P's edges are A's; as many: the same ones), so A's reverse arcs
            same = np.array_equal(P.indices, self.A.indices)
            h = _Arrays(P, self.rev if same else None)
            r = self.roots[int(self.rng.integers(len(self.roots)))]
            if i >= rounds:  # tail: a construction the rounds did not use
                _, rc, _ = _jit.dual_ascent(h.indptr, h.indices, h.rev, h.w, self.t, r, -1)
                nodes = _jit.saturated_reach(h.indptr, h.indices, rc, r)
            elif self.full and stalls % 2 == 0:  # from the best tree (iterated local search)
                nodes = _node_set(self.g, self.elite[0][2])
            else:
                nodes = _jit.sph(h.indptr, h.indices, h.w, self.is_term, self.t.size, r)
            if _PERTURB_LS:  # a local optimum of the perturbed weights
                tarc, tdeg = _jit.mst_prune(h.indptr, h.indices, h.w, h.rev, nodes, self.is_term, r)
                nodes = _node_set(h, _improve(h, tarc, tdeg, self.is_term))
            self.polish([self.pruned(nodes, r)], 1)
            if (i + 1) % _PERTURB_RECOMBINE == 0:
                self.recombine()
            stalls = stalls + 1 if self.elite[0][0] >= before else 0

    def recombine(self) -> None:
        """Ascend-and-prune on the union of the elite trees, while that improves."""
        pos = self.n_da
        for _ in range(self.rounds):
            if self.proven() or self.expired():
                break
            before = self.elite[0][0]
            union = np.zeros(self.A.shape[0], dtype=np.bool_)
            for _, _, tarc in self.elite[:_ELITE]:
                union[self.g.indices[tarc]] = True
            h = _Arrays(_induced(self.A, union))
            rts = [self.roots[(pos + i) % len(self.roots)] for i in range(_ROUND_ROOTS)]
            pos += _ROUND_ROOTS
            self.polish(self.ascend_and_prune(h, rts, bound=False, ub=np.inf), 2)
            if self.elite[0][0] >= before - _GAP_TOL * max(1.0, before):
                break


def _tiny() -> tuple[_Arrays, npt.NDArray[np.bool_], npt.NDArray[np.int64]]:
    """Build a 4-cycle with a chord: terminals 0 and 2, the tree 0-1-2 against the chord."""
    u = np.array([0, 1, 2, 3, 0])
    v = np.array([1, 2, 3, 0, 2])
    w = np.array([1.0, 1.0, 1.0, 1.0, 2.5])
    A = sp.csr_array((np.r_[w, w], (np.r_[u, v], np.r_[v, u])), shape=(4, 4))
    A.sort_indices()
    return _Arrays(A), np.array([True, False, True, False]), np.array([0, 2], dtype=np.int64)


def _warm(group: int) -> None:
    """Compile, or load from the cache, one of the two halves of the kernels."""
    g, is_term, t = _tiny()
    nodes = np.ones(4, dtype=np.bool_)
    if group == 0:
        nodes = _jit.sph(g.indptr, g.indices, g.w, is_term, 2, 0)
        _jit.mehlhorn(g.indptr, g.indices, g.w, g.rev, is_term)
        _, rc, _ = _jit.dual_ascent(g.indptr, g.indices, g.rev, g.w, t, 0, -1)
        _jit.saturated_reach(g.indptr, g.indices, rc, 0)
    tarc, tdeg = _jit.mst_prune(g.indptr, g.indices, g.w, g.rev, nodes, is_term, 0)
    _jit.tree_weight(g.w, tarc)
    if group == 0:
        _jit.vertex_insertion(g.indptr, g.indices, g.w, g.rev, tarc, tdeg, is_term)
    else:
        _jit.local_search(g.indptr, g.indices, g.w, g.rev, tarc, tdeg, is_term, 0, 1)


def _cache_cold() -> bool:
    """Whether numba's disk cache lacks the compiled local search (so compilation is ahead)."""
    try:
        cache = _jit.local_search._cache  # type: ignore[attr-defined]  # noqa: SLF001 - see except
        index = cache._cache_file._load_index()  # noqa: SLF001
    except Exception:  # noqa: BLE001 - a private numba API: if it changed, assume a warm cache
        return False
    return not index


#: The child process compiling one half of the kernels into the cache, if any.
_CHILD: dict[str, subprocess.Popen[bytes]] = {}


def start_kernels() -> bool:
    """Start compiling half of the kernels in a child process, if that is due.

    It is due when numba's disk cache lacks them and a second CPU is there.
    The child compiles the larger half (the constructions, dual ascent and
    vertex insertion) into the cache while this process goes on (loading
    the inputs, building the trench graph); :func:`load_kernels` then
    compiles the other half here and waits for the child.

    Returns
    -------
    bool
        Whether a child was started (now or by an earlier call still running).
    """
    if "child" in _CHILD:
        return True
    if (os.cpu_count() or 1) < 2 or not _cache_cold():
        return False
    code = "from fibreplan.optimise._fast import _warm; _warm(0)"
    _CHILD["child"] = subprocess.Popen(  # noqa: S603 - this interpreter, a fixed command
        [sys.executable, "-c", code], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    return True


def load_kernels() -> float:
    """Compile, or load from numba's disk cache, every kernel of :func:`fast_heuristic`.

    Otherwise each kernel loads at its first use, inside whatever call is
    being timed. Loading from the cache takes about 0.2 s. Compilation
    happens once per machine (numba's ``cache=True``: next to the module, or
    in the user-wide cache directory where that is read-only); when it is
    due and a second CPU is there, one half of the kernels is compiled by a
    child process (see :func:`start_kernels`) into the cache while this one
    compiles the other half (about 11 s of CPU in all, about 6 s of wall
    time on the 2-core development machine).

    Returns
    -------
    float
        Seconds taken.
    """
    t0 = time.perf_counter()
    start_kernels()
    _warm(1)
    child = _CHILD.pop("child", None)
    if child is not None:
        try:
            child.wait(timeout=_CHILD_TIMEOUT)
        except subprocess.TimeoutExpired:  # then compile here; the cache is correct either way
            child.kill()
            child.wait()
    _warm(0)  # loads what the child cached (or compiles it, if the child failed)
    return time.perf_counter() - t0
