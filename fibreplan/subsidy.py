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
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp
from scipy.sparse import csgraph

from fibreplan._errors import InputValidationError
from fibreplan.config import FundingRules

__all__ = [
    "STATUSES",
    "StatusJoin",
    "cost_shares",
    "eligible_mask",
    "join_status",
    "normalise_status",
    "read_status",
    "subsidy_gaps",
    "vouchers",
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
