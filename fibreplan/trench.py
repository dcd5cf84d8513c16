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
from collections.abc import Sequence
from typing import Literal
from typing import NamedTuple

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
from fibreplan._errors import CRSError
from fibreplan._errors import InputValidationError
from fibreplan._kinds import EdgeKind
from fibreplan.config import SURFACES
from fibreplan.config import CostBook
from fibreplan.config import TrenchRules

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
        Edge end nodes; ``edge_u`` is where the edge's geometry starts.
    edge_length_m : numpy.ndarray of float64, shape (m,)
        Trench length, metres.
    edge_cost_gbp : numpy.ndarray of float64, shape (m,)
        Cost of the edge, GBP (the optimiser's weight): the cheaper of digging
        and renting duct, or a road crossing.
    edge_dig_cost_gbp : numpy.ndarray of float64, shape (m,)
        Cost of digging the edge, GBP (equal to ``edge_cost_gbp`` unless duct
        reuse is cheaper).
    edge_kind : numpy.ndarray of str, shape (m,)
        ``dig``, ``duct_reuse`` (rent an existing duct), ``aerial`` (cable on
        existing poles) or ``crossing`` (across a two-sided road).
    edge_surface : numpy.ndarray of str, shape (m,)
        Surface class (``carriageway``, ``footway`` or ``verge``).
    edge_side : numpy.ndarray of str, shape (m,)
        ``both`` (one trench serves both sides), ``left``/``right`` (a side of
        a two-sided road, relative to the street line's direction) or ``across``.
    edge_street : numpy.ndarray of int64, shape (m,)
        Row of ``gdf_streets`` the edge lies on (or crosses).
    edge_geometry : numpy.ndarray of shapely.LineString, shape (m,)
        The edge's route, in ``crs``.
    edge_area : numpy.ndarray of str, shape (m,)
        ``urban`` or ``rural``: the premises density around the edge's
        midpoint (see :func:`build_trench_graph`), which picks its trench rate.
    edge_new_poles : numpy.ndarray of int64, shape (m,)
        New poles the edge is strung on (``aerial`` edges built on new poles;
        0 elsewhere).
    premises_node : numpy.ndarray of int64, shape (p,)
        Node where each premises' drop meets the street; -1 if unreachable.
    premises_drop_m : numpy.ndarray of float64, shape (p,)
        Straight-line drop length, metres; NaN where there is no street in reach.
    premises_reason : numpy.ndarray of str, shape (p,)
        ``""`` for a reachable premises, else a key of :data:`REASONS`.
    premises_crosses_road : numpy.ndarray of bool, shape (p,)
        Whether the premises' drop crosses a minor road to reach the trench.
    premises_street : numpy.ndarray of int64, shape (p,)
        Row of ``gdf_streets`` the premises is joined to (-1 if none).
    headend_node : int
        Node of the headend (OLT).
    headend_xy : tuple of float
        The headend's position as given or chosen (metres, before snapping).
    headend_how : str
        How the headend was chosen, for the summary.
    headend_nodes : numpy.ndarray of int64, shape (h,)
        Node of every headend given (several headends: a Steiner forest, each
        premises served from one of them); ``headend_nodes[0] == headend_node``.
        Empty means the one ``headend_node``.
    """

    crs: pyproj.CRS
    node_xy: npt.NDArray[np.float64]
    edge_u: npt.NDArray[np.int64]
    edge_v: npt.NDArray[np.int64]
    edge_length_m: npt.NDArray[np.float64]
    edge_cost_gbp: npt.NDArray[np.float64]
    edge_dig_cost_gbp: npt.NDArray[np.float64]
    edge_kind: npt.NDArray[np.str_]
    edge_surface: npt.NDArray[np.str_]
    edge_side: npt.NDArray[np.str_]
    edge_street: npt.NDArray[np.int64]
    edge_geometry: npt.NDArray[np.object_]
    edge_area: npt.NDArray[np.str_]
    edge_new_poles: npt.NDArray[np.int64]
    premises_node: npt.NDArray[np.int64]
    premises_drop_m: npt.NDArray[np.float64]
    premises_reason: npt.NDArray[np.str_]
    premises_crosses_road: npt.NDArray[np.bool_]
    premises_street: npt.NDArray[np.int64]
    headend_node: int
    headend_xy: tuple[float, float]
    headend_how: str
    headend_nodes: npt.NDArray[np.int64] = dataclasses.field(
        default_factory=lambda: np.empty(0, dtype=np.int64)
    )

    @property
    def headends(self) -> npt.NDArray[np.int64]:
        """Nodes of every headend (one or more), the first being :attr:`headend_node`."""
        if self.headend_nodes.size:
            return self.headend_nodes
        return np.array([self.headend_node], dtype=np.int64)

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
        from fibreplan._csr import canonical_csr

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
    carriage = sidewalk.isin(_NO_SIDEWALK) | (
        highway.eq("service") & ~sidewalk.isin({"both", "left", "right", "yes", "separate"})
    )
    out = np.where(
        soft, "verge", np.where(foot, "footway", np.where(carriage, "carriageway", "footway"))
    )
    return out.astype(str)


def line_substrings(
    lines: npt.NDArray[np.object_],
    line_index: npt.NDArray[np.int64],
    start_m: npt.NDArray[np.float64],
    end_m: npt.NDArray[np.float64],
    *,
    start_xy: npt.NDArray[np.float64] | None = None,
    end_xy: npt.NDArray[np.float64] | None = None,
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
    start_xy, end_xy : numpy.ndarray of float64, shape (k, 2), optional
        Coordinates to give each piece's first and last point instead of the
        points at ``start_m`` and ``end_m`` on the line (the graph node a
        piece joins, so that pieces meet their nodes exactly); the vertices
        of the line strictly between ``start_m`` and ``end_m`` are kept.

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
    a = (
        shapely.get_coordinates(shapely.line_interpolate_point(uniq[inverse], start_m))
        if start_xy is None
        else np.asarray(start_xy, dtype=np.float64)
    )
    b = (
        shapely.get_coordinates(shapely.line_interpolate_point(uniq[inverse], end_m))
        if end_xy is None
        else np.asarray(end_xy, dtype=np.float64)
    )
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
) -> _Snapped:
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
    return _Snapped(street, pos, dist, reason.astype(str))


def build_trench_graph(
    gdf_streets: gpd.GeoDataFrame,
    gdf_premises: gpd.GeoDataFrame,
    *,
    costs: CostBook | None = None,
    rules: TrenchRules | None = None,
    headend: tuple[float, float] | shapely.Point | Sequence[object] | None = None,
    existing: gpd.GeoDataFrame | None = None,
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
    rules : TrenchRules, optional
        ``max_drop_m`` (premises farther from every street are unreachable,
        ``too_far_from_street``), ``two_sided_highways`` and ``side_offset_m``
        (roads dug as two sides joined by crossings), ``duct_tolerance_m`` and
        ``duct_min_coverage`` (duct reuse), ``pole_tolerance_m`` and
        ``max_span_m`` (aerial cable); default ``TrenchRules()``.
    headend : tuple of float, shapely.Point or list of them, optional
        Headend (OLT) position: ``(lon, lat)`` in degrees, or a Point in the
        streets' CRS; a list of them gives several headends (premises in the
        street component of any of them are reachable; ``headend_nodes``).
        Default: the approximate 1-median of the premises over the street
        network (see Notes).
    existing : geopandas.GeoDataFrame, optional
        Existing infrastructure that may be used instead of digging: ducts
        (lines, optional ``rent_gbp_per_m_year``) and poles (points, optional
        ``rent_gbp_per_year``), with optional ``owner`` and ``spare_capacity``
        (rows with 0 are not used); rents default to the cost book's.

    Returns
    -------
    TrenchGraph
        The priced graph, drop points and reachability of every premises.

    Raises
    ------
    CRSError
        If an input is not in a projected metric CRS.
    InputValidationError
        If there are no usable streets, or the headend is more than
        ``max_drop_m`` from every street.

    Notes
    -----
    *Surfaces:* each street's surface class comes from :func:`surface_class`.

    *Urban and rural:* an edge is ``urban`` when the premises (their
    ``units``, i.e. addresses; 1 each without the column) in the square
    window of 100 m grid cells around the cell of its midpoint, reaching
    ``rules.urban_radius_m`` (rounded to whole cells) each way, number at
    least ``rules.urban_premises_per_ha`` per hectare of the window; else
    ``rural``. The grid is anchored at multiples of 100 m of the CRS, so an
    edge's class does not depend on the extent of the data, only on the
    premises given (an edge at the edge of the premises file counts only the
    premises in it). Urban edges are dug at ``costs.trench_gbp_per_m``, rural
    ones at ``costs.trench_rural_gbp_per_m`` (crossings too, as carriageway).

    *Sides and crossings:* roads in ``rules.two_sided_highways`` become two
    trench lines offset ``side_offset_m`` either side of the centreline. At
    each junction the corners between consecutive two-sided roads are
    separate nodes, joined across each two-sided road by a crossing edge
    priced ``road_crossing_gbp`` plus its length in carriageway, and so are
    matching points on the two sides of a long road every
    ``crossing_spacing_m`` (mid-block crossings); minor roads and side
    trenches meet in the corner they lie in. So the optimiser
    chooses which side to dig and where to cross. A premises is joined to
    the nearest trench line, which for a two-sided road is its own side. On a
    minor road one trench serves both sides; it runs on the side with more
    premises and the others' drops cross the road (``premises_crosses_road``;
    the costing charges one crossing per street stretch with such premises,
    shared through a far-side joint).

    *Existing ducts and poles:* a stretch with at least ``duct_min_coverage``
    of its length within ``duct_tolerance_m`` of a duct with spare capacity may
    rent it, at the present value of the rent over ``costs.duct_years`` plus
    the network-adjustment allowance ``costs.duct_access_gbp_per_m``. A
    stretch with poles within ``pole_tolerance_m`` no more than
    ``max_span_m`` apart may carry aerial cable, at ``costs.aerial_gbp_per_m``
    plus the present value of each pole's rent. With ``rules.new_poles_rural``
    a rural stretch may also be strung on new poles: ``ceil(length /
    max_span_m)`` of them (each stretch owns the pole at one end) at
    ``costs.pole_gbp`` plus ``costs.aerial_gbp_per_m`` per metre
    (``edge_new_poles``). The edge costs the cheapest of digging, duct and
    poles (``edge_kind`` ``dig``, ``duct_reuse``, ``aerial``; ties go to
    digging, then duct, then existing poles).

    *Headend:* without a given headend, the best of up to 32 candidate nodes
    nearest the demand-weighted centroid of the largest connected part of the
    network, judged by the sum of units x network distance (an approximate
    1-median). Premises outside the headend's component are reported as
    ``disconnected_street_network``.
    """
    costs = costs or CostBook()
    rules = rules or TrenchRules()
    require_metric(gdf_streets, name="gdf_streets")
    require_metric(gdf_premises, name="gdf_premises")
    if not gdf_streets.crs.equals(gdf_premises.crs):
        gdf_premises = gdf_premises.to_crs(gdf_streets.crs)
        logger.info("premises reprojected to the streets' CRS %s", gdf_streets.crs.to_string())
    tl = _trench_lines(gdf_streets, rules=rules)
    points = gdf_premises.geometry.to_numpy()
    p = len(points)
    # the headends, when given, are snapped like more premises (rows p, p + 1, ...)
    head_pts, head_how = _headend_points(headend, gdf_streets.crs)
    snap = _snap_premises(tl.geometry, points, max_drop_m=rules.max_drop_m)
    if head_pts is not None:
        snap = _with_headend(snap, tl.geometry, head_pts, headend, max_drop_m=rules.max_drop_m)
    br = _break_lines(tl, snap.line, snap.pos, crossing_spacing_m=rules.crossing_spacing_m)
    density = _Density.of(
        points, _column(gdf_premises, "units", 1.0), tl.geometry[tl.side != "right"], rules
    )
    stretches = _stretch_edges(
        tl, br, existing, density, costs=costs, rules=rules, crs=gdf_streets.crs
    )
    edges = _concat_edges(stretches, _crossing_edges(tl, br, density, costs=costs))
    premises_node = br.attach_node[:p]
    crosses = _drop_crosses_road(
        tl, tl.geometry, snap.line[:p], snap.pos[:p], points, gdf_premises, premises_node
    )
    A = sp.coo_array(
        (np.maximum(edges.cost_gbp, 1e-9), (edges.u, edges.v)), shape=(br.n_nodes, br.n_nodes)
    ).tocsr()
    _, comp = csgraph.connected_components(A, directed=False)
    if head_pts is None:
        units = _column(gdf_premises, "units", 1.0)
        head_node, head_xy, head_how = _one_median(A, comp, premises_node, units, br.node_xy)
        head_nodes = np.empty(0, dtype=np.int64)
    else:
        head_nodes = br.attach_node[p:].astype(np.int64)
        head_node, head_xy = int(head_nodes[0]), (float(head_pts[0].x), float(head_pts[0].y))
    served = comp[np.atleast_1d(head_node) if head_nodes.size == 0 else head_nodes]
    cut = (premises_node >= 0) & ~np.isin(comp[np.maximum(premises_node, 0)], served)
    reason = snap.reason[:p].astype(object)
    reason[cut] = "disconnected_street_network"
    premises_node = np.where(cut, -1, premises_node).astype(np.int64)
    tg = TrenchGraph(
        crs=gdf_streets.crs,
        node_xy=br.node_xy,
        edge_u=edges.u,
        edge_v=edges.v,
        edge_length_m=edges.length_m,
        edge_cost_gbp=edges.cost_gbp,
        edge_dig_cost_gbp=edges.dig_cost_gbp,
        edge_kind=edges.kind.astype(str),
        edge_surface=edges.surface.astype(str),
        edge_side=edges.side.astype(str),
        edge_street=edges.street,
        edge_geometry=edges.geometry,
        edge_area=edges.area.astype(str),
        edge_new_poles=edges.new_poles.astype(np.int64),
        premises_node=premises_node,
        premises_drop_m=snap.dist[:p],
        premises_reason=reason.astype(str),
        premises_crosses_road=crosses & (premises_node >= 0),
        premises_street=np.where(snap.line[:p] >= 0, tl.street[np.maximum(snap.line[:p], 0)], -1),
        headend_node=int(head_node),
        headend_xy=head_xy,
        headend_how=head_how,
        headend_nodes=head_nodes if head_nodes.size > 1 else np.empty(0, dtype=np.int64),
    )
    _log_summary(tg, n_rentable=int((stretches.kind != EdgeKind.DIG).sum()))
    return tg


def _log_summary(tg: TrenchGraph, *, n_rentable: int) -> None:
    counts = pd.Series(tg.premises_reason[tg.premises_reason != ""]).value_counts().to_dict()
    logger.info(
        "trench graph: %d nodes, %d edges (%d crossings, %d rentable), %.1f km; "
        "%d of %d premises reachable %s",
        tg.n_nodes, tg.edge_u.size, int((tg.edge_kind == EdgeKind.CROSSING).sum()), n_rentable,
        tg.edge_length_m[tg.edge_kind != EdgeKind.CROSSING].sum() / 1000,
        int((tg.premises_node >= 0).sum()), tg.premises_node.size, counts,
    )  # fmt: skip


_SURF_ORDER = np.argsort(np.array(SURFACES))


class _Snapped(NamedTuple):
    """Where each point meets its nearest trench line (row of the lines, -1 if none)."""

    line: npt.NDArray[np.int64]
    pos: npt.NDArray[np.float64]  # metres along the line
    dist: npt.NDArray[np.float64]  # straight-line distance, metres (NaN if none)
    reason: npt.NDArray[np.str_]  # "" or a key of REASONS


def _with_headend(
    snap: _Snapped,
    lines: npt.NDArray[np.object_],
    head_pts: list[shapely.Point],
    headend: object,
    *,
    max_drop_m: float,
) -> _Snapped:
    """Append the snapped headends to the snapped premises; refuse one far from every street."""
    head = _snap_premises(lines, np.array(head_pts, dtype=object), max_drop_m=max_drop_m)
    far = np.flatnonzero(head.reason != "")
    if far.size:
        where = headend if len(head_pts) == 1 else f"{far[0] + 1} of {len(head_pts)} ({headend!r})"
        msg = (
            f"headend {where} is more than max_drop_m={max_drop_m} m from every street; "
            "give a point on or near the street network."
        )
        raise InputValidationError(msg)
    return _Snapped(*(np.append(a, b) for a, b in zip(snap, head, strict=True)))


class _Breaks(NamedTuple):
    """The trench lines cut into nodes: line ends, drop points and mid-block crossing points."""

    node_xy: npt.NDArray[np.float64]  # (n, 2) every node of the graph
    line: npt.NDArray[np.int64]  # (b,) trench line of each breakpoint, sorted by line, pos
    pos: npt.NDArray[np.float64]  # (b,) metres along the line
    node: npt.NDArray[np.int64]  # (b,) node of each breakpoint
    attach_node: npt.NDArray[np.int64]  # node of each snapped point, -1 where not snapped
    mid_left: npt.NDArray[np.int64]  # nodes of each mid-block crossing on the left side
    mid_right: npt.NDArray[np.int64]  # ... and on the right side
    mid_street: npt.NDArray[np.int64]  # street row of each mid-block crossing

    @property
    def n_nodes(self) -> int:
        return int(self.node_xy.shape[0])


def _break_lines(
    tl: _TrenchLines,
    snap_line: npt.NDArray[np.int64],
    snap_pos: npt.NDArray[np.float64],
    *,
    crossing_spacing_m: float,
) -> _Breaks:
    """Cut every trench line at its ends, its drop points and its mid-block crossing points.

    Positions are rounded to ``_SNAP_M``; equal positions on one line are
    one node, and positions within ``_SNAP_M / 2`` of a line end are that
    end, which keeps the junction-corner node of :func:`_trench_lines`.
    """
    lines = tl.geometry
    lengths = shapely.length(lines)
    s, n_fixed = lines.size, tl.n_nodes
    attach = snap_line >= 0
    a_line = snap_line[attach]
    a_pos = _on_line(snap_pos[attach], lengths[a_line])
    # mid-block crossings: matching points on both sides of long two-sided roads
    m_left, m_right, m_frac = _mid_block_points(tl, lengths, spacing_m=crossing_spacing_m)
    m_line = np.concatenate([m_left, m_right])
    m_pos = _on_line(np.concatenate([m_frac, m_frac]) * lengths[m_line], lengths[m_line])
    # breakpoints are (starts, ends, drop points, mid-block points)
    bp_line = np.concatenate([np.arange(s), np.arange(s), a_line, m_line])
    bp_pos = np.concatenate([np.zeros(s), lengths, a_pos, m_pos])
    bp_node = np.concatenate([tl.start_node, tl.end_node, np.full(a_line.size + m_line.size, -1)])
    is_end = np.concatenate(
        [np.zeros(s, bool), np.ones(s, bool), np.zeros(bp_node.size - 2 * s, bool)]
    )
    order = np.lexsort((bp_node == -1, bp_pos, bp_line))  # line ends first at equal position
    bp_line, bp_pos, bp_node, is_end = bp_line[order], bp_pos[order], bp_node[order], is_end[order]
    new = np.ones(bp_line.size, dtype=bool)
    # a line's end node never merges with its start node, even on a line shorter than _SNAP_M
    new[1:] = (bp_line[1:] != bp_line[:-1]) | (bp_pos[1:] != bp_pos[:-1]) | is_end[1:]
    group = np.cumsum(new) - 1
    g_node = np.full(group[-1] + 1, -1, dtype=np.int64)
    has_node = bp_node >= 0
    g_node[group[has_node]] = bp_node[has_node]
    fresh = np.flatnonzero(g_node < 0)
    g_node[fresh] = n_fixed + np.arange(fresh.size)
    g_line, g_pos = bp_line[new], bp_pos[new]
    node_of_bp = np.empty(order.size, dtype=np.int64)
    node_of_bp[order] = g_node[group]
    node_xy = np.empty((n_fixed + fresh.size, 2))
    node_xy[:n_fixed] = tl.node_xy
    node_xy[g_node[fresh]] = shapely.get_coordinates(
        shapely.line_interpolate_point(lines[g_line[fresh]], g_pos[fresh])
    )
    attach_node = np.full(snap_line.size, -1, dtype=np.int64)
    attach_node[attach] = node_of_bp[2 * s : 2 * s + a_line.size]
    mid_nodes = node_of_bp[2 * s + a_line.size :]
    return _Breaks(
        node_xy=node_xy,
        line=g_line,
        pos=g_pos,
        node=g_node,
        attach_node=attach_node,
        mid_left=mid_nodes[: m_left.size],
        mid_right=mid_nodes[m_left.size :],
        mid_street=tl.street[m_left],
    )


def _on_line(
    pos: npt.NDArray[np.float64], length: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """Round positions along lines to ``_SNAP_M`` (metres), snapping those near an end to it.

    A position within ``_SNAP_M / 2`` of a line end becomes exactly that end
    (0 or the line's length), so that it joins the end's node.
    """
    r = np.round(pos / _SNAP_M) * _SNAP_M
    to_start = r <= np.minimum(_SNAP_M / 2, length / 2)
    to_end = ~to_start & (r >= length - _SNAP_M / 2)
    return np.where(to_start, 0.0, np.where(to_end, length, r))


class _Edges(NamedTuple):
    """Edges of the trench graph, as aligned arrays (see :class:`TrenchGraph`)."""

    u: npt.NDArray[np.int64]
    v: npt.NDArray[np.int64]
    length_m: npt.NDArray[np.float64]
    cost_gbp: npt.NDArray[np.float64]
    dig_cost_gbp: npt.NDArray[np.float64]
    kind: npt.NDArray[np.object_]
    surface: npt.NDArray[np.str_]
    side: npt.NDArray[np.str_]
    street: npt.NDArray[np.int64]
    geometry: npt.NDArray[np.object_]
    area: npt.NDArray[np.str_]
    new_poles: npt.NDArray[np.int64]


#: Side of the grid cells in which premises density is counted (m).
_AREA_CELL_M = 100.0


#: Street lines are counted as points this far apart (m), each carrying its share of length.
_STREET_SAMPLE_M = 25.0


def _window_sums(
    xy: npt.NDArray[np.float64],
    weight: npt.NDArray[np.float64],
    at: npt.NDArray[np.float64],
    k: int,
) -> npt.NDArray[np.float64]:
    """Sum ``weight`` of the points ``xy`` in the (2k+1)^2 grid cells around each of ``at``.

    Cells are ``_AREA_CELL_M`` squares anchored at the CRS origin; each row of
    the window is one run of sorted cell keys, summed by prefix sums.
    """
    pc = np.floor(xy / _AREA_CELL_M).astype(np.int64)
    ec = np.floor(at / _AREA_CELL_M).astype(np.int64)
    every = np.concatenate([pc, ec])
    lo = every.min(axis=0) - k
    span = int(every[:, 0].max() - lo[0]) + k + 1
    key = (pc[:, 1] - lo[1]) * span + (pc[:, 0] - lo[0])
    order = np.argsort(key, kind="stable")
    key = key[order]
    cum = np.concatenate([[0.0], np.cumsum(weight[order])])
    total = np.zeros(ec.shape[0])
    for dy in range(-k, k + 1):
        row = (ec[:, 1] + dy - lo[1]) * span
        first = np.searchsorted(key, row + ec[:, 0] - k - lo[0], side="left")
        last = np.searchsorted(key, row + ec[:, 0] + k - lo[0], side="right")
        total += cum[last] - cum[first]
    return total


@dataclasses.dataclass(frozen=True)
class _Density:
    """Premises (units) and street metres by grid cell, to class edges urban or rural."""

    xy: npt.NDArray[np.float64]  # (p, 2) premises, metres
    units: npt.NDArray[np.float64]  # (p,)
    street_xy: npt.NDArray[np.float64]  # (s, 2) points along the streets, metres
    street_m: npt.NDArray[np.float64]  # (s,) street metres each point stands for
    rules: TrenchRules

    @classmethod
    def of(
        cls,
        points: npt.NDArray[np.object_],
        units: npt.NDArray[np.float64],
        streets: npt.NDArray[np.object_],
        rules: TrenchRules,
    ) -> _Density:
        """Count the premises points with coordinates and the street lines, every 25 m."""
        ok = shapely.get_type_id(points) == shapely.GeometryType.POINT
        ok[ok] &= ~shapely.is_empty(points[ok])
        length = shapely.length(streets)
        n = np.ceil(length / _STREET_SAMPLE_M).astype(np.int64)
        row = np.repeat(np.arange(streets.size), n)
        first = np.cumsum(n) - n
        frac = (np.arange(row.size) - first[row] + 0.5) / n[row]
        on = shapely.line_interpolate_point(streets[row], frac, normalized=True)
        return cls(
            shapely.get_coordinates(points[ok]).reshape(-1, 2),
            units[ok],
            shapely.get_coordinates(on).reshape(-1, 2),
            (length / np.maximum(n, 1))[row],
            rules,
        )

    def areas(self, geom: npt.NDArray[np.object_]) -> npt.NDArray[np.str_]:
        """Return ``urban`` or ``rural`` for each line, from the window around its midpoint."""
        if geom.size == 0:
            return np.empty(0, dtype="<U5")
        mid = shapely.get_coordinates(shapely.line_interpolate_point(geom, 0.5, normalized=True))
        k = round(self.rules.urban_radius_m / _AREA_CELL_M)
        ha = ((2 * k + 1) * _AREA_CELL_M) ** 2 / 1e4
        premises = _window_sums(self.xy, self.units, mid, k) / ha
        streets = _window_sums(self.street_xy, self.street_m, mid, k) / ha
        urban = (premises >= self.rules.urban_premises_per_ha) | (
            streets >= self.rules.urban_street_m_per_ha
        )
        return np.where(urban, "urban", "rural")

    @staticmethod
    def rates(costs: CostBook, area: npt.NDArray[np.str_], surface: npt.NDArray[np.str_]
              ) -> npt.NDArray[np.float64]:  # fmt: skip
        """Trench GBP/m of each (area, surface)."""
        table = np.array([[costs.trench_gbp_per_m[x] for x in SURFACES],
                          [costs.trench_rural_gbp_per_m[x] for x in SURFACES]])  # fmt: skip
        col = np.searchsorted(np.array(SURFACES), surface, sorter=_SURF_ORDER)
        return table[(area == "rural").astype(np.int64), _SURF_ORDER[col]]


def _concat_edges(*parts: _Edges) -> _Edges:
    return _Edges(*(np.concatenate(arrays) for arrays in zip(*parts, strict=True)))


def _stretch_edges(
    tl: _TrenchLines,
    br: _Breaks,
    existing: gpd.GeoDataFrame | None,
    density: _Density,
    *,
    costs: CostBook,
    rules: TrenchRules,
    crs: pyproj.CRS,
) -> _Edges:
    """Street-stretch edges between consecutive breakpoints of a line, priced the cheapest way."""
    same = br.line[1:] == br.line[:-1]
    same[same] &= br.node[:-1][same] != br.node[1:][same]
    line = br.line[1:][same]
    start, end = br.pos[:-1][same], br.pos[1:][same]
    length = np.maximum(end - start, _MIN_EDGE_M)
    u, v = br.node[:-1][same], br.node[1:][same]
    # each piece starts and ends at the very coordinates of its nodes
    geom = line_substrings(
        tl.geometry, line, start, end, start_xy=br.node_xy[u], end_xy=br.node_xy[v]
    )
    surface = tl.surface[line]
    area = density.areas(geom)
    dig = length * density.rates(costs, area, surface)
    duct, aerial = _reuse_costs(geom, length, existing, costs=costs, rules=rules, crs=crs)
    poles = np.ceil(length / rules.max_span_m)
    new_aerial = np.where(
        (area == "rural") & bool(rules.new_poles_rural),
        length * costs.aerial_gbp_per_m + poles * costs.pole_gbp,
        np.inf,
    )
    options = np.column_stack([dig, duct, aerial, new_aerial])
    choice = np.argmin(options, axis=1)  # ties go to digging, then duct, then existing poles
    kind = np.array(
        [EdgeKind.DIG, EdgeKind.DUCT_REUSE, EdgeKind.AERIAL, EdgeKind.AERIAL], dtype=object
    )[choice]
    return _Edges(
        u=u,
        v=v,
        length_m=length,
        cost_gbp=options[np.arange(choice.size), choice],
        dig_cost_gbp=dig,
        kind=kind,
        surface=surface,
        side=tl.side[line],
        street=tl.street[line],
        geometry=geom,
        area=area,
        new_poles=np.where(choice == 3, poles, 0).astype(np.int64),
    )


def _crossing_edges(tl: _TrenchLines, br: _Breaks, density: _Density, *, costs: CostBook) -> _Edges:
    """Edges across two-sided roads, at junctions and mid-block, priced as road crossings."""
    u = np.concatenate([tl.crossing_u, br.mid_left]).astype(np.int64)
    v = np.concatenate([tl.crossing_v, br.mid_right]).astype(np.int64)
    xy = br.node_xy
    geom = shapely.linestrings(
        np.stack([xy[u], xy[v]], axis=1).reshape(-1, 2), indices=np.repeat(np.arange(u.size), 2)
    ) if u.size else np.array([], dtype=object)  # fmt: skip
    length = np.maximum(np.hypot(*(xy[u] - xy[v]).T), _MIN_EDGE_M)
    n = u.size
    area = density.areas(geom)
    cost = costs.road_crossing_gbp + length * density.rates(costs, area, np.full(n, "carriageway"))
    return _Edges(
        u=u,
        v=v,
        length_m=length,
        cost_gbp=cost,
        dig_cost_gbp=cost,
        kind=np.full(n, EdgeKind.CROSSING, dtype=object),
        surface=np.full(n, "carriageway"),
        side=np.full(n, "across"),
        street=np.concatenate([tl.crossing_street, br.mid_street]).astype(np.int64),
        geometry=geom,
        area=area,
        new_poles=np.zeros(n, dtype=np.int64),
    )


@dataclasses.dataclass(frozen=True)
class _TrenchLines:
    """Trench lines (minor centrelines and the sides of two-sided roads) with end nodes."""

    geometry: npt.NDArray[np.object_]
    street: npt.NDArray[np.int64]  # row of gdf_streets
    side: npt.NDArray[np.str_]  # "both", "left", "right"
    surface: npt.NDArray[np.str_]
    is_road: npt.NDArray[np.bool_]  # a road a drop would have to cross (not a footpath)
    start_node: npt.NDArray[np.int64]
    end_node: npt.NDArray[np.int64]
    node_xy: npt.NDArray[np.float64]
    crossing_u: npt.NDArray[np.int64]
    crossing_v: npt.NDArray[np.int64]
    crossing_street: npt.NDArray[np.int64]
    pair_left: npt.NDArray[np.int64]  # trench line of each two-sided road's left side
    pair_right: npt.NDArray[np.int64]  # ... and of its right side

    @property
    def n_nodes(self) -> int:
        return int(self.node_xy.shape[0])


def _bearing(lines: npt.NDArray[np.object_], *, at_end: bool) -> npt.NDArray[np.float64]:
    """Direction (radians) from a line's start (or end) into the line."""
    length = shapely.length(lines)
    step = np.minimum(2.0, length / 2)
    here = shapely.get_coordinates(shapely.get_point(lines, -1 if at_end else 0))
    there = shapely.get_coordinates(
        shapely.line_interpolate_point(lines, length - step if at_end else step)
    )
    d = there - here
    return np.arctan2(d[:, 1], d[:, 0])


def _usable_streets(
    gdf_streets: gpd.GeoDataFrame,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.object_], npt.NDArray[np.str_]]:
    """Rows, centrelines and ``highway`` values of the streets that are non-empty LineStrings."""
    geoms = gdf_streets.geometry.to_numpy()
    usable = (shapely.get_type_id(geoms) == shapely.GeometryType.LINESTRING) & ~shapely.is_empty(
        geoms
    )
    usable[usable] &= shapely.length(geoms[usable]) > _MIN_EDGE_M
    if not usable.any():
        msg = "gdf_streets has no usable LineString (all empty, zero-length or not lines)."
        raise InputValidationError(msg)
    if not usable.all():
        logger.warning("%d street rows are empty or not LineStrings: ignored", int((~usable).sum()))
    rows = np.flatnonzero(usable)
    highway = (
        gdf_streets["highway"].astype("string").fillna("").to_numpy()[usable].astype(str)
        if "highway" in gdf_streets
        else np.full(rows.size, "")
    )
    return rows, geoms[usable], highway


class _Corners(NamedTuple):
    """Junction-corner nodes: each street end's node(s) and the crossings between corners."""

    node_xy: npt.NDArray[np.float64]  # (n, 2) corner node positions
    node_minor: npt.NDArray[np.int64]  # (2s,) node of each arm (line start, then end) if minor
    node_ccw: npt.NDArray[np.int64]  # (2s,) corner counter-clockwise of each arm
    node_cw: npt.NDArray[np.int64]  # (2s,) corner clockwise of each arm
    cross: npt.NDArray[np.bool_]  # (2s,) whether a crossing edge runs across the arm


def _junction_corners(
    centre: npt.NDArray[np.object_], major: npt.NDArray[np.bool_], d: float
) -> _Corners:
    """Split each junction into corners between its two-sided (major) arms.

    An arm is a street line leaving a junction (each line gives two: its
    start and its end). A junction with m >= 2 major arms has m corners,
    moved ``d`` metres along each corner's bisector; a major road's dead end
    has two corners, one each side; other junctions are one node.
    """
    s = centre.size
    ends_xy = np.vstack([
        shapely.get_coordinates(shapely.get_point(centre, 0)),
        shapely.get_coordinates(shapely.get_point(centre, -1)),
    ])  # fmt: skip
    key, junction = np.unique(
        np.round(ends_xy / _SNAP_M).astype(np.int64), axis=0, return_inverse=True
    )
    junction = junction.ravel()
    n_j = key.shape[0]
    j_xy = np.zeros((n_j, 2))
    j_xy[junction] = ends_xy
    bearing = np.concatenate([_bearing(centre, at_end=False), _bearing(centre, at_end=True)])
    arm_major = np.concatenate([major, major])
    # corners: regions between consecutive two-sided arms, counter-clockwise, per junction
    m = np.bincount(junction[arm_major], minlength=n_j)
    # a two-sided road's dead end: its two sides are two corners joined by a crossing
    dead = (m == 1) & (np.bincount(junction, minlength=n_j) == 1)
    n_regions = np.where(dead, 2, np.maximum(m, 1))
    base = np.concatenate([[0], np.cumsum(n_regions)[:-1]])
    # rank of each arm among the junction's major arms by bearing
    order = np.lexsort((bearing, junction))
    maj_sorted = order[arm_major[order]]
    maj_rank = np.zeros(2 * s, dtype=np.int64)
    first = np.searchsorted(junction[maj_sorted], np.arange(n_j))
    maj_rank[maj_sorted] = np.arange(maj_sorted.size) - first[junction[maj_sorted]]
    # for every arm: the region it lies in = count of major bearings <= its bearing, minus 1
    maj_j, maj_b = junction[maj_sorted], bearing[maj_sorted]
    turn = 2 * np.pi + 1e-9  # bearings as a fraction of a turn, below 1
    pos = np.searchsorted(
        maj_j * 10.0 + (maj_b + np.pi) / turn,
        junction * 10.0 + (bearing + np.pi) / turn,
        side="right",
    )
    k_minor = pos - first[junction] - 1
    mj = m[junction]
    region_minor = np.where(mj > 0, np.mod(k_minor, np.maximum(mj, 1)), 0)
    region_ccw = np.where(mj > 0, maj_rank, 0)  # left of the outward direction
    region_cw = np.where(mj > 0, np.mod(maj_rank - 1, n_regions[junction]), 0)
    node_xy = np.repeat(j_xy, n_regions, axis=0)
    if maj_sorted.size:  # move corners d along their bisector; a dead end's d either side
        nxt = np.where(
            maj_rank[maj_sorted] + 1 < m[maj_j], np.arange(maj_sorted.size) + 1, first[maj_j]
        )
        b0, b1 = maj_b, maj_b[nxt]
        span = np.mod(b1 - b0, 2 * np.pi)
        span = np.where(span == 0, 2 * np.pi, span)
        mid = b0 + span / 2
        multi = m[maj_j] >= 2
        corner = base[maj_j] + maj_rank[maj_sorted]
        node_xy[corner[multi]] += d * np.column_stack([np.cos(mid[multi]), np.sin(mid[multi])])
        end = dead[maj_j]
        normal = d * np.column_stack([np.cos(b0[end] + np.pi / 2), np.sin(b0[end] + np.pi / 2)])
        node_xy[base[maj_j[end]]] += normal
        node_xy[base[maj_j[end]] + 1] -= normal
    return _Corners(
        node_xy=node_xy,
        node_minor=(base[junction] + region_minor).astype(np.int64),
        node_ccw=(base[junction] + region_ccw).astype(np.int64),
        node_cw=(base[junction] + region_cw).astype(np.int64),
        cross=arm_major & ((mj >= 2) | dead[junction]),
    )


def _trench_lines(gdf_streets: gpd.GeoDataFrame, *, rules: TrenchRules) -> _TrenchLines:
    """Make trench lines, junction-corner nodes and crossing edges from street centrelines."""
    rows, centre, highway = _usable_streets(gdf_streets)
    surface = surface_class(gdf_streets)[rows]
    is_road = ~np.isin(highway, list(_FOOT_HIGHWAYS))
    d = rules.side_offset_m
    major = np.isin(highway, list(rules.two_sided_highways))
    left = np.full(rows.size, None, dtype=object)
    right = np.full(rows.size, None, dtype=object)
    if major.any():
        left[major] = shapely.offset_curve(centre[major], d)
        right[major] = shapely.offset_curve(centre[major], -d)
        good = (shapely.get_type_id(left) == shapely.GeometryType.LINESTRING) & (
            shapely.get_type_id(right) == shapely.GeometryType.LINESTRING
        )
        major &= good
    c = _junction_corners(centre, major, d)
    s = rows.size
    # trench lines: minor centrelines, and left/right sides of majors.
    # At a line's start the outward direction is the line's: its left side is ccw of the arm;
    # at its end the outward direction is reversed: its left side is cw of the arm.
    start_left, start_right = c.node_ccw[:s], c.node_cw[:s]
    end_left, end_right = c.node_cw[s:], c.node_ccw[s:]
    mi, ma = np.flatnonzero(~major), np.flatnonzero(major)
    side = np.concatenate(
        [np.full(mi.size, "both"), np.full(ma.size, "left"), np.full(ma.size, "right")]
    )
    # crossings across each major arm where the junction has two or more corners
    c_u, c_v = c.node_ccw[c.cross], c.node_cw[c.cross]
    dup = np.unique(np.sort(np.column_stack([c_u, c_v]), axis=1), axis=0, return_index=True)[1]
    c_idx = np.flatnonzero(c.cross)[np.sort(dup)]
    start_node = np.concatenate([c.node_minor[:s][mi], start_left[ma], start_right[ma]])
    end_node = np.concatenate([c.node_minor[s:][mi], end_left[ma], end_right[ma]])
    geometry = _run_between(
        np.concatenate([centre[mi], left[ma], right[ma]]),
        c.node_xy[start_node],
        c.node_xy[end_node],
        reach_m=4 * d,
    )
    return _TrenchLines(
        geometry=geometry,
        street=np.concatenate([rows[mi], rows[ma], rows[ma]]).astype(np.int64),
        side=side.astype(str),
        surface=np.concatenate([surface[mi], surface[ma], surface[ma]]).astype(str),
        is_road=np.concatenate([is_road[mi], is_road[ma], is_road[ma]]),
        start_node=start_node.astype(np.int64),
        end_node=end_node.astype(np.int64),
        node_xy=c.node_xy,
        crossing_u=c.node_ccw[c_idx].astype(np.int64),
        crossing_v=c.node_cw[c_idx].astype(np.int64),
        crossing_street=rows[np.concatenate([np.arange(s), np.arange(s)])[c_idx]].astype(np.int64),
        pair_left=mi.size + np.arange(ma.size, dtype=np.int64),
        pair_right=mi.size + ma.size + np.arange(ma.size, dtype=np.int64),
    )


def _run_between(
    lines: npt.NDArray[np.object_],
    start_xy: npt.NDArray[np.float64],
    end_xy: npt.NDArray[np.float64],
    *,
    reach_m: float,
) -> npt.NDArray[np.object_]:
    """Make each line run exactly from its start node to its end node (metres, the lines' CRS).

    A trench line's ends are junction corners, not the ends of the centreline
    or of its offset side: a minor road's trench ends in the corner of a
    two-sided junction it lies in, ``side_offset_m`` along the corner's
    bisector, and a side of a two-sided road ends at its corner rather than
    at the offset centreline's end. Each end point becomes its node; the
    line's vertices before the node's foot on the line (looked for within
    ``reach_m`` of that end, and at most half-way along) are dropped, so
    the line neither stops short of nor doubles back from its corner.
    """
    if lines.size == 0:
        return lines
    length = shapely.length(lines)
    idx = np.arange(lines.size, dtype=np.int64)
    half = length / 2
    head_end = np.minimum(half, reach_m)
    tail_start = np.maximum(half, length - reach_m)
    head = line_substrings(lines, idx, np.zeros(lines.size), head_end)
    tail = line_substrings(lines, idx, tail_start, length)
    a = shapely.line_locate_point(head, shapely.points(start_xy))
    b = tail_start + shapely.line_locate_point(tail, shapely.points(end_xy))
    return line_substrings(lines, idx, a, b, start_xy=start_xy, end_xy=end_xy)


def _mid_block_points(
    tl: _TrenchLines, lengths: npt.NDArray[np.float64], *, spacing_m: float
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """Left line, right line and fraction along for each mid-block crossing of a two-sided road.

    A road side of length L gets ``floor(L / spacing_m)`` crossings, evenly spaced.
    """
    if tl.pair_left.size == 0 or not np.isfinite(spacing_m):
        empty = np.array([], dtype=np.int64)
        return empty, empty, np.array([], dtype=np.float64)
    n = np.floor(np.minimum(lengths[tl.pair_left], lengths[tl.pair_right]) / spacing_m)
    n = n.astype(np.int64)
    pair = np.repeat(np.arange(n.size), n)
    k = np.arange(pair.size) - np.repeat(np.cumsum(n) - n, n) + 1
    frac = k / (n[pair] + 1)
    return tl.pair_left[pair], tl.pair_right[pair], frac


def _column(gdf: gpd.GeoDataFrame, name: str, default: float) -> npt.NDArray[np.float64]:
    """Return a numeric column of ``gdf``, ``default`` where absent or not a number."""
    if name not in gdf:
        return np.full(len(gdf), default, dtype=np.float64)
    return pd.to_numeric(gdf[name], errors="coerce").fillna(default).to_numpy(dtype=np.float64)


def _reuse_costs(
    edge_geom: npt.NDArray[np.object_],
    edge_len: npt.NDArray[np.float64],
    existing: gpd.GeoDataFrame | None,
    *,
    costs: CostBook,
    rules: TrenchRules,
    crs: pyproj.CRS,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Return each edge's cost (GBP) in rented duct and as aerial cable; +inf if impossible."""
    duct = np.full(edge_len.size, np.inf)
    aerial = np.full(edge_len.size, np.inf)
    if existing is None or existing.empty:
        return duct, aerial
    if existing.crs is None:
        msg = "existing infrastructure has no CRS; set it with gdf.set_crs(...)."
        raise CRSError(msg)
    existing = existing.to_crs(crs) if not existing.crs.equals(crs) else existing
    geoms = existing.geometry.to_numpy()
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    usable = present & (_column(existing, "spare_capacity", 1.0) > 0)
    kind = shapely.get_type_id(geoms)
    lines = usable & np.isin(
        kind, [shapely.GeometryType.LINESTRING, shapely.GeometryType.MULTILINESTRING]
    )
    poles = usable & (kind == shapely.GeometryType.POINT)
    if lines.any():
        rent_year = _column(existing, "rent_gbp_per_m_year", costs.duct_rent_gbp_per_m_year)
        buffers = shapely.buffer(geoms[lines], rules.duct_tolerance_m, cap_style="flat")
        e_i, d_i = shapely.STRtree(buffers).query(edge_geom, predicate="intersects")
        covered = shapely.length(shapely.intersection(edge_geom[e_i], buffers[d_i]))
        ok = covered / edge_len[e_i] >= rules.duct_min_coverage
        per_m = rent_year[lines][d_i[ok]] * costs.annuity_factor + costs.duct_access_gbp_per_m
        np.minimum.at(duct, e_i[ok], per_m * edge_len[e_i[ok]])
    if poles.any():
        rent = _column(existing, "rent_gbp_per_year", costs.pole_rent_gbp_per_year)[poles]
        e_i, p_i = shapely.STRtree(geoms[poles]).query(
            edge_geom, predicate="dwithin", distance=rules.pole_tolerance_m
        )
        count = np.bincount(e_i, minlength=edge_len.size)
        rent_pv = (
            np.bincount(e_i, weights=rent[p_i], minlength=edge_len.size) * costs.annuity_factor
        )
        # spans between the poles (and the edge's ends) no longer than max_span_m
        ok = (count >= 1) & (edge_len / (count + 1) <= rules.max_span_m)
        aerial[ok] = edge_len[ok] * costs.aerial_gbp_per_m + rent_pv[ok]
    return duct, aerial


def _drop_crosses_road(  # noqa: PLR0917 - private helper, called once
    tl: _TrenchLines,
    lines: npt.NDArray[np.object_],
    line_idx: npt.NDArray[np.int64],
    pos: npt.NDArray[np.float64],
    points: npt.NDArray[np.object_],
    gdf_premises: gpd.GeoDataFrame,
    premises_node: npt.NDArray[np.int64],
) -> npt.NDArray[np.bool_]:
    """Whether each premises' drop crosses a minor road (it is on the trench's far side)."""
    p = line_idx.size
    out = np.zeros(p, dtype=bool)
    ok = (line_idx >= 0) & (premises_node >= 0)
    ok[ok] &= (tl.side[line_idx[ok]] == "both") & tl.is_road[line_idx[ok]]
    idx = np.flatnonzero(ok)
    if idx.size == 0:
        return out
    li, at = line_idx[idx], pos[idx]
    length = shapely.length(lines[li])
    a = shapely.get_coordinates(shapely.line_interpolate_point(lines[li], np.maximum(at - 0.5, 0)))
    b = shapely.get_coordinates(
        shapely.line_interpolate_point(lines[li], np.minimum(at + 0.5, length))
    )
    q = shapely.get_coordinates(points[idx])
    cross = (b[:, 0] - a[:, 0]) * (q[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (q[:, 0] - a[:, 0])
    left = cross > 0
    units = (
        gdf_premises["units"].to_numpy(dtype=np.float64)[idx]
        if "units" in gdf_premises
        else np.ones(idx.size)
    )
    n_lines = lines.size
    left_units = np.bincount(li, weights=units * left, minlength=n_lines)
    right_units = np.bincount(li, weights=units * ~left, minlength=n_lines)
    trench_left = left_units >= right_units
    out[idx] = left != trench_left[li]
    return out


def _headend_points(
    headend: tuple[float, float] | shapely.Point | Sequence[object] | None, crs: pyproj.CRS
) -> tuple[list[shapely.Point] | None, str]:
    """Return the headend point(s) in ``crs`` and how they were given (None: choose one)."""
    several = isinstance(headend, list | tuple) and (
        not headend or isinstance(headend[0], shapely.Point | list | tuple)
    )
    if not several:
        pt, how = _headend_point(headend, crs)
        return (None if pt is None else [pt]), how
    if not headend:
        msg = "headend: an empty list of headends; give at least one point."
        raise InputValidationError(msg)
    found = [_headend_point(h, crs) for h in headend]
    how = found[0][1] if len(found) == 1 else f"given by the user: {len(found)} headends"
    return [pt for pt, _ in found if pt is not None], how


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
        return (
            node,
            tuple(node_xy[node]),
            "first node of the largest street component (no premises reachable)",
        )
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
