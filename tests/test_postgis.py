"""PostGIS round trip against a real, throwaway PostgreSQL + PostGIS cluster.

The session fixture runs ``initdb`` and ``pg_ctl`` (as the ``postgres`` user
when the tests run as root) into a temporary directory on a free port, with
trust authentication on 127.0.0.1 only, and removes it afterwards. Without the
binaries or the PostGIS extension the tests skip, unless
``FIBREPLAN_REQUIRE_POSTGIS`` is set (as in CI), where they fail.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest
import shapely

import fibreplan
from fibreplan._errors import InputValidationError
from fibreplan.layers import LAYER_NAMES
from fibreplan.layers import plan_layers
from fibreplan.load import demo_data

sqlalchemy = pytest.importorskip("sqlalchemy")
pytest.importorskip("geoalchemy2")
pytest.importorskip("psycopg")

from fibreplan.postgis import read_postgis  # noqa: E402 - after the extras are checked
from fibreplan.postgis import split_url  # noqa: E402
from fibreplan.postgis import write_postgis  # noqa: E402


def _unavailable(msg: str) -> None:
    if os.environ.get("FIBREPLAN_REQUIRE_POSTGIS"):
        pytest.fail(msg + " (FIBREPLAN_REQUIRE_POSTGIS is set, as in CI)")
    pytest.skip(msg)


def _pg_bindir() -> Path | None:
    """PostgreSQL's server binaries: $FIBREPLAN_PG_BIN, pg_config, or Debian's layout."""
    candidates = [os.environ.get("FIBREPLAN_PG_BIN", "")]
    if shutil.which("pg_config"):
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, check=False)
        candidates.append(out.stdout.strip())
    candidates += sorted(map(str, Path("/usr/lib/postgresql").glob("*/bin")), reverse=True)
    for c in candidates:
        if c and (Path(c) / "initdb").is_file() and (Path(c) / "pg_ctl").is_file():
            return Path(c)
    return None


def _free_port() -> int:
    with contextlib.closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def postgis_url():
    bindir = _pg_bindir()
    if bindir is None:
        _unavailable("PostgreSQL server binaries (initdb, pg_ctl) not found")
    as_root = os.geteuid() == 0
    if as_root and not shutil.which("runuser"):
        _unavailable("running as root without runuser to start PostgreSQL as 'postgres'")
    prefix = ["runuser", "-u", "postgres", "--"] if as_root else []
    root = Path(tempfile.mkdtemp(prefix="fibreplan-pg-"))
    data, log = root / "data", root / "server.log"
    if as_root:
        shutil.chown(root, user="postgres")
    port = _free_port()
    user = "postgres" if as_root else os.environ.get("USER", "postgres")

    def run(*cmd):
        return subprocess.run([*prefix, *cmd], capture_output=True, text=True, check=False)

    init = run(str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", user, "-E", "UTF8")
    if init.returncode:
        shutil.rmtree(root, ignore_errors=True)
        _unavailable(f"initdb failed: {init.stderr.strip()[-300:]}")
    opts = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
    start = run(str(bindir / "pg_ctl"), "-D", str(data), "-o", opts, "-l", str(log), "-w", "start")
    if start.returncode:
        text = log.read_text() if log.exists() else start.stderr
        shutil.rmtree(root, ignore_errors=True)
        _unavailable(f"pg_ctl start failed: {text.strip()[-300:]}")
    url = f"postgresql://{user}@127.0.0.1:{port}/postgres"
    try:
        engine = sqlalchemy.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
        try:
            with engine.begin() as conn:
                conn.execute(sqlalchemy.text("CREATE EXTENSION IF NOT EXISTS postgis"))
        except sqlalchemy.exc.SQLAlchemyError as err:
            _unavailable(f"the PostGIS extension is not installed: {str(err).splitlines()[0]}")
        finally:
            engine.dispose()
        yield url
    finally:
        run(str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(root, ignore_errors=True)


def test_split_url():
    assert split_url("postgresql://u@h:5/db#s.t") == ("postgresql+psycopg://u@h:5/db", "s", "t")
    assert split_url("postgresql+psycopg://u@h/db#t") == ("postgresql+psycopg://u@h/db", None, "t")
    assert split_url("postgres://u@h/db") == ("postgresql+psycopg://u@h/db", None, None)


def test_plan_round_trip_through_postgis(postgis_url):
    streets, premises = demo_data(tiny=True)
    written = write_postgis({"streets": streets, "premises": premises}, postgis_url + "#inputs")
    assert written == ["inputs.streets", "inputs.premises"]

    expected = fibreplan.plan(streets, premises)
    got = fibreplan.plan(postgis_url + "#inputs.streets", postgis_url + "#inputs.premises")
    assert got.summary["premises_total"] == expected.summary["premises_total"] == len(premises)
    assert got.summary["premises_connected"] == expected.summary["premises_connected"]
    assert got.summary["trench_m"] == pytest.approx(expected.summary["trench_m"], rel=1e-9)

    layers = plan_layers(got)
    assert tuple(layers) == LAYER_NAMES
    assert len(layers) == 8
    tables = write_postgis(layers, postgis_url + "#plan")
    assert tables == [f"plan.{n}" for n in LAYER_NAMES]
    for name, gdf in layers.items():
        back = read_postgis(f"{postgis_url}#plan.{name}")
        assert len(back) == len(gdf), name
        assert back.crs.to_epsg() == 27700, name
        if len(gdf):
            same = shapely.equals_exact(
                back.geometry.to_numpy(), gdf.geometry.to_numpy(), tolerance=1e-6
            )
            assert same.all(), name
    # -1 ("none") ids are NULL in the database, never -1
    engine = sqlalchemy.create_engine(split_url(postgis_url)[0])
    with engine.connect() as conn:
        n_minus_one = conn.execute(
            sqlalchemy.text("SELECT count(*) FROM plan.premises WHERE dp_id = -1 OR node = -1")
        ).scalar()
        n_null = conn.execute(
            sqlalchemy.text("SELECT count(*) FROM plan.premises WHERE dp_id IS NULL")
        ).scalar()
    engine.dispose()
    unreachable = int(layers["premises"]["dp_id"].isna().sum())
    assert n_minus_one == 0
    assert n_null == unreachable


def test_write_refuses_to_overwrite_and_read_names_missing_table(postgis_url):
    streets, _ = demo_data(tiny=True)
    write_postgis({"s": streets}, postgis_url + "#again")
    with pytest.raises(InputValidationError, match="refusing to overwrite PostGIS tables"):
        write_postgis({"s": streets}, postgis_url + "#again")
    write_postgis({"s": streets.iloc[:3]}, postgis_url + "#again", overwrite=True)
    assert len(read_postgis(postgis_url + "#again.s")) == 3
    with pytest.raises(InputValidationError, match="no PostGIS table 'nope'"):
        read_postgis(postgis_url + "#nope", name="premises")
    with pytest.raises(InputValidationError, match="names no table"):
        read_postgis(postgis_url, name="streets")


def test_unreachable_database_is_a_one_line_error():
    port = _free_port()  # nothing listens there
    with pytest.raises(InputValidationError, match="could not read from PostGIS"):
        read_postgis(f"postgresql://nobody@127.0.0.1:{port}/db#t", name="premises")


def test_cli_plans_from_postgis_tables(postgis_url, tmp_path):
    from fibreplan.cli import main

    streets, premises = demo_data(tiny=True)
    write_postgis({"streets": streets, "premises": premises}, postgis_url + "#cli")
    out = tmp_path / "out"
    args = ["plan", "--streets", postgis_url + "#cli.streets"]
    args += ["--premises", postgis_url + "#cli.premises", "--out", str(out), "--no-basemap"]
    assert main(args) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["premises_total"] == len(premises)
    assert (
        summary["premises_connected"]
        == fibreplan.plan(streets, premises).summary["premises_connected"]
    )


def test_cli_writes_the_plan_to_postgis(postgis_url, tmp_path, capsys):
    from fibreplan.cli import main

    out = tmp_path / "out"
    args = ["demo", "--tiny", "--no-basemap", "--out", str(out), "--postgis"]
    assert main([*args, postgis_url + "#plan_cli"]) == 0
    assert "8 tables: plan_cli.premises" in capsys.readouterr().out
    summary = json.loads((out / "summary.json").read_text())
    engine = sqlalchemy.create_engine(postgis_url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.connect() as conn:
            counts = {
                name: conn.execute(
                    sqlalchemy.text(f"SELECT count(*) FROM plan_cli.{name}")
                ).scalar_one()
                for name in LAYER_NAMES
            }
            connected = conn.execute(
                sqlalchemy.text("SELECT count(*) FROM plan_cli.premises WHERE status = 'connected'")
            ).scalar_one()
    finally:
        engine.dispose()
    assert counts["premises"] == summary["premises_total"]
    assert connected == summary["premises_connected"]
    assert counts["headend"] == 1
    assert counts["dps"] == summary["dp_count"]
    assert main([*args, postgis_url + "#plan_cli", "--overwrite"]) == 0
    # without --overwrite: refused before planning (exit 2), nothing written
    capsys.readouterr()
    assert main(["demo", "--tiny", "--no-basemap", "--out", str(tmp_path / "o2"), "--postgis",
                 postgis_url + "#plan_cli"]) == 2  # fmt: skip
    captured = capsys.readouterr()
    assert "refusing to overwrite PostGIS tables" in captured.err
    assert "plan done" not in captured.out
    assert not (tmp_path / "o2").exists()


def test_cli_refuses_a_postgis_option_that_is_not_a_url(tmp_path, capsys):
    from fibreplan.cli import main

    args = ["demo", "--tiny", "--out", str(tmp_path), "--postgis", "plan.gpkg"]
    assert main(args) == 2
    assert "--postgis must be a postgresql://" in capsys.readouterr().err
