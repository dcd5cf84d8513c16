"""Node a line layer: split lines where they meet, so every junction is a line end.

Street layers exported from OSM through QGIS/GDAL, and many council or CAD
layers, hold one line per way or per named street, running straight through
the junctions. The trench graph joins lines only at their ends, so such a
layer plans as disconnected pieces. :func:`node_lines` splits the lines at

* **shared vertices**: a vertex (to 1 mm) used by two lines, or twice by one
  line, where at least one of them does not end there (OSM ways that join
  share a node, so this is exact for OSM data);
* **touching ends**: a line end that lies on another line's interior
  (a T-junction drawn without a vertex on the through line), and a dangling
  end within ``tolerance_m`` of another line, which is first moved onto it
  (*snapped*);
* **crossings at grade**: two lines whose interiors cross with no vertex
  there, unless either line is a bridge or a tunnel or their ``layer``
  differs (read from ``bridge``/``tunnel``/``layer`` columns, or from GDAL's
  OSM ``other_tags`` column). OSM joins roads that meet at grade with a shared
  node, so an OSM crossing without one is usually a bridge; a layer with no
  grade information at all has its crossings split, and the count is logged as
  a warning.

Each piece carries the attributes of the line it comes from. The splitting
itself is :func:`split_at_shared_vertices`, shared with the PBF reader, which
splits OSM ways at node ids.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from fibreplan._errors import CRSError

__all__ = ["NodingReport", "node_lines", "split_at_shared_vertices"]

logger = logging.getLogger(__name__)

#: Grid on which two vertices count as the same point, metres.
_SAME_POINT_M = 1e-3

_NO = frozenset({"", "no", "false", "0"})

# why a vertex is there: in the input, a line end touching the line, a crossing
_ORIGINAL, _TOUCH, _CROSS = 0, 1, 2


@dataclass(frozen=True)
class NodingReport:
    """What :func:`node_lines` did.

    Attributes
    ----------
    lines_in : int
        Lines given (after splitting multi-part lines into parts).
    lines_out : int
        Lines returned.
    split_shared_vertices : int
        Interior vertices at which a line was split because another line (or
        the same line again) uses that vertex.
    split_touching_ends : int
        Points where a line was split because another line's end lies on its
        interior with no vertex there (after snapping).
    split_crossings : int
        Crossing points with no vertex in the input at which both lines were
        split (each point counted once).
    crossings_kept : int
        Crossings with no shared vertex left unsplit: a bridge, a tunnel, or
        different layers.
    endpoints_snapped : int
        Dangling line ends moved (by at most ``tolerance_m``) onto a nearby line.
    """

    lines_in: int
    lines_out: int
    split_shared_vertices: int
    split_touching_ends: int
    split_crossings: int
    crossings_kept: int
    endpoints_snapped: int


def split_at_shared_vertices(
    node_ids: npt.NDArray[np.int64] | npt.NDArray[np.void],
    coords: npt.NDArray[np.float64],
    n_vertices: npt.NDArray[np.int64],
) -> tuple[npt.NDArray[np.object_], npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """Split lines at every interior vertex whose id occurs more than once among all lines.

    Parameters
    ----------
    node_ids : numpy.ndarray of int64 or void, shape (n,)
        Id of each vertex (an OSM node id, or a point on a 1 mm grid), lines
        one after another.
    coords : numpy.ndarray of float64, shape (n, 2)
        Vertex coordinates (any CRS).
    n_vertices : numpy.ndarray of int64, shape (m,)
        Number of vertices of each line (each at least 2).

    Returns
    -------
    lines : numpy.ndarray of shapely.LineString, shape (k,)
        The pieces, in line order, each running from a junction (or line end)
        to the next.
    line_index : numpy.ndarray of int64, shape (k,)
        Index (0..m-1) of the line each piece comes from.
    cut : numpy.ndarray of bool, shape (n,)
        Whether the line was split at each vertex.

    Notes
    -----
    A vertex is a junction when its id occurs more than once in all lines
    together (two lines meet there, or one line passes through itself); a
    line's own first and last vertex never split it. O(n log n).
    """
    n = len(node_ids)
    if n == 0:
        return np.array([], dtype=object), np.array([], dtype=np.int64), np.zeros(0, dtype=bool)
    starts = np.concatenate(([0], np.cumsum(n_vertices)[:-1])).astype(np.int64)
    line_of = np.repeat(np.arange(len(n_vertices)), n_vertices)
    pos = np.arange(n) - starts[line_of]
    _, inverse, counts = np.unique(node_ids, return_inverse=True, return_counts=True)
    interior = (pos > 0) & (pos < n_vertices[line_of] - 1)
    cut = interior & (counts[inverse.ravel()] > 1)
    # a cut vertex ends one piece and starts the next: repeat it once
    vert = np.repeat(np.arange(n), 1 + cut.astype(np.int64))
    new_piece = np.zeros(len(vert), dtype=bool)
    new_piece[1:] = vert[1:] == vert[:-1]  # the second copy of a cut vertex
    new_piece |= pos[vert] == 0
    piece = np.cumsum(new_piece) - 1
    lines = shapely.linestrings(coords[vert], indices=piece)
    return lines, line_of[vert[new_piece]].astype(np.int64), cut


def _grade_info(gdf: gpd.GeoDataFrame) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.str_]] | None:
    """Return (bridge or tunnel, layer) per row, or None if the layer carries neither."""
    n = len(gdf)

    def column(name: str) -> pd.Series | None:
        if name in gdf:
            return gdf[name].astype("string").str.strip().str.lower()
        if "other_tags" in gdf:  # GDAL's OSM driver: '"bridge"=>"yes","layer"=>"1"'
            found = gdf["other_tags"].astype("string").str.extract(f'"{name}"=>"([^"]*)"')[0]
            if found.notna().any():
                return found.str.strip().str.lower()
        return None

    bridge, tunnel, layer = column("bridge"), column("tunnel"), column("layer")
    if bridge is None and tunnel is None and layer is None:
        return None
    raised = np.zeros(n, dtype=bool)
    for col in (bridge, tunnel):
        if col is not None:
            raised |= ~col.fillna("").isin(_NO).to_numpy()
    lay = layer.fillna("0").to_numpy().astype(str) if layer is not None else np.full(n, "0")
    return raised, lay


@dataclass
class _Inserts:
    """Points to add as vertices: line index, distance along it (m), x, y, why."""

    line: list[npt.NDArray[np.int64]]
    dist: list[npt.NDArray[np.float64]]
    xy: list[npt.NDArray[np.float64]]
    kind: list[npt.NDArray[np.int8]]

    def add(
        self,
        line: npt.NDArray[np.int64],
        geoms: npt.NDArray[np.object_],
        pts: npt.NDArray[np.object_],
        *,
        kind: int,
    ) -> None:
        self.kind.append(np.full(line.size, kind, dtype=np.int8))
        self.line.append(line.astype(np.int64))
        self.dist.append(shapely.line_locate_point(geoms[line], pts))
        self.xy.append(shapely.get_coordinates(pts).reshape(-1, 2))


def _crossings(
    geoms: npt.NDArray[np.object_],
    tree: shapely.STRtree,
    grade: tuple[npt.NDArray[np.bool_], npt.NDArray[np.str_]] | None,
    *,
    vertex_ids: npt.NDArray[np.void],
    inserts: _Inserts,
) -> int:
    """Add the crossing points at grade to ``inserts``; return how many crossings stay unsplit.

    ``grade`` is (bridge or tunnel, layer) per line of ``geoms``, or None.
    """
    a, b = tree.query(geoms, predicate="crosses")
    keep = a < b
    a, b = a[keep], b[keep]
    if grade is not None:
        raised, layer = grade
        at_grade = ~raised[a] & ~raised[b] & (layer[a] == layer[b])
    else:
        at_grade = np.ones(a.size, dtype=bool)
    pts = shapely.intersection(geoms[a], geoms[b])
    # one crossing pair may cross several times: one row per point; lines that pass
    # through one shared vertex "cross" too, and are split there anyway
    parts, pair = shapely.get_parts(pts, return_index=True)
    is_point = shapely.get_type_id(parts) == shapely.GeometryType.POINT
    parts, pair = parts[is_point], pair[is_point]
    shared = np.isin(_point_ids(shapely.get_coordinates(parts).reshape(-1, 2)), vertex_ids)
    kept = int((~at_grade[pair] & ~shared).sum())
    if grade is None and (~shared).any():
        logger.warning(
            "noding: %d crossings with no shared vertex split, with no bridge/tunnel/layer "
            "data to tell bridges from junctions; add those columns to keep bridges unjoined",
            int((~shared).sum()),
        )
    parts, pair = parts[at_grade[pair]], pair[at_grade[pair]]
    inserts.add(a[pair], geoms, parts, kind=_CROSS)
    inserts.add(b[pair], geoms, parts, kind=_CROSS)
    return kept


def _snap_ends(
    geoms: npt.NDArray[np.object_],
    tree: shapely.STRtree,
    coords: npt.NDArray[np.float64],
    *,
    first: npt.NDArray[np.int64],
    last: npt.NDArray[np.int64],
    tolerance_m: float,
    inserts: _Inserts,
) -> int:
    """Mark where line ends touch other lines; move dangling ends onto a line within tolerance.

    An end that lies on another line (to 1 mm) splits that line there. A
    dangling end (no other line uses that point) within ``tolerance_m`` of
    other lines is moved onto the nearest one, which is split there. Changes
    ``coords`` in place; returns the number of ends moved.
    """
    m = len(geoms)
    ids = _point_ids(coords)
    end_vertex = np.concatenate([first, last])
    end_line = np.concatenate([np.arange(m), np.arange(m)])
    _, inverse, counts = np.unique(ids, return_inverse=True, return_counts=True)
    # a piece shorter than the tolerance keeps its ends (snapping could fold it onto itself)
    long_enough = shapely.length(geoms[end_line]) > 2 * tolerance_m
    dangling = (counts[inverse.ravel()][end_vertex] == 1) & long_enough
    ends = shapely.points(coords[end_vertex])
    e, j = tree.query(ends, predicate="dwithin", distance=tolerance_m)
    # lines that end at this very point already meet it there
    end_id = ids[end_vertex[e]]
    keep = (end_line[e] != j) & (end_id != ids[first[j]]) & (end_id != ids[last[j]])
    e, j = e[keep], j[keep]
    dist = shapely.distance(ends[e], geoms[j])
    keep = dangling[e] | (dist <= _SAME_POINT_M)
    e, j, dist = e[keep], j[keep], dist[keep]
    # a dangling end goes to its nearest line only (ties: lowest line index)
    order = np.lexsort((j, dist, e))
    e, j, dist = e[order], j[order], dist[order]
    first_of_end = np.ones(e.size, dtype=bool)
    first_of_end[1:] = e[1:] != e[:-1]
    keep = first_of_end | (dist <= _SAME_POINT_M)
    e, j, dist = e[keep], j[keep], dist[keep]
    along = shapely.line_locate_point(geoms[j], ends[e])
    target = shapely.line_interpolate_point(geoms[j], along)
    touching = dist <= _SAME_POINT_M
    target[touching] = ends[e[touching]]
    # two dangling ends near each other: only the higher-numbered line moves
    at_end = (along <= 0) | (along >= shapely.length(geoms[j]))
    target_xy = shapely.get_coordinates(target).reshape(-1, 2)
    target_dangles = at_end & np.isin(_point_ids(target_xy), ids[end_vertex[dangling]])
    ok = touching | ~target_dangles | (end_line[e] > j)
    e, j, target, target_xy, touching = e[ok], j[ok], target[ok], target_xy[ok], touching[ok]
    move = ~touching
    coords[end_vertex[e[move]]] = target_xy[move]
    inserts.add(j, geoms, target, kind=_TOUCH)
    return int(np.unique(e[move]).size)


def _point_ids(xy: npt.NDArray[np.float64]) -> npt.NDArray[np.void]:
    """Return one id per point on a 1 mm grid: equal ids for the same grid point, exactly.

    The id is the pair of grid indices seen as one 16-byte value, so ids from
    different calls compare equal when the points do.
    """
    q = np.ascontiguousarray(np.round(xy / _SAME_POINT_M).astype(np.int64))
    return q.view(np.dtype((np.void, 16))).ravel()


def node_lines(
    gdf_lines: gpd.GeoDataFrame, *, tolerance_m: float = 0.5, split_crossings: bool = True
) -> tuple[gpd.GeoDataFrame, NodingReport]:
    """Split lines where they meet so that every junction is a line end, keeping attributes.

    Parameters
    ----------
    gdf_lines : geopandas.GeoDataFrame
        (Multi)LineStrings in a projected, metric CRS.
    tolerance_m : float, default 0.5
        A dangling line end closer than this to another line (m) is moved onto
        it and the other line split there (digitising gaps of a few cm up to a
        kerb's width; OSM ways that join share a node and need no tolerance).
    split_crossings : bool, default True
        Whether to split lines that cross at grade (see the module docstring
        for how bridges, tunnels and layers are told apart).

    Returns
    -------
    gdf_split : geopandas.GeoDataFrame
        One row per piece, with the columns of the line it comes from, the
        same CRS and a fresh ``RangeIndex``. Rows with empty or missing
        geometry, or lines under 2 mm long, are passed through unchanged at
        the end.
    report : NodingReport
        Counts of what was split and snapped.

    Raises
    ------
    CRSError
        If ``gdf_lines`` has no CRS or a geographic one.

    Notes
    -----
    Vectorised: one ``STRtree`` query for crossings and one for ends near
    lines, then one sort of all vertices with the inserted points.
    O((n + k) log n) for n vertices and k inserted points.
    """
    if gdf_lines.crs is None or not gdf_lines.crs.is_projected:
        msg = (
            "node_lines needs lines in a projected, metric CRS (got "
            f"{gdf_lines.crs}); reproject first, e.g. gdf.to_crs('EPSG:27700')."
        )
        raise CRSError(msg)
    missing = gdf_lines.geometry.isna().to_numpy()  # explode would drop these rows
    gdf = gdf_lines.loc[~missing].explode(index_parts=False).reset_index(drop=True)
    gdf = pd.concat([gdf, gdf_lines.loc[missing]], ignore_index=True)
    geoms = gdf.geometry.to_numpy()
    ok = (shapely.get_type_id(geoms) == shapely.GeometryType.LINESTRING) & ~shapely.is_empty(geoms)
    # a line shorter than the 1 mm grid could collapse to one point: passed through as given
    ok[ok] &= shapely.length(geoms[ok]) > 2 * _SAME_POINT_M
    rest, gdf = gdf.loc[~ok], gdf.loc[ok].reset_index(drop=True)
    geoms = geoms[ok]
    # stage 1, exact and cheap: split at vertices that lines share
    coords, line_of = shapely.get_coordinates(geoms, return_index=True)
    pieces, src, kind_1, _ = _split_with_inserts(coords, line_of, _Inserts([], [], [], []))
    # stage 2, on the (short) pieces: ends on or near other pieces, crossings with no vertex
    coords, line_of = shapely.get_coordinates(pieces, return_index=True)
    n_vertices = np.bincount(line_of, minlength=len(pieces)).astype(np.int64)
    last = np.cumsum(n_vertices) - 1
    first = last - n_vertices + 1
    tree = shapely.STRtree(pieces)
    inserts = _Inserts([], [], [], [])
    snapped = _snap_ends(
        pieces, tree, coords, first=first, last=last, tolerance_m=tolerance_m, inserts=inserts
    )
    kept = 0
    if split_crossings:
        grade = _grade_info(gdf)
        grade = None if grade is None else (grade[0][src], grade[1][src])
        kept = _crossings(pieces, tree, grade, vertex_ids=_point_ids(coords), inserts=inserts)
    pieces, src_2, cut_kind, cut_xy = _split_with_inserts(coords, line_of, inserts)
    out = gdf.iloc[src[src_2]].reset_index(drop=True)
    out = out.set_geometry(gpd.GeoSeries(pieces, crs=gdf.crs).to_numpy())
    if len(rest):
        out = pd.concat([out, rest], ignore_index=True)
    report = NodingReport(
        lines_in=len(gdf) + len(rest),
        lines_out=len(out),
        split_shared_vertices=int((kind_1 == _ORIGINAL).sum() + (cut_kind == _ORIGINAL).sum()),
        split_touching_ends=int((cut_kind == _TOUCH).sum()),
        split_crossings=int(np.unique(_point_ids(cut_xy[cut_kind == _CROSS])).size),
        crossings_kept=kept,
        endpoints_snapped=snapped,
    )
    logger.info(
        "noding: %d lines -> %d (split at %d shared vertices, %d touching ends, %d crossings; "
        "%d bridge/tunnel/layer crossings kept; %d ends snapped)",
        report.lines_in, report.lines_out, report.split_shared_vertices,
        report.split_touching_ends, report.split_crossings, report.crossings_kept,
        report.endpoints_snapped,
    )  # fmt: skip
    return out, report


def _split_with_inserts(
    coords: npt.NDArray[np.float64],
    line_of: npt.NDArray[np.int64],
    inserts: _Inserts,
) -> tuple[
    npt.NDArray[np.object_], npt.NDArray[np.int64], npt.NDArray[np.int8], npt.NDArray[np.float64]
]:
    """Add the inserted points as vertices (in order along each line), then split.

    Returns the pieces, the line each comes from, and why each cut vertex is
    there and where it is.
    """
    n_vertices = np.bincount(line_of).astype(np.int64)
    seg = np.hypot(*np.diff(coords, axis=0).T)
    seg = np.concatenate(([0.0], seg))
    starts = np.cumsum(n_vertices) - n_vertices
    seg[starts] = 0.0
    cum = np.cumsum(seg)
    dist = cum - cum[starts][line_of]
    ins_line = np.concatenate([line_of.astype(np.int64), *inserts.line])
    ins_dist = np.concatenate([dist, *inserts.dist])
    ins_xy = np.vstack([coords, *inserts.xy])
    kind = np.concatenate([np.full(line_of.size, _ORIGINAL, dtype=np.int8), *inserts.kind])
    order = np.lexsort((kind, ins_dist, ins_line))
    line, xy, kind = ins_line[order], ins_xy[order], kind[order]
    ids = _point_ids(xy)
    # drop a vertex equal to the one before it on the same line (an insert on a vertex)
    dup = np.zeros(line.size, dtype=bool)
    dup[1:] = (line[1:] == line[:-1]) & (ids[1:] == ids[:-1])
    # a kept vertex is an input vertex if any of its duplicates was
    run_start = np.flatnonzero(~dup)
    kind = np.minimum.reduceat(kind, run_start)
    line, xy, ids = line[~dup], xy[~dup], ids[~dup]
    counts = np.bincount(line, minlength=n_vertices.size).astype(np.int64)
    pieces, src, cut = split_at_shared_vertices(ids, xy, counts)
    return pieces, src, kind[cut], xy[cut]
