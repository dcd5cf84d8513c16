"""Subsidy — which premises public money may reach: status, eligibility, vouchers, subsidy gap.

UK premises carry two different facts in BDUK's premises release (read with
:func:`read_status`, joined to the premises by UPRN with :func:`join_status`):

- ``subsidy_control_status``, the *subsidy category* of the Open Market Review
  / Public Review: "Gigabit White" (no gigabit network now or planned within
  three years: eligible for subsidy), "Gigabit Grey/Black" (one, or two or
  more), "Gigabit Under Review". fibreplan calls these ``white``,
  ``grey_black``, ``under_review``; a premises the release does not list is
  ``unknown`` (never guessed).
- ``current_gigabit``, *coverage*: whether a gigabit-capable service is
  available now. It decides gigabit voucher eligibility, not the category.

Per premises passed by a plan, :func:`cost_shares` splits the build cost (the
route by the airport-game rule: each trench's cost shared equally by the
premises beyond it; everything else equally), :func:`vouchers` gives the
gigabit voucher, min(cap, cost share), under the rule set of
:class:`fibreplan.config.FundingRules`, and :func:`subsidy_gaps` the gap
max(0, cost share - commercially viable investment) of the subsidisable
(eligible) premises.

References
----------
BDUK, "Premises in BDUK plans" transparency data and user guide (2025).
gov.uk, "Gigabit Broadband Voucher Scheme information" (updated 17 Oct 2025).
S. C. Littlechild and G. Owen, "A simple expression for the Shapley value in a
special case", Management Science 20(3), 370-372 (1973), doi:10.1287/mnsc.20.3.370.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp
from matplotlib.figure import Figure
from scipy.sparse import csgraph

from fibreplan._errors import InputValidationError
from fibreplan.config import FundingRules
from fibreplan.phasing import BudgetTable
from fibreplan.phasing import Frontier
from fibreplan.phasing import RootedTree
from fibreplan.phasing import budget_table
from fibreplan.phasing import frontier
from fibreplan.phasing import phases

__all__ = [
    "ANCHOR_CLASSES",
    "STATUSES",
    "BidOptions",
    "BidResult",
    "StatusJoin",
    "anchor_mask",
    "apply_bid",
    "bid_facts",
    "bid_lines",
    "bid_options_from_cli",
    "bid_tree",
    "cost_shares",
    "eligible_mask",
    "join_status",
    "normalise_status",
    "read_status",
    "required_premises",
    "subsidy_gaps",
    "vouchers",
    "write_bid_outputs",
]

logger = logging.getLogger(__name__)

#: fibreplan's subsidy statuses, in the summary's order.
STATUSES = ("white", "grey_black", "under_review", "unknown")

#: Values of ``subsidy_control_status`` (lower case, spaces squeezed) and fibreplan's status.
_STATUS_OF = {
    "gigabit white": "white",
    "white": "white",
    "gigabit grey/black": "grey_black",
    "gigabit grey": "grey_black",
    "gigabit black": "grey_black",
    "grey/black": "grey_black",
    "grey": "grey_black",
    "black": "grey_black",
    "gigabit under review": "under_review",
    "under review": "under_review",
    "": "unknown",
    "unknown": "unknown",
    "nan": "unknown",
}
#: ONS 2011 rural-urban classes counted rural by the 2022 voucher rules (England and Wales).
_RURAL_CLASSES = frozenset({"D1", "D2", "E1", "E2", "F1", "F2"})
_TRUE = frozenset({"true", "t", "1", "yes", "y"})
_FALSE = frozenset({"false", "f", "0", "no", "n"})


def normalise_status(values: pd.Series, *, source: str = "status") -> npt.NDArray[np.str_]:
    """Map ``subsidy_control_status`` texts to fibreplan's statuses (:data:`STATUSES`).

    Parameters
    ----------
    values : pandas.Series
        Status texts as in BDUK's release ("Gigabit White", "Gigabit
        Grey/Black", "Gigabit Under Review"; case and spacing ignored; empty
        or missing is ``unknown``), or fibreplan's own names.
    source : str, default "status"
        Where the values came from, for the error message.

    Returns
    -------
    numpy.ndarray of str
        One of :data:`STATUSES` per value.

    Raises
    ------
    InputValidationError
        If a value is none of the known ones (naming the first rows and values).
    """
    text = values.fillna("").astype(str).str.strip().str.lower().str.split().str.join(" ")
    text = text.str.replace("_", " ").str.replace("grey black", "grey/black")
    mapped = text.map({**_STATUS_OF, **{s.replace("_", " "): s for s in STATUSES}})
    bad = mapped.isna().to_numpy()
    if bad.any():
        rows = np.flatnonzero(bad)[:3]
        shown = ", ".join(f"row {r + 1}: {values.iloc[r]!r}" for r in rows)
        msg = (
            f"{source}: {int(bad.sum())} unknown subsidy_control_status value(s) ({shown}); "
            "use 'Gigabit White', 'Gigabit Grey/Black', 'Gigabit Under Review' or leave it empty."
        )
        raise InputValidationError(msg)
    return mapped.to_numpy(dtype=str)


def _booleans(values: pd.Series, *, column: str, source: str) -> npt.NDArray[np.float64]:
    """``true``/``false`` texts (or booleans) as 1.0/0.0, NaN where empty; anything else refused."""
    text = values.astype("string").str.strip().str.lower().fillna("")
    out = np.full(len(values), np.nan)
    out[text.isin(_TRUE).to_numpy()] = 1.0
    out[text.isin(_FALSE).to_numpy()] = 0.0
    bad = ~(text.isin(_TRUE) | text.isin(_FALSE) | (text == "")).to_numpy()
    if bad.any():
        r = int(np.flatnonzero(bad)[0])
        msg = f"{source}: column '{column}' row {r + 1} is {values.iloc[r]!r}; write true or false."
        raise InputValidationError(msg)
    return out


def read_status(source: str | Path | pd.DataFrame) -> pd.DataFrame:
    """Read a BDUK premises release (CSV or table) into one row per UPRN.

    Parameters
    ----------
    source : str, pathlib.Path or pandas.DataFrame
        The release: columns ``uprn`` and ``subsidy_control_status``
        (required), ``current_gigabit`` (``true``/``false``; coverage), and
        optionally ``rural_urban_class`` (ONS 2011 code, e.g. ``E1``) and
        ``download_mbps`` (current download speed), read by the 2022
        voucher rules only. Other columns are ignored.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``uprn`` (str); ``subsidy_status`` (one of
        :data:`STATUSES`), ``current_gigabit`` (1.0/0.0, NaN unknown),
        ``rural_urban_class`` (str, "" unknown), ``download_mbps`` (NaN unknown).

    Raises
    ------
    InputValidationError
        If the file is missing, a required column is absent, a UPRN is
        repeated or empty, or a status or boolean value is unknown (one line
        naming the file, column and row).
    """
    name = "status table" if isinstance(source, pd.DataFrame) else str(source)
    if isinstance(source, pd.DataFrame):
        raw = source
    else:
        path = Path(source)
        if not path.is_file():
            msg = f"--status: no such file '{path}'; give the BDUK premises release CSV."
            raise InputValidationError(msg)
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    raw = raw.rename(columns=lambda c: str(c).strip().lower())
    missing = [c for c in ("uprn", "subsidy_control_status") if c not in raw]
    if missing:
        msg = (
            f"{name}: column(s) {missing} missing (found {list(raw.columns)[:8]}); a BDUK "
            "release has 'uprn' and 'subsidy_control_status'."
        )
        raise InputValidationError(msg)
    uprn = raw["uprn"].astype(str).str.strip()
    empty = (uprn == "") | (uprn.str.lower() == "nan")
    if empty.any():
        msg = f"{name}: column 'uprn' is empty in row {int(np.flatnonzero(empty)[0]) + 1}."
        raise InputValidationError(msg)
    dup = uprn.duplicated(keep=False)
    if dup.any():
        msg = (
            f"{name}: UPRN {uprn[dup].iloc[0]} appears {int((uprn == uprn[dup].iloc[0]).sum())} "
            f"times ({int(dup.sum())} rows repeat a UPRN); keep one row per UPRN."
        )
        raise InputValidationError(msg)
    n = len(raw)
    out = pd.DataFrame(
        {
            "subsidy_status": normalise_status(raw["subsidy_control_status"], source=name),
            "current_gigabit": _booleans(raw["current_gigabit"], column="current_gigabit",
                                         source=name)
            if "current_gigabit" in raw else np.full(n, np.nan),
            "rural_urban_class": raw["rural_urban_class"].astype(str).str.strip().str.upper()
            if "rural_urban_class" in raw else np.full(n, "", dtype=object),
            "download_mbps": pd.to_numeric(raw["download_mbps"], errors="coerce")
            if "download_mbps" in raw else np.full(n, np.nan),
        },
        index=pd.Index(uprn.to_numpy(), name="uprn"),
    )  # fmt: skip
    logger.info("status: %d UPRNs read from %s", n, name)
    return out


@dataclasses.dataclass(frozen=True)
class StatusJoin:
    """Subsidy facts per premises, from a status release joined by UPRN.

    Attributes
    ----------
    status : numpy.ndarray of str, shape (p,)
        One of :data:`STATUSES` per premises (``unknown``: not in the release).
    current_gigabit : numpy.ndarray of float64, shape (p,)
        1.0 gigabit-capable now, 0.0 not, NaN unknown.
    rural_urban_class : numpy.ndarray of str, shape (p,)
        ONS 2011 rural-urban class ("" unknown).
    download_mbps : numpy.ndarray of float64, shape (p,)
        Current download speed, Mbps (NaN unknown).
    unjoined_uprns : tuple of str
        UPRNs of the release that match no premises (reported, not dropped silently).
    source : str
        Where the statuses came from.
    """

    status: npt.NDArray[np.str_]
    current_gigabit: npt.NDArray[np.float64]
    rural_urban_class: npt.NDArray[np.str_]
    download_mbps: npt.NDArray[np.float64]
    unjoined_uprns: tuple[str, ...] = ()
    source: str = ""

    @classmethod
    def unknown(cls, n: int) -> StatusJoin:
        """Return ``n`` premises of unknown status (no release given).

        Parameters
        ----------
        n : int
            Number of premises.

        Returns
        -------
        StatusJoin
            Every premises ``unknown``.
        """
        return cls(
            status=np.full(n, "unknown"),
            current_gigabit=np.full(n, np.nan),
            rural_urban_class=np.full(n, ""),
            download_mbps=np.full(n, np.nan),
        )

    def counts(self) -> dict[str, int]:
        """Return the number of premises of each status (every one of :data:`STATUSES`).

        Returns
        -------
        dict of str to int
            ``{"white": ..., "grey_black": ..., "under_review": ..., "unknown": ...}``.
        """
        return {s: int((self.status == s).sum()) for s in STATUSES}


def join_status(premises_ids: pd.Series, release: pd.DataFrame, *, source: str = "") -> StatusJoin:
    """Join a status release (see :func:`read_status`) to the premises by UPRN.

    Parameters
    ----------
    premises_ids : pandas.Series
        Each premises' UPRN (or the ID the release is keyed by), in plan order.
    release : pandas.DataFrame
        As returned by :func:`read_status`.
    source : str, optional
        Where the release came from (logged and kept).

    Returns
    -------
    StatusJoin
        Status per premises; premises the release does not list are
        ``unknown``; release UPRNs that match no premises are listed in
        ``unjoined_uprns`` and logged.
    """
    ids = premises_ids.astype(str).str.strip()
    pos = release.index.get_indexer(ids.to_numpy())
    hit = pos >= 0
    take = np.where(hit, pos, 0)
    status = np.where(hit, release["subsidy_status"].to_numpy(dtype=str)[take], "unknown")
    current = np.where(hit, release["current_gigabit"].to_numpy(dtype=float)[take], np.nan)
    ruc = np.where(hit, release["rural_urban_class"].to_numpy(dtype=str)[take], "")
    mbps = np.where(hit, release["download_mbps"].to_numpy(dtype=float)[take], np.nan)
    unjoined = release.index[~release.index.isin(ids.to_numpy())]
    if unjoined.size:
        logger.warning(
            "status: %d of %d UPRNs in %s match no premises (e.g. %s)",
            unjoined.size, len(release), source or "the release", ", ".join(unjoined[:5]),
        )  # fmt: skip
    logger.info(
        "status: %d of %d premises joined; %d unknown",
        int(hit.sum()), hit.size, int((status == "unknown").sum()),
    )  # fmt: skip
    return StatusJoin(
        status=status.astype(str),
        current_gigabit=current.astype(float),
        rural_urban_class=ruc.astype(str),
        download_mbps=mbps.astype(float),
        unjoined_uprns=tuple(str(u) for u in unjoined),
        source=source,
    )


def eligible_mask(
    status: npt.NDArray[np.str_], *, include_under_review: bool = False
) -> npt.NDArray[np.bool_]:
    """Return which premises a subsidised bid may fund: White (and Under Review if asked).

    Parameters
    ----------
    status : numpy.ndarray of str
        One of :data:`STATUSES` per premises.
    include_under_review : bool, default False
        Whether Under Review premises count as eligible (a bid prepared before
        the Public Review closes); Grey/Black and unknown never are.

    Returns
    -------
    numpy.ndarray of bool
    """
    allowed = ["white", "under_review"] if include_under_review else ["white"]
    return np.isin(status, allowed)


def _rooted(
    edges: npt.NDArray[np.int64], root: int, n_nodes: int
) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int32]]:
    """BFS order from ``root`` and each node's parent (-9999 off the tree) of a forest's edges."""
    m = edges.shape[0]
    A = sp.csr_array(
        (np.ones(2 * m), (np.r_[edges[:, 0], edges[:, 1]], np.r_[edges[:, 1], edges[:, 0]])),
        shape=(n_nodes, n_nodes),
    )
    order, parent = csgraph.breadth_first_order(A, root, directed=False)
    return order, parent


def cost_shares(
    edges: npt.NDArray[np.int64],
    edge_cost_gbp: npt.NDArray[np.float64],
    root: int,
    premises_node: npt.NDArray[np.int64],
    *,
    other_gbp: float = 0.0,
) -> npt.NDArray[np.float64]:
    """Split a tree's build cost over the premises it passes, GBP per premises.

    The route's cost goes by the airport-game rule (Littlechild & Owen 1973,
    the Shapley value of the tree's cost game): each trench's cost is shared
    equally by the premises whose path to the headend uses it; ``other_gbp``
    (equipment, planning and all other build items) is shared equally.

    Parameters
    ----------
    edges : numpy.ndarray of int64, shape (k, 2)
        The tree's edges (node pairs).
    edge_cost_gbp : numpy.ndarray of float64, shape (k,)
        Cost of each tree edge, GBP.
    root : int
        The headend's node.
    premises_node : numpy.ndarray of int64, shape (p,)
        Node of each premises on the tree; -1 for premises not passed.
    other_gbp : float, default 0
        Build cost not on the route, GBP, shared equally by the premises passed.

    Returns
    -------
    numpy.ndarray of float64, shape (p,)
        Cost share of each premises, GBP (NaN if not passed); the shares add
        up to the route cost plus ``other_gbp``.

    Raises
    ------
    InputValidationError
        If a passed premises' node is not on the tree.
    """
    passed = premises_node >= 0
    out = np.full(premises_node.size, np.nan)
    if not passed.any():
        return out
    n = int(max(edges.max(initial=root), premises_node.max(), root)) + 1
    order, parent = _rooted(edges.astype(np.int64), root, n)
    on_tree = np.zeros(n, dtype=bool)
    on_tree[order] = True
    if not on_tree[premises_node[passed]].all():
        msg = "cost_shares: a passed premises' node is not on the tree; pass -1 for it."
        raise InputValidationError(msg)
    count = np.bincount(premises_node[passed], minlength=n).astype(float)
    below = count.copy()  # premises at or below each node
    for v in order[:0:-1]:  # leaves first (root last, not added to a parent)
        below[parent[v]] += below[v]
    cost_to_parent = np.zeros(n)
    a, b = edges[:, 0], edges[:, 1]
    cost_to_parent[np.where(parent[b] == a, b, a)] = edge_cost_gbp  # each edge's lower end
    per = np.divide(cost_to_parent, below, out=np.zeros(n), where=below > 0)
    share = np.zeros(n)
    for v in order[1:]:  # root first: a node's share adds its parent's
        share[v] = share[parent[v]] + per[v]
    out[passed] = share[premises_node[passed]] + other_gbp / passed.sum()
    return out


def vouchers(
    facts: StatusJoin,
    share_gbp: npt.NDArray[np.float64],
    *,
    rules: FundingRules,
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.float64]]:
    """Gigabit voucher eligibility and value, min(cap, cost share), per premises passed.

    Parameters
    ----------
    facts : StatusJoin
        Status, coverage and (2022 rules) rurality and speed per premises.
    share_gbp : numpy.ndarray of float64
        Cost share of each premises, GBP (NaN: not passed; never eligible).
    rules : FundingRules
        ``voucher_rule_set`` (2025: not gigabit-capable now; 2022: also rural
        ONS class D1-F2 and at most 100 Mbps now), ``voucher_cap_gbp``,
        ``voucher_min_premises``.

    Returns
    -------
    eligible : numpy.ndarray of bool
        Passed, status known and not under Public Review, not gigabit-capable
        now (``current_gigabit`` false; unknown is not eligible), and under the
        2022 rules rural with a known speed of at most 100 Mbps; all False when
        fewer than ``voucher_min_premises`` qualify.
    value_gbp : numpy.ndarray of float64
        min(``voucher_cap_gbp``, cost share) where eligible, else 0.

    Notes
    -----
    Voucher eligibility follows coverage, not the subsidy category: a
    Grey/Black premises without gigabit today may hold a voucher; an
    Under Review one never does (gov.uk scheme rules, see
    :class:`fibreplan.config.FundingRules`).
    """
    ok = (
        np.isfinite(share_gbp)
        & np.isin(facts.status, ["white", "grey_black"])
        & (facts.current_gigabit == 0.0)
    )
    if rules.voucher_rule_set == 2022:
        ok &= np.isin(facts.rural_urban_class, list(_RURAL_CLASSES))
        ok &= facts.download_mbps <= 100
    if ok.sum() < rules.voucher_min_premises:
        ok[:] = False
    value = np.where(ok, np.minimum(rules.voucher_cap_gbp, np.nan_to_num(share_gbp)), 0.0)
    return ok, value


def subsidy_gaps(
    share_gbp: npt.NDArray[np.float64],
    subsidisable: npt.NDArray[np.bool_],
    *,
    rules: FundingRules,
) -> npt.NDArray[np.float64]:
    """Subsidy gap per premises: max(0, cost share - commercially viable investment), GBP.

    Parameters
    ----------
    share_gbp : numpy.ndarray of float64
        Cost share of each premises, GBP (NaN: not passed).
    subsidisable : numpy.ndarray of bool
        Eligible premises (see :func:`eligible_mask`); others get 0.
    rules : FundingRules
        Viable-investment model (:attr:`FundingRules.viable_investment_gbp`).

    Returns
    -------
    numpy.ndarray of float64
        The gap, GBP; 0 for premises not subsidisable or not passed.
    """
    gap = np.maximum(0.0, np.nan_to_num(share_gbp) - rules.viable_investment_gbp)
    return np.where(subsidisable & np.isfinite(share_gbp), gap, 0.0)


# --------------------------------------------------------------------------------------
# A bid: status, eligible-only routing, budget, frontier, phases and subsidy on a plan

#: Premises classes taken as public anchor tenants (schools, libraries, GP surgeries, council
#: buildings: the loaders' ``class`` column, see :func:`fibreplan.load_premises`).
ANCHOR_CLASSES = ("public",)
#: Reasons given to premises a bid plan leaves out (the premises layer's ``reason``).
REASON_NOT_ELIGIBLE = "not_eligible_not_passed"
REASON_OVER_BUDGET = "beyond_budget"
#: Budgets (fractions of the whole plan's spend) at which the frontier is measured against
#: the exact budget plan.
REFERENCE_FRACTIONS = (0.25, 0.5, 0.75)


@dataclasses.dataclass(frozen=True, kw_only=True)
class BidOptions:
    """What a bid asks of a plan: statuses, eligible-only routing, budget, phases.

    Attributes
    ----------
    status : str, pathlib.Path, pandas.DataFrame or None
        BDUK premises release joined by UPRN (the premises ID), see
        :func:`read_status`; None: a ``subsidy_control_status`` column of the
        premises if present, else every premises ``unknown``.
    eligible_only : bool
        Route to eligible premises only (White; with ``include_under_review``
        also Under Review); others passed anyway count as passed, not subsidisable.
    include_under_review : bool
        Count Under Review premises as eligible.
    anchors_first : bool
        Make public anchor tenants (``class`` in :data:`ANCHOR_CLASSES`)
        required terminals and build them first.
    budget_gbp : float or None
        Build budget, GBP: the plan becomes the sub-tree passing the most
        (eligible) premises within it (:func:`fibreplan.phasing.best_within_budget`),
        re-designed and re-costed so that its build cost stays within it.
    phases : int or None
        Number of build phases of about equal spend, along the frontier.
    phase_budget_gbp : float or None
        Most spend per phase, GBP (instead of ``phases``).
    rules : FundingRules
        Voucher and viable-investment rules.
    """

    status: str | Path | pd.DataFrame | None = None
    eligible_only: bool = False
    include_under_review: bool = False
    anchors_first: bool = False
    budget_gbp: float | None = None
    phases: int | None = None
    phase_budget_gbp: float | None = None
    rules: FundingRules = dataclasses.field(default_factory=FundingRules)

    def __post_init__(self) -> None:
        """Refuse a negative budget and phases given both ways."""
        if self.budget_gbp is not None and not self.budget_gbp > 0:
            msg = f"--budget must be a positive amount of GBP; got {self.budget_gbp}."
            raise InputValidationError(msg)
        if self.phases is not None and self.phase_budget_gbp is not None:
            msg = "give --phases N or --phase-budget GBP, not both."
            raise InputValidationError(msg)


@dataclasses.dataclass(frozen=True)
class BidResult:
    """A bid's figures on a plan: per premises, per trench, the frontier and the phases.

    Attributes
    ----------
    options : BidOptions
        What was asked.
    facts : StatusJoin
        Status per premises (and the release's unjoined UPRNs).
    eligible : numpy.ndarray of bool, shape (p,)
        Eligible for subsidy (White, or also Under Review if asked).
    share_gbp : numpy.ndarray of float64, shape (p,)
        Cost share of each premises passed, GBP (NaN if not passed), see :func:`cost_shares`.
    voucher_eligible : numpy.ndarray of bool, shape (p,)
    voucher_gbp : numpy.ndarray of float64, shape (p,)
    gap_gbp : numpy.ndarray of float64, shape (p,)
        Subsidy gap of each eligible premises passed, GBP.
    premises_phase : numpy.ndarray of int64, shape (p,)
        Build phase of each premises passed (1, 2, ...), 0 if not passed.
    edge_phase : numpy.ndarray of int64, shape (k,)
        Build phase of each trench of the plan (rows of ``plan.tree_edge_rows``).
    frontier : pandas.DataFrame
        The whole plan's frontier: ``step``, ``spend_gbp``, ``premises_passed``
        (target premises: eligible ones when a status is known, else all),
        ``premises_passed_all`` and ``best_premises_passed`` (the exact best
        on the tree for that spend, :func:`fibreplan.phasing.budget_table`).
    best : pandas.DataFrame
        The exact best on the whole plan's tree: ``premises_passed`` (each
        count of target premises) and ``least_spend_gbp`` (the least spend
        passing at least that many), :class:`fibreplan.phasing.BudgetTable`.
    reference : pandas.DataFrame
        The frontier at a few budgets against the exact plan within each:
        ``budget_gbp``, ``frontier_premises``, ``best_premises``, ``shortfall_pct``.
    phases : list of dict
        Per phase: ``phase``, ``spend_gbp``, ``premises_passed``,
        ``cumulative_spend_gbp``, ``cumulative_premises_passed``.
    per_premises_gbp : float
        Build cost per premises passed outside the route, GBP (the spend model's slope).
    target : str
        ``"eligible"`` or ``"all"``: what the frontier counts.
    """

    options: BidOptions
    facts: StatusJoin
    eligible: npt.NDArray[np.bool_]
    share_gbp: npt.NDArray[np.float64]
    voucher_eligible: npt.NDArray[np.bool_]
    voucher_gbp: npt.NDArray[np.float64]
    gap_gbp: npt.NDArray[np.float64]
    premises_phase: npt.NDArray[np.int64]
    edge_phase: npt.NDArray[np.int64]
    frontier: pd.DataFrame
    best: pd.DataFrame
    reference: pd.DataFrame
    phases: list[dict[str, float | int]]
    per_premises_gbp: float
    target: str

    def summary(self, *, passed: npt.NDArray[np.bool_], build_gbp: float) -> dict[str, object]:
        """Return the bid's ``summary.json`` keys.

        Parameters
        ----------
        passed : numpy.ndarray of bool, shape (p,)
            Premises the plan passes.
        build_gbp : float
            The plan's build cost, GBP.

        Returns
        -------
        dict
            ``premises_white``, ``premises_grey_black``, ``premises_under_review``,
            ``premises_status_unknown``, ``premises_eligible_passed``,
            ``voucher_eligible``, ``voucher_value_gbp``, ``subsidy_gap_total_gbp``,
            ``unjoined_uprns`` (count), ``cost_per_eligible_premises_passed_gbp``
            (build cost / eligible premises passed; None when none),
            ``frontier_reference`` (the frontier at a quarter, half and three
            quarters of the whole spend against the exact best) and ``phases``.
        """
        counts = self.facts.counts()
        eligible_passed = int((self.eligible & passed).sum())
        return {
            "premises_white": counts["white"],
            "premises_grey_black": counts["grey_black"],
            "premises_under_review": counts["under_review"],
            "premises_status_unknown": counts["unknown"],
            "premises_eligible_passed": eligible_passed,
            "cost_per_eligible_premises_passed_gbp": (
                round(build_gbp / eligible_passed, 2) if eligible_passed else None
            ),
            "voucher_eligible": int(self.voucher_eligible.sum()),
            "voucher_value_gbp": round(float(self.voucher_gbp.sum()), 2),
            "subsidy_gap_total_gbp": round(float(self.gap_gbp.sum()), 2),
            "unjoined_uprns": len(self.facts.unjoined_uprns),
            "frontier_reference": self.reference.to_dict(orient="records"),
            "phases": self.phases,
        }


def bid_facts(options: BidOptions, premises: pd.DataFrame) -> StatusJoin:
    """Return the status facts of the premises for a bid (release, status column or unknown).

    Parameters
    ----------
    options : BidOptions
        ``status`` names the release (or None).
    premises : pandas.DataFrame
        The loaded premises (``premises_id``; optionally ``subsidy_control_status``
        and ``current_gigabit`` columns).

    Returns
    -------
    StatusJoin
    """
    if options.status is not None:
        source = "status table" if isinstance(options.status, pd.DataFrame) else str(options.status)
        return join_status(
            premises["premises_id"], read_status(options.status), source=Path(source).name
        )
    if "subsidy_control_status" in premises:
        n = len(premises)
        current = (
            _booleans(premises["current_gigabit"], column="current_gigabit", source="premises")
            if "current_gigabit" in premises
            else np.full(n, np.nan)
        )
        return StatusJoin(
            status=normalise_status(premises["subsidy_control_status"], source="premises"),
            current_gigabit=current,
            rural_urban_class=np.full(n, ""),
            download_mbps=np.full(n, np.nan),
            source="premises column subsidy_control_status",
        )
    return StatusJoin.unknown(len(premises))


def required_premises(
    options: BidOptions, facts: StatusJoin, premises: pd.DataFrame
) -> npt.NDArray[np.bool_] | None:
    """Return which premises must be reached (None: all of them, the usual plan).

    Parameters
    ----------
    options : BidOptions
        ``eligible_only``, ``include_under_review``, ``anchors_first``.
    facts : StatusJoin
        Status per premises.
    premises : pandas.DataFrame
        The loaded premises (``class``).

    Returns
    -------
    numpy.ndarray of bool or None
        Eligible premises (plus anchors when ``anchors_first``) under
        ``eligible_only``; None otherwise.

    Raises
    ------
    InputValidationError
        If ``eligible_only`` leaves no premises to reach.
    """
    if not options.eligible_only:
        return None
    required = eligible_mask(facts.status, include_under_review=options.include_under_review)
    if options.anchors_first:
        required = required | anchor_mask(premises)
    if not required.any():
        counts = facts.counts()
        msg = (
            f"--eligible-only: no eligible premises to plan (statuses {counts}); "
            "check --status (joined by the premises ID / UPRN) or add --include-under-review."
        )
        raise InputValidationError(msg)
    return required


def anchor_mask(premises: pd.DataFrame) -> npt.NDArray[np.bool_]:
    """Return which premises are public anchor tenants (``class`` in :data:`ANCHOR_CLASSES`).

    Parameters
    ----------
    premises : pandas.DataFrame
        Premises with a ``class`` column (absent: none are anchors).

    Returns
    -------
    numpy.ndarray of bool
    """
    if "class" not in premises:
        return np.zeros(len(premises), dtype=bool)
    return premises["class"].astype(str).isin(ANCHOR_CLASSES).to_numpy()


#: Re-design and re-cost a plan on part of its tree: ``(plan, premises_node,
#: premises_reason, rows) -> plan`` (given by :func:`fibreplan.plan`).
Replan = Callable[[Any, npt.NDArray[np.int64], npt.NDArray[np.str_], npt.NDArray[np.int64]], Any]
#: Budget-fitting rounds: the budget plan is re-costed and shrunk until its build cost fits.
_FIT_ROUNDS = 8


def _plan_tree(plan: Any, per_premises_gbp: float) -> tuple[RootedTree, npt.NDArray[np.int64]]:
    """Root the plan's tree at its headend (several: a zero-cost virtual root joins them).

    Returns the rooted tree and each node's count of premises passed.
    """
    tg, rows = plan.trench_graph, plan.tree_edge_rows
    n = tg.n_nodes + 1  # the last node is the virtual root
    heads = np.unique(tg.headends)
    edges = np.vstack(
        [np.column_stack([tg.edge_u[rows], tg.edge_v[rows]]),
         np.column_stack([np.full(heads.size, n - 1), heads])]
    ).astype(np.int64)  # fmt: skip
    cost = np.r_[tg.edge_cost_gbp[rows], np.zeros(heads.size)]
    passed = tg.premises_node >= 0
    count = np.bincount(tg.premises_node[passed], minlength=n).astype(np.int64)
    node_cost = count.astype(np.float64) * per_premises_gbp
    return RootedTree.build(edges, cost, n - 1, node_cost), count


def _node_counts(
    node: npt.NDArray[np.int64], mask: npt.NDArray[np.bool_], n: int
) -> npt.NDArray[np.int64]:
    keep = mask & (node >= 0)
    return np.bincount(node[keep], minlength=n).astype(np.int64)


def _per_premises_gbp(plan: Any) -> float:
    """Build cost per premises passed outside the route (GBP): the spend model's slope."""
    tg, rows = plan.trench_graph, plan.tree_edge_rows
    passed = int((tg.premises_node >= 0).sum())
    route = float(tg.edge_cost_gbp[rows].sum())
    return max(0.0, plan.costing.build_gbp - route) / passed if passed else 0.0


def _restrict(
    plan: Any, chosen: npt.NDArray[np.bool_], replan: Replan
) -> Any:
    """Re-plan on the chosen nodes of the plan's tree (premises elsewhere: beyond the budget)."""
    tg, rows = plan.trench_graph, plan.tree_edge_rows
    node = tg.premises_node
    keep = (node >= 0) & chosen[np.maximum(node, 0)]
    reason = np.where((node >= 0) & ~keep, REASON_OVER_BUDGET, tg.premises_reason)
    kept_rows = rows[chosen[tg.edge_u[rows]] & chosen[tg.edge_v[rows]]]
    return replan(plan, np.where(keep, node, -1), reason.astype(str), kept_rows)


def _fit_budget(plan: Any, table: BudgetTable, budget: float, replan: Replan) -> Any:
    """Re-plan on the exact budget sub-tree, moving the model budget until the build cost fits.

    The spend model averages the non-route items, so the designed sub-tree's
    build cost differs from its model spend: the model budget moves by the
    difference for a few rounds and the best plan whose build cost is within
    the budget is kept (most target premises, then least cost).
    """
    model_budget, best, best_key = budget, None, None
    lo, hi = 0.0, np.inf  # model budgets known to fit / not to fit
    for _ in range(_FIT_ROUNDS):
        chosen, spend, passed = table.best(model_budget)
        if passed == 0:
            break
        fitted = _restrict(plan, chosen[:-1], replan)
        build = fitted.costing.build_gbp
        logger.info(
            "budget: GBP %.0f model spend passes %d target premises; build cost GBP %.0f "
            "(budget GBP %.0f)", spend, passed, build, budget,
        )  # fmt: skip
        if build <= budget + 1e-6:
            lo = max(lo, model_budget)
            if best_key is None or (passed, -build) > best_key:
                best, best_key = fitted, (passed, -build)
        else:
            hi = min(hi, model_budget)
        step = model_budget + (budget - build)
        model_budget = step if lo < step < hi else (lo + hi) / 2 if np.isfinite(hi) else step
    if best is None:
        msg = (
            f"--budget GBP {budget:,.0f} buys no plan: even the cheapest part of the route "
            "from the headend costs more once designed; raise the budget."
        )
        raise InputValidationError(msg)
    return best


def _reference(table: BudgetTable, fr: Frontier) -> pd.DataFrame:
    """Measure the frontier at fractions of the whole spend against the exact budget plans."""
    rows = []
    for frac in REFERENCE_FRACTIONS:
        budget = float(fr.spend_gbp[-1]) * frac
        best = int(table.premises_within([budget])[0])
        got = fr.at_budget(budget)[2]
        rows.append({
            "budget_gbp": round(budget, 2),
            "frontier_premises": got,
            "best_premises": best,
            "shortfall_pct": round(100.0 * (best - got) / best, 3) if best else 0.0,
        })  # fmt: skip
    return pd.DataFrame(rows)


def _best_table(exact: BudgetTable) -> pd.DataFrame:
    """Least spend passing at least k target premises, for every k reachable (GBP)."""
    least = np.minimum.accumulate(exact.spend_gbp[::-1])[::-1]
    k = np.flatnonzero(np.isfinite(least))
    return pd.DataFrame({"premises_passed": k, "least_spend_gbp": least[k].round(2)})


def _phase_table(
    fr: Frontier, step_phase: npt.NDArray[np.int64]
) -> list[dict[str, float | int]]:
    spend = np.bincount(step_phase, weights=np.diff(fr.spend_gbp, prepend=0.0))[1:]
    passed = np.bincount(step_phase, weights=np.diff(fr.passed_all, prepend=0))[1:]
    return [
        {
            "phase": i + 1,
            "spend_gbp": round(float(spend[i]), 2),
            "premises_passed": int(passed[i]),
            "cumulative_spend_gbp": round(float(spend[: i + 1].sum()), 2),
            "cumulative_premises_passed": int(passed[: i + 1].sum()),
        }
        for i in range(spend.size)
    ]


def apply_bid(plan: Any, options: BidOptions, facts: StatusJoin, *, replan: Replan) -> Any:
    """Add a bid's figures to a plan: budget plan, frontier, phases, vouchers and subsidy gap.

    Parameters
    ----------
    plan : Plan
        The routed, designed and costed plan (eligible-only routing already
        applied, see :func:`required_premises`).
    options : BidOptions
        What the bid asks.
    facts : StatusJoin
        Status per premises (see :func:`bid_facts`).
    replan : callable
        Re-designs and re-costs the plan on part of its tree (given by
        :func:`fibreplan.plan`).

    Returns
    -------
    Plan
        The plan (within ``options.budget_gbp`` when given) with ``bid`` set.

    Raises
    ------
    InputValidationError
        If the budget buys nothing.

    Notes
    -----
    Spend = the route's GBP (the optimiser's edge costs) + a cost per
    premises passed (the plan's other build items averaged over the premises
    it passes), so the whole tree's spend equals the plan's build cost.
    """
    eligible = eligible_mask(facts.status, include_under_review=options.include_under_review)
    target_mask = eligible if eligible.any() else np.ones(eligible.size, dtype=bool)
    per = _per_premises_gbp(plan)
    tree, count = _plan_tree(plan, per)
    node = plan.trench_graph.premises_node
    target = _node_counts(node, target_mask, count.size)
    anchors: npt.NDArray[np.int64] | None = None
    if options.anchors_first:
        anchors = _node_counts(node, anchor_mask(plan.premises_input), count.size)
    full = frontier(tree, target, count, anchors=anchors)
    exact = budget_table(tree, target)
    reference = _reference(exact, full)
    table = pd.DataFrame({
        "step": np.arange(full.spend_gbp.size),
        "spend_gbp": full.spend_gbp.round(2),
        "premises_passed": full.passed,
        "premises_passed_all": full.passed_all,
        "best_premises_passed": exact.premises_within(full.spend_gbp),
    })  # fmt: skip
    if options.budget_gbp is not None:
        plan = _fit_budget(plan, exact, options.budget_gbp, replan)
        per = _per_premises_gbp(plan)  # the budget plan's own slope: phases add up to its cost
        tree, count = _plan_tree(plan, per)
        node = plan.trench_graph.premises_node
        target = _node_counts(node, target_mask, count.size)
        anchors = None if anchors is None else _node_counts(
            node, anchor_mask(plan.premises_input), count.size
        )
        fr = frontier(tree, target, count, anchors=anchors)
    else:
        fr = full
    if options.phases is not None or options.phase_budget_gbp is not None:
        step_phase = phases(fr, count=options.phases, phase_budget_gbp=options.phase_budget_gbp)
    else:
        step_phase = np.ones(fr.spend_gbp.size, dtype=np.int64)
    tg, rows = plan.trench_graph, plan.tree_edge_rows
    passed = node >= 0
    premises_phase = np.where(passed, step_phase[fr.node_step[np.maximum(node, 0)]], 0)
    edge_phase = step_phase[fr.edge_step[: rows.size]]  # the virtual root's edges come last
    other = max(0.0, plan.costing.build_gbp - float(tg.edge_cost_gbp[rows].sum()))
    edges = np.column_stack([tg.edge_u[rows], tg.edge_v[rows]])
    share = _shares(edges, tg.edge_cost_gbp[rows], tg.headends, node, other)
    voucher_ok, voucher = vouchers(facts, share, rules=options.rules)
    gap = subsidy_gaps(share, eligible & passed, rules=options.rules)
    result = BidResult(
        options=options, facts=facts, eligible=eligible, share_gbp=share,
        voucher_eligible=voucher_ok, voucher_gbp=voucher, gap_gbp=gap,
        premises_phase=premises_phase.astype(np.int64), edge_phase=edge_phase.astype(np.int64),
        frontier=table, best=_best_table(exact), reference=reference,
        phases=_phase_table(fr, step_phase) if options.phases or options.phase_budget_gbp else [],
        per_premises_gbp=per, target="eligible" if eligible.any() else "all",
    )  # fmt: skip
    logger.info(
        "bid: %d eligible premises passed, vouchers GBP %.0f, subsidy gap GBP %.0f, %d phases",
        int((eligible & passed).sum()), voucher.sum(), gap.sum(), len(result.phases),
    )  # fmt: skip
    return dataclasses.replace(plan, bid=result)


def _shares(
    edges: npt.NDArray[np.int64],
    cost: npt.NDArray[np.float64],
    heads: npt.NDArray[np.int64],
    node: npt.NDArray[np.int64],
    other: float,
) -> npt.NDArray[np.float64]:
    """Cost shares with several headends joined by a zero-cost virtual root."""
    n = int(max(edges.max(initial=0), heads.max(), node.max())) + 2
    v = n - 1
    joined = np.vstack([edges, np.column_stack([np.full(heads.size, v), heads])])
    return cost_shares(joined, np.r_[cost, np.zeros(heads.size)], v, node, other_gbp=other)


def _frontier_figure(bid: BidResult, *, budget_gbp: float | None) -> Figure:
    """Premises passed against spend: the frontier, the exact best, the phases and the budget."""
    f = bid.frontier
    fig = Figure(figsize=(8, 5), dpi=120)
    ax = fig.add_subplot()
    ax.step(f["spend_gbp"] / 1e3, f["premises_passed"], where="post", color="#1f5fa8",
            label="frontier (build order, dig once)")
    b = bid.best
    ax.step(b["least_spend_gbp"] / 1e3, b["premises_passed"], where="post", color="#888888",
            linestyle="--", label="exact best within each spend on the tree (reference)")
    for ph in bid.phases[:-1]:
        ax.axvline(float(ph["cumulative_spend_gbp"]) / 1e3, color="#2a9d8f", linewidth=0.8,
                   linestyle=":")
    if bid.phases:
        ax.plot([], [], color="#2a9d8f", linestyle=":", label="phase boundaries")
    if budget_gbp is not None:
        ax.axvline(budget_gbp / 1e3, color="#c0504d", label=f"budget GBP {budget_gbp:,.0f}")
    ax.set_xlabel("spend, GBP thousand (route + other build items per premises passed)")
    ax.set_ylabel(f"{bid.target} premises passed")
    ax.set_title("Coverage against spend")
    ax.grid(visible=True, alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    return fig


def write_bid_outputs(plan: Any, paths: dict[str, Path]) -> None:
    """Write ``frontier.csv``, ``frontier.png``, ``phases.csv`` and the bid workbook's sheets.

    Parameters
    ----------
    plan : Plan
        A plan with a bid (``plan.bid``); nothing is written without one.
    paths : dict of str to pathlib.Path
        Targets by key of :data:`fibreplan.export.FILES` (``frontier_csv``,
        ``frontier_png``, ``phases_csv``; ``xlsx``, if it exists, gains the
        ``Frontier`` and ``Phases`` sheets).
    """
    bid = plan.bid
    if bid is None:
        return
    bid.frontier.to_csv(paths["frontier_csv"], index=False)
    phases_table = pd.DataFrame(
        bid.phases,
        columns=["phase", "spend_gbp", "premises_passed", "cumulative_spend_gbp",
                 "cumulative_premises_passed"],
    )  # fmt: skip
    phases_table.to_csv(paths["phases_csv"], index=False)
    _frontier_figure(bid, budget_gbp=bid.options.budget_gbp).savefig(paths["frontier_png"])
    xlsx = paths.get("xlsx")
    if xlsx is not None and xlsx.is_file():
        with pd.ExcelWriter(xlsx, engine="openpyxl", mode="a", if_sheet_exists="replace") as w:
            phases_table.to_excel(w, sheet_name="Phases", index=False)
            bid.frontier.to_excel(w, sheet_name="Frontier", index=False)
            bid.reference.to_excel(w, sheet_name="Frontier reference", index=False)


def bid_lines(s: dict[str, Any]) -> list[str]:
    """Return the printed summary's lines for a bid (none for a plan without one).

    Parameters
    ----------
    s : dict
        A plan's summary (:attr:`fibreplan.Plan.summary`).

    Returns
    -------
    list of str
        Statuses, eligible premises passed and their cost, vouchers, subsidy
        gap, the frontier against the reference and the phases.
    """
    if not s.get("frontier_reference"):
        return []
    per = s["cost_per_eligible_premises_passed_gbp"]
    lines = [
        (f"  status        {s['premises_white']:,} White, {s['premises_grey_black']:,} "
         f"Grey/Black, {s['premises_under_review']:,} Under Review, "
         f"{s['premises_status_unknown']:,} unknown ({s['unjoined_uprns']:,} UPRNs not joined)"),
        (f"  eligible      {s['premises_eligible_passed']:,} passed"
         + (f", £{per:,.0f} build per eligible premises passed" if per is not None else "")),
        (f"  subsidy       vouchers {s['voucher_eligible']:,} premises "
         f"£{s['voucher_value_gbp']:,.0f}; subsidy gap £{s['subsidy_gap_total_gbp']:,.0f}"),
        "  frontier      " + "; ".join(
            f"£{r['budget_gbp']:,.0f}: {r['frontier_premises']:,} (best {r['best_premises']:,})"
            for r in s["frontier_reference"]
        ),
    ]  # fmt: skip
    lines += [
        f"  phase {p['phase']:<7} £{p['spend_gbp']:,.0f}, {p['premises_passed']:,} premises "
        f"(cumulative £{p['cumulative_spend_gbp']:,.0f}, {p['cumulative_premises_passed']:,})"
        for p in s["phases"]
    ]
    return lines


def bid_options_from_cli(opts: dict[str, Any]) -> BidOptions | None:
    """Return the bid the command-line options ask for (None: none of them given).

    Parameters
    ----------
    opts : dict
        The CLI's options: ``status``, ``eligible_only``, ``include_under_review``,
        ``anchors_first``, ``budget``, ``phases``, ``phase_budget``, ``funding``.

    Returns
    -------
    BidOptions or None
    """
    keys = ("status", "eligible_only", "include_under_review", "anchors_first", "budget",
            "phases", "phase_budget", "funding")  # fmt: skip
    if not any(opts.get(k) for k in keys):
        return None
    if opts.get("status") is not None and not Path(opts["status"]).is_file():
        msg = f"--status: no such file '{opts['status']}'; give the BDUK premises release CSV."
        raise InputValidationError(msg)
    rules = FundingRules.from_toml(opts["funding"]) if opts.get("funding") else FundingRules()
    return BidOptions(
        status=opts.get("status"),
        eligible_only=bool(opts.get("eligible_only")),
        include_under_review=bool(opts.get("include_under_review")),
        anchors_first=bool(opts.get("anchors_first")),
        budget_gbp=opts.get("budget"),
        phases=opts.get("phases"),
        phase_budget_gbp=opts.get("phase_budget"),
        rules=rules,
    )


def bid_tree(plan: Any) -> tuple[RootedTree, npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Return a bid plan's rooted tree with its target and all premises per node.

    Parameters
    ----------
    plan : Plan
        A plan with a bid (``plan.bid``).

    Returns
    -------
    tree : RootedTree
        The plan's tree rooted at its headend(s) (a virtual root last), each
        node's step cost priced with ``plan.bid.per_premises_gbp``.
    target : numpy.ndarray of int64
        Target premises (eligible, or all when no status is known) per node.
    premises : numpy.ndarray of int64
        Premises passed per node.

    Raises
    ------
    InputValidationError
        If the plan has no bid.
    """
    if plan.bid is None:
        msg = "bid_tree: the plan has no bid; plan with bid=BidOptions(...)."
        raise InputValidationError(msg)
    tree, count = _plan_tree(plan, plan.bid.per_premises_gbp)
    node = plan.trench_graph.premises_node
    mask = plan.bid.eligible if plan.bid.target == "eligible" else np.ones(node.size, dtype=bool)
    return tree, _node_counts(node, mask, count.size), count
