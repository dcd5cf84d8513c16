"""Stage 5 — cost a plan: bill of quantities, totals, ranges and cost per premises.

Takes the :class:`Quantities` of a routed and designed plan (a typed record
built from the trench graph, the tree and the design by
:func:`fibreplan.plan.plan_quantities`) and a :class:`~fibreplan.config.CostBook`;
gives a :class:`Costing` whose ``boq`` table has one row per item (quantity,
unit, unit cost, cost, category) and the total with a low/high range from the
Green Book optimism-bias bounds.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from fibreplan.config import SURFACES
from fibreplan.config import CostBook

__all__ = ["Costing", "Quantities", "cost_plan"]

logger = logging.getLogger(__name__)

_BOQ_COLUMNS = ["item", "quantity", "unit", "unit_cost_gbp", "cost_gbp", "category"]


@dataclasses.dataclass(frozen=True)
class Quantities:
    """What a plan builds: the cost stage's input, in metres and counts.

    Attributes
    ----------
    dug_m_by_surface : Mapping of str to float
        Newly dug trench, metres, by surface class (``carriageway``,
        ``footway``, ``verge``), road crossings' width included.
    duct_reuse_m, duct_reuse_gbp : float
        Existing duct rented: metres, and its price as routed (present value of
        the rent plus access, GBP; fixed by the trench graph).
    aerial_m, aerial_gbp : float
        Aerial cable on existing poles: metres, and its price as routed (GBP).
    drop_m : float
        Drops to connected premises, metres (straight line).
    premises_connected : int
        Premises the plan passes and connects.
    road_crossings : int
        Road crossings (crossing edges of the route plus shared drop
        crossings, see :func:`fibreplan.plan.road_crossings`).
    chamber_count, dp_count, cabinet_count : int, default 0
        Network elements of the PON design.
    cable_m_by_size : Mapping of int to float, default empty
        Feeder and distribution cable, metres, by size (fibres per cable).
    """

    dug_m_by_surface: Mapping[str, float]
    duct_reuse_m: float
    duct_reuse_gbp: float
    aerial_m: float
    aerial_gbp: float
    drop_m: float
    premises_connected: int
    road_crossings: int
    chamber_count: int = 0
    dp_count: int = 0
    cabinet_count: int = 0
    cable_m_by_size: Mapping[int, float] = dataclasses.field(default_factory=dict)


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
    """

    boq: pd.DataFrame
    total_gbp: float
    low_gbp: float
    high_gbp: float
    premises_connected: int
    per_premises_gbp: float

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


_Row = tuple[str, float, str, float, str]


def _civils_rows(q: Quantities, costs: CostBook) -> list[_Row]:
    """Return the BoQ rows for trench, reused duct, aerial, drops, crossings and chambers."""
    rows: list[_Row] = [
        (f"trench, {s}", q.dug_m_by_surface[s], "m", costs.trench_gbp_per_m[s], "civils")
        for s in SURFACES
        if q.dug_m_by_surface.get(s, 0.0) > 0
    ]
    years = costs.duct_years
    for item, metres, gbp in (
        (f"existing duct rented (present value over {years} years) and access",
         q.duct_reuse_m, q.duct_reuse_gbp),
        (f"aerial cable on existing poles (with pole rent over {years} years)",
         q.aerial_m, q.aerial_gbp),
    ):  # fmt: skip
        if metres > 0:
            rows.append((item, metres, "m", gbp / metres, "civils"))
    rows.append(
        ("drops (lead-in trench and cable)", q.drop_m, "m", costs.drop_gbp_per_m, "civils")
    )
    if q.road_crossings:
        rows.append(("road crossings", q.road_crossings, "each", costs.road_crossing_gbp, "civils"))
    if q.chamber_count:
        rows.append(
            ("chambers / joint boxes", q.chamber_count, "each", costs.chamber_gbp, "civils")
        )
    return rows


def cost_plan(quantities: Quantities, *, costs: CostBook | None = None) -> Costing:
    """Cost a plan from its quantities.

    Parameters
    ----------
    quantities : Quantities
        What the plan builds (see :func:`fibreplan.plan.plan_quantities`;
        a :class:`fibreplan.Plan` holds its own as ``plan.quantities``).
    costs : CostBook, optional
        Unit costs; default ``CostBook()``.

    Returns
    -------
    Costing
        Bill of quantities and totals, in GBP.

    Notes
    -----
    Dug trench metres (including the width of road crossings) are priced by
    surface at ``costs.trench_gbp_per_m``; rented duct and aerial cable on
    poles at their routed price (present value of rent, plus access or cable);
    each road crossing adds ``road_crossing_gbp``. So the trench items add up
    to the optimiser's tree cost plus the shared drop crossings. Drops at
    ``drop_gbp_per_m`` on their straight-line length; cable by size at the
    smallest priced size that holds it; each connected premises adds
    ``connection_gbp_per_premises`` and ``planning_gbp_per_premises``; the
    headend adds ``headend_gbp`` once. The range is
    ``total x (1 + optimism_bias_low)`` to ``total x (1 + optimism_bias_high)``
    (HM Treasury Green Book).

    Examples
    --------
    >>> q = Quantities(dug_m_by_surface={"footway": 100.0}, duct_reuse_m=0.0,
    ...                duct_reuse_gbp=0.0, aerial_m=0.0, aerial_gbp=0.0, drop_m=10.0,
    ...                premises_connected=1, road_crossings=0)
    >>> c = cost_plan(q)
    >>> c.boq.set_index("item").loc["trench, footway", "cost_gbp"]
    np.float64(6132.0)
    """
    costs = costs or CostBook()
    q = quantities
    n_conn = q.premises_connected
    rows = _civils_rows(q, costs)
    for size, metres in sorted(q.cable_m_by_size.items()):
        rate = _cable_rate(costs, int(size))
        rows.append((f"cable, {int(size)} fibre", float(metres), "m", rate, "cabling"))
    if q.dp_count:
        rows.append(("distribution points", q.dp_count, "each", costs.dp_gbp, "equipment"))
    if q.cabinet_count:
        rows.append(("street cabinets", q.cabinet_count, "each", costs.cabinet_gbp, "equipment"))
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
