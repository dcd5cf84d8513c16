"""Configuration: one declaration per setting drives validation, docs and TOML files."""

from __future__ import annotations

import copy
import dataclasses
import math
import pickle
import tomllib

import pytest
import tomli_w

import fibreplan
from fibreplan import config
from fibreplan.config import CostBook
from fibreplan.config import DesignRules
from fibreplan.config import TrenchRules

CLASSES = [CostBook, TrenchRules, DesignRules]


def _fields(cls):
    return [(cls, f.name, f.metadata["rule"]) for f in dataclasses.fields(cls)]


ALL_FIELDS = [item for cls in CLASSES for item in _fields(cls)]
IDS = [f"{cls.__name__}.{name}" for cls, name, _ in ALL_FIELDS]


def _out_of_range(value, rule):
    """A value of the right type just outside the declared range."""
    if rule.kind == "strs":
        return "trunk"  # a string, not a list of strings
    bad = rule.low - 1 if rule.low > -math.inf else None
    if bad is None or (rule.kind == "int" and bad < 0 and rule.high < math.inf):
        bad = rule.high + 1
    if rule.kind == "int":
        return int(bad)
    if rule.kind == "float":
        return float(rule.low) if rule.low_open else float(bad)
    if rule.kind == "sizes":
        return [int(rule.high) + 1]
    key = next(iter(value))
    return {str(key): float(bad)}


@pytest.mark.parametrize(("cls", "name", "rule"), ALL_FIELDS, ids=IDS)
def test_every_setting_is_declared_once_with_unit_range_and_source(cls, name, rule):
    assert rule.unit
    assert len(rule.source) > 10
    assert rule.doc
    # the generated docstring documents it, with its unit and source
    doc = " ".join(cls.__doc__.split())
    assert f"{name} :" in doc
    assert " ".join(rule.source.split())[:40] in doc
    # and the TOML header names its unit and source
    assert f"#   {name} ({rule.unit}," in cls().to_toml()


@pytest.mark.parametrize(("cls", "name", "rule"), ALL_FIELDS, ids=IDS)
def test_metadata_drives_validation(cls, name, rule, tmp_path):
    value = _out_of_range(getattr(cls(), name), rule)
    with pytest.raises(fibreplan.CostFileError, match=name):
        cls(**{name: value})
    path = tmp_path / "bad.toml"
    path.write_text(tomli_w.dumps({cls._SECTION: {name: value}}))
    with pytest.raises(fibreplan.CostFileError) as info:
        cls.from_toml(path)
    msg = str(info.value)
    assert name in msg
    assert str(path) in msg
    assert "\n" not in msg
    if rule.kind in {"int", "float"}:
        assert rule.range_text in msg
        assert rule.unit in msg


@pytest.mark.parametrize("cls", CLASSES)
def test_defaults_are_valid_and_in_their_declared_ranges(cls):
    obj = cls()
    for _, name, rule in _fields(cls):
        value = getattr(obj, name)
        if rule.kind in {"int", "float"}:
            assert rule.in_range(value), name


@pytest.mark.parametrize("cls", CLASSES)
def test_toml_round_trip_through_tomli_w(cls, tmp_path):
    obj = cls()
    text = obj.to_toml()
    assert tomllib.loads(text) == {cls._SECTION: obj.to_dict()}
    f = tmp_path / "c.toml"
    f.write_text(text)
    assert cls.from_toml(f) == obj


def test_rules_file_round_trip_both_tables(tmp_path):
    trench = TrenchRules(max_drop_m=80.5, two_sided_highways=("primary",), side_offset_m=4.0)
    rules = DesignRules(dp_capacity=12, splitter_loss_db={4: 7.0, 8: 10.2}, margin_db=1.5)
    f = tmp_path / "rules.toml"
    f.write_text(config.rules_toml(trench, rules))
    assert set(tomllib.loads(f.read_text())) == {"trench", "design"}
    assert config.load_rules(f) == (trench, rules)
    assert TrenchRules.from_toml(f) == trench
    assert DesignRules.from_toml(f) == rules


def test_old_rules_file_with_trench_keys_under_design_still_loads(tmp_path):
    f = tmp_path / "old.toml"
    f.write_text(
        "[design]\ndp_capacity = 16\nmax_drop_m = 70.0\ncrossing_spacing_m = 50.0\n"
        'two_sided_highways = ["primary"]\n'
    )
    trench, rules = config.load_rules(f)
    assert rules == DesignRules(dp_capacity=16)
    assert trench == TrenchRules(
        max_drop_m=70.0, crossing_spacing_m=50.0, two_sided_highways=("primary",)
    )
    assert DesignRules.from_toml(f) == rules
    assert TrenchRules.from_toml(f) == trench
    # top-level keys (no tables) are routed the same way
    f.write_text("dp_capacity = 16\nmax_drop_m = 70.0\n")
    assert config.load_rules(f) == (TrenchRules(max_drop_m=70.0), DesignRules(dp_capacity=16))


def test_same_key_in_design_and_trench_is_an_error(tmp_path):
    f = tmp_path / "both.toml"
    f.write_text("[design]\nmax_drop_m = 70.0\n[trench]\nmax_drop_m = 90.0\n")
    with pytest.raises(fibreplan.CostFileError, match=r"max_drop_m.*both \[design\] and"):
        config.load_rules(f)


def test_keys_outside_the_tables_of_a_rules_file_are_an_error(tmp_path):
    f = tmp_path / "stray.toml"
    f.write_text("dp_capacity = 16\n[trench]\nmax_drop_m = 80.0\n")
    with pytest.raises(fibreplan.CostFileError, match=r"\['dp_capacity'\] are outside"):
        config.load_rules(f)


def test_unknown_rule_key_lists_the_allowed_ones(tmp_path):
    f = tmp_path / "typo.toml"
    f.write_text("[trench]\nmax_drop = 70.0\n")
    with pytest.raises(fibreplan.CostFileError, match=r"unknown \[trench\] key\(s\) \['max_dr"):
        config.load_rules(f)


@pytest.mark.parametrize(
    ("obj", "name"),
    [
        (CostBook(), "trench_gbp_per_m"),
        (CostBook(), "cable_gbp_per_m"),
        (DesignRules(), "splitter_loss_db"),
    ],
)
def test_table_settings_are_frozen(obj, name):
    table = getattr(obj, name)
    key = next(iter(table))
    with pytest.raises(TypeError):
        table[key] = 0.0
    with pytest.raises(AttributeError):
        table.update({key: 0.0})
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(obj, name, {})
    # a dict passed in is copied, so changing it later changes nothing
    given = dict(table)
    built = dataclasses.replace(obj, **{name: given})
    given[key] = 12345.0
    assert getattr(built, name)[key] == table[key]
    # still hashable, picklable and copyable
    assert hash(obj) == hash(pickle.loads(pickle.dumps(obj)))
    assert copy.deepcopy(obj) == obj


def test_partial_toml_keeps_other_defaults(tmp_path):
    f = tmp_path / "costs.toml"
    f.write_text("[costs]\ndrop_gbp_per_m = 20.0\n[costs.trench_gbp_per_m]\nverge = 10\n")
    book = CostBook.from_toml(f)
    assert book.drop_gbp_per_m == 20.0
    assert book.trench_gbp_per_m["verge"] == 10
    assert book.trench_gbp_per_m["footway"] == CostBook().trench_gbp_per_m["footway"]


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("[costs]\ndrop_gbp_per_m = -1\n", r"drop_gbp_per_m' must be a number in \[0.0, inf\)"),
        ("[costs]\ndrop_gbp_per_m = 'cheap'\n", "must be a number"),
        ("[costs]\ntrench_cost = 5\n", r"unknown \[costs\] key.*allowed keys are \['aerial"),
        ("[costs]\ndrop_gbp_per_m = \n", "not valid TOML"),
        ("[costs.trench_gbp_per_m]\ntarmac = 5\n", "unknown surfaces"),
        ("[costs.cable_gbp_per_m]\nbig = 5\n", "fibre counts"),
        ("[costs]\ndiscount_rate = 1.0\n", r"discount_rate.*\[0.0, 1.0\)"),
        ("[costs]\noptimism_bias_low = 0.5\n", "must not exceed optimism_bias_high"),
        ("[costs]\nduct_years = 10.5\n", "duct_years' must be an integer"),
    ],
)
def test_malformed_cost_file(tmp_path, text, match):
    f = tmp_path / "costs.toml"
    f.write_text(text)
    with pytest.raises(fibreplan.CostFileError, match=match):
        CostBook.from_toml(f)


def test_missing_file_is_a_cost_file_error(tmp_path):
    with pytest.raises(fibreplan.CostFileError, match="no such configuration file"):
        config.load_rules(tmp_path / "nope.toml")


def test_annuity_factor():
    book = CostBook(duct_rent_gbp_per_m_year=1.0, duct_years=2, discount_rate=0.1)
    assert book.annuity_factor == pytest.approx(1 / 1.1 + 1 / 1.1**2)
    assert CostBook(duct_years=7, discount_rate=0.0).annuity_factor == 7.0


def test_cli_writes_both_rule_tables_and_a_cost_book_with_sources(tmp_path, capsys):
    from fibreplan.cli import main

    f = tmp_path / "rules.toml"
    assert main(["design-rules", "--out", str(f)]) == 0
    assert config.load_rules(f) == (TrenchRules(), DesignRules())
    text = f.read_text()
    assert "[trench]" in text
    assert "[design]" in text
    assert "#   max_drop_m (m, (0.0, 10000.0]): Openreach" in text
    capsys.readouterr()
    assert main(["cost-book"]) == 0
    out = capsys.readouterr().out
    assert "#   headend_gbp (GBP, [0.0, inf)): nismod/digital_comms" in out
    assert tomllib.loads(out) == {"costs": CostBook().to_dict()}


def test_rural_trench_rates_default_and_old_files(tmp_path):
    book = CostBook()
    urban, rural = book.trench_gbp_per_m, book.trench_rural_gbp_per_m
    # urban x Cartesian 2023 rural / urban medians (12.50 / 23.25) for low and likely, high the
    # urban likely; flagged as an assumption with its source
    for s in config.SURFACES:
        assert float(rural[s]) == round(float(urban[s]) * 12.50 / 23.25, 2)
        assert rural[s].low == round(urban[s].low * 12.50 / 23.25, 2)
        assert rural[s].high == float(urban[s])
        assert rural[s].assumption
        assert "Cartesian" in rural[s].source
    assert book.pole_gbp == 1200.0
    assert book.pole_gbp.assumption
    # a file written before the split, with the shipped urban rates: the shipped rural ones
    old = tmp_path / "old.toml"
    old.write_text(
        "[costs.trench_gbp_per_m]\ncarriageway = 83.26\nfootway = 61.32\nverge = 32.97\n"
    )
    assert CostBook.from_toml(old).trench_rural_gbp_per_m == rural
    # a file with its own urban rate and no rural table: its own rate, never a shipped rural one
    own = tmp_path / "own.toml"
    own.write_text("[costs.trench_gbp_per_m]\nverge = 10\n")
    got = CostBook.from_toml(own).trench_rural_gbp_per_m
    assert got["verge"] == 10.0
    assert got["footway"] == rural["footway"]
    assert CostBook(trench_gbp_per_m={"carriageway": 150.0, "footway": 100.0, "verge": 50.0}
                    ).trench_rural_gbp_per_m == {"carriageway": 150.0, "footway": 100.0,
                                                 "verge": 50.0}  # fmt: skip
    # given both, both are kept; a round trip through the written file keeps everything
    both = CostBook.from_dict(
        {"trench_gbp_per_m": {"verge": 10}, "trench_rural_gbp_per_m": {"verge": 5}}
    )
    assert (both.trench_gbp_per_m["verge"], both.trench_rural_gbp_per_m["verge"]) == (10.0, 5.0)
    f = tmp_path / "book.toml"
    f.write_text(both.to_toml())
    assert CostBook.from_toml(f) == both
    with pytest.raises(fibreplan.CostFileError, match="trench_rural_gbp_per_m"):
        CostBook.from_dict({"trench_rural_gbp_per_m": {"verge": -1}})


def test_area_rules_are_validated():
    assert TrenchRules().urban_premises_per_ha == 4.0
    with pytest.raises(fibreplan.CostFileError, match="new_poles_rural"):
        TrenchRules(new_poles_rural=2)
    with pytest.raises(fibreplan.CostFileError, match="urban_radius_m"):
        TrenchRules(urban_radius_m=10.0)
