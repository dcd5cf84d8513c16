"""Outputs — write a plan's files: ``summary.json``, ``plan.gpkg`` and ``map.html``.

The file names, GeoPackage layer names and ``summary.json`` keys are a
contract (see the README's "Output contract"): later versions add to them and
never rename or remove one.
"""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
import tempfile
import time
from collections.abc import Iterator
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any

import geopandas as gpd
import numpy as np
import pyogrio

from fibreplan._errors import InputValidationError
from fibreplan.figures import save_plan_figure
from fibreplan.layers import map_layers
from fibreplan.layers import plan_layers
from fibreplan.styles import write_layer_styles

if TYPE_CHECKING:
    from fibreplan.plan import Plan

__all__ = [
    "FILES",
    "check_writable",
    "save_plan",
    "write_gpkg",
    "write_map",
    "write_quality",
    "write_summary",
]

logger = logging.getLogger(__name__)

#: Files a saved plan holds, by key.
FILES = {
    "summary": "summary.json",
    "gpkg": "plan.gpkg",
    "map": "map.html",
    "figure": "plan.png",
    "quality": "quality.json",
    # the bid files (fibreplan.bid)
    "boq": "boq.csv",
    "xlsx": "bid.xlsx",
    "costs_png": "costs.png",
    "quantities": "quantities.json",
    # the subsidy and phasing files, written when the plan has a bid (fibreplan.subsidy)
    "frontier_csv": "frontier.csv",
    "frontier_png": "frontier.png",
    "phases_csv": "phases.csv",
}
#: Keys of :data:`FILES` written only for a plan with a bid (``plan.bid``).
BID_FILES = frozenset({"frontier_csv", "frontier_png", "phases_csv"})


def check_writable(paths: list[Path], *, overwrite: bool) -> None:
    """Refuse to replace existing files unless ``overwrite`` is true.

    Parameters
    ----------
    paths : list of pathlib.Path
        Files about to be written.
    overwrite : bool
        Whether replacing them is allowed.

    Raises
    ------
    InputValidationError
        If a file exists and ``overwrite`` is false, or a file stands where a
        folder on the way to one of them must be.
    """
    for path in paths:
        blocked = next((a for a in path.parents if a.exists() and not a.is_dir()), None)
        if blocked is not None or path.is_dir():
            where = blocked if blocked is not None else path
            kind = "a file" if blocked is not None else "a folder"
            msg = f"cannot write '{path}': '{where}' is {kind}; choose another output location."
            raise InputValidationError(msg)
    existing = [str(p) for p in paths if p.exists()]
    if existing and not overwrite:
        msg = (
            f"refusing to overwrite existing files {existing}; choose another output folder "
            "or pass overwrite=True (CLI: --overwrite)."
        )
        raise InputValidationError(msg)


@contextlib.contextmanager
def _gdal_config(**options: str) -> Iterator[None]:
    """Set GDAL configuration options for the duration of a block, then restore them."""
    before = {key: pyogrio.get_gdal_config_option(key) for key in options}
    pyogrio.set_gdal_config_options(options)
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options(before)


def write_gpkg(
    layers: Mapping[str, gpd.GeoDataFrame], path: str | Path, *, overwrite: bool = False
) -> Path:
    """Write each layer to one GeoPackage, one table per layer.

    Parameters
    ----------
    layers : Mapping of str to geopandas.GeoDataFrame
        Layer name to data (empty layers are written too, with their schema).
    path : str or pathlib.Path
        GeoPackage file to create.
    overwrite : bool, default False
        Whether an existing file may be replaced.

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    InputValidationError
        If the file exists and ``overwrite`` is false.

    Notes
    -----
    SQLite does not wait for the disk after each layer while writing
    (``OGR_SQLITE_SYNCHRONOUS=OFF``): twice as fast, and a file left
    half-written by a crash would be incomplete either way.
    """
    path = Path(path)
    check_writable([path], overwrite=overwrite)
    if path.exists():
        path.unlink()
    path.parent.mkdir(parents=True, exist_ok=True)
    with _gdal_config(OGR_SQLITE_SYNCHRONOUS="OFF"):
        for name, gdf in layers.items():
            out = gdf.copy()
            for col in out.columns:
                if out[col].dtype == object and col != out.geometry.name:
                    out[col] = out[col].astype("string")
            pyogrio.write_dataframe(out, path, layer=name, driver="GPKG", append=path.exists())
    logger.info("wrote %s (%s)", path, ", ".join(f"{k}: {len(v)}" for k, v in layers.items()))
    return path


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return None if np.isnan(value) else float(value)
    if isinstance(value, float) and np.isnan(value):
        return None
    return value


def write_summary(summary: Mapping[str, Any], path: str | Path, *, overwrite: bool = False) -> Path:
    """Write the plan summary as pretty-printed JSON (NaN becomes ``null``).

    Parameters
    ----------
    summary : Mapping
        The plan's summary (:attr:`fibreplan.Plan.summary`).
    path : str or pathlib.Path
        File to create.
    overwrite : bool, default False
        Whether an existing file may be replaced.

    Returns
    -------
    pathlib.Path
        The file written.
    """
    return _write_json(summary, path, overwrite=overwrite)


def write_quality(report: Mapping[str, Any], path: str | Path, *, overwrite: bool = False) -> Path:
    """Write the data-quality report as pretty-printed JSON (``quality.json``).

    Parameters
    ----------
    report : Mapping
        The report (:attr:`fibreplan.Plan.quality` or
        :func:`fibreplan.quality.input_quality`).
    path : str or pathlib.Path
        File to create.
    overwrite : bool, default False
        Whether an existing file may be replaced.

    Returns
    -------
    pathlib.Path
        The file written.
    """
    return _write_json(report, path, overwrite=overwrite)


def _write_json(data: Mapping[str, Any], path: str | Path, *, overwrite: bool) -> Path:
    path = Path(path)
    check_writable([path], overwrite=overwrite)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(_jsonable(dict(data)), indent=2) + "\n", encoding="utf-8")
    return path


def map_title(summary: Mapping[str, Any]) -> str:
    """Return the map's title from a plan summary: premises, km of trench, GBP per premises.

    Parameters
    ----------
    summary : Mapping
        The plan's summary (:attr:`fibreplan.Plan.summary`).

    Returns
    -------
    str
        E.g. ``"fibreplan: 1130 premises, 13.31 km trench, £1,690 per premises passed"``.
    """
    per = summary["cost_per_premises_passed_gbp"] or 0
    return (
        f"fibreplan: {summary['premises_connected']} premises, "
        f"{summary['trench_m'] / 1000:.2f} km trench, £{per:,.0f} per premises passed"
    )


def write_map(
    layers: Mapping[str, gpd.GeoDataFrame],
    path: str | Path,
    *,
    title: str,
    overwrite: bool = False,
    basemap: bool = True,
    summary: Mapping[str, Any] | None = None,
) -> Path:
    """Write an interactive HTML map of the layers that works offline.

    Parameters
    ----------
    layers : Mapping of str to geopandas.GeoDataFrame
        The plan's layers (see :func:`fibreplan.layers.plan_layers`).
    path : str or pathlib.Path
        File to create.
    title : str
        Page title and legend heading (see :func:`map_title`).
    overwrite : bool, default False
        Whether an existing file may be replaced.
    basemap : bool, default True
        Whether to add OpenStreetMap tiles (shown only when online).
    summary : Mapping, optional
        The plan's summary: the legend then explains its crossing and
        optical-budget counts (see :func:`fibreplan.maps.plan_map`).

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    InputValidationError
        If the file exists and ``overwrite`` is false.
    """
    from fibreplan.maps import plan_map
    from fibreplan.maps import save_map

    path = Path(path)
    check_writable([path], overwrite=overwrite)
    path.parent.mkdir(parents=True, exist_ok=True)
    return save_map(plan_map(layers, title=title, basemap=basemap, summary=summary), path)


def save_plan(
    plan: Plan, out_dir: str | Path, *, overwrite: bool = False, basemap: bool = True
) -> dict[str, Path]:
    """Write a plan's ``summary.json``, ``plan.gpkg``, ``map.html`` and ``quality.json``.

    The layers are built once for both the GeoPackage and the map.

    Parameters
    ----------
    plan : Plan
        The plan (see :func:`fibreplan.plan`).
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
        Paths by key of :data:`FILES` (``summary``, ``gpkg``, ``map``, ``quality``).

    Raises
    ------
    InputValidationError
        If a file exists and ``overwrite`` is false.

    Notes
    -----
    The files are written atomically: built in a hidden temporary folder
    beside ``out_dir`` (same file system), then each moved into place with
    ``os.replace``; on any error the temporary folder is removed and
    ``out_dir`` is left as it was.

    ``summary.json`` is :attr:`fibreplan.Plan.summary` with the seconds spent
    building the layers and writing the GeoPackage and the map added to its
    ``seconds`` (keys ``layers``, ``gpkg``, ``map``, ``figure``). ``plan.gpkg`` holds a
    default QGIS style per layer (:func:`fibreplan.styles.write_layer_styles`); ``plan.png``
    is :func:`fibreplan.figures.plan_figure`.
    """
    out = Path(out_dir)
    paths = {
        key: out / name
        for key, name in FILES.items()
        if plan.bid is not None or key not in BID_FILES
    }
    check_writable(list(paths.values()), overwrite=overwrite)
    with _staging(out) as tmp:
        _write_plan_files(plan, {key: tmp / p.name for key, p in paths.items()}, basemap=basemap)
        _move_into_place(tmp, out, list(paths.values()))
    logger.info("plan saved to %s", out)
    return paths


@contextlib.contextmanager
def _staging(out: Path) -> Iterator[Path]:
    """Yield a temporary folder beside ``out`` (same file system); remove it afterwards."""
    parent = out.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.fibreplan-", dir=parent))
    except (FileExistsError, NotADirectoryError) as err:
        msg = f"output folder '{out}': '{parent}' is not a folder; choose another --out."
        raise InputValidationError(msg) from err
    except PermissionError as err:
        msg = f"output folder '{out}': cannot write in '{parent}' ({err.strerror}); choose another."
        raise InputValidationError(msg) from err
    try:
        folder = tmp / out.name  # made by mkdir, so it gets the usual permissions
        folder.mkdir()
        yield folder
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _write_plan_files(plan: Plan, paths: dict[str, Path], *, basemap: bool) -> None:
    """Build the layers once and write every file of :data:`FILES` to ``paths``."""
    from fibreplan.bid import write_bid_files
    from fibreplan.bid import write_config_tables
    from fibreplan.subsidy import write_bid_outputs

    seconds: dict[str, float] = {}
    t0 = time.perf_counter()
    layers = plan_layers(plan)
    seconds["layers"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    with _gdal_config(OGR_SQLITE_SYNCHRONOUS="OFF"):  # the tables too: 0.2 s less waiting
        write_gpkg(layers, paths["gpkg"])
        write_config_tables(plan, paths["gpkg"])
    write_layer_styles(paths["gpkg"])
    seconds["gpkg"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    summary = plan.summary
    drawn = map_layers(plan, layers=layers)
    write_map(drawn, paths["map"], title=map_title(summary), basemap=basemap, summary=summary)
    seconds["map"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    save_plan_figure(drawn, paths["figure"], title=map_title(summary))
    seconds["figure"] = time.perf_counter() - t0
    write_quality(plan.quality, paths["quality"])
    t0 = time.perf_counter()
    write_bid_files(plan, paths)
    write_bid_outputs(plan, paths)  # frontier and phases (plans with a bid only)
    seconds["bid"] = time.perf_counter() - t0
    timed = {**summary["seconds"], **{k: round(v, 3) for k, v in seconds.items()}}
    write_summary({**summary, "seconds": timed}, paths["summary"])


def _move_into_place(tmp: Path, out: Path, targets: list[Path]) -> None:
    """Move the files built in ``tmp`` to ``targets`` in ``out`` (``os.replace``: atomic each)."""
    if out.exists() and not out.is_dir():
        msg = f"output folder '{out}' is a file; choose another --out."
        raise InputValidationError(msg)
    if not out.exists():
        tmp.rename(out)  # one atomic step: the whole folder appears at once
        return
    for target in targets:
        (tmp / target.name).replace(target)
