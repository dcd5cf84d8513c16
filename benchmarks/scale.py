"""Whole-pipeline scale: synthetic towns of 1k to 300k premises and the real Rutland county.

Each size is planned end to end by ``fibreplan plan`` (load, trench, optimise,
design, cost, layers, GeoPackage, map) in a fresh process, which reports its
peak resident memory (``ru_maxrss``) and CPU seconds. The towns come from
:func:`street_instances.town_layout` (a jittered 80 m street grid with about
10 % of links missing, premises every 8-15 m on both sides, 3-20 m drops),
written by :func:`town_cli.write_town` as a GeoPackage of streets and a CSV
of premises (British National Grid, seeded). Rutland is read from its
``.osm.pbf`` in ``../shared/data`` (streets and buildings as premises; skipped
when the file is absent). The smallest town is planned twice and the first
run not timed (loading the compiled kernels' disk cache). The script prints per size:
premises, wall and CPU seconds, each stage's seconds, peak RSS, the sizes of
``plan.gpkg`` and ``map.html``, headends, optical-budget violations (% of
connected premises), and at the end the growth exponent of total wall (and
CPU) time in premises (least squares of log time on log premises over the
towns) against the targets of issue 15.

On a shared machine the wall time includes waiting for the CPU; the CPU
seconds (user + system of the planning process) are close to the wall time
on an idle machine, since the plan runs on one thread.

Usage::

    python benchmarks/scale.py                          # 1k, 10k, 30k, 100k + Rutland
    python benchmarks/scale.py --sizes 1000,10000,30000,100000,300000
    python benchmarks/scale.py --sizes 1000 --no-rutland --keep out/
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

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from street_instances import town_layout  # the sibling scripts, found via sys.path
from town_cli import write_town

ROOT = Path(__file__).resolve().parents[1]
RUTLAND = ROOT.parent / "shared" / "data" / "rutland_rutland.osm.pbf"
STAGES = ("load", "trench", "optimise", "design", "cost", "layers", "gpkg", "map", "figure", "bid")
#: Targets of issue 15 (2-core machine): 100k end to end, memory, growth, violations.
TARGET_100K_S, TARGET_GIB, TARGET_EXPONENT, TARGET_VIOLATIONS_PCT = 30.0, 2.0, 1.1, 1.0


def _child(argv: list[str]) -> None:
    """Run ``fibreplan`` in this process; print its peak RSS and CPU seconds as JSON."""
    from fibreplan.cli import main

    code = main(argv)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({"code": code, "maxrss_kib": usage.ru_maxrss,
                      "cpu_s": usage.ru_utime + usage.ru_stime}))  # fmt: skip


def run_plan(args: list[str], out: Path) -> dict[str, Any]:
    """Plan in a fresh process; return wall and CPU seconds, peak RSS, summary and file sizes.

    Parameters
    ----------
    args : list of str
        ``fibreplan plan`` input arguments (``--streets``, ``--premises``, ...).
    out : pathlib.Path
        Output folder (replaced).

    Returns
    -------
    dict
        ``wall_s``, ``cpu_s``, ``rss_gib``, ``summary`` (summary.json),
        ``gpkg_mb`` and ``map_mb``.
    """
    if out.exists():
        shutil.rmtree(out)
    cmd = [sys.executable, __file__, "--child", "plan", *args, "--out", str(out), "-q"]
    t0 = time.perf_counter()
    done = subprocess.run(cmd, check=True, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    child = json.loads(done.stdout.strip().splitlines()[-1])
    return {
        "wall_s": wall,
        "cpu_s": child["cpu_s"],
        "rss_gib": child["maxrss_kib"] / 2**20,
        "summary": json.loads((out / "summary.json").read_text(encoding="utf-8")),
        "gpkg_mb": (out / "plan.gpkg").stat().st_size / 1e6,
        "map_mb": (out / "map.html").stat().st_size / 1e6,
    }


def _row(name: str, r: dict[str, Any]) -> str:
    s = r["summary"]
    sec = s["seconds"]
    stages = " ".join(f"{sec.get(k, float('nan')):>7.2f}" for k in STAGES)
    pct = 100 * s["loss_violations"] / max(s["premises_connected"], 1)
    return (
        f"{name:>8} {s['premises_total']:>8,} {r['wall_s']:>7.1f} {r['cpu_s']:>7.1f} {stages} "
        f"{r['rss_gib']:>6.2f} {r['gpkg_mb']:>7.1f} {r['map_mb']:>7.1f} "
        f"{len(s.get('headends') or [1]):>3} {pct:>6.2f}"
    )


def _exponent(premises: list[int], seconds: list[float]) -> float:
    """Slope of log(seconds) on log(premises) (least squares)."""
    return float(np.polyfit(np.log(premises), np.log(seconds), 1)[0])


def main(argv: list[str] | None = None) -> None:
    """Generate the towns, plan each (and Rutland) in a fresh process, print the table."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        _child(argv[1:])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,30000,100000")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-rutland", action="store_true")
    parser.add_argument("--keep", type=Path, default=None, help="keep the files in this folder")
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="fibreplan-scale-")) if args.keep is None else args.keep
    folder.mkdir(parents=True, exist_ok=True)
    print(f"machine: {os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f}")
    head = " ".join(f"{k:>7}" for k in STAGES)
    print(f"{'input':>8} {'premises':>8} {'wall s':>7} {'cpu s':>7} {head} "
          f"{'GiB':>6} {'gpkg MB':>7} {'map MB':>7} {'hd':>3} {'viol %':>6}")  # fmt: skip
    towns: list[tuple[int, dict[str, Any]]] = []
    for i, n in enumerate(int(v) for v in args.sizes.split(",")):
        sub = folder / f"town{n}"
        sub.mkdir(exist_ok=True)
        streets, premises = write_town(town_layout(n, seed=args.seed), sub)
        inputs = ["--streets", str(streets), "--premises", str(premises)]
        if i == 0:  # warm-up: loading the compiled kernels' disk cache is not timed
            run_plan(inputs, sub / "out")
        r = run_plan(inputs, sub / "out")
        towns.append((r["summary"]["premises_total"], r))
        print(_row(f"{n // 1000}k", r), flush=True)
    rutland = None
    if not args.no_rutland and RUTLAND.is_file():
        rutland = run_plan(["--streets", str(RUTLAND), "--premises", str(RUTLAND)],
                           folder / "rutland")  # fmt: skip
        print(_row("Rutland", rutland), flush=True)
    elif not args.no_rutland:
        print(f"Rutland skipped: {RUTLAND} not found")
    _report(towns, rutland)
    if args.keep is None:
        shutil.rmtree(folder)


def _report(towns: list[tuple[int, dict[str, Any]]], rutland: dict[str, Any] | None) -> None:
    """Print the growth exponents, the targets and the Rutland figures."""
    for label, fit in (("all towns", towns), ("towns >= 10k", [t for t in towns if t[0] >= 9000])):
        if len(fit) >= 2:
            p = [n for n, _ in fit]
            wall = _exponent(p, [r["wall_s"] for _, r in fit])
            cpu = _exponent(p, [r["cpu_s"] for _, r in fit])
            print(f"growth exponent of total time in premises ({label}): wall {wall:.2f}, "
                  f"cpu {cpu:.2f} (target <= {TARGET_EXPONENT})")  # fmt: skip
    for n, r in towns:
        if 90_000 <= n <= 110_000:
            s = r["summary"]
            pct = 100 * s["loss_violations"] / max(s["premises_connected"], 1)
            print(f"100k targets: wall {r['wall_s']:.1f} s / cpu {r['cpu_s']:.1f} s "
                  f"(< {TARGET_100K_S:.0f} s), {r['rss_gib']:.2f} GiB (< {TARGET_GIB:.0f}), "
                  f"violations {pct:.2f} % (<= {TARGET_VIOLATIONS_PCT:.0f} %)")  # fmt: skip
            sec = {k: s["seconds"].get(k, 0.0) for k in STAGES}
            worst = max(sec, key=sec.__getitem__)
            print(f"bottleneck at 100k: {worst} ({sec[worst]:.1f} s of {r['wall_s']:.1f} s wall)")
    if rutland is not None:
        s = rutland["summary"]
        print(f"Rutland: {s['premises_total']:,} premises ({s['premises_connected']:,} connected), "
              f"{len(s.get('headends') or [1])} headends ({s['headend']['how'][:60]}...), "
              f"{s['trench_m'] / 1000:,.1f} km trench, "
              f"£{s['cost_per_premises_passed_gbp'] or 0:,.0f} per premises passed, "
              f"{rutland['wall_s']:.1f} s wall / {rutland['cpu_s']:.1f} s cpu, "
              f"{s['loss_violations']} over the optical budget "
              f"({100 * s['loss_violations'] / max(s['premises_connected'], 1):.2f} %), "
              f"max loss {s['max_loss_db']} dB")  # fmt: skip


if __name__ == "__main__":
    main()
