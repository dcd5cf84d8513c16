"""Stage 2 — build the trench graph: streets split at every drop point, priced per metre.

Takes ``gdf_streets`` and ``gdf_premises`` (one metric CRS, from
:mod:`fibreplan.load`) and gives a :class:`TrenchGraph`: plain arrays of node
coordinates and edges (``length_m``, ``cost_gbp``, surface class, the street
row and the stretch of it each edge covers), every premises' terminal node and
drop length, the premises that cannot be served with a reason, and the
headend node. The optimiser sees only :meth:`TrenchGraph.csr`.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Literal

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import pyproj
import scipy.sparse as sp
import shapely
from scipy.sparse import csgraph

from fibreplan._crs import WGS84
from fibreplan._crs import require_metric
from fibreplan._errors import InputValidationError
from fibreplan.config import CostBook

__all__ = [
    "REASONS",
    "TrenchGraph",
    "build_trench_graph",
    "line_substrings",
    "surface_class",
]

logger = logging.getLogger(__name__)

#: Why a premises cannot be connected (the ``reason`` column of the premises layer).
REASONS = {
    "invalid_geometry": "the premises has an empty, missing or invalid point",
    "too_far_from_street": "no street within the maximum drop length",
    "disconnected_street_network": "its street is not connected to the headend's network",
}

# Positions along a street closer than this are one drop point (metres).
_SNAP_M = 0.01
# Smallest edge length kept, so that every weight is positive (metres).
_MIN_EDGE_M = 1e-3

_FOOT_HIGHWAYS = frozenset({"footway", "pedestrian", "path", "cycleway", "bridleway", "steps"})
_SOFT_SURFACES = frozenset(
    {"unpaved", "gravel", "fine_gravel", "dirt", "grass", "ground", "earth", "compacted",
     "mud", "sand", "woodchips", "grass_paver"}
)  # fmt: skip
_NO_SIDEWALK = frozenset({"no", "none"})


@dataclasses.dataclass(frozen=True)
class TrenchGraph:
    """The street network as a priced trench graph, in plain arrays.

    Attributes
    ----------
    crs : pyproj.CRS
        Projected CRS of ``node_xy`` (metres).
    node_xy : numpy.ndarray, shape (n, 2)
        Node coordinates in metres: street junctions and drop points.
    edge_u, edge_v : numpy.ndarray of int64, shape (m,)
        Edge end nodes; ``edge_u`` is at ``edge_start_m`` along the street line.
    edge_length_m : numpy.ndarray of float64, shape (m,)
        Trench length, metres.
    edge_cost_gbp : numpy.ndarray of float64, shape (m,)
        Cost of trenching the edge, GBP (the optimiser's weight).
    edge_surface : numpy.ndarray of str, shape (m,)
        Surface class dug (``carriageway``, ``footway`` or ``verge``).
    edge_street : numpy.ndarray of int64, shape (m,)
        Row of ``gdf_streets`` the edge lies on.
    edge_start_m, edge_end_m : numpy.ndarray of float64, shape (m,)
        Stretch of the street line the edge covers (metres from its start).
    premises_node : numpy.ndarray of int64, shape (p,)
        Node where each premises' drop meets the street; -1 if unreachable.
    premises_drop_m : numpy.ndarray of float64, shape (p,)
        Straight-line drop length, metres; NaN where there is no street in reach.
    premises_reason : numpy.ndarray of str, shape (p,)
        ``""`` for a reachable premises, else a key of :data:`REASONS`.
    headend_node : int
        Node of the headend (OLT).
    headend_xy : tuple of float
        The headend's position as given or chosen (metres, before snapping).
    headend_how : str
        How the headend was chosen, for the summary.
    """

    crs: pyproj.CRS
    node_xy: npt.NDArray[np.float64]
    edge_u: npt.NDArray[np.int64]
    edge_v: npt.NDArray[np.int64]
    edge_length_m: npt.NDArray[np.float64]
    edge_cost_gbp: npt.NDArray[np.float64]
    edge_surface: npt.NDArray[np.str_]
    edge_street: npt.NDArray[np.int64]
    edge_start_m: npt.NDArray[np.float64]
    edge_end_m: npt.NDArray[np.float64]
    premises_node: npt.NDArray[np.int64]
    premises_drop_m: npt.NDArray[np.float64]
    premises_reason: npt.NDArray[np.str_]
    headend_node: int
    headend_xy: tuple[float, float]
    headend_how: str

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return int(self.node_xy.shape[0])

    def csr(self, *, weight: Literal["cost_gbp", "length_m"] = "cost_gbp") -> sp.csr_array:
        """Return the symmetric weighted adjacency for the optimiser.

        Parameters
        ----------
        weight : {"cost_gbp", "length_m"}, default "cost_gbp"
            Edge weight. Parallel edges keep the cheapest.

        Returns
        -------
        scipy.sparse.csr_array
            Canonical adjacency (see :mod:`fibreplan.optimise`).
        """
        from fibreplan.optimise._graph import canonical_csr

        w = self.edge_cost_gbp if weight == "cost_gbp" else self.edge_length_m
        n = self.n_nodes
        A = sp.coo_array((np.maximum(w, 1e-9), (self.edge_u, self.edge_v)), shape=(n, n))
        return canonical_csr(A)

    def edge_index(self, pairs: npt.ArrayLike) -> npt.NDArray[np.int64]:
        """Map node pairs (a tree from the optimiser) to the cheapest matching edge rows.

        Parameters
        ----------
        pairs : array-like, shape (k, 2)
            Node pairs in any orientation.

        Returns
        -------
        numpy.ndarray of int64, shape (k,)
            Edge row for each pair.

        Raises
        ------
        InputValidationError
            If a pair is not an edge.
        """
        p = np.sort(np.asarray(pairs, dtype=np.int64).reshape(-1, 2), axis=1)
        lo = np.minimum(self.edge_u, self.edge_v)
        hi = np.maximum(self.edge_u, self.edge_v)
        order = np.lexsort((self.edge_cost_gbp, hi, lo))
        key = lo[order] * self.n_nodes + hi[order]
        first = np.ones(key.size, dtype=bool)
        first[1:] = key[1:] != key[:-1]
        key, rows = key[first], order[first]
        want = p[:, 0] * self.n_nodes + p[:, 1]
        pos = np.searchsorted(key, want)
        pos = np.minimum(pos, key.size - 1)
        if key.size == 0 or np.any(key[pos] != want):
            msg = "some node pairs are not edges of the trench graph."
            raise InputValidationError(msg)
        return rows[pos]


def surface_class(gdf_streets: gpd.GeoDataFrame) -> npt.NDArray[np.str_]:
    """Classify the surface a trench along each street is dug in, from OSM tags.

    Parameters
    ----------
    gdf_streets : geopandas.GeoDataFrame
        Streets with (optional) ``highway``, ``surface`` and ``sidewalk`` columns.

    Returns
    -------
    numpy.ndarray of str
        ``"verge"`` (soft: unpaved surface or a track), ``"footway"`` (a
        footpath, or a road with a pavement, where UK narrow trenching goes),
        or ``"carriageway"`` (a road tagged ``sidewalk=no`` and service roads).

    Notes
    -----
    Default when tags are missing: a road is assumed to have a footway beside
    it (most UK streets do), except ``service`` roads and tracks.
    """
    n = len(gdf_streets)

    def col(name: str) -> pd.Series:
        if name in gdf_streets:
            return gdf_streets[name].astype("string").str.lower().fillna("")
        return pd.Series([""] * n, index=gdf_streets.index, dtype="string")

    highway, surface, sidewalk = col("highway"), col("surface"), col("sidewalk")
    soft = surface.isin(_SOFT_SURFACES) | highway.eq("track")
    foot = highway.isin(_FOOT_HIGHWAYS)
    carriage = sidewalk.isin(_NO_SIDEWALK) | (highway.eq("service") & ~sidewalk.isin({"both", "left", "right", "yes", "separate"}))  # noqa: E501
    out = np.where(soft, "verge", np.where(foot, "footway", np.where(carriage, "carriageway", "footway")))
    return out.astype(str)


def line_substrings(
    lines: npt.NDArray[np.object_],
    line_index: npt.NDArray[np.int64],
    start_m: npt.NDArray[np.float64],
    end_m: npt.NDArray[np.float64],
) -> npt.NDArray[np.object_]:
    """Cut pieces out of lines, vectorised (``shapely.ops.substring`` for arrays).

    Parameters
    ----------
    lines : numpy.ndarray of shapely.LineString, shape (s,)
        The lines to cut from.
    line_index : numpy.ndarray of int64, shape (k,)
        Which line each piece is cut from.
    start_m, end_m : numpy.ndarray of float64, shape (k,)
        Distances along each piece's line, metres, with ``start_m <= end_m``.

    Returns
    -------
    numpy.ndarray of shapely.LineString, shape (k,)
        The pieces, running from ``start_m`` to ``end_m``.
    """
    k = len(line_index)
    if k == 0:
        return np.array([], dtype=object)
    uniq, inverse = np.asarray(lines, dtype=object), np.asarray(line_index, dtype=np.int64)
    coords, owner = shapely.get_coordinates(uniq, return_index=True)
    step = np.zeros(len(coords))
    same = owner[1:] == owner[:-1]
    step[1:] = np.where(same, np.hypot(*(coords[1:] - coords[:-1]).T), 0.0)
    cum = np.cumsum(step)
    first_of_line = np.searchsorted(owner, np.arange(len(uniq)))
    cum -= cum[first_of_line][owner]  # distance from each line's start
    offset = np.concatenate([[0.0], np.cumsum(shapely.length(uniq) + 1.0)])[:-1]
    key = cum + offset[owner]
    lo = np.searchsorted(key, start_m + offset[inverse], side="right")
    hi = np.searchsorted(key, end_m + offset[inverse], side="left")
    hi = np.maximum(hi, lo)
    inner = hi - lo
    a = shapely.get_coordinates(shapely.line_interpolate_point(uniq[inverse], start_m))
    b = shapely.get_coordinates(shapely.line_interpolate_point(uniq[inverse], end_m))
    n_out = inner + 2
    piece = np.repeat(np.arange(k), n_out)
    base = np.concatenate([[0], np.cumsum(n_out)[:-1]])
    rank = np.arange(piece.size) - base[piece]
    out = np.empty((piece.size, 2))
    is_a = rank == 0
    is_b = rank == n_out[piece] - 1
    mid = ~(is_a | is_b)
    out[is_a] = a
    out[is_b] = b
    out[mid] = coords[lo[piece[mid]] + rank[mid] - 1]
    return shapely.linestrings(out, indices=piece)


def _snap_premises(
    street_geoms: npt.NDArray[np.object_],
    points: npt.NDArray[np.object_],
    *,
    max_drop_m: float,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.str_]]:  # noqa: E501
    """Find each point's nearest street within ``max_drop_m``: street row, position, distance."""
    p = len(points)
    street = np.full(p, -1, dtype=np.int64)
    pos = np.full(p, np.nan)
    dist = np.full(p, np.nan)
    reason = np.full(p, "", dtype=object)
    valid = ~(shapely.is_missing(points) | shapely.is_empty(points))
    valid &= shapely.get_type_id(points) == shapely.GeometryType.POINT
    present = np.flatnonzero(valid)
    xy = shapely.get_coordinates(points[present])
    valid[present] = np.isfinite(xy).all(axis=1) & shapely.is_valid(points[present])
    reason[~valid] = "invalid_geometry"
    tree = shapely.STRtree(street_geoms)
    idx = np.flatnonzero(valid)
    (q, t), d = tree.query_nearest(
        points[idx], max_distance=max_drop_m, return_distance=True, all_matches=False
    )
    # all_matches=False can still return ties in rare cases: keep the first per query
    q, first = np.unique(q, return_index=True)
    t, d = t[first], d[first]
    rows = idx[q]
    street[rows] = t
    dist[rows] = d
    pos[rows] = shapely.line_locate_point(street_geoms[t], points[rows])
    far = valid.copy()
    far[rows] = False
    reason[far] = "too_far_from_street"
    return street, pos, dist, reason.astype(str)


def build_trench_graph(
    gdf_streets: gpd.GeoDataFrame,
    gdf_premises: gpd.GeoDataFrame,
    *,
    costs: CostBook | None = None,
    max_drop_m: float = 500.0,
    headend: tuple[float, float] | shapely.Point | None = None,
) -> TrenchGraph:
    """Split the streets at every premises' drop point and price every stretch.

    Parameters
    ----------
    gdf_streets : geopandas.GeoDataFrame
        Street centrelines (LineStrings) in a projected CRS in metres.
    gdf_premises : geopandas.GeoDataFrame
        Premises points in the same CRS.
    costs : CostBook, optional
        Unit costs; default :class:`~fibreplan.config.CostBook` ``()``.
    max_drop_m : float, default 500.0
        Premises farther than this from every street are unreachable
        (``too_far_from_street``), metres.
    headend : tuple of float or shapely.Point, optional
        Headend (OLT) position: ``(lon, lat)`` in degrees, or a Point in the
        streets' CRS. Default: the approximate 1-median of the premises over
        the street network (see Notes).

    Returns
    -------
    TrenchGraph
        The priced graph, drop points and reachability of every premises.

    Raises
    ------
    CRSError
        If either input is not in a projected metric CRS, or the CRSs differ.
    InputValidationError
        If there are no usable streets, ``max_drop_m`` is not positive, or the
        headend is more than ``max_drop_m`` from every street.

    Notes
    -----
    Each premises is joined by a straight drop to the nearest point of the
    nearest street (one bulk ``STRtree.query_nearest``); the street is split
    there. Without a given headend, the headend is the best of up to 32
    candidate nodes nearest the demand-weighted centroid of the largest
    connected part of the network, judged by the sum over premises of units x
    network distance (an approximate 1-median). Premises outside the headend's
    connected component are reported as ``disconnected_street_network``.
    """
    costs = costs or CostBook()
    if not max_drop_m > 0:
        msg = f"max_drop_m must be > 0 metres; got {max_drop_m}."
        raise InputValidationError(msg)
    require_metric(gdf_streets, name="gdf_streets")
    require_metric(gdf_premises, name="gdf_premises")
    if not gdf_streets.crs.equals(gdf_premises.crs):
        gdf_premises = gdf_premises.to_crs(gdf_streets.crs)
        logger.info("premises reprojected to the streets' CRS %s", gdf_streets.crs.to_string())
    geoms = gdf_streets.geometry.to_numpy()
    usable = (
        shapely.get_type_id(geoms) == shapely.GeometryType.LINESTRING
    ) & ~shapely.is_empty(geoms)
    usable &= shapely.length(geoms) > _MIN_EDGE_M
    if not usable.any():
        msg = "gdf_streets has no usable LineString (all empty, zero-length or not lines)."
        raise InputValidationError(msg)
    if not usable.all():
        logger.warning("%d street rows are empty or not LineStrings: ignored", int((~usable).sum()))
    street_rows = np.flatnonzero(usable)
    lines = geoms[usable]
    lengths = shapely.length(lines)
    surface_all = surface_class(gdf_streets)
    surface = surface_all[usable]

    points = gdf_premises.geometry.to_numpy()
    sp_idx, sp_pos, sp_dist, reason = _snap_premises(lines, points, max_drop_m=max_drop_m)

    head_pt, head_how = _headend_point(headend, gdf_streets.crs)
    if head_pt is not None:
        h_idx, h_pos, h_dist, h_reason = _snap_premises(
            lines, np.array([head_pt], dtype=object), max_drop_m=max_drop_m
        )
        if h_reason[0]:
            msg = (
                f"headend at {headend} is more than max_drop_m={max_drop_m} m from every street; "
                "give a point on or near the street network."
            )
            raise InputValidationError(msg)
        sp_idx = np.append(sp_idx, h_idx)
        sp_pos = np.append(sp_pos, h_pos)

    # --- breakpoints: street ends plus every drop point, per street -------------------
    starts = shapely.get_coordinates(shapely.get_point(lines, 0))
    ends = shapely.get_coordinates(shapely.get_point(lines, -1))
    end_xy = np.round(np.vstack([starts, ends]) / _SNAP_M).astype(np.int64)
    junction_key, junction_id = np.unique(end_xy, axis=0, return_inverse=True)
    junction_id = junction_id.ravel()
    n_j = junction_key.shape[0]
    s = lines.size
    attach = sp_idx >= 0
    a_street = sp_idx[attach]
    a_pos = np.clip(np.round(sp_pos[attach] / _SNAP_M) * _SNAP_M, 0.0, lengths[a_street])
    bp_street = np.concatenate([np.arange(s), np.arange(s), a_street])
    bp_pos = np.concatenate([np.zeros(s), lengths, a_pos])
    bp_node = np.concatenate([junction_id[:s], junction_id[s:], np.full(a_street.size, -1)])
    order = np.lexsort((bp_node == -1, bp_pos, bp_street))  # ends first at equal position
    bp_street, bp_pos, bp_node = bp_street[order], bp_pos[order], bp_node[order]
    new = np.ones(bp_street.size, dtype=bool)
    new[1:] = (bp_street[1:] != bp_street[:-1]) | (bp_pos[1:] - bp_pos[:-1] > _SNAP_M / 2)
    group = np.cumsum(new) - 1
    g_node = np.full(group[-1] + 1, -1, dtype=np.int64)
    has_node = bp_node >= 0
    g_node[group[has_node]] = bp_node[has_node]
    fresh = g_node < 0
    g_node[fresh] = n_j + np.arange(int(fresh.sum()))
    g_street, g_pos = bp_street[new], bp_pos[new]
    node_of_bp = np.empty(order.size, dtype=np.int64)
    node_of_bp[order] = g_node[group]

    n_nodes = n_j + int(fresh.sum())
    node_xy = np.empty((n_nodes, 2))
    node_xy[:n_j] = junction_key * _SNAP_M
    fresh_groups = np.flatnonzero(fresh)
    node_xy[g_node[fresh_groups]] = shapely.get_coordinates(
        shapely.line_interpolate_point(lines[g_street[fresh_groups]], g_pos[fresh_groups])
    )
    node_xy[:n_j] = shapely.get_coordinates(  # exact (unrounded) junction coordinates
        shapely.points(np.vstack([starts, ends]))
    )[np.unique(junction_id, return_index=True)[1]]

    # --- edges: consecutive breakpoints on the same street -----------------------------
    same = g_street[1:] == g_street[:-1]
    e_street = g_street[1:][same]
    e_start, e_end = g_pos[:-1][same], g_pos[1:][same]
    e_u, e_v = g_node[:-1][same], g_node[1:][same]
    keep = e_u != e_v
    e_street, e_start, e_end, e_u, e_v = (x[keep] for x in (e_street, e_start, e_end, e_u, e_v))
    e_len = np.maximum(e_end - e_start, _MIN_EDGE_M)
    e_surface = surface[e_street]
    rate = np.array([costs.trench_gbp_per_m[x] for x in e_surface], dtype=np.float64)
    e_cost = e_len * rate

    # --- premises -> node ------------------------------------------------------------
    p = len(points)
    attach_nodes = node_of_bp[2 * s :]  # breakpoints were (starts, ends, attaches)
    all_attach = np.full(sp_idx.size, -1, dtype=np.int64)
    all_attach[attach] = attach_nodes
    premises_node = all_attach[:p]
    head_node_given = int(all_attach[p]) if head_pt is not None else None

    A = sp.coo_array(
        (np.maximum(e_cost, 1e-9), (e_u, e_v)), shape=(n_nodes, n_nodes)
    ).tocsr()
    _, comp = csgraph.connected_components(A, directed=False)
    units = (
        gdf_premises["units"].to_numpy(dtype=np.float64)
        if "units" in gdf_premises
        else np.ones(p)
    )
    if head_node_given is None:
        head_node, head_xy, head_how = _one_median(A, comp, premises_node, units, node_xy)
    else:
        head_node = head_node_given
        head_xy = (float(head_pt.x), float(head_pt.y))
    ok = premises_node >= 0
    cut = ok & (comp[np.maximum(premises_node, 0)] != comp[head_node])
    reason = reason.astype(object)
    reason[cut] = "disconnected_street_network"
    premises_node = np.where(cut, -1, premises_node)
    tg = TrenchGraph(
        crs=gdf_streets.crs,
        node_xy=node_xy,
        edge_u=e_u.astype(np.int64),
        edge_v=e_v.astype(np.int64),
        edge_length_m=e_len,
        edge_cost_gbp=e_cost,
        edge_surface=e_surface,
        edge_street=street_rows[e_street].astype(np.int64),
        edge_start_m=e_start,
        edge_end_m=e_end,
        premises_node=premises_node.astype(np.int64),
        premises_drop_m=sp_dist,
        premises_reason=reason.astype(str),
        headend_node=int(head_node),
        headend_xy=head_xy,
        headend_how=head_how,
    )
    counts = pd.Series(tg.premises_reason[tg.premises_reason != ""]).value_counts().to_dict()
    logger.info(
        "trench graph: %d nodes, %d edges, %.1f km; %d of %d premises reachable %s",
        n_nodes, e_len.size, e_len.sum() / 1000, int((tg.premises_node >= 0).sum()), p, counts,
    )  # fmt: skip
    return tg


def _headend_point(
    headend: tuple[float, float] | shapely.Point | None, crs: pyproj.CRS
) -> tuple[shapely.Point | None, str]:
    if headend is None:
        return None, ""
    if isinstance(headend, shapely.Point):
        return headend, "given by the user (point in the plan CRS)"
    try:
        lon, lat = (float(v) for v in headend)
    except (TypeError, ValueError) as err:
        msg = f"headend must be (lon, lat) in degrees or a shapely Point; got {headend!r}."
        raise InputValidationError(msg) from err
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        msg = f"headend ({lon}, {lat}) is not a lon/lat pair in degrees (lon first)."
        raise InputValidationError(msg)
    pt = gpd.GeoSeries([shapely.Point(lon, lat)], crs=WGS84).to_crs(crs).iloc[0]
    return pt, f"given by the user at lon {lon:.6f}, lat {lat:.6f}"


def _one_median(
    A: sp.csr_array,
    comp: npt.NDArray[np.int32],
    premises_node: npt.NDArray[np.int64],
    units: npt.NDArray[np.float64],
    node_xy: npt.NDArray[np.float64],
    *,
    n_candidates: int = 32,
) -> tuple[int, tuple[float, float], str]:
    """Pick the headend: approximate 1-median of the premises over the network."""
    ok = premises_node >= 0
    if not ok.any():
        biggest = np.bincount(comp).argmax()
        node = int(np.flatnonzero(comp == biggest)[0])
        return node, tuple(node_xy[node]), "first node of the largest street component (no premises reachable)"  # noqa: E501
    demand = np.bincount(comp[premises_node[ok]], weights=units[ok], minlength=comp.max() + 1)
    main = int(demand.argmax())
    sel = ok & (comp[np.maximum(premises_node, 0)] == main)
    tnodes, tunits = premises_node[sel], units[sel]
    centroid = np.average(node_xy[tnodes], axis=0, weights=tunits)
    cand_pool = np.flatnonzero(comp == main)
    d2 = np.sum((node_xy[cand_pool] - centroid) ** 2, axis=1)
    cand = cand_pool[np.argsort(d2, kind="stable")[:n_candidates]]
    dist = csgraph.dijkstra(A, directed=False, indices=cand)
    score = dist[:, tnodes] @ tunits
    best = int(cand[int(np.argmin(score))])
    how = (
        "chosen automatically: approximate 1-median of the premises over the street network "
        f"(best of {cand.size} nodes nearest the demand-weighted centroid)"
    )
    return best, (float(node_xy[best, 0]), float(node_xy[best, 1])), how
