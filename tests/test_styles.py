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
        [("status", "connected"), ("loss_violation", "true")], _palette.PREMISES["over_budget"]
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


def test_premises_qml_reads_the_boolean_as_qgis_does() -> None:
    qml = layer_qml("premises", geometry="point")
    root = ET.fromstring(qml.split("\n", 1)[1])
    filters = [r.get("filter") for r in root.iter("rule")]
    assert filters == [
        "\"status\" = 'connected' AND NOT \"loss_violation\"",
        "\"status\" = 'connected' AND \"loss_violation\"",
        "\"status\" = 'unreachable'",
    ]


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


_QGIS_SCRIPT = """
import os, sys
os.environ["QT_QPA_PLATFORM"] = "offscreen"
from qgis.core import QgsApplication, QgsVectorLayer
app = QgsApplication([], False)
app.initQgis()
for name in sys.argv[2:]:
    layer = QgsVectorLayer(f"{sys.argv[1]}|layername={name}", name, "ogr")
    rules = layer.renderer().rootRule().children() if layer.renderer().type() == "RuleRenderer" \\
        else []
    counts = [sum(1 for _ in layer.getFeatures(r.filterExpression() or "TRUE")) for r in rules]
    print(name, layer.isValid(), layer.crs().authid(), layer.renderer().type(),
          ",".join(r.symbol().color().name() for r in rules), ",".join(map(str, counts)))
sys.stdout.flush()
os._exit(0)  # QGIS 3.22 may crash in exitQgis() while layers are alive; nothing to clean up
"""


def _qgis_python() -> str:
    import shutil
    import subprocess

    python = shutil.which("python3", path="/usr/bin")
    if python is None or subprocess.run([python, "-c", "import qgis.core"],
                                        capture_output=True, check=False).returncode:
        pytest.skip("QGIS's Python bindings are not installed (apt-get install python3-qgis)")
    return python


def test_qgis_opens_the_styled_layers(tmp_path) -> None:
    """Headless QGIS (python3-qgis) loads each layer with its default style and colours."""
    import subprocess

    import fibreplan

    python = _qgis_python()
    streets, premises = fibreplan.demo_data(tiny=True)
    plan = fibreplan.plan(streets, premises)
    paths = plan.save(tmp_path / "out", basemap=False)
    names = list(LAYER_NAMES)
    done = subprocess.run([python, "-c", _QGIS_SCRIPT, str(paths["gpkg"]), *names],
                          capture_output=True, text=True, check=True, timeout=300)  # fmt: skip
    lines = {line.split()[0]: line.split() for line in done.stdout.splitlines() if line.strip()}
    layers = plan.layers()
    for name in names:
        _, valid, crs, renderer, colours, counts = (lines[name] + [""])[:6]
        assert (valid, crs, renderer) == ("True", "EPSG:27700", "RuleRenderer"), name
        expected = [r.fill or r.colour for r in LAYER_STYLES[name]]
        if name in {"trenches", "drops", "cables"}:
            expected = [r.colour for r in LAYER_STYLES[name]]
        assert colours.split(",") == expected, name
        if all(r.where for r in LAYER_STYLES[name]) and name != "cables":
            # the rules cover every feature exactly once
            assert sum(int(c) for c in counts.split(",")) == len(layers[name]), name
