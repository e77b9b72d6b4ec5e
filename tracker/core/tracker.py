"""``Tracker``: the facade. Each method checks nothing and decides nothing: it calls a service.

Services (each takes its dependencies in its constructor, wired in :meth:`Tracker.__init__`):

* :class:`~tracker.core.session.Session`: store, format check, the current run;
* :class:`~tracker.core.resolve.Resolver`: a Resource or a ref string -> a version;
* :class:`~tracker.core.records.Records`: create/close versions, tags, metadata, attributes;
* :class:`~tracker.core.artifacts.Artifacts`: copying files in and out, verified;
* :class:`~tracker.core.query.Query`: ``find``, ``runs``, listings (index: :mod:`.index`);
* :class:`~tracker.core.lifecycle.Lifecycle`: previous/deployed versions, lineage;
* :class:`~tracker.core.deleting.Deletion`: trash, restore, gc;
* :class:`~tracker.core.metrics_api.MetricsAPI`: metric series;
* :class:`~tracker.core.loading.Loader`: ``load_model`` (trusted imports only).

The API is strict: an unknown keyword raises :class:`~tracker.errors.UnknownArgument` (a
``TypeError``) and an attribute that cannot be stored raises. lolpop's loose calling convention is
absorbed by :class:`tracker.integrations.lolpop.interface.FileMetadataTracker`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from tracker.core import gitinfo
from tracker.core.artifacts import Artifacts
from tracker.core.changes import ChangeLog
from tracker.core.check import GRACE_SECONDS, Report
from tracker.core.check import check as check_store
from tracker.core.compare import Comparison
from tracker.core.deleting import Deletion
from tracker.core.items import Items
from tracker.core.lifecycle import UP, Lifecycle
from tracker.core.loading import Loader
from tracker.core.metrics import Metrics
from tracker.core.metrics_api import MetricsAPI, MetricTable
from tracker.core.query import Query
from tracker.core.records import Records
from tracker.core.resolve import Ref, Resolver
from tracker.core.resource import Resource, Series, parse_ref
from tracker.core.resources import Resources
from tracker.core.results import Results
from tracker.core.runs import FAILED, FINISHED, Runs
from tracker.core.session import Session
from tracker.core.strict import strict
from tracker.errors import ArtifactNotFound
from tracker.store import open_store
from tracker.store.chunks import MetricPoint
from tracker.store.discovery import resolve_root

if TYPE_CHECKING:
    from tracker.export.parquet import ExportReport

PathLike = str | os.PathLike[str]


@strict
class Tracker:
    """A metadata tracker whose store is a directory or any fsspec URL.

    ``root``: a path or URL (default ``$TRACKER_ROOT``, else the nearest ``.tracker/`` here or
    above, else ``./.tracker``: :mod:`tracker.store.discovery`); ``storage_options`` go to fsspec
    (credentials, ``endpoint_url``); ``run_name`` names the run opened on the first write;
    ``git_path``: where the code's repository is (default: the working directory); ``fsync``
    flushes every write to the disk; ``trusted_modules``: module prefixes ``load_model`` may
    import; ``write_caches=False``: reads store no derived cache (nothing is written at all).
    """

    def __init__(
        self,
        root: PathLike | None = None,
        storage_options: dict[str, Any] | None = None,
        *,
        run_name: str | None = None,
        git: bool = True,
        git_path: PathLike | None = None,
        fsync: bool = False,
        cache_dir: str | None = None,
        progress: bool = True,
        trusted_modules: Iterable[str] = (),
        write_caches: bool = True,
    ) -> None:
        store = self._store = open_store(resolve_root(root), storage_options, fsync)
        self.url = store.url
        self._items = Items(store)
        self._changes = ChangeLog(store)  # every write find can see logs a line for the index
        self._resources = Resources(store, self._changes)
        self._artifacts = Artifacts(store, cache_dir, progress)
        self._runs = Runs(store, self._items, run_name, git_path, git)
        self._session = Session(store, self._runs, write_caches)
        self._metrics = Metrics(store, self._session.run, changes=self._changes)
        self._resolver = Resolver(self._session, self._resources, self._items)
        self._records = Records(
            self._session,
            self._resolver,
            self._items,
            self._resources,
            self._metrics,
            self._changes,
        )
        self._runs.on_exit = self._records.end_run
        self._query = Query(
            self._session, self._items, self._resources, self._runs, self._metrics, progress
        )
        self._lifecycle = Lifecycle(
            self._session, self._resolver, self._resources, self._runs, self._query
        )
        self._deletion = Deletion(self._session, self._resolver, self._resources, self._runs)
        self._metric_api = MetricsAPI(self._resolver, self._metrics)
        self._loader = Loader(
            self._resolver, self._lifecycle, self._records, self._artifacts, tuple(trusted_modules)
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.url!r})"

    def __enter__(self) -> Tracker:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        self._records.end_run(FAILED if exc_type is not None else FINISHED)

    # -- store and run ---------------------------------------------------------------------------
    @property
    def is_local(self) -> bool:
        """Whether the store is a local directory (artifacts are then read in place)."""
        return self._store.is_local

    @property
    def run_id(self) -> str | None:
        """The id of the open run, or None before the first write and after ``stop()``."""
        return self._runs.current

    def require_store(self) -> None:
        """Raise :class:`~tracker.errors.StoreNotFound` unless a store exists at the root."""
        self._session.require_store()

    def stop(self, status: str = FINISHED) -> None:
        """End the run (idempotent): close what it created, then mark it ``status``."""
        self._records.end_run(status)

    def check(
        self, repair: bool = False, verify: bool = True, grace: float = GRACE_SECONDS
    ) -> Report:
        """fsck (:mod:`tracker.core.check`): ``repair`` removes only provable garbage older than
        ``grace`` seconds; ``verify`` also hashes every artifact."""
        return check_store(self._store, repair=repair, verify=verify, grace=grace)

    # -- resources -------------------------------------------------------------------------------
    def create_resource(
        self,
        id: str | None = None,
        type: str | None = None,
        *,
        parent: Ref | None = None,
        **attributes: Any,
    ) -> Resource:
        """A new version of ``type/id`` (1, 2, ...); keywords are attributes (plain data)."""
        return self._records.create(id, type, parent, attributes)

    def get_resource(
        self,
        id: str,
        type: str | None = None,
        *,
        parent: Ref | None = None,
        version: int | None = None,
    ) -> Resource | Series:
        """That version, or the latest (among ``parent``'s children when given);
        ``type="model"`` is the :class:`Series` of ``model_version/<id>``."""
        return self._resolver.get(id, type, parent, version)

    def update_resource(self, resource: Ref, updates: Mapping[str, Any]) -> Resource:
        """Write ``updates`` as the version's attributes (one file each)."""
        return self._records.write(resource, "attrs", updates)

    def clean_resource(self, resource: Ref) -> None:
        """Close the version: ``end_time``, status FINISHED and a snapshot. Idempotent."""
        self._records.close(self._resolver.resolve(resource))

    def get_resource_id(self, resource: Ref) -> str:
        """The resource's id, e.g. ``titanic`` for ``model_version/titanic@3``."""
        if isinstance(resource, str):
            return parse_ref(resource)[1]
        if isinstance(resource, Resource | Series):
            return resource.id
        return self._resolver.resolve(resource).id  # raises InvalidRef naming what was given

    def get_parent_id(self, resource: Ref) -> str | None:
        """The parent's id, or None."""
        parent = self._resolver.resolve(resource).parent
        return parse_ref(parent)[1] if parent else None

    def describe(self, resource: Ref) -> dict[str, Any]:
        """Identity, attributes, tags, metadata, artifacts and links of one version."""
        return self._records.describe(resource)

    def compare(self, refs_or_results: Any, **options: Any) -> Comparison:
        """Versions or runs side by side (options: :func:`tracker.core.compare.compare`)."""
        from tracker.core.compare import compare

        return compare(self, refs_or_results, **options)

    # -- tags, metadata, attributes --------------------------------------------------------------
    def log_tag(self, resource: Ref, key: str, value: Any) -> None:
        """Set tag ``key`` (last writer wins); one small file write."""
        self._records.write(resource, "tags", {key: value})

    def log_tags(self, resource: Ref, tags: Mapping[str, Any]) -> None:
        """Set several tags; every value is checked before the first is written."""
        self._records.write(resource, "tags", tags)

    def get_tag(self, resource: Ref, key: str, default: Any = None) -> Any:
        """The tag's value, or ``default`` when it was never set; one read."""
        return self._records.read(resource, "tags", key, default)

    def delete_tag(self, resource: Ref, key: str) -> None:
        """Remove tag ``key``; :class:`~tracker.errors.ResourceNotFound` when there is none."""
        self._records.delete_tag(resource, key)

    def get_tags(self, resource: Ref) -> dict[str, Any]:
        """Every tag of the version, from one listing (plus the snapshot when closed)."""
        return self._records.load(resource, "tags")

    def log_metadata(self, resource: Ref, id: str, data: Any) -> None:
        """Store ``data`` under metadata ``id`` (last writer wins; per step: ``log_metric``)."""
        self._records.write(resource, "metadata", {id: data})

    def get_metadata(self, resource: Ref, id: str, default: Any = None) -> Any:
        return self._records.read(resource, "metadata", id, default)

    def get_all_metadata(self, resource: Ref) -> dict[str, Any]:
        return self._records.load(resource, "metadata")

    def get_attributes(self, resource: Ref) -> dict[str, Any]:
        """Creation keywords overlaid with ``update_resource`` and closing attributes."""
        return self._records.load(resource, "attrs")

    # -- artifacts -------------------------------------------------------------------------------
    def log_artifact(
        self, resource: Ref, id: str, path: PathLike, *, follow_symlinks: bool = False
    ) -> None:
        """Copy the file or folder at ``path`` in, recording size and sha256 of the bytes
        copied; links and special files inside a folder are refused unless
        ``follow_symlinks=True``; the store is never copied into itself."""
        res = self._resolver.resolve(resource)
        self._artifacts.log(res, str(id), path, self._session.run(), follow_symlinks)

    def get_artifact(
        self, resource: Ref, id: str, *, dest: PathLike | None = None, overwrite: bool = False
    ) -> str:
        """A verified local path: the store's own copy (local store; do not modify it), the
        download cache, or ``dest/<name>`` (replaced only with ``overwrite=True``)."""
        return self._artifacts.get(self._resolver.resolve(resource), str(id), dest, overwrite)

    def artifacts(self, resource: Ref) -> dict[str, dict[str, Any]]:
        """``{artifact_id: manifest}`` of the version."""
        return self._artifacts.manifests(self._resolver.resolve(resource))

    def _optional_artifact(self, resource: Ref, artifact_id: str) -> str | None:
        try:
            return self.get_artifact(resource, artifact_id)
        except ArtifactNotFound:
            return None

    def log_data_profile(self, resource: Ref, file_path: PathLike) -> None:
        self.log_artifact(resource, "data_profile", file_path)

    def get_data_profile(self, resource: Ref) -> str | None:
        return self._optional_artifact(resource, "data_profile")

    def log_checks(self, resource: Ref, file_path: PathLike, *, type: str = "data") -> None:
        self.log_artifact(resource, f"{type}_checks", file_path)

    def get_data_checks(self, resource: Ref, *, type: str = "data") -> str | None:
        return self._optional_artifact(resource, f"{type}_checks")

    def log_data_comparison(self, resource: Ref, file_path: PathLike) -> None:
        self.log_artifact(resource, "data_comparison", file_path)

    def get_data_comparison(self, resource: Ref) -> str | None:
        return self._optional_artifact(resource, "data_comparison")

    # -- version control -------------------------------------------------------------------------
    def register_vc_resource(
        self,
        resource: Ref,
        vc_info: Mapping[str, Any] | None,
        key: str | None = None,
        additional_metadata: Mapping[str, Any] | None = None,
    ) -> None:
        """Record ``<key>_hexsha``/``<key>_uri`` (HEAD when no hexsha: see
        :func:`tracker.core.gitinfo.vc_items`) and ``additional_metadata`` as metadata."""
        items = gitinfo.vc_items(vc_info, key)
        items.update(additional_metadata or {})
        self._records.write(resource, "metadata", items)

    def get_vc_info(self, resource: Ref, key: str = "hexsha") -> dict[str, Any]:
        """``{"hexsha": ..., "uri": ...}`` as registered (``key`` may be ``X`` or ``X_hexsha``)."""
        prefix = key[: -len("hexsha")] if key.endswith("hexsha") else f"{key}_"
        return {
            "hexsha": self.get_metadata(resource, f"{prefix}hexsha"),
            "uri": self.get_metadata(resource, f"{prefix}uri"),
        }

    # -- model lifecycle and lineage -------------------------------------------------------------
    def get_prev_resource_version(
        self, resource: Ref, *, filters: Mapping[str, Any] | str | None = None, num: int = 1
    ) -> Resource | list[Resource] | None:
        """The newest earlier version(s) whose run did not fail; ``filters``: tags
        (``{"status": "DEPLOYED"}``) or a ``where`` expression; ``num > 1``: a list."""
        return self._lifecycle.previous(resource, filters, num)

    def get_currently_deployed_model_version(self, model_version: Ref) -> Resource | None:
        """Newest earlier version DEPLOYED, else PROMOTED, else the previous good one."""
        return self._lifecycle.deployed(model_version)

    def get_prediction_job_model_version(self, prediction_job: Ref) -> Resource | None:
        return self._lifecycle.prediction_job_model(prediction_job)

    def get_latest_model_resource(self, model: Ref, type: str) -> Resource | None:
        """Newest resource of ``type`` among the children of the model's versions."""
        return self._lifecycle.latest_model_resource(model, type)

    def get_winning_experiment(self, model_version: Ref) -> Resource | None:
        return self._lifecycle.winning_experiment(model_version)

    def build_model_lineage(self, model_version: Ref, dataset_versions: Sequence[Ref]) -> None:
        """Link a model version to its datasets (both ways); ``[]`` copies the previous one's."""
        self._lifecycle.build_lineage(model_version, dataset_versions)

    def lineage(self, resource: Ref, direction: str = UP, depth: int | None = None) -> Any:
        """The lineage tree ``{"ref", "relation", "links"}``, ``up`` or ``down``."""
        return self._lifecycle.lineage(resource, direction, depth)

    def load_model(
        self,
        model_obj: Any,
        model_version: Ref,
        ref_model: Any = None,
        *,
        loader: Callable[[str], Any] | None = None,
    ) -> Any:
        """A trainer for the winning experiment holding ``model_obj`` (:mod:`.loading`)."""
        return self._loader.load_model(model_obj, model_version, ref_model, loader)

    # -- queries ---------------------------------------------------------------------------------
    def find(
        self,
        type: str | None = None,
        id: str | None = None,
        where: str | None = None,
        order_by: str | None = None,
        limit: int | None = None,
    ) -> Results:
        """Versions matching ``where`` (``tags.status = 'DEPLOYED'``), ordered by ``order_by``
        (``-version``, ``metadata.f1 desc``), at most ``limit``."""
        return self._query.find(type, id, where, order_by, limit)

    def runs(
        self,
        where: str | None = None,
        order_by: str | None = "-start_time",
        limit: int | None = None,
    ) -> Results:
        """Runs matching ``where`` (``status = 'FAILED'``), newest first by default."""
        return self._query.runs(where, order_by, limit)

    def iter_rows(self, type: str | None = None, id: str | None = None) -> Iterator[dict[str, Any]]:
        """The flat row (as in ``find``) of every version, streamed through the query index."""
        return self._query.iter_rows(type, id)

    def iter_run_rows(self) -> Iterator[dict[str, Any]]:
        """The flat row (as in ``runs``) of every run, oldest first."""
        return self._query.iter_run_rows()

    def export_parquet(
        self, dest: str, storage_options: dict[str, Any] | None = None
    ) -> ExportReport:
        """Bring the Parquet export at ``dest`` (a folder or fsspec URL) up to date: only what
        changed since the last export is written (:mod:`tracker.export.parquet`)."""
        from tracker.export.parquet import export_parquet

        return export_parquet(self, dest, storage_options)

    def sql(
        self,
        query: str,
        parquet: str | None = None,
        storage_options: dict[str, Any] | None = None,
        refresh: bool = True,
    ) -> Results:
        """DuckDB ``query`` over the tables ``versions``, ``runs``, ``metrics`` of a Parquet
        export (``parquet``, else one kept in the local cache; ``refresh`` updates it first)."""
        from tracker.export.sql import run_sql

        cache = self._artifacts.cache_dir
        rows = run_sql(self, query, parquet, storage_options, refresh, cache)
        return Results(rows, rows, "rows")

    def series(self, type: str | None = None) -> list[dict[str, Any]]:
        """One dict per series: ``type, id, versions, latest_version, latest_ref, ...``."""
        return self._query.series(type)

    def run_ids(self) -> list[str]:
        return self._query.run_ids()

    def run(self, run_id: str) -> dict[str, Any]:
        """One run: ``run.yaml``, attrs, status, end_time, ``created`` refs."""
        return self._query.run(run_id)

    # -- deletion --------------------------------------------------------------------------------
    def check_delete(self, target: Ref) -> None:
        """Raise what deleting ``target`` (a version or a run id) would raise; writes nothing."""
        self._deletion.check_delete(target)

    def check_restore(self, target: str) -> str:
        return self._deletion.check_restore(target)

    def delete_resource(self, resource: Ref) -> dict[str, Any]:
        """Move one version to the trash (:mod:`tracker.core.trash`); its number stays taken."""
        return self._deletion.delete_version(resource)

    def delete_run(self, run_id: str, with_versions: bool = False) -> list[dict[str, Any]]:
        return self._deletion.delete_run(run_id, with_versions)

    def restore(self, target: str) -> list[dict[str, Any]]:
        """Bring back a deleted version ref, run id (with its group) or trash id."""
        return self._deletion.restore(target)

    def restore_resource(self, resource: Ref) -> Resource:
        return self._deletion.restore_version(resource)

    def restore_run(self, run_id: str) -> list[dict[str, Any]]:
        return self._deletion.restore_run(run_id)

    def trash(self) -> list[dict[str, Any]]:
        """The trash entries, oldest first."""
        return self._deletion.entries()

    def gc(self, older_than: str | float = "30d") -> list[dict[str, Any]]:
        """Purge trash entries deleted more than ``older_than`` ago (``30d``, ``12h``, ...)."""
        return self._deletion.gc(older_than)

    def is_deleted(self, resource: Ref) -> bool:
        return self._deletion.is_deleted(resource)

    # -- metric series ---------------------------------------------------------------------------
    def log_metric(
        self, resource: Ref, key: str, value: Any, step: int | None = None, timestamp: Any = None
    ) -> None:
        """Add a point to series ``key`` (buffered: 1,000 points or 5 s, flush, close, exit)."""
        self._metric_api.log_metric(resource, key, value, step, timestamp)

    def log_metrics(
        self, resource: Ref, metrics: Mapping[str, Any], step: int | None = None
    ) -> None:
        self._metric_api.log_metrics(resource, metrics, step)

    def get_metric_history(self, resource: Ref, key: str) -> list[MetricPoint]:
        return self._metric_api.get_metric_history(resource, key)

    def get_metrics(self, resource: Ref) -> dict[str, int | float]:
        """The last value of every key."""
        return self._metric_api.get_metrics(resource)

    def metric_summary(self, resource: Ref) -> dict[str, dict[str, Any]]:
        return self._metric_api.metric_summary(resource)

    def metric_history(
        self, refs_or_results: Any, keys: Iterable[str] | str | None = None
    ) -> MetricTable:
        """A long table ``ref, run_id, key, step, timestamp, value`` over versions."""
        return self._metric_api.metric_history(refs_or_results, keys)

    def flush(self) -> None:
        """Write every buffered metric point now."""
        self._metric_api.flush()

    def plot(self, refs_or_results: Any, key: str, **options: Any) -> Any:
        """Curves of ``key`` as an inline SVG figure (options: title, width, height, log_y)."""
        return self._metric_api.plot(refs_or_results, key, **options)
