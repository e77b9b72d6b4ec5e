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

import os
from typing import Any

from tracker.importers.mlflow.base import ms_to_datetime
from tracker.importers.mlflow.reader import Experiment, MetricPoint, Run
from tracker.importers.mlflow.registry import RegistryImporter
from tracker.store.base import sha256_of

GROUP, RUN, DATASET, LOGGED = "mlflow_experiment", "experiment", "dataset_version", "logged_model"
NO_SERIES = (
    "this tracker has no metric series (log_metric): only the last value of each metric was "
    "recorded, as metadata `metrics`"
)


def latest(points: list[MetricPoint]) -> MetricPoint:
    """The value MLflow's client shows: the largest (step, timestamp, value)."""
    return max(points, key=lambda p: (p.step, p.timestamp_ms, p.value))


class Importer(RegistryImporter):
    """One import of one ``mlruns`` into one tracker; :func:`import_mlruns` drives it."""

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
        metrics, points, metric_datasets = self.metrics(ref, current, run.metric_files)
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
        if metric_datasets:
            metadata["metric_datasets"] = metric_datasets
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
    ) -> tuple[dict[str, float], int, dict[str, list[list[str]]]]:
        """The latest value per key, the number of series points written (full histories
        through ``log_metric`` when the tracker has it; only points not recorded yet), and per
        key the ``[dataset name, digest]`` pairs its points were logged against (if any)."""
        last: dict[str, float] = {}
        datasets: dict[str, list[list[str]]] = {}
        written = 0
        for key, path in sorted(files.items()):
            points = self.reader.metric(path, model)
            if not points:
                continue
            last[key] = latest(points).value
            pairs = sorted({p.dataset for p in points if p.dataset is not None})
            if pairs:
                datasets[key] = [list(pair) for pair in pairs]
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
        return last, written, datasets

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
        metrics, points, _ = self.metrics(ref, current, found["metrics"], model=True)
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
