"""Tests of fibreplan.design: PON design on a routed tree."""

from __future__ import annotations

import dataclasses
import logging
import math

import networkx as nx
import numpy as np
import pytest
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from fibreplan._errors import CostFileError
from fibreplan._errors import InfeasibleDesignError
from fibreplan._errors import InputValidationError
from fibreplan.design import Design
from fibreplan.design import DesignRules
from fibreplan.design import _size_cables
from fibreplan.design import check_fibre_conservation
from fibreplan.design import design_network

# ----------------------------------------------------------------------------------------
# helpers: independent checks of every invariant


def _graph(edges, lengths) -> nx.Graph:
    G = nx.Graph()
    for (a, b), w in zip(np.asarray(edges).tolist(), np.asarray(lengths).tolist(), strict=True):
        G.add_edge(a, b, w=w)
    return G


def _expected_cable(used: int, rules: DesignRules) -> tuple[int, int, int]:
    if used == 0:
        return 0, 0, 0
    spare = math.ceil(round(used * rules.spare_fraction, 9))
    need = used + spare
    for size in rules.cable_sizes:
        if size >= need:
            return spare, size, 1
    largest = rules.cable_sizes[-1]
    return spare, largest, math.ceil(need / largest)


def _check_chamber_spacing(d: Design) -> None:
    spacing = d.rules.chamber_spacing_m
    node_ch = set(d.chamber_node[d.chamber_node >= 0].tolist())
    mids: dict[int, list[float]] = {}
    for e, off in zip(
        d.chamber_edge[d.chamber_edge >= 0].tolist(),
        d.chamber_offset_m[d.chamber_edge >= 0].tolist(),
        strict=True,
    ):
        assert 0.0 < off < d.edge_length_m[e]
        mids.setdefault(e, []).append(off)
    children: dict[int, list[int]] = {}
    for e, p in enumerate(d.edge_parent.tolist()):
        children.setdefault(p, []).append(e)
    # top-down: route distance since the last chamber (root is an anchor)
    stack = [(d.root, 0.0)]
    while stack:
        node, since = stack.pop()
        for e in children.get(node, []):
            pos = 0.0
            run = since
            for off in sorted(mids.get(e, [])):
                run += off - pos
                assert run <= spacing + 1e-6, (e, off, run)
                run, pos = 0.0, off
            run += d.edge_length_m[e] - pos
            assert run <= spacing + 1e-6, (e, run)
            child = int(d.edge_child[e])
            stack.append((child, 0.0 if child in node_ch else run))


def _expected_splices(d: Design, j: int, from_root: dict) -> int:
    """Splices on premises j's path, from the rule in words (an independent recount)."""
    rules = d.rules
    cabinet = int(d.cabinet_node[d.premises_cabinet[j]])
    dp = int(d.dp_node[d.premises_dp[j]])
    runs = (
        from_root[cabinet],
        from_root[dp] - from_root[cabinet],
        d.premises_drop_cable_m[j],
    )
    joints = sum(max(math.ceil(round(run / rules.drum_length_m, 9)) - 1, 0) for run in runs)
    at_splitters = sum(
        rules.splitter_splices if split > 1 else 1
        for split in (rules.primary_split, rules.secondary_split)
    )
    return rules.fixed_splices + at_splitters + joints


def _check_invariants(d: Design, edges, lengths, root, prem, drops) -> None:
    rules = d.rules
    p = prem.size
    # capacities and assignment
    assert d.premises_dp.shape == (p,)
    assert d.premises_cabinet.shape == (p,)
    assert np.all(d.dp_premises_count >= 1)
    assert np.all(d.dp_premises_count <= rules.dp_capacity)
    assert np.all(d.cabinet_premises_count >= 1)
    assert np.all(d.cabinet_premises_count <= rules.cabinet_capacity)
    if p:
        assert d.premises_dp.min() >= 0
        assert d.premises_dp.max() < d.dp_node.size
        assert np.array_equal(d.premises_cabinet, d.dp_cabinet[d.premises_dp])
    assert np.array_equal(np.bincount(d.premises_dp, minlength=d.dp_node.size), d.dp_premises_count)
    assert np.array_equal(
        np.bincount(d.premises_cabinet, minlength=d.cabinet_node.size),
        d.cabinet_premises_count,
    )
    assert np.array_equal(d.dp_splitters, -(-d.dp_premises_count // rules.secondary_split))
    assert np.array_equal(
        d.cabinet_splitters, -(-d.cabinet_secondary_splitters // rules.primary_split)
    )
    # every premises within max_drop_m of its DP along the network
    G = _graph(edges, lengths)
    G.add_node(root)
    from_root = nx.single_source_dijkstra_path_length(G, root, weight="w")
    for dp in range(d.dp_node.size):
        dist = nx.single_source_dijkstra_path_length(G, int(d.dp_node[dp]), weight="w")
        members = np.flatnonzero(d.premises_dp == dp)
        for j in members.tolist():
            along = dist[int(prem[j])] + drops[j]
            assert along <= d.max_drop_m + 1e-6
            assert d.premises_drop_cable_m[j] == pytest.approx(along)
    # fibres conserved
    assert check_fibre_conservation(d) == []
    # smallest standard cable that fits; parallel cables only beyond the largest
    for used, spare, size, count in (
        (
            d.edge_feeder_fibres,
            d.edge_feeder_spare,
            d.edge_feeder_cable_size,
            d.edge_feeder_cable_count,
        ),
        (
            d.edge_distribution_fibres,
            d.edge_distribution_spare,
            d.edge_distribution_cable_size,
            d.edge_distribution_cable_count,
        ),
    ):
        for u, s, z, c in zip(
            used.tolist(), spare.tolist(), size.tolist(), count.tolist(), strict=True
        ):
            assert (s, z, c) == _expected_cable(u, rules)
            assert z * c >= u + s
    # chambers at every DP / cabinet / branch node, spacing respected
    node_ch = set(d.chamber_node.tolist())
    assert set(d.dp_node.tolist()) <= node_ch
    assert set(d.cabinet_node.tolist()) <= node_ch
    parents, counts = np.unique(d.edge_parent, return_counts=True)
    assert set(parents[counts >= 2].tolist()) <= node_ch
    _check_chamber_spacing(d)
    # loss formula, splices counted by hand: headend and customer end, splitters, drum joints
    for j in range(p):
        net = from_root[int(prem[j])]
        assert d.premises_network_m[j] == pytest.approx(net)
        assert d.premises_splices[j] == _expected_splices(d, j, from_root)
        expect = (
            (net + drops[j]) / 1000 * rules.fibre_loss_db_per_km
            + rules.splitter_loss(rules.primary_split)
            + rules.splitter_loss(rules.secondary_split)
            + d.premises_splices[j] * rules.splice_loss_db
            + rules.connectors * rules.connector_loss_db
        )
        assert d.premises_loss_db[j] == pytest.approx(expect)
    over = np.flatnonzero(d.premises_loss_db + rules.margin_db > rules.power_budget_db + 1e-9)
    assert np.array_equal(d.violations, over)
    assert len(d.violation_fixes) == d.violations.size


# ----------------------------------------------------------------------------------------
# a hand-built 3-street comb
#
#   0 --400-- 1 --300-- 2 --300-- 3        spine (headend at 0)
#             |         |         |
#             60        60        60       streets
#             |         |         |
#             4 (8)     5 (8)     6 (4)    premises per street end, drops 20 m

COMB_EDGES = np.array([[0, 1], [1, 2], [2, 3], [1, 4], [2, 5], [3, 6]], dtype=np.int64)
COMB_LEN = np.array([400.0, 300.0, 300.0, 60.0, 60.0, 60.0])
COMB_PREM = np.array([4] * 8 + [5] * 8 + [6] * 4, dtype=np.int64)
COMB_DROP = np.full(20, 20.0)


def _dp_at(d: Design, node: int) -> list[int]:
    return sorted(d.dp_premises_count[d.dp_node == node].tolist())


def test_comb_default_rules_hand_computed():
    d = design_network(COMB_EDGES, COMB_LEN, 0, COMB_PREM, COMB_DROP)
    # street premises are 60 + 20 = 80 m from the spine node, 400/300 m spine edges
    # cannot be crossed within 100 m, so each street's premises get one DP at its
    # junction with the spine: 8 at node 1, 8 at node 2, 4 at node 3
    assert _dp_at(d, 1) == [8]
    assert _dp_at(d, 2) == [8]
    assert _dp_at(d, 3) == [4]
    assert d.dp_node.size == 3
    assert d.dp_splitters.tolist() == [1, 1, 1]
    # 20 premises <= 256: one cabinet, at the headend, 3 secondary -> ceil(3/4) = 1 primary
    assert d.cabinet_node.tolist() == [0]
    assert d.cabinet_splitters.tolist() == [1]
    assert d.olt_ports == 1
    # no feeder on any edge (cabinet at the root); distribution = DP splitters below
    assert d.edge_feeder_fibres.tolist() == [0, 0, 0, 0, 0, 0]
    assert d.edge_distribution_fibres.tolist() == [3, 2, 1, 0, 0, 0]
    # drops follow the streets from the DP to the premises node
    assert d.edge_drop_cables.tolist() == [0, 0, 0, 8, 8, 4]
    # 3 used + ceil(0.6) = 1 spare -> 12-fibre cable, etc.
    assert d.edge_distribution_spare.tolist() == [1, 1, 1, 0, 0, 0]
    assert d.edge_distribution_cable_size.tolist() == [12, 12, 12, 0, 0, 0]
    assert d.summary()["cable_m_by_size"] == {12: pytest.approx(1000.0)}
    _check_invariants(d, COMB_EDGES, COMB_LEN, 0, COMB_PREM, COMB_DROP)


def test_comb_small_cabinets_hand_computed():
    rules = DesignRules(cabinet_capacity=16)
    d = design_network(COMB_EDGES, COMB_LEN, 0, COMB_PREM, COMB_DROP, rules=rules)
    # At node 1, 20 premises > 16 pending: a cabinet opens there for the farthest DPs
    # (node 3: 4, node 2: 8 -> 12 premises, 2 splitters, 1 primary); the DP at node 1
    # (8 premises) goes on to a second cabinet at the headend.
    assert sorted(zip(d.cabinet_node.tolist(), d.cabinet_premises_count.tolist(), strict=True)) == [
        (0, 8),
        (1, 12),
    ]
    cab1 = int(np.flatnonzero(d.cabinet_node == 1)[0])
    assert d.cabinet_secondary_splitters[cab1] == 2
    assert d.cabinet_splitters.tolist() == [1, 1]
    # feeder: 1 fibre headend -> cabinet at node 1
    assert d.edge_feeder_fibres.tolist() == [1, 0, 0, 0, 0, 0]
    # distribution: edge 0-1 carries the fibre of DP at 1 from the headend cabinet;
    # 1-2 carries the DPs at 2 and 3 from the cabinet at 1; 2-3 the DP at 3
    assert d.edge_distribution_fibres.tolist() == [1, 2, 1, 0, 0, 0]
    assert d.edge_feeder_cable_size.tolist() == [12, 0, 0, 0, 0, 0]
    kinds = dict(zip(d.chamber_node.tolist(), d.chamber_kind.tolist(), strict=True))
    assert kinds[1] == "cabinet"
    assert kinds[2] == "dp"
    assert kinds[0] == "headend"
    _check_invariants(d, COMB_EDGES, COMB_LEN, 0, COMB_PREM, COMB_DROP)


def test_loss_budget_short_urban_route_hand_computed():
    d = design_network(COMB_EDGES, COMB_LEN, 0, COMB_PREM, COMB_DROP)
    j = 19  # a premises at node 6
    # fibre: 400 + 300 + 300 + 60 + 20 (drop) = 1080 m -> 1.08 km * 0.35 = 0.378 dB
    # splitters: 1:4 7.3 + 1:8 10.5 = 17.8 dB
    # splices: headend 1 + cabinet splitter in/out 2 + DP splitter in/out 2 + customer 1
    # = 6; no drum joint (distribution run 1000 m, drop cable 80 m < 4 km): 0.6 dB.
    # The three spacing and three DP chambers on the route are passed through unspliced.
    # connectors: 4 * 0.5 = 2.0 dB
    expected = 1.08 * 0.35 + 7.3 + 10.5 + 6 * 0.1 + 4 * 0.5
    assert expected == pytest.approx(20.778)
    assert d.premises_splices[j] == 6
    assert d.premises_loss_db[j] == pytest.approx(expected)
    assert d.violations.size == 0
    assert d.summary()["max_loss_db"] == pytest.approx(expected)


# A long rural route (issue 15):
#
#   0 ------------ 12 km ------------ 1 ---- 3 km ---- 2 (8 premises, 80 m drops)
#   headend                           |
#                                     50 m
#                                     |
#                                     3 (1 premises, 10 m drop)
#
# With cabinet_capacity 8 the 9 premises do not fit one cabinet: at node 1 a cabinet opens
# for the farthest DP (the 8 at node 2); the DP of the premises at node 3 (at node 1: its
# 50 + 10 m fit the 100 m drop limit) goes on to a cabinet at the headend.
RURAL_EDGES = np.array([[0, 1], [1, 2], [1, 3]], dtype=np.int64)
RURAL_LEN = np.array([12_000.0, 3_000.0, 50.0])
RURAL_PREM = np.array([2] * 8 + [3], dtype=np.int64)
RURAL_DROP = np.array([80.0] * 8 + [10.0])
RURAL_RULES = DesignRules(cabinet_capacity=8, drum_length_m=4000.0)


def test_loss_budget_long_rural_route_hand_computed():
    d = design_network(RURAL_EDGES, RURAL_LEN, 0, RURAL_PREM, RURAL_DROP, rules=RURAL_RULES)
    assert sorted(d.cabinet_node.tolist()) == [0, 1]
    assert sorted(d.dp_node.tolist()) == [1, 2]
    far = 0  # at node 2: feeder 12 km (cabinet at node 1), distribution 3 km, drop 80 m
    # joints: feeder ceil(12/4) - 1 = 2, distribution ceil(3/4) - 1 = 0, drop 0
    # splices: 1 headend + 2 cabinet + 2 DP + 1 customer + 2 joints = 8 -> 0.8 dB
    # fibre 15.08 km * 0.35 = 5.278 dB; splitters 17.8 dB; connectors 2.0 dB
    assert d.premises_splices[far] == 8
    assert round(float(d.premises_loss_db[far]), 2) == 25.88
    near = 8  # at node 3: cabinet at the headend, distribution 12 km to the DP at node 1
    # joints: distribution ceil(12/4) - 1 = 2, drop cable 60 m: 0 -> 8 splices
    # fibre 12.06 km * 0.35 = 4.221 dB; 17.8 + 0.8 + 2.0
    assert d.premises_splices[near] == 8
    assert round(float(d.premises_loss_db[near]), 2) == 24.82
    assert d.violations.size == 0
    # a 2 km drum adds joints: feeder 5 (ceil(6) - 1) + distribution 1 (ceil(1.5) - 1)
    short_drums = dataclasses.replace(RURAL_RULES, drum_length_m=2000.0)
    d2 = design_network(RURAL_EDGES, RURAL_LEN, 0, RURAL_PREM, RURAL_DROP, rules=short_drums)
    assert d2.premises_splices[far] == 6 + 5 + 1
    assert d2.premises_loss_db[far] == pytest.approx(d.premises_loss_db[far] + 0.4)


def test_splices_are_counted_where_fibres_are_spliced_not_in_chambers():
    """Chambers passed through (spacing, extra nodes on the route) add no loss."""
    d = design_network(RURAL_EDGES, RURAL_LEN, 0, RURAL_PREM, RURAL_DROP, rules=RURAL_RULES)
    dense = dataclasses.replace(RURAL_RULES, chamber_spacing_m=50.0)
    d_dense = design_network(RURAL_EDGES, RURAL_LEN, 0, RURAL_PREM, RURAL_DROP, rules=dense)
    assert d_dense.chamber_kind.size > d.chamber_kind.size + 200
    np.testing.assert_array_equal(d_dense.premises_splices, d.premises_splices)
    np.testing.assert_allclose(d_dense.premises_loss_db, d.premises_loss_db)
    # the 12 km edge cut into 48 edges of 250 m through 47 degree-2 nodes: the same losses
    chain = [[0, 10]] + [[10 + i, 11 + i] for i in range(46)] + [[56, 1]]
    edges = np.array([*chain, [1, 2], [1, 3]], dtype=np.int64)
    lengths = np.array([250.0] * 48 + [3_000.0, 50.0])
    d_cut = design_network(edges, lengths, 0, RURAL_PREM, RURAL_DROP, rules=RURAL_RULES)
    np.testing.assert_array_equal(d_cut.premises_splices, d.premises_splices)
    np.testing.assert_allclose(d_cut.premises_loss_db, d.premises_loss_db)


def test_loss_grows_with_distance():
    """One premises at the end of a straight route: loss strictly increases with its length,
    by the fibre's attenuation plus one splice per drum length."""
    rules = DesignRules()
    lengths_m = np.arange(100.0, 60_001.0, 700.0)
    loss, splices = [], []
    for length in lengths_m:
        d = design_network(np.array([[0, 1]]), np.array([length]), 0, np.array([1]),
                           np.array([20.0]), rules=rules)  # fmt: skip
        loss.append(float(d.premises_loss_db[0]))
        splices.append(int(d.premises_splices[0]))
    assert np.all(np.diff(loss) > 0)
    assert np.all(np.diff(splices) >= 0)
    # the cabinet sits at the headend: only the distribution run is jointed
    want = [6 + max(math.ceil(x / rules.drum_length_m) - 1, 0) for x in lengths_m]
    assert splices == want
    per_km = rules.fibre_loss_db_per_km + rules.splice_loss_db * 1000 / rules.drum_length_m
    assert loss[-1] - loss[0] == pytest.approx((lengths_m[-1] - lengths_m[0]) / 1000 * per_km,
                                              abs=rules.splice_loss_db)  # fmt: skip


def test_far_premises_is_a_violation_with_fix():
    edges = np.array([[0, 1], [0, 2]])
    lengths = np.array([60_000.0, 100.0])
    prem = np.array([1, 2])
    drops = np.array([10.0, 10.0])
    d = design_network(edges, lengths, 0, prem, drops)
    assert d.violations.tolist() == [0]
    assert d.premises_loss_db[0] > 28.0
    assert d.premises_loss_db[1] < 28.0
    fix = d.violation_fixes[0]
    assert fix.startswith("loss ")  # no row number: the premises layer's row names the premises
    assert "m from the headend" in fix
    assert "remote OLT" in fix
    assert d.summary()["loss_violations"] == 1


def test_split_fix_suggested_for_small_excess():
    # tight budget: loss is ~20.7 dB; a 1:16 single-stage split saves 4.1 dB
    rules = DesignRules(power_budget_db=19.0)
    d = design_network(
        np.array([[0, 1]]), np.array([50.0]), 0, np.array([1]), np.array([5.0]), rules=rules
    )
    assert d.violations.tolist() == [0]
    assert "single-stage 1:16 split" in d.violation_fixes[0]


def test_single_long_edge_chambers():
    d = design_network(np.array([[7, 3]]), np.array([1000.0]), 7, np.array([3]), np.array([5.0]))
    spacing = d.chamber_offset_m[d.chamber_kind == "spacing"]
    assert spacing.size >= 3
    pos = np.sort(np.concatenate([[0.0], spacing, [1000.0]]))
    assert np.all(np.diff(pos) <= 250.0 + 1e-9)
    assert d.edge_parent.tolist() == [7]
    assert d.edge_child.tolist() == [3]
    _check_chamber_spacing(d)


def test_chain_of_short_edges_gets_node_spacing_chambers():
    n = 20  # 20 x 50 m = 1000 m chain, premises at the far end only
    edges = np.column_stack([np.arange(n), np.arange(1, n + 1)])
    # a 99 m drop keeps the DP at node n, so the stretch is exactly 1000 m
    d = design_network(edges, np.full(n, 50.0), 0, np.array([n]), np.array([99.0]))
    assert d.dp_node.tolist() == [n]
    assert set(d.chamber_node[d.chamber_kind == "spacing"].tolist()) == {5, 10, 15}
    _check_chamber_spacing(d)


def test_many_premises_at_one_node_split_into_balanced_dps():
    d = design_network(np.array([[0, 1]]), np.array([500.0]), 0, np.full(20, 1), np.zeros(20))
    assert _dp_at(d, 1) == [6, 7, 7]
    assert d.dp_splitters.tolist() == [1, 1, 1]
    assert check_fibre_conservation(d) == []


def test_parallel_cables_beyond_largest_size():
    rules = DesignRules()
    used = np.array([0, 1, 10, 11, 20, 240, 241, 300])
    spare, size, count = _size_cables(used, rules)
    assert spare.tolist() == [0, 1, 2, 3, 4, 48, 49, 60]
    assert size.tolist() == [0, 12, 12, 24, 24, 288, 288, 288]
    assert count.tolist() == [0, 1, 1, 1, 1, 1, 2, 2]
    # end to end: one splitter per premises, 400 distribution fibres on one edge
    rules = DesignRules(secondary_split=1, dp_capacity=1, cabinet_capacity=1000, primary_split=32)
    prem = np.full(400, 1)
    d = design_network(np.array([[0, 1]]), np.array([300.0]), 0, prem, np.zeros(400), rules=rules)
    assert d.edge_distribution_fibres.tolist() == [400]
    assert d.edge_distribution_cable_size.tolist() == [288]
    assert d.edge_distribution_cable_count.tolist() == [2]  # 480 fibres
    _check_invariants(d, np.array([[0, 1]]), np.array([300.0]), 0, prem, np.zeros(400))


def test_empty_and_trivial_inputs(caplog):
    with caplog.at_level(logging.INFO, logger="fibreplan.design"):
        d = design_network(
            np.zeros((0, 2), np.int64), np.zeros(0), 5, np.array([5, 5]), np.array([3.0, 4.0])
        )
    assert "PON design" in caplog.text
    assert d.dp_node.tolist() == [5]
    assert d.cabinet_node.tolist() == [5]
    assert check_fibre_conservation(d) == []
    d = design_network(COMB_EDGES, COMB_LEN, 0, np.zeros(0, np.int64), np.zeros(0))
    assert d.summary()["dp_count"] == 0
    assert d.summary()["max_loss_db"] is None
    assert check_fibre_conservation(d) == []


def test_invalid_inputs():
    with pytest.raises(InputValidationError, match="tree"):
        design_network(
            np.array([[0, 1], [1, 2], [2, 0]]), np.ones(3), 0, np.array([1]), np.array([1.0])
        )
    with pytest.raises(InputValidationError, match="connected"):
        design_network(
            np.array([[0, 1], [2, 3], [3, 4], [4, 2]]),
            np.ones(4),
            0,
            np.array([1]),
            np.array([1.0]),
        )
    with pytest.raises(InputValidationError, match="not on the tree"):
        design_network(COMB_EDGES, COMB_LEN, 0, np.array([99]), np.array([1.0]))
    with pytest.raises(InputValidationError, match="edge_length_m"):
        design_network(COMB_EDGES, -COMB_LEN, 0, COMB_PREM, COMB_DROP)
    with pytest.raises(InfeasibleDesignError) as info:
        design_network(COMB_EDGES, COMB_LEN, 0, np.array([4, 5]), np.array([10.0, 150.0]))
    assert info.value.unreachable == [1]


def test_drop_limit_is_the_trench_rules_by_default_and_can_be_given():
    prem, drops = np.array([4, 5]), np.array([10.0, 60.0])
    assert design_network(COMB_EDGES, COMB_LEN, 0, prem, drops).max_drop_m == 100.0
    with pytest.raises(InfeasibleDesignError) as info:
        design_network(COMB_EDGES, COMB_LEN, 0, prem, drops, max_drop_m=50.0)
    assert info.value.unreachable == [1]
    for bad in (0.0, -1.0, float("nan"), "100", True):
        with pytest.raises(InputValidationError, match="max_drop_m"):
            design_network(COMB_EDGES, COMB_LEN, 0, prem, drops, max_drop_m=bad)


# ----------------------------------------------------------------------------------------
# property-based: random trees and premises


@st.composite
def _instances(draw):
    n = draw(st.integers(1, 60))
    parents = [draw(st.integers(0, i - 1)) for i in range(1, n)]
    lengths = draw(
        st.lists(st.one_of(st.just(0.0), st.floats(0.5, 400.0)), min_size=n - 1, max_size=n - 1)
    )
    perm = draw(st.permutations(range(n)))
    labels = np.array(perm, dtype=np.int64) * 3 + 2  # arbitrary non-negative ids
    flips = draw(st.lists(st.booleans(), min_size=n - 1, max_size=n - 1))
    rows = [
        (labels[c], labels[p]) if f else (labels[p], labels[c])
        for c, p, f in zip(range(1, n), parents, flips, strict=True)
    ]
    edges = np.array(rows, dtype=np.int64).reshape(-1, 2)
    root = int(labels[draw(st.integers(0, n - 1))])
    n_prem = draw(st.integers(0, 80))
    prem = labels[
        np.array(
            draw(st.lists(st.integers(0, n - 1), min_size=n_prem, max_size=n_prem)), dtype=np.int64
        )
    ]
    drops = np.array(draw(st.lists(st.floats(0.0, 100.0), min_size=n_prem, max_size=n_prem)))
    dp_cap = draw(st.integers(1, 16))
    rules = DesignRules(
        dp_capacity=dp_cap,
        secondary_split=draw(st.sampled_from([1, 2, 4, 8])),
        primary_split=draw(st.sampled_from([1, 2, 4, 8])),
        cabinet_capacity=draw(st.integers(dp_cap, 64)),
        chamber_spacing_m=draw(st.floats(30.0, 500.0)),
        drum_length_m=draw(st.floats(150.0, 5000.0)),
        splitter_splices=draw(st.integers(0, 3)),
        spare_fraction=draw(st.sampled_from([0.0, 0.2, 0.25, 1.0])),
        cable_sizes=draw(st.sampled_from([(12, 24, 48, 96, 144, 288), (2, 4), (1,)])),
    )
    return edges, np.array(lengths, dtype=np.float64), root, prem, drops, rules


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_instances())
def test_random_trees_hold_all_invariants(instance):
    edges, lengths, root, prem, drops, rules = instance
    d = design_network(edges, lengths, root, prem, drops, rules=rules)
    _check_invariants(d, edges, lengths, root, prem, drops)


# ----------------------------------------------------------------------------------------
# DesignRules


def test_rules_toml_round_trip(tmp_path):
    rules = DesignRules(
        dp_capacity=12,
        cabinet_capacity=128,
        cable_sizes=(12, 48, 96),
        splitter_loss_db={4: 7.0, 8: 10.2, 16: 13.5},
        power_budget_db=32.0,
        margin_db=1.5,
    )
    path = tmp_path / "design.toml"
    path.write_text(rules.to_toml(), encoding="utf-8")
    assert DesignRules.from_toml(path) == rules
    path.write_text(DesignRules().to_toml(), encoding="utf-8")
    assert DesignRules.from_toml(path) == DesignRules()
    # "1:8" style keys and top-level keys are accepted too
    path.write_text('dp_capacity = 16\n[splitter_loss_db]\n"1:4" = 7.3\n"1:8" = 10.5\n')
    loaded = DesignRules.from_toml(path)
    assert loaded.dp_capacity == 16
    assert loaded.splitter_loss_db == {4: 7.3, 8: 10.5}


@pytest.mark.parametrize(
    ("text", "key", "extra"),
    [
        ('[design]\ndp_capacity = "eight"\n', "dp_capacity", "[1, 1024]"),
        ("[design]\ncabinet_capacity = -5\n", "cabinet_capacity", "[1, 1000000]"),
        ("[design]\ndp_capcity = 8\n", "dp_capcity", "allowed keys"),
        ("[design]\nchamber_spacing_m = 0\n", "chamber_spacing_m", "(0.0, 100000.0]"),
        ("[design]\ncable_sizes = [24, 12]\n", "cable_sizes", "increasing"),
        ("[design]\nprimary_split = 3\n", "primary_split", "splitter_loss_db"),
        ("[design]\ndp_capacity = 8.0\n", "dp_capacity", "integer"),
        ("[design]\ndp_capacity = 300\ncabinet_capacity = 256\n", "cabinet_capacity", ">="),
    ],
)
def test_rules_malformed_toml(tmp_path, text, key, extra):
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CostFileError) as info:
        DesignRules.from_toml(path)
    msg = str(info.value)
    assert key in msg
    assert extra in msg
    assert str(path) in msg


def test_rules_invalid_toml_syntax(tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text("[design\ndp_capacity = 8\n", encoding="utf-8")
    with pytest.raises(CostFileError, match="not valid TOML"):
        DesignRules.from_toml(path)


def test_rules_direct_construction_validates():
    with pytest.raises(CostFileError, match="spare_fraction"):
        DesignRules(spare_fraction=-0.1)
    with pytest.raises(CostFileError, match="connectors"):
        DesignRules(connectors=True)
    with pytest.raises(InputValidationError, match="rules"):
        design_network(COMB_EDGES, COMB_LEN, 0, COMB_PREM, COMB_DROP, rules={"dp_capacity": 4})
