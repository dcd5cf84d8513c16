"""The package's top level: lazy imports, the public names, and the optimiser without geography."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

import fibreplan

_BLOCKED = ("pandas", "geopandas", "shapely")


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_optimiser_imports_and_solves_without_pandas_geopandas_shapely():
    # A path 0-1-2 (weights 1, 2) with a shortcut 0-2 of 5: the optimum joining 0 and 2 is 3.
    proc = _run(
        f"""
        import sys
        for name in {_BLOCKED!r}:
            sys.modules[name] = None  # any import of it now raises ImportError
        import numpy as np
        import scipy.sparse as sp
        import fibreplan.optimise
        A = sp.csr_array(np.array([[0, 1, 5], [1, 0, 2], [5, 2, 0]], dtype=float))
        res = fibreplan.optimise.steiner_tree_csr(A, [0, 2], method="auto")
        print(res.cost, sorted(map(tuple, res.edges.tolist())))
        print(sorted(m for m in {_BLOCKED!r} if sys.modules.get(m) is not None))
        """
    )
    assert proc.returncode == 0, proc.stderr
    cost, loaded = proc.stdout.strip().splitlines()
    assert cost == "3.0 [(0, 1), (1, 2)]"
    assert loaded == "[]"


def test_blocking_really_blocks():
    # the mechanism the test above relies on: a None entry in sys.modules fails the import
    proc = _run(
        """
        import sys
        sys.modules["pandas"] = None
        import fibreplan
        fibreplan.plan
        """
    )
    assert proc.returncode != 0
    assert "pandas" in proc.stderr


def test_import_fibreplan_is_light():
    proc = _run(
        """
        import sys
        import fibreplan
        print(sorted(m for m in ("pandas", "geopandas", "shapely", "numba", "fibreplan.plan")
                     if m in sys.modules))
        """
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


@pytest.mark.parametrize("name", fibreplan.__all__)
def test_every_public_name_resolves(name):
    assert getattr(fibreplan, name) is not None
    assert name in dir(fibreplan)


def test_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no_such_name"):
        _ = fibreplan.no_such_name


def test_plan_names_the_function_after_the_submodule_is_imported():
    proc = _run(
        """
        import fibreplan.plan
        from fibreplan.plan import Plan
        import fibreplan
        from fibreplan import plan
        print(callable(fibreplan.plan), fibreplan.plan is plan, plan.__module__)
        """
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "True True fibreplan.plan"
