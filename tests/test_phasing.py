"""Phasing: frontier, exact budget plan (against brute force) and dig-once phases."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from fibreplan._errors import InputValidationError
from fibreplan.phasing import RootedTree
from fibreplan.phasing import best_within_budget
from fibreplan.phasing import frontier
from fibreplan.phasing import phases

# A toy tree rooted at 0 (GBP per edge):
#        0
#   10 /   \ 50
#     1     2
#  5 / \ 40   \ 5
#   3   4      5
#               \ 100
#                6
EDGES = np.array([[0, 1], [0, 2], [1, 3], [1, 4], [2, 5], [5, 6]], dtype=np.int64)
COST = np.array([10.0, 50.0, 5.0, 40.0, 5.0, 100.0])
TARGET = np.array([0, 1, 0, 2, 3, 4, 5], dtype=np.int64)  # eligible premises per node
ALL = np.array([0, 2, 1, 2, 3, 4, 6], dtype=np.int64)  # all premises (some not eligible)
PER_PREMISES = 1.0  # GBP per premises passed (the plan's other build items)


def _tree(per: float = PER_PREMISES) -> RootedTree:
    return RootedTree.build(EDGES, COST, 0, ALL * per)


def _brute_force(tree: RootedTree, budget: float) -> int:
    """Most target premises of any connected node set holding the root within the budget."""
    best = 0
    others = range(1, 7)
    for r in range(7):
        for subset in itertools.combinations(others, r):
            nodes = {0, *subset}
            if any(int(tree.parent[v]) not in nodes for v in subset):
                continue  # not connected to the root
            spend = sum(tree.step_cost_gbp[v] for v in nodes)
            if spend <= budget + 1e-9:
                best = max(best, int(TARGET[list(nodes)].sum()))
    return best


def test_rooted_tree_step_costs_by_hand() -> None:
    t = _tree()
    # node 4: edge 40 + its 3 premises at GBP 1; node 6: edge 100 + 6 premises
    assert t.step_cost_gbp[4] == pytest.approx(43.0)
    assert t.step_cost_gbp[6] == pytest.approx(106.0)
    assert t.step_cost_gbp[0] == 0.0
    assert t.parent.tolist() == [-1, 0, 0, 1, 1, 2, 5]


def test_not_a_tree_is_refused() -> None:
    with pytest.raises(InputValidationError, match="do not form one tree"):
        RootedTree.build(np.array([[0, 1], [2, 3]]), np.array([1.0, 1.0]), 0, np.zeros(4))


def test_frontier_monotone_nested_and_complete() -> None:
    t = _tree()
    fr = frontier(t, TARGET, ALL)
    assert np.all(np.diff(fr.spend_gbp) >= 0)
    assert np.all(np.diff(fr.passed) >= 0)
    assert fr.passed[-1] == TARGET.sum()
    assert fr.passed_all[-1] == ALL.sum()
    # the whole tree is built once: total spend = every edge + every premises
    assert fr.spend_gbp[-1] == pytest.approx(COST.sum() + ALL.sum() * PER_PREMISES)
    assert (fr.edge_step >= 1).all()  # every edge built in a step after the root's
    # by hand (step cost = edge + premises): path to 3 via 1 is 12 + 7 = 19 GBP for 1 + 2
    # eligible (6.33 each), to 4 via 1 is 55 for 4 (13.75), to 5 via 2 is 60 for 4 (15);
    # then 4 alone 43 for 3 (14.33) before 5 (15), and 6 last (106 for 5)
    assert fr.node_step[[1, 3, 4, 2, 5, 6]].tolist() == [1, 1, 2, 3, 3, 4]
    np.testing.assert_allclose(fr.spend_gbp, [0.0, 19.0, 62.0, 122.0, 228.0])
    assert fr.passed.tolist() == [0, 3, 6, 10, 15]


def test_frontier_is_reproducible() -> None:
    a, b = frontier(_tree(), TARGET, ALL), frontier(_tree(), TARGET, ALL)
    np.testing.assert_array_equal(a.spend_gbp, b.spend_gbp)
    np.testing.assert_array_equal(a.node_step, b.node_step)


def test_anchors_are_built_first() -> None:
    anchors = np.zeros(7, dtype=np.int64)
    anchors[6] = 1  # the dearest leaf holds a school
    fr = frontier(_tree(), TARGET, ALL, anchors=anchors)
    assert fr.node_step[6] == 1
    assert fr.node_step[5] == 1


@pytest.mark.parametrize("budget", [0.0, 10.0, 18.0, 59.0, 60.0, 75.0, 120.0, 170.0, 300.0])
def test_budget_plan_is_exact_and_within_budget(budget: float) -> None:
    t = _tree()
    chosen, spend, passed = best_within_budget(t, TARGET, budget)
    assert spend <= budget + 1e-9
    assert passed == _brute_force(t, budget)
    assert spend == pytest.approx(t.step_cost_gbp[chosen].sum())
    assert passed == int(TARGET[chosen].sum())
    # connected: every chosen node's parent is chosen
    assert all(chosen[t.parent[v]] for v in np.flatnonzero(chosen) if v != 0)
    # the greedy frontier never beats the exact plan at the same budget
    assert frontier(t, TARGET, ALL).at_budget(budget)[2] <= passed


def test_budget_plan_on_random_trees_matches_brute_force() -> None:
    rng = np.random.default_rng(7)
    for _ in range(20):
        parent = [int(rng.integers(0, v)) for v in range(1, 7)]
        edges = np.array([[p, v] for v, p in zip(range(1, 7), parent, strict=True)])
        cost = rng.integers(0, 50, 6).astype(float)
        target = rng.integers(0, 4, 7)
        t = RootedTree.build(edges, cost, 0, np.zeros(7))
        for budget in (0.0, 20.0, 60.0, 120.0):
            best = 0
            for r in range(7):
                for subset in itertools.combinations(range(1, 7), r):
                    nodes = {0, *subset}
                    if any(int(t.parent[v]) not in nodes for v in subset):
                        continue
                    if sum(t.step_cost_gbp[v] for v in nodes) <= budget:
                        best = max(best, int(target[list(nodes)].sum()))
            assert best_within_budget(t, target, budget)[2] == best


@pytest.mark.parametrize(("count", "phase_budget"), [(1, None), (2, None), (3, None), (None, 70.0)])
def test_phases_dig_once_and_add_up(count: int | None, phase_budget: float | None) -> None:
    fr = frontier(_tree(), TARGET, ALL)
    ph = phases(fr, count=count, phase_budget_gbp=phase_budget)
    assert ph[0] == 1
    assert np.all(np.diff(ph) >= 0)  # phases follow the frontier
    step_spend = np.diff(fr.spend_gbp, prepend=0.0)
    by_phase = np.bincount(ph, weights=step_spend)
    assert by_phase.sum() == pytest.approx(fr.spend_gbp[-1])  # spend adds up to the total
    # each edge is charged once: in the phase of the step that digs it
    edge_phase = ph[fr.edge_step]
    assert edge_phase.size == EDGES.shape[0]
    assert np.bincount(edge_phase).sum() == EDGES.shape[0]
    if count is not None:
        assert ph.max() <= count
    if phase_budget is not None:
        steps_in = np.bincount(ph)
        # within the phase budget, unless one step alone is dearer (node 6: GBP 106)
        assert ((by_phase[1:] <= phase_budget + 1e-9) | (steps_in[1:] == 1)).all()
        assert ph.tolist() == [1, 1, 1, 2, 3]  # 19 + 43 = 62; + 60 > 70; 106 alone


def test_phases_need_one_option() -> None:
    fr = frontier(_tree(), TARGET, ALL)
    with pytest.raises(InputValidationError, match="exactly one"):
        phases(fr)
    with pytest.raises(InputValidationError, match="at least 1"):
        phases(fr, count=0)
