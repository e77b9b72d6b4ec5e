"""``FileMetadataTracker``: :class:`tracker.Tracker` under lolpop's loose calling convention.

lolpop's callers pass positional extras and keywords that are not the tracker's business
(``file_type="csv"``, ``type=`` naming the resource's own type, objects as attributes). The core
:class:`~tracker.core.tracker.Tracker` refuses all of that (a mistake must not pass in silence);
this class accepts every :class:`BaseMetadataTracker` method with ``*args, **kwargs`` and drops:

* extra positional arguments and unknown keywords of every interface method;
* ``create_resource`` keywords whose values are not plain data (dataframes, classes, models):
  they are not metadata; plain ones are kept as attributes;
* ``Tracker(...)`` options it does not know (lolpop configs carry MLflow's, e.g. ``tracking_uri``).

It needs no lolpop; the lolpop component (``metadata_tracker/file_metadata_tracker.py``) wraps
the strict tracker itself. Everything else (``find``, ``lineage``, ...) is the strict API.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from typing import Any

from tracker.core.resource import MODEL, Resource, parse_ref
from tracker.core.runs import FINISHED
from tracker.core.tracker import Tracker
from tracker.errors import UnsupportedValue
from tracker.integrations.lolpop.interface import BaseMetadataTracker
from tracker.store.codec import to_plain

_OPTIONS = frozenset(inspect.signature(Tracker.__init__).parameters) - {"self"}


class FileMetadataTracker(Tracker, BaseMetadataTracker):
    """The lolpop interface, loose (see the module doc); the strict API is :class:`Tracker`."""

    def __init__(self, root: Any = None, storage_options: Any = None, *args: Any, **kwargs: Any):
        super().__init__(root, storage_options, **{k: kwargs[k] for k in kwargs if k in _OPTIONS})

    def create_resource(
        self, id: str | None = None, type: str | None = None, *args: Any, **kwargs: Any
    ) -> Resource:
        parent = kwargs.pop("parent", None)
        attributes = {}
        for key, value in kwargs.items():
            try:
                attributes[key] = to_plain(value, key)
            except UnsupportedValue:
                continue  # not metadata (see the module doc)
        return super().create_resource(id, type, parent=parent, **attributes)

    def get_resource(self, id: str, type: str | None = None, *args: Any, **kwargs: Any) -> Any:
        return super().get_resource(
            id, type, parent=kwargs.get("parent"), version=kwargs.get("version")
        )

    def update_resource(
        self, resource: Any, updates: Mapping[str, Any], *args: Any, **kwargs: Any
    ) -> Resource:
        return super().update_resource(resource, updates)

    def clean_resource(
        self, resource: Any, type: str | None = None, *args: Any, **kwargs: Any
    ) -> None:
        super().clean_resource(resource)

    def get_resource_id(self, resource: Any, *args: Any, **kwargs: Any) -> str:
        return super().get_resource_id(resource)

    def get_parent_id(
        self, resource: Any, type: str | None = None, *args: Any, **kwargs: Any
    ) -> str | None:
        """``type`` may name the parent's type or, as lolpop passes it, the resource's own;
        any other type means "no parent of that type"."""
        res = self._resolver.resolve(resource)
        if not res.parent:
            return None
        ptype, pid, _ = parse_ref(res.parent)
        if type is not None and type not in (ptype, res.type, MODEL):
            return None
        return pid

    def stop(self, *args: Any, **kwargs: Any) -> None:
        super().stop(kwargs.get("status", FINISHED))

    def log_tag(self, resource: Any, key: str, value: Any, *args: Any, **kwargs: Any) -> None:
        super().log_tag(resource, key, value)

    def get_tag(self, resource: Any, key: str, *args: Any, **kwargs: Any) -> Any:
        return super().get_tag(resource, key, kwargs.get("default"))

    def log_metadata(self, resource: Any, id: str, data: Any, *args: Any, **kwargs: Any) -> None:
        super().log_metadata(resource, id, data)

    def get_metadata(self, resource: Any, id: str, *args: Any, **kwargs: Any) -> Any:
        return super().get_metadata(resource, id, kwargs.get("default"))

    def log_artifact(self, resource: Any, id: str, path: Any, *args: Any, **kwargs: Any) -> None:
        super().log_artifact(resource, id, path)

    def get_artifact(self, resource: Any, id: str, *args: Any, **kwargs: Any) -> str:
        return super().get_artifact(resource, id, dest=kwargs.get("dest"))

    def log_data_profile(self, resource: Any, file_path: Any, *args: Any, **kwargs: Any) -> None:
        super().log_data_profile(resource, file_path)

    def get_data_profile(self, resource: Any, *args: Any, **kwargs: Any) -> str | None:
        return super().get_data_profile(resource)

    def log_checks(self, resource: Any, file_path: Any, *args: Any, **kwargs: Any) -> None:
        super().log_checks(resource, file_path, type=kwargs.get("type", "data"))

    def get_data_checks(self, resource: Any, *args: Any, **kwargs: Any) -> str | None:
        return super().get_data_checks(resource, type=kwargs.get("type", "data"))

    def log_data_comparison(self, resource: Any, file_path: Any, *args: Any, **kwargs: Any) -> None:
        super().log_data_comparison(resource, file_path)

    def get_data_comparison(self, resource: Any, *args: Any, **kwargs: Any) -> str | None:
        return super().get_data_comparison(resource)

    def register_vc_resource(
        self,
        resource: Any,
        vc_info: Mapping[str, Any] | None,
        key: str | None = None,
        additional_metadata: Mapping[str, Any] | None = None,
        *args: Any,
        **kwargs: Any,
    ) -> None:
        super().register_vc_resource(resource, vc_info, key, additional_metadata)

    def get_vc_info(self, resource: Any, key: str = "hexsha", *args: Any, **kwargs: Any) -> Any:
        return super().get_vc_info(resource, key)

    def get_prev_resource_version(self, resource: Any, *args: Any, **kwargs: Any) -> Any:
        return super().get_prev_resource_version(
            resource, filters=kwargs.get("filters"), num=kwargs.get("num", 1)
        )

    def get_currently_deployed_model_version(
        self, model_version: Any, *args: Any, **kwargs: Any
    ) -> Resource | None:
        return super().get_currently_deployed_model_version(model_version)

    def get_prediction_job_model_version(
        self, prediction_job: Any, *args: Any, **kwargs: Any
    ) -> Resource | None:
        return super().get_prediction_job_model_version(prediction_job)

    def get_latest_model_resource(
        self, model: Any, type: str, *args: Any, **kwargs: Any
    ) -> Resource | None:
        return super().get_latest_model_resource(model, type)

    def get_winning_experiment(
        self, model_version: Any, *args: Any, **kwargs: Any
    ) -> Resource | None:
        return super().get_winning_experiment(model_version)

    def build_model_lineage(
        self, model_version: Any, dataset_versions: Sequence[Any], *args: Any, **kwargs: Any
    ) -> None:
        super().build_model_lineage(model_version, dataset_versions)

    def load_model(
        self, model_obj: Any, model_version: Any, ref_model: Any = None, *args: Any, **kwargs: Any
    ) -> Any:
        return super().load_model(model_obj, model_version, ref_model, loader=kwargs.get("loader"))
