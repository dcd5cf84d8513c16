"""Plan a county or a nation as many areas, on Dask distributed.

A study too large for one plan is split into planning areas (polygons the user
gives, e.g. exchange areas, or an automatic partition of the premises into
areas of bounded size, :func:`partition_areas`). :func:`plan_areas` plans each
area independently with :func:`fibreplan.plan` on its clipped inputs, on a
``dask.distributed`` cluster (a ``LocalCluster`` of one process per core by
default, or an existing scheduler at ``tcp://host:port``; the same code runs on
both, and ``workers=0`` runs the same tasks in this process). A failed area is
retried, then reported with its id and error; the other areas complete. The
area headends are joined by a backbone (a Steiner tree over them from a core
site on the study's street graph, :func:`fibreplan.steiner_tree_csr`), and the
results are merged into one :class:`AreasPlan`: one set of layers with ids made
unique and stable by their area (``"A3:17"``), one summary with ``areas``
(each area's id, premises, km, cost and seconds) and ``backbone``, one
GeoPackage and one map.

Requires the ``dask`` extra (``pip install "fibreplan[dask]"``) unless ``workers=0``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import time
import traceback
from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp
import shapely
from scipy.sparse import csgraph

from fibreplan._errors import InputValidationError
from fibreplan.export import check_writable
from fibreplan.export import write_gpkg
from fibreplan.export import write_map
from fibreplan.export import write_summary
from fibreplan.layers import map_layers
from fibreplan.load import load_inputs
from fibreplan.optimise import SteinerResult
from fibreplan.optimise import steiner_tree_csr
from fibreplan.plan import plan
from fibreplan.trench import build_trench_graph

__all__ = ["AreaResult", "AreasPlan", "assign_areas", "partition_areas", "plan_areas"]

logger = logging.getLogger(__name__)

#: Layer columns holding ids local to an area's plan: made ``"<area_id>:<id>"`` when merged.
ID_COLUMNS = ("edge_id", "dp_id", "cabinet_id", "chamber_id", "headend_id", "node")

#: Summary keys that add up over areas (counts, metres, GBP).
_SUMMED = (
    "premises_total", "premises_connected", "premises_unreachable", "units_connected",
    "buildings_total", "premises_passed", "trench_m", "trench_m_dug", "duct_m_reused",
    "aerial_m", "road_crossings", "drop_m", "dp_count", "cabinet_count", "chamber_count",
    "olt_ports", "loss_violations", "cost_total_gbp", "cost_base_gbp", "cost_low_gbp",
    "cost_high_gbp", "cost_build_gbp", "cost_connection_gbp", "cost_optimism_bias_gbp",
    "new_poles",
)  # fmt: skip
_SUMMED_DICTS = (
    "unreachable_by_reason", "premises_by_class", "premises_passed_by_class",
    "trench_m_by_surface", "cable_m_by_size", "cost_by_category_gbp", "cost_by_stage_gbp",
    "trench_m_by_area",
)  # fmt: skip

#: A progress callback: ``(area_id, status, seconds)``; status ``planned``, ``retrying`` or
#: ``failed`` (seconds of the attempt).
AreaProgress = Callable[[str, str, float], None]


@dataclasses.dataclass(frozen=True)
class AreaResult:
    """One planning area's outcome.

    Attributes
    ----------
    area_id : str
        The area's id.
    premises : int
        Premises in the area.
    status : str
        ``"planned"``, ``"failed"`` (every attempt raised) or ``"empty"`` (no premises).
    seconds : float
        Wall time of the last attempt on its worker, seconds.
    attempts : int
        Attempts made (1 + retries used).
    error : str or None
        The last attempt's exception (type and message) when it failed.
    summary : dict or None
        The area plan's summary (:attr:`fibreplan.Plan.summary`).
    layers : dict of str to geopandas.GeoDataFrame or None
        The area plan's map layers (:func:`fibreplan.layers.map_layers`).
    """

    area_id: str
    premises: int
    status: str
    seconds: float = 0.0
    attempts: int = 0
    error: str | None = None
    summary: dict[str, Any] | None = None
    layers: dict[str, gpd.GeoDataFrame] | None = None


@dataclasses.dataclass(frozen=True)
class AreasPlan:
    """A study planned as areas and merged: one set of layers, one summary.

    Attributes
    ----------
    areas : list of AreaResult
        Every area, in id order (failed ones included).
    layers : dict of str to geopandas.GeoDataFrame
        The merged plan layers (``premises``, ``trenches``, ... each with
        ``area_id``; local ids made ``"<area_id>:<id>"``), ``areas`` (the
        area polygons with their status) and ``backbone`` (trench joining
        the area headends to the core site).
    streets : geopandas.GeoDataFrame
        Every study street (the map's base layer).
    summary : dict
        Sums over the planned areas (see :func:`plan_areas`, Returns).
    """

    areas: list[AreaResult]
    layers: dict[str, gpd.GeoDataFrame]
    streets: gpd.GeoDataFrame
    summary: dict[str, Any]

    @property
    def failed(self) -> list[AreaResult]:
        """The areas whose every attempt failed."""
        return [a for a in self.areas if a.status == "failed"]

    def save(
        self, out_dir: str | Path, *, overwrite: bool = False, basemap: bool = True
    ) -> dict[str, Path]:
        """Write ``summary.json``, ``plan.gpkg`` and ``map.html`` into ``out_dir``.

        Parameters
        ----------
        out_dir : str or pathlib.Path
            Output folder (created if needed).
        overwrite : bool, default False
            Whether existing files of these names may be replaced.
        basemap : bool, default True
            Whether the map gets OpenStreetMap tiles (shown only when online).

        Returns
        -------
        dict of str to pathlib.Path
            Paths by key (``summary``, ``gpkg``, ``map``).
        """
        out = Path(out_dir)
        paths = {"summary": out / "summary.json", "gpkg": out / "plan.gpkg",
                 "map": out / "map.html"}  # fmt: skip
        check_writable(list(paths.values()), overwrite=overwrite)
        out.mkdir(parents=True, exist_ok=True)
        write_gpkg(self.layers, paths["gpkg"], overwrite=overwrite)
        s = self.summary
        title = (
            f"fibreplan: {s['premises_connected']} premises in {len(self.areas)} areas, "
            f"{s['trench_m'] / 1000:.2f} km trench, "
            f"£{s['cost_per_premises_passed_gbp'] or 0:,.0f} per premises passed"
        )
        write_map({**self.layers, "streets": self.streets}, paths["map"], title=title,
                  overwrite=overwrite, basemap=basemap, summary=s)  # fmt: skip
        write_summary(s, paths["summary"], overwrite=overwrite)
        return paths


def partition_areas(premises: gpd.GeoDataFrame, *, max_premises: int = 20_000) -> gpd.GeoDataFrame:
    """Split the premises into rectangular planning areas of at most ``max_premises`` each.

    Parameters
    ----------
    premises : geopandas.GeoDataFrame
        Premises points in a metric CRS.
    max_premises : int, default 20,000
        Most premises in one area (the plan of 20k premises takes a few
        seconds and a few hundred MB; see the README's "Counties and nations").

    Returns
    -------
    geopandas.GeoDataFrame
        One row per area: ``area_id`` (``A1``, ``A2``, ... zero-padded to sort),
        ``premises`` (count) and the rectangle (covering the study's extent
        together, without overlap), in the premises' CRS.

    Raises
    ------
    InputValidationError
        If ``max_premises`` is below 1 or there are no premises.

    Notes
    -----
    Recursive coordinate bisection (Berger & Bokhari 1987): the premises are
    halved at the median of the longer side of their box until each part
    holds at most ``max_premises``; parts hold between ``max_premises / 2`` and
    ``max_premises`` premises. Deterministic (stable sorts); O(p log^2 p).

    References
    ----------
    .. [1] M. J. Berger and S. H. Bokhari, "A partitioning strategy for
       nonuniform problems on multiprocessors", IEEE Trans. Computers C-36
       (1987) 570-580, doi:10.1109/TC.1987.1676942.
    """
    if max_premises < 1:
        msg = f"max_premises must be at least 1; got {max_premises}."
        raise InputValidationError(msg)
    if premises.empty:
        msg = "premises is empty: nothing to split into areas."
        raise InputValidationError(msg)
    xy = shapely.get_coordinates(premises.geometry.to_numpy())
    x0, y0 = xy.min(axis=0) - 1.0
    x1, y1 = xy.max(axis=0) + 1.0
    stack = [(np.arange(len(xy)), (x0, y0, x1, y1))]
    parts: list[tuple[int, tuple[float, float, float, float]]] = []
    while stack:
        idx, box = stack.pop()
        if idx.size <= max_premises:
            parts.append((idx.size, box))
            continue
        bx0, by0, bx1, by1 = box
        axis = 0 if (bx1 - bx0) >= (by1 - by0) else 1
        order = idx[np.argsort(xy[idx, axis], kind="stable")]
        half = order.size // 2
        cut = float((xy[order[half - 1], axis] + xy[order[half], axis]) / 2)
        lo, hi = (bx0, by0, cut, by1), (cut, by0, bx1, by1)
        if axis == 1:
            lo, hi = (bx0, by0, bx1, cut), (bx0, cut, bx1, by1)
        stack += [(order[half:], hi), (order[:half], lo)]  # the low half is split first
    width = len(str(len(parts)))
    return gpd.GeoDataFrame(
        {
            "area_id": [f"A{i + 1:0{width}d}" for i in range(len(parts))],
            "premises": [n for n, _ in parts],
        },
        geometry=shapely.box(*np.array([b for _, b in parts]).T),
        crs=premises.crs,
    )


def assign_areas(premises: gpd.GeoDataFrame, areas: gpd.GeoDataFrame) -> npt.NDArray[np.int64]:
    """Return the index into ``areas`` of the area holding each premises (-1: none).

    Parameters
    ----------
    premises : geopandas.GeoDataFrame
        Premises points.
    areas : geopandas.GeoDataFrame
        Area polygons in the same CRS; a premises in several (on a shared
        boundary, or overlapping areas) goes to the first.

    Returns
    -------
    numpy.ndarray of int64
        One entry per premises.
    """
    found, area = areas.sindex.query(premises.geometry.to_numpy(), predicate="intersects")
    out = np.full(len(premises), np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(out, found, area)
    return np.where(out == np.iinfo(np.int64).max, -1, out)


def _read_areas(areas: gpd.GeoDataFrame | str | Path, *, crs: object) -> gpd.GeoDataFrame:
    """Read user areas (a polygon file or GeoDataFrame) with an ``area_id`` column."""
    gdf = areas
    if isinstance(areas, str | Path):
        if not Path(areas).is_file():
            msg = f"areas: no such file '{areas}'; give a polygon file or 'auto'."
            raise InputValidationError(msg)
        gdf = gpd.read_file(areas, engine="pyogrio")
    assert isinstance(gdf, gpd.GeoDataFrame)
    if gdf.crs is None:
        msg = "areas has no CRS; save the polygons with one (e.g. EPSG:27700)."
        raise InputValidationError(msg)
    polys = gdf.geometry.geom_type.isin(["Polygon", "MultiPolygon"])
    if not polys.all():
        row = int(np.flatnonzero(~polys.to_numpy())[0])
        msg = f"areas row {row}: a {gdf.geometry.iloc[row].geom_type}, not a polygon."
        raise InputValidationError(msg)
    ids = (
        gdf["area_id"].astype(str)
        if "area_id" in gdf.columns
        else pd.Series([f"A{i + 1}" for i in range(len(gdf))], index=gdf.index)
    )
    dup = ids[ids.duplicated()]
    if not dup.empty:
        msg = f"areas: area_id '{dup.iloc[0]}' is used twice; give each area its own id."
        raise InputValidationError(msg)
    return gpd.GeoDataFrame({"area_id": ids.to_numpy()}, geometry=gdf.geometry.to_numpy(),
                            crs=gdf.crs).to_crs(crs)  # fmt: skip


def _plan_area(
    area_id: str, streets: gpd.GeoDataFrame, premises: gpd.GeoDataFrame, options: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, gpd.GeoDataFrame], float]:
    """Plan one area (on a worker): its summary, map layers and seconds."""
    t0 = time.perf_counter()
    p = plan(streets, premises, **options)
    layers = map_layers(p)
    summary = p.summary
    logger.info("area %s: %d premises planned", area_id, summary["premises_connected"])
    return summary, layers, time.perf_counter() - t0


@contextlib.contextmanager
def _client(scheduler: str | None, workers: int | None) -> Iterator[Any]:
    """Yield a Dask client: on ``scheduler`` when given, else on a new LocalCluster."""
    try:
        from distributed import Client
        from distributed import LocalCluster
    except ImportError as err:  # pragma: no cover - the dask extra missing
        msg = 'planning areas on Dask needs dask.distributed: pip install "fibreplan[dask]".'
        raise InputValidationError(msg) from err
    if scheduler is not None:
        with Client(scheduler) as client:
            yield client
        return
    n = workers or os.cpu_count() or 1
    with (
        LocalCluster(
            n_workers=n, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,  # fmt: skip
        Client(cluster) as client,
    ):
        yield client


def _error_text(err: BaseException) -> str:
    return f"{type(err).__name__}: {err}"


def _run_sequential(
    tasks: dict[str, tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]],
    options: dict[str, Any],
    *,
    retries: int,
    progress: AreaProgress | None,
) -> dict[str, tuple[Any, int, float]]:
    """Run the area tasks in this process: ``{area_id: (result or error, attempts, seconds)}``."""
    out: dict[str, tuple[Any, int, float]] = {}
    for area_id, (streets, premises) in tasks.items():
        for attempt in range(1, retries + 2):
            t0 = time.perf_counter()
            try:
                result: Any = _plan_area(area_id, streets, premises, options)
            except Exception as err:  # noqa: BLE001 - any failure of one area is reported
                logger.debug("area %s:\n%s", area_id, traceback.format_exc())
                result = err
            seconds = time.perf_counter() - t0
            out[area_id] = (result, attempt, seconds)
            _tell(progress, area_id, result, attempt=attempt, retries=retries, seconds=seconds)
            if not isinstance(result, BaseException):
                break
    return out


def _tell(
    progress: AreaProgress | None,
    area_id: str,
    result: object,
    *,
    attempt: int,
    retries: int,
    seconds: float,
) -> None:
    """Log one attempt's outcome and pass it to ``progress``."""
    if isinstance(result, BaseException):
        status = "retrying" if attempt <= retries else "failed"
        logger.warning("area %s failed (attempt %d of %d): %s", area_id, attempt, retries + 1,
                       _error_text(result))  # fmt: skip
    else:
        status = "planned"
        logger.info("area %s planned in %.1f s", area_id, seconds)
    if progress is not None:
        progress(area_id, status, seconds)


def _run_dask(
    client: Any,
    tasks: dict[str, tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]],
    options: dict[str, Any],
    *,
    retries: int,
    progress: AreaProgress | None,
) -> dict[str, tuple[Any, int, float]]:
    """Run the area tasks on the Dask cluster; a failed task is resubmitted up to ``retries``."""
    from distributed import as_completed

    data = {a: client.scatter(t, hash=False) for a, t in tasks.items()}
    started: dict[Any, tuple[str, int, float]] = {}

    def submit(area_id: str, attempt: int) -> Any:
        fut = client.submit(_plan_area, area_id, data[area_id][0], data[area_id][1], options,
                            key=f"fibreplan-area-{area_id}-try{attempt}", pure=False)  # fmt: skip
        started[fut.key] = (area_id, attempt, time.perf_counter())
        return fut

    out: dict[str, tuple[Any, int, float]] = {}
    pending = as_completed([submit(a, 1) for a in tasks])
    for fut in pending:
        area_id, attempt, t0 = started[fut.key]
        if fut.status == "error":
            result: Any = fut.exception()
            seconds = time.perf_counter() - t0
        else:
            result = fut.result()
            seconds = float(result[2])
        out[area_id] = (result, attempt, seconds)
        _tell(progress, area_id, result, attempt=attempt, retries=retries, seconds=seconds)
        if isinstance(result, BaseException) and attempt <= retries:
            pending.add(submit(area_id, attempt + 1))
        fut.release()
    return out


def _clip_tasks(
    streets: gpd.GeoDataFrame,
    premises: gpd.GeoDataFrame,
    areas: gpd.GeoDataFrame,
    owner: npt.NDArray[np.int64],
    *,
    buffer_m: float,
) -> dict[str, tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]]:
    """Each area's premises and its streets clipped to the area grown by ``buffer_m``."""
    tasks = {}
    for i, area_id in enumerate(areas["area_id"].tolist()):
        mine = premises.loc[owner == i]
        if mine.empty:
            continue
        mask = areas.geometry.iloc[i].buffer(buffer_m)
        tasks[area_id] = (gpd.clip(streets, mask), mine)
    return tasks


def plan_areas(
    streets: gpd.GeoDataFrame | str | Path,
    premises: gpd.GeoDataFrame | str | Path,
    *,
    areas: gpd.GeoDataFrame | str | Path = "auto",
    max_premises: int = 20_000,
    buffer_m: float = 1000.0,
    core: tuple[float, float] | None = None,
    scheduler: str | None = None,
    workers: int | None = None,
    retries: int = 1,
    progress: AreaProgress | None = None,
    id_column: str | None = None,
    **plan_options: Any,
) -> AreasPlan:
    """Plan a large study as areas on Dask distributed and merge them into one plan.

    Parameters
    ----------
    streets, premises : geopandas.GeoDataFrame, str or pathlib.Path
        The study's streets and premises, as :func:`fibreplan.plan` takes them.
    areas : "auto", geopandas.GeoDataFrame, str or pathlib.Path, default "auto"
        ``"auto"``: :func:`partition_areas` with ``max_premises``; otherwise
        polygons (a file or GeoDataFrame, with ``area_id`` or numbered
        ``A1``, ``A2``, ... in row order). Premises outside every polygon are
        counted in ``summary["premises_outside_areas"]`` and warned about.
    max_premises : int, default 20,000
        Most premises per automatic area.
    buffer_m : float, default 1000
        Streets are clipped to each area grown by this much (m), so routes
        may leave the area to reach its premises; premises stay in one area.
    core : tuple of float, optional
        The backbone's core site ``(lon, lat)``; default the network 1-median
        of the area headends weighted by their premises.
    scheduler : str, optional
        Address of a running Dask scheduler (``tcp://host:port``); default a
        new ``LocalCluster`` of ``workers`` processes.
    workers : int, optional
        Worker processes of the LocalCluster (default: the CPU count); ``0``
        plans the areas one after another in this process without Dask.
    retries : int, default 1
        Times a failed area is tried again before it is reported failed.
    progress : callable, optional
        Called as ``progress(area_id, status, seconds)`` after every attempt.
    id_column : str, optional
        Premises column holding the ID (see :func:`fibreplan.load_premises`).
    **plan_options
        Passed to :func:`fibreplan.plan` for every area (``costs``, ``rules``,
        ``method``, ``seed``, ...; not ``headend``: each area chooses its own).

    Returns
    -------
    AreasPlan
        Merged layers and summary. The summary sums the planned areas'
        counts, metres and GBP (``premises_total`` ... ``cost_total_gbp``, the
        dict breakdowns), takes the largest ``max_loss_db``, recomputes
        ``cost_per_premises_passed_gbp`` (build cost / premises passed), and
        adds ``areas`` (per area: ``id``, ``status``, ``premises``,
        ``premises_connected``, ``km``, ``cost_gbp``, ``seconds``,
        ``attempts``, ``headends``, ``loss_violations``, ``error``),
        ``areas_failed`` (ids), ``backbone`` (core site, headends joined,
        ``trench_m``, ``route_cost_gbp``: priced apart from the areas' costs)
        and ``headends`` (every area's, ids ``"<area_id>:<id>"``). Percentile
        costs (P10-P90) do not add up over areas and are left in each area's
        own figures. A failed area's premises count in ``premises_total``
        and ``premises_in_failed_areas``, never silently dropped. ``seconds``:
        wall time of ``split`` (load, partition, clip), ``areas`` (planning
        them, on the cluster), ``backbone``, ``merge`` and ``total``.

    Raises
    ------
    InputValidationError
        If the inputs or areas are malformed, or no area could be planned.
    """
    if "headend" in plan_options:
        msg = "plan_areas: each area chooses its own headend; leave out headend."
        raise InputValidationError(msg)
    t0 = time.perf_counter()
    gdf_streets, gdf_premises = load_inputs(streets, premises, id_column=id_column)
    polys = (
        partition_areas(gdf_premises, max_premises=max_premises)
        if isinstance(areas, str) and areas == "auto"
        else _read_areas(areas, crs=gdf_premises.crs)
    )
    owner = assign_areas(gdf_premises, polys)
    tasks = _clip_tasks(gdf_streets, gdf_premises, polys, owner, buffer_m=buffer_m)
    seconds = {"split": time.perf_counter() - t0}
    logger.info("areas: %d areas, %d premises outside every area", len(tasks),
                int((owner < 0).sum()))  # fmt: skip
    if workers == 0:
        runs = _run_sequential(tasks, plan_options, retries=retries, progress=progress)
    else:
        with _client(scheduler, workers) as client:
            runs = _run_dask(client, tasks, plan_options, retries=retries, progress=progress)
    results = _results(polys, tasks, runs)
    seconds["areas"] = time.perf_counter() - t0 - sum(seconds.values())
    if not any(r.status == "planned" for r in results):
        first = next((r for r in results if r.error), None)
        msg = "no area could be planned" + (
            f"; area {first.area_id}: {first.error}" if first else ""
        )
        raise InputValidationError(msg)
    backbone, backbone_info = _backbone(gdf_streets, results, core=core)
    seconds["backbone"] = time.perf_counter() - t0 - sum(seconds.values())
    merged = _merge_layers(results)
    merged["areas"] = polys.assign(
        status=[r.status for r in results], attempts=[r.attempts for r in results]
    )
    merged["backbone"] = backbone
    summary = _merge_summary(results, backbone_info, outside=int((owner < 0).sum()))
    seconds["merge"] = time.perf_counter() - t0 - sum(seconds.values())
    seconds["total"] = time.perf_counter() - t0
    summary["seconds"] = {k: round(v, 3) for k, v in seconds.items()}
    return AreasPlan(areas=results, layers=merged, streets=_street_base(gdf_streets),
                     summary=summary)  # fmt: skip


def _results(
    polys: gpd.GeoDataFrame,
    tasks: dict[str, tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]],
    runs: dict[str, tuple[Any, int, float]],
) -> list[AreaResult]:
    out = []
    for area_id in polys["area_id"].tolist():
        if area_id not in tasks:
            out.append(AreaResult(area_id=area_id, premises=0, status="empty"))
            continue
        result, attempts, seconds = runs[area_id]
        n = len(tasks[area_id][1])
        if isinstance(result, BaseException):
            out.append(AreaResult(area_id=area_id, premises=n, status="failed", seconds=seconds,
                                  attempts=attempts, error=_error_text(result)))  # fmt: skip
        else:
            summary, layers, secs = result
            out.append(AreaResult(area_id=area_id, premises=n, status="planned", seconds=secs,
                                  attempts=attempts, summary=summary, layers=layers))  # fmt: skip
    return out


def _local_ids(gdf: gpd.GeoDataFrame, area_id: str) -> gpd.GeoDataFrame:
    """Prefix the area's local id columns with ``area_id`` (missing ids stay missing)."""
    out = gdf.copy()
    for col in ID_COLUMNS:
        if col in out.columns:
            out[col] = area_id + ":" + out[col].astype("string")
    out.insert(0, "area_id", area_id)
    return out


def _merge_layers(results: list[AreaResult]) -> dict[str, gpd.GeoDataFrame]:
    """One GeoDataFrame per layer over the planned areas, ids unique (``"<area>:<id>"``)."""
    planned = [r for r in results if r.layers is not None]
    names = [n for n in planned[0].layers if n != "streets"]  # type: ignore[union-attr]
    merged = {}
    for name in names:
        parts = [_local_ids(r.layers[name], r.area_id) for r in planned]  # type: ignore[index]
        merged[name] = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True),
                                        geometry="geometry", crs=parts[0].crs)  # fmt: skip
    ids = merged["premises"]["premises_id"]
    if ids.duplicated().any():  # pragma: no cover - premises are split between areas
        msg = f"premises {ids[ids.duplicated()].iloc[0]!r} planned in two areas (merge broken)."
        raise RuntimeError(msg)
    return merged


def _street_base(streets: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    names = streets["name"] if "name" in streets.columns else pd.Series("", index=streets.index)
    return gpd.GeoDataFrame(
        {"street_name": names.to_numpy(), "highway": streets["highway"].to_numpy(),
         "length_m": streets.geometry.length.to_numpy()},
        geometry=streets.geometry.to_numpy(), crs=streets.crs,
    )  # fmt: skip


def _on_nodes(
    A: sp.csr_array, keep: npt.NDArray[np.int64], terminals: npt.NDArray[np.int64]
) -> SteinerResult:
    """Steiner tree on the subgraph of the nodes ``keep`` (sorted), in ``A``'s node ids."""
    sub = sp.csr_array(A[keep][:, keep])
    res = steiner_tree_csr(sub, np.searchsorted(keep, terminals), method="heuristic")
    return dataclasses.replace(res, edges=keep[res.edges], optimal=False)


def _corridor_tree(
    A: sp.csr_array, terminals: npt.NDArray[np.int64], *, widen: float = 0.05
) -> SteinerResult:
    """Steiner tree over a few terminals, searched in a corridor around their shortest paths.

    A few headends on a county's streets make a large graph with few
    terminals, slow for the optimiser (12 headends on the 300k town's 31k
    nodes: 26 s heuristic, 63 s auto). The tree is searched first on the union
    of the shortest paths between every pair of terminals (which holds the
    Kou-Markowsky-Berman 2-approximation), then on every node within
    ``widen`` x that tree's cost of it (the same tree as the whole graph's
    there, in 1.1 s; 4 % above the optimum on the tests' 12 x 12 grid); the
    cheaper is kept. Not proven optimal: its bound holds on the corridor only.
    """
    if terminals.size <= 1:
        return steiner_tree_csr(A, terminals)
    _, pred = csgraph.dijkstra(A, directed=False, indices=terminals, return_predecessors=True)
    on_path = set(terminals.tolist())
    for i in range(terminals.size):  # walk back from every later terminal to terminal i
        seen: set[int] = set()  # nodes whose path to terminal i is already walked
        for j in terminals[i + 1 :].tolist():
            v = j
            while pred[i, v] >= 0 and v not in seen:
                seen.add(v)
                v = int(pred[i, v])
                on_path.add(v)
    first = _on_nodes(A, np.array(sorted(on_path), dtype=np.int64), terminals)
    near = csgraph.dijkstra(A, directed=False, indices=np.unique(first.edges), min_only=True,
                            limit=widen * first.cost)  # fmt: skip
    wide = _on_nodes(A, np.flatnonzero(np.isfinite(near)), terminals)
    logger.info("backbone: %d terminals, corridor of %d of %d nodes", terminals.size,
                int(np.isfinite(near).sum()), A.shape[0])  # fmt: skip
    return wide if wide.cost <= first.cost else first


def _backbone(
    streets: gpd.GeoDataFrame, results: list[AreaResult], *, core: tuple[float, float] | None
) -> tuple[gpd.GeoDataFrame, dict[str, Any]]:
    """Join the area headends to the core site by a Steiner tree on the study's street graph."""
    heads = pd.concat(
        [_local_ids(r.layers["headend"], r.area_id) for r in results if r.layers is not None],
        ignore_index=True,
    )
    served = pd.Series(
        [h["premises_connected"] for r in results if r.summary for h in r.summary["headends"]]
    )
    points = gpd.GeoDataFrame(
        {"premises_id": heads["headend_id"].astype(str).to_numpy(),
         "units": served.to_numpy() if len(served) == len(heads) else 1},
        geometry=heads.geometry.to_numpy(), crs=heads.crs,
    )  # fmt: skip
    tg = build_trench_graph(streets, points, headend=core)
    reach = tg.premises_node >= 0
    terminals = np.unique(np.append(tg.premises_node[reach], tg.headend_node))
    tree = _corridor_tree(tg.csr(), terminals)
    rows = tg.edge_index(tree.edges) if tree.edges.size else np.empty(0, dtype=np.int64)
    layer = gpd.GeoDataFrame(
        {"length_m": tg.edge_length_m[rows], "cost_gbp": tg.edge_cost_gbp[rows],
         "kind": tg.edge_kind[rows]},
        geometry=tg.edge_geometry[rows], crs=tg.crs,
    )  # fmt: skip
    core_xy = gpd.GeoSeries([shapely.Point(tg.node_xy[tg.headend_node])], crs=tg.crs)
    lonlat = core_xy.to_crs("EPSG:4326").iloc[0]
    info = {
        "core": {"lon": round(lonlat.x, 7), "lat": round(lonlat.y, 7), "how": tg.headend_how},
        "headends": len(points),
        "headends_joined": int(reach.sum()),
        "headends_not_joined": points["premises_id"][~reach].tolist(),
        "trench_m": round(float(layer["length_m"].sum()), 2),
        "route_cost_gbp": round(float(layer["cost_gbp"].sum()), 2),
        "optimiser": {
            "method": f"{tree.method} on the shortest paths between the headends",
            "gap_pct": round(100 * tree.gap, 4),
            "proven_optimal": bool(tree.optimal),
        },
    }
    return layer, info


def _area_row(r: AreaResult) -> dict[str, Any]:
    s = r.summary or {}
    return {
        "id": r.area_id,
        "status": r.status,
        "premises": r.premises,
        "premises_connected": s.get("premises_connected", 0),
        "km": round(s.get("trench_m", 0.0) / 1000, 3),
        "cost_gbp": s.get("cost_total_gbp", 0.0),
        "seconds": round(r.seconds, 3),
        "attempts": r.attempts,
        "headends": len(s.get("headends", [])),
        "loss_violations": s.get("loss_violations", 0),
        "error": r.error,
    }


def _merge_summary(
    results: list[AreaResult], backbone: dict[str, Any], *, outside: int
) -> dict[str, Any]:
    """Sum the planned areas' figures; list every area, the backbone and the failures."""
    sums = [r.summary for r in results if r.summary is not None]
    out: dict[str, Any] = {"fibreplan_version": sums[0]["fibreplan_version"]}
    failed = [r for r in results if r.status == "failed"]
    warnings = [f"area {r.area_id} ({r.premises} premises) failed after {r.attempts} attempts: "
                f"{r.error}" for r in failed]  # fmt: skip
    if outside:
        warnings.append(f"{outside} premises lie outside every area and were not planned")
    warnings += [f"area {r.area_id}: {w}" for r in results if r.summary
                 for w in r.summary.get("warnings", [])]  # fmt: skip
    out["warnings"] = warnings
    for key in _SUMMED:
        values = [s[key] for s in sums if s.get(key) is not None]
        out[key] = round(float(sum(values)), 2) if values else None
        if values and all(isinstance(v, int) for v in values):
            out[key] = int(sum(values))
    failed_premises = sum(r.premises for r in failed)
    out["premises_total"] = (out["premises_total"] or 0) + failed_premises + outside
    out["premises_in_failed_areas"] = failed_premises
    out["premises_outside_areas"] = outside
    for key in _SUMMED_DICTS:
        total: dict[str, float] = {}
        for s in sums:
            for k, v in (s.get(key) or {}).items():
                total[k] = total.get(k, 0) + v
        out[key] = {k: round(v, 2) for k, v in total.items()}
    losses = [s["max_loss_db"] for s in sums if s.get("max_loss_db") is not None]
    out["max_loss_db"] = max(losses) if losses else None
    passed = out.get("premises_passed") or 0
    build = out.get("cost_build_gbp") or 0.0
    out["cost_per_premises_passed_gbp"] = round(build / passed, 2) if passed else None
    out["cost_per_premises_passed_with_backbone_gbp"] = (
        round((build + backbone["route_cost_gbp"]) / passed, 2) if passed else None
    )
    out["crs"] = sums[0]["crs"]
    out["areas"] = [_area_row(r) for r in results]
    out["areas_failed"] = [r.area_id for r in failed]
    out["backbone"] = backbone
    out["headends"] = [
        {**h, "id": f"{r.area_id}:{h['id']}", "area_id": r.area_id}
        for r in results if r.summary for h in r.summary["headends"]
    ]  # fmt: skip
    return out
