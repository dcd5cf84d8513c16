"""Subsidy: status release read and joined by UPRN, eligibility, cost shares, vouchers, gap."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from fibreplan._errors import CostFileError
from fibreplan._errors import InputValidationError
from fibreplan.config import FundingRules
from fibreplan.subsidy import StatusJoin
from fibreplan.subsidy import cost_shares
from fibreplan.subsidy import eligible_mask
from fibreplan.subsidy import join_status
from fibreplan.subsidy import read_status
from fibreplan.subsidy import subsidy_gaps
from fibreplan.subsidy import vouchers

HEADER = "uprn,subsidy_control_status,current_gigabit,future_gigabit,bduk_gis,bduk_vouchers\n"


def _release(tmp_path, rows: str):
    path = tmp_path / "bduk.csv"
    path.write_text(HEADER + rows, encoding="utf-8")
    return path


def test_read_and_join_by_uprn_reports_unjoined(tmp_path, caplog) -> None:
    path = _release(
        tmp_path,
        "100,Gigabit White,false,false,false,false\n"
        "101,Gigabit Grey/Black,true,true,false,false\n"
        "102,Gigabit Under Review,false,false,false,false\n"
        "999,Gigabit White,false,false,false,false\n",  # no such premises
    )
    release = read_status(path)
    ids = pd.Series(["100", "101", "102", "103"])  # 103 is not in the release
    with caplog.at_level("WARNING"):
        facts = join_status(ids, release, source="bduk.csv")
    assert facts.status.tolist() == ["white", "grey_black", "under_review", "unknown"]
    assert facts.unjoined_uprns == ("999",)
    assert "1 of 4 UPRNs in bduk.csv match no premises (e.g. 999)" in caplog.text
    # current_gigabit is coverage, kept apart from the category; unknown stays NaN
    np.testing.assert_array_equal(facts.current_gigabit, [0.0, 1.0, 0.0, np.nan])
    assert facts.counts() == {"white": 1, "grey_black": 1, "under_review": 1, "unknown": 1}


def test_numeric_uprns_join_text_ids(tmp_path) -> None:
    release = read_status(_release(tmp_path, "100,Gigabit White,false,,,\n"))
    facts = join_status(pd.Series([100, 7]), release)
    assert facts.status.tolist() == ["white", "unknown"]


@pytest.mark.parametrize(
    ("rows", "match"),
    [
        ("100,Gigabit Beige,false,,,\n", r"row 1: 'Gigabit Beige'.*Gigabit White"),
        ("100,Gigabit White,maybe,,,\n", r"'current_gigabit' row 1 is 'maybe'"),
        ("100,Gigabit White,false,,,\n100,Gigabit White,false,,,\n", "UPRN 100 appears 2 times"),
        (",Gigabit White,false,,,\n", "'uprn' is empty in row 1"),
    ],
)
def test_bad_release_is_refused(tmp_path, rows: str, match: str) -> None:
    with pytest.raises(InputValidationError, match=match):
        read_status(_release(tmp_path, rows))


def test_missing_columns_and_file(tmp_path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("uprn,status\n1,White\n", encoding="utf-8")
    with pytest.raises(InputValidationError, match=r"\['subsidy_control_status'\] missing"):
        read_status(path)
    with pytest.raises(InputValidationError, match="no such file"):
        read_status(tmp_path / "absent.csv")


def test_eligible_only_white_unless_under_review_asked() -> None:
    status = np.array(["white", "grey_black", "under_review", "unknown"])
    assert eligible_mask(status).tolist() == [True, False, False, False]
    assert eligible_mask(status, include_under_review=True).tolist() == [True, False, True, False]


def test_cost_shares_by_hand() -> None:
    # headend 0 -- 1 (GBP 100) -- 2 (GBP 60); premises a, b at node 1, c at node 2, d not passed
    edges = np.array([[0, 1], [1, 2]])
    node = np.array([1, 1, 2, -1])
    share = cost_shares(edges, np.array([100.0, 60.0]), 0, node, other_gbp=30.0)
    # edge 0-1 serves 3 premises: 33.33 each; edge 1-2 serves c alone: 60; other: 10 each
    np.testing.assert_allclose(share[:3], [100 / 3 + 10, 100 / 3 + 10, 100 / 3 + 60 + 10])
    assert np.isnan(share[3])
    assert np.nansum(share) == pytest.approx(190.0)  # shares add up to route + other


def _facts(status, current, ruc=None, mbps=None) -> StatusJoin:
    n = len(status)
    return StatusJoin(
        status=np.array(status),
        current_gigabit=np.array(current, dtype=float),
        rural_urban_class=np.array(ruc if ruc is not None else [""] * n),
        download_mbps=np.array(mbps if mbps is not None else [np.nan] * n, dtype=float),
    )


def test_vouchers_2025_rules_by_hand() -> None:
    facts = _facts(
        ["white", "white", "grey_black", "under_review", "unknown", "white", "white"],
        [0, 0, 0, 0, np.nan, 1, np.nan],
    )
    share = np.array([6000.0, 1200.0, 800.0, 900.0, 700.0, 500.0, np.nan])
    ok, value = vouchers(facts, share, rules=FundingRules())
    # white below gigabit: yes (capped at 4,500 / its share 1,200); grey below gigabit: yes;
    # under review: never; unknown: never guessed; gigabit now: no; not passed (NaN): no
    assert ok.tolist() == [True, True, True, False, False, False, False]
    np.testing.assert_allclose(value, [4500.0, 1200.0, 800.0, 0, 0, 0, 0])


def test_vouchers_2022_rules_need_rural_and_100_mbps() -> None:
    facts = _facts(
        ["white", "white", "white", "white"],
        [0, 0, 0, 0],
        ruc=["E1", "A1", "F2", "D1"],
        mbps=[30, 30, 150, np.nan],
    )
    ok, value = vouchers(facts, np.full(4, 2000.0), rules=FundingRules(voucher_rule_set=2022))
    # only one premises qualifies (E1 at 30 Mbps): a project needs 2, so none
    assert not ok.any()
    assert value.sum() == 0
    rules = FundingRules(voucher_rule_set=2022, voucher_min_premises=1, voucher_cap_gbp=1500.0)
    ok, value = vouchers(facts, np.full(4, 2000.0), rules=rules)
    assert ok.tolist() == [True, False, False, False]
    assert value.tolist() == [1500.0, 0.0, 0.0, 0.0]


def test_voucher_rule_set_must_be_a_known_year() -> None:
    with pytest.raises(CostFileError, match=r"voucher_rule_set' must be one of \[2022, 2025\]"):
        FundingRules(voucher_rule_set=2024)


def test_viable_investment_and_gap_by_hand() -> None:
    rules = FundingRules(
        arpu_gbp_per_month=25.0, take_up=0.5, margin=0.4, years=10, discount_rate=0.0
    )
    assert rules.viable_investment_gbp == pytest.approx(25 * 12 * 0.5 * 0.4 * 10)  # 600
    share = np.array([1000.0, 500.0, 1000.0, np.nan])
    gap = subsidy_gaps(share, np.array([True, True, False, True]), rules=rules)
    # 1000 - 600 = 400; 500 is commercially viable (0); not eligible (0); not passed (0)
    np.testing.assert_allclose(gap, [400.0, 0.0, 0.0, 0.0])
    discounted = FundingRules(
        arpu_gbp_per_month=25.0, take_up=0.5, margin=0.4, years=10, discount_rate=0.035
    )
    annuity = (1 - 1.035**-10) / 0.035
    assert discounted.viable_investment_gbp == pytest.approx(60 * annuity)


# --------------------------------------------------------------------------------------
# A toy area with mixed statuses, planned end to end

X0, Y0 = 529000.0, 181500.0
#: Streets (metres from X0, Y0): a main street east from the headend and four branches north.
_SEGS = [((0, 0), (100, 0)), ((100, 0), (200, 0)), ((200, 0), (300, 0)),
         ((100, 0), (100, 100)), ((200, 0), (200, 100)), ((300, 0), (300, 100)),
         ((0, 0), (0, 100))]  # fmt: skip
#: Premises: id, position, BDUK status ("" = not in the release), gigabit now.
_TOY = [
    ("W1", (110, 80), "Gigabit White", "false"),  # branch 1
    ("W2", (310, 80), "Gigabit White", "false"),  # branch 3
    ("W3", (190, 90), "Gigabit White", "false"),  # branch 2
    ("G1", (50, 10), "Gigabit Grey/Black", "true"),  # main street: passed on the way
    ("G2", (10, 80), "Gigabit Grey/Black", "false"),  # branch 4: nothing eligible there
    ("U1", (250, 10), "Gigabit Under Review", "false"),  # main street
    ("N1", (150, 10), "", ""),  # main street, not in the release: unknown
]


def _toy_inputs(tmp_path, statuses=None):
    import geopandas as gpd
    import shapely

    lines = [shapely.LineString([(X0 + a[0], Y0 + a[1]), (X0 + b[0], Y0 + b[1])]) for a, b in _SEGS]
    streets = gpd.GeoDataFrame(
        {"highway": "residential", "name": [f"street {i}" for i in range(len(lines))]},
        geometry=lines, crs="EPSG:27700",
    )  # fmt: skip
    premises = gpd.GeoDataFrame(
        {"premises_id": [t[0] for t in _TOY], "class": "residential"},
        geometry=[shapely.Point(X0 + t[1][0], Y0 + t[1][1]) for t in _TOY],
        crs="EPSG:27700",
    )
    rows = "".join(
        f"{pid},{(statuses or {}).get(pid, status)},{gig},,,\n"
        for pid, _, status, gig in _TOY
        if status
    )
    release = _release(tmp_path, rows + "X9,Gigabit White,false,,,\n")
    return streets, premises, release


def _toy_plan(tmp_path, simple_costs, statuses=None, **options):
    import shapely

    import fibreplan
    from fibreplan.subsidy import BidOptions

    streets, premises, release = _toy_inputs(tmp_path, statuses)
    return fibreplan.plan(
        streets, premises, headend=shapely.Point(X0, Y0), costs=simple_costs,
        bid=BidOptions(status=release, **options),
    )  # fmt: skip


def _connected(p) -> set[str]:
    ids = p.premises_input["premises_id"].to_numpy()
    return set(ids[p.trench_graph.premises_node >= 0].tolist())


def test_toy_statuses_and_unjoined_in_summary(tmp_path, simple_costs) -> None:
    p = _toy_plan(tmp_path, simple_costs)
    s = p.summary
    assert (s["premises_white"], s["premises_grey_black"]) == (3, 2)
    assert (s["premises_under_review"], s["premises_status_unknown"]) == (1, 1)
    assert s["unjoined_uprns"] == 1  # X9
    assert p.bid.facts.unjoined_uprns == ("X9",)
    assert _connected(p) == {"W1", "W2", "W3", "G1", "G2", "U1", "N1"}  # every premises
    assert s["premises_eligible_passed"] == 3
    layer = p.premises.set_index("premises_id")
    assert layer.loc["N1", "subsidy_status"] == "unknown"  # never invented
    assert layer["eligible"].to_dict() == {
        "W1": True, "W2": True, "W3": True, "G1": False, "G2": False, "U1": False, "N1": False,
    }  # fmt: skip


def test_eligible_only_changes_the_terminals_exactly(tmp_path, simple_costs) -> None:
    from fibreplan.subsidy import BidOptions
    from fibreplan.subsidy import required_premises

    _streets, premises, release = _toy_inputs(tmp_path)
    facts = join_status(premises["premises_id"], read_status(release))
    ids = premises["premises_id"].to_numpy()
    assert required_premises(BidOptions(), facts, premises) is None  # the usual plan: all
    only = required_premises(BidOptions(eligible_only=True), facts, premises)
    assert set(ids[only]) == {"W1", "W2", "W3"}
    review = BidOptions(eligible_only=True, include_under_review=True)
    assert set(ids[required_premises(review, facts, premises)]) == {"W1", "W2", "W3", "U1"}
    anchors = premises.assign(**{"class": np.where(ids == "G2", "public", "residential")})
    first = BidOptions(eligible_only=True, anchors_first=True)
    assert set(ids[required_premises(first, facts, anchors)]) == {"W1", "W2", "W3", "G2"}

    p = _toy_plan(tmp_path, simple_costs, eligible_only=True)
    # G1, U1 and N1 lie on the main street the route to W2 passes: passed, not subsidisable;
    # G2 (branch 4) is not passed
    assert _connected(p) == {"W1", "W2", "W3", "G1", "U1", "N1"}
    layer = p.premises.set_index("premises_id")
    assert layer.loc["G2", "reason"] == "not_eligible_not_passed"
    # left out on purpose: no warning calls it unreachable
    assert not any("not_eligible" in w for w in p.summary["warnings"])
    assert p.summary["premises_eligible_passed"] == 3
    assert layer.loc[["G1", "U1", "N1"], "subsidy_gap_gbp"].eq(0).all()
    with pytest.raises(InputValidationError, match="no eligible premises"):
        _toy_plan(tmp_path, simple_costs, statuses={"W1": "Gigabit Grey/Black",
                  "W2": "Gigabit Grey/Black", "W3": "Gigabit Grey/Black"}, eligible_only=True)


def test_toy_vouchers_and_gap_by_hand(tmp_path, simple_costs) -> None:
    p = _toy_plan(tmp_path, simple_costs, eligible_only=True)
    layer = p.premises.set_index("premises_id")
    share = pd.Series(p.bid.share_gbp, index=layer.index)
    # shares add up to the build cost; vouchers min(4500, share) for passed premises not
    # gigabit now and not under review (W1-W3; G1 is gigabit now; U1 under review; N1 unknown)
    assert share.sum() == pytest.approx(p.costing.build_gbp)
    assert set(layer.index[layer["voucher_eligible"]]) == {"W1", "W2", "W3"}
    expected = np.minimum(4500.0, share[["W1", "W2", "W3"]])
    np.testing.assert_allclose(layer.loc[["W1", "W2", "W3"], "voucher_gbp"], expected)
    viable = FundingRules().viable_investment_gbp
    np.testing.assert_allclose(
        layer.loc[["W1", "W2", "W3"], "subsidy_gap_gbp"],
        np.maximum(0.0, share[["W1", "W2", "W3"]] - viable),
    )
    assert p.summary["subsidy_gap_total_gbp"] == pytest.approx(
        float(layer["subsidy_gap_gbp"].sum()), abs=0.01
    )


def test_toy_budget_never_exceeded_and_brute_force_finds_no_better(tmp_path, simple_costs) -> None:
    import itertools

    white = ["W1", "W2", "W3"]
    subsets = {}  # eligible premises passed -> least build cost of planning just that subset
    for r in range(1, 4):
        for chosen in itertools.combinations(white, r):
            grey = {w: "Gigabit Grey/Black" for w in white if w not in chosen}
            q = _toy_plan(tmp_path, simple_costs, statuses=grey, eligible_only=True)
            passed = int(np.isin(list(_connected(q)), white).sum())
            subsets[passed] = min(subsets.get(passed, np.inf), q.costing.build_gbp)
    full = max(subsets.values())
    assert subsets == {1: 19000.0, 2: 38000.0, 3: 56000.0}  # by hand: trench, lead-ins, headend
    for budget in sorted({*subsets.values(), full * 0.1, full * 0.5, full * 0.8, full * 2}):
        if budget < min(subsets.values()):  # not even one eligible premises: refused
            with pytest.raises(InputValidationError, match="buys no plan"):
                _toy_plan(tmp_path, simple_costs, eligible_only=True, budget_gbp=budget)
            continue
        p = _toy_plan(tmp_path, simple_costs, eligible_only=True, budget_gbp=budget)
        assert p.costing.build_gbp <= budget + 1e-6
        best = max(k for k, c in subsets.items() if c <= budget + 1e-6)
        assert p.summary["premises_eligible_passed"] >= best


def test_toy_phases_dig_once_and_add_up(tmp_path, simple_costs) -> None:
    p = _toy_plan(tmp_path, simple_costs, phases=2)
    s = p.summary
    assert [ph["phase"] for ph in s["phases"]] == [1, 2]
    assert sum(ph["spend_gbp"] for ph in s["phases"]) == pytest.approx(s["cost_build_gbp"])
    assert s["phases"][-1]["cumulative_premises_passed"] == s["premises_connected"]
    trenches = p.layers()["trenches"]
    assert trenches["edge_id"].is_unique  # each trench once, in one phase
    assert set(trenches["phase"]) <= {1, 2}
    layer = p.premises
    assert layer.loc[layer["status"] == "connected", "phase"].notna().all()
    # a premises is passed in the phase that digs its trench, or later never
    assert layer["phase"].min() == 1


def test_cli_writes_the_bid_files(tmp_path, capsys) -> None:
    from fibreplan.cli import main

    streets, premises, release = _toy_inputs(tmp_path)
    streets.to_file(tmp_path / "streets.gpkg")
    premises.to_file(tmp_path / "premises.gpkg")
    out = tmp_path / "out"
    code = main([
        "plan", "--streets", str(tmp_path / "streets.gpkg"),
        "--premises", str(tmp_path / "premises.gpkg"), "--status", str(release),
        "--eligible-only", "--phases", "2", "--out", str(out), "-q", "--no-basemap",
    ])  # fmt: skip
    assert code == 0
    printed = capsys.readouterr().out
    assert "3 White, 2 Grey/Black, 1 Under Review, 1 unknown (1 UPRNs not joined)" in printed
    assert "phase 2" in printed
    frontier = pd.read_csv(out / "frontier.csv")
    assert frontier["spend_gbp"].is_monotonic_increasing
    assert frontier["premises_passed"].is_monotonic_increasing
    assert (frontier["best_premises_passed"] >= frontier["premises_passed"]).all()
    phases_csv = pd.read_csv(out / "phases.csv")
    summary = json.loads((out / "summary.json").read_text())
    assert phases_csv["spend_gbp"].sum() == pytest.approx(summary["cost_build_gbp"], abs=0.02)
    assert (out / "frontier.png").stat().st_size > 1000
    assert summary["premises_eligible_passed"] == 3
    assert main(["plan", "--streets", str(tmp_path / "streets.gpkg"), "--premises",
                 str(tmp_path / "premises.gpkg"), "--status", str(tmp_path / "nope.csv"),
                 "--out", str(tmp_path / "o2"), "-q"]) == 2  # fmt: skip
    assert "nope.csv" in capsys.readouterr().err


def test_anchors_required_and_built_first(tmp_path, simple_costs) -> None:
    import shapely

    import fibreplan
    from fibreplan.subsidy import BidOptions

    streets, premises, release = _toy_inputs(tmp_path)
    premises["class"] = np.where(premises["premises_id"] == "G2", "public", "residential")
    p = fibreplan.plan(
        streets, premises, headend=shapely.Point(X0, Y0), costs=simple_costs,
        bid=BidOptions(status=release, eligible_only=True, anchors_first=True, phases=3),
    )  # fmt: skip
    layer = p.premises.set_index("premises_id")
    assert layer.loc["G2", "status"] == "connected"  # the anchor is required (Grey/Black)
    assert layer.loc["G2", "phase"] == 1  # and built in the first phase
    assert not layer.loc["G2", "eligible"]  # still not subsidisable
    # the dearer branch-3 premises W2 (GBP 39,000 alone) comes after the anchor's branch
    assert layer.loc["W2", "phase"] > 1


def test_budget_plan_from_two_headends(tmp_path, simple_costs) -> None:
    import shapely

    import fibreplan
    from fibreplan.subsidy import BidOptions

    streets, premises, release = _toy_inputs(tmp_path)
    heads = [shapely.Point(X0, Y0), shapely.Point(X0 + 300, Y0 + 100)]
    full = fibreplan.plan(
        streets, premises, headend=heads, costs=simple_costs,
        bid=BidOptions(status=release, eligible_only=True),
    )  # fmt: skip
    budget = 0.7 * full.costing.build_gbp
    p = fibreplan.plan(
        streets, premises, headend=heads, costs=simple_costs,
        bid=BidOptions(status=release, eligible_only=True, budget_gbp=budget, phases=2),
    )  # fmt: skip
    s = p.summary
    assert s["cost_build_gbp"] <= budget
    assert 0 < s["premises_eligible_passed"] < full.summary["premises_eligible_passed"]
    opt = s["optimiser"]
    assert opt["method"].endswith("cut to the budget")
    assert not opt["proven_optimal"]
    assert 0 < opt["lower_bound_gbp"] <= opt["tree_cost_gbp"]
    assert sum(ph["spend_gbp"] for ph in s["phases"]) == pytest.approx(s["cost_build_gbp"])


def test_status_column_in_the_premises_and_funding_file(tmp_path) -> None:
    from fibreplan.subsidy import BidOptions
    from fibreplan.subsidy import bid_facts
    from fibreplan.subsidy import bid_options_from_cli

    premises = pd.DataFrame({
        "premises_id": ["a", "b", "c"],
        "subsidy_control_status": ["Gigabit White", "", "gigabit  under review"],
        "current_gigabit": ["false", "", "true"],
    })  # fmt: skip
    facts = bid_facts(BidOptions(), premises)
    assert facts.status.tolist() == ["white", "unknown", "under_review"]
    np.testing.assert_array_equal(facts.current_gigabit, [0.0, np.nan, 1.0])
    assert bid_facts(BidOptions(), premises[["premises_id"]]).counts()["unknown"] == 3

    assert bid_options_from_cli({"status": None, "budget": None}) is None
    toml = tmp_path / "funding.toml"
    toml.write_text("[funding]\nvoucher_rule_set = 2022\nvoucher_cap_gbp = 1500.0\n")
    opts = bid_options_from_cli({"funding": str(toml), "phases": 2})
    assert opts is not None
    assert (opts.rules.voucher_rule_set, opts.rules.voucher_cap_gbp) == (2022, 1500.0)
    assert opts.phases == 2
    toml.write_text("[funding]\nvoucher_rule_set = 2023\n")
    with pytest.raises(CostFileError, match="voucher_rule_set"):
        bid_options_from_cli({"funding": str(toml)})
    with pytest.raises(InputValidationError, match="not both"):
        BidOptions(phases=2, phase_budget_gbp=1000.0)
