"""Proposed OLT sites: the fewest headends along the route that keep every premises in reach.

When no headend is given, :func:`fibreplan.plan` picks one (an approximate
network 1-median, :func:`fibreplan.build_trench_graph`) and routes one Steiner
tree from it. In a town every premises is then within the optical budget; in
a large town or a county it is not: the cheapest tree is long and winding (on
a 100k-premises street grid a premises' route along the tree is a median 4x,
up to 15x, its shortest path), and a class B+ budget allows about 20 km of
route. :func:`cover_tree` then places OLT sites on the tree itself, the fewest
that keep every premises within a given route distance of one (the greedy
covering of a tree, exact for sites at nodes), and cuts the tree into one
tree per site (each premises served from its nearest site along the tree).
:func:`with_proposed_sites` does this for a plan: the forest costs no more
than the tree it was cut from, and every premises' route is within reach, so
the design from each site (:func:`fibreplan.forest.design_forest`) keeps
every premises within the budget.

The covering works on arrays (tree edges, lengths) only.
"""

from __future__ import annotations

import dataclasses
import logging

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse import csgraph

from fibreplan._errors import InputValidationError
from fibreplan.config import DesignRules
from fibreplan.forest import Forest
from fibreplan.optimise import SteinerResult
from fibreplan.trench import TrenchGraph

__all__ = ["TreeSites", "cover_tree", "pon_reach_m", "with_proposed_sites"]

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class TreeSites:
    """OLT sites on a tree and the forest they cut it into.

    Attributes
    ----------
    sites : numpy.ndarray of int64, shape (k,)
        Site nodes; ``sites[0]`` is the tree's root.
    edge_site : numpy.ndarray of int64, shape (m,)
        Index into ``sites`` of the site serving each tree edge; -1 for the
        edges cut between two sites' trees.
    node_site : numpy.ndarray of int64, shape (n,)
        Index into ``sites`` of the site serving each node; -1 off the tree.
    node_dist_m : numpy.ndarray of float64, shape (n,)
        Route distance from each node to its site along its tree, m (inf off the tree).
    span : numpy.ndarray of bool, shape (m,)
        Tree edges on the paths joining the sites (the subtree spanning them).
    """

    sites: npt.NDArray[np.int64]
    edge_site: npt.NDArray[np.int64]
    node_site: npt.NDArray[np.int64]
    node_dist_m: npt.NDArray[np.float64]
    span: npt.NDArray[np.bool_]


def pon_reach_m(rules: DesignRules) -> float:
    """Return the longest route, in metres, that a premises can be from its headend within budget.

    Parameters
    ----------
    rules : DesignRules
        The design rules (losses, splits, budget, margin, drum length).

    Returns
    -------
    float
        ``(power_budget_db - margin_db - fixed_db) / per_m`` metres, where
        ``fixed_db`` is the loss of every path whatever its length (both
        splitters, the connectors and the fixed and splitter splices) and
        ``per_m`` the loss per metre of route (fibre attenuation plus one drum
        joint every ``drum_length_m``), the same terms as
        :func:`fibreplan.design.design_network`'s optical check; 0 when the
        fixed losses alone exceed the budget. About 20 km with the default rules.
    """
    stages = sum(
        rules.splitter_splices if ratio > 1 else 1
        for ratio in (rules.primary_split, rules.secondary_split)
    )
    fixed_db = (
        rules.splitter_loss(rules.primary_split)
        + rules.splitter_loss(rules.secondary_split)
        + rules.connectors * rules.connector_loss_db
        + (rules.fixed_splices + stages) * rules.splice_loss_db
    )
    per_m = rules.fibre_loss_db_per_km / 1000.0 + rules.splice_loss_db / rules.drum_length_m
    return max(rules.power_budget_db - rules.margin_db - fixed_db, 0.0) / per_m


def _rooted(
    edges: npt.NDArray[np.int64], length_m: npt.NDArray[np.float64], n: int, root: int
) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int32], npt.NDArray[np.float64]]:
    """Breadth-first order from ``root``, each node's parent and the length of its parent edge."""
    T = sp.coo_array((length_m, (edges[:, 0], edges[:, 1])), shape=(n, n)).tocsr()
    order, parent = csgraph.breadth_first_order(T, root, directed=False)
    up = np.zeros(n)
    child = order[1:]
    T = T + T.T
    up[child] = T[parent[child], child]
    return order, parent, up


def _greedy_sites(
    order: npt.NDArray[np.int32],
    parent: npt.NDArray[np.int32],
    up: npt.NDArray[np.float64],
    is_terminal: npt.NDArray[np.bool_],
    reach_m: float,
) -> list[int]:
    """Place sites bottom-up, at a node when an uncovered terminal below would fall out of reach.

    One pass over the nodes from the leaves: ``far`` is the route distance to
    the farthest terminal below not yet in reach of a site, ``near`` the
    distance to the nearest site below. Terminals within reach of a site
    below (``far + near <= reach``) are covered; a node becomes a site when
    carrying ``far`` one edge further up would put a terminal out of reach
    (Kariv & Hakimi 1979, the greedy covering of a tree: the fewest sites at
    nodes). The root is always a site.
    """
    n = parent.size
    far = np.where(is_terminal, 0.0, -np.inf).tolist()
    near = [np.inf] * n
    par, w = parent.tolist(), up.tolist()
    sites: list[int] = []
    for v in order[:0:-1].tolist():  # leaves first, the root last (not visited)
        if far[v] + near[v] <= reach_m:
            far[v] = -np.inf
        if far[v] >= 0 and far[v] + w[v] > reach_m:
            sites.append(v)
            far[v], near[v] = -np.inf, 0.0
        p = par[v]
        far[p] = max(far[p], far[v] + w[v])
        near[p] = min(near[p], near[v] + w[v])
    return [int(order[0]), *sites]


def cover_tree(
    tree_edges: npt.ArrayLike,
    edge_length_m: npt.ArrayLike,
    terminals: npt.ArrayLike,
    *,
    root: int,
    reach_m: float,
    n_nodes: int | None = None,
) -> TreeSites:
    """Place the fewest sites on a tree that keep every terminal within ``reach_m`` of one.

    Parameters
    ----------
    tree_edges : array-like of int, shape (m, 2)
        The tree's edges (node pairs); one connected tree holding ``root``.
    edge_length_m : array-like of float, shape (m,)
        Length of each edge, m.
    terminals : array-like of int
        Nodes that must be within reach (the premises' nodes).
    root : int
        The first site (the headend already chosen).
    reach_m : float
        Longest route from a terminal to its site along the tree, m.
    n_nodes : int, optional
        Number of graph nodes (default: one more than the largest node).

    Returns
    -------
    TreeSites
        The sites (the root first), the site serving each edge and node, and
        the edges cut between sites' trees.

    Raises
    ------
    InputValidationError
        If ``reach_m`` is not positive.

    Notes
    -----
    The sites come from the greedy bottom-up covering of the tree (optimal
    for sites at nodes and route distances along the tree [1]_); each node is
    then served by its nearest site along the tree (one multi-source
    Dijkstra on the tree), and a tree edge whose ends are served by different
    sites is cut. O(n log n) for ``n`` tree nodes; deterministic.

    References
    ----------
    .. [1] O. Kariv and S. L. Hakimi, "An algorithmic approach to network
       location problems. I: The p-centers", SIAM J. Appl. Math. 37 (1979)
       513-538, doi:10.1137/0137040.
    """
    edges = np.asarray(tree_edges, dtype=np.int64).reshape(-1, 2)
    length = np.asarray(edge_length_m, dtype=np.float64).reshape(-1)
    if not reach_m > 0:
        msg = f"reach_m must be a positive distance in metres; got {reach_m!r}."
        raise InputValidationError(msg)
    n = int(n_nodes) if n_nodes is not None else int(max(edges.max(initial=-1), root)) + 1
    order, parent, up = _rooted(edges, length, n, root)
    is_terminal = np.zeros(n, dtype=bool)
    is_terminal[np.asarray(terminals, dtype=np.int64)] = True
    sites = np.asarray(_greedy_sites(order, parent, up, is_terminal, reach_m), dtype=np.int64)
    T = sp.coo_array((np.maximum(length, 1e-9), (edges[:, 0], edges[:, 1])), shape=(n, n))
    dist, pred, source = csgraph.dijkstra(
        T.tocsr(), directed=False, indices=sites, min_only=True, return_predecessors=True
    )
    index = np.full(n, -1, dtype=np.int64)
    index[sites] = np.arange(sites.size)
    node_site = np.where(source >= 0, index[np.maximum(source, 0)], -1)
    # keep the edges of the shortest-path forest from the sites (each node joined to the
    # predecessor on its way to its site; ties cannot strand a node without a site)
    a, b = edges[:, 0], edges[:, 1]
    child = np.where(pred[a] == b, a, np.where(pred[b] == a, b, -1))
    edge_site = np.where(child >= 0, node_site[np.maximum(child, 0)], -1)
    below = np.zeros(n, dtype=np.int64)  # sites in each node's subtree
    below[sites] = 1
    for v in order[:0:-1].tolist():
        below[parent[v]] += below[v]
    lower = np.where(parent[a] == b, a, b)  # the end farther from the root
    return TreeSites(
        sites=sites,
        edge_site=edge_site.astype(np.int64),
        node_site=node_site.astype(np.int64),
        node_dist_m=dist,
        span=below[lower] > 0,
    )


def with_proposed_sites(
    tg: TrenchGraph,
    tree: SteinerResult,
    *,
    rules: DesignRules,
    max_drop_m: float,
) -> tuple[TrenchGraph, SteinerResult, Forest | None, tuple[str, ...]]:
    """Propose OLT sites on a plan's tree when one headend leaves premises out of reach.

    Parameters
    ----------
    tg : TrenchGraph
        The trench graph, its one headend chosen automatically.
    tree : SteinerResult
        The Steiner tree routed from that headend.
    rules : DesignRules
        Design rules (the optical budget gives the reach, :func:`pon_reach_m`).
    max_drop_m : float
        Longest drop, m: the route from a premises' node to its site is kept
        within ``pon_reach_m(rules) - max_drop_m``.

    Returns
    -------
    tuple
        ``(tg, tree, forest, headend_ids)``: unchanged (forest None, ids
        ``("H1",)``) when every premises is within reach of the one headend;
        otherwise the trench graph with the sites as its headends (the first
        the headend chosen, ``headend_how`` saying they were proposed), the
        tree itself (whole: the k - 1 edges joining two sites' trees stay as
        the sites' backhaul route, each with the site of one of its ends, so
        the trenches remain one network with the tree's cost and bound), the
        :class:`~fibreplan.forest.Forest` and the ids ``H1``, ``H2``, ...
    """
    reach = pon_reach_m(rules) - max_drop_m
    reach_nodes = tg.premises_node[tg.premises_node >= 0]
    if reach <= 0 or reach_nodes.size == 0 or tree.edges.size == 0:
        return tg, tree, None, ("H1",)
    rows = tg.edge_index(tree.edges)
    cover = cover_tree(tree.edges, tg.edge_length_m[rows], reach_nodes,
                       root=tg.headend_node, reach_m=reach, n_nodes=tg.n_nodes)  # fmt: skip
    k = cover.sites.size
    if k == 1:
        return tg, tree, None, ("H1",)
    # the tree stays whole: the k - 1 edges the shortest-path forest cuts between two
    # sites' trees join the sites (their backhaul route) and go to the site of one end,
    # so the trenches remain one network and the route keeps its cost and bound
    edge_root = cover.edge_site.copy()
    cut = edge_root < 0
    edge_root[cut] = cover.node_site[tree.edges[cut, 0]]
    forest_tree = dataclasses.replace(tree, method=f"{tree.method}; {k} OLT sites proposed on it")
    forest = Forest(
        tree=forest_tree,
        roots=cover.sites,
        edge_root=edge_root,
        node_root=cover.node_site,
    )
    how = (
        f"proposed: {k} OLT sites on the routed tree (one headend leaves premises beyond "
        f"the optical budget's reach): the fewest keeping every premises within "
        f"{reach / 1000:.1f} km of route of a site (PON reach {pon_reach_m(rules) / 1000:.1f} "
        f"km less the {max_drop_m:.0f} m drop limit); H1 is the network 1-median"
    )
    logger.info("sites: %s; %d tree edges join the sites' trees", how, int(cut.sum()))
    node = int(cover.sites[0])
    out = dataclasses.replace(tg, headend_how=how, headend_nodes=cover.sites)
    assert out.headend_node == node  # the root is the first site
    return out, forest_tree, forest, tuple(f"H{i + 1}" for i in range(k))
