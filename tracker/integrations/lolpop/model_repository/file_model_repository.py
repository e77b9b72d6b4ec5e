"""lolpop's ``FileModelRepository``: the model registry as states of model versions in the store.

lolpop 0.2.0's only repository is MLflow's model registry. Here the model version *is* the
registered model (its trainer and files are already recorded by the metadata tracker and the
resource version control), and the registry's stage transitions become metadata of it:
``status`` REGISTERED -> PROMOTED (-> DEPLOYED by the deployer), ``registered_model`` (the model
class), ``promoted_to`` (the stage) and ``approved``. Promoting demotes (``status`` DEMOTED)
earlier versions of the series that were promoted but never deployed, as MLflow archives the
versions in the target stage. ``check_approval`` reads ``approved`` (so with
``auto_approve_models`` lolpop's deploy pipeline approves through :meth:`approve_model`). This
module imports lolpop.
"""

from __future__ import annotations

from typing import Any

from lolpop.component.model_repository.base_model_repository import BaseModelRepository

from tracker.core.resource import Resource, Series
from tracker.core.tracker import Tracker
from tracker.errors import InvalidRef
from tracker.integrations.lolpop.metrics_tracker.file_metrics_tracker import shared_tracker

__all__ = ["FileModelRepository"]


class FileModelRepository(BaseModelRepository):
    """lolpop's model repository on the tracker's store (no MLflow registry)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._own: Tracker | None = None
        self.url: str = self.tracker.url

    @property
    def tracker(self) -> Tracker:
        return shared_tracker(self)

    def _version(self, model_version: Any) -> Resource:
        """That model version; a model's Series (or a bare name) means its newest version."""
        if isinstance(model_version, Resource | Series):
            rid, version = model_version.id, model_version.version
        else:
            rid, version = str(model_version), None
        res = self.tracker.get_resource(rid, "model_version", version=version)
        if not isinstance(res, Resource):  # only type="model" answers with a Series
            raise InvalidRef(f"model_version/{rid} named no version (got {res!r})")
        return res

    def register_model(self, model_version: Any, model: Any, *args: Any, **kwargs: Any) -> Any:
        """Mark the version REGISTERED; returns it (the id ``promote_model`` takes)."""
        mv = self._version(model_version)
        trainer = type(model).__name__ if model is not None else None
        self.tracker.log_metadata(mv, "registered_model", trainer)
        self.tracker.log_metadata(mv, "status", "REGISTERED")
        return mv

    def promote_model(
        self,
        model_id: Any,
        from_stage: str = "None",
        to_stage: str = "Production",
        demote_previous_model_versions: bool = True,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        """Mark the version PROMOTED to ``to_stage``; returns it (the promotion)."""
        mv = self._version(model_id)
        t = self.tracker
        if demote_previous_model_versions:
            earlier = t.find(
                type="model_version",
                id=mv.id,
                where=f"metadata.status = 'PROMOTED' and version < {mv.version}",
            )
            for prev in earlier:
                t.log_metadata(prev, "status", "DEMOTED")
        t.log_metadata(mv, "promoted_to", str(to_stage))
        t.log_metadata(mv, "status", "PROMOTED")
        return mv

    def check_approval(self, promotion: Any, *args: Any, **kwargs: Any) -> bool:
        """Whether the promoted version was approved (``approve_model``)."""
        return bool(self.tracker.get_metadata(self._version(promotion), "approved"))

    def approve_model(self, promotion: Any, *args: Any, **kwargs: Any) -> bool:
        self.tracker.log_metadata(self._version(promotion), "approved", True)
        return True
