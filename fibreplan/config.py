"""Validated configuration objects, loadable from TOML.

:class:`DesignRules` holds the engineering rules (trench sides, duct reuse,
PON splits, capacities, cable sizes, chamber spacing, optical budget), each
default with its source. :class:`CostBook` holds every unit cost in pounds
sterling, each default with its published source; foreign figures are
converted at the stated rate and year. Edit the output of ``fibreplan
cost-book`` or ``fibreplan design-rules`` (TOML) and pass it with ``--costs``
or ``--design``.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from typing import ClassVar
from typing import Self

import numpy as np

from fibreplan._errors import CostFileError

__all__ = ["SURFACES", "CostBook", "DesignRules", "load_toml_section"]

#: Trench surface classes, cheapest last (see :func:`fibreplan.trench.surface_class`).
SURFACES = ("carriageway", "footway", "verge")

# Exchange rates used to convert published figures (HMRC/ONS annual averages).
# source: Bank of England annual average spot rates 2023: USD/GBP 1.244, EUR/GBP 0.870
_USD_PER_GBP_2023 = 1.244
_GBP_PER_EUR_2023 = 0.870
_M_PER_FT = 0.3048


def _usd_per_ft_to_gbp_per_m(usd_per_ft: float) -> float:
    return round(usd_per_ft / _M_PER_FT / _USD_PER_GBP_2023, 2)


class _TomlConfig:
    """TOML reading and writing shared by the configuration classes.

    Subclasses are frozen dataclasses that set ``_SECTION`` (their TOML table)
    and implement ``from_dict``.
    """

    _SECTION: ClassVar[str] = ""

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str = "<dict>") -> Self:
        raise NotImplementedError  # pragma: no cover

    @classmethod
    def _check_keys(cls, data: object, *, source: str) -> None:
        """Raise CostFileError unless ``data`` is a mapping of known field names."""
        if not isinstance(data, Mapping):
            msg = f"{source}: [{cls._SECTION}] must be a table of keys; got {type(data).__name__}."
            raise CostFileError(msg)
        names = sorted(f.name for f in dataclasses.fields(cls))  # type: ignore[arg-type]
        unknown = sorted(set(data) - set(names))
        if unknown:
            msg = f"{source}: unknown [{cls._SECTION}] key(s) {unknown}; allowed keys are {names}."
            raise CostFileError(msg)

    @classmethod
    def _build(cls, kwargs: Mapping[str, Any], *, source: str) -> Self:
        """Construct from checked keys, naming ``source`` in any validation error."""
        try:
            return cls(**kwargs)
        except (CostFileError, TypeError) as err:
            raise CostFileError(f"{source}: {err}") from err

    @classmethod
    def from_toml(cls, path: str | Path) -> Self:
        """Read from a TOML file: its ``[costs]`` / ``[design]`` table, or the top level.

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

    def to_toml(self) -> str:
        """Return the values as TOML text (one table) to edit and reload with :meth:`from_toml`.

        Returns
        -------
        str
            TOML text.
        """
        lines = [f"[{self._SECTION}]"]
        tables: list[str] = []
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if isinstance(value, Mapping):
                tables.append(f"\n[{self._SECTION}.{f.name}]")
                tables.extend(f'"{k}" = {float(v)!r}' for k, v in value.items())
            elif isinstance(value, tuple):
                lines.append(f"{f.name} = [{', '.join(_toml_scalar(v) for v in value)}]")
            else:
                lines.append(f"{f.name} = {value!r}")
        return "\n".join(lines + tables) + "\n"


@dataclasses.dataclass(frozen=True, kw_only=True)
class CostBook(_TomlConfig):
    """Unit costs for a fibre build, in GBP.

    Every field has a default taken from a published figure (the ``# source``
    comments in the code give the citation); they are indicative, not quotes.

    Attributes
    ----------
    trench_gbp_per_m : Mapping[str, float]
        Civil works per metre of new trench, by surface class
        (``carriageway``, ``footway``, ``verge``). Defaults: carriageway 83.0,
        footway 61.3, verge 32.9 GBP/m.
    drop_gbp_per_m : float
        Drop (lead-in) from the street trench to a premises, per metre,
        including its small trench and cable. Default 15.0 GBP/m.
    connection_gbp_per_premises : float
        Customer-end equipment and install per premises connected: ONT,
        installation and optical connection point. Default 119.0 GBP.
    planning_gbp_per_premises : float
        Survey, planning, wayleaves and administration per premises passed.
        Default 200.0 GBP.
    headend_gbp : float
        Head-end (OLT site) fit-out, once per plan. Default 70,000 GBP.
    road_crossing_gbp : float
        One road crossing (drop or trench across a carriageway). Default 1,000 GBP.
    dp_gbp : float
        One distribution point (8-port DP with splitter). Default 400 GBP.
    cabinet_gbp : float
        One street cabinet (fibre distribution hub). Default 500 GBP.
    chamber_gbp : float
        One footway access chamber / joint box, installed. Default 650 GBP.
    cable_gbp_per_m : Mapping[int, float]
        Cable supply and install (blown or pulled) per metre by fibre count.
    duct_rent_gbp_per_m_year : float
        Renting existing duct (Openreach PIA spine duct). Default 0.45 GBP/m/yr.
    duct_access_gbp_per_m : float
        One-off cost of making rented duct usable (chambers, clearing),
        per metre. Default 5.0 GBP/m.
    aerial_gbp_per_m : float
        Aerial cable strung on existing poles, per metre. Default 17.11 GBP/m.
    pole_rent_gbp_per_year : float
        Renting one attachment on an existing pole. Default 5.74 GBP/yr.
    duct_years : int
        Appraisal period for rented duct and poles. Default 10 years.
    discount_rate : float
        Real discount rate for present values. Default 0.035 (3.5 %).
    optimism_bias_low, optimism_bias_high : float
        Fractions added to capex for the low (P10) and high (P90) estimate.
        Defaults 0.03 and 0.44.

    Raises
    ------
    CostFileError
        On construction, if a value is negative, not a number, or a surface
        or cable size is missing.
    """

    _SECTION: ClassVar[str] = "costs"

    trench_gbp_per_m: Mapping[str, float] = dataclasses.field(
        default_factory=lambda: {
            # source: Cartesian, "Fiber deployment cost annual report" 2023 (FBA), urban
            # underground median $23.25/ft -> GBP 61.30/m, plus carriageway reinstatement
            # (County Surveyors' Society levy proposal, up to GBP 45/m2 vs GBP 23/m2 in footway,
            # on a 1 m reinstated width): +GBP 22/m
            "carriageway": 83.0,
            # source: Cartesian 2023 urban underground median $23.25/ft at 1.244 USD/GBP
            "footway": _usd_per_ft_to_gbp_per_m(23.25),
            # source: Cartesian 2023 rural underground median $12.50/ft at 1.244 USD/GBP
            "verge": _usd_per_ft_to_gbp_per_m(12.50),
        }
    )
    # source: ChrisMolanus/ftth_planner cost_parameters.py, building trench EUR 16,700/km
    # + drop cable EUR 620/km, at 0.870 GBP/EUR (a proof of concept; cross-check only)
    drop_gbp_per_m: float = round((16.7 + 0.62) * _GBP_PER_EUR_2023, 2)
    # source: nismod/digital_comms config (Oughton et al., ITRC): ONT/modem GBP 37
    # + installation GBP 37 + optical connection point GBP 45
    connection_gbp_per_premises: float = 119.0
    # source: nismod/digital_comms config: planning & administration GBP 200 per premises
    planning_gbp_per_premises: float = 200.0
    # source: nismod/digital_comms config: FTTP exchange GBP 70,000
    headend_gbp: float = 70_000.0
    # source: B4RN / Broadband for Cumbria community guidance, ~GBP 1,000 per road crossing
    road_crossing_gbp: float = 1_000.0
    # source: nismod/digital_comms config: FTTdp 8-port distribution point GBP 400
    dp_gbp: float = 400.0
    # source: nismod/digital_comms config: FTTP cabinet GBP 500
    cabinet_gbp: float = 500.0
    # source: fibreplan assumption (no public UK figure in our sources): a footway joint box,
    # supply and install; replace with a contractor's rate
    chamber_gbp: float = 650.0
    cable_gbp_per_m: Mapping[int, float] = dataclasses.field(
        default_factory=lambda: {
            # source: ChrisMolanus/ftth_planner, 96-core cable EUR 18,100/km at 0.870 GBP/EUR
            # = GBP 15.75/m; other sizes scaled by fibreplan's assumption of +/-15 % per size step
            12: 10.36,
            24: 11.91,
            48: 13.70,
            96: 15.75,
            144: 18.11,
            288: 20.83,
        }
    )
    # source: Ofcom 2017 PIA proposal, spine duct 29p-45p/m/yr (upper end taken)
    duct_rent_gbp_per_m_year: float = 0.45
    # source: Ofcom 2017 PIA statement, network adjustment allowance GBP 4,000-6,000 per km
    # (midpoint), for access chambers and clearing blocked duct
    duct_access_gbp_per_m: float = 5.0
    # source: Cartesian, "Fiber deployment cost annual report" 2023 (FBA), aerial median
    # $6.49/ft at 1.244 USD/GBP
    aerial_gbp_per_m: float = _usd_per_ft_to_gbp_per_m(6.49)
    # source: Ofcom 2017 PIA proposal, pole attachment GBP 5.74 per year
    pole_rent_gbp_per_year: float = 5.74
    # source: fibreplan default appraisal period for rented duct (10 years)
    duct_years: int = 10
    # source: HM Treasury Green Book, 3.5 % real discount rate
    discount_rate: float = 0.035
    # source: HM Treasury Green Book supplementary guidance on optimism bias,
    # standard civil engineering capex: lower bound 3 %, upper bound 44 %
    optimism_bias_low: float = 0.03
    optimism_bias_high: float = 0.44

    def __post_init__(self) -> None:
        """Check every value and freeze the mappings."""
        errors: list[str] = []
        missing = set(SURFACES) - set(self.trench_gbp_per_m)
        if missing:
            errors.append(f"trench_gbp_per_m lacks surfaces {sorted(missing)} (need {SURFACES})")
        extra = set(self.trench_gbp_per_m) - set(SURFACES)
        if extra:
            errors.append(f"trench_gbp_per_m has unknown surfaces {sorted(extra)}")
        for key, value in self.trench_gbp_per_m.items():
            _check_number(f"trench_gbp_per_m.{key}", value, errors)
        if not self.cable_gbp_per_m:
            errors.append("cable_gbp_per_m must list at least one cable size")
        for key, value in self.cable_gbp_per_m.items():
            if not isinstance(key, int) or isinstance(key, bool) or key <= 0:
                errors.append(f"cable_gbp_per_m key {key!r} must be a positive fibre count")
            _check_number(f"cable_gbp_per_m.{key}", value, errors)
        for f in dataclasses.fields(self):
            if f.name in {"trench_gbp_per_m", "cable_gbp_per_m"}:
                continue
            _check_number(f.name, getattr(self, f.name), errors)
        if self.discount_rate >= 1:
            errors.append(f"discount_rate={self.discount_rate} must be a fraction below 1")
        if self.optimism_bias_low > self.optimism_bias_high:
            errors.append("optimism_bias_low must not exceed optimism_bias_high")
        if errors:
            raise CostFileError("invalid cost book: " + "; ".join(errors))
        object.__setattr__(self, "trench_gbp_per_m", dict(self.trench_gbp_per_m))
        object.__setattr__(self, "cable_gbp_per_m", dict(sorted(self.cable_gbp_per_m.items())))

    @property
    def annuity_factor(self) -> float:
        """Present value of 1 GBP a year for ``duct_years`` at ``discount_rate`` (years)."""
        r, n = self.discount_rate, self.duct_years
        return float(n) if r == 0 else (1 - (1 + r) ** -n) / r

    @property
    def duct_rent_pv_gbp_per_m(self) -> float:
        """Present value of renting one metre of duct over ``duct_years`` (GBP/m)."""
        return self.duct_rent_gbp_per_m_year * self.annuity_factor

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str = "<dict>") -> Self:
        """Build a cost book from a mapping, defaults filling what is absent.

        Parameters
        ----------
        data : Mapping
            Field names to values; ``cable_gbp_per_m`` keys may be strings.
        source : str, default "<dict>"
            Where ``data`` came from, for error messages.

        Returns
        -------
        CostBook
            The validated cost book.

        Raises
        ------
        CostFileError
            If a key is unknown or a value is invalid.
        """
        cls._check_keys(data, source=source)
        kwargs = dict(data)
        if "trench_gbp_per_m" in kwargs:
            kwargs["trench_gbp_per_m"] = {**cls().trench_gbp_per_m, **kwargs["trench_gbp_per_m"]}
        if "cable_gbp_per_m" in kwargs:
            try:
                kwargs["cable_gbp_per_m"] = {
                    int(k): v for k, v in dict(kwargs["cable_gbp_per_m"]).items()
                }
            except (TypeError, ValueError) as err:
                msg = f'{source}: cable_gbp_per_m keys must be fibre counts like "96": {err}'
                raise CostFileError(msg) from err
        return cls._build(kwargs, source=source)


def _check_number(name: str, value: object, errors: list[str]) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        errors.append(f"{name}={value!r} must be a number")
    elif not math.isfinite(value) or value < 0:
        errors.append(f"{name}={value!r} must be a finite number >= 0")


def load_toml_section(path: str | Path, section: str) -> dict[str, Any]:
    """Read ``[section]`` of a TOML file (or the whole file if it has no such table).

    Parameters
    ----------
    path : str or pathlib.Path
        TOML file.
    section : str
        Table name, e.g. ``"costs"`` or ``"design"``.

    Returns
    -------
    dict
        The table's keys and values.

    Raises
    ------
    CostFileError
        If the file is missing or not valid TOML.
    """
    p = Path(path)
    try:
        with p.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError as err:
        msg = f"no such configuration file '{p}'."
        raise CostFileError(msg) from err
    except tomllib.TOMLDecodeError as err:
        msg = f"'{p}' is not valid TOML: {err}"
        raise CostFileError(msg) from err
    table = data.get(section, data)
    if not isinstance(table, dict):
        msg = f"'{p}': [{section}] must be a table."
        raise CostFileError(msg)
    return table


_DEFAULT_SPLITTER_LOSS_DB: dict[int, float] = {
    # source: ITU-T G.671 / typical PLC splitter datasheet maximum insertion loss, 1:2
    2: 3.7,
    # source: ITU-T G.671 / typical PLC splitter datasheet maximum insertion loss, 1:4
    4: 7.3,
    # source: ITU-T G.671 / typical PLC splitter datasheet maximum insertion loss, 1:8
    8: 10.5,
    # source: ITU-T G.671 / typical PLC splitter datasheet maximum insertion loss, 1:16
    16: 13.7,
    # source: ITU-T G.671 / typical PLC splitter datasheet maximum insertion loss, 1:32
    32: 17.1,
}

# name -> (kind, low, high, low_inclusive, unit). kind: int, float, sizes, losses, strs.
_SPECS: dict[str, tuple[str, float, float, bool, str]] = {
    "primary_split": ("int", 1, 128, True, "outputs per splitter"),
    "secondary_split": ("int", 1, 128, True, "outputs per splitter"),
    "dp_capacity": ("int", 1, 1024, True, "premises"),
    "cabinet_capacity": ("int", 1, 1_000_000, True, "premises"),
    "max_drop_m": ("float", 0.0, 10_000.0, False, "m"),
    "spare_fraction": ("float", 0.0, 10.0, True, "fraction"),
    "cable_sizes": ("sizes", 1, 10_000, True, "fibres"),
    "chamber_spacing_m": ("float", 0.0, 100_000.0, False, "m"),
    "fibre_loss_db_per_km": ("float", 0.0, 10.0, True, "dB/km"),
    "splitter_loss_db": ("losses", 0.0, 50.0, True, "dB"),
    "splice_loss_db": ("float", 0.0, 5.0, True, "dB"),
    "fixed_splices": ("int", 0, 1000, True, "splices"),
    "connector_loss_db": ("float", 0.0, 5.0, True, "dB"),
    "connectors": ("int", 0, 100, True, "connectors"),
    "power_budget_db": ("float", 0.0, 100.0, False, "dB"),
    "margin_db": ("float", 0.0, 100.0, True, "dB"),
    "two_sided_highways": ("strs", 0, 100, True, "OSM highway values"),
    "side_offset_m": ("float", 0.0, 50.0, False, "m"),
    "duct_tolerance_m": ("float", 0.0, 100.0, False, "m"),
    "duct_min_coverage": ("float", 0.0, 1.0, False, "fraction"),
    "pole_tolerance_m": ("float", 0.0, 100.0, False, "m"),
    "max_span_m": ("float", 0.0, 1000.0, False, "m"),
    "crossing_spacing_m": ("float", 0.0, 1e9, False, "m"),
}


def _toml_scalar(value: object) -> str:
    return f'"{value}"' if isinstance(value, str) else str(value)


def _range_text(low: float, high: float, low_inclusive: bool) -> str:
    return f"{'[' if low_inclusive else '('}{low}, {high}]"


def _bad(name: str, what: str, value: object) -> str:
    _, low, high, low_inc, unit = _SPECS[name]
    return (
        f"key '{name}' must be {what} in {_range_text(low, high, low_inc)} ({unit}); "
        f"got {value!r} ({type(value).__name__})"
    )


def _check_int(name: str, value: object, errors: list[str]) -> int | None:
    _, low, high, _, _ = _SPECS[name]
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        errors.append(_bad(name, "an integer", value))
        return None
    if not low <= int(value) <= high:
        errors.append(_bad(name, "an integer", value))
        return None
    return int(value)


def _check_float(name: str, value: object, errors: list[str]) -> float | None:
    _, low, high, low_inc, _ = _SPECS[name]
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        errors.append(_bad(name, "a number", value))
        return None
    v = float(value)
    ok = math.isfinite(v) and v <= high and (v >= low if low_inc else v > low)
    if not ok:
        errors.append(_bad(name, "a number", value))
        return None
    return v


@dataclasses.dataclass(frozen=True, kw_only=True)
class DesignRules(_TomlConfig):
    """Engineering rules for the PON design; UK GPON / XGS-PON defaults.

    Every field has a default with its published source (the ``# source``
    comments in the code). Load edited values from TOML with
    :meth:`from_toml` (a ``[design]`` table or the top level) and write the
    current values with :meth:`to_toml`.

    Attributes
    ----------
    primary_split : int
        Outputs of each primary splitter, in street cabinets / fibre
        distribution hubs (1 means no primary splitter). Default 4 (1:4),
        giving a 1:32 total split with ``secondary_split`` = 8; source:
        Openreach FTTP two-stage 1:32 architecture.
    secondary_split : int
        Outputs of each secondary splitter at distribution points. Default 8
        (1:8); source: Openreach FTTP architecture.
    dp_capacity : int
        Maximum premises served by one DP. Default 8 premises; a capacity
        above ``secondary_split`` means ``ceil(premises / secondary_split)``
        splitters in that DP. Source: Openreach 8-port DP.
    cabinet_capacity : int
        Maximum premises served by one cabinet (via its DPs); must be at
        least ``dp_capacity``. Default 256 premises; source: typical street
        fibre distribution hub (e.g. 256/288-port FDH cabinets).
    max_drop_m : float
        Maximum drop length, in metres, measured along the network: network
        distance from the DP node to the premises node plus the premises'
        own drop. Default 100 m; source: Openreach drop-length guidance for
        pre-connectorised drops.
    spare_fraction : float
        Spare fibres per cable as a fraction of used fibres, rounded up.
        Default 0.2 (20 %); source: common operator planning rule (Openreach
        / B4RN guidance reserves 20-25 % for growth and repairs).
    cable_sizes : tuple of int
        Standard cable fibre counts, strictly increasing; an edge uses the
        smallest that fits used + spare fibres, or parallel cables of the
        largest beyond it. Default (12, 24, 48, 96, 144, 288) fibres; source:
        manufacturers' standard loose-tube / blown-fibre counts.
    chamber_spacing_m : float
        Maximum route length, in metres, between chambers (joint boxes or
        pulling chambers). Default 250 m; source: B4RN "Fibre to the farm"
        build guidance.
    fibre_loss_db_per_km : float
        Fibre attenuation in dB/km. Default 0.35 dB/km; source: ITU-T G.652
        cabled fibre at 1310 nm.
    splitter_loss_db : dict of int to float
        Splitter insertion loss in dB by number of outputs. Default 1:2 3.7,
        1:4 7.3, 1:8 10.5, 1:16 13.7, 1:32 17.1 dB; source: ITU-T G.671 /
        vendor datasheet maxima. TOML keys may be ``"8"`` or ``"1:8"``.
    splice_loss_db : float
        Loss of one fusion splice in dB. Default 0.1 dB; source: ITU-T L.12 /
        typical fusion-splice planning value.
    fixed_splices : int
        Splices on every path besides those in chambers (headend pigtail,
        customer splice point). Default 2; source: fibreplan assumption.
    connector_loss_db : float
        Loss of one mated connector pair in dB. Default 0.5 dB; source:
        IEC 61753-1 / ITU-T G.671 planning value.
    connectors : int
        Connectors on every path. Default 4 (OLT, cabinet, DP, ONT); source:
        Openreach FTTP architecture.
    power_budget_db : float
        Optical power budget in dB. Default 28.0 dB; source: ITU-T G.984.2
        class B+ GPON optics.
    margin_db : float
        Engineering margin (ageing, repairs) reserved from the budget in dB;
        a premises violates the budget when its loss + margin exceeds
        ``power_budget_db``. Default 0.0 dB (operators often reserve 1-3 dB);
        source: fibreplan default.
    two_sided_highways : tuple of str
        OSM ``highway`` values whose two sides are separate trenches, joined by
        priced road crossings at junctions (the optimiser picks the side).
        Default trunk, primary, secondary, tertiary and their links; source:
        fibreplan default (roads too wide or busy to cross for every drop).
    side_offset_m : float
        Offset of each side trench from the centreline of a two-sided road,
        metres. Default 6.0 m; source: DMRB CD 127 lane width 3.65 m plus a
        2 m footway.
    duct_tolerance_m : float
        A street stretch within this distance of an existing duct may rent
        the duct instead of being dug, metres. Default 5.0 m; source:
        fibreplan default (duct records' typical positional accuracy).
    duct_min_coverage : float
        Fraction of a stretch's length that must lie within
        ``duct_tolerance_m`` of a duct for it to be rentable. Default 0.9;
        source: fibreplan default.
    pole_tolerance_m : float
        Poles within this distance of a street stretch can carry its cable,
        metres. Default 10.0 m; source: fibreplan default (poles stand at the
        kerb or the property line).
    max_span_m : float
        Longest aerial span between poles (and the stretch's ends) for a
        stretch to be strung aerially, metres. Default 60.0 m; source:
        fibreplan default (typical UK overhead telecom spans are 40-60 m).
    crossing_spacing_m : float
        Besides junctions, a two-sided road can be crossed mid-block at
        points this far apart, metres. Default 100.0 m; source: fibreplan
        default (a crossing to reach a far-side DP within the 100 m drop
        limit).

    Raises
    ------
    CostFileError
        On construction, naming the key, the allowed range and the value, if a
        value has the wrong type or is out of range.
    """

    _SECTION: ClassVar[str] = "design"

    # source: Openreach FTTP two-stage 1:32 split (1:4 in the cabinet / FDH)
    primary_split: int = 4
    # source: Openreach FTTP two-stage 1:32 split (1:8 at the DP)
    secondary_split: int = 8
    # source: Openreach 8-port distribution point
    dp_capacity: int = 8
    # source: typical 256/288-port street fibre distribution hub
    cabinet_capacity: int = 256
    # source: Openreach drop-length guidance for pre-connectorised drops (~100 m)
    max_drop_m: float = 100.0
    # source: operator planning rule, 20 % spare fibre for growth and repairs
    spare_fraction: float = 0.2
    # source: manufacturers' standard fibre counts for loose-tube / blown cables
    cable_sizes: tuple[int, ...] = (12, 24, 48, 96, 144, 288)
    # source: B4RN "Fibre to the farm" build guidance, chambers every ~250 m
    chamber_spacing_m: float = 250.0
    # source: ITU-T G.652, cabled single-mode fibre at 1310 nm
    fibre_loss_db_per_km: float = 0.35
    # source: ITU-T G.671 / vendor PLC splitter datasheet maxima (see _DEFAULT_SPLITTER_LOSS_DB)
    splitter_loss_db: Mapping[int, float] = dataclasses.field(
        default_factory=lambda: dict(_DEFAULT_SPLITTER_LOSS_DB)
    )
    # source: ITU-T L.12 / typical fusion-splice planning loss
    splice_loss_db: float = 0.1
    # source: fibreplan assumption: headend pigtail splice + customer splice point
    fixed_splices: int = 2
    # source: IEC 61753-1 / ITU-T G.671 planning value per mated connector pair
    connector_loss_db: float = 0.5
    # source: Openreach FTTP architecture: OLT, cabinet, DP and ONT connectors
    connectors: int = 4
    # source: ITU-T G.984.2 class B+ GPON power budget
    power_budget_db: float = 28.0
    # source: fibreplan default (no margin; operators often reserve 1-3 dB)
    margin_db: float = 0.0
    # source: fibreplan default: roads too wide or busy to cross for every drop
    two_sided_highways: tuple[str, ...] = (
        "trunk", "trunk_link", "primary", "primary_link",
        "secondary", "secondary_link", "tertiary", "tertiary_link",
    )  # fmt: skip
    # source: DMRB CD 127 lane width 3.65 m + 2 m footway
    side_offset_m: float = 6.0
    # source: fibreplan default, typical positional accuracy of duct records
    duct_tolerance_m: float = 5.0
    # source: fibreplan default
    duct_min_coverage: float = 0.9
    # source: fibreplan default, poles stand at the kerb or the property line
    pole_tolerance_m: float = 10.0
    # source: fibreplan default, typical UK overhead telecom spans of 40-60 m
    max_span_m: float = 60.0
    # source: fibreplan default, one crossing per drop-limit length of road
    crossing_spacing_m: float = 100.0

    def __post_init__(self) -> None:
        """Check every value, normalise types and freeze the mappings."""
        errors: list[str] = []
        clean: dict[str, Any] = {}
        for name, (kind, *_rest) in _SPECS.items():
            value = getattr(self, name)
            if kind == "int":
                clean[name] = _check_int(name, value, errors)
            elif kind == "float":
                clean[name] = _check_float(name, value, errors)
            elif kind == "sizes":
                clean[name] = self._check_sizes(value, errors)
            elif kind == "strs":
                clean[name] = self._check_strs(name, value, errors)
            else:
                clean[name] = self._check_losses(value, errors)
        if errors:
            raise CostFileError("invalid design rules: " + "; ".join(errors))
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
        if errors:
            raise CostFileError("invalid design rules: " + "; ".join(errors))
        for name, value in clean.items():
            object.__setattr__(self, name, value)

    @staticmethod
    def _check_strs(name: str, value: object, errors: list[str]) -> tuple[str, ...] | None:
        if isinstance(value, str) or not isinstance(value, tuple | list):
            errors.append(_bad(name, "a list of strings", value))
            return None
        if not all(isinstance(v, str) for v in value):
            errors.append(_bad(name, "a list of strings", value))
            return None
        return tuple(value)

    @staticmethod
    def _check_sizes(value: object, errors: list[str]) -> tuple[int, ...] | None:
        name = "cable_sizes"
        if isinstance(value, str | bytes) or not isinstance(value, tuple | list | np.ndarray):
            errors.append(_bad(name, "a non-empty increasing list of integers", value))
            return None
        out: list[int] = []
        for item in value:
            if isinstance(item, bool) or not isinstance(item, int | np.integer):
                errors.append(_bad(name, "a non-empty increasing list of integers", value))
                return None
            out.append(int(item))
        ok = (
            bool(out)
            and all(1 <= s <= 10_000 for s in out)
            and all(a < b for a, b in itertools.pairwise(out))
        )
        if not ok:
            errors.append(_bad(name, "a non-empty increasing list of integers", value))
            return None
        return tuple(out)

    @staticmethod
    def _check_losses(value: object, errors: list[str]) -> dict[int, float] | None:
        name = "splitter_loss_db"
        what = "a table of splitter ratio (2..1024) to loss"
        if not isinstance(value, Mapping):
            errors.append(_bad(name, what, value))
            return None
        out: dict[int, float] = {}
        for key, loss in value.items():
            ratio: int | None = None
            if isinstance(key, int | np.integer) and not isinstance(key, bool):
                ratio = int(key)
            elif isinstance(key, str):
                text = key.strip().removeprefix("1:")
                ratio = int(text) if text.isdigit() else None
            if ratio is None or not 2 <= ratio <= 1024:
                errors.append(_bad(name, what, {key: loss}))
                return None
            if isinstance(loss, bool) or not isinstance(loss, int | float | np.number):
                errors.append(_bad(name, what, {key: loss}))
                return None
            fl = float(loss)
            if not (math.isfinite(fl) and 0.0 <= fl <= 50.0):
                errors.append(_bad(name, what, {key: loss}))
                return None
            out[ratio] = fl
        return dict(sorted(out.items()))

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

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str = "<dict>") -> Self:
        """Build rules from a mapping, defaults filling what is absent.

        Parameters
        ----------
        data : Mapping
            Field names to values (TOML types: lists for ``cable_sizes``, a
            table with string keys for ``splitter_loss_db``, which replaces the
            whole default table).
        source : str, default "<dict>"
            Where ``data`` came from, for error messages.

        Returns
        -------
        DesignRules
            The validated rules.

        Raises
        ------
        CostFileError
            If a key is unknown or a value has the wrong type or range.
        """
        cls._check_keys(data, source=source)
        return cls._build(dict(data), source=source)

    def to_dict(self) -> dict[str, Any]:
        """Return the rules as a plain dict (``cable_sizes`` as a list).

        Returns
        -------
        dict
            Field names to values.
        """
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, tuple):
                value = list(value)
            elif isinstance(value, Mapping):
                value = dict(value)
            out[f.name] = value
        return out
