"""Addresses in buildings: group premises points (UPRNs) by the building footprint they lie in.

A premises is an address. Where several address points lie inside one
building footprint they share one drop and lead-in, and the building gets
in-building wiring for each unit (see :func:`fibreplan.cost.network_quantities`).
:func:`assign_buildings` gives each premises the ``building_id`` of its
footprint (one bulk spatial-index query); :func:`load_footprints` reads
footprints from an OSM XML file or a polygon layer.
"""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from fibreplan._errors import InputValidationError

__all__ = ["assign_buildings", "load_footprints", "with_buildings"]

logger = logging.getLogger(__name__)


def load_footprints(source: str | Path | gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Read building footprints (polygons) with a ``building_id``.

    Parameters
    ----------
    source : str, pathlib.Path or geopandas.GeoDataFrame
        An OSM XML file (``.osm``, ``.osm.bz2``: its ``building`` ways and
        relations; ``building_id`` is ``way/123``) or a vector file of
        polygons with a CRS (``building_id`` from a ``building_id``, ``uprn``
        or ``id`` column, else the row number).

    Returns
    -------
    geopandas.GeoDataFrame
        Polygons with ``building_id`` (str).

    Raises
    ------
    InputValidationError
        If the file is missing, has no CRS or no polygons.
    """
    if isinstance(source, gpd.GeoDataFrame):
        gdf = source
    else:
        path = Path(source)
        if not path.is_file():
            msg = f"--buildings: no such file '{path}'."
            raise InputValidationError(msg)
        if path.name.endswith((".osm", ".osm.bz2", ".xml")):
            import osmnx as ox

            gdf = ox.features_from_xml(path, tags={"building": True}).reset_index()
            gdf["building_id"] = gdf["element"].astype(str) + "/" + gdf["id"].astype(str)
        else:
            gdf = gpd.read_file(path, engine="pyogrio")
    if gdf.crs is None:
        msg = "--buildings: the footprints have no CRS; save them with one."
        raise InputValidationError(msg)
    gdf = gdf[gdf.geom_type.isin(["Polygon", "MultiPolygon"])].copy()
    if gdf.empty:
        msg = "--buildings: no building polygons found."
        raise InputValidationError(msg)
    if "building_id" not in gdf:
        col = next((c for c in ("uprn", "id") if c in gdf), None)
        gdf["building_id"] = gdf[col] if col else np.arange(len(gdf))
    gdf["building_id"] = gdf["building_id"].astype(str)
    return gdf[["building_id", "geometry"]].reset_index(drop=True)


def assign_buildings(premises: gpd.GeoDataFrame, footprints: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return the premises with the ``building_id`` of the footprint each lies in.

    Parameters
    ----------
    premises : geopandas.GeoDataFrame
        Premises points (any CRS).
    footprints : geopandas.GeoDataFrame
        Building polygons with ``building_id`` (see :func:`load_footprints`).

    Returns
    -------
    geopandas.GeoDataFrame
        A copy of ``premises`` with ``building_id`` (missing where a point
        lies in no footprint: that premises is a building of its own); a
        point inside overlapping footprints takes the first.

    Examples
    --------
    >>> import shapely
    >>> f = gpd.GeoDataFrame({"building_id": ["b"]}, geometry=[shapely.box(0, 0, 10, 10)],
    ...                      crs=27700)
    >>> p = gpd.GeoDataFrame(geometry=gpd.points_from_xy([1, 2, 50], [1, 2, 50]), crs=27700)
    >>> assign_buildings(p, f)["building_id"].tolist()
    ['b', 'b', <NA>]
    """
    fp = footprints.to_crs(premises.crs)
    pi, fi = fp.sindex.query(premises.geometry.to_numpy(), predicate="within")
    first = pd.Series(fi, index=pi).groupby(level=0).first()
    ids = pd.array([pd.NA] * len(premises), dtype="string")
    ids[first.index.to_numpy()] = fp["building_id"].to_numpy()[first.to_numpy()]
    out = premises.copy()
    out["building_id"] = ids
    shared = out["building_id"].dropna().value_counts()
    logger.info(
        "addresses: %d of %d premises inside %d footprints, %d buildings hold more than one",
        first.size, len(premises), shared.size, int((shared > 1).sum()),
    )  # fmt: skip
    return out


def with_buildings(
    premises: str | Path | gpd.GeoDataFrame, buildings: str | Path | None
) -> str | Path | gpd.GeoDataFrame:
    """Return ``premises`` unchanged, or loaded and given ``building_id`` from ``buildings``.

    Parameters
    ----------
    premises : str, pathlib.Path or geopandas.GeoDataFrame
        The premises input of :func:`fibreplan.plan`.
    buildings : str, pathlib.Path or None
        Footprints (see :func:`load_footprints`); None: nothing to do.

    Returns
    -------
    str, pathlib.Path or geopandas.GeoDataFrame
        The input, or the loaded premises with ``building_id``.
    """
    if buildings is None:
        return premises
    from fibreplan.load import load_premises

    return assign_buildings(load_premises(premises), load_footprints(buildings))
