"""Shared fixtures: small hand-built networks and the embedded demo town."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
import shapely

import fibreplan

X0, Y0 = 529000.0, 181500.0  # a spot in central London, EPSG:27700 metres

#: The shared material beside the repo (benchmark instances); absent in a user's clone.
SHARED = Path(__file__).resolve().parents[1].parent / "shared"


def toy_streets() -> gpd.GeoDataFrame:
    """Four connected streets and one far-away, disconnected one (metres from X0, Y0)."""
    segs = [
        ((0, 0), (100, 0)),
        ((100, 0), (200, 0)),
        ((100, 0), (100, 100)),
        ((0, 0), (0, 100)),
        ((500, 500), (600, 500)),  # not connected to the rest
    ]
    lines = [shapely.LineString([(X0 + a[0], Y0 + a[1]), (X0 + b[0], Y0 + b[1])]) for a, b in segs]
    return gpd.GeoDataFrame(
        {
            "highway": ["residential"] * len(lines),
            "name": [f"street {i}" for i in range(len(lines))],
        },
        geometry=lines,
        crs="EPSG:27700",
    )


def toy_premises() -> gpd.GeoDataFrame:
    """Five premises: three reachable, one on the disconnected street, one too far away."""
    pts = {
        "A": (50, -10),  # drop 10 m to street 0 at x=50
        "B": (150, 5),  # drop 5 m to street 1 at x=150
        "C": (90, 60),  # drop 10 m to street 2 at y=60
        "D": (550, 510),  # on the disconnected street
        "E": (0, 2000),  # 1.9 km from any street
    }
    return gpd.GeoDataFrame(
        {"premises_id": list(pts), "class": "residential"},
        geometry=[shapely.Point(X0 + x, Y0 + y) for x, y in pts.values()],
        crs="EPSG:27700",
    )


@pytest.fixture
def streets() -> gpd.GeoDataFrame:
    return toy_streets()


@pytest.fixture
def premises() -> gpd.GeoDataFrame:
    return toy_premises()


@pytest.fixture
def headend() -> shapely.Point:
    return shapely.Point(X0, Y0)


@pytest.fixture
def simple_costs() -> fibreplan.CostBook:
    """Round unit costs so that totals can be computed by hand."""
    return fibreplan.CostBook(
        trench_gbp_per_m={"carriageway": 150.0, "footway": 100.0, "verge": 50.0},
        lead_in_gbp_per_m=10.0,  # the straight drop from the street, GBP/m
        drop_gbp_per_m=0.0,
        drop_gbp_per_premises=0.0,
        connection_gbp_per_premises=0.0,
        planning_gbp_per_premises=0.0,
        headend_gbp=1000.0,
        dp_gbp=0.0,
        cabinet_gbp=0.0,
        chamber_gbp=0.0,
        cable_gbp_per_m={12: 0.0, 288: 0.0},
        road_crossing_gbp=0.0,
        traffic_management_gbp_per_m={"major": 0.0, "minor": 0.0},
        permit_gbp_per_street={"major": 0.0, "minor": 0.0},
        reinstatement_gbp_per_m2=0.0,
        splice_gbp=0.0,
        splitter_gbp={4: 0.0, 8: 0.0},
        olt_port_gbp=0.0,
        backhaul_gbp_per_headend=0.0,
        wayleave_fraction=0.0,
        contingency_fraction=0.0,
        take_up=0.5,
    )


@pytest.fixture(scope="session")
def demo_plan() -> fibreplan.Plan:
    """The full embedded town, planned once per test session."""
    path = fibreplan.demo_path()
    return fibreplan.plan(path, path)  # no clock: the same plan on a busy or an idle machine
