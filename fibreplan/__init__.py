"""fibreplan — plan full-fibre (FTTP) broadband rollout from open data.

The package reads as its pipeline; each stage is a module that can be called
alone, and :func:`plan` runs them in order. Each stage's input and output:

- ``load``: OSM XML, GeoPackage/GeoJSON/CSV files, osmnx graphs or
  GeoDataFrames -> ``gdf_streets`` (lines) and ``gdf_premises`` (points) in
  one metric CRS (EPSG:27700 in Great Britain, else the local UTM zone).
- ``trench``: streets, premises, :class:`CostBook`, :class:`TrenchRules`,
  headend, existing ducts -> :class:`TrenchGraph`: arrays of nodes and edges
  (``length_m``, ``cost_gbp``, surface, side, kind: dig / duct reuse / aerial
  / crossing), each premises' drop node, unreachable premises with a reason,
  the headend.
- ``optimise``: CSR adjacency and terminal indices -> :class:`SteinerResult`
  (tree edges, cost, a valid lower bound); no geography, and
  ``import fibreplan.optimise`` needs neither pandas, geopandas nor shapely.
- ``design``: tree edges, premises nodes and drops, :class:`DesignRules` ->
  :class:`Design`: DPs and cabinets by capacitated tree partitioning, feeder
  and distribution cables per edge, chambers, optical loss per premises.
- ``cost``: :class:`Quantities` (what the plan builds), :class:`CostBook` ->
  :class:`Costing`: bill of quantities, total with a low/high range, GBP per
  premises passed.
- ``plan``: runs the stages -> :class:`Plan`, the record of every stage's
  result; without a headend, OLT sites are proposed on the routed tree when
  one cannot keep every premises within the optical budget (``_sites``).
- ``distributed``: a large study split into areas, each planned on Dask
  distributed, joined by a backbone -> ``AreasPlan`` (one set of layers, one
  summary with ``areas``).
- outputs (``layers``, ``summary``, ``export``, ``maps``, ``figures``, ``styles``):
  a :class:`Plan` -> GeoDataFrame layers, the summary, ``summary.json``,
  ``plan.gpkg`` (with default QGIS styles), ``map.html``, ``plan.png``.
- ``cli``: arguments and TOML files -> ``fibreplan demo`` / ``plan`` /
  ``cost-book`` / ``design-rules``.

Conventions: lengths in metres (``length_m``), money in pounds sterling
(``cost_gbp``), geometry in a projected CRS; WGS84 only to draw. Map data is
© OpenStreetMap contributors (ODbL 1.0).

The public names below are imported on first use (PEP 562), so that importing
one stage (e.g. ``fibreplan.optimise``) does not import the others.
"""

from __future__ import annotations

import importlib
import sys
import types
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version
from typing import TYPE_CHECKING
from typing import Any

if TYPE_CHECKING:
    from fibreplan._errors import CostFileError
    from fibreplan._errors import CRSError
    from fibreplan._errors import DisconnectedTerminalsError
    from fibreplan._errors import FibreplanError
    from fibreplan._errors import InfeasibleDesignError
    from fibreplan._errors import InputValidationError
    from fibreplan.config import CostBook
    from fibreplan.config import DesignRules
    from fibreplan.config import TrenchRules
    from fibreplan.cost import Costing
    from fibreplan.cost import Quantities
    from fibreplan.cost import cost_plan
    from fibreplan.design import Design
    from fibreplan.design import check_fibre_conservation
    from fibreplan.design import design_network
    from fibreplan.load import demo_data
    from fibreplan.load import demo_path
    from fibreplan.load import fetch_osm
    from fibreplan.load import load_osm
    from fibreplan.load import load_premises
    from fibreplan.load import load_streets
    from fibreplan.optimise import SteinerResult
    from fibreplan.optimise import read_stp
    from fibreplan.optimise import steiner_tree
    from fibreplan.optimise import steiner_tree_csr
    from fibreplan.plan import Plan
    from fibreplan.plan import plan
    from fibreplan.trench import TrenchGraph
    from fibreplan.trench import build_trench_graph

try:
    __version__ = version("fibreplan")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+unknown"

#: Public name -> the module that defines it (imported on first access).
_LAZY = {
    "CRSError": "fibreplan._errors",
    "CostFileError": "fibreplan._errors",
    "DisconnectedTerminalsError": "fibreplan._errors",
    "FibreplanError": "fibreplan._errors",
    "InfeasibleDesignError": "fibreplan._errors",
    "InputValidationError": "fibreplan._errors",
    "CostBook": "fibreplan.config",
    "DesignRules": "fibreplan.config",
    "TrenchRules": "fibreplan.config",
    "Costing": "fibreplan.cost",
    "Quantities": "fibreplan.cost",
    "cost_plan": "fibreplan.cost",
    "Design": "fibreplan.design",
    "check_fibre_conservation": "fibreplan.design",
    "design_network": "fibreplan.design",
    "demo_data": "fibreplan.load",
    "demo_path": "fibreplan.load",
    "fetch_osm": "fibreplan.load",
    "load_osm": "fibreplan.load",
    "load_premises": "fibreplan.load",
    "load_streets": "fibreplan.load",
    "SteinerResult": "fibreplan.optimise",
    "read_stp": "fibreplan.optimise",
    "steiner_tree": "fibreplan.optimise",
    "steiner_tree_csr": "fibreplan.optimise",
    "Plan": "fibreplan.plan",
    "plan": "fibreplan.plan",
    "TrenchGraph": "fibreplan.trench",
    "build_trench_graph": "fibreplan.trench",
}

__all__ = [
    "CRSError",
    "CostBook",
    "CostFileError",
    "Costing",
    "Design",
    "DesignRules",
    "DisconnectedTerminalsError",
    "FibreplanError",
    "InfeasibleDesignError",
    "InputValidationError",
    "Plan",
    "Quantities",
    "SteinerResult",
    "TrenchGraph",
    "TrenchRules",
    "__version__",
    "build_trench_graph",
    "check_fibre_conservation",
    "cost_plan",
    "demo_data",
    "demo_path",
    "design_network",
    "fetch_osm",
    "load_osm",
    "load_premises",
    "load_streets",
    "plan",
    "read_stp",
    "steiner_tree",
    "steiner_tree_csr",
]


def __getattr__(name: str) -> Any:
    """Import a public name's module on first access (PEP 562)."""
    module = _LAZY.get(name)
    if module is None:
        msg = f"module 'fibreplan' has no attribute {name!r}"
        raise AttributeError(msg)
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later accesses skip this function
    return value


def __dir__() -> list[str]:
    """List the public names with the module's own (PEP 562)."""
    return sorted(set(globals()) | set(__all__))


class _Package(types.ModuleType):
    """The package module; keeps ``fibreplan.plan`` naming the function.

    Importing the submodule ``fibreplan.plan`` binds it as the package's
    ``plan`` attribute (the import system calls ``setattr`` on the package);
    the public name ``fibreplan.plan`` is the function :func:`fibreplan.plan.plan`,
    so bind that instead.
    """

    def __setattr__(self, name: str, value: object) -> None:
        if name == "plan" and isinstance(value, types.ModuleType):
            value = value.plan
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
