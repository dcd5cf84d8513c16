"""Stage 5 — cost a plan: bill of quantities with sources, measures and uncertainty.

Takes the :class:`Quantities` of a routed and designed plan (a typed record
built from the trench graph, the tree and the design by
:func:`fibreplan.plan.plan_quantities`) and a :class:`~fibreplan.config.CostBook`;
gives a :class:`Costing`:

- ``boq``: one row per item with its stage (``build``: everything up to the
  DP; ``connection``: drop, lead-in, in-building wiring, ONT and install, at
  the take-up), quantity, unit, unit cost low / likely / high, cost in pence
  precision, source and assumption flag;
- the *base* cost (every unit cost at its likely value), the cost with every
  unit cost at its low and at its high end, and P10 / P50 / P90 from a seeded
  Monte Carlo (PERT) over the items' ranges;
- the optimism-bias-adjusted base (HM Treasury Green Book);
- cost per premises passed (build / premises passed) and per premises
  connected ((build + connections) / premises connected at the take-up).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from fibreplan._kinds import is_dug
from fibreplan.config import ROAD_CLASSES
from fibreplan.config import SURFACES
from fibreplan.config import CostBook
from fibreplan.config import Estimate

if TYPE_CHECKING:
    from fibreplan.design import Design
    from fibreplan.trench import TrenchGraph

__all__ = ["Costing", "Quantities", "cost_plan", "network_quantities"]

logger = logging.getLogger(__name__)

_BOQ_COLUMNS = [
    "item", "key", "stage", "category", "quantity", "unit",
    "unit_cost_low_gbp", "unit_cost_gbp", "unit_cost_high_gbp",
    "cost_low_gbp", "cost_gbp", "cost_high_gbp", "source", "assumption",
]  # fmt: skip

#: Monte Carlo defaults: samples and seed.
MC_SAMPLES = 10_000
MC_SEED = 0


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
        Straight-line lead-ins from the street to the connected premises
        (buildings), metres.
    premises_connected : int
        Premises rows the plan reaches (passes and designs a drop to).
    road_crossings : int
        Road crossings (crossing edges of the route plus shared drop
        crossings, see :func:`fibreplan.plan.road_crossings`).
    chamber_count, dp_count, cabinet_count : int, default 0
        Network elements of the PON design.
    cable_m_by_size : Mapping of int to float, default empty
        Feeder and distribution cable, metres, by size (fibres per cable).
    premises_passed : int or None, default None
        Addresses passed (the ``units`` of the reached premises); None: equal
        to ``premises_connected``.
    drops : int or None, default None
        Drops: buildings reached (premises in one building share one); None:
        ``premises_connected``.
    drop_cable_m : float or None, default None
        Drop cable from the DPs along the street to each building, metres;
        None: ``drop_m``.
    lead_in_m : float or None, default None
        Lead-ins, one per building (the shortest of its premises' drops),
        metres; None: ``drop_m``.
    in_building_units : int, default 0
        Units in buildings of more than one unit (wired inside).
    block_dp_count : int, default 0
        In-building DPs: one in each building of more than one unit.
    splitters_by_ratio : Mapping of int to int, default empty
        Splitters of the design by number of outputs.
    splices : int, default 0
        Network fusion splices (headend, splitters' inputs and outputs; the
        customer-end splice is counted with each drop).
    olt_ports : int, default 0
        PON ports used at the OLT.
    dug_m_by_road_class : Mapping of str to float, default empty
        Dug metres by road class (``major``, ``minor``); empty: all minor.
    rural_dug_m_by_surface : Mapping of str to float, default empty
        Of ``dug_m_by_surface``, the metres dug in rural areas (priced at
        ``trench_rural_gbp_per_m``; the rest at the urban ``trench_gbp_per_m``);
        empty: all urban.
    aerial_new_pole_m : float, default 0
        Aerial cable on new poles, metres (priced at ``aerial_gbp_per_m``).
    new_poles : int, default 0
        New poles supplied and erected (``pole_gbp`` each).
    streets_by_road_class : Mapping of str to int, default empty
        Streets dug (each needs a permit) by road class.
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
    premises_passed: int | None = None
    drops: int | None = None
    drop_cable_m: float | None = None
    lead_in_m: float | None = None
    in_building_units: int = 0
    block_dp_count: int = 0
    splitters_by_ratio: Mapping[int, int] = dataclasses.field(default_factory=dict)
    splices: int = 0
    olt_ports: int = 0
    dug_m_by_road_class: Mapping[str, float] = dataclasses.field(default_factory=dict)
    streets_by_road_class: Mapping[str, int] = dataclasses.field(default_factory=dict)
    rural_dug_m_by_surface: Mapping[str, float] = dataclasses.field(default_factory=dict)
    aerial_new_pole_m: float = 0.0
    new_poles: int = 0

    @property
    def passed(self) -> int:
        """Premises (addresses) passed."""
        return self.premises_connected if self.premises_passed is None else self.premises_passed

    def to_dict(self) -> dict[str, Any]:
        """Return the quantities as JSON-ready values (keys of tables as strings).

        Returns
        -------
        dict
            Field names to values; :meth:`from_dict` reads them back.
        """
        out = dataclasses.asdict(self)
        for name, value in out.items():
            if isinstance(value, Mapping):
                out[name] = {str(k): v for k, v in value.items()}
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Quantities:
        """Build from :meth:`to_dict`'s output (e.g. a saved plan's ``quantities.json``).

        Parameters
        ----------
        data : Mapping
            Field names to values.

        Returns
        -------
        Quantities
            The record.
        """
        kw = dict(data)
        for name in ("cable_m_by_size", "splitters_by_ratio"):
            kw[name] = {int(k): v for k, v in kw.get(name, {}).items()}
        return cls(**kw)


@dataclasses.dataclass(frozen=True)
class Costing:
    """The cost of a plan.

    Attributes
    ----------
    boq : pandas.DataFrame
        Bill of quantities, one row per item: ``item``, ``key`` (cost book
        key), ``stage`` (build / connection), ``category`` (civils, cabling,
        equipment, premises, overhead), ``quantity``, ``unit``, unit cost
        ``unit_cost_low_gbp`` / ``unit_cost_gbp`` (likely) /
        ``unit_cost_high_gbp``, ``cost_low_gbp`` / ``cost_gbp`` /
        ``cost_high_gbp`` (rounded to the penny), ``source``, ``assumption``.
    total_gbp : float
        Base cost: sum of ``boq.cost_gbp`` (every unit cost at its likely value).
    low_gbp, high_gbp : float
        Total with every unit cost at the low (high) end of its range: always
        ``low_gbp <= total_gbp <= high_gbp``.
    premises_connected : int
        Premises rows the plan reaches.
    per_premises_gbp : float
        Cost per premises passed: build cost / premises passed (NaN when none).
    build_gbp, connection_gbp : float
        Base cost of the build (up to the DP) and of the connections at the take-up.
    premises_passed : int
        Addresses passed.
    take_up : float
        Share of premises passed that connect.
    per_premises_connected_gbp : float
        ``total_gbp / (take_up x premises_passed)`` (NaN when none).
    percentiles : dict
        ``{"total" | "per_premises_passed" | "per_premises_connected": {"p10", "p50", "p90"}}``,
        GBP, from the Monte Carlo.
    optimism_bias : float
        Applied optimism-bias uplift (fraction).
    optimism_bias_gbp : float
        Base cost with the optimism bias added (the Green Book adjusted figure).
    uncertainty : dict
        How the percentiles were computed: ``method``, ``samples``, ``seed``.
    """

    boq: pd.DataFrame
    total_gbp: float
    low_gbp: float
    high_gbp: float
    premises_connected: int
    per_premises_gbp: float
    build_gbp: float = 0.0
    connection_gbp: float = 0.0
    premises_passed: int = 0
    take_up: float = 1.0
    per_premises_connected_gbp: float = float("nan")
    percentiles: dict[str, dict[str, float]] = dataclasses.field(default_factory=dict)
    optimism_bias: float = 0.0
    optimism_bias_gbp: float = 0.0
    uncertainty: dict[str, Any] = dataclasses.field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """Return the costing's headline figures for ``summary.json``.

        Returns
        -------
        dict
            ``cost_total_gbp`` (= ``cost_base_gbp``), ``cost_low_gbp`` /
            ``cost_high_gbp`` (every unit cost at its low / high end),
            ``cost_p10_gbp`` / ``cost_p50_gbp`` / ``cost_p90_gbp``,
            ``cost_optimism_bias_gbp``, ``cost_build_gbp``,
            ``cost_connection_gbp``, ``cost_per_premises_passed_gbp``,
            ``cost_per_premises_connected_gbp``, ``cost_percentiles_gbp``,
            ``cost_uncertainty``, ``take_up``, ``premises_passed``,
            ``premises_connected_at_take_up``, ``optimism_bias``,
            ``cost_by_category_gbp`` and ``cost_by_stage_gbp``.
        """
        by_cat = self.boq.groupby("category", sort=False)["cost_gbp"].sum()
        by_stage = self.boq.groupby("stage", sort=False)["cost_gbp"].sum()
        pct = self.percentiles
        return {
            "cost_total_gbp": _pence(self.total_gbp),
            "cost_base_gbp": _pence(self.total_gbp),
            "cost_low_gbp": _pence(self.low_gbp),
            "cost_high_gbp": _pence(self.high_gbp),
            "cost_p10_gbp": pct["total"]["p10"],
            "cost_p50_gbp": pct["total"]["p50"],
            "cost_p90_gbp": pct["total"]["p90"],
            "cost_optimism_bias_gbp": _pence(self.optimism_bias_gbp),
            "optimism_bias": round(self.optimism_bias, 6),
            "cost_build_gbp": _pence(self.build_gbp),
            "cost_connection_gbp": _pence(self.connection_gbp),
            "cost_per_premises_passed_gbp": _pence(self.per_premises_gbp),
            "cost_per_premises_connected_gbp": _pence(self.per_premises_connected_gbp),
            "cost_percentiles_gbp": pct,
            "cost_uncertainty": self.uncertainty,
            "take_up": self.take_up,
            "premises_passed": self.premises_passed,
            "premises_connected_at_take_up": round(self.take_up * self.premises_passed, 2),
            "cost_by_category_gbp": {k: _pence(float(v)) for k, v in by_cat.items()},
            "cost_by_stage_gbp": {k: _pence(float(v)) for k, v in by_stage.items()},
        }


def _pence(value: float) -> float | None:
    """Round GBP to the penny; None for NaN (JSON null)."""
    return None if np.isnan(value) else round(float(value) + 0.0, 2)


@dataclasses.dataclass(frozen=True)
class _Item:
    """One BoQ row before pricing: a quantity times a cost book estimate."""

    item: str
    key: str
    stage: str
    category: str
    quantity: float
    unit: str
    rate: Estimate


def _rate(costs: CostBook, key: str) -> Estimate:
    name, _, entry = key.partition(".")
    value = getattr(costs, name)
    if entry:
        table = value
        value = table[int(entry)] if name in {"cable_gbp_per_m", "splitter_gbp"} else table[entry]
    return value


def _scaled(gbp_per_m: float, ratio_of: Estimate, source: str) -> Estimate:
    """Return a routed price per metre with the range of the estimate it was priced from."""
    f_lo = ratio_of.low / float(ratio_of) if float(ratio_of) else 1.0
    f_hi = ratio_of.high / float(ratio_of) if float(ratio_of) else 1.0
    return Estimate(gbp_per_m, gbp_per_m * f_lo, gbp_per_m * f_hi, source, ratio_of.assumption)


def _civils_items(q: Quantities, costs: CostBook) -> list[_Item]:
    """Trench by surface, crossings, street works, chambers, rented duct and aerial."""

    def it(item: str, key: str, qty: float, unit: str) -> _Item:
        return _Item(item, key, "build", "civils", float(qty), unit, _rate(costs, key))

    items = []
    for s in SURFACES:
        rural = q.rural_dug_m_by_surface.get(s, 0.0)
        urban = q.dug_m_by_surface.get(s, 0.0) - rural
        if urban > 1e-6:  # metres; not a rounding remainder of an all-rural surface
            items.append(it(f"trench, {s}, urban", f"trench_gbp_per_m.{s}", urban, "m"))
        if rural > 0:
            items.append(it(f"trench, {s}, rural", f"trench_rural_gbp_per_m.{s}", rural, "m"))
    items.append(it("road crossings (traffic management, over their trench)",
                    "road_crossing_gbp", q.road_crossings, "each"))  # fmt: skip
    by_road = q.dug_m_by_road_class or {"minor": sum(q.dug_m_by_surface.values())}
    for road in ROAD_CLASSES:
        tm = f"traffic_management_gbp_per_m.{road}"
        items.append(it(f"traffic management, {road} roads", tm, by_road.get(road, 0.0), "m"))
        items.append(it(f"street-works permits, {road} roads", f"permit_gbp_per_street.{road}",
                        q.streets_by_road_class.get(road, 0), "street"))  # fmt: skip
    items.append(it("chambers / joint boxes", "chamber_gbp", q.chamber_count, "each"))
    items.append(it("chamber pit reinstatement", "reinstatement_gbp_per_m2",
                    q.chamber_count * costs.chamber_reinstatement_m2, "m2"))  # fmt: skip
    years = costs.duct_years
    if q.duct_reuse_m > 0:
        pv = costs.duct_rent_gbp_per_m_year * costs.annuity_factor + costs.duct_access_gbp_per_m
        ref = Estimate(pv, costs.duct_rent_gbp_per_m_year.low * costs.annuity_factor
                       + costs.duct_access_gbp_per_m.low,
                       costs.duct_rent_gbp_per_m_year.high * costs.annuity_factor
                       + costs.duct_access_gbp_per_m.high)  # fmt: skip
        src = (
            f"as routed; range of rent x {costs.annuity_factor:.3f} + access: "
            f"{costs.duct_rent_gbp_per_m_year.source}; {costs.duct_access_gbp_per_m.source}"
        )
        items.append(_Item(
            f"existing duct rented (present value over {years} years) and access",
            "duct_rent_gbp_per_m_year", "build", "civils", q.duct_reuse_m, "m",
            _scaled(q.duct_reuse_gbp / q.duct_reuse_m, ref, src)))  # fmt: skip
    if q.aerial_m > 0:
        src = f"as routed (with pole rent); range of {costs.aerial_gbp_per_m.source}"
        items.append(_Item(
            f"aerial cable on existing poles (with pole rent over {years} years)",
            "aerial_gbp_per_m", "build", "civils", q.aerial_m, "m",
            _scaled(q.aerial_gbp / q.aerial_m, costs.aerial_gbp_per_m, src)))  # fmt: skip
    if q.new_poles > 0:
        items.append(it("aerial cable on new poles", "aerial_gbp_per_m", q.aerial_new_pole_m, "m"))
        items.append(it("new poles, supplied and erected", "pole_gbp", q.new_poles, "pole"))
    return items


def _network_items(q: Quantities, costs: CostBook) -> list[_Item]:
    """Cable, splices, splitters, DPs, cabinets, OLT ports, headend, backhaul, planning."""

    def it(item: str, key: str, cat: str, qty: float, unit: str) -> _Item:
        return _Item(item, key, "build", cat, float(qty), unit, _rate(costs, key))

    n = 1 if q.premises_connected else 0
    items = [it(f"cable, {int(size)} fibre", f"cable_gbp_per_m.{_cable_size(costs, int(size))}",
                "cabling", metres, "m")
             for size, metres in sorted(q.cable_m_by_size.items())]  # fmt: skip
    items.append(it("fusion splices (headend and splitters)", "splice_gbp", "cabling",
                    q.splices, "splice"))  # fmt: skip
    items += [it(f"splitters 1:{r}", f"splitter_gbp.{r}", "equipment", count, "each")
              for r, count in sorted(q.splitters_by_ratio.items()) if count]  # fmt: skip
    items.append(it("distribution points", "dp_gbp", "equipment", q.dp_count, "each"))
    items.append(it("in-building DPs (blocks of flats)", "dp_gbp", "equipment",
                    q.block_dp_count, "each"))  # fmt: skip
    items.append(it("street cabinets", "cabinet_gbp", "equipment", q.cabinet_count, "each"))
    items.append(it("OLT PON ports", "olt_port_gbp", "equipment", q.olt_ports, "port"))
    items.append(it("headend (OLT site)", "headend_gbp", "equipment", n, "each"))
    items.append(it("backhaul (EAD 1 Gbps, 10 years)", "backhaul_gbp_per_headend", "equipment",
                    n, "headend"))  # fmt: skip
    items.append(it("survey, design, planning and administration", "planning_gbp_per_premises",
                    "overhead", q.passed, "premises passed"))  # fmt: skip
    return items


def _connection_items(q: Quantities, costs: CostBook) -> list[_Item]:
    """Return the drop, lead-in, in-building wiring and ONT + install items, at the take-up."""
    t = costs.take_up
    drops = q.premises_connected if q.drops is None else q.drops
    cable_m = q.drop_m if q.drop_cable_m is None else q.drop_cable_m

    def it(item: str, key: str, qty: float, unit: str) -> _Item:
        return _Item(f"{item} (at {t:.0%} take-up)", key, "connection", "premises",
                     t * float(qty), unit, _rate(costs, key))  # fmt: skip

    return [
        it("drops, fixed part (one per building)", "drop_gbp_per_premises", drops, "drop"),
        it("customer-end splices", "splice_gbp", drops, "splice"),
        it("drop cable from the DP", "drop_gbp_per_m", cable_m, "m"),
        it("lead-ins (street to building)", "lead_in_gbp_per_m",
           q.drop_m if q.lead_in_m is None else q.lead_in_m, "m"),
        it("in-building wiring (blocks of flats)", "in_building_gbp_per_unit",
           q.in_building_units, "unit"),
        it("ONT, optical connection point and installation", "connection_gbp_per_premises",
           q.passed, "premises"),
    ]  # fmt: skip


def _items(q: Quantities, costs: CostBook) -> list[_Item]:
    return _civils_items(q, costs) + _network_items(q, costs) + _connection_items(q, costs)


def _evaluate(
    items: list[_Item], rates: npt.NDArray[np.float64], fractions: npt.NDArray[np.float64]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Costs of every row for each sample (pence precision), and the build and connection totals.

    ``rates`` is (samples, items), ``fractions`` (samples, 2): wayleave, contingency.
    Returns ``(row costs (samples, items + 3), build (samples,), connection (samples,))``;
    the three added rows are wayleaves, contingency on build, contingency on connections.
    """
    qty = np.array([i.quantity for i in items])
    cost = np.round(rates * qty, 2)
    build = np.array([i.stage == "build" for i in items])
    build_sub = cost[:, build].sum(axis=1)
    conn_sub = cost[:, ~build].sum(axis=1)
    wayleave = np.round(fractions[:, 0] * build_sub, 2)
    cont_build = np.round(fractions[:, 1] * (build_sub + wayleave), 2)
    cont_conn = np.round(fractions[:, 1] * conn_sub, 2)
    rows = np.column_stack([cost, wayleave, cont_build, cont_conn])
    return rows, build_sub + wayleave + cont_build, conn_sub + cont_conn


def _pert(rng: np.random.Generator, est: Estimate, n: int) -> npt.NDArray[np.float64]:
    """``n`` draws of the PERT distribution on (low, likely, high); constant if collapsed."""
    a, m, b = est.low, float(est), est.high
    if b <= a:
        return np.full(n, m)
    alpha = 1 + 4 * (m - a) / (b - a)
    beta = 1 + 4 * (b - m) / (b - a)
    return a + (b - a) * rng.beta(alpha, beta, size=n)


def cost_plan(
    quantities: Quantities,
    *,
    costs: CostBook | None = None,
    samples: int = MC_SAMPLES,
    seed: int = MC_SEED,
) -> Costing:
    """Cost a plan from its quantities: BoQ, base, low/high, P10/P50/P90, per premises.

    Parameters
    ----------
    quantities : Quantities
        What the plan builds (see :func:`fibreplan.plan.plan_quantities`;
        a :class:`fibreplan.Plan` holds its own as ``plan.quantities``).
    costs : CostBook, optional
        Unit costs with their ranges; default ``CostBook()``. Its ``take_up``
        prices the connections.
    samples : int, default 10000
        Monte Carlo samples.
    seed : int, default 0
        Seed of the Monte Carlo: the same seed gives the same percentiles.

    Returns
    -------
    Costing
        Bill of quantities and totals, in GBP.

    Notes
    -----
    Every row costs quantity x unit cost, rounded to the penny, so the BoQ
    adds up to the totals exactly. *Build* rows (trench by surface, urban
    and rural apart, including crossings' width, crossings' traffic
    management, traffic management and permits by road class, chambers and
    their reinstatement, rented duct and aerial on existing poles at their
    routed price, aerial on new poles and the poles, cable, splices,
    splitters, DPs, cabinets, OLT ports, headend, backhaul, survey and
    design per premises passed) plus wayleaves (a fraction of them) and
    contingency are the network up to the DP; *connection* rows (fixed part
    of each drop, customer splice, drop cable from the DP, lead-in, in-
    building wiring, ONT and install) are priced at ``costs.take_up`` of
    their full quantity, plus contingency.

    Cost per premises passed = build / premises passed; per premises
    connected = (build + connections) / (take_up x premises passed).

    Uncertainty: each cost book item is drawn independently from a PERT
    distribution on its (low, likely, high) (Beta with shape parameters
    1 + 4 (likely - low) / (high - low) and 1 + 4 (high - likely) / (high - low));
    an item used by several rows is drawn once per sample. P10 / P50 / P90
    are percentiles of the ``samples`` totals. The base (every item at its
    likely value) need not lie inside P10-P90 (PERT's mean exceeds its mode
    when the range is skewed up); ``low_gbp`` / ``high_gbp`` (every item at
    its low / high end) always bracket it. The optimism-bias-adjusted figure
    is base x (1 + ``costs.optimism_bias``) (HM Treasury Green Book).

    References
    ----------
    Vose, D. (2008). *Risk Analysis: A Quantitative Guide*, 3rd ed., Wiley
    (PERT distribution). HM Treasury (2018), *Supplementary Green Book
    guidance: optimism bias*.

    Examples
    --------
    >>> q = Quantities(dug_m_by_surface={"footway": 100.0}, duct_reuse_m=0.0,
    ...                duct_reuse_gbp=0.0, aerial_m=0.0, aerial_gbp=0.0, drop_m=10.0,
    ...                premises_connected=1, road_crossings=0)
    >>> c = cost_plan(q)
    >>> float(c.boq.set_index("item").loc["trench, footway, urban", "cost_gbp"])
    6132.0
    >>> c.low_gbp <= c.total_gbp <= c.high_gbp
    True
    """
    costs = costs or CostBook()
    q = quantities
    items = _items(q, costs)
    fr = (costs.wayleave_fraction, costs.contingency_fraction)

    def at(which: str) -> tuple[Any, ...]:
        pick = {"low": lambda e: e.low, "likely": float, "high": lambda e: e.high}[which]
        rates = np.array([[pick(i.rate) for i in items]])
        return _evaluate(items, rates, np.array([[pick(f) for f in fr]]))

    rows, build, conn = at("likely")
    low_rows, _, _ = at("low")
    high_rows, _, _ = at("high")
    percentiles = _monte_carlo(items, fr, q, costs, samples=samples, seed=seed)

    boq = _boq_frame(items, fr, rows[0], low_rows[0], high_rows[0])
    total = float(rows[0].sum())
    passed, t = q.passed, costs.take_up
    per_passed = float(build[0]) / passed if passed else float("nan")
    per_conn = total / (t * passed) if passed else float("nan")
    out = Costing(
        boq=boq,
        total_gbp=round(total, 2),
        low_gbp=round(float(low_rows[0].sum()), 2),
        high_gbp=round(float(high_rows[0].sum()), 2),
        premises_connected=q.premises_connected,
        per_premises_gbp=per_passed,
        build_gbp=round(float(build[0]), 2),
        connection_gbp=round(float(conn[0]), 2),
        premises_passed=passed,
        take_up=t,
        per_premises_connected_gbp=per_conn,
        percentiles=percentiles,
        optimism_bias=costs.optimism_bias,
        optimism_bias_gbp=round(total * (1 + costs.optimism_bias), 2),
        uncertainty={
            "method": "Monte Carlo, independent PERT per cost book item",
            "samples": samples,
            "seed": seed,
        },
    )
    logger.info(
        "costing: GBP %.0f base (P10-P90 GBP %.0f-%.0f, with optimism bias GBP %.0f), "
        "GBP %.0f per premises passed, GBP %.0f per premises connected at %.0f %% take-up",
        total, percentiles["total"]["p10"], percentiles["total"]["p90"],
        out.optimism_bias_gbp, per_passed, per_conn, 100 * t,
    )  # fmt: skip
    return out


def _monte_carlo(
    items: list[_Item],
    fractions: tuple[Estimate, Estimate],
    q: Quantities,
    costs: CostBook,
    *,
    samples: int,
    seed: int,
) -> dict[str, dict[str, float]]:
    """P10 / P50 / P90 of the total, per premises passed and per premises connected (GBP)."""
    if samples < 1:
        msg = f"samples must be a positive integer; got {samples}"
        raise ValueError(msg)
    rng = np.random.default_rng(seed)
    # one draw per cost book item; a routed price (aerial on existing poles) filed under the
    # same key as the item itself (aerial on new poles) is a different estimate: drawn apart
    named = [(i.key, i.rate) for i in items]
    named += [("wayleave_fraction", fractions[0]), ("contingency_fraction", fractions[1])]
    by_id = {_draw_id(k, e): e for k, e in named}
    draws = {d: _pert(rng, by_id[d], samples) for d in sorted(by_id)}  # sorted: seeded order
    rates = (
        np.column_stack([draws[_draw_id(i.key, i.rate)] for i in items])
        if items else np.zeros((samples, 0))
    )  # fmt: skip
    frac = np.column_stack([draws[_draw_id(k, e)] for k, e in named[-2:]])
    rows, build, _ = _evaluate(items, rates, frac)
    total = rows.sum(axis=1)
    passed, t = q.passed, costs.take_up
    series = {
        "total": total,
        "per_premises_passed": build / passed if passed else np.full(samples, np.nan),
        "per_premises_connected": total / (t * passed) if passed else np.full(samples, np.nan),
    }
    return {
        name: {f"p{p}": _pence(float(np.percentile(v, p))) for p in (10, 50, 90)}
        for name, v in series.items()
    }


def _draw_id(key: str, est: Estimate) -> tuple[str, float, float, float]:
    return key, float(est), est.low, est.high


def _boq_frame(
    items: list[_Item],
    fractions: tuple[Estimate, Estimate],
    cost: npt.NDArray[np.float64],
    cost_low: npt.NDArray[np.float64],
    cost_high: npt.NDArray[np.float64],
) -> pd.DataFrame:
    """Return the BoQ table: the items, then wayleaves and contingency on their subtotals."""
    way, cont = fractions
    n = len(items)
    build_sub = sum(c for c, i in zip(cost[:n], items, strict=True) if i.stage == "build")
    conn_sub = float(cost[:n].sum()) - build_sub
    extra = [
        _Item("wayleaves and legal", "wayleave_fraction", "build", "overhead", build_sub,
              "GBP of build", way),
        _Item("contingency on the build", "contingency_fraction", "build", "overhead",
              build_sub + cost[n], "GBP of build", cont),
        _Item("contingency on the connections", "contingency_fraction", "connection",
              "overhead", conn_sub, "GBP of connections", cont),
    ]  # fmt: skip
    rows = [
        {
            "item": i.item, "key": i.key, "stage": i.stage, "category": i.category,
            "quantity": i.quantity, "unit": i.unit,
            "unit_cost_low_gbp": i.rate.low, "unit_cost_gbp": float(i.rate),
            "unit_cost_high_gbp": i.rate.high,
            "source": i.rate.source, "assumption": i.rate.assumption,
        }
        for i in items + extra
    ]  # fmt: skip
    boq = pd.DataFrame(rows)
    boq["cost_gbp"], boq["cost_low_gbp"], boq["cost_high_gbp"] = cost, cost_low, cost_high
    keep = (boq["quantity"] > 0) | (boq["cost_gbp"] != 0)
    return boq.loc[keep, _BOQ_COLUMNS].reset_index(drop=True)


def _cable_size(costs: CostBook, size: int) -> int:
    """Return the smallest priced cable size that holds ``size`` fibres (the largest beyond)."""
    sizes = sorted(costs.cable_gbp_per_m)
    return next((s for s in sizes if s >= size), sizes[-1])


def network_quantities(
    tg: TrenchGraph,
    rows: npt.NDArray[np.int64],
    design: Design,
    *,
    premises: pd.DataFrame | None = None,
    streets: pd.DataFrame | None = None,
) -> dict[str, Any]:
    """Return the quantities beyond metres: buildings, splitters, splices, ports, road classes.

    Parameters
    ----------
    tg : TrenchGraph
        The trench graph the plan was routed on.
    rows : numpy.ndarray of int64
        Rows of ``tg``'s edges that the plan trenches.
    design : Design
        The PON design on those edges.
    premises : pandas.DataFrame, optional
        The premises in the order of ``tg``'s premises arrays, with ``units``
        and optionally ``building_id`` (premises sharing one are in one
        building: one drop, one lead-in; its units are wired inside when it
        has more than one).
    streets : pandas.DataFrame, optional
        The street lines the trench graph's ``edge_street`` indexes, with
        ``name``: a permit is counted per named street (per street line
        where unnamed, or when not given).

    Returns
    -------
    dict
        Keyword arguments of :class:`Quantities`: ``premises_passed``,
        ``drops``, ``drop_cable_m``, ``lead_in_m``, ``in_building_units``,
        ``block_dp_count``, ``splitters_by_ratio``, ``splices``, ``olt_ports``,
        ``dug_m_by_road_class`` and ``streets_by_road_class``.

    Notes
    -----
    Major roads are the two-sided ones (their side trenches and crossings,
    ``edge_side != "both"``). The design gives each building one DP port; a
    building of ``u`` > 1 units also gets an in-building DP with
    ``ceil(u / secondary_split)`` splitters, and the OLT ports (with a
    cabinet splitter each) rise to ``ceil(units / (primary_split x
    secondary_split))`` when the design has fewer (the feeder fibres are not
    re-sized). Splices: one per OLT port at the headend and,
    per splitter, its input and outputs times ``splitter_splices / 2``
    (drum joints are left out); the customer-end splice comes with each drop.
    """
    reach = tg.premises_node >= 0
    units = (
        premises["units"].to_numpy(dtype=np.int64)
        if premises is not None and "units" in premises
        else np.ones(reach.size, dtype=np.int64)
    )[reach]
    if premises is not None and "building_id" in premises:
        bid = premises["building_id"].astype("string").to_numpy(dtype=object)[reach]
        own = pd.isna(bid)
        bid[own] = [f"\0{i}" for i in np.flatnonzero(own)]
    else:
        bid = np.arange(int(reach.sum())).astype(str).astype(object)
    _, building = np.unique(bid.astype(str), return_inverse=True)
    n_b = int(building.max()) + 1 if building.size else 0
    b_units = np.bincount(building, weights=units, minlength=n_b)
    first = np.full(n_b, np.inf)
    np.minimum.at(first, building, tg.premises_drop_m[reach])
    cable = np.full(n_b, np.inf)
    np.minimum.at(cable, building, design.premises_drop_cable_m)
    r = design.rules
    blocks = b_units > 1
    # a block of flats gets its own DP with splitters for every unit, and the OLT ports and
    # cabinet splitters its units need beyond the one port the design gives its building
    block_splitters = int(np.ceil(b_units[blocks] / r.secondary_split).sum())
    ports = max(design.olt_ports, int(np.ceil(units.sum() / (r.primary_split * r.secondary_split))))
    splitters: dict[int, int] = {}
    for ratio, count in ((r.primary_split, design.cabinet_splitters.sum()),
                         (r.primary_split, ports - design.olt_ports),
                         (r.secondary_split, design.dp_splitters.sum()),
                         (r.secondary_split, block_splitters)):  # fmt: skip
        if ratio > 1 and count:
            splitters[int(ratio)] = splitters.get(int(ratio), 0) + int(count)
    splices = ports + sum(
        (1 + ratio) * count * r.splitter_splices // 2 for ratio, count in splitters.items()
    )
    kind_dug = is_dug(tg.edge_kind[rows])
    major = tg.edge_side[rows] != "both"
    length, street = tg.edge_length_m[rows], tg.edge_street[rows]
    if streets is not None and "name" in streets and len(streets):
        # a numpy copy: without pyarrow, to_numpy (even with copy=True, on an unpickled
        # column) may hand back the column's own array, and the marks below would land in it
        names = np.array(streets["name"].astype("string").to_numpy(dtype=object), copy=True)
        idx = np.flatnonzero(pd.isna(names))
        names[idx] = [f"\0{i}" for i in idx]
        _, code = np.unique(names.astype(str), return_inverse=True)
        street = np.where(street >= 0, code[np.clip(street, 0, None)], -1)
    return {
        "premises_passed": int(units.sum()),
        "drops": n_b,
        "drop_cable_m": float(cable[np.isfinite(cable)].sum()),
        "lead_in_m": float(first[np.isfinite(first)].sum()),
        "in_building_units": int(b_units[blocks].sum()),
        "block_dp_count": int(blocks.sum()),
        "splitters_by_ratio": splitters,
        "splices": int(splices),
        "olt_ports": int(ports),
        "dug_m_by_road_class": {
            "major": float(length[kind_dug & major].sum()),
            "minor": float(length[kind_dug & ~major].sum()),
        },
        "streets_by_road_class": {
            "major": int(np.unique(street[kind_dug & major & (street >= 0)]).size),
            "minor": int(np.unique(street[kind_dug & ~major & (street >= 0)]).size),
        },
    }
