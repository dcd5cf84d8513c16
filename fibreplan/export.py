"""Outputs — write a plan's files: ``summary.json``, ``plan.gpkg`` and ``map.html``.

The file names, GeoPackage layer names and ``summary.json`` keys are a
contract (see the README's "Output contract"): later versions add to them and
never rename or remove one.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pyogrio

from fibreplan._errors import InputValidationError

__all__ = ["FILES", "check_writable", "write_gpkg", "write_summary"]

logger = logging.getLogger(__name__)

#: Files a saved plan holds, by key.
FILES = {"summary": "summary.json", "gpkg": "plan.gpkg", "map": "map.html"}


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
        If a file exists and ``overwrite`` is false.
    """
    existing = [str(p) for p in paths if p.exists()]
    if existing and not overwrite:
        msg = (
            f"refusing to overwrite existing files {existing}; choose another output folder "
            "or pass overwrite=True (CLI: --overwrite)."
        )
        raise InputValidationError(msg)


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
    """
    path = Path(path)
    check_writable([path], overwrite=overwrite)
    if path.exists():
        path.unlink()
    path.parent.mkdir(parents=True, exist_ok=True)
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
    path = Path(path)
    check_writable([path], overwrite=overwrite)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(_jsonable(dict(summary)), indent=2) + "\n", encoding="utf-8")
    return path
