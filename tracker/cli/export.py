"""``tracker export mlflow --out DIR`` and ``tracker export parquet DIR_OR_URL``.

``mlflow``: the store's runs and model versions as an MLflow file store (see
:mod:`tracker.cli.importer`, which runs it). ``parquet``: the store as Parquet tables (versions,
runs, metrics), incrementally: only what changed since the last export into ``DIR`` is written
(see :mod:`tracker.export.parquet`). ``DIR`` may be an fsspec URL (``s3://bucket/export``;
endpoint and keys from the environment, as for ``--root``). ``--json`` of ``parquet``:
``{url, written, total, parts, compacted}``.
"""

from __future__ import annotations

import argparse
from typing import Any

from tracker.cli.common import add_command, emit, open_store
from tracker.cli.importer import run_export as run_mlflow_export
from tracker.errors import InvalidArgument


def register(sub: Any) -> None:
    parser = add_command(
        sub,
        "export",
        run_export,
        "write the store out: as an MLflow file store, or as Parquet tables (incrementally)",
        description=(
            "mlflow: write every version of an `experiment` series as an MLflow run (tags, "
            "metadata.params as params, metric histories, artifacts) and every model_version "
            "as a registered model version (the status tag as its stage), into a new directory "
            "MLflow's client and UI read (MLFLOW_ALLOW_FILE_STORE=true). What `tracker import "
            "mlflow` brought in goes back out with its MLflow ids, times and statuses.\n"
            "parquet: write the flat rows of every version (as `find` shows them), every run and "
            "every metric point as Parquet files under DIR_OR_URL. Only rows that changed since "
            "the last export there are written; query them with `tracker sql`, DuckDB, pandas or "
            "Spark (needs pip install 'tracker[sql]')."
        ),
        epilog="""--json keys: mlflow: {experiments, runs, model_versions, out, skipped};
parquet: {url, written, total, parts, compacted}.

examples:
  tracker export mlflow --out ./mlruns-out         a new MLflow file store
  tracker export parquet ./ml-export               first time: everything; then only changes
  tracker export parquet s3://bucket/ml-export     endpoint and keys from the environment
""",
    )
    parser.add_argument("target", choices=["mlflow", "parquet"], help="what to write")
    parser.add_argument(
        "dest", nargs="?", metavar="DIR_OR_URL", help="parquet: the export directory or URL"
    )
    parser.add_argument(
        "--out", metavar="DIR", help="mlflow: a new or empty directory (parquet: as DIR_OR_URL)"
    )


def run_export(args: argparse.Namespace) -> int:
    if args.target == "mlflow":
        if args.out is None:
            raise InvalidArgument(
                "tracker export mlflow: give the directory to write, e.g. "
                "`tracker export mlflow --out ./mlruns-out`"
            )
        return run_mlflow_export(args)
    if args.dest is not None and args.out is not None and args.dest != args.out:
        raise InvalidArgument(
            f"tracker export parquet: two destinations given ({args.dest!r} and --out "
            f"{args.out!r}); give one"
        )
    dest = args.dest or args.out
    if dest is None:
        raise InvalidArgument(
            "tracker export parquet: give the export directory or URL, e.g. "
            "`tracker export parquet ./ml-export`"
        )
    tracker = open_store(args)
    report = tracker.export_parquet(dest)

    def text() -> str:
        written = ", ".join(f"{n} {t}" for t, n in report.written.items())
        total = ", ".join(f"{n} {t}" for t, n in report.total.items())
        return f"exported to {report.url}: wrote {written} (now {total})"

    return emit(args, report.as_dict(), text)
