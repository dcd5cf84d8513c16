"""Stage 5 — cost a plan: bill of quantities, totals, ranges and cost per premises.

Takes the quantities of a routed (and optionally designed) plan and a
:class:`~fibreplan.config.CostBook`; gives a :class:`Costing` whose ``boq``
table has one row per item (quantity, unit, unit cost, cost, source), the total
with a low/high range from the Green Book optimism-bias bounds, and each
connected premises' cost share.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import TYPE_CHECKING
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from fibreplan.config import SURFACES
from fibreplan.config import CostBook

if TYPE_CHECKING:
    from fibreplan.trench import TrenchGraph

__all__ = ["Costing", "cost_plan"]

logger = logging.getLogger(__name__)

_BOQ_COLUMNS = ["item", "quantity", "unit", "unit_cost_gbp", "cost_gbp", "category"]


@dataclasses.dataclass(frozen=True)
class Costing:
    """The cost of a plan.

    Attributes
    ----------
    boq : pandas.DataFrame
        Bill of quantities: ``item``, ``quantity``, ``unit``, ``unit_cost_gbp``,
        ``cost_gbp``, ``category`` (civils, cabling, equipment, premises, overhead).
    total_gbp : float
        Sum of ``boq.cost_gbp``.
    low_gbp, high_gbp : float
        Total with the cost book's low and high optimism bias added.
    premises_connected : int
        Premises the plan connects (passes and drops to).
    per_premises_gbp : float
        ``total_gbp / premises_connected`` (NaN when none is connected).
    edge_share_gbp : numpy.ndarray of float64
        Trench cost of each tree edge (aligned with the plan's tree edge rows).
    """

    boq: pd.DataFrame
    total_gbp: float
    low_gbp: float
    high_gbp: float
    premises_connected: int
    per_premises_gbp: float
    edge_share_gbp: npt.NDArray[np.float64]

    def summary(self) -> dict[str, Any]:
        """Return the costing's headline figures for ``summary.json``.

        Returns
        -------
        dict
            ``cost_total_gbp``, ``cost_low_gbp``, ``cost_high_gbp``,
            ``cost_per_premises_passed_gbp`` and ``cost_by_category_gbp``.
        """
        by_cat = self.boq.groupby("category", sort=False)["cost_gbp"].sum()
        return {
            "cost_total_gbp": round(self.total_gbp, 2),
            "cost_low_gbp": round(self.low_gbp, 2),
            "cost_high_gbp": round(self.high_gbp, 2),
            "cost_per_premises_passed_gbp": (
                None if np.isnan(self.per_premises_gbp) else round(self.per_premises_gbp, 2)
            ),
            "cost_by_category_gbp": {k: round(float(v), 2) for k, v in by_cat.items()},
        }


def cost_plan(
    tg: TrenchGraph,
    tree_edge_rows: npt.NDArray[np.int64],
    *,
    connected: npt.NDArray[np.bool_],
    costs: CostBook | None = None,
    design_quantities: dict[str, Any] | None = None,
) -> Costing:
    """Cost a routed plan from its quantities.

    Parameters
    ----------
    tg : TrenchGraph
        The trench graph the plan was routed on.
    tree_edge_rows : numpy.ndarray of int64
        Rows of ``tg``'s edge arrays that the plan trenches.
    connected : numpy.ndarray of bool, shape (p,)
        Which premises the plan connects.
    costs : CostBook, optional
        Unit costs; default ``CostBook()``.
    design_quantities : dict, optional
        Network-design counts: ``dp_count``, ``cabinet_count``,
        ``chamber_count``, ``road_crossings`` (crossing edges in the tree plus
        shared drop crossings, see :func:`fibreplan.plan.road_crossings`) and
        ``cable_m_by_size`` (``{fibres: metres}``). Absent keys cost nothing.

    Returns
    -------
    Costing
        Bill of quantities and totals, in GBP.

    Notes
    -----
    Dug trench metres (including the width of road crossings) are priced by
    surface at ``costs.trench_gbp_per_m``; rented duct and aerial cable on
    poles at their edge cost (present value of rent, plus access or cable);
    each road crossing adds
    ``road_crossing_gbp``. So the trench items add up to the optimiser's tree
    cost plus the shared drop crossings. Drops
    at ``drop_gbp_per_m`` on their straight-line length; each connected
    premises adds ``connection_gbp_per_premises`` and
    ``planning_gbp_per_premises``; the headend adds ``headend_gbp`` once.
    The range is ``total x (1 + optimism_bias_low)`` to
    ``total x (1 + optimism_bias_high)`` (HM Treasury Green Book).

    Examples
    --------
    >>> from fibreplan.config import CostBook
    >>> CostBook().trench_gbp_per_m["footway"]
    61.32
    """
    costs = costs or CostBook()
    rows: list[tuple[str, float, str, float, str]] = []
    length = tg.edge_length_m[tree_edge_rows]
    surface = tg.edge_surface[tree_edge_rows]
    kind = tg.edge_kind[tree_edge_rows]
    dug = ~np.isin(kind, ["duct_reuse", "aerial"])
    for s in SURFACES:
        metres = float(length[dug & (surface == s)].sum())
        if metres > 0:
            rows.append((f"trench, {s}", metres, "m", costs.trench_gbp_per_m[s], "civils"))
    for k, item in (
        (
            "duct_reuse",
            f"existing duct rented (present value over {costs.duct_years} years) and access",
        ),
        (
            "aerial",
            f"aerial cable on existing poles (with pole rent over {costs.duct_years} years)",
        ),
    ):
        used = kind == k
        if used.any():
            metres = float(length[used].sum())
            total = float(tg.edge_cost_gbp[tree_edge_rows][used].sum())
            rows.append((item, metres, "m", total / metres, "civils"))
    drop_m = float(np.nansum(tg.premises_drop_m[connected]))
    n_conn = int(connected.sum())
    rows.append(("drops (lead-in trench and cable)", drop_m, "m", costs.drop_gbp_per_m, "civils"))
    dq = design_quantities or {}
    if dq.get("road_crossings"):
        rows.append(
            ("road crossings", dq["road_crossings"], "each", costs.road_crossing_gbp, "civils")
        )
    if dq.get("chamber_count"):
        rows.append(
            ("chambers / joint boxes", dq["chamber_count"], "each", costs.chamber_gbp, "civils")
        )
    for size, metres in sorted(
        (dq.get("cable_m_by_size") or {}).items(), key=lambda kv: int(kv[0])
    ):
        rate = _cable_rate(costs, int(size))
        rows.append((f"cable, {int(size)} fibre", float(metres), "m", rate, "cabling"))
    if dq.get("dp_count"):
        rows.append(("distribution points", dq["dp_count"], "each", costs.dp_gbp, "equipment"))
    if dq.get("cabinet_count"):
        rows.append(
            ("street cabinets", dq["cabinet_count"], "each", costs.cabinet_gbp, "equipment")
        )
    rows.append(("headend (OLT site)", 1 if n_conn else 0, "each", costs.headend_gbp, "equipment"))
    rows.append(("premises connections (ONT, install, OCP)", n_conn, "premises",
                 costs.connection_gbp_per_premises, "premises"))  # fmt: skip
    rows.append(("planning and administration", n_conn, "premises",
                 costs.planning_gbp_per_premises, "overhead"))  # fmt: skip
    boq = pd.DataFrame(rows, columns=["item", "quantity", "unit", "unit_cost_gbp", "category"])
    boq["cost_gbp"] = boq["quantity"].astype(float) * boq["unit_cost_gbp"].astype(float)
    boq = boq[_BOQ_COLUMNS]
    total = float(boq["cost_gbp"].sum())
    per = total / n_conn if n_conn else float("nan")
    out = Costing(
        boq=boq,
        total_gbp=total,
        low_gbp=total * (1 + costs.optimism_bias_low),
        high_gbp=total * (1 + costs.optimism_bias_high),
        premises_connected=n_conn,
        per_premises_gbp=per,
        edge_share_gbp=tg.edge_cost_gbp[tree_edge_rows].astype(np.float64),
    )
    logger.info(
        "costing: GBP %.0f total (GBP %.0f-%.0f), GBP %.0f per premises passed, %d premises",
        total, out.low_gbp, out.high_gbp, per, n_conn,
    )  # fmt: skip
    return out


def _cable_rate(costs: CostBook, size: int) -> float:
    """Return GBP/m for a cable of ``size`` fibres: the smallest priced size that holds it."""
    sizes = sorted(costs.cable_gbp_per_m)
    for s in sizes:
        if s >= size:
            return float(costs.cable_gbp_per_m[s])
    return float(costs.cable_gbp_per_m[sizes[-1]])
