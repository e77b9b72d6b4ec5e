"""``tracker sql "select ..."``: DuckDB over a Parquet export of the store.

Tables ``versions`` (the flat rows of ``find``), ``runs`` and ``metrics``; dotted columns are quoted
(``"tags.status"``). Without ``--parquet`` the export lives in the local cache and is brought up to
date first (incrementally); with ``--parquet DIR`` that export is queried, refreshed from the store
unless ``--no-refresh``.
"""

from __future__ import annotations

import argparse
from typing import Any

from tracker.cli.common import CSV, JSON, TABLE, add_command, emit, open_store, union_columns
from tracker.view import text


def register(sub: Any) -> None:
    parser = add_command(
        sub,
        "sql",
        run_sql,
        "query the store with SQL (DuckDB over a Parquet export)",
        output=(TABLE, JSON, CSV),
        description=(
            "Run a DuckDB query over the tables versions, runs and metrics of a Parquet export of "
            'the store. Quote dotted columns: select ref from versions where "tags.status" = '
            "'DEPLOYED'. Needs pip install 'tracker[sql]'."
        ),
        epilog="""--json: a list of rows, one object per row with the query's columns.

examples:
  tracker sql "select ref, \"metadata.f1\" from versions where \"tags.status\" = 'DEPLOYED'"
  tracker sql "select status, count(*) from runs group by status" --format csv
  tracker sql "select type, count(*) from versions group by type" --parquet ./ml-export
""",
    )
    parser.add_argument("query", help="the SQL query")
    parser.add_argument(
        "--parquet", metavar="DIR", help="the export to query (default: one in the local cache)"
    )
    parser.add_argument(
        "--no-refresh",
        dest="refresh",
        action="store_false",
        help="query the export as it is, without bringing it up to date first",
    )


def run_sql(args: argparse.Namespace) -> int:
    tracker = open_store(args)
    rows = list(tracker.sql(args.query, parquet=args.parquet, refresh=args.refresh).rows)
    columns = union_columns(rows)
    return emit(
        args,
        rows,
        lambda: text.table(columns, [[r.get(c) for c in columns] for r in rows], empty="no rows"),
        columns,
        rows,
    )
