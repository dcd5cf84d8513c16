"""``fibreplan fetch`` offline: osmnx's download functions return a local extract."""

from __future__ import annotations

import osmnx as ox
import pytest

import fibreplan
from fibreplan._errors import FibreplanError
from fibreplan._errors import InputValidationError
from fibreplan.cli import main
from fibreplan.load import _parse_osm_xml
from fibreplan.load import fetch_files
from fibreplan.load import fetch_osm


@pytest.fixture
def offline_osm(monkeypatch):
    """Make osmnx's downloads return the tiny demo extract, recording what was asked."""
    G, buildings = _parse_osm_xml(fibreplan.demo_path(tiny=True))
    calls = []

    def graph(where, **kwargs):
        calls.append(("graph", where, kwargs))
        return G.copy()

    def features(where, tags):
        calls.append(("features", where, tags))
        return buildings.copy()

    for name in ("graph_from_place", "graph_from_bbox"):
        monkeypatch.setattr(ox, name, graph)
    for name in ("features_from_place", "features_from_bbox"):
        monkeypatch.setattr(ox, name, features)
    return calls


def test_fetched_files_plan_like_the_extract(offline_osm, tmp_path):
    paths = fetch_files("Fitzrovia, London", tmp_path / "data")
    assert offline_osm[0][:2] == ("graph", "Fitzrovia, London")
    assert offline_osm[0][2] == {"network_type": "all", "simplify": False, "retain_all": True}
    assert offline_osm[1] == ("features", "Fitzrovia, London", {"building": True})
    assert {p.name for p in paths.values()} == {"streets.graphml", "premises.gpkg"}
    fetched = fibreplan.plan(paths["streets"], paths["premises"]).summary
    local = fibreplan.plan(*fibreplan.demo_data(tiny=True)).summary
    assert fetched["premises_total"] == local["premises_total"]
    assert fetched["premises_connected"] == local["premises_connected"]
    assert fetched["trench_m"] == pytest.approx(local["trench_m"], abs=1e-3)
    assert fetched["cost_total_gbp"] == pytest.approx(local["cost_total_gbp"], abs=0.01)


def test_fetch_osm_in_memory_equals_the_extract(offline_osm):
    streets, premises = fetch_osm((-0.14, 51.51, -0.13, 51.52))
    assert offline_osm[0][1] == pytest.approx((-0.14, 51.51, -0.13, 51.52))
    local_streets, local_premises = fibreplan.demo_data(tiny=True)
    assert len(streets) == len(local_streets)
    assert premises["premises_id"].tolist() == local_premises["premises_id"].tolist()


def test_fetch_refuses_to_overwrite_and_bad_boxes(offline_osm, tmp_path):
    fetch_files("x", tmp_path)
    with pytest.raises(InputValidationError, match=r"streets.graphml exists.*--overwrite"):
        fetch_files("x", tmp_path)
    fetch_files("x", tmp_path, overwrite=True)
    with pytest.raises(InputValidationError, match="west < east"):
        fetch_files((-0.13, 51.51, -0.14, 51.52), tmp_path / "b")
    with pytest.raises(InputValidationError, match="give a place name"):
        fetch_files("  ", tmp_path / "c")


def test_fetch_network_failure_is_one_clear_error(monkeypatch, tmp_path):
    import requests

    def down(*args, **kwargs):
        raise requests.ConnectionError("Name or service not known")

    monkeypatch.setattr(ox, "graph_from_place", down)
    with pytest.raises(FibreplanError, match=r"could not download .*needs internet"):
        fetch_files("Ketton, Rutland, UK", tmp_path)
    assert not any(tmp_path.iterdir())


def test_fetch_cli(offline_osm, tmp_path, capsys):
    out = tmp_path / "ketton"
    assert main(["fetch", "--bbox=-0.56,52.62,-0.54,52.64", "--out", str(out)]) == 0
    assert offline_osm[0][1] == pytest.approx((-0.56, 52.62, -0.54, 52.64))
    text = capsys.readouterr().out
    assert f"fibreplan plan --streets {out / 'streets.graphml'}" in text
    assert main(["fetch", "--place", "Ketton", "--bbox=1,2,3,4", "--out", str(out)]) == 2
    assert "one of them" in capsys.readouterr().err
    plan_out = tmp_path / "plan"
    args = ["plan", "--streets", str(out / "streets.graphml"), "--premises"]
    assert main([*args, str(out / "premises.gpkg"), "--out", str(plan_out), "-q"]) == 0
    assert (plan_out / "summary.json").is_file()
