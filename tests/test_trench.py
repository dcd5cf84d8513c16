"""Trench graph: splitting, surfaces, two-sided roads and crossings, duct reuse, drops."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

import fibreplan
from fibreplan.trench import line_substrings
from fibreplan.trench import surface_class

from .conftest import X0
from .conftest import Y0


def _gdf(rows, *, highway):
    return gpd.GeoDataFrame(
        {"highway": [highway] * len(rows)},
        geometry=[shapely.LineString([(X0 + x, Y0 + y) for x, y in r]) for r in rows],
        crs="EPSG:27700",
    )


def _points(xy, ids=None):
    return gpd.GeoDataFrame(
        {"premises_id": ids or [str(i) for i in range(len(xy))], "class": "residential"},
        geometry=[shapely.Point(X0 + x, Y0 + y) for x, y in xy],
        crs="EPSG:27700",
    )


def test_split_lengths_add_up_and_nodes_match_geometry(streets, premises, headend):
    tg = fibreplan.build_trench_graph(streets, premises, headend=headend)
    street_m = tg.edge_length_m[tg.edge_kind != "crossing"].sum()
    assert street_m == pytest.approx(streets.length.sum(), abs=0.05)
    geom = tg.edge_geometry
    assert np.allclose(shapely.length(geom), tg.edge_length_m, atol=0.02)
    start = shapely.get_coordinates(shapely.get_point(geom, 0))
    assert np.allclose(start, tg.node_xy[tg.edge_u], atol=0.02)
    # drop points lie on the street at the foot of the perpendicular
    a = tg.node_xy[tg.premises_node[0]]
    assert a == pytest.approx([X0 + 50, Y0], abs=0.02)
    assert tg.premises_drop_m[0] == pytest.approx(10.0)


def test_line_substrings_matches_shapely():
    line = shapely.LineString([(0, 0), (10, 0), (10, 10), (20, 10)])
    starts, ends = np.array([0.0, 5.0, 12.5]), np.array([5.0, 12.5, 30.0])
    got = line_substrings(np.array([line]), np.zeros(3, dtype=np.int64), starts, ends)
    want = [shapely.ops.substring(line, a, b) for a, b in zip(starts, ends, strict=True)]
    for g, w in zip(got, want, strict=True):
        assert g.equals_exact(w, 1e-9)


def test_surface_classes_from_tags():
    gdf = gpd.GeoDataFrame(
        {
            "highway": ["residential", "footway", "track", "residential", "service", "primary"],
            "surface": [None, None, None, "gravel", None, "asphalt"],
            "sidewalk": [None, None, None, None, None, "no"],
        },
        geometry=[shapely.LineString([(0, 0), (1, 0)])] * 6,
        crs="EPSG:27700",
    )
    assert list(surface_class(gdf)) == [
        "footway", "footway", "verge", "verge", "carriageway", "carriageway"
    ]  # fmt: skip


def _dual_carriageway():
    """A primary road (0,0)-(1000,0) with a junction at x=500, a dead end at x=1000.

    The headend is on a minor road west of x=0; 10 premises on the north side,
    one on the south side at x=950.
    """
    streets = pd_concat(
        _gdf([[(0, 0), (500, 0)], [(500, 0), (1000, 0)]], highway="primary"),
        _gdf([[(-100, 0), (0, 0)], [(500, 0), (500, 100)]], highway="residential"),
    )
    north = [(50 + 100 * i, 20) for i in range(10)]
    prem = _points([*north, (950, -20)], ids=[*(f"n{i}" for i in range(10)), "far"])
    return streets, prem, shapely.Point(X0 - 100, Y0)


def pd_concat(*gdfs):
    return gpd.GeoDataFrame(pd.concat(gdfs, ignore_index=True), crs="EPSG:27700")


def test_far_side_of_a_major_road_pays_a_crossing():
    streets, prem, head = _dual_carriageway()
    p = fibreplan.plan(streets, prem, headend=head)
    t = p.layers()["trenches"]
    assert (t["kind"] == "crossing").sum() >= 1
    assert p.summary["road_crossings"] >= 1
    assert p.summary["premises_connected"] == 11
    # premises attach to their own side of the road
    far = p.premises.set_index("premises_id").loc["far"]
    assert far["drop_m"] == pytest.approx(20 - p.trench_rules.side_offset_m, abs=0.01)
    assert not far["crosses_road"]


def test_expensive_crossings_make_the_plan_dig_the_far_side():
    streets, prem, head = _dual_carriageway()
    costs = fibreplan.CostBook(road_crossing_gbp=1e6)
    p = fibreplan.plan(streets, prem, headend=head, costs=costs)
    t = p.layers()["trenches"]
    assert (t["kind"] == "crossing").sum() == 0
    sides = t[t["highway"] == "primary"].groupby("side")["length_m"].sum()
    assert sides["right"] >= 900  # the south side, dug from the west end to x=950
    assert p.summary["road_crossings"] == 0


def test_minor_road_far_side_drops_cross_the_road():
    streets = _gdf([[(0, 0), (200, 0)]], highway="residential")
    prem = _points([(20, 10), (60, 10), (100, 10), (140, -10)])
    p = fibreplan.plan(streets, prem, headend=shapely.Point(X0, Y0))
    crosses = p.premises.set_index("premises_id")["crosses_road"]
    assert list(crosses) == [False, False, False, True]
    assert p.summary["road_crossings"] == 1
    boq = p.costing.boq.set_index("item")
    assert boq.loc["road crossings", "cost_gbp"] == p.costs.road_crossing_gbp


def _square_block():
    """A 300 m square of residential streets with two premises far from the headend corner."""
    streets = _gdf([[(0, 0), (300, 0)], [(0, 0), (0, 300)], [(300, 0), (300, 300)],
                    [(0, 300), (300, 300)]], highway="residential")  # fmt: skip
    return streets, _points([(300 + 10, 280), (150, 290)])


def _duct_case(rent_per_m_year):
    streets, prem = _square_block()
    duct = gpd.GeoDataFrame(
        {"owner": ["Openreach"], "spare_capacity": [2], "rent_gbp_per_m_year": [rent_per_m_year]},
        geometry=[shapely.LineString([(X0, Y0 + 1), (X0 + 300, Y0 + 1), (X0 + 300, Y0 + 300)])],
        crs="EPSG:27700",
    )
    return streets, prem, duct


def test_cheap_duct_is_rented_instead_of_dug():
    streets, prem, duct = _duct_case(0.45)
    p = fibreplan.plan(streets, prem, headend=shapely.Point(X0, Y0), existing=duct)
    s = p.summary
    assert s["duct_m_reused"] > 250
    t = p.layers()["trenches"]
    assert set(t.loc[t["kind"] == "duct_reuse", "dug"]) == {False}
    assert s["trench_m_dug"] + s["duct_m_reused"] == pytest.approx(s["trench_m"])
    assert "existing duct rented" in " ".join(p.costing.boq["item"])


def test_dear_duct_is_not_used():
    streets, prem, duct = _duct_case(500.0)
    p = fibreplan.plan(streets, prem, headend=shapely.Point(X0, Y0), existing=duct)
    assert p.summary["duct_m_reused"] == 0


def test_duct_without_spare_capacity_is_not_used():
    streets, prem, duct = _duct_case(0.45)
    duct["spare_capacity"] = 0
    p = fibreplan.plan(streets, prem, headend=shapely.Point(X0, Y0), existing=duct)
    assert p.summary["duct_m_reused"] == 0


def test_premises_beyond_max_drop_are_reported(streets, premises, headend):
    rules = fibreplan.TrenchRules(max_drop_m=7.0)
    tg = fibreplan.build_trench_graph(streets, premises, headend=headend, rules=rules)
    reasons = dict(zip(premises["premises_id"], tg.premises_reason, strict=True))
    assert reasons["B"] == ""  # 5 m drop
    assert reasons["A"] == "too_far_from_street"  # 10 m drop
    assert reasons["E"] == "too_far_from_street"


def _pole_case(spacing_m):
    streets, prem = _square_block()
    xs = np.arange(spacing_m, 300, spacing_m)
    geometry = [shapely.Point(X0 + x, Y0 - 3) for x in xs] + [
        shapely.Point(X0 + 303, Y0 + y) for y in xs
    ]
    poles = gpd.GeoDataFrame(
        {"owner": ["Openreach"] * len(geometry)}, geometry=geometry, crs="EPSG:27700"
    )
    return streets, prem, poles


def test_cable_goes_aerial_on_close_poles():
    streets, prem, poles = _pole_case(50.0)
    p = fibreplan.plan(streets, prem, headend=shapely.Point(X0, Y0), existing=poles)
    s = p.summary
    assert s["aerial_m"] > 250
    assert s["trench_m_dug"] + s["duct_m_reused"] + s["aerial_m"] == pytest.approx(s["trench_m"])
    t = p.layers()["trenches"]
    assert set(t.loc[t["kind"] == "aerial", "dug"]) == {False}
    book = p.costs
    aerial = p.costing.boq.set_index("item").filter(like="aerial", axis=0)
    # a 300 m stretch with 5 poles: cable at the aerial rate plus each pole's rent
    street0 = t[(t["kind"] == "aerial") & (t["length_m"].round(3) == 300.0)]
    assert len(street0) == 1
    want = 300 * book.aerial_gbp_per_m + 5 * book.pole_rent_gbp_per_year * book.annuity_factor
    assert street0["cost_gbp"].iloc[0] == pytest.approx(want)
    assert aerial["cost_gbp"].sum() == pytest.approx(t.loc[t["kind"] == "aerial", "cost_gbp"].sum())


def test_poles_too_far_apart_are_not_used():
    streets, prem, poles = _pole_case(100.0)  # 100 m spans > 60 m
    p = fibreplan.plan(streets, prem, headend=shapely.Point(X0, Y0), existing=poles)
    assert p.summary["aerial_m"] == 0


def test_mid_block_crossing_serves_a_far_side_premises():
    """North side already dug for ten premises; one premises across the road mid-block."""
    streets = pd_concat(
        _gdf([[(-500, 0), (0, 0)], [(0, 0), (1000, 0)], [(1000, 0), (1500, 0)]], highway="primary"),
        _gdf([[(0, 0), (0, 100)], [(1000, 0), (1000, 100)]], highway="residential"),
    )
    north = [(50 + 100 * i, 20) for i in range(10)]
    prem = _points([*north, (505, -20)], ids=[*(f"n{i}" for i in range(10)), "far"])
    head = shapely.Point(X0, Y0 + 100)

    def south_metres(rules):
        p = fibreplan.plan(streets, prem, headend=head, trench_rules=rules)
        t = p.layers()["trenches"]
        assert p.summary["premises_connected"] == 11
        return t[(t["highway"] == "primary") & (t["side"] == "right")]["length_m"].sum(), t

    south, t = south_metres(fibreplan.TrenchRules())
    # crossings every 1000/11 m: the route crosses mid-block either side of x=505 (two
    # crossings replace the 90.9 m of near-side trench between them, which is cheaper
    # than one crossing plus both stretches) and digs only that stretch of the far side
    assert south == pytest.approx(1000 / 11, abs=0.1)
    crossing_x = t[t["kind"] == "crossing"].geometry.centroid.x - X0
    assert ((crossing_x - 505).abs() < 60).all()
    assert len(crossing_x) >= 1
    no_mid = fibreplan.TrenchRules(crossing_spacing_m=1e9)
    south, _ = south_metres(no_mid)
    assert south > 400  # only junction crossings: the far side is dug from a junction
