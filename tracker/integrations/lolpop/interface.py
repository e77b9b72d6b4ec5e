"""``BaseMetadataTracker``: lolpop's metadata-tracker interface, method by method.

A metadata tracker logs artifacts and metadata about a machine-learning workflow run. A run is a
collection of actions that defines a full workflow (training a model, making predictions, ...).
Implementations keep an internal concept of run and log everything into it. Every method accepts
extra ``*args, **kwargs`` because lolpop's callers pass keywords such as ``file_type="csv"``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any


class BaseMetadataTracker(ABC):
    """The interface every metadata tracker implements. Attribute ``url``: the tracker's URL."""

    url: str

    @abstractmethod
    def log_artifact(self, resource: Any, id: str, path: str, *args: Any, **kwargs: Any) -> None:
        """Logs an artifact into a resource in the metadata tracker.

        resource: the resource to log the artifact to; id: the artifact ID; path: the path to the
        artifact that needs to be saved.
        """

    @abstractmethod
    def get_artifact(self, resource: Any, id: str, *args: Any, **kwargs: Any) -> Any:
        """Retrieves an artifact from the metadata tracker (resource, artifact ID)."""

    @abstractmethod
    def log_tag(self, resource: Any, key: str, value: Any, *args: Any, **kwargs: Any) -> None:
        """Logs a key-value tag to the metadata tracker resource."""

    @abstractmethod
    def get_tag(self, resource: Any, key: str, *args: Any, **kwargs: Any) -> Any:
        """Retrieves a tag value from the metadata tracker: the value of the tag with that key."""

    @abstractmethod
    def log_metadata(self, resource: Any, id: str, data: Any, *args: Any, **kwargs: Any) -> None:
        """Logs metadata (any data, under a metadata ID) into the metadata tracker resource."""

    @abstractmethod
    def get_metadata(self, resource: Any, id: str, *args: Any, **kwargs: Any) -> Any:
        """Retrieves metadata: the value of the metadata with the specified id."""

    @abstractmethod
    def create_resource(self, id: str, type: str | None = None, *args: Any, **kwargs: Any) -> Any:
        """Creates a new resource in the metadata tracker.

        id: a string ID of the resource; type: e.g. "experiment" or None. Returns an object from
        the metadata tracker representing the resource.
        """

    @abstractmethod
    def get_resource(self, id: str, type: str | None, *args: Any, **kwargs: Any) -> Any:
        """Retrieves a resource (by string ID and type) from the metadata tracker."""

    @abstractmethod
    def update_resource(
        self, resource: Any, updates: dict[str, Any], *args: Any, **kwargs: Any
    ) -> Any:
        """Updates a resource with a dictionary of updated information; returns the resource."""

    @abstractmethod
    def clean_resource(self, resource: Any, type: str | None, *args: Any, **kwargs: Any) -> None:
        """Cleans up a resource.

        The main use is by experiments to ensure that any resources created by the experiment have
        been properly dealt with.
        """

    @abstractmethod
    def get_prev_resource_version(self, resource: Any, *args: Any, **kwargs: Any) -> Any:
        """Returns the previous version of a resource."""

    @abstractmethod
    def get_currently_deployed_model_version(
        self, model_version: Any, *args: Any, **kwargs: Any
    ) -> Any:
        """Returns the currently deployed model version."""

    @abstractmethod
    def get_prediction_job_model_version(
        self, prediction_job: Any, *args: Any, **kwargs: Any
    ) -> Any:
        """Returns the model version used in a prediction job."""

    @abstractmethod
    def get_latest_model_resource(self, model: Any, type: str, *args: Any, **kwargs: Any) -> Any:
        """Returns the latest resource of ``type`` from a model resource.

        Most commonly used to return the latest prediction job created from a model resource.
        """

    @abstractmethod
    def get_winning_experiment(self, model_version: Any, *args: Any, **kwargs: Any) -> Any:
        """Returns the winning experiment from a model version."""

    @abstractmethod
    def build_model_lineage(
        self, model_version: Any, dataset_versions: list[Any], *args: Any, **kwargs: Any
    ) -> None:
        """Logs dataset versions used to create the provided model version."""

    @abstractmethod
    def get_resource_id(self, resource: Any, *args: Any, **kwargs: Any) -> str:
        """Returns the id of the resource."""

    @abstractmethod
    def get_parent_id(
        self, resource: Any, type: str | None = None, *args: Any, **kwargs: Any
    ) -> Any:
        """Returns the id of the parent resource, if any (str, or None)."""

    @abstractmethod
    def register_vc_resource(
        self,
        resource: Any,
        vc_info: dict[str, Any] | None,
        key: str | None = None,
        additional_metadata: dict[str, Any] | None = None,
        *args: Any,
        **kwargs: Any,
    ) -> None:
        """Registers information from a version control component into the metadata tracker.

        Saves version control information, such as commit information, to the resource; ``key`` is
        appended to the names of the values logged; ``additional_metadata`` is logged too.
        """

    @abstractmethod
    def get_vc_info(
        self, resource: Any, key: str = "hexsha", *args: Any, **kwargs: Any
    ) -> dict[str, Any]:
        """Returns the version control information previously logged for the resource.

        This is the information needed to retrieve an object from the version control system,
        typically a git hexsha.
        """

    @abstractmethod
    def log_data_profile(self, resource: Any, file_path: str, *args: Any, **kwargs: Any) -> None:
        """Logs a data profile (a file) to the specified resource."""

    @abstractmethod
    def get_data_profile(self, resource: Any, *args: Any, **kwargs: Any) -> Any:
        """Returns the data profile logged on the resource (a local path), or None."""

    @abstractmethod
    def log_checks(self, resource: Any, file_path: str, *args: Any, **kwargs: Any) -> None:
        """Logs a data check (a file) into the specified resource."""

    @abstractmethod
    def get_data_checks(self, resource: Any, *args: Any, **kwargs: Any) -> Any:
        """Returns the data checks logged on the resource (a local path), or None."""

    @abstractmethod
    def log_data_comparison(self, resource: Any, file_path: str, *args: Any, **kwargs: Any) -> None:
        """Logs a data comparison (a file) into the specified resource."""

    @abstractmethod
    def stop(self, *args: Any, **kwargs: Any) -> None:
        """Stops the active run."""

    @abstractmethod
    def load_model(
        self, model_obj: Any, model_version: Any, ref_model: Any, *args: Any, **kwargs: Any
    ) -> Any:
        """Loads a model trainer object from the metadata tracker.

        model_obj: a fitted model; model_version: the model version to use to retrieve the model
        trainer; ref_model: a model trainer object to use as a reference (similar configs, etc).
        Returns the model trainer object.
        """
