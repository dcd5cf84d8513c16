"""Compiled kernels: the array heap, heapsort, the insertion filter, tie robustness, the cache."""

from __future__ import annotations

import heapq
import os
import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse as sp

from fibreplan.optimise import _jit
from fibreplan.optimise._fast import fast_heuristic
from fibreplan.optimise._reduce import reduce_instance


def test_heap_pops_in_heapq_order_and_grows() -> None:
    rng = np.random.default_rng(0)
    keys = rng.integers(0, 5, 300).astype(float)  # many ties: the value breaks them
    vals = rng.permutation(300)
    hk, hv, hn = _jit._new_heap(4)
    ref: list[tuple[float, int]] = []
    out, expect = [], []
    for i in range(300):
        hk, hv, hn = _jit._hpush(hk, hv, hn, keys[i], vals[i])
        heapq.heappush(ref, (keys[i], int(vals[i])))
        if i % 3 == 2:  # interleave pops
            k, v, hn = _jit._hpop(hk, hv, hn)
            out.append((k, v))
            expect.append(heapq.heappop(ref))
    while hn:
        k, v, hn = _jit._hpop(hk, hv, hn)
        out.append((k, v))
        expect.append(heapq.heappop(ref))
    assert out == expect
    assert hk.size >= 200  # it grew from 16


def test_sort_pairs_sorts_by_key_then_value() -> None:
    keys = np.array([3.0, 1.0, 2.0, 1.0, 3.0, 0.5])
    vals = np.array([0, 9, 4, 2, 1, 7], dtype=np.int64)
    sk, sv = _jit._sort_pairs(keys, vals, 5)  # the first 5 pairs only
    assert sk.tolist() == [1.0, 1.0, 2.0, 3.0, 3.0]
    assert sv.tolist() == [2, 9, 4, 0, 1]


@pytest.mark.parametrize(
    ("vw", "ws", "may"),
    [
        ([1.0, 1.0], [1.0, 1.0, 5.0], True),  # 1 + 1 < 5: replace the 5-edge
        ([3.0, 3.0], [1.0, 1.0, 5.0], False),  # 6 >= 5
        ([2.0, 2.0, 2.0], [1.0, 3.0, 3.0], False),  # 4 >= 3 and 6 >= 6
        ([2.0, 2.0, 2.0], [1.0, 3.0, 3.5], True),  # 6 < 6.5 with three edges
    ],
)
def test_insertion_filter_is_the_exchange_bound(
    vw: list[float], ws: list[float], may: bool
) -> None:
    assert _jit._may_insert(np.array(vw), len(vw), np.array(ws)) is may


def _grid(side: int) -> sp.csr_array:
    idx = np.arange(side * side).reshape(side, side)
    u = np.r_[idx[:-1, :].ravel(), idx[:, :-1].ravel()]
    v = np.r_[idx[1:, :].ravel(), idx[:, 1:].ravel()]
    w = np.ones(u.size)
    n = side * side
    return sp.csr_array((np.r_[w, w], (np.r_[u, v], np.r_[v, u])), shape=(n, n))


def test_unit_grid_corners_optimal_for_any_node_order_and_seed() -> None:
    # 4 corners of a 6x6 unit grid (side 5): the optimum is 3 * 5 = 15 (an H),
    # every edge ties with many others, so only the node order breaks ties
    A0 = _grid(6)
    corners = np.array([0, 5, 30, 35])
    n = A0.shape[0]
    for k in range(4):
        perm = np.arange(n) if k == 0 else np.random.default_rng(k).permutation(n)
        coo = A0.tocoo()
        A = sp.csr_array((coo.data, (perm[coo.row], perm[coo.col])), shape=A0.shape)
        A.sort_indices()
        for seed in range(5):
            res = fast_heuristic(A, perm[corners], seed=seed)
            assert res.cost == 15.0
            assert res.lower_bound <= 15.0
            assert res.edges.shape == (15, 2)


def test_same_input_and_seed_give_the_same_tree() -> None:
    rng = np.random.default_rng(3)
    n = 400
    u = rng.integers(0, n, 2400)
    v = rng.integers(0, n, 2400)
    keep = u != v
    w = rng.integers(1, 10, keep.sum()).astype(float)
    A = sp.csr_array(
        (np.r_[w, w], (np.r_[u[keep], v[keep]], np.r_[v[keep], u[keep]])), shape=(n, n)
    )
    A.sum_duplicates()
    _, comp = sp.csgraph.connected_components(A, directed=False)
    t = np.flatnonzero(comp == comp[0])[:60]
    a = fast_heuristic(A, t, seed=2)
    b = fast_heuristic(A, t, seed=2)
    assert np.array_equal(a.edges, b.edges)
    assert a.cost == b.cost
    assert a.lower_bound == b.lower_bound


def test_reduction_without_the_distance_test_keeps_what_only_it_deletes() -> None:
    # K4, terminals 0 and 1, every node of degree 3 (no degree test applies);
    # edge 2-3 (10) is dearer than the special distance 1 through terminal 0
    u = np.array([0, 0, 1, 0, 1, 2])
    v = np.array([1, 2, 2, 3, 3, 3])
    w = np.array([1.0, 1.0, 1.0, 1.0, 1.0, 10.0])
    A = sp.csr_array((np.r_[w, w], (np.r_[u, v], np.r_[v, u])), shape=(4, 4))
    A.sort_indices()
    t = np.array([0, 1])
    with_sd = reduce_instance(A, t, rounds=1)
    without = reduce_instance(A, t, rounds=1, distance=False)
    assert with_sd.A.nnz // 2 == 5
    assert with_sd.A[2, 3] == 0.0
    assert without.A.nnz // 2 == 6
    assert without.A[2, 3] == 10.0
    assert without.fixed_cost == 0.0
    assert without.terminals.tolist() == [0, 1]


def test_load_kernels_fills_an_empty_cache(tmp_path) -> None:
    # a fresh numba cache folder: cold before, warm after; start_kernels starts
    # the child (one half) at once, load_kernels compiles the other half and
    # waits for it, and a later start_kernels has nothing to do
    code = (
        "from fibreplan.optimise._fast import _cache_cold, load_kernels, start_kernels\n"
        "print(_cache_cold(), start_kernels()); load_kernels()\n"
        "print(_cache_cold(), start_kernels())\n"
    )
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    two_cpus = (os.cpu_count() or 1) > 1
    assert out == ["True", str(two_cpus), "False", "False"]
    cached = {p.name.split(".")[1].rsplit("-", 1)[0] for p in tmp_path.rglob("*.nbi")}
    # both halves are in the cache: the child's (sph, dual ascent, ...) and this process's
    assert {"sph", "mehlhorn", "dual_ascent", "vertex_insertion", "local_search"} <= cached
