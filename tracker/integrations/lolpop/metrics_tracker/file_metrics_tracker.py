"""lolpop's ``FileMetricsTracker``: lolpop's metrics-tracker interface on the tracker's store.

Metrics become metric series of the resource version they are logged on (``log_metric`` of
:class:`tracker.Tracker`), so ``tracker metrics``, ``find(where="metrics.valid_f1 > 0.8")`` and
``plot`` see them, and a lolpop project needs no MLflow at all. Behaviour follows lolpop's
``MLFlowMetricsTracker`` (the reference): ``log_metrics`` logs ``<split>_<metric>`` keys plus the
``performance_metric``/``performance_metric_value`` metadata, ``copy_metrics`` copies the last
values and that metadata (and ``training_params``) to another resource, and
``log_prediction_metrics`` records the class distribution and ``num_predictions``. Unlike
MLflow's, keys are not prefixed with the resource id: each version has its own series.

It writes through the ``FileMetadataTracker`` of the same lolpop project when there is one (one
store, one run); otherwise it opens its own :class:`tracker.Tracker` from its ``config:``
(``root``, ``storage_options``, as the metadata tracker's). This module imports lolpop.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lolpop.component.metrics_tracker.base_metrics_tracker import BaseMetricsTracker
from omegaconf import DictConfig, OmegaConf

from tracker.core.tracker import Tracker
from tracker.integrations.lolpop.metadata_tracker.file_metadata_tracker import (
    FileMetadataTracker,
    _plain_config,
)

__all__ = ["FileMetricsTracker"]


def own_tracker(config: Any) -> Tracker:
    """A tracker from a component's ``config:`` (``root``, ``storage_options``), for when the
    project's metadata tracker is not ours."""
    own = _plain_config(config)
    storage = own.get("storage_options")
    return Tracker(
        own.get("root"), storage_options=dict(storage) if isinstance(storage, Mapping) else None
    )


def shared_tracker(component: Any) -> Tracker:
    """The tracker a component writes through: its peer metadata tracker's when that is ours
    (one store, one run), else one of its own from its ``config:``, opened once."""
    peer = getattr(component, "metadata_tracker", None)
    if isinstance(peer, FileMetadataTracker):
        return peer.tracker
    if component._own is None:
        component._own = own_tracker(component.config)
    own: Tracker = component._own
    return own


class FileMetricsTracker(BaseMetricsTracker):
    """lolpop's metrics tracker writing metric series into the tracker's store."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._own: Tracker | None = None
        self.url: str = self.tracker.url

    @property
    def tracker(self) -> Tracker:
        """The metadata tracker's :class:`tracker.Tracker` (one store, one run), else our own."""
        return shared_tracker(self)

    def log_metric(
        self,
        resource: Any,
        id: str,
        value: Any,
        *args: Any,
        step: int | None = None,
        timestamp: Any = None,
        **kwargs: Any,
    ) -> None:
        """One point of series ``id`` (MLflow's default step is 0; ours is the next step)."""
        if isinstance(value, bool):
            value = int(value)  # MLflow's client stores float(True); a metric is a number
        self.tracker.log_metric(resource, str(id), value, step=step, timestamp=timestamp)

    def get_metric(self, resource: Any, id: str, *args: Any, **kwargs: Any) -> Any:
        """The last value of series ``id``, or None (as MLflow's ``run.data.metrics.get``)."""
        return self.tracker.get_metrics(resource).get(str(id))

    def log_metrics(
        self, resource: Any, metrics: Any, perf_metric: Any = None, *args: Any, **kwargs: Any
    ) -> None:
        """``{split: {metric: value}}`` as ``<split>_<metric>`` series, then the performance
        metric's name and value (valid split, else train) as metadata, as lolpop's MLflow
        tracker does."""
        if isinstance(metrics, DictConfig):
            metrics = OmegaConf.to_container(metrics, resolve=True)
        flat = {
            f"{split}_{name}": value
            for split, values in (metrics or {}).items()
            for name, value in (values or {}).items()
        }
        if flat:
            self.tracker.log_metrics(resource, flat)
        if perf_metric is None:
            return
        self.tracker.log_metadata(resource, "performance_metric", str(perf_metric))
        chosen = metrics.get("valid") or metrics.get("train") or {}
        if perf_metric in chosen:
            self.tracker.log_metadata(
                resource, "performance_metric_value", float(chosen[perf_metric])
            )

    def copy_metrics(self, from_resource: Any, to_resource: Any, *args: Any, **kwargs: Any) -> None:
        """The last value of every series of ``from_resource`` as a point on ``to_resource``
        (mainly the winning experiment's metrics onto its model version), plus its
        ``performance_metric``, ``performance_metric_value`` and ``training_params``."""
        t = self.tracker
        last = t.get_metrics(from_resource)
        if last:
            t.log_metrics(to_resource, last)
        for key in ("performance_metric", "performance_metric_value", "training_params"):
            value = t.get_metadata(from_resource, key)
            if value is not None:
                t.log_metadata(to_resource, key, value)

    def log_prediction_metrics(
        self, prediction_job: Any, predictions: Any, *args: Any, **kwargs: Any
    ) -> None:
        """``num_predictions``, and for classification the class distribution as metadata."""
        if getattr(self, "problem_type", None) == "classification":
            counts = predictions.value_counts()
            total = float(sum(counts))
            distribution = {str(k): float(v) / total for k, v in counts.to_dict().items()}
            self.tracker.log_metadata(prediction_job, "class_distribution", distribution)
        self.tracker.log_metric(prediction_job, "num_predictions", len(predictions))
