"""``import_mlruns``: bring an MLflow ``mlruns`` directory into a tracker store.

Reads the directory as files (MLflow need not be installed); see :mod:`.importer` for the mapping
and :mod:`.reader` for how hostile input is refused.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from typing import Any

from tracker.core.progress import progress_iter
from tracker.errors import ResourceNotFound
from tracker.importers.mlflow.importer import NO_SERIES, Importer
from tracker.importers.mlflow.reader import Experiment, MlrunsReader, Run
from tracker.importers.mlflow.report import ImportReport

__all__ = ["ImportReport", "import_mlruns"]


def _select(found: list[Experiment], wanted: Sequence[str] | None) -> list[Experiment]:
    if not wanted:
        return found
    chosen = [e for e in found if e.id in wanted or e.name in wanted]
    missing = [w for w in wanted if not any(w in (e.id, e.name) for e in chosen)]
    if missing:
        known = ", ".join(f"{e.id} ({e.name})" for e in found) or "none"
        raise ResourceNotFound(
            f"no MLflow experiment {', '.join(map(repr, missing))} in the mlruns; it has: {known}"
        )
    return chosen


def parents_first(runs: list[Run]) -> list[Run]:
    """Runs by start time, each parent (``mlflow.parentRunId``) before its children, so a
    child's version can name its parent's; a cycle is broken where it is met."""
    by_id = {r.id: r for r in runs}
    order: dict[str, Run] = {}
    for run in sorted(runs, key=lambda r: (r.meta.get("start_time") or 0, r.id)):
        chain: dict[str, Run] = {}
        node: Run | None = run
        while node is not None and node.id not in order and node.id not in chain:
            chain[node.id] = node
            node = by_id.get(node.tags.get("mlflow.parentRunId") or "")
        for item in reversed(chain.values()):
            order[item.id] = item
    return list(order.values())


def import_mlruns(
    path: str | os.PathLike[str],
    tracker: Any,
    experiments: Sequence[str] | None = None,
    *,
    dry_run: bool = False,
    copy: bool = True,
    progress: bool = True,
) -> ImportReport:
    """Import the ``mlruns`` at ``path`` into ``tracker``; returns what was done.

    ``experiments``: ids or names to import (default all, deleted ones included; the registry is
    then limited to versions of their runs). ``dry_run``: read everything, write nothing, report
    what would be created. ``copy=False``: record artifacts in place (path, sizes, sha256) instead
    of copying them. Unreadable files are skipped and listed in ``report.problems``.
    """
    reader = MlrunsReader(path)
    report = ImportReport(mlruns=reader.root, root=str(tracker.url), dry_run=dry_run)
    imp = Importer(reader, tracker, report, dry_run=dry_run, copy=copy)
    chosen = _select(reader.experiments(), experiments)
    run_ids = {exp.id: reader.run_ids(exp) for exp in chosen}
    registry = reader.registered_models()
    total = sum(map(len, run_ids.values())) + sum(len(m["versions"]) for m in registry)
    with progress_iter(total, "import mlflow", progress, minimum=1, unit="item") as tick:
        imp.tick = tick  # type: ignore[method-assign]
        for exp in chosen:
            got = imp.guarded(f"{exp.folder}/meta.yaml", imp.experiment, exp)
            if got is None:
                continue
            group, ledger = got
            for did, meta in sorted(reader.datasets(exp).items()):
                imp.guarded(f"{exp.folder}/datasets/{did}", imp.dataset, group, ledger, did, meta)
            runs = [r for r in (reader.run(exp, rid) for rid in run_ids[exp.id]) if r]
            for run in parents_first(runs):
                imp.guarded(run.folder, imp.run, group, ledger, run)
                tick()
            for _ in range(len(run_ids[exp.id]) - len(runs)):
                tick()  # unreadable runs: reported by the reader
            for mid, found in sorted(reader.logged_models(exp).items()):
                imp.guarded(found["folder"], imp.logged_model, group, ledger, mid, found)
            traces = reader.traces(exp)
            if traces:
                report.note(f"experiment {exp.id}: {traces} trace(s) not imported (unsupported)")
        selected = None if not experiments else {r for ids in run_ids.values() for r in ids}
        for model in registry:
            imp.guarded(model["folder"], imp.registered_model, model, selected)
    if not dry_run and hasattr(tracker, "flush"):
        tracker.flush()
    if NO_SERIES in report.notes:
        warnings.warn(NO_SERIES, stacklevel=2)
    report.problems.extend(reader.problems)
    return report
