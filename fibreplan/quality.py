"""Data quality — what the inputs hold, what could not be used and why, and plans refused.

:func:`input_quality` reports on loaded streets, premises and their trench
graph (the ``quality.json`` contract, see the README): premises dropped or
merged, unreachable premises by reason with their IDs, street components and
their sizes, lines noded by the loader, CRS decisions and tags defaulted.
:func:`plan_warnings` gives the lines printed first under a plan that is only
partly possible (some premises unreachable or over the optical budget), and
:func:`refuse_unplannable` refuses a plan that connects no premises, naming the
likely cause (coordinates swapped, layers in different places, the wrong file).
:func:`validate` runs the checks without planning (``fibreplan validate``).

Premises are always named by their ID (``premises_id``: the input's
``premises_id``, ``uprn``, ``id`` or ``address_id`` column), never by row.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import pyproj
import shapely
from scipy.sparse.csgraph import connected_components

from fibreplan._crs import BNG
from fibreplan._crs import WGS84
from fibreplan._errors import InfeasibleDesignError
from fibreplan._errors import InputValidationError
from fibreplan.subsidy import REASON_NOT_ELIGIBLE
from fibreplan.subsidy import REASON_OVER_BUDGET
from fibreplan.trench import REASONS
from fibreplan.trench import TrenchGraph

if TYPE_CHECKING:
    from fibreplan.config import TrenchRules
    from fibreplan.plan import Plan

__all__ = [
    "check_headend",
    "check_input_sizes",
    "input_quality",
    "plan_quality",
    "plan_warnings",
    "quality_text",
    "refuse_unplannable",
    "validate",
]

logger = logging.getLogger(__name__)

#: Layers whose lon/lat extents are farther apart than this (degrees, about 2 km) cover
#: different places.
_NEAR_DEG = 0.02
#: At most this many IDs are quoted in a message; quality.json lists them all.
_EXAMPLES = 5
#: Street tags the trench stage reads, with the value it assumes when a tag is missing.
_TAG_DEFAULTS = {
    "highway": "unclassified (priced as a minor road)",
    "surface": "by highway class",
    "sidewalk": "by highway class",
    "name": "none (no street name in the layers)",
}
#: What to do about each reason a premises is unreachable.
_REASON_FIX = {
    "too_far_from_street": "raise --max-drop-m or add the missing streets",
    "disconnected_street_network": "join their streets to the network or add a headend there",
    "invalid_geometry": "fix or remove their geometry",
}


def _ids(ids: npt.NDArray[Any], *, limit: int = _EXAMPLES) -> str:
    shown = ", ".join(str(i) for i in ids[:limit])
    return shown + (f" and {ids.size - limit:,} more" if ids.size > limit else "")


def _lonlat_bounds(geoms: gpd.GeoSeries) -> npt.NDArray[np.float64] | None:
    """Lon/lat bounds (west, south, east, north) of the finite, non-empty geometries."""
    ok = ~(geoms.is_empty | geoms.isna())
    if not ok.any():
        return None
    b = geoms[ok].to_crs(WGS84).bounds.to_numpy()
    b = b[np.isfinite(b).all(axis=1)]
    if not b.size:
        return None
    return np.array([b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max()])


def _fmt_bounds(b: npt.NDArray[np.float64] | None) -> str:
    if b is None:
        return "none (no usable geometry)"
    return f"lon {b[0]:.4f}..{b[2]:.4f}, lat {b[1]:.4f}..{b[3]:.4f}"


def _overlap(a: npt.NDArray[np.float64], b: npt.NDArray[np.float64], pad: float) -> bool:
    return bool(
        a[0] <= b[2] + pad and b[0] <= a[2] + pad and a[1] <= b[3] + pad and b[1] <= a[3] + pad
    )


# --------------------------------------------------------------------------------------
# Refusing impossible plans

#: An input file may be at most 1/_MEMORY_FACTOR of the machine's memory: read into
#: memory, a vector file takes several times its size (a PBF far more).
_MEMORY_FACTOR = 10


def _physical_memory() -> int:
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not POSIX
        return 8 << 30


def check_input_sizes(*sources: object) -> None:
    """Refuse an input file too large to read into this machine's memory, before reading it.

    Parameters
    ----------
    *sources : object
        Inputs as given; only existing files are checked.

    Raises
    ------
    InputValidationError
        If a file is larger than the machine's memory divided by 10 (or than
        ``FIBREPLAN_MAX_INPUT_MB`` megabytes when that is set): it is refused
        rather than read until the machine runs out of memory.
    """
    env = os.environ.get("FIBREPLAN_MAX_INPUT_MB")
    limit = int(float(env) * 1e6) if env else _physical_memory() // _MEMORY_FACTOR
    for src in sources:
        if isinstance(src, str | Path) and Path(src).is_file():
            size = Path(src).stat().st_size
            if size > limit:
                msg = (
                    f"'{src}' is {size / 1e9:,.1f} GB, more than fibreplan reads into memory "
                    f"here ({limit / 1e9:,.1f} GB: a tenth of this machine's memory, or "
                    "FIBREPLAN_MAX_INPUT_MB); clip it to the area first (osmium extract, "
                    "ogr2ogr -spat) or plan on a larger machine."
                )
                raise InputValidationError(msg)


def check_headend(headend: object, streets: gpd.GeoDataFrame, *, max_drop_m: float) -> None:
    """Refuse a ``(lon, lat)`` headend far from every street when the swapped order fits.

    Parameters
    ----------
    headend : object
        The headend as given to :func:`fibreplan.plan`; only a ``(lon, lat)``
        pair in degrees is checked.
    streets : geopandas.GeoDataFrame
        Street lines in the plan's metric CRS.
    max_drop_m : float
        How far from a street the headend may be, metres.

    Raises
    ------
    InputValidationError
        If the headend is farther than ``max_drop_m`` from every street but
        ``(lat, lon)`` read the other way round is within it.
    """
    if not isinstance(headend, tuple | list) or len(headend) != 2:
        return
    try:
        lon, lat = (float(v) for v in headend)
    except (TypeError, ValueError):
        return  # the trench stage says what is wrong with it
    if not (-90 <= lon <= 90 and -180 <= lat <= 180):
        return
    pts = gpd.GeoSeries([shapely.Point(lon, lat), shapely.Point(lat, lon)], crs=WGS84).to_crs(
        streets.crs
    )
    tree = shapely.STRtree(streets.geometry.to_numpy())
    _, dist = tree.query_nearest(pts.to_numpy(), return_distance=True, all_matches=False)
    if dist.size == 2 and dist[0] > max_drop_m >= dist[1]:
        msg = (
            f"headend (lon {lon}, lat {lat}) is {dist[0] / 1000:,.1f} km from every street, but "
            f"read the other way round (lon {lat}, lat {lon}) it is {dist[1]:,.0f} m from one: the "
            f"coordinates look swapped; give the longitude first (--exchange={lat},{lon})."
        )
        raise InputValidationError(msg)


def _unplannable_cause(
    streets: gpd.GeoDataFrame, premises: gpd.GeoDataFrame, tg: TrenchGraph
) -> str:
    """Return the likely reason no premises can be connected, for the message."""
    reasons = pd.Series(tg.premises_reason).value_counts()
    if reasons.get("invalid_geometry", 0) == len(premises):
        return "every premises geometry is empty or invalid: is it the right file?"
    s_box = _lonlat_bounds(streets.geometry)
    p_box = _lonlat_bounds(premises.geometry)
    extents = f"streets {_fmt_bounds(s_box)}; premises {_fmt_bounds(p_box)}"
    if s_box is not None and p_box is not None and not _overlap(s_box, p_box, pad=_NEAR_DEG):
        if _overlap(s_box, p_box[[1, 0, 3, 2]], pad=_NEAR_DEG):
            return (
                f"the premises' coordinates look swapped (latitude in the longitude column): "
                f"{extents}; swap the columns (lon is x, lat is y)."
            )
        return (
            f"the two layers cover different places ({extents}): is one of them the wrong "
            "file, or its CRS wrongly labelled (e.g. British National Grid metres saved as "
            "EPSG:4326)?"
        )
    top = str(reasons.index[0])
    fix = _REASON_FIX.get(top, "check the inputs")
    return (
        f"{int(reasons.iloc[0]):,} of {len(premises):,} are '{top}' "
        f"({REASONS.get(top, top)}); {fix} ({extents})."
    )


def refuse_unplannable(
    streets: gpd.GeoDataFrame,
    premises: gpd.GeoDataFrame,
    tg: TrenchGraph,
    *,
    source: object = None,
) -> None:
    """Refuse a plan that would connect no premises, naming the likely cause.

    Parameters
    ----------
    streets, premises : geopandas.GeoDataFrame
        The loaded inputs (plan CRS).
    tg : TrenchGraph
        Their trench graph.
    source : object, optional
        The premises as given (a path is named in the message).

    Raises
    ------
    InfeasibleDesignError
        If no premises can be connected; ``unreachable`` holds every premises ID.
    """
    if (tg.premises_node >= 0).any():
        return
    where = f" in '{Path(source).name}'" if isinstance(source, str | Path) else ""
    msg = (
        f"no premises can be connected (0 of {len(premises):,}{where}), so there is no "
        f"plan; likely cause: {_unplannable_cause(streets, premises, tg)}"
    )
    raise InfeasibleDesignError(msg, unreachable=premises["premises_id"].tolist())


# --------------------------------------------------------------------------------------
# The report


def _unreachable(premises: gpd.GeoDataFrame, tg: TrenchGraph) -> dict[str, Any]:
    ids = premises["premises_id"].astype(str).to_numpy()
    out: dict[str, Any] = {}
    # premises a bid leaves out on purpose (--eligible-only, --budget) are no shortfall:
    # the printed status/eligible lines and the premises layer account for them
    chosen = {"", REASON_NOT_ELIGIBLE, REASON_OVER_BUDGET}
    for reason in sorted(set(tg.premises_reason.tolist()) - chosen):
        hit = ids[tg.premises_reason == reason]
        out[reason] = {
            "count": int(hit.size),
            "meaning": REASONS.get(reason, reason),
            "fix": _REASON_FIX.get(reason, ""),
            "premises_ids": hit.tolist(),
        }
    return out


def _components(tg: TrenchGraph) -> dict[str, Any]:
    """Return the trench graph's connected parts: metres, nodes, premises; largest first."""
    n_comp, label = connected_components(tg.csr(weight="length_m"), directed=False)
    metres = np.bincount(label[tg.edge_u], weights=tg.edge_length_m, minlength=n_comp)
    reach = tg.premises_node >= 0
    prem = np.bincount(label[tg.premises_node[reach]], minlength=n_comp)
    order = np.lexsort((-np.bincount(label, minlength=n_comp), -metres))
    head = int(label[tg.headend_node])
    return {
        "count": int(n_comp),
        "headend_component_m": round(float(metres[head]), 1),
        "largest": [
            {
                "length_m": round(float(metres[c]), 1),
                "nodes": int((label == c).sum()),
                "premises": int(prem[c]),
                "has_headend": bool(c == head),
            }
            for c in order[:10].tolist()
        ],
    }


def _tags_defaulted(streets: gpd.GeoDataFrame) -> dict[str, Any]:
    out = {}
    for tag, default in _TAG_DEFAULTS.items():
        missing = int(streets[tag].isna().sum()) if tag in streets else len(streets)
        if missing:
            out[tag] = {"lines": missing, "assumed": default}
    return out


def _input_crs(source: object) -> str:
    """Return the CRS an input file or GeoDataFrame declares (from its header only)."""
    if isinstance(source, gpd.GeoDataFrame):
        return source.crs.to_string() if source.crs else "none"
    if not isinstance(source, str | Path) or not Path(source).is_file():
        return "from the source (graph or database table)"
    name = Path(source).name.lower()
    if name.endswith((".osm", ".osm.bz2", ".xml", ".pbf")):
        return "EPSG:4326 (OpenStreetMap)"
    if name.endswith((".csv", ".txt")):
        cols = {str(c).lower().lstrip("\ufeff") for c in pd.read_csv(source, nrows=0).columns}
        metric = cols & {"easting", "x_coordinate", "x"}
        return f"{BNG} (easting/northing columns)" if metric else f"{WGS84} (lon/lat columns)"
    try:
        import pyogrio

        crs = pyogrio.read_info(source).get("crs")
    except Exception:  # noqa: BLE001 - a report line, never a failure
        return "unknown"
    return str(crs) if crs else "none"


def input_quality(
    streets: gpd.GeoDataFrame,
    premises: gpd.GeoDataFrame,
    tg: TrenchGraph,
    *,
    sources: tuple[object, object] | None = None,
) -> dict[str, Any]:
    """Return the data-quality report of loaded inputs and their trench graph.

    Parameters
    ----------
    streets, premises : geopandas.GeoDataFrame
        The loaded inputs (plan CRS), as :func:`fibreplan.load_inputs` gives them.
    tg : TrenchGraph
        Their trench graph (:func:`fibreplan.build_trench_graph`).
    sources : tuple of object, optional
        The streets and premises as given (paths or GeoDataFrames), to report
        the CRS each declared.

    Returns
    -------
    dict
        ``premises`` (total; ``dropped`` and ``merged``, each a list of
        ``{reason, count, premises_ids}``; ``unreachable`` by reason with its
        meaning, fix and IDs), ``streets`` (lines, km, ``components``,
        ``noding``: the loader's counts of lines split or ``null`` when the
        input was split at OSM nodes, ``tags_defaulted``), ``crs`` (the plan
        CRS, the rule that chose it and each input's declared CRS) and
        ``problems`` (messages that stop a plan; empty when it can run).
    """
    plan_crs = pyproj.CRS.from_user_input(tg.crs)
    rule = (
        "British National Grid: the inputs lie in Great Britain"
        if plan_crs.equals(pyproj.CRS.from_user_input(BNG))
        else "local UTM zone: the inputs lie outside Great Britain"
    )
    crs: dict[str, Any] = {"plan": plan_crs.to_string(), "rule": rule}
    if sources is not None:
        crs["streets_declared"] = _input_crs(sources[0])
        crs["premises_declared"] = _input_crs(sources[1])
    problems: list[str] = []
    try:
        refuse_unplannable(streets, premises, tg, source=sources[1] if sources else None)
    except InfeasibleDesignError as err:
        problems.append(str(err))
    return {
        "premises": {
            "total": len(premises),
            "reachable": int((tg.premises_node >= 0).sum()),
            # the loaders drop only OSM buildings that are not premises (sheds, garages:
            # recorded by the loader) and merge nothing: empty or invalid geometries stay,
            # reported unreachable ('invalid_geometry'); duplicate IDs are an error
            "dropped": list(premises.attrs.get("dropped", [])),
            "merged": [],
            "units_source": {
                str(k): int(v) for k, v in premises["units_source"].value_counts().items()
            }
            if "units_source" in premises
            else {},
            "unreachable": _unreachable(premises, tg),
        },
        "streets": {
            "lines": len(streets),
            "length_km": round(float(streets.geometry.length.sum()) / 1000, 3),
            "components": _components(tg),
            "noding": streets.attrs.get("noding"),
            "tags_defaulted": _tags_defaulted(streets),
        },
        "crs": crs,
        "headend": {"how": tg.headend_how, "node": int(tg.headend_node)},
        "problems": problems,
    }


def plan_quality(plan: Plan) -> dict[str, Any]:
    """Return the data-quality report of a plan's inputs (``quality.json``).

    Parameters
    ----------
    plan : Plan
        The plan.

    Returns
    -------
    dict
        See :func:`input_quality`; ``over_budget`` adds the premises whose
        optical loss is over the budget, by ID.
    """
    report = input_quality(plan.streets, plan.premises_input, plan.trench_graph)
    report["premises"]["over_budget"] = _over_budget_ids(plan).tolist()
    return report


def _over_budget_ids(plan: Plan) -> npt.NDArray[Any]:
    reached = np.flatnonzero(plan.trench_graph.premises_node >= 0)
    ids = plan.premises_input["premises_id"].astype(str).to_numpy()
    return ids[reached[plan.design.violations]]


def plan_warnings(plan: Plan) -> list[str]:
    """Return one line per way the plan falls short (printed first, in ``summary.json``).

    Parameters
    ----------
    plan : Plan
        The plan.

    Returns
    -------
    list of str
        Empty for a plan that connects every premises within the optical
        budget; else a line for the unreachable premises (each reason with
        its count, example IDs and fix) and one for those over the budget.
    """
    tg, prem = plan.trench_graph, plan.premises_input
    out = []
    ids = prem["premises_id"].astype(str).to_numpy()
    # premises a bid leaves out on purpose (--eligible-only, --budget) are no shortfall:
    # the printed status/eligible lines and the premises layer account for them
    chosen = {"", REASON_NOT_ELIGIBLE, REASON_OVER_BUDGET}
    for reason in sorted(set(tg.premises_reason.tolist()) - chosen):
        hit = ids[tg.premises_reason == reason]
        out.append(
            f"{hit.size:,} of {len(prem):,} premises unreachable, {reason} "
            f"({REASONS.get(reason, reason)}): {_ids(hit)}; "
            f"{_REASON_FIX.get(reason, 'see the premises layer')}"
        )
    over = _over_budget_ids(plan)
    if over.size:
        out.append(
            f"{over.size:,} connected premises over the optical budget: {_ids(over)}; "
            "see loss_fix in the premises layer"
        )
    return out + _headend_warnings(plan)


def _headend_warnings(plan: Plan) -> list[str]:
    """Warn of headends (several given) on a street island or serving no premises."""
    a, tg = plan.headends, plan.trench_graph
    if a is None or len(a.ids) < 2:
        return []
    from fibreplan.forest import island_roots

    reach = tg.premises_node >= 0
    served = np.bincount(a.premises[a.premises >= 0], minlength=len(a.ids))
    out = [
        f"headend {a.ids[i]} meets the streets on a piece of network not joined to the main "
        f"one ({nodes:,} nodes, {count:,} premises): the other premises go to other "
        "headends; move it onto the main street network"
        for i, nodes, count in island_roots(tg.csr(), tg.premises_node[reach], a.nodes)
    ]
    out += [
        f"headend {a.ids[i]} serves no premises (another headend reaches all of them for less)"
        for i in np.flatnonzero(served == 0).tolist()
    ]
    return out


def quality_text(report: dict[str, Any]) -> str:
    """Return the report as the lines ``fibreplan validate`` prints.

    Parameters
    ----------
    report : dict
        From :func:`input_quality`.

    Returns
    -------
    str
        A few lines: premises, unreachable by reason, streets and components,
        noding, CRS, tags defaulted, then any problem.
    """
    p, s, c = report["premises"], report["streets"], report["crs"]
    comp = s["components"]
    lines = [
        (f"premises      {p['total']:,} ({p['reachable']:,} reachable; "
         f"{sum(d['count'] for d in p['dropped']):,} left out, none merged)"),
        *(f"  left out    {d['count']:,} {d['reason']}" for d in p["dropped"]),
        *(f"  units       {v:,} {k}" for k, v in p["units_source"].items()),
        *(
            f"  unreachable {v['count']:,} {k}: {_ids(np.array(v['premises_ids']))} ({v['fix']})"
            for k, v in p["unreachable"].items()
        ),
        (f"streets       {s['lines']:,} lines, {s['length_km']:,.2f} km; "
         f"{comp['count']:,} connected parts (headend's: {comp['headend_component_m'] / 1000:,.2f}"
         " km)"),
        "  noding      " + (
            ", ".join(f"{k} {v}" for k, v in s["noding"].items())
            if s["noding"] else "none needed (split at OSM nodes or given as is)"
        ),
        *(f"  {tag:<11} missing on {v['lines']:,} lines: assumed {v['assumed']}"
          for tag, v in s["tags_defaulted"].items()),
        f"crs           plan {c['plan']} ({c['rule']})",
        *(f"  {k.split('_')[0]:<11} declared {v}" for k, v in c.items() if k.endswith("declared")),
        *(f"problem: {m}" for m in report["problems"]),
    ]  # fmt: skip
    return "\n".join(lines)


def validate(
    streets: str | Path | gpd.GeoDataFrame,
    premises: str | Path | gpd.GeoDataFrame,
    *,
    headend: tuple[float, float] | None = None,
    trench_rules: TrenchRules | None = None,
    id_column: str | None = None,
) -> tuple[dict[str, Any], str]:
    """Load the inputs, build their trench graph and report on them, without planning.

    Parameters
    ----------
    streets, premises : str, pathlib.Path or geopandas.GeoDataFrame
        As :func:`fibreplan.plan` takes them.
    headend : tuple of float, optional
        ``(lon, lat)`` of the headend (default chosen as when planning).
    trench_rules : TrenchRules, optional
        Trench rules (the drop limit decides what is reachable).
    id_column : str, optional
        Premises column holding the ID.

    Returns
    -------
    report : dict
        See :func:`input_quality`.
    text : str
        The report as printed (:func:`quality_text`).

    Raises
    ------
    InputValidationError
        If an input cannot be read at all (see the loaders).
    """
    from fibreplan.config import TrenchRules
    from fibreplan.load import load_inputs
    from fibreplan.trench import build_trench_graph

    rules = trench_rules or TrenchRules()
    check_input_sizes(streets, premises)
    gdf_streets, gdf_premises = load_inputs(streets, premises, id_column=id_column)
    check_headend(headend, gdf_streets, max_drop_m=rules.max_drop_m)
    tg = build_trench_graph(gdf_streets, gdf_premises, rules=rules, headend=headend)
    report = input_quality(gdf_streets, gdf_premises, tg, sources=(streets, premises))
    return report, quality_text(report)
