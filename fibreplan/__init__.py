"""fibreplan — plan full-fibre (FTTP) broadband rollout from open data.

The package reads as its pipeline; each stage is a module that can be called
alone, and :func:`plan` runs them in order. Each stage's input and output:

- ``load``: OSM XML, GeoPackage/GeoJSON/CSV files, osmnx graphs or
  GeoDataFrames -> ``gdf_streets`` (lines) and ``gdf_premises`` (points) in
  one metric CRS (EPSG:27700 in Great Britain, else the local UTM zone).
- ``trench``: streets, premises, :class:`CostBook`, :class:`DesignRules`,
  headend, existing ducts -> :class:`TrenchGraph`: arrays of nodes and edges
  (``length_m``, ``cost_gbp``, surface, side, dig / duct reuse / crossing),
  each premises' drop node, unreachable premises with a reason, the headend.
- ``optimise``: CSR adjacency and terminal indices -> :class:`SteinerResult`
  (tree edges, cost, a valid lower bound); no geography.
- ``design``: tree edges, premises nodes and drops, :class:`DesignRules` ->
  :class:`Design`: DPs and cabinets by capacitated tree partitioning, feeder
  and distribution cables per edge, chambers, optical loss per premises.
- ``cost``: tree and design quantities, :class:`CostBook` -> :class:`Costing`:
  bill of quantities, total with a low/high range, GBP per premises passed.
- outputs (``export``, ``maps``): a :class:`Plan` -> ``summary.json``,
  ``plan.gpkg``, ``map.html``.
- ``cli``: arguments and TOML files -> ``fibreplan demo`` / ``plan`` /
  ``cost-book`` / ``design-rules``.

Conventions: lengths in metres (``length_m``), money in pounds sterling
(``cost_gbp``), geometry in a projected CRS; WGS84 only to draw. Map data is
© OpenStreetMap contributors (ODbL 1.0).
"""

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version

from fibreplan._errors import CostFileError
from fibreplan._errors import CRSError
from fibreplan._errors import DisconnectedTerminalsError
from fibreplan._errors import FibreplanError
from fibreplan._errors import InfeasibleDesignError
from fibreplan._errors import InputValidationError
from fibreplan.config import CostBook
from fibreplan.config import DesignRules
from fibreplan.cost import Costing
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
    "SteinerResult",
    "TrenchGraph",
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
