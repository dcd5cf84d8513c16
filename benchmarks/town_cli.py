"""End to end through the CLI: a synthetic town of 20k premises, planned twice.

The town comes from :func:`street_instances.town_layout` (a jittered 80 m
street grid, premises every 8-15 m along each street, 3-20 m drops, on both
sides of the street). It is written as a GeoPackage of residential street
centrelines and a CSV of premises (``easting,northing``, EPSG:27700, placed in
the English Midlands), then ``fibreplan plan`` runs on it in a fresh process,
twice (after a warm-up run of ``fibreplan demo --tiny``, so that building the
compiled kernels on a fresh machine is not timed). The script prints each
run's wall and CPU time, the seconds of every stage
from its ``summary.json`` (with the stage's share of the run), and whether the
two summaries are identical apart from their ``seconds``.

With ``--baseline DIR`` (a folder holding another fibreplan source tree, e.g.
``git archive <commit> | tar -x -C DIR``) each run plans the town first with
that version (put first on ``PYTHONPATH``) and then with the installed one, in
turn, so that both see the same machine load; the rows are labelled ``base``
and ``new``, and the script prints the ratios new / base of wall and CPU time.

Usage::

    python benchmarks/town_cli.py                        # 20k premises, --method auto
    python benchmarks/town_cli.py --premises 100000 --method heuristic --keep out/
    python benchmarks/town_cli.py --baseline ../fibreplan-main     # old against new
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parent))

from street_instances import TownLayout  # the sibling script, found via sys.path
from street_instances import town_layout

#: Where the town is put (British National Grid metres, near Leicester).
ORIGIN_E, ORIGIN_N = 455_000.0, 300_000.0
STAGES = ("load", "trench", "optimise", "design", "cost", "layers", "gpkg", "map", "figure", "bid")


def write_town(town: TownLayout, folder: Path) -> tuple[Path, Path]:
    """Write the town's streets (GeoPackage) and premises (CSV) into ``folder``.

    Parameters
    ----------
    town : TownLayout
        The layout from :func:`street_instances.town_layout`.
    folder : pathlib.Path
        Existing folder.

    Returns
    -------
    tuple of pathlib.Path
        ``(streets.gpkg, premises.csv)``.
    """
    xy = town.corner_xy + np.array([ORIGIN_E, ORIGIN_N])
    a, b = xy[town.link_u], xy[town.link_v]
    lines = shapely.linestrings(np.stack([a, b], axis=1).reshape(-1, 2),
                                indices=np.repeat(np.arange(a.shape[0]), 2))  # fmt: skip
    streets = gpd.GeoDataFrame(
        {
            "highway": "residential",
            "name": [f"Street {i}" for i in range(a.shape[0])],
        },
        geometry=lines,
        crs="EPSG:27700",
    )
    link = town.premises_link
    direction = (b - a)[link] / np.linalg.norm((b - a)[link], axis=1)[:, None]
    normal = np.column_stack([-direction[:, 1], direction[:, 0]])
    side = np.where(np.arange(link.size) % 2 == 0, 1.0, -1.0)  # both sides of the street
    at = a[link] + direction * town.premises_pos_m[:, None]
    where = at + normal * (town.drop_m * side)[:, None]
    premises = pd.DataFrame(
        {
            "premises_id": [f"P{i}" for i in range(link.size)],
            "easting": where[:, 0].round(2),
            "northing": where[:, 1].round(2),
            "class": "residential",
        }
    )
    s_path, p_path = folder / "streets.gpkg", folder / "premises.csv"
    streets.to_file(s_path, engine="pyogrio")
    premises.to_csv(p_path, index=False)
    return s_path, p_path


def _command() -> list[str]:
    script = Path(sys.executable).with_name("fibreplan")
    if script.is_file():
        return [str(script)]
    found = shutil.which("fibreplan")
    return [found] if found else [sys.executable, "-m", "fibreplan.cli"]


def _env(source: Path | None) -> dict[str, str] | None:
    """Environment making a fresh process import fibreplan from ``source`` (None: installed)."""
    if source is None:
        return None
    path = os.environ.get("PYTHONPATH")
    return {**os.environ, "PYTHONPATH": f"{source}{os.pathsep}{path}" if path else str(source)}


def run_cli(
    streets: Path, premises: Path, out: Path, extra: list[str], *, source: Path | None = None
) -> tuple[float, float, dict]:
    """Run ``fibreplan plan`` in a fresh process; return its wall and CPU seconds and summary.

    Parameters
    ----------
    streets, premises : pathlib.Path
        Input files.
    out : pathlib.Path
        Output folder (must not hold a plan yet).
    extra : list of str
        More CLI arguments (``--method``, ``--time-limit``, ...).
    source : pathlib.Path, optional
        Folder of another fibreplan source tree to run instead of the installed one.

    Returns
    -------
    tuple
        Wall seconds of the process, its CPU seconds (user + system: close to
        the wall time it would take on an idle machine, as the plan runs on one
        thread), and its ``summary.json``.
    """
    cmd = [*_command(), "plan", "--streets", str(streets), "--premises", str(premises),
           "--out", str(out), "-q", *extra]  # fmt: skip
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=_env(source))
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, json.loads((out / "summary.json").read_text(encoding="utf-8"))


def without_seconds(value: Any) -> Any:
    """Return ``value`` with every ``seconds`` key removed, at any depth."""
    if isinstance(value, dict):
        return {k: without_seconds(v) for k, v in value.items() if k != "seconds"}
    if isinstance(value, list):
        return [without_seconds(v) for v in value]
    return value


def _differences(a: dict, b: dict, prefix: str = "") -> list[str]:
    out = []
    for key in sorted(set(a) | set(b)):
        va, vb = a.get(key), b.get(key)
        if isinstance(va, dict) and isinstance(vb, dict):
            out += _differences(va, vb, f"{prefix}{key}.")
        elif va != vb:
            out.append(f"{prefix}{key}: {va!r} != {vb!r}")
    return out


def _print_run(label: str, wall: float, cpu: float, seconds: dict) -> None:
    stage = [seconds.get(k, float("nan")) for k in STAGES]
    print(f"{label:>8} {wall:>7.2f} {cpu:>6.2f} " + " ".join(f"{v:>9.2f}" for v in stage))
    print(f"{'':>23} " + " ".join(f"{v / wall:>9.1%}" for v in stage))


def main(argv: list[str] | None = None) -> None:
    """Generate the town, plan it twice through the CLI, print stage times and the check."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--premises", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--method", default="auto", choices=["auto", "heuristic", "exact"])
    parser.add_argument("--time-limit", type=float, default=None)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--keep", type=Path, default=None, help="keep the files in this folder")
    parser.add_argument(
        "--baseline", type=Path, default=None, help="another fibreplan source tree, run in turn"
    )
    args = parser.parse_args(argv)

    folder = Path(tempfile.mkdtemp(prefix="fibreplan-town-")) if args.keep is None else args.keep
    folder.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    town = town_layout(args.premises, seed=args.seed)
    streets, premises = write_town(town, folder)
    where = "a temporary folder" if args.keep is None else folder
    print(f"town: {town.premises_link.size:,} premises, {town.link_u.size:,} street links "
          f"(written in {time.perf_counter() - t0:.1f} s to {where})")  # fmt: skip
    versions: dict[str, Path | None] = {"new": None}
    if args.baseline is not None:
        versions = {"base": args.baseline.resolve(), "new": None}
    for label, source in versions.items():
        # the compiled kernels are built once per machine (cached on disk): not timed here
        warm = [*_command(), "demo", "--tiny", "-q", "--out", str(folder / f"warm-up-{label}"),
                "--overwrite"]  # fmt: skip
        subprocess.run(warm, check=True, stdout=subprocess.DEVNULL, env=_env(source))
    extra = ["--method", args.method]
    if args.time_limit is not None:
        extra += ["--time-limit", str(args.time_limit)]
    runs: dict[str, list[tuple[float, float, dict]]] = {label: [] for label in versions}
    header = " ".join(f"{s:>9}" for s in STAGES)
    print(f"{'run':>8} {'wall s':>7} {'cpu s':>6} {header}  (seconds; share of the wall time)")
    for run in range(args.runs):
        for label, source in versions.items():
            out = folder / f"out-{label}-{run}"
            if out.exists():
                shutil.rmtree(out)
            wall, cpu, s = run_cli(streets, premises, out, extra, source=source)
            runs[label].append((wall, cpu, s))
            _print_run(f"{run + 1} {label}" if len(versions) > 1 else str(run + 1), wall, cpu,
                       s["seconds"])  # fmt: skip
    summaries = [s for label in versions for _, _, s in runs[label]]
    first = summaries[0]
    opt = first["optimiser"]
    print(f"plan: {first['premises_connected']:,} of {first['premises_total']:,} premises "
          f"connected, {first['trench_m'] / 1000:,.2f} km trench, "
          f"£{first['cost_total_gbp']:,.0f}; optimiser "
          f"{opt['method']} gap {opt['gap_pct']:.4f} %, proven {opt['proven_optimal']}, "
          f"time limit hit {opt.get('time_limit_hit')}")  # fmt: skip
    if "base" in runs:
        for i, what in ((0, "wall"), (1, "CPU")):
            base = sum(r[i] for r in runs["base"])
            new = sum(r[i] for r in runs["new"])
            print(f"new / base {what} time: {new / base:.2f} ({new:.1f} s against {base:.1f} s)")
    base = without_seconds(first)
    diffs = [d for s in summaries[1:] for d in _differences(base, without_seconds(s))]
    print("identical summaries (ignoring seconds):", not diffs)
    for d in diffs:
        print("  differs:", d)
    if args.keep is None:
        shutil.rmtree(folder)


if __name__ == "__main__":
    main()
