"""First-use cost: ``fibreplan demo`` on an empty numba cache, then on a warm one.

The optimiser's kernels are compiled by numba at their first use and cached
on disk, so a new user's first ``fibreplan demo`` pays the compilation once.
This script measures that, as the README's first command would meet it:

* default: the installed ``fibreplan`` (``--python``, default this
  interpreter) runs the demo with ``NUMBA_CACHE_DIR`` pointing at a new empty
  folder (numba then neither reads nor writes its usual cache), then again
  with that folder warm;
* ``--fresh-venv``: first ``python3 -m venv`` + ``pip install <repo>`` into a
  temporary folder (timed apart; needs the package index), then the same two
  demo runs with that venv's ``fibreplan``.

Wall seconds (what the user waits) and the CPU seconds of the demo process
and its children are printed. On a busy machine the wall figure is inflated;
the CPU figure is not.

Usage::

    python benchmarks/cold_start.py
    python benchmarks/cold_start.py --fresh-venv
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def timed(cmd: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """Run ``cmd``; return (wall s, CPU s of it and its children). Fail loudly."""
    c0 = _children_cpu()
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stdout}\n{proc.stderr}")
    return wall, _children_cpu() - c0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--python", default=sys.executable, help="interpreter with fibreplan installed")
    ap.add_argument("--fresh-venv", action="store_true", help="install into a new venv first")
    ap.add_argument("--method", default="auto", help="the demo's --method (default: auto)")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="fibreplan-cold-") as tmp:
        work = Path(tmp)
        python = args.python
        env = dict(os.environ)
        if args.fresh_venv:
            venv = work / ".venv"
            wall, _ = timed([sys.executable, "-m", "venv", str(venv)], env, work)
            python = str(venv / "bin" / "python")
            wall2, _ = timed([python, "-m", "pip", "install", "-q", str(REPO)], env, work)
            print(f"venv + pip install: {wall + wall2:.1f} s")
        env["NUMBA_CACHE_DIR"] = str(work / "numba-cache")  # empty: nothing compiled yet
        demo = [python, "-m", "fibreplan.cli", "demo", "--method", args.method]
        for i, label in enumerate(("cold (empty numba cache)", "warm (cached kernels)")):
            wall, cpu = timed([*demo, "--out", str(work / f"out{i}")], env, work)
            print(
                f"fibreplan demo --method {args.method}, {label}: "
                f"{wall:.1f} s wall, {cpu:.1f} s CPU"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
