"""``t.sql(...)`` / ``tracker sql``: DuckDB over a Parquet export (:mod:`tracker.export.parquet`).

Three views, ``versions``, ``runs`` and ``metrics``, each keeping the newest row per key across
the export's parts. Column names hold dots (``"tags.status"``, ``"metadata.f1"``): quote them in
SQL. A local export is read in place; an export on an object store is mirrored part by part into
the local cache first (parts are immutable, so only new ones are downloaded), which works with any
fsspec backend and needs no DuckDB extension.
"""

from __future__ import annotations

import hashlib
import os
from typing import Any

from tracker.errors import MissingDependency, TrackerError
from tracker.export.parquet import DELETED, KEYS, TABLES, Target


class SqlError(TrackerError, ValueError):
    """A query DuckDB refused; the message is DuckDB's, with the tables that exist."""


def require_duckdb() -> Any:
    try:
        import duckdb
    except ImportError:
        raise MissingDependency(
            "SQL needs duckdb: pip install 'tracker[sql]' (duckdb and pyarrow)"
        ) from None
    return duckdb


def current_rows(rel: Any, table: str) -> Any:
    """The relation of the newest row(s) per key of ``table`` in ``rel`` (which has
    ``filename``: parts are named by time, so the greatest name is the newest)."""
    key = ", ".join(f'"{k}"' for k in KEYS[table])
    latest = rel.project(f"*, max(filename) over (partition by {key}) as _latest")
    current = latest.filter("filename = _latest")
    if DELETED not in rel.columns:
        return current.project("* exclude (filename, _latest)")
    return current.filter(f'"{DELETED}" is not true').project(
        f'* exclude (filename, _latest, "{DELETED}")'
    )


def connect_parts(target: Target, parts: dict[str, list[str]], cache_dir: str = "") -> Any:
    """An in-memory DuckDB connection with a ``<table>`` view of the current rows of each
    table (an empty table when it has no parts)."""
    duckdb = require_duckdb()
    con = duckdb.connect(":memory:")
    for table in TABLES:
        files = _local_files(target, parts.get(table, []), cache_dir)
        if not files:
            con.execute(f"create table {table} ({', '.join(f'{k} varchar' for k in KEYS[table])})")
            continue
        rel = con.read_parquet(files, union_by_name=True, filename=True)
        current_rows(rel, table).create_view(table)
    return con


def _local_files(target: Target, parts: list[str], cache_dir: str) -> list[str]:
    if target.local:
        return [target.path(p) for p in parts]
    if not cache_dir:
        raise SqlError(f"{target.url} is remote: a local cache directory is needed to query it")
    mirror = os.path.join(cache_dir, "sql", hashlib.sha256(target.url.encode()).hexdigest()[:16])
    out = []
    for part in parts:
        local = os.path.join(mirror, *part.split("/"))
        if not os.path.exists(local):
            os.makedirs(os.path.dirname(local), exist_ok=True)
            tmp = f"{local}.tmp-{os.getpid()}"
            target.fs.get_file(target.path(part), tmp)
            os.replace(tmp, local)
        out.append(local)
    return out


def connect(dest: str, storage_options: dict[str, Any] | None = None, cache_dir: str = "") -> Any:
    target = Target(dest, storage_options)
    return connect_parts(target, {t: target.parts(t) for t in TABLES}, cache_dir)


def query(con: Any, sql: str) -> tuple[list[str], list[dict[str, Any]]]:
    """Run ``sql``; (column names, rows as dicts)."""
    duckdb = require_duckdb()
    try:
        cur = con.execute(sql)
    except duckdb.Error as exc:
        raise SqlError(
            f"{' '.join(str(exc).split())} (tables: versions, runs, metrics; quote dotted "
            'columns, e.g. "tags.status")'
        ) from None
    if cur.description is None:
        return [], []
    columns = [d[0] for d in cur.description]
    return columns, [dict(zip(columns, row, strict=True)) for row in cur.fetchall()]


def run_sql(
    tracker: Any,
    sql: str,
    parquet: str | None,
    storage_options: dict[str, Any] | None,
    refresh: bool,
    cache_dir: str,
) -> list[dict[str, Any]]:
    """``t.sql``: ``sql`` over the export at ``parquet``, else over one kept in the local cache
    for this store; ``refresh`` first brings the export up to date (incrementally)."""
    dest = parquet or os.path.join(
        cache_dir, "sql", "exports", hashlib.sha256(str(tracker.url).encode()).hexdigest()[:16]
    )
    if refresh:
        tracker.export_parquet(dest, storage_options)
    con = connect(dest, storage_options, cache_dir)
    try:
        return query(con, sql)[1]
    finally:
        con.close()
