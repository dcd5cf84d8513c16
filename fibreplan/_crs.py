"""Choose and check coordinate reference systems.

fibreplan computes in a projected, metric CRS: the British National Grid
(EPSG:27700) for data inside Great Britain, else the local UTM zone. WGS84
(EPSG:4326) is used only to read lon/lat input and to draw maps.
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pyproj

from fibreplan._errors import CRSError

__all__ = ["BNG", "WGS84", "choose_metric_crs", "require_metric", "to_crs"]

logger = logging.getLogger(__name__)

BNG = "EPSG:27700"
WGS84 = "EPSG:4326"

# Great Britain's extent in lon/lat (OS: the National Grid's area of use), degrees.
# source: EPSG registry, area of use of EPSG:27700
# ("UK - Britain and UKCS 49.75N to 61.01N, 9.01W to 2.01E")
_GB_BOUNDS = (-9.01, 49.75, 2.01, 61.01)


def choose_metric_crs(gdf: gpd.GeoDataFrame | gpd.GeoSeries) -> pyproj.CRS:
    """Return EPSG:27700 when ``gdf`` lies inside Great Britain, else its local UTM zone.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame or geopandas.GeoSeries
        Data with a CRS set (any CRS).

    Returns
    -------
    pyproj.CRS
        The projected CRS to compute in (units: metres).

    Raises
    ------
    CRSError
        If ``gdf`` has no CRS or no valid geometry to locate it.
    """
    if gdf.crs is None:
        msg = "input has no CRS; set one with gdf.set_crs('EPSG:4326') (lon/lat) or 'EPSG:27700'."
        raise CRSError(msg)
    geo = gdf.geometry if isinstance(gdf, gpd.GeoDataFrame) else gdf
    geo = geo[~(geo.is_empty | geo.isna())]
    if geo.empty:
        msg = "cannot choose a CRS: the input has no non-empty geometry."
        raise CRSError(msg)
    minx, miny, maxx, maxy = geo.to_crs(WGS84).total_bounds
    west, south, east, north = _GB_BOUNDS
    if minx >= west and maxx <= east and miny >= south and maxy <= north:
        return pyproj.CRS.from_user_input(BNG)
    utm = geo.estimate_utm_crs()
    logger.info("data lies outside Great Britain: computing in %s", utm.name)
    return utm


def require_metric(gdf: gpd.GeoDataFrame | gpd.GeoSeries, *, name: str) -> None:
    """Raise unless ``gdf`` has a projected CRS in metres.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame or geopandas.GeoSeries
        Data to check.
    name : str
        Argument name used in the error message.

    Raises
    ------
    CRSError
        If the CRS is missing, geographic, or not in metres.
    """
    crs = gdf.crs
    if crs is None:
        msg = f"{name} has no CRS; set it with {name}.set_crs(...) before planning."
        raise CRSError(msg)
    if crs.is_geographic:
        msg = (
            f"{name} is in a geographic CRS ({crs.to_string()}): lengths would be in degrees. "
            f"Reproject first, e.g. {name}.to_crs('EPSG:27700'), or let fibreplan.load_* do it."
        )
        raise CRSError(msg)
    unit = crs.axis_info[0].unit_name if crs.axis_info else "unknown"
    if unit not in {"metre", "meter", "m"}:
        msg = f"{name} CRS {crs.to_string()} has units '{unit}'; fibreplan needs metres."
        raise CRSError(msg)


def _check_degrees(gdf: gpd.GeoDataFrame, *, name: str) -> None:
    """Refuse coordinates beyond +-180/+-90 in a CRS that says they are degrees."""
    if not gdf.crs.is_geographic:
        return
    b = gdf.geometry[~(gdf.geometry.is_empty | gdf.geometry.isna())].total_bounds
    if np.isfinite(b).all() and (np.abs(b[[0, 2]]).max() > 180 or np.abs(b[[1, 3]]).max() > 90):
        bng = b[0] >= 0 and b[1] >= 0 and b[2] <= 700_000 and b[3] <= 1_300_000
        guess = " they look like British National Grid metres (EPSG:27700)," if bng else ""
        msg = (
            f"{name}: coordinates reach x {b[2]:,.0f}, y {b[3]:,.0f}, but its CRS "
            f"{gdf.crs.to_string()} is in degrees (x within +-180, y within +-90);{guess} "
            "label the file with its real CRS (e.g. ogr2ogr -a_srs EPSG:27700 out.gpkg in.geojson)."
        )
        raise CRSError(msg)


def to_crs(gdf: gpd.GeoDataFrame, crs: pyproj.CRS | str, *, name: str) -> gpd.GeoDataFrame:
    """Reproject ``gdf`` to ``crs`` when it differs, logging the change.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        Data with a CRS.
    crs : pyproj.CRS or str
        Target CRS.
    name : str
        Argument name used in messages.

    Returns
    -------
    geopandas.GeoDataFrame
        ``gdf`` itself when already in ``crs``, else a reprojected copy.

    Raises
    ------
    CRSError
        If ``gdf`` has no CRS.
    """
    if gdf.crs is None:
        msg = f"{name} has no CRS; set it with {name}.set_crs(...) (e.g. 'EPSG:4326' for lon/lat)."
        raise CRSError(msg)
    target = pyproj.CRS.from_user_input(crs)
    if gdf.crs.equals(target):
        return gdf
    _check_degrees(gdf, name=name)
    logger.info("reprojecting %s from %s to %s", name, gdf.crs.to_string(), target.to_string())
    out = gdf.to_crs(target)
    if not np.all(
        np.isfinite(out.geometry.bounds.to_numpy()[~(out.geometry.is_empty | out.geometry.isna())])
    ):
        msg = f"{name} could not be reprojected to {target.to_string()}: coordinates out of range."
        raise CRSError(msg)
    return out
