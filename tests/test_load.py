"""Loading: OSM XML, point files, CSV schemas, CRS handling and clear errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import networkx as nx
import pytest
import shapely

import fibreplan
from fibreplan.load import premises_from_buildings
from fibreplan.load import streets_from_graph


def test_demo_data_is_real_and_projected():
    streets, premises = fibreplan.demo_data(tiny=True)
    assert streets.crs.to_epsg() == 27700
    assert premises.crs.to_epsg() == 27700
    assert 25 <= len(premises) <= 40
    assert streets["length_m"].gt(0).all()
    assert set(premises["class"]) <= {"residential", "business", "public"}
    assert premises["premises_id"].is_unique
    # building outlines are not streets: every street row has a highway tag
    assert streets["highway"].notna().all()
    assert not streets["highway"].isin(["motorway", "steps", "proposed"]).any()


def test_osm_graph_path_matches_file_path():
    """The online path (an osmnx graph) uses the same conversion as local files."""
    import osmnx as ox

    G = ox.graph_from_xml(fibreplan.demo_path(tiny=True), simplify=False, retain_all=True)
    a = streets_from_graph(G)
    b, _ = fibreplan.demo_data(tiny=True)
    assert len(a) == len(b)
    assert a["length_m"].sum() == pytest.approx(b["length_m"].sum())


def test_premises_classes_from_tags():
    b = gpd.GeoDataFrame(
        {
            "element": ["way"] * 5,
            "id": [1, 2, 3, 4, 5],
            "building": ["yes", "school", "retail", "garage", "apartments"],
            "amenity": [None, None, None, None, None],
            "shop": [None, None, "bakery", None, None],
            "building:flats": [None, None, None, None, "12"],
        },
        geometry=[shapely.Point(-0.14, 51.52).buffer(0.0001)] * 5,
        crs="EPSG:4326",
    )
    p = premises_from_buildings(b).set_index("premises_id")
    assert p.loc["way/1", "class"] == "residential"
    assert p.loc["way/2", "class"] == "public"
    assert p.loc["way/3", "class"] == "business"
    assert "way/4" not in p.index  # garages are not premises
    assert p.loc["way/5", "units"] == 12
    assert p.crs.to_epsg() == 27700


def test_csv_lonlat_and_easting_northing_agree(tmp_path):
    ll = tmp_path / "ll.csv"
    ll.write_text("uprn,longitude,latitude\n1,-0.1405,51.5185\n2,-0.1395,51.5190\n")
    en = gpd.GeoSeries.from_xy([-0.1405, -0.1395], [51.5185, 51.5190], crs="EPSG:4326").to_crs(
        27700
    )
    ne = tmp_path / "en.csv"
    ne.write_text(
        "\ufeffUPRN,X_COORDINATE,Y_COORDINATE\n"
        + "".join(f"{i},{p.x},{p.y}\n" for i, p in zip([1, 2], en, strict=True))
    )
    a = fibreplan.load_premises(ll)
    b = fibreplan.load_premises(ne)
    assert list(a["premises_id"]) == ["1", "2"] == list(b["premises_id"])
    assert a.geometry.distance(b.geometry).max() < 1e-6


def test_csv_without_coordinates_is_a_clear_error(tmp_path):
    f = tmp_path / "p.csv"
    f.write_text("uprn,postcode\n1,W1T 4QA\n")
    with pytest.raises(fibreplan.InputValidationError, match="lon/lat"):
        fibreplan.load_premises(f)


def test_csv_with_text_coordinates_is_a_clear_error(tmp_path):
    f = tmp_path / "p.csv"
    f.write_text("id,lon,lat\n1,west,51.5\n")
    with pytest.raises(fibreplan.InputValidationError, match="non-numeric"):
        fibreplan.load_premises(f)


def test_duplicate_ids_are_a_clear_error(premises):
    premises.loc[1, "premises_id"] = "A"
    with pytest.raises(fibreplan.InputValidationError, match="not unique"):
        fibreplan.load_premises(premises)


def test_missing_crs_is_a_crs_error(premises, streets):
    with pytest.raises(fibreplan.CRSError, match="no CRS"):
        fibreplan.load_premises(premises.set_crs(None, allow_override=True))
    with pytest.raises(fibreplan.CRSError, match="no CRS"):
        fibreplan.load_streets(streets.set_crs(None, allow_override=True))


def test_geographic_crs_is_refused_by_the_trench_stage(streets, premises):
    with pytest.raises(fibreplan.CRSError, match="geographic"):
        fibreplan.build_trench_graph(streets.to_crs(4326), premises)


def test_missing_file_names_the_argument(tmp_path):
    with pytest.raises(fibreplan.InputValidationError, match="no such file"):
        fibreplan.load_streets(tmp_path / "nope.gpkg")


def test_not_osm_xml_is_a_clear_error(tmp_path):
    f = tmp_path / "bad.osm"
    f.write_text("this is not xml")
    with pytest.raises(fibreplan.InputValidationError, match="OSM XML"):
        fibreplan.load_osm(f)


def test_streets_without_lines_is_a_clear_error(premises):
    with pytest.raises(fibreplan.InputValidationError, match="LineString"):
        fibreplan.load_streets(premises)


def test_gpkg_round_trip(tmp_path, streets, premises):
    streets.to_file(tmp_path / "s.gpkg", engine="pyogrio")
    premises.to_crs(4326).to_file(tmp_path / "p.geojson", engine="pyogrio")
    s = fibreplan.load_streets(tmp_path / "s.gpkg")
    p = fibreplan.load_premises(tmp_path / "p.geojson", crs=s.crs)
    assert len(s) == 5
    assert p.crs.to_epsg() == 27700
    assert p.geometry.distance(premises.geometry).max() < 0.05  # GeoJSON keeps ~7 decimals


def test_graph_input():
    G = nx.MultiDiGraph(crs="EPSG:4326")
    G.add_node(1, x=-0.14, y=51.52)
    G.add_node(2, x=-0.139, y=51.52)
    G.add_edge(1, 2, highway="residential", osmid=7, length=69.0)
    s = fibreplan.load_streets(G)
    assert len(s) == 1
    assert s["length_m"].iloc[0] == pytest.approx(69.3, abs=1.0)


def test_loading_is_the_same_in_every_process():
    """osmnx merges tags into lists in set order; fibreplan must not depend on it."""
    code = (
        "import fibreplan, hashlib;"
        "s, _ = fibreplan.demo_data();"
        "cols = s[['highway', 'surface', 'sidewalk', 'name', 'osmid']].astype(str);"
        "print(hashlib.sha256(cols.to_csv().encode()).hexdigest())"
    )
    out = {
        subprocess.run(
            [sys.executable, "-c", code],
            env={**os.environ, "PYTHONHASHSEED": str(seed)},
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        for seed in (1, 2, 3)
    }
    assert len(out) == 1


# ----------------------------------------------------------------------------------------
# one reader per format, each file read once


@pytest.mark.parametrize(
    ("name", "reader"),
    [
        ("a.osm", "_read_osm_xml"),
        ("a.OSM.BZ2", "_read_osm_xml"),
        ("a.xml", "_read_osm_xml"),
        ("a.csv", "_read_csv"),
        ("a.txt", "_read_csv"),
        ("a.gpkg", "_read_vector"),
        ("a.geojson", "_read_vector"),
        ("a.json", "_read_vector"),
        ("a.shp", "_read_vector"),
        ("a.fgb", "_read_vector"),
        ("a.gml", "_read_vector"),  # anything else: GDAL decides
    ],
)
def test_reader_table_dispatch(name, reader):
    from fibreplan import load

    assert load._reader(Path(name)) is getattr(load, reader)


def _count_reads(monkeypatch):
    """Wrap every reader of the table so that calls are counted by file name."""
    from fibreplan import load

    calls: list[str] = []

    def counted(fn):
        def wrapper(path, **kw):
            calls.append(path.name)
            return fn(path, **kw)

        return wrapper

    monkeypatch.setattr(load, "_READERS", {k: counted(f) for k, f in load._READERS.items()})
    monkeypatch.setattr(load, "_read_vector", counted(load._read_vector))
    return calls


def _count_xml_parses(monkeypatch):
    import osmnx._osm_xml

    parses: list[str] = []
    real = osmnx._osm_xml._overpass_json_from_xml

    def counted(path, encoding):
        parses.append(Path(path).name)
        return real(path, encoding)

    monkeypatch.setattr(osmnx._osm_xml, "_overpass_json_from_xml", counted)
    return parses


def test_one_osm_file_for_streets_and_premises_is_parsed_once(monkeypatch):
    from fibreplan.load import load_inputs

    calls, parses = _count_reads(monkeypatch), _count_xml_parses(monkeypatch)
    path = fibreplan.demo_path(tiny=True)
    streets, premises = load_inputs(path, str(path))
    assert calls == [path.name]
    assert parses == [path.name]
    assert (len(streets), len(premises)) == (65, 35)
    parses.clear()
    fibreplan.load_osm(path)
    assert parses == [path.name]


@pytest.mark.parametrize("ending", [".gpkg", ".geojson", ".json", ".shp", ".fgb"])
def test_every_vector_format_is_read_once(tmp_path, monkeypatch, streets, premises, ending):
    from fibreplan.load import load_inputs

    streets.to_file(tmp_path / f"s{ending}", engine="pyogrio")
    df = premises.to_crs(4326)
    df.assign(lon=df.geometry.x, lat=df.geometry.y).drop(columns="geometry").to_csv(
        tmp_path / "p.csv", index=False
    )
    calls = _count_reads(monkeypatch)
    s, p = load_inputs(tmp_path / f"s{ending}", tmp_path / "p.csv")
    assert sorted(calls) == sorted([f"s{ending}", "p.csv"])
    assert len(s) == 5
    assert len(p) == len(premises)
    assert p.crs == s.crs
    assert p.geometry.distance(premises.to_crs(s.crs).geometry).max() < 0.05


def test_one_parse_gives_what_osmnx_public_readers_give():
    """The single parse (osmnx internals) must equal graph_from_xml + features_from_xml."""
    import osmnx as ox

    from fibreplan.load import _osmnx_way_tags
    from fibreplan.load import _parse_osm_xml

    path = fibreplan.demo_path(tiny=True)
    G, buildings = _parse_osm_xml(path)
    with _osmnx_way_tags():
        G_ref = ox.graph_from_xml(path, simplify=False, retain_all=True)
    ref = ox.features_from_xml(path, tags={"building": True})
    assert sorted(G.edges(keys=True, data="highway")) == sorted(
        G_ref.edges(keys=True, data="highway")
    )
    assert dict(G.nodes(data="x")) == dict(G_ref.nodes(data="x"))
    assert set(buildings.index) == set(ref.index)
    assert buildings.loc[ref.index].geometry.geom_equals(ref.geometry).all()


def test_a_csv_is_not_streets(tmp_path):
    f = tmp_path / "p.csv"
    f.write_text("lon,lat\n-0.14,51.52\n")
    with pytest.raises(fibreplan.InputValidationError, match="holds points, not streets"):
        fibreplan.load_streets(f)
