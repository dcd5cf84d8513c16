"""The data-quality report, warnings and refusals (fibreplan.quality) on hand-built inputs."""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely

import fibreplan
from fibreplan._errors import InfeasibleDesignError
from fibreplan._errors import InputValidationError
from fibreplan.config import DesignRules
from fibreplan.load import load_inputs
from fibreplan.quality import check_headend
from fibreplan.quality import check_input_sizes
from fibreplan.quality import input_quality
from fibreplan.quality import quality_text
from fibreplan.quality import refuse_unplannable
from fibreplan.trench import build_trench_graph

from .conftest import X0
from .conftest import Y0


def test_report_on_the_toy_network_by_hand(streets, premises):
    s, p = load_inputs(streets, premises)
    q = input_quality(s, p, build_trench_graph(s, p))
    assert q["premises"]["total"] == 5
    assert q["premises"]["reachable"] == 3
    unreachable = q["premises"]["unreachable"]
    assert unreachable["disconnected_street_network"]["premises_ids"] == ["D"]
    assert unreachable["too_far_from_street"]["premises_ids"] == ["E"]
    assert "--max-drop-m" in unreachable["too_far_from_street"]["fix"]
    comp = q["streets"]["components"]
    assert comp["count"] == 2
    # four joined 100 m streets, nodes: 5 street ends + drop points of A, B, C
    assert comp["largest"][0] == {"length_m": 400.0, "nodes": 8, "premises": 3, "has_headend": True}
    # the lone 100 m street: 2 ends + D's drop point; D is not reachable
    assert comp["largest"][1] == {
        "length_m": 100.0,
        "nodes": 3,
        "premises": 0,
        "has_headend": False,
    }
    assert q["streets"]["length_km"] == 0.5
    assert q["streets"]["tags_defaulted"]["surface"]["lines"] == 5
    assert q["crs"]["plan"] == "EPSG:27700"
    assert q["problems"] == []
    text = quality_text(q)
    assert "unreachable 1 too_far_from_street: E" in text
    assert "2 connected parts" in text


def test_over_budget_premises_are_warned_by_id(streets, premises):
    p = fibreplan.plan(streets, premises, rules=DesignRules(power_budget_db=17.0, margin_db=0.0))
    over = p.quality["premises"]["over_budget"]
    assert over  # a 17 dB budget leaves no room for the two 1:8 splitters' loss
    assert set(over) <= {"A", "B", "C"}
    line = next(w for w in p.summary["warnings"] if "optical budget" in w)
    assert line.startswith(f"{len(over)} connected premises over the optical budget: {over[0]}")
    assert not any(fix.startswith("premises ") for fix in p.premises["loss_fix"])


def test_swapped_headend_is_caught_only_when_the_swap_fits(streets):
    head = gpd.GeoSeries([shapely.Point(X0 + 50, Y0)], crs=27700).to_crs(4326).iloc[0]
    check_headend((head.x, head.y), streets, max_drop_m=100)  # right order: fine
    with pytest.raises(InputValidationError, match=r"look swapped; give the longitude first"):
        check_headend((head.y, head.x), streets, max_drop_m=100)
    check_headend((10.0, 45.0), streets, max_drop_m=100)  # far, but swapping does not help


@pytest.mark.parametrize(
    ("dx", "dy", "cause"),
    [(0, 600, "too_far_from_street"), (200_000, 0, "cover different places")],
    ids=["600 m away", "200 km away"],
)
def test_refused_plan_names_the_cause(streets, premises, dx, dy, cause):
    moved = premises.copy()
    moved.geometry = moved.geometry.translate(dx, dy)
    s, p = load_inputs(streets, moved)
    tg = build_trench_graph(s, p)
    with pytest.raises(InfeasibleDesignError, match=cause) as err:
        refuse_unplannable(s, p, tg)
    assert sorted(err.value.unreachable) == list("ABCDE")


def test_input_size_limit(tmp_path, monkeypatch):
    f = tmp_path / "p.csv"
    f.write_bytes(b"x" * 3_000_000)
    check_input_sizes(f, "not a file", None)
    monkeypatch.setenv("FIBREPLAN_MAX_INPUT_MB", "2")
    with pytest.raises(InputValidationError, match=r"p.csv' is 0.0 GB, more than .* \(0.0 GB"):
        check_input_sizes(f)


def test_demo_town_report_names_what_was_left_out_and_unreachable(demo_plan):
    q, s = demo_plan.quality, demo_plan.summary
    assert q["premises"]["dropped"] == [
        {
            "reason": "not premises: building=construction",
            "count": 2,
            "premises_ids": ["relation/2005048", "way/154340955"],
        }
    ]
    cut = q["premises"]["unreachable"]["disconnected_street_network"]
    assert cut["count"] == s["unreachable_by_reason"]["disconnected_street_network"] == 4
    assert s["warnings"][0].startswith("4 of 1,134 premises unreachable")
    assert all(i in s["warnings"][0] for i in cut["premises_ids"])
    assert sum(q["premises"]["units_source"].values()) == s["premises_total"]
    assert q["streets"]["components"]["largest"][0]["has_headend"]
