"""The command line: demo, plan on user files, exit codes and messages."""

from __future__ import annotations

import json

import pytest

from fibreplan.cli import main


def test_demo_tiny_writes_the_contract_files(tmp_path, capsys):
    assert main(["demo", "--tiny", "--out", str(tmp_path), "-q"]) == 0
    assert {p.name for p in tmp_path.iterdir()} >= {"summary.json", "plan.gpkg", "map.html"}
    out = capsys.readouterr().out
    assert "per premises" in out
    s = json.loads((tmp_path / "summary.json").read_text())
    assert s["premises_connected"] > 0


def test_second_run_refuses_to_overwrite(tmp_path, capsys):
    assert main(["demo", "--tiny", "--out", str(tmp_path), "-q"]) == 0
    assert main(["demo", "--tiny", "--out", str(tmp_path), "-q"]) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert main(["demo", "--tiny", "--out", str(tmp_path), "-q", "--overwrite"]) == 0


def test_plan_on_user_files_with_exchange(tmp_path, streets, premises, capsys):
    streets.to_file(tmp_path / "s.gpkg", engine="pyogrio")
    premises.to_crs(4326).to_file(tmp_path / "p.geojson", engine="pyogrio")
    head = premises.to_crs(4326).geometry.iloc[0]
    code = main([
        "plan", "--streets", str(tmp_path / "s.gpkg"), "--premises", str(tmp_path / "p.geojson"),
        f"--exchange={head.x},{head.y}", "--max-drop-m", "100", "--out", str(tmp_path / "o"), "-q",
    ])  # fmt: skip
    assert code == 0
    s = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert s["premises_connected"] == 3
    assert "given by the user" in s["headend"]["how"]
    assert [i["name"] for i in s["inputs"]] == ["s.gpkg", "p.geojson"]


def test_bad_cost_file_exits_2_with_message(tmp_path, capsys):
    f = tmp_path / "c.toml"
    f.write_text("[costs]\nheadend_gbp = -5\n")
    assert main(["demo", "--tiny", "--costs", str(f), "--out", str(tmp_path / "o"), "-q"]) == 2
    err = capsys.readouterr().err
    assert "headend_gbp" in err
    assert not (tmp_path / "o").exists()


def test_missing_file_exits_2(tmp_path, capsys):
    code = main(["plan", "--streets", "nope.osm", "--premises", "nope.csv", "--out", str(tmp_path)])
    assert code == 2
    assert "no such file" in capsys.readouterr().err


def test_cost_book_prints_toml(capsys):
    assert main(["cost-book"]) == 0
    assert "[costs.trench_gbp_per_m." in capsys.readouterr().out


def test_exchange_from_a_point_file(tmp_path, streets, premises):
    streets.to_file(tmp_path / "s.gpkg", engine="pyogrio")
    premises.to_file(tmp_path / "p.gpkg", engine="pyogrio")
    premises.iloc[[1]].to_file(tmp_path / "olt.geojson", engine="pyogrio")
    code = main([
        "plan", "--streets", str(tmp_path / "s.gpkg"), "--premises", str(tmp_path / "p.gpkg"),
        "--exchange", str(tmp_path / "olt.geojson"), "--out", str(tmp_path / "o"), "-q",
    ])  # fmt: skip
    assert code == 0
    s = json.loads((tmp_path / "o" / "summary.json").read_text())
    head = premises.to_crs(4326).geometry.iloc[1]
    assert "given by the user" in s["headend"]["how"]
    # the headend snaps to the street nearest the given point (premises B, 5 m from street 1)
    assert abs(s["headend"]["lon"] - head.x) < 1e-3
    assert abs(s["headend"]["lat"] - head.y) < 1e-3


def test_existing_infrastructure_file(tmp_path, streets, premises):
    import geopandas as gpd
    import shapely

    from .conftest import X0
    from .conftest import Y0

    streets.to_file(tmp_path / "s.gpkg", engine="pyogrio")
    premises.to_file(tmp_path / "p.gpkg", engine="pyogrio")
    duct = gpd.GeoDataFrame(
        {"owner": ["Openreach"], "spare_capacity": [1]},
        geometry=[shapely.LineString([(X0, Y0 + 1), (X0 + 200, Y0 + 1)])],
        crs="EPSG:27700",
    )
    duct.to_file(tmp_path / "infra.gpkg", engine="pyogrio")
    code = main([
        "plan", "--streets", str(tmp_path / "s.gpkg"), "--premises", str(tmp_path / "p.gpkg"),
        "--ducts", str(tmp_path / "infra.gpkg"), "--out", str(tmp_path / "o"), "-q",
    ])  # fmt: skip
    assert code == 0
    s = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert s["duct_m_reused"] == pytest.approx(100.0, abs=0.05)  # both stretches along it
    assert "infra.gpkg" in [i["name"] for i in s["inputs"]]


def test_no_basemap_writes_the_map_once_without_tiles(tmp_path, monkeypatch):
    import fibreplan.export

    written = []
    real = fibreplan.export.write_map
    monkeypatch.setattr(
        fibreplan.export, "write_map", lambda *a, **k: written.append(k["basemap"]) or real(*a, **k)
    )
    assert main(["demo", "--tiny", "--out", str(tmp_path), "-q", "--no-basemap"]) == 0
    assert written == [False]
    assert "tile.openstreetmap.org" not in (tmp_path / "map.html").read_text(encoding="utf-8")


def test_time_limit_defaults_to_none_and_is_recorded(tmp_path):
    assert main(["demo", "--tiny", "--out", str(tmp_path / "a"), "-q"]) == 0
    s = json.loads((tmp_path / "a" / "summary.json").read_text())
    assert s["optimiser"]["time_limit_s"] is None
    assert s["optimiser"]["time_limit_hit"] is False
    assert main(["demo", "--tiny", "--out", str(tmp_path / "b"), "-q", "--time-limit", "7"]) == 0
    s = json.loads((tmp_path / "b" / "summary.json").read_text())
    assert s["optimiser"]["time_limit_s"] == 7.0
