"""Validated configuration objects, loadable from TOML.

:class:`CostBook` holds every unit cost (GBP, 2024 prices unless stated), each
default with its published source. Values are in pounds sterling; foreign
figures are converted at the stated rate and year. Edit a copy of
``fibreplan cost-book`` output (a TOML file) and pass it with ``--costs``.
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from typing import Self

from fibreplan._errors import CostFileError

__all__ = ["SURFACES", "CostBook", "load_toml_section"]

#: Trench surface classes, cheapest last (see :func:`fibreplan.trench.surface_class`).
SURFACES = ("carriageway", "footway", "verge")

# Exchange rates used to convert published figures (HMRC/ONS annual averages).
# source: Bank of England annual average spot rates 2023: USD/GBP 1.244, EUR/GBP 0.870
_USD_PER_GBP_2023 = 1.244
_GBP_PER_EUR_2023 = 0.870
_M_PER_FT = 0.3048


def _usd_per_ft_to_gbp_per_m(usd_per_ft: float) -> float:
    return round(usd_per_ft / _M_PER_FT / _USD_PER_GBP_2023, 2)


@dataclasses.dataclass(frozen=True, kw_only=True)
class CostBook:
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
    duct_years : int
        Appraisal period for rented duct. Default 10 years.
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
        object.__setattr__(
            self, "cable_gbp_per_m", dict(sorted(self.cable_gbp_per_m.items()))
        )

    @property
    def duct_rent_pv_gbp_per_m(self) -> float:
        """Present value of renting one metre of duct over ``duct_years`` (GBP/m)."""
        r, n = self.discount_rate, self.duct_years
        annuity = n if r == 0 else (1 - (1 + r) ** -n) / r
        return self.duct_rent_gbp_per_m_year * annuity

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
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            msg = f"{source}: unknown cost keys {unknown}; allowed keys are {sorted(names)}."
            raise CostFileError(msg)
        kwargs = dict(data)
        if "trench_gbp_per_m" in kwargs:
            kwargs["trench_gbp_per_m"] = {**cls().trench_gbp_per_m, **kwargs["trench_gbp_per_m"]}
        if "cable_gbp_per_m" in kwargs:
            try:
                kwargs["cable_gbp_per_m"] = {
                    int(k): v for k, v in dict(kwargs["cable_gbp_per_m"]).items()
                }
            except (TypeError, ValueError) as err:
                msg = f"{source}: cable_gbp_per_m keys must be fibre counts like \"96\": {err}"
                raise CostFileError(msg) from err
        try:
            return cls(**kwargs)
        except CostFileError as err:
            raise CostFileError(f"{source}: {err}") from err
        except TypeError as err:
            raise CostFileError(f"{source}: {err}") from err

    @classmethod
    def from_toml(cls, path: str | Path) -> Self:
        """Read a cost book from a TOML file (the ``[costs]`` table or the top level).

        Parameters
        ----------
        path : str or pathlib.Path
            TOML file.

        Returns
        -------
        CostBook
            The validated cost book.

        Raises
        ------
        CostFileError
            If the file is missing, is not valid TOML, or has invalid values.
        """
        return cls.from_dict(load_toml_section(path, "costs"), source=str(path))

    def to_toml(self) -> str:
        """Return the cost book as TOML text (a ``[costs]`` table) to edit and reload.

        Returns
        -------
        str
            TOML text.
        """
        lines = ["[costs]"]
        tables: list[str] = []
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, Mapping):
                tables.append(f"\n[costs.{f.name}]")
                tables.extend(f'"{k}" = {v!r}' for k, v in value.items())
            else:
                lines.append(f"{f.name} = {value!r}")
        return "\n".join(lines + tables) + "\n"


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
