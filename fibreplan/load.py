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
from fibreplan._errors import InputValidationError
from fibreplan._noding import node_lines
from fibreplan._pbf import read_pbf
from fibreplan.postgis import is_postgis_url
from fibreplan.postgis import read_postgis

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = [
    "DEMO_PLACE",
    "demo_data",
    "demo_path",
    "fetch_osm",
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
_EAST_NAMES = ("easting", "x_coordinate", "x")
_NORTH_NAMES = ("northing", "y_coordinate", "y")
_ID_NAMES = ("premises_id", "uprn", "id", "address_id")
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


def fetch_osm(
    query: str | Sequence[float], *, crs: str | pyproj.CRS | None = None
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:  # pragma: no cover - needs the network
    """Download streets and buildings from OpenStreetMap (needs internet).

    Parameters
    ----------
    query : str or sequence of float
        A place name for the Nominatim geocoder (``"Ketton, Rutland, UK"``)
        or a bounding box ``(west, south, east, north)`` in degrees.
    crs : str or pyproj.CRS, optional
        Projected CRS; default chosen from the location.

    Returns
    -------
    gdf_streets, gdf_premises : geopandas.GeoDataFrame
        As :func:`load_osm` returns them. The conversion is the same code that
        reads local files (:func:`streets_from_graph`, :func:`premises_from_buildings`).
    """
    import osmnx as ox

    with _osmnx_way_tags():
        if isinstance(query, str):
            G = ox.graph_from_place(query, network_type="all", simplify=False, retain_all=True)
            buildings = ox.features_from_place(query, tags={"building": True})
        else:
            west, south, east, north = (float(v) for v in query)
            bbox = (west, south, east, north)
            G = ox.graph_from_bbox(bbox, network_type="all", simplify=False, retain_all=True)
            buildings = ox.features_from_bbox(bbox, tags={"building": True})
    gdf_streets = streets_from_graph(G, crs=crs, simplify=True)
    return gdf_streets, premises_from_buildings(buildings, crs=gdf_streets.crs)


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
        msg = f"{name}: could not read '{path}' as a vector file: {err}"
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


def _read_csv(path: Path, *, name: str) -> _Content:
    return _Content(None, _read_csv_points(path, name=name), buildings=False, label=path.name)


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


def _content(source: object, *, name: str) -> _Content:
    """Read a file (once) or wrap an in-memory graph or GeoDataFrame."""
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


def load_inputs(
    streets: str | Path | nx.MultiDiGraph | gpd.GeoDataFrame,
    premises: str | Path | gpd.GeoDataFrame,
    *,
    crs: str | pyproj.CRS | None = None,
    id_column: str | None = None,
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
    s_content = _content(streets, name="streets and premises" if same else "streets")
    p_content = s_content if same else _content(premises, name="premises")
    gdf_streets = _streets_from(s_content, crs=crs)
    return gdf_streets, _premises_from(p_content, crs=gdf_streets.crs, id_column=id_column)


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
) -> gpd.GeoDataFrame:
    """Load premises points from a file or GeoDataFrame.

    Parameters
    ----------
    source : str, pathlib.Path or geopandas.GeoDataFrame
        An OSM XML file (one premises per building), a vector file of points
        (GeoPackage, GeoJSON; polygons are turned into a point inside each), or
        a CSV with ``lon``/``lat`` (or ``longitude``/``latitude``, EPSG:4326)
        or ``easting``/``northing`` (or OS Open UPRN's
        ``X_COORDINATE``/``Y_COORDINATE``, EPSG:27700) columns.
    crs : str or pyproj.CRS, optional
        Projected CRS to compute in; default chosen from the location.
    id_column : str, optional
        Column holding the premises ID; default the first of ``premises_id``,
        ``uprn``, ``id``, ``address_id`` present, else row numbers.

    Returns
    -------
    geopandas.GeoDataFrame
        Points with ``premises_id`` (str), ``class``, ``units`` and ``source``;
        other input columns are kept. Empty or invalid geometries are kept:
        the trench stage reports them.

    Raises
    ------
    InputValidationError
        If the file is missing or unreadable, a CSV lacks coordinate columns,
        coordinates are not numbers, or ``id_column`` is absent or not unique.
    CRSError
        If a vector file or GeoDataFrame has no CRS.
    """
    return _premises_from(_content(source, name="premises"), crs=crs, id_column=id_column)


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
        msg = "premises has no CRS; set it (e.g. gdf.set_crs('EPSG:4326') for lon/lat)."
        raise CRSError(msg)
    idc = id_column or _find_column(gdf.columns, _ID_NAMES)
    if id_column is not None and id_column not in gdf.columns:
        msg = (
            f"id_column='{id_column}' is not a column of premises; columns are {list(gdf.columns)}."
        )
        raise InputValidationError(msg)
    ids = gdf[idc].astype(str) if idc else pd.Series(np.arange(len(gdf)).astype(str))
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


def _metric_crs_or_default(gdf: gpd.GeoDataFrame) -> pyproj.CRS:
    ok = ~(gdf.geometry.is_empty | gdf.geometry.isna())
    if not ok.any():
        return pyproj.CRS.from_user_input(gdf.crs if not gdf.crs.is_geographic else BNG)
    return choose_metric_crs(gdf.loc[ok])


def _read_csv_points(path: Path, *, name: str) -> gpd.GeoDataFrame:
    try:
        df = pd.read_csv(path, encoding="utf-8-sig")
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as err:
        msg = f"{name}: could not read CSV '{path}': {err}"
        raise InputValidationError(msg) from err
    lon, lat = _find_column(df.columns, _LON_NAMES), _find_column(df.columns, _LAT_NAMES)
    east, north = _find_column(df.columns, _EAST_NAMES), _find_column(df.columns, _NORTH_NAMES)
    if east and north:
        xcol, ycol, crs = east, north, BNG
    elif lon and lat:
        xcol, ycol, crs = lon, lat, WGS84
    else:
        msg = (
            f"{name} CSV '{path.name}' needs coordinate columns: lon/lat (EPSG:4326) or "
            f"easting/northing (EPSG:27700); found {list(df.columns)}."
        )
        raise InputValidationError(msg)
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
