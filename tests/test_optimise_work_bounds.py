"""Work bounds of the compiled kernels: counts, never the clock (issue 9, PACE 2018 track 3).

* The local search searches, per pass, only from the smallest pieces that
  together hold at most ``_LS_WORK_PER_ARC`` nodes per arc; a move from a
  bigger piece is skipped, the same move from a small piece is made. Its
  reconnection searches settle up to ``_LS_SETTLE_PER_NODE`` nodes per node
  of the graph in a pass, shared by the moves (at least ``_LS_SETTLE`` each).
* The dual ascent keeps the ancestor set of a terminal grown twice in a row:
  it must still give the reference's bound, reduced costs and cuts.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from fibreplan.optimise import _jit
from fibreplan.optimise._bound import _ascent_arrays as compiled_dual_ascent
from fibreplan.optimise._bound import dual_ascent_cuts
from fibreplan.optimise._fast import _Arrays
from fibreplan.optimise._fast import fast_heuristic
from fibreplan.optimise._graph import canonical_csr
from fibreplan.optimise._graph import is_steiner_tree

from .steiner_reference import dual_ascent as reference_dual_ascent


def _path_with_detours(
    n: int, dear: list[int]
) -> tuple[_Arrays, np.ndarray, np.ndarray, np.ndarray]:
    """Path ``0 - 1 - ... - n-1`` of unit edges, every node a terminal, the tree the path.

    Each edge ``(j, j + 1)`` for ``j`` in ``dear`` costs 50 instead of 1, and
    a chord ``(j - 1, j + 1)`` of weight 3 (not in the tree) makes the key
    path exchange at ``j + 1`` save 47.
    """
    u = np.arange(n - 1)
    w = np.ones(n - 1)
    w[dear] = 50.0
    cu = np.array(dear) - 1
    cv = np.array(dear) + 1
    A = canonical_csr(
        sp.coo_array(
            (np.r_[w, np.full(len(dear), 3.0)], (np.r_[u, cu], np.r_[u + 1, cv])), shape=(n, n)
        )
    )
    g = _Arrays(A)
    rows = np.repeat(np.arange(n), np.diff(g.indptr))
    tarc = np.abs(rows - g.indices) == 1  # the path's arcs
    tdeg = np.bincount(rows[tarc], minlength=n).astype(np.int64)
    return g, tarc, tdeg, np.ones(n, dtype=np.bool_)


def _bound_cap(n: int, arcs: int) -> int:
    """Piece-size cap of a pass on the path of ``n`` terminals rooted at its middle.

    Every node but the root is a key vertex; the pieces below them have sizes
    1, 1, 2, 2, ... (one per side), so the pieces up to size ``c`` hold
    ``c (c + 1)`` nodes.
    """
    work = min(_jit._LS_WORK, _jit._LS_WORK_PER_ARC * arcs)
    c = 0
    while (c + 1) * (c + 2) <= work:
        c += 1
    return max(_jit._LS_MIN_PIECE, c)


def test_local_search_skips_moves_from_pieces_past_the_work_bound() -> None:
    # 2,001 terminals on a path, rooted at its centroid (node 1000): the
    # exchange at 1991 searches from the 10 nodes below it, the one at 1301
    # from 700 (allowed by the old per-piece cap, 2,000,000 / 2,001 = 999
    # nodes, but not by the work bound: 8 x 4,008 arcs -> pieces of <= 178)
    n = 2001
    g, tarc, tdeg, is_term = _path_with_detours(n, [1300, 1990])
    cap = _bound_cap(n, g.w.size)
    assert 10 <= cap < 700 <= _jit._LS_WORK // n
    before = _jit.tree_weight(g.w, tarc)
    moves = _jit.local_search(g.indptr, g.indices, g.w, g.rev, tarc, tdeg, is_term, 0, 10)
    assert moves == 1
    assert _jit.tree_weight(g.w, tarc) == pytest.approx(before - 47.0)
    rows = np.repeat(np.arange(n), np.diff(g.indptr))
    kept = {(int(a), int(b)) for a, b in zip(rows[tarc], g.indices[tarc], strict=True) if a < b}
    assert (1990, 1991) not in kept
    assert (1989, 1991) in kept
    assert (1300, 1301) in kept  # its piece is past the bound: skipped


def test_local_search_below_the_bound_makes_every_move() -> None:
    # two detours on a 101-node path: every piece (at most 50 nodes) is within the bound
    n = 101
    g, tarc, tdeg, is_term = _path_with_detours(n, [70, 95])
    assert _bound_cap(n, g.w.size) >= n // 2
    before = _jit.tree_weight(g.w, tarc)
    moves = _jit.local_search(g.indptr, g.indices, g.w, g.rev, tarc, tdeg, is_term, 0, 10)
    assert moves == 2
    assert _jit.tree_weight(g.w, tarc) == pytest.approx(before - 2 * 47.0)


def test_local_search_reaches_a_far_reconnection_when_the_pass_has_few_moves() -> None:
    # terminals 0 and 1 joined by a dear edge (1,000); the cheap way round is a
    # path of 300 unit edges through Steiner nodes 2..301: the exchange at 1
    # settles 300 nodes beyond its piece, more than _LS_SETTLE (128), but
    # within _LS_SETTLE_PER_NODE x 302 nodes / 2 moves
    n = 302
    chain = np.r_[1, np.arange(2, n), 0]
    u = np.r_[chain[:-1], 0]
    v = np.r_[chain[1:], 1]
    w = np.r_[np.ones(n - 1), 1000.0]
    A = canonical_csr(sp.coo_array((w, (u, v)), shape=(n, n)))
    assert n - 2 > _jit._LS_SETTLE
    assert _jit._LS_SETTLE_PER_NODE * n // 2 >= n
    g = _Arrays(A)
    rows = np.repeat(np.arange(n), np.diff(g.indptr))
    tarc = ((rows == 0) & (g.indices == 1)) | ((rows == 1) & (g.indices == 0))
    tdeg = np.bincount(rows[tarc], minlength=n).astype(np.int64)
    is_term = np.zeros(n, dtype=np.bool_)
    is_term[[0, 1]] = True
    moves = _jit.local_search(g.indptr, g.indices, g.w, g.rev, tarc, tdeg, is_term, 0, 10)
    assert moves == 1
    assert _jit.tree_weight(g.w, tarc) == pytest.approx(n - 1.0)
    assert np.all(tdeg == 2 - is_term)  # the whole chain, ends of degree 1


def test_work_bound_gives_the_same_tree_on_two_runs() -> None:
    # 1,000 terminals on a 3,000-node grid-like graph: the bound binds on the
    # heuristic's trees (about 2,000 nodes), and counts, never the clock, decide
    rng = np.random.default_rng(5)
    side = 55
    idx = np.arange(side * side).reshape(side, side)
    u = np.r_[idx[:-1, :].ravel(), idx[:, :-1].ravel()]
    v = np.r_[idx[1:, :].ravel(), idx[:, 1:].ravel()]
    w = rng.integers(1, 1000, u.size).astype(float)
    A = canonical_csr(sp.coo_array((w, (u, v)), shape=(side * side, side * side)))
    t = np.sort(rng.choice(side * side, 1000, replace=False)).astype(np.int64)
    a = fast_heuristic(A, t, seed=3)
    b = fast_heuristic(A, t, seed=3)
    ok, why = is_steiner_tree(A, a.edges, t)
    assert ok, why
    np.testing.assert_array_equal(a.edges, b.edges)
    assert a.cost == b.cost
    assert a.lower_bound == b.lower_bound <= a.cost


@pytest.mark.parametrize(("seed", "n_terminals"), [(0, 2), (1, 2), (2, 5), (3, 12)])
def test_dual_ascent_growing_one_terminal_in_a_row_equals_the_reference(
    seed: int, n_terminals: int
) -> None:
    # with two terminals every step grows the same one (the kept ancestor set
    # is extended each time); with more, runs of one terminal alternate with
    # searches afresh; small integer weights make ties
    rng = np.random.default_rng(seed)
    side = 14
    idx = np.arange(side * side).reshape(side, side)
    u = np.r_[idx[:-1, :].ravel(), idx[:, :-1].ravel()]
    v = np.r_[idx[1:, :].ravel(), idx[:, 1:].ravel()]
    w = rng.integers(1, 6, u.size).astype(float)
    A = canonical_csr(sp.coo_array((w, (u, v)), shape=(side * side, side * side)))
    t = np.sort(rng.choice(side * side, n_terminals, replace=False)).astype(np.int64)
    root = int(t[0])
    ref_lb, ref_rc, ref_cuts = reference_dual_ascent(A, t, root)
    lb, rc, steps = compiled_dual_ascent(A, t, root)
    assert steps == len(ref_cuts) >= 10
    assert lb == ref_lb
    np.testing.assert_array_equal(rc, ref_rc)
    cuts = dual_ascent_cuts(A, t, root=root, max_steps=steps + 1)
    assert [c.tolist() for c in cuts] == ref_cuts
