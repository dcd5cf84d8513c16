"""Trench graph: splitting, surfaces, two-sided roads and crossings, duct reuse, drops."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from scipy.sparse import csgraph

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
    boq = p.costing.boq
    crossing = boq[boq["item"].str.startswith("road crossings")]
    assert crossing["quantity"].tolist() == [1]
    assert crossing["cost_gbp"].tolist() == [pytest.approx(p.costs.road_crossing_gbp)]


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

    # the hand-made trade-off below is at urban rates (11 premises would class the toy rural)
    south, t = south_metres(fibreplan.TrenchRules(urban_premises_per_ha=0))
    # crossings every 1000/11 m: the route crosses mid-block either side of x=505 (two
    # crossings replace the 90.9 m of near-side trench between them, which is cheaper
    # than one crossing plus both stretches) and digs only that stretch of the far side
    assert south == pytest.approx(1000 / 11, abs=0.1)
    crossing_x = t[t["kind"] == "crossing"].geometry.centroid.x - X0
    assert ((crossing_x - 505).abs() < 60).all()
    assert len(crossing_x) >= 1
    no_mid = fibreplan.TrenchRules(crossing_spacing_m=1e9, urban_premises_per_ha=0)
    south, _ = south_metres(no_mid)
    assert south > 400  # only junction crossings: the far side is dug from a junction


# ----------------------------------------------------------------------------------------
# trench geometry forms one network: every edge's line ends at its nodes' coordinates


def _end_gaps(tg):
    """Largest distance (metres) from each edge's first / last point to its u / v node."""
    geom = tg.edge_geometry
    first = shapely.get_coordinates(shapely.get_point(geom, 0))
    last = shapely.get_coordinates(shapely.get_point(geom, -1))
    return (
        np.hypot(*(first - tg.node_xy[tg.edge_u]).T),
        np.hypot(*(last - tg.node_xy[tg.edge_v]).T),
    )


def _pieces(lines, *, decimals):
    """Connected pieces of lines joined where their ends round to the same point (union-find).

    What a GIS does when it snaps line ends at 10**-decimals metres: an independent
    reference, plain Python over the written geometry.
    """
    parent = {}

    def find(x):
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    ends = []
    for geom in lines:
        c = list(geom.coords)
        a = (round(c[0][0], decimals), round(c[0][1], decimals))
        b = (round(c[-1][0], decimals), round(c[-1][1], decimals))
        parent[find(a)] = find(b)
        ends.append(a)
    return len({find(a) for a in ends})


def test_minor_road_trench_starts_at_the_corner_of_a_two_sided_junction():
    """A T junction: residential road north from a primary road (sides 6 m off the centre).

    The primary's north side and the residential trench meet in the north corner,
    (0, 6): the residential trench is 94 m, not 100 m into the road's centre.
    """
    streets = pd_concat(
        _gdf([[(-100, 0), (0, 0)], [(0, 0), (100, 0)]], highway="primary"),
        _gdf([[(0, 0), (0, 100)]], highway="residential"),
    )
    tg = fibreplan.build_trench_graph(
        streets, _points([(10, 50)]), headend=shapely.Point(X0 - 100, Y0 + 10)
    )
    gap_u, gap_v = _end_gaps(tg)
    assert gap_u.max() == 0.0
    assert gap_v.max() == 0.0
    minor = tg.edge_street == 2
    assert tg.edge_length_m[minor].sum() == pytest.approx(94.0)
    starts = tg.node_xy[np.concatenate([tg.edge_u[minor], tg.edge_v[minor]])]
    assert [X0, Y0 + 6] in starts.tolist()
    # the north side of both primary lines runs along y = 6 from that same corner
    north = (tg.edge_side == "left") & (tg.edge_kind != "crossing")
    ys = shapely.get_coordinates(tg.edge_geometry[north])[:, 1]
    assert ys == pytest.approx(np.full(ys.size, Y0 + 6))
    assert _pieces(tg.edge_geometry, decimals=3) == 1


def test_sides_of_an_angled_junction_end_at_their_corners():
    """Three primary roads meeting at 120 degrees: each corner is 6 m along its bisector.

    The corner between the arms east (bearing 0) and at 120 degrees is at
    6 (cos 60, sin 60) = (3, 5.196); both sides that meet there end on it.
    """
    arms = [(100, 0), (-50, 86.6025), (-50, -86.6025)]
    streets = _gdf([[(0, 0), a] for a in arms], highway="primary")
    tg = fibreplan.build_trench_graph(streets, _points([(60, 20), (-60, 40)]))
    gap_u, gap_v = _end_gaps(tg)
    assert max(gap_u.max(), gap_v.max()) < 1e-6
    corner = np.array([X0 + 3.0, Y0 + 6 * np.sin(np.pi / 3)])
    at = np.flatnonzero(np.hypot(*(tg.node_xy - corner).T) < 1e-3)
    assert at.size == 1
    sides = (tg.edge_kind != "crossing") & ((tg.edge_u == at[0]) | (tg.edge_v == at[0]))
    assert sorted(tg.edge_side[sides].tolist()) == ["left", "right"]
    assert _pieces(tg.edge_geometry, decimals=3) == 1


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    arms=st.lists(
        st.tuples(
            st.floats(0, 2 * np.pi, allow_nan=False),
            st.floats(8, 300, allow_nan=False),
            st.booleans(),
        ),
        min_size=1,
        max_size=5,
    ),
    drops=st.lists(st.tuples(st.floats(-200, 200), st.floats(-200, 200)), max_size=8),
)
def test_edge_lines_end_at_their_nodes_and_join_like_the_graph(arms, drops):
    """Random junctions of two-sided and minor roads, with a bend in each arm.

    Every edge's geometry starts and ends at its nodes' coordinates, so the
    lines joined at 1 mm form exactly as many pieces as the graph has
    connected parts.
    """
    rows, majors = [], []
    for bearing, length, major in arms:
        tip = (length * np.cos(bearing), length * np.sin(bearing))
        bend = (0.5 * tip[0] - 0.1 * tip[1], 0.5 * tip[1] + 0.1 * tip[0])
        rows.append([(0, 0), bend, tip])
        majors.append(major)
    streets = pd_concat(*(
        _gdf([r], highway="primary" if major else "residential")
        for r, major in zip(rows, majors, strict=True)
    ))  # fmt: skip
    prem = _points([*drops, (1.0, 1.0)])
    tg = fibreplan.build_trench_graph(streets, prem)
    gap_u, gap_v = _end_gaps(tg)
    assert max(gap_u.max(), gap_v.max()) < 1e-6
    used = np.unique(np.concatenate([tg.edge_u, tg.edge_v]))
    _, label = csgraph.connected_components(tg.csr(), directed=False)
    assert _pieces(tg.edge_geometry, decimals=3) == np.unique(label[used]).size


def test_demo_trenches_and_cables_form_one_network(demo_plan):
    """Issue 10: the demo's written trench lines are one tree at 1 mm, not 179 pieces."""
    tg = demo_plan.trench_graph
    gap_u, gap_v = _end_gaps(tg)
    assert gap_u.max() < 1e-6
    assert gap_v.max() < 1e-6
    layers = demo_plan.layers()
    assert _pieces(layers["trenches"].geometry, decimals=3) == 1
    assert _pieces(layers["cables"].geometry, decimals=3) == 1


def _town_and_country():
    """One 5.4 km road: five blocks of 100 flats on its first 350 m, two houses 5 km away."""
    streets = _gdf([[(0, 0), (5400, 0)]], highway="residential")
    prem = _points([(50, 10), (125, 10), (200, 10), (275, 10), (350, 10), (5100, 10), (5300, 10)])
    prem["units"] = [100, 100, 100, 100, 100, 1, 1]
    return streets, prem


def test_dense_stretches_are_urban_and_sparse_ones_rural():
    streets, prem = _town_and_country()
    book = fibreplan.CostBook()
    tg = fibreplan.build_trench_graph(streets, prem, headend=shapely.Point(X0, Y0), costs=book)
    mid_x = shapely.get_x(shapely.line_interpolate_point(tg.edge_geometry, 0.5, normalized=True))
    # 500 units in the 900 m window (81 ha) = 6.2 per ha >= 4: urban; 2 units: rural (the one
    # street's 900 m is 11 m per ha, far below urban_street_m_per_ha)
    assert set(tg.edge_area[mid_x - X0 < 350]) == {"urban"}
    assert set(tg.edge_area[mid_x - X0 > 1000]) == {"rural"}
    urban = book.trench_gbp_per_m["footway"]
    rural = book.trench_rural_gbp_per_m["footway"]
    assert (urban, rural) == (61.32, 32.97)  # Cartesian urban; x 12.50 / 23.25
    rate = np.where(tg.edge_area == "urban", urban, rural)
    assert tg.edge_cost_gbp == pytest.approx(tg.edge_length_m * rate)
    assert (tg.edge_new_poles == 0).all()
    # the same street with the blocks taken out is all rural; with no bar all urban
    sparse = fibreplan.build_trench_graph(streets, prem.iloc[5:], headend=shapely.Point(X0, Y0))
    assert set(sparse.edge_area) == {"rural"}
    low_bar = fibreplan.TrenchRules(urban_premises_per_ha=0)
    tg2 = fibreplan.build_trench_graph(streets, prem, headend=shapely.Point(X0, Y0), rules=low_bar)
    assert set(tg2.edge_area) == {"urban"}


def test_urban_and_rural_trench_in_the_bill_and_the_summary():
    streets, prem = _town_and_country()
    p = fibreplan.plan(streets, prem, headend=shapely.Point(X0, Y0))
    book, s = p.costs, p.summary
    boq = p.costing.boq.set_index("item")
    # dug: 0-350 m among the blocks (urban), 350-5300 m out to the last house (rural)
    assert s["trench_m_by_area"] == {"urban": pytest.approx(350.0), "rural": pytest.approx(4950.0)}
    assert boq.loc["trench, footway, urban", "quantity"] == pytest.approx(350.0)
    assert boq.loc["trench, footway, rural", "quantity"] == pytest.approx(4950.0)
    assert boq.loc["trench, footway, urban", "cost_gbp"] == pytest.approx(350 * 61.32, abs=0.01)
    assert boq.loc["trench, footway, rural", "cost_gbp"] == pytest.approx(4950 * 32.97, abs=0.01)
    assert boq.loc["trench, footway, rural", "key"] == "trench_rural_gbp_per_m.footway"
    assert boq.loc["trench, footway, rural", "assumption"]
    assert round(p.costing.boq["cost_gbp"].sum(), 2) == s["cost_total_gbp"]
    t = p.layers()["trenches"]
    assert t.groupby("area")["length_m"].sum().to_dict() == pytest.approx(s["trench_m_by_area"])
    assert book.trench_rural_gbp_per_m["footway"] < book.trench_gbp_per_m["footway"]


def test_rural_stretches_go_on_new_poles_when_allowed_and_cheaper():
    streets, prem = _town_and_country()
    head = shapely.Point(X0, Y0)
    book = fibreplan.CostBook(pole_gbp=300.0)  # 17.11 + 300 / 60 = 22.11 GBP/m < rural 32.97
    off = fibreplan.plan(streets, prem, headend=head, costs=book)
    assert off.summary["new_poles"] == 0
    assert off.summary["aerial_m"] == 0
    rules = fibreplan.TrenchRules(new_poles_rural=1)
    p = fibreplan.plan(streets, prem, headend=head, costs=book, trench_rules=rules)
    s, t = p.summary, p.layers()["trenches"]
    # the two rural stretches (4,750 m and 200 m): ceil(4750 / 60) + ceil(200 / 60) poles
    assert s["new_poles"] == 80 + 4
    assert s["aerial_m"] == pytest.approx(4950.0)
    assert s["trench_m_dug"] == pytest.approx(350.0)
    assert set(t.loc[t["area"] == "rural", "kind"]) == {"aerial"}
    assert set(t.loc[t["area"] == "urban", "kind"]) == {"dig"}
    assert t["new_poles"].sum() == 84
    boq = p.costing.boq.set_index("item")
    assert boq.loc["new poles, supplied and erected", "quantity"] == 84
    assert boq.loc["new poles, supplied and erected", "cost_gbp"] == 84 * 300.0
    assert boq.loc["aerial cable on new poles", "cost_gbp"] == pytest.approx(
        4950 * book.aerial_gbp_per_m, abs=0.01
    )
    assert "trench, footway, rural" not in boq.index
    assert round(p.costing.boq["cost_gbp"].sum(), 2) == s["cost_total_gbp"]
    # at the default pole price (17.11 + 1200 / 60 = 37.11 GBP/m) digging the verge is cheaper
    dear = fibreplan.plan(streets, prem, headend=head, trench_rules=rules)
    assert dear.summary["new_poles"] == 0
