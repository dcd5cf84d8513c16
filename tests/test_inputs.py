"""Inputs (issue 10): CSV columns and CRS never guessed, GDAL ids, building polygons,
GraphML, the area of interest, and headend point files."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

import fibreplan
from fibreplan._errors import CRSError
from fibreplan._errors import InputValidationError
from fibreplan.load import clip_to_aoi
from fibreplan.load import load_aoi
from fibreplan.load import load_headends
from fibreplan.load import load_inputs
from fibreplan.load import load_premises
from fibreplan.load import load_streets

E0, N0 = 529_000.0, 181_000.0  # central London, EPSG:27700


def _write(path, text: str):
    path.write_text(text, encoding="utf-8")
    return path


# --- CSV: documented headers, explicit columns and CRS, no silent guess -------------


def test_csv_with_x_y_headers_is_an_error_naming_the_flags(tmp_path):
    csv = _write(tmp_path / "p.csv", f"id,x,y\na,{E0},{N0}\n")
    with pytest.raises(InputValidationError, match=r"x/y .*--crs EPSG:27700.*EPSG:4326"):
        load_premises(csv)


def test_csv_x_y_with_crs_reads_in_that_crs(tmp_path):
    csv = _write(tmp_path / "p.csv", f"id,x,y\na,{E0},{N0}\nb,{E0 + 100},{N0}\n")
    bng = load_premises(csv, source_crs="EPSG:27700", crs="EPSG:27700")
    assert shapely.get_coordinates(bng.geometry).tolist() == [[E0, N0], [E0 + 100, N0]]
    csv2 = _write(tmp_path / "q.csv", "id,x,y\na,-0.1406,51.5185\n")
    ll = load_premises(csv2, source_crs="EPSG:4326", crs="EPSG:27700")
    x, y = shapely.get_coordinates(ll.geometry)[0]
    assert 529_000 < x < 530_000
    assert 181_000 < y < 182_500


def test_csv_other_headers_need_the_columns_named(tmp_path):
    csv = _write(tmp_path / "p.csv", f"ref,E,N\nr1,{E0},{N0}\n")
    with pytest.raises(InputValidationError, match=r"found \['ref', 'E', 'N'\].*--x-col/--y-col"):
        load_premises(csv)
    with pytest.raises(InputValidationError, match=r"CRS of columns E/N is not known.*--crs"):
        load_premises(csv, x_column="E", y_column="N")
    with pytest.raises(InputValidationError, match="give both --x-col and --y-col"):
        load_premises(csv, x_column="E")
    with pytest.raises(InputValidationError, match="no column 'East'"):
        load_premises(csv, x_column="East", y_column="N", source_crs="EPSG:27700")
    got = load_premises(
        csv, x_column="E", y_column="N", source_crs="EPSG:27700", id_column="ref", crs="EPSG:27700"
    )
    assert got["premises_id"].tolist() == ["r1"]
    assert shapely.get_coordinates(got.geometry).tolist() == [[E0, N0]]


def test_csv_bad_crs_and_columns_on_a_non_csv_are_refused(tmp_path):
    csv = _write(tmp_path / "p.csv", f"id,x,y\na,{E0},{N0}\n")
    with pytest.raises(InputValidationError, match="--crs 'EPSG:99999999' is not a CRS"):
        load_premises(csv, source_crs="EPSG:99999999")
    pts = gpd.GeoDataFrame({"id": ["a"]}, geometry=[shapely.Point(E0, N0)], crs="EPSG:27700")
    path = tmp_path / "p.gpkg"
    pts.to_file(path)
    with pytest.raises(InputValidationError, match=r"--x-col/--y-col .* is not one"):
        load_premises(path, x_column="x", y_column="y")
    with pytest.raises(InputValidationError, match="declares EPSG:27700 but --crs says"):
        load_premises(path, source_crs="EPSG:4326")


def test_crs_on_osm_data_is_refused():
    with pytest.raises(InputValidationError, match=r"is OSM data \(lon/lat\)\. Leave --crs out"):
        load_premises(fibreplan.demo_path(tiny=True), source_crs="EPSG:27700")


def test_crs_labels_a_layer_without_one():
    pts = gpd.GeoDataFrame({"id": ["a"]}, geometry=[shapely.Point(E0, N0)])
    with pytest.raises(CRSError, match="--crs"):
        load_premises(pts)
    got = load_premises(pts, source_crs="EPSG:27700", crs="EPSG:27700")
    assert shapely.get_coordinates(got.geometry).tolist() == [[E0, N0]]


def test_documented_headers_still_read_without_options(tmp_path):
    uprn = _write(
        tmp_path / "uprn.csv",
        f"UPRN,X_COORDINATE,Y_COORDINATE,LATITUDE,LONGITUDE\n1,{E0},{N0},51.5,-0.14\n",
    )
    got = load_premises(uprn, crs="EPSG:27700")
    assert got["premises_id"].tolist() == ["1"]
    assert shapely.get_coordinates(got.geometry).tolist() == [[E0, N0]]  # easting/northing win


# --- GDAL exports: osm_id, building polygons --------------------------------------------


def test_gdal_osm_ids_and_building_filter(tmp_path):
    square = shapely.box(E0, N0, E0 + 10, N0 + 10)
    polys = gpd.GeoDataFrame(
        {
            "osm_id": [None, "77", None, None, None],
            "osm_way_id": ["11", None, "12", "13", "14"],
            "building": ["house", "yes", "garage", None, "shed"],
        },
        geometry=[shapely.affinity.translate(square, 20 * i) for i in range(5)],
        crs="EPSG:27700",
    )
    path = tmp_path / "multipolygons.gpkg"
    polys.to_file(path)
    got = load_premises(path, crs="EPSG:27700")
    # the garage, the shed and the untagged polygon (landuse etc.) are not premises
    assert got["premises_id"].tolist() == ["way/11", "relation/77"]
    assert got.geometry.geom_type.eq("Point").all()
    assert shapely.contains(polys.geometry.to_numpy()[:2], got.geometry.to_numpy()).all()


def test_osm_id_of_a_point_layer_is_the_id(tmp_path):
    pts = gpd.GeoDataFrame(
        {"osm_id": ["5", "6"], "name": ["a", "b"]},
        geometry=[shapely.Point(E0, N0), shapely.Point(E0 + 5, N0)],
        crs="EPSG:27700",
    )
    assert load_premises(pts)["premises_id"].tolist() == ["5", "6"]


def test_only_garages_is_an_error(tmp_path):
    polys = gpd.GeoDataFrame(
        {"building": ["garage"]}, geometry=[shapely.box(E0, N0, E0 + 5, N0 + 5)], crs=27700
    )
    with pytest.raises(InputValidationError, match=r"no polygon .* is a premises building"):
        load_premises(polys)


# --- GraphML saved by osmnx -------------------------------------------------------------


def test_graphml_streets_equal_the_osm_file(tmp_path):
    import osmnx as ox

    from fibreplan.load import _parse_osm_xml

    G, _ = _parse_osm_xml(fibreplan.demo_path(tiny=True))
    path = tmp_path / "streets.graphml"
    ox.save_graphml(G, path)
    from_graphml = load_streets(path)
    from_osm, _ = fibreplan.demo_data(tiny=True)
    assert len(from_graphml) == len(from_osm)
    assert from_graphml["length_m"].sum() == pytest.approx(from_osm["length_m"].sum(), abs=1e-6)
    assert sorted(from_graphml["highway"].astype(str)) == sorted(from_osm["highway"].astype(str))


def test_graphml_that_is_not_one_is_refused(tmp_path):
    bad = _write(tmp_path / "s.graphml", "<graphml><oops")
    with pytest.raises(InputValidationError, match=r"could not read .* as an osmnx GraphML file"):
        load_streets(bad)


# --- area of interest --------------------------------------------------------------------


def _grid() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    lines = [shapely.LineString([(E0, N0 + 100 * i), (E0 + 1000, N0 + 100 * i)]) for i in range(3)]
    streets = gpd.GeoDataFrame(
        {"street_id": np.arange(3), "highway": "residential", "name": "Lane"},
        geometry=lines,
        crs="EPSG:27700",
    )
    streets["length_m"] = streets.length
    xs = np.arange(50, 1000, 100.0)
    premises = gpd.GeoDataFrame(
        {"premises_id": [f"p{i}" for i in range(xs.size)]},
        geometry=shapely.points(np.column_stack([E0 + xs, np.full(xs.size, N0 + 10)])),
        crs="EPSG:27700",
    )
    return streets, premises


def test_clip_to_a_box_cuts_streets_and_drops_outside_premises():
    streets, premises = _grid()
    area = shapely.box(E0 + 200, N0 - 50, E0 + 600, N0 + 150)
    s, p = clip_to_aoi(streets, premises, area)
    assert p["premises_id"].tolist() == ["p2", "p3", "p4", "p5"]
    assert s["length_m"].sum() == pytest.approx(800.0)  # 2 lines x 400 m inside
    assert s["street_id"].tolist() == [0, 1]
    assert s.geometry.within(area.buffer(1e-6)).all()


def test_aoi_bbox_in_degrees_and_polygon_file(tmp_path):
    streets, _ = _grid()
    box = load_aoi((-0.2, 51.4, -0.1, 51.6), crs=streets.crs)
    assert box.contains(shapely.Point(E0, N0))
    area = gpd.GeoDataFrame(geometry=[shapely.box(E0, N0, E0 + 10, N0 + 10)], crs="EPSG:27700")
    path = tmp_path / "aoi.geojson"
    area.to_crs("EPSG:4326").to_file(path)
    got = load_aoi(path, crs=streets.crs)
    assert got.area == pytest.approx(100.0, rel=1e-3)
    assert load_aoi("-0.2,51.4,-0.1,51.6", crs=streets.crs).equals(box)


@pytest.mark.parametrize(
    ("aoi", "message"),
    [
        ((-0.1, 51.6, -0.2, 51.4), "west < east"),
        ((51.4, -0.2, 51.6, -0.1, 3), "must be a bbox"),
        (shapely.box(E0, N0, E0 + 1, N0 + 1), "read as lon/lat degrees"),
        ("nowhere.gpkg", "no such file"),
    ],
)
def test_aoi_errors(aoi, message):
    with pytest.raises(InputValidationError, match=message):
        load_aoi(aoi, crs="EPSG:27700")


def test_aoi_outside_the_inputs_is_an_error():
    streets, premises = _grid()
    with pytest.raises(InputValidationError, match="no premises lies inside"):
        clip_to_aoi(streets, premises, shapely.box(E0 + 200, N0 + 150, E0 + 600, N0 + 250))


def test_plan_with_aoi_equals_plan_of_the_clipped_layers():
    streets, premises = fibreplan.demo_data(tiny=True)
    xmin, ymin, xmax, ymax = premises.total_bounds
    half = shapely.box(xmin - 50, ymin - 50, (xmin + xmax) / 2, ymax + 50)
    aoi = gpd.GeoDataFrame(geometry=[half], crs=premises.crs)
    p = fibreplan.plan(fibreplan.demo_path(tiny=True), fibreplan.demo_path(tiny=True), aoi=aoi)
    s_clip, p_clip = clip_to_aoi(streets, premises, half)
    q = fibreplan.plan(s_clip, p_clip)
    assert 0 < p.summary["premises_total"] < len(premises)
    assert p.summary["premises_total"] == len(p_clip)
    assert p.summary["premises_connected"] == q.summary["premises_connected"]
    assert p.summary["trench_m"] == pytest.approx(q.summary["trench_m"], abs=1e-3)


def test_load_inputs_aoi_keeps_missing_geometries_for_the_report():
    streets, premises = _grid()
    premises.loc[len(premises)] = ["nowhere", None]
    _, p = load_inputs(streets, premises, aoi=(-0.2, 51.4, -0.1, 51.6))
    assert "nowhere" in p["premises_id"].tolist()


# --- headend files -------------------------------------------------------------------


def test_headend_csv_ids_and_errors(tmp_path):
    csv = _write(tmp_path / "ex.csv", "name,lon,lat\nA,-0.14,51.52\nB,-0.13,51.52\n")
    pts, ids = load_headends(csv, crs="EPSG:27700")
    assert ids == ("A", "B")
    assert pts[0].x < pts[1].x
    dup = _write(tmp_path / "dup.csv", "name,lon,lat\nA,-0.14,51.52\nA,-0.13,51.52\n")
    with pytest.raises(InputValidationError, match="repeat"):
        load_headends(dup, crs="EPSG:27700")
    assert load_headends([(-0.14, 51.52), (-0.13, 51.52)], crs="EPSG:27700")[1] == ("H1", "H2")
    assert load_headends((-0.14, 51.52), crs="EPSG:27700")[1] == ("H1",)
    plain = pd.DataFrame({"lon": [-0.14], "lat": [51.52]})
    gdf = gpd.GeoDataFrame(plain, geometry=gpd.points_from_xy(plain.lon, plain.lat), crs=4326)
    assert load_headends(gdf, crs="EPSG:27700")[1] == ("H1",)
