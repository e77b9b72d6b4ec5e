"""lolpop's ``FileMetadataTracker``: a lolpop component over :class:`tracker.FileMetadataTracker`.

lolpop treats a component as its metadata tracker only when the class's module path reads
``...metadata_tracker.<file>``; otherwise it builds a default MLflow tracker inside it. That is
why this module lives where it does. It imports lolpop, so import it only where lolpop is
installed (``tracker.integrations.lolpop.register()`` does not).

Config (``metadata_tracker: config:``), all optional: ``root`` (a directory or fsspec URL;
default as for ``Tracker()``: see :mod:`tracker.store.discovery`), ``storage_options``,
``run_name``, ``git``, ``git_path``, ``fsync``, ``cache_dir``, ``progress`` (see
:class:`tracker.Tracker`). Other keys (e.g. ``mlflow_tracking_uri``) are ignored, so switching
from MLflow is the one line ``component: metadata_tracker: FileMetadataTracker``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lolpop.component.metadata_tracker.base_metadata_tracker import BaseMetadataTracker
from lolpop.utils import common_utils as lolpop_utils
from omegaconf import DictConfig, ListConfig, OmegaConf

from tracker.core.resource import Resource, named
from tracker.errors import ResourceNotFound, TrackerError, UnsupportedValue
from tracker.integrations.lolpop.loose import FileMetadataTracker as LooseTracker
from tracker.store.codec import to_plain

__all__ = ["FileMetadataTracker"]

_OPTIONS = ("run_name", "git", "git_path", "fsync", "cache_dir", "progress")


class FileMetadataTracker(BaseMetadataTracker):
    """lolpop's metadata-tracker interface on a YAML store (local directory, S3, any fsspec URL).

    State lives under underscore names because lolpop sets every peer component (``logger``,
    ``model_trainer``, ...) as an attribute of the tracker. The underlying tracker is
    :attr:`tracker`, for queries and lineage.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        own = _plain_config(self.config)
        options = {k: own[k] for k in _OPTIONS if own.get(k) is not None}
        storage = own.get("storage_options")
        self._tracker = LooseTracker(
            own.get("root"),
            storage_options=dict(storage) if isinstance(storage, Mapping) else None,
            **options,
        )
        self.url: str = self._tracker.url
        self.log(f"Using tracker store {self.url}", level="INFO")

    @property
    def tracker(self) -> LooseTracker:
        """The :class:`tracker.Tracker` this component writes through."""
        return self._tracker

    # -- values ----------------------------------------------------------------------------------
    def _plain(self, value: Any, key: str) -> Any:
        """Plain YAML data for ``value``; what cannot be stored is logged as ``str(value)`` (as
        lolpop's MLflow tracker does with every value) rather than failing a training run."""
        if isinstance(value, DictConfig | ListConfig):
            value = OmegaConf.to_container(value, resolve=True)
        try:
            return to_plain(value, key)
        except UnsupportedValue as exc:
            self.log(f"{exc}; storing str(value) instead", level="WARN")
            return str(value)

    # -- resources -------------------------------------------------------------------------------
    def create_resource(
        self,
        id: str | None = None,
        type: str | None = None,
        parent: Any = None,
        *args: Any,
        **kwargs: Any,
    ) -> Resource:
        """A new version of ``type/id``; experiments (``id=None``) get a unique generated id.
        Keywords such as ``prediction_count`` become attributes."""
        return self._tracker.create_resource(
            None if id is None else str(id), type, parent=parent, **kwargs
        )

    def get_resource(
        self, id: str, type: str | None = None, parent: Any = None, *args: Any, **kwargs: Any
    ) -> Resource:
        """The latest version of ``type/id`` (among ``parent``'s children when given);
        ``type="model"`` is the series handle lolpop passes to ``get_latest_model_resource``."""
        return self._tracker.get_resource(str(id), type, parent=parent, **kwargs)

    def update_resource(
        self, resource: Any, updates: Mapping[str, Any], *args: Any, **kwargs: Any
    ) -> Resource:
        plain = {str(k): self._plain(v, str(k)) for k, v in (updates or {}).items()}
        return self._tracker.update_resource(resource, plain)

    def clean_resource(
        self, resource: Any, type: str | None = None, *args: Any, **kwargs: Any
    ) -> None:
        self._tracker.clean_resource(resource, type)

    def get_resource_id(self, resource: Any, *args: Any, **kwargs: Any) -> str:
        """The id as a str (lolpop builds file names and job ids from it)."""
        return str(self._tracker.get_resource_id(resource))

    def get_parent_id(self, resource: Any, *args: Any, **kwargs: Any) -> str | None:
        """The parent's id. lolpop's ``type=`` names the type of ``resource`` itself (``type=
        "experiment"`` asks for the model version's id), so it is not a filter here."""
        return self._tracker.get_parent_id(resource)

    def stop(self, *args: Any, **kwargs: Any) -> None:
        """End the run; the tracker stays usable (the next write opens a new run)."""
        self._tracker.stop()

    # -- tags and metadata -----------------------------------------------------------------------
    def log_tag(self, resource: Any, key: str, value: Any, *args: Any, **kwargs: Any) -> None:
        self._tracker.log_tag(resource, str(key), self._plain(value, str(key)))

    def get_tag(self, resource: Any, key: str, *args: Any, **kwargs: Any) -> Any:
        return self._tracker.get_tag(resource, str(key))

    def log_metadata(self, resource: Any, id: str, data: Any, *args: Any, **kwargs: Any) -> None:
        self._tracker.log_metadata(resource, str(id), self._plain(data, str(id)))

    def get_metadata(self, resource: Any, id: str, *args: Any, **kwargs: Any) -> Any:
        return self._tracker.get_metadata(resource, str(id))

    # -- artifacts -------------------------------------------------------------------------------
    def log_artifact(self, resource: Any, id: str, path: str, *args: Any, **kwargs: Any) -> None:
        """Copy the file in now (lolpop also passes ``external=``/``mime_type=``: ignored)."""
        self._tracker.log_artifact(resource, str(id), path)

    def get_artifact(self, resource: Any, id: str, *args: Any, **kwargs: Any) -> str:
        """A verified local path to the artifact."""
        return self._tracker.get_artifact(resource, str(id))

    def log_data_profile(self, resource: Any, file_path: str, *args: Any, **kwargs: Any) -> None:
        self._tracker.log_data_profile(resource, file_path)

    def get_data_profile(self, resource: Any, *args: Any, **kwargs: Any) -> str | None:
        return self._tracker.get_data_profile(resource)

    def log_checks(
        self, resource: Any, file_path: str, type: str = "data", *args: Any, **kwargs: Any
    ) -> None:
        self._tracker.log_checks(resource, file_path, type=type)

    def get_data_checks(
        self, resource: Any, *args: Any, type: str = "data", **kwargs: Any
    ) -> str | None:
        return self._tracker.get_data_checks(resource, type=type)

    def log_data_comparison(self, resource: Any, file_path: str, *args: Any, **kwargs: Any) -> None:
        self._tracker.log_data_comparison(resource, file_path)

    # -- version control -------------------------------------------------------------------------
    def register_vc_resource(
        self,
        resource: Any,
        vc_info: Mapping[str, Any] | None,
        key: str | None = None,
        additional_metadata: Mapping[str, Any] | None = None,
        *args: Any,
        **kwargs: Any,
    ) -> None:
        """Record the version control's ``hexsha``/``uri``; ``vc_info=None`` (no version control
        configured) records the code's git commit when there is one."""
        info = {str(k): self._plain(v, str(k)) for k, v in (vc_info or {}).items()}
        if info.get("hexsha") in (None, "", "None"):  # lolpop's RVCs write "None" for "no commit"
            info.pop("hexsha", None)
        extra = {str(k): self._plain(v, str(k)) for k, v in (additional_metadata or {}).items()}
        self._tracker.register_vc_resource(resource, info or None, key, extra or None)

    def get_vc_info(
        self, resource: Any, key: str = "hexsha", *args: Any, **kwargs: Any
    ) -> dict[str, Any]:
        return self._tracker.get_vc_info(resource, key)

    # -- lifecycle -------------------------------------------------------------------------------
    def get_prev_resource_version(
        self, resource: Any, extra_filters: Any = None, num: int = 1, *args: Any, **kwargs: Any
    ) -> Resource | list[Resource] | None:
        """The previous version(s) whose run did not fail. ``extra_filters`` are MLflow search
        strings (only lolpop's MLflow model repository passes them) and are ignored;
        ``filters=`` takes the tracker's own (a tag mapping or a ``where`` expression)."""
        filters = kwargs.get("filters")
        return self._tracker.get_prev_resource_version(resource, filters=filters, num=int(num))

    def get_currently_deployed_model_version(
        self, model_version: Any, *args: Any, **kwargs: Any
    ) -> Resource | None:
        return self._tracker.get_currently_deployed_model_version(model_version)

    def get_prediction_job_model_version(
        self, prediction_job: Any, *args: Any, **kwargs: Any
    ) -> Resource | None:
        return self._tracker.get_prediction_job_model_version(prediction_job)

    def get_latest_model_resource(
        self, model: Any, type: str, *args: Any, **kwargs: Any
    ) -> Resource | None:
        return self._tracker.get_latest_model_resource(model, type)

    def get_winning_experiment(self, model_version: Any, *args: Any, **kwargs: Any) -> Any:
        return self._tracker.get_winning_experiment(model_version)

    def build_model_lineage(
        self, model_version: Any, dataset_versions: list[Any], *args: Any, **kwargs: Any
    ) -> None:
        """Link the model version to its datasets, skipping entries from other stores.

        lolpop passes ``BaseProcess.datasets_used``, a class-level list shared by every runner
        in the process, so it may name versions some other tracker created.
        """
        mine: list[Resource] = []
        for dv in dataset_versions or []:
            found = self._own(dv)
            if found is None:
                self.log(f"lineage: {dv} is not in {self.url}; skipped", level="WARN")
            elif found not in mine:
                mine.append(found)
        if dataset_versions and not mine:
            return  # nothing of ours: do not fall back to copying the previous version's lineage
        self._tracker.build_model_lineage(model_version, mine)

    def _own(self, resource: Any) -> Resource | None:
        """``resource`` as found in this store, or None when it is not (or another run's)."""
        try:
            if isinstance(resource, str):
                resource = named(resource)  # a Series for type/id
            if not isinstance(resource, Resource) or resource.version is None:
                return None
            found = self._tracker.get_resource(resource.id, resource.type, version=resource.version)
        except (TrackerError, KeyError, ValueError):
            return None
        if resource.run_id and found.run_id and resource.run_id != found.run_id:
            return None
        return found

    # -- load_model ------------------------------------------------------------------------------
    def load_model(
        self, model_obj: Any, model_version: Any, ref_model: Any, *args: Any, **kwargs: Any
    ) -> Any:
        """A lolpop model trainer for ``model_version``'s winner, holding ``model_obj``.

        As lolpop's MLflow tracker does: the trainer class is looked up by the bare class name
        recorded as ``winning_experiment_model_trainer`` with lolpop's own class loader, which
        only resolves classes lolpop already knows (built-ins, extensions, configured plugins),
        never an import path read from the store. The winning feature transformer, if any, is
        rebuilt the same way and its fitted object fetched from resource version control.
        """
        name = self.get_metadata(model_version, "winning_experiment_model_trainer")
        if not name:
            raise ResourceNotFound(
                f"{model_version} records no 'winning_experiment_model_trainer' in {self.url}"
            )
        deps = self._dependencies()
        if ref_model is not None:
            conf, params = ref_model.config, ref_model.params
            parent, problem_type = ref_model.parent, ref_model.problem_type
        else:
            conf, params, parent, problem_type = {}, {}, self, self.problem_type
        model = self._lolpop_class(str(name))(
            conf=conf,
            parent=parent,
            is_standalone=True,
            problem_type=problem_type,
            params=params,
            dependent_integrations=deps,
        )
        if model_obj is not None:
            model._set_model(model_obj)

        ft_name = self.get_metadata(model_version, "winning_experiment_feature_transformer")
        if ft_name:
            ft_config = self.get_metadata(
                model_version, "winning_experiment_feature_transformer_config"
            )
            if isinstance(ft_config, str):
                ft_config = lolpop_utils.parse_dict_string(ft_config)
            transformer = self._lolpop_class(str(ft_name))(
                conf={"config": ft_config or {}},
                parent=self,
                is_standalone=True,
                problem_type=self.problem_type,
                dependent_integrations=deps,
            )
            model.feature_transformer = transformer
            experiment = self.get_winning_experiment(model_version)
            rvc = getattr(self, "resource_version_control", None)
            fitted = rvc.get_feature_transformer(experiment) if rvc and experiment else None
            if fitted is not None:
                transformer._set_transformer(fitted)
                model._set_transformer(transformer)
        return model

    def _lolpop_class(self, name: str) -> Any:
        cls = lolpop_utils.load_class(
            name, plugin_mods=getattr(self, "plugin_mods", []) or [], self_obj=self
        )
        if cls is None:
            raise ResourceNotFound(
                f"lolpop knows no class {name!r} (recorded in {self.url}); install or configure "
                "the component that defines it"
            )
        return cls

    def _dependencies(self) -> dict[str, dict[str, Any]]:
        """The peers a rebuilt component needs; lolpop set them on this tracker if configured."""
        names = ("logger", "notifier", "metrics_tracker", "resource_version_control")
        component = {n: getattr(self, n, None) for n in names}
        component["metadata_tracker"] = self
        return {"component": component}


def _plain_config(config: Any) -> dict[str, Any]:
    if isinstance(config, DictConfig):
        config = OmegaConf.to_container(config, resolve=True)
    return {str(k): v for k, v in (config or {}).items()} if isinstance(config, Mapping) else {}
