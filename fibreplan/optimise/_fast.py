"""Fast Steiner heuristic: ascend-and-prune, SPH, local search and recombination.

Everything here runs the compiled kernels of :mod:`fibreplan.optimise._jit`
on one graph; this module only chooses the roots and keeps the elite trees.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from fibreplan.optimise import _jit
from fibreplan.optimise._bound import _reverse_index

__all__ = ["FastResult", "fast_heuristic", "load_kernels"]

#: Shortest-path-heuristic constructions (from the best-connected terminal, then random ones).
_SPH_ROOTS = 2
#: Dual-ascent runs, each from another root terminal, each giving an ascend-and-prune tree.
_DA_ROOTS = 12
#: Above this many terminals (street networks: every premises is one) the
#: constructions are already within about 0.1 % and every local-search pass
#: costs O(|T| depth): one dual ascent, and only the best construction is
#: polished, without recombination.
_MANY_TERMINALS = 1_000
#: Constructions polished by local search (the best SPH tree and the best DA trees).
_POLISHED = 3
#: Recombination rounds: dual ascent on the union of the elite trees.
_ROUNDS = 2
_ELITE = 4
_ROUND_ROOTS = 4
#: Improvement rounds (local search pass, MST of the node set, vertex insertion).
_IMPROVE_ROUNDS = 20
_GAP_TOL = 1e-9


@dataclass(frozen=True)
class FastResult:
    """Tree and bound of :func:`fast_heuristic` (edges canonical, ``u < v``)."""

    edges: npt.NDArray[np.int64]
    cost: float
    lower_bound: float


class _Arrays:
    """CSR arrays of a graph with every row sorted by weight, and reverse arcs."""

    def __init__(self, A: sp.csr_array) -> None:
        n = A.shape[0]
        rows = np.repeat(np.arange(n, dtype=np.int64), np.diff(A.indptr))
        w = A.data.astype(np.float64)
        order = np.lexsort((w, rows))
        where = np.empty_like(order)
        where[order] = np.arange(order.size)
        self.indptr = A.indptr.astype(np.int64)
        self.indices = A.indices.astype(np.int64)[order]
        self.w = w[order]
        self.rev = where[_reverse_index(A)[order]]

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
       from up to twelve root terminals; each ascent yields a lower bound and
       an *ascend-and-prune* tree: the MST of the nodes the root reaches by
       arcs of zero reduced cost, with non-terminal leaves pruned [2]_.
    2. The best SPH tree and the two best ascend-and-prune trees are polished
       by local search: key-vertex elimination and key-path exchange [3]_
       (each removed part is replaced by the MST of the pieces over cheapest
       paths, searched only up to the removed cost), MST of the node set and
       Steiner-vertex insertion, until no move improves.
    3. Up to two recombination rounds while a gap is left: dual ascent from
       four further roots on the subgraph induced by the nodes of the four
       best trees, ascend-and-prune, local search [4]_.

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
    t = np.asarray(terminals, dtype=np.int64)
    n = A.shape[0]
    is_term = np.zeros(n, dtype=np.bool_)
    is_term[t] = True
    rng = np.random.default_rng(seed)
    g = _Arrays(A)
    deg = np.diff(g.indptr)
    first = int(t[np.argmax(deg[t])])
    roots = [first, *rng.permutation(t[t != first]).tolist()]
    lb = 0.0
    elite: list[tuple[float, int, npt.NDArray[np.bool_]]] = []

    def expired() -> bool:
        return deadline is not None and time.perf_counter() >= deadline

    def pruned(node_set: npt.NDArray[np.bool_], root: int) -> tuple[float, int, object, object]:
        tarc, tdeg = _jit.mst_prune(g.indptr, g.indices, g.w, g.rev, node_set, is_term, root)
        return _jit.tree_weight(g.w, tarc), root, tarc, tdeg

    def closes(cost: float) -> bool:
        return cost - lb <= _GAP_TOL * max(1.0, cost)

    def ascend_and_prune(h: _Arrays, rts: list[int], *, bound: bool, ub: float) -> list:
        nonlocal lb
        out = []
        for r in rts:
            if out and expired():
                break
            low, rc, _ = _jit.dual_ascent(h.indptr, h.indices, h.rev, h.w, t, r, -1)
            if bound:
                lb = max(lb, low)
            out.append(pruned(_jit.saturated_reach(h.indptr, h.indices, rc, r), r))
            ub = min(ub, out[-1][0])
            if bound and closes(ub):  # optimal already: no further ascent can help
                break
        return out

    def proven() -> bool:
        return bool(elite) and closes(elite[0][0])

    def polish(cands: list, k: int) -> None:
        for _, _, tarc0, tdeg0 in sorted(cands, key=lambda c: c[0])[:k]:
            if elite and (expired() or proven()):
                return
            tarc, _ = _jit.improve(
                g.indptr, g.indices, g.w, g.rev, tarc0, tdeg0, is_term, _IMPROVE_ROUNDS, 1
            )
            elite.append((_jit.tree_weight(g.w, tarc), len(elite), tarc))
            elite.sort(key=lambda e: (e[0], e[1]))

    sph = [
        pruned(_jit.sph(g.indptr, g.indices, g.w, is_term, t.size, r), r)
        for r in roots[:_SPH_ROOTS]
    ]
    # Mehlhorn's tree too (as networkx computes it): the result is never worse
    sph.append(pruned(_jit.mehlhorn(g.indptr, g.indices, g.w, g.rev, is_term), first))
    many = t.size > _MANY_TERMINALS
    n_da = 1 if many else _DA_ROOTS
    da = ascend_and_prune(g, roots[:n_da], bound=True, ub=min(c[0] for c in sph))
    start = min(sph + da, key=lambda c: c[0])
    if closes(start[0]):  # proven optimal before any local search
        elite.append((start[0], 0, start[2]))
    elif many:
        polish(sph + da, 1)
    else:
        polish(sph, 1)
        polish(da, _POLISHED - 1)
    pos = n_da
    for _ in range(0 if many else _ROUNDS):
        if proven() or expired():
            break
        before = elite[0][0]
        union = np.zeros(n, dtype=np.bool_)
        for _, _, tarc in elite[:_ELITE]:
            union[g.indices[tarc]] = True
        h = _Arrays(_induced(A, union))
        rts = [roots[(pos + i) % len(roots)] for i in range(_ROUND_ROOTS)]
        pos += _ROUND_ROOTS
        polish(ascend_and_prune(h, rts, bound=False, ub=np.inf), 2)
        if elite[0][0] >= before - _GAP_TOL * max(1.0, before):
            break
    cost, _, tarc = elite[0]
    return FastResult(g.edges(tarc), float(cost), float(lb))


def load_kernels() -> float:
    """Compile, or load from numba's disk cache, every kernel of :func:`fast_heuristic`.

    Otherwise each kernel loads at its first use, inside whatever call is
    being timed. Compilation happens once per machine (about 15 s);
    loading from the cache takes about 0.2 s.

    Returns
    -------
    float
        Seconds taken.
    """
    t0 = time.perf_counter()
    # a 4-cycle with a chord: terminals 0 and 2, the tree 0-1-2 against the chord
    u = np.array([0, 1, 2, 3, 0])
    v = np.array([1, 2, 3, 0, 2])
    w = np.array([1.0, 1.0, 1.0, 1.0, 2.5])
    A = sp.csr_array((np.r_[w, w], (np.r_[u, v], np.r_[v, u])), shape=(4, 4))
    A.sort_indices()
    g = _Arrays(A)
    is_term = np.array([True, False, True, False])
    t = np.array([0, 2], dtype=np.int64)
    nodes = _jit.sph(g.indptr, g.indices, g.w, is_term, 2, 0)
    tarc, tdeg = _jit.mst_prune(g.indptr, g.indices, g.w, g.rev, nodes, is_term, 0)
    _jit.local_search(g.indptr, g.indices, g.w, g.rev, tarc, tdeg, is_term, 0, 1)
    _jit.vertex_insertion(g.indptr, g.indices, g.w, g.rev, tarc, tdeg, is_term)
    _jit.improve(g.indptr, g.indices, g.w, g.rev, tarc, tdeg, is_term, 1, 1)
    _, rc, _ = _jit.dual_ascent(g.indptr, g.indices, g.rev, g.w, t, 0, -1)
    _jit.saturated_reach(g.indptr, g.indices, rc, 0)
    _jit.tree_weight(g.w, tarc)
    _jit.mehlhorn(g.indptr, g.indices, g.w, g.rev, is_term)
    return time.perf_counter() - t0
