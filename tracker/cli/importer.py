"""``tracker import mlflow MLRUNS_DIR``: bring an MLflow file store into the tracker store (and
``run_export``, which ``tracker export mlflow --out DIR`` runs: see :mod:`tracker.cli.export`).

Reads ``mlruns`` as files (MLflow need not be installed), prints a summary, and exits 1 when
anything was skipped (each skipped file is listed with its path and why). Re-running it adds
only what is new. ``--json``: the report (``created``, ``updated``, ``unchanged`` per kind,
``metric_points``, ``artifact_files``, ``artifact_bytes``, ``skipped: [{path, reason}]``,
``notes``, ``ok``).
"""

from __future__ import annotations

import argparse
import warnings
from typing import Any

from tracker.cli.common import add_command, emit, open_store, root_of
from tracker.core.tracker import Tracker
from tracker.importers.mlflow import import_mlruns
from tracker.importers.mlflow.export import export_mlruns


def register(sub: Any) -> None:
    register_import(sub)  # `tracker export mlflow` is registered by tracker.cli.export


def register_import(sub: Any) -> None:
    parser = add_command(
        sub,
        "import",
        run_import,
        "import another tracker's store (MLflow's mlruns directory)",
        description=(
            "Import an MLflow file store (mlruns): experiments, runs with params, tags, metric "
            "histories and artifacts, datasets and inputs, registered models with stages and "
            "aliases, MLflow 3 logged models. Idempotent: a second import adds only what is new. "
            "Exit code 1 when anything could not be read (listed with its path)."
        ),
    )
    parser.add_argument("source", choices=["mlflow"], help="the kind of store to import")
    parser.add_argument("mlruns", metavar="MLRUNS_DIR", help="the mlruns directory")
    parser.add_argument(
        "--experiment",
        action="append",
        metavar="NAME|ID",
        help="import only this experiment (repeatable; default: all, deleted ones included)",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="read everything and report; write nothing"
    )
    parser.add_argument(
        "--no-copy",
        dest="copy",
        action="store_false",
        help="record artifacts where they are (path, sizes, sha256) instead of copying them",
    )


def run_export(args: argparse.Namespace) -> int:
    tracker = open_store(args)
    result = export_mlruns(tracker, args.out)
    lines = [
        f"exported {result['experiments']} experiment(s), {result['runs']} run(s), "
        f"{result['model_versions']} model version(s) to {result['out']}"
    ]
    lines += [f"  skipped: {s}" for s in result["skipped"]]
    emit(args, result, lambda: "\n".join(lines))
    return 0 if not result["skipped"] else 1


def run_import(args: argparse.Namespace) -> int:
    tracker = Tracker(root_of(args), git=False, run_name="tracker import mlflow")
    try:
        with warnings.catch_warnings():  # the summary carries the same notes
            warnings.simplefilter("ignore", UserWarning)
            report = import_mlruns(
                args.mlruns, tracker, args.experiment, dry_run=args.dry_run, copy=args.copy
            )
    except BaseException:
        tracker.stop(status="FAILED")
        raise
    tracker.stop()
    emit(args, report.to_dict(), report.summary)
    return 0 if report.ok else 1
