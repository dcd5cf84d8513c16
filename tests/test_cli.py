"""The command line: demo, plan on user files, exit codes and messages."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
from pathlib import Path

import pytest

from fibreplan.cli import main


def test_demo_tiny_writes_the_contract_files(tmp_path, capsys):
    assert main(["demo", "--tiny", "--out", str(tmp_path), "-q"]) == 0
    assert {p.name for p in tmp_path.iterdir()} >= {"summary.json", "plan.gpkg", "map.html"}
    out = capsys.readouterr().out
    assert "per premises" in out
    s = json.loads((tmp_path / "summary.json").read_text())
    assert s["premises_connected"] > 0


def test_only_the_program_freezes_its_heap(tmp_path):
    # called from Python, the caller keeps its usual garbage collector
    before = gc.get_freeze_count()
    assert main(["demo", "--tiny", "--out", str(tmp_path / "a"), "-q", "--no-basemap"]) == 0
    assert gc.get_freeze_count() == before
    # run as the program, the long-lived objects are frozen out of the collector's passes
    code = (
        "import gc, sys; from fibreplan.cli import main; "
        f"sys.argv = ['fibreplan', 'demo', '--tiny', '-q', '--no-basemap', '--out', "
        f"{str(tmp_path / 'b')!r}]; code = main(); "
        "print(code, gc.get_freeze_count(), gc.isenabled())"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    exit_code, frozen, enabled = done.stdout.split()[-3:]
    assert exit_code == "0"
    assert int(frozen) > 100_000
    assert enabled == "True"  # paused while importing only
    assert (tmp_path / "b" / "bid.xlsx").is_file()


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


# --------------------------------------------------------------------------------------
# issue 11: the click CLI, exit codes, atomic writes, quality.json, validate


def test_help_has_examples_and_version(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "Examples:" in out
    assert "Exit codes" in out
    for command in ("demo", "plan", "validate", "cost-book", "design-rules"):
        assert command in out
    assert main(["plan", "--help"]) == 0
    assert "fibreplan plan --config plan.toml" in capsys.readouterr().out
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("fibreplan ")


def test_typos_get_did_you_mean(capsys):
    assert main(["dmeo"]) == 2
    assert "Did you mean 'demo'?" in capsys.readouterr().err
    assert main(["demo", "--tiny", "--overwrit"]) == 2
    assert "Did you mean '--overwrite'?" in capsys.readouterr().err


def test_saved_plan_has_quality_json_and_warnings_first(tmp_path, capsys):
    assert main(["demo", "--tiny", "--out", str(tmp_path), "--no-basemap"]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""  # no progress or log lines when stderr is not a terminal
    s = json.loads((tmp_path / "summary.json").read_text())
    assert list(s)[:2] == ["fibreplan_version", "warnings"]
    q = json.loads((tmp_path / "quality.json").read_text())
    assert q == s["quality"]
    assert q["premises"]["total"] == s["premises_total"]
    assert q["streets"]["components"]["count"] >= 1
    assert q["crs"]["plan"] == "EPSG:27700"
    assert not [p for p in tmp_path.parent.iterdir() if ".fibreplan-" in p.name]


def test_config_file_sets_options_and_the_command_line_wins(tmp_path, streets, premises):
    streets.to_file(tmp_path / "s.gpkg", engine="pyogrio")
    premises.to_file(tmp_path / "p.gpkg", engine="pyogrio")
    cfg = tmp_path / "plan.toml"
    cfg.write_text(
        f'streets = "{tmp_path / "s.gpkg"}"\npremises = "{tmp_path / "p.gpkg"}"\n'
        f'out = "{tmp_path / "a"}"\nmax_drop_m = 3000\nmethod = "heuristic"\nquiet = true\n'
    )
    assert main(["plan", "--config", str(cfg), "--no-basemap"]) == 0
    s = json.loads((tmp_path / "a" / "summary.json").read_text())
    assert "too_far_from_street" not in s["unreachable_by_reason"]  # 3 km drops allowed
    assert s["optimiser"]["method"].startswith("heuristic")
    args = ["plan", "--config", str(cfg), "--max-drop-m", "100", "--out", str(tmp_path / "b")]
    assert main([*args, "--no-basemap"]) == 0
    s = json.loads((tmp_path / "b" / "summary.json").read_text())
    assert s["unreachable_by_reason"]["too_far_from_street"] == 1  # premises E, 1.9 km away
    assert any("E" in w and "too_far_from_street" in w for w in s["warnings"])


def test_verbose_logs_each_stage(tmp_path, capsys):
    assert main(["demo", "--tiny", "--out", str(tmp_path), "-v", "--no-basemap"]) == 0
    err = capsys.readouterr().err
    assert "fibreplan.plan: plan:" in err


def test_progress_shows_each_stage_with_its_time():
    import io

    from rich.console import Console

    from fibreplan.cli import _Progress

    progress = _Progress(enabled=True)
    progress.console = Console(file=io.StringIO(), force_terminal=False)
    progress("load", None)
    progress("load", 1.25)
    with progress.stage("save"):
        pass
    text = progress.console.file.getvalue()
    assert "reading inputs" in text
    assert "1.2 s" in text
    assert "writing outputs" in text


def test_unexpected_error_exits_1_with_the_traceback_in_a_file(tmp_path, monkeypatch, capsys):
    import re

    import fibreplan

    def boom(*args, **kwargs):
        msg = "kaboom"
        raise RuntimeError(msg)

    monkeypatch.setattr(fibreplan, "plan", boom)
    assert main(["demo", "--tiny", "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert "unexpected error: RuntimeError: kaboom" in err
    where = re.search(r"traceback written to (\S+);", err).group(1)
    assert "RuntimeError: kaboom" in Path(where).read_text(encoding="utf-8")
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("earlier", [False, True], ids=["new-folder", "earlier-plan"])
def test_a_crash_while_writing_leaves_no_half_plan(tmp_path, monkeypatch, earlier):
    import fibreplan.export

    out = tmp_path / "o"
    before = {}
    if earlier:
        out.mkdir()
        for name in fibreplan.export.FILES.values():
            (out / name).write_text(f"earlier {name}")
        before = {p.name: p.read_bytes() for p in out.iterdir()}

    def crash(*args, **kwargs):
        msg = "disk on fire"
        raise OSError(msg)

    monkeypatch.setattr(fibreplan.export, "write_map", crash)  # after the GeoPackage is written
    args = ["demo", "--tiny", "--out", str(out), "-q", "--overwrite"]
    assert main(args) == 1
    if earlier:
        assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    else:
        assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == (["o"] if earlier else [])


def test_validate_prints_the_report_without_planning(tmp_path, monkeypatch, capsys):
    import importlib

    import fibreplan

    plan_module = importlib.import_module("fibreplan.plan")
    monkeypatch.setattr(plan_module, "steiner_tree_csr", None)  # would fail if called
    path = str(fibreplan.demo_path(tiny=True))
    json_out = tmp_path / "q.json"
    assert main(["validate", path, "--json", str(json_out)]) == 0
    out = capsys.readouterr().out
    assert "premises      35 (35 reachable" in out
    assert "connected parts" in out
    assert "crs           plan EPSG:27700" in out
    assert json.loads(json_out.read_text())["premises"]["total"] == 35
    assert main(["validate", path, path, path]) == 2
    assert "one or two inputs" in capsys.readouterr().err


def test_validate_reads_the_plan_toml(tmp_path, capsys):
    import fibreplan

    path = str(fibreplan.demo_path(tiny=True))
    cfg = tmp_path / "plan.toml"
    assert main(["validate", path]) == 0  # 100 m drops by default: every premises reachable
    cfg.write_text(f'streets = "{path}"\nout = "x"\nmethod = "exact"\nmax_drop_m = 1\n')
    assert main(["validate", path, "--config", str(cfg)]) == 2  # 1 m drops: none reachable
    assert "too_far_from_street" in capsys.readouterr().err
    cfg.write_text("max_drop_n = 5\n")
    assert main(["validate", path, "--config", str(cfg)]) == 2
    assert "did you mean 'max_drop_m'" in capsys.readouterr().err
