"""Costing: BoQ by hand, measures, Monte Carlo, addresses, cost book files, bid workbook."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest

import fibreplan
from fibreplan.config import CostBook
from fibreplan.config import Estimate
from fibreplan.cost import Quantities
from fibreplan.cost import cost_plan


def _zero_book(**kw):
    """Every unit cost 0 (a point estimate) except those given."""
    zero = {}
    for f in dataclasses.fields(CostBook):
        rule = f.metadata["rule"]
        if not rule.ranged:
            continue
        default = getattr(CostBook(), f.name)
        zero[f.name] = dict.fromkeys(default, 0.0) if hasattr(default, "items") else 0.0
    zero.update(kw)
    return CostBook(**zero)


def _toy_quantities(**kw):
    base = {
        "dug_m_by_surface": {"carriageway": 10.0, "footway": 100.0, "verge": 0.0},
        "duct_reuse_m": 50.0,
        "duct_reuse_gbp": 400.0,
        "aerial_m": 0.0,
        "aerial_gbp": 0.0,
        "drop_m": 20.0,
        "premises_connected": 4,
        "road_crossings": 1,
        "chamber_count": 3,
        "dp_count": 1,
        "cabinet_count": 1,
        "cable_m_by_size": {12: 160.0},
        "premises_passed": 4,
        "drops": 2,
        "drop_cable_m": 60.0,
        "lead_in_m": 20.0,
        "in_building_units": 3,
        "splitters_by_ratio": {4: 1, 8: 1},
        "splices": 15,
        "olt_ports": 1,
        "dug_m_by_road_class": {"major": 10.0, "minor": 100.0},
        "streets_by_road_class": {"major": 1, "minor": 2},
    }
    base.update(kw)
    return Quantities(**base)


def test_boq_hand_computed_on_a_toy_plan():
    book = _zero_book(
        trench_gbp_per_m={"carriageway": 150.0, "footway": 100.0, "verge": 50.0},
        road_crossing_gbp=800.0,
        permit_gbp_per_street={"major": 400.0, "minor": 300.0},
        cable_gbp_per_m={12: 20.0, 24: 25.0},
        splice_gbp=40.0,
        splitter_gbp={4: 80.0, 8: 90.0},
        dp_gbp=250.0,
        headend_gbp=1000.0,
        planning_gbp_per_premises=200.0,
        drop_gbp_per_premises=100.0,
        drop_gbp_per_m=3.0,
        lead_in_gbp_per_m=25.0,
        in_building_gbp_per_unit=800.0,
        connection_gbp_per_premises=120.0,
        wayleave_fraction=0.02,
        contingency_fraction=0.1,
        take_up=0.5,
    )
    c = cost_plan(_toy_quantities(), costs=book)
    # build: trench 1,500 + 10,000; duct 400 (as routed); crossing 800; permits 400 + 600;
    # cable 160 x 20; splices 15 x 40; splitters 80 + 90; DP 250; headend 1,000;
    # planning 4 x 200
    items = 1500 + 10_000 + 400 + 800 + 400 + 600 + 3200 + 600 + 170 + 250 + 1000 + 800
    wayleave = 0.02 * items
    build = items + wayleave + 0.1 * (items + wayleave)
    # connections at 50 %: 2 drops x 100, 2 customer splices x 40, 60 m x 3, 20 m x 25,
    # 3 units x 800, 4 premises x 120
    conn = 0.5 * (200 + 80 + 180 + 500 + 2400 + 480) * 1.1
    assert c.build_gbp == pytest.approx(build, abs=0.01)
    assert c.connection_gbp == pytest.approx(conn, abs=0.01)
    assert c.total_gbp == pytest.approx(build + conn, abs=0.01)
    assert c.boq["cost_gbp"].sum() == pytest.approx(c.total_gbp, abs=1e-6)
    # per premises passed excludes the drops and connections; per connected adds them
    assert c.per_premises_gbp == pytest.approx(build / 4, abs=0.01)
    assert c.per_premises_connected_gbp == pytest.approx((build + conn) / 2, abs=0.01)
    boq = c.boq.set_index("key")
    # every row says where its figure comes from: here the user's numbers, unsourced,
    # except the DP's, the default's likely value, which keeps the default's source
    assert "user value" in boq.loc["headend_gbp", "source"]
    assert bool(boq.loc["headend_gbp", "assumption"]) is True
    assert boq.loc["dp_gbp", "source"] == CostBook().dp_gbp.source
    default_boq = cost_plan(_toy_quantities()).boq.set_index("key")
    assert default_boq.loc["headend_gbp", "source"].startswith("nismod")


def test_per_passed_ignores_every_connection_price():
    q = _toy_quantities()
    base = cost_plan(q)
    dearer = dataclasses.replace(
        CostBook(), drop_gbp_per_m=99.0, lead_in_gbp_per_m=99.0, drop_gbp_per_premises=999.0,
        in_building_gbp_per_unit=9999.0, connection_gbp_per_premises=999.0,
    )  # fmt: skip
    again = cost_plan(q, costs=dearer)
    assert again.per_premises_gbp == base.per_premises_gbp
    assert again.per_premises_connected_gbp > base.per_premises_connected_gbp


def test_range_and_percentiles_are_ordered_deterministic_and_collapse():
    q = _toy_quantities()
    c = cost_plan(q, seed=7)
    pct = c.percentiles
    for series in pct.values():
        assert series["p10"] <= series["p50"] <= series["p90"]
    assert c.low_gbp <= c.total_gbp <= c.high_gbp
    assert c.optimism_bias_gbp == pytest.approx(c.total_gbp * 1.44, abs=0.01)
    assert cost_plan(q, seed=7).percentiles == pct
    assert cost_plan(q, seed=8).percentiles != pct
    # every range collapsed onto its likely value: P10 = P50 = P90 = base, low = high = base
    point = {}
    for key, e in CostBook().estimates().items():
        name, _, entry = key.partition(".")
        value = Estimate(float(e), float(e), float(e), "test", assumption=False)
        if entry:
            point.setdefault(name, {})[entry] = value
        else:
            point[name] = value
    flat = CostBook(**point)
    c = cost_plan(q, costs=flat, samples=200)
    assert c.low_gbp == c.total_gbp == c.high_gbp
    for name, series in c.percentiles.items():
        assert set(series.values()) == {
            round(
                {
                    "total": c.total_gbp,
                    "per_premises_passed": c.per_premises_gbp,
                    "per_premises_connected": c.per_premises_connected_gbp,
                }[name],
                2,
            )
        }


def test_summary_keys_and_range_brackets_the_estimate():
    s = cost_plan(_toy_quantities()).summary()
    for key in (
        "cost_base_gbp",
        "cost_p10_gbp",
        "cost_p50_gbp",
        "cost_p90_gbp",
        "cost_optimism_bias_gbp",
        "cost_per_premises_connected_gbp",
        "take_up",
    ):
        assert key in s
    assert s["cost_low_gbp"] <= s["cost_total_gbp"] <= s["cost_high_gbp"]
    assert s["cost_total_gbp"] == s["cost_base_gbp"]


def test_quantities_round_trip_through_json():
    q = _toy_quantities()
    assert Quantities.from_dict(json.loads(json.dumps(q.to_dict()))) == q


# ------------------------------------------------------------------ cost book files
@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("[costs.dp_gbp]\nlow = 500\nlikely = 250\nhigh = 600\n",
         r"'dp_gbp' needs low <= likely <= high"),
        ("[costs.dp_gbp]\nlow = -5\nlikely = 250\n", r"dp_gbp\.low' must be a number"),
        ("[costs.dp_gbp]\nlikely = 250\nunit = 'EUR'\n", r"'dp_gbp' is in 'GBP'"),
        ("[costs.dp_gbp]\nlow = 200\n", r"'dp_gbp' must be a number or a table with 'likely'"),
        ("[costs.dp_gbp]\nlikely = 250\nprice = 3\n", r"got keys \['likely', 'price'\]"),
        ("[costs.trench_gbp_per_m.footway]\nlow = 90\nlikely = 60\n", "trench_gbp_per_m.footway"),
        ("[costs.permit_gbp_per_street]\nmotorway = 5\n", "unknown road class"),
        ("[costs]\ndp_price = 5\n", r"unknown \[costs\] key\(s\) \['dp_price'\]"),
    ],
)  # fmt: skip
def test_malformed_cost_book_names_the_key_and_the_file(tmp_path, text, match):
    f = tmp_path / "my_costs.toml"
    f.write_text(text)
    with pytest.raises(fibreplan.CostFileError, match=match) as info:
        CostBook.from_toml(f)
    assert str(f) in str(info.value)
    assert "\n" not in str(info.value)


def test_cost_book_file_carries_ranges_and_sources(tmp_path):
    text = CostBook().to_toml()
    assert "[costs.dp_gbp]" in text
    assert 'source = "fibreplan assumption' in text
    assert "assumption = true" in text
    f = tmp_path / "c.toml"
    f.write_text(text.replace("likely = 250.0", "likely = 260.0"))
    book = CostBook.from_toml(f)
    assert book.dp_gbp == 260.0
    assert (book.dp_gbp.low, book.dp_gbp.high) == (150.0, 400.0)


def test_old_single_value_cost_file_still_loads(tmp_path):
    f = tmp_path / "old.toml"
    default_chamber = float(CostBook().chamber_gbp)
    f.write_text(f"[costs]\ndp_gbp = 333.0\nchamber_gbp = {default_chamber}\n")
    book = CostBook.from_toml(f)
    # a changed number is a point estimate from the user, flagged as unsourced
    assert (book.dp_gbp.low, float(book.dp_gbp), book.dp_gbp.high) == (333.0, 333.0, 333.0)
    assert book.dp_gbp.assumption
    # the default's number keeps the default's range and source
    assert book.chamber_gbp == CostBook().chamber_gbp


# ------------------------------------------------------------------ addresses
def test_three_uprns_in_one_building_share_one_drop_and_get_in_building_wiring(
    streets, premises, headend, simple_costs
):
    prem = premises.copy()
    # A, B and C (the reachable ones) become three UPRNs of one building
    prem["building_id"] = ["blk", "blk", "blk", None, None]
    one = fibreplan.plan(streets, prem, headend=headend, costs=simple_costs)
    q = one.quantities
    assert q.drops == 1
    assert q.in_building_units == 3
    assert q.block_dp_count == 1  # the block gets its own DP: one 1:8 splitter for 3 units
    assert q.splitters_by_ratio[8] == one.design.dp_splitters.sum() + 1
    assert q.premises_passed == 3
    assert q.lead_in_m == pytest.approx(min(one.trench_graph.premises_drop_m[:3]))
    s = one.summary
    assert s["buildings_total"] == 3  # the block plus the two unreachable houses
    assert s["premises_total"] == 5
    alone = fibreplan.plan(streets, premises, headend=headend, costs=simple_costs).quantities
    assert (alone.drops, alone.in_building_units) == (3, 0)


# ------------------------------------------------------------------ bid files
def test_bid_files_reopen_and_equal_summary_json(tmp_path, streets, premises, headend):
    from openpyxl import load_workbook

    from fibreplan.bid import premises_costs

    p = fibreplan.plan(streets, premises, headend=headend)
    paths = p.save(tmp_path / "out")
    s = json.loads(paths["summary"].read_text())
    boq = pd.read_csv(paths["boq"])
    assert round(boq["cost_gbp"].sum(), 2) == s["cost_total_gbp"]
    wb = load_workbook(paths["xlsx"])
    assert wb.sheetnames == ["Summary", "BoQ", "BoQ by cabinet", "Premises", "Assumptions"]
    summary = {r[0]: r[1] for r in wb["Summary"].iter_rows(min_row=2, values_only=True)}
    assert summary["Base cost (every unit cost at its likely value)"] == s["cost_base_gbp"]
    assert summary["P90 of the total (Monte Carlo)"] == s["cost_p90_gbp"]
    # the urban / rural split of the route, in summary.json, the Summary sheet and the BoQ rows
    by_area = s["trench_m_by_area"]
    assert by_area["urban"] + by_area["rural"] == pytest.approx(s["trench_m"])
    assert summary["Trench in rural areas (m)"] == by_area["rural"]
    trench_rows = boq[boq["key"].str.startswith("trench_")]
    assert trench_rows["quantity"].sum() == pytest.approx(s["trench_m_dug"])
    rural_rows = trench_rows[trench_rows["item"].str.endswith(", rural")]
    assert rural_rows["quantity"].sum() == pytest.approx(by_area["rural"])
    ws = wb["BoQ"]
    assert ws.freeze_panes == "A2"
    header = [c.value for c in ws[1]]
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    total = rows[-1]
    assert total[0] == "TOTAL"
    assert total[header.index("cost_gbp")] == s["cost_total_gbp"]
    assert round(sum(r[header.index("cost_gbp")] for r in rows[:-1]), 2) == s["cost_total_gbp"]
    assert ws.cell(row=2, column=header.index("cost_gbp") + 1).number_format.startswith('"£"')
    # per-premises shares add up to the totals; unreachable premises carry none
    shares = premises_costs(p)
    # ... in whole pence, to the penny
    assert round(shares["cost_share_gbp"].sum(), 2) == s["cost_total_gbp"]
    assert round(shares["build_share_gbp"].sum(), 2) == s["cost_build_gbp"]
    assert round(shares["connection_gbp"].sum(), 2) == s["cost_connection_gbp"]
    assert (shares["cost_share_gbp"] * 100).round(6).mod(1).eq(0).all()
    assert (shares.loc[shares["status"] != "connected", "cost_share_gbp"] == 0).all()
    # A lies on the way to B and C: it pays less of the route than they do
    by_id = shares.set_index("premises_id")["build_share_gbp"]
    assert by_id["A"] < by_id["B"]
    # the cost book and rules used are in the GeoPackage
    import pyogrio

    layers = {name for name, _ in pyogrio.list_layers(paths["gpkg"])}
    assert {"cost_book", "design_rules"} <= layers
    book = pyogrio.read_dataframe(paths["gpkg"], layer="cost_book")
    assert np.all(book["low"] <= book["likely"])
    assert np.all(book["likely"] <= book["high"])
    # re-costing the saved plan with its own book gives the same figures
    from fibreplan.bid import recost

    again = recost(tmp_path / "out")
    assert again.summary()["cost_total_gbp"] == s["cost_total_gbp"]
    assert recost(tmp_path / "out", take_up=1.0).per_premises_gbp == pytest.approx(
        s["cost_per_premises_passed_gbp"], abs=0.01
    )


# ------------------------------------------------------------------ scenarios and CLI
def test_pia_ducts_follow_the_chosen_streets_on_both_sides_of_major_roads():
    import geopandas as gpd
    import shapely

    from fibreplan.scenarios import pia_ducts

    streets = gpd.GeoDataFrame(
        {"highway": ["primary", "residential", "footway"]},
        geometry=[shapely.LineString([(0, 0), (100, 0)]), shapely.LineString([(0, 50), (80, 50)]),
                  shapely.LineString([(0, 90), (30, 90)])],
        crs="EPSG:27700",
    )  # fmt: skip
    ducts = pia_ducts(streets, highways=["primary", "residential"])
    # the primary road gets a duct under each side (6 m off), the residential street one
    assert len(ducts) == 3
    assert sorted(ducts.length.round(6)) == [80.0, 100.0, 100.0]
    ys = sorted(round(g.coords[0][1], 6) for g in ducts.geometry)
    assert ys == [-6.0, 6.0, 50.0]
    assert (ducts["owner"] == "Openreach (assumed: PIA scenario)").all()


def test_cli_cost_and_compare(tmp_path, streets, premises, headend, capsys):
    from fibreplan.cli import main

    p = fibreplan.plan(streets, premises, headend=headend)
    p.save(tmp_path / "a")
    s = p.summary
    assert (
        main(["cost", str(tmp_path / "a"), "--take-up", "1.0", "--out", str(tmp_path / "r")]) == 0
    )
    out = capsys.readouterr().out
    assert "at 100% take-up" in out
    cost = json.loads((tmp_path / "r" / "cost.json").read_text())
    assert cost["cost_per_premises_passed_gbp"] == s["cost_per_premises_passed_gbp"]
    assert cost["cost_per_premises_connected_gbp"] < s["cost_per_premises_connected_gbp"]
    book = tmp_path / "dear.toml"
    book.write_text("[costs]\nheadend_gbp = 1000000.0\n")
    assert main(["cost", str(tmp_path / "a"), "--costs", str(book), "--out",
                 str(tmp_path / "r2")]) == 0  # fmt: skip
    dear = json.loads((tmp_path / "r2" / "cost.json").read_text())
    assert dear["cost_total_gbp"] == pytest.approx(
        s["cost_total_gbp"] + (1e6 - 70_000) * 1.1 * 1.02, abs=1.0
    )  # the headend, plus wayleaves (2 %) and contingency (10 %) on it
    capsys.readouterr()
    p.save(tmp_path / "b")
    assert main(["compare", str(tmp_path / "a"), str(tmp_path / "b")]) == 0
    table = capsys.readouterr().out
    assert "per premises passed, GBP" in table
    assert f"£{s['cost_base_gbp']:,.0f}" in table


def test_osm_block_of_flats_without_a_flats_tag_gets_an_estimate_labelled_as_such():
    import geopandas as gpd
    import shapely

    from fibreplan.load import premises_from_buildings

    square = shapely.box(0, 0, 20, 15)  # 300 m2
    b = gpd.GeoDataFrame(
        {
            "building": ["apartments", "apartments", "house", "residential"],
            "building:levels": ["5", None, "3", "1"],
            "building:flats": [None, "12", None, None],
        },
        geometry=[square, square, square, square],
        crs="EPSG:27700",
    )
    p = premises_from_buildings(b, crs="EPSG:27700")
    # 300 m2 x 5 levels / 75 m2 = 20 flats (an estimate); the tagged 12; a house and a
    # one-storey building are one premises each
    assert p["units"].tolist() == [20, 12, 1, 1]
    assert p["units_source"].str.startswith("estimate").tolist() == [True, False, False, False]
    assert p["units_source"].iloc[1] == "building:flats"


def test_cli_buildings_group_uprns_in_one_footprint(tmp_path, streets, headend, capsys):
    import geopandas as gpd
    import shapely

    from fibreplan.cli import main
    from tests.conftest import X0
    from tests.conftest import Y0

    # three UPRNs in one block 10 m north of the street (0,0)-(100,0), one house beside it
    pts = {"u1": (48, 10), "u2": (50, 12), "u3": (52, 10), "h1": (80, 10)}
    gpd.GeoDataFrame(
        {"uprn": list(pts)},
        geometry=[shapely.Point(X0 + x, Y0 + y) for x, y in pts.values()],
        crs="EPSG:27700",
    ).to_file(tmp_path / "uprn.gpkg")
    block = shapely.box(X0 + 45, Y0 + 8, X0 + 55, Y0 + 15)
    gpd.GeoDataFrame({"building_id": ["blk"]}, geometry=[block], crs="EPSG:27700").to_file(
        tmp_path / "footprints.gpkg"
    )
    streets.to_file(tmp_path / "streets.gpkg")
    args = ["plan", "--streets", str(tmp_path / "streets.gpkg"), "--premises",
            str(tmp_path / "uprn.gpkg"), "--exchange", f"{headend.x},{headend.y}",
            "--no-basemap", "-q", "--out", str(tmp_path / "out")]  # fmt: skip
    # the headend is given in EPSG:27700 metres: pass a point file instead
    gpd.GeoDataFrame(geometry=[headend], crs="EPSG:27700").to_file(tmp_path / "olt.gpkg")
    args[args.index("--exchange") + 1] = str(tmp_path / "olt.gpkg")
    assert main([*args, "--buildings", str(tmp_path / "footprints.gpkg")]) == 0
    s = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert s["premises_passed"] == 4
    assert s["buildings_total"] == 2
    boq = pd.read_csv(tmp_path / "out" / "boq.csv").set_index("key")
    t = s["take_up"]
    # two drops (the block and the house), in-building wiring for the block's three units
    assert boq.loc["drop_gbp_per_premises", "quantity"] == pytest.approx(2 * t)
    assert boq.loc["in_building_gbp_per_unit", "quantity"] == pytest.approx(3 * t)


def test_urban_and_rural_trench_rows_and_new_poles_by_hand():
    q = fibreplan.Quantities(
        dug_m_by_surface={"footway": 100.0, "verge": 50.0},
        rural_dug_m_by_surface={"footway": 40.0, "verge": 50.0},
        duct_reuse_m=0.0, duct_reuse_gbp=0.0, aerial_m=0.0, aerial_gbp=0.0,
        aerial_new_pole_m=120.0, new_poles=2,
        drop_m=0.0, premises_connected=0, road_crossings=0,
    )  # fmt: skip
    book = fibreplan.CostBook()
    boq = fibreplan.cost_plan(q, costs=book).boq.set_index("item")
    assert boq.loc["trench, footway, urban", "cost_gbp"] == pytest.approx(60 * 61.32)
    assert boq.loc["trench, footway, rural", "cost_gbp"] == pytest.approx(40 * 32.97)
    assert boq.loc["trench, verge, rural", "cost_gbp"] == pytest.approx(50 * 17.73)
    assert "trench, verge, urban" not in boq.index
    assert boq.loc["trench, verge, rural", "unit_cost_low_gbp"] == 15.60
    assert boq.loc["aerial cable on new poles", "cost_gbp"] == pytest.approx(
        round(120 * book.aerial_gbp_per_m, 2)
    )
    pole = boq.loc["new poles, supplied and erected"]
    got = (pole["quantity"], pole["cost_gbp"], pole["cost_low_gbp"], pole["cost_high_gbp"])
    assert got == (2, 2400.0, 1200.0, 5000.0)
    assert pole["key"] == "pole_gbp"
    assert pole["assumption"]
    # an old quantities.json (no rural field) prices every metre at the urban rate
    old = fibreplan.Quantities.from_dict(
        {k: v for k, v in q.to_dict().items() if k != "rural_dug_m_by_surface"}
    )
    old_boq = fibreplan.cost_plan(old, costs=book).boq.set_index("item")
    assert old_boq.loc["trench, footway, urban", "quantity"] == 100.0
    assert "trench, footway, rural" not in old_boq.index


def test_routed_aerial_price_is_drawn_apart_from_new_pole_aerial():
    """Existing-pole aerial (routed at 100 GBP/m) and new-pole aerial share the cost book key."""
    q = fibreplan.Quantities(
        dug_m_by_surface={}, duct_reuse_m=0.0, duct_reuse_gbp=0.0,
        aerial_m=1000.0, aerial_gbp=100_000.0, aerial_new_pole_m=1.0, new_poles=1,
        drop_m=0.0, premises_connected=0, road_crossings=0,
    )  # fmt: skip
    c = fibreplan.cost_plan(q, costs=fibreplan.CostBook())
    # the routed row ranges over 100 x (4 / 6.49 .. 9 / 6.49) GBP/m: never near 17 GBP/m
    assert c.percentiles["total"]["p10"] > 1000 * 100 * 4 / 6.49
    assert c.low_gbp <= c.percentiles["total"]["p10"] <= c.percentiles["total"]["p90"] <= c.high_gbp


def test_costing_leaves_the_street_names_alone() -> None:
    """Street names are read, never written: an unpickled column (as on a Dask worker) once
    came back from pandas' to_numpy as the column's own array, and the plan wrote NUL-marked
    names into it (PostGIS refused them; the map showed them)."""
    import pickle

    import fibreplan

    streets, premises = fibreplan.demo_data(tiny=True)
    streets = pickle.loads(pickle.dumps(streets))
    before = streets["name"].copy()
    p = fibreplan.plan(streets, premises, method="heuristic")
    assert streets["name"].equals(before)
    assert not any("\x00" in str(n) for n in p.streets["name"].dropna())
    names = p.layers()["trenches"]["street_name"]
    assert not any("\x00" in str(n) for n in names.dropna())
