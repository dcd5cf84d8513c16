"""Outputs — print figures of a plan (matplotlib): ``plan.png`` and the plots for reports and bids.

:func:`plan_figure` draws the plan for print (trenches coloured by cable size,
cabinets, DPs, premises by status, a scale bar, a north arrow and the
OpenStreetMap attribution); :func:`cost_breakdown`, :func:`cable_metres`,
:func:`premises_per_cabinet` and :func:`loss_histogram` are the plots the
notebooks and the bid use. Colours come from :mod:`fibreplan._palette`, as on
the map and in the QGIS styles. Every function returns a
:class:`matplotlib.figure.Figure` built without pyplot (no global state, no
display needed); save it with ``fig.savefig(path, dpi=...)``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import PathPatch
from matplotlib.path import Path as MplPath

from fibreplan import _palette

__all__ = [
    "cable_metres",
    "cost_breakdown",
    "loss_histogram",
    "plan_figure",
    "premises_per_cabinet",
    "save_plan_figure",
]

logger = logging.getLogger(__name__)

#: Attribution printed on every plan figure (the plan is derived from OpenStreetMap, ODbL).
OSM_CREDIT = "Streets and buildings © OpenStreetMap contributors (ODbL)"


def _nice_length(span_m: float) -> float:
    """Return a round scale-bar length (1, 2 or 5 x 10^k m) about a fifth of ``span_m``."""
    target = max(span_m / 5, 1e-9)
    power = 10 ** np.floor(np.log10(target))
    return float(min((1, 2, 5, 10), key=lambda f: abs(f * power - target)) * power)


def _scale_bar_and_north(ax: Any) -> None:
    """Draw a scale bar (bottom left) and a north arrow (top right) on a metric map axis."""
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    length = _nice_length(x1 - x0)
    bx, by = x0 + 0.04 * (x1 - x0), y0 + 0.05 * (y1 - y0)
    ax.plot([bx, bx + length], [by, by], color="black", linewidth=3, solid_capstyle="butt")
    label = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
    ax.text(bx + length / 2, by + 0.015 * (y1 - y0), label, ha="center", va="bottom", fontsize=8)
    ax.annotate("N", xy=(0.95, 0.95), xytext=(0.95, 0.85), xycoords="axes fraction",
                ha="center", va="center", fontsize=11, fontweight="bold",
                arrowprops={"arrowstyle": "-|>", "color": "black", "linewidth": 1.5})  # fmt: skip


def _edge_cable_size(layers: Mapping[str, gpd.GeoDataFrame]) -> pd.Series:
    """Return the largest cable size (fibres) on each trench row (0 where none)."""
    trenches, cables = layers["trenches"], layers.get("cables")
    if cables is None or cables.empty or "edge_id" not in trenches.columns:
        return pd.Series(0, index=trenches.index)
    biggest = cables.groupby("edge_id")["size"].max()
    return trenches["edge_id"].map(biggest).fillna(0).astype(int)


def _draw_lines(
    ax: Any, geoms: gpd.GeoSeries, *, colour: str, linewidth: float, zorder: int
) -> None:
    """Draw (multi)lines as one path: one artist, however many lines (butt caps, round joins).

    The axes' limits are not updated (the caller sets them).
    """
    geoms = geoms[~(geoms.isna() | geoms.is_empty)]
    if geoms.empty:
        return
    _, xy, offsets = shapely.to_ragged_array(np.asarray(geoms.array), include_z=False)
    codes = np.full(xy.shape[0], MplPath.LINETO, dtype=MplPath.code_type)
    codes[offsets[0][:-1]] = MplPath.MOVETO  # the first point of each line (or part)
    ax.add_artist(PathPatch(MplPath(xy, codes), fill=False, edgecolor=colour,
                            linewidth=linewidth, capstyle="butt", joinstyle="round",
                            zorder=zorder))  # fmt: skip


def _draw_premises(ax: Any, premises: gpd.GeoDataFrame, handles: list[Any]) -> None:
    status = premises["status"].astype(str)
    over = premises.get("loss_violation", pd.Series(data=False, index=premises.index))
    groups = {
        "connected": (status == "connected") & ~over.astype(bool),
        "over_budget": (status == "connected") & over.astype(bool),
        "unreachable": status == "unreachable",
    }
    labels = {"connected": "premises connected", "over_budget": "over the optical budget",
              "unreachable": "unreachable"}  # fmt: skip
    for key, mask in groups.items():
        if mask.any():
            colour = _palette.PREMISES[key]
            xy = shapely.get_coordinates(np.asarray(premises.geometry.array)[mask.to_numpy()])
            ax.scatter(xy[:, 0], xy[:, 1], s=4, color=colour, zorder=4)
            handles.append(Line2D([], [], marker="o", linestyle="", color=colour,
                                  label=f"{labels[key]} ({int(mask.sum()):,})"))  # fmt: skip


def plan_figure(
    layers: Mapping[str, gpd.GeoDataFrame],
    *,
    title: str | None = None,
    size_in: tuple[float, float] = (11.7, 8.3),
) -> Figure:
    """Return a print-quality figure of a plan: trenches by cable size, network, premises.

    Parameters
    ----------
    layers : Mapping of str to geopandas.GeoDataFrame
        The plan's layers in its metric CRS (:func:`fibreplan.layers.map_layers`
        or :func:`fibreplan.layers.plan_layers`): ``trenches`` and ``premises``
        are needed; ``streets``, ``cables``, ``cabinets``, ``dps`` and
        ``headend`` are drawn when present.
    title : str, optional
        Figure title.
    size_in : tuple of float, default (11.7, 8.3)
        Figure size in inches (A4 landscape).

    Returns
    -------
    matplotlib.figure.Figure
        The figure, axes in metres of the layers' CRS, with a legend, a scale
        bar, a north arrow (grid north) and the OpenStreetMap attribution.
    """
    fig = Figure(figsize=size_in, layout="constrained")
    ax = fig.add_subplot()
    handles: list[Any] = []
    if (streets := layers.get("streets")) is not None and not streets.empty:
        _draw_lines(ax, streets.geometry, colour=_palette.STREET, linewidth=0.5, zorder=1)
        handles.append(Line2D([], [], color=_palette.STREET, label="street (not dug)"))
    trenches = layers["trenches"]
    size = _edge_cable_size(layers)
    for fibres in sorted(set(size.tolist())):
        colour = _palette.cable_colour(fibres) if fibres else _palette.TRENCH["dig"][0]
        part = trenches[(size == fibres).to_numpy()]
        _draw_lines(ax, part.geometry, colour=colour, linewidth=0.8 + fibres**0.3 / 2, zorder=2)
        label = f"trench, {fibres}-fibre cable" if fibres else "trench, drop cables only"
        handles.append(Line2D([], [], color=colour, linewidth=2,
                              label=f"{label} ({part.length.sum() / 1000:,.2f} km)"))  # fmt: skip
    _draw_premises(ax, layers["premises"], handles)
    for name, marker, colours, size_pt in (("dps", "o", _palette.DP, 25),
                                           ("cabinets", "s", _palette.CABINET, 60),
                                           ("headend", "*", _palette.HEADEND, 200)):  # fmt: skip
        gdf = layers.get(name)
        if gdf is None or gdf.empty:
            continue
        xy = np.column_stack([gdf.geometry.x, gdf.geometry.y])
        ax.scatter(xy[:, 0], xy[:, 1], s=size_pt, marker=marker, facecolor=colours[1],
                   edgecolor=colours[0], linewidth=1, zorder=5)  # fmt: skip
        label = {"dps": "distribution point", "cabinets": "cabinet", "headend": "headend"}[name]
        handles.append(Line2D([], [], marker=marker, linestyle="", markerfacecolor=colours[1],
                              markeredgecolor=colours[0], label=f"{label} ({len(gdf):,})"))
    xmin, ymin, xmax, ymax = layers["premises"].total_bounds
    pad = 0.03 * max(xmax - xmin, ymax - ymin, 100)
    ax.set_xlim(xmin - pad, xmax + pad)
    ax.set_ylim(ymin - pad, ymax + pad)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    _scale_bar_and_north(ax)
    ax.legend(handles=handles, loc="upper left", fontsize=7, framealpha=0.9)
    crs = layers["premises"].crs
    ax.text(1.0, -0.01, f"{OSM_CREDIT}. Grid: {crs.to_string() if crs else 'unknown CRS'}.",
            transform=ax.transAxes, ha="right", va="top", fontsize=7, color="#444444")  # fmt: skip
    if title:
        ax.set_title(title)
    return fig


def save_plan_figure(
    layers: Mapping[str, gpd.GeoDataFrame], path: str | Path, *, title: str | None = None,
    dpi: int = 200,
) -> Path:  # fmt: skip
    """Write :func:`plan_figure` as a PNG (``plan.png`` of a saved plan).

    Parameters
    ----------
    layers : Mapping of str to geopandas.GeoDataFrame
        As for :func:`plan_figure`.
    path : str or pathlib.Path
        PNG file to write.
    title : str, optional
        Figure title.
    dpi : int, default 200
        Resolution, dots per inch.

    Returns
    -------
    pathlib.Path
        The file written.
    """
    path = Path(path)
    plan_figure(layers, title=title).savefig(path, dpi=dpi, format="png")
    logger.debug("wrote %s", path)
    return path


def cost_breakdown(boq: pd.DataFrame) -> Figure:
    """Return a bar chart of the build cost by category, GBP (with the low-high range).

    Parameters
    ----------
    boq : pandas.DataFrame
        A bill of quantities (:attr:`fibreplan.cost.Costing.boq`): ``category``,
        ``cost_gbp`` and, when present, ``cost_low_gbp`` and ``cost_high_gbp``.

    Returns
    -------
    matplotlib.figure.Figure
        One bar per category, largest first.
    """
    by = boq.groupby("category")[[c for c in ("cost_gbp", "cost_low_gbp", "cost_high_gbp")
                                  if c in boq.columns]].sum().sort_values("cost_gbp")  # fmt: skip
    fig = Figure(figsize=(7, 3.5), layout="constrained")
    ax = fig.add_subplot()
    ax.barh(by.index, by["cost_gbp"], color="#4e79a7")
    if {"cost_low_gbp", "cost_high_gbp"} <= set(by.columns):
        ax.errorbar(by["cost_gbp"], by.index, fmt="none", ecolor="#333333", capsize=3,
                    xerr=[by["cost_gbp"] - by["cost_low_gbp"],
                          by["cost_high_gbp"] - by["cost_gbp"]])  # fmt: skip
    ax.set_xlabel("cost, £ (bars: likely; whiskers: low to high)")
    ax.xaxis.set_major_formatter(lambda v, _pos: f"£{v:,.0f}")
    ax.set_title(f"Build cost by category: £{by['cost_gbp'].sum():,.0f}")
    return fig


def cable_metres(cable_m_by_size: Mapping[Any, float]) -> Figure:
    """Return a bar chart of cable metres by size (fibres per cable).

    Parameters
    ----------
    cable_m_by_size : Mapping
        ``{fibres: metres}``, e.g. ``plan.summary["cable_m_by_size"]``.

    Returns
    -------
    matplotlib.figure.Figure
        One bar per size, in the map's cable colours.
    """
    sizes = sorted(int(k) for k in cable_m_by_size)
    metres = [float(cable_m_by_size[k]) for k in sorted(cable_m_by_size, key=int)]
    fig = Figure(figsize=(6, 3.5), layout="constrained")
    ax = fig.add_subplot()
    ax.bar([str(s) for s in sizes], [m / 1000 for m in metres],
           color=[_palette.cable_colour(s) for s in sizes])  # fmt: skip
    ax.set_xlabel("cable size, fibres")
    ax.set_ylabel("cable, km")
    ax.set_title(f"Cable by size: {sum(metres) / 1000:,.2f} km")
    return fig


def premises_per_cabinet(cabinets: pd.DataFrame, *, capacity: int | None = None) -> Figure:
    """Return a bar chart of premises served by each cabinet (and the capacity line).

    Parameters
    ----------
    cabinets : pandas.DataFrame
        The ``cabinets`` layer: ``cabinet_id``, ``premises_count``.
    capacity : int, optional
        Cabinet capacity (``DesignRules.cabinet_capacity``), drawn as a line.

    Returns
    -------
    matplotlib.figure.Figure
        One bar per cabinet.
    """
    fig = Figure(figsize=(7, 3.5), layout="constrained")
    ax = fig.add_subplot()
    ax.bar(cabinets["cabinet_id"].astype(str), cabinets["premises_count"],
           color=_palette.CABINET[1], edgecolor=_palette.CABINET[0])  # fmt: skip
    if capacity is not None:
        ax.axhline(capacity, color="#d62728", linestyle="--", label=f"capacity {capacity}")
        ax.legend()
    ax.set_xlabel("cabinet")
    ax.set_ylabel("premises")
    ax.set_title(f"Premises per cabinet ({len(cabinets)} cabinets)")
    return fig


def loss_histogram(premises: pd.DataFrame, *, budget_db: float | None = None) -> Figure:
    """Return a histogram of the optical loss of the connected premises, dB.

    Parameters
    ----------
    premises : pandas.DataFrame
        The ``premises`` layer: ``loss_db`` (NaN for unreachable premises).
    budget_db : float, optional
        The optical budget (``DesignRules.power_budget_db``), drawn as a line.

    Returns
    -------
    matplotlib.figure.Figure
        The histogram; bins above the budget are in the over-budget colour.
    """
    loss = premises["loss_db"].dropna().to_numpy(float)
    fig = Figure(figsize=(6, 3.5), layout="constrained")
    ax = fig.add_subplot()
    if loss.size:
        _, edges, _ = ax.hist(loss, bins=30, color=_palette.PREMISES["connected"])
        if budget_db is not None:
            for left, patch in zip(edges[:-1], ax.patches, strict=True):
                if left >= budget_db:
                    patch.set_facecolor(_palette.PREMISES["over_budget"])
    if budget_db is not None:
        ax.axvline(budget_db, color="#d62728", linestyle="--", label=f"budget {budget_db:g} dB")
        ax.legend()
    ax.set_xlabel("optical loss, dB")
    ax.set_ylabel("premises")
    over = int((loss > budget_db).sum()) if budget_db is not None else 0
    ax.set_title(f"Optical loss of {loss.size:,} premises ({over:,} over the budget)")
    return fig
