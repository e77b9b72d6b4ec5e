"""``tracker export --parquet DIR``: the store as Parquet tables (versions, runs, metrics).

Incremental: only what changed since the last export into ``DIR`` is written (see
:mod:`tracker.export.parquet`). ``DIR`` may be an fsspec URL (``s3://bucket/export``; endpoint and
keys from the environment, as for ``--root``). ``--json``: ``{url, written, total, parts,
compacted}``.
"""

from __future__ import annotations

import argparse
from typing import Any

from tracker.cli.common import add_command, emit, open_store


def register(sub: Any) -> None:
    parser = add_command(
        sub,
        "export",
        run_export,
        "write the store as Parquet tables (versions, runs, metrics), incrementally",
        description=(
            "Write the flat rows of every version (as `find` shows them), every run and every "
            "metric point as Parquet files under DIR (a directory or fsspec URL). Only rows that "
            "changed since the last export into DIR are written; query them with `tracker sql`, "
            "DuckDB, pandas or Spark."
        ),
        epilog="""--json keys: {url, written, total, parts, compacted}.

examples:
  tracker export --parquet ./ml-export            first time: everything; then only changes
  tracker export --parquet s3://bucket/ml-export  endpoint and keys from the environment
""",
    )
    parser.add_argument("--parquet", required=True, metavar="DIR", help="export directory or URL")


def run_export(args: argparse.Namespace) -> int:
    tracker = open_store(args)
    report = tracker.export_parquet(args.parquet)

    def text() -> str:
        written = ", ".join(f"{n} {t}" for t, n in report.written.items())
        total = ", ".join(f"{n} {t}" for t, n in report.total.items())
        return f"exported to {report.url}: wrote {written} (now {total})"

    return emit(args, report.as_dict(), text)
