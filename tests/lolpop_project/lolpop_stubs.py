"""Offline stand-ins for the lolpop components the e2e runner needs (a lolpop plugin file).

lolpop's real profilers, checkers, explainers, model repositories and version control need
services or heavy packages; these keep the pipelines' calls to the metadata tracker (the thing
under test) and write small real files for it to copy. The version control is content-addressed:
``vc_info = {"uri": path, "hexsha": sha256}``, read back through ``metadata_tracker.get_vc_info``.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from typing import Any

import joblib
import pandas as pd
from lolpop.component.data_checker.base_data_checker import BaseDataChecker
from lolpop.component.data_profiler.base_data_profiler import BaseDataProfiler
from lolpop.component.metrics_tracker.base_metrics_tracker import BaseMetricsTracker
from lolpop.component.model_bias_checker.base_model_bias_checker import BaseModelBiasChecker
from lolpop.component.model_checker.base_model_checker import BaseModelChecker
from lolpop.component.model_deployer.base_model_deployer import BaseModelDeployer
from lolpop.component.model_explainer.base_model_explainer import BaseModelExplainer
from lolpop.component.model_repository.base_model_repository import BaseModelRepository
from lolpop.component.model_visualizer.base_model_visualizer import BaseModelVisualizer
from lolpop.component.resource_version_control.base_resource_version_control import (
    BaseResourceVersionControl,
)


def _write(component: Any, name: str, text: str) -> str:
    folder = component._get_config("local_dir")
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, name)
    with open(path, "w") as fh:
        fh.write(text)
    return path


class StubDataProfiler(BaseDataProfiler):
    def profile_data(self, data: pd.DataFrame, *args: Any, **kwargs: Any) -> tuple[Any, str]:
        return data.describe().to_dict(), _write(self, "data_profile.txt", str(data.describe()))

    def compare_data(self, data: Any, prev_data: Any, *args: Any, **kwargs: Any) -> Any:
        text = f"rows {len(data)} vs {len(prev_data)}"
        return {"rows": [len(data), len(prev_data)]}, _write(self, "data_comparison.txt", text)


class StubDataChecker(BaseDataChecker):
    def check_data(self, data: pd.DataFrame, *args: Any, **kwargs: Any) -> tuple[Any, str, str]:
        nulls = int(data.isnull().sum().sum())
        return {"nulls": nulls}, _write(self, "data_checks.txt", f"nulls: {nulls}"), "PASS"


class StubModelChecker(BaseModelChecker):
    def check_model(self, data: Any, model: Any, *args: Any, **kwargs: Any) -> Any:
        return {"ok": True}, _write(self, "model_checks.txt", "ok"), "PASS"

    def calculate_model_drift(self, data: Any, model: Any, deployed: Any, *a: Any, **k: Any) -> Any:
        return {"drift": 0}, _write(self, "model_drift.txt", "drift 0")


class StubModelExplainer(BaseModelExplainer):
    def get_feature_importance(self, data: Any, model: Any, model_version: Any = None) -> Any:
        fitted = model._get_model()
        importance = dict(zip(fitted.feature_names_in_, fitted.feature_importances_, strict=True))
        self.metadata_tracker.log_metadata(
            model_version, id="train_global_feature_importance", data=importance
        )
        return importance, None

    def get_explanations(self, data: Any, model: Any, *args: Any, **kwargs: Any) -> list[None]:
        return [None] * len(data)


class StubModelVisualizer(BaseModelVisualizer):
    def generate_viz(self, data: Any, model: Any, model_version: Any = None, *a: Any) -> None:
        return None


class StubModelBiasChecker(BaseModelBiasChecker):
    def check_model_bias(
        self, data: Any, model: Any, *args: Any, **kwargs: Any
    ) -> dict[str, float]:
        return {"bias_metric": 0.0}


class StubModelRepository(BaseModelRepository):
    def register_model(self, model_version: Any, model: Any, *args: Any, **kwargs: Any) -> Any:
        self.metadata_tracker.log_metadata(model_version, id="status", data="REGISTERED")
        return model_version

    def promote_model(self, model_version: Any, *args: Any, **kwargs: Any) -> Any:
        self.metadata_tracker.log_metadata(model_version, id="status", data="PROMOTED")
        return model_version

    def check_approval(self, promotion: Any, *args: Any, **kwargs: Any) -> bool:
        return True

    def approve_model(self, promotion: Any, *args: Any, **kwargs: Any) -> bool:
        return True


class StubModelDeployer(BaseModelDeployer):
    def deploy_model(self, promotion: Any, model_version: Any, *args: Any, **kwargs: Any) -> Any:
        self.metadata_tracker.log_metadata(model_version, id="status", data="DEPLOYED")
        return {"deployed": self.metadata_tracker.get_resource_id(model_version)}


class StubMetricsTracker(BaseMetricsTracker):
    """Keeps metrics as metadata of the resource, so the store shows what was evaluated."""

    def log_metric(self, resource: Any, id: str, value: Any, *args: Any, **kwargs: Any) -> None:
        self.metadata_tracker.log_metadata(resource, id=f"metric_{id}", data=value)

    def log_metrics(self, resource: Any, metrics: Any, *args: Any, **kwargs: Any) -> None:
        self.metadata_tracker.log_metadata(resource, id="metrics", data=metrics)


class ContentVersionControl(BaseResourceVersionControl):
    """Content-addressed files under ``rvc_dir``: ``{"uri": path, "hexsha": sha256}``."""

    __DEFAULT_CONF__ = {"config": {"rvc_dir": "./out/rvc"}}

    def _path(self, name: str) -> str:
        folder = self._get_config("rvc_dir")
        os.makedirs(folder, exist_ok=True)
        return os.path.join(folder, name)

    def _store(self, tmp: str) -> dict[str, str]:
        with open(tmp, "rb") as fh:
            digest = hashlib.sha256(fh.read()).hexdigest()
        dst = self._path(digest)
        shutil.move(tmp, dst)
        return {"uri": os.path.abspath(dst), "hexsha": digest}

    def _hexsha(self, resource: Any, key: str) -> str | None:
        sha = self.metadata_tracker.get_vc_info(resource, key=key).get("hexsha")
        return None if sha in (None, "None") else str(sha)

    def version_data(self, dataset_version: Any, data: Any, *args: Any, **kwargs: Any) -> Any:
        tmp = self._path("tmp.csv")
        pd.DataFrame(data).to_csv(tmp, index=False)
        return self._store(tmp)

    def get_data(self, resource: Any, vc_info: Any = None, key: Any = None, *a: Any) -> Any:
        if vc_info is None:
            vc_info = self.metadata_tracker.get_vc_info(
                resource, key=f"{key}_hexsha" if key else "hexsha"
            )
        sha = (vc_info or {}).get("hexsha")
        return pd.DataFrame() if sha in (None, "None") else pd.read_csv(self._path(str(sha)))

    def version_model(self, experiment: Any, model: Any, *args: Any, **kwargs: Any) -> Any:
        tmp = self._path("tmp.joblib")
        joblib.dump(model, tmp)
        return self._store(tmp)

    def get_model(self, experiment: Any, *args: Any, **kwargs: Any) -> Any:
        sha = self._hexsha(experiment, "hexsha")
        return None if sha is None else joblib.load(self._path(sha))

    def version_feature_transformer(
        self, experiment: Any, transformer: Any, *a: Any, **k: Any
    ) -> Any:
        tmp = self._path("tmp_ft.joblib")
        joblib.dump(transformer, tmp)
        return self._store(tmp)

    def get_feature_transformer(self, experiment: Any, *args: Any, **kwargs: Any) -> Any:
        sha = self._hexsha(experiment, "feature_transformer_hexsha")
        return None if sha is None else joblib.load(self._path(sha))
