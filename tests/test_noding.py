"""Noding of line layers (fibreplan._noding): hand-built junctions, a bridge, real Fitzrovia."""

from __future__ import annotations

import dataclasses
import itertools

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

import fibreplan
from fibreplan._errors import CRSError
from fibreplan._noding import node_lines
from fibreplan._noding import split_at_shared_vertices
from fibreplan.load import demo_path

L = shapely.LineString


def _gdf(lines, **cols):
    return gpd.GeoDataFrame(cols, geometry=lines, crs="EPSG:27700")


def _pieces(gdf):
    """Sorted WKT of the pieces (at 1 mm) with their name: the result as a set."""
    rounded = shapely.set_precision(gdf.geometry.to_numpy(), 1e-3)
    return sorted(zip(gdf["name"], shapely.to_wkt(rounded, rounding_precision=3), strict=True))


def test_t_junction_without_vertex_splits_the_through_line():
    g = _gdf([L([(0, 0), (100, 0)]), L([(40, 0), (40, 30)])], name=["through", "stem"])
    out, rep = node_lines(g)
    assert _pieces(out) == [
        ("stem", "LINESTRING (40 0, 40 30)"),
        ("through", "LINESTRING (0 0, 40 0)"),
        ("through", "LINESTRING (40 0, 100 0)"),
    ]
    assert (rep.lines_in, rep.lines_out, rep.split_touching_ends, rep.endpoints_snapped) == (
        2, 3, 1, 0,
    )  # fmt: skip


def test_x_crossing_at_grade_splits_both_lines():
    g = _gdf([L([(0, 0), (100, 0)]), L([(30, -50), (30, 50)])], name=["a", "b"])
    out, rep = node_lines(g)
    assert _pieces(out) == [
        ("a", "LINESTRING (0 0, 30 0)"),
        ("a", "LINESTRING (30 0, 100 0)"),
        ("b", "LINESTRING (30 -50, 30 0)"),
        ("b", "LINESTRING (30 0, 30 50)"),
    ]
    assert (rep.split_crossings, rep.crossings_kept, rep.split_shared_vertices) == (1, 0, 0)


def test_shared_interior_vertex_splits_both_lines():
    g = _gdf([L([(0, 0), (50, 0), (100, 0)]), L([(50, -40), (50, 0), (50, 40)])], name=["a", "b"])
    out, rep = node_lines(g, split_crossings=False)
    assert len(out) == 4
    assert rep.split_shared_vertices == 2  # one cut in each line
    assert rep.split_crossings == 0


def test_way_running_straight_through_a_junction():
    # a long way passing a vertex where two side streets end (OSM: one shared node)
    g = _gdf(
        [L([(0, 0), (60, 0), (120, 0)]), L([(60, 0), (60, 50)]), L([(60, -50), (60, 0)])],
        name=["main", "north", "south"],
    )
    out, rep = node_lines(g)
    assert _pieces(out) == [
        ("main", "LINESTRING (0 0, 60 0)"),
        ("main", "LINESTRING (60 0, 120 0)"),
        ("north", "LINESTRING (60 0, 60 50)"),
        ("south", "LINESTRING (60 -50, 60 0)"),
    ]
    assert rep.split_shared_vertices == 1
    assert rep.split_touching_ends == 0


def test_bridge_over_a_road_is_not_split():
    g = _gdf(
        [L([(0, 0), (100, 0)]), L([(50, -50), (50, 50)])],
        name=["road", "bridge"],
        bridge=[None, "yes"],
    )
    out, rep = node_lines(g)
    assert len(out) == 2
    assert (rep.split_crossings, rep.crossings_kept) == (0, 1)


def test_different_layers_from_gdal_other_tags_are_not_split():
    g = _gdf(
        [L([(0, 0), (100, 0)]), L([(50, -50), (50, 50)])],
        name=["road", "underpass"],
        other_tags=[None, '"layer"=>"-1","lit"=>"yes"'],
    )
    _, rep = node_lines(g)
    assert (rep.split_crossings, rep.crossings_kept) == (0, 1)


def test_dangling_end_within_tolerance_is_snapped_and_splits_the_line():
    g = _gdf([L([(0, 0), (100, 0)]), L([(70, 0.3), (70, 40)])], name=["road", "lane"])
    out, rep = node_lines(g, tolerance_m=0.5)
    assert ("lane", "LINESTRING (70 0, 70 40)") in _pieces(out)
    assert (rep.endpoints_snapped, rep.split_touching_ends, rep.lines_out) == (1, 1, 3)
    _, far = node_lines(g, tolerance_m=0.2)
    assert (far.endpoints_snapped, far.lines_out) == (0, 2)


def test_two_dangling_ends_close_together_meet():
    g = _gdf([L([(0, 0), (50, 0)]), L([(50.2, 0), (100, 0)])], name=["a", "b"])
    out, rep = node_lines(g, tolerance_m=0.5)
    ends = shapely.get_coordinates(shapely.boundary(out.geometry.to_numpy()))
    assert rep.endpoints_snapped == 1
    assert len(np.unique(np.round(ends, 3), axis=0)) == 3  # 0, the shared 50 (or 50.2), 100


def test_attributes_carried_and_geographic_crs_refused():
    g = _gdf([L([(0, 0), (100, 0)]), L([(40, 0), (40, 30)])], name=["a", "b"], lanes=["2", "1"])
    out, _ = node_lines(g)
    assert out.loc[out["name"] == "a", "lanes"].tolist() == ["2", "2"]
    with pytest.raises(CRSError, match="projected"):
        node_lines(g.set_crs("EPSG:4326", allow_override=True))


def test_split_at_shared_vertices_by_node_id():
    # way 1: nodes 10-11-12-13, way 2: 20-11, way 3: 12-30; 13 used once
    ids = np.array([10, 11, 12, 13, 20, 11, 12, 30], dtype=np.int64)
    xy = np.column_stack([ids.astype(float), np.zeros(8)])
    lines, src, cut = split_at_shared_vertices(ids, xy, np.array([4, 2, 2]))
    assert src.tolist() == [0, 0, 0, 1, 2]
    assert [shapely.get_coordinates(g)[:, 0].tolist() for g in lines[:3]] == [
        [10, 11], [11, 12], [12, 13],
    ]  # fmt: skip
    assert cut.tolist() == [False, True, True, False, False, False, False, False]


@st.composite
def _grid_and_cuts(draw):
    nx, ny = draw(st.integers(2, 4)), draw(st.integers(2, 4))
    rows = [L([(0, 60 * j), (60 * (nx - 1), 60 * j)]) for j in range(ny)]
    cols = [L([(60 * i, 0), (60 * i, 60 * (ny - 1))]) for i in range(nx)]
    lines = rows + cols
    fractions = draw(
        st.lists(st.tuples(st.integers(0, len(lines) - 1), st.floats(0.05, 0.95)), max_size=8)
    )
    return nx, ny, lines, fractions


def _cut(lines, fractions):
    """Cut lines at the given fractions of their length (extra, meaningless ends)."""
    out = []
    for i, line in enumerate(lines):
        fs = sorted({0.0, 1.0, *(f for k, f in fractions if k == i)})
        out += [
            shapely.ops.substring(line, a, b, normalized=True) for a, b in itertools.pairwise(fs)
        ]
    return out


def _junctions(gdf):
    """Line ends met by other than two pieces (the network's real nodes), at 1 mm."""
    ends = shapely.get_coordinates(shapely.boundary(gdf.geometry.to_numpy()))
    pts, counts = np.unique(np.round(ends, 3), axis=0, return_counts=True)
    return {tuple(p) for p in pts[counts != 2]}


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_grid_and_cuts())
def test_cutting_at_random_points_gives_the_same_noded_network(case):
    nx, ny, lines, fractions = case
    plain, _ = node_lines(_gdf(lines, name=["s"] * len(lines)))
    cut, _ = node_lines(_gdf(_cut(lines, fractions), name=["s"] * len(_cut(lines, fractions))))
    assert cut.length.sum() == pytest.approx(plain.length.sum(), abs=1e-6)
    assert _junctions(cut) == _junctions(plain)
    # every junction of the grid is a line end, so the noded grid has one piece per link
    assert len(plain) == (nx - 1) * ny + (ny - 1) * nx


@pytest.mark.slow
def test_fitzrovia_one_line_per_way_plans_like_the_osm_file(tmp_path):
    """GDAL/QGIS's OSM 'lines' layer (one line per way) through a GeoPackage, noded."""
    from fibreplan.load import _NOT_TRENCHABLE

    path = demo_path()
    lines = pyogrio.read_dataframe(path, layer="lines")
    lines = lines[lines["highway"].notna()]  # as exported: steps and proposed roads too
    gpkg = tmp_path / "streets.gpkg"
    lines.to_file(gpkg, layer="streets", engine="pyogrio")
    unsplit = gpd.read_file(gpkg, engine="pyogrio").to_crs("EPSG:27700")
    trenchable = unsplit[~unsplit["highway"].isin(sorted(_NOT_TRENCHABLE))]
    noded, rep = node_lines(trenchable)
    assert (len(unsplit), rep.lines_in, rep.lines_out) == (286, 279, 452)
    assert (rep.split_shared_vertices, rep.split_crossings, rep.crossings_kept) == (172, 0, 8)
    assert (rep.split_touching_ends, rep.endpoints_snapped) == (1, 1)
    streets, premises = fibreplan.load_osm(path)
    reference = fibreplan.plan(streets, premises).summary
    assert reference["premises_connected"] == 1130
    unsplit_plan = fibreplan.plan(trenchable, premises).summary  # the issue: planned as pieces
    assert unsplit_plan["premises_connected"] < 800
    # the GeoPackage given as a file: untrenchable ways left out, then noded by the loader
    loaded = fibreplan.load_streets(gpkg)
    assert loaded.attrs["noding"] == dataclasses.asdict(rep)
    assert loaded["length_m"].sum() == pytest.approx(noded.length.sum())
    got = fibreplan.plan(gpkg, premises).summary
    assert got["premises_connected"] == reference["premises_connected"]
    assert got["premises_total"] == reference["premises_total"]


def test_loader_leaves_out_never_trenched_lines_before_noding(tmp_path):
    from fibreplan._errors import InputValidationError

    g = _gdf(
        [L([(0, 0), (100, 0)]), L([(40, -30), (40, 30)]), L([(80, 0), (80, 30)])],
        name=["road", "stair", "lane"],
        highway=["residential", "steps", "service"],
    )
    path = tmp_path / "lines.gpkg"
    g.to_file(path, engine="pyogrio")
    streets = fibreplan.load_streets(path)
    # the steps are gone, so they cross nothing; the lane's end splits the road
    assert sorted(streets["name"]) == ["lane", "road", "road"]
    assert streets.attrs["noding"]["split_touching_ends"] == 1
    g.iloc[[1]].to_file(tmp_path / "stairs.gpkg", engine="pyogrio")
    with pytest.raises(InputValidationError, match="never trenched"):
        fibreplan.load_streets(tmp_path / "stairs.gpkg")
