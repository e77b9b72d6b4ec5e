"""Map an MLflow ``mlruns`` directory onto tracker resources (see docs/FORMAT.md and the README).

An MLflow experiment becomes ``mlflow_experiment/<experiment id>@1``: its name, stage, times and
tags, plus the import ledger (metadata ``mlflow_run/<run id>`` -> the ref it became, and the same
for datasets and logged models). Each MLflow run becomes a version of ``experiment/<experiment
name>`` (a training attempt, as lolpop's own MLflow tracker maps them), a child of its parent
run's version or of the experiment. The tracker's own runs stay what they are: the process that
did the import. Re-importing reads the ledger and writes only what differs, so it is idempotent
and an updated ``mlruns`` adds only what is new.
"""

from __future__ import annotations

import datetime as _dt
import math
import os
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from tracker.errors import ResourceNotFound, StoreError, TrackerError
from tracker.importers.mlflow.reader import Experiment, MetricPoint, MlrunsReader, Run
from tracker.importers.mlflow.report import ImportReport
from tracker.store.base import sha256_of

GROUP, RUN, DATASET, LOGGED = "mlflow_experiment", "experiment", "dataset_version", "logged_model"
REGISTERED, MODEL_VERSION = "mlflow_registered_model", "model_version"
STAGE_STATUS = {
    "Production": "DEPLOYED",
    "Staging": "PROMOTED",
    "Archived": "ARCHIVED",
    "Deleted_Internal": "DELETED",
}
T = TypeVar("T")
MAX_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z, the last instant a datetime holds
_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
NO_SERIES = (
    "this tracker has no metric series (log_metric): only the last value of each metric was "
    "recorded, as metadata `metrics`"
)


def ms_to_datetime(ms: Any) -> _dt.datetime | None:
    """MLflow's milliseconds since the epoch as an exact UTC datetime (None stays None)."""
    if isinstance(ms, bool) or not isinstance(ms, int) or not -62_135_596_800_000 <= ms <= MAX_MS:
        return None  # not milliseconds (the raw value stays in the imported meta)
    return _EPOCH + _dt.timedelta(milliseconds=ms)


def latest(points: list[MetricPoint]) -> MetricPoint:
    """The value MLflow's client shows: the largest (step, timestamp, value)."""
    return max(points, key=lambda p: (p.step, p.timestamp_ms, p.value))


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


class Importer:
    """One import of one ``mlruns`` into one tracker; :func:`import_mlruns` drives it."""

    def __init__(
        self,
        reader: MlrunsReader,
        tracker: Any,
        report: ImportReport,
        dry_run: bool = False,
        copy: bool = True,
    ) -> None:
        self.reader, self.t, self.report = reader, tracker, report
        self.dry_run, self.copy = dry_run, copy
        self.series = hasattr(tracker, "log_metric")
        self.runs: dict[str, str] = {}  # MLflow run id -> ref
        self.datasets: dict[str, str] = {}  # MLflow dataset id -> ref (per experiment)
        self.models: dict[str, str] = {}  # MLflow logged model id -> ref
        self.run_datasets: dict[str, list[str]] = {}  # run ref -> dataset refs

    # -- generic helpers ---------------------------------------------------------------------
    def _describe(self, ref: str | None) -> dict[str, Any]:
        if ref is None:
            return {"attrs": {}, "tags": {}, "metadata": {}, "artifacts": {}, "lineage": []}
        return dict(self.t.describe(ref))

    def _group(self, rtype: str, rid: str) -> tuple[str | None, dict[str, Any], bool]:
        """``rtype/rid@1`` (created unless dry-run), what it holds now, and whether it is new."""
        try:
            ref = str(self.t.get_resource(rid, type=rtype, version=1).ref)
            return ref, self._describe(ref), False
        except ResourceNotFound:
            pass
        if self.dry_run:
            return None, self._describe(None), True
        return str(self.t.create_resource(rid, type=rtype).ref), self._describe(None), True

    def _version(
        self, group: str | None, ledger: dict[str, Any], key: str, rtype: str, rid: str, **kw: Any
    ) -> tuple[str | None, dict[str, Any], bool]:
        """The ref recorded in the ledger under ``key``, or a new version of ``rtype/rid``
        (recorded at once, so an interrupted import resumes instead of duplicating)."""
        ref = ledger.get(key)
        if isinstance(ref, str):
            try:
                return ref, self._describe(ref), False
            except ResourceNotFound:
                pass  # the ledger names a version that is gone: make it again
        if self.dry_run:
            return None, self._describe(None), True
        parent = kw.get("parent") or group
        made = str(self.t.create_resource(rid, type=rtype, parent=parent).ref)
        assert group is not None
        self.t.log_metadata(group, key, made)
        return made, self._describe(None), True

    def _sync(
        self, ref: str | None, current: dict[str, Any], kind: str, want: dict[str, Any]
    ) -> int:
        """Write the items of ``kind`` whose value differs; returns how many."""
        have = current.get(kind) or {}
        changed = {k: v for k, v in want.items() if k not in have or not _same(have[k], v)}
        if changed and not self.dry_run:
            if kind == "attrs":
                self.t.update_resource(ref, changed)
            elif kind == "tags":
                self.t.log_tags(ref, changed)
            else:
                for k, v in changed.items():
                    self.t.log_metadata(ref, k, v)
        return len(changed)

    def _count(self, kind: str, created: bool, writes: int) -> None:
        bucket = (
            self.report.created
            if created
            else (self.report.updated if writes else self.report.unchanged)
        )
        bucket[kind] += 1

    def _link(self, ref: str | None, current: dict[str, Any], targets: Iterable[str]) -> int:
        new = [r for r in dict.fromkeys(targets) if r not in (current.get("lineage") or [])]
        if new and ref is not None and not self.dry_run:
            self.t.build_model_lineage(ref, new)
        return len(new)

    def _close(self, ref: str | None) -> None:
        if ref is not None and not self.dry_run:
            self.t.clean_resource(ref)

    # -- experiments, datasets, runs ---------------------------------------------------------
    def experiment(self, exp: Experiment) -> tuple[str | None, dict[str, Any]]:
        ref, current, created = self._group(GROUP, exp.id)
        meta = exp.meta
        attrs = {
            "mlflow_experiment_id": exp.id,
            "name": exp.name,
            "lifecycle_stage": str(meta.get("lifecycle_stage") or "active"),
            "artifact_location": meta.get("artifact_location"),
            "creation_time": ms_to_datetime(meta.get("creation_time")),
            "last_update_time": ms_to_datetime(meta.get("last_update_time")),
        }
        writes = self._sync(ref, current, "attrs", attrs)
        writes += self._sync(ref, current, "tags", exp.tags)
        self._count("mlflow_experiment", created, writes)
        ledger = current.get("metadata") or {}
        for key, value in ledger.items():
            if isinstance(value, str) and key.startswith("mlflow_run/"):
                self.runs[key[len("mlflow_run/") :]] = value
            elif isinstance(value, str) and key.startswith("mlflow_logged_model/"):
                self.models[key[len("mlflow_logged_model/") :]] = value
        return ref, ledger

    def dataset(
        self, group: str | None, ledger: dict[str, Any], did: str, meta: dict[str, Any]
    ) -> None:
        name = str(meta.get("name") or did)
        ref, current, created = self._version(group, ledger, f"mlflow_dataset/{did}", DATASET, name)
        attrs = {"mlflow_dataset_id": did, "name": name}
        for key in ("digest", "source_type", "source", "schema", "profile"):
            if key in meta:
                attrs[key] = meta[key]
        writes = self._sync(ref, current, "attrs", attrs)
        self._count("dataset_version", created, writes)
        self._close(ref)
        if ref is not None:
            self.datasets[did] = ref

    def run(self, group: str | None, ledger: dict[str, Any], run: Run) -> None:
        parent_id = run.tags.get("mlflow.parentRunId")
        parent = self.runs.get(parent_id) if parent_id else None
        key = f"mlflow_run/{run.id}"
        ref, current, created = self._version(
            group, ledger, key, RUN, run.experiment.name, parent=parent
        )
        if ref is not None:
            self.runs[run.id] = ref
        meta = run.meta
        attrs = {
            "mlflow_run_id": run.id,
            "mlflow_experiment_id": run.experiment.id,
            "run_name": run.name,
            "user_id": meta.get("user_id"),
            "status": run.status,
            "start_time": ms_to_datetime(meta.get("start_time")),
            "end_time": ms_to_datetime(meta.get("end_time")),
            "lifecycle_stage": str(meta.get("lifecycle_stage") or "active"),
            "artifact_uri": meta.get("artifact_uri"),
        }
        writes = self._sync(ref, current, "attrs", attrs)
        writes += self._sync(ref, current, "tags", run.tags)
        metrics, points = self.metrics(ref, current, run.metric_files)
        inputs = []
        for doc in run.inputs:
            did = str(doc.get("source_id"))
            if doc.get("source_type") == "DATASET" and did in self.datasets:
                inputs.append(
                    {
                        "dataset": self.datasets[did],
                        "mlflow_dataset_id": did,
                        "tags": doc.get("tags") or {},
                    }
                )
        metadata: dict[str, Any] = {
            "params": run.params,
            "metrics": metrics,
            "mlflow_run_meta": meta,
        }
        if inputs:
            metadata["inputs"] = inputs
        writes += self._sync(ref, current, "metadata", metadata)
        dataset_refs = [str(i["dataset"]) for i in inputs]
        if ref is not None:
            self.run_datasets[ref] = dataset_refs
        writes += self._link(ref, current, dataset_refs)
        writes += self.artifacts(ref, current, f"{run.folder}/artifacts") + points
        self._count("run", created, writes)
        self._close(ref)

    def metrics(
        self, ref: str | None, current: dict[str, Any], files: dict[str, str], model: bool = False
    ) -> tuple[dict[str, float], int]:
        """The latest value per key, and the number of series points written (full histories
        through ``log_metric`` when the tracker has it; only points not recorded yet)."""
        last: dict[str, float] = {}
        written = 0
        for key, path in sorted(files.items()):
            points = self.reader.metric(path, model)
            if not points:
                continue
            last[key] = latest(points).value
            if not self.series:
                continue
            have = 0
            if ref is not None and key in ((current.get("metadata") or {}).get("metrics") or {}):
                have = len(self.t.get_metric_history(ref, key))
            for p in points[have:]:
                if not self.dry_run:
                    self.t.log_metric(
                        ref, key, p.value, step=p.step, timestamp=p.timestamp_ms / 1000
                    )
                written += 1
        if files and not self.series:
            self.report.note(NO_SERIES)
        self.report.metric_points += written
        return last, written

    def artifacts(self, ref: str | None, current: dict[str, Any], folder: str) -> int:
        """Copy each top-level entry of ``folder`` in as one artifact (id = its name), or with
        ``copy=False`` record it as a reference (path, sizes, sha256) in metadata
        ``artifact_refs``; an artifact whose file list and sizes are unchanged is left alone."""
        changed = 0
        refs: dict[str, Any] = dict((current.get("metadata") or {}).get("artifact_refs") or {})
        known = self.t.artifacts(ref) if ref is not None and self.copy else {}
        for name, _ in self.reader.entries(folder):
            files = self.reader.artifact_files(f"{folder}/{name}")
            if files is None:
                continue
            shape = sorted((rel, size) for _, rel, size in files)
            if self.copy:
                have = known.get(name)
                if have is not None and shape == sorted(
                    (f["path"], f["size"]) for f in have.get("files") or []
                ):
                    continue
                if not self.dry_run:
                    self.t.log_artifact(ref, name, os.path.join(self.reader.root, folder, name))
            else:
                old = refs.get(name) or {}
                if shape == sorted((f["path"], f["size"]) for f in old.get("files") or []):
                    continue
                source = os.path.join(self.reader.root, folder, name)
                refs[name] = {
                    "kind": "dir" if os.path.isdir(source) else "file",
                    "path": source,
                    "files": [
                        {"path": rel, "size": size, "sha256": sha256_of(full)}
                        for full, rel, size in files
                    ],
                }
            changed += 1
            self.report.artifact_files += len(files)
            self.report.artifact_bytes += sum(size for _, _, size in files)
        if not self.copy and refs:
            changed += self._sync(ref, current, "metadata", {"artifact_refs": refs})
        return changed

    def logged_model(
        self, group: str | None, ledger: dict[str, Any], mid: str, found: dict[str, Any]
    ) -> None:
        meta = found["meta"]
        name = str(meta.get("name") or mid)
        ref, current, created = self._version(
            group, ledger, f"mlflow_logged_model/{mid}", LOGGED, name
        )
        attrs = {
            "mlflow_model_id": mid,
            "name": name,
            "source_run_id": meta.get("source_run_id"),
            "status": meta.get("status"),
            "model_type": meta.get("model_type"),
            "lifecycle_stage": str(meta.get("lifecycle_stage") or "active"),
            "creation_time": ms_to_datetime(meta.get("creation_timestamp")),
            "artifact_location": meta.get("artifact_location"),
        }
        writes = self._sync(ref, current, "attrs", attrs)
        writes += self._sync(ref, current, "tags", found["tags"])
        metrics, points = self.metrics(ref, current, found["metrics"], model=True)
        writes += points + self._sync(
            ref, current, "metadata", {"params": found["params"], "metrics": metrics}
        )
        run_ref = self.runs.get(str(meta.get("source_run_id")))
        writes += self._link(ref, current, [run_ref] if run_ref else [])
        writes += self.artifacts(ref, current, f"{found['folder']}/artifacts")
        if ref is not None:
            self.models[mid] = ref
        self._count("logged_model", created, writes)
        self._close(ref)

    # -- the model registry ------------------------------------------------------------------
    def registered_model(self, model: dict[str, Any], runs: set[str] | None) -> None:
        versions = {
            n: v
            for n, v in sorted(model["versions"].items())
            if runs is None or str(v["meta"].get("run_id")) in runs
        }
        if runs is not None and not versions:
            return
        name, meta = model["name"], model["meta"]
        group, current, created = self._group(REGISTERED, name)
        writes = self._sync(
            group,
            current,
            "attrs",
            {
                "name": name,
                "description": meta.get("description"),
                "creation_time": ms_to_datetime(meta.get("creation_timestamp")),
                "last_updated_time": ms_to_datetime(meta.get("last_updated_timestamp")),
            },
        )
        writes += self._sync(group, current, "tags", model["tags"])
        ledger = current.get("metadata") or {}
        aliases = {"aliases": dict(sorted(model["aliases"].items()))}
        writes += self._sync(group, current, "metadata", aliases)
        self._count("mlflow_registered_model", created, writes)
        for number, found in versions.items():
            self.guarded(
                f"models/{name}/version-{number}",
                self.model_version,
                group,
                ledger,
                name,
                number,
                found,
                model["aliases"],
            )
            self.tick()

    def model_version(
        self,
        group: str | None,
        ledger: dict[str, Any],
        name: str,
        number: int,
        found: dict[str, Any],
        aliases: dict[str, int],
    ) -> None:
        meta = found["meta"]
        ref, current, created = self._version(
            group, ledger, f"mlflow_version/{number}", MODEL_VERSION, name
        )
        attrs = {"mlflow_model_name": name, "mlflow_version": number}
        for key in (
            "current_stage",
            "source",
            "run_id",
            "run_link",
            "status_message",
            "user_id",
            "description",
            "storage_location",
            "model_id",
        ):
            if key in meta:
                attrs[key] = meta[key]
        attrs["mlflow_status"] = meta.get("status")
        attrs["creation_time"] = ms_to_datetime(meta.get("creation_timestamp"))
        attrs["last_updated_time"] = ms_to_datetime(meta.get("last_updated_timestamp"))
        tags = dict(found["tags"])
        stage = STAGE_STATUS.get(str(meta.get("current_stage")))
        if stage is not None:
            tags["status"] = stage
        mine = sorted(a for a, v in aliases.items() if v == number)
        if mine or "aliases" in (current.get("tags") or {}):
            tags["aliases"] = mine
        writes = self._sync(ref, current, "attrs", attrs)
        writes += self._sync(ref, current, "tags", tags)
        run_ref = self.runs.get(str(meta.get("run_id")))
        targets = [run_ref] if run_ref else []
        if meta.get("model_id") and str(meta["model_id"]) in self.models:
            targets.append(self.models[str(meta["model_id"])])
        if run_ref:
            targets += self.run_datasets.get(run_ref, [])
        writes += self._link(ref, current, targets)
        self._count("model_version", created, writes)
        self._close(ref)

    def tick(self) -> None:
        """Replaced by the progress bar's tick while an import runs."""

    def guarded(self, where: str, fn: Callable[..., T], *args: Any) -> T | None:
        """One item's import; a value or name the tracker refuses (an error of ours, a key
        too long once encoded, ...) skips that item, reported with its path, and the import
        goes on. A store that fails (``StoreError``) stops it."""
        try:
            return fn(*args)
        except StoreError:
            raise
        except TrackerError as exc:
            self.reader.skip(where, f"not imported: {exc}")
            return None
