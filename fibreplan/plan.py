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
from fibreplan._errors import InputValidationError
from fibreplan.config import CostBook
from fibreplan.cost import Costing
from fibreplan.cost import cost_plan
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
from fibreplan.trench import line_substrings

__all__ = ["Plan", "plan"]

logger = logging.getLogger(__name__)

#: Default maximum straight-line drop from a premises to the street, metres.
DEFAULT_MAX_DROP_M = 500.0


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
    costing : Costing
        Bill of quantities and totals.
    inputs : list of dict
        Input files with their sha256, for traceability.
    seconds : dict of str to float
        Wall time of each stage.
    """

    streets: gpd.GeoDataFrame
    premises: gpd.GeoDataFrame
    trench_graph: TrenchGraph
    tree: SteinerResult
    tree_edge_rows: npt.NDArray[np.int64]
    costing: Costing
    inputs: list[dict[str, str]]
    seconds: dict[str, float]

    # ------------------------------------------------------------------ layers
    def layers(self) -> dict[str, gpd.GeoDataFrame]:
        """Return the plan's GeoDataFrame layers (the GeoPackage's tables).

        Returns
        -------
        dict of str to geopandas.GeoDataFrame
            ``premises``, ``trenches``, ``drops`` and ``headend``, in the plan's CRS.
        """
        return {
            "premises": self.premises_layer(),
            "trenches": self.trenches_layer(),
            "drops": self.drops_layer(),
            "headend": self.headend_layer(),
        }

    def premises_layer(self) -> gpd.GeoDataFrame:
        """Return the premises with their status, reason and drop length.

        Returns
        -------
        geopandas.GeoDataFrame
            Points: ``premises_id``, ``class``, ``units``, ``status``, ``reason``,
            ``drop_m`` and the input's other columns.
        """
        return self.premises

    def trenches_layer(self) -> gpd.GeoDataFrame:
        """Return the trenched street stretches as lines.

        Returns
        -------
        geopandas.GeoDataFrame
            Lines: ``edge_id``, ``length_m``, ``cost_gbp``, ``surface``,
            ``kind`` (``dig``), ``street_name``, ``highway``.
        """
        tg, rows = self.trench_graph, self.tree_edge_rows
        street = tg.edge_street[rows]
        geom = line_substrings(
            self.streets.geometry.to_numpy(), street, tg.edge_start_m[rows], tg.edge_end_m[rows]
        )
        return gpd.GeoDataFrame(
            {
                "edge_id": rows,
                "length_m": tg.edge_length_m[rows],
                "cost_gbp": tg.edge_cost_gbp[rows],
                "surface": tg.edge_surface[rows],
                "kind": "dig",
                "street_name": self.streets["name"].to_numpy()[street],
                "highway": self.streets["highway"].to_numpy()[street],
            },
            geometry=geom,
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
                "cost_gbp": length * self._costbook.drop_gbp_per_m,
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
        trench_m = float(tg.edge_length_m[self.tree_edge_rows].sum())
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
                str(k): int(v) for k, v in prem.loc[status == "connected", "class"].value_counts().items()  # noqa: E501
            },
            "trench_m": round(trench_m, 2),
            "trench_m_by_surface": {
                s: round(float(tg.edge_length_m[self.tree_edge_rows][tg.edge_surface[self.tree_edge_rows] == s].sum()), 2)  # noqa: E501
                for s in np.unique(tg.edge_surface[self.tree_edge_rows])
            },
            "drop_m": round(drop_m, 2),
            **self.costing.summary(),
            "crs": tg.crs.to_string(),
            "headend": {"lon": round(float(head.lon), 7), "lat": round(float(head.lat), 7),
                        "how": head.how, "node": int(head.node)},  # fmt: skip
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
    @property
    def _costbook(self) -> CostBook:
        return self.costs

    costs: CostBook = dataclasses.field(default_factory=CostBook)

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
            G.add_edge(u, v, length_m=float(tg.edge_length_m[r]), cost_gbp=float(tg.edge_cost_gbp[r]))
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
    max_drop_m: float = DEFAULT_MAX_DROP_M,
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
    max_drop_m : float, default 500.0
        Premises farther than this from every street are unreachable, metres.
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
    tg = build_trench_graph(
        gdf_streets, gdf_premises, costs=costs, max_drop_m=max_drop_m, headend=headend
    )
    seconds["trench"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    reach = tg.premises_node >= 0
    terminals = np.unique(np.append(tg.premises_node[reach], tg.headend_node))
    tree = steiner_tree_csr(
        tg.csr(), terminals, method=method, seed=seed, time_limit=time_limit
    )
    rows = tg.edge_index(tree.edges) if tree.edges.size else np.array([], dtype=np.int64)
    seconds["optimise"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    premises_out = gdf_premises.copy()
    premises_out["status"] = np.where(reach, "connected", "unreachable")
    premises_out["reason"] = tg.premises_reason
    premises_out["drop_m"] = np.where(reach, tg.premises_drop_m, np.nan)
    premises_out["node"] = tg.premises_node
    costing = cost_plan(tg, rows, connected=reach, costs=costs)
    seconds["cost"] = time.perf_counter() - t0
    result = Plan(
        streets=gdf_streets,
        premises=premises_out,
        trench_graph=tg,
        tree=tree,
        tree_edge_rows=rows,
        costing=costing,
        inputs=inputs,
        seconds=seconds,
        costs=costs,
    )
    s = result.summary
    logger.info(
        "plan: %d/%d premises connected, %.2f km trench, GBP %.0f per premises passed",
        s["premises_connected"], s["premises_total"], s["trench_m"] / 1000,
        s["cost_per_premises_passed_gbp"] or 0,
    )  # fmt: skip
    return result


__all__ += ["DEFAULT_MAX_DROP_M"]
_ = pd  # pandas is used through GeoDataFrame columns
