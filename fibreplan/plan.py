"""Run the whole pipeline: load → trench graph → optimiser → (design) → costing.

:func:`plan` runs the stages in order and returns a :class:`Plan` that holds
every stage's result, its GeoDataFrame layers, the summary, and methods to
save ``summary.json``, ``plan.gpkg`` and ``map.html``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import time
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version
from pathlib import Path
from typing import Any
from typing import Literal

import geopandas as gpd
import networkx as nx
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from fibreplan._crs import WGS84
from fibreplan._errors import CRSError
from fibreplan._errors import InputValidationError
from fibreplan.config import CostBook
from fibreplan.config import DesignRules
from fibreplan.cost import Costing
from fibreplan.cost import cost_plan
from fibreplan.design import Design
from fibreplan.design import design_network
from fibreplan.export import FILES
from fibreplan.export import check_writable
from fibreplan.export import write_gpkg
from fibreplan.export import write_summary
from fibreplan.load import _is_osm_xml
from fibreplan.load import load_osm
from fibreplan.load import load_premises
from fibreplan.load import load_streets
from fibreplan.optimise import SteinerResult
from fibreplan.optimise import steiner_tree_csr
from fibreplan.trench import TrenchGraph
from fibreplan.trench import build_trench_graph

__all__ = ["Plan", "plan", "road_crossings"]

logger = logging.getLogger(__name__)


def _version() -> str:
    try:
        return version("fibreplan")
    except PackageNotFoundError:  # pragma: no cover - source tree without install
        return "0.0.0+unknown"


@dataclasses.dataclass
class Plan:
    """A fibre plan: every stage's result, its map layers and its summary.

    Attributes
    ----------
    streets : geopandas.GeoDataFrame
        Street lines used (metric CRS).
    premises : geopandas.GeoDataFrame
        Input premises plus ``status`` (connected/unreachable), ``reason``,
        ``drop_m`` and ``node``.
    trench_graph : TrenchGraph
        The priced trench graph.
    tree : SteinerResult
        The optimiser's tree (node pairs of ``trench_graph``), cost and bound.
    tree_edge_rows : numpy.ndarray of int64
        Rows of the trench graph's edges that are trenched.
    design : Design
        The PON design on the tree: DPs, cabinets, cables, chambers, losses.
    costing : Costing
        Bill of quantities and totals.
    inputs : list of dict
        Input files with their sha256, for traceability.
    seconds : dict of str to float
        Wall time of each stage.
    costs : CostBook
        Unit costs used.
    rules : DesignRules
        Design rules used.
    """

    streets: gpd.GeoDataFrame
    premises: gpd.GeoDataFrame
    trench_graph: TrenchGraph
    tree: SteinerResult
    tree_edge_rows: npt.NDArray[np.int64]
    design: Design
    costing: Costing
    inputs: list[dict[str, str]]
    seconds: dict[str, float]
    costs: CostBook = dataclasses.field(default_factory=CostBook)
    rules: DesignRules = dataclasses.field(default_factory=DesignRules)

    # ------------------------------------------------------------------ layers
    def layers(self) -> dict[str, gpd.GeoDataFrame]:
        """Return the plan's GeoDataFrame layers (the GeoPackage's tables).

        Returns
        -------
        dict of str to geopandas.GeoDataFrame
            ``premises``, ``trenches``, ``drops``, ``headend``, ``cables``,
            ``chambers``, ``dps`` and ``cabinets``, in the plan's CRS.
        """
        return {
            "premises": self.premises_layer(),
            "trenches": self.trenches_layer(),
            "drops": self.drops_layer(),
            "headend": self.headend_layer(),
            "cables": self.cables_layer(),
            "chambers": self.chambers_layer(),
            "dps": self.dps_layer(),
            "cabinets": self.cabinets_layer(),
        }

    def premises_layer(self) -> gpd.GeoDataFrame:
        """Return the premises with their status, reason, drop, DP, cabinet and loss.

        Returns
        -------
        geopandas.GeoDataFrame
            Points: ``premises_id``, ``class``, ``units``, ``status``, ``reason``,
            ``drop_m``, ``crosses_road``, ``dp_id``, ``cabinet_id``, ``loss_db``,
            ``loss_violation`` and the input's other columns.
        """
        return self.premises

    def trenches_layer(self) -> gpd.GeoDataFrame:
        """Return the trench route: every dug, rented or crossing stretch as a line.

        Returns
        -------
        geopandas.GeoDataFrame
            Lines: ``edge_id``, ``length_m``, ``cost_gbp``, ``kind`` (``dig``,
            ``duct_reuse``, ``crossing``), ``dug`` (bool), ``surface``, ``side``,
            ``street_name``, ``highway``.
        """
        tg, rows = self.trench_graph, self.tree_edge_rows
        street = tg.edge_street[rows]
        kind = tg.edge_kind[rows]
        return gpd.GeoDataFrame(
            {
                "edge_id": rows,
                "length_m": tg.edge_length_m[rows],
                "cost_gbp": tg.edge_cost_gbp[rows],
                "kind": kind,
                "dug": ~np.isin(kind, ["duct_reuse", "aerial"]),
                "surface": tg.edge_surface[rows],
                "side": tg.edge_side[rows],
                "street_name": self.streets["name"].to_numpy()[street],
                "highway": self.streets["highway"].to_numpy()[street],
            },
            geometry=tg.edge_geometry[rows],
            crs=tg.crs,
        )

    def cables_layer(self) -> gpd.GeoDataFrame:
        """Return the feeder and distribution cables on each tree edge.

        Returns
        -------
        geopandas.GeoDataFrame
            Lines: ``edge_id``, ``cable_type`` (feeder, distribution), ``size``
            (fibres per cable), ``cable_count`` (parallel cables),
            ``fibres_used``, ``fibres_spare``, ``length_m``.
        """
        tg, d, rows = self.trench_graph, self.design, self.tree_edge_rows
        parts = []
        for kind, used, spare, size, count in (
            ("feeder", d.edge_feeder_fibres, d.edge_feeder_spare,
             d.edge_feeder_cable_size, d.edge_feeder_cable_count),
            ("distribution", d.edge_distribution_fibres, d.edge_distribution_spare,
             d.edge_distribution_cable_size, d.edge_distribution_cable_count),
        ):  # fmt: skip
            has = used > 0
            parts.append(
                pd.DataFrame(
                    {
                        "edge_id": rows[has],
                        "cable_type": kind,
                        "size": size[has],
                        "cable_count": count[has],
                        "fibres_used": used[has],
                        "fibres_spare": spare[has],
                        "length_m": tg.edge_length_m[rows[has]],
                        "geometry": tg.edge_geometry[rows[has]],
                    }
                )
            )
        df = pd.concat(parts, ignore_index=True)
        return gpd.GeoDataFrame(df, geometry="geometry", crs=tg.crs)

    def chambers_layer(self) -> gpd.GeoDataFrame:
        """Return chambers / joint boxes: at DPs, cabinets, branches and every 250 m.

        Returns
        -------
        geopandas.GeoDataFrame
            Points: ``chamber_id``, ``kind`` (headend, cabinet, dp, branch,
            spacing), ``node``, ``edge_id``.
        """
        tg, d, rows = self.trench_graph, self.design, self.tree_edge_rows
        xy = np.zeros((d.chamber_kind.size, 2))
        at_node = d.chamber_node >= 0
        xy[at_node] = tg.node_xy[d.chamber_node[at_node]]
        mid = ~at_node
        if mid.any():
            e = d.chamber_edge[mid]
            geom = tg.edge_geometry[rows[e]]
            frac = d.chamber_offset_m[mid] / np.maximum(d.edge_length_m[e], 1e-9)
            from_u = d.edge_parent[e] == tg.edge_u[rows[e]]
            frac = np.clip(np.where(from_u, frac, 1 - frac), 0, 1)
            xy[mid] = shapely.get_coordinates(
                shapely.line_interpolate_point(geom, frac, normalized=True)
            )
        edge_id = np.where(mid, rows[np.maximum(d.chamber_edge, 0)] if rows.size else -1, -1)
        return gpd.GeoDataFrame(
            {
                "chamber_id": np.arange(d.chamber_kind.size),
                "kind": d.chamber_kind,
                "node": d.chamber_node,
                "edge_id": edge_id,
            },
            geometry=shapely.points(xy) if xy.size else [],
            crs=tg.crs,
        )

    def dps_layer(self) -> gpd.GeoDataFrame:
        """Return distribution points (secondary splitters).

        Returns
        -------
        geopandas.GeoDataFrame
            Points: ``dp_id``, ``premises_count``, ``splitters``, ``cabinet_id``, ``node``.
        """
        tg, d = self.trench_graph, self.design
        return gpd.GeoDataFrame(
            {
                "dp_id": np.arange(d.dp_node.size),
                "premises_count": d.dp_premises_count,
                "splitters": d.dp_splitters,
                "cabinet_id": d.dp_cabinet,
                "node": d.dp_node,
            },
            geometry=shapely.points(tg.node_xy[d.dp_node]) if d.dp_node.size else [],
            crs=tg.crs,
        )

    def cabinets_layer(self) -> gpd.GeoDataFrame:
        """Return street cabinets (primary splitters / fibre distribution hubs).

        Returns
        -------
        geopandas.GeoDataFrame
            Points: ``cabinet_id``, ``premises_count``, ``splitters``
            (primary), ``dp_count``, ``node``.
        """
        tg, d = self.trench_graph, self.design
        dps = np.bincount(d.dp_cabinet, minlength=d.cabinet_node.size)
        return gpd.GeoDataFrame(
            {
                "cabinet_id": np.arange(d.cabinet_node.size),
                "premises_count": d.cabinet_premises_count,
                "splitters": d.cabinet_splitters,
                "dp_count": dps,
                "node": d.cabinet_node,
            },
            geometry=shapely.points(tg.node_xy[d.cabinet_node]) if d.cabinet_node.size else [],
            crs=tg.crs,
        )

    def drops_layer(self) -> gpd.GeoDataFrame:
        """Return a straight drop line from each connected premises to its street point.

        Returns
        -------
        geopandas.GeoDataFrame
            Lines: ``premises_id``, ``length_m``, ``cost_gbp``.
        """
        tg = self.trench_graph
        conn = (self.premises["status"] == "connected").to_numpy()
        start = shapely.get_coordinates(self.premises.geometry.to_numpy()[conn])
        end = tg.node_xy[tg.premises_node[conn]]
        n = int(conn.sum())
        coords = np.stack([start, end], axis=1).reshape(-1, 2)
        geom = shapely.linestrings(coords, indices=np.repeat(np.arange(n), 2)) if n else []
        length = tg.premises_drop_m[conn]
        return gpd.GeoDataFrame(
            {
                "premises_id": self.premises["premises_id"].to_numpy()[conn],
                "length_m": length,
                "cost_gbp": length * self.costs.drop_gbp_per_m,
                "crosses_road": tg.premises_crosses_road[conn],
            },
            geometry=geom,
            crs=tg.crs,
        )

    def headend_layer(self) -> gpd.GeoDataFrame:
        """Return the headend (OLT) point with how it was chosen.

        Returns
        -------
        geopandas.GeoDataFrame
            One point: ``how``, ``lon``, ``lat``, ``node``.
        """
        tg = self.trench_graph
        x, y = tg.node_xy[tg.headend_node]
        pt = gpd.GeoSeries([shapely.Point(x, y)], crs=tg.crs)
        ll = pt.to_crs(WGS84).iloc[0]
        return gpd.GeoDataFrame(
            {"how": [tg.headend_how], "lon": [ll.x], "lat": [ll.y], "node": [tg.headend_node]},
            geometry=pt.to_numpy(),
            crs=tg.crs,
        )

    # ----------------------------------------------------------------- summary
    @property
    def summary(self) -> dict[str, Any]:
        """The plan's headline figures (the ``summary.json`` contract).

        Returns
        -------
        dict
            See the README's output contract for every key.
        """
        prem = self.premises
        status = prem["status"]
        tg = self.trench_graph
        head = self.headend_layer().iloc[0]
        rows = self.tree_edge_rows
        kind = tg.edge_kind[rows]
        length = tg.edge_length_m[rows]
        trench_m = float(length.sum())
        ds = self.design.summary()
        drop_m = float(np.nansum(tg.premises_drop_m[(status == "connected").to_numpy()]))
        reasons = prem.loc[status == "unreachable", "reason"].value_counts().to_dict()
        t = self.tree
        gap = (t.cost - t.lower_bound) / t.lower_bound * 100 if t.lower_bound > 0 else 0.0
        return {
            "fibreplan_version": _version(),
            "premises_total": len(prem),
            "premises_connected": int((status == "connected").sum()),
            "premises_unreachable": int((status == "unreachable").sum()),
            "unreachable_by_reason": {str(k): int(v) for k, v in reasons.items()},
            "units_connected": int(prem.loc[status == "connected", "units"].sum()),
            "premises_by_class": {
                str(k): int(v)
                for k, v in prem.loc[status == "connected", "class"].value_counts().items()
            },
            "trench_m": round(trench_m, 2),
            "trench_m_dug": round(float(length[~np.isin(kind, ["duct_reuse", "aerial"])].sum()), 2),
            "duct_m_reused": round(float(length[kind == "duct_reuse"].sum()), 2),
            "aerial_m": round(float(length[kind == "aerial"].sum()), 2),
            "road_crossings": road_crossings(tg, rows),
            "trench_m_by_surface": {
                s: round(
                    float(
                        tg.edge_length_m[self.tree_edge_rows][
                            tg.edge_surface[self.tree_edge_rows] == s
                        ].sum()
                    ),
                    2,
                )
                for s in np.unique(tg.edge_surface[self.tree_edge_rows])
            },
            "drop_m": round(drop_m, 2),
            "dp_count": ds["dp_count"],
            "cabinet_count": ds["cabinet_count"],
            "chamber_count": ds["chamber_count"],
            "olt_ports": ds["olt_ports"],
            "cable_m_by_size": {
                str(k): round(float(v), 2) for k, v in ds["cable_m_by_size"].items()
            },
            "max_loss_db": None if ds["max_loss_db"] is None else round(ds["max_loss_db"], 3),
            "loss_violations": ds["loss_violations"],
            **self.costing.summary(),
            "crs": tg.crs.to_string(),
            "headend": {
                "lon": round(float(head.lon), 7),
                "lat": round(float(head.lat), 7),
                "how": head.how,
                "node": int(head.node),
            },
            "optimiser": {
                "method": t.method,
                "tree_cost_gbp": round(t.cost, 2),
                "lower_bound_gbp": round(t.lower_bound, 2),
                "gap_pct": round(gap, 4),
                "proven_optimal": bool(t.optimal),
                "seconds": round(t.seconds, 3),
            },
            "inputs": self.inputs,
            "seconds": {k: round(v, 3) for k, v in self.seconds.items()},
        }

    # ------------------------------------------------------------------ output
    def tree_graph(self) -> nx.Graph:
        """Return the trenched tree as a networkx graph with ``length_m`` and ``cost_gbp``.

        Returns
        -------
        networkx.Graph
            Nodes are trench-graph node indices with ``x``/``y`` (metres).
        """
        tg, rows = self.trench_graph, self.tree_edge_rows
        G = nx.Graph()
        for r in rows.tolist():
            u, v = int(tg.edge_u[r]), int(tg.edge_v[r])
            G.add_edge(
                u, v, length_m=float(tg.edge_length_m[r]), cost_gbp=float(tg.edge_cost_gbp[r])
            )
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
        from fibreplan.maps import plan_map
        from fibreplan.maps import save_map

        path = Path(path)
        check_writable([path], overwrite=overwrite)
        s = self.summary
        title = (
            f"fibreplan: {s['premises_connected']} premises, {s['trench_m'] / 1000:.2f} km trench, "
            f"£{s['cost_per_premises_passed_gbp'] or 0:,.0f} per premises passed"
        )
        return save_map(plan_map(self.layers(), title=title, basemap=basemap), path)

    def save(self, out_dir: str | Path, *, overwrite: bool = False) -> dict[str, Path]:
        """Write ``summary.json``, ``plan.gpkg`` and ``map.html`` into ``out_dir``.

        Parameters
        ----------
        out_dir : str or pathlib.Path
            Output folder (created if needed).
        overwrite : bool, default False
            Whether existing files of these names may be replaced; without it
            nothing is written when any of them exists.

        Returns
        -------
        dict of str to pathlib.Path
            Paths by key (``summary``, ``gpkg``, ``map``).
        """
        out = Path(out_dir)
        paths = {k: out / name for k, name in FILES.items()}
        check_writable(list(paths.values()), overwrite=overwrite)
        out.mkdir(parents=True, exist_ok=True)
        self.to_gpkg(paths["gpkg"], overwrite=overwrite)
        self.to_map(paths["map"], overwrite=overwrite)
        write_summary(self.summary, paths["summary"], overwrite=overwrite)
        logger.info("plan saved to %s", out)
        return paths


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


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
    return int((tg.edge_kind[rows] == "crossing").sum()) + int(
        np.unique(tg.premises_street[far]).size
    )


def _premises_out(
    gdf_premises: gpd.GeoDataFrame, tg: TrenchGraph, design: Design
) -> gpd.GeoDataFrame:
    """Return the input premises with status, reason and design columns (-1/NaN if unconnected)."""
    reach = tg.premises_node >= 0
    out = gdf_premises.copy()
    out["status"] = np.where(reach, "connected", "unreachable")
    out["reason"] = tg.premises_reason
    out["drop_m"] = np.where(reach, tg.premises_drop_m, np.nan)
    out["crosses_road"] = tg.premises_crosses_road
    out["node"] = tg.premises_node
    for col, values, fill in (
        ("dp_id", design.premises_dp, -1),
        ("cabinet_id", design.premises_cabinet, -1),
        ("loss_db", design.premises_loss_db, np.nan),
    ):
        full = np.full(len(out), fill, dtype=np.asarray(values).dtype if fill == -1 else float)
        full[reach] = values
        out[col] = full
    violation = np.zeros(reach.sum(), dtype=bool)
    violation[design.violations] = True
    out["loss_violation"] = False
    out.loc[reach, "loss_violation"] = violation
    fixes = np.full(reach.sum(), "", dtype=object)
    fixes[design.violations] = list(design.violation_fixes)
    out["loss_fix"] = ""
    out.loc[reach, "loss_fix"] = fixes
    return out


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
        existing = gpd.read_file(path, engine="pyogrio")
    if existing.crs is None:
        msg = "existing has no CRS; set it (e.g. gdf.set_crs('EPSG:27700')) or save it with one."
        raise CRSError(msg)
    return existing.to_crs(crs)


def _same_osm_file(streets: object, premises: object) -> bool:
    if not isinstance(streets, str | Path) or not isinstance(premises, str | Path):
        return False
    a, b = Path(streets), Path(premises)
    return a.is_file() and b.is_file() and a.resolve() == b.resolve() and _is_osm_xml(a)


def plan(
    streets: gpd.GeoDataFrame | str | Path | nx.MultiDiGraph,
    premises: gpd.GeoDataFrame | str | Path,
    *,
    headend: tuple[float, float] | shapely.Point | None = None,
    costs: CostBook | None = None,
    rules: DesignRules | None = None,
    existing: gpd.GeoDataFrame | str | Path | None = None,
    method: Literal["heuristic", "exact", "auto"] = "auto",
    time_limit: float | None = 30.0,
    seed: int = 0,
) -> Plan:
    """Plan a fibre network: which streets to trench, drops, cost per premises passed.

    Parameters
    ----------
    streets : geopandas.GeoDataFrame, str, pathlib.Path or networkx.MultiDiGraph
        Street centrelines, an OSM XML file, a vector file or an osmnx graph
        (see :func:`fibreplan.load_streets`).
    premises : geopandas.GeoDataFrame, str or pathlib.Path
        Premises points or a file of them (see :func:`fibreplan.load_premises`).
    headend : tuple of float or shapely.Point, optional
        Headend (OLT) as ``(lon, lat)`` degrees or a Point in the plan CRS;
        default chosen automatically (approximate network 1-median).
    costs : CostBook, optional
        Unit costs in GBP; default ``CostBook()`` (published UK figures).
    rules : DesignRules, optional
        Design rules (drop limit, two-sided roads, PON splits, capacities,
        cable sizes, chamber spacing, optical budget); default ``DesignRules()``.
    existing : geopandas.GeoDataFrame, str or pathlib.Path, optional
        Existing ducts (lines) and poles (points) that may be used instead of
        digging (see :func:`fibreplan.build_trench_graph`).
    method : {"heuristic", "exact", "auto"}, default "auto"
        Steiner tree method (see :func:`fibreplan.steiner_tree`).
    time_limit : float or None, default 30.0
        Seconds the optimiser may spend improving or proving the tree.
    seed : int, default 0
        Seed of the optimiser (results are deterministic for a seed).

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
    rules = rules or DesignRules()
    seconds: dict[str, float] = {}
    t0 = time.perf_counter()
    inputs = [
        {"name": Path(src).name, "sha256": _sha256(Path(src))}
        for src in (streets, premises)
        if isinstance(src, str | Path) and Path(src).is_file()
    ]
    if _same_osm_file(streets, premises):
        gdf_streets, gdf_premises = load_osm(Path(str(streets)))
        inputs = inputs[:1]
    else:
        gdf_streets = load_streets(streets)
        gdf_premises = load_premises(premises, crs=gdf_streets.crs)
    if gdf_premises.empty:
        msg = "premises is empty: give at least one premises point."
        raise InputValidationError(msg)
    seconds["load"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    gdf_existing = _load_existing(existing, crs=gdf_streets.crs)
    if isinstance(existing, str | Path):
        inputs.append({"name": Path(existing).name, "sha256": _sha256(Path(existing))})
    tg = build_trench_graph(
        gdf_streets, gdf_premises, costs=costs, rules=rules, headend=headend, existing=gdf_existing
    )
    seconds["trench"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    reach = tg.premises_node >= 0
    terminals = np.unique(np.append(tg.premises_node[reach], tg.headend_node))
    tree = steiner_tree_csr(tg.csr(), terminals, method=method, seed=seed, time_limit=time_limit)
    rows = tg.edge_index(tree.edges) if tree.edges.size else np.array([], dtype=np.int64)
    seconds["optimise"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    design = design_network(
        np.column_stack([tg.edge_u[rows], tg.edge_v[rows]]),
        tg.edge_length_m[rows],
        tg.headend_node,
        tg.premises_node[reach],
        tg.premises_drop_m[reach],
        rules=rules,
    )
    seconds["design"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    premises_out = _premises_out(gdf_premises, tg, design)
    ds = design.summary()
    costing = cost_plan(
        tg,
        rows,
        connected=reach,
        costs=costs,
        design_quantities={**ds, "road_crossings": road_crossings(tg, rows)},
    )
    seconds["cost"] = time.perf_counter() - t0
    result = Plan(
        streets=gdf_streets,
        premises=premises_out,
        trench_graph=tg,
        tree=tree,
        tree_edge_rows=rows,
        design=design,
        costing=costing,
        inputs=inputs,
        seconds=seconds,
        costs=costs,
        rules=rules,
    )
    s = result.summary
    logger.info(
        "plan: %d/%d premises connected, %.2f km trench, GBP %.0f per premises passed",
        s["premises_connected"],
        s["premises_total"],
        s["trench_m"] / 1000,
        s["cost_per_premises_passed_gbp"] or 0,
    )
    return result
