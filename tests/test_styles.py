"""Tests for fibreplan.styles: the GeoPackage's default QGIS styles (QML and SLD)."""

from __future__ import annotations

import sqlite3
import xml.etree.ElementTree as ET

import geopandas as gpd
import pytest
from shapely.geometry import LineString
from shapely.geometry import Point

from fibreplan import _palette
from fibreplan.export import write_gpkg
from fibreplan.layers import LAYER_NAMES
from fibreplan.styles import LAYER_STYLES
from fibreplan.styles import layer_qml
from fibreplan.styles import layer_sld
from fibreplan.styles import write_layer_styles

SLD = "{http://www.opengis.net/sld}"
OGC = "{http://www.opengis.net/ogc}"


def test_every_plan_layer_has_a_style() -> None:
    assert set(LAYER_STYLES) == set(LAYER_NAMES)


def test_trench_qml_rules_match_the_map_colours() -> None:
    root = ET.fromstring(layer_qml("trenches", geometry="line").split("\n", 1)[1])
    rules = root.find("renderer-v2").find("rules").findall("rule")
    assert [r.get("filter") for r in rules] == [
        "\"kind\" = 'dig'", "\"kind\" = 'duct_reuse'", "\"kind\" = 'aerial'",
        "\"kind\" = 'crossing'",
    ]
    colours = {}
    for symbol in root.find("renderer-v2").find("symbols"):
        props = {o.get("name"): o.get("value") for o in symbol.iter("Option") if o.get("name")}
        colours[symbol.get("name")] = props["line_color"]
    # dig is #e67e22 = 230,126,34 as on the map
    assert colours["0"] == "230,126,34,255"
    assert _palette.TRENCH["dig"][0] == "#e67e22"
    assert colours["1"] == "46,134,193,255"  # rented duct blue


def test_premises_sld_filters_status_and_budget() -> None:
    root = ET.fromstring(layer_sld("premises", geometry="point"))
    rules = root.iter(f"{SLD}Rule")
    found = {}
    for rule in rules:
        title = rule.find(f"{SLD}Title").text
        pairs = [
            (c.find(f"{OGC}PropertyName").text, c.find(f"{OGC}Literal").text)
            for c in rule.iter(f"{OGC}PropertyIsEqualTo")
        ]
        fill = next(p.text for p in rule.iter(f"{SLD}CssParameter") if p.get("name") == "fill")
        found[title] = (pairs, fill)
    assert found["over the optical budget"] == (
        [("status", "connected"), ("loss_violation", "1")], _palette.PREMISES["over_budget"]
    )
    assert found["unreachable"] == ([("status", "unreachable")], _palette.PREMISES["unreachable"])


@pytest.fixture
def gpkg(tmp_path):
    crs = "EPSG:27700"
    layers = {
        "premises": gpd.GeoDataFrame({"status": ["connected"], "loss_violation": [False]},
                                     geometry=[Point(0, 0)], crs=crs),
        "trenches": gpd.GeoDataFrame({"kind": ["dig"]}, geometry=[LineString([(0, 0), (1, 1)])],
                                     crs=crs),
        "other": gpd.GeoDataFrame({"a": [1]}, geometry=[Point(0, 0)], crs=crs),
    }  # fmt: skip
    return write_gpkg(layers, tmp_path / "plan.gpkg")


def test_write_layer_styles_stores_default_qml_and_sld(gpkg) -> None:
    assert write_layer_styles(gpkg) == ["premises", "trenches"]
    assert write_layer_styles(gpkg) == ["premises", "trenches"]  # again: replaced, not doubled
    with sqlite3.connect(gpkg) as db:
        rows = db.execute(
            "SELECT f_table_name, f_geometry_column, styleName, styleQML, styleSLD, useAsDefault "
            "FROM layer_styles ORDER BY f_table_name"
        ).fetchall()
        contents = db.execute(
            "SELECT data_type FROM gpkg_contents WHERE table_name = 'layer_styles'"
        ).fetchall()
    assert [r[0] for r in rows] == ["premises", "trenches"]
    assert contents == [("attributes",)]
    for name, geom_col, style, qml, sld, default in rows:
        assert geom_col == "geom"  # the GPKG driver's name, read from gpkg_geometry_columns
        assert style == "fibreplan"
        assert default == 1
        assert ET.fromstring(qml.split("\n", 1)[1]).tag == "qgis"
        assert ET.fromstring(sld.encode()).tag == f"{SLD}StyledLayerDescriptor"
        marker = "SimpleLine" if name == "trenches" else "SimpleMarker"
        assert marker in qml
