"""``export_mlruns``: write a tracker store's training runs back out as an MLflow file store.

The inverse of the import, for people who need MLflow's UI or tools on what the tracker holds:
every version of an ``experiment`` series becomes an MLflow run of the experiment named after
the series, with its tags, ``metadata.params`` as params, metric histories (the metric series
when the tracker has them, else ``metadata.metrics`` as one point each) and its artifacts;
every ``model_version`` becomes a registered model version, its ``status`` tag a stage. What the
import recorded (MLflow run and experiment ids, times, statuses) is written back as it was.
Only a new, empty directory is written (the output is never merged into an existing one).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import os
import re
import shutil
import tempfile
from typing import Any

from tracker.errors import TrackerError
from tracker.importers.mlflow.reader import STATUSES
from tracker.store.codec import dumps

STAGES = {"DEPLOYED": "Production", "PROMOTED": "Staging", "ARCHIVED": "Archived"}
_STATUS_CODES = {name: code for code, name in STATUSES.items()}
_RUN_ID = re.compile(r"[0-9a-f]{32}")
_KEY = re.compile(r"[\w\-. ]+(/[\w\-. ]+)*")  # MLflow's key rule; no empty, '.' or '..' part


class ExportError(TrackerError, ValueError):
    """The export cannot start (its output directory is not new and empty)."""


def _ms(value: Any) -> int | None:
    if isinstance(value, _dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=_dt.timezone.utc)
        return round(value.timestamp() * 1000)
    return None


def _key_ok(key: str) -> bool:
    return bool(_KEY.fullmatch(key)) and not any(p in (".", "..") for p in key.split("/"))


def _write(path: str, text: str) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)


def _yaml(path: str, doc: dict[str, Any]) -> None:
    _write(path, dumps(doc).decode("utf-8"))


class Exporter:
    def __init__(self, tracker: Any, out: str) -> None:
        self.t, self.out = tracker, os.path.abspath(out)
        self.skipped: list[str] = []
        self.counts = {"experiments": 0, "runs": 0, "model_versions": 0}
        self.run_ids: dict[str, str] = {}  # tracker ref -> MLflow run id

    def _keyed(self, folder: str, values: dict[str, Any], what: str) -> None:
        for key, value in sorted(values.items()):
            if not _key_ok(key):
                self.skipped.append(f"{what} key {key!r}: not a name MLflow accepts")
                continue
            _write(os.path.join(folder, *key.split("/")), "" if value is None else str(value))

    def experiments(self) -> None:
        used = {"0"}
        series = sorted(row["id"] for row in self.t.series("experiment"))
        if "Default" not in series:
            _yaml(os.path.join(self.out, "0", "meta.yaml"), self._exp_meta("0", "Default"))
        for name in series:
            versions = [self.t.describe(f"experiment/{name}@{v}") for v in self._versions(name)]
            wanted = {str(d["attrs"].get("mlflow_experiment_id") or "") for d in versions}
            exp_id = wanted.pop() if len(wanted) == 1 else ""
            if not exp_id.isdigit() or exp_id in used:
                exp_id = str(max(int(u) for u in used) + 1)
            used.add(exp_id)
            folder = self.experiment(exp_id, name)
            self.counts["experiments"] += 1
            for d in versions:
                self.run(folder, exp_id, d)

    def experiment(self, exp_id: str, name: str) -> str:
        """Write the experiment (from what the import kept in ``mlflow_experiment/<id>@1``
        when there is one); returns its folder (under ``.trash/`` when it was deleted)."""
        meta = self._exp_meta(exp_id, name)
        tags: dict[str, Any] = {}
        try:
            group = self.t.describe(f"mlflow_experiment/{exp_id}@1")
        except TrackerError:
            group = None
        if group is not None:
            a = group["attrs"]
            meta["lifecycle_stage"] = str(a.get("lifecycle_stage") or "active")
            meta["creation_time"] = _ms(a.get("creation_time"))
            meta["last_update_time"] = _ms(a.get("last_update_time"))
            tags = group["tags"]
        deleted = meta["lifecycle_stage"] == "deleted"
        folder = (
            os.path.join(self.out, ".trash", exp_id) if deleted else os.path.join(self.out, exp_id)
        )
        _yaml(os.path.join(folder, "meta.yaml"), meta)
        self._keyed(os.path.join(folder, "tags"), tags, f"experiment {name} tag")
        return folder

    def _versions(self, rid: str, rtype: str = "experiment") -> list[int]:
        rows = [r for r in self.t.series(rtype) if r["id"] == rid]
        return list(range(1, int(rows[0]["versions"]) + 1)) if rows else []

    def _exp_meta(self, exp_id: str, name: str) -> dict[str, Any]:
        return {
            "artifact_location": f"file://{self.out}/{exp_id}",
            "creation_time": None,
            "experiment_id": exp_id,
            "last_update_time": None,
            "lifecycle_stage": "active",
            "name": name,
        }

    def run(self, exp_folder: str, exp_id: str, d: dict[str, Any]) -> None:
        attrs, meta = d["attrs"], d["metadata"]
        run_id = str(attrs.get("mlflow_run_id") or "")
        if not _RUN_ID.fullmatch(run_id):
            run_id = hashlib.sha256(d["ref"].encode()).hexdigest()[:32]
        self.run_ids[d["ref"]] = run_id
        folder = os.path.join(exp_folder, run_id)
        status = str(attrs.get("status") or "FINISHED")
        _yaml(
            os.path.join(folder, "meta.yaml"),
            {
                "artifact_uri": f"file://{folder}/artifacts",
                "end_time": _ms(attrs.get("end_time")),
                "entry_point_name": "",
                "experiment_id": exp_id,
                "lifecycle_stage": str(attrs.get("lifecycle_stage") or "active"),
                "run_id": run_id,
                "run_name": str(attrs.get("run_name") or d["ref"]),
                "source_name": "",
                "source_type": 4,
                "source_version": "",
                "start_time": _ms(attrs.get("start_time")) or _ms(d.get("created_at")),
                "status": _STATUS_CODES.get(status, 3),
                "tags": [],
                "user_id": str(attrs.get("user_id") or "unknown"),
            },
        )
        params = meta.get("params") if isinstance(meta.get("params"), dict) else {}
        self._keyed(os.path.join(folder, "params"), params, f"{d['ref']} param")
        tags = {k: v for k, v in d["tags"].items() if isinstance(v, str | int | float | bool)}
        self.skipped += [f"{d['ref']} tag {k!r}: not a text value" for k in d["tags"].keys() - tags]
        tags.setdefault("mlflow.runName", str(attrs.get("run_name") or d["ref"]))
        self._keyed(os.path.join(folder, "tags"), tags, f"{d['ref']} tag")
        for sub in ("metrics", "params", "tags"):  # MLflow treats a run without them as none
            os.makedirs(os.path.join(folder, sub), exist_ok=True)
        self.metrics(os.path.join(folder, "metrics"), d)
        self.artifacts(os.path.join(folder, "artifacts"), d)
        self.counts["runs"] += 1

    def metrics(self, folder: str, d: dict[str, Any]) -> None:
        last = d["metadata"].get("metrics")
        last = last if isinstance(last, dict) else {}
        keys = set(last)
        if hasattr(self.t, "get_metric_history") and hasattr(self.t, "get_metrics"):
            keys |= set(self.t.get_metrics(d["ref"]))
        created = _ms(d.get("created_at")) or 0
        for key in sorted(keys):
            if not _key_ok(key):
                self.skipped.append(f"{d['ref']} metric key {key!r}: not a name MLflow accepts")
                continue
            history = (
                self.t.get_metric_history(d["ref"], key)
                if hasattr(self.t, "get_metric_history")
                else []
            )
            if history:
                lines = [f"{_ms_of(p.timestamp)} {float(p.value)} {p.step}" for p in history]
            elif isinstance(last.get(key), int | float) and not isinstance(last[key], bool):
                lines = [f"{created} {float(last[key])} 0"]
            else:
                continue
            _write(os.path.join(folder, *key.split("/")), "".join(f"{ln}\n" for ln in lines))

    def artifacts(self, folder: str, d: dict[str, Any]) -> None:
        os.makedirs(folder, exist_ok=True)
        for aid in sorted(d["artifacts"]):
            if not _key_ok(aid) or "/" in aid:
                self.skipped.append(f"{d['ref']} artifact {aid!r}: not a file name MLflow takes")
                continue
            with tempfile.TemporaryDirectory() as tmp:
                got = self.t.get_artifact(d["ref"], aid, dest=tmp)
                target = os.path.join(folder, aid)
                if os.path.isdir(got):
                    shutil.copytree(got, target)
                else:
                    shutil.copyfile(got, target)

    def registry(self) -> None:
        for row in sorted(self.t.series("model_version"), key=lambda r: r["id"]):
            name = row["id"]
            if not _key_ok(name) or "/" in name:
                self.skipped.append(f"model {name!r}: not a name MLflow accepts")
                continue
            base = os.path.join(self.out, "models", name)
            aliases: dict[str, str] = {}
            for v in self._versions(name, "model_version"):
                d = self.t.describe(f"model_version/{name}@{v}")
                run = next((r for r in d["lineage"] if r in self.run_ids), None)
                run_id = self.run_ids.get(run) if run else None
                stage = STAGES.get(str(d["tags"].get("status")), "None")
                for alias in d["tags"].get("aliases") or []:
                    if _key_ok(str(alias)) and "/" not in str(alias):
                        aliases[str(alias)] = str(v)
                    else:
                        self.skipped.append(f"{d['ref']} alias {alias!r}: not a name MLflow takes")
                _yaml(
                    os.path.join(base, f"version-{v}", "meta.yaml"),
                    {
                        "creation_timestamp": _ms(d.get("created_at")),
                        "current_stage": str(d["attrs"].get("current_stage") or stage),
                        "description": d["attrs"].get("description"),
                        "last_updated_timestamp": _ms(d.get("created_at")),
                        "name": name,
                        "run_id": run_id,
                        "run_link": None,
                        "source": str(d["attrs"].get("source") or f"runs:/{run_id}/model"),
                        "status": "READY",
                        "status_message": None,
                        "user_id": None,
                        "version": v,
                    },
                )
                tags = {k: val for k, val in d["tags"].items() if k not in ("status", "aliases")}
                self._keyed(os.path.join(base, f"version-{v}", "tags"), tags, d["ref"])
                self.counts["model_versions"] += 1
            meta: dict[str, Any] = {
                "name": name,
                "creation_timestamp": None,
                "last_updated_timestamp": None,
                "description": None,
            }
            try:  # what the import kept of the registered model, when it came from MLflow
                group = self.t.describe(f"mlflow_registered_model/{name}@1")
                meta["description"] = group["attrs"].get("description")
                meta["creation_timestamp"] = _ms(group["attrs"].get("creation_time"))
                meta["last_updated_timestamp"] = _ms(group["attrs"].get("last_updated_time"))
                self._keyed(os.path.join(base, "tags"), group["tags"], f"model {name} tag")
            except TrackerError:
                pass
            _yaml(os.path.join(base, "meta.yaml"), {**meta, "aliases": aliases})
            for alias, version in aliases.items():
                _write(os.path.join(base, "aliases", alias), version)


def _ms_of(stamp: Any) -> int:
    if isinstance(stamp, _dt.datetime):
        return _ms(stamp) or 0
    return round(float(stamp) * 1000)


def export_mlruns(tracker: Any, out: str | os.PathLike[str]) -> dict[str, Any]:
    """Write the tracker's ``experiment`` and ``model_version`` series as an MLflow file store
    at ``out`` (a new or empty directory); returns counts and what was skipped."""
    target = os.path.abspath(os.fspath(out))
    if os.path.exists(target) and (not os.path.isdir(target) or os.listdir(target)):
        raise ExportError(
            f"export mlflow: {target} exists and is not an empty directory; give a new one"
        )
    tracker.require_store()  # StoreNotFound before anything is written
    exporter = Exporter(tracker, target)
    os.makedirs(target, exist_ok=True)
    exporter.experiments()
    exporter.registry()
    return {"out": target, **exporter.counts, "skipped": exporter.skipped}
