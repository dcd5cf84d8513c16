"""The notebooks run top to bottom (their code cells, in order, without Jupyter)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs(path, tmp_path, monkeypatch):
    nb = json.loads(path.read_text(encoding="utf-8"))
    cells = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
    assert cells, "a notebook without code"
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {}
    for i, src in enumerate(cells):
        try:
            exec(compile(src, f"{path.name}[cell {i}]", "exec"), namespace)
        except Exception as err:  # noqa: BLE001 - the failure message is the point
            pytest.fail(f"{path.name} cell {i} failed: {err!r}\n{src}")
    assert namespace["plan"].summary["premises_connected"] > 1000
    assert Path(namespace["paths"]["gpkg"]).is_file()


def test_there_is_a_notebook():
    assert NOTEBOOKS
