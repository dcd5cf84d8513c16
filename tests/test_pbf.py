"""Reading OSM PBF (fibreplan._pbf): a hand-written file; a real extract checked against GDAL."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

from fibreplan._errors import InputValidationError
from fibreplan._noding import node_lines
from fibreplan._pbf import read_pbf

osmium = pytest.importorskip("osmium")

DATA = Path(__file__).parent / "data"
LEEDS = DATA / "leeds_its_example.osm.pbf"

LON0, LAT0 = -0.14, 51.52


def _write_pbf(path: Path) -> None:
    """A T-junction, a motorway, a stream and three buildings (node, way, multipolygon)."""
    from osmium.osm.mutable import Node
    from osmium.osm.mutable import Relation
    from osmium.osm.mutable import Way

    xy = {
        1: (0, 0), 2: (1, 0), 3: (2, 0), 5: (3, 0), 4: (1, 1), 6: (2, -1), 7: (1, -1),
        30: (0, 2), 31: (0.2, 2), 32: (0.2, 2.2), 33: (0, 2.2),
        34: (2, 2), 35: (2.4, 2), 36: (2.4, 2.4), 37: (2, 2.4), 40: (3, 3),
    }  # fmt: skip
    w = osmium.SimpleWriter(str(path))
    for i, (x, y) in sorted(xy.items()):
        tags = {"building": "kiosk", "name": "K"} if i == 40 else {}
        w.add_node(Node(id=i, location=(LON0 + x * 1e-3, LAT0 + y * 1e-3), tags=tags))
    ways = [
        (10, [1, 2, 3, 5], {"highway": "residential", "name": "Main Street", "lanes": "2"}),
        (11, [2, 4], {"highway": "service", "service": "alley"}),
        (12, [3, 6], {"highway": "motorway"}),
        (13, [2, 7], {"waterway": "stream"}),
        (20, [30, 31, 32, 33, 30], {"building": "house", "building:flats": "3",
                                    "addr:housenumber": "5", "addr:street": "Main Street"}),
        (21, [34, 35, 36, 37, 34], {}),
    ]  # fmt: skip
    for i, nodes, tags in ways:
        w.add_way(Way(id=i, nodes=nodes, tags=tags))
    w.add_relation(
        Relation(
            id=50,
            members=[("w", 21, "outer")],
            tags={"type": "multipolygon", "building": "school", "amenity": "school"},
        )
    )
    w.close()


@pytest.fixture(scope="module")
def tiny_pbf(tmp_path_factory):
    path = tmp_path_factory.mktemp("pbf") / "tiny.osm.pbf"
    _write_pbf(path)
    return path


def test_ways_split_at_shared_highway_nodes_only(tiny_pbf):
    streets, _ = read_pbf(tiny_pbf, exclude_highway={"motorway"})
    assert streets.crs.to_epsg() == 4326
    assert streets["osmid"].tolist() == ["10", "10", "11"]
    coords = [
        np.round((shapely.get_coordinates(g) - [LON0, LAT0]) * 1e3, 6).tolist()
        for g in streets.geometry
    ]
    # way 10 splits at node 2 (shared with way 11), not at node 3 (only the excluded
    # motorway uses it) nor for the stream (not a highway)
    assert coords == [[[0, 0], [1, 0]], [[1, 0], [2, 0], [3, 0]], [[1, 0], [1, 1]]]
    assert streets["name"].tolist()[:2] == ["Main Street", "Main Street"]
    assert streets["name"].isna().tolist() == [False, False, True]
    assert streets["service"].tolist()[2] == "alley"
    assert streets["lanes"].tolist()[:2] == ["2", "2"]


def test_excluded_highway_still_splits_when_kept(tiny_pbf):
    streets, _ = read_pbf(tiny_pbf)
    assert sorted(streets["osmid"]) == ["10", "10", "10", "11", "12"]


def test_buildings_from_nodes_ways_and_multipolygons(tiny_pbf):
    _, b = read_pbf(tiny_pbf)
    b = b.sort_values(["element", "id"]).reset_index(drop=True)
    assert list(zip(b["element"], b["id"], strict=True)) == [
        ("node", 40), ("relation", 50), ("way", 20),
    ]  # fmt: skip
    assert b.geom_type.tolist() == ["Point", "Polygon", "Polygon"]
    assert b["building"].tolist() == ["kiosk", "school", "house"]
    assert b.loc[2, "building:flats"] == "3"
    assert b.loc[2, "addr:housenumber"] == "5"
    assert b.loc[1, "amenity"] == "school"
    assert b.loc[0, "name"] == "K"  # every tag by default, as osmnx keeps them
    assert b.loc[2, "addr:street"] == "Main Street"
    _, only = read_pbf(tiny_pbf, building_tags=("building", "amenity"))
    assert sorted(only.columns) == ["amenity", "building", "element", "geometry", "id"]


def test_bad_file_is_an_input_error(tmp_path):
    bad = tmp_path / "bad.osm.pbf"
    bad.write_bytes(b"not a pbf at all")
    with pytest.raises(InputValidationError, match=r"bad\.osm\.pbf"):
        read_pbf(bad)
    with pytest.raises(InputValidationError, match="no such file"):
        read_pbf(tmp_path / "missing.osm.pbf")


def test_real_extract_splits_like_noding_the_gdal_ways():
    """Leeds: ways split by node id equal GDAL's one-line-per-way layer noded by geometry."""
    streets, buildings = read_pbf(LEEDS)
    assert (len(streets), len(buildings)) == (347, 82)
    lines = pyogrio.read_dataframe(LEEDS, layer="lines")
    lines = lines.loc[lines["highway"].notna(), ["osm_id", "geometry"]]
    # GDAL puts closed area=yes highway ways in its multipolygons layer: take their rings
    areas = pyogrio.read_dataframe(LEEDS, layer="multipolygons")
    areas = areas[areas["osm_way_id"].notna() & areas["other_tags"].str.contains('"highway"=>')]
    rings = gpd.GeoDataFrame(
        {"osm_id": areas["osm_way_id"].to_numpy()},
        geometry=areas.boundary.to_numpy(),
        crs=areas.crs,
    ).explode(ignore_index=True)
    gdal = pd.concat([lines, rings], ignore_index=True)
    assert set(gdal["osm_id"]) == set(streets["osmid"])
    ours = streets.to_crs("EPSG:27700")
    noded, _ = node_lines(gdal.to_crs("EPSG:27700"), split_crossings=False, tolerance_m=0.0)
    assert len(noded) == len(ours)
    assert noded.length.sum() == pytest.approx(ours.length.sum(), rel=1e-9)
    assert _wkt_set(noded) == _wkt_set(ours)


def _wkt_set(gdf):
    return sorted(shapely.to_wkt(shapely.set_precision(gdf.geometry.to_numpy(), 1e-3)))


def test_pbf_loads_as_streets_and_premises_through_the_reader_table():
    """One .osm.pbf gives both inputs, in EPSG:27700, with the OSM XML path's columns."""
    from fibreplan.load import _NOT_TRENCHABLE
    from fibreplan.load import load_inputs

    streets, premises = load_inputs(LEEDS, LEEDS)
    assert streets.crs.to_epsg() == premises.crs.to_epsg() == 27700
    for col in ("street_id", "osmid", "highway", "name", "surface", "lanes", "length_m"):
        assert col in streets
    assert not streets["highway"].isin(list(_NOT_TRENCHABLE)).any()
    # untrenchable ways (steps, ...) are left out before splitting, so they split nothing
    raw, buildings = read_pbf(LEEDS, exclude_highway=_NOT_TRENCHABLE)
    assert len(streets) == len(raw) < 347
    assert streets["length_m"].sum() == pytest.approx(raw.to_crs(27700).length.sum())
    assert premises["premises_id"].str.match(r"^(way|relation|node)/\d+$").all()
    assert premises["premises_id"].is_unique
    assert len(premises) <= len(buildings)
    assert set(premises.geom_type) == {"Point"}


def test_pbf_without_streets_gives_an_empty_frame_and_a_named_error(tmp_path):
    from osmium.osm.mutable import Node
    from osmium.osm.mutable import Way

    from fibreplan.load import load_streets

    path = tmp_path / "buildings_only.osm.pbf"
    w = osmium.SimpleWriter(str(path))
    for i, (x, y) in enumerate([(0, 0), (1, 0), (1, 1), (0, 1)], start=1):
        w.add_node(Node(id=i, location=(LON0 + x * 1e-4, LAT0 + y * 1e-4)))
    w.add_way(Way(id=9, nodes=[1, 2, 3, 4, 1], tags={"building": "yes"}))
    w.close()
    streets, buildings = read_pbf(path)
    assert (len(streets), len(buildings)) == (0, 1)
    assert "osmid" in streets
    with pytest.raises(InputValidationError, match="streets holds no LineString"):
        load_streets(path)
