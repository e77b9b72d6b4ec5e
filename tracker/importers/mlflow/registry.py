"""The model registry: registered models and their versions, with stages and aliases."""

from __future__ import annotations

from typing import Any

from tracker.importers.mlflow.base import Base, ms_to_datetime

REGISTERED, MODEL_VERSION = "mlflow_registered_model", "model_version"
STAGE_STATUS = {
    "Production": "DEPLOYED",
    "Staging": "PROMOTED",
    "Archived": "ARCHIVED",
    "Deleted_Internal": "DELETED",
}


class RegistryImporter(Base):
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
