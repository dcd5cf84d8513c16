"""Areas on Dask (fibreplan.distributed): partition, same plan on a cluster, failures, ids."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import shapely
from geopandas.testing import assert_geodataframe_equal

import fibreplan
from fibreplan._errors import InputValidationError
from fibreplan.distributed import ID_COLUMNS
from fibreplan.distributed import AreasPlan
from fibreplan.distributed import assign_areas
from fibreplan.distributed import partition_areas
from fibreplan.distributed import plan_areas

distributed = pytest.importorskip("distributed")

#: Each layer's own id column: unique over the merged plan.
OWN_ID = {"trenches": "edge_id", "dps": "dp_id", "cabinets": "cabinet_id",
          "chambers": "chamber_id", "headend": "headend_id", "premises": "premises_id"}  # fmt: skip


@pytest.fixture(scope="module")
def tiny() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    return fibreplan.demo_data(tiny=True)


@pytest.fixture(scope="module")
def halves(tiny: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    """The tiny demo cut in two at the median easting of its premises."""
    _, premises = tiny
    return partition_areas(premises, max_premises=len(premises) - 1)


@pytest.fixture(scope="module")
def cluster() -> object:
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    ) as c:
        yield c


@pytest.fixture(scope="module")
def sequential(tiny, halves) -> AreasPlan:
    return plan_areas(*tiny, areas=halves, workers=0)


def _without_seconds(value: object) -> object:
    if isinstance(value, dict):
        return {k: _without_seconds(v) for k, v in value.items() if k != "seconds"}
    if isinstance(value, list):
        return [_without_seconds(v) for v in value]
    return value


def test_partition_bounds_and_covers() -> None:
    rng = np.random.default_rng(3)
    xy = rng.uniform(0, 5000, size=(1001, 2)) * [3, 1]  # a wide study: cut across x first
    premises = gpd.GeoDataFrame(geometry=shapely.points(xy), crs="EPSG:27700")
    areas = partition_areas(premises, max_premises=100)
    assert len(areas) == 16  # 1001 -> 500/501 -> ... -> 62/63 in 16 parts
    assert areas["premises"].sum() == 1001
    assert areas["premises"].between(50, 100).all()
    assert areas["area_id"].tolist() == [f"A{i:02d}" for i in range(1, 17)]
    owner = assign_areas(premises, areas)
    assert (owner >= 0).all()
    assert np.array_equal(np.bincount(owner, minlength=16), areas["premises"].to_numpy())
    assert shapely.union_all(areas.geometry).area == pytest.approx(areas.geometry.area.sum())
    assert_geodataframe_equal(areas, partition_areas(premises, max_premises=100))


def test_partition_refuses_bad_size(tiny) -> None:
    with pytest.raises(InputValidationError, match="max_premises must be at least 1"):
        partition_areas(tiny[1], max_premises=0)


def test_cluster_gives_the_sequential_plan(tiny, halves, cluster, sequential) -> None:
    seen: list[tuple[str, str]] = []
    on_dask = plan_areas(
        *tiny, areas=halves, scheduler=cluster.scheduler_address,
        progress=lambda area, status, _s: seen.append((area, status)),
    )  # fmt: skip
    assert sorted(seen) == [("A1", "planned"), ("A2", "planned")]
    assert set(on_dask.layers) == set(sequential.layers)
    for name, layer in sequential.layers.items():
        assert_geodataframe_equal(on_dask.layers[name], layer, check_like=False)
    assert _without_seconds(on_dask.summary) == _without_seconds(sequential.summary)
    # two areas, each its own plan: the merged figures are the sum of the areas' plans
    one = [fibreplan.plan(tiny[0], tiny[1].loc[assign_areas(tiny[1], halves) == i])
           for i in range(2)]  # fmt: skip
    s = sequential.summary
    assert s["premises_connected"] == sum(p.summary["premises_connected"] for p in one)
    assert s["cost_total_gbp"] == pytest.approx(sum(p.summary["cost_total_gbp"] for p in one))
    assert [a["km"] for a in s["areas"]] == [
        pytest.approx(p.summary["trench_m"] / 1000, abs=1e-3) for p in one
    ]


def test_merged_ids_unique_and_consistent(sequential: AreasPlan) -> None:
    layers = sequential.layers
    for name, col in OWN_ID.items():
        assert layers[name][col].is_unique, name
        assert layers[name][col].notna().all(), name
    assert set(layers["premises"]["area_id"]) == {"A1", "A2"}
    # every reference points at a row of the merged layer it names
    prem = layers["premises"]
    assert set(prem["dp_id"].dropna()) <= set(layers["dps"]["dp_id"])
    assert set(layers["dps"]["cabinet_id"]) <= set(layers["cabinets"]["cabinet_id"])
    assert set(layers["trenches"]["headend_id"]) <= set(layers["headend"]["headend_id"])
    assert set(layers["cables"]["edge_id"]) <= set(layers["trenches"]["edge_id"])
    for layer in layers.values():
        for col in set(ID_COLUMNS) & set(layer.columns):
            ids = layer[col].dropna()
            assert (ids.str.split(":").str[0] == layer.loc[ids.index, "area_id"]).all()
    s = sequential.summary
    assert s["premises_total"] == 35
    assert s["premises_connected"] + s["premises_unreachable"] == 35
    assert [a["id"] for a in s["areas"]] == ["A1", "A2"]
    assert sum(a["premises"] for a in s["areas"]) == 35
    assert s["backbone"]["headends_joined"] == len(layers["headend"]) == 2
    assert s["backbone"]["trench_m"] > 0


def test_a_failing_area_is_reported_and_the_others_complete(tiny, halves, cluster) -> None:
    streets, premises = tiny
    # a third area 30 km away holding one premises and no street: its plan raises
    far = shapely.Point(premises.total_bounds[2] + 30_000, premises.total_bounds[3])
    lonely = gpd.GeoDataFrame({"premises_id": ["far-1"]}, geometry=[far], crs=premises.crs)
    more = pd.concat([premises, lonely], ignore_index=True)
    areas = pd.concat(
        [halves[["area_id", "geometry"]],
         gpd.GeoDataFrame({"area_id": ["FAR"]}, geometry=[far.buffer(50)], crs=premises.crs)],
        ignore_index=True,
    )  # fmt: skip
    seen: list[tuple[str, str]] = []
    result = plan_areas(
        streets, more, areas=areas, scheduler=cluster.scheduler_address, retries=1,
        progress=lambda area, status, _s: seen.append((area, status)),
    )  # fmt: skip
    assert sorted(seen) == [("A1", "planned"), ("A2", "planned"),
                            ("FAR", "failed"), ("FAR", "retrying")]  # fmt: skip
    assert [a.area_id for a in result.failed] == ["FAR"]
    s = result.summary
    assert s["areas_failed"] == ["FAR"]
    row = next(a for a in s["areas"] if a["id"] == "FAR")
    assert row["status"] == "failed"
    assert row["attempts"] == 2
    assert row["error"]
    assert any(w.startswith("area FAR (1 premises) failed after 2 attempts") for w in s["warnings"])
    assert s["premises_in_failed_areas"] == 1
    assert s["premises_total"] == 36  # the failed area's premises counted, not dropped
    assert s["premises_connected"] == 35
    assert set(result.layers["premises"]["area_id"]) == {"A1", "A2"}


def test_save_writes_one_plan(sequential: AreasPlan, tmp_path) -> None:
    paths = sequential.save(tmp_path / "out", basemap=False)
    summary = json.loads(paths["summary"].read_text(encoding="utf-8"))
    assert [a["id"] for a in summary["areas"]] == ["A1", "A2"]
    import pyogrio

    names = {n for n, _ in pyogrio.list_layers(paths["gpkg"])}
    assert {"premises", "trenches", "areas", "backbone"} <= names
    assert len(gpd.read_file(paths["gpkg"], layer="premises")) == 35
    assert paths["map"].stat().st_size > 0


def test_headend_option_refused(tiny) -> None:
    with pytest.raises(InputValidationError, match="each area chooses its own headend"):
        plan_areas(*tiny, workers=0, headend=(-0.14, 51.52))


def test_backbone_corridor_tree_is_a_valid_near_optimal_tree() -> None:
    from scipy.sparse import csgraph

    from fibreplan.distributed import _corridor_tree
    from fibreplan.optimise import steiner_tree_csr

    rng = np.random.default_rng(7)
    side = 12  # a 12 x 12 street grid, headends at the corners and the middle
    idx = np.arange(side * side).reshape(side, side)
    u = np.concatenate([idx[:-1, :].ravel(), idx[:, :-1].ravel()])
    v = np.concatenate([idx[1:, :].ravel(), idx[:, 1:].ravel()])
    A = sp.coo_array((rng.uniform(50, 150, u.size), (u, v)), shape=(side * side,) * 2).tocsr()
    A = sp.csr_array(A + A.T)
    t = np.array([0, side - 1, idx[6, 5], side * side - side, side * side - 1])
    exact = steiner_tree_csr(A, t, method="exact")
    tree = _corridor_tree(A, t)
    assert not tree.optimal
    T = sp.coo_array((np.ones(len(tree.edges)), tree.edges.T), shape=A.shape)
    _, comp = csgraph.connected_components(T, directed=False)
    assert np.unique(comp[t]).size == 1  # one tree through every headend
    cost = float(np.asarray(A[tree.edges[:, 0], tree.edges[:, 1]]).sum())
    assert cost == pytest.approx(tree.cost)
    assert exact.cost - 1e-6 <= cost <= 1.05 * exact.cost
