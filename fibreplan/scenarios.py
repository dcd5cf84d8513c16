"""Cost scenarios: assumed Openreach duct (PIA), re-costing a saved plan, comparing plans.

- :func:`pia_ducts`: since no public map of Openreach's duct exists, assume
  rentable duct along chosen street classes (the ``existing`` layer of
  :func:`fibreplan.plan`), to bracket a plan's cost with and without PIA;
- :func:`recost_dir`: re-cost a saved plan with another cost book or take-up
  and write its ``boq.csv`` and ``cost.json`` (``fibreplan cost``);
- :func:`compare_dirs`: saved plans side by side (``fibreplan compare``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely

from fibreplan._errors import InputValidationError
from fibreplan.config import CostBook
from fibreplan.config import TrenchRules

__all__ = [
    "compare_dirs",
    "compare_table",
    "compare_text",
    "cost_lines",
    "pia_ducts",
    "recost_dir",
    "scenario_existing",
]

logger = logging.getLogger(__name__)

#: Street classes assumed to carry Openreach duct by default in the PIA scenario.
PIA_DEFAULT_HIGHWAYS = (
    "primary", "secondary", "tertiary", "unclassified", "residential", "living_street",
)  # fmt: skip


def pia_ducts(
    streets: gpd.GeoDataFrame,
    *,
    highways: Sequence[str] = PIA_DEFAULT_HIGHWAYS,
    trench_rules: TrenchRules | None = None,
) -> gpd.GeoDataFrame:
    """Return assumed rentable duct along the streets of the given OSM ``highway`` classes.

    Parameters
    ----------
    streets : geopandas.GeoDataFrame
        Street lines in a metric CRS with a ``highway`` column (as loaded by
        :func:`fibreplan.load_streets`).
    highways : sequence of str, default :data:`PIA_DEFAULT_HIGHWAYS`
        OSM ``highway`` values whose streets are assumed to have duct.
    trench_rules : TrenchRules, optional
        Used for ``two_sided_highways`` and ``side_offset_m``: two-sided roads
        get a duct under each side (their trenches' offset), others one along
        the centreline. Default ``TrenchRules()``.

    Returns
    -------
    geopandas.GeoDataFrame
        Lines with ``owner`` ("Openreach (assumed: PIA scenario)") and
        ``spare_capacity`` (1), in ``streets``' CRS; rent at the cost book's
        ``duct_rent_gbp_per_m_year``. Pass it as ``existing`` to
        :func:`fibreplan.plan`.

    Raises
    ------
    InputValidationError
        If ``streets`` has no ``highway`` column or an unknown-empty selection.

    Notes
    -----
    This is an assumption, not data: a PIA plan's cost is the cost *if* the
    duct exists with spare capacity where assumed. Bracket a bid with the plan
    without it.
    """
    rules = trench_rules or TrenchRules()
    if "highway" not in streets:
        msg = "pia_ducts: streets need a 'highway' column (load them with fibreplan.load_streets)."
        raise InputValidationError(msg)
    chosen = streets[streets["highway"].isin(list(highways))]
    two = chosen["highway"].isin(list(rules.two_sided_highways)).to_numpy()
    geoms = chosen.geometry.to_numpy()
    sides = [
        shapely.offset_curve(geoms[two], d) for d in (rules.side_offset_m, -rules.side_offset_m)
    ]
    lines = list(geoms[~two]) + [g for side in sides for g in side]
    out = gpd.GeoDataFrame(
        {"owner": "Openreach (assumed: PIA scenario)", "spare_capacity": 1},
        index=range(len(lines)),
        geometry=lines,
        crs=streets.crs,
    )
    logger.info(
        "PIA scenario: duct assumed along %d streets (%s), %.1f km of duct",
        len(chosen), ", ".join(highways), out.length.sum() / 1000,
    )  # fmt: skip
    return out


def recost_dir(
    plan_dir: str | Path,
    *,
    costs: CostBook | None = None,
    take_up: float | None = None,
    out: str | Path | None = None,
    overwrite: bool = False,
    seed: int = 0,
) -> tuple[dict[str, Any], dict[str, Path]]:
    """Re-cost a saved plan (no re-routing) and write ``boq.csv`` and ``cost.json``.

    Parameters
    ----------
    plan_dir : str or pathlib.Path
        A folder written by :meth:`fibreplan.Plan.save`.
    costs : CostBook, optional
        Unit costs; default the plan's own.
    take_up : float, optional
        Share of premises passed that connect; default the cost book's.
    out : str or pathlib.Path, optional
        Folder for the files; default ``plan_dir / "recost"``.
    overwrite : bool, default False
        Whether existing files may be replaced.
    seed : int, default 0
        Seed of the Monte Carlo.

    Returns
    -------
    dict, dict of str to pathlib.Path
        The costing's summary (the cost keys of ``summary.json`` plus
        ``cost_book_sha256``) and the files written (``boq``, ``cost``).
    """
    from fibreplan.bid import boq_table
    from fibreplan.bid import recost
    from fibreplan.export import check_writable
    from fibreplan.summary import config_sha256

    costing = recost(plan_dir, costs=costs, take_up=take_up, seed=seed)
    book = costs or CostBook.from_dict(
        json.loads((Path(plan_dir) / "quantities.json").read_text(encoding="utf-8"))["cost_book"]
    )
    summary = {
        **costing.summary(),
        "cost_book_sha256": config_sha256(book.to_toml()),
        "recosted_from": str(plan_dir),
    }
    folder = Path(out) if out is not None else Path(plan_dir) / "recost"
    paths = {"boq": folder / "boq.csv", "cost": folder / "cost.json"}
    check_writable(list(paths.values()), overwrite=overwrite)
    folder.mkdir(parents=True, exist_ok=True)
    boq_table(costing).to_csv(paths["boq"], index=False)
    paths["cost"].write_text(json.dumps(summary, indent=2), encoding="utf-8")
    return summary, paths


def compare_table(summaries: Sequence[dict[str, Any]], names: Sequence[str]) -> pd.DataFrame:
    """Return plans side by side: premises, km dug and reused, base, P10-P90, per premises.

    Parameters
    ----------
    summaries : sequence of dict
        ``summary.json`` of each plan.
    names : sequence of str
        A column name for each.

    Returns
    -------
    pandas.DataFrame
        One column per plan, one row per figure.
    """
    rows: dict[str, list[Any]] = {}
    for s in summaries:
        figures = {
            "premises passed": s.get("premises_passed", s.get("premises_connected")),
            "premises unreachable": s.get("premises_unreachable"),
            "buildings": s.get("buildings_total"),
            "trench dug, km": round(s.get("trench_m_dug", 0) / 1000, 2),
            "duct reused, km": round(s.get("duct_m_reused", 0) / 1000, 2),
            "aerial, km": round(s.get("aerial_m", 0) / 1000, 2),
            "base cost, GBP": s.get("cost_base_gbp", s.get("cost_total_gbp")),
            "P10, GBP": s.get("cost_p10_gbp"),
            "P90, GBP": s.get("cost_p90_gbp"),
            "with optimism bias, GBP": s.get("cost_optimism_bias_gbp"),
            "per premises passed, GBP": s.get("cost_per_premises_passed_gbp"),
            "per premises connected, GBP": s.get("cost_per_premises_connected_gbp"),
            "take-up": s.get("take_up"),
        }
        for k, v in figures.items():
            rows.setdefault(k, []).append(v)
    return pd.DataFrame(rows, index=list(names)).T


def compare_dirs(dirs: Sequence[str | Path]) -> pd.DataFrame:
    """Read each saved plan's ``summary.json`` and return :func:`compare_table`.

    Parameters
    ----------
    dirs : sequence of str or pathlib.Path
        Folders written by :meth:`fibreplan.Plan.save`.

    Returns
    -------
    pandas.DataFrame
        One column per folder.

    Raises
    ------
    InputValidationError
        If a folder has no ``summary.json``.
    """
    summaries = []
    for d in dirs:
        path = Path(d) / "summary.json"
        if not path.is_file():
            msg = f"compare: '{d}' has no summary.json; give folders written by `fibreplan plan`."
            raise InputValidationError(msg)
        summaries.append(json.loads(path.read_text(encoding="utf-8")))
    return compare_table(summaries, [Path(d).name or str(d) for d in dirs])


def cost_lines(s: dict[str, Any]) -> list[str]:
    """Return the printed cost lines of a summary: base, P10-P90, optimism bias, per premises.

    Parameters
    ----------
    s : dict
        A plan's summary (or a re-costing's ``cost.json``).

    Returns
    -------
    list of str
        Three lines: the base cost and its build / connection split; the
        P10-P90 range and the optimism-bias-adjusted figure (three things,
        each labelled); per premises passed and connected, with counts by class.
    """
    pct = s.get("cost_percentiles_gbp", {})
    passed = pct.get("per_premises_passed", {})
    conn = pct.get("per_premises_connected", {})
    by_class = s.get("premises_passed_by_class") or {}
    classes = ", ".join(f"{v:,} {k}" for k, v in by_class.items())
    return [
        (f"  cost          £{s['cost_base_gbp']:,.0f} base (build £{s['cost_build_gbp']:,.0f}, "
         f"connections £{s['cost_connection_gbp']:,.0f} at {s['take_up']:.0%} take-up)"),
        (f"                P10-P90 £{s['cost_p10_gbp']:,.0f} – £{s['cost_p90_gbp']:,.0f} "
         f"(P50 £{s['cost_p50_gbp']:,.0f});  with optimism bias "
         f"({s['optimism_bias']:.0%}) £{s['cost_optimism_bias_gbp']:,.0f}"),
        (f"  per premises  £{s['cost_per_premises_passed_gbp'] or 0:,.0f} passed "
         f"(P10-P90 £{passed.get('p10') or 0:,.0f} – £{passed.get('p90') or 0:,.0f}), "
         f"£{s['cost_per_premises_connected_gbp'] or 0:,.0f} connected "
         f"(P10-P90 £{conn.get('p10') or 0:,.0f} – £{conn.get('p90') or 0:,.0f})"),
        (f"                {s['premises_passed']:,} premises passed"
         + (f" ({classes})" if classes else "")
         + (f" in {s['buildings_total']:,} buildings" if "buildings_total" in s else "")),
    ]  # fmt: skip


def scenario_existing(
    streets: Any,
    existing: str | Path | gpd.GeoDataFrame | None,
    *,
    assume_pia: str | None,
    trench_rules: TrenchRules | None = None,
) -> str | Path | gpd.GeoDataFrame | None:
    """Return the ``existing`` layer of a plan, with assumed PIA duct added when asked.

    Parameters
    ----------
    streets : str, pathlib.Path or geopandas.GeoDataFrame
        The plan's streets input (loaded again here when ``assume_pia`` is set).
    existing : str, pathlib.Path, geopandas.GeoDataFrame or None
        The user's existing ducts and poles.
    assume_pia : str or None
        Comma-separated OSM ``highway`` classes with assumed duct, or
        ``"default"`` for :data:`PIA_DEFAULT_HIGHWAYS`; None: no scenario.
    trench_rules : TrenchRules, optional
        For the sides of two-sided roads.

    Returns
    -------
    str, pathlib.Path, geopandas.GeoDataFrame or None
        ``existing`` unchanged without the scenario, else a GeoDataFrame of
        the assumed ducts plus the user's layer.
    """
    if not assume_pia:
        return existing
    from fibreplan.load import load_streets

    highways = (
        PIA_DEFAULT_HIGHWAYS
        if assume_pia.strip() == "default"
        else tuple(h.strip() for h in assume_pia.split(",") if h.strip())
    )
    gdf_streets = load_streets(streets)
    ducts = pia_ducts(gdf_streets, highways=highways, trench_rules=trench_rules)
    if existing is None:
        return ducts
    own = existing if isinstance(existing, gpd.GeoDataFrame) else gpd.read_file(existing)
    if own.crs is None:
        msg = "existing has no CRS; set it or save it with one."
        raise InputValidationError(msg)
    return gpd.GeoDataFrame(
        pd.concat([own.to_crs(ducts.crs), ducts], ignore_index=True), crs=ducts.crs
    )


def compare_text(dirs: Sequence[str | Path]) -> str:
    """Return :func:`compare_dirs` as text: counts with thousands separators, GBP to the pound.

    Parameters
    ----------
    dirs : sequence of str or pathlib.Path
        Folders written by :meth:`fibreplan.Plan.save`.

    Returns
    -------
    str
        The table, one column per folder.
    """
    table = compare_dirs(dirs)

    def fmt(row: str, v: Any) -> str:
        if v is None or pd.isna(v):
            return "-"
        if row == "take-up":
            return f"{v:.0%}"
        if row.endswith("km"):
            return f"{v:,.2f}"
        return f"£{v:,.0f}" if row.endswith("GBP") else f"{v:,.0f}"

    shown = pd.DataFrame(
        {c: [fmt(r, v) for r, v in table[c].items()] for c in table.columns}, index=table.index
    )
    return shown.to_string()
