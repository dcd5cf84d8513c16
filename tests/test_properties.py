"""Property tests of whole plans on random small street graphs and premises (hypothesis).

On any street grid with edges left out at random (so it may fall apart) and
premises scattered on and off it:

* the trenched edges form a forest, and every tree of it holds a headend;
* every premises is either connected (with a node on a headend's tree) or
  reported unreachable with one reason, exactly once, in the layer, the
  summary counts, the warnings and quality.json; a plan that would connect
  none is refused with InfeasibleDesignError instead;
* every cost is non-negative and they add up: bill of quantities lines to the
  totals, trench edges to the optimiser's tree cost.
"""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from scipy.sparse import coo_array
from scipy.sparse.csgraph import connected_components

import fibreplan
from fibreplan._errors import InfeasibleDesignError

from .conftest import X0
from .conftest import Y0

_STEP = 80.0  # grid spacing, metres


@st.composite
def _town(draw: st.DrawFn) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """A street grid with some edges missing, and premises near and far from it."""
    nx_, ny_ = draw(st.integers(2, 4)), draw(st.integers(2, 3))
    segs = [((i, j), (i + 1, j)) for i in range(nx_ - 1) for j in range(ny_)]
    segs += [((i, j), (i, j + 1)) for i in range(nx_) for j in range(ny_ - 1)]
    keep = draw(st.lists(st.booleans(), min_size=len(segs), max_size=len(segs)))
    segs = [s for s, k in zip(segs, keep, strict=True) if k] or segs[:1]
    lines = [
        shapely.LineString(
            [(X0 + a[0] * _STEP, Y0 + a[1] * _STEP), (X0 + b[0] * _STEP, Y0 + b[1] * _STEP)]
        )
        for a, b in segs
    ]
    streets = gpd.GeoDataFrame(
        {"highway": [draw(st.sampled_from(["residential", "primary", "footway"]))] * len(lines)},
        geometry=lines,
        crs="EPSG:27700",
    )
    n = draw(st.integers(1, 8))
    coord = st.floats(-150.0, max(nx_, ny_) * _STEP + 150.0, allow_nan=False)
    xy = draw(st.lists(st.tuples(coord, coord), min_size=n, max_size=n))
    premises = gpd.GeoDataFrame(
        {"uprn": [f"U{100 + i}" for i in range(n)]},
        geometry=[shapely.Point(X0 + x, Y0 + y) for x, y in xy],
        crs="EPSG:27700",
    )
    return streets, premises


def _check_forest(p: fibreplan.Plan) -> None:
    tg, rows = p.trench_graph, p.tree_edge_rows
    u, v = tg.edge_u[rows], tg.edge_v[rows]
    nodes = np.unique(np.concatenate([u, v, [tg.headend_node]]))
    idx = np.searchsorted(nodes, np.concatenate([u, v]))
    m = rows.size
    g = coo_array((np.ones(m), (idx[:m], idx[m:])), shape=(nodes.size, nodes.size))
    n_comp, label = connected_components(g, directed=False)
    assert m == nodes.size - n_comp, "the trenched edges hold a cycle"
    heads = np.atleast_1d(getattr(tg, "headends", tg.headend_node))
    head_comps = set(label[np.searchsorted(nodes, heads[np.isin(heads, nodes)])].tolist())
    assert set(label.tolist()) <= head_comps, "a tree of the forest has no headend"
    connected = tg.premises_node[tg.premises_node >= 0]
    if rows.size:  # else the headend alone serves premises at its own node
        at = np.searchsorted(nodes, connected)
        assert (nodes[at] == connected).all(), "a connected premises is off the tree"
        assert set(label[at].tolist()) <= head_comps


def _check_reported_once(p: fibreplan.Plan) -> None:
    prem, s = p.premises, p.summary
    ids = prem["premises_id"].astype(str)
    assert ids.is_unique
    connected = prem["status"] == "connected"
    assert ((prem["reason"] == "") == connected).all()
    assert s["premises_connected"] == connected.sum()
    assert s["premises_connected"] + s["premises_unreachable"] == s["premises_total"] == len(prem)
    listed = [
        i for v in s["quality"]["premises"]["unreachable"].values() for i in v["premises_ids"]
    ]
    assert sorted(listed) == sorted(ids[~connected])  # each unreachable ID once, none else
    counted = sum(
        int(re.match(r"([\d,]+) of", w).group(1).replace(",", ""))
        for w in s["warnings"]
        if "unreachable" in w
    )
    assert counted == s["premises_unreachable"]


def _check_costs(p: fibreplan.Plan) -> None:
    boq, c = p.costing.boq, p.costing
    for col in ("quantity", "cost_low_gbp", "cost_gbp", "cost_high_gbp"):
        assert (boq[col] >= 0).all(), col
    assert boq["cost_gbp"].sum() == pytest.approx(c.total_gbp, abs=0.01 * len(boq) + 1e-6)
    assert boq["cost_low_gbp"].sum() == pytest.approx(c.low_gbp, abs=0.01 * len(boq) + 1e-6)
    assert c.low_gbp <= c.total_gbp + 1e-6 <= c.high_gbp + 2e-6
    tg, rows = p.trench_graph, p.tree_edge_rows
    assert (tg.edge_cost_gbp[rows] >= 0).all()
    assert tg.edge_cost_gbp[rows].sum() == pytest.approx(p.tree.cost, rel=1e-9, abs=1e-6)
    assert p.summary["trench_m"] == pytest.approx(tg.edge_length_m[rows].sum(), abs=0.01)


@settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(_town())
def test_random_plans_are_forests_report_every_premises_once_and_add_up(town):
    streets, premises = town
    refused = None
    try:
        p = fibreplan.plan(streets, premises, method="heuristic")
    except InfeasibleDesignError as err:  # no premises reachable: refused, naming them all
        refused = err
    if refused is not None:
        assert "no premises can be connected" in str(refused)
        assert sorted(refused.unreachable) == sorted(premises["uprn"])
        return
    assert p.summary["premises_connected"] >= 1
    _check_forest(p)
    _check_reported_once(p)
    _check_costs(p)
