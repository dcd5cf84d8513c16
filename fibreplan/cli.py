"""Command line: ``fibreplan demo``, ``plan``, ``cost-book`` and ``design-rules``.

Exit codes: 0 success, 2 bad input (the message says what to fix), 1 an
unexpected error (please report it).
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fibreplan._errors import FibreplanError
from fibreplan._errors import InputValidationError

__all__ = ["main"]

logger = logging.getLogger("fibreplan")

_DEFAULT_OUT = "fibreplan-out"


def _parse_lonlat(text: str) -> tuple[float, float]:
    """Parse ``--exchange``: ``lon,lat`` in degrees, or a vector file whose first point is used."""
    path = Path(text)
    if path.is_file():
        import geopandas as gpd

        try:
            gdf = gpd.read_file(path, engine="pyogrio")
        except Exception as err:
            msg = f"--exchange: could not read '{text}' as a point file: {err}"
            raise argparse.ArgumentTypeError(msg) from err
        points = gdf.geometry[gdf.geometry.geom_type == "Point"] if gdf.crs else None
        if points is None or points.empty:
            msg = f"--exchange: '{text}' needs at least one point and a CRS."
            raise argparse.ArgumentTypeError(msg)
        pt = points.to_crs("EPSG:4326").iloc[0]
        return float(pt.x), float(pt.y)
    try:
        lon, lat = (float(v) for v in text.split(","))
    except ValueError as err:
        msg = (
            "--exchange must be 'lon,lat' in degrees (write --exchange=-0.1405,51.5185) "
            f"or a point file; got '{text}'"
        )
        raise argparse.ArgumentTypeError(msg) from err
    return lon, lat


def _parser() -> argparse.ArgumentParser:
    from fibreplan import __version__

    parser = argparse.ArgumentParser(
        prog="fibreplan",
        description="Plan full-fibre (FTTP) rollout: trench routes, drops, costs and maps.",
    )
    parser.add_argument("--version", action="version", version=f"fibreplan {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--out", default=_DEFAULT_OUT, help=f"output folder (default: {_DEFAULT_OUT})"
        )
        p.add_argument("--overwrite", action="store_true", help="replace existing output files")
        p.add_argument("--exchange", type=_parse_lonlat, metavar="LON,LAT",
                       help="headend (OLT): lon,lat or a point file")  # fmt: skip
        p.add_argument(
            "--costs", type=Path, metavar="TOML", help="cost book (see `fibreplan cost-book`)"
        )
        p.add_argument("--design", type=Path, metavar="TOML",
                       help="design rules (see `fibreplan design-rules`)")  # fmt: skip
        p.add_argument("--existing", "--ducts", type=Path, metavar="FILE", dest="existing",
                       help="existing ducts (lines) and poles (points) to use")  # fmt: skip
        p.add_argument("--max-drop-m", type=float, default=None, metavar="M",
                       help="maximum drop length, metres (default 100)")  # fmt: skip
        p.add_argument("--method", choices=["heuristic", "exact", "auto"], default="auto",
                       help="Steiner tree method (default: auto)")  # fmt: skip
        p.add_argument("--time-limit", type=float, default=None, metavar="S",
                       help="optional cap on the optimiser's wall time, seconds (default: none; "
                       "a capped run may differ between a busy and an idle machine)")  # fmt: skip
        p.add_argument("--no-basemap", action="store_true", help="draw the map without OSM tiles")
        p.add_argument("-q", "--quiet", action="store_true", help="only print the final summary")

    demo = sub.add_parser("demo", help="plan the embedded town (central London, no network)")
    demo.add_argument("--tiny", action="store_true", help="use the two-block fixture instead")
    common(demo)
    run = sub.add_parser("plan", help="plan from your own street and premises files")
    # str, not Path: a PostGIS URL (postgresql://host/db#schema.table) is not a path
    run.add_argument("--streets", required=True, type=str,
                     help="OSM XML or PBF, GeoPackage or GeoJSON, or a PostGIS table "
                     "(postgresql://user@host/db#schema.table)")  # fmt: skip
    run.add_argument("--premises", required=True, type=str,
                     help="OSM XML or PBF (buildings), GeoPackage/GeoJSON points, CSV with "
                     "lon/lat or easting/northing columns, or a PostGIS table")  # fmt: skip
    common(run)
    for name, what in (("cost-book", "cost book"), ("design-rules", "design rules")):
        book = sub.add_parser(name, help=f"print the default {what} as TOML, to edit")
        book.add_argument("--out", type=Path, default=None, help="write to this file instead")
        book.add_argument("--overwrite", action="store_true", help="replace an existing file")
    return parser


def _print_summary(s: dict[str, Any], paths: dict[str, Path], seconds: float) -> None:
    opt, head = s["optimiser"], s["headend"]
    proven = " (proven optimal)" if opt["proven_optimal"] else ""
    if opt.get("time_limit_hit"):
        proven += f", stopped at the {opt['time_limit_s']:g} s time limit"
    unreachable = s["unreachable_by_reason"] or "none"
    lines = [
        "",
        f"fibreplan {s['fibreplan_version']} — plan done in {seconds:.1f} s",
        (f"  premises      {s['premises_connected']:,} connected of {s['premises_total']:,}"
         f" ({s['premises_unreachable']:,} unreachable: {unreachable})"),
        f"  trench        {s['trench_m'] / 1000:,.2f} km   drops {s['drop_m'] / 1000:,.2f} km",
        (f"  cost          £{s['cost_total_gbp']:,.0f}  (range £{s['cost_low_gbp']:,.0f}"
         f" – £{s['cost_high_gbp']:,.0f})"),
        f"  per premises  £{s['cost_per_premises_passed_gbp'] or 0:,.0f} passed",
        f"  headend       {head['lon']:.5f}, {head['lat']:.5f} ({head['how']})",
        (f"  optimiser     {opt['method']}: tree £{opt['tree_cost_gbp']:,.0f},"
         f" gap to lower bound {opt['gap_pct']:.2f} %{proven}"),
        (f"  network       {s['dp_count']} DPs, {s['cabinet_count']} cabinets, "
         f"{s['chamber_count']} chambers, {s['road_crossings']} road crossings, "
         f"max loss {s['max_loss_db'] or 0:.1f} dB ({s['loss_violations']} over budget)"),
        "  outputs       " + "  ".join(str(p) for p in paths.values()),
    ]  # fmt: skip
    print("\n".join(lines))


def _run_plan(args: argparse.Namespace) -> int:
    import dataclasses

    import fibreplan
    from fibreplan.config import CostBook
    from fibreplan.config import TrenchRules
    from fibreplan.config import load_rules
    from fibreplan.export import FILES
    from fibreplan.export import check_writable

    out = Path(args.out)
    check_writable([out / name for name in FILES.values()], overwrite=args.overwrite)
    costs = CostBook.from_toml(args.costs) if args.costs else None
    trench_rules, rules = load_rules(args.design) if args.design else (TrenchRules(), None)
    if args.max_drop_m is not None:
        trench_rules = dataclasses.replace(trench_rules, max_drop_m=args.max_drop_m)
    if args.command == "demo":
        streets = premises = fibreplan.demo_path(tiny=args.tiny)
    else:
        streets, premises = args.streets, args.premises
    t0 = time.perf_counter()
    result = fibreplan.plan(
        streets,
        premises,
        headend=args.exchange,
        costs=costs,
        trench_rules=trench_rules,
        rules=rules,
        existing=args.existing,
        method=args.method,
        time_limit=args.time_limit,
    )
    paths = result.save(out, overwrite=args.overwrite, basemap=not args.no_basemap)
    _print_summary(result.summary, paths, time.perf_counter() - t0)
    return 0


def _run_config(args: argparse.Namespace) -> int:
    from fibreplan.config import CostBook
    from fibreplan.config import rules_toml
    from fibreplan.export import check_writable

    text = CostBook().to_toml() if args.command == "cost-book" else rules_toml()
    if args.out is None:
        print(text, end="")
        return 0
    check_writable([args.out], overwrite=args.overwrite)
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``fibreplan`` command line.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments (default ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit code: 0 success, 2 bad input, 1 unexpected error.
    """
    args = _parser().parse_args(argv)
    if not getattr(args, "quiet", False):
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(name)s: %(message)s", datefmt="%H:%M:%S"
        )
        logging.getLogger("pyogrio").setLevel(logging.WARNING)
    try:
        if args.command in {"cost-book", "design-rules"}:
            return _run_config(args)
        return _run_plan(args)
    except (FibreplanError, InputValidationError) as err:
        print(f"fibreplan: error: {err}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # pragma: no cover - output piped into `head` and the like
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:  # pragma: no cover
        print("fibreplan: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
