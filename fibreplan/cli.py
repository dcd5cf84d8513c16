"""Command line: ``fibreplan demo``, ``plan``, ``validate``, ``cost-book`` and ``design-rules``.

Built on click, with rich for the per-stage progress. Every command is
registered in one place (the "Commands" section below); options shared by the
planning commands are declared once in :data:`_PLAN_OPTIONS`.

Exit codes: 0 done; 2 bad input or usage (one line: what, where, and the
fix); 1 an unexpected error (a short message and the file the traceback was
written to: please report it); 130 interrupted.
"""

from __future__ import annotations

import dataclasses
import difflib
import gc
import logging
import os
import sys
import tempfile
import time
import tomllib
import traceback
from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from fibreplan._errors import FibreplanError

__all__ = ["cli", "main"]

logger = logging.getLogger("fibreplan")

_DEFAULT_OUT = "fibreplan-out"
_CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


# --------------------------------------------------------------------------------------
# Option types and shared options


def _parse_lonlat(text: str) -> tuple[float, float]:
    """Parse ``--exchange``: ``lon,lat`` in degrees, or a vector file whose first point is used."""
    path = Path(text)
    if path.is_file():
        import geopandas as gpd

        try:
            gdf = gpd.read_file(path, engine="pyogrio")
        except Exception as err:
            msg = f"could not read '{text}' as a point file: {err}"
            raise click.BadParameter(msg, param_hint="--exchange") from err
        points = gdf.geometry[gdf.geometry.geom_type == "Point"] if gdf.crs else None
        if points is None or points.empty:
            msg = f"'{text}' needs at least one point and a CRS."
            raise click.BadParameter(msg, param_hint="--exchange")
        pt = points.to_crs("EPSG:4326").iloc[0]
        return float(pt.x), float(pt.y)
    try:
        lon, lat = (float(v) for v in text.split(","))
    except ValueError as err:
        msg = (
            "must be 'lon,lat' in degrees (write --exchange=-0.1405,51.5185) "
            f"or a point file; got '{text}'"
        )
        raise click.BadParameter(msg, param_hint="--exchange") from err
    return lon, lat


class _LonLat(click.ParamType):
    name = "LON,LAT|FILE"

    def convert(
        self,
        value: Any,
        param: click.Parameter | None,  # noqa: ARG002 - click's signature
        ctx: click.Context | None,  # noqa: ARG002 - click's signature
    ) -> Any:
        if isinstance(value, tuple):
            return value
        if isinstance(value, list) and len(value) == 2:
            return float(value[0]), float(value[1])
        return _parse_lonlat(str(value))


class _Exchange(click.ParamType):
    """One ``--exchange`` value: ``lon,lat`` in degrees or a point file (all its points)."""

    name = "LON,LAT|FILE"

    def convert(
        self,
        value: Any,
        param: click.Parameter | None,  # noqa: ARG002 - click's signature
        ctx: click.Context | None,  # noqa: ARG002 - click's signature
    ) -> Any:
        if isinstance(value, tuple | float | int):
            return value  # a pair, or one number of a TOML pair (joined by _exchanges)
        if isinstance(value, list) and len(value) == 2:
            return float(value[0]), float(value[1])
        if Path(str(value)).is_file():
            return str(value)
        return _parse_lonlat(str(value))


def _exchanges(
    ctx: click.Context,  # noqa: ARG001 - click's callback signature
    param: click.Parameter,  # noqa: ARG001 - click's callback signature
    values: tuple[Any, ...],
) -> Any:
    """Join ``--exchange`` values into what ``plan(headend=)`` takes: None, one, or several."""
    if len(values) == 2 and all(isinstance(v, float | int) for v in values):
        values = ((float(values[0]), float(values[1])),)  # exchange = [lon, lat] in a TOML file
    if not values:
        return None
    files = [v for v in values if isinstance(v, str)]
    if files and len(values) > 1:
        msg = (
            f"give one point file ('{files[0]}') or several lon,lat values, not both; "
            "put every exchange in the file"
        )
        raise click.BadParameter(msg, param_hint="--exchange")
    return values[0] if len(values) == 1 else list(values)


def _load_config(
    ctx: click.Context,
    param: click.Parameter,  # noqa: ARG001 - click's callback signature
    value: str | None,
) -> str | None:
    """Read ``--config plan.toml`` into the command's defaults (eager: before other options)."""
    if value is None:
        return None
    path = Path(value)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        msg = f"no such file '{value}'"
        raise click.BadParameter(msg, param_hint="--config") from err
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        msg = f"'{value}' is not valid TOML: {err}"
        raise click.BadParameter(msg, param_hint="--config") from err
    names = {p.name: p for p in ctx.command.params if p.name and p.name != "config"}
    # one plan.toml serves every command: options of `plan` that this command lacks are skipped
    shared = {p.name for p in cli.commands["plan"].params} - set(names)
    defaults: dict[str, Any] = {}
    for key, setting in data.items():
        name = key.replace("-", "_")
        if name in shared:
            continue
        if name not in names:
            close = difflib.get_close_matches(name, list(names), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            msg = (
                f"'{value}': unknown key '{key}'{hint}; keys are the options of "
                f"`fibreplan {ctx.command.name}` without the dashes: {sorted(names)}"
            )
            raise click.BadParameter(msg, param_hint="--config")
        one = getattr(names[name], "multiple", False) and isinstance(setting, str)
        defaults[name] = [setting] if one else setting  # e.g. exchange = "lon,lat"
    ctx.default_map = {**(ctx.default_map or {}), **defaults}
    return value


#: Options of the planning commands (``demo``, ``plan``), declared once; applied in order.
_PLAN_OPTIONS: list[Callable[[Any], Any]] = [
    click.option("--config", type=click.Path(dir_okay=False), callback=_load_config,
                 is_eager=True, expose_value=False, metavar="TOML",
                 help="read any of these options from a TOML file (keys are option names, "
                 'e.g. out = "plan-out", max_drop_m = 80); the command line wins'),
    click.option("--out", default=_DEFAULT_OUT, show_default=True, metavar="DIR",
                 help="output folder"),
    click.option("--overwrite", is_flag=True, help="replace existing output files"),
    click.option("--postgis", default=None, metavar="URL",
                 help="also write the plan's layers to PostGIS (postgresql://user@host/db"
                 "#schema; existing tables replaced only with --overwrite)"),
    click.option("--exchange", type=_Exchange(), multiple=True, callback=_exchanges,
                 help="headend (exchange / OLT site): lon,lat in degrees (write "
                 "--exchange=-0.14,51.5); repeat it, or give a point file, for several: each "
                 "premises is then planned from one of them (ids from a name/id column)"),
    click.option("--costs", type=click.Path(), metavar="TOML",
                 help="cost book (see `fibreplan cost-book`)"),
    click.option("--design", type=click.Path(), metavar="TOML",
                 help="design rules (see `fibreplan design-rules`)"),
    click.option("--existing", "--ducts", "existing", type=click.Path(), metavar="FILE",
                 help="existing ducts (lines) and poles (points) to use"),
    click.option("--take-up", type=click.FloatRange(min=0, max=1, min_open=True), default=None,
                 metavar="FRACTION", help="share of premises passed that connect (default: the "
                 "cost book's 0.5, the FTTH Council Europe cost-model convention)"),
    click.option("--assume-pia", default=None, metavar="HIGHWAYS",
                 help="scenario: assume rentable Openreach duct (PIA) along these OSM highway "
                 "classes, comma-separated, or 'default' (primary to living_street)"),
    click.option("--max-drop-m", type=click.FloatRange(min=0, min_open=True), default=None,
                 metavar="M", help="maximum drop length, metres (default 100)"),
    click.option("--method", type=click.Choice(["heuristic", "exact", "auto"]), default="auto",
                 show_default=True, help="Steiner tree method"),
    click.option("--time-limit", type=click.FloatRange(min=0, min_open=True), default=None,
                 metavar="S", help="optional cap on the optimiser's wall time, seconds (default "
                 "none; a capped run may differ between a busy and an idle machine)"),
    click.option("--status", default=None, metavar="CSV",
                 help="BDUK premises release (uprn, subsidy_control_status, current_gigabit) "
                 "joined by UPRN = the premises ID; unjoined UPRNs are reported"),
    click.option("--eligible-only", is_flag=True,
                 help="route to eligible (Gigabit White) premises only; others passed anyway "
                 "count as passed, not subsidisable"),
    click.option("--include-under-review", is_flag=True,
                 help="count Gigabit Under Review premises as eligible"),
    click.option("--anchors-first", is_flag=True,
                 help="public anchor tenants (class 'public': schools, libraries, GP surgeries, "
                 "council buildings) required and built first"),
    click.option("--budget", type=click.FloatRange(min=0, min_open=True), default=None,
                 metavar="GBP", help="plan the most (eligible) premises whose build cost is "
                 "within this budget, GBP"),
    click.option("--phases", type=click.IntRange(min=1), default=None, metavar="N",
                 help="order the build into N phases of about equal spend (dig once)"),
    click.option("--phase-budget", type=click.FloatRange(min=0, min_open=True), default=None,
                 metavar="GBP", help="order the build into phases of at most this spend, GBP"),
    click.option("--funding", type=click.Path(), default=None, metavar="TOML",
                 help="funding rules: voucher cap and rule set, viable-investment model "
                 "(a [funding] table; defaults and sources in fibreplan.config.FundingRules)"),
    click.option("--no-basemap", is_flag=True, help="draw the map without OSM tiles"),
    click.option("-q", "--quiet", is_flag=True, help="print only the final summary"),
    click.option("-v", "--verbose", count=True,
                 help="log what each stage does (-vv: debug)"),
]  # fmt: skip


def _plan_options(f: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed(_PLAN_OPTIONS):
        f = option(f)
    return f


# --------------------------------------------------------------------------------------
# Output: logging, progress per stage, the printed summary


def _setup_logging(*, quiet: bool, verbose: int) -> None:
    """Send logs to stderr: warnings by default, info with -v, debug with -vv, errors with -q."""
    level = (
        logging.ERROR if quiet else (logging.WARNING, logging.INFO, logging.DEBUG)[min(verbose, 2)]
    )
    logging.basicConfig(
        level=level, format="%(asctime)s %(name)s: %(message)s", datefmt="%H:%M:%S", force=True
    )
    logging.getLogger("pyogrio").setLevel(max(level, logging.WARNING))
    # the plan's warnings head the printed summary: log them only with -v
    logging.getLogger("fibreplan.plan").setLevel(level if verbose else logging.ERROR)


class _Progress:
    """Shows each long stage while it runs (a spinner) and its time when done, on stderr.

    Silent under ``--quiet``, when stderr is not a terminal (logs stay clean) and
    under ``--verbose`` (the log lines say the same).
    """

    _LABELS = {  # noqa: RUF012 - a constant table
        "load": "reading inputs",
        "trench": "building the trench graph",
        "optimise": "optimising the route",
        "design": "designing the network",
        "cost": "costing",
        "save": "writing outputs",
        "quality": "checking the inputs",
    }

    def __init__(self, *, enabled: bool) -> None:
        from rich.console import Console

        self.enabled = enabled
        self.console = Console(stderr=True)
        self._status: Any = None

    def __call__(self, stage: str, seconds: float | None) -> None:
        if not self.enabled:
            return
        label = self._LABELS.get(stage, stage)
        if seconds is None:
            self._status = self.console.status(f"{label} ...")
            self._status.start()
            return
        if self._status is not None:
            self._status.stop()
            self._status = None
        self.console.print(f"  [green]✓[/green] {label:<28} {seconds:7.1f} s", highlight=False)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        self(name, None)
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self(name, time.perf_counter() - t0)


def _headend_lines(headends: list[dict[str, Any]]) -> list[str]:
    """One line per headend when there are several: premises served and trench."""
    if len(headends) < 2:
        return []
    return [
        f"    {h['id']:<12} {h['lon']:.5f}, {h['lat']:.5f}: {h['premises_connected']:,} "
        f"premises, {h['trench_m'] / 1000:,.2f} km trench"
        for h in headends
    ]


def _summary_lines(s: dict[str, Any], paths: dict[str, Path], seconds: float) -> list[str]:
    from fibreplan.scenarios import cost_lines
    from fibreplan.subsidy import bid_lines

    opt, head = s["optimiser"], s["headend"]
    proven = " (proven optimal)" if opt["proven_optimal"] else ""
    if opt.get("time_limit_hit"):
        proven += f", stopped at the {opt['time_limit_s']:g} s time limit"
    unreachable = s["unreachable_by_reason"] or "none"
    warnings = [f"  warning: {w}" for w in s.get("warnings", [])]
    return [
        "",
        f"fibreplan {s['fibreplan_version']} — plan done in {seconds:.1f} s",
        *warnings,
        (f"  premises      {s['premises_connected']:,} connected of {s['premises_total']:,}"
         f" ({s['premises_unreachable']:,} not connected: {unreachable})"),
        f"  trench        {s['trench_m'] / 1000:,.2f} km   drops {s['drop_m'] / 1000:,.2f} km",
        *cost_lines(s),
        *bid_lines(s),
        f"  headend       {head['lon']:.5f}, {head['lat']:.5f} ({head['how']})",
        *_headend_lines(s.get("headends", [])),
        (f"  optimiser     {opt['method']}: tree £{opt['tree_cost_gbp']:,.0f},"
         f" gap to lower bound {opt['gap_pct']:.2f} %{proven}"),
        (f"  network       {s['dp_count']} DPs, {s['cabinet_count']} cabinets, "
         f"{s['chamber_count']} chambers, {s['road_crossings']} road crossings, "
         f"max loss {s['max_loss_db'] or 0:.1f} dB ({s['loss_violations']} over budget)"),
        "  outputs       " + "  ".join(str(p) for p in paths.values()),
    ]  # fmt: skip


# --------------------------------------------------------------------------------------
# Running a plan


def _check_input_path(value: str | None, *, option: str) -> None:
    """Refuse a missing input file before any work (PostGIS URLs pass through)."""
    if value is None or "://" in value or Path(value).exists():
        return
    msg = (
        f"{option}: no such file '{value}'. Check the path (relative paths are from {Path.cwd()})."
    )
    raise FibreplanError(msg)


def _check_out_location(out: Path) -> None:
    """Refuse an output folder that cannot be created or written, before any work."""
    where = next((a for a in (out, *out.parents) if a.exists()), Path.cwd())
    try:
        with tempfile.TemporaryFile(dir=where):
            pass
    except OSError as err:
        msg = (
            f"--out '{out}': cannot write in '{where}' ({err.strerror or err}); "
            "choose a folder you can write to."
        )
        raise FibreplanError(msg) from err


def _rules(opts: dict[str, Any]) -> tuple[Any, Any, Any]:
    """Cost book, trench rules and design rules from the options (files checked first)."""
    from fibreplan.config import CostBook
    from fibreplan.config import TrenchRules
    from fibreplan.config import load_rules

    for option in ("costs", "design", "existing", "status", "funding"):
        _check_input_path(opts.get(option), option=f"--{option}")
    costs = CostBook.from_toml(opts["costs"]) if opts.get("costs") else None
    if opts.get("take_up") is not None:
        costs = dataclasses.replace(costs or CostBook(), take_up=opts["take_up"])
    trench_rules, rules = (
        load_rules(opts["design"]) if opts.get("design") else (TrenchRules(), None)
    )
    if opts.get("max_drop_m") is not None:
        trench_rules = dataclasses.replace(trench_rules, max_drop_m=opts["max_drop_m"])
    return costs, trench_rules, rules


def _input_options(opts: dict[str, Any]) -> dict[str, Any]:
    """Return the plan's input options: CSV columns and CRS, area of interest (checked)."""
    if opts.get("aoi") and opts.get("bbox"):
        msg = "give --aoi FILE or --bbox W,S,E,N, not both"
        raise click.UsageError(msg)
    _check_input_path(opts.get("aoi"), option="--aoi")
    from fibreplan.postgis import is_postgis_url

    if opts.get("postgis") and not is_postgis_url(opts["postgis"]):
        msg = f"--postgis must be a postgresql://user@host/db#schema URL; got '{opts['postgis']}'"
        raise click.UsageError(msg)
    if opts.get("postgis"):
        from fibreplan.layers import LAYER_NAMES
        from fibreplan.postgis import check_postgis_writable

        check_postgis_writable(opts["postgis"], LAYER_NAMES, overwrite=opts["overwrite"])
    return {
        "x_column": opts.get("x_col"),
        "y_column": opts.get("y_col"),
        "premises_crs": opts.get("crs"),
        "aoi": opts.get("aoi") or opts.get("bbox"),
    }


def _write_postgis(result: Any, url: str, *, overwrite: bool) -> list[str]:
    """Write the plan's layers to a PostGIS schema; return the tables written."""
    from fibreplan.layers import plan_layers
    from fibreplan.postgis import write_postgis

    return write_postgis(plan_layers(result), url, overwrite=overwrite)


#: Whether :func:`main` runs as the program (not called from Python): see :func:`_freeze_heap`.
_AS_PROGRAM: list[bool] = [False]


def _freeze_heap() -> None:
    """Take every object alive now out of the garbage collector's passes (program runs only).

    The imports and the plan leave about half a million long-lived objects, and each full
    collection walks all of them (11 passes, about 1 s, in a 20k-premises town's run, plus
    0.6 s at exit). Frozen, they are no longer walked; objects made later are collected as
    usual. Only when :func:`main` is the program: the process ends after one command, so
    nothing frozen can pile up, whereas a Python caller keeps its usual collector.
    """
    if _AS_PROGRAM[0]:
        gc.freeze()


@contextmanager
def _imports_frozen() -> Iterator[None]:
    """Import with the garbage collector paused, then freeze what was loaded (program runs only).

    Imports make long-lived objects and next to no garbage; as the heap grows the collector
    would walk it in full two or three times (0.25 s of a 20k-premises town's run).
    """
    if not _AS_PROGRAM[0]:
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        _freeze_heap()


def _run_plan(streets: Any, premises: Any, opts: dict[str, Any]) -> int:
    with _imports_frozen():
        from fibreplan.optimise import start_kernels

        start_kernels()  # on a machine's first plan, compiling overlaps the imports and loading
        import fibreplan
        from fibreplan.addresses import with_buildings
        from fibreplan.export import FILES
        from fibreplan.export import check_writable
        from fibreplan.scenarios import scenario_existing
        from fibreplan.subsidy import bid_options_from_cli

    _setup_logging(quiet=opts["quiet"], verbose=opts["verbose"])
    out = Path(opts["out"])
    check_writable([out / name for name in FILES.values()], overwrite=opts["overwrite"])
    _check_out_location(out)
    costs, trench_rules, rules = _rules(opts)
    bid = bid_options_from_cli(opts)
    premises = with_buildings(premises, opts.get("buildings"))
    progress = _Progress(enabled=not opts["quiet"] and not opts["verbose"] and sys.stderr.isatty())
    t0 = time.perf_counter()
    result = fibreplan.plan(
        streets,
        premises,
        headend=opts["exchange"],
        costs=costs,
        trench_rules=trench_rules,
        rules=rules,
        existing=scenario_existing(
            streets, opts["existing"], assume_pia=opts["assume_pia"], trench_rules=trench_rules
        ),
        method=opts["method"],
        time_limit=opts["time_limit"],
        id_column=opts.get("id_column"),
        bid=bid,
        progress=progress,
        **_input_options(opts),
    )
    _freeze_heap()  # the plan lives to the end
    with progress.stage("save"):
        paths = result.save(out, overwrite=opts["overwrite"], basemap=not opts["no_basemap"])
        tables = (
            _write_postgis(result, opts["postgis"], overwrite=opts["overwrite"])
            if opts.get("postgis")
            else []
        )
    click.echo("\n".join(_summary_lines(result.summary, paths, time.perf_counter() - t0)))
    if tables:
        click.echo(f"  postgis       {len(tables)} tables: {', '.join(tables)}")
    return 0


def _write_text(text: str, out: str | None, *, overwrite: bool) -> int:
    from fibreplan.export import check_writable

    if out is None:
        click.echo(text, nl=False)
        return 0
    check_writable([Path(out)], overwrite=overwrite)
    Path(out).write_text(text, encoding="utf-8")
    click.echo(f"wrote {out}")
    return 0


# --------------------------------------------------------------------------------------
# The command group: "did you mean" for commands (click does it for options)


class _Group(click.Group):
    """A group that suggests the closest command on a typo, and keeps commands in order."""

    def list_commands(self, ctx: click.Context) -> list[str]:  # noqa: ARG002 - click's signature
        return list(self.commands)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name = args[0] if args else ""
        if name and not name.startswith("-") and self.get_command(ctx, name) is None:
            close = difflib.get_close_matches(name, list(self.commands), n=1, cutoff=0.5)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            msg = f"no such command '{name}'.{hint} Commands: {', '.join(self.commands)}."
            raise click.UsageError(msg, ctx)
        return super().resolve_command(ctx, args)


_EXAMPLES = """\b
Examples:
  fibreplan demo --out demo-out
  fibreplan plan --streets area.osm --premises uprn.csv --exchange=-0.1406,51.5185 --out plan-out
  fibreplan validate area.osm uprn.csv
  fibreplan fetch --place "Ketton, Rutland, UK" --out ketton
  fibreplan plan --config plan.toml
  fibreplan cost-book --out costs.toml

\b
Exit codes: 0 done; 2 bad input or usage (the message says what, where and the fix);
1 unexpected error (the message names the file holding the traceback).
"""


def _version() -> str:
    from fibreplan import __version__

    return __version__


@click.group(cls=_Group, context_settings=_CONTEXT, epilog=_EXAMPLES)
@click.version_option(version=_version(), prog_name="fibreplan", message="%(prog)s %(version)s")
def cli() -> None:
    """Plan full-fibre (FTTP) rollout: trench routes, drops, costs and maps."""


# --------------------------------------------------------------------------------------
# Commands: every command is registered here, in this one section.


@cli.command("demo", epilog="\b\nExamples:\n  fibreplan demo --out demo-out\n"
             "  fibreplan demo --tiny --no-basemap --out demo-out")  # fmt: skip
@click.option("--tiny", is_flag=True, help="use the two-block fixture instead")
@_plan_options
def demo_command(*, tiny: bool, **opts: Any) -> int:
    """Plan the embedded town (central London, 1,134 buildings, no network needed)."""
    import fibreplan

    path = fibreplan.demo_path(tiny=tiny)
    return _run_plan(path, path, opts)


_PLAN_EPILOG = """\b
Examples:
  fibreplan plan --streets area.osm.pbf --premises area.osm.pbf --out plan-out
  fibreplan plan --streets streets.gpkg --premises uprn.csv --id-column UPRN \\
      --exchange=-0.1406,51.5185 --max-drop-m 80 --costs costs.toml --out plan-out
  fibreplan plan --config plan.toml --overwrite
  fibreplan plan --streets county.osm.pbf --premises county.osm.pbf --areas auto --workers 2
  fibreplan plan --streets s.gpkg --premises p.csv --areas exchanges.gpkg \\
      --scheduler tcp://10.0.0.5:8786 --out county-out
"""


@cli.command("plan", epilog=_PLAN_EPILOG)
@click.option("--streets", required=True, metavar="FILE|URL",
              help="OSM XML or PBF, GeoPackage or GeoJSON lines, or a PostGIS table "
              "(postgresql://user@host/db#schema.table)")  # fmt: skip
@click.option("--premises", required=True, metavar="FILE|URL",
              help="OSM XML or PBF (buildings), GeoPackage/GeoJSON points, CSV with "
              "lon/lat or easting/northing columns, or a PostGIS table")  # fmt: skip
@click.option("--id-column", "--id-col", "id_column", default=None, metavar="NAME",
              help="premises column holding the ID (default: premises_id, uprn, id, "
              "address_id or osm_id, whichever is present)")  # fmt: skip
@click.option("--buildings", default=None, metavar="FILE",
              help="building footprints (OSM XML or polygons): address points in one "
              "footprint share a drop and get in-building wiring")  # fmt: skip
@click.option("--x-col", default=None, metavar="NAME",
              help="premises CSV column of x (easting or longitude), with --y-col")  # fmt: skip
@click.option("--y-col", default=None, metavar="NAME",
              help="premises CSV column of y (northing or latitude), with --x-col")  # fmt: skip
@click.option("--crs", default=None, metavar="CRS",
              help="CRS of the premises coordinates, e.g. EPSG:27700 or EPSG:4326: needed "
              "for a CSV with x/y or other headers (never guessed)")  # fmt: skip
@click.option("--aoi", default=None, metavar="FILE",
              help="area of interest: a polygon file; streets are cut at its edge and "
              "premises outside it left out")  # fmt: skip
@click.option("--bbox", default=None, metavar="W,S,E,N",
              help="area of interest as a box min_lon,min_lat,max_lon,max_lat in degrees "
              "(write --bbox=-0.56,52.62,-0.54,52.64)")  # fmt: skip
@click.option("--areas", default=None, metavar="auto|FILE",
              help="plan as areas on Dask and merge: 'auto' (areas of at most "
              "--area-premises) or a polygon file of areas (area_id column)")  # fmt: skip
@click.option("--area-premises", type=click.IntRange(min=1), default=20_000, metavar="N",
              show_default=True, help="most premises per automatic area")  # fmt: skip
@click.option("--workers", type=click.IntRange(min=0), default=None, metavar="N",
              help="with --areas: worker processes of the local Dask cluster (default: the "
              "CPU count; 0: one after another in this process)")  # fmt: skip
@click.option("--scheduler", default=None, metavar="tcp://HOST:PORT",
              help="with --areas: use this Dask scheduler instead of a local cluster")  # fmt: skip
@_plan_options
def plan_command(*, streets: str, premises: str, **opts: Any) -> int:
    """Plan from your own street and premises files (or PostGIS tables)."""
    _check_input_path(streets, option="--streets")
    _check_input_path(premises, option="--premises")
    if opts["areas"] is not None:
        return _run_areas(streets, premises, opts)
    return _run_plan(streets, premises, opts)


#: plan options not yet combined with --areas (each area is planned with the others).
_NOT_WITH_AREAS = ("exchange", "existing", "assume_pia", "postgis", "status", "budget",
                   "phases", "phase_budget", "eligible_only", "anchors_first", "buildings",
                   "aoi", "bbox")  # fmt: skip


def _run_areas(streets: str, premises: str, opts: dict[str, Any]) -> int:
    """Plan as areas on Dask (fibreplan.distributed) and write one merged plan."""
    from fibreplan.distributed import plan_areas
    from fibreplan.export import FILES
    from fibreplan.export import check_writable

    given = [f"--{k.replace('_', '-')}" for k in _NOT_WITH_AREAS if opts.get(k)]
    if given:
        msg = f"--areas cannot be combined with {', '.join(given)} yet; plan without --areas."
        raise click.UsageError(msg)
    _setup_logging(quiet=opts["quiet"], verbose=opts["verbose"])
    out = Path(opts["out"])
    check_writable([out / name for name in FILES.values()], overwrite=opts["overwrite"])
    costs, trench_rules, rules = _rules(opts)
    t0 = time.perf_counter()

    def progress(area_id: str, status: str, seconds: float) -> None:
        if not opts["quiet"]:
            click.echo(f"  area {area_id:<10} {status:<9} {seconds:6.1f} s", err=True)

    result = plan_areas(
        streets, premises, areas=opts["areas"], max_premises=opts["area_premises"],
        scheduler=opts["scheduler"], workers=opts["workers"], progress=progress,
        costs=costs, trench_rules=trench_rules, rules=rules, method=opts["method"],
        time_limit=opts["time_limit"], id_column=opts.get("id_column"),
    )  # fmt: skip
    paths = result.save(out, overwrite=opts["overwrite"], basemap=not opts["no_basemap"])
    s, bb = result.summary, result.summary["backbone"]
    per = s["cost_per_premises_passed_gbp"] or 0
    click.echo("\n".join([
        "",
        (f"fibreplan {s['fibreplan_version']} — {len(s['areas'])} areas planned in "
         f"{time.perf_counter() - t0:.1f} s ({len(s['areas_failed'])} failed)"),
        *[f"  warning: {w}" for w in s["warnings"]],
        f"  premises      {s['premises_connected']:,} connected of {s['premises_total']:,}",
        (f"  trench        {s['trench_m'] / 1000:,.2f} km in areas, backbone "
         f"{bb['trench_m'] / 1000:,.2f} km (£{bb['route_cost_gbp']:,.0f})"),
        f"  cost          £{s['cost_total_gbp'] or 0:,.0f}, £{per:,.0f} per premises passed",
        (f"  network       {len(s['headends'])} headends, max loss "
         f"{s['max_loss_db'] or 0:.1f} dB ({s['loss_violations']} over budget)"),
        "  outputs       " + "  ".join(str(p) for p in paths.values()),
    ]))  # fmt: skip
    if result.failed:
        click.echo(f"areas failed: {', '.join(s['areas_failed'])} (errors in summary.json "
                   "areas[].error); the other areas are in the plan", err=True)  # fmt: skip
        return 1
    return 0


_FETCH_EPILOG = """\b
Examples:
  fibreplan fetch --place "Ketton, Rutland, UK" --out ketton
  fibreplan fetch --bbox=-0.565,52.62,-0.54,52.635 --out ketton
  fibreplan plan --streets ketton/streets.graphml --premises ketton/premises.gpkg --out plan-out
"""


@cli.command("fetch", epilog=_FETCH_EPILOG)
@click.option("--place", default=None, metavar="NAME",
              help="a place name the OSM geocoder (Nominatim) knows")  # fmt: skip
@click.option("--bbox", default=None, metavar="W,S,E,N",
              help="a box min_lon,min_lat,max_lon,max_lat in degrees")  # fmt: skip
@click.option("--out", default="fibreplan-data", show_default=True, metavar="DIR",
              help="folder for streets.graphml and premises.gpkg")  # fmt: skip
@click.option("--overwrite", is_flag=True, help="replace existing files")
@click.option("-q", "--quiet", is_flag=True, help="print nothing but errors")
@click.option("-v", "--verbose", count=True, help="log what each step does (-vv: debug)")
def fetch_command(
    *, place: str | None, bbox: str | None, out: str, overwrite: bool, quiet: bool, verbose: int
) -> int:
    """Download streets and buildings from OpenStreetMap (needs internet) for `plan`."""
    from fibreplan.load import fetch_files

    if (place is None) == (bbox is None):
        msg = "give --place NAME or --bbox W,S,E,N (one of them)"
        raise click.UsageError(msg)
    _setup_logging(quiet=quiet, verbose=verbose)
    query = place if place is not None else [v.strip() for v in str(bbox).split(",")]
    paths = fetch_files(query, out, overwrite=overwrite)
    if not quiet:
        premises = paths.get("premises") or "YOUR-PREMISES-FILE"
        command = f"fibreplan plan --streets {paths['streets']} --premises {premises}"
        lines = [*(f"wrote {p}" for p in paths.values()), f"plan it with:\n  {command}"]
        click.echo("\n".join(lines))
    return 0


_VALIDATE_EPILOG = """\b
Examples:
  fibreplan validate area.osm                 # one OSM file: streets and buildings
  fibreplan validate streets.gpkg uprn.csv    # streets, then premises
  fibreplan validate streets.gpkg uprn.csv --json quality.json
"""


@cli.command("validate", epilog=_VALIDATE_EPILOG)
@click.argument("inputs", nargs=-1, required=True, metavar="STREETS [PREMISES]")
@_PLAN_OPTIONS[0]  # --config: the same plan.toml as `plan` (its other options are skipped)
@click.option("--id-column", default=None, metavar="NAME", help="premises column holding the ID")
@click.option("--exchange", type=_LonLat(), default=None, help="headend (OLT), as for `plan`")
@click.option("--max-drop-m", type=click.FloatRange(min=0, min_open=True), default=None,
              metavar="M", help="maximum drop length, metres (default 100)")  # fmt: skip
@click.option("--json", "json_out", type=click.Path(dir_okay=False), default=None,
              metavar="FILE", help="also write the report as JSON (as quality.json)")  # fmt: skip
@click.option("--overwrite", is_flag=True, help="replace an existing --json file")
@click.option("-q", "--quiet", is_flag=True, help="print only problems")
@click.option("-v", "--verbose", count=True, help="log what each stage does (-vv: debug)")
def validate_command(*, inputs: tuple[str, ...], **opts: Any) -> int:
    """Check the inputs and print the data-quality report, without planning.

    Exit code 0 when the inputs can be planned, 2 when they cannot (no premises
    reachable, unreadable files, ...).
    """
    from fibreplan.quality import validate

    if len(inputs) > 2:
        msg = f"give one or two inputs (STREETS [PREMISES]); got {len(inputs)}: {list(inputs)}"
        raise click.UsageError(msg)
    streets, premises = inputs[0], inputs[-1]
    for value, option in ((streets, "STREETS"), (premises, "PREMISES")):
        _check_input_path(value, option=option)
    _setup_logging(quiet=opts["quiet"], verbose=opts["verbose"])
    _, trench_rules, _ = _rules({"max_drop_m": opts["max_drop_m"]})
    report, text = validate(
        streets, premises, headend=opts["exchange"], trench_rules=trench_rules,
        id_column=opts["id_column"],
    )  # fmt: skip
    if opts["json_out"]:
        from fibreplan.export import write_quality

        write_quality(report, opts["json_out"], overwrite=opts["overwrite"])
    if not opts["quiet"]:
        click.echo(text)
    if report["problems"]:
        raise FibreplanError(report["problems"][0])
    return 0


@cli.command("cost-book")
@click.option("--out", type=click.Path(dir_okay=False), default=None, metavar="FILE",
              help="write to this file instead of printing")  # fmt: skip
@click.option("--overwrite", is_flag=True, help="replace an existing file")
def cost_book_command(*, out: str | None, overwrite: bool) -> int:
    """Print the default cost book as TOML, to edit (each default names its source)."""
    from fibreplan.config import CostBook

    return _write_text(CostBook().to_toml(), out, overwrite=overwrite)


@cli.command("design-rules")
@click.option("--out", type=click.Path(dir_okay=False), default=None, metavar="FILE",
              help="write to this file instead of printing")  # fmt: skip
@click.option("--overwrite", is_flag=True, help="replace an existing file")
def design_rules_command(*, out: str | None, overwrite: bool) -> int:
    """Print the default trench and design rules as TOML, to edit."""
    from fibreplan.config import rules_toml

    return _write_text(rules_toml(), out, overwrite=overwrite)


_COST_EPILOG = """\b
Examples:
  fibreplan cost plan-out --costs my_costs.toml
  fibreplan cost plan-out --take-up 0.3 --out plan-out/take-up-30
"""


@cli.command("cost", epilog=_COST_EPILOG)
@click.argument("plan_dir", type=click.Path(exists=True, file_okay=False), metavar="PLAN_DIR")
@click.option("--costs", type=click.Path(), metavar="TOML",
              help="cost book (default: the one the plan was saved with)")  # fmt: skip
@click.option("--take-up", type=click.FloatRange(min=0, max=1, min_open=True), default=None,
              metavar="FRACTION", help="share of premises passed that connect")  # fmt: skip
@click.option("--out", default=None, metavar="DIR",
              help="folder for boq.csv and cost.json (default: PLAN_DIR/recost)")  # fmt: skip
@click.option("--overwrite", is_flag=True, help="replace existing output files")
@click.option("--seed", type=int, default=0, show_default=True, help="Monte Carlo seed")
def cost_command(*, plan_dir: str, costs: str | None, **opts: Any) -> int:
    """Re-cost a saved plan with another cost book or take-up, without re-routing it."""
    from fibreplan.config import CostBook
    from fibreplan.scenarios import cost_lines
    from fibreplan.scenarios import recost_dir

    _check_input_path(costs, option="--costs")
    book = CostBook.from_toml(costs) if costs else None
    s, paths = recost_dir(plan_dir, costs=book, **opts)
    outputs = "  outputs       " + "  ".join(str(p) for p in paths.values())
    click.echo("\n".join([f"re-costed {plan_dir}", *cost_lines(s), outputs]))
    return 0


@cli.command("compare", epilog="\b\nExamples:\n  fibreplan compare plan-out plan-pia-out")
@click.argument("dirs", nargs=-1, required=True, metavar="DIR...",
                type=click.Path(exists=True, file_okay=False))  # fmt: skip
def compare_command(*, dirs: tuple[str, ...]) -> int:
    """Print saved plans side by side: premises, km dug and reused, costs per premises."""
    from fibreplan.scenarios import compare_text

    click.echo(compare_text(dirs))
    return 0


# --------------------------------------------------------------------------------------
# Entry point: exceptions to exit codes


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _write_traceback() -> Path | None:
    """Write the current exception's traceback to a file in the temp folder; return its path."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    try:
        fd, name = tempfile.mkstemp(prefix=f"fibreplan-crash-{stamp}-", suffix=".txt")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(f"fibreplan {_version()} {' '.join(sys.argv)}\n")
            traceback.print_exc(file=fh)
    except OSError:  # pragma: no cover - nowhere to write: print it instead
        traceback.print_exc()
        return None
    return Path(name)


def _usage_error(err: click.UsageError) -> int:
    hint = ""
    if err.ctx is not None and err.ctx.command_path:
        hint = f" (see `{err.ctx.command_path} --help`)"
    click.echo(f"fibreplan: error: {_one_line(err.format_message())}{hint}", err=True)
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``fibreplan`` command line.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments (default ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit code: 0 done, 2 bad input or usage, 1 unexpected error (the
        traceback is written to a file named on stderr), 130 interrupted.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    _AS_PROGRAM[0] = argv is None  # the console script: the process ends when this returns
    try:
        code = cli.main(args=args, prog_name="fibreplan", standalone_mode=False)
    except (Exception, KeyboardInterrupt) as err:  # noqa: BLE001 - each mapped to an exit code
        return _exit_code(err)
    finally:
        _freeze_heap()  # spares the exit its full collection
        _AS_PROGRAM[0] = False
    return code if isinstance(code, int) else 0


def _exit_code(err: BaseException) -> int:
    """Print one line for ``err`` and return its exit code (a traceback file for a bug)."""
    if isinstance(err, click.UsageError):
        return _usage_error(err)
    if isinstance(err, click.ClickException | FibreplanError):
        text = err.format_message() if isinstance(err, click.ClickException) else str(err)
        click.echo(f"fibreplan: error: {_one_line(text)}", err=True)
        return 2
    if isinstance(err, KeyboardInterrupt | click.Abort):  # pragma: no cover
        click.echo("fibreplan: interrupted", err=True)
        return 130
    if isinstance(err, BrokenPipeError):  # pragma: no cover - output piped into `head`
        sys.stderr.close()
        return 0
    return _unexpected(err)


def _unexpected(err: BaseException) -> int:
    where = _write_traceback()
    saved = f"; traceback written to {where}" if where else ""
    click.echo(
        f"fibreplan: unexpected error: {type(err).__name__}: {_one_line(str(err))[:300]}{saved}; "
        "please report it (nothing was written to the output folder).",
        err=True,
    )
    return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
