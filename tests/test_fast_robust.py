"""Compiled heuristic, any node order and seed: exact trees for few terminals, gap-driven effort."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given
from hypothesis import settings

from fibreplan.optimise._dw import dreyfus_wagner
from fibreplan.optimise._fast import _Arrays
from fibreplan.optimise._fast import _jit
from fibreplan.optimise._fast import fast_heuristic
from fibreplan.optimise._graph import is_steiner_tree

from .test_optimise_heuristic import STEINLIB
from .test_optimise_heuristic import _brute_optimum
from .test_optimise_heuristic import _graph
from .test_optimise_heuristic import _read_stp
from .test_optimise_heuristic import small_instances

#: SteinLib optima (OPTIMA.tsv) of the instances used here.
_OPT = {"c16": 11.0, "c18": 113.0, "d06": 67.0, "d18": 223.0}


def _mst_cost(A: sp.csr_array, nodes: np.ndarray, t: np.ndarray) -> tuple[float, np.ndarray]:
    g = _Arrays(A)
    is_term = np.zeros(A.shape[0], dtype=bool)
    is_term[t] = True
    tarc, _ = _jit.mst_prune(g.indptr, g.indices, g.w, g.rev, nodes, is_term, int(t[0]))
    return _jit.tree_weight(g.w, tarc), g.edges(tarc)


def _relabelled(A: sp.csr_array, t: np.ndarray, k: int) -> tuple[sp.csr_array, np.ndarray]:
    """The instance with its nodes renumbered by a random permutation (k = 0: as given)."""
    n = A.shape[0]
    perm = np.arange(n) if k == 0 else np.random.default_rng(1000 + k).permutation(n)
    coo = A.tocoo()
    B = sp.csr_array((coo.data, (perm[coo.row], perm[coo.col])), shape=A.shape)
    B.sort_indices()
    return B, perm[t]


def _steinlib(name: str) -> tuple[sp.csr_array, np.ndarray]:
    path = STEINLIB / name[0].upper() / f"{name}.stp"
    if not path.exists():
        pytest.skip(f"SteinLib instance {path} not available")
    return _read_stp(path)


def test_dreyfus_wagner_finds_the_steiner_centre() -> None:
    # terminals 0, 1, 2 around a centre 3 (edges 2 each); the terminals'
    # own triangle costs 3.5 per edge, so the MST of the terminals alone is 7
    A = _graph(4, [(0, 1, 3.5), (1, 2, 3.5), (0, 2, 3.5), (0, 3, 2.0), (1, 3, 2.0), (2, 3, 2.0)])
    t = np.array([0, 1, 2])
    nodes = dreyfus_wagner(A, t)
    np.testing.assert_array_equal(nodes, [True, True, True, True])
    assert _mst_cost(A, nodes, t)[0] == 6.0


def test_dreyfus_wagner_two_terminals_is_the_shortest_path() -> None:
    A = _graph(5, [(0, 1, 1.0), (1, 2, 1.0), (2, 4, 1.0), (0, 3, 1.0), (3, 4, 5.0)])
    nodes = dreyfus_wagner(A, np.array([0, 4]))
    np.testing.assert_array_equal(np.flatnonzero(nodes), [0, 1, 2, 4])


@settings(max_examples=150, deadline=None)
@given(small_instances())
def test_dreyfus_wagner_is_optimal(inst: tuple[sp.csr_array, np.ndarray]) -> None:
    A, t = inst
    t = np.unique(t)[:6]
    if t.size < 2:
        return
    cost, edges = _mst_cost(A, dreyfus_wagner(A, t), t)
    ok, why = is_steiner_tree(A, edges, t)
    assert ok, why
    assert cost == pytest.approx(_brute_optimum(A, t))


@settings(max_examples=150, deadline=None)
@given(small_instances())
def test_few_terminals_come_back_proven_optimal(inst: tuple[sp.csr_array, np.ndarray]) -> None:
    A, t = inst
    t = np.unique(t)[:6]
    if t.size < 2:
        return
    res = fast_heuristic(A, t)
    opt = _brute_optimum(A, t)
    assert res.cost == pytest.approx(opt)
    assert res.lower_bound == pytest.approx(opt)


def test_c16_on_the_order_that_trapped_the_heuristic() -> None:
    # 5 terminals: on this relabelling the search alone ended at 12 (optimum 11)
    B, tb = _relabelled(*_steinlib("c16"), 1)
    for seed in range(3):
        res = fast_heuristic(B, tb, seed=seed)
        assert res.cost == _OPT["c16"]
        assert res.lower_bound == _OPT["c16"]


@pytest.mark.parametrize("name", ["c18", "d18"])
def test_hard_instances_within_two_percent_on_any_order(name: str) -> None:
    A, t = _steinlib(name)
    for k in (1, 4):  # the relabellings on which the old search was 2.7-3.1 % above
        B, tb = _relabelled(A, t, k)
        res = fast_heuristic(B, tb, seed=k - 1)
        assert is_steiner_tree(B, res.edges, tb)[0]
        assert res.lower_bound <= _OPT[name] <= res.cost
        assert res.cost <= 1.02 * _OPT[name]


def test_tail_rounds_leave_the_basin_that_trapped_c18() -> None:
    # on this relabelling and seed six perturbation rounds (and four more of
    # the same kind) ended at 116, 2.65 % above the optimum 113; the tail
    # rounds from ascend-and-prune trees of perturbed weights reach 113
    B, tb = _relabelled(*_steinlib("c18"), 16)
    res = fast_heuristic(B, tb, seed=0)
    assert is_steiner_tree(B, res.edges, tb)[0]
    assert res.lower_bound <= _OPT["c18"] <= res.cost <= 1.02 * _OPT["c18"]


def test_gap_driven_search_is_deterministic() -> None:
    # c18: the bound stays 3 % loose, so every perturbation round runs
    B, tb = _relabelled(*_steinlib("c18"), 2)
    a = fast_heuristic(B, tb, seed=1)
    b = fast_heuristic(B, tb, seed=1)
    np.testing.assert_array_equal(a.edges, b.edges)
    assert (a.cost, a.lower_bound) == (b.cost, b.lower_bound)
