"""The notebooks run top to bottom in a Jupyter kernel, offline, and are stored without outputs."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

FOLDER = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = sorted(FOLDER.glob("*.ipynb"))
EXPECTED = ["01_quickstart", "02_design_choices", "03_costs_and_funding", "04_your_area"]


def test_the_four_notebooks_are_there() -> None:
    assert [p.stem for p in NOTEBOOKS] == EXPECTED


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_outputs_are_cleared_in_git(path: Path) -> None:
    nb = json.loads(path.read_text(encoding="utf-8"))
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [], f"{path.name} cell {i} has outputs: clear them"
            assert cell["execution_count"] is None, f"{path.name} cell {i} was run: clear it"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_offline(path: Path, tmp_path: Path, monkeypatch) -> None:
    nbclient = pytest.importorskip("nbclient")
    nbformat = pytest.importorskip("nbformat")
    out = tmp_path / "out"
    monkeypatch.setenv("FIBREPLAN_NOTEBOOK_OUT", str(out))  # the notebook's OUT folder
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(FOLDER)}}
    )
    client.execute(env=dict(os.environ))
    # every file went to the folder the reader chose, and a plan was saved there
    summaries = list(out.rglob("summary.json"))
    assert summaries, f"{path.name} saved no plan into OUT"
    for summary in summaries:
        s = json.loads(summary.read_text(encoding="utf-8"))
        assert s["premises_connected"] > 0
        assert (summary.parent / "plan.gpkg").is_file()
        assert (summary.parent / "plan.png").is_file()
    if path.stem == "01_quickstart":
        assert json.loads(summaries[0].read_text())["premises_connected"] > 1000
    offline = [c for c in nb.cells if c.cell_type == "code" and "ONLINE = False" in c.source]
    if offline:
        text = "".join(o.get("text", "") for o in offline[0].outputs)
        assert "skipped: offline" in text
