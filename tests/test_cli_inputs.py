"""CLI options for real inputs: several --exchange values or a point file, --aoi/--bbox,
CSV --x-col/--y-col/--crs, --id-col."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pytest
import shapely

from fibreplan.cli import main

X0, Y0 = 450_000.0, 250_000.0  # EPSG:27700 metres, in England


def _files(tmp_path):
    street = gpd.GeoDataFrame(
        {"highway": ["residential"], "name": ["Long Lane"]},
        geometry=[shapely.LineString([(X0, Y0), (X0 + 2000, Y0)])],
        crs="EPSG:27700",
    )
    street.to_file(tmp_path / "streets.gpkg")
    xs = np.array([100.0, 300.0, 1700.0, 1900.0])
    lines = ["ref,E,N"] + [f"r{int(x)},{X0 + x},{Y0 + 10}" for x in xs]
    (tmp_path / "premises.csv").write_text("\n".join(lines) + "\n")
    ends = gpd.GeoSeries([shapely.Point(X0, Y0), shapely.Point(X0 + 2000, Y0)], crs=27700)
    return [(float(p.x), float(p.y)) for p in ends.to_crs(4326)]


def _args(tmp_path, *extra):
    return [
        "plan", "--streets", str(tmp_path / "streets.gpkg"),
        "--premises", str(tmp_path / "premises.csv"), "--x-col", "E", "--y-col", "N",
        "--crs", "EPSG:27700", "--id-col", "ref", "--method", "exact", "--no-basemap", "-q",
        *extra,
    ]  # fmt: skip


def test_two_exchanges_on_the_command_line(tmp_path, capsys):
    (w, e) = _files(tmp_path)
    out = tmp_path / "out"
    args = _args(tmp_path, f"--exchange={w[0]},{w[1]}", f"--exchange={e[0]},{e[1]}")
    assert main([*args, "--out", str(out)]) == 0
    s = json.loads((out / "summary.json").read_text())
    assert s["premises_connected"] == 4
    assert [(h["id"], h["premises_connected"]) for h in s["headends"]] == [("H1", 2), ("H2", 2)]
    assert abs(s["trench_m"] - 600.0) < 0.01
    text = capsys.readouterr().out
    assert "H1" in text
    assert "H2" in text
    heads = gpd.read_file(out / "plan.gpkg", layer="headend")
    assert heads["headend_id"].tolist() == ["H1", "H2"]


def test_exchange_point_file_and_bad_mixes(tmp_path, capsys):
    (w, e) = _files(tmp_path)
    (tmp_path / "ex.csv").write_text(f"name,lon,lat\nWest,{w[0]},{w[1]}\nEast,{e[0]},{e[1]}\n")
    out = tmp_path / "out"
    assert main([*_args(tmp_path, "--exchange", str(tmp_path / "ex.csv")), "--out", str(out)]) == 0
    s = json.loads((out / "summary.json").read_text())
    assert [h["id"] for h in s["headends"]] == ["West", "East"]
    assert "ex.csv" in [i["name"] for i in s["inputs"]]
    bad = _args(tmp_path, "--exchange", str(tmp_path / "ex.csv"), f"--exchange={w[0]},{w[1]}")
    assert main([*bad, "--out", str(tmp_path / "o2")]) == 2
    assert "one point file" in capsys.readouterr().err


def test_csv_without_crs_is_refused_on_the_command_line(tmp_path, capsys):
    _files(tmp_path)
    args = ["plan", "--streets", str(tmp_path / "streets.gpkg"), "--premises",
            str(tmp_path / "premises.csv"), "--out", str(tmp_path / "o")]  # fmt: skip
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "--x-col/--y-col" in err
    assert not (tmp_path / "o").exists()


def test_bbox_and_aoi_clip_the_plan(tmp_path, capsys):
    (w, e) = _files(tmp_path)
    out = tmp_path / "out"
    mid = (w[0] + e[0]) / 2
    box = f"--bbox={w[0] - 0.01},{w[1] - 0.01},{mid},{w[1] + 0.01}"
    assert main([*_args(tmp_path, box, f"--exchange={w[0]},{w[1]}"), "--out", str(out)]) == 0
    s = json.loads((out / "summary.json").read_text())
    assert s["premises_total"] == 2  # the two western premises
    area = gpd.GeoDataFrame(
        geometry=[shapely.box(X0 + 1500, Y0 - 50, X0 + 2100, Y0 + 50)], crs=27700
    )
    area.to_file(tmp_path / "aoi.gpkg")
    out2 = tmp_path / "out2"
    args = _args(tmp_path, "--aoi", str(tmp_path / "aoi.gpkg"), f"--exchange={e[0]},{e[1]}")
    assert main([*args, "--out", str(out2)]) == 0
    s2 = json.loads((out2 / "summary.json").read_text())
    assert s2["premises_total"] == 2
    assert abs(s2["trench_m"] - 300.0) < 0.01
    both = _args(tmp_path, "--aoi", str(tmp_path / "aoi.gpkg"), box)
    assert main([*both, "--out", str(tmp_path / "o3")]) == 2
    assert "not both" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("value", "n_headends"),
    [
        ('"-0.14598,51.51632"', 1),
        ("[-0.14598, 51.51632]", 1),
        ('["-0.14598,51.51632", "-0.14648,51.51712"]', 2),
    ],
)
def test_exchange_from_a_config_file(tmp_path, value, n_headends):
    cfg = tmp_path / "plan.toml"
    out = tmp_path / "out"
    cfg.write_text(f'exchange = {value}\ntiny = true\nno_basemap = true\nout = "{out}"\n')
    assert main(["demo", "--config", str(cfg), "-q"]) == 0
    s = json.loads((out / "summary.json").read_text())
    assert len(s["headends"]) == n_headends
    assert "given by the user" in s["headend"]["how"]
