"""PostGIS input and output: read premises or streets from a table, write a plan's layers.

A PostGIS source is a SQLAlchemy/libpq URL with the table (or, for writing,
the schema) after ``#``::

    postgresql://planner@db.example/fibre#public.premises     (a table; schema optional)
    postgresql://planner@db.example/fibre#plan_2026          (a schema, for writing)

The URL may use any SQLAlchemy PostgreSQL driver (``postgresql+psycopg://``);
a bare ``postgresql://`` uses psycopg 3. Passwords belong in ``~/.pgpass`` or
``PGPASSWORD``, not in command lines.

Needs the ``postgis`` extra: ``pip install "fibreplan[postgis]"`` (SQLAlchemy,
GeoAlchemy2, psycopg).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import pandas as pd

from fibreplan._errors import InputValidationError

__all__ = ["check_postgis_writable", "is_postgis_url", "read_postgis", "split_url", "write_postgis"]

logger = logging.getLogger(__name__)

_SCHEMES = ("postgresql://", "postgres://", "postgresql+")


def is_postgis_url(source: object) -> bool:
    """Return whether ``source`` is a ``postgresql://`` URL (str), not a file path."""
    return isinstance(source, str) and source.lower().startswith(_SCHEMES)


def split_url(url: str) -> tuple[str, str | None, str | None]:
    """Split ``postgresql://...#schema.table`` into (database URL, schema, table).

    Parameters
    ----------
    url : str
        A PostGIS URL; the part after ``#`` is ``table``, ``schema.table`` or,
        for writing, ``schema`` followed by a dot (``plan.``) or alone.

    Returns
    -------
    db_url, schema, table : str, str or None, str or None
        ``db_url`` with the psycopg 3 driver where none is named.
    """
    base, _, target = url.partition("#")
    if base.lower().startswith(("postgresql://", "postgres://")):
        base = "postgresql+psycopg://" + base.split("://", 1)[1]
    schema, dot, table = target.rpartition(".")
    if not dot:
        return base, None, target or None
    return base, schema or None, table or None


def _engine(db_url: str) -> Any:
    try:
        import geoalchemy2  # noqa: F401 - registers the geometry type with SQLAlchemy
        import sqlalchemy
    except ImportError as err:  # pragma: no cover - depends on the installed extras
        msg = 'PostGIS needs the postgis extra: pip install "fibreplan[postgis]"'
        raise InputValidationError(msg) from err
    return sqlalchemy.create_engine(db_url)


def _where(db_url: str) -> str:
    """Return the host/port/database part of a URL (never the user or password)."""
    return db_url.rpartition("@")[2]


def _reason(err: Exception) -> str:
    """Return the driver's one-line reason inside a SQLAlchemy error."""
    return str(getattr(err, "orig", None) or err).strip().splitlines()[0]


def _quote(*names: str) -> str:
    return ".".join('"' + n.replace('"', '""') + '"' for n in names)


def read_postgis(url: str, *, name: str = "source") -> gpd.GeoDataFrame:
    """Read one PostGIS table (every column, its geometry column and CRS).

    Parameters
    ----------
    url : str
        ``postgresql://user@host:port/db#schema.table`` (schema optional:
        the search path decides).
    name : str, default "source"
        What the table is, for error messages (``"streets"``, ``"premises"``).

    Returns
    -------
    geopandas.GeoDataFrame
        The table, with the CRS of its geometry column's SRID.

    Raises
    ------
    InputValidationError
        If the URL names no table, the database cannot be reached, or the
        table has no geometry column.
    """
    import sqlalchemy

    db_url, schema, table = split_url(url)
    if table is None:
        msg = f"{name}: the PostGIS URL names no table; add it after '#', e.g. '{url}#premises'."
        raise InputValidationError(msg)
    engine = _engine(db_url)
    sql = sqlalchemy.text(
        "SELECT f_table_schema, f_geometry_column FROM geometry_columns "
        "WHERE f_table_name = :t AND (CAST(:s AS text) IS NULL OR f_table_schema = :s) "
        "ORDER BY f_table_schema = ANY(current_schemas(false)) DESC, f_table_schema"
    )
    try:
        with engine.connect() as conn:
            found = conn.execute(sql, {"t": table, "s": schema}).first()
            if found is None:
                msg = (
                    f"{name}: no PostGIS table '{table}' with a geometry column"
                    f"{f' in schema {schema!r}' if schema else ''}; check the name after '#'."
                )
                raise InputValidationError(msg)
            query = f"SELECT * FROM {_quote(found[0], table)}"  # noqa: S608 - quoted identifiers
            gdf = gpd.read_postgis(sqlalchemy.text(query), conn, geom_col=found[1])
    except sqlalchemy.exc.SQLAlchemyError as err:
        msg = f"{name}: could not read from PostGIS ({_where(db_url)}): {_reason(err)}"
        raise InputValidationError(msg) from err
    finally:
        engine.dispose()
    logger.info("%s: %d rows from PostGIS %s.%s", name, len(gdf), found[0], table)
    return gdf


def _nulls_for_sentinels(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Turn the -1 'none' of integer id columns (``*_id``, ``node``) into NULL."""
    out = gdf.copy()
    for col in out.columns:
        is_id = col == "node" or str(col).endswith(("_id", "_node"))
        if is_id and pd.api.types.is_integer_dtype(out[col].dtype):
            out[col] = out[col].astype("Int64").mask(out[col] == -1)
        elif out[col].dtype == object and col != out.geometry.name:
            out[col] = out[col].astype("string")
    return out


def check_postgis_writable(
    url: str, names: list[str] | tuple[str, ...], *, overwrite: bool
) -> None:
    """Refuse, before any work, to write tables that exist (unless ``overwrite``) or a bad URL.

    Parameters
    ----------
    url : str
        ``postgresql://user@host:port/db#schema`` as :func:`write_postgis` takes it.
    names : list or tuple of str
        Tables about to be written, e.g. :data:`fibreplan.layers.LAYER_NAMES`.
    overwrite : bool
        Whether existing tables may be replaced.

    Raises
    ------
    InputValidationError
        If the database cannot be reached, or a table exists and ``overwrite``
        is false.
    """
    import sqlalchemy

    db_url, schema, table = split_url(url)
    schema = schema or table or "public"
    engine = _engine(db_url)
    try:
        with engine.connect() as conn:
            existing = set(sqlalchemy.inspect(conn).get_table_names(schema=schema))
    except sqlalchemy.exc.SQLAlchemyError as err:
        msg = f"could not reach PostGIS ({_where(db_url)}): {_reason(err)}"
        raise InputValidationError(msg) from err
    finally:
        engine.dispose()
    clash = sorted(existing & set(names))
    if clash and not overwrite:
        msg = (
            f"refusing to overwrite PostGIS tables {clash} in schema {schema!r}; "
            "choose another schema or pass overwrite=True (CLI: --overwrite)."
        )
        raise InputValidationError(msg)


def write_postgis(
    layers: Mapping[str, gpd.GeoDataFrame], url: str, *, overwrite: bool = False
) -> list[str]:
    """Write each layer to a PostGIS table ``schema.layer`` (e.g. a plan's eight layers).

    Parameters
    ----------
    layers : Mapping of str to geopandas.GeoDataFrame
        Table name to data, e.g. :func:`fibreplan.layers.plan_layers`; each is
        written in its own CRS (a plan's: EPSG:27700 in Great Britain).
    url : str
        ``postgresql://user@host:port/db#schema`` (created if missing); no
        ``#`` writes to ``public``.
    overwrite : bool, default False
        Whether existing tables of the same names may be replaced.

    Returns
    -------
    list of str
        The tables written, as ``schema.table``.

    Raises
    ------
    InputValidationError
        If a table exists and ``overwrite`` is false, or the database cannot
        be written.

    Notes
    -----
    Integer id columns (``*_id``, ``node``) hold -1 for "none" in fibreplan's
    arrays; they become NULL in the database. All layers are written in one
    transaction: either every table is there or none is.
    """
    import sqlalchemy

    db_url, schema, table = split_url(url)
    schema = schema or table or "public"
    engine = _engine(db_url)
    written = []
    try:
        with engine.begin() as conn:
            conn.execute(sqlalchemy.text(f"CREATE SCHEMA IF NOT EXISTS {_quote(schema)}"))
            existing = set(sqlalchemy.inspect(conn).get_table_names(schema=schema))
            clash = sorted(existing & set(layers))
            if clash and not overwrite:
                msg = (
                    f"refusing to overwrite PostGIS tables {clash} in schema {schema!r}; "
                    "choose another schema or pass overwrite=True (CLI: --overwrite)."
                )
                raise InputValidationError(msg)
            for layer, gdf in layers.items():
                _nulls_for_sentinels(gdf).to_postgis(
                    layer, conn, schema=schema, if_exists="replace", index=False
                )
                written.append(f"{schema}.{layer}")
    except sqlalchemy.exc.SQLAlchemyError as err:
        msg = f"could not write to PostGIS ({_where(db_url)}): {_reason(err)}"
        raise InputValidationError(msg) from err
    finally:
        engine.dispose()
    logger.info(
        "wrote PostGIS %s (%s)", schema, ", ".join(f"{k}: {len(v)}" for k, v in layers.items())
    )
    return written
