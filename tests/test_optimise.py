"""Tests of the Steiner tree optimiser (fibreplan.optimise)."""

from __future__ import annotations

import csv
import itertools
import math
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from scipy.sparse import csgraph

from fibreplan._errors import DisconnectedTerminalsError
from fibreplan._errors import InputValidationError
from fibreplan.optimise import SteinerResult
from fibreplan.optimise import read_stp
from fibreplan.optimise import steiner_tree
from fibreplan.optimise import steiner_tree_csr
from fibreplan.optimise._bound import dual_ascent
from fibreplan.optimise._bound import reduced_cost_fixing
from fibreplan.optimise._exact import solve_exact
from fibreplan.optimise._graph import canonical_csr
from fibreplan.optimise._graph import is_steiner_tree
from fibreplan.optimise._graph import tree_cost
from fibreplan.optimise._reduce import reduce_instance

STEINLIB = Path(__file__).resolve().parents[1].parent / "shared" / "benchdata" / "steinlib"


# ---------------------------------------------------------------- helpers
def brute_force(A: sp.csr_array, terminals: np.ndarray) -> float:
    """Optimum by enumerating Steiner-node subsets and taking MSTs."""
    n = A.shape[0]
    t = sorted(set(terminals.tolist()))
    if len(t) <= 1:
        return 0.0
    others = [v for v in range(n) if v not in t]
    best = math.inf
    for r in range(len(others) + 1):
        for extra in itertools.combinations(others, r):
            nodes = np.asarray(t + list(extra))
            sub = A[nodes][:, nodes]
            ncomp, _ = csgraph.connected_components(sub, directed=False)
            if ncomp != 1:
                continue
            best = min(best, float(csgraph.minimum_spanning_tree(sub).sum()))
    return best


@st.composite
def instances(draw, *, max_nodes: int = 9, integer: bool = True):
    n = draw(st.integers(2, max_nodes))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    # random spanning tree keeps it connected, then extra edges
    edges = {(int(rng.integers(0, v)), v) for v in range(1, n)}
    extra = draw(st.integers(0, n * (n - 1) // 2))
    for _ in range(extra):
        u, v = sorted(rng.choice(n, size=2, replace=False).tolist())
        edges.add((u, v))
    e = np.asarray(sorted(edges))
    w = rng.integers(1, 10, size=len(e)).astype(float) if integer else rng.uniform(0.1, 5, len(e))
    A = canonical_csr(sp.coo_array((w, (e[:, 0], e[:, 1])), shape=(n, n)))
    k = draw(st.integers(1, n))
    t = rng.choice(n, size=k, replace=False).astype(np.int64)
    return A, t


def to_nx(A: sp.csr_array) -> nx.Graph:
    G = nx.Graph()
    G.add_nodes_from(range(A.shape[0]))
    coo = sp.triu(A, k=1, format="coo")
    for u, v, w in zip(coo.row.tolist(), coo.col.tolist(), coo.data.tolist(), strict=True):
        G.add_edge(u, v, weight=w)
    return G


def check_tree(A: sp.csr_array, res: SteinerResult, t: np.ndarray) -> None:
    ok, why = is_steiner_tree(A, res.edges, t)
    assert ok, why
    assert res.cost == pytest.approx(tree_cost(A, res.edges))
    assert res.lower_bound <= res.cost + 1e-9


FAST = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# ---------------------------------------------------------------- properties
@FAST
@given(instances())
def test_exact_equals_brute_force(inst):
    A, t = inst
    opt = brute_force(A, t)
    res = steiner_tree_csr(A, t, method="exact")
    check_tree(A, res, t)
    assert res.optimal
    assert res.cost == pytest.approx(opt)
    assert res.lower_bound == pytest.approx(opt)


@FAST
@given(instances(integer=False))
def test_branch_and_cut_without_reductions(inst):
    A, t = inst
    t = np.unique(t)
    if t.size < 2:
        return
    opt = brute_force(A, t)
    ex = solve_exact(A, t)
    assert ex.optimal
    assert ex.cost == pytest.approx(opt)
    assert ex.lower_bound <= opt + 1e-9
    ok, why = is_steiner_tree(A, ex.edges, t)
    assert ok, why


@FAST
@given(instances(integer=False))
def test_heuristic_bound_is_valid(inst):
    A, t = inst
    opt = brute_force(A, t)
    res = steiner_tree_csr(A, t, method="heuristic")
    check_tree(A, res, t)
    assert res.lower_bound <= opt + 1e-9
    assert res.cost >= opt - 1e-9
    if res.optimal:
        assert res.cost == pytest.approx(opt)


@FAST
@given(instances())
def test_dual_ascent_and_fixing_keep_optimum(inst):
    A, t = inst
    t = np.unique(t)
    if t.size < 2:
        return
    opt = brute_force(A, t)
    da = dual_ascent(A, t)
    assert da.lower_bound <= opt + 1e-9
    assert np.all(da.reduced.data >= 0)
    A2, _ = reduced_cost_fixing(A, t, da, opt)
    assert brute_force(A2, t) == pytest.approx(opt)
    # stopped at once, the dual is still feasible: a valid, weaker bound
    early = dual_ascent(A, t, max_steps=0)
    assert early.lower_bound == 0.0 <= da.lower_bound
    assert np.all(early.reduced.data >= 0)


@FAST
@given(instances())
def test_reductions_preserve_optimum(inst):
    A, t = inst
    t = np.unique(t)
    opt = brute_force(A, t)
    red = reduce_instance(A, t)
    if red.terminals.size <= 1:
        tree = red.expand(np.empty((0, 2), dtype=np.int64))
    else:
        ex = solve_exact(red.A, red.terminals)
        assert ex.optimal
        assert ex.cost + red.fixed_cost == pytest.approx(opt)
        tree = red.expand(ex.edges)
    ok, why = is_steiner_tree(A, tree, t)
    assert ok, why
    assert tree_cost(A, tree) == pytest.approx(opt)


@FAST
@given(instances(max_nodes=8, integer=False))
def test_networkx_wrapper_cost_matches_tree(inst):
    A, t = inst
    G = to_nx(A)
    T = steiner_tree(G, t.tolist(), method="auto")
    assert nx.is_tree(T) or T.number_of_edges() == 0
    assert set(t.tolist()) <= set(T.nodes) or len(t) == 1
    cost = sum(G.edges[u, v]["weight"] for u, v in T.edges)
    assert cost == pytest.approx(T.graph["cost"])
    assert T.graph["lower_bound"] <= T.graph["cost"] + 1e-9
    assert T.graph["lower_bound"] <= brute_force(A, t) + 1e-9


# ---------------------------------------------------------------- edge cases
def test_disconnected_terminals_raise_with_labels():
    G = nx.Graph([("a", "b"), ("c", "d"), ("e", "f")])
    with pytest.raises(DisconnectedTerminalsError) as err:
        steiner_tree(G, ["a", "b", "d", "f"])
    assert sorted(err.value.unreachable) == ["d", "f"]
    A = nx.to_scipy_sparse_array(G, nodelist=list("abcdef"))
    with pytest.raises(DisconnectedTerminalsError) as err2:
        steiner_tree_csr(A, [0, 3])
    assert err2.value.unreachable == [3]


def test_single_terminal_is_empty_tree():
    A = sp.csr_array(np.array([[0, 2.0], [2.0, 0]]))
    res = steiner_tree_csr(A, [1, 1])
    assert res.edges.shape == (0, 2)
    assert res.cost == 0.0
    assert res.optimal
    T = steiner_tree(nx.path_graph(3), [2])
    assert T.number_of_edges() == 0
    assert T.graph["cost"] == 0.0


def test_multigraph_uses_cheapest_parallel_edge_with_its_attributes():
    G = nx.MultiGraph()
    G.add_edge("x", "y", weight=5.0, name="dear")
    G.add_edge("x", "y", weight=1.5, name="cheap")
    G.add_edge("y", "z", weight=2.0, name="yz")
    G.add_edge("x", "z", weight=10.0, name="xz")
    T = steiner_tree(G, ["x", "z"], method="exact")
    # a MultiGraph comes back as a MultiGraph holding the chosen edge, key and data
    assert isinstance(T, nx.MultiGraph)
    assert sorted(T.edges(keys=True)) == [("x", "y", 1), ("y", "z", 0)]
    assert T.edges["x", "y", 1]["name"] == "cheap"
    assert T.edges["y", "z", 0]["name"] == "yz"
    assert T.graph["cost"] == pytest.approx(3.5)
    assert T.graph["optimal"]


def test_multigraph_keeps_string_keys_and_graph_attributes():
    G = nx.MultiGraph(name="town")
    G.add_node("x", pos=(0, 0))
    G.add_edge("x", "y", key="old-duct", length_m=30.0)
    G.add_edge("x", "y", key="new-dig", length_m=12.0)
    G.add_edge("y", "z", key="road", length_m=7.0)
    T = steiner_tree(G, ["x", "z"], weight="length_m")
    assert sorted(T.edges(keys=True, data="length_m")) == [
        ("x", "y", "new-dig", 12.0),
        ("y", "z", "road", 7.0),
    ]
    assert T.graph["name"] == "town"
    assert T.nodes["x"]["pos"] == (0, 0)
    # a plain Graph stays a plain Graph
    assert type(steiner_tree(nx.Graph(G), ["x", "z"], weight="length_m")) is nx.Graph


def test_missing_weight_counts_one_and_string_labels():
    G = nx.Graph()
    G.add_edges_from([("hub", "s1"), ("s1", "p1"), ("s1", "p2")])
    G.add_edge("hub", "p1", weight=5)
    T = steiner_tree(G, ["hub", "p1", "p2"], method="exact")
    assert sorted(T.edges) == sorted([("hub", "s1"), ("s1", "p1"), ("s1", "p2")]) or (
        T.graph["cost"] == pytest.approx(3.0)
    )
    assert T.graph["cost"] == pytest.approx(3.0)


def test_bad_inputs():
    A = sp.csr_array(np.array([[0, 1.0], [1.0, 0]]))
    with pytest.raises(InputValidationError):
        steiner_tree_csr(A, [0, 1], method="magic")
    with pytest.raises(InputValidationError):
        steiner_tree_csr(A, [0, 5])
    with pytest.raises(InputValidationError):
        steiner_tree(nx.DiGraph([(0, 1)]), [0, 1])
    with pytest.raises(InputValidationError):
        steiner_tree(nx.Graph([(0, 1, {"weight": -1})]), [0, 1])


@pytest.mark.parametrize("bad", [-1.0, math.nan, math.inf, -math.inf])
def test_negative_nan_and_infinite_weights_are_named(bad):
    A = sp.coo_array(([1.0, bad], ([0, 1], [1, 2])), shape=(3, 3))
    with pytest.raises(InputValidationError, match=r"A\[1, 2\]"):
        steiner_tree_csr(A, [0, 2])
    G = nx.Graph([(0, 1, {"weight": 1.0}), (1, 2, {"weight": bad})])
    with pytest.raises(InputValidationError, match=r"edge \(1, 2\)"):
        steiner_tree(G, [0, 2])


def test_time_limit_returns_valid_tree():
    rng = np.random.default_rng(1)
    G = nx.connected_watts_strogatz_graph(200, 6, 0.3, seed=1)
    for u, v in G.edges:
        G.edges[u, v]["weight"] = float(rng.integers(1, 20))
    A = nx.to_scipy_sparse_array(G)
    t = rng.choice(200, size=40, replace=False)
    res = steiner_tree_csr(A, t, method="auto", time_limit=0.5)
    check_tree(canonical_csr(A), res, t)
    assert res.method == "auto"


# ---------------------------------------------------------------- STP reader
STP = """33D32945 STP File, STP Format Version 1.0
SECTION Comment
Name "tiny"
END

section graph
Nodes 4
Edges 4
E 1 2 1
e 2 3 1   # a comment
E 3 4 1
E 1 4 5
END

SECTION Terminals
Terminals 2
T 1
T 4
END
EOF
"""


def test_read_stp(tmp_path):
    p = tmp_path / "tiny.stp"
    p.write_text(STP)
    A, t = read_stp(p)
    assert A.shape == (4, 4)
    assert t.tolist() == [0, 3]
    assert A[0, 3] == 5.0
    res = steiner_tree_csr(A, t, method="exact")
    assert res.cost == 3.0
    assert res.optimal


@pytest.mark.parametrize(
    "text",
    [
        "SECTION Graph\nNodes 2\nEdges 1\nE 1 2\nEND\nSECTION Terminals\nT 1\nEND\n",
        "SECTION Graph\nNodes 2\nEdges 1\nE 1 3 1\nEND\nSECTION Terminals\nT 1\nEND\n",
        "SECTION Graph\nNodes 2\nEdges 2\nE 1 2 1\nEND\nSECTION Terminals\nT 1\nEND\n",
        "SECTION Graph\nNodes 2\nEdges 1\nE 1 2 x\nEND\nSECTION Terminals\nT 1\nEND\n",
        "SECTION Graph\nNodes 2\nEdges 1\nE 1 2 1\nEND\n",
        "nothing here\n",
    ],
)
def test_read_stp_malformed(tmp_path, text):
    p = tmp_path / "bad.stp"
    p.write_text(text)
    with pytest.raises(InputValidationError):
        read_stp(p)


# ---------------------------------------------------------------- SteinLib B
def _optima() -> dict[str, float]:
    with (STEINLIB / "OPTIMA.tsv").open() as fh:
        return {r["name"]: float(r["value"]) for r in csv.DictReader(fh, delimiter="\t")}


@pytest.mark.skipif(not STEINLIB.is_dir(), reason="SteinLib data (../shared) absent")
@pytest.mark.parametrize("name", ["b01", "b06", "b11", "b14", "b18"])
def test_steinlib_b_exact(name):
    opt = _optima()[name]
    A, t = read_stp(STEINLIB / "B" / f"{name}.stp")
    res = steiner_tree_csr(A, t, method="exact")
    check_tree(A, res, t)
    assert res.optimal
    assert res.cost == opt
    heur = steiner_tree_csr(A, t, method="heuristic")
    check_tree(A, heur, t)
    assert heur.lower_bound <= opt <= heur.cost


# ---------------------------------------------------------------- zero-weight edges
def _csr(n, edges):
    u, v, w = zip(*edges, strict=True)
    return sp.csr_array(sp.coo_array((np.asarray(w, dtype=float), (u, v)), shape=(n, n)))


@pytest.mark.parametrize("method", ["heuristic", "exact", "auto"])
def test_zero_weight_cycle(method):
    # a zero-weight triangle 0-1-2; terminal 3 hangs off 2 (5) and off 0 (7)
    A = _csr(4, [(0, 1, 0.0), (1, 2, 0.0), (2, 0, 0.0), (2, 3, 5.0), (0, 3, 7.0)])
    assert A.nnz == 5  # the zeros are stored: they are edges
    res = steiner_tree_csr(A, [0, 3], method=method)
    check_tree(canonical_csr(A), res, np.array([0, 3]))
    assert res.cost == 5.0
    assert res.optimal
    assert [2, 3] in res.edges.tolist()
    assert res.edges.shape[0] in (2, 3)  # 0-2 directly, or 0-1-2; never the whole cycle


@pytest.mark.parametrize("method", ["heuristic", "exact", "auto"])
def test_terminals_joined_only_by_zero_edges(method):
    A = _csr(4, [(0, 1, 0.0), (1, 2, 0.0), (0, 2, 3.0), (2, 3, 1.0)])
    res = steiner_tree_csr(A, [0, 2], method=method)
    assert res.edges.tolist() == [[0, 1], [1, 2]]
    assert res.cost == 0.0
    assert res.lower_bound == 0.0
    assert res.optimal


def test_zero_spoke_makes_the_hub_a_terminal():
    # a-h costs nothing, so h joins b and c for 2 + 2 instead of a-b, a-c at 3 + 3
    a, b, c, h = 0, 1, 2, 3
    A = _csr(4, [(a, h, 0.0), (b, h, 2.0), (c, h, 2.0), (a, b, 3.0), (a, c, 3.0), (b, c, 10.0)])
    for method in ("heuristic", "auto"):
        res = steiner_tree_csr(A, [a, b, c], method=method)
        assert res.edges.tolist() == [[0, 3], [1, 3], [2, 3]]
        assert res.cost == 4.0
        assert res.optimal


def test_dense_zero_means_no_edge():
    # dense input: the 0 between 0 and 2 is no edge, so the tree goes round by 1
    A = np.array([[0, 1.0, 0], [1.0, 0, 1.0], [0, 1.0, 0]])
    res = steiner_tree_csr(A, [0, 2])
    assert res.edges.tolist() == [[0, 1], [1, 2]]
    assert res.cost == 2.0


def test_networkx_zero_weight_edges():
    G = nx.Graph()
    G.add_edge("s", "x", weight=0)
    G.add_edge("x", "y", weight=0)
    G.add_edge("y", "p", weight=4)
    G.add_edge("s", "p", weight=5)
    T = steiner_tree(G, ["s", "p"])
    assert sorted(map(sorted, T.edges)) == [["p", "y"], ["s", "x"], ["x", "y"]]
    assert T.graph["cost"] == 4.0
    assert T.graph["optimal"]


@FAST
@given(instances(max_nodes=8), st.integers(0, 2**32 - 1))
def test_zero_weights_match_brute_force(inst, seed):
    A, t = inst
    rng = np.random.default_rng(seed)
    coo = sp.triu(A, k=1, format="coo")
    w = coo.data.copy()
    w[rng.random(w.size) < 0.3] = 0.0
    Z = sp.coo_array((np.r_[w, w], (np.r_[coo.row, coo.col], np.r_[coo.col, coo.row])), A.shape)
    # the oracle sees each zero as a tiny weight (its MSTs drop stored zeros)
    eps = canonical_csr(sp.coo_array((np.maximum(Z.data, 1e-7), (Z.row, Z.col)), A.shape))
    opt = brute_force(eps, t)
    for method in ("exact", "auto", "heuristic"):
        res = steiner_tree_csr(Z, t, method=method)
        check_tree(canonical_csr(Z), res, t)
        assert res.lower_bound <= opt + 1e-5
        if method != "heuristic":
            assert res.optimal
            assert res.cost == pytest.approx(opt, abs=1e-5)


# ---------------------------------------------------------------- determinism, auto
def _gap_instance(seed: int = 3, n: int = 160, k: int = 30):
    """A random sparse graph on which the heuristic's bound leaves a gap."""
    rng = np.random.default_rng(seed)
    G = nx.connected_watts_strogatz_graph(n, 4, 0.3, seed=seed)
    u, v = np.asarray(G.edges).T
    w = rng.integers(1, 50, size=u.size).astype(float)
    A = canonical_csr(sp.coo_array((w, (u, v)), shape=(n, n)))
    return A, rng.choice(n, size=k, replace=False).astype(np.int64)


def test_auto_is_deterministic_and_never_worse_than_heuristic():
    for seed in range(3):
        A, t = _gap_instance(seed)
        heur = steiner_tree_csr(A, t, method="heuristic")
        first = steiner_tree_csr(A, t, method="auto")
        again = steiner_tree_csr(A, t, method="auto")
        np.testing.assert_array_equal(first.edges, again.edges)
        assert (first.cost, first.lower_bound, first.optimal) == (
            again.cost,
            again.lower_bound,
            again.optimal,
        )
        assert not first.time_limit_hit
        # an opt-in clock that never strikes changes nothing
        roomy = steiner_tree_csr(A, t, method="auto", time_limit=3600.0)
        np.testing.assert_array_equal(roomy.edges, first.edges)
        assert not roomy.time_limit_hit
        check_tree(A, first, t)
        assert first.cost <= heur.cost
        assert first.lower_bound >= heur.lower_bound


@FAST
@given(instances(integer=False))
def test_auto_never_worse_than_heuristic_and_proves_small_ones(inst):
    A, t = inst
    heur = steiner_tree_csr(A, t, method="heuristic")
    auto = steiner_tree_csr(A, t, method="auto")
    check_tree(A, auto, t)
    assert auto.cost <= heur.cost + 1e-9
    assert auto.optimal  # nine nodes are far inside auto's work budget
    assert auto.cost == pytest.approx(brute_force(A, t))


def test_import_optimise_loads_no_networkx():
    # networkx is imported inside steiner_tree only (pandas & co.: tests/test_package.py)
    import subprocess
    import sys

    code = "import sys, fibreplan.optimise; print('networkx' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("method", ["exact", "auto", "heuristic"])
def test_street_pieces_apart_from_every_terminal(method: str) -> None:
    # a 3x3 grid with terminals at its corners and, apart, a K4 no terminal reaches (a piece
    # of street cut off by an area's edge): the distance test once indexed by -9999 there
    grid = [(0, 1), (1, 2), (3, 4), (4, 5), (6, 7), (7, 8), (0, 3), (3, 6), (1, 4), (4, 7),
            (2, 5), (5, 8)]  # fmt: skip
    k4 = [(9, 10), (9, 11), (9, 12), (10, 11), (10, 12), (11, 12)]
    w = [1.0, 1.5, 1.25, 1.0, 2.0, 1.0, 1.0, 1.5, 1.0, 1.25, 2.0, 1.0] + [1.0] * 6
    u, v = zip(*(grid + k4), strict=True)
    A = sp.coo_array((w, (u, v)), shape=(13, 13)).tocsr()
    t = np.array([0, 2, 6, 8])
    alone = steiner_tree_csr(A[:9, :9], t, method="exact")
    res = steiner_tree_csr(A, t, method=method)
    assert res.cost == pytest.approx(alone.cost)
    assert res.edges.max() < 9
