"""Proposed OLT sites (fibreplan._sites): PON reach by hand, tree covering against brute force."""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp
import shapely
from scipy.sparse import csgraph

import fibreplan
from fibreplan._errors import InputValidationError
from fibreplan._sites import cover_tree
from fibreplan._sites import pon_reach_m
from fibreplan.config import DesignRules


def test_pon_reach_by_hand() -> None:
    # fixed: 1:4 (7.3) + 1:8 (10.5) splitters, 4 connectors x 0.5, (2 fixed + 2 + 2) splices x 0.1
    fixed_db = 7.3 + 10.5 + 2.0 + 0.6
    per_m = 0.35 / 1000 + 0.1 / 4000  # fibre + one drum joint per 4 km
    assert pon_reach_m(DesignRules()) == pytest.approx((28.0 - fixed_db) / per_m)  # 20,266.7 m
    assert pon_reach_m(DesignRules(margin_db=8.0)) == 0.0  # fixed losses alone over budget


def _path(n: int, step_m: float) -> tuple[np.ndarray, np.ndarray]:
    edges = np.column_stack([np.arange(n - 1), np.arange(1, n)])
    return edges, np.full(n - 1, step_m)


def test_path_needs_two_sites() -> None:
    # 0 - 1 - ... - 10, 1 km steps, every node a terminal, reach 3 km from the root 0:
    # one site serves at most 7 nodes (3 km either side), so 11 nodes need 2 sites
    edges, length = _path(11, 1000.0)
    cover = cover_tree(edges, length, np.arange(11), root=0, reach_m=3000.0)
    assert cover.sites.tolist() == [0, 7]
    assert cover.node_site.tolist() == [0] * 4 + [1] * 7
    assert cover.node_dist_m.max() == 3000.0
    assert (cover.edge_site == -1).sum() == 1  # the edge (3, 4) is cut
    assert cover.edge_site[3] == -1
    assert cover.span.tolist() == [True] * 7 + [False] * 3  # the path from 0 to 7


def test_star_arms_each_need_a_site() -> None:
    # centre 0 with three 5 km arms ending in a terminal; reach 3 km: a site on each arm,
    # as near the centre as reach allows (2.5 km from the end)
    edges = np.array([[0, 1], [1, 2], [0, 3], [3, 4], [0, 5], [5, 6]])
    length = np.full(6, 2500.0)
    cover = cover_tree(edges, length, [2, 4, 6], root=0, reach_m=3000.0)
    assert cover.sites[0] == 0
    assert sorted(cover.sites[1:].tolist()) == [1, 3, 5]
    assert np.all(cover.node_dist_m[[2, 4, 6]] == 2500.0)


def test_reach_must_be_positive() -> None:
    edges, length = _path(3, 10.0)
    with pytest.raises(InputValidationError, match="reach_m must be a positive"):
        cover_tree(edges, length, [2], root=0, reach_m=0.0)


def _random_tree(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    parent = np.array([rng.integers(0, i) for i in range(1, n)])
    edges = np.column_stack([parent, np.arange(1, n)])
    return edges, rng.integers(1, 6, size=n - 1).astype(float) * 100.0


def _fewest_sites(edges: np.ndarray, length: np.ndarray, terms: np.ndarray, reach: float) -> int:
    """Brute force: the fewest sites (the root 0 among them) covering every terminal."""
    n = edges.shape[0] + 1
    T = sp.coo_array((length, (edges[:, 0], edges[:, 1])), shape=(n, n))
    dist = csgraph.dijkstra(T.tocsr(), directed=False)
    for extra in range(n):
        for more in itertools.combinations(range(1, n), extra):
            if np.all(dist[[0, *more]][:, terms].min(axis=0) <= reach):
                return 1 + extra
    raise AssertionError  # pragma: no cover - all nodes as sites always cover


@pytest.mark.parametrize("seed", range(25))
def test_greedy_is_fewest_and_forest_within_reach(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 10))
    edges, length = _random_tree(rng, n)
    terms = np.flatnonzero(rng.random(n) < 0.6)
    reach = float(rng.integers(1, 8) * 100)
    cover = cover_tree(edges, length, terms, root=0, reach_m=reach)
    assert cover.sites.size == _fewest_sites(edges, length, terms, reach)
    assert np.all(cover.node_dist_m[terms] <= reach)
    # the kept edges form one tree per site, each holding its site and the nodes it serves
    keep = cover.edge_site >= 0
    assert (~keep).sum() == cover.sites.size - 1
    F = sp.coo_array((np.ones(keep.sum()), (edges[keep, 0], edges[keep, 1])), shape=(n, n))
    n_comp, comp = csgraph.connected_components(F, directed=False)
    assert n_comp == cover.sites.size
    assert np.array_equal(comp, comp[cover.sites][cover.node_site])
    assert np.array_equal(cover.edge_site[keep], cover.node_site[edges[keep, 0]])


def test_plan_proposes_sites_when_one_headend_is_out_of_reach() -> None:
    streets, premises = fibreplan.demo_data(tiny=True)
    # margin 7.5 dB leaves 0.1 dB: 267 m of route, 167 m to a premises' node
    rules = DesignRules(margin_db=7.5)
    one = fibreplan.plan(streets, premises, rules=rules, propose_sites=False).summary
    assert one["loss_violations"] > 0
    assert fibreplan.plan(streets, premises).summary["headend"]["how"].startswith("chosen")
    p = fibreplan.plan(streets, premises, rules=rules)
    s = p.summary
    assert s["headend"]["how"].startswith("proposed:")
    assert len(s["headends"]) > 1
    assert s["loss_violations"] == 0
    assert s["premises_connected"] == one["premises_connected"]
    # the route is the same tree: the edges joining the sites' trees stay (their backhaul)
    assert s["trench_m"] == one["trench_m"]
    per_headend = sum(h["trench_m"] for h in s["headends"])
    assert per_headend == pytest.approx(s["trench_m"], abs=0.05)  # each rounded to 1 cm
    assert sum(h["premises_connected"] for h in s["headends"]) == s["premises_connected"]
    opt = s["optimiser"]
    assert opt["tree_cost_gbp"] == one["optimiser"]["tree_cost_gbp"]
    assert opt["lower_bound_gbp"] <= opt["tree_cost_gbp"]
    # and the trenches form one network in their written geometry (ends joined at 1 mm)
    lines = p.layers()["trenches"].geometry.to_numpy()
    first = shapely.get_coordinates(shapely.get_point(lines, 0)).round(3)
    last = shapely.get_coordinates(shapely.get_point(lines, -1)).round(3)
    G = nx.Graph()
    G.add_edges_from((tuple(a), tuple(b)) for a, b in zip(first, last, strict=True))
    assert nx.number_connected_components(G) == 1
    assert set(p.layers()["premises"]["headend_id"].dropna()) == {h["id"] for h in s["headends"]}
