"""Tests of method="heuristic" (the compiled heuristic) on hand-built and SteinLib graphs.

Mehlhorn's tree, the 2-approximation networkx computes, comes from the plain
reference in :mod:`tests.steiner_reference`; the heuristic must never be
worse than it.
"""

from __future__ import annotations

import csv
import itertools
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from scipy.sparse import csgraph

from fibreplan.optimise import steiner_tree_csr
from fibreplan.optimise._graph import canonical_csr
from fibreplan.optimise._graph import canonical_edges
from fibreplan.optimise._graph import is_steiner_tree
from fibreplan.optimise._graph import tree_cost

from .steiner_reference import mehlhorn_tree as mst_distance_network_tree

STEINLIB = Path(__file__).resolve().parents[1].parent / "shared" / "benchdata" / "steinlib"


def heuristic_tree(A: sp.csr_array, t: np.ndarray, *, seed: int = 0) -> np.ndarray:
    """The tree of ``method="heuristic"``."""
    return steiner_tree_csr(A, t, method="heuristic", seed=seed).edges


def _graph(n: int, edges: list[tuple[int, int, float]]) -> sp.csr_array:
    u, v, w = zip(*edges, strict=True)
    return canonical_csr(sp.coo_array((w, (u, v)), shape=(n, n)))


def _read_stp(path: Path) -> tuple[sp.csr_array, np.ndarray]:
    try:
        from fibreplan.optimise._stp import read_stp
    except ImportError:
        read_stp = None
    if read_stp is not None:
        return read_stp(path)
    n = 0
    u, v, w, t = [], [], [], []
    for line in path.read_text().splitlines():
        f = line.split()
        if not f:
            continue
        if f[0] == "Nodes":
            n = int(f[1])
        elif f[0] == "E":
            u.append(int(f[1]) - 1)
            v.append(int(f[2]) - 1)
            w.append(float(f[3]))
        elif f[0] == "T":
            t.append(int(f[1]) - 1)
    return canonical_csr(sp.coo_array((w, (u, v)), shape=(n, n))), np.array(t, dtype=np.int64)


def _prim(W: np.ndarray, nodes: list[int]) -> float:
    """MST cost of the subgraph of dense weights W induced by nodes (inf if disconnected)."""
    inside = {nodes[0]}
    best = {x: W[nodes[0], x] for x in nodes[1:]}
    total = 0.0
    while best:
        x = min(best, key=best.__getitem__)
        if not np.isfinite(best[x]):
            return np.inf
        total += best.pop(x)
        inside.add(x)
        for y, dy in best.items():
            best[y] = min(dy, W[x, y])
    return total


def _brute_optimum(A: sp.csr_array, terminals: np.ndarray) -> float:
    """Optimum Steiner tree cost: best MST over terminals plus any Steiner subset."""
    n = A.shape[0]
    W = np.full((n, n), np.inf)
    coo = sp.coo_array(A)
    W[coo.row, coo.col] = coo.data
    t = [int(x) for x in terminals]
    others = [x for x in range(n) if x not in set(t)]
    best = np.inf
    for r in range(len(others) + 1):
        for extra in itertools.combinations(others, r):
            best = min(best, _prim(W, t + list(extra)))
    return best


@st.composite
def small_instances(draw: st.DrawFn) -> tuple[sp.csr_array, np.ndarray]:
    n = draw(st.integers(2, 12))
    # a random spanning tree plus random extra edges keeps the graph connected
    parents = [draw(st.integers(0, i - 1)) for i in range(1, n)]
    pairs = {(p, i) for i, p in zip(range(1, n), parents, strict=True)}
    n_extra = draw(st.integers(0, n * (n - 1) // 2))
    for _ in range(n_extra):
        a = draw(st.integers(0, n - 1))
        b = draw(st.integers(0, n - 1))
        if a != b:
            pairs.add((min(a, b), max(a, b)))
    weights = [float(draw(st.integers(1, 10))) for _ in pairs]
    A = _graph(n, [(a, b, w) for (a, b), w in zip(sorted(pairs), weights, strict=True)])
    k = draw(st.integers(1, n))
    terminals = draw(st.permutations(list(range(n))))[:k]
    return A, np.asarray(terminals, dtype=np.int64)


@settings(max_examples=200, deadline=None)
@given(small_instances())
def test_random_small_graphs_valid_bounded_and_not_worse_than_mehlhorn(
    inst: tuple[sp.csr_array, np.ndarray],
) -> None:
    A, t = inst
    tree = heuristic_tree(A, t)
    ok, why = is_steiner_tree(A, tree, t)
    assert ok, why
    assert tree.dtype == np.int64
    assert tree.shape[1] == 2
    np.testing.assert_array_equal(tree, canonical_edges(tree))
    base = mst_distance_network_tree(A, t)
    ok, why = is_steiner_tree(A, base, t)
    assert ok, why
    cost = tree_cost(A, tree)
    assert cost <= tree_cost(A, base) + 1e-9
    assert cost >= _brute_optimum(A, t) - 1e-9


def test_star_centre_pays_off() -> None:
    # terminals 0, 1, 2 pairwise 4 apart; Steiner centre 3 is 2 from each
    A = _graph(4, [(0, 1, 4.0), (1, 2, 4.0), (0, 2, 4.0), (0, 3, 2.0), (1, 3, 2.0), (2, 3, 2.0)])
    t = np.array([0, 1, 2])
    tree = heuristic_tree(A, t)
    assert tree_cost(A, tree) == pytest.approx(6.0)
    np.testing.assert_array_equal(tree, [[0, 3], [1, 3], [2, 3]])


def test_cycle_drops_the_heaviest_gap() -> None:
    # 6-cycle, unit weights except the 4-5 link; terminals 0, 2, 4
    edges = [(i, (i + 1) % 6, 1.0) for i in range(6)]
    edges[4] = (4, 5, 3.0)
    A = _graph(6, edges)
    t = np.array([0, 2, 4])
    tree = heuristic_tree(A, t)
    assert tree_cost(A, tree) == pytest.approx(4.0)
    np.testing.assert_array_equal(tree, [[0, 1], [1, 2], [2, 3], [3, 4]])


def test_grid_with_steiner_junction_matches_brute_force() -> None:
    # 3 x 3 grid, corner terminals plus the middle of one side
    edges = []
    for r in range(3):
        for c in range(3):
            x = 3 * r + c
            if c < 2:
                edges.append((x, x + 1, 1.0 + 0.1 * r))
            if r < 2:
                edges.append((x, x + 3, 1.0 + 0.1 * c))
    A = _graph(9, edges)
    t = np.array([0, 2, 6, 8, 5])
    tree = heuristic_tree(A, t)
    assert tree_cost(A, tree) == pytest.approx(_brute_optimum(A, t))


def test_mehlhorn_trap_is_escaped() -> None:
    # Mehlhorn joins the terminals along the rim (2 * 1.9); the hub 3 joins
    # all three for 3 * 1.0
    rim = [(0, 1, 1.9), (1, 2, 1.9), (0, 2, 1.9)]
    hub = [(0, 3, 1.0), (1, 3, 1.0), (2, 3, 1.0)]
    A = _graph(4, rim + hub)
    t = np.array([0, 1, 2])
    assert tree_cost(A, mst_distance_network_tree(A, t)) == pytest.approx(3.8)
    assert tree_cost(A, heuristic_tree(A, t)) == pytest.approx(3.0)


def test_one_terminal_gives_empty_tree() -> None:
    A = _graph(3, [(0, 1, 1.0), (1, 2, 1.0)])
    for f in (heuristic_tree, mst_distance_network_tree):
        tree = f(A, np.array([1]))
        assert tree.shape == (0, 2)
        assert tree.dtype == np.int64


def test_two_terminals_give_a_shortest_path() -> None:
    rng = np.random.default_rng(3)
    n = 40
    pairs = {(i, i + 1) for i in range(n - 1)}
    while len(pairs) < 120:
        a, b = sorted(rng.choice(n, 2, replace=False).tolist())
        pairs.add((a, b))
    A = _graph(n, [(a, b, float(rng.uniform(1, 10))) for a, b in sorted(pairs)])
    d = csgraph.dijkstra(A, indices=0)
    for target in (5, 17, 39):
        tree = heuristic_tree(A, np.array([0, target]))
        ok, why = is_steiner_tree(A, tree, [0, target])
        assert ok, why
        assert tree_cost(A, tree) == pytest.approx(d[target])
        assert tree.shape[0] == np.unique(tree).size - 1


def _random_instance(seed: int, n: int = 300, extra: int = 600, k: int = 40):
    rng = np.random.default_rng(seed)
    parents = [int(rng.integers(0, i)) for i in range(1, n)]
    pairs = {(p, i) for i, p in zip(range(1, n), parents, strict=True)}
    while len(pairs) < n - 1 + extra:
        a, b = sorted(rng.choice(n, 2, replace=False).tolist())
        pairs.add((a, b))
    A = _graph(n, [(a, b, float(rng.integers(1, 20))) for a, b in sorted(pairs)])
    return A, rng.choice(n, k, replace=False).astype(np.int64)


def test_same_seed_same_tree() -> None:
    A, t = _random_instance(7)
    first = heuristic_tree(A, t, seed=11)
    again = heuristic_tree(A, t, seed=11)
    np.testing.assert_array_equal(first, again)
    ok, why = is_steiner_tree(A, first, t)
    assert ok, why


def test_heuristic_improves_on_mehlhorn_on_average() -> None:
    costs = []
    for seed in range(4):
        A, t = _random_instance(seed)
        base = tree_cost(A, mst_distance_network_tree(A, t))
        best = tree_cost(A, heuristic_tree(A, t, seed=seed))
        assert best <= base + 1e-9
        costs.append(best / base)
    assert np.mean(costs) < 0.99


def test_time_limit_past_still_returns_a_valid_tree_and_says_so() -> None:
    A, t = _random_instance(2)
    res = steiner_tree_csr(A, t, method="heuristic", time_limit=1e-9)
    ok, why = is_steiner_tree(A, res.edges, t)
    assert ok, why
    assert res.time_limit_hit
    assert res.cost <= tree_cost(A, mst_distance_network_tree(A, t)) + 1e-9
    assert not steiner_tree_csr(A, t, method="heuristic").time_limit_hit


def _optima() -> dict[str, float]:
    with (STEINLIB / "OPTIMA.tsv").open() as fh:
        return {row["name"]: float(row["value"]) for row in csv.DictReader(fh, delimiter="\t")}


@pytest.mark.parametrize("name", ["b01", "b04", "b07", "b10", "b13", "b16", "b17", "b18"])
def test_steinlib_b_within_one_percent(name: str) -> None:
    path = STEINLIB / "B" / f"{name}.stp"
    if not path.exists():
        pytest.skip(f"SteinLib instance {path} not available")
    A, t = _read_stp(path)
    tree = heuristic_tree(A, t)
    ok, why = is_steiner_tree(A, tree, t)
    assert ok, why
    opt = _optima()[name]
    cost = tree_cost(A, tree)
    assert cost >= opt - 1e-9
    assert cost <= opt * 1.01


def test_many_terminals_comb() -> None:
    # a comb: spine 0..k-1 with a terminal tooth on every spine node; more than
    # 46341 terminals would overflow int32 pair keys (k * k > 2**31)
    k = 50_000
    spine = np.arange(k - 1)
    u = np.concatenate([spine, np.arange(k)])
    v = np.concatenate([spine + 1, np.arange(k) + k])
    w = np.concatenate([np.full(k - 1, 2.0), np.full(k, 1.0)])
    A = canonical_csr(sp.coo_array((w, (u, v)), shape=(2 * k, 2 * k)))
    t = np.arange(k, 2 * k, dtype=np.int64)
    tree = heuristic_tree(A, t)
    ok, why = is_steiner_tree(A, tree, t)
    assert ok, why
    assert tree_cost(A, tree) == pytest.approx(2.0 * (k - 1) + k)


def test_other_components_are_ignored() -> None:
    A0, t = _random_instance(5, n=120, extra=200, k=15)
    # append a separate component (a triangle) that holds no terminal
    n = A0.shape[0]
    coo = sp.coo_array(A0)
    u = np.concatenate([coo.row, [n, n + 1, n]])
    v = np.concatenate([coo.col, [n + 1, n + 2, n + 2]])
    w = np.concatenate([coo.data, [1.0, 1.0, 1.0]])
    A = canonical_csr(sp.coo_array((w, (u, v)), shape=(n + 3, n + 3)))
    tree = heuristic_tree(A, t)
    ok, why = is_steiner_tree(A, tree, t)
    assert ok, why
    assert tree.max() < n
    assert tree_cost(A, tree) == pytest.approx(tree_cost(A0, heuristic_tree(A0, t)))


@pytest.mark.parametrize("name", ["c18", "d18"])
def test_steinlib_hard_instances_reach_the_optimum(name: str) -> None:
    path = STEINLIB / name[0].upper() / f"{name}.stp"
    if not path.exists():
        pytest.skip(f"SteinLib instance {path} not available")
    A, t = _read_stp(path)
    res = steiner_tree_csr(A, t, method="heuristic")
    ok, why = is_steiner_tree(A, res.edges, t)
    assert ok, why
    opt = _optima()[name]
    assert res.lower_bound <= opt + 1e-9
    # single local moves stall near 4-5 % above the optimum here
    assert res.cost <= opt * 1.02
