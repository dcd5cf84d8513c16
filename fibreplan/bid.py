"""Outputs — the bid files: ``boq.csv``, ``bid.xlsx``, ``costs.png`` and ``quantities.json``.

Everything a bid assessor audits, built from a :class:`fibreplan.Plan`'s
costing (:mod:`fibreplan.cost`):

- :func:`boq_table`: the bill of quantities, one row per item, with its
  stage, unit cost low / likely / high, cost, source and assumption flag;
- :func:`premises_costs`: each premises' share of the build (passed) and of
  the connections, so the shares add up to the totals;
- :func:`boq_by_cabinet`: the same by cabinet area;
- :func:`assumptions_table`: every unit cost, design and trench rule and
  option used, with its source;
- :func:`write_boq_csv`, :func:`write_bid_xlsx` (sheets ``Summary``,
  ``BoQ``, ``BoQ by cabinet``, ``Premises``, ``Assumptions``; GBP formats,
  frozen headers, totals equal to ``summary.json`` to the penny),
  :func:`write_costs_png` (cost by item with the P10-P90 whisker) and
  :func:`write_quantities` (what ``fibreplan cost`` re-costs).
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import json
import logging
import math
from collections.abc import Iterator
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp
from scipy.sparse import csgraph

from fibreplan._errors import FibreplanError
from fibreplan._errors import InputValidationError
from fibreplan.config import CostBook
from fibreplan.config import DesignRules
from fibreplan.config import TrenchRules
from fibreplan.cost import Quantities
from fibreplan.cost import cost_plan

if TYPE_CHECKING:
    from fibreplan.cost import Costing
    from fibreplan.plan import Plan

__all__ = [
    "assumptions_table",
    "boq_by_cabinet",
    "boq_table",
    "config_tables",
    "premises_costs",
    "recost",
    "write_bid_files",
    "write_bid_xlsx",
    "write_boq_csv",
    "write_config_tables",
    "write_costs_png",
    "write_quantities",
]

logger = logging.getLogger(__name__)

#: Excel number formats: GBP shown to the pound (cells hold pence), counts, fractions.
_GBP = '"£"#,##0'
_GBP_P = '"£"#,##0.00'
_NUM = "#,##0.##"


def boq_table(costing: Costing) -> pd.DataFrame:
    """Return the bill of quantities (costs to the penny), one row per item.

    Parameters
    ----------
    costing : Costing
        A plan's costing (``plan.costing``).

    Returns
    -------
    pandas.DataFrame
        The columns of :attr:`fibreplan.cost.Costing.boq`; ``cost_gbp`` sums
        to ``cost_total_gbp`` to the penny.
    """
    boq = costing.boq.copy()
    for col in ("cost_low_gbp", "cost_gbp", "cost_high_gbp"):
        boq[col] = boq[col].round(2)
    return boq


def _tree_route_share(plan: Plan) -> npt.NDArray[np.float64]:
    """Return each premises' share of the routed tree (GBP): edge prices split downstream.

    Each edge's price is split equally over the units downstream of it.

    Returns an array aligned with the premises rows (0 for unreachable
    premises); it sums to the tree's price when every leaf holds premises.
    """
    tg, rows = plan.trench_graph, plan.tree_edge_rows
    n = tg.node_xy.shape[0]
    reach = tg.premises_node >= 0
    units = plan.premises_input["units"].to_numpy(dtype=np.float64)
    share = np.zeros(units.size)
    if rows.size == 0:
        return share
    u, v, cost = tg.edge_u[rows], tg.edge_v[rows], tg.edge_cost_gbp[rows]
    A = sp.csr_array((np.ones(rows.size), (u, v)), shape=(n, n))
    depth, pred = csgraph.shortest_path(
        A, directed=False, indices=tg.headend_node, unweighted=True, return_predecessors=True
    )
    child = np.where(pred[v] == u, v, u)
    edge_cost = np.zeros(n)
    np.add.at(edge_cost, child, cost)
    sub = np.bincount(tg.premises_node[reach], weights=units[reach], minlength=n)
    finite = np.isfinite(depth)
    levels = depth[finite].astype(np.int64)
    nodes = np.flatnonzero(finite)
    for d in range(int(levels.max()), 0, -1):  # leaves up: units downstream of each node
        at = nodes[levels == d]
        np.add.at(sub, pred[at], sub[at])
    per_unit = np.divide(edge_cost, sub, out=np.zeros(n), where=sub > 0)
    cum = np.zeros(n)
    for d in range(1, int(levels.max()) + 1):  # root down: price per unit along the path
        at = nodes[levels == d]
        cum[at] = cum[pred[at]] + per_unit[at]
    share[reach] = cum[tg.premises_node[reach]] * units[reach]
    return share


def _connection_weight(plan: Plan) -> npt.NDArray[np.float64]:
    """Each premises' own connection cost at the likely unit costs (before take-up)."""
    c, prem = plan.costs, plan.premises_input
    tg = plan.trench_graph
    reach = tg.premises_node >= 0
    units = prem["units"].to_numpy(dtype=np.float64)
    drop = np.nan_to_num(tg.premises_drop_m)
    cable = np.zeros(units.size)
    cable[reach] = plan.design.premises_drop_cable_m
    multi = units > 1
    w = (
        c.drop_gbp_per_premises + c.splice_gbp + cable * c.drop_gbp_per_m
        + drop * c.lead_in_gbp_per_m + units * c.connection_gbp_per_premises
        + np.where(multi, units, 0) * c.in_building_gbp_per_unit
    )  # fmt: skip
    return np.where(reach, w, 0.0)


def _allocate(total: float, weight: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Split ``total`` (GBP) in proportion to ``weight`` in whole pence that add up to it.

    Largest remainders: each share is rounded down to the penny and the pence
    left over go to the largest fractions (ties to the first), so the shares
    sum to ``total`` exactly (nothing if every weight is 0).
    """
    s = float(weight.sum())
    if s <= 0:
        return np.zeros(weight.size)
    pence = round(total * 100)
    exact = pence * weight / s
    floor = np.floor(exact)
    left = int(pence - floor.sum())
    order = np.argsort(-(exact - floor), kind="stable")
    floor[order[:left]] += 1
    return floor / 100


def premises_costs(plan: Plan) -> pd.DataFrame:
    """Return each premises' share of the plan's cost: passed (build) and connected.

    Parameters
    ----------
    plan : Plan
        The plan.

    Returns
    -------
    pandas.DataFrame
        One row per premises: ``premises_id``, ``building_id``, ``class``,
        ``units``, ``status``, ``dp_id``, ``cabinet_id``, ``build_share_gbp``
        (its share of the build, in pence: sums to ``cost_build_gbp`` exactly),
        ``connection_gbp`` (its expected connection cost at the take-up: sums
        to ``cost_connection_gbp``), ``cost_share_gbp`` (the two: sums to
        ``cost_total_gbp`` to the penny), ``cost_share_passed_gbp`` (build share per unit)
        and ``cost_share_connected_gbp`` (cost share per unit connected, i.e.
        divided by the take-up).

    Notes
    -----
    Route items (civils and cabling) are split over the premises by each
    tree edge's routed price divided equally among the units downstream of
    it (a premises pays its part of every edge on its path to the headend);
    equipment and overheads of the build are split equally per unit passed;
    connection items in proportion to each premises' own connection at the
    likely unit costs (drop, drop cable, lead-in, in-building wiring, ONT).
    """
    costing, prem = plan.costing, plan.premises
    boq = costing.boq
    build = boq["stage"] == "build"
    route = build & boq["category"].isin(["civils", "cabling"])
    units = prem["units"].to_numpy(dtype=np.float64)
    passed = np.where(prem["status"].to_numpy() == "connected", units, 0.0)
    route_w = _tree_route_share(plan)
    if route_w.sum() <= 0:
        route_w = passed
    build_share = (
        _allocate(float(boq.loc[route, "cost_gbp"].sum()), route_w) * 100
        + _allocate(float(boq.loc[build & ~route, "cost_gbp"].sum()), passed) * 100
    ).round() / 100
    conn = _allocate(float(boq.loc[~build, "cost_gbp"].sum()), _connection_weight(plan))
    t = costing.take_up
    per_unit = np.divide(build_share, units, out=np.zeros(units.size), where=passed > 0)
    return pd.DataFrame(
        {
            "premises_id": prem["premises_id"].to_numpy(),
            "building_id": (
                prem["building_id"] if "building_id" in prem else prem["premises_id"]
            ).to_numpy(),
            "class": prem["class"].to_numpy(),
            "units": units.astype(np.int64),
            "status": prem["status"].to_numpy(),
            "reason": prem["reason"].to_numpy(),
            "dp_id": prem["dp_id"].to_numpy(),
            "cabinet_id": prem["cabinet_id"].to_numpy(),
            "build_share_gbp": build_share,
            "connection_gbp": conn,
            "cost_share_gbp": ((build_share + conn) * 100).round() / 100,
            "cost_share_passed_gbp": per_unit,
            "cost_share_connected_gbp": np.divide(
                build_share + conn, t * units, out=np.zeros(units.size), where=passed > 0
            ),
        }
    )


def boq_by_cabinet(plan: Plan, premises: pd.DataFrame | None = None) -> pd.DataFrame:
    """Return the cost by cabinet area: premises passed, build, connections, total, per premises.

    Parameters
    ----------
    plan : Plan
        The plan.
    premises : pandas.DataFrame, optional
        :func:`premises_costs` of the plan (computed if not given).

    Returns
    -------
    pandas.DataFrame
        One row per cabinet (``cabinet_id``): ``premises_passed`` (units),
        ``build_gbp``, ``connection_gbp``, ``total_gbp``,
        ``per_premises_passed_gbp``; the totals add up to the plan's.
    """
    p = premises_costs(plan) if premises is None else premises
    p = p[p["status"] == "connected"]
    g = p.groupby("cabinet_id", sort=True).agg(
        premises_passed=("units", "sum"),
        build_gbp=("build_share_gbp", "sum"),
        connection_gbp=("connection_gbp", "sum"),
    )
    g["total_gbp"] = g["build_gbp"] + g["connection_gbp"]
    g["per_premises_passed_gbp"] = g["build_gbp"] / g["premises_passed"]
    return g.reset_index()


def config_tables(
    costs: CostBook, trench_rules: TrenchRules, rules: DesignRules
) -> dict[str, pd.DataFrame]:
    """Return the cost book and the design rules as tables (for ``plan.gpkg`` and ``bid.xlsx``).

    Parameters
    ----------
    costs : CostBook
        Unit costs used.
    trench_rules : TrenchRules
        Trench rules used.
    rules : DesignRules
        Design rules used.

    Returns
    -------
    dict of str to pandas.DataFrame
        ``cost_book``: ``key``, ``unit``, ``low``, ``likely``, ``high``,
        ``source``, ``assumption`` (one row per item or table entry; plain
        settings have their value as ``likely``); ``design_rules``:
        ``table`` (trench / design), ``key``, ``value`` (as TOML text),
        ``unit``, ``source``.
    """
    est = costs.estimates()
    book = [
        {"key": k, "unit": costs.unit_of(k), "low": e.low, "likely": float(e), "high": e.high,
         "source": e.source, "assumption": e.assumption}
        for k, e in est.items()
    ]  # fmt: skip
    for f in dataclasses.fields(costs):
        rule = f.metadata["rule"]
        if not rule.ranged:
            v = float(getattr(costs, f.name))
            flag = "assumption" in rule.source
            book.append({"key": f.name, "unit": rule.unit, "low": v, "likely": v, "high": v,
                         "source": rule.source, "assumption": flag})  # fmt: skip
    design = [
        {"table": obj._SECTION, "key": f.name,  # noqa: SLF001 - the config's own table name
         "value": json.dumps(obj.to_dict()[f.name]), "unit": f.metadata["rule"].unit,
         "source": f.metadata["rule"].source}
        for obj in (trench_rules, rules)
        for f in dataclasses.fields(obj)
    ]  # fmt: skip
    return {"cost_book": pd.DataFrame(book), "design_rules": pd.DataFrame(design)}


def assumptions_table(plan: Plan) -> pd.DataFrame:
    """Return every unit cost, design rule and option used, with its source.

    Parameters
    ----------
    plan : Plan
        The plan.

    Returns
    -------
    pandas.DataFrame
        ``what`` (cost / trench / design / option), ``key``, ``value``
        (likely value, or the rule's value), ``low``, ``high``, ``unit``,
        ``source``, ``assumption``.
    """
    t = config_tables(plan.costs, plan.trench_rules, plan.rules)
    book = t["cost_book"].rename(columns={"likely": "value"}).assign(what="cost")
    rules = t["design_rules"].rename(columns={"table": "what"})
    s, u = plan.summary, plan.costing.uncertainty
    options = pd.DataFrame(
        [
            ("optimiser method", s["optimiser"]["method"], "", "the --method option"),
            ("optimiser time limit", str(s["optimiser"]["time_limit_s"]), "s", "--time-limit"),
            (
                "headend",
                f"{s['headend']['lon']}, {s['headend']['lat']}",
                "lon, lat",
                s["headend"]["how"],
            ),
            ("uncertainty", u.get("method", ""), "", "fibreplan.cost.cost_plan"),
            ("Monte Carlo samples", str(u.get("samples", "")), "samples", "cost_plan"),
            ("Monte Carlo seed", str(u.get("seed", "")), "", "cost_plan"),
            (
                "applied optimism bias",
                f"{plan.costing.optimism_bias:.4f}",
                "fraction",
                "optimism_bias_high - mitigation x (high - low), HM Treasury Green Book",
            ),
            ("VAT", "excluded", "", "every figure excludes VAT"),
            ("cost book sha256", s["cost_book_sha256"], "", "summary.json"),
            ("design rules sha256", s["design_rules_sha256"], "", "summary.json"),
        ]
        + [(f"input {i['name']}", i["sha256"], "sha256", "input file") for i in plan.inputs],
        columns=["key", "value", "unit", "source"],
    ).assign(what="option")
    cols = ["what", "key", "value", "low", "high", "unit", "source", "assumption"]
    return pd.concat([book, rules, options], ignore_index=True).reindex(columns=cols)


def _summary_rows(s: Mapping[str, Any]) -> list[tuple[str, Any, str]]:
    """Label, value and format of each figure of the Summary sheet (values from summary.json)."""
    pct = s["cost_percentiles_gbp"]
    rows: list[tuple[str, Any, str]] = [
        ("Base cost (every unit cost at its likely value)", s["cost_base_gbp"], _GBP_P),
        ("  of which build (network up to the DP)", s["cost_build_gbp"], _GBP_P),
        (f"  of which connections (at {s['take_up']:.0%} take-up)", s["cost_connection_gbp"],
         _GBP_P),
        ("P10 of the total (Monte Carlo)", s["cost_p10_gbp"], _GBP_P),
        ("P50 of the total (Monte Carlo)", s["cost_p50_gbp"], _GBP_P),
        ("P90 of the total (Monte Carlo)", s["cost_p90_gbp"], _GBP_P),
        (f"Base + optimism bias ({s['optimism_bias']:.0%}, Green Book)",
         s["cost_optimism_bias_gbp"], _GBP_P),
        ("Every unit cost at its low end", s["cost_low_gbp"], _GBP_P),
        ("Every unit cost at its high end", s["cost_high_gbp"], _GBP_P),
        ("Cost per premises passed (build / premises passed)",
         s["cost_per_premises_passed_gbp"], _GBP_P),
        ("  P10 / P50 / P90 per premises passed",
         " / ".join(f"£{pct['per_premises_passed'][k] or 0:,.0f}" for k in ("p10", "p50", "p90")),
         "@"),
        ("Cost per premises connected ((build + connections) / connected)",
         s["cost_per_premises_connected_gbp"], _GBP_P),
        ("  P10 / P50 / P90 per premises connected",
         " / ".join(f"£{pct['per_premises_connected'][k] or 0:,.0f}"
                    for k in ("p10", "p50", "p90")), "@"),
        ("Take-up", s["take_up"], "0%"),
        ("Premises (rows) total", s["premises_total"], _NUM),
        ("Premises passed (addresses)", s["premises_passed"], _NUM),
        ("Premises connected at the take-up", s["premises_connected_at_take_up"], _NUM),
        ("Buildings", s["buildings_total"], _NUM),
        ("Premises unreachable", s["premises_unreachable"], _NUM),
        ("Trench (m)", s["trench_m"], _NUM),
        ("Trench dug (m)", s["trench_m_dug"], _NUM),
        ("Duct reused (m)", s["duct_m_reused"], _NUM),
        ("Trench in urban areas (m)", s.get("trench_m_by_area", {}).get("urban", 0.0), _NUM),
        ("Trench in rural areas (m)", s.get("trench_m_by_area", {}).get("rural", 0.0), _NUM),
        ("Aerial cable (m)", s["aerial_m"], _NUM),
        ("New poles", s.get("new_poles", 0), _NUM),
        ("Price base year (VAT excluded)", s["price_base_year"], "0"),
        ("Cost book sha256", s["cost_book_sha256"], "@"),
        ("Design rules sha256", s["design_rules_sha256"], "@"),
    ]  # fmt: skip
    rows += [(f"Premises passed, {k}", v, _NUM) for k, v in s["premises_passed_by_class"].items()]
    return rows


class _Book:
    """An XlsxWriter workbook with one cell format per number format (and bold variants)."""

    def __init__(self, path: Path) -> None:
        import xlsxwriter

        # strings stay strings: no formulas, hyperlinks or numbers made of text (as read back)
        self.wb = xlsxwriter.Workbook(
            str(path), {"strings_to_formulas": False, "strings_to_urls": False}
        )
        self._formats: dict[tuple[str | None, bool], Any] = {}

    def format(self, num_format: str | None = None, *, bold: bool = False) -> Any:
        """Return the (shared) cell format of a number format, bold or not (None: General)."""
        key = (num_format, bold)
        if key not in self._formats:
            props: dict[str, Any] = {"bold": True} if bold else {}
            if num_format is not None:
                props["num_format"] = num_format
            self._formats[key] = self.wb.add_format(props) if props else None
        return self._formats[key]

    def sheet(self, title: str, df: pd.DataFrame, formats: Mapping[str, str]) -> Any:
        """Add a sheet with a bold frozen header, an autofilter and column formats."""
        ws = self.wb.add_worksheet(title)
        ws.write_row(0, 0, [str(c) for c in df.columns], self.format(bold=True))
        for j, col in enumerate(df.columns):
            fmt = self.format(formats.get(str(col)))
            _check_written(ws.write_column(1, j, _values(df[col]), fmt), title, len(df))
            ws.set_column(j, j, 60 if col == "source" else max(12, len(str(col)) + 2))
        ws.freeze_panes(1, 0)
        ws.autofilter(0, 0, len(df), len(df.columns) - 1)
        return ws


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for a block (reference counting still frees).

    XlsxWriter keeps a tuple per cell until the workbook is closed; the collector tracks
    each, so the 262k cells of a 20k-premises workbook set off three full collections of
    the whole process (0.6 s) that could free nothing.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _values(col: pd.Series) -> list[Any]:
    """Return a column's cells as Python values: NaN, NA and None are empty cells."""
    values = col.tolist()
    if col.dtype.kind in "iub":  # numpy ints and booleans: never missing
        return values
    return [_cell(v) for v in values]


def _cell(v: Any) -> Any:
    if isinstance(v, np.generic):
        v = v.item()
    if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
        return None
    return v


def _check_written(code: int, title: str, rows: int) -> None:
    """Raise unless XlsxWriter wrote the whole column (it returns -1 past Excel's last row)."""
    if code == -1:
        msg = (
            f"bid.xlsx: sheet '{title}' needs {rows + 1:,} rows, more than Excel's 1,048,576; "
            "plan the area in parts (--areas)."
        )
        raise FibreplanError(msg)


def write_bid_xlsx(plan: Plan, path: str | Path, *, overwrite: bool = False) -> Path:
    """Write ``bid.xlsx``: Summary, BoQ, BoQ by cabinet, Premises and Assumptions sheets.

    Parameters
    ----------
    plan : Plan
        The plan.
    path : str or pathlib.Path
        File to create.
    overwrite : bool, default False
        Whether an existing file may be replaced.

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    InputValidationError
        If the file exists and ``overwrite`` is false.
    FibreplanError
        If a sheet would have more rows than Excel allows (1,048,576).

    Notes
    -----
    Cells hold GBP to the penny and display them to the pound; the BoQ's
    total row and the Summary's figures equal ``summary.json``. Written with
    XlsxWriter (about 3x faster than openpyxl on a 20k-premises plan); text
    is always written as text, never as a formula or a hyperlink.
    """
    path = _writable(path, overwrite=overwrite)
    with _collector_paused():
        _fill_workbook(_Book(path), plan)
    logger.info("wrote %s", path)
    return path


def _fill_workbook(book: _Book, plan: Plan) -> None:
    """Write the five sheets of ``bid.xlsx`` and close the workbook."""
    s = plan.summary
    ws = book.wb.add_worksheet("Summary")
    ws.write_row(0, 0, ["figure", "value"])
    for i, (label, value, fmt) in enumerate(_summary_rows(s), start=1):
        ws.write_string(i, 0, label)
        ws.write(i, 1, _cell(value), book.format(fmt))
    ws.freeze_panes(1, 0)
    ws.set_column(0, 0, 66)
    ws.set_column(1, 1, 24)
    money = dict.fromkeys(("unit_cost_low_gbp", "unit_cost_gbp", "unit_cost_high_gbp"), _GBP_P)
    money.update(dict.fromkeys(("cost_low_gbp", "cost_gbp", "cost_high_gbp"), _GBP))
    boq = boq_table(plan.costing)
    bs = book.sheet("BoQ", boq, {**money, "quantity": _NUM})
    total = dict.fromkeys(boq.columns)
    total.update(item="TOTAL", cost_low_gbp=s["cost_low_gbp"], cost_gbp=s["cost_total_gbp"],
                 cost_high_gbp=s["cost_high_gbp"])  # fmt: skip
    bs.write_row(len(boq) + 1, 0, list(total.values()), book.format(_GBP, bold=True))
    prem = premises_costs(plan)
    book.sheet("BoQ by cabinet", boq_by_cabinet(plan, prem),
               dict.fromkeys(("build_gbp", "connection_gbp", "total_gbp",
                              "per_premises_passed_gbp"), _GBP))  # fmt: skip
    book.sheet("Premises", prem, {c: _GBP_P for c in prem.columns if c.endswith("_gbp")})
    book.sheet("Assumptions", assumptions_table(plan), {"low": _NUM, "high": _NUM})
    book.wb.close()


def write_boq_csv(plan: Plan, path: str | Path, *, overwrite: bool = False) -> Path:
    """Write ``boq.csv``: the bill of quantities with sources (``cost_gbp`` sums to the total).

    Parameters
    ----------
    plan : Plan
        The plan.
    path : str or pathlib.Path
        File to create.
    overwrite : bool, default False
        Whether an existing file may be replaced.

    Returns
    -------
    pathlib.Path
        The file written.
    """
    path = _writable(path, overwrite=overwrite)
    boq_table(plan.costing).to_csv(path, index=False)
    return path


def write_costs_png(plan: Plan, path: str | Path, *, overwrite: bool = False) -> Path:
    """Write ``costs.png``: base cost by item (bars) and the total with its P10-P90 whisker.

    Parameters
    ----------
    plan : Plan
        The plan.
    path : str or pathlib.Path
        File to create.
    overwrite : bool, default False
        Whether an existing file may be replaced.

    Returns
    -------
    pathlib.Path
        The file written.
    """
    from matplotlib.figure import Figure  # no pyplot: no global state, the caller's backend stays

    path = _writable(path, overwrite=overwrite)
    s, boq = plan.summary, plan.costing.boq
    by_item = boq.groupby("item", sort=False)["cost_gbp"].sum().sort_values()
    fig = Figure(figsize=(13, max(4.0, 0.28 * len(by_item) + 1.5)))
    ax, ax2 = fig.subplots(1, 2, gridspec_kw={"width_ratios": [3, 1]})
    colours = ["#c0504d" if st == "connection" else "#4f81bd" for st in
               boq.groupby("item", sort=False)["stage"].first()[by_item.index]]  # fmt: skip
    ax.barh(by_item.index, by_item.to_numpy() / 1000, color=colours)
    ax.set_xlabel("base cost, GBP thousand (blue: build, red: connections at the take-up)")
    ax.tick_params(axis="y", labelsize=7)
    base, p10, p50, p90 = (s[k] for k in ("cost_base_gbp", "cost_p10_gbp", "cost_p50_gbp",
                                          "cost_p90_gbp"))  # fmt: skip
    ax2.bar([0], [base / 1000], color="#4f81bd", label="base (likely)")
    ax2.errorbar([0.3], [p50 / 1000], yerr=[[(p50 - p10) / 1000], [(p90 - p50) / 1000]],
                 fmt="o", color="k", capsize=6, label="P50, P10-P90")  # fmt: skip
    ax2.plot([0.6], [s["cost_optimism_bias_gbp"] / 1000], "D", color="#f79646",
             label="base + optimism bias")  # fmt: skip
    ax2.set_xticks([])
    ax2.set_xlim(-0.6, 0.9)
    ax2.set_ylabel("total, GBP thousand")
    ax2.set_ylim(0, max(p90, s["cost_optimism_bias_gbp"]) / 1000 * 1.1)
    ax2.legend(fontsize=7, loc="lower right")
    fig.suptitle(
        f"£{base:,.0f} base; £{s['cost_per_premises_passed_gbp'] or 0:,.0f} per premises passed, "
        f"£{s['cost_per_premises_connected_gbp'] or 0:,.0f} per premises connected "
        f"({s['take_up']:.0%} take-up)", fontsize=10,
    )  # fmt: skip
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return path


def write_quantities(plan: Plan, path: str | Path, *, overwrite: bool = False) -> Path:
    """Write ``quantities.json``: the plan's quantities and cost book, to re-cost it later.

    Parameters
    ----------
    plan : Plan
        The plan.
    path : str or pathlib.Path
        File to create.
    overwrite : bool, default False
        Whether an existing file may be replaced.

    Returns
    -------
    pathlib.Path
        The file written (read back by :func:`recost`).
    """
    path = _writable(path, overwrite=overwrite)
    data = {"quantities": plan.quantities.to_dict(), "cost_book": plan.costs.to_dict()}
    path.write_text(json.dumps(data, indent=1), encoding="utf-8")
    return path


def recost(
    plan_dir: str | Path,
    *,
    costs: CostBook | None = None,
    take_up: float | None = None,
    seed: int = 0,
) -> Costing:
    """Re-cost a saved plan from its ``quantities.json`` without re-routing it.

    Parameters
    ----------
    plan_dir : str or pathlib.Path
        A folder written by :meth:`fibreplan.Plan.save`.
    costs : CostBook, optional
        Unit costs; default the cost book the plan was saved with.
    take_up : float, optional
        Share of premises passed that connect; default the cost book's.
    seed : int, default 0
        Seed of the Monte Carlo.

    Returns
    -------
    Costing
        The new costing (same quantities).

    Raises
    ------
    InputValidationError
        If the folder has no ``quantities.json`` (a plan saved before
        fibreplan wrote it: plan it again).
    """
    path = Path(plan_dir) / "quantities.json"
    if not path.is_file():
        msg = f"{plan_dir}: no quantities.json; plan the area again with this fibreplan version."
        raise InputValidationError(msg)
    data = json.loads(path.read_text(encoding="utf-8"))
    book = costs or CostBook.from_dict(data["cost_book"], source=str(path))
    if take_up is not None:
        book = dataclasses.replace(book, take_up=take_up)
    return cost_plan(Quantities.from_dict(data["quantities"]), costs=book, seed=seed)


def write_config_tables(plan: Plan, gpkg: str | Path) -> None:
    """Add the cost book and design rules used as non-spatial tables to a GeoPackage.

    Parameters
    ----------
    plan : Plan
        The plan.
    gpkg : str or pathlib.Path
        An existing GeoPackage (``plan.gpkg``); tables ``cost_book`` and
        ``design_rules`` are appended (see :func:`config_tables`).
    """
    import pyogrio

    for name, df in config_tables(plan.costs, plan.trench_rules, plan.rules).items():
        pyogrio.write_dataframe(df, gpkg, layer=name, driver="GPKG", append=True)


def write_bid_files(plan: Plan, paths: Mapping[str, Path]) -> None:
    """Write ``boq.csv``, ``bid.xlsx``, ``costs.png`` and ``quantities.json``.

    Parameters
    ----------
    plan : Plan
        The plan.
    paths : Mapping of str to pathlib.Path
        Target of each file by key of :data:`fibreplan.export.FILES`
        (``boq``, ``xlsx``, ``costs_png``, ``quantities``).
    """
    write_boq_csv(plan, paths["boq"])
    write_bid_xlsx(plan, paths["xlsx"])
    write_costs_png(plan, paths["costs_png"])
    write_quantities(plan, paths["quantities"])


def _writable(path: str | Path, *, overwrite: bool) -> Path:
    from fibreplan.export import check_writable

    p = Path(path)
    check_writable([p], overwrite=overwrite)
    p.parent.mkdir(parents=True, exist_ok=True)
    return p
