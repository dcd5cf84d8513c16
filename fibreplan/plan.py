"""Run the whole pipeline: load → trench graph → optimiser → design → costing.

:func:`plan` runs the stages in order and returns a :class:`Plan`: a record of
every stage's result, nothing more. The outputs side builds from it the layers
(:func:`fibreplan.layers.plan_layers`), the summary
(:func:`fibreplan.summary.plan_summary`) and the files
(:func:`fibreplan.export.save_plan`); the record's methods are thin delegations
to them.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import logging
import time
from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from typing import Literal

import geopandas as gpd
import networkx as nx
import numpy as np
import numpy.typing as npt
import shapely
from scipy.sparse import csgraph

from fibreplan._errors import CRSError
from fibreplan._errors import InputValidationError
from fibreplan._kinds import EdgeKind
from fibreplan._kinds import is_dug
from fibreplan._sites import with_proposed_sites
from fibreplan.config import SURFACES
from fibreplan.config import CostBook
from fibreplan.config import DesignRules
from fibreplan.config import TrenchRules
from fibreplan.cost import Costing
from fibreplan.cost import Quantities
from fibreplan.cost import cost_plan
from fibreplan.cost import network_quantities
from fibreplan.design import Design
from fibreplan.design import design_network
from fibreplan.export import map_title
from fibreplan.export import save_plan
from fibreplan.export import write_gpkg
from fibreplan.export import write_map
from fibreplan.forest import Forest
from fibreplan.forest import HeadendAssignment
from fibreplan.forest import design_forest
from fibreplan.forest import steiner_forest_csr
from fibreplan.layers import map_layers
from fibreplan.layers import plan_layers
from fibreplan.layers import premises_layer
from fibreplan.load import load_headends
from fibreplan.load import load_inputs
from fibreplan.optimise import SteinerResult
from fibreplan.optimise import start_kernels
from fibreplan.optimise import steiner_tree_csr
from fibreplan.quality import check_headend
from fibreplan.quality import check_input_sizes
from fibreplan.quality import plan_quality
from fibreplan.quality import plan_warnings
from fibreplan.quality import refuse_unplannable
from fibreplan.subsidy import REASON_NOT_ELIGIBLE
from fibreplan.subsidy import BidOptions
from fibreplan.subsidy import BidResult
from fibreplan.subsidy import apply_bid
from fibreplan.subsidy import bid_facts
from fibreplan.subsidy import required_premises
from fibreplan.summary import plan_summary
from fibreplan.trench import TrenchGraph
from fibreplan.trench import build_trench_graph

__all__ = ["Plan", "plan", "plan_quantities", "road_crossings"]

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Plan:
    """A fibre plan: the record of every stage's result.

    Layers, the summary and files are built from it by the outputs side
    (:mod:`fibreplan.layers`, :mod:`fibreplan.summary`,
    :mod:`fibreplan.export`, :mod:`fibreplan.maps`); the methods below
    delegate to them.

    Attributes
    ----------
    streets : geopandas.GeoDataFrame
        Street lines used (metric CRS).
    premises_input : geopandas.GeoDataFrame
        Premises as loaded (metric CRS), in the order of the trench graph's
        ``premises_*`` arrays.
    trench_graph : TrenchGraph
        The priced trench graph.
    tree : SteinerResult
        The optimiser's tree (node pairs of ``trench_graph``), cost and bound.
    tree_edge_rows : numpy.ndarray of int64
        Rows of the trench graph's edges that are trenched.
    design : Design
        The PON design on the tree: DPs, cabinets, cables, chambers, losses.
    quantities : Quantities
        What the plan builds (the cost stage's input).
    costing : Costing
        Bill of quantities and totals.
    inputs : list of dict
        Input files with their sha256, for traceability.
    seconds : dict of str to float
        Wall time of each stage (``load``, ``trench``, ``optimise``,
        ``design``, ``cost``), seconds.
    costs : CostBook
        Unit costs used.
    rules : DesignRules
        Design rules used.
    trench_rules : TrenchRules
        Trench rules used.
    time_limit_s : float or None
        The optimiser's wall-clock cap, seconds (None: no cap).
    headends : HeadendAssignment or None
        The headends' ids and nodes and which one serves each trench, premises,
        DP, cabinet and chamber (several headends: a Steiner forest).
    bid : BidResult or None
        Subsidy status, vouchers, subsidy gap, frontier and phases, when a bid
        was asked (:func:`fibreplan.subsidy.apply_bid`).
    """

    streets: gpd.GeoDataFrame
    premises_input: gpd.GeoDataFrame
    trench_graph: TrenchGraph
    tree: SteinerResult
    tree_edge_rows: npt.NDArray[np.int64]
    design: Design
    quantities: Quantities
    costing: Costing
    inputs: list[dict[str, str]]
    seconds: dict[str, float]
    costs: CostBook = dataclasses.field(default_factory=CostBook)
    rules: DesignRules = dataclasses.field(default_factory=DesignRules)
    trench_rules: TrenchRules = dataclasses.field(default_factory=TrenchRules)
    time_limit_s: float | None = None
    headends: HeadendAssignment | None = None
    bid: BidResult | None = None

    @functools.cached_property
    def premises(self) -> gpd.GeoDataFrame:
        """The premises layer: the input premises with their plan columns, built once.

        Returns
        -------
        geopandas.GeoDataFrame
            The input premises plus ``status`` (connected/unreachable),
            ``reason``, ``drop_m``, ``crosses_road``, ``node``, ``dp_id``,
            ``cabinet_id``, ``loss_db``, ``loss_violation`` and ``loss_fix``.
        """
        return premises_layer(self)

    @functools.cached_property
    def summary(self) -> dict[str, Any]:
        """The plan's headline figures (the ``summary.json`` contract), computed once.

        Returns
        -------
        dict
            See :func:`fibreplan.summary.plan_summary` and the README's output
            contract for every key; ``warnings`` (second key: one line per way
            the plan falls short, :func:`fibreplan.quality.plan_warnings`) and
            ``quality`` (:attr:`quality`) are added here.
        """
        s = plan_summary(self)
        return {
            "fibreplan_version": s["fibreplan_version"],
            "warnings": plan_warnings(self),
            **s,
            "quality": self.quality,
        }

    @functools.cached_property
    def quality(self) -> dict[str, Any]:
        """The data-quality report of the plan's inputs (``quality.json``), computed once.

        Returns
        -------
        dict
            See :func:`fibreplan.quality.plan_quality`.
        """
        return plan_quality(self)

    def layers(self) -> dict[str, gpd.GeoDataFrame]:
        """Return the plan's GeoDataFrame layers (the GeoPackage's tables).

        Returns
        -------
        dict of str to geopandas.GeoDataFrame
            ``premises``, ``trenches``, ``drops``, ``headend``, ``cables``,
            ``chambers``, ``dps`` and ``cabinets``, in the plan's CRS (see
            :func:`fibreplan.layers.plan_layers` for their columns).
        """
        return plan_layers(self)

    def tree_graph(self) -> nx.Graph:
        """Return the trenched tree as a networkx graph with ``length_m`` and ``cost_gbp``.

        Returns
        -------
        networkx.Graph
            Nodes are trench-graph node indices with ``x``/``y`` (metres).
        """
        tg, rows = self.trench_graph, self.tree_edge_rows
        G = nx.Graph()
        G.add_edges_from(
            (int(u), int(v), {"length_m": float(length), "cost_gbp": float(cost)})
            for u, v, length, cost in zip(
                tg.edge_u[rows].tolist(), tg.edge_v[rows].tolist(),
                tg.edge_length_m[rows].tolist(), tg.edge_cost_gbp[rows].tolist(), strict=True,
            )
        )  # fmt: skip
        for n in G.nodes:
            G.nodes[n]["x"], G.nodes[n]["y"] = (float(c) for c in tg.node_xy[n])
        return G

    def to_gpkg(self, path: str | Path, *, overwrite: bool = False) -> Path:
        """Write the layers to a GeoPackage.

        Parameters
        ----------
        path : str or pathlib.Path
            File to create.
        overwrite : bool, default False
            Whether an existing file may be replaced.

        Returns
        -------
        pathlib.Path
            The file written.
        """
        return write_gpkg(self.layers(), path, overwrite=overwrite)

    def to_map(self, path: str | Path, *, overwrite: bool = False, basemap: bool = True) -> Path:
        """Write an interactive HTML map that works offline.

        Parameters
        ----------
        path : str or pathlib.Path
            File to create.
        overwrite : bool, default False
            Whether an existing file may be replaced.
        basemap : bool, default True
            Whether to add OpenStreetMap tiles (shown only when online).

        Returns
        -------
        pathlib.Path
            The file written.
        """
        return write_map(
            map_layers(self),
            path,
            title=map_title(self.summary),
            overwrite=overwrite,
            basemap=basemap,
            summary=self.summary,
        )

    def save(
        self, out_dir: str | Path, *, overwrite: bool = False, basemap: bool = True
    ) -> dict[str, Path]:
        """Write ``summary.json``, ``plan.gpkg`` and ``map.html`` into ``out_dir``.

        Parameters
        ----------
        out_dir : str or pathlib.Path
            Output folder (created if needed).
        overwrite : bool, default False
            Whether existing files of these names may be replaced; without it
            nothing is written when any of them exists.
        basemap : bool, default True
            Whether the map gets OpenStreetMap tiles (shown only when online).

        Returns
        -------
        dict of str to pathlib.Path
            Paths by key (``summary``, ``gpkg``, ``map``).
        """
        return save_plan(self, out_dir, overwrite=overwrite, basemap=basemap)


def road_crossings(tg: TrenchGraph, rows: npt.NDArray[np.int64]) -> int:
    """Count road crossings: crossing edges in the tree plus one per street with far-side drops.

    Parameters
    ----------
    tg : TrenchGraph
        The trench graph.
    rows : numpy.ndarray of int64
        Tree edge rows.

    Returns
    -------
    int
        Crossings of two-sided roads used by the route, plus, for each minor
        street stretch with premises on the far side of its trench, one shared
        crossing to a far-side joint.
    """
    far = tg.premises_crosses_road & (tg.premises_node >= 0)
    return int((tg.edge_kind[rows] == EdgeKind.CROSSING).sum()) + int(
        np.unique(tg.premises_street[far]).size
    )


def plan_quantities(
    tg: TrenchGraph,
    rows: npt.NDArray[np.int64],
    design: Design,
    *,
    premises: gpd.GeoDataFrame | None = None,
    streets: gpd.GeoDataFrame | None = None,
) -> Quantities:
    """Return what a routed and designed plan builds: the cost stage's input.

    Parameters
    ----------
    tg : TrenchGraph
        The trench graph the plan was routed on.
    rows : numpy.ndarray of int64
        Rows of ``tg``'s edges that the plan trenches.
    design : Design
        The PON design on those edges.
    premises : geopandas.GeoDataFrame, optional
        The premises in the trench graph's order (``units``, ``building_id``;
        see :func:`fibreplan.cost.network_quantities`).
    streets : geopandas.GeoDataFrame, optional
        The street lines the trench graph was built from (``name``: one
        street-works permit per named street).

    Returns
    -------
    Quantities
        Dug metres by surface (and of them, rural), reused duct and aerial
        metres on existing poles with their routed price (GBP), aerial metres
        on new poles and the poles, drop metres of the connected premises, road crossings
        (:func:`road_crossings`), chambers, DPs, cabinets and cable metres by size.
    """
    length = tg.edge_length_m[rows]
    surface = tg.edge_surface[rows]
    kind = tg.edge_kind[rows]
    dug = is_dug(kind)
    duct = kind == EdgeKind.DUCT_REUSE
    new_poles = tg.edge_new_poles[rows]
    aerial = (kind == EdgeKind.AERIAL) & (new_poles == 0)
    rural = dug & (tg.edge_area[rows] == "rural")
    connected = tg.premises_node >= 0
    return Quantities(
        dug_m_by_surface={s: float(length[dug & (surface == s)].sum()) for s in SURFACES},
        rural_dug_m_by_surface={s: float(length[rural & (surface == s)].sum()) for s in SURFACES},
        duct_reuse_m=float(length[duct].sum()),
        duct_reuse_gbp=float(tg.edge_cost_gbp[rows][duct].sum()),
        aerial_m=float(length[aerial].sum()),
        aerial_gbp=float(tg.edge_cost_gbp[rows][aerial].sum()),
        aerial_new_pole_m=float(length[new_poles > 0].sum()),
        new_poles=int(new_poles.sum()),
        drop_m=float(np.nansum(tg.premises_drop_m[connected])),
        premises_connected=int(connected.sum()),
        road_crossings=road_crossings(tg, rows),
        chamber_count=int(design.chamber_kind.size),
        dp_count=int(design.dp_node.size),
        cabinet_count=int(design.cabinet_node.size),
        cable_m_by_size=design.cable_m_by_size(),
        **network_quantities(tg, rows, design, premises=premises, streets=streets),
    )


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _load_existing(
    existing: gpd.GeoDataFrame | str | Path | None, *, crs: object
) -> gpd.GeoDataFrame | None:
    if existing is None:
        return None
    if isinstance(existing, str | Path):
        path = Path(existing)
        if not path.is_file():
            msg = f"existing: no such file '{path}'."
            raise InputValidationError(msg)
        gdf = gpd.read_file(path, engine="pyogrio")
    else:
        gdf = existing
    if gdf.crs is None:
        msg = "existing has no CRS; set it (e.g. gdf.set_crs('EPSG:27700')) or save it with one."
        raise CRSError(msg)
    return gdf.to_crs(crs)


#: A progress callback: ``(stage, None)`` when a stage starts, ``(stage, seconds)`` when done.
Progress = Callable[[str, float | None], None]


@contextlib.contextmanager
def _stage(name: str, seconds: dict[str, float], progress: Progress | None) -> Iterator[None]:
    """Time one stage into ``seconds[name]`` and tell ``progress`` when it starts and ends."""
    if progress is not None:
        progress(name, None)
    t0 = time.perf_counter()
    try:
        yield
    finally:
        seconds[name] = time.perf_counter() - t0
        if progress is not None:
            progress(name, seconds[name])


def _load(
    streets: gpd.GeoDataFrame | str | Path | nx.MultiDiGraph,
    premises: gpd.GeoDataFrame | str | Path,
    *,
    id_column: str | None = None,
    **options: Any,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, list[dict[str, str]]]:
    """Load streets and premises in one metric CRS; list the input files with their sha256.

    ``options`` go to :func:`fibreplan.load.load_inputs` (CSV columns, ``aoi``).
    """
    check_input_sizes(streets, premises)
    inputs = [
        {"name": Path(src).name, "sha256": _sha256(Path(src))}
        for src in (streets, premises)
        if isinstance(src, str | Path) and Path(src).is_file()
    ]
    if len(inputs) == 2 and Path(str(streets)).resolve() == Path(str(premises)).resolve():
        inputs = inputs[:1]  # one file gives both (read once by load_inputs)
    gdf_streets, gdf_premises = load_inputs(streets, premises, id_column=id_column, **options)
    aoi = options.get("aoi")
    if isinstance(aoi, str | Path) and Path(aoi).is_file():
        inputs.append({"name": Path(aoi).name, "sha256": _sha256(Path(aoi))})
    if gdf_premises.empty:
        msg = "premises is empty: give at least one premises point."
        raise InputValidationError(msg)
    return gdf_streets, gdf_premises, inputs


def _headend_arg(headend: object, *, crs: Any) -> tuple[Any, tuple[str, ...]]:
    """Return the headend(s) as :func:`build_trench_graph` takes them, and their ids."""
    one = (
        headend is None
        or isinstance(headend, shapely.Point)
        or (isinstance(headend, tuple | list) and bool(headend) and np.isscalar(headend[0]))
    )
    if one:
        return headend, ("H1",)
    found = load_headends(headend, crs=crs)  # a list, a point file or a GeoDataFrame
    assert found is not None  # headend is not None here
    points, ids = found
    return (points if len(points) > 1 else points[0]), ids


def _route(
    tg: TrenchGraph,
    *,
    method: str,
    seed: int,
    time_limit: float | None,
) -> tuple[SteinerResult, npt.NDArray[np.int64], Forest | None]:
    """Route the trench: one Steiner tree, or a forest when there are several headends."""
    reach = tg.premises_node >= 0
    forest = None
    if tg.headends.size > 1:
        forest = steiner_forest_csr(
            tg.csr(), tg.premises_node[reach], tg.headends,
            method=method, seed=seed, time_limit=time_limit,
        )  # fmt: skip
        tree = forest.tree
    else:
        terminals = np.unique(np.append(tg.premises_node[reach], tg.headend_node))
        tree = steiner_tree_csr(
            tg.csr(), terminals, method=method, seed=seed, time_limit=time_limit
        )
    rows = tg.edge_index(tree.edges) if tree.edges.size else np.array([], dtype=np.int64)
    return tree, rows, forest


def _design(
    tg: TrenchGraph,
    rows: npt.NDArray[np.int64],
    forest: Forest | None,
    headend_ids: tuple[str, ...],
    *,
    rules: DesignRules,
    max_drop_m: float,
) -> tuple[Design, HeadendAssignment]:
    """Design the PON on the tree (or on each tree of the forest from its headend)."""
    reach = tg.premises_node >= 0
    edges = np.column_stack([tg.edge_u[rows], tg.edge_v[rows]])
    # DPs at street junctions and ends (and premises, branches, headends), never at a
    # node that only cuts a line: the design does not depend on how lines were cut
    degree = np.bincount(np.concatenate([tg.edge_u, tg.edge_v]), minlength=len(tg.node_xy))
    dp_sites = np.flatnonzero(degree != 2)
    if forest is None:
        design = design_network(
            edges, tg.edge_length_m[rows], tg.headend_node, tg.premises_node[reach],
            tg.premises_drop_m[reach], rules=rules, max_drop_m=max_drop_m, dp_sites=dp_sites,
        )  # fmt: skip
        one = HeadendAssignment.single(
            headend_ids[0], tg.headend_node, design, n_edges=rows.size, premises_reach=reach
        )
        return design, one
    premises_root = forest.node_root[tg.premises_node[reach]]
    design, headend_of = design_forest(
        edges, tg.edge_length_m[rows], forest.roots, edge_root=forest.edge_root,
        premises_node=tg.premises_node[reach], drop_length_m=tg.premises_drop_m[reach],
        premises_root=premises_root, rules=rules, max_drop_m=max_drop_m, dp_sites=dp_sites,
    )  # fmt: skip
    premises = np.full(reach.size, -1, dtype=np.int64)
    premises[reach] = premises_root
    return design, HeadendAssignment(
        ids=headend_ids, nodes=forest.roots, edge=forest.edge_root, premises=premises,
        dp=headend_of["dp"], cabinet=headend_of["cabinet"], chamber=headend_of["chamber"],
    )  # fmt: skip


def _required_only(tg: TrenchGraph, required: npt.NDArray[np.bool_] | None) -> TrenchGraph:
    """Keep only the required premises as terminals of the trench graph (None: all)."""
    if required is None:
        return tg
    return dataclasses.replace(tg, premises_node=np.where(required, tg.premises_node, -1))


def _passed_only(tg: TrenchGraph, rows: npt.NDArray[np.int64]) -> TrenchGraph:
    """Keep as reached only the premises the route passes (others: not eligible)."""
    on_tree = np.zeros(tg.n_nodes, dtype=bool)
    on_tree[tg.edge_u[rows]] = on_tree[tg.edge_v[rows]] = True
    on_tree[tg.headends] = True
    node = tg.premises_node
    passed = (node >= 0) & on_tree[np.maximum(node, 0)]
    reason = np.where((node >= 0) & ~passed, REASON_NOT_ELIGIBLE, tg.premises_reason)
    return dataclasses.replace(
        tg, premises_node=np.where(passed, node, -1), premises_reason=reason.astype(str)
    )


def _replan(
    p: Plan,
    premises_node: npt.NDArray[np.int64],
    premises_reason: npt.NDArray[np.str_],
    rows: npt.NDArray[np.int64],
) -> Plan:
    """Re-design and re-cost a plan on part of its tree (a budget plan; rows in tree order)."""
    tg = dataclasses.replace(
        p.trench_graph, premises_node=premises_node, premises_reason=premises_reason
    )
    cost = float(tg.edge_cost_gbp[rows].sum())
    # a valid bound for the smaller tree: the dearest premises' shortest path from a headend
    served = premises_node[premises_node >= 0]
    dist = csgraph.dijkstra(tg.csr(), indices=tg.headends, min_only=True)
    bound = min(cost, float(dist[served].max())) if served.size else 0.0
    tree = dataclasses.replace(
        p.tree, edges=np.column_stack([tg.edge_u[rows], tg.edge_v[rows]]), cost=cost,
        lower_bound=bound, optimal=False, method=f"{p.tree.method}, cut to the budget",
    )  # fmt: skip
    a = p.headends
    forest = None
    if a is not None and len(a.ids) > 1:  # several headends: the forest's part on these rows
        edge_root = a.edge[np.isin(p.tree_edge_rows, rows)]
        node_root = np.full(tg.n_nodes, -1, dtype=np.int64)
        node_root[tg.edge_u[rows]] = node_root[tg.edge_v[rows]] = edge_root
        node_root[a.nodes] = np.arange(len(a.ids))
        forest = Forest(tree=tree, roots=a.nodes, edge_root=edge_root, node_root=node_root)
    ids = a.ids if a is not None else ("H1",)
    design, assignment = _design(
        tg, rows, forest, ids, rules=p.rules, max_drop_m=p.trench_rules.max_drop_m
    )
    quantities = plan_quantities(tg, rows, design, premises=p.premises_input, streets=p.streets)
    return dataclasses.replace(
        p, trench_graph=tg, tree=tree, tree_edge_rows=rows, design=design,
        quantities=quantities, costing=cost_plan(quantities, costs=p.costs), headends=assignment,
    )  # fmt: skip


def plan(
    streets: gpd.GeoDataFrame | str | Path | nx.MultiDiGraph,
    premises: gpd.GeoDataFrame | str | Path,
    *,
    headend: tuple[float, float] | shapely.Point | object | None = None,
    costs: CostBook | None = None,
    trench_rules: TrenchRules | None = None,
    rules: DesignRules | None = None,
    existing: gpd.GeoDataFrame | str | Path | None = None,
    method: Literal["heuristic", "exact", "auto"] = "auto",
    time_limit: float | None = None,
    seed: int = 0,
    id_column: str | None = None,
    x_column: str | None = None,
    y_column: str | None = None,
    premises_crs: str | None = None,
    aoi: object = None,
    propose_sites: bool = True,
    bid: BidOptions | None = None,
    progress: Progress | None = None,
) -> Plan:
    """Plan a fibre network: which streets to trench, drops, cost per premises passed.

    Parameters
    ----------
    streets : geopandas.GeoDataFrame, str, pathlib.Path or networkx.MultiDiGraph
        Street centrelines, an OSM XML file, a vector file or an osmnx graph
        (see :func:`fibreplan.load_streets`).
    premises : geopandas.GeoDataFrame, str or pathlib.Path
        Premises points or a file of them (see :func:`fibreplan.load_premises`).
    headend : tuple of float, shapely.Point, list, GeoDataFrame, str or pathlib.Path, optional
        Headend (OLT) as ``(lon, lat)`` degrees or a Point in the plan CRS;
        default chosen automatically (approximate network 1-median). Several
        headends (a list of them, or a point file / GeoDataFrame of exchanges,
        see :func:`fibreplan.load.load_headends`) plan each premises from one
        of them: a Steiner forest (:mod:`fibreplan.forest`), designed per
        headend, with ``headend_id`` on the layers and ``summary["headends"]``.
    costs : CostBook, optional
        Unit costs in GBP; default ``CostBook()`` (published UK figures).
    trench_rules : TrenchRules, optional
        Trench rules (drop limit, two-sided roads and crossings, duct and pole
        reuse); default ``TrenchRules()``.
    rules : DesignRules, optional
        PON design rules (splits, capacities, spare fibre, cable sizes,
        chamber spacing, optical budget); default ``DesignRules()``.
    existing : geopandas.GeoDataFrame, str or pathlib.Path, optional
        Existing ducts (lines) and poles (points) that may be used instead of
        digging (see :func:`fibreplan.build_trench_graph`).
    method : {"heuristic", "exact", "auto"}, default "auto"
        Steiner tree method (see :func:`fibreplan.steiner_tree`).
    time_limit : float or None, default None
        An optional wall-clock cap on the optimiser, seconds. By default there
        is none: ``"auto"`` and ``"heuristic"`` are deterministic and finish on
        their own, so the same inputs give the same plan on any machine. With
        a cap, a busy machine may stop earlier and return a different (still
        valid, bounded) tree; the summary's ``optimiser.time_limit_hit`` says so.
    seed : int, default 0
        Seed of the optimiser (results are deterministic for a seed).
    id_column : str, optional
        Premises column holding the ID (default: the first of ``premises_id``,
        ``uprn``, ``id``, ``address_id``, ``osm_id`` present; see
        :func:`fibreplan.load_premises`).
    x_column, y_column : str, optional
        Coordinate columns of a premises CSV whose headers are not the
        documented ones (lon/lat, easting/northing); see :func:`fibreplan.load_premises`.
    premises_crs : str, optional
        CRS of the premises coordinates, e.g. ``"EPSG:27700"``: needed for a
        CSV with ``x``/``y`` or other headers (never guessed), or a file without a CRS.
    aoi : optional
        Area of interest: a bbox ``(min_lon, min_lat, max_lon, max_lat)`` in
        degrees, a polygon file or GeoDataFrame; streets are cut at its
        boundary and premises outside it left out (:func:`fibreplan.load.load_aoi`).
    propose_sites : bool, default True
        Without a given headend, when the one chosen automatically cannot keep
        every premises within the PON reach of the optical budget, propose
        OLT sites on the routed tree and cut it into one tree per site
        (:func:`fibreplan._sites.with_proposed_sites`); ``summary["headend"]["how"]``
        says so and ``summary["headends"]`` lists them.
    bid : BidOptions, optional
        A bid (:class:`fibreplan.subsidy.BidOptions`): subsidy statuses joined
        by UPRN, routing to eligible premises only, public anchors first, a
        budget, build phases and the funding rules; ``plan.bid`` then holds
        vouchers, subsidy gap, the frontier and the phases.
    progress : callable, optional
        Called as ``progress(stage, None)`` when a stage (``load``, ``trench``,
        ``optimise``, ``design``, ``cost``) starts and ``progress(stage, seconds)``
        when it ends (the CLI shows it).

    Returns
    -------
    Plan
        Every stage's result; ``plan.summary`` holds the headline figures.

    Raises
    ------
    InputValidationError
        If ``premises`` is empty or an input is malformed (see the loaders).
    CRSError
        If an input's CRS is missing or cannot be used.
    InfeasibleDesignError
        If no premises can be connected (nothing to plan); the message names
        the likely cause (swapped coordinates, layers in different areas, the
        wrong file) and ``unreachable`` holds the premises IDs. A plan where only
        some premises are unreachable or over the optical budget is returned,
        with ``summary["warnings"]`` saying so.

    Examples
    --------
    >>> import fibreplan
    >>> streets, premises = fibreplan.demo_data(tiny=True)
    >>> p = fibreplan.plan(streets, premises)
    >>> s = p.summary
    >>> s["premises_connected"] + s["premises_unreachable"] == s["premises_total"]
    True
    """
    costs = costs or CostBook()
    trench_rules = trench_rules or TrenchRules()
    rules = rules or DesignRules()
    seconds: dict[str, float] = {}
    start_kernels()  # first use on a machine: compiling overlaps loading and the trench graph
    with _stage("load", seconds, progress):
        gdf_streets, gdf_premises, inputs = _load(
            streets, premises, id_column=id_column, x_column=x_column, y_column=y_column,
            premises_crs=premises_crs, aoi=aoi,
        )  # fmt: skip

    with _stage("trench", seconds, progress):
        if isinstance(headend, str | Path) and Path(headend).is_file():
            inputs.append({"name": Path(headend).name, "sha256": _sha256(Path(headend))})
        headend, headend_ids = _headend_arg(headend, crs=gdf_streets.crs)
        for one in headend if isinstance(headend, list) else [headend]:
            check_headend(one, gdf_streets, max_drop_m=trench_rules.max_drop_m)
        gdf_existing = _load_existing(existing, crs=gdf_streets.crs)
        if isinstance(existing, str | Path):
            inputs.append({"name": Path(existing).name, "sha256": _sha256(Path(existing))})
        tg = build_trench_graph(
            gdf_streets,
            gdf_premises,
            costs=costs,
            rules=trench_rules,
            headend=headend,
            existing=gdf_existing,
        )
    refuse_unplannable(gdf_streets, gdf_premises, tg, source=premises)
    facts = None if bid is None else bid_facts(bid, gdf_premises)
    required = None if bid is None or facts is None else required_premises(bid, facts, gdf_premises)

    with _stage("optimise", seconds, progress):
        tree, rows, forest = _route(
            _required_only(tg, required), method=method, seed=seed, time_limit=time_limit,
        )  # fmt: skip
        if required is not None:
            tg = _passed_only(tg, rows)
        if headend is None and propose_sites:
            tg, tree, forest, headend_ids = with_proposed_sites(
                tg, tree, rules=rules, max_drop_m=trench_rules.max_drop_m
            )
            rows = tg.edge_index(tree.edges) if tree.edges.size else rows

    with _stage("design", seconds, progress):
        design, assignment = _design(
            tg, rows, forest, headend_ids, rules=rules, max_drop_m=trench_rules.max_drop_m
        )

    with _stage("cost", seconds, progress):
        quantities = plan_quantities(tg, rows, design, premises=gdf_premises, streets=gdf_streets)
        costing = cost_plan(quantities, costs=costs)
    result = Plan(
        streets=gdf_streets,
        premises_input=gdf_premises,
        trench_graph=tg,
        tree=tree,
        tree_edge_rows=rows,
        design=design,
        quantities=quantities,
        costing=costing,
        inputs=inputs,
        seconds=seconds,
        costs=costs,
        rules=rules,
        trench_rules=trench_rules,
        time_limit_s=time_limit,
        headends=assignment,
    )
    if bid is not None and facts is not None:
        result = apply_bid(result, bid, facts, replan=_replan)
    s = result.summary  # computed once, here, and kept on the record
    logger.info(
        "plan: %d/%d premises connected, %.2f km trench, GBP %.0f per premises passed",
        s["premises_connected"],
        s["premises_total"],
        s["trench_m"] / 1000,
        s["cost_per_premises_passed_gbp"] or 0,
    )
    for warning in s["warnings"]:
        logger.warning("plan: %s", warning)
    return result
