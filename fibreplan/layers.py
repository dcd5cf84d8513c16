"""Outputs — a plan's GeoDataFrame layers (the GeoPackage's tables and the map's layers).

:func:`plan_layers` turns the record of a :class:`fibreplan.Plan` into the
eight layers of the output contract (see the README's "Output contract"):
``premises``, ``trenches``, ``drops``, ``headend``, ``cables``, ``chambers``,
``dps`` and ``cabinets``, all in the plan's projected CRS (metres). Each
builder reads the plan's arrays in bulk (no per-row Python loops).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from collections.abc import Iterable
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import pyproj
import shapely

from fibreplan._crs import WGS84
from fibreplan._kinds import is_dug

if TYPE_CHECKING:
    from fibreplan.plan import Plan

__all__ = ["LAYER_NAMES", "headend_lonlat", "map_layers", "plan_layers", "premises_layer"]

logger = logging.getLogger(__name__)


def _nullable_ids(ids: npt.ArrayLike) -> pd.Series:
    """Return integer ids as a nullable ``Int64`` column, the ``-1`` "none" as NULL (``<NA>``)."""
    values = np.asarray(ids, dtype=np.int64)
    return pd.Series(pd.array(values, dtype="Int64")).mask(values < 0).array


def _headend_id(plan: Plan, part: str) -> pd.Series:
    """Return the id of the headend serving each row of ``part`` (NULL where none serves it).

    ``part`` names an array of :class:`fibreplan.forest.HeadendAssignment`
    (``edge``, ``premises``, ``dp``, ``cabinet``, ``chamber``); a plan without
    one has its single headend ``H1``.
    """
    a = plan.headends
    if a is None:
        n = {"edge": plan.tree_edge_rows.size, "premises": len(plan.premises_input),
             "dp": plan.design.dp_node.size, "cabinet": plan.design.cabinet_node.size,
             "chamber": plan.design.chamber_kind.size}[part]  # fmt: skip
        index = np.zeros(n, dtype=np.int64)
        if part == "premises":
            index = np.where(plan.trench_graph.premises_node >= 0, 0, -1)
        ids = np.array(["H1"], dtype=object)
    else:
        index, ids = getattr(a, part), np.array(a.ids, dtype=object)
    values = ids[np.maximum(index, 0)]
    values[index < 0] = None
    return pd.Series(values, dtype="string").array


def premises_layer(plan: Plan) -> gpd.GeoDataFrame:
    """Return the input premises with their status, reason, drop and design columns.

    Parameters
    ----------
    plan : Plan
        The plan.

    Returns
    -------
    geopandas.GeoDataFrame
        ``plan.premises_input`` plus ``status`` (connected/unreachable),
        ``reason``, ``drop_m`` (NaN if unreachable), ``crosses_road``,
        ``node``, ``dp_id`` and ``cabinet_id`` (nullable ``Int64``: NULL if
        unreachable), ``loss_db``
        (NaN if unreachable), ``loss_violation`` and ``loss_fix``; with a bid
        (``plan.bid``) also ``subsidy_status``, ``eligible``,
        ``voucher_eligible``, ``voucher_gbp``, ``subsidy_gap_gbp`` and
        ``phase`` (NULL if not passed), see :mod:`fibreplan.subsidy`.
    """
    tg, design = plan.trench_graph, plan.design
    reach = tg.premises_node >= 0
    out = plan.premises_input.copy()
    out["status"] = np.where(reach, "connected", "unreachable")
    out["reason"] = tg.premises_reason
    out["drop_m"] = np.where(reach, tg.premises_drop_m, np.nan)
    out["crosses_road"] = tg.premises_crosses_road
    out["node"] = _nullable_ids(tg.premises_node)
    for col, values in (("dp_id", design.premises_dp), ("cabinet_id", design.premises_cabinet)):
        full = np.full(len(out), -1, dtype=np.int64)
        full[reach] = values
        out[col] = _nullable_ids(full)
    loss = np.full(len(out), np.nan)
    loss[reach] = design.premises_loss_db
    out["loss_db"] = loss
    reached = np.flatnonzero(reach)
    violation = np.zeros(len(out), dtype=bool)
    violation[reached[design.violations]] = True
    out["loss_violation"] = violation
    fixes = np.full(len(out), "", dtype=object)
    fixes[reached[design.violations]] = list(design.violation_fixes)
    out["loss_fix"] = fixes
    out["headend_id"] = _headend_id(plan, "premises")
    if plan.bid is not None:
        b = plan.bid
        out["subsidy_status"] = b.facts.status
        out["eligible"] = b.eligible
        out["voucher_eligible"] = b.voucher_eligible
        out["voucher_gbp"] = b.voucher_gbp
        out["subsidy_gap_gbp"] = b.gap_gbp
        out["phase"] = _nullable_ids(np.where(b.premises_phase > 0, b.premises_phase, -1))
    return out


def _premises(plan: Plan) -> gpd.GeoDataFrame:
    """Return the premises layer (built once per plan, see :attr:`fibreplan.Plan.premises`)."""
    return plan.premises


def _trenches(plan: Plan) -> gpd.GeoDataFrame:
    """Return every dug, rented, aerial or crossing stretch of the route as a line."""
    tg, rows = plan.trench_graph, plan.tree_edge_rows
    street = tg.edge_street[rows]
    kind = tg.edge_kind[rows]
    return gpd.GeoDataFrame(
        {
            "edge_id": rows,
            "length_m": tg.edge_length_m[rows],
            "cost_gbp": tg.edge_cost_gbp[rows],
            "kind": kind,
            "dug": is_dug(kind),
            "surface": tg.edge_surface[rows],
            "area": tg.edge_area[rows],
            "new_poles": tg.edge_new_poles[rows],
            "side": tg.edge_side[rows],
            "street_name": plan.streets["name"].to_numpy()[street],
            "highway": plan.streets["highway"].to_numpy()[street],
            "headend_id": _headend_id(plan, "edge"),
            **({} if plan.bid is None else {"phase": plan.bid.edge_phase}),
        },
        geometry=tg.edge_geometry[rows],
        crs=tg.crs,
    )


def _drops(plan: Plan) -> gpd.GeoDataFrame:
    """Return a straight drop line from each connected premises to its street point."""
    tg = plan.trench_graph
    conn = tg.premises_node >= 0
    start = shapely.get_coordinates(plan.premises_input.geometry.to_numpy()[conn])
    end = tg.node_xy[tg.premises_node[conn]]
    n = int(conn.sum())
    coords = np.stack([start, end], axis=1).reshape(-1, 2)
    geom = shapely.linestrings(coords, indices=np.repeat(np.arange(n), 2)) if n else []
    length = tg.premises_drop_m[conn]
    return gpd.GeoDataFrame(
        {
            "premises_id": plan.premises_input["premises_id"].to_numpy()[conn],
            "length_m": length,
            "cost_gbp": length * plan.costs.drop_gbp_per_m,
            "crosses_road": tg.premises_crosses_road[conn],
        },
        geometry=geom,
        crs=tg.crs,
    )


def headend_lonlat(plan: Plan) -> tuple[float, float]:
    """Return the headend's position in WGS84 degrees.

    Parameters
    ----------
    plan : Plan
        The plan.

    Returns
    -------
    tuple of float
        ``(lon, lat)``, degrees (EPSG:4326).
    """
    tg = plan.trench_graph
    x, y = tg.node_xy[tg.headend_node]
    to_wgs84 = pyproj.Transformer.from_crs(tg.crs, WGS84, always_xy=True)
    lon, lat = to_wgs84.transform(float(x), float(y))
    return float(lon), float(lat)


def _headend(plan: Plan) -> gpd.GeoDataFrame:
    """Return the headend (OLT) points, one row per headend, with how they were chosen."""
    tg = plan.trench_graph
    a = plan.headends
    nodes = np.array([tg.headend_node]) if a is None else a.nodes
    ids = ("H1",) if a is None else a.ids
    to_wgs84 = pyproj.Transformer.from_crs(tg.crs, WGS84, always_xy=True)
    lon, lat = to_wgs84.transform(tg.node_xy[nodes, 0], tg.node_xy[nodes, 1])
    return gpd.GeoDataFrame(
        {
            "headend_id": pd.array(list(ids), dtype="string"),
            "how": [tg.headend_how] * nodes.size,
            "lon": np.asarray(lon, dtype=np.float64),
            "lat": np.asarray(lat, dtype=np.float64),
            "node": nodes,
        },
        geometry=shapely.points(tg.node_xy[nodes]),
        crs=tg.crs,
    )


def _cables(plan: Plan) -> gpd.GeoDataFrame:
    """Return the feeder and distribution cables on each tree edge (one row per edge and type)."""
    tg, d, rows = plan.trench_graph, plan.design, plan.tree_edge_rows
    parts = []
    for kind, used, spare, size, count in (
        ("feeder", d.edge_feeder_fibres, d.edge_feeder_spare,
         d.edge_feeder_cable_size, d.edge_feeder_cable_count),
        ("distribution", d.edge_distribution_fibres, d.edge_distribution_spare,
         d.edge_distribution_cable_size, d.edge_distribution_cable_count),
    ):  # fmt: skip
        has = used > 0
        parts.append(
            pd.DataFrame(
                {
                    "edge_id": rows[has],
                    "cable_type": kind,
                    "size": size[has],
                    "cable_count": count[has],
                    "fibres_used": used[has],
                    "fibres_spare": spare[has],
                    "length_m": tg.edge_length_m[rows[has]],
                    "headend_id": _headend_id(plan, "edge")[has],
                    "geometry": tg.edge_geometry[rows[has]],
                }
            )
        )
    df = pd.concat(parts, ignore_index=True)
    return gpd.GeoDataFrame(df, geometry="geometry", crs=tg.crs)


def _chambers(plan: Plan) -> gpd.GeoDataFrame:
    """Return the chambers / joint boxes: at the headend, cabinets, DPs, branches, spacing."""
    tg, d, rows = plan.trench_graph, plan.design, plan.tree_edge_rows
    xy = np.zeros((d.chamber_kind.size, 2))
    at_node = d.chamber_node >= 0
    xy[at_node] = tg.node_xy[d.chamber_node[at_node]]
    mid = ~at_node
    if mid.any():
        e = d.chamber_edge[mid]
        geom = tg.edge_geometry[rows[e]]
        frac = d.chamber_offset_m[mid] / np.maximum(d.edge_length_m[e], 1e-9)
        from_u = d.edge_parent[e] == tg.edge_u[rows[e]]
        frac = np.clip(np.where(from_u, frac, 1 - frac), 0, 1)
        xy[mid] = shapely.get_coordinates(
            shapely.line_interpolate_point(geom, frac, normalized=True)
        )
    edge_id = np.where(mid, rows[np.maximum(d.chamber_edge, 0)] if rows.size else -1, -1)
    return gpd.GeoDataFrame(
        {
            "chamber_id": np.arange(d.chamber_kind.size),
            "kind": d.chamber_kind,
            "node": _nullable_ids(d.chamber_node),
            "edge_id": _nullable_ids(edge_id),
            "headend_id": _headend_id(plan, "chamber"),
        },
        geometry=shapely.points(xy) if xy.size else [],
        crs=tg.crs,
    )


def _dps(plan: Plan) -> gpd.GeoDataFrame:
    """Return the distribution points (secondary splitters)."""
    tg, d = plan.trench_graph, plan.design
    return gpd.GeoDataFrame(
        {
            "dp_id": np.arange(d.dp_node.size),
            "premises_count": d.dp_premises_count,
            "splitters": d.dp_splitters,
            "cabinet_id": d.dp_cabinet,
            "node": d.dp_node,
            "headend_id": _headend_id(plan, "dp"),
        },
        geometry=shapely.points(tg.node_xy[d.dp_node]) if d.dp_node.size else [],
        crs=tg.crs,
    )


def _cabinets(plan: Plan) -> gpd.GeoDataFrame:
    """Return the street cabinets (primary splitters / fibre distribution hubs)."""
    tg, d = plan.trench_graph, plan.design
    return gpd.GeoDataFrame(
        {
            "cabinet_id": np.arange(d.cabinet_node.size),
            "premises_count": d.cabinet_premises_count,
            "splitters": d.cabinet_splitters,
            "dp_count": np.bincount(d.dp_cabinet, minlength=d.cabinet_node.size),
            "node": d.cabinet_node,
            "headend_id": _headend_id(plan, "cabinet"),
        },
        geometry=shapely.points(tg.node_xy[d.cabinet_node]) if d.cabinet_node.size else [],
        crs=tg.crs,
    )


_BUILDERS: dict[str, Callable[[Plan], gpd.GeoDataFrame]] = {
    "premises": _premises,
    "trenches": _trenches,
    "drops": _drops,
    "headend": _headend,
    "cables": _cables,
    "chambers": _chambers,
    "dps": _dps,
    "cabinets": _cabinets,
}

#: The layers of a plan, in GeoPackage order (an output contract).
LAYER_NAMES: tuple[str, ...] = tuple(_BUILDERS)


def plan_layers(plan: Plan, *, names: Iterable[str] | None = None) -> dict[str, gpd.GeoDataFrame]:
    """Return a plan's GeoDataFrame layers (the GeoPackage's tables).

    Parameters
    ----------
    plan : Plan
        The plan (see :func:`fibreplan.plan`).
    names : iterable of str, optional
        Layers to build, from :data:`LAYER_NAMES`; default all of them.

    Returns
    -------
    dict of str to geopandas.GeoDataFrame
        In the plan's CRS:

        - ``premises`` (points): ``premises_id``, ``class``, ``units``,
          ``status`` (connected/unreachable), ``reason``, ``drop_m``,
          ``crosses_road``, ``node``, ``dp_id``, ``cabinet_id``, ``loss_db``,
          ``loss_violation``, ``loss_fix``, ``headend_id`` (NULL if
          unreachable) and the input's own columns;
        - ``trenches`` (lines): ``edge_id``, ``length_m``, ``cost_gbp``,
          ``kind`` (``dig``, ``duct_reuse``, ``aerial``, ``crossing``),
          ``dug`` (bool), ``surface``, ``side``, ``street_name``, ``highway``,
          ``headend_id``;
        - ``drops`` (lines): ``premises_id``, ``length_m``, ``cost_gbp``,
          ``crosses_road``;
        - ``headend`` (one point per headend): ``headend_id``, ``how``,
          ``lon``, ``lat``, ``node``;
        - ``cables`` (lines): ``edge_id``, ``cable_type`` (feeder,
          distribution), ``size`` (fibres per cable), ``cable_count``,
          ``fibres_used``, ``fibres_spare``, ``length_m``, ``headend_id``;
        - ``chambers`` (points): ``chamber_id``, ``kind`` (headend, cabinet,
          dp, branch, spacing), ``node`` (NULL for a chamber along an edge),
          ``edge_id`` (NULL for a chamber at a node), ``headend_id``;
        - ``dps`` (points): ``dp_id``, ``premises_count``, ``splitters``,
          ``cabinet_id``, ``node``, ``headend_id``;
        - ``cabinets`` (points): ``cabinet_id``, ``premises_count``,
          ``splitters`` (primary), ``dp_count``, ``node``, ``headend_id``.

    Raises
    ------
    KeyError
        If a name in ``names`` is not a layer.
    """
    wanted = LAYER_NAMES if names is None else tuple(names)
    unknown = sorted(set(wanted) - set(LAYER_NAMES))
    if unknown:
        msg = f"names: unknown layers {unknown}; choose from {list(LAYER_NAMES)}."
        raise KeyError(msg)
    return {name: _BUILDERS[name](plan) for name in wanted}


def street_layer(plan: Plan) -> gpd.GeoDataFrame:
    """Return every input street (dug or not) with its name and highway class.

    Parameters
    ----------
    plan : Plan
        The plan.

    Returns
    -------
    geopandas.GeoDataFrame
        Lines in the plan's CRS: ``street_name``, ``highway``, ``length_m``.
    """
    streets = plan.streets
    names = streets["name"] if "name" in streets.columns else pd.Series("", index=streets.index)
    return gpd.GeoDataFrame(
        {
            "street_name": names.to_numpy(),
            "highway": streets["highway"].to_numpy(),
            "length_m": streets.geometry.length.to_numpy(),
        },
        geometry=streets.geometry.to_numpy(),
        crs=streets.crs,
    )


def map_layers(
    plan: Plan, *, layers: dict[str, gpd.GeoDataFrame] | None = None
) -> dict[str, gpd.GeoDataFrame]:
    """Return the layers the map draws: the plan's layers plus all streets as a base.

    Parameters
    ----------
    plan : Plan
        The plan.
    layers : dict of str to geopandas.GeoDataFrame, optional
        The plan's layers if already built (:func:`plan_layers`); built here otherwise.

    Returns
    -------
    dict of str to geopandas.GeoDataFrame
        ``layers``, with each premises' ``cost_share_gbp`` (its share of the
        plan's cost, :func:`fibreplan.bid.premises_costs`) added to ``premises``,
        and ``streets`` (:func:`street_layer`: every input street, so that a map
        without basemap tiles still shows where the plan is).
    """
    from fibreplan.bid import premises_costs

    built = dict(plan_layers(plan) if layers is None else layers)
    if "premises" in built:
        shares = premises_costs(plan)["cost_share_gbp"].to_numpy()
        built["premises"] = built["premises"].assign(cost_share_gbp=shares)
    return {**built, "streets": street_layer(plan)}
