"""End-to-end tests of fibreplan.plan on a hand-built network and on the demo town."""

from __future__ import annotations

import json

import geopandas as gpd
import networkx as nx
import numpy as np
import pyogrio
import pytest
import shapely

import fibreplan
from fibreplan.export import BID_FILES
from fibreplan.export import FILES


def test_toy_plan_hand_computed(streets, premises, headend, simple_costs):
    p = fibreplan.plan(streets, premises, headend=headend, costs=simple_costs)
    s = p.summary
    assert s["road_crossings"] == 0  # each minor street's trench runs on its premises' side
    # Optimal trench by hand: (0,0)->(100,0) 100 m, (100,0)->(150,0) 50 m, (100,0)->(100,60) 60 m
    assert s["trench_m"] == pytest.approx(210.0, abs=0.02)
    assert s["drop_m"] == pytest.approx(10 + 5 + 10, abs=1e-6)
    # build: 210 m x GBP 100 + headend GBP 1,000; connections: 25 m of lead-in x GBP 10
    # at 50 % take-up
    assert s["cost_total_gbp"] == pytest.approx(21_000 + 1_000 + 125, abs=2.0)
    assert s["cost_build_gbp"] == pytest.approx(22_000, abs=2.0)
    # per premises passed excludes the connections; per connected divides by 1.5 premises
    assert s["cost_per_premises_passed_gbp"] == pytest.approx(22_000 / 3, abs=1.0)
    assert s["cost_per_premises_connected_gbp"] == pytest.approx(22_125 / 1.5, abs=1.5)
    assert s["premises_connected"] == 3
    assert s["premises_unreachable"] == 2
    status = p.premises.set_index("premises_id")
    assert status.loc["D", "reason"] == "disconnected_street_network"
    assert status.loc["E", "reason"] == "too_far_from_street"
    assert set(status.loc[["A", "B", "C"], "status"]) == {"connected"}
    assert s["optimiser"]["lower_bound_gbp"] <= s["optimiser"]["tree_cost_gbp"] + 1e-6


def test_boq_adds_up_with_design_items(streets, premises, headend):
    p = fibreplan.plan(streets, premises, headend=headend)
    s, book = p.summary, p.costs
    boq = p.costing.boq.set_index("item")
    ont = boq[boq["key"] == "connection_gbp_per_premises"]
    assert ont["quantity"].item() == 3 * book.take_up
    assert boq["cost_gbp"].sum() == pytest.approx(s["cost_total_gbp"], abs=0.01)
    # DPs sit on their premises' path to the headend: B and C share one at the junction
    # (100, 0); A lies upstream of it, 50 m from the headend, and gets its own; one cabinet
    assert s["dp_count"] == 2
    assert s["cabinet_count"] == 1
    assert boq.loc["distribution points", "cost_gbp"] == 2 * book.dp_gbp
    assert boq.loc["chambers / joint boxes", "quantity"] == s["chamber_count"]
    trench_items = boq[boq.index.str.startswith("trench")]["cost_gbp"].sum()
    assert trench_items == pytest.approx(p.tree.cost, abs=0.01)  # rows are to the penny
    cable_items = boq[boq.index.str.startswith("cable")]
    assert cable_items["quantity"].sum() == pytest.approx(
        sum(s["cable_m_by_size"].values()), abs=0.1
    )


def test_headend_is_chosen_and_reported(streets, premises):
    p = fibreplan.plan(streets, premises)
    s = p.summary
    assert "1-median" in s["headend"]["how"]
    assert s["premises_connected"] == 3
    # the 1-median of A, B, C over the network is the junction (100, 0) or a drop point near it
    xy = p.trench_graph.node_xy[p.trench_graph.headend_node]
    assert np.hypot(*(xy - np.array([529100.0, 181500.0]))) <= 60.0


def test_headend_far_from_streets_is_an_error(streets, premises):
    with pytest.raises(fibreplan.InputValidationError, match="headend"):
        fibreplan.plan(streets, premises, headend=(-3.0, 55.0))


def test_crs_4326_and_27700_give_the_same_plan(streets, premises, headend):
    a = fibreplan.plan(streets, premises, headend=headend).summary
    b = fibreplan.plan(streets, premises.to_crs("EPSG:4326"), headend=headend).summary
    for key in ("premises_connected", "premises_unreachable"):
        assert a[key] == b[key]
    for key in ("trench_m", "drop_m", "cost_total_gbp"):
        assert a[key] == pytest.approx(b[key], rel=1e-6)


def test_empty_premises_is_a_clear_error(streets):
    empty = gpd.GeoDataFrame({"premises_id": []}, geometry=[], crs="EPSG:27700")
    with pytest.raises(fibreplan.InputValidationError, match="premises is empty"):
        fibreplan.plan(streets, empty)


def test_invalid_geometry_is_reported_not_dropped(streets, premises, headend):
    bad = premises.copy()
    bad.loc[len(bad)] = ["F", "residential", shapely.Point()]
    p = fibreplan.plan(streets, bad, headend=headend)
    row = p.premises.set_index("premises_id").loc["F"]
    assert row["status"] == "unreachable"
    assert row["reason"] == "invalid_geometry"
    assert p.summary["premises_total"] == 6


def test_save_refuses_to_overwrite(tmp_path, streets, premises, headend):
    p = fibreplan.plan(streets, premises, headend=headend)
    p.save(tmp_path)
    before = (tmp_path / "summary.json").read_text()
    with pytest.raises(fibreplan.InputValidationError, match="overwrite"):
        p.save(tmp_path)
    assert (tmp_path / "summary.json").read_text() == before
    p.save(tmp_path, overwrite=True)


# --------------------------------------------------------------------------- demo town
def test_demo_every_premises_connected_or_reported(demo_plan):
    s = demo_plan.summary
    assert s["premises_total"] > 1000
    assert s["premises_connected"] + s["premises_unreachable"] == s["premises_total"]
    prem = demo_plan.premises
    unreachable = prem[prem["status"] == "unreachable"]
    assert (unreachable["reason"] != "").all()
    assert set(unreachable["reason"]) <= set(fibreplan.trench.REASONS)
    assert (prem.loc[prem["status"] == "connected", "reason"] == "").all()


def test_demo_trench_is_a_tree_spanning_headend_and_drops(demo_plan):
    G = demo_plan.tree_graph()
    assert nx.is_tree(G)
    tg = demo_plan.trench_graph
    need = set(tg.premises_node[tg.premises_node >= 0].tolist()) | {tg.headend_node}
    assert need <= set(G.nodes)


def test_demo_summary_matches_layers(demo_plan):
    s = demo_plan.summary
    layers = demo_plan.layers()
    assert s["trench_m"] == pytest.approx(layers["trenches"]["length_m"].sum(), abs=0.01)
    assert s["trench_m"] == pytest.approx(layers["trenches"].geometry.length.sum(), rel=1e-6)
    assert s["drop_m"] == pytest.approx(layers["drops"]["length_m"].sum(), abs=0.01)
    assert len(layers["drops"]) == s["premises_connected"]
    # a cheaper tree than trenching every street
    assert s["trench_m"] < demo_plan.streets["length_m"].sum()


def test_demo_design_invariants(demo_plan):
    d, rules = demo_plan.design, demo_plan.rules
    assert d.dp_premises_count.max() <= rules.dp_capacity
    assert d.cabinet_premises_count.max() <= rules.cabinet_capacity
    prem = demo_plan.premises
    conn = prem[prem["status"] == "connected"]
    assert (conn["dp_id"] >= 0).all()
    assert (conn["cabinet_id"] >= 0).all()
    assert prem.loc[prem["status"] == "unreachable", "dp_id"].isna().all()  # NULL, not -1
    assert not fibreplan.design.check_fibre_conservation(d)
    s = demo_plan.summary
    assert s["dp_count"] == len(demo_plan.layers()["dps"]) > 0
    assert s["chamber_count"] == len(demo_plan.layers()["chambers"])
    assert s["max_loss_db"] == pytest.approx(conn["loss_db"].max(), abs=1e-3)
    assert s["loss_violations"] == int(conn["loss_violation"].sum())
    cables = demo_plan.layers()["cables"]
    assert (
        cables["size"] * cables["cable_count"] >= cables["fibres_used"] + cables["fibres_spare"]
    ).all()


def test_demo_outputs_read_back(tmp_path, demo_plan):
    paths = demo_plan.save(tmp_path)
    # every file of the contract; the bid's frontier and phases only for a plan with a bid
    assert {p.name for p in paths.values()} == {FILES[k] for k in FILES if k not in BID_FILES}
    s = json.loads(paths["summary"].read_text())
    for key in ("premises_total", "premises_connected", "premises_unreachable", "trench_m",
                "drop_m", "cost_total_gbp", "cost_per_premises_passed_gbp", "crs", "headend",
                "inputs", "fibreplan_version"):  # fmt: skip
        assert key in s
    assert s["inputs"][0]["name"] == "fitzrovia_london.osm"
    assert len(s["inputs"][0]["sha256"]) == 64
    info = {name: n for name, _ in pyogrio.list_layers(paths["gpkg"]) for n in [name]}
    assert {"premises", "trenches", "drops", "headend", "cables", "chambers", "dps",
            "cabinets"} <= set(info)  # fmt: skip
    for name, gdf in demo_plan.layers().items():
        back = pyogrio.read_dataframe(paths["gpkg"], layer=name)
        assert back.crs.to_epsg() == 27700
        assert len(back) == len(gdf)
    html = paths["map"].read_text(encoding="utf-8")
    assert "Trenches" in html
    assert "OpenStreetMap" in html


# --------------------------------------------------------------------------- the record
def test_quantities_of_the_toy_plan_by_hand(streets, premises, headend, simple_costs):
    q = fibreplan.plan(streets, premises, headend=headend, costs=simple_costs).quantities
    assert q.dug_m_by_surface["footway"] == pytest.approx(210.0, abs=0.02)
    assert sum(q.dug_m_by_surface.values()) == pytest.approx(210.0, abs=0.02)
    assert (q.duct_reuse_m, q.aerial_m, q.road_crossings) == (0.0, 0.0, 0)
    assert q.drop_m == pytest.approx(25.0, abs=1e-6)
    assert q.premises_connected == 3
    assert (q.dp_count, q.cabinet_count) == (2, 1)


def test_recosting_a_plan_matches_planning_with_the_new_book(streets, premises, headend):
    import dataclasses

    p = fibreplan.plan(streets, premises, headend=headend)
    # equipment prices do not change the route, so re-costing equals re-planning
    book = dataclasses.replace(p.costs, headend_gbp=1.0e6, dp_gbp=1234.0)
    again = fibreplan.plan(streets, premises, headend=headend, costs=book)
    assert fibreplan.cost_plan(p.quantities, costs=book).total_gbp == pytest.approx(
        again.costing.total_gbp, rel=1e-12
    )


def test_summary_is_computed_once(monkeypatch, tmp_path, streets, premises, headend):
    import sys

    plan_module = sys.modules["fibreplan.plan"]  # `fibreplan.plan` names the function
    calls = []
    real = plan_module.plan_summary
    monkeypatch.setattr(plan_module, "plan_summary", lambda p: calls.append(1) or real(p))
    p = fibreplan.plan(streets, premises, headend=headend)
    assert p.summary is p.summary
    p.save(tmp_path)
    p.to_map(tmp_path / "again.html")
    assert len(calls) == 1


def test_time_limit_is_opt_in_and_reported(tmp_path, streets, premises, headend):
    s = fibreplan.plan(streets, premises, headend=headend).summary
    assert s["optimiser"]["time_limit_s"] is None
    assert s["optimiser"]["time_limit_hit"] is False
    capped = fibreplan.plan(streets, premises, headend=headend, time_limit=5.0)
    assert capped.summary["optimiser"]["time_limit_s"] == 5.0
    assert capped.summary["optimiser"]["time_limit_hit"] is bool(capped.tree.time_limit_hit)
    on_disk = json.loads(capped.save(tmp_path)["summary"].read_text())
    assert on_disk["optimiser"]["time_limit_s"] == 5.0
    # summary.json adds the output stages' seconds to the plan's own
    assert set(on_disk["seconds"]) == {*capped.seconds, "layers", "gpkg", "map", "figure", "bid"}


def test_save_without_basemap_has_no_tiles(tmp_path, streets, premises, headend):
    p = fibreplan.plan(streets, premises, headend=headend)
    with_tiles = p.save(tmp_path / "a")["map"].read_text(encoding="utf-8")
    without = p.save(tmp_path / "b", basemap=False)["map"].read_text(encoding="utf-8")
    assert "tile.openstreetmap.org" in with_tiles
    assert "tile.openstreetmap.org" not in without
    assert "Trenches" in without


def test_layers_are_the_contract(streets, premises, headend):
    from fibreplan.layers import LAYER_NAMES
    from fibreplan.layers import plan_layers

    p = fibreplan.plan(streets, premises, headend=headend)
    assert LAYER_NAMES == ("premises", "trenches", "drops", "headend", "cables", "chambers",
                           "dps", "cabinets")  # fmt: skip
    assert list(plan_layers(p, names=["drops"])) == ["drops"]
    with pytest.raises(KeyError, match="nope"):
        plan_layers(p, names=["nope"])
    trenches = p.layers()["trenches"]
    assert list(trenches.columns) == ["edge_id", "length_m", "cost_gbp", "kind", "dug", "surface",
                                      "area", "new_poles", "side", "street_name", "highway",
                                      "headend_id", "geometry"]  # fmt: skip
    head = p.layers()["headend"].iloc[0]
    assert (head.lon, head.lat) == pytest.approx(
        (p.summary["headend"]["lon"], p.summary["headend"]["lat"]), abs=1e-6
    )


def test_same_inputs_give_the_same_summary(tmp_path):
    def without_seconds(value):
        if isinstance(value, dict):
            return {k: without_seconds(v) for k, v in value.items() if k != "seconds"}
        return value

    path = fibreplan.demo_path(tiny=True)
    a, b = (fibreplan.plan(path, path) for _ in range(2))
    assert without_seconds(a.summary) == without_seconds(b.summary)
    assert a.summary["optimiser"]["time_limit_s"] is None
    sa = json.loads(a.save(tmp_path / "a")["summary"].read_text())
    sb = json.loads(b.save(tmp_path / "b")["summary"].read_text())
    assert without_seconds(sa) == without_seconds(sb)
    assert set(sa["seconds"]) == {"load", "trench", "optimise", "design", "cost", "layers",
                                  "gpkg", "map", "figure", "bid"}  # fmt: skip
