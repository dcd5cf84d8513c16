"""Stage 1 — load streets and premises into one projected, metric CRS.

Takes OSM XML and PBF files, GeoPackage/GeoJSON/CSV files, PostGIS tables
(``postgresql://user@host/db#schema.table``), osmnx graphs or GeoDataFrames;
gives two GeoDataFrames:

* ``gdf_streets`` — LineStrings with ``street_id``, ``highway``, ``name``,
  ``surface``, ``sidewalk``, ``footway``, ``lanes``, ``osmid`` and ``length_m``.
* ``gdf_premises`` — Points with ``premises_id``, ``class`` (residential,
  business, public), ``units`` (dwellings or businesses at the point) and
  ``source``.

Both share one CRS: EPSG:27700 inside Great Britain, else the local UTM zone.
Each file is read once, by the reader for its format (the ``_READERS`` table,
keyed by file-name ending); :func:`load_inputs` reads an OSM XML file given as
both streets and premises once. OSM ways (XML and PBF) are split at the nodes
they share; street lines from GDAL files and PostGIS tables, often one line per
way or per street running through junctions, are noded
(:func:`fibreplan._noding.node_lines`: split at shared vertices, touching ends
and crossings at grade) and the counts logged.
Nothing is dropped silently: rows with empty or invalid geometry are kept and
flagged by the trench stage.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from collections.abc import Callable
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any
from typing import NamedTuple

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pyogrio
import pyproj
import shapely

from fibreplan._crs import BNG
from fibreplan._crs import WGS84
from fibreplan._crs import choose_metric_crs
from fibreplan._crs import to_crs
from fibreplan._errors import CRSError
from fibreplan._errors import FibreplanError
from fibreplan._errors import InputValidationError
from fibreplan._noding import node_lines
from fibreplan._pbf import read_pbf
from fibreplan.postgis import is_postgis_url
from fibreplan.postgis import read_postgis

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = [
    "DEMO_PLACE",
    "FETCH_FILES",
    "CsvColumns",
    "clip_to_aoi",
    "demo_data",
    "demo_path",
    "fetch_files",
    "fetch_osm",
    "load_aoi",
    "load_headends",
    "load_inputs",
    "load_osm",
    "load_premises",
    "load_streets",
    "premises_from_buildings",
    "streets_from_graph",
]

logger = logging.getLogger(__name__)

#: Human-readable name of the embedded default study area.
DEMO_PLACE = "Fitzrovia, London W1 (City of Westminster / Camden)"
_DEMO_FILES = {"default": "fitzrovia_london.osm", "tiny": "fitzrovia_london_tiny.osm"}

#: OSM way tags kept on street edges (osmnx drops the others when it reads XML).
_STREET_TAGS = ("highway", "name", "surface", "sidewalk", "footway", "lanes", "service", "area")

#: Highway values never trenched: not built, not ours to dig, or not ground.
_NOT_TRENCHABLE = frozenset(
    {
        "motorway", "motorway_link", "proposed", "construction", "abandoned", "disused",
        "platform", "raceway", "bus_guideway", "elevator", "corridor", "steps", "escape",
        "razed", "via_ferrata", "busway",
    }
)  # fmt: skip

#: Building values that are not premises (no one lives or works there).
_NOT_PREMISES = frozenset(
    {
        "garage", "garages", "shed", "roof", "carport", "hut", "ruins", "construction",
        "bunker", "cabin", "greenhouse", "kiosk", "toilets", "transformer_tower",
        "service", "bridge", "storage_tank", "silo", "tent", "container",
    }
)  # fmt: skip

#: Tags that mark a public building (the LFFN anchor-tenant candidates).
_PUBLIC_AMENITY = frozenset(
    {
        "school", "library", "hospital", "townhall", "community_centre", "fire_station",
        "police", "clinic", "doctors", "university", "college", "kindergarten",
        "social_facility", "courthouse", "post_office", "public_building", "dentist",
        "arts_centre", "prison",
    }
)  # fmt: skip
_PUBLIC_BUILDING = frozenset(
    {"school", "hospital", "civic", "public", "government", "university", "college",
     "kindergarten", "fire_station", "library", "townhall"}
)  # fmt: skip
_BUSINESS_BUILDING = frozenset(
    {"commercial", "retail", "office", "industrial", "hotel", "warehouse", "supermarket",
     "shop", "manufacture", "kiosk"}
)  # fmt: skip

_LON_NAMES = ("lon", "longitude", "lng", "x_lon")
_LAT_NAMES = ("lat", "latitude", "y_lat")
_EAST_NAMES = ("easting", "x_coordinate")
_NORTH_NAMES = ("northing", "y_coordinate")
#: Coordinate headers that name no CRS: read only with an explicit ``--crs``.
_PLAIN_X, _PLAIN_Y = ("x",), ("y",)
_ID_NAMES = ("premises_id", "uprn", "id", "address_id", "osm_id")
_HEADEND_ID_NAMES = ("headend_id", "exchange_id", "site_id", "id", "name", "ref", "osm_id")


def demo_path(*, tiny: bool = False) -> Path:
    """Return the path of the embedded OSM extract (no network needed).

    Parameters
    ----------
    tiny : bool, default False
        Whether to return the two-block fixture instead of the default town.

    Returns
    -------
    pathlib.Path
        Path of an OSM XML file (© OpenStreetMap contributors, ODbL 1.0).
    """
    name = _DEMO_FILES["tiny" if tiny else "default"]
    return Path(str(resources.files("fibreplan._demo_data") / name))


def demo_data(*, tiny: bool = False) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Load the embedded study area: central London streets and buildings.

    Parameters
    ----------
    tiny : bool, default False
        Whether to load the two-block fixture (35 buildings) instead of the
        full extract (about 1,100 buildings).

    Returns
    -------
    gdf_streets, gdf_premises : geopandas.GeoDataFrame
        As :func:`load_osm` returns them, in EPSG:27700.

    Examples
    --------
    >>> streets, premises = demo_data(tiny=True)
    >>> streets.crs.to_epsg(), len(premises) > 20
    (27700, True)
    """
    return load_osm(demo_path(tiny=tiny))


@contextlib.contextmanager
def _osmnx_way_tags() -> Iterator[None]:
    """Temporarily make osmnx keep the street tags fibreplan needs."""
    import osmnx as ox

    saved = list(ox.settings.useful_tags_way)
    ox.settings.useful_tags_way = sorted(set(saved) | set(_STREET_TAGS))
    try:
        yield
    finally:
        ox.settings.useful_tags_way = saved


def load_osm(
    path: str | Path, *, crs: str | pyproj.CRS | None = None
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Read streets and building premises from an OSM XML file (``.osm`` or ``.osm.bz2``).

    Parameters
    ----------
    path : str or pathlib.Path
        OSM XML file, e.g. a JOSM or Overpass download.
    crs : str or pyproj.CRS, optional
        Projected CRS to compute in; default chosen from the data's location
        (EPSG:27700 in Great Britain, else the local UTM zone).

    Returns
    -------
    gdf_streets, gdf_premises : geopandas.GeoDataFrame
        See the module docstring for their columns.

    Raises
    ------
    InputValidationError
        If the file does not exist, is not OSM XML, or holds no streets.
    """
    content = _read_osm_xml(_existing_file(path, name="path"), name="path")
    gdf_streets = _streets_from(content, crs=crs)
    return gdf_streets, _premises_from(content, crs=gdf_streets.crs)


def _download(query: str | Sequence[float]) -> tuple[nx.MultiDiGraph, gpd.GeoDataFrame]:
    """Download the raw street graph and the buildings of a place or bbox with osmnx."""
    import osmnx as ox
    import requests

    if isinstance(query, str) and query.count(",") == 3:
        with contextlib.suppress(ValueError):  # else a place name with commas
            query = [float(v) for v in query.split(",")]
    if isinstance(query, str) and not query.strip():
        msg = "fetch: give a place name (e.g. 'Ketton, Rutland, UK') or a bbox."
        raise InputValidationError(msg)
    where: Any  # a place name or a (west, south, east, north) box
    graph: Callable[..., Any]
    features: Callable[..., Any]
    if isinstance(query, str):
        graph, features, where = ox.graph_from_place, ox.features_from_place, query
    else:
        box = _bbox_polygon(list(query), crs=WGS84)  # checks the order and ranges
        graph, features, where = ox.graph_from_bbox, ox.features_from_bbox, box.bounds
    no_data = ox._errors.InsufficientResponseError  # noqa: SLF001 - osmnx's "none found" error
    try:
        with _osmnx_way_tags():
            G = graph(where, network_type="all", simplify=False, retain_all=True)
    except (requests.RequestException, no_data, ValueError) as err:
        msg = (
            f"fetch: could not download the streets of {query!r} from OpenStreetMap ({err}); "
            "fetch needs internet and a place the geocoder knows (or a bbox)."
        )
        raise FibreplanError(msg) from err
    try:
        buildings = features(where, tags={"building": True})
    except no_data:
        buildings = gpd.GeoDataFrame(geometry=[], crs=WGS84)
    return G, buildings


def fetch_osm(
    query: str | Sequence[float], *, crs: str | pyproj.CRS | None = None
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Download streets and buildings from OpenStreetMap (needs internet).

    Parameters
    ----------
    query : str or sequence of float
        A place name for the Nominatim geocoder (``"Ketton, Rutland, UK"``)
        or a bounding box ``(west, south, east, north)`` in degrees (also as
        the text ``"west,south,east,north"``).
    crs : str or pyproj.CRS, optional
        Projected CRS; default chosen from the location.

    Returns
    -------
    gdf_streets, gdf_premises : geopandas.GeoDataFrame
        As :func:`load_osm` returns them. The conversion is the same code that
        reads local files (:func:`streets_from_graph`, :func:`premises_from_buildings`).
    """
    G, buildings = _download(query)
    gdf_streets = streets_from_graph(G, crs=crs, simplify=True)
    return gdf_streets, premises_from_buildings(buildings, crs=gdf_streets.crs)


#: Files written by :func:`fetch_files`, by key.
FETCH_FILES = {"streets": "streets.graphml", "premises": "premises.gpkg"}


def fetch_files(
    query: str | Sequence[float], out_dir: str | Path, *, overwrite: bool = False
) -> dict[str, Path]:
    """Download streets and buildings from OpenStreetMap and save them for ``plan``.

    Parameters
    ----------
    query : str or sequence of float
        A place name or a bbox ``(west, south, east, north)`` in degrees (see
        :func:`fetch_osm`).
    out_dir : str or pathlib.Path
        Folder to write into (created if needed).
    overwrite : bool, default False
        Whether existing files of these names may be replaced.

    Returns
    -------
    dict of str to pathlib.Path
        ``streets``: the raw street graph as osmnx GraphML (``streets.graphml``,
        read back by :func:`load_streets` exactly as the download would be);
        ``premises``: one point per building as :func:`premises_from_buildings`
        makes them (``premises.gpkg``), absent when the area has no buildings
        (a warning says so; give your own premises, e.g. OS Open UPRN).

    Raises
    ------
    InputValidationError
        If a file exists and ``overwrite`` is false, the bbox is malformed, or
        the area holds no trenchable street.
    """
    import osmnx as ox

    out = Path(out_dir)
    paths = {key: out / name for key, name in FETCH_FILES.items()}
    existing = [str(p) for p in paths.values() if p.exists()]
    if existing and not overwrite:
        msg = f"fetch: {existing[0]} exists; choose another folder or pass --overwrite."
        raise InputValidationError(msg)
    G, buildings = _download(query)
    gdf_streets = streets_from_graph(G)  # checks there are streets before writing anything
    premises = premises_from_buildings(buildings, crs=gdf_streets.crs)
    out.mkdir(parents=True, exist_ok=True)
    ox.save_graphml(G, paths["streets"])
    written = {"streets": paths["streets"]}
    if premises.empty:
        logger.warning("fetch: no buildings in %s; give premises of your own to plan", query)
        paths["premises"].unlink(missing_ok=True)
    else:
        premises.to_file(paths["premises"], layer="premises", engine="pyogrio")
        written["premises"] = paths["premises"]
    logger.info(
        "fetch: %.1f km of streets, %d premises written to %s",
        gdf_streets["length_m"].sum() / 1000, len(premises), out,
    )  # fmt: skip
    return written


def streets_from_graph(
    G: nx.MultiDiGraph | nx.MultiGraph,
    *,
    crs: str | pyproj.CRS | None = None,
    simplify: bool = True,
) -> gpd.GeoDataFrame:
    """Turn an osmnx street graph into trenchable street lines in a metric CRS.

    Keeps ways with a ``highway`` tag that can be dug (drops motorways, steps,
    proposed roads and, from XML, building outlines), merges the two directions
    of two-way streets and, if asked, simplifies to junction-to-junction edges.

    Parameters
    ----------
    G : networkx.MultiDiGraph or networkx.MultiGraph
        An osmnx graph (from ``graph_from_xml``, ``graph_from_place``, ...), in
        lon/lat or already projected.
    crs : str or pyproj.CRS, optional
        Projected CRS to compute in; default chosen from the location.
    simplify : bool, default True
        Whether to run ``osmnx.simplify_graph`` (skip it for graphs that are
        already simplified).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per street edge; see the module docstring for columns.

    Raises
    ------
    InputValidationError
        If no trenchable street remains.
    """
    import osmnx as ox

    G = G.copy()
    drop = [
        (u, v, k)
        for u, v, k, d in G.edges(keys=True, data=True)
        if "highway" not in d or _major_highway(d["highway"]) in _NOT_TRENCHABLE
    ]
    G.remove_edges_from(drop)
    G.remove_nodes_from(list(nx.isolates(G)))
    if G.number_of_edges() == 0:
        msg = "the street graph has no trenchable highway edges (is this an OSM street file?)."
        raise InputValidationError(msg)
    if simplify and not G.graph.get("simplified", False):
        G = ox.simplify_graph(G)
    if G.is_directed():
        G = ox.convert.to_undirected(G)
    gdf = ox.convert.graph_to_gdfs(G, nodes=False, fill_edge_geometry=True)
    gdf = gdf.reset_index()
    if gdf.crs is None:
        gdf = gdf.set_crs(WGS84)
    target = crs if crs is not None else choose_metric_crs(gdf)
    gdf = to_crs(gdf, target, name="streets")
    out = gpd.GeoDataFrame(
        {
            "street_id": np.arange(len(gdf), dtype=np.int64),
            "osmid": gdf["osmid"].map(_first).astype("string"),
            **{
                tag: (
                    gdf[tag].map(_major_highway if tag == "highway" else _first).astype("string")
                    if tag in gdf
                    else pd.NA
                )
                for tag in _STREET_TAGS
                if tag != "area"
            },
        },
        geometry=gdf.geometry.to_numpy(),
        crs=gdf.crs,
    )
    out["length_m"] = out.geometry.length.to_numpy()
    logger.info("streets: %d edges, %.1f km", len(out), out["length_m"].sum() / 1000)
    return out


#: Highway classes from most to least major, to resolve merged (list-valued) tags.
_HIGHWAY_RANK = (
    "motorway", "trunk", "primary", "secondary", "tertiary", "motorway_link", "trunk_link",
    "primary_link", "secondary_link", "tertiary_link", "unclassified", "residential",
    "living_street", "service", "track", "pedestrian", "cycleway", "bridleway", "footway",
    "path", "steps",
)  # fmt: skip


def _first(value: object) -> object:
    """Return one value of a list-valued OSM attribute, the same on every run.

    osmnx merges the tags of simplified edges into lists whose order comes from
    a set, so it varies between Python processes; take the smallest value
    instead (as text; for ``highway`` use :func:`_major_highway`).
    """
    if isinstance(value, list):
        return min((str(v) for v in value), default=None)
    return value


def _major_highway(value: object) -> object:
    """Return the most major highway class of a (possibly list-valued) ``highway`` tag."""
    if not isinstance(value, list):
        return value
    rank = {h: i for i, h in enumerate(_HIGHWAY_RANK)}
    return min((str(v) for v in value), key=lambda h: (rank.get(h, len(rank)), h), default=None)


def premises_from_buildings(
    buildings: gpd.GeoDataFrame, *, crs: str | pyproj.CRS | None = None
) -> gpd.GeoDataFrame:
    """Make one premises point per OSM building, with class and unit count from its tags.

    Parameters
    ----------
    buildings : geopandas.GeoDataFrame
        OSM features with a ``building`` tag (``osmnx.features_from_*``).
    crs : str or pyproj.CRS, optional
        Projected CRS to compute in; default chosen from the location.

    Returns
    -------
    geopandas.GeoDataFrame
        Points (a point inside each footprint) with ``premises_id``
        (``"way/123"``), ``class``, ``units``, ``name``, ``address`` and ``source``.

    Notes
    -----
    Buildings tagged as sheds, garages, roofs and similar are not premises and
    are left out (their count is logged). ``class`` is ``public`` for schools,
    libraries, surgeries and other public services (the Local Full Fibre
    Networks anchor tenants), ``business`` for shops, offices and commercial
    buildings, else ``residential``. ``units`` is ``building:flats`` where
    tagged; for a block of flats without it (``building`` apartments,
    residential or flats with ``building:levels`` >= 2) an estimate,
    footprint area x levels / 75 m2 (fibreplan's assumption of the gross
    floor area per flat); else 1. ``units_source`` says which, so estimates
    are labelled as such in every output.
    """
    if buildings.empty:
        return _empty_premises(crs or BNG)
    b = buildings.reset_index()
    kind = b["building"].astype("string").str.lower() if "building" in b else pd.Series("yes")
    keep = ~kind.isin(_NOT_PREMISES).to_numpy()
    n_dropped = int((~keep).sum())
    if n_dropped:
        logger.info("premises: %d buildings are not premises (sheds, garages, ...)", n_dropped)
    dropped = {  # reported in quality.json
        "reason": "not premises: building=" + "/".join(sorted(set(kind[~keep].dropna()))),
        "count": n_dropped,
        "premises_ids": (b["element"].astype(str) + "/" + b["id"].astype(str))[~keep].tolist()
        if "element" in b
        else [],
    }
    b, kind = b.loc[keep].reset_index(drop=True), kind[keep].reset_index(drop=True)

    def tag(name: str) -> pd.Series:
        return (
            b[name].astype("string")
            if name in b
            else pd.Series(pd.NA, index=b.index, dtype="string")
        )

    amenity = tag("amenity").str.lower()
    is_public = amenity.isin(_PUBLIC_AMENITY) | kind.isin(_PUBLIC_BUILDING)
    is_business = (
        tag("shop").notna() | tag("office").notna() | tag("craft").notna()
        | tag("tourism").notna() | (amenity.notna() & ~is_public) | kind.isin(_BUSINESS_BUILDING)
    )  # fmt: skip
    cls = np.where(is_public, "public", np.where(is_business, "business", "residential"))
    flats = pd.to_numeric(tag("building:flats"), errors="coerce")
    address = (tag("addr:housenumber").fillna("") + " " + tag("addr:street").fillna("")).str.strip()
    geom = b.geometry
    if b.crs is None:
        geom = geom.set_crs(WGS84)
    target = crs if crs is not None else choose_metric_crs(geom)
    geom = geom.to_crs(target)
    valid = ~(geom.isna() | geom.is_empty)
    units, units_source = _building_units(flats, kind, tag("building:levels"), geom.area)
    points = np.full(len(geom), None, dtype=object)
    points[valid.to_numpy()] = shapely.point_on_surface(geom[valid].to_numpy())
    out = gpd.GeoDataFrame(
        {
            "premises_id": (b["element"].astype(str) + "/" + b["id"].astype(str)).to_numpy()
            if "element" in b
            else np.arange(len(b)).astype(str),
            "class": cls,
            "units": units,
            "units_source": units_source,
            "name": tag("name").to_numpy(),
            "address": address.replace("", pd.NA).to_numpy(),
            "source": "osm_building",
        },
        geometry=gpd.GeoSeries(points, crs=geom.crs).to_numpy(),
        crs=geom.crs,
    )
    logger.info("premises: %d from buildings (%s)", len(out), out["class"].value_counts().to_dict())
    if n_dropped:
        out.attrs["dropped"] = [dropped]
    return out


#: Gross floor area per flat used to estimate the units of a block of flats that has no
#: ``building:flats`` tag, m2 (fibreplan assumption: about 60 m2 usable plus common parts).
_M2_PER_FLAT = 75.0
_FLAT_BUILDINGS = ("apartments", "residential", "flats")


def _building_units(
    flats: pd.Series, kind: pd.Series, levels: pd.Series, area_m2: pd.Series
) -> tuple[np.ndarray, np.ndarray]:
    """Return each building's units and where the number comes from (tag, estimate, default)."""
    tagged = (flats >= 1).to_numpy(dtype=bool, na_value=False)
    lv = pd.to_numeric(levels, errors="coerce").to_numpy(dtype=np.float64)
    area = area_m2.to_numpy(dtype=np.float64)
    flat_kind = kind.isin(_FLAT_BUILDINGS).to_numpy(dtype=bool, na_value=False)
    block = flat_kind & (np.nan_to_num(lv) >= 2) & ~tagged
    estimate = np.maximum(1.0, np.floor(np.nan_to_num(area) * np.nan_to_num(lv) / _M2_PER_FLAT))
    given = flats.round().to_numpy(dtype=np.float64, na_value=1.0)
    units = np.where(tagged, given, np.where(block, estimate, 1.0))
    source = np.where(
        tagged,
        "building:flats",
        np.where(block, f"estimate: footprint area x building:levels / {_M2_PER_FLAT:g} m2",
                 "one per building"),
    )  # fmt: skip
    return units.astype(np.int64), source.astype(str)


def _empty_premises(crs: str | pyproj.CRS) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"premises_id": [], "class": [], "units": np.array([], dtype=np.int64), "source": []},
        geometry=[],
        crs=crs,
    )


def _existing_file(path: str | Path, *, name: str) -> Path:
    p = Path(path)
    if not p.is_file():
        msg = f"{name}: no such file '{p}'. Check the path (relative paths are from {Path.cwd()})."
        raise InputValidationError(msg)
    return p


# --------------------------------------------------------------------------------------
# Reading files: one reader per format, each file read once


class _Content(NamedTuple):
    """What one input, read once, holds: streets and/or premises, not yet converted."""

    streets: nx.MultiDiGraph | gpd.GeoDataFrame | None  # an osmnx graph or street lines
    premises: gpd.GeoDataFrame | None  # premises rows, or OSM buildings
    buildings: bool  # whether ``premises`` are OSM buildings (one premises per building)
    label: str  # the premises' ``source`` value: the file name or "geodataframe"
    node: bool = False  # whether street lines may run through junctions (OGR layers: noded)


def _parse_osm_xml(path: Path) -> tuple[nx.MultiDiGraph, gpd.GeoDataFrame]:
    """Parse an OSM XML file once into osmnx's street graph and its buildings.

    ``osmnx.graph_from_xml`` and ``osmnx.features_from_xml`` each parse the
    whole file; this parses it once and builds both from the result, with the
    same osmnx steps (a test checks the results equal theirs).
    """
    import osmnx as ox
    from osmnx._osm_xml import _overpass_json_from_xml
    from osmnx.features import _create_gdf
    from osmnx.graph import _create_graph

    data = _overpass_json_from_xml(path, "utf-8")
    with _osmnx_way_tags():
        G = _create_graph([data], bidirectional=False)
    try:
        buildings = _create_gdf([data], shapely.Polygon(), {"building": True})
    except ox._errors.InsufficientResponseError:  # noqa: SLF001 - osmnx's "no features" error
        buildings = gpd.GeoDataFrame(geometry=[], crs=WGS84)
    return G, buildings


def _read_osm_xml(path: Path, *, name: str) -> _Content:
    try:
        G, buildings = _parse_osm_xml(path)
    except Exception as err:  # osmnx raises many types on a bad file
        msg = f"{name}: could not read OSM XML from {path}: {err}"
        raise InputValidationError(msg) from err
    return _Content(G, buildings, buildings=True, label=path.name)


def _read_vector(path: Path, *, name: str) -> _Content:
    try:
        gdf = gpd.read_file(path, engine="pyogrio")
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, ValueError) as err:
        reason = str(err).split(";")[0].rstrip(".")  # GDAL's first sentence, not its driver tips
        msg = (
            f"{name}: could not read '{path}' as a vector file ({reason}); give a GeoPackage, "
            "GeoJSON, Shapefile or FlatGeobuf layer, a CSV, or an OSM file (.osm, .osm.pbf)."
        )
        raise InputValidationError(msg) from err
    return _Content(gdf, gdf, buildings=False, label=path.name, node=True)


def _read_pbf(path: Path, *, name: str) -> _Content:
    try:
        streets, buildings = read_pbf(
            path, street_tags=_STREET_TAGS, exclude_highway=_NOT_TRENCHABLE
        )
    except InputValidationError as err:
        msg = f"{name}: {err}"
        raise InputValidationError(msg) from err
    return _Content(streets, buildings, buildings=True, label=path.name)  # split at OSM nodes


def _read_postgis(url: str, *, name: str) -> _Content:
    gdf = read_postgis(url, name=name)
    return _Content(gdf, gdf, buildings=False, label=url.rpartition("#")[2], node=True)


class CsvColumns(NamedTuple):
    """How to read a premises CSV whose headers are not the documented ones.

    Attributes
    ----------
    x, y : str or None
        Columns holding the x (easting or longitude) and y (northing or
        latitude) coordinates (CLI ``--x-col``, ``--y-col``).
    crs : str, pyproj.CRS or None
        CRS of those coordinates, e.g. ``"EPSG:27700"`` (CLI ``--crs``).
    """

    x: str | None = None
    y: str | None = None
    crs: str | pyproj.CRS | None = None

    def given(self) -> bool:
        """Whether any option is set."""
        return any(v is not None for v in self)


def _read_csv(path: Path, *, name: str, columns: CsvColumns | None = None) -> _Content:
    points = _read_csv_points(path, name=name, columns=columns or CsvColumns())
    return _Content(None, points, buildings=False, label=path.name)


def _read_graphml(path: Path, *, name: str) -> _Content:
    """Read a street graph saved by ``osmnx.save_graphml`` (streets only)."""
    import osmnx as ox

    try:
        G = ox.load_graphml(path)
    except Exception as err:  # networkx/lxml raise many types on a bad file
        msg = f"{name}: could not read '{path}' as an osmnx GraphML file: {err}"
        raise InputValidationError(msg) from err
    return _Content(G, None, buildings=False, label=path.name)


#: Reader of each file format, by the file name's ending (lower case). Other endings
#: are read as vector files by GDAL (pyogrio), which knows many more formats.
_READERS: dict[str, Callable[..., _Content]] = {
    ".osm": _read_osm_xml,
    ".osm.bz2": _read_osm_xml,
    ".xml": _read_osm_xml,
    ".osm.pbf": _read_pbf,
    ".pbf": _read_pbf,
    ".csv": _read_csv,
    ".txt": _read_csv,
    ".graphml": _read_graphml,
    ".gpkg": _read_vector,
    ".geojson": _read_vector,
    ".json": _read_vector,
    ".shp": _read_vector,
    ".fgb": _read_vector,
}


def _reader(path: Path) -> Callable[..., _Content]:
    name = path.name.lower()
    ending = max((e for e in _READERS if name.endswith(e)), key=len, default="")
    return _READERS.get(ending, _read_vector)


def _content(source: object, *, name: str, columns: CsvColumns | None = None) -> _Content:
    """Read a file (once) or wrap an in-memory graph or GeoDataFrame.

    ``columns`` (CSV coordinate columns and CRS) applies to a CSV file only;
    its ``crs`` also labels a vector file or GeoDataFrame that has none.
    """
    if columns is not None and columns.given():
        return _content_with(source, name=name, columns=columns)
    if isinstance(source, nx.Graph):
        return _Content(source, None, buildings=False, label="graph")
    if isinstance(source, gpd.GeoDataFrame):
        return _Content(source, source, buildings=False, label="geodataframe")
    if is_postgis_url(source):  # postgresql://...#schema.table
        return _read_postgis(str(source), name=name)
    if not isinstance(source, str | Path):
        msg = f"{name} must be a file path, a GeoDataFrame or an osmnx graph; got {source!r}."
        raise InputValidationError(msg)
    path = _existing_file(source, name=name)
    return _reader(path)(path, name=name)


def _content_with(source: object, *, name: str, columns: CsvColumns) -> _Content:
    """Read ``source`` with CSV column options, refusing them where they cannot apply."""
    path = Path(str(source)) if isinstance(source, str | Path) else None
    if path is not None and _reader(path) is _read_csv:
        return _read_csv(_existing_file(path, name=name), name=name, columns=columns)
    if columns.x is not None or columns.y is not None:
        msg = (
            f"{name}: --x-col/--y-col (x_column/y_column) name the coordinate columns of a CSV "
            f"file; '{source}' is not one. Leave them out for this input."
        )
        raise InputValidationError(msg)
    content = _content(source, name=name)
    gdf = content.premises
    if gdf is None:
        return content  # no premises in it: _premises_from says so
    if content.buildings:
        msg = (
            f"{name}: --crs (premises_crs) names the CRS of a premises CSV or of a layer "
            f"without one; '{content.label}' is OSM data (lon/lat). Leave --crs out."
        )
        raise InputValidationError(msg)
    want = _user_crs(columns.crs, name=name)
    if gdf.crs is None:
        gdf = gdf.set_crs(want)
    elif not pyproj.CRS.from_user_input(gdf.crs).equals(want):
        msg = (
            f"{name}: '{content.label}' declares {gdf.crs.to_string()} but --crs says "
            f"{want.to_string()}; leave --crs out for a file that has a CRS."
        )
        raise InputValidationError(msg)
    return content._replace(premises=gdf)


def _user_crs(crs: object, *, name: str) -> pyproj.CRS:
    try:
        return pyproj.CRS.from_user_input(crs)
    except pyproj.exceptions.CRSError as err:
        msg = f"{name}: --crs '{crs}' is not a CRS pyproj knows; give e.g. EPSG:27700 or EPSG:4326."
        raise InputValidationError(msg) from err


def load_inputs(
    streets: str | Path | nx.MultiDiGraph | gpd.GeoDataFrame,
    premises: str | Path | gpd.GeoDataFrame,
    *,
    crs: str | pyproj.CRS | None = None,
    id_column: str | None = None,
    x_column: str | None = None,
    y_column: str | None = None,
    premises_crs: str | pyproj.CRS | None = None,
    aoi: object = None,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Load streets and premises into one metric CRS, reading each input file once.

    One OSM XML file may give both (streets from its ways, premises from its
    buildings); it is then parsed once.

    Parameters
    ----------
    streets : str, pathlib.Path, networkx.MultiDiGraph or geopandas.GeoDataFrame
        As :func:`load_streets` takes it.
    premises : str, pathlib.Path or geopandas.GeoDataFrame
        As :func:`load_premises` takes it.
    crs : str or pyproj.CRS, optional
        Projected CRS to compute in; default chosen from the streets' location.
    id_column : str, optional
        Premises column holding the ID (see :func:`load_premises`).
    x_column, y_column : str, optional
        Coordinate columns of a premises CSV (see :func:`load_premises`).
    premises_crs : str or pyproj.CRS, optional
        CRS of the premises coordinates (``source_crs`` of :func:`load_premises`).
    aoi : optional
        Area of interest (see :func:`load_aoi`): streets are cut at its
        boundary and premises outside it left out (counts logged).

    Returns
    -------
    gdf_streets, gdf_premises : geopandas.GeoDataFrame
        In the same CRS; see the module docstring for their columns.

    Raises
    ------
    InputValidationError
        If a file is missing or unreadable or holds no streets / premises
        (see :func:`load_streets` and :func:`load_premises`).
    CRSError
        If a vector file or GeoDataFrame has no CRS.
    """
    same = (
        isinstance(streets, str | Path)
        and isinstance(premises, str | Path)
        and Path(streets).is_file()
        and Path(streets).resolve() == Path(premises).resolve()
    )
    columns = CsvColumns(x_column, y_column, premises_crs)
    s_content = _content(streets, name="streets and premises" if same else "streets")
    p_content = s_content if same else _content(premises, name="premises", columns=columns)
    gdf_streets = _streets_from(s_content, crs=crs)
    gdf_premises = _premises_from(p_content, crs=gdf_streets.crs, id_column=id_column)
    if aoi is None:
        return gdf_streets, gdf_premises
    return clip_to_aoi(gdf_streets, gdf_premises, load_aoi(aoi, crs=gdf_streets.crs))


def load_streets(
    source: str | Path | nx.MultiDiGraph | gpd.GeoDataFrame,
    *,
    crs: str | pyproj.CRS | None = None,
) -> gpd.GeoDataFrame:
    """Load street centrelines from a file, an osmnx graph or a GeoDataFrame.

    Parameters
    ----------
    source : str, pathlib.Path, networkx.MultiDiGraph or geopandas.GeoDataFrame
        An OSM XML or PBF file (``.osm``/``.osm.bz2``/``.osm.pbf``), a vector
        file of lines (GeoPackage, GeoJSON, Shapefile; must carry a CRS; noded),
        a PostGIS table (``postgresql://...#schema.table``; noded), an osmnx
        graph, or a GeoDataFrame of lines (used as given).
    crs : str or pyproj.CRS, optional
        Projected CRS to compute in; default chosen from the location.

    Returns
    -------
    geopandas.GeoDataFrame
        Street lines with ``street_id``, ``highway`` and ``length_m``.

    Raises
    ------
    InputValidationError
        If the file is missing or holds no line geometry.
    CRSError
        If a vector file or GeoDataFrame has no CRS.
    """
    return _streets_from(_content(source, name="streets"), crs=crs)


def _streets_from(content: _Content, *, crs: str | pyproj.CRS | None) -> gpd.GeoDataFrame:
    if content.streets is None:
        msg = f"streets: '{content.label}' holds points, not streets; give street centrelines."
        raise InputValidationError(msg)
    if isinstance(content.streets, nx.Graph):
        return streets_from_graph(content.streets, crs=crs)
    gdf = content.streets
    lines = gdf.geometry.geom_type.isin(["LineString", "MultiLineString"])
    if not lines.any():
        msg = "streets holds no LineString geometry; give street centrelines."
        raise InputValidationError(msg)
    if not lines.all():
        kinds = gdf.geometry.geom_type[~lines].fillna("missing").value_counts().to_dict()
        logger.warning("streets: %d features that are not lines left out %s", (~lines).sum(), kinds)
    if gdf.crs is None:
        msg = "streets has no CRS; set it (e.g. gdf.set_crs('EPSG:27700')) or save it with one."
        raise CRSError(msg)
    gdf = _drop_untrenchable(gdf.loc[lines].explode(index_parts=False).reset_index(drop=True))
    target = crs if crs is not None else choose_metric_crs(gdf)
    gdf = to_crs(gdf, target, name="streets")
    noding = None
    if content.node:  # a line per way or per street: split where lines meet
        gdf, noding = node_lines(gdf)
    out = gpd.GeoDataFrame(
        {
            "street_id": np.arange(len(gdf), dtype=np.int64),
            **{
                tag: (gdf[tag].astype("string") if tag in gdf else pd.NA)
                for tag in ("osmid", *_STREET_TAGS)
                if tag != "area"
            },
        },
        geometry=gdf.geometry.to_numpy(),
        crs=gdf.crs,
    )
    out["length_m"] = out.geometry.length.to_numpy()
    if noding is not None:
        out.attrs["noding"] = dataclasses.asdict(noding)
    return out


def _drop_untrenchable(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Leave out lines whose OSM ``highway`` value is never dug, as the OSM readers do."""
    if "highway" not in gdf:
        return gdf
    never = gdf["highway"].astype("string").str.lower().isin(sorted(_NOT_TRENCHABLE))
    never = never.fillna(value=False).to_numpy(dtype=bool)
    if never.all():
        msg = (
            "streets: every line has a highway value that is never trenched "
            f"({sorted(set(gdf['highway'].astype(str)))}); give streets that can be dug."
        )
        raise InputValidationError(msg)
    if never.any():
        counts = gdf.loc[never, "highway"].astype(str).value_counts().to_dict()
        logger.info("streets: %d lines never trenched left out %s", int(never.sum()), counts)
    return gdf.loc[~never].reset_index(drop=True)


def _find_column(columns: pd.Index, names: tuple[str, ...]) -> str | None:
    lower = {str(c).lower().lstrip("\ufeff"): c for c in columns}
    for n in names:
        if n in lower:
            return str(lower[n])
    return None


def load_premises(
    source: str | Path | gpd.GeoDataFrame,
    *,
    crs: str | pyproj.CRS | None = None,
    id_column: str | None = None,
    x_column: str | None = None,
    y_column: str | None = None,
    source_crs: str | pyproj.CRS | None = None,
) -> gpd.GeoDataFrame:
    """Load premises points from a file or GeoDataFrame.

    Parameters
    ----------
    source : str, pathlib.Path or geopandas.GeoDataFrame
        An OSM XML file (one premises per building), a vector file of points
        (GeoPackage, GeoJSON; polygons are turned into a point inside each; a
        polygon layer with a ``building`` column gets the OSM loader's building
        filter: rows without a building value, garages, sheds and the like are
        not premises), a PostGIS table, or a CSV with ``lon``/``lat`` (or
        ``longitude``/``latitude``, EPSG:4326) or ``easting``/``northing`` (or
        OS Open UPRN's ``X_COORDINATE``/``Y_COORDINATE``, EPSG:27700) columns.
        Other CSV headers (``x``/``y`` included) are never guessed: name them
        with ``x_column``/``y_column`` and/or their CRS with ``source_crs``.
    crs : str or pyproj.CRS, optional
        Projected CRS to compute in; default chosen from the location.
    id_column : str, optional
        Column holding the premises ID; default the first of ``premises_id``,
        ``uprn``, ``id``, ``address_id``, ``osm_id`` (GDAL's OSM export; with
        ``osm_way_id``, ids ``relation/...`` and ``way/...``) present, else row
        numbers.
    x_column, y_column : str, optional
        CSV columns holding the coordinates (CLI ``--x-col``, ``--y-col``).
    source_crs : str or pyproj.CRS, optional
        CRS of a CSV's coordinates (CLI ``--crs``), e.g. ``"EPSG:27700"``; for
        a vector file or GeoDataFrame without a CRS, the CRS it is in.

    Returns
    -------
    geopandas.GeoDataFrame
        Points with ``premises_id`` (str), ``class``, ``units`` and ``source``;
        other input columns are kept. Empty or invalid geometries are kept:
        the trench stage reports them.

    Raises
    ------
    InputValidationError
        If the file is missing or unreadable, a CSV lacks coordinate columns
        or has headers that do not name their CRS (``x``/``y``) without
        ``source_crs``, coordinates are not numbers, or ``id_column`` is absent
        or not unique.
    CRSError
        If a vector file or GeoDataFrame has no CRS (and ``source_crs`` is not given).
    """
    columns = CsvColumns(x_column, y_column, source_crs)
    content = _content(source, name="premises", columns=columns)
    return _premises_from(content, crs=crs, id_column=id_column)


def _premises_from(
    content: _Content, *, crs: str | pyproj.CRS | None, id_column: str | None = None
) -> gpd.GeoDataFrame:
    if content.premises is None:
        msg = f"premises: '{content.label}' holds no premises; give premises points or buildings."
        raise InputValidationError(msg)
    if content.buildings:
        return premises_from_buildings(content.premises, crs=crs)
    gdf = content.premises.copy()
    if gdf.crs is None:
        msg = (
            "premises has no CRS; set it (e.g. gdf.set_crs('EPSG:4326') for lon/lat) "
            "or name it with --crs (premises_crs=...)."
        )
        raise CRSError(msg)
    gdf = _buildings_only(gdf, label=content.label)
    idc = id_column or _find_column(gdf.columns, _ID_NAMES)
    if id_column is not None and id_column not in gdf.columns:
        msg = (
            f"id_column='{id_column}' is not a column of premises; columns are {list(gdf.columns)}."
        )
        raise InputValidationError(msg)
    ids = _premises_ids(gdf, idc, given=id_column is not None)
    if ids.duplicated().any():
        dup = ids[ids.duplicated()].unique()[:5].tolist()
        msg = (
            f"premises IDs in column '{idc}' are not unique (e.g. {dup}); name the ID column "
            "with id_column=... (CLI: --id-column NAME) or remove the duplicates."
        )
        raise InputValidationError(msg)
    gdf["premises_id"] = ids.to_numpy()
    if "class" not in gdf:
        gdf["class"] = "residential"
    gdf["class"] = gdf["class"].astype("string").str.lower().fillna("residential")
    if "units" not in gdf:
        gdf["units"] = 1
    gdf["units"] = pd.to_numeric(gdf["units"], errors="coerce").fillna(1).clip(lower=1)
    gdf["units"] = gdf["units"].round().astype(np.int64)
    gdf["source"] = content.label
    nonpoint = ~gdf.geometry.geom_type.isin(["Point"]) & ~(
        gdf.geometry.is_empty | gdf.geometry.isna()
    )
    if nonpoint.any():
        gdf.loc[nonpoint, "geometry"] = shapely.point_on_surface(gdf.geometry[nonpoint].to_numpy())
    target = crs if crs is not None else _metric_crs_or_default(gdf)
    gdf = to_crs(gdf, target, name="premises")
    cols = ["premises_id", "class", "units", "source"]
    rest = [c for c in gdf.columns if c not in {*cols, gdf.geometry.name}]
    return gdf[[*cols, *rest, gdf.geometry.name]].reset_index(drop=True)


def _buildings_only(gdf: gpd.GeoDataFrame, *, label: str) -> gpd.GeoDataFrame:
    """Apply the OSM loader's building filter to a polygon layer with a ``building`` column."""
    col = _find_column(gdf.columns, ("building",))
    polygons = gdf.geometry.geom_type.isin(["Polygon", "MultiPolygon"])
    if col is None or not polygons.any():
        return gdf
    kind = gdf[col].astype("string").str.lower()
    building = (kind.notna() & ~kind.isin([*_NOT_PREMISES, "no"])).to_numpy(dtype=bool)
    keep = building | ~polygons.to_numpy()  # points of a mixed layer are premises as given
    if not keep.all():
        dropped = kind[~keep].fillna("<none>").value_counts().head(8).to_dict()
        logger.info(
            "premises: %d of %d polygons in '%s' are not premises buildings %s",
            int((~keep).sum()), len(gdf), label, dropped,
        )  # fmt: skip
    if not keep.any():
        msg = (
            f"premises: no polygon in '{label}' is a premises building (building values "
            f"{sorted(set(kind.dropna()))[:8]}); give building footprints or premises points."
        )
        raise InputValidationError(msg)
    return gdf.loc[keep].reset_index(drop=True)


def _premises_ids(gdf: gpd.GeoDataFrame, idc: str | None, *, given: bool) -> pd.Series:
    """Return the premises IDs: the ID column, GDAL's osm_id/osm_way_id pair, or row numbers."""
    if idc is None:
        return pd.Series(np.arange(len(gdf)).astype(str))
    way = _find_column(gdf.columns, ("osm_way_id",))
    if not given and idc.lower() == "osm_id" and way is not None:  # GDAL's multipolygons layer
        rel = gdf[idc].astype("string")
        ids = ("relation/" + rel).fillna("way/" + gdf[way].astype("string"))
        return ids.astype(str).reset_index(drop=True)
    return gdf[idc].astype(str).reset_index(drop=True)


def _metric_crs_or_default(gdf: gpd.GeoDataFrame) -> pyproj.CRS:
    ok = ~(gdf.geometry.is_empty | gdf.geometry.isna())
    if not ok.any():
        return pyproj.CRS.from_user_input(gdf.crs if not gdf.crs.is_geographic else BNG)
    return choose_metric_crs(gdf.loc[ok])


def _csv_coordinates(
    columns: pd.Index, options: CsvColumns, *, name: str, label: str
) -> tuple[str, str, pyproj.CRS]:
    """Return the x and y columns of a CSV and their CRS; never a silent guess.

    Documented headers name their CRS: easting/northing (or OS Open UPRN's
    X_COORDINATE/Y_COORDINATE) are EPSG:27700, lon/lat (longitude/latitude,
    lng) EPSG:4326. Other headers (``x``/``y``, ``E``/``N``, ...) need the
    columns and/or the CRS named (``options``).
    """
    flags = "--x-col/--y-col and --crs (x_column=, y_column=, premises_crs=)"
    if (options.x is None) != (options.y is None):
        msg = f"{name} CSV '{label}': give both --x-col and --y-col (x_column and y_column)."
        raise InputValidationError(msg)
    if options.x is not None and options.y is not None:
        missing = [c for c in (options.x, options.y) if c not in columns]
        if missing:
            msg = f"{name} CSV '{label}' has no column {missing[0]!r}; columns are {list(columns)}."
            raise InputValidationError(msg)
        xcol, ycol = options.x, options.y
        named = (
            WGS84 if _find_column(pd.Index([xcol]), _LON_NAMES)
            else BNG if _find_column(pd.Index([xcol]), _EAST_NAMES) else None
        )  # fmt: skip
    else:
        lon, lat = _find_column(columns, _LON_NAMES), _find_column(columns, _LAT_NAMES)
        east, north = _find_column(columns, _EAST_NAMES), _find_column(columns, _NORTH_NAMES)
        plain_x, plain_y = _find_column(columns, _PLAIN_X), _find_column(columns, _PLAIN_Y)
        if east and north:
            xcol, ycol, named = east, north, BNG
        elif lon and lat:
            xcol, ycol, named = lon, lat, WGS84
        elif plain_x and plain_y and options.crs is not None:
            xcol, ycol, named = plain_x, plain_y, None
        elif plain_x and plain_y:
            msg = (
                f"{name} CSV '{label}': columns {plain_x}/{plain_y} do not say whether they are "
                "easting/northing or lon/lat; name the CRS with --crs EPSG:27700 (British "
                "National Grid metres) or --crs EPSG:4326 (degrees), or rename the columns."
            )
            raise InputValidationError(msg)
        else:
            msg = (
                f"{name} CSV '{label}' needs coordinate columns: lon/lat (EPSG:4326) or "
                f"easting/northing (EPSG:27700); found {list(columns)}. For other headers "
                f"name them with {flags}."
            )
            raise InputValidationError(msg)
    if options.crs is not None:
        return xcol, ycol, _user_crs(options.crs, name=name)
    if named is None:
        msg = (
            f"{name} CSV '{label}': the CRS of columns {xcol}/{ycol} is not known; "
            "give it with --crs (e.g. EPSG:27700 or EPSG:4326)."
        )
        raise InputValidationError(msg)
    return xcol, ycol, pyproj.CRS.from_user_input(named)


def _read_csv_points(path: Path, *, name: str, columns: CsvColumns) -> gpd.GeoDataFrame:
    try:
        df = pd.read_csv(path, encoding="utf-8-sig")
    except pd.errors.EmptyDataError as err:
        msg = f"{name}: CSV '{path}' is empty; give a header row and one row per premises."
        raise InputValidationError(msg) from err
    except (pd.errors.ParserError, UnicodeDecodeError) as err:
        msg = f"{name}: could not read CSV '{path}': {err}"
        raise InputValidationError(msg) from err
    xcol, ycol, crs = _csv_coordinates(df.columns, columns, name=name, label=path.name)
    x = pd.to_numeric(df[xcol], errors="coerce")
    y = pd.to_numeric(df[ycol], errors="coerce")
    bad = (x.isna() | y.isna()) & (df[xcol].notna() & df[ycol].notna())
    if bad.any():
        idc = _find_column(df.columns, _ID_NAMES)
        rows = df.loc[bad].head(3)
        who = rows[idc].astype(str) if idc else "line " + (rows.index + 2).astype(str)
        shown = "; ".join(
            f"{w}: {xcol}={rx!r}, {ycol}={ry!r}"
            for w, rx, ry in zip(who, rows[xcol], rows[ycol], strict=True)
        )
        msg = (
            f"{name} CSV '{path.name}': {int(bad.sum())} rows have non-numeric {xcol}/{ycol} "
            f"({idc or 'at'} {shown}); write the coordinates as numbers."
        )
        raise InputValidationError(msg)
    geom = gpd.points_from_xy(x, y)
    geom[(x.isna() | y.isna()).to_numpy()] = None
    return gpd.GeoDataFrame(df, geometry=geom, crs=crs)


def load_headends(
    source: object, *, crs: str | pyproj.CRS
) -> tuple[list[shapely.Point], tuple[str, ...]] | None:
    """Read headend (exchange / OLT site) positions into the plan's CRS.

    Parameters
    ----------
    source : tuple, shapely.Point, list, geopandas.GeoDataFrame, str or pathlib.Path
        One ``(lon, lat)`` pair in degrees or a Point in ``crs``; a list of
        them; or point (or polygon: a point inside each) features, as a
        GeoDataFrame or a file any premises reader takes (GeoPackage, GeoJSON,
        CSV with lon/lat or easting/northing, PostGIS table). Ids come from the
        first of ``headend_id``, ``exchange_id``, ``site_id``, ``id``, ``name``,
        ``ref``, ``osm_id`` present, else ``H1``, ``H2``, ... in row order.
    crs : str or pyproj.CRS
        The plan's projected CRS.

    Returns
    -------
    tuple of (list of shapely.Point, tuple of str) or None
        The points in ``crs`` and their ids; None when ``source`` is None.

    Raises
    ------
    InputValidationError
        If the file holds no points, a geometry is missing or ids repeat.
    """
    if source is None:
        return None
    if isinstance(source, shapely.Point):
        return [source], ("H1",)
    if isinstance(source, list | tuple):
        pairs = list(source) if source and not isinstance(source[0], int | float) else [source]
        pts = [p if isinstance(p, shapely.Point) else _lonlat_point(p, crs=crs) for p in pairs]
        return pts, tuple(f"H{i + 1}" for i in range(len(pts)))
    gdf = _content(source, name="headends").premises
    if gdf is None or gdf.empty:
        msg = f"headends: '{source}' holds no points; give exchange / OLT site points."
        raise InputValidationError(msg)
    if gdf.crs is None:
        msg = "headends has no CRS; set it (e.g. gdf.set_crs('EPSG:4326') for lon/lat)."
        raise CRSError(msg)
    geom = gdf.geometry
    if (geom.isna() | geom.is_empty).any():
        row = int(np.flatnonzero((geom.isna() | geom.is_empty).to_numpy())[0])
        msg = f"headends: row {row} of '{source}' has no geometry; give a point for every site."
        raise InputValidationError(msg)
    pts = gpd.GeoSeries(shapely.point_on_surface(geom.to_numpy()), crs=gdf.crs).to_crs(crs)
    idc = _find_column(gdf.columns, _HEADEND_ID_NAMES)
    ids = gdf[idc].astype(str) if idc else pd.Series([f"H{i + 1}" for i in range(len(gdf))])
    if ids.duplicated().any():
        dup = ids[ids.duplicated()].iloc[0]
        msg = f"headends: ids in column '{idc}' repeat ({dup!r}); give each exchange once."
        raise InputValidationError(msg)
    return list(pts), tuple(ids.tolist())


def _lonlat_point(pair: object, *, crs: str | pyproj.CRS) -> shapely.Point:
    try:
        lon, lat = (float(v) for v in pair)  # type: ignore[attr-defined]
    except (TypeError, ValueError) as err:
        msg = f"headend must be (lon, lat) in degrees or a shapely Point; got {pair!r}."
        raise InputValidationError(msg) from err
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        msg = f"headend ({lon}, {lat}) is not a lon/lat pair in degrees (lon first)."
        raise InputValidationError(msg)
    return gpd.GeoSeries([shapely.Point(lon, lat)], crs=WGS84).to_crs(crs).iloc[0]


def load_aoi(aoi: object, *, crs: str | pyproj.CRS) -> shapely.Geometry:
    """Read an area of interest as one polygon in ``crs``.

    Parameters
    ----------
    aoi : sequence of 4 floats, shapely geometry, GeoDataFrame, GeoSeries, str or pathlib.Path
        A bounding box ``(min_lon, min_lat, max_lon, max_lat)`` in degrees; a
        shapely polygon in lon/lat degrees; polygons with a CRS (their union);
        or a polygon file (GeoPackage, GeoJSON, Shapefile, ...; must carry a CRS).
    crs : str or pyproj.CRS
        The plan's projected CRS.

    Returns
    -------
    shapely.Geometry
        The area as one (Multi)Polygon in ``crs``.

    Raises
    ------
    InputValidationError
        If the box is not four numbers in order, the file cannot be read or
        holds no polygon, or the area is empty.
    CRSError
        If a polygon file or GeoDataFrame has no CRS.
    """
    if isinstance(aoi, str | Path) and not Path(aoi).is_file() and str(aoi).count(",") == 3:
        aoi = [v.strip() for v in str(aoi).split(",")]
    if isinstance(aoi, list | tuple) and len(aoi) == 4:
        return _bbox_polygon(aoi, crs=crs)
    if isinstance(aoi, shapely.Geometry):
        w, s_, e, n = aoi.bounds
        if not (-180 <= w <= e <= 180 and -90 <= s_ <= n <= 90):
            msg = (
                f"aoi: a shapely geometry is read as lon/lat degrees, but its bounds are "
                f"{aoi.bounds}; give a GeoDataFrame or file with its CRS instead."
            )
            raise InputValidationError(msg)
        gs = gpd.GeoSeries([aoi], crs=WGS84)
    elif isinstance(aoi, gpd.GeoDataFrame | gpd.GeoSeries):
        gs = aoi.geometry if isinstance(aoi, gpd.GeoDataFrame) else aoi
    elif isinstance(aoi, str | Path):
        path = _existing_file(aoi, name="aoi")
        try:
            gs = gpd.read_file(path, engine="pyogrio").geometry
        except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, ValueError) as err:
            msg = f"aoi: could not read '{path}' as a polygon file: {err}"
            raise InputValidationError(msg) from err
    else:
        msg = (
            "aoi must be a bbox (min_lon, min_lat, max_lon, max_lat), a polygon file, "
            f"a GeoDataFrame or a shapely polygon; got {aoi!r}."
        )
        raise InputValidationError(msg)
    if gs.crs is None:
        msg = "aoi has no CRS; save the polygon file with one (or set_crs on the GeoDataFrame)."
        raise CRSError(msg)
    polygons = gs[gs.geom_type.isin(["Polygon", "MultiPolygon"])]
    if polygons.empty:
        msg = f"aoi: no polygon in {aoi if isinstance(aoi, str | Path) else 'the area given'}."
        raise InputValidationError(msg)
    area = shapely.union_all(polygons.to_crs(crs).make_valid().to_numpy())
    if area.is_empty or area.area <= 0:
        msg = "aoi: the area of interest is empty; give a polygon with an area."
        raise InputValidationError(msg)
    return area


def _bbox_polygon(box: Sequence[object], *, crs: str | pyproj.CRS) -> shapely.Geometry:
    try:
        w, s_, e, n = (float(v) for v in box)  # type: ignore[arg-type]
    except (TypeError, ValueError) as err:
        msg = f"bbox must be four numbers min_lon,min_lat,max_lon,max_lat; got {box!r}."
        raise InputValidationError(msg) from err
    if not (-180 <= w < e <= 180 and -90 <= s_ < n <= 90):
        msg = (
            f"bbox {w},{s_},{e},{n} is not min_lon,min_lat,max_lon,max_lat in degrees "
            "(west < east, south < north; longitude first)."
        )
        raise InputValidationError(msg)
    return gpd.GeoSeries([shapely.box(w, s_, e, n)], crs=WGS84).to_crs(crs).iloc[0]


def clip_to_aoi(
    gdf_streets: gpd.GeoDataFrame, gdf_premises: gpd.GeoDataFrame, area: shapely.Geometry
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Cut the streets at an area's boundary and leave out the premises outside it.

    Parameters
    ----------
    gdf_streets, gdf_premises : geopandas.GeoDataFrame
        As :func:`load_inputs` returns them (same metric CRS).
    area : shapely.Geometry
        The area of interest in their CRS (:func:`load_aoi`).

    Returns
    -------
    gdf_streets, gdf_premises : geopandas.GeoDataFrame
        The parts inside: streets cut at the boundary (``street_id`` and
        ``length_m`` renewed), premises inside or on it. Premises without a
        geometry are kept (the trench stage reports them).

    Raises
    ------
    InputValidationError
        If no street or no premises lies in the area.
    """
    shapely.prepare(area)
    geom = gdf_premises.geometry.to_numpy()
    missing = shapely.is_missing(geom) | shapely.is_empty(geom)
    inside = missing | shapely.covers(area, geom)
    streets = gpd.clip(gdf_streets, area, keep_geom_type=True)
    streets = streets.explode(index_parts=False)
    streets = streets[~streets.geometry.is_empty].sort_index(kind="stable").reset_index(drop=True)
    if streets.empty or not inside[~missing].any():
        what = "street" if streets.empty else "premises"
        msg = (
            f"aoi: no {what} lies inside the area of interest; check the polygon or bbox "
            "covers the inputs (bbox order: min_lon,min_lat,max_lon,max_lat)."
        )
        raise InputValidationError(msg)
    streets["street_id"] = np.arange(len(streets), dtype=np.int64)
    streets["length_m"] = streets.geometry.length.to_numpy()
    logger.info(
        "aoi: %d of %d premises inside, streets %.1f of %.1f km",
        int(inside.sum()), len(gdf_premises), streets["length_m"].sum() / 1000,
        gdf_streets["length_m"].sum() / 1000,
    )  # fmt: skip
    premises = gdf_premises.loc[inside].reset_index(drop=True)
    premises.attrs = dict(gdf_premises.attrs)
    streets.attrs = dict(gdf_streets.attrs)
    return streets, premises
