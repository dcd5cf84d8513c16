"""Outputs — QGIS default styles for a plan's GeoPackage layers (the ``layer_styles`` table).

QGIS reads a GeoPackage's ``layer_styles`` table when it opens a layer and
applies the row marked ``useAsDefault``: so the planner's first view of
``plan.gpkg`` in QGIS looks like ``map.html`` (same colours, from
:mod:`fibreplan._palette`). Each layer gets one rule-based style, written both
as QML (QGIS's own format) and as SLD 1.0 (for GeoServer, MapServer and older
tools); the two are built from the same rules.

References
----------
QGIS, "Saving styles in the database": the ``layer_styles`` table layout
(``f_table_name``, ``f_geometry_column``, ``styleName``, ``styleQML``, ``styleSLD``,
``useAsDefault``, ...), https://docs.qgis.org/3.22/en/docs/user_manual/introduction/general_tools.html
OGC 02-070, Styled Layer Descriptor Implementation Specification 1.0.0.
"""

from __future__ import annotations

import logging
import sqlite3
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from fibreplan import _palette

__all__ = ["LAYER_STYLES", "Rule", "layer_qml", "layer_sld", "write_layer_styles"]

logger = logging.getLogger(__name__)

_STYLE_NAME = "fibreplan"
_PX_TO_MM = 0.26  # QGIS symbol sizes are millimetres; the map's are pixels (96 dpi)


@dataclass(frozen=True)
class Rule:
    """One rule of a layer style: which features (``where``) get which symbol.

    Attributes
    ----------
    label : str
        Legend label.
    where : tuple of (str, str or bool), default ()
        ``(column, value)`` conditions, all of which must hold (equality; a
        bool for a boolean column). Empty: every feature.
    colour : str
        Stroke (lines) or outline (points), ``#rrggbb``.
    fill : str or None
        Point fill, ``#rrggbb``; None for lines.
    width_px : float
        Line width or point outline width, pixels (as on the map).
    size_px : float
        Point diameter, pixels.
    dash : bool
        Dashed line.
    shape : str
        Point shape: ``circle`` or ``star``.
    """

    label: str
    colour: str
    where: tuple[tuple[str, str | bool], ...] = ()
    fill: str | None = None
    width_px: float = 2.0
    size_px: float = 8.0
    dash: bool = False
    shape: str = "circle"


def _premises_rules() -> tuple[Rule, ...]:
    c = _palette.PREMISES
    return (
        Rule("connected", c["connected"], (("status", "connected"), ("loss_violation", False)),
             fill=c["connected"], width_px=1, size_px=8),
        Rule("over the optical budget", c["over_budget"],
             (("status", "connected"), ("loss_violation", True)),
             fill=c["over_budget"], width_px=1, size_px=8),
        Rule("unreachable", c["unreachable"], (("status", "unreachable"),),
             fill=c["unreachable"], width_px=1, size_px=8),
    )  # fmt: skip


def _trench_rules() -> tuple[Rule, ...]:
    labels = {"dig": "new dig", "duct_reuse": "rented duct", "aerial": "aerial on poles",
              "crossing": "road crossing"}  # fmt: skip
    return tuple(
        Rule(labels[kind], colour, (("kind", kind),), width_px=4, dash=dash is not None)
        for kind, (colour, dash) in _palette.TRENCH.items()
    )


def _cable_rules() -> tuple[Rule, ...]:
    return tuple(
        Rule(f"{size} fibres", colour, (("size", str(size)),), width_px=1 + size**0.25)
        for size, colour in _palette.CABLE_SIZES.items()
    )


def _point(label: str, colours: tuple[str, str], size_px: float, width_px: float = 2) -> Rule:
    return Rule(label, colours[0], fill=colours[1], size_px=size_px, width_px=width_px)


#: The default style of each GeoPackage layer, as rules.
LAYER_STYLES: dict[str, tuple[Rule, ...]] = {
    "premises": _premises_rules(),
    "trenches": _trench_rules(),
    "drops": (Rule("drop", _palette.DROP, width_px=1.5, dash=True),),
    "headend": (Rule("headend", _palette.HEADEND[0], fill=_palette.HEADEND[1], size_px=18,
                     width_px=1, shape="star"),),
    "cables": _cable_rules(),
    "chambers": (_point("chamber", _palette.CHAMBER, 6),),
    "dps": (_point("distribution point", _palette.DP, 12, 3),),
    "cabinets": (_point("cabinet", _palette.CABINET, 16),),
}


def _rgba(colour: str) -> str:
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"{r},{g},{b},255"


def _mm(px: float) -> str:
    return f"{px * _PX_TO_MM:.2f}"


def _qml_condition(col: str, value: str | bool) -> str:
    # booleans as QGIS reads a GeoPackage boolean: "col" / NOT "col" (never = 0 / = 1,
    # which QGIS's expression engine does not match against a boolean field)
    if isinstance(value, bool):
        return f'"{col}"' if value else f'NOT "{col}"'
    if value.isdigit():
        return f'"{col}" = {value}'
    return f"\"{col}\" = '{value}'"


def _qml_filter(rule: Rule) -> str:
    return " AND ".join(_qml_condition(col, value) for col, value in rule.where)


def _qml_symbol(parent: ET.Element, index: int, rule: Rule, geometry: str) -> None:
    kind = "line" if geometry == "line" else "marker"
    symbol = ET.SubElement(parent, "symbol", type=kind, name=str(index), alpha="1",
                           clip_to_extent="1", force_rhr="0")  # fmt: skip
    layer_class = "SimpleLine" if kind == "line" else "SimpleMarker"
    layer = ET.SubElement(symbol, "layer", {"class": layer_class, "enabled": "1",
                                            "pass": "0", "locked": "0"})  # fmt: skip
    options = ET.SubElement(layer, "Option", type="Map")
    if kind == "line":
        props = {"line_color": _rgba(rule.colour), "line_width": _mm(rule.width_px),
                 "line_width_unit": "MM", "line_style": "dash" if rule.dash else "solid",
                 "capstyle": "round", "joinstyle": "round"}  # fmt: skip
    else:
        props = {"name": rule.shape, "color": _rgba(rule.fill or rule.colour),
                 "outline_color": _rgba(rule.colour), "outline_width": _mm(rule.width_px),
                 "outline_width_unit": "MM", "size": _mm(rule.size_px), "size_unit": "MM",
                 "outline_style": "solid"}  # fmt: skip
    for key, value in props.items():
        ET.SubElement(options, "Option", type="QString", name=key, value=value)


def layer_qml(name: str, *, geometry: str) -> str:
    """Return the QGIS QML style of layer ``name`` (a rule-based renderer).

    Parameters
    ----------
    name : str
        A layer of :data:`LAYER_STYLES`.
    geometry : {"point", "line"}
        The layer's geometry type.

    Returns
    -------
    str
        QML text (XML) QGIS 3 reads.
    """
    root = ET.Element("qgis", version="3.22.0", styleCategories="Symbology")
    renderer = ET.SubElement(root, "renderer-v2", type="RuleRenderer", symbollevels="0",
                             enableorderby="0", forceraster="0")  # fmt: skip
    rules = ET.SubElement(renderer, "rules", key="root")
    symbols = ET.SubElement(renderer, "symbols")
    for i, rule in enumerate(LAYER_STYLES[name]):
        attrs = {"key": f"rule{i}", "symbol": str(i), "label": rule.label}
        if rule.where:
            attrs["filter"] = _qml_filter(rule)
        ET.SubElement(rules, "rule", attrs)
        _qml_symbol(symbols, i, rule, geometry)
    return "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n" + ET.tostring(
        root, encoding="unicode"
    )


_SLD = "http://www.opengis.net/sld"
_OGC = "http://www.opengis.net/ogc"


def _sld_filter(parent: ET.Element, rule: Rule) -> None:
    conditions = []
    for col, value in rule.where:
        cond = ET.Element(f"{{{_OGC}}}PropertyIsEqualTo")
        ET.SubElement(cond, f"{{{_OGC}}}PropertyName").text = col
        literal = str(value).lower() if isinstance(value, bool) else value
        ET.SubElement(cond, f"{{{_OGC}}}Literal").text = literal
        conditions.append(cond)
    if not conditions:
        return
    where = ET.SubElement(parent, f"{{{_OGC}}}Filter")
    if len(conditions) > 1:
        where = ET.SubElement(where, f"{{{_OGC}}}And")
    where.extend(conditions)


def _css(parent: ET.Element, tag: str, params: dict[str, str]) -> None:
    element = ET.SubElement(parent, f"{{{_SLD}}}{tag}")
    for key, value in params.items():
        ET.SubElement(element, f"{{{_SLD}}}CssParameter", name=key).text = value


def layer_sld(name: str, *, geometry: str) -> str:
    """Return the SLD 1.0 style of layer ``name`` (the same rules as :func:`layer_qml`).

    Parameters
    ----------
    name : str
        A layer of :data:`LAYER_STYLES`.
    geometry : {"point", "line"}
        The layer's geometry type.

    Returns
    -------
    str
        An SLD ``StyledLayerDescriptor`` document (XML).
    """
    ET.register_namespace("", _SLD)
    ET.register_namespace("ogc", _OGC)
    root = ET.Element(f"{{{_SLD}}}StyledLayerDescriptor", version="1.0.0")
    named = ET.SubElement(root, f"{{{_SLD}}}NamedLayer")
    ET.SubElement(named, f"{{{_SLD}}}Name").text = name
    style = ET.SubElement(named, f"{{{_SLD}}}UserStyle")
    ET.SubElement(style, f"{{{_SLD}}}Name").text = _STYLE_NAME
    fts = ET.SubElement(style, f"{{{_SLD}}}FeatureTypeStyle")
    for rule in LAYER_STYLES[name]:
        element = ET.SubElement(fts, f"{{{_SLD}}}Rule")
        ET.SubElement(element, f"{{{_SLD}}}Name").text = rule.label
        ET.SubElement(element, f"{{{_SLD}}}Title").text = rule.label
        _sld_filter(element, rule)
        if geometry == "line":
            stroke = {"stroke": rule.colour, "stroke-width": f"{rule.width_px:g}"}
            if rule.dash:
                stroke["stroke-dasharray"] = "8 4"
            _css(ET.SubElement(element, f"{{{_SLD}}}LineSymbolizer"), "Stroke", stroke)
        else:
            graphic = ET.SubElement(ET.SubElement(element, f"{{{_SLD}}}PointSymbolizer"),
                                    f"{{{_SLD}}}Graphic")  # fmt: skip
            mark = ET.SubElement(graphic, f"{{{_SLD}}}Mark")
            ET.SubElement(mark, f"{{{_SLD}}}WellKnownName").text = rule.shape
            _css(mark, "Fill", {"fill": rule.fill or rule.colour})
            _css(mark, "Stroke", {"stroke": rule.colour, "stroke-width": f"{rule.width_px:g}"})
            ET.SubElement(graphic, f"{{{_SLD}}}Size").text = f"{rule.size_px:g}"
    return ET.tostring(root, encoding="unicode", xml_declaration=True)


_CREATE = """
CREATE TABLE IF NOT EXISTS layer_styles (
    id INTEGER PRIMARY KEY AUTOINCREMENT, f_table_catalog TEXT(256), f_table_schema TEXT(256),
    f_table_name TEXT(256), f_geometry_column TEXT(256), styleName TEXT(30), styleQML TEXT,
    styleSLD TEXT, useAsDefault BOOLEAN, description TEXT, owner TEXT(30), ui TEXT(30),
    update_time DATETIME DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')))
"""


def write_layer_styles(path: str | Path) -> list[str]:
    """Store the default QGIS style of each plan layer in a GeoPackage's ``layer_styles``.

    Parameters
    ----------
    path : str or pathlib.Path
        A GeoPackage written by :func:`fibreplan.export.write_gpkg`.

    Returns
    -------
    list of str
        The layers styled (those of :data:`LAYER_STYLES` present in the file).

    Notes
    -----
    Existing ``fibreplan`` rows are replaced; other styles are kept. The table
    is registered in ``gpkg_contents`` as an attributes table, as QGIS does.
    """
    with sqlite3.connect(path) as db:
        columns = dict(db.execute("SELECT table_name, column_name FROM gpkg_geometry_columns"))
        kinds = dict(db.execute("SELECT table_name, geometry_type_name FROM gpkg_geometry_columns"))
        db.execute(_CREATE)
        db.execute(
            "INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier) "
            "SELECT 'layer_styles', 'attributes', 'layer_styles' WHERE NOT EXISTS "
            "(SELECT 1 FROM gpkg_contents WHERE table_name = 'layer_styles')"
        )
        styled = [name for name in LAYER_STYLES if name in columns]
        for name in styled:
            geometry = "line" if "LINE" in kinds[name].upper() else "point"
            db.execute("DELETE FROM layer_styles WHERE f_table_name = ? AND styleName = ?",
                       (name, _STYLE_NAME))  # fmt: skip
            db.execute(
                "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, "
                "f_geometry_column, styleName, styleQML, styleSLD, useAsDefault, description) "
                "VALUES ('', '', ?, ?, ?, ?, ?, 1, ?)",
                (name, columns[name], _STYLE_NAME, layer_qml(name, geometry=geometry),
                 layer_sld(name, geometry=geometry), f"fibreplan default style of {name}"),
            )  # fmt: skip
    logger.debug("styled %d layers in %s", len(styled), path)
    return styled
