"""Interactive, offline-capable HTML maps of a fibre plan.

The map is built with `folium-offline <https://pypi.org/project/folium-offline/>`_
(module ``offlinefolium``), a fork of folium that embeds Leaflet's JavaScript
and CSS *inline* in the HTML file instead of linking them from a CDN. A saved
map therefore opens and works (layers, tooltips, layer control, legend) on a
machine with no network at all; only the optional OpenStreetMap basemap tiles
need a connection.

Layers are passed in a projected metric CRS (as produced by the rest of
fibreplan, e.g. EPSG:27700) and converted to WGS84 here, for drawing only.
"""

from __future__ import annotations

import functools
import html
import json
import logging
import math
from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any
from typing import Literal

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from fibreplan._crs import WGS84
from fibreplan._crs import require_metric
from fibreplan._errors import InputValidationError
from fibreplan._kinds import EdgeKind

if TYPE_CHECKING:
    import os

    import offlinefolium as folium
    from branca.element import MacroElement

__all__ = ["OSM_ATTRIBUTION", "plan_map", "save_map"]

logger = logging.getLogger(__name__)

#: Attribution shown on every map: the plan is derived from OpenStreetMap (ODbL).
OSM_ATTRIBUTION = (
    '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'
)

_OSM_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
_COORD_DECIMALS = 6  # ~0.1 m at the equator: plenty for a planning map
_MAX_ZOOM = 19
_CANVAS_THRESHOLD = 5000  # features; above this Leaflet draws on <canvas> instead of SVG
_MAX_GENERIC_FIELDS = 10

# Only Leaflet itself is needed: no Bootstrap, jQuery, Font Awesome or
# awesome-markers. offlinefolium inlines whatever these (name, url) pairs
# point at from its bundled copies, so trimming the lists keeps the HTML
# small (~150 kB instead of ~1.5 MB) without touching the network.
_LEAFLET_JS = [("leaflet", "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js")]
_LEAFLET_CSS = [("leaflet_css", "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.css")]

_GREY = "#7f7f7f"

_Formatter = Callable[[Any], str]


def _fmt_number(fmt: str) -> _Formatter:
    def _format(value: Any) -> str:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return ""
        try:
            return format(float(value), fmt)
        except (TypeError, ValueError):
            return html.escape(str(value))

    return _format


def _fmt_text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return ""
    return html.escape(str(value))


def _fmt_generic(value: Any) -> str:
    if isinstance(value, (float, np.floating)):
        return "" if math.isnan(value) else format(float(value), ",.6g")
    return _fmt_text(value)


@dataclass(frozen=True)
class _Field:
    column: str
    alias: str
    fmt: _Formatter = _fmt_text


@dataclass(frozen=True)
class _Category:
    label: str
    style: Mapping[str, Any]


@dataclass(frozen=True)
class _LayerSpec:
    """How one known layer is drawn: its label, tooltip fields and styles."""

    label: str
    kind: Literal["point", "line"]
    fields: tuple[_Field, ...]
    style: Mapping[str, Any]
    category_column: str | None = None
    categories: Mapping[str, _Category] = field(default_factory=dict)
    marker_radius: float = 5.0
    star: bool = False


def _point_style(colour: str, *, fill: str | None = None, weight: float = 1.5) -> dict[str, Any]:
    return {
        "color": colour,
        "fill": True,
        "fillColor": fill or colour,
        "fillOpacity": 0.9,
        "opacity": 1.0,
        "weight": weight,
    }


def _line_style(colour: str, weight: float, dash: str | None = None) -> dict[str, Any]:
    style: dict[str, Any] = {"color": colour, "weight": weight, "opacity": 0.9}
    if dash:
        style["dashArray"] = dash
    return style


_LENGTH = _Field("length_m", "Length (m)", _fmt_number(",.1f"))

_SPECS: dict[str, _LayerSpec] = {
    "trenches": _LayerSpec(
        label="Trenches",
        kind="line",
        fields=(
            _Field("kind", "Kind"),
            _Field("surface", "Surface"),
            _LENGTH,
            _Field("cost_gbp", "Cost (£)", _fmt_number(",.0f")),
        ),
        style=_line_style("#e67e22", 4),
        category_column="kind",
        categories={
            EdgeKind.DIG: _Category("new dig", _line_style("#e67e22", 4)),
            EdgeKind.DUCT_REUSE: _Category("duct reuse", _line_style("#2e86c1", 4, "8 4")),
            EdgeKind.AERIAL: _Category("aerial on poles", _line_style("#16a085", 3, "2 6")),
            EdgeKind.CROSSING: _Category("road crossing", _line_style("#8e44ad", 5)),
        },
    ),
    "cables": _LayerSpec(
        label="Cables",
        kind="line",
        fields=(
            _Field("size", "Size (fibres)", _fmt_number(",.0f")),
            _Field("fibres_used", "Fibres used", _fmt_number(",.0f")),
            _Field("fibres_spare", "Fibres spare", _fmt_number(",.0f")),
            _LENGTH,
        ),
        style=_line_style("#117a65", 2),
    ),
    "drops": _LayerSpec(
        label="Drops",
        kind="line",
        fields=(_Field("premises_id", "Premises"), _LENGTH),
        style=_line_style("#555555", 1.5, "4 3"),
    ),
    "chambers": _LayerSpec(
        label="Chambers",
        kind="point",
        fields=(),
        style=_point_style("#555555", fill="#ffffff", weight=2),
        marker_radius=3,
    ),
    "cabinets": _LayerSpec(
        label="Cabinets",
        kind="point",
        fields=(),
        style=_point_style("#1b2631", fill="#f4d03f", weight=2),
        marker_radius=8,
    ),
    "dps": _LayerSpec(
        label="Distribution points",
        kind="point",
        fields=(),
        style=_point_style("#6c3483", fill="#ffffff", weight=3),
        marker_radius=6,
    ),
    "premises": _LayerSpec(
        label="Premises",
        kind="point",
        fields=(
            _Field("premises_id", "Premises"),
            _Field("class", "Class"),
            _Field("status", "Status"),
            _Field("reason", "Reason"),
            _Field("dp_id", "DP"),
            _Field("cabinet_id", "Cabinet"),
            _Field("loss_db", "Loss (dB)", _fmt_number(".2f")),
        ),
        style=_point_style(_GREY),
        category_column="status",
        categories={
            "connected": _Category("connected", _point_style("#1e8449")),
            "unreachable": _Category("unreachable", _point_style("#d62728")),
        },
    ),
    "headend": _LayerSpec(
        label="Headend",
        kind="point",
        fields=(
            _Field("how", "Chosen by"),
            _Field("lon", "Longitude", _fmt_number(".6f")),
            _Field("lat", "Latitude", _fmt_number(".6f")),
        ),
        style={},
        star=True,
    ),
}

# Bottom to top: lines under points, the headend on top of everything.
_DRAW_ORDER = ("trenches", "cables", "drops", "chambers", "cabinets", "dps", "premises", "headend")

_HEADEND_HTML = (
    '<div class="fibreplan-headend" style="font-size:28px;line-height:28px;color:#111;'
    'text-shadow:0 0 3px #fff,0 0 3px #fff;text-align:center">&#9733;</div>'
)

_LEGEND_TEMPLATE = """
{% macro script(this, kwargs) %}
(function () {
    var legend = L.control({position: "bottomleft"});
    legend.onAdd = function () {
        var div = L.DomUtil.create("div", "leaflet-control-layers fibreplan-legend");
        div.style.padding = "6px 8px";
        div.style.font = "12px/1.4 sans-serif";
        div.style.background = "rgba(255, 255, 255, 0.92)";
        div.innerHTML = {{ this.legend_html|tojson }};
        L.DomEvent.disableClickPropagation(div);
        L.DomEvent.disableScrollPropagation(div);
        return div;
    };
    legend.addTo({{ this._parent.get_name() }});
})();
{% endmacro %}
"""

_ATTRIBUTION_TEMPLATE = """
{% macro script(this, kwargs) %}
{{ this._parent.get_name() }}.attributionControl.addAttribution({{ this.text|tojson }});
{% endmacro %}
"""


# One GeoJSON layer part: Leaflet's own L.geoJson, one style for all its features, and a
# sticky tooltip table built from the (already HTML-escaped) formatted properties. The
# data is not part of this template: it is emitted as raw JSON just before it (see
# _geojson_layer), so that branca never parses megabytes of coordinates as a template.
_GEOJSON_TEMPLATE = """
{% macro script(this, kwargs) %}
var {{ this.get_name() }} = L.geoJson(fibreplan_data[{{ this.get_name()|tojson }}], {
{%- if this.star %}
    pointToLayer: function (feature, latlng) {
        return L.marker(latlng, {icon: L.divIcon({html: {{ this.star_html|tojson }},
            iconSize: [28, 28], iconAnchor: [14, 14], className: ""})});
    },
{%- elif this.point %}
    pointToLayer: function (feature, latlng) {
        return L.circleMarker(latlng, {radius: {{ this.radius }}});
    },
{%- endif %}
    style: function () { return {{ this.style|tojson }}; }
});
{%- if this.fields %}
{{ this.get_name() }}.bindTooltip(function (layer) {
    var p = layer.feature.properties, fields = {{ this.fields|tojson }}, rows = "";
    for (var i = 0; i < fields.length; i++) {
        rows += "<tr><th>" + fields[i][1] + "</th><td>" + p[fields[i][0]] + "</td></tr>";
    }
    return '<table class="fibreplan-tooltip">' + rows + "</table>";
}, {sticky: true});
{%- endif %}
{{ this.get_name() }}.addTo({{ this._parent.get_name() }});
{% endmacro %}
"""

_TOOLTIP_CSS_TEMPLATE = """
{% macro header(this, kwargs) %}
<style>
.fibreplan-tooltip th { padding: 2px 8px 2px 2px; text-align: left; }
.fibreplan-tooltip td { padding: 2px; text-align: left; }
</style>
{% endmacro %}
"""


@functools.cache
def _geojson_class() -> type:
    """Return the map element class of one GeoJSON layer part (built once, on first use)."""
    from branca.element import Element
    from branca.element import Figure
    from branca.element import MacroElement
    from offlinefolium.template import Template

    class _RawScript(Element):
        """Script text emitted as it is (never parsed as a Jinja template)."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

        def render(self, **kwargs: Any) -> str:  # noqa: ARG002 - branca's signature
            return self.text

    class GeoJsonLayer(MacroElement):
        """A GeoJSON FeatureCollection drawn with one style and a tooltip table."""

        _template = Template(_GEOJSON_TEMPLATE)
        data: dict[str, Any]

        def render(self, **kwargs: Any) -> Any:
            name = self.get_name()
            figure = self.get_root()
            if not isinstance(figure, Figure):  # pragma: no cover - always inside a map
                msg = "a GeoJSON layer renders only inside a map"
                raise TypeError(msg)
            # "</" could close the <script> element early; "<\/" is the same JSON string
            text = json.dumps(self.data, ensure_ascii=False, separators=(",", ":"))
            text = text.replace("</", "<\\/")
            figure.script.add_child(
                _RawScript(
                    "var fibreplan_data = window.fibreplan_data || {};\n"
                    f"fibreplan_data[{json.dumps(name)}] = {text};\n"
                ),
                name=f"{name}_data",
            )
            super().render(**kwargs)

    return GeoJsonLayer


def _geojson_layer(
    data: dict[str, Any],
    *,
    name: str,
    style: Mapping[str, Any],
    fields: list[_Field],
    point: bool,
    radius: float,
    star: bool,
) -> Any:
    """Return the map element drawing ``data`` (a FeatureCollection) with one style.

    The element keeps ``data``, ``style`` (a dict of Leaflet path options) and
    ``fields`` (``[column, escaped alias]`` pairs) as attributes.
    """
    element = _geojson_class()()
    element.layer_name = name
    element.data = data
    element.style = dict(style)
    element.fields = [[f.column, html.escape(f.alias)] for f in fields]
    element.point = point
    element.radius = radius
    element.star = star
    element.star_html = _HEADEND_HTML
    return element


def _import_folium() -> Any:
    """Import ``offlinefolium`` or raise an ImportError that says how to get it."""
    try:
        import offlinefolium
    except ImportError as exc:  # pragma: no cover - folium-offline is a core dependency
        msg = (
            "fibreplan.maps needs the 'folium-offline' package (module 'offlinefolium'), "
            "a dependency of fibreplan; reinstall it with: pip install folium-offline"
        )
        raise ImportError(msg) from exc
    return offlinefolium


def _macro(template: str, **attrs: Any) -> MacroElement:
    """Return a branca ``MacroElement`` rendering ``template`` with ``attrs`` set."""
    from branca.element import MacroElement
    from offlinefolium.template import Template

    class _Macro(MacroElement):
        _template = Template(template)

    element = _Macro()
    for key, value in attrs.items():
        setattr(element, key, value)
    return element


def _check_layer(name: str, gdf: Any) -> gpd.GeoDataFrame | None:
    """Validate one layer; return it without empty geometries, or None to skip it."""
    if gdf is None:
        return None
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise InputValidationError(
            f"layers[{name!r}] must be a geopandas.GeoDataFrame, got {type(gdf).__name__}"
        )
    geoms = gdf.geometry
    gdf = gdf[~(geoms.isna() | geoms.is_empty)]
    if gdf.empty:
        logger.debug("layer %r is empty; not drawn", name)
        return None
    require_metric(gdf, name=f"layers[{name!r}]")
    if (gdf.geom_type == "GeometryCollection").any():
        gdf = gdf.explode(index_parts=False)
    return gdf


def _to_wgs84(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Reproject to EPSG:4326 (coordinates are rounded when written, see :func:`_geometries`)."""
    return gdf.to_crs(WGS84)


def _tooltip_fields(spec: _LayerSpec | None, gdf: gpd.GeoDataFrame) -> list[_Field]:
    """Return the tooltip fields present in ``gdf`` (all columns for generic layers)."""
    if spec is not None and spec.fields:
        return [f for f in spec.fields if f.column in gdf.columns]
    columns = [c for c in gdf.columns if c != gdf.geometry.name]
    return [_Field(str(c), str(c), _fmt_generic) for c in columns[:_MAX_GENERIC_FIELDS]]


def _formatted(values: pd.Series, fmt: _Formatter) -> list[str]:
    """Format a column for tooltips, calling ``fmt`` once per distinct value."""
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    labels = np.array([fmt(v) for v in np.asarray(uniques, dtype=object).tolist()], dtype=object)
    return labels[codes].tolist()


def _geometries(geoms: npt.NDArray[np.object_]) -> list[dict[str, Any]]:
    """Return GeoJSON geometry dicts with coordinates rounded to ``_COORD_DECIMALS``.

    Points and lines are converted in bulk (one coordinate array for the
    layer); other geometry types, only in generic layers, one by one.
    """
    types = shapely.get_type_id(geoms)
    if (types == shapely.GeometryType.POINT).all():
        xy = np.round(shapely.get_coordinates(geoms), _COORD_DECIMALS).tolist()
        return [{"type": "Point", "coordinates": c} for c in xy]
    if (types == shapely.GeometryType.LINESTRING).all():
        xy, index = shapely.get_coordinates(geoms, return_index=True)
        coords = np.round(xy, _COORD_DECIMALS).tolist()
        rows = np.arange(len(geoms))
        starts = np.searchsorted(index, rows).tolist()
        ends = np.searchsorted(index, rows, side="right").tolist()
        return [
            {"type": "LineString", "coordinates": coords[s:e]}
            for s, e in zip(starts, ends, strict=True)
        ]
    rounded = shapely.transform(geoms, lambda xy: np.round(xy, _COORD_DECIMALS))
    return [json.loads(g) for g in shapely.to_geojson(rounded).tolist()]


def _feature_collection(gdf: gpd.GeoDataFrame, fields: list[_Field]) -> dict[str, Any]:
    """Return a GeoJSON FeatureCollection holding only the formatted tooltip fields."""
    columns = [f.column for f in fields]
    values = [_formatted(gdf[f.column], f.fmt) for f in fields]
    props = [dict(zip(columns, row, strict=True)) for row in zip(*values, strict=True)]
    if not fields:
        props = [{} for _ in range(len(gdf))]
    geoms = _geometries(gdf.geometry.to_numpy())
    return {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": p, "geometry": g}
            for p, g in zip(props, geoms, strict=True)
        ],
    }


def _legend_swatch(spec_kind: str, style: Mapping[str, Any], *, star: bool = False) -> str:
    if star:
        return '<span style="display:inline-block;width:18px;text-align:center">&#9733;</span>'
    if spec_kind == "point":
        return (
            '<span style="display:inline-block;width:10px;height:10px;border-radius:50%;'
            "vertical-align:middle;"
            f"margin:0 4px;background:{style.get('fillColor', _GREY)};"
            f'border:2px solid {style.get("color", _GREY)}"></span>'
        )
    dash = "dashed" if style.get("dashArray") else "solid"
    width = max(2, round(float(style.get("weight", 2))))
    return (
        '<span style="display:inline-block;width:18px;height:0;vertical-align:middle;'
        f'border-top:{width}px {dash} {style.get("color", _GREY)}"></span>'
    )


def _add_layer(
    fm: Any,
    m: folium.Map,
    *,
    name: str,
    gdf: gpd.GeoDataFrame,
    spec: _LayerSpec | None,
    legend: list[str],
) -> int:
    """Draw one layer as a named FeatureGroup; return the number of features drawn."""
    label = spec.label if spec is not None else name.replace("_", " ").capitalize()
    group = fm.FeatureGroup(name=label, show=True)
    fields = _tooltip_fields(spec, gdf)
    kind = spec.kind if spec is not None else _guess_kind(gdf)
    base_style: Mapping[str, Any] = (
        spec.style
        if spec is not None
        else (_point_style(_GREY) if kind == "point" else _line_style("#34495e", 2))
    )

    parts: list[tuple[str | None, Mapping[str, Any], gpd.GeoDataFrame]]
    column = spec.category_column if spec is not None else None
    if column is not None and column in gdf.columns:
        keys = gdf[column].astype("string").str.strip().str.lower().fillna("")
        parts = []
        for value, sub in gdf.groupby(keys, sort=False):
            cat = spec.categories.get(str(value)) if spec is not None else None
            if cat is None:
                parts.append((str(value) or "unknown", base_style, sub))
            else:
                parts.append((cat.label, cat.style, sub))
        # Known categories first, in the spec's order, so the legend is stable.
        order = [c.label for c in spec.categories.values()] if spec is not None else []
        parts.sort(key=lambda p: order.index(p[0]) if p[0] in order else len(order))
    else:
        parts = [(None, base_style, gdf)]

    star = spec is not None and spec.star
    radius = spec.marker_radius if spec is not None else 5.0
    for part_label, style, sub in parts:
        _geojson_layer(
            _feature_collection(sub, fields),
            name=label,
            style=style,
            fields=fields,
            point=kind == "point",
            radius=radius,
            star=star,
        ).add_to(group)
        text = label if part_label is None else f"{label}: {part_label}"
        swatch = _legend_swatch(kind, style, star=star)
        legend.append(f"<div>{swatch} {html.escape(text)} ({len(sub):,})</div>")
    group.add_to(m)
    return len(gdf)


def _guess_kind(gdf: gpd.GeoDataFrame) -> Literal["point", "line"]:
    types = set(gdf.geom_type.unique())
    return "point" if types <= {"Point", "MultiPoint"} else "line"


def plan_map(
    layers: Mapping[str, gpd.GeoDataFrame],
    *,
    title: str = "fibreplan plan",
    basemap: bool = True,
) -> folium.Map:
    """Draw a fibre plan as an interactive Leaflet map that works offline.

    Parameters
    ----------
    layers : Mapping of str to geopandas.GeoDataFrame
        The plan's layers by name, each in a projected metric CRS. Known
        names are drawn with their own style, legend entry and tooltip:
        ``premises`` (points coloured by ``status``: connected green,
        unreachable red; tooltip ``premises_id``, ``class``, ``status``,
        ``reason``, ``dp_id``, ``cabinet_id``, ``loss_db``), ``trenches``
        (lines coloured by ``kind``: dig / duct_reuse / aerial / crossing; tooltip
        ``length_m``, ``cost_gbp``, ``surface``), ``drops`` (lines),
        ``headend`` (a star; tooltip ``how``, ``lon``, ``lat``), ``dps``,
        ``cabinets``, ``chambers`` (points) and ``cables`` (lines: ``size``,
        ``fibres_used``, ``fibres_spare``, ``length_m``). Other names are
        drawn in grey with their first columns in the tooltip. Missing
        columns are left out of tooltips; ``None`` or empty layers (and
        rows with empty geometry) are skipped.
    title : str, default "fibreplan plan"
        Page title and legend heading.
    basemap : bool, default True
        Add an OpenStreetMap tile layer. Tiles need a network connection;
        everything else in the map does not. With ``False`` no tile layer
        is added (useful for printing or fully offline use).

    Returns
    -------
    offlinefolium.Map
        The map (a folium-compatible ``Map`` from folium-offline) with one
        named ``FeatureGroup`` per drawn layer, a layer control, a legend and
        the "© OpenStreetMap contributors" attribution, zoomed to the data.
        Save it with :func:`save_map`.

    Raises
    ------
    fibreplan._errors.CRSError
        A non-empty layer has no CRS, a geographic (unprojected) CRS, or a
        projected CRS whose unit is not the metre.
    fibreplan._errors.InputValidationError
        A layer is not a GeoDataFrame.
    ImportError
        folium-offline is not installed.

    Notes
    -----
    Layers must be in a projected metric CRS such as EPSG:27700 (British
    National Grid), as everywhere in fibreplan (checked with
    :func:`fibreplan._crs.require_metric`); they are converted to WGS84
    (EPSG:4326) here only to draw them, with coordinates rounded to 6
    decimal places (about 0.1 m) to keep the HTML small.

    The Leaflet JavaScript and CSS are embedded in the page by folium-offline,
    so the saved HTML needs no CDN. Each layer is serialised once as GeoJSON
    (one Leaflet ``L.geoJson`` per style category, with one style for all its
    features) rather than as one marker object per feature; the JSON is written
    into the page as it is, not through the template engine, and each tooltip
    value is formatted once per distinct value, so a 20,000-premises plan draws
    in about 2 s. Above 5,000 features Leaflet draws on a canvas instead of SVG.
    """
    fm = _import_folium()
    prepared: dict[str, gpd.GeoDataFrame] = {}
    for name, gdf in layers.items():
        checked = _check_layer(name, gdf)
        if checked is not None:
            prepared[name] = _to_wgs84(checked)

    n_features = sum(len(g) for g in prepared.values())
    m = fm.Map(
        location=None,
        tiles=None,
        control_scale=True,
        prefer_canvas=n_features > _CANVAS_THRESHOLD,
    )
    m.default_js = list(_LEAFLET_JS)
    m.default_css = list(_LEAFLET_CSS)
    m.get_root().title = html.escape(title)

    if basemap:
        fm.TileLayer(
            tiles=_OSM_TILES,
            attr=OSM_ATTRIBUTION,
            name="OpenStreetMap",
            max_zoom=_MAX_ZOOM,
            overlay=False,
            control=False,
        ).add_to(m)

    legend: list[str] = []
    unknown = [n for n in prepared if n not in _SPECS]
    for name in [*unknown, *(n for n in _DRAW_ORDER if n in prepared)]:
        drawn = _add_layer(
            fm, m, name=name, gdf=prepared[name], spec=_SPECS.get(name), legend=legend
        )
        logger.debug("drew %d features of layer %r", drawn, name)

    if prepared:
        bounds = np.array([g.total_bounds for g in prepared.values()])
        west, south = bounds[:, 0].min(), bounds[:, 1].min()
        east, north = bounds[:, 2].max(), bounds[:, 3].max()
        m.location = [float((south + north) / 2), float((west + east) / 2)]
        m.fit_bounds(
            [[float(south), float(west)], [float(north), float(east)]],
            padding=(30, 30),
            max_zoom=_MAX_ZOOM - 1,
        )
    else:
        logger.warning("plan_map: no non-empty layers to draw; the map is empty")

    fm.LayerControl(collapsed=False).add_to(m)
    heading = f"<div style='font-weight:bold;margin-bottom:4px'>{html.escape(title)}</div>"
    m.add_child(_macro(_LEGEND_TEMPLATE, legend_html=heading + "".join(legend)))
    m.add_child(_macro(_TOOLTIP_CSS_TEMPLATE))
    m.add_child(_macro(_ATTRIBUTION_TEMPLATE, text=OSM_ATTRIBUTION))
    return m


def save_map(m: folium.Map, path: str | os.PathLike[str]) -> Path:
    """Write a map made by :func:`plan_map` to a self-contained HTML file.

    Parameters
    ----------
    m : offlinefolium.Map
        The map to save.
    path : str or os.PathLike
        Destination file (conventionally ``*.html``); its directory must exist.
        An existing file is overwritten.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    FileNotFoundError
        The destination directory does not exist.

    Notes
    -----
    The file is UTF-8 HTML with Leaflet inlined; it opens without a network
    connection. Coordinates in it are WGS84 (EPSG:4326).
    """
    out = Path(path)
    text = m.get_root().render()
    out.write_text(text, encoding="utf-8")
    logger.info("saved map to %s (%.0f kB)", out, len(text.encode("utf-8")) / 1024)
    return out
