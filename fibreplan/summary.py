"""Outputs — a plan's headline figures: the ``summary.json`` contract.

:func:`plan_summary` reads a :class:`fibreplan.Plan`'s record once and returns
the dict written to ``summary.json`` (every key is listed in the README's
"Output contract"; later versions add keys and never rename or remove one).
"""

from __future__ import annotations

import hashlib
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version
from typing import TYPE_CHECKING
from typing import Any

import numpy as np
import pandas as pd
import pyproj

from fibreplan._crs import WGS84
from fibreplan.config import rules_toml
from fibreplan.layers import headend_lonlat

if TYPE_CHECKING:
    from fibreplan.plan import Plan

__all__ = ["buildings_total", "config_sha256", "plan_summary"]


def _version() -> str:
    try:
        return version("fibreplan")
    except PackageNotFoundError:  # pragma: no cover - source tree without install
        return "0.0.0+unknown"


def buildings_total(premises: pd.DataFrame) -> int:
    """Count buildings: premises sharing a ``building_id`` are one, any other premises is one.

    Parameters
    ----------
    premises : pandas.DataFrame
        Premises rows, optionally with ``building_id``.

    Returns
    -------
    int
        Number of buildings.
    """
    if "building_id" not in premises:
        return len(premises)
    ids = premises["building_id"]
    return int(ids.dropna().nunique() + ids.isna().sum())


def config_sha256(text: str) -> str:
    """Return the sha256 of a configuration's canonical TOML text (hex).

    Parameters
    ----------
    text : str
        E.g. ``CostBook.to_toml()`` or :func:`fibreplan.config.rules_toml`.

    Returns
    -------
    str
        64 hex digits: the same cost book or rules give the same digest.
    """
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _premises_figures(plan: Plan) -> dict[str, Any]:
    tg, prem = plan.trench_graph, plan.premises_input
    connected = tg.premises_node >= 0
    reason, count = np.unique(tg.premises_reason[~connected], return_counts=True)
    by_class = prem.loc[connected, "class"].value_counts().to_dict()
    passed = prem.loc[connected].groupby("class")["units"].sum().to_dict()
    estimated = (
        prem["units_source"].astype(str).str.startswith("estimate").to_numpy(dtype=bool)
        if "units_source" in prem
        else np.zeros(len(prem), dtype=bool)
    )
    return {
        "buildings_total": buildings_total(prem),
        "premises_passed_estimated": int(prem.loc[connected & estimated, "units"].sum()),
        "premises_passed_by_class": {str(k): int(v) for k, v in passed.items()},
        "premises_total": len(prem),
        "premises_connected": int(connected.sum()),
        "premises_unreachable": int((~connected).sum()),
        "unreachable_by_reason": dict(zip(reason.tolist(), count.tolist(), strict=True)),
        "units_connected": int(prem.loc[connected, "units"].sum()),
        "premises_by_class": {str(k): int(v) for k, v in by_class.items()},
    }


def _bid_figures(plan: Plan) -> dict[str, Any]:
    """Subsidy status counts, eligible premises passed, vouchers, subsidy gap and phases."""
    if plan.bid is not None:
        return plan.bid.summary(
            passed=plan.trench_graph.premises_node >= 0, build_gbp=plan.costing.build_gbp
        )
    return {
        "premises_white": 0,
        "premises_grey_black": 0,
        "premises_under_review": 0,
        "premises_status_unknown": len(plan.premises_input),
        "premises_eligible_passed": 0,
        "cost_per_eligible_premises_passed_gbp": None,
        "voucher_eligible": 0,
        "voucher_value_gbp": 0.0,
        "subsidy_gap_total_gbp": 0.0,
        "unjoined_uprns": 0,
        "frontier_reference": [],
        "phases": [],
    }


def _route_figures(plan: Plan) -> dict[str, Any]:
    tg, rows, q = plan.trench_graph, plan.tree_edge_rows, plan.quantities
    length = tg.edge_length_m[rows]
    surface = tg.edge_surface[rows]
    return {
        "trench_m": round(float(length.sum()), 2),
        "trench_m_dug": round(float(sum(q.dug_m_by_surface.values())), 2),
        "duct_m_reused": round(q.duct_reuse_m, 2),
        "aerial_m": round(q.aerial_m + q.aerial_new_pole_m, 2),
        "new_poles": q.new_poles,
        "road_crossings": q.road_crossings,
        "trench_m_by_surface": {
            str(s): round(float(length[surface == s].sum()), 2) for s in np.unique(surface)
        },
        "trench_m_by_area": {
            a: round(float(length[tg.edge_area[rows] == a].sum()), 2) for a in ("urban", "rural")
        },
        "drop_m": round(q.drop_m, 2),
    }


def _network_figures(plan: Plan) -> dict[str, Any]:
    d, cables = plan.design, plan.quantities.cable_m_by_size
    max_loss = float(d.premises_loss_db.max()) if d.premises_loss_db.size else None
    return {
        "dp_count": int(d.dp_node.size),
        "cabinet_count": int(d.cabinet_node.size),
        "chamber_count": int(d.chamber_kind.size),
        # the design's ports, or more when blocks of flats need them (the BoQ's quantity)
        "olt_ports": max(d.olt_ports, plan.quantities.olt_ports),
        "cable_m_by_size": {str(k): round(v, 2) for k, v in cables.items()},
        "max_loss_db": None if max_loss is None else round(max_loss, 3),
        "loss_violations": int(d.violations.size),
    }


def _optimiser_figures(plan: Plan) -> dict[str, Any]:
    t = plan.tree
    gap = (t.cost - t.lower_bound) / t.lower_bound * 100 if t.lower_bound > 0 else 0.0
    return {
        "method": t.method,
        "tree_cost_gbp": round(t.cost, 2),
        "lower_bound_gbp": round(t.lower_bound, 2),
        "gap_pct": round(gap, 4),
        "proven_optimal": bool(t.optimal),
        "time_limit_s": plan.time_limit_s,
        "time_limit_hit": bool(t.time_limit_hit),
        "seconds": round(t.seconds, 3),
    }


def _headend_figures(plan: Plan) -> list[dict[str, Any]]:
    """Per-headend figures: position, premises and units served, trench metres and route GBP."""
    a, tg, rows, d = plan.headends, plan.trench_graph, plan.tree_edge_rows, plan.design
    if a is None:
        return []
    to_wgs84 = pyproj.Transformer.from_crs(tg.crs, WGS84, always_xy=True)
    lon, lat = to_wgs84.transform(tg.node_xy[a.nodes, 0], tg.node_xy[a.nodes, 1])
    h = len(a.ids)
    units = plan.premises_input["units"].to_numpy()
    served = a.premises >= 0
    figures = {
        "premises_connected": np.bincount(a.premises[served], minlength=h),
        "units_connected": np.bincount(a.premises[served], weights=units[served], minlength=h),
        "trench_m": np.bincount(a.edge, weights=tg.edge_length_m[rows], minlength=h),
        "route_cost_gbp": np.bincount(a.edge, weights=tg.edge_cost_gbp[rows], minlength=h),
        "cabinet_count": np.bincount(a.cabinet, minlength=h),
        "dp_count": np.bincount(a.dp, minlength=h),
        "olt_ports": np.bincount(a.cabinet, weights=d.cabinet_splitters, minlength=h),
    }
    return [
        {
            "id": a.ids[i],
            "lon": round(float(np.atleast_1d(lon)[i]), 7),
            "lat": round(float(np.atleast_1d(lat)[i]), 7),
            "node": int(a.nodes[i]),
            **{
                k: (round(float(v[i]), 2) if k in {"trench_m", "route_cost_gbp"} else int(v[i]))
                for k, v in figures.items()
            },
        }
        for i in range(h)
    ]


def plan_summary(plan: Plan) -> dict[str, Any]:
    """Return a plan's headline figures (the ``summary.json`` contract).

    Parameters
    ----------
    plan : Plan
        The plan (see :func:`fibreplan.plan`).

    Returns
    -------
    dict
        Premises counts and reasons, trench and drop metres (m), network
        elements, optical loss (dB), costs (GBP), the CRS, the (first) headend,
        ``headends`` (one entry per headend: ``id``, ``lon``, ``lat``,
        ``node``, ``premises_connected``, ``units_connected``, ``trench_m``,
        ``route_cost_gbp`` (the routed trench's price: digging, duct, poles and
        crossings, GBP), ``cabinet_count``, ``dp_count``, ``olt_ports``), the
        optimiser's figures (``time_limit_s`` is None when the optimiser ran
        without a wall-clock cap; ``time_limit_hit`` says whether a cap cut it
        short), the inputs' sha256 and the seconds of each stage. See the
        README's "Output contract" for every key.
    """
    tg = plan.trench_graph
    lon, lat = headend_lonlat(plan)
    return {
        "fibreplan_version": _version(),
        **_premises_figures(plan),
        **_bid_figures(plan),
        **_route_figures(plan),
        **_network_figures(plan),
        **plan.costing.summary(),
        "price_base_year": plan.costs.price_base_year,
        "vat": "excluded",
        "cost_book_sha256": config_sha256(plan.costs.to_toml()),
        "design_rules_sha256": config_sha256(rules_toml(plan.trench_rules, plan.rules)),
        "crs": tg.crs.to_string(),
        "headend": {
            "lon": round(lon, 7),
            "lat": round(lat, 7),
            "how": tg.headend_how,
            "node": int(tg.headend_node),
        },
        "headends": _headend_figures(plan),
        "optimiser": _optimiser_figures(plan),
        "inputs": plan.inputs,
        "seconds": {k: round(v, 3) for k, v in plan.seconds.items()},
    }
