"""Validated configuration objects, loadable from TOML.

:class:`TrenchRules` holds the rules of the trench graph (drop limit, the two
sides of major roads and their crossings, duct and pole reuse);
:class:`DesignRules` the PON design rules (splits, capacities, spare fibre,
cable sizes, chamber spacing, optical budget); :class:`CostBook` every unit
cost in pounds sterling. Foreign figures are converted at the stated rate and
year.

Each setting is declared once, as a dataclass field made by :func:`_rule`:
its default, unit, valid range, published source and description. One
validator, the ``Attributes`` section of each class docstring and the TOML
files that ``fibreplan cost-book`` and ``fibreplan design-rules`` write (with
a header giving every key's unit and source) all come from that declaration.
Edit those files and pass them with ``--costs`` or ``--design``; a rules file
holds a ``[trench]`` and a ``[design]`` table (trench keys found under
``[design]``, as older files have them, are read as ``[trench]``).
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import math
import textwrap
import tomllib
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from typing import ClassVar
from typing import Literal
from typing import Self
from typing import TypeVar

import numpy as np
import tomli_w

from fibreplan._errors import CostFileError

__all__ = [
    "ROAD_CLASSES",
    "SURFACES",
    "USER_SOURCE",
    "VOUCHER_RULE_SETS",
    "CostBook",
    "DesignRules",
    "Estimate",
    "FrozenMap",
    "FundingRules",
    "TrenchRules",
    "load_rules",
    "load_toml_section",
    "rules_toml",
]

logger = logging.getLogger(__name__)

#: Trench surface classes, cheapest last (see :func:`fibreplan.trench.surface_class`).
SURFACES = ("carriageway", "footway", "verge")

# Exchange rates used to convert published figures (HMRC/ONS annual averages).
# source: Bank of England annual average spot rates 2023: USD/GBP 1.244, EUR/GBP 0.870
_USD_PER_GBP_2023 = 1.244
_GBP_PER_EUR_2023 = 0.870
_M_PER_FT = 0.3048


def _usd_per_ft_to_gbp_per_m(usd_per_ft: float) -> float:
    return round(usd_per_ft / _M_PER_FT / _USD_PER_GBP_2023, 2)


_T = TypeVar("_T", bound=type)
_K = TypeVar("_K")
_V = TypeVar("_V")


class FrozenMap(Mapping[_K, _V]):
    """A read-only mapping: the table-valued settings of the frozen configuration classes.

    Unlike :class:`types.MappingProxyType` it is hashable and can be pickled
    and deep-copied (so a configuration object can be too).

    Parameters
    ----------
    data : Mapping or iterable of pairs, optional
        The entries (copied).

    Examples
    --------
    >>> m = FrozenMap({8: 10.5})
    >>> m[8], dict(m) == {8: 10.5}
    (10.5, True)
    >>> m[8] = 1.0
    Traceback (most recent call last):
    ...
    TypeError: 'FrozenMap' object does not support item assignment
    """

    __slots__ = ("_data",)

    def __init__(self, data: Mapping[_K, _V] | Iterable[tuple[_K, _V]] = ()) -> None:
        self._data: dict[_K, _V] = dict(data)

    def __getitem__(self, key: _K) -> _V:
        return self._data[key]

    def __iter__(self) -> Iterator[_K]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __hash__(self) -> int:
        return hash(frozenset(self._data.items()))

    def __repr__(self) -> str:
        return f"FrozenMap({self._data!r})"


class Estimate(float):
    """A unit cost: its most likely value (the float itself), low and high, source, assumption.

    It is a ``float`` equal to the most likely value, so arithmetic on a
    :class:`CostBook`'s attributes uses that value; ``low`` and ``high`` bound
    it for the Monte Carlo of :func:`fibreplan.cost_plan` and the low/high
    totals. ``source`` cites where the figures come from; ``assumption`` is
    true where no public figure was found.

    Parameters
    ----------
    likely : float
        Most likely value.
    low, high : float, optional
        Range; default ``likely`` (a point estimate).
    source : str, default ""
        Citation a reader can look up.
    assumption : bool, default False
        Whether the figure is fibreplan's (or the user's) assumption rather
        than a published figure.

    Examples
    --------
    >>> e = Estimate(250.0, low=150.0, high=400.0, source="x", assumption=True)
    >>> e * 2, e.low, e.high
    (500.0, 150.0, 400.0)
    """

    __slots__ = ("assumption", "high", "low", "source")

    low: float
    high: float
    source: str
    assumption: bool

    def __new__(
        cls,
        likely: float,
        low: float | None = None,
        high: float | None = None,
        source: str = "",
        assumption: bool = False,
    ) -> Self:
        """Create the estimate (see the class docstring)."""
        obj = super().__new__(cls, likely)
        obj.low = float(likely if low is None else low)
        obj.high = float(likely if high is None else high)
        obj.source = str(source)
        obj.assumption = bool(assumption)
        return obj

    @property
    def likely(self) -> float:
        """The most likely value, as a plain float."""
        return float(self)

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle and copy with the range, source and flag."""
        return (type(self), (float(self), self.low, self.high, self.source, self.assumption))

    def __eq__(self, other: object) -> bool:
        """Equal to a float with its likely value, or to an estimate with the same fields."""
        if isinstance(other, Estimate):
            return (float(self), self.low, self.high, self.source, self.assumption) == (
                float(other), other.low, other.high, other.source, other.assumption
            )  # fmt: skip
        return float(self) == other

    def __hash__(self) -> int:
        """Hash of the likely value (equal estimates have equal likely values)."""
        return hash(float(self))

    def __repr__(self) -> str:
        """E.g. ``Estimate(250.0, low=150.0, high=400.0)``."""
        return f"Estimate({float(self)!r}, low={self.low!r}, high={self.high!r})"

    def to_toml(self, unit: str) -> dict[str, Any]:
        """Return the TOML table of this estimate: low, likely, high, unit, source, assumption.

        Parameters
        ----------
        unit : str
            The setting's unit.

        Returns
        -------
        dict
            TOML-ready values.
        """
        return {"low": self.low, "likely": float(self), "high": self.high, "unit": unit,
                "source": self.source, "assumption": self.assumption}  # fmt: skip


def _E(likely: float, low: float, high: float) -> Estimate:  # noqa: N802 - a literal's constructor
    """Return a default's estimate (its source and flag come from the rule)."""
    return Estimate(likely, low, high)


# --------------------------------------------------------------------------------------
# One declaration per setting


_Kind = Literal["int", "float", "sizes", "strs", "table"]
_Keys = Literal["", "surface", "fibres", "ratio", "road"]

#: What the keys of each kind of table are, for messages (parsed by ``_table_key``).
_KEY_TEXT: dict[str, str] = {
    "surface": f"surface classes {list(SURFACES)}",
    "fibres": 'fibre counts like "96"',
    "ratio": 'splitter ratios 2..1024 like "8" or "1:8"',
    "road": "road classes ['major', 'minor']",
}

#: Road classes of the street-works items: ``major`` roads are the two-sided ones
#: (``TrenchRules.two_sided_highways``), ``minor`` the rest.
ROAD_CLASSES = ("major", "minor")


@dataclasses.dataclass(frozen=True)
class _Rule:
    """A setting's metadata: what kind of value, its unit, valid range and source."""

    kind: _Kind
    unit: str
    source: str
    doc: str
    low: float
    high: float
    low_open: bool
    high_open: bool
    keys: _Keys
    merge: bool
    ranged: bool = False
    assumption: bool = False
    default: Any = None

    @property
    def range_text(self) -> str:
        """The valid range in interval notation, e.g. ``(0.0, 100.0]``."""
        if self.kind == "strs":
            return "any strings"
        high = "inf" if math.isinf(self.high) else repr(self.high)
        return (
            f"{'(' if self.low_open else '['}{self.low!r}, {high}"
            f"{')' if self.high_open or math.isinf(self.high) else ']'}"
        )

    def in_range(self, value: float) -> bool:
        """Whether a finite ``value`` lies in the valid range."""
        above = value > self.low if self.low_open else value >= self.low
        below = value < self.high if self.high_open else value <= self.high
        return math.isfinite(value) and above and below


def _rule(
    default: object,
    *,
    unit: str,
    source: str,
    doc: str,
    low: float,
    high: float = math.inf,
    low_open: bool = False,
    high_open: bool = False,
    keys: _Keys = "",
    merge: bool = False,
    assumption: bool = False,
) -> Any:
    """Declare a setting: a dataclass field carrying its default, unit, range and source.

    The kind of value (integer, number, increasing integer list, string list
    or table) follows from the default. ``low``/``high`` bound the value (for
    a table, each entry's value; for ``sizes``, each size); ``keys`` says
    what a table's keys are; ``merge`` makes a table in a file update the
    default table instead of replacing it. A default given as an
    :class:`Estimate` (or a table of them) makes a ranged setting: each value
    has a low, likely and high, the rule's ``source`` and ``assumption`` flag.
    """
    ranged = isinstance(default, Estimate) or (
        isinstance(default, Mapping) and all(isinstance(v, Estimate) for v in default.values())
    )
    if ranged:
        default = _with_source(default, source=source, assumption=assumption)
    if isinstance(default, Mapping):
        kind: _Kind = "table"
        default = FrozenMap(default)
    elif isinstance(default, tuple):
        kind = "strs" if default and isinstance(default[0], str) else "sizes"
    elif isinstance(default, int):
        kind = "int"
    else:
        kind = "float"
    if kind in {"float", "table"}:
        low, high = float(low), float(high)
    rule = _Rule(
        kind, unit, source, doc, low, high, low_open, high_open, keys, merge, ranged, assumption,
        default,
    )  # fmt: skip
    return dataclasses.field(default=default, metadata={"rule": rule, "default": default})


def _with_source(default: object, *, source: str, assumption: bool) -> object:
    """Give a ranged default (an estimate or a table of them) the rule's source and flag."""
    if isinstance(default, Mapping):
        return {
            k: _with_source(v, source=source, assumption=assumption) for k, v in default.items()
        }
    e: Estimate = default  # type: ignore[assignment]
    return Estimate(float(e), e.low, e.high, source, assumption)


def _rules(cls: type) -> Iterator[tuple[str, _Rule]]:
    for f in dataclasses.fields(cls):
        yield f.name, f.metadata["rule"]


def _bad(name: str, what: str, value: object, rule: _Rule) -> str:
    return (
        f"key '{name}' must be {what} in {rule.range_text} ({rule.unit}); "
        f"got {value!r} ({type(value).__name__})"
    )


def _is_int(value: object) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool)


def _check_int(name: str, value: object, rule: _Rule) -> tuple[Any, str]:
    if not _is_int(value) or not rule.in_range(int(value)):  # type: ignore[call-overload]
        return None, _bad(name, "an integer", value, rule)
    return int(value), ""  # type: ignore[call-overload]


def _check_float(name: str, value: object, rule: _Rule) -> tuple[Any, str]:
    if rule.ranged:
        return _check_estimate(name, value, rule, rule.default)
    if not _is_number(value) or not rule.in_range(float(value)):  # type: ignore[arg-type]
        return None, _bad(name, "a number", value, rule)
    return float(value), ""  # type: ignore[arg-type]


#: Keys of a ranged value's table in a cost book file.
_ESTIMATE_KEYS = ("low", "likely", "high", "unit", "source", "assumption")
#: Source of a figure given as a plain number that differs from the default.
USER_SOURCE = "user value, no source given"


def _check_estimate(  # noqa: PLR0911 - one check (and message) per field, in order
    name: str, value: object, rule: _Rule, default: object
) -> tuple[Any, str]:
    """Parse a ranged value: an :class:`Estimate`, a number or a ``{low, likely, high}`` table.

    A plain number equal to the default's likely value keeps the default
    (range, source and flag: files written before ranges existed keep them);
    any other number is a point estimate (low = likely = high) with the
    source :data:`USER_SOURCE`, flagged as an assumption.
    """
    if isinstance(value, Estimate):
        fields = {"low": value.low, "likely": float(value), "high": value.high,
                  "source": value.source, "assumption": value.assumption}  # fmt: skip
    elif _is_number(value):
        if isinstance(default, Estimate) and float(value) == float(default):  # type: ignore[arg-type]
            return default, ""
        fields = {"likely": value, "source": USER_SOURCE, "assumption": True}
    elif isinstance(value, Mapping):
        fields = dict(value)
    else:
        return None, _bad(name, "a number or a {low, likely, high} table", value, rule)
    unknown = sorted(set(fields) - set(_ESTIMATE_KEYS))
    if unknown or "likely" not in fields:
        return None, (
            f"key '{name}' must be a number or a table with 'likely' (and optionally "
            f"{[k for k in _ESTIMATE_KEYS if k != 'likely']}); got keys {sorted(fields)}"
        )
    if "unit" in fields and fields["unit"] != rule.unit:
        return None, f"key '{name}' is in {rule.unit!r}; got unit {fields['unit']!r}"
    numbers = {k: fields.get(k, fields["likely"]) for k in ("low", "likely", "high")}
    for k, v in numbers.items():
        if not _is_number(v) or not rule.in_range(float(v)):
            return None, _bad(f"{name}.{k}" if isinstance(value, Mapping) else name,
                              "a number", v, rule)  # fmt: skip
    lo, mid, hi = (float(numbers[k]) for k in ("low", "likely", "high"))
    if not lo <= mid <= hi:
        return None, f"key '{name}' needs low <= likely <= high; got {lo!r}, {mid!r}, {hi!r}"
    source = fields.get("source", USER_SOURCE)
    flag = fields.get("assumption", source == USER_SOURCE)
    if not isinstance(source, str) or not source.strip() or not isinstance(flag, bool):
        return None, f"key '{name}': source must be a non-empty string and assumption a boolean"
    return Estimate(mid, lo, hi, source, flag), ""


def _check_sizes(name: str, value: object, rule: _Rule) -> tuple[Any, str]:
    what = "a non-empty increasing list of integers"
    if isinstance(value, str | bytes) or not isinstance(value, tuple | list | np.ndarray):
        return None, _bad(name, what, value, rule)
    items = list(value)
    ok = (
        bool(items)
        and all(_is_int(v) and rule.in_range(int(v)) for v in items)
        and all(a < b for a, b in itertools.pairwise(items))
    )
    return (tuple(int(v) for v in items), "") if ok else (None, _bad(name, what, value, rule))


def _check_strs(name: str, value: object, rule: _Rule) -> tuple[Any, str]:
    if isinstance(value, str) or not isinstance(value, tuple | list):
        return None, _bad(name, "a list of strings", value, rule)
    if not all(isinstance(v, str) for v in value):
        return None, _bad(name, "a list of strings", value, rule)
    return tuple(value), ""


def _table_key(key: object, keys: _Keys) -> object | None:
    """Parse one table key (``"96"``, ``"1:8"``, ``"footway"``); None if invalid."""
    if keys == "surface":
        return key if key in SURFACES else None
    if keys == "road":
        return key if key in ROAD_CLASSES else None
    if _is_int(key):
        count = int(key)  # type: ignore[call-overload]
    elif isinstance(key, str) and key.strip().removeprefix("1:").isdigit():
        count = int(key.strip().removeprefix("1:"))
    else:
        return None
    if keys == "ratio" and not 2 <= count <= 1024:
        return None
    return count if count >= 1 else None


def _table_entries(name: str, value: Mapping[Any, Any], rule: _Rule) -> tuple[Any, str]:
    """Parse a table's keys and check its values; (entries, "") or (None, message)."""
    out: dict[Any, Any] = {}
    for key, entry in value.items():
        parsed = _table_key(key, rule.keys)
        if parsed is None and rule.keys == "surface":
            return None, f"key '{name}' has unknown surfaces [{key!r}] (need {list(SURFACES)})"
        if parsed is None and rule.keys == "road":
            return None, f"key '{name}' has unknown road class {key!r} (need {list(ROAD_CLASSES)})"
        if parsed is None:
            return None, f"key '{name}' keys must be {_KEY_TEXT[rule.keys]}; got {key!r}"
        if rule.ranged:
            default = rule.default.get(parsed) if rule.default is not None else None
            out[parsed], error = _check_estimate(f"{name}.{key}", entry, rule, default)
            if error:
                return None, error
            continue
        if not _is_number(entry) or not rule.in_range(float(entry)):
            return None, _bad(f"{name}.{key}", "a number", entry, rule)
        out[parsed] = float(entry)
    return out, ""


def _check_table(name: str, value: object, rule: _Rule) -> tuple[Any, str]:
    if not isinstance(value, Mapping) or not value:
        return None, _bad(name, f"a table of {_KEY_TEXT[rule.keys]} to values", value, rule)
    out, error = _table_entries(name, value, rule)
    if error:
        return None, error
    named = {"surface": SURFACES, "road": ROAD_CLASSES}.get(rule.keys)
    if named is None:
        return FrozenMap(sorted(out.items())), ""
    missing = [s for s in named if s not in out]
    if missing:
        return None, f"key '{name}' lacks {missing} (need all of {list(named)})"
    return FrozenMap((s, out[s]) for s in named), ""


_CHECKS: dict[str, Callable[[str, object, _Rule], tuple[Any, str]]] = {
    "int": _check_int,
    "float": _check_float,
    "sizes": _check_sizes,
    "strs": _check_strs,
    "table": _check_table,
}


def _documented(cls: _T) -> _T:
    """Add the numpydoc ``Attributes`` section, generated from the fields' metadata.

    It goes before the ``Raises`` section, in numpydoc's section order.
    """
    lines = ["", "    Attributes", "    ----------"]
    for f in dataclasses.fields(cls):
        rule: _Rule = f.metadata["rule"]
        default = dict(f.default) if isinstance(f.default, Mapping) else f.default
        text = (
            f"{rule.doc} Unit: {rule.unit}; valid range {rule.range_text}; default {default!r}. "
            f"Source: {rule.source}."
        )
        lines += [
            f"    {f.name} : {f.type}",
            textwrap.fill(text, 96, initial_indent=" " * 8, subsequent_indent=" " * 8),
        ]
    head, sep, tail = (cls.__doc__ or "").partition("\n    Raises\n")
    cls.__doc__ = head.rstrip() + "\n" + "\n".join(lines) + "\n" + sep + tail
    return cls


class _TomlConfig:
    """Validation, dict and TOML conversion shared by the configuration classes.

    Subclasses are frozen keyword-only dataclasses whose fields are made by
    :func:`_rule`; they set ``_SECTION`` (their TOML table) and ``_WHAT`` (their
    name in messages) and may add ``_check_relations`` for rules that tie
    settings together.
    """

    _SECTION: ClassVar[str] = ""
    _WHAT: ClassVar[str] = ""

    def __post_init__(self) -> None:
        """Check every value against its declared range, normalise types, freeze tables."""
        errors: list[str] = []
        clean: dict[str, Any] = {}
        for name, rule in _rules(type(self)):
            clean[name], error = _CHECKS[rule.kind](name, getattr(self, name), rule)
            if error:
                errors.append(error)
        if not errors:
            errors = self._check_relations(clean)
        if errors:
            raise CostFileError(f"invalid {self._WHAT}: " + "; ".join(errors))
        for name, value in clean.items():
            object.__setattr__(self, name, value)

    def _check_relations(self, clean: Mapping[str, Any]) -> list[str]:  # noqa: ARG002
        """Messages for rules that tie several (individually valid) settings together."""
        return []

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str = "<dict>") -> Self:
        """Build from a mapping of setting names to values, defaults filling what is absent.

        Parameters
        ----------
        data : Mapping
            Setting names to values, in TOML types: lists for tuples, tables
            with string keys (``"96"``, ``"1:8"``) for mappings.
        source : str, default "<dict>"
            Where ``data`` came from, for error messages.

        Returns
        -------
        Self
            The validated object.

        Raises
        ------
        CostFileError
            If a key is unknown or a value has the wrong type or range (one
            line naming the key, the value, the valid range and ``source``).
        """
        if not isinstance(data, Mapping):
            msg = f"{source}: [{cls._SECTION}] must be a table of keys; got {type(data).__name__}."
            raise CostFileError(msg)
        rules = dict(_rules(cls))
        unknown = sorted(set(data) - set(rules))
        if unknown:
            msg = (
                f"{source}: unknown [{cls._SECTION}] key(s) {unknown}; "
                f"allowed keys are {sorted(rules)}."
            )
            raise CostFileError(msg)
        kwargs = dict(data)
        for name, value in data.items():
            if rules[name].merge and isinstance(value, Mapping):
                kwargs[name] = {**getattr(cls(), name), **value}
        try:
            return cls(**kwargs)
        except CostFileError as err:
            raise CostFileError(f"{source}: {err}") from err

    @classmethod
    def from_toml(cls, path: str | Path) -> Self:
        """Read from a TOML file: its ``[section]`` table, or the top level.

        Parameters
        ----------
        path : str or pathlib.Path
            TOML file.

        Returns
        -------
        Self
            The validated object.

        Raises
        ------
        CostFileError
            If the file is missing, is not valid TOML, has an unknown key or an
            invalid value (the message names the key, the range and the file).
        """
        return cls.from_dict(load_toml_section(path, cls._SECTION), source=str(path))

    def to_dict(self) -> dict[str, Any]:
        """Return the settings as plain TOML-ready values (lists, dicts with string keys).

        Returns
        -------
        dict
            Setting names to values.
        """
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            unit = f.metadata["rule"].unit
            if isinstance(value, tuple):
                value = list(value)
            elif isinstance(value, Estimate):
                value = value.to_toml(unit)
            elif isinstance(value, Mapping):
                value = {
                    str(k): v.to_toml(unit) if isinstance(v, Estimate) else v
                    for k, v in value.items()
                }
            out[f.name] = value
        return out

    @classmethod
    def toml_header(cls) -> str:
        """Comment lines giving each key's unit, valid range and source.

        Returns
        -------
        str
            TOML comment lines.
        """
        lines = [f"# [{cls._SECTION}] {cls._WHAT}: key (unit, valid range): source"]
        lines += [
            f"#   {name} ({rule.unit}, {rule.range_text}): {rule.source}"
            for name, rule in _rules(cls)
        ]
        return "\n".join(lines) + "\n"

    def to_toml(self) -> str:
        """Return the values as TOML text to edit and reload with :meth:`from_toml`.

        Returns
        -------
        str
            A comment header (unit, range and source of each key), then the
            ``[section]`` table.
        """
        return self.toml_header() + "\n" + tomli_w.dumps({self._SECTION: self.to_dict()})


# --------------------------------------------------------------------------------------
# The settings


def _eur(eur: float) -> float:
    return round(eur * _GBP_PER_EUR_2023, 2)


#: GBP/m of the Cartesian 2023 US underground and aerial medians and ranges.
_URBAN, _RURAL = _usd_per_ft_to_gbp_per_m(23.25), _usd_per_ft_to_gbp_per_m(12.50)
#: GBP/m of the Bournemouth, Christchurch & Poole core duct network (2021 and 2023 estimates).
_BCP_2021, _BCP_2023 = round(5.87e6 / 70_500, 2), round(3.35e6 / 21_600, 2)
#: Annual charge of an Openreach EAD 1 Gbps backhaul over 10 years at 3.5 % (GBP/year x years).
_EAD_10Y = round(462 + 560 * (1 - 1.035**-10) / 0.035, 2)

_TRENCH_SOURCE = (
    "carriageway: low Cartesian 'Fiber deployment cost annual report' 2023 (FBA) US urban "
    f"underground median $23.25/ft = GBP {_URBAN}/m, likely Bournemouth, Christchurch & Poole "
    f"Council 'Core Gigabit Fibre Network' 2021 estimate GBP 5.87m / 70.5 km = GBP {_BCP_2021}/m, "
    f"high its 2023 revision GBP 3.35m / 21.6 km = GBP {_BCP_2023}/m; footway: low GBP 50/m "
    "(Openreach lead-in quote GBP 6,561 for 132 m, BT Community forum; CommsThought 2012 "
    f"GBP 50-60/m), likely Cartesian urban GBP {_URBAN}/m, high BCP 2021; verge: Cartesian US "
    f"range low $11/ft = GBP {_usd_per_ft_to_gbp_per_m(11)}/m, likely rural median $12.50/ft = "
    f"GBP {_RURAL}/m, high rocky ground ~2x soft = GBP {2 * _RURAL:.2f}/m; USD at 1.244/GBP "
    "(2023); all-in rates (dig, duct, reinstate); no VAT"
)
#: Cartesian 2023 US rural / urban underground medians ($12.50 / $23.25 per ft).
_RURAL_RATIO = 12.50 / 23.25
_TRENCH_URBAN = {
    "carriageway": _E(_BCP_2021, _URBAN, _BCP_2023),
    "footway": _E(_URBAN, 50.0, _BCP_2021),
    "verge": _E(_RURAL, _usd_per_ft_to_gbp_per_m(11), round(2 * _RURAL, 2)),
}
_TRENCH_RURAL = {
    s: _E(round(float(e) * _RURAL_RATIO, 2), round(e.low * _RURAL_RATIO, 2), float(e))
    for s, e in _TRENCH_URBAN.items()
}
_TRENCH_RURAL_SOURCE = (
    "fibreplan assumption (no public UK rural trench rate found): each surface's urban rate "
    "(trench_gbp_per_m) x the Cartesian 'Fiber deployment cost annual report' 2023 (FBA) US "
    f"rural / urban underground medians $12.50 / $23.25 per ft = {_RURAL_RATIO:.4f} for low "
    "and likely; high the urban likely rate (rocky ground costs ~2x soft, same report). The "
    "US ratio partly reflects rural routes' softer surfaces, so applied on top of the surface "
    "class it may overstate the rural saving"
)
_CABLE_SOURCE = (
    "likely: ChrisMolanus/ftth_planner cost_parameters.py (Netherlands proof of concept, "
    "cross-check) 96-core cable EUR 18,100/km + fibre install EUR 24,500/km at 0.870 GBP/EUR "
    "= GBP 37.07/m, other sizes' cable part scaled by fibreplan's assumption of +/-15 % per "
    "size step; low: nismod/digital_comms fibre link GBP 10/m (Oughton et al., ITRC); high: "
    "likely +25 % (fibreplan assumption)"
)
_CABLE_SUPPLY_GBP_PER_M = {12: 10.36, 24: 11.91, 48: 13.70, 96: 15.75, 144: 18.11, 288: 20.83}
_CABLE_INSTALL_GBP_PER_M = _eur(24.5)


@_documented
@dataclasses.dataclass(frozen=True, kw_only=True)
class CostBook(_TomlConfig):
    """Unit costs for a fibre build, in GBP, each with a low / likely / high and its source.

    Every cost item is an :class:`Estimate`: the attribute is its most likely
    value (a float), with ``low``, ``high``, ``source`` and ``assumption``
    (true where no public UK figure was found: said plainly, with the
    cross-check used). Figures are built from the published figures collected
    in fibreplan's cost sources (Cartesian 2023, Ofcom/DCMS, Openreach,
    nismod/ITRC, B4RN, council fee schedules, DfT, HM Treasury Green Book);
    foreign figures are converted at Bank of England 2023 average rates
    (1.244 USD/GBP, 0.870 GBP/EUR) and not re-indexed. They are indicative,
    not quotes, and exclude VAT.

    In a file (``fibreplan cost-book`` writes one) each cost item is a table
    ``{low, likely, high, unit, source, assumption}``. A plain number is read
    as a point estimate (low = likely = high) with the source "user value, no
    source given", flagged as an assumption -- unless it equals the default's
    likely value, when the default (its range and source) is kept, so files
    written before ranges existed still load with the published ranges.

    Raises
    ------
    CostFileError
        On construction, naming the key, the valid range and the value, if a
        value is not a number, is out of range, has low > likely or likely >
        high, or a surface, road-class, ratio or cable size table is malformed.
    """

    _SECTION: ClassVar[str] = "costs"
    _WHAT: ClassVar[str] = "cost book"

    # ---- civils (build, up to the DP)
    trench_gbp_per_m: Mapping[str, float] = _rule(
        _TRENCH_URBAN,
        unit="GBP/m", low=0, keys="surface", merge=True, source=_TRENCH_SOURCE,
        doc="New trench per metre in urban areas (see TrenchRules.urban_premises_per_ha), "
        "all-in (dig, duct, reinstate), by surface class. A file may give only some surfaces.",
    )  # fmt: skip
    trench_rural_gbp_per_m: Mapping[str, float] = _rule(
        _TRENCH_RURAL,
        unit="GBP/m", low=0, keys="surface", merge=True, assumption=True,
        source=_TRENCH_RURAL_SOURCE,
        doc="New trench per metre in rural areas, by surface class. A file without this key "
        "gets the shipped rural rates if its trench_gbp_per_m are the shipped ones, else its "
        "own trench_gbp_per_m (a file's own prices are never mixed with shipped rural ones).",
    )  # fmt: skip
    road_crossing_gbp: float = _rule(
        _E(846.0, 634.0, 1650.0), unit="GBP", low=0,
        source="traffic management for one carriageway crossing: a portable-signal switch-out "
        "GBP 422 per visit + GBP 53/h (Bracknell Forest): low 4 h = GBP 634, likely 8 h = "
        "GBP 846; high a temporary road closure order GBP 1,650 (Cumbria 2021, Shropshire "
        "2022/23, Westmorland & Furness 2025). The crossing's own trench is priced as "
        "carriageway trench, not here (B4RN's GBP 1,000 all-in rural crossing is a cross-check)",
        doc="Each road crossing, over and above its length of carriageway trench.",
    )  # fmt: skip
    traffic_management_gbp_per_m: Mapping[str, float] = _rule(
        {"major": _E(16.92, 8.46, 50.0), "minor": _E(4.22, 0.0, 16.92)},
        unit="GBP/m", low=0, keys="road", merge=True, assumption=True,
        source="fibreplan assumption from day rates at an assumed 50 m of trench a day "
        "(100 m/day for the low end): major roads GBP 846/day portable signals (Bracknell "
        "Forest GBP 422 + 8 h x GBP 53) = GBP 16.92/m, high the DfT lane rental cap GBP 2,500/day "
        "= GBP 50/m; minor roads one GBP 422 signal visit per 100 m, low none (signing and "
        "guarding only)",
        doc="Traffic management and lane rental per metre dug, by road class (major = the "
        "two-sided roads of TrenchRules, minor = the rest).",
    )  # fmt: skip
    permit_gbp_per_street: Mapping[str, float] = _rule(
        {"major": _E(467.87, 386.0, 2036.0), "minor": _E(386.0, 386.0, 467.87)},
        unit="GBP per street", low=0, keys="road", merge=True,
        source="council fee schedules: street works permit GBP 386 (Westmorland & Furness, "
        "Apr 2025), s50 licence up to GBP 467.87 (North Yorkshire), likely for major roads; "
        "their high adds a temporary road closure order GBP 1,650 (Cumbria 2021, Shropshire "
        "2022/23, Westmorland & Furness 2025)",
        doc="Street-works permits per street dug, by road class.",
    )  # fmt: skip
    reinstatement_gbp_per_m2: float = _rule(
        _E(235.0, 117.5, 470.0), unit="GBP/m2", low=0,
        source="SMR UK case study (low confidence): footway reinstatement of a small excavation "
        "about GBP 470 per ~2 m2 = GBP 235/m2; low half of it, high the whole GBP 470 for one m2 "
        "(fibreplan's spread)",
        doc="Permanent reinstatement of the pit of each chamber (trench reinstatement is in the "
        "trench rates), per chamber_reinstatement_m2 of pit.",
    )  # fmt: skip
    chamber_gbp: float = _rule(
        _E(650.0, 400.0, 1200.0), unit="GBP", low=0, assumption=True,
        source="fibreplan assumption (no public UK price: Openreach's developer guide names the "
        "boxes, JBC4, FW2/FW4, without prices); cross-check: an Openreach lead-in quote of "
        "GBP 6,561 for 132 m of duct and one joint box",
        doc="One footway access chamber / joint box, supplied and installed.",
    )  # fmt: skip
    duct_rent_gbp_per_m_year: float = _rule(
        _E(0.45, 0.29, 0.86), unit="GBP/m/year", low=0,
        source="Ofcom 2017 PIA proposal, spine duct 29p-45p/m/yr (likely the upper end); high "
        "the 2011 Openreach PIA single-bore price GBP 0.86/m/yr (via thinkbroadband)",
        doc="Renting existing duct (Openreach PIA spine duct).",
    )  # fmt: skip
    duct_access_gbp_per_m: float = _rule(
        _E(5.0, 4.0, 6.0), unit="GBP/m", low=0,
        source="Ofcom 2017 PIA statement, network adjustment allowance GBP 4,000-6,000 per km",
        doc="One-off cost of making rented duct usable (access chambers, clearing).",
    )  # fmt: skip
    aerial_gbp_per_m: float = _rule(
        _E(_usd_per_ft_to_gbp_per_m(6.49), _usd_per_ft_to_gbp_per_m(4.0),
           _usd_per_ft_to_gbp_per_m(9.0)),
        unit="GBP/m", low=0,
        source="Cartesian, 'Fiber deployment cost annual report' 2023 (FBA), aerial median "
        "$6.49/ft, range $4-9/ft, at 1.244 USD/GBP",
        doc="Aerial cable strung on existing poles.",
    )  # fmt: skip
    pole_rent_gbp_per_year: float = _rule(
        _E(5.74, 5.74, 11.0), unit="GBP/year", low=0,
        source="Ofcom 2017 PIA proposal, pole attachment GBP 5.74 per year; high the 2011 "
        "Openreach price, about GBP 11 per year",
        doc="Renting one attachment on an existing pole.",
    )  # fmt: skip
    pole_gbp: float = _rule(
        _E(1200.0, 600.0, 2500.0), unit="GBP per pole", low=0, assumption=True,
        source="fibreplan assumption (no public UK price for a new telecom pole found in "
        "fibreplan's cost sources): a wooden pole supplied and erected, with its stay and "
        "footing; wide range",
        doc="New pole supplied and erected, for aerial cable on new poles (the rural "
        "alternative to digging, TrenchRules.new_pole_areas).",
    )  # fmt: skip
    # ---- cabling and equipment (build)
    cable_gbp_per_m: Mapping[int, float] = _rule(
        {
            size: _E(round(supply + _CABLE_INSTALL_GBP_PER_M, 2), 10.0,
                     round(1.25 * (supply + _CABLE_INSTALL_GBP_PER_M), 2))
            for size, supply in _CABLE_SUPPLY_GBP_PER_M.items()
        },
        unit="GBP/m", low=0, keys="fibres", source=_CABLE_SOURCE,
        doc="Feeder and distribution cable supplied and installed (blown or pulled) per metre, "
        "by fibre count; a file's table replaces the whole default table.",
    )  # fmt: skip
    splice_gbp: float = _rule(
        _E(49.04, 41.80, 56.27), unit="GBP per splice", low=0, assumption=True,
        source="fibreplan assumption from the only public figure found: RSMeans US building "
        "cabling $52-70 per splice (low relevance) at 1.244 USD/GBP, likely the midpoint",
        doc="One fusion splice, in a joint or closure.",
    )  # fmt: skip
    splitter_gbp: Mapping[int, float] = _rule(
        {ratio: _E(82.65, 17.40, 165.30) for ratio in (2, 4, 8, 16, 32)},
        unit="GBP", low=0, keys="ratio", merge=True, assumption=True,
        source="ChrisMolanus/ftth_planner (proof of concept, cross-check): splitter EUR 20 + "
        "EUR 75 placement = GBP 82.65 at 0.870 GBP/EUR; low the splitter alone (GBP 17.40), high "
        "twice (fibreplan's spread); the same for every ratio (no public price per ratio)",
        doc="One PLC splitter, supplied and fitted, by number of outputs; a file may give "
        "only some ratios.",
    )  # fmt: skip
    dp_gbp: float = _rule(
        _E(250.0, 150.0, 400.0), unit="GBP", low=0, assumption=True,
        source="fibreplan assumption: no public price for an Openreach-style CBT (4/8/12 ports, "
        "pre-terminated; Openreach 'Building our fibre network - innovation'); high the "
        "nismod/digital_comms FTTdp 8-port DP GBP 400, a DP with electronics",
        doc="One distribution point (closure / connectorised block terminal, installed), its "
        "splitters priced apart.",
    )  # fmt: skip
    cabinet_gbp: float = _rule(
        _E(_eur(6000), 3000.0, 30_000.0), unit="GBP", low=0, assumption=True,
        source="fibreplan assumption (no public UK price for an FTTP street cabinet / "
        "aggregation node): likely a German street node with OLT connection about EUR 6,000 "
        "(forum) at 0.870 GBP/EUR, high a copper-era FTTC cabinet about GBP 30,000 (c. 2012, "
        "hearsay); not nismod's GBP 500, an upgrade of an existing cabinet",
        doc="One street cabinet (fibre distribution hub), supplied and installed, its "
        "splitters priced apart.",
    )  # fmt: skip
    olt_port_gbp: float = _rule(
        _E(600.0, 300.0, 1200.0), unit="GBP per PON port", low=0, assumption=True,
        source="fibreplan assumption; cross-check: OLT electronics are about 1 % of total FTTH "
        "build cost (US trade press), GPON and XGS-PON near price parity since 2021 (CCG)",
        doc="OLT electronics per PON port used (line cards, optics, share of chassis).",
    )  # fmt: skip
    headend_gbp: float = _rule(
        _E(70_000.0, 35_000.0, 105_000.0), unit="GBP", low=0,
        source="nismod/digital_comms config: FTTP exchange GBP 70,000 (Oughton et al., ITRC); "
        "+/-50 % is fibreplan's spread",
        doc="Head-end (OLT site) fit-out, once per plan.",
    )  # fmt: skip
    backhaul_gbp_per_headend: float = _rule(
        _E(_EAD_10Y, _EAD_10Y, round(2 * _EAD_10Y, 2)), unit="GBP", low=0,
        source="Openreach EAD 1 Gbps: connection GBP 462 (CLA offer 2024-25, briefing "
        "ETH039/23) + GBP 560/year (GEN078/21) over 10 years at 3.5 % (Green Book); high two "
        "circuits for resilience (fibreplan assumption)",
        doc="Backhaul from each headend: connection plus the present value of the rental.",
    )  # fmt: skip
    planning_gbp_per_premises: float = _rule(
        _E(200.0, 100.0, 300.0), unit="GBP per premises passed", low=0,
        source="nismod/digital_comms config: planning & administration GBP 200 per premises; "
        "+/-50 % is fibreplan's spread",
        doc="Survey, design, planning and administration per premises passed.",
    )  # fmt: skip
    wayleave_fraction: float = _rule(
        _E(0.02, 0.004, 0.053), unit="fraction of the build subtotal", low=0, high=1,
        assumption=True,
        source="Nordicity for DCMS 2014: wayleave regimes change total broadband "
        "infrastructure cost by 0.4-5.3 % (low, high); likely 2 % is fibreplan's assumption "
        "(CLA/NFU advisory rates: GBP 3.75/m one-off across private land)",
        doc="Wayleaves and legal costs, as a fraction of the build items above.",
    )  # fmt: skip
    # ---- connection (drop, in-building, ONT, install), at the take-up
    drop_gbp_per_premises: float = _rule(
        _E(81.0, 56.0, 181.0), unit="GBP per premises connected", low=0,
        source="DCMS/Ofcom 2017 consultation GBP 175-200 to connect, and Openreach "
        "provisioning ~GBP 300 (ISPreview Jan 2024), each less the ONT, install and optical "
        "connection point (GBP 119, connection_gbp_per_premises)",
        doc="Fixed part of each drop: connectorised drop at the DP, wall box, fitting.",
    )  # fmt: skip
    drop_gbp_per_m: float = _rule(
        _E(3.50, 0.54, 7.0), unit="GBP/m", low=0,
        source="Openreach FTTP on Demand distance charge GBP 3.50 per metre (thinkbroadband "
        "2014, a benchmark); low the drop cable alone, EUR 620/km (ftth_planner, cross-check); "
        "high twice the likely (fibreplan's spread)",
        doc="Drop cable per metre from the DP, along the street and to the premises, laid in "
        "the plan's duct or trench.",
    )  # fmt: skip
    lead_in_gbp_per_m: float = _rule(
        _E(25.0, 0.0, 50.0), unit="GBP/m", low=0, assumption=True,
        source="fibreplan assumption: high a new lead-in duct all-in (Openreach quote GBP 6,561 "
        "for 132 m, about GBP 50/m, BT Community forum), low none (existing duct or overhead), "
        "likely half the lead-ins need new duct",
        doc="Lead-in civils per metre from the street to the premises (the straight drop).",
    )  # fmt: skip
    in_building_gbp_per_unit: float = _rule(
        _E(_eur(1000), _eur(600), _eur(1400)), unit="GBP per unit", low=0,
        source="Dialog Consult for ANGA/VATM (Germany, Jun 2025; heise online): EUR 600-1,400 "
        "per flat in existing blocks, EUR 1,000 as a planning figure, at 0.870 GBP/EUR (no UK "
        "figure found)",
        doc="In-building wiring (riser and floor) per unit of a block of flats.",
    )  # fmt: skip
    connection_gbp_per_premises: float = _rule(
        _E(119.0, 119.0, round(_eur(70 + 85.91) + 45, 2)), unit="GBP per premises connected",
        low=0,
        source="nismod/digital_comms config (Oughton et al., ITRC): ONT/modem GBP 37 + "
        "installation GBP 37 + optical connection point GBP 45; high ONT EUR 70 + placement "
        "EUR 85.91 (ftth_planner) + GBP 45",
        doc="ONT, optical connection point and installation per premises connected.",
    )  # fmt: skip
    # ---- appraisal
    contingency_fraction: float = _rule(
        _E(0.10, 0.05, 0.14), unit="fraction of the subtotal", low=0, high=1, assumption=True,
        source="fibreplan assumption; high the DCMS LFFN programme's in-year variance +14 % "
        "(IPA/GMPP 2019)",
        doc="Contingency for known risks, as a fraction of all items above.",
    )  # fmt: skip
    chamber_reinstatement_m2: float = _rule(
        1.0, unit="m2 per chamber", low=0, high=100,
        source="fibreplan assumption: a footway box of about 1 m2",
        doc="Reinstated area of each chamber's pit.",
    )  # fmt: skip
    take_up: float = _rule(
        0.5, unit="fraction of premises passed", low=0, high=1, low_open=True,
        source="FTTH Council Europe cost model convention (2017): 100 % passed, 50 % connected; "
        "Openreach's target 40-55 % by FY28-30 (BT FY24 results); Ofcom Connected Nations "
        "2023 measured 28 % (rural 49 %, urban 25 %)",
        doc="Share of premises passed that connect: the connection items are priced at it and "
        "the cost per premises connected divides by it (CLI: --take-up).",
    )  # fmt: skip
    duct_years: int = _rule(
        10, unit="years", low=0, high=200,
        source="fibreplan default appraisal period for rented duct and poles",
        doc="Appraisal period for rented duct and poles.",
    )  # fmt: skip
    discount_rate: float = _rule(
        0.035, unit="fraction per year", low=0, high=1, high_open=True,
        source="HM Treasury Green Book, 3.5 % real discount rate",
        doc="Real discount rate for the present value of rents.",
    )  # fmt: skip
    optimism_bias_low: float = _rule(
        0.03, unit="fraction", low=0,
        source="HM Treasury Green Book supplementary guidance on optimism bias, standard civil "
        "engineering capex, lower bound 3 %",
        doc="Optimism bias once every source of it is mitigated (full business case).",
    )  # fmt: skip
    optimism_bias_high: float = _rule(
        0.44, unit="fraction", low=0,
        source="HM Treasury Green Book supplementary guidance on optimism bias, standard civil "
        "engineering capex, upper bound 44 %",
        doc="Optimism bias at the outset (strategic outline case); at least optimism_bias_low.",
    )  # fmt: skip
    optimism_bias_mitigation: float = _rule(
        0.0, unit="fraction", low=0, high=1,
        source="HM Treasury Green Book optimism bias method: the applied uplift falls from the "
        "upper to the lower bound as its causes are mitigated through the project's stages; "
        "fibreplan's default 0 (a first plan for a bid: the upper bound)",
        doc="How far the project's stage has mitigated optimism bias: applied uplift = "
        "optimism_bias_high - mitigation x (optimism_bias_high - optimism_bias_low).",
    )  # fmt: skip
    price_base_year: int = _rule(
        2024, unit="year", low=2000, high=2100,
        source="fibreplan: figures as published 2011-2025, converted at 2023 exchange rates "
        "and not re-indexed; stated as indicative 2024 prices, excluding VAT",
        doc="Price base year of the cost book (all figures exclude VAT).",
    )  # fmt: skip

    def __post_init__(self) -> None:
        """Give rural trench rates the file's own urban ones where it has them (see the key)."""
        if self.trench_rural_gbp_per_m is _TRENCH_RURAL_DEFAULT:
            own = _own_entries(self.trench_gbp_per_m, _TRENCH_URBAN)
            if own:
                rural = {**_TRENCH_RURAL_DEFAULT, **own}
                object.__setattr__(self, "trench_rural_gbp_per_m", rural)
        super().__post_init__()

    def _check_relations(self, clean: Mapping[str, Any]) -> list[str]:
        if clean["optimism_bias_low"] > clean["optimism_bias_high"]:
            msg = (
                f"key 'optimism_bias_low' ({clean['optimism_bias_low']}) must not exceed "
                f"optimism_bias_high ({clean['optimism_bias_high']})"
            )
            return [msg]
        return []

    @property
    def annuity_factor(self) -> float:
        """Present value of 1 GBP a year for ``duct_years`` at ``discount_rate`` (years)."""
        r, n = self.discount_rate, self.duct_years
        return float(n) if r == 0 else (1 - (1 + r) ** -n) / r

    @property
    def optimism_bias(self) -> float:
        """The applied optimism-bias uplift (fraction) at ``optimism_bias_mitigation``."""
        hi, lo = self.optimism_bias_high, self.optimism_bias_low
        return hi - self.optimism_bias_mitigation * (hi - lo)

    def estimates(self) -> dict[str, Estimate]:
        """Return every cost item as an :class:`Estimate`, keyed ``name`` or ``name.key``.

        Returns
        -------
        dict of str to Estimate
            E.g. ``"dp_gbp"``, ``"trench_gbp_per_m.footway"``, ``"cable_gbp_per_m.96"``.
        """
        out: dict[str, Estimate] = {}
        for name, rule in _rules(type(self)):
            if not rule.ranged:
                continue
            value = getattr(self, name)
            if isinstance(value, Mapping):
                out.update({f"{name}.{k}": v for k, v in value.items()})
            else:
                out[name] = value
        return out

    def unit_of(self, name: str) -> str:
        """Return the unit of setting ``name`` (``"a.b"`` is the unit of ``a``).

        Parameters
        ----------
        name : str
            Setting name, or ``name.key`` for a table entry.

        Returns
        -------
        str
            The declared unit.
        """
        return dict(_rules(type(self)))[name.split(".", maxsplit=1)[0]].unit


#: The default rural trench table object: a CostBook built without the key holds this one.
_TRENCH_RURAL_DEFAULT = next(
    f.default for f in dataclasses.fields(CostBook) if f.name == "trench_rural_gbp_per_m"
)


def _likely(value: object) -> object:
    """Return a ranged entry's likely value as given (number, Estimate or table), else itself."""
    if isinstance(value, Mapping):
        return value.get("likely")
    return float(value) if _is_number(value) else value  # type: ignore[arg-type]


def _own_entries(given: object, default: Mapping[str, Estimate]) -> dict[str, object]:
    """Entries of a surface table whose likely value differs from the shipped default's."""
    if not isinstance(given, Mapping):
        return {}
    return {
        k: v for k, v in given.items()
        if k in default and _likely(v) != float(default[k])
    }  # fmt: skip


@_documented
@dataclasses.dataclass(frozen=True, kw_only=True)
class TrenchRules(_TomlConfig):
    """Engineering rules of the trench graph: drop limit, road sides, duct and pole reuse.

    Used by :func:`fibreplan.build_trench_graph` (and the drop limit also by
    :func:`fibreplan.design_network`). Load edited values with
    :meth:`from_toml` (a ``[trench]`` table; keys under ``[design]``, as in
    files written before the split, are read too) or :func:`load_rules`.

    Raises
    ------
    CostFileError
        On construction, naming the key, the valid range and the value, if a
        value has the wrong type or is out of range.
    """

    _SECTION: ClassVar[str] = "trench"
    _WHAT: ClassVar[str] = "trench rules"

    max_drop_m: float = _rule(
        100.0, unit="m", low=0, high=10_000, low_open=True,
        source="Openreach drop-length guidance for pre-connectorised drops (about 100 m)",
        doc="Longest drop: a premises farther than this from every street is unreachable, and "
        "the drop cable from its DP (network distance plus the drop) may not exceed it.",
    )  # fmt: skip
    two_sided_highways: tuple[str, ...] = _rule(
        ("trunk", "trunk_link", "primary", "primary_link",
         "secondary", "secondary_link", "tertiary", "tertiary_link"),
        unit="OSM highway values", low=0,
        source="fibreplan default: roads too wide or busy to cross for every drop",
        doc="OSM highway values whose two sides are separate trenches, joined by priced road "
        "crossings (the optimiser picks the side).",
    )  # fmt: skip
    side_offset_m: float = _rule(
        6.0, unit="m", low=0, high=50, low_open=True,
        source="DMRB CD 127 lane width 3.65 m plus a 2 m footway",
        doc="Offset of each side trench from the centreline of a two-sided road.",
    )  # fmt: skip
    crossing_spacing_m: float = _rule(
        100.0, unit="m", low=0, high=1e9, low_open=True,
        source="fibreplan default: one crossing per drop-limit length of road",
        doc="Besides junctions, a two-sided road can be crossed mid-block at points this far "
        "apart.",
    )  # fmt: skip
    duct_tolerance_m: float = _rule(
        5.0, unit="m", low=0, high=100, low_open=True,
        source="fibreplan default: typical positional accuracy of duct records",
        doc="A street stretch within this distance of an existing duct may rent the duct "
        "instead of being dug.",
    )  # fmt: skip
    duct_min_coverage: float = _rule(
        0.9, unit="fraction", low=0, high=1, low_open=True,
        source="fibreplan default",
        doc="Fraction of a stretch's length that must lie within duct_tolerance_m of a duct "
        "for it to be rentable.",
    )  # fmt: skip
    pole_tolerance_m: float = _rule(
        10.0, unit="m", low=0, high=100, low_open=True,
        source="fibreplan default: poles stand at the kerb or the property line",
        doc="Poles within this distance of a street stretch can carry its cable.",
    )  # fmt: skip
    max_span_m: float = _rule(
        60.0, unit="m", low=0, high=1000, low_open=True,
        source="fibreplan default: typical UK overhead telecom spans are 40-60 m",
        doc="Longest aerial span between poles (and the stretch's ends) for a stretch to be "
        "strung aerially.",
    )  # fmt: skip
    urban_radius_m: float = _rule(
        400.0, unit="m", low=50, high=10_000,
        source="fibreplan rule, approximating the ONS 2011 rural-urban classification (urban: "
        "settlements of 10,000 people or more; ONS/Defra RUC 2011 leaflet) by premises density: "
        "a window of about 1 km2 tells a town from a village of a few hundred homes",
        doc="Half-side of the square window of 100 m grid cells (rounded to whole cells) "
        "around a stretch's midpoint in which its premises density is counted.",
    )  # fmt: skip
    urban_premises_per_ha: float = _rule(
        4.0, unit="premises per hectare", low=0,
        source="fibreplan rule: a town of 10,000 people (about 4,200 households at 2.4 per "
        "household, ONS Census 2021) over a few km2 has 10-20 homes per hectare across its "
        "built-up area; a village of 300 homes spread over a 1 km2 window has 3",
        doc="A stretch is urban when the premises (units, i.e. addresses) in its window "
        "number at least this many per hectare of the window (or its streets are dense, "
        "urban_street_m_per_ha), else rural; urban and rural stretches are dug at "
        "trench_gbp_per_m and trench_rural_gbp_per_m.",
    )  # fmt: skip
    urban_street_m_per_ha: float = _rule(
        80.0, unit="m of street per hectare", low=0,
        source="fibreplan rule: a town's street grid (blocks of about 100-150 m) has 130-200 m "
        "of street per hectare, a village in a 1 km2 window of fields under 50; this catches "
        "towns whose premises are missing from the input (OSM buildings are often incomplete)",
        doc="A stretch is also urban when the streets (centrelines, each two-sided road once) "
        "in its window measure at least this many metres per hectare.",
    )  # fmt: skip
    new_poles_rural: int = _rule(
        0, unit="0 or 1", low=0, high=1,
        source="fibreplan default: off, because a new pole needs consent (Electronic "
        "Communications Code notice, planning) that the planner must confirm",
        doc="1: a rural stretch may instead be strung on new poles (CostBook.pole_gbp each, "
        "one per max_span_m or part of it, plus aerial_gbp_per_m), when that is cheaper than "
        "digging; 0: never.",
    )  # fmt: skip


_DEFAULT_SPLITTER_LOSS_DB = {2: 3.7, 4: 7.3, 8: 10.5, 16: 13.7, 32: 17.1}


@_documented
@dataclasses.dataclass(frozen=True, kw_only=True)
class DesignRules(_TomlConfig):
    """Engineering rules for the PON design; UK GPON / XGS-PON defaults.

    Used by :func:`fibreplan.design_network`. Load edited values with
    :meth:`from_toml` (a ``[design]`` table or the top level) or
    :func:`load_rules`, and write them with :func:`rules_toml`.

    Raises
    ------
    CostFileError
        On construction, naming the key, the valid range and the value, if a
        value has the wrong type or is out of range.
    """

    _SECTION: ClassVar[str] = "design"
    _WHAT: ClassVar[str] = "design rules"

    primary_split: int = _rule(
        4, unit="outputs per splitter", low=1, high=128,
        source="Openreach FTTP two-stage 1:32 architecture (1:4 in the cabinet / FDH)",
        doc="Outputs of each primary splitter in street cabinets (1 means none); 1 or a ratio "
        "listed in splitter_loss_db.",
    )  # fmt: skip
    secondary_split: int = _rule(
        8, unit="outputs per splitter", low=1, high=128,
        source="Openreach FTTP two-stage 1:32 architecture (1:8 at the DP)",
        doc="Outputs of each secondary splitter at distribution points; 1 or a ratio listed in "
        "splitter_loss_db.",
    )  # fmt: skip
    dp_capacity: int = _rule(
        8, unit="premises", low=1, high=1024,
        source="Openreach 8-port distribution point",
        doc="Most premises served by one DP (above secondary_split, ceil(premises / "
        "secondary_split) splitters in that DP).",
    )  # fmt: skip
    cabinet_capacity: int = _rule(
        256, unit="premises", low=1, high=1_000_000,
        source="typical 256/288-port street fibre distribution hub",
        doc="Most premises served by one cabinet (via its DPs); at least dp_capacity.",
    )  # fmt: skip
    spare_fraction: float = _rule(
        0.2, unit="fraction", low=0, high=10,
        source="operator planning rule (Openreach / B4RN guidance reserves 20-25 % for growth "
        "and repairs)",
        doc="Spare fibres per cable as a fraction of used fibres, rounded up.",
    )  # fmt: skip
    cable_sizes: tuple[int, ...] = _rule(
        (12, 24, 48, 96, 144, 288), unit="fibres", low=1, high=10_000,
        source="manufacturers' standard loose-tube / blown-fibre counts",
        doc="Standard cable fibre counts, strictly increasing; an edge uses the smallest that "
        "fits used + spare fibres, or parallel cables of the largest beyond it.",
    )  # fmt: skip
    chamber_spacing_m: float = _rule(
        250.0, unit="m", low=0, high=100_000, low_open=True,
        source="B4RN 'Fibre to the farm' build guidance, chambers every ~250 m",
        doc="Longest route length between chambers (joint boxes or pulling chambers).",
    )  # fmt: skip
    fibre_loss_db_per_km: float = _rule(
        0.35, unit="dB/km", low=0, high=10,
        source="ITU-T G.652, cabled single-mode fibre at 1310 nm",
        doc="Fibre attenuation.",
    )  # fmt: skip
    splitter_loss_db: Mapping[int, float] = _rule(
        _DEFAULT_SPLITTER_LOSS_DB, unit="dB", low=0, high=50, keys="ratio",
        source="ITU-T G.671 / vendor PLC splitter datasheet maximum insertion loss",
        doc="Splitter insertion loss by number of outputs; a file's table replaces the whole "
        "default table.",
    )  # fmt: skip
    splice_loss_db: float = _rule(
        0.1, unit="dB", low=0, high=5,
        source="ITU-T L.12 / typical fusion-splice planning value",
        doc="Loss of one fusion splice. A fibre is spliced at the headend, at each splitter, "
        "at the customer end and at the cable joints every drum_length_m, not in every "
        "chamber it passes through (see design_network).",
    )  # fmt: skip
    fixed_splices: int = _rule(
        2, unit="splices", low=0, high=1000,
        source="fibreplan assumption: headend pigtail splice (OLT patch) + customer splice point",
        doc="Splices on every path besides those at the splitters and the drum joints.",
    )  # fmt: skip
    splitter_splices: int = _rule(
        2, unit="splices per splitter", low=0, high=100,
        source="fibreplan assumption: PLC splitters with pigtails, fusion-spliced on their "
        "input and output in the cabinet / DP closure (connectorised splitters: set 0)",
        doc="Splices at each splitter on a path (cabinet and DP); where a stage has no "
        "splitter (split 1) its cables are joined by one splice instead.",
    )  # fmt: skip
    drum_length_m: float = _rule(
        4000.0, unit="m", low=0, high=100_000, low_open=True,
        source="FOA Reference Guide, outside plant: cables are made in lengths of about 4-5 km "
        "at most, so longer runs are spliced; fibreplan assumes 4 km drums (2 km is also "
        "common: use your supplier's)",
        doc="Longest cable from one drum: a feeder, distribution or drop cable run of L metres "
        "has ceil(L / drum_length_m) - 1 joints, each one splice on its fibres.",
    )  # fmt: skip
    connector_loss_db: float = _rule(
        0.5, unit="dB", low=0, high=5,
        source="IEC 61753-1 / ITU-T G.671 planning value per mated connector pair",
        doc="Loss of one mated connector pair.",
    )  # fmt: skip
    connectors: int = _rule(
        4, unit="connectors", low=0, high=100,
        source="Openreach FTTP architecture: OLT, cabinet, DP and ONT connectors",
        doc="Connectors on every path.",
    )  # fmt: skip
    power_budget_db: float = _rule(
        28.0, unit="dB", low=0, high=100, low_open=True,
        source="ITU-T G.984.2 class B+ GPON optics",
        doc="Optical power budget.",
    )  # fmt: skip
    margin_db: float = _rule(
        0.0, unit="dB", low=0, high=100,
        source="fibreplan default (no margin; operators often reserve 1-3 dB)",
        doc="Engineering margin (ageing, repairs) reserved from the budget: a premises "
        "violates it when its loss + margin exceeds power_budget_db.",
    )  # fmt: skip

    def _check_relations(self, clean: Mapping[str, Any]) -> list[str]:
        errors: list[str] = []
        if clean["cabinet_capacity"] < clean["dp_capacity"]:
            errors.append(
                f"key 'cabinet_capacity' must be >= dp_capacity ({clean['dp_capacity']}) "
                f"and <= 1000000 (premises); got {clean['cabinet_capacity']}"
            )
        for name in ("primary_split", "secondary_split"):
            ratio = clean[name]
            if ratio != 1 and ratio not in clean["splitter_loss_db"]:
                errors.append(
                    f"key '{name}' must be 1 or a ratio listed in splitter_loss_db "
                    f"{sorted(clean['splitter_loss_db'])}; got {ratio}"
                )
        return errors

    def splitter_loss(self, ratio: int) -> float:
        """Return the insertion loss of a 1:``ratio`` splitter in dB (0 for ratio 1).

        Parameters
        ----------
        ratio : int
            Number of splitter outputs.

        Returns
        -------
        float
            Loss in dB.
        """
        if ratio == 1:
            return 0.0
        return float(self.splitter_loss_db[ratio])


#: Gigabit voucher rule sets by the year they took effect (see :class:`FundingRules`).
VOUCHER_RULE_SETS = {
    2022: "5 Dec 2022 - Jun 2025: rural premises only (ONS 2011 rural-urban classes D1-F2) "
    "with a current download of at most 100 Mbps; not under Public Review",
    2025: "since Jun 2025: current download below 1 Gbps (not gigabit-capable), no rurality "
    "requirement; not under Public Review",
}
_VOUCHER_SOURCE = (
    "gov.uk 'Gigabit Broadband Voucher Scheme information' (updated 17 Oct 2025); ISPreview, "
    "Jun 2025; UK Parliament written answer UIN 57254 (Oct 2021) for the D1-F2 definition"
)


@_documented
@dataclasses.dataclass(frozen=True, kw_only=True)
class FundingRules(_TomlConfig):
    """Subsidy rules: the gigabit voucher and a simple commercial-viability model.

    Used by :mod:`fibreplan.subsidy`. A premises' voucher is
    min(``voucher_cap_gbp``, its cost share) when it is eligible under
    ``voucher_rule_set``; its subsidy gap is max(0, cost share - viable
    investment), where the viable investment per premises passed is the
    present value of ``arpu_gbp_per_month`` x 12 x ``take_up`` x ``margin``
    over ``years`` at ``discount_rate``. Load edited values with
    :meth:`from_toml` (a ``[funding]`` table).

    Raises
    ------
    CostFileError
        On construction, naming the key, the valid range and the value, if a
        value has the wrong type or is out of range.
    """

    _SECTION: ClassVar[str] = "funding"
    _WHAT: ClassVar[str] = "funding rules"

    voucher_cap_gbp: float = _rule(
        4500.0, unit="GBP per premises", low=0,
        source="Gigabit Broadband Voucher: up to GBP 4,500 per premises (residential and "
        "business) since 5 Dec 2022; " + _VOUCHER_SOURCE,
        doc="Largest voucher per premises.",
    )  # fmt: skip
    voucher_rule_set: int = _rule(
        2025, unit="year the rules took effect", low=2022, high=2025,
        source=_VOUCHER_SOURCE,
        doc="Voucher eligibility rules: 2025 (since Jun 2025: current download below 1 Gbps, "
        "no rurality requirement) or 2022 (5 Dec 2022 - Jun 2025: rural ONS 2011 classes "
        "D1-F2 and at most 100 Mbps now). Premises under Public Review are never eligible.",
    )  # fmt: skip
    voucher_min_premises: int = _rule(
        2, unit="premises", low=1, high=1_000_000,
        source="Gigabit Broadband Voucher Scheme: at least 2 eligible premises per project "
        "(" + _VOUCHER_SOURCE + ")",
        doc="Fewest eligible premises a voucher project may have; fewer gives no vouchers.",
    )  # fmt: skip
    arpu_gbp_per_month: float = _rule(
        30.0, unit="GBP per month, excluding VAT", low=0,
        source="fibreplan assumption: a typical UK entry-level FTTP retail price excluding VAT",
        doc="Average revenue per connected premises (viable-investment model).",
        assumption=True,
    )  # fmt: skip
    take_up: float = _rule(
        0.4, unit="fraction of premises passed", low=0, high=1,
        source="Openreach target 40-55 % by FY28-30 (BT FY24 results); Ofcom Connected "
        "Nations 2023 measured 28 % (rural 49 %, urban 25 %)",
        doc="Share of premises passed that connect over the appraisal (viable-investment model).",
    )  # fmt: skip
    margin: float = _rule(
        0.5, unit="fraction of revenue", low=0, high=1,
        source="fibreplan assumption: wholesale/retail operating margin (EBITDA) of a network",
        doc="Share of revenue left after operating costs (viable-investment model).",
        assumption=True,
    )  # fmt: skip
    years: int = _rule(
        15, unit="years", low=1, high=100,
        source="fibreplan assumption: payback horizon of an investor in passive fibre",
        doc="Appraisal period of the viable-investment model.",
        assumption=True,
    )  # fmt: skip
    discount_rate: float = _rule(
        0.035, unit="fraction per year", low=0, high=1, high_open=True,
        source="HM Treasury Green Book, 3.5 % real (a commercial investor's cost of capital "
        "is higher, which lowers the viable investment)",
        doc="Real discount rate of the viable-investment model.",
    )  # fmt: skip

    def _check_relations(self, clean: Mapping[str, Any]) -> list[str]:
        if clean["voucher_rule_set"] not in VOUCHER_RULE_SETS:
            msg = (
                f"key 'voucher_rule_set' must be one of {sorted(VOUCHER_RULE_SETS)} (year the "
                f"rules took effect); got {clean['voucher_rule_set']}"
            )
            return [msg]
        return []

    @property
    def viable_investment_gbp(self) -> float:
        """Commercially viable investment per premises passed (GBP): the model's present value.

        ``arpu_gbp_per_month x 12 x take_up x margin x annuity(years, discount_rate)``.
        """
        r, n = self.discount_rate, self.years
        annuity = float(n) if r == 0 else (1 - (1 + r) ** -n) / r
        return self.arpu_gbp_per_month * 12 * self.take_up * self.margin * annuity


# --------------------------------------------------------------------------------------
# Files


def _read_toml(path: str | Path) -> dict[str, Any]:
    p = Path(path)
    try:
        with p.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError as err:
        msg = f"no such configuration file '{p}'."
        raise CostFileError(msg) from err
    except tomllib.TOMLDecodeError as err:
        msg = f"'{p}' is not valid TOML: {err}"
        raise CostFileError(msg) from err


def _rule_tables(data: dict[str, Any], *, source: str) -> dict[str, Any]:
    """Split a rules file into its ``design`` and ``trench`` tables.

    A file without either table is all ``[design]`` (the top level). Trench
    keys under ``[design]`` (files written before :class:`TrenchRules`
    existed) are read as ``[trench]``; the same key in both tables is an error.
    """
    tables = data if "design" in data or "trench" in data else {"design": data}
    stray = sorted(set(tables) - {"design", "trench", "costs"})
    if stray:
        msg = (
            f"{source}: key(s) {stray} are outside the [design] and [trench] tables; "
            "move them into one of the tables."
        )
        raise CostFileError(msg)
    design, trench = tables.get("design", {}), tables.get("trench", {})
    for name, table in (("design", design), ("trench", trench)):
        if not isinstance(table, dict):
            msg = f"'{source}': [{name}] must be a table."
            raise CostFileError(msg)
    trench_keys = {name for name, _ in _rules(TrenchRules)}
    moved = sorted(set(design) & trench_keys)
    clash = sorted(set(moved) & set(trench))
    if clash:
        msg = f"{source}: key(s) {clash} are in both [design] and [trench]; keep them in [trench]."
        raise CostFileError(msg)
    if moved:
        logger.info("%s: trench rule(s) %s under [design] read as [trench]", source, moved)
    return {
        "design": {k: v for k, v in design.items() if k not in trench_keys},
        "trench": {**trench, **{k: design[k] for k in moved}},
    }


def load_toml_section(path: str | Path, section: str) -> dict[str, Any]:
    """Read ``[section]`` of a TOML file (or the whole file if it has no such table).

    For ``"design"`` and ``"trench"`` the two tables of a rules file are
    split as :func:`load_rules` does (trench keys under ``[design]`` belong
    to ``[trench]``).

    Parameters
    ----------
    path : str or pathlib.Path
        TOML file.
    section : str
        Table name: ``"costs"``, ``"design"`` or ``"trench"``.

    Returns
    -------
    dict
        The table's keys and values.

    Raises
    ------
    CostFileError
        If the file is missing or not valid TOML, or the table is not a table.
    """
    data = _read_toml(path)
    if section in {"design", "trench"}:
        return dict(_rule_tables(data, source=str(path))[section])
    table = data.get(section, data)
    if not isinstance(table, dict):
        msg = f"'{path}': [{section}] must be a table."
        raise CostFileError(msg)
    return table


def load_rules(path: str | Path) -> tuple[TrenchRules, DesignRules]:
    """Read the trench and design rules from one TOML file (``fibreplan design-rules``).

    Parameters
    ----------
    path : str or pathlib.Path
        TOML file with a ``[trench]`` and/or a ``[design]`` table (or design
        keys at the top level); absent keys keep their defaults.

    Returns
    -------
    TrenchRules, DesignRules
        The validated rules.

    Raises
    ------
    CostFileError
        If the file is missing or not valid TOML, a key is unknown or in both
        tables, or a value is invalid (the message names the key and the file).
    """
    tables = _rule_tables(_read_toml(path), source=str(path))
    return (
        TrenchRules.from_dict(tables["trench"], source=str(path)),
        DesignRules.from_dict(tables["design"], source=str(path)),
    )


def rules_toml(trench_rules: TrenchRules | None = None, rules: DesignRules | None = None) -> str:
    """Return a rules file with a ``[trench]`` and a ``[design]`` table, for :func:`load_rules`.

    Parameters
    ----------
    trench_rules : TrenchRules, optional
        Default ``TrenchRules()``.
    rules : DesignRules, optional
        Default ``DesignRules()``.

    Returns
    -------
    str
        TOML text: each table with a comment header giving every key's unit,
        valid range and source.
    """
    return (trench_rules or TrenchRules()).to_toml() + "\n" + (rules or DesignRules()).to_toml()
