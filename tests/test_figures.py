"""Tests for fibreplan.figures: plan.png and the plots of the notebooks and the bid."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_hex
from PIL import Image
from shapely.geometry import LineString
from shapely.geometry import MultiLineString
from shapely.geometry import Point

from fibreplan import _palette
from fibreplan.figures import OSM_CREDIT
from fibreplan.figures import _nice_length
from fibreplan.figures import cable_metres
from fibreplan.figures import cost_breakdown
from fibreplan.figures import loss_histogram
from fibreplan.figures import plan_figure
from fibreplan.figures import premises_per_cabinet
from fibreplan.figures import save_plan_figure

CRS = "EPSG:27700"
E0, N0 = 530_000.0, 180_500.0


def _layers() -> dict[str, gpd.GeoDataFrame]:
    premises = gpd.GeoDataFrame(
        {"status": ["connected", "connected", "unreachable"],
         "loss_violation": [False, True, False], "loss_db": [20.0, 29.0, np.nan]},
        geometry=[Point(E0 + 10, N0 + 10), Point(E0 + 300, N0 + 10), Point(E0 + 500, N0 + 400)],
        crs=CRS,
    )  # fmt: skip
    trenches = gpd.GeoDataFrame(
        {"edge_id": [0, 1]},
        geometry=[LineString([(E0, N0), (E0 + 200, N0)]), LineString([(E0 + 200, N0),
                                                                      (E0 + 300, N0)])],
        crs=CRS,
    )  # fmt: skip
    cables = gpd.GeoDataFrame({"edge_id": [0, 0, 1], "size": [48, 12, 12]},
                              geometry=list(trenches.geometry[[0, 0, 1]]), crs=CRS)  # fmt: skip
    cabinets = gpd.GeoDataFrame({"cabinet_id": [0, 1], "premises_count": [200, 56]},
                                geometry=[Point(E0, N0), Point(E0 + 200, N0)], crs=CRS)  # fmt: skip
    return {"premises": premises, "trenches": trenches, "cables": cables, "cabinets": cabinets}


@pytest.mark.parametrize(("span", "bar"), [(1000, 200), (480, 100), (52_000, 10_000), (7, 1)])
def test_scale_bar_is_a_round_fifth(span, bar) -> None:
    assert _nice_length(span) == bar


def test_plan_figure_colours_trenches_by_largest_cable_and_premises_by_status() -> None:
    fig = plan_figure(_layers(), title="Test")
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "trench, 48-fibre cable (0.20 km)" in labels
    assert "trench, 12-fibre cable (0.10 km)" in labels
    assert "over the optical budget (1)" in labels
    assert "unreachable (1)" in labels
    assert "cabinet (2)" in labels
    texts = [t.get_text() for t in ax.texts]
    assert any(OSM_CREDIT in t for t in texts)
    assert "N" in texts  # north arrow
    assert any(t.endswith((" m", " km")) for t in texts)  # scale bar
    # each cable size's trenches are one path in its colour, holding every line of that size
    lines = {to_hex(p.get_edgecolor()): p.get_path() for p in ax.patches}
    assert set(lines) == {_palette.cable_colour(48), _palette.cable_colour(12)}
    big, small = lines[_palette.cable_colour(48)], lines[_palette.cable_colour(12)]
    assert big.vertices.tolist() == [[E0, N0], [E0 + 200, N0]]
    assert small.vertices.tolist() == [[E0 + 200, N0], [E0 + 300, N0]]
    assert small.codes.tolist() == [small.MOVETO, small.LINETO]  # a new line starts with a move


def test_plan_figure_draws_multilines_as_separate_parts() -> None:
    layers = _layers()
    layers["trenches"] = gpd.GeoDataFrame(
        {"edge_id": [0]},
        geometry=[MultiLineString([[(E0, N0), (E0 + 50, N0)], [(E0, N0 + 80), (E0, N0 + 90)]])],
        crs=CRS,
    )
    del layers["cables"]
    fig = plan_figure(layers)
    (path,) = [p.get_path() for p in fig.axes[0].patches]
    assert len(path.vertices) == 4
    assert path.codes.tolist() == [path.MOVETO, path.LINETO, path.MOVETO, path.LINETO]


def test_save_plan_figure_writes_a_png_that_is_not_blank(tmp_path) -> None:
    path = save_plan_figure(_layers(), tmp_path / "plan.png", dpi=60)
    image = np.asarray(Image.open(path).convert("L"), dtype=float)
    assert image.shape[1] == round(11.7 * 60)
    assert image.std() > 5


def test_cost_breakdown_sums_categories() -> None:
    boq = pd.DataFrame({"category": ["civils", "civils", "cabling"], "cost_gbp": [100.0, 50, 30],
                        "cost_low_gbp": [90.0, 40, 25], "cost_high_gbp": [150.0, 70, 40]})
    ax = cost_breakdown(boq).axes[0]
    widths = {t.get_text(): p.get_width() for t, p in zip(ax.get_yticklabels(), ax.patches,
                                                         strict=True)}  # fmt: skip
    assert widths == {"cabling": 30.0, "civils": 150.0}
    assert "£180" in ax.get_title()


def test_cable_metres_in_km_with_map_colours() -> None:
    ax = cable_metres({"12": 1500.0, "96": 500.0}).axes[0]
    assert [p.get_height() for p in ax.patches] == [1.5, 0.5]
    assert to_hex(ax.patches[1].get_facecolor()) == _palette.CABLE_SIZES[96]


def test_premises_per_cabinet_and_loss_histogram() -> None:
    layers = _layers()
    ax = premises_per_cabinet(layers["cabinets"], capacity=256).axes[0]
    assert [p.get_height() for p in ax.patches] == [200, 56]
    ax = loss_histogram(layers["premises"], budget_db=28).axes[0]
    assert sum(p.get_height() for p in ax.patches) == 2
    assert "(1 over the budget)" in ax.get_title()
    over = [p for p in ax.patches if to_hex(p.get_facecolor()) == _palette.PREMISES["over_budget"]]
    assert sum(p.get_height() for p in over) == 1
