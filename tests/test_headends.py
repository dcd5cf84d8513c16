"""Several headends: the Steiner forest through a zero-cost super-root, per-headend design."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import shapely

import fibreplan
from fibreplan._errors import InputValidationError
from fibreplan.design import check_fibre_conservation
from fibreplan.design import design_network
from fibreplan.forest import steiner_forest_csr

X0, Y0 = 450_000.0, 250_000.0  # a field in England (EPSG:27700 metres)


def _path_graph(weights: list[float]) -> sp.csr_array:
    n = len(weights) + 1
    u = np.arange(n - 1)
    return sp.csr_array((np.r_[weights, weights], (np.r_[u, u + 1], np.r_[u + 1, u])), (n, n))


def test_forest_on_a_path_takes_the_cheap_ends() -> None:
    # 0 -1- 1 -5- 2 -1- 3 -1- 4; roots 0 and 4, terminals 1 and 3: edges (0,1) and (3,4)
    f = steiner_forest_csr(_path_graph([1, 5, 1, 1]), [1, 3], [0, 4], method="exact")
    assert f.tree.edges.tolist() == [[0, 1], [3, 4]]
    assert f.tree.cost == pytest.approx(2.0)
    assert f.edge_root.tolist() == [0, 1]
    assert f.node_root.tolist() == [0, 0, -1, 1, 1]


def test_forest_leaves_an_unneeded_headend_unused() -> None:
    # both terminals are next to root 0; root 4 is far: one tree
    f = steiner_forest_csr(_path_graph([1, 1, 9, 9]), [1, 2], [0, 4], method="exact")
    assert f.tree.edges.tolist() == [[0, 1], [1, 2]]
    assert set(f.edge_root.tolist()) == {0}
    assert f.node_root[4] == -1


def test_forest_with_one_root_is_the_steiner_tree() -> None:
    f = steiner_forest_csr(_path_graph([2, 3, 4]), [3], [0], method="exact")
    assert f.tree.edges.tolist() == [[0, 1], [1, 2], [2, 3]]
    assert f.tree.cost == pytest.approx(9.0)


def test_two_headends_on_one_node_are_refused() -> None:
    with pytest.raises(InputValidationError, match="same point"):
        steiner_forest_csr(_path_graph([1, 1]), [1], [2, 0, 2])


def _street_and_premises(xs: list[float]) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    street = gpd.GeoDataFrame(
        {"highway": ["residential"], "name": ["Long Lane"]},
        geometry=[shapely.LineString([(X0, Y0), (X0 + 2000, Y0)])],
        crs="EPSG:27700",
    )
    premises = gpd.GeoDataFrame(
        {"premises_id": [f"p{x:g}" for x in xs]},
        geometry=shapely.points(np.column_stack([X0 + np.array(xs), np.full(len(xs), Y0 + 10)])),
        crs="EPSG:27700",
    )
    return street, premises


def test_plan_with_two_exchanges_is_the_known_forest() -> None:
    xs = [100.0, 300.0, 900.0, 1700.0, 1900.0]
    street, premises = _street_and_premises(xs)
    heads = [shapely.Point(X0, Y0), shapely.Point(X0 + 2000, Y0)]
    p = fibreplan.plan(street, premises, headend=heads, method="exact")
    s = p.summary
    assert s["premises_connected"] == 5
    # left tree 0..900 m, right tree 1700..2000 m: 1,200 m (one headend would dig 1,900 m)
    assert s["trench_m"] == pytest.approx(1200.0, abs=0.01)
    by_id = {h["id"]: h for h in s["headends"]}
    assert by_id["H1"]["premises_connected"] == 3
    assert by_id["H2"]["premises_connected"] == 2
    assert by_id["H1"]["trench_m"] == pytest.approx(900.0, abs=0.01)
    assert by_id["H2"]["trench_m"] == pytest.approx(300.0, abs=0.01)
    assert s["headend"]["node"] == by_id["H1"]["node"]  # the first headend, as before
    layers = p.layers()
    assert layers["headend"]["headend_id"].tolist() == ["H1", "H2"]
    prem = layers["premises"].set_index("premises_id")
    assert prem["headend_id"].tolist() == ["H1", "H1", "H1", "H2", "H2"]
    trenches = layers["trenches"]
    assert trenches.groupby("headend_id")["length_m"].sum().round(2).to_dict() == {
        "H1": 900.0,
        "H2": 300.0,
    }
    # ids unique across headends; each premises' cabinet and DP belong to its headend
    cab, dps = layers["cabinets"], layers["dps"]
    assert cab["cabinet_id"].is_unique
    assert dps["dp_id"].is_unique
    cab_head = cab.set_index("cabinet_id")["headend_id"]
    dp_head = dps.set_index("dp_id")["headend_id"]
    assert (cab_head[prem["cabinet_id"]].to_numpy() == prem["headend_id"].to_numpy()).all()
    assert (dp_head[prem["dp_id"]].to_numpy() == prem["headend_id"].to_numpy()).all()
    assert set(layers["chambers"].query("kind == 'headend'")["headend_id"]) == {"H1", "H2"}
    assert set(layers["cables"]["headend_id"]) == {"H1", "H2"}


def test_forest_design_equals_each_tree_designed_alone() -> None:
    xs = [100.0, 300.0, 900.0, 1700.0, 1900.0]
    street, premises = _street_and_premises(xs)
    heads = [shapely.Point(X0, Y0), shapely.Point(X0 + 2000, Y0)]
    p = fibreplan.plan(street, premises, headend=heads, method="exact")
    tg, rows, d, a = p.trench_graph, p.tree_edge_rows, p.design, p.headends
    assert a is not None
    reach = np.flatnonzero(tg.premises_node >= 0)
    for i, root in enumerate(a.nodes.tolist()):
        e, q = np.flatnonzero(a.edge == i), np.flatnonzero(a.premises[reach] == i)
        alone = design_network(
            np.column_stack([tg.edge_u[rows[e]], tg.edge_v[rows[e]]]), tg.edge_length_m[rows[e]],
            root, tg.premises_node[reach[q]], tg.premises_drop_m[reach[q]],
            rules=p.rules, max_drop_m=p.trench_rules.max_drop_m,
        )  # fmt: skip
        assert check_fibre_conservation(alone) == []
        np.testing.assert_allclose(d.premises_loss_db[q], alone.premises_loss_db)
        np.testing.assert_array_equal(d.edge_feeder_fibres[e], alone.edge_feeder_fibres)
        np.testing.assert_array_equal(d.cabinet_node[a.cabinet == i], alone.cabinet_node)
    assert d.olt_ports == sum(h["olt_ports"] for h in p.summary["headends"])


def test_headends_from_a_point_file_with_names(tmp_path) -> None:
    street, premises = _street_and_premises([100.0, 1900.0])
    sites = gpd.GeoDataFrame(
        {"name": ["West", "East"]},
        geometry=[shapely.Point(X0 + 5, Y0 + 20), shapely.Point(X0 + 1995, Y0 - 20)],
        crs="EPSG:27700",
    ).to_crs("EPSG:4326")
    path = tmp_path / "exchanges.gpkg"
    sites.to_file(path)
    p = fibreplan.plan(street, premises, headend=str(path), method="exact")
    assert [h["id"] for h in p.summary["headends"]] == ["West", "East"]
    assert [h["premises_connected"] for h in p.summary["headends"]] == [1, 1]
    assert p.premises["headend_id"].tolist() == ["West", "East"]


def test_a_single_headend_keeps_its_summary() -> None:
    street, premises = _street_and_premises([100.0, 1900.0])
    p = fibreplan.plan(street, premises, headend=shapely.Point(X0, Y0), method="exact")
    s = p.summary
    assert s["trench_m"] == pytest.approx(1900.0, abs=0.01)
    assert len(s["headends"]) == 1
    assert s["headends"][0]["premises_connected"] == 2
    assert s["headends"][0]["node"] == s["headend"]["node"]
    assert p.layers()["headend"].shape[0] == 1


def test_headends_on_an_island_or_serving_nobody_are_warned_of() -> None:
    street, premises = _street_and_premises([100.0, 300.0])
    island = gpd.GeoDataFrame(
        {"highway": ["pedestrian"], "name": ["School Quad"]},
        geometry=[shapely.LineString([(X0, Y0 + 500), (X0 + 60, Y0 + 500)])],
        crs="EPSG:27700",
    )
    streets = gpd.GeoDataFrame(pd.concat([street, island], ignore_index=True), crs=street.crs)
    heads = [shapely.Point(X0, Y0 + 505), shapely.Point(X0, Y0), shapely.Point(X0 + 2000, Y0)]
    p = fibreplan.plan(streets, premises, headend=heads, method="exact")
    warnings = p.summary["warnings"]
    assert any(
        "headend H1 meets the streets on a piece of network not joined" in w for w in warnings
    )
    assert any(w.startswith("headend H3 serves no premises") for w in warnings)
    assert [h["premises_connected"] for h in p.summary["headends"]] == [0, 2, 0]
