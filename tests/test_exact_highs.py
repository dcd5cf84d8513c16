"""The exact stage does not depend on who used HiGHS before it in the process."""

from __future__ import annotations

import logging

import highspy
import numpy as np
import pytest
import scipy.sparse as sp

from fibreplan.optimise import steiner_tree_csr


def _grid_instance() -> tuple[sp.csr_array, np.ndarray]:
    """A 12 x 12 grid, weights 1-3, 20 terminals: the heuristic's bound leaves a gap of 1."""
    rng = np.random.default_rng(1)
    n = 12
    idx = np.arange(n * n).reshape(n, n)
    u = np.r_[idx[:, :-1].ravel(), idx[:-1, :].ravel()]
    v = np.r_[idx[:, 1:].ravel(), idx[1:, :].ravel()]
    w = rng.integers(1, 4, size=u.size).astype(float)
    A = sp.csr_array((np.r_[w, w], (np.r_[u, v], np.r_[v, u])), shape=(n * n, n * n))
    A.sort_indices()
    t = np.sort(rng.choice(n * n, size=20, replace=False))
    return A, t


def _start_scheduler_with_two_threads() -> None:
    """Do what another HiGHS user in the process may do: a MIP on two threads."""
    highspy.Highs.resetGlobalScheduler(True)  # noqa: FBT003
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)  # noqa: FBT003
    h.setOptionValue("threads", 2)
    h.addVar(0.0, 1.0)
    h.changeColCost(0, 1.0)
    h.changeColsIntegrality(1, np.array([0], dtype=np.int32), np.array([1], dtype=np.uint8))
    assert h.run() == highspy.HighsStatus.kOk


def test_exact_same_answer_after_another_highs_user(caplog: pytest.LogCaptureFixture) -> None:
    A, t = _grid_instance()
    clean = steiner_tree_csr(A, t, method="exact")
    assert clean.optimal
    assert clean.cost == 80.0  # the heuristic alone stops at 80 with a bound of 79
    assert steiner_tree_csr(A, t, method="heuristic").lower_bound < 80.0
    _start_scheduler_with_two_threads()
    with caplog.at_level(logging.WARNING, logger="fibreplan.optimise._exact"):
        after = steiner_tree_csr(A, t, method="exact")
    assert "HiGHS LP stopped" not in caplog.text
    assert after.optimal
    assert after.cost == clean.cost
    assert after.lower_bound == clean.lower_bound
    assert np.array_equal(after.edges, clean.edges)
