"""Read streets and buildings from an OpenStreetMap PBF file (``.osm.pbf``).

The reader uses pyosmium (libosmium), chosen by measurement against pyrosm and
QuackOSM (``benchmarks/pbf_readers.py``, results in ``benchmarks/results``): on
the Rutland county extract it is as fast as pyrosm (0.3 s) and about 30 times
faster than QuackOSM, and it hands over each way's node ids, so streets are
split at junctions exactly (at the OSM nodes two kept ways share), as osmnx
splits OSM XML, with no geometric tolerance. pyrosm splits its network at every
node (four times as many edges to merge back) and its default engine fails
once geoarrow-pyarrow is installed; QuackOSM gives whole ways and needs DuckDB's
spatial extension from the network.

:func:`read_pbf` returns two GeoDataFrames in EPSG:4326 with the shape the
OSM XML path has before its metric conversion: street lines with ``osmid``
and the requested way tags, and buildings with ``element``, ``id`` and the
requested tags (as ``osmnx.features_from_xml`` gives them), so the same
downstream code (:func:`fibreplan.load.premises_from_buildings`, the
GeoDataFrame branch of :func:`fibreplan.load.load_streets`) turns them into
metric streets and premises.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path

import geopandas as gpd
import numpy as np
import osmium
import pandas as pd
import shapely

from fibreplan._errors import InputValidationError
from fibreplan._noding import split_at_shared_vertices

__all__ = ["read_pbf"]

logger = logging.getLogger(__name__)

_WGS84 = "EPSG:4326"


@dataclass
class _Ways:
    """Highway ways as flat arrays: one row per way node, grouped by way."""

    way_ids: list[int] = field(default_factory=list)
    tags: list[dict[str, str]] = field(default_factory=list)
    node_refs: list[int] = field(default_factory=list)
    lon: list[float] = field(default_factory=list)
    lat: list[float] = field(default_factory=list)
    n_nodes: list[int] = field(default_factory=list)
    n_missing_nodes: int = 0


@dataclass
class _Buildings:
    wkb: list[str] = field(default_factory=list)  # hex WKB, as libosmium writes it
    element: list[str] = field(default_factory=list)
    osm_id: list[int] = field(default_factory=list)
    tags: list[dict[str, str]] = field(default_factory=list)


def _keep_tags(tags: osmium.osm.TagList, keys: Collection[str] | None) -> dict[str, str]:
    """Return the tags whose key is in ``keys`` (every tag if None)."""
    if keys is None:
        return {t.k: t.v for t in tags}
    return {t.k: t.v for t in tags if t.k in keys}


def _add_way(ways: _Ways, w: osmium.osm.Way, street_tags: Collection[str] | None) -> None:
    refs, lons, lats = [], [], []
    for n in w.nodes:
        if n.location.valid():
            refs.append(n.ref)
            lons.append(n.lon)
            lats.append(n.lat)
        else:
            ways.n_missing_nodes += 1
    if len(refs) < 2:
        return
    ways.way_ids.append(w.id)
    ways.tags.append(_keep_tags(w.tags, street_tags))
    ways.node_refs.extend(refs)
    ways.lon.extend(lons)
    ways.lat.extend(lats)
    ways.n_nodes.append(len(refs))


def _scan(
    path: Path,
    *,
    street_tags: Collection[str] | None,
    building_tags: Collection[str] | None,
    exclude_highway: Collection[str],
) -> tuple[_Ways, _Buildings]:
    """Read highway ways (with node ids and locations) and building areas/nodes in one pass."""
    wkb = osmium.geom.WKBFactory()
    ways, buildings = _Ways(), _Buildings()
    fp = (
        osmium.FileProcessor(str(path))
        .with_areas(osmium.filter.KeyFilter("building"))
        .with_filter(osmium.filter.KeyFilter("highway", "building"))
    )
    for obj in fp:
        if isinstance(obj, osmium.osm.Way):
            highway = obj.tags.get("highway")
            if highway is not None and highway not in exclude_highway:
                _add_way(ways, obj, street_tags)
        elif isinstance(obj, osmium.osm.Area | osmium.osm.Node) and "building" in obj.tags:
            try:
                if isinstance(obj, osmium.osm.Area):
                    geom = wkb.create_multipolygon(obj)
                    element, osm_id = ("way" if obj.from_way() else "relation"), obj.orig_id()
                else:
                    geom, element, osm_id = wkb.create_point(obj), "node", obj.id
            except RuntimeError:  # an unclosed ring or a node without location
                logger.warning("PBF: building %s has no valid geometry; left out", obj)
                continue
            buildings.wkb.append(geom)
            buildings.element.append(element)
            buildings.osm_id.append(osm_id)
            buildings.tags.append(_keep_tags(obj.tags, building_tags))
    return ways, buildings


def _tags_frame(
    rows: Iterable[dict[str, str]], index: pd.Index, keys: Iterable[str] | None
) -> pd.DataFrame:
    """One text column per key (every key present if ``keys`` is None), NA where untagged."""
    df = pd.DataFrame.from_records(list(rows), index=index)
    for k in keys or ():
        if k not in df:
            df[k] = pd.Series(pd.NA, index=index, dtype="string")
    return df.astype("string")


def read_pbf(
    path: str | Path,
    *,
    street_tags: Collection[str] | None = None,
    building_tags: Collection[str] | None = None,
    exclude_highway: Collection[str] = (),
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Read highway ways split at junctions, and buildings, from an ``.osm.pbf`` file.

    Parameters
    ----------
    path : str or pathlib.Path
        An OSM PBF file, e.g. a Geofabrik or BBBike extract.
    street_tags : collection of str, optional
        Way tags to keep on the street lines (each becomes a column, NA where
        a way lacks it); default every tag any highway way has.
    building_tags : collection of str, optional
        Tags to keep on buildings, likewise; default every tag, as
        ``osmnx.features_from_xml`` keeps them.
    exclude_highway : collection of str, default none
        ``highway`` values whose ways are left out (e.g. motorways, steps).

    Returns
    -------
    gdf_streets : geopandas.GeoDataFrame
        EPSG:4326 LineStrings, one per stretch of a highway way between
        junctions (nodes shared with another kept way), with ``osmid`` (the
        way id, as text) and one text column per street tag.
    gdf_buildings : geopandas.GeoDataFrame
        EPSG:4326 (Multi)Polygons of building ways and multipolygon relations,
        and Points of building nodes, with ``element`` (``way``, ``relation``
        or ``node``), ``id`` and one text column per building tag, as
        ``osmnx.features_from_xml`` gives them.

    Raises
    ------
    InputValidationError
        If the file is missing or is not a readable OSM PBF file.

    Notes
    -----
    Node locations are held in memory (libosmium's ``flex_mem`` index), which
    suits county extracts; the whole Rutland county (1.2 MB, 114k nodes) reads
    in well under a second. Way vertices whose node is missing from the
    extract are skipped and counted in the log.
    """
    p = Path(path)
    if not p.is_file():
        msg = f"no such file '{p}'. Check the path (relative paths are from {Path.cwd()})."
        raise InputValidationError(msg)
    try:
        ways, buildings = _scan(
            p,
            street_tags=None if street_tags is None else frozenset(street_tags),
            building_tags=None if building_tags is None else frozenset(building_tags),
            exclude_highway=frozenset(exclude_highway),
        )
    except RuntimeError as err:  # libosmium: bad header, bad blob, ...
        msg = f"could not read '{p}' as an OSM PBF file: {err}"
        raise InputValidationError(msg) from err
    if ways.n_missing_nodes:
        logger.warning(
            "PBF %s: %d way vertices refer to nodes missing from the extract; skipped",
            p.name, ways.n_missing_nodes,
        )  # fmt: skip
    gdf_streets = _streets_frame(ways, street_tags)
    gdf_buildings = _buildings_frame(buildings, building_tags)
    logger.info(
        "PBF %s: %d highway ways -> %d street lines; %d buildings",
        p.name, len(ways.way_ids), len(gdf_streets), len(gdf_buildings),
    )  # fmt: skip
    return gdf_streets, gdf_buildings


def _streets_frame(ways: _Ways, keys: Collection[str] | None) -> gpd.GeoDataFrame:
    n_nodes = np.asarray(ways.n_nodes, dtype=np.int64)
    lines, way_index, _ = split_at_shared_vertices(
        np.asarray(ways.node_refs, dtype=np.int64),
        np.column_stack([np.asarray(ways.lon), np.asarray(ways.lat)]).reshape(-1, 2),
        n_nodes,
    )
    index = pd.RangeIndex(len(lines))
    tags = _tags_frame((ways.tags[i] for i in way_index), index, keys)
    tags = tags.drop(columns=["osmid", "geometry"], errors="ignore")
    osmid = pd.Series(np.asarray(ways.way_ids, dtype=np.int64)[way_index], index=index)
    tags.insert(0, "osmid", osmid.astype(str).astype("string"))
    return gpd.GeoDataFrame(tags, geometry=lines, crs=_WGS84)


def _buildings_frame(b: _Buildings, keys: Collection[str] | None) -> gpd.GeoDataFrame:
    index = pd.RangeIndex(len(b.wkb))
    tags = _tags_frame(b.tags, index, keys).drop(
        columns=["element", "id", "geometry"], errors="ignore"
    )
    tags.insert(0, "id", np.asarray(b.osm_id, dtype=np.int64))
    tags.insert(0, "element", pd.Series(b.element, index=index, dtype=object))
    geom = shapely.from_wkb(np.asarray(b.wkb, dtype=object)) if b.wkb else np.array([])
    # one-part multipolygons as plain polygons, as osmnx gives closed building ways
    single = (shapely.get_type_id(geom) == shapely.GeometryType.MULTIPOLYGON) & (
        shapely.get_num_geometries(geom) == 1
    )
    geom[single] = shapely.get_geometry(geom[single], 0)
    return gpd.GeoDataFrame(tags, geometry=geom, crs=_WGS84)
