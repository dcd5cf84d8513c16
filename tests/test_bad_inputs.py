"""The bad-input corpus (tests/bad_inputs/cases.toml): exit codes, messages, nothing changed.

Each case runs the command line on the corpus' small files (the working
directory is tests/bad_inputs) and checks the exit code and the one-line
message; then that no file of the corpus changed (sha256 before and after)
and, when the run fails, that the files already in the output folder are
byte for byte as they were and no temporary folder is left beside it.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from pathlib import Path

import pytest

from fibreplan.cli import main
from fibreplan.export import FILES

HERE = Path(__file__).parent / "bad_inputs"
CASES = tomllib.loads((HERE / "cases.toml").read_text(encoding="utf-8"))["case"]
#: Inputs a case may read besides the corpus (hashed too).
EXTRA_INPUTS = [Path(__file__).parent / "data" / "leeds_its_example.osm.pbf"]


def _hashes() -> dict[str, str]:
    files = [p for p in HERE.rglob("*") if p.is_file()] + EXTRA_INPUTS
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


def _setup_out_is_a_file(tmp: Path) -> None:
    (tmp / "taken.txt").write_text("my notes, not a plan folder\n")


def _setup_huge_file(tmp: Path) -> None:
    with (tmp / "huge.csv").open("wb") as fh:  # sparse: no disk used
        fh.truncate(500 * 10**9)


_SETUP = {"out_is_a_file": _setup_out_is_a_file, "huge_file": _setup_huge_file}


def _earlier_outputs(out: Path) -> dict[str, bytes]:
    """Fill ``out`` with an earlier plan's files (stand-ins); return their bytes."""
    out.mkdir()
    for name in FILES.values():
        (out / name).write_bytes(f"earlier {name}\n".encode())
    return {name: (out / name).read_bytes() for name in FILES.values()}


def test_the_corpus_has_at_least_25_cases_with_unique_ids():
    ids = [c["id"] for c in CASES]
    assert len(ids) >= 25
    assert len(set(ids)) == len(ids)
    for case in CASES:
        assert {"id", "what", "args", "exit", "message"} <= set(case), case["id"]


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_bad_input(case, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(HERE)
    tmp = tmp_path / "scratch"
    tmp.mkdir()
    if "setup" in case:
        _SETUP[case["setup"]](tmp)
    out = tmp_path / "out"
    fails = case["exit"] != 0
    earlier = _earlier_outputs(out) if fails else {}
    args = [a.format(out=out, tmp=tmp) for a in case["args"]]
    if args[0] in {"plan", "demo"} and "--out" not in args:
        args += ["--out", str(out), *(["--overwrite"] if fails else []), "--no-basemap"]
    before = _hashes()

    code = main(args)

    captured = capsys.readouterr()
    text = captured.err if fails else captured.out
    assert code == case["exit"], f"{case['id']}: exit {code}\n{captured.err}\n{captured.out}"
    assert re.search(case["message"], " ".join(text.split())), f"{case['id']}: {text!r}"
    if "log" in case:
        assert re.search(case["log"], captured.err), captured.err
    assert _hashes() == before, "an input file changed"
    if fails:
        assert len([line for line in captured.err.splitlines() if line.strip()]) == 1
        assert {n: (out / n).read_bytes() for n in FILES.values()} == earlier
        assert sorted(p.name for p in out.iterdir()) == sorted(FILES.values())
    else:
        summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
        assert (
            summary["premises_connected"] + summary["premises_unreachable"]
            == (summary["premises_total"])
        )
    assert not [p for p in tmp_path.iterdir() if ".fibreplan-" in p.name], "temporary folder left"


def test_unsplit_streets_plan_as_the_split_ones(tmp_path, monkeypatch):
    """One line per street, crossing without shared vertices, plans like the noded grid."""
    monkeypatch.chdir(HERE)
    results = {}
    for name in ("streets.geojson", "streets_unsplit.geojson"):
        out = tmp_path / name
        args = ["plan", "--streets", name, "--premises", "premises.csv", "--out", str(out), "-q"]
        assert main([*args, "--no-basemap"]) == 0
        results[name] = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    split, unsplit = results["streets.geojson"], results["streets_unsplit.geojson"]
    assert unsplit["premises_connected"] == split["premises_connected"] == 6
    # the unsplit streets overhang the grid by 20 m at each end, never trenched
    assert unsplit["trench_m"] == pytest.approx(split["trench_m"], abs=0.5)
    assert unsplit["quality"]["streets"]["noding"]["lines_out"] > len(
        json.loads((HERE / "streets_unsplit.geojson").read_text())["features"]
    )


def test_html_in_names_is_escaped_in_the_map(tmp_path, monkeypatch):
    monkeypatch.chdir(HERE)
    out = tmp_path / "o"
    args = ["plan", "--streets", "streets_html.geojson", "--premises", "premises_html.csv"]
    assert main([*args, "--out", str(out), "-q", "--no-basemap"]) == 0
    page = (out / "map.html").read_text(encoding="utf-8")
    assert "<script>alert(" not in page
    assert "<img src=x onerror" not in page
