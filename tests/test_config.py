"""Cost book: defaults with sources, TOML round trip, malformed files."""

from __future__ import annotations

import inspect

import pytest

import fibreplan
from fibreplan import config


def test_every_default_cost_has_a_source_comment():
    src = inspect.getsource(config.CostBook)
    body = src.split('"""', 2)[2].split("def __post_init__")[0]
    fields = [f.name for f in config.dataclasses.fields(config.CostBook)]
    for name, nxt in zip(fields, [*fields[1:], None], strict=True):
        before, after = body.split(f"    {name}:", 1)
        own = after.split(f"    {nxt}:", 1)[0] if nxt else after
        # the comment sits just above the field, or inside a mapping default for each entry
        assert (
            "source:" in "\n".join(before.rstrip().splitlines()[-3:]) or own.count("source:") >= 1
        ), name


def test_toml_round_trip(tmp_path):
    book = fibreplan.CostBook()
    f = tmp_path / "costs.toml"
    f.write_text(book.to_toml())
    assert fibreplan.CostBook.from_toml(f) == book


def test_partial_toml_keeps_other_defaults(tmp_path):
    f = tmp_path / "costs.toml"
    f.write_text("[costs]\ndrop_gbp_per_m = 20.0\n[costs.trench_gbp_per_m]\nverge = 10\n")
    book = fibreplan.CostBook.from_toml(f)
    assert book.drop_gbp_per_m == 20.0
    assert book.trench_gbp_per_m["verge"] == 10
    assert book.trench_gbp_per_m["footway"] == fibreplan.CostBook().trench_gbp_per_m["footway"]


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("[costs]\ndrop_gbp_per_m = -1\n", "drop_gbp_per_m"),
        ("[costs]\ndrop_gbp_per_m = 'cheap'\n", "must be a number"),
        ("[costs]\ntrench_cost = 5\n", r"unknown \[costs\] key"),
        ("[costs]\ndrop_gbp_per_m = \n", "not valid TOML"),
        ("[costs.trench_gbp_per_m]\ntarmac = 5\n", "unknown surfaces"),
        ("[costs.cable_gbp_per_m]\nbig = 5\n", "fibre counts"),
    ],
)
def test_malformed_cost_file(tmp_path, text, match):
    f = tmp_path / "costs.toml"
    f.write_text(text)
    with pytest.raises(fibreplan.CostFileError, match=match):
        fibreplan.CostBook.from_toml(f)


def test_duct_rent_present_value():
    book = fibreplan.CostBook(duct_rent_gbp_per_m_year=1.0, duct_years=2, discount_rate=0.1)
    assert book.duct_rent_pv_gbp_per_m == pytest.approx(1 / 1.1 + 1 / 1.1**2)
