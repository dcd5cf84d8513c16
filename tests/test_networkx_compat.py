"""networkx's own Steiner tree tests, run against fibreplan.steiner_tree.

The test module shipped with networkx
(``networkx/algorithms/approximation/tests/test_steinertree.py``) is loaded
from the installed package and every test in it runs with networkx's
``steiner_tree`` replaced by ours: in the module's namespace (it imports the
name) and in ``networkx.approximation`` (some tests call it through there).
networkx's method names ``"kou"``, ``"mehlhorn"`` and ``None`` map to ours
(``"auto"``); any other name goes through unchanged and must fail the way
networkx's does. Where networkx's test pins the exact trees its
approximations find (``test_steiner_tree``), the test runs with its
``edges_equal`` replaced by "ours is no costlier than the pinned tree": a
minimum tree may be another tree of the same cost.
"""

from __future__ import annotations

import importlib.util
import inspect
from pathlib import Path
from typing import Any

import networkx as nx
import pytest
from networkx.algorithms.approximation import steinertree as nx_steinertree

from fibreplan.optimise import steiner_tree

_NX_TESTS = Path(nx_steinertree.__file__).parent / "tests" / "test_steinertree.py"
_METHODS = {"kou": "auto", "mehlhorn": "auto", None: "auto"}
#: networkx tests that pin the approximate tree of a method
_PINNED = {"test_steiner_tree"}


def ours(G: Any, terminal_nodes: Any, weight: str | None = "weight", method: Any = None) -> Any:
    """networkx's signature, our solver."""
    return steiner_tree(G, terminal_nodes, weight=weight, method=_METHODS.get(method, method))


def _load_nx_tests() -> Any:
    spec = importlib.util.spec_from_file_location("nx_test_steinertree", _NX_TESTS)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


NX = _load_nx_tests()


@pytest.fixture(autouse=True)
def _use_ours(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(NX, "steiner_tree", ours)
    monkeypatch.setattr(nx.approximation, "steiner_tree", ours)


def _cases() -> list[Any]:
    """Every networkx test as (callable name, class name or None, kwargs)."""
    cases = []
    for name, obj in vars(NX).items():
        if name.startswith("test_") and inspect.isfunction(obj):
            cases.extend(_expand(name, None, obj))
        if name.startswith("Test") and inspect.isclass(obj):
            for meth, fn in vars(obj).items():
                if meth.startswith("test_"):
                    cases.extend(_expand(meth, name, fn))
    return cases


def _expand(name: str, cls: str | None, fn: Any) -> list[Any]:
    params = inspect.signature(fn).parameters
    marks = getattr(fn, "pytestmark", [])
    grids = [{}]
    for mark in marks:
        if mark.name == "parametrize":
            names, values = mark.args[0], mark.args[1]
            names = [x.strip() for x in names.split(",")] if isinstance(names, str) else names
            rows = [v if len(names) > 1 else (v,) for v in values]
            grids = [{**g, **dict(zip(names, r, strict=True))} for g in grids for r in rows]
    if "method" in params and not any("method" in g for g in grids):
        grids = [{**g, "method": m} for g in grids for m in ("kou", "mehlhorn")]
    label = f"{cls}.{name}" if cls else name
    return [pytest.param(name, cls, g, id=f"{label}-{i}") for i, g in enumerate(grids)]


def _no_costlier(ours_edges: Any, pinned: Any) -> bool:
    """Stand-in for ``edges_equal`` in the pinned-tree tests: compare weights, not edges."""

    def weight(edges: Any) -> float:
        return sum(d.get("weight", 1) for *_, d in edges)

    return weight(list(ours_edges)) <= weight(pinned) + 1e-9


@pytest.mark.parametrize(("name", "cls", "kwargs"), _cases())
def test_networkx_suite(
    name: str, cls: str | None, kwargs: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    if name in _PINNED:
        monkeypatch.setattr(NX, "edges_equal", _no_costlier)
    if cls is None:
        getattr(NX, name)(**kwargs)
        return
    klass = getattr(NX, cls)
    klass.setup_class()
    getattr(klass(), name)(**kwargs)


def test_the_suite_is_all_there() -> None:
    # a networkx upgrade that renames or drops tests must not shrink this silently
    names = {p.values[0] for p in _cases()}
    assert {"test_steiner_tree", "test_multigraph_steiner_tree", "test_weighted"} <= names
    assert len(_cases()) >= 17


def test_pinned_trees_no_costlier() -> None:
    # networkx's test_steiner_tree pins the trees its approximations find;
    # ours is a minimum tree, so it costs no more than any of them
    NX.TestSteinerTree.setup_class()
    case = NX.TestSteinerTree
    for G, terms, pinned in [
        (case.G1, case.G1_term_nodes, 32),
        (case.G2, case.G2_term_nodes, 16),
        (case.G3, case.G3_term_nodes, 14),
    ]:
        T = steiner_tree(G, terms)
        assert T.size(weight="weight") <= pinned
        assert T.graph["optimal"]
        assert set(terms) <= set(T.nodes)
        assert nx.is_tree(T)
