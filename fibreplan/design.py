"""Capacity-aware PON design on a routed trench tree (pure arrays, no geography).

Given the routed trench tree (node pairs and lengths), the headend (OLT) node
and, for every connected premises, the tree node its drop meets and the drop
length, :func:`design_network` places distribution points (DPs) and street
cabinets, sizes the feeder and distribution cables on every tree edge, places
chambers (joint boxes) and checks the optical power budget of every premises.

Architecture (UK GPON / XGS-PON, two-stage 1:32 split)::

    OLT (headend) --feeder--> cabinet (1:4 splitters)
                  --distribution--> DP (1:8 splitters) --drop--> ONT

* **Feeder** fibres run from the headend to a cabinet, one per primary
  splitter (one OLT PON port each).
* **Distribution** fibres run from a cabinet to a DP, one per secondary
  splitter (each fed by one primary splitter output).
* **Drop** fibres run from a DP to each premises, one per premises; they may
  follow the trench from the DP node to the premises' node before the drop.

Feeder and distribution fibres travel in *separate* cables on a shared trench
edge (real practice: they are jointed and terminated at different places,
feeder at the cabinet and distribution at the DPs, and are sized separately);
drop cables are individual cables and are not counted in the edge cables.

References
----------
.. [1] ITU-T G.984.2, "Gigabit-capable passive optical networks (GPON):
   Physical media dependent (PMD) layer specification", class B+ (28 dB).
.. [2] ITU-T G.652, "Characteristics of a single-mode optical fibre and
   cable" (attenuation <= 0.35 dB/km at 1310 nm as cabled maximum).
.. [3] ITU-T G.671, "Transmission characteristics of optical components and
   subsystems" (splitter insertion loss; the figures used are the usual
   datasheet maxima for PLC splitters).
.. [4] The Fiber Optic Association, "FOA Reference Guide to Outside Plant
   Fiber Optics": outside-plant cables are made in lengths of a few km, so
   long runs are spliced end to end; fibres are spliced at joints, not in
   every chamber they are pulled or blown through.
"""

from __future__ import annotations

import dataclasses
import heapq
import logging
import math
from typing import Any
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse import csgraph

from fibreplan._errors import InfeasibleDesignError
from fibreplan._errors import InputValidationError
from fibreplan.config import DesignRules
from fibreplan.config import TrenchRules

__all__ = [
    "CHAMBER_KINDS",
    "Design",
    "DesignRules",
    "check_fibre_conservation",
    "design_network",
]

logger = logging.getLogger(__name__)

#: Values of :attr:`Design.chamber_kind`, in order of precedence at a node.
CHAMBER_KINDS = ("headend", "cabinet", "dp", "branch", "spacing")

# Tolerance (metres / dB) for comparisons of accumulated floating-point lengths.
_EPS = 1e-9


@dataclasses.dataclass(frozen=True, eq=False, kw_only=True)
class Design:
    """A PON design on a routed tree: DPs, cabinets, cables, chambers and losses.

    Node ids are those given to :func:`design_network`. Edge arrays are
    aligned with the input ``tree_edges`` rows; premises arrays with the
    input premises order.

    Attributes
    ----------
    rules : DesignRules
        Rules used.
    max_drop_m : float
        Drop limit used, metres (see :class:`~fibreplan.config.TrenchRules`).
    root : int
        Headend (OLT) node.
    tree_edges : ndarray of int64, shape (k, 2)
        Input tree edges (as given).
    edge_length_m : ndarray of float64, shape (k,)
        Route length of each edge, metres.
    edge_parent, edge_child : ndarray of int64, shape (k,)
        Upstream (towards the root) and downstream node of each edge.
    premises_node : ndarray of int64, shape (p,)
        Node where each premises' drop meets the network.
    drop_length_m : ndarray of float64, shape (p,)
        Drop length of each premises, metres.
    premises_dp, premises_cabinet : ndarray of int64, shape (p,)
        Index into the DP / cabinet arrays serving each premises.
    premises_network_m : ndarray of float64, shape (p,)
        Network distance from the root to the premises node, metres.
    premises_drop_cable_m : ndarray of float64, shape (p,)
        Drop cable length from the DP: network distance DP node to premises
        node plus the drop, metres (<= ``max_drop_m``).
    premises_splices : ndarray of int64, shape (p,)
        Splices on the optical path: headend and customer end
        (``fixed_splices``), at the cabinet and DP splitters, and one per
        drum joint on the feeder, distribution and drop cable runs.
    premises_loss_db : ndarray of float64, shape (p,)
        End-to-end optical loss OLT to ONT, dB (without the margin).
    dp_node : ndarray of int64, shape (d,)
        Node of each DP (several DPs may share a node).
    dp_premises_count, dp_splitters, dp_cabinet : ndarray of int64, shape (d,)
        Premises served, secondary splitters and serving cabinet of each DP.
    cabinet_node : ndarray of int64, shape (c,)
        Node of each cabinet; always the DPs' node or upstream of it.
    cabinet_premises_count : ndarray of int64, shape (c,)
        Premises served by each cabinet.
    cabinet_splitters : ndarray of int64, shape (c,)
        Primary splitters in each cabinet, ``ceil(secondary / primary_split)``;
        each takes one feeder fibre and one OLT PON port.
    cabinet_secondary_splitters : ndarray of int64, shape (c,)
        Secondary (DP) splitters fed from each cabinet (distribution fibres
        leaving it).
    edge_feeder_fibres, edge_distribution_fibres : ndarray of int64, shape (k,)
        Used fibres of each class on each edge.
    edge_feeder_spare, edge_distribution_spare : ndarray of int64, shape (k,)
        Spare fibres, ``ceil(used * spare_fraction)``.
    edge_feeder_cable_size, edge_distribution_cable_size : ndarray of int64, shape (k,)
        Fibre count of the cable(s) of each class (0 when unused).
    edge_feeder_cable_count, edge_distribution_cable_count : ndarray of int64, shape (k,)
        Number of parallel cables of that size (more than 1 only beyond the
        largest size).
    edge_drop_cables : ndarray of int64, shape (k,)
        Individual drop cables following the edge from a DP to premises
        further down (not part of the edge cables).
    chamber_kind : ndarray of str, shape (h,)
        One of :data:`CHAMBER_KINDS`.
    chamber_node : ndarray of int64, shape (h,)
        Node of a node chamber; -1 for a mid-edge chamber.
    chamber_edge : ndarray of int64, shape (h,)
        Edge index of a mid-edge chamber; -1 for a node chamber.
    chamber_offset_m : ndarray of float64, shape (h,)
        Distance of a mid-edge chamber from the edge's upstream (parent) end,
        metres; NaN for a node chamber.
    violations : ndarray of int64, shape (v,)
        Premises whose loss + margin exceeds the power budget.
    violation_fixes : tuple of str, length v
        A suggested fix for each violation.
    """

    rules: DesignRules
    max_drop_m: float
    root: int
    tree_edges: npt.NDArray[np.int64]
    edge_length_m: npt.NDArray[np.float64]
    edge_parent: npt.NDArray[np.int64]
    edge_child: npt.NDArray[np.int64]
    premises_node: npt.NDArray[np.int64]
    drop_length_m: npt.NDArray[np.float64]
    premises_dp: npt.NDArray[np.int64]
    premises_cabinet: npt.NDArray[np.int64]
    premises_network_m: npt.NDArray[np.float64]
    premises_drop_cable_m: npt.NDArray[np.float64]
    premises_splices: npt.NDArray[np.int64]
    premises_loss_db: npt.NDArray[np.float64]
    dp_node: npt.NDArray[np.int64]
    dp_premises_count: npt.NDArray[np.int64]
    dp_splitters: npt.NDArray[np.int64]
    dp_cabinet: npt.NDArray[np.int64]
    cabinet_node: npt.NDArray[np.int64]
    cabinet_premises_count: npt.NDArray[np.int64]
    cabinet_splitters: npt.NDArray[np.int64]
    cabinet_secondary_splitters: npt.NDArray[np.int64]
    edge_feeder_fibres: npt.NDArray[np.int64]
    edge_distribution_fibres: npt.NDArray[np.int64]
    edge_feeder_spare: npt.NDArray[np.int64]
    edge_distribution_spare: npt.NDArray[np.int64]
    edge_feeder_cable_size: npt.NDArray[np.int64]
    edge_distribution_cable_size: npt.NDArray[np.int64]
    edge_feeder_cable_count: npt.NDArray[np.int64]
    edge_distribution_cable_count: npt.NDArray[np.int64]
    edge_drop_cables: npt.NDArray[np.int64]
    chamber_kind: npt.NDArray[np.str_]
    chamber_node: npt.NDArray[np.int64]
    chamber_edge: npt.NDArray[np.int64]
    chamber_offset_m: npt.NDArray[np.float64]
    violations: npt.NDArray[np.int64]
    violation_fixes: tuple[str, ...]

    def __post_init__(self) -> None:
        """Make every array read-only, like the frozen dataclass itself."""
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, np.ndarray):
                value.flags.writeable = False

    @property
    def olt_ports(self) -> int:
        """OLT PON ports needed: one per primary splitter."""
        return int(self.cabinet_splitters.sum())

    @property
    def edge_fibres_used(self) -> npt.NDArray[np.int64]:
        """Used feeder + distribution fibres on each edge."""
        return self.edge_feeder_fibres + self.edge_distribution_fibres

    @property
    def edge_fibres_spare(self) -> npt.NDArray[np.int64]:
        """Spare feeder + distribution fibres on each edge."""
        return self.edge_feeder_spare + self.edge_distribution_spare

    @property
    def edge_cable_count(self) -> npt.NDArray[np.int64]:
        """Feeder + distribution cables on each edge."""
        return self.edge_feeder_cable_count + self.edge_distribution_cable_count

    def cable_m_by_size(self) -> dict[int, float]:
        """Cable length by fibre count, metres (feeder and distribution together).

        Returns
        -------
        dict of int to float
            Cable size (fibres) to total cable length (metres), sizes ascending.
        """
        out: dict[int, float] = {}
        for size, count in (
            (self.edge_feeder_cable_size, self.edge_feeder_cable_count),
            (self.edge_distribution_cable_size, self.edge_distribution_cable_count),
        ):
            used = count > 0
            for s, metres in zip(
                size[used].tolist(), (self.edge_length_m[used] * count[used]).tolist(), strict=True
            ):
                out[int(s)] = out.get(int(s), 0.0) + float(metres)
        return dict(sorted(out.items()))

    def summary(self) -> dict[str, Any]:
        """Headline figures of the design.

        Returns
        -------
        dict
            ``premises_count``, ``dp_count``, ``cabinet_count``, ``olt_ports``,
            ``chamber_count``, ``chamber_count_by_kind``, ``cable_m_by_size``
            ({fibres: metres}), ``feeder_fibre_km``, ``distribution_fibre_km``,
            ``drop_fibre_km`` (used fibre length, km), ``max_loss_db`` (dB,
            None without premises) and ``loss_violations`` (count).
        """
        kinds, counts = np.unique(self.chamber_kind, return_counts=True)
        return {
            "premises_count": int(self.premises_node.size),
            "dp_count": int(self.dp_node.size),
            "cabinet_count": int(self.cabinet_node.size),
            "olt_ports": self.olt_ports,
            "chamber_count": int(self.chamber_kind.size),
            "chamber_count_by_kind": {
                str(k): int(c) for k, c in zip(kinds.tolist(), counts.tolist(), strict=True)
            },
            "cable_m_by_size": self.cable_m_by_size(),
            "feeder_fibre_km": float(self.edge_feeder_fibres @ self.edge_length_m) / 1000.0,
            "distribution_fibre_km": float(self.edge_distribution_fibres @ self.edge_length_m)
            / 1000.0,
            "drop_fibre_km": float(self.premises_drop_cable_m.sum()) / 1000.0,
            "max_loss_db": (
                float(self.premises_loss_db.max()) if self.premises_loss_db.size else None
            ),
            "loss_violations": int(self.violations.size),
        }


class _Tree(NamedTuple):
    nodes: npt.NDArray[np.int64]  # (m,) original ids, sorted
    root: int  # local index
    order: npt.NDArray[np.int64]  # (m,) BFS order from root, local
    parent: npt.NDArray[np.int64]  # (m,) local parent, -1 at root
    parent_edge: npt.NDArray[np.int64]  # (m,) edge index to parent, -1 at root
    dist: npt.NDArray[np.float64]  # (m,) network distance from root, m
    edge_child: npt.NDArray[np.int64]  # (k,) local child of each edge
    length: npt.NDArray[np.float64]  # (k,)


def _build_tree(
    tree_edges: npt.ArrayLike, edge_length_m: npt.ArrayLike, root: int
) -> tuple[_Tree, npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    edges = np.asarray(tree_edges)
    if edges.size == 0:
        edges = edges.reshape(0, 2)
    if edges.ndim != 2 or edges.shape[1] != 2 or not np.issubdtype(edges.dtype, np.integer):
        msg = f"tree_edges must be a (k, 2) integer array of node pairs; got shape {edges.shape}."
        raise InputValidationError(msg)
    edges = edges.astype(np.int64)
    length = np.array(edge_length_m, dtype=np.float64).reshape(-1)
    if length.shape[0] != edges.shape[0]:
        msg = (
            f"edge_length_m must have one length per tree edge ({edges.shape[0]}); "
            f"got {length.shape[0]}."
        )
        raise InputValidationError(msg)
    if not np.all(np.isfinite(length)) or np.any(length < 0):
        msg = "edge_length_m must be finite and >= 0 metres."
        raise InputValidationError(msg)
    if isinstance(root, bool) or not isinstance(root, int | np.integer) or root < 0:
        msg = f"root must be a non-negative integer node id; got {root!r}."
        raise InputValidationError(msg)
    if np.any(edges < 0):
        msg = "tree_edges node ids must be non-negative integers."
        raise InputValidationError(msg)
    nodes = np.unique(np.concatenate([edges.ravel(), np.array([root], dtype=np.int64)]))
    m = nodes.size
    k = edges.shape[0]
    local = np.searchsorted(nodes, edges)
    root_l = int(np.searchsorted(nodes, root))
    if k != m - 1:
        msg = (
            f"tree_edges must form a tree containing root {root}: {k} edges on {m} nodes "
            f"(a tree has {m - 1}); remove cycles/duplicates or pass the routed tree."
        )
        raise InputValidationError(msg)
    # store edge index + 1 so zero-length edges stay in the sparse structure
    data = np.arange(1, k + 1, dtype=np.float64)
    adj = sp.coo_array(
        (np.concatenate([data, data]), (local.ravel("F"), local[:, ::-1].ravel("F"))),
        shape=(m, m),
    ).tocsr()
    order, pred = csgraph.breadth_first_order(adj, root_l, directed=True, return_predecessors=True)
    if order.size != m:
        msg = (
            f"tree_edges must be connected and contain root {root}; "
            f"{m - order.size} of {m} nodes are not reachable from it."
        )
        raise InputValidationError(msg)
    a, b = local[:, 0], local[:, 1]
    child = np.where(pred[b] == a, b, a).astype(np.int64)
    parent = np.full(m, -1, dtype=np.int64)
    parent[order[1:]] = pred[order[1:]]
    parent_edge = np.full(m, -1, dtype=np.int64)
    parent_edge[child] = np.arange(k)
    dist_l = [0.0] * m
    par_l = parent.tolist()
    parent_length = np.zeros(m)
    parent_length[child] = length
    plen_l = parent_length.tolist()
    for v in order[1:].tolist():
        dist_l[v] = dist_l[par_l[v]] + plen_l[v]
    tree = _Tree(
        nodes=nodes,
        root=root_l,
        order=order.astype(np.int64),
        parent=parent,
        parent_edge=parent_edge,
        dist=np.asarray(dist_l, dtype=np.float64),
        edge_child=child,
        length=length,
    )
    return tree, edges, length


def _subtree_sums(tree: _Tree, values: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Sum ``values`` (shape (m, c)) over each node's subtree (node included)."""
    cols = [values[:, j].tolist() for j in range(values.shape[1])]
    par = tree.parent.tolist()
    rev = tree.order[::-1][:-1].tolist()  # children before parents, root excluded
    for col in cols:
        for v in rev:
            col[par[v]] += col[v]
    return np.asarray(cols, dtype=np.int64).T.reshape(values.shape)


def _balanced_chunks(n: int, parts: int) -> list[int]:
    base, extra = divmod(n, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


def _merge_heap(buckets: list[Any], p: int, heap: list[Any]) -> None:
    """Merge ``heap`` into ``buckets[p]`` (small into large)."""
    other = buckets[p]
    if other is None:
        buckets[p] = heap
        return
    if len(other) < len(heap):
        other, heap = heap, other
    for item in heap:
        heapq.heappush(other, item)
    buckets[p] = other


def _place_dps(
    tree: _Tree,
    prem_l: npt.NDArray[np.int64],
    drops: npt.NDArray[np.float64],
    *,
    dp_capacity: int,
    max_drop_m: float,
    allowed: npt.NDArray[np.bool_] | None = None,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Bottom-up greedy capacitated partition of premises into DPs.

    Pending premises travel up the tree until either the next edge would put
    one beyond ``max_drop_m`` or more than ``dp_capacity`` are pending; then
    DPs are opened at the current node for the most urgent premises (least
    slack), filled to capacity. With ``allowed`` (local mask), only the root,
    nodes with premises, branch nodes and the allowed nodes may hold a DP: a
    node that merely cuts a street line passes its premises on, and "the next
    edge" is the path to the next node that may hold one, so cutting a line
    does not move a DP. Returns (premises -> DP, DP local node).
    """
    m = tree.nodes.size
    cap = dp_capacity
    # slack of premises j at node v = key[j] + dist[v]  (>= 0 means reachable)
    key = (max_drop_m - drops - tree.dist[prem_l]).tolist()
    by_node = np.argsort(prem_l, kind="stable")
    starts = np.searchsorted(prem_l[by_node], np.arange(m + 1)).tolist()
    by_node_l = by_node.tolist()
    dist = tree.dist.tolist()
    par = tree.parent.tolist()
    up = _dp_sites_above(tree, np.diff(np.asarray(starts)) > 0, allowed)
    buckets: list[list[tuple[float, int]] | None] = [None] * m
    assign = [-1] * prem_l.size
    dp_nodes: list[int] = []
    for v in tree.order[::-1].tolist():
        heap = buckets[v]
        buckets[v] = None
        s, e = starts[v], starts[v + 1]
        if s < e:
            if heap is None:
                heap = []
            for j in by_node_l[s:e]:
                heapq.heappush(heap, (key[j], j))
        if not heap:
            continue
        p = par[v]
        if up[v] == -2:  # not a DP site: pass everything on unchanged
            _merge_heap(buckets, p, heap)
            continue
        if p < 0:
            closed = [heapq.heappop(heap) for _ in range(len(heap))]
        else:
            limit = -dist[up[v]] - _EPS  # urgent: slack at the next site would be < 0
            closed = []
            while heap and (heap[0][0] < limit or len(heap) > cap):
                closed.append(heapq.heappop(heap))
            if closed:
                full = math.ceil(len(closed) / cap) * cap
                while heap and len(closed) < full:
                    closed.append(heapq.heappop(heap))
            if heap:
                _merge_heap(buckets, p, heap)
        if closed:
            start = 0
            for size in _balanced_chunks(len(closed), math.ceil(len(closed) / cap)):
                dp = len(dp_nodes)
                dp_nodes.append(v)
                for _, j in closed[start : start + size]:
                    assign[j] = dp
                start += size
    return np.asarray(assign, dtype=np.int64), np.asarray(dp_nodes, dtype=np.int64)


def _dp_sites_above(
    tree: _Tree, has_premises: npt.NDArray[np.bool_], allowed: npt.NDArray[np.bool_] | None
) -> list[int]:
    """For each local node, the nearest proper ancestor that may hold a DP.

    DP sites are the root, nodes with premises, nodes with other than one
    child and the ``allowed`` nodes (every node when None); a node that is
    not a site gets -2, the root -1.
    """
    m = tree.nodes.size
    par = tree.parent
    if allowed is None:
        return [-1 if p < 0 else int(p) for p in par.tolist()]
    children = np.bincount(par[par >= 0], minlength=m)
    site = (par < 0) | has_premises | (children != 1) | allowed
    up = [-1] * m
    site_l = site.tolist()
    par_l = par.tolist()
    for v in tree.order.tolist():  # top-down: a parent is done before its children
        p = par_l[v]
        if p >= 0:
            up[v] = p if site_l[p] else up[p]
    # mark the non-sites (after: their own ``up`` was needed by their children)
    return [u if site_l[v] else -2 for v, u in enumerate(up)]


def _place_cabinets(
    tree: _Tree,
    dp_node_l: npt.NDArray[np.int64],
    dp_count: npt.NDArray[np.int64],
    rules: DesignRules,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Bottom-up greedy capacitated partition of DPs into cabinets.

    DPs travel up the tree; where more than ``cabinet_capacity`` premises are
    pending, cabinets are opened at that node for the farthest DPs first
    until the rest fit in one; whatever reaches the root is served by
    cabinets at the root. Returns (DP -> cabinet, cabinet local node).
    """
    m = tree.nodes.size
    cap = rules.cabinet_capacity
    by_node = np.argsort(dp_node_l, kind="stable")
    starts = np.searchsorted(dp_node_l[by_node], np.arange(m + 1)).tolist()
    by_node_l = by_node.tolist()
    neg_dist = (-tree.dist[dp_node_l]).tolist()
    count = dp_count.tolist()
    par = tree.parent.tolist()
    buckets: list[list[tuple[float, int]] | None] = [None] * m
    totals = [0] * m
    assign = [-1] * dp_node_l.size
    cab_nodes: list[int] = []
    for v in tree.order[::-1].tolist():
        heap = buckets[v]
        buckets[v] = None
        total = totals[v]
        s, e = starts[v], starts[v + 1]
        if s < e:
            if heap is None:
                heap = []
            for d in by_node_l[s:e]:
                heapq.heappush(heap, (neg_dist[d], d))
                total += count[d]
        if not heap:
            continue
        p = par[v]
        while heap and (p < 0 or total > cap):
            cab = len(cab_nodes)
            cab_nodes.append(v)
            load = 0
            while heap and load + count[heap[0][1]] <= cap:
                _, d = heapq.heappop(heap)
                assign[d] = cab
                load += count[d]
            total -= load
        if heap:
            _merge_heap(buckets, p, heap)
            totals[p] += total
    return np.asarray(assign, dtype=np.int64), np.asarray(cab_nodes, dtype=np.int64)


def _size_cables(
    used: npt.NDArray[np.int64], rules: DesignRules
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Spare, cable size and parallel cable count for ``used`` fibres per edge."""
    spare = np.ceil(used * rules.spare_fraction - _EPS).astype(np.int64)
    spare = np.maximum(spare, 0)
    need = used + spare
    sizes = np.asarray(rules.cable_sizes, dtype=np.int64)
    idx = np.searchsorted(sizes, need, side="left")
    fits = idx < sizes.size
    size = np.where(fits, sizes[np.minimum(idx, sizes.size - 1)], sizes[-1])
    count = np.where(fits, 1, -(-need // sizes[-1]))
    none = used == 0
    size = np.where(none, 0, size).astype(np.int64)
    count = np.where(none, 0, count).astype(np.int64)
    spare = np.where(none, 0, spare).astype(np.int64)
    return spare, size, count


def _place_chambers(
    tree: _Tree, node_kind: npt.NDArray[np.int64], rules: DesignRules
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """Spacing chambers so no route stretch exceeds ``chamber_spacing_m``.

    ``node_kind`` is the index into CHAMBER_KINDS of each node's chamber or -1
    (updated in place where a spacing chamber falls on a node). Stretches run
    between anchors (root, node chambers, leaves); each stretch of length S
    gets ``ceil(S / spacing) - 1`` equally spaced chambers. Returns mid-edge
    chambers as (edge, offset from parent end) and the spacing-node list.
    """
    m = tree.nodes.size
    spacing = rules.chamber_spacing_m
    par = tree.parent.tolist()
    pe = tree.parent_edge.tolist()
    length = tree.length.tolist()
    anchor = (node_kind >= 0).tolist()
    anchor[tree.root] = True
    order = tree.order.tolist()
    from_top = [0.0] * m
    for v in order[1:]:
        p = par[v]
        from_top[v] = (0.0 if anchor[p] else from_top[p]) + length[pe[v]]
    bottom = [-1] * m
    for v in reversed(order[1:]):
        if bottom[v] == -1 or anchor[v]:
            bottom[v] = v
        p = par[v]
        if not anchor[p]:
            bottom[p] = bottom[v]
    nonroot = np.asarray(order[1:], dtype=np.int64)
    if nonroot.size == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float64)
    bottom_a = np.asarray(bottom, dtype=np.int64)
    ft = np.asarray(from_top, dtype=np.float64)
    stretch_bottoms = nonroot[bottom_a[nonroot] == nonroot]
    s_len = ft[stretch_bottoms]
    n_ch = np.maximum(np.ceil(s_len / spacing - _EPS).astype(np.int64) - 1, 0)
    if n_ch.sum() == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float64)
    # global coordinate: stretches laid end to end
    stretch_id = np.full(m, -1, dtype=np.int64)
    stretch_id[stretch_bottoms] = np.arange(stretch_bottoms.size)
    sid = stretch_id[bottom_a[nonroot]]
    base = np.concatenate([[0.0], np.cumsum(s_len)[:-1]])
    g_node = base[sid] + ft[nonroot]
    srt = np.lexsort((g_node, sid))
    g_sorted = g_node[srt]
    nodes_sorted = nonroot[srt]
    rep = np.repeat(np.arange(stretch_bottoms.size), n_ch)
    first = np.cumsum(n_ch) - n_ch
    i_in = np.arange(rep.size) - np.repeat(first, n_ch) + 1
    pos = s_len[rep] * i_in / (n_ch[rep] + 1)
    g = base[rep] + pos
    at = np.minimum(np.searchsorted(g_sorted, g, side="left"), g_sorted.size - 1)
    v = nodes_sorted[at]
    e = tree.parent_edge[v]
    offset = g - (g_sorted[at] - tree.length[e])
    offset = np.clip(offset, 0.0, tree.length[e])
    at_child = offset >= tree.length[e] - 1e-6
    at_parent = (offset <= 1e-6) & ~at_child
    node_hit = np.concatenate([v[at_child], tree.parent[v[at_parent]]])
    node_hit = node_hit[node_kind[node_hit] < 0]
    node_kind[node_hit] = CHAMBER_KINDS.index("spacing")
    mid = ~(at_child | at_parent)
    return e[mid], node_hit, offset[mid]


def _suggest_fix(loss: float, network_m: float, rules: DesignRules, fixed_db: float) -> str:
    """Human-readable fix for one premises over the power budget (its layer row names it)."""
    allowed = rules.power_budget_db - rules.margin_db
    excess = loss - allowed
    head = (
        f"loss {loss:.2f} dB exceeds the {allowed:.2f} dB budget "
        f"(power_budget_db - margin_db) by {excess:.2f} dB; fix: "
    )
    fixes: list[str] = []
    split_db = rules.splitter_loss(rules.primary_split) + rules.splitter_loss(rules.secondary_split)
    for ratio in sorted(rules.splitter_loss_db, reverse=True):
        if ratio >= rules.primary_split * rules.secondary_split:
            continue
        saving = split_db - rules.splitter_loss(ratio)
        if saving >= excess:
            fixes.append(f"a single-stage 1:{ratio} split for this area saves {saving:.1f} dB")
            break
    per_m = rules.fibre_loss_db_per_km / 1000.0 + rules.splice_loss_db / rules.drum_length_m
    reach_db = allowed - fixed_db
    if reach_db > 0 and per_m > 0:
        reach_m = reach_db / per_m
        if reach_m < network_m:
            fixes.append(
                f"add a cabinet with a remote OLT nearer the premises: at least "
                f"{network_m - reach_m:,.0f} m from the headend along its route "
                f"(PON reach about {reach_m:,.0f} m)"
            )
    if not fixes:
        fixes.append("use class C+ optics (32 dB, ITU-T G.984.2) or a lower total split")
    return head + "; or ".join(fixes)


def _check_rules(rules: DesignRules | None, max_drop_m: float | None) -> tuple[DesignRules, float]:
    """Return the rules (defaults for None) and the drop limit, checked."""
    if rules is None:
        rules = DesignRules()
    elif not isinstance(rules, DesignRules):
        msg = f"rules must be a DesignRules or None; got {type(rules).__name__}."
        raise InputValidationError(msg)
    limit = TrenchRules().max_drop_m if max_drop_m is None else max_drop_m
    if isinstance(limit, bool) or not isinstance(limit, int | float | np.number):
        msg = f"max_drop_m must be a number of metres; got {limit!r}."
        raise InputValidationError(msg)
    if not (math.isfinite(limit) and limit > 0):
        msg = f"max_drop_m must be a finite number of metres > 0; got {limit!r}."
        raise InputValidationError(msg)
    return rules, float(limit)


def _check_premises(
    tree: _Tree, premises_node: npt.ArrayLike, drop_length_m: npt.ArrayLike, *, max_drop_m: float
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """Check the premises against the tree: (node ids, local nodes, drop lengths in m)."""
    prem = np.asarray(premises_node).reshape(-1)
    if prem.size and not np.issubdtype(prem.dtype, np.integer):
        msg = f"premises_node must be integer node ids; got dtype {prem.dtype}."
        raise InputValidationError(msg)
    prem = prem.astype(np.int64)
    drops = np.array(drop_length_m, dtype=np.float64).reshape(-1)
    if drops.shape != prem.shape:
        msg = f"drop_length_m must have one length per premises ({prem.size}); got {drops.size}."
        raise InputValidationError(msg)
    if not np.all(np.isfinite(drops)) or np.any(drops < 0):
        msg = "drop_length_m must be finite and >= 0 metres."
        raise InputValidationError(msg)
    prem_l = np.minimum(np.searchsorted(tree.nodes, prem), tree.nodes.size - 1).astype(np.int64)
    off = np.flatnonzero(tree.nodes[prem_l] != prem)
    if off.size:
        msg = (
            f"{off.size} premises meet the network at nodes not on the tree "
            f"(e.g. premises {off[0]} at node {prem[off[0]]}); route the tree to them first."
        )
        raise InputValidationError(msg)
    too_long = np.flatnonzero(drops > max_drop_m + _EPS)
    if too_long.size:
        msg = (
            f"{too_long.size} premises have a drop longer than max_drop_m={max_drop_m} m "
            f"(longest {drops[too_long].max():.1f} m, premises {too_long[:5].tolist()}...); "
            "extend the routed network nearer them or raise max_drop_m."
        )
        raise InfeasibleDesignError(msg, unreachable=too_long.tolist())
    return prem, prem_l, drops


class _Equipment(NamedTuple):
    premises_dp: npt.NDArray[np.int64]  # (p,) DP of each premises
    dp_node_l: npt.NDArray[np.int64]  # (d,) local node of each DP
    dp_count: npt.NDArray[np.int64]  # (d,) premises per DP
    dp_split: npt.NDArray[np.int64]  # (d,) secondary splitters per DP
    dp_cabinet: npt.NDArray[np.int64]  # (d,) cabinet of each DP
    cab_node_l: npt.NDArray[np.int64]  # (c,) local node of each cabinet
    cab_count: npt.NDArray[np.int64]  # (c,) premises per cabinet
    cab_secondary: npt.NDArray[np.int64]  # (c,) secondary splitters fed by each cabinet
    cab_split: npt.NDArray[np.int64]  # (c,) primary splitters per cabinet


def _place_equipment(
    tree: _Tree,
    prem_l: npt.NDArray[np.int64],
    drops: npt.NDArray[np.float64],
    rules: DesignRules,
    *,
    max_drop_m: float,
    dp_sites: npt.NDArray[np.int64] | None = None,
) -> _Equipment:
    """Place DPs, then cabinets over them, and count their splitters."""
    allowed = None if dp_sites is None else np.isin(tree.nodes, dp_sites)
    premises_dp, dp_node_l = _place_dps(
        tree, prem_l, drops, dp_capacity=rules.dp_capacity, max_drop_m=max_drop_m,
        allowed=allowed,
    )  # fmt: skip
    d = dp_node_l.size
    dp_count = np.bincount(premises_dp, minlength=d).astype(np.int64)
    dp_split = (-(-dp_count // rules.secondary_split)).astype(np.int64)
    dp_cabinet, cab_node_l = _place_cabinets(tree, dp_node_l, dp_count, rules)
    c = cab_node_l.size
    cab_count = np.bincount(dp_cabinet, weights=dp_count, minlength=c).astype(np.int64)
    cab_secondary = np.bincount(dp_cabinet, weights=dp_split, minlength=c).astype(np.int64)
    cab_split = (-(-cab_secondary // rules.primary_split)).astype(np.int64)
    return _Equipment(
        premises_dp, dp_node_l, dp_count, dp_split, dp_cabinet, cab_node_l, cab_count,
        cab_secondary, cab_split,
    )  # fmt: skip


def _edge_cables(
    tree: _Tree, prem_l: npt.NDArray[np.int64], eq: _Equipment, rules: DesignRules
) -> _Cables:
    """Fibres, spare, cable size and count of each class on each edge (subtree sums)."""
    at_node = np.zeros((tree.nodes.size, 5), dtype=np.int64)
    np.add.at(at_node[:, 0], eq.cab_node_l, eq.cab_split)
    np.add.at(at_node[:, 1], eq.dp_node_l, eq.dp_split)
    np.add.at(at_node[:, 2], eq.cab_node_l, eq.cab_secondary)
    np.add.at(at_node[:, 3], prem_l, 1)
    np.add.at(at_node[:, 4], eq.dp_node_l, eq.dp_count)
    sub = _subtree_sums(tree, at_node)[tree.edge_child]
    feeder = sub[:, 0]
    distribution = sub[:, 1] - sub[:, 2]
    f_spare, f_size, f_count = _size_cables(feeder, rules)
    d_spare, d_size, d_count = _size_cables(distribution, rules)
    return _Cables(
        feeder, distribution, f_spare, d_spare, f_size, d_size, f_count, d_count,
        drop_cables=sub[:, 3] - sub[:, 4],
    )  # fmt: skip


class _Cables(NamedTuple):
    feeder: npt.NDArray[np.int64]  # (k,) used fibres of each class per edge
    distribution: npt.NDArray[np.int64]
    feeder_spare: npt.NDArray[np.int64]  # (k,) spare fibres
    distribution_spare: npt.NDArray[np.int64]
    feeder_size: npt.NDArray[np.int64]  # (k,) cable fibre count, 0 if unused
    distribution_size: npt.NDArray[np.int64]
    feeder_count: npt.NDArray[np.int64]  # (k,) parallel cables
    distribution_count: npt.NDArray[np.int64]
    drop_cables: npt.NDArray[np.int64]  # (k,) drop cables following each edge


class _Chambers(NamedTuple):
    kind: npt.NDArray[np.str_]  # (h,) CHAMBER_KINDS value
    node: npt.NDArray[np.int64]  # (h,) node id of a node chamber, -1 mid-edge
    edge: npt.NDArray[np.int64]  # (h,) edge of a mid-edge chamber, -1 at a node
    offset_m: npt.NDArray[np.float64]  # (h,) metres from the edge's parent end, NaN at a node
    node_kind: npt.NDArray[np.int64]  # (m,) index into CHAMBER_KINDS per local node, -1 none


def _chambers(tree: _Tree, eq: _Equipment, rules: DesignRules) -> _Chambers:
    """Chambers at the headend, cabinets, DPs and branches, and every ``chamber_spacing_m``."""
    m = tree.nodes.size
    n_children = np.bincount(tree.parent[tree.parent >= 0], minlength=m)
    node_kind = np.full(m, -1, dtype=np.int64)
    node_kind[n_children >= 2] = CHAMBER_KINDS.index("branch")
    node_kind[eq.dp_node_l] = CHAMBER_KINDS.index("dp")
    node_kind[eq.cab_node_l] = CHAMBER_KINDS.index("cabinet")
    node_kind[tree.root] = CHAMBER_KINDS.index("headend")
    mid_edge, _, mid_offset = _place_chambers(tree, node_kind, rules)
    at_nodes = np.flatnonzero(node_kind >= 0)
    at_nodes = at_nodes[np.argsort(node_kind[at_nodes], kind="stable")]
    mid_order = np.lexsort((mid_offset, mid_edge))
    mid_edge, mid_offset = mid_edge[mid_order], mid_offset[mid_order]
    n_node, n_mid = at_nodes.size, mid_edge.size
    return _Chambers(
        kind=np.concatenate(
            [np.asarray(CHAMBER_KINDS)[node_kind[at_nodes]], np.full(n_mid, "spacing")]
        ).astype("<U8"),
        node=np.concatenate([tree.nodes[at_nodes], np.full(n_mid, -1, np.int64)]).astype(np.int64),
        edge=np.concatenate([np.full(n_node, -1, np.int64), mid_edge]).astype(np.int64),
        offset_m=np.concatenate([np.full(n_node, np.nan), mid_offset]),
        node_kind=node_kind,
    )


class _Optics(NamedTuple):
    splices: npt.NDArray[np.int64]  # (p,) splices on each premises' path
    loss_db: npt.NDArray[np.float64]  # (p,) loss OLT to ONT, dB
    violations: npt.NDArray[np.int64]  # (v,) premises over the budget
    fixes: tuple[str, ...]  # (v,) a suggested fix for each


def _drum_joints(run_m: npt.NDArray[np.float64], drum_length_m: float) -> npt.NDArray[np.int64]:
    """Joints on cable runs of ``run_m`` metres: ``ceil(run_m / drum_length_m) - 1``, >= 0."""
    drums = np.ceil(run_m / drum_length_m - _EPS).astype(np.int64)
    return np.maximum(drums - 1, 0).astype(np.int64)


def _path_splices(rules: DesignRules) -> int:
    """Splices on every path whatever its length: headend, customer end and both split stages."""
    stages = sum(
        rules.splitter_splices if ratio > 1 else 1
        for ratio in (rules.primary_split, rules.secondary_split)
    )
    return rules.fixed_splices + stages


def _optical_budget(
    tree: _Tree,
    prem_l: npt.NDArray[np.int64],
    drops: npt.NDArray[np.float64],
    eq: _Equipment,
    rules: DesignRules,
) -> _Optics:
    """Loss of every premises' path (fibre, splitters, splices, connectors) against the budget.

    Splices are counted where fibres are spliced (see :func:`design_network`,
    Notes): the headend, the splitters, the customer end and the drum joints
    of the feeder (headend to cabinet), distribution (cabinet to DP) and drop
    (DP to premises) cable runs.
    """
    dp_l = eq.dp_node_l[eq.premises_dp]
    cab_l = eq.cab_node_l[eq.dp_cabinet[eq.premises_dp]]
    runs_m = (
        tree.dist[cab_l],  # feeder
        tree.dist[dp_l] - tree.dist[cab_l],  # distribution
        tree.dist[prem_l] - tree.dist[dp_l] + drops,  # drop cable
    )
    joints = np.sum(
        [_drum_joints(run, rules.drum_length_m) for run in runs_m], axis=0, dtype=np.int64
    )
    splices = np.asarray(joints + _path_splices(rules), dtype=np.int64)
    network_m = tree.dist[prem_l]
    split_db = rules.splitter_loss(rules.primary_split) + rules.splitter_loss(rules.secondary_split)
    connectors_db = rules.connectors * rules.connector_loss_db
    loss = (
        (network_m + drops) / 1000.0 * rules.fibre_loss_db_per_km
        + split_db
        + splices * rules.splice_loss_db
        + connectors_db
    )
    violations = np.flatnonzero(loss + rules.margin_db > rules.power_budget_db + _EPS)
    fixed_db = split_db + connectors_db + _path_splices(rules) * rules.splice_loss_db
    fixes = tuple(
        _suggest_fix(float(loss[j]), float(network_m[j]), rules, fixed_db)
        for j in violations.tolist()
    )
    return _Optics(splices, loss, violations.astype(np.int64), fixes)


def design_network(
    tree_edges: npt.NDArray[np.int64],
    edge_length_m: npt.NDArray[np.float64],
    root: int,
    premises_node: npt.NDArray[np.int64],
    drop_length_m: npt.NDArray[np.float64],
    *,
    rules: DesignRules | None = None,
    max_drop_m: float | None = None,
    dp_sites: npt.NDArray[np.int64] | None = None,
) -> Design:
    """Design a two-stage PON on a routed trench tree.

    DPs are placed by a bottom-up greedy capacitated partition of the tree
    (post-order): premises travel towards the root until taking them one more
    edge would break ``max_drop_m`` (network distance + drop) or more than
    ``dp_capacity`` are pending, and DPs are opened there. Cabinets are placed
    the same way over DPs with ``cabinet_capacity`` (farthest DPs first),
    the remainder at the root. So every DP lies on its premises' path to the
    root and every cabinet on its DPs' path to the root.

    Parameters
    ----------
    tree_edges : ndarray of int64, shape (k, 2)
        Node pairs of the routed trench tree, any orientation.
    edge_length_m : ndarray of float64, shape (k,)
        Route length of each tree edge, metres (>= 0).
    root : int
        Headend (OLT) node.
    premises_node : ndarray of int64, shape (p,)
        Tree node where each connected premises' drop meets the network.
    drop_length_m : ndarray of float64, shape (p,)
        Drop length of each premises, metres (>= 0).
    rules : DesignRules, optional
        PON rules (splits, capacities, spare, cable sizes, chambers, optical
        budget); UK defaults when omitted.
    max_drop_m : float, optional
        Longest drop cable from a DP, metres (network distance + drop);
        default :attr:`TrenchRules.max_drop_m <fibreplan.config.TrenchRules>`
        (100 m), the limit the trench graph was built with.
    dp_sites : ndarray of int64, optional
        Nodes that may hold a DP besides the headend, premises nodes and the
        tree's branch nodes (e.g. the street graph's junctions); default
        every node. Giving them keeps a node that only cuts a street line
        from holding a DP, so the design does not depend on how the street
        lines were cut.

    Returns
    -------
    Design
        DPs, cabinets, cables per edge, chambers, losses and violations.

    Raises
    ------
    InputValidationError
        If the edges do not form a tree containing ``root``, lengths are
        negative or not finite, a premises node is not on the tree, or
        ``rules`` or ``max_drop_m`` is not valid.
    InfeasibleDesignError
        If a premises' drop alone exceeds ``max_drop_m`` (``unreachable``
        lists those premises indices).

    Notes
    -----
    Optical loss per premises (dB)::

        loss = (network_m + drop_m) / 1000 * fibre_loss_db_per_km
             + splitter_loss(primary_split) + splitter_loss(secondary_split)
             + splices * splice_loss_db
             + connectors * connector_loss_db

        splices = fixed_splices                        # headend patch, customer end
                + stage(primary_split) + stage(secondary_split)
                + joints(feeder_m) + joints(distribution_m) + joints(drop_cable_m)

        stage(r)  = splitter_splices if r > 1 else 1   # splitter in/out, or a through-joint
        joints(L) = max(ceil(L / drum_length_m) - 1, 0)

    where ``feeder_m`` is the route from the headend to the premises'
    cabinet, ``distribution_m`` from the cabinet to its DP and
    ``drop_cable_m`` from the DP to the premises (network distance plus the
    drop). A fibre is spliced only where it is jointed [1]_: it is pulled or
    blown through the chambers on its route unspliced (branch and spacing
    chambers hold slack and uncut through-fibres), and a cable run is
    jointed only where one drum ends. With the defaults (2 fixed, 2 per
    splitter, 4 km drums, 0.1 dB each) an urban path has 6 splices (0.6 dB);
    a 12 km feeder adds 2 joints.

    A premises violates the budget when loss + ``margin_db`` exceeds
    ``power_budget_db`` (ITU-T G.984.2 class B+: 28 dB [2]_).

    References
    ----------
    .. [1] The Fiber Optic Association, "FOA Reference Guide to Outside Plant
       Fiber Optics" (cables are made in lengths of a few km; long runs are
       spliced end to end).
    .. [2] ITU-T G.984.2, "Gigabit-capable passive optical networks (GPON):
       Physical media dependent (PMD) layer specification".
    """
    rules, max_drop_m = _check_rules(rules, max_drop_m)
    tree, edges, length = _build_tree(tree_edges, edge_length_m, root)
    prem, prem_l, drops = _check_premises(tree, premises_node, drop_length_m, max_drop_m=max_drop_m)
    eq = _place_equipment(tree, prem_l, drops, rules, max_drop_m=max_drop_m, dp_sites=dp_sites)
    cables = _edge_cables(tree, prem_l, eq, rules)
    chambers = _chambers(tree, eq, rules)
    optics = _optical_budget(tree, prem_l, drops, eq, rules)
    network_m = tree.dist[prem_l]
    dp_dist = tree.dist[eq.dp_node_l[eq.premises_dp]] if eq.dp_node_l.size else np.zeros(0)
    design = Design(
        rules=rules,
        max_drop_m=max_drop_m,
        root=int(root),
        tree_edges=edges,
        edge_length_m=length,
        edge_parent=tree.nodes[tree.parent[tree.edge_child]],
        edge_child=tree.nodes[tree.edge_child],
        premises_node=prem,
        drop_length_m=drops,
        premises_dp=eq.premises_dp,
        premises_cabinet=(
            eq.dp_cabinet[eq.premises_dp] if eq.dp_node_l.size else np.zeros(0, np.int64)
        ),
        premises_network_m=network_m,
        premises_drop_cable_m=network_m - dp_dist + drops,
        premises_splices=optics.splices,
        premises_loss_db=optics.loss_db,
        dp_node=tree.nodes[eq.dp_node_l],
        dp_premises_count=eq.dp_count,
        dp_splitters=eq.dp_split,
        dp_cabinet=eq.dp_cabinet,
        cabinet_node=tree.nodes[eq.cab_node_l],
        cabinet_premises_count=eq.cab_count,
        cabinet_splitters=eq.cab_split,
        cabinet_secondary_splitters=eq.cab_secondary,
        edge_feeder_fibres=cables.feeder,
        edge_distribution_fibres=cables.distribution,
        edge_feeder_spare=cables.feeder_spare,
        edge_distribution_spare=cables.distribution_spare,
        edge_feeder_cable_size=cables.feeder_size,
        edge_distribution_cable_size=cables.distribution_size,
        edge_feeder_cable_count=cables.feeder_count,
        edge_distribution_cable_count=cables.distribution_count,
        edge_drop_cables=cables.drop_cables,
        chamber_kind=chambers.kind,
        chamber_node=chambers.node,
        chamber_edge=chambers.edge,
        chamber_offset_m=chambers.offset_m,
        violations=optics.violations,
        violation_fixes=optics.fixes,
    )
    _log_summary(design)
    return design


def _log_summary(design: Design) -> None:
    s = design.summary()
    logger.info(
        "PON design: %d premises, %d DPs, %d cabinets, %d OLT ports, %d chambers, "
        "max loss %s dB, %d over budget",
        s["premises_count"], s["dp_count"], s["cabinet_count"], s["olt_ports"],
        s["chamber_count"], "n/a" if s["max_loss_db"] is None else f"{s['max_loss_db']:.2f}",
        s["loss_violations"],
    )  # fmt: skip


def check_fibre_conservation(design: Design) -> list[str]:
    """Check that fibres are conserved at every node of a design.

    At every node, per fibre class: fibres in on the parent edge (at the
    root: OLT ports for feeder) plus fibres originating at the node equal
    fibres out on the child edges plus fibres terminated at the node.

    * feeder: in = out + primary splitters of cabinets at the node;
    * distribution: in + secondary splitters fed by cabinets at the node =
      out + secondary splitters of DPs at the node;
    * drop: in + premises of DPs at the node = out + premises at the node.

    Also checks splitter ports (each DP's splitters have enough outputs for
    its premises; each cabinet's primary splitters for its DPs' splitters)
    and that each cabinet's secondary splitters are those of its DPs.

    Parameters
    ----------
    design : Design
        A design from :func:`design_network`.

    Returns
    -------
    list of str
        One message per broken rule; empty when fibres are conserved.
    """
    rules = design.rules
    nodes = np.unique(
        np.concatenate(
            [design.edge_parent, design.edge_child, np.array([design.root], dtype=np.int64)]
        )
    )
    m = nodes.size

    def loc(a: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        return np.searchsorted(nodes, a).astype(np.int64)

    def at(idx: npt.NDArray[np.int64], w: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        return np.bincount(loc(idx), weights=w, minlength=m).astype(np.int64)

    par_l, child_l = loc(design.edge_parent), loc(design.edge_child)
    root_l = int(np.searchsorted(nodes, design.root))
    problems: list[str] = []
    classes = {
        "feeder": (
            design.edge_feeder_fibres,
            np.zeros(m, np.int64),
            at(design.cabinet_node, design.cabinet_splitters),
            design.olt_ports,
        ),
        "distribution": (
            design.edge_distribution_fibres,
            at(design.cabinet_node, design.cabinet_secondary_splitters),
            at(design.dp_node, design.dp_splitters),
            0,
        ),
        "drop": (
            design.edge_drop_cables,
            at(design.dp_node, design.dp_premises_count),
            at(design.premises_node, np.ones(design.premises_node.size, np.int64)),
            0,
        ),
    }
    for name, (fibres, source, sink, root_in) in classes.items():
        if np.any(fibres < 0):
            problems.append(f"{name}: negative fibre count on edges {np.flatnonzero(fibres < 0)}")
        fin = np.zeros(m, np.int64)
        fin[child_l] = fibres
        fin[root_l] = root_in
        fout = np.bincount(par_l, weights=fibres, minlength=m).astype(np.int64)
        bad = np.flatnonzero(fin + source != fout + sink)
        problems.extend(
            f"{name} fibres not conserved at node {nodes[v]}: in {fin[v]} + originating "
            f"{source[v]} != out {fout[v]} + terminated {sink[v]}"
            for v in bad[:20].tolist()
        )
    short = np.flatnonzero(design.dp_splitters * rules.secondary_split < design.dp_premises_count)
    problems.extend(f"DP {i} has too few splitter outputs" for i in short.tolist())
    fed = np.bincount(
        design.dp_cabinet, weights=design.dp_splitters, minlength=design.cabinet_node.size
    ).astype(np.int64)
    wrong = np.flatnonzero(fed != design.cabinet_secondary_splitters)
    problems.extend(
        f"cabinet {i} feeds {fed[i]} DP splitters, not {design.cabinet_secondary_splitters[i]}"
        for i in wrong.tolist()
    )
    short = np.flatnonzero(
        design.cabinet_splitters * rules.primary_split < design.cabinet_secondary_splitters
    )
    problems.extend(f"cabinet {i} has too few primary splitter outputs" for i in short.tolist())
    return problems
