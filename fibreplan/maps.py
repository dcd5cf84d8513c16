"""Interactive, offline-capable HTML maps of a fibre plan, at any size.

The page is built with `folium-offline <https://pypi.org/project/folium-offline/>`_
(module ``offlinefolium``), a fork of folium that embeds Leaflet's JavaScript
and CSS (and the fullscreen and measure controls) *inline* in the HTML file
instead of linking them from a CDN. A saved map therefore opens and works
(layers, tooltips, popups, layer control, legend, search, measure) on a machine
with no network at all; only the optional OpenStreetMap basemap tiles need a
connection, and every street of the input is drawn as a thin grey base layer
so that the map has context without them.

The layers are written once into the page as compact columns (coordinates as
integers of 1e-6 degree, about 0.1 m, from an origin; text columns
dictionary-encoded; every text HTML-escaped in Python) and drawn by a small
script (``_map_runtime.js``) with one Leaflet layer per feature, on a canvas
above 10,000 features. On a large plan (more than 20,000 premises, drops,
chambers and DPs together) connected premises, drops, chambers, DPs and cables
are drawn only from zoom 16 on and only in the ~500 m cells in view; below that
zoom a "cabinet areas" layer summarises the premises (green, or orange where
some are over the optical budget), streets and trenches are merged
non-interactive lines (trench width still by fibres), and premises with
problems (unreachable, over the budget) are drawn unless there are more than
5,000 of them. Measured by ``benchmarks/map_scale.py``.
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
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from fibreplan import _palette
from fibreplan._crs import WGS84
from fibreplan._crs import require_metric
from fibreplan._errors import InputValidationError

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
_SCALE = 1_000_000  # coordinates are integers of 1e-6 degree (~0.1 m)
_MAX_ZOOM = 19
_CANVAS_THRESHOLD = 10_000  # features; above this Leaflet draws on <canvas> instead of SVG
_DETAIL_LIMIT = 20_000  # detail features; above this they are drawn from _DETAIL_ZOOM on
_DETAIL_ZOOM = 16
_CELL_DEG = 0.005  # grid cell of the detail layers, degrees (~500 m)
_MAX_GENERIC_FIELDS = 10
_DETAIL_LAYERS = ("premises", "drops", "chambers", "dps")
# merged, non-interactive lines below _DETAIL_ZOOM (cables only from it: below it the
# trench widths show the fibres)
_OVERVIEW_LAYERS = ("streets", "trenches")
_PROBLEM_LIMIT = 5_000  # premises with problems above this are drawn from _DETAIL_ZOOM on
_LONG_TEXT = ("loss_fix",)  # left out of a large map's tooltips (kept in the GeoPackage)
#: Input columns of the premises drawn as their own (hidden) layers when present.
_THEMES = {"subsidy_status": "Premises by subsidy status", "phase": "Premises by phase"}
_SEARCH_COLUMNS = ("premises_id", "uprn", "UPRN")

# Only Leaflet and two small controls: offlinefolium inlines whatever these
# (name, url) pairs point at from its bundled copies (no network).
_LEAFLET_JS = [("leaflet", "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js")]
_LEAFLET_CSS = [("leaflet_css", "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.css")]

_GREY = "#7f7f7f"

_Formatter = Callable[[Any], str]


def _is_missing(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def _fmt_number(fmt: str) -> _Formatter:
    def _format(value: Any) -> str:
        if _is_missing(value):
            return ""
        try:
            return format(float(value), fmt)
        except (TypeError, ValueError):
            return html.escape(str(value))

    return _format


def _fmt_text(value: Any) -> str:
    return "" if _is_missing(value) else html.escape(str(value))


def _fmt_generic(value: Any) -> str:
    if isinstance(value, (float, np.floating)):
        return "" if math.isnan(value) else format(float(value), ",.6g")
    return _fmt_text(value)


@dataclass(frozen=True)
class _Field:
    column: str
    alias: str
    fmt: _Formatter = _fmt_text


@dataclass
class _Part:
    """Features of one layer drawn with one style (one legend entry)."""

    label: str | None
    style: dict[str, Any]
    gdf: gpd.GeoDataFrame
    weights: npt.NDArray[np.float64] | None = None
    detail: bool = False
    overview: bool = False


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


_num0 = _fmt_number(",.0f")
_LENGTH = _Field("length_m", "Length (m)", _fmt_number(",.1f"))
_COST = _Field("cost_gbp", "Cost (£)", _num0)

#: Tooltip fields of the known layers (the popup adds the premises' own columns).
_FIELDS: dict[str, tuple[_Field, ...]] = {
    "streets": (_Field("street_name", "Street"), _Field("highway", "Highway")),
    "trenches": (
        _Field("kind", "Kind"),
        _Field("street_name", "Street"),
        _Field("surface", "Surface"),
        _Field("side", "Side"),
        _LENGTH,
        _COST,
        _Field("fibres", "Fibres (all cables)", _num0),
    ),
    "cables": (
        _Field("cable_type", "Cable"),
        _Field("size", "Size (fibres)", _num0),
        _Field("cable_count", "Cables", _num0),
        _Field("fibres_used", "Fibres used", _num0),
        _Field("fibres_spare", "Fibres spare", _num0),
        _LENGTH,
    ),
    "drops": (
        _Field("premises_id", "Premises"),
        _LENGTH,
        _COST,
        _Field("crosses_road", "Crosses the road"),
    ),
    "chambers": (_Field("chamber_id", "Chamber"), _Field("kind", "Kind")),
    "cabinets": (
        _Field("cabinet_id", "Cabinet"),
        _Field("premises_count", "Premises served", _num0),
        _Field("dp_count", "DPs", _num0),
        _Field("splitters", "Splitters", _num0),
    ),
    "cabinet_areas": (
        _Field("cabinet_id", "Cabinet"),
        _Field("premises_count", "Premises", _num0),
        _Field("over_budget", "Over the optical budget", _num0),
        _Field("max_loss_db", "Worst loss (dB)", _fmt_number(".2f")),
    ),
    "dps": (
        _Field("dp_id", "DP"),
        _Field("premises_count", "Premises served", _num0),
        _Field("cabinet_id", "Cabinet"),
        _Field("splitters", "Splitters", _num0),
    ),
    "premises": (
        _Field("premises_id", "Premises"),
        _Field("uprn", "UPRN"),
        _Field("class", "Class"),
        _Field("status", "Status"),
        _Field("reason", "Reason"),
        _Field("subsidy_status", "Subsidy status"),
        _Field("phase", "Phase"),
        _Field("drop_m", "Drop (m)", _fmt_number(",.1f")),
        _Field("dp_id", "DP"),
        _Field("cabinet_id", "Cabinet"),
        _Field("loss_db", "Loss (dB)", _fmt_number(".2f")),
        _Field("cost_share_gbp", "Cost share (£)", _num0),
        _Field("loss_fix", "Suggested fix"),
    ),
    "headend": (
        _Field("how", "Chosen by"),
        _Field("lon", "Longitude", _fmt_number(".6f")),
        _Field("lat", "Latitude", _fmt_number(".6f")),
    ),
}

_LABELS = {
    "streets": "Streets (all)",
    "trenches": "Trenches",
    "cables": "Cables",
    "drops": "Drops",
    "chambers": "Chambers",
    "cabinets": "Cabinets",
    "cabinet_areas": "Cabinet areas",
    "dps": "Distribution points",
    "premises": "Premises",
    "headend": "Headend",
}
_POINT_RADIUS = {"chambers": 3, "cabinets": 8, "cabinet_areas": 9, "dps": 5, "premises": 4}

# Bottom to top: lines under points, the headend on top of everything.
_DRAW_ORDER = ("streets", "trenches", "cables", "drops", "chambers", "cabinets",
               "cabinet_areas", "dps", "premises", *_THEMES, "headend")  # fmt: skip

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
        div.style.font = "11px/1.3 sans-serif";
        div.style.background = "rgba(255, 255, 255, 0.92)";
        div.style.maxHeight = "45vh";
        div.style.maxWidth = "420px";
        div.style.overflowY = "auto";
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

_RUNTIME_TEMPLATE = """
{% macro script(this, kwargs) %}
{{ this.runtime }}({{ this._parent.get_name() }},
    JSON.parse(document.getElementById("fibreplan-data").textContent));
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
def _runtime_js() -> str:
    return resources.files("fibreplan").joinpath("_map_runtime.js").read_text(encoding="utf-8")


def _raw_script(text: str) -> Any:
    """Return a page element emitting ``text`` as it is (never parsed as a Jinja template)."""
    from branca.element import Element

    class _RawScript(Element):
        def render(self, **kwargs: Any) -> str:  # noqa: ARG002 - branca's signature
            return text

    return _RawScript()


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



def _fields(name: str, gdf: gpd.GeoDataFrame) -> list[_Field]:
    """Return the tooltip fields present in ``gdf`` (the first columns for unknown layers)."""
    known = _FIELDS.get("premises" if name in _THEMES else name)
    if known is not None:
        return [f for f in known if f.column in gdf.columns]
    columns = [c for c in gdf.columns if c != gdf.geometry.name]
    return [_Field(str(c), str(c), _fmt_generic) for c in columns[:_MAX_GENERIC_FIELDS]]


def _popup_fields(name: str, gdf: gpd.GeoDataFrame, fields: list[_Field]) -> list[_Field]:
    """Return the popup fields: the tooltip's plus, for premises, the input's own columns."""
    if name != "premises":
        return fields
    plan_columns = {f.column for f in _FIELDS["premises"]} | {
        "units", "source", "crosses_road", "node", "loss_violation", "geometry",
    }  # fmt: skip
    own = [c for c in gdf.columns if c not in plan_columns and c != gdf.geometry.name]
    return fields + [_Field(str(c), str(c), _fmt_generic) for c in own[:_MAX_GENERIC_FIELDS]]


def _column(values: pd.Series, fmt: _Formatter) -> dict[str, list[Any]]:
    """Return a formatted column: ``{"v": values}``, or ``{"u": uniques, "c": codes}`` if fewer."""
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    labels = [fmt(v) for v in np.asarray(uniques, dtype=object).tolist()]
    if 2 * len(labels) > len(values):
        return {"v": np.array(labels, dtype=object)[codes].tolist()}
    return {"u": labels, "c": codes.tolist()}


def _coordinates(
    geoms: npt.NDArray[np.object_], origin: npt.NDArray[np.int64]
) -> tuple[list[int], list[int] | None]:
    """Return flat integer coordinates (1e-6 degree from ``origin``) and line offsets.

    Points give one (x, y) pair each and no offsets; lines give their vertices
    and the offset of each line's first vertex (one more offset than lines).
    Multi-part geometries are drawn as their parts joined end to end only in
    generic layers; the plan's own layers are points and simple lines.
    """
    xy, index = shapely.get_coordinates(geoms, return_index=True)
    ints = (np.round(xy * _SCALE).astype(np.int64) - origin).ravel().tolist()
    if (shapely.get_type_id(geoms) == shapely.GeometryType.POINT).all():
        return ints, None
    offsets = np.searchsorted(index, np.arange(len(geoms) + 1)).tolist()
    return ints, offsets


def _encode(
    part: _Part, *, kind: str, radius: float, fields: list[_Field], origin: npt.NDArray[np.int64]
) -> dict[str, Any]:
    """Return one part as the runtime's compact record."""
    geoms = part.gdf.geometry.to_numpy()
    xy, offsets = _coordinates(geoms, origin)
    record: dict[str, Any] = {
        "n": len(geoms),
        "kind": kind if offsets is None or kind == "star" else "line",
        "style": part.style,
        "radius": radius,
        "detail": part.detail,
        "overview": part.overview,
        "xy": xy,
        "cols": {f.column: _column(part.gdf[f.column], f.fmt) for f in fields},
    }
    if offsets is not None:
        record["off"] = offsets
    if part.weights is not None:
        record["w"] = np.round(part.weights, 1).tolist()
    return record


def _by_category(
    gdf: gpd.GeoDataFrame, keys: pd.Series, styles: Mapping[str, tuple[str, dict[str, Any]]]
) -> list[_Part]:
    """Split ``gdf`` by ``keys`` into parts in the order of ``styles`` (unknown keys last)."""
    order = list(styles)
    parts = []
    for key in sorted(keys.unique().tolist(), key=lambda k: (order.index(k) if k in order else
                                                             len(order), str(k))):  # fmt: skip
        label, style = styles.get(key, (str(key) or "unknown", _line_style(_GREY, 2)))
        parts.append(_Part(label, style, gdf[(keys == key).to_numpy()]))
    return parts


def _premises_keys(gdf: gpd.GeoDataFrame) -> pd.Series:
    """Return each premises' category: connected, over_budget or unreachable:<reason>."""
    status = gdf["status"].astype("string").fillna("").str.lower() if "status" in gdf else (
        pd.Series("", index=gdf.index, dtype="string"))  # fmt: skip
    keys = status.copy()
    if "loss_violation" in gdf.columns:
        keys = keys.mask(gdf["loss_violation"].fillna(value=False).astype(bool), "over_budget")
    if "reason" in gdf.columns:
        reason = gdf["reason"].astype("string").fillna("")
        keys = keys.mask(status == "unreachable", "unreachable:" + reason)
    return keys


def _premises_parts(gdf: gpd.GeoDataFrame) -> list[_Part]:
    keys = _premises_keys(gdf)
    colours = _palette.PREMISES
    styles: dict[str, tuple[str, dict[str, Any]]] = {
        "connected": ("connected", _point_style(colours["connected"])),
        "over_budget": ("over the optical budget", _point_style(colours["over_budget"])),
    }
    for key in sorted(k for k in keys.unique().tolist() if str(k).startswith("unreachable")):
        reason = str(key).partition(":")[2].replace("_", " ")
        label = f"unreachable ({reason})" if reason else "unreachable"
        styles[key] = (label, _point_style(colours["unreachable"]))
    return _by_category(gdf, keys, styles)


def _theme_parts(gdf: gpd.GeoDataFrame, column: str) -> list[_Part]:
    """Split premises by an input column (subsidy status, phase): one colour per value."""
    keys = gdf[column].astype("string").fillna("(none)")
    values = sorted(keys.unique().tolist(), key=lambda v: (not v.isdigit(), int(v) if
                                                            v.isdigit() else 0, v))  # fmt: skip
    colours = _palette.category_colours([v for v in values if v != "(none)"])
    none = {"(none)": _palette.SUBSIDY["(none)"]}
    known = _palette.SUBSIDY if column == "subsidy_status" else none
    colours.update({v: c for v, c in known.items() if v in values})
    return _by_category(
        gdf, keys, {v: (v, _point_style("#333333", fill=colours[v], weight=1)) for v in values}
    )


def _fibre_weights(fibres: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Return trench line widths in pixels: 2 px for a 12-fibre cable, 8 px from 288 fibres."""
    return np.clip(2 + 6 * np.log2(np.maximum(fibres, 12) / 12) / np.log2(24), 2, 8)


def _trench_parts(gdf: gpd.GeoDataFrame) -> list[_Part]:
    keys = gdf["kind"].astype("string").fillna("").str.lower() if "kind" in gdf else (
        pd.Series("", index=gdf.index, dtype="string"))  # fmt: skip
    labels = {"dig": "new dig", "duct_reuse": "rented duct", "aerial": "aerial on poles",
              "crossing": "road crossing (route)"}  # fmt: skip
    styles = {
        kind: (labels[kind], _line_style(colour, 4, dash))
        for kind, (colour, dash) in _palette.TRENCH.items()
    }
    parts = _by_category(gdf, keys, styles)
    if "fibres" in gdf.columns:
        for part in parts:
            part.weights = _fibre_weights(part.gdf["fibres"].fillna(0).to_numpy(float))
    return parts


def _cable_parts(gdf: gpd.GeoDataFrame) -> list[_Part]:
    if "size" not in gdf.columns:
        return [_Part(None, _line_style(_palette.CABLE_SIZES[48], 2), gdf)]
    keys = gdf["size"].astype("Int64").astype("string").fillna("")
    sizes = sorted({int(k) for k in keys.unique().tolist() if k})
    styles = {str(s): (f"{s} fibres", _line_style(_palette.cable_colour(s), 2)) for s in sizes}
    return _by_category(gdf, keys, styles)


def _plain_parts(name: str, gdf: gpd.GeoDataFrame) -> list[_Part]:
    styles: dict[str, dict[str, Any]] = {
        "streets": _line_style(_palette.STREET, 1),
        "drops": _line_style(_palette.DROP, 1.5, "4 3"),
        "chambers": _point_style(_palette.CHAMBER[0], fill=_palette.CHAMBER[1], weight=2),
        "cabinets": _point_style(_palette.CABINET[0], fill=_palette.CABINET[1], weight=2),
        "dps": _point_style(_palette.DP[0], fill=_palette.DP[1], weight=3),
    }
    style = styles.get(name)
    if style is None:
        point = set(gdf.geom_type.unique()) <= {"Point", "MultiPoint"}
        style = _point_style(_GREY) if point else _line_style("#34495e", 2)
    return [_Part(None, dict(style), gdf)]


def _area_parts(gdf: gpd.GeoDataFrame) -> list[_Part]:
    """Split the cabinet areas into those with and without premises over the optical budget."""
    over = gdf["over_budget"].fillna(0).to_numpy() > 0
    keys = pd.Series(np.where(over, "over_budget", "connected"), index=gdf.index)
    colours = _palette.PREMISES
    return _by_category(gdf, keys, {
        "connected": ("no premises over the optical budget",
                      _point_style("#1b2631", fill=colours["connected"], weight=1)),
        "over_budget": ("premises over the optical budget",
                        _point_style("#1b2631", fill=colours["over_budget"], weight=1)),
    })  # fmt: skip


def _parts(name: str, gdf: gpd.GeoDataFrame) -> list[_Part]:
    if name == "cabinet_areas":
        return _area_parts(gdf)
    if name == "premises":
        return _premises_parts(gdf)
    if name in _THEMES:
        return _theme_parts(gdf, name)
    if name == "trenches":
        return _trench_parts(gdf)
    if name == "cables":
        return _cable_parts(gdf)
    return _plain_parts(name, gdf)


def _with_fibres(layers: dict[str, gpd.GeoDataFrame]) -> None:
    """Add to ``trenches`` the fibres of all cables on each edge (for the line width)."""
    trenches, cables = layers.get("trenches"), layers.get("cables")
    if trenches is None or cables is None or not {"edge_id", "fibres_used"} <= set(cables):
        return
    if "edge_id" not in trenches.columns:
        return
    total = cables.groupby("edge_id")["fibres_used"].sum()
    trenches = trenches.copy()
    trenches["fibres"] = trenches["edge_id"].map(total).fillna(0).to_numpy(float)
    layers["trenches"] = trenches


def _cabinet_areas(premises: gpd.GeoDataFrame, cabinets: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return one point per cabinet summarising its premises (for the zoomed-out view)."""
    served = premises[premises["cabinet_id"].notna()]
    violation = served.get("loss_violation", False)
    stats = (
        served.assign(over=np.asarray(violation, dtype=bool))
        .groupby("cabinet_id")
        .agg(
            premises_count=("status", "size"),
            over_budget=("over", "sum"),
            max_loss_db=("loss_db", "max"),
        )
    )
    out = cabinets[["cabinet_id", "geometry"]].merge(
        stats, left_on="cabinet_id", right_index=True, how="left"
    )
    return gpd.GeoDataFrame(out, geometry="geometry", crs=cabinets.crs)


def _legend_swatch(kind: str, style: Mapping[str, Any], *, star: bool = False) -> str:
    if star:
        return '<span style="display:inline-block;width:18px;text-align:center">&#9733;</span>'
    if kind == "point":
        return (
            '<span style="display:inline-block;width:10px;height:10px;border-radius:50%;'
            "vertical-align:middle;"
            f"margin:0 4px;background:{style.get('fillColor', _GREY)};"
            f'border:2px solid {style.get("color", _GREY)}"></span>'
        )
    dash = "dashed" if style.get("dashArray") else "solid"
    width = max(1, round(float(style.get("weight", 2))))
    return (
        '<span style="display:inline-block;width:18px;height:0;vertical-align:middle;'
        f'border-top:{width}px {dash} {style.get("color", _GREY)}"></span>'
    )


def _legend_extras(
    layers: Mapping[str, gpd.GeoDataFrame], summary: Mapping[str, Any] | None
) -> list[str]:
    """Return legend lines that explain the numbers: crossings, widths, budget, zoom."""
    lines = []
    trenches, drops = layers.get("trenches"), layers.get("drops")
    if trenches is not None and "kind" in trenches.columns:
        route = int((trenches["kind"] == "crossing").sum())
        far = int(drops["crosses_road"].sum()) if drops is not None and "crosses_road" in drops \
            else 0  # fmt: skip
        text = f"Road crossings: {route:,} on the route (trenches)"
        if summary is not None and "road_crossings" in summary:
            shared = int(summary["road_crossings"]) - route
            text += (f" + {shared:,} shared drop crossings ({far:,} drops cross a street)"
                     f" = {int(summary['road_crossings']):,} in the summary")  # fmt: skip
        else:
            text += f"; {far:,} drops cross a street"
        lines.append(text)
    if trenches is not None and "fibres" in trenches.columns:
        widths = "".join(
            f'<span style="display:inline-block;width:18px;height:0;margin:0 3px;'
            f'vertical-align:middle;border-top:{round(float(w))}px solid #e67e22"></span>{n}'
            for n, w in zip((12, 48, 144, 288), _fibre_weights(np.array([12, 48, 144, 288.0])),
                            strict=True)
        )  # fmt: skip
        lines.append(f"Trench width by fibres: {widths}")
    if summary is not None and "loss_violations" in summary:
        lines.append(
            f"Optical budget: {int(summary['loss_violations'] or 0):,} premises over it, "
            f"worst loss {float(summary.get('max_loss_db') or 0):.1f} dB"
        )
    return [f"<div style='color:#333'>{html.escape(line, quote=False)}</div>"
            if "<span" not in line else f"<div style='color:#333'>{line}</div>"
            for line in lines]  # fmt: skip


def _prepare(layers: Mapping[str, gpd.GeoDataFrame]) -> dict[str, gpd.GeoDataFrame]:
    """Validate, add the derived layers (cabinet areas, themes, fibres) and reproject."""
    prepared: dict[str, gpd.GeoDataFrame] = {}
    for name, gdf in layers.items():
        checked = _check_layer(name, gdf)
        if checked is not None:
            prepared[name] = checked
    _with_fibres(prepared)
    premises = prepared.get("premises")
    if premises is not None:
        for column in _THEMES:
            if column in premises.columns:
                prepared[column] = premises
        if "cabinets" in prepared and {"cabinet_id", "status", "loss_db"} <= set(premises):
            prepared["cabinet_areas"] = _cabinet_areas(premises, prepared["cabinets"])
    return {name: gdf.to_crs(WGS84) for name, gdf in prepared.items()}


def _gated(name: str, part: _Part, *, large: bool) -> tuple[bool, bool]:
    """Return whether a part is drawn only from the detail zoom, and with an overview below it.

    On a large map, connected premises, drops, chambers and DPs are detail (the
    cabinet areas summarise them below the zoom); premises with problems are
    detail only when there are more than ``_PROBLEM_LIMIT`` of them; cables
    are detail (the trench widths show the fibres below the zoom); streets and
    trenches are merged, non-interactive lines below the zoom.
    """
    if not large:
        return False, False
    if name in _OVERVIEW_LAYERS:
        return True, True
    if name == "premises" and part.label != "connected":
        return len(part.gdf) > _PROBLEM_LIMIT, False
    return name in _DETAIL_LAYERS or name in _THEMES or name == "cables", False


def _layer_records(
    prepared: dict[str, gpd.GeoDataFrame], legend: list[str]
) -> list[dict[str, Any]]:
    """Return the runtime's layer records (and fill ``legend``), bottom to top."""
    detail_total = sum(len(prepared[n]) for n in _DETAIL_LAYERS if n in prepared)
    large = detail_total > _DETAIL_LIMIT
    bounds = np.array([g.total_bounds for g in prepared.values()])
    origin = np.round(bounds[:, :2].min(axis=0) * _SCALE).astype(np.int64)
    records = []
    unknown = [n for n in prepared if n not in _DRAW_ORDER]
    for name in [*unknown, *(n for n in _DRAW_ORDER if n in prepared)]:
        if name == "cabinet_areas" and not large:
            continue
        gdf = prepared[name]
        label = _LABELS.get(name) or _THEMES.get(name) or name.replace("_", " ").capitalize()
        fields = _fields(name, gdf)
        popup = fields if large else _popup_fields(name, gdf, fields)
        if large:  # slim: long free text stays in the GeoPackage
            fields = popup = [f for f in fields if f.column not in _LONG_TEXT]
        kind = "star" if name == "headend" else "point"
        parts = _parts(name, gdf)
        for part in parts:
            part.detail, part.overview = _gated(name, part, large=large)
            text = label if part.label is None else f"{label}: {part.label}"
            swatch = _legend_swatch("point" if kind == "star" or part.gdf.geom_type.iloc[0]
                                    .endswith("Point") else "line", part.style,
                                    star=kind == "star")  # fmt: skip
            note = f" from zoom {_DETAIL_ZOOM}" if part.detail and not part.overview else ""
            legend.append(f"<div>{swatch} {html.escape(text)} ({len(part.gdf):,}){note}</div>")
        records.append({
            "id": name,
            "label": html.escape(label),
            "show": name not in _THEMES,
            "summary": name == "cabinet_areas",  # drawn only below the detail zoom
            "fields": [[f.column, html.escape(f.alias)] for f in fields],
            "popup": [[f.column, html.escape(f.alias)] for f in popup],
            "parts": [
                _encode(p, kind=kind, radius=_POINT_RADIUS.get(name, 5), origin=origin,
                        fields=popup)
                for p in parts
            ],
        })  # fmt: skip
    return records


def _page_data(records: list[dict[str, Any]], origin: npt.NDArray[np.int64]) -> str:
    """Return the JSON data element of the page ("</" escaped: it cannot end the element).

    A ``<script type="application/json">`` is read by the HTML parser as plain
    text and decoded by ``JSON.parse``: several times faster than the same data
    as a JavaScript literal.
    """
    data = {
        "scale": _SCALE,
        "origin": origin.tolist(),
        "cell": _CELL_DEG,
        "detail_zoom": _DETAIL_ZOOM,
        "star": _HEADEND_HTML,
        "search_columns": list(_SEARCH_COLUMNS),
        "search_placeholder": "Find a premises id or UPRN",
        "layers": records,
    }
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")
    return f'<script type="application/json" id="fibreplan-data">{text}</script>\n'


def plan_map(
    layers: Mapping[str, gpd.GeoDataFrame],
    *,
    title: str = "fibreplan plan",
    basemap: bool = True,
    summary: Mapping[str, Any] | None = None,
) -> folium.Map:
    """Draw a fibre plan as an interactive Leaflet map that works offline, at any size.

    Parameters
    ----------
    layers : Mapping of str to geopandas.GeoDataFrame
        The plan's layers by name, each in a projected metric CRS (e.g.
        :func:`fibreplan.layers.map_layers`). Known names are drawn with their
        own styles, legend entries, tooltips and popups: ``streets`` (every
        input street, thin grey), ``trenches`` (by ``kind``: new dig, rented
        duct, aerial, road crossing; width by the fibres of the ``cables`` on
        the same ``edge_id``), ``cables`` (by ``size``), ``drops``,
        ``chambers``, ``cabinets``, ``dps``, ``premises`` (connected green,
        over the optical budget orange from ``loss_violation``, unreachable
        red by ``reason``; the input's ``subsidy_status`` and ``phase``
        columns, when present, as extra layers switched off at first) and
        ``headend`` (a star). Other names are drawn in grey with their first
        columns in the tooltip. ``None`` or empty layers (and rows with empty
        geometry) are skipped.
    title : str, default "fibreplan plan"
        Page title and legend heading.
    basemap : bool, default True
        Add an OpenStreetMap tile layer. Tiles need a network connection;
        everything else in the map does not.
    summary : Mapping, optional
        The plan's summary (:attr:`fibreplan.Plan.summary`): the legend then
        splits ``road_crossings`` into the route's crossings and the shared
        drop crossings, and gives the optical-budget violations.

    Returns
    -------
    offlinefolium.Map
        The map with a layer control, a legend for every colour scale, a scale
        bar, fullscreen and measure controls, a premises search box and the
        "© OpenStreetMap contributors" attribution, zoomed to the data. Save
        it with :func:`save_map`.

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
    Coordinates are written as integers of 1e-6 degree (WGS84, about 0.1 m)
    from an origin; every text from the data is HTML-escaped before it is
    written. Above 20,000 premises, drops, chambers and DPs together, the
    connected premises, drops, chambers, DPs and cables are drawn from zoom
    16 on in the cells in view, with a "cabinet areas" layer below it (see the
    module docstring).
    """
    fm = _import_folium()
    from offlinefolium import plugins

    prepared = _prepare(layers)
    n_features = sum(len(g) for g in prepared.values())
    m = fm.Map(location=None, tiles=None, control_scale=True,
               prefer_canvas=n_features > _CANVAS_THRESHOLD)  # fmt: skip
    m.default_js = list(_LEAFLET_JS)
    m.default_css = list(_LEAFLET_CSS)
    m.get_root().title = html.escape(title)
    if basemap:
        fm.TileLayer(tiles=_OSM_TILES, attr=OSM_ATTRIBUTION, name="OpenStreetMap",
                     max_zoom=_MAX_ZOOM, overlay=False, control=False).add_to(m)  # fmt: skip

    legend: list[str] = []
    if prepared:
        bounds = np.array([g.total_bounds for g in prepared.values()])
        west, south = bounds[:, 0].min(), bounds[:, 1].min()
        east, north = bounds[:, 2].max(), bounds[:, 3].max()
        origin = np.round(np.array([west, south]) * _SCALE).astype(np.int64)
        records = _layer_records(prepared, legend)
        m.get_root().html.add_child(_raw_script(_page_data(records, origin)), name="fp_data")
        m.location = [float((south + north) / 2), float((west + east) / 2)]
        m.fit_bounds([[float(south), float(west)], [float(north), float(east)]],
                     padding=(30, 30), max_zoom=_MAX_ZOOM - 1)  # fmt: skip
        m.add_child(_macro(_RUNTIME_TEMPLATE, runtime=_runtime_js()))
    else:
        logger.warning("plan_map: no non-empty layers to draw; the map is empty")

    legend += _legend_extras(prepared, summary)
    # a <details> element: the reader can fold the legend away to see the map under it
    heading = f"<summary style='font-weight:bold;cursor:pointer'>{html.escape(title)}</summary>"
    body = f"<details open>{heading}{''.join(legend)}</details>"
    m.add_child(_macro(_LEGEND_TEMPLATE, legend_html=body))
    m.add_child(_macro(_TOOLTIP_CSS_TEMPLATE))
    m.add_child(_macro(_ATTRIBUTION_TEMPLATE, text=OSM_ATTRIBUTION))
    plugins.Fullscreen(position="topright").add_to(m)
    plugins.MeasureControl(position="topright", primary_length_unit="meters",
                           secondary_length_unit="kilometers",
                           primary_area_unit="sqmeters").add_to(m)  # fmt: skip
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
