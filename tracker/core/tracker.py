"""``FileMetadataTracker``: the BaseMetadataTracker on YAML files and copied artifacts.

This module holds identity, resources, key values and artifacts; the model-lifecycle lookups,
lineage, queries and ``load_model`` come from the mixins next to it. Nothing here builds a path by
hand or touches fsspec: that is the store layer's job.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from tracker.base import BaseMetadataTracker
from tracker.core import gitinfo
from tracker.core.check import GRACE_SECONDS, Report
from tracker.core.check import check as check_store
from tracker.core.compare import Comparison
from tracker.core.deleting import DeletionMixin
from tracker.core.items import LINK_KINDS, now, values
from tracker.core.lifecycle import LifecycleMixin
from tracker.core.loading import LoadingMixin
from tracker.core.metrics_api import MetricsMixin
from tracker.core.query import QueryMixin
from tracker.core.resource import MODEL, MODEL_VERSION, Resource, parse_ref
from tracker.core.runs import FAILED, FINISHED
from tracker.errors import (
    ArtifactNotFound,
    CorruptFile,
    InvalidArgument,
    KeyCollision,
    ResourceNotFound,
    UnsupportedValue,
    VersionControlError,
)
from tracker.store import paths
from tracker.store.codec import to_plain

ITEM_KINDS = ("attrs", "tags", "metadata")
CLOSED = "FINISHED"


class FileMetadataTracker(
    LifecycleMixin, QueryMixin, LoadingMixin, DeletionMixin, MetricsMixin, BaseMetadataTracker
):
    """A metadata tracker whose store is a directory or any fsspec URL.

    ``root``: a path or URL (default ``$TRACKER_ROOT``, else the nearest ``.tracker/`` here or
    above, else ``./.tracker``: :mod:`tracker.store.discovery`); ``storage_options``
    go to fsspec (credentials, ``endpoint_url``); ``run_name`` names the run this tracker opens on
    its first write; ``git_path`` is where to look for the code's repository (default: the working
    directory); ``fsync=True`` flushes every write to the disk; ``trusted_modules`` lists the module
    prefixes ``load_model`` may import.
    """

    def stop(self, *args: Any, status: str = FINISHED, **kwargs: Any) -> None:
        """End the run (idempotent): close what it created, then mark it ``status``."""
        self._stop_with(status)

    def _stop_with(self, status: str) -> None:
        failure: BaseException | None = None
        try:
            self._metrics.flush()  # metric points buffered by this process (tracker.core.metrics)
        except Exception as exc:  # kept in the buffer; the run's end is still recorded
            failure = exc
        if self._runs.current is None:
            if failure is not None:
                raise failure
            return
        run_id = self._runs.current
        for rtype, rid, version in self._runs.created:
            res = Resource(rtype, rid, version)
            path = paths.item_file(rtype, rid, version, "attrs", "run_status")
            try:
                self._changes.before(rtype, rid, version)
                self._items.write(path, "run_status", status, run_id)
                self._changes.after(rtype, rid, version)
                self._close(res, status, refresh=True)
            except (CorruptFile, KeyCollision):
                continue  # someone's damaged file: no snapshot for it (fsck reports it)
            except Exception as exc:  # the store failed: still try to record the run's end
                failure = failure or exc
        self._runs.stop(status)
        if failure is not None:
            raise failure

    def __enter__(self) -> FileMetadataTracker:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        self._stop_with(FAILED if exc_type is not None else FINISHED)

    def create_resource(
        self,
        id: str | None = None,
        type: str | None = None,
        *args: Any,
        parent: Any = None,
        **kwargs: Any,
    ) -> Resource:
        """A new version of ``type/id`` (version 1, 2, ...); extra keywords become attributes."""
        rtype = type or "resource"
        parent_res = self._resolve(parent) if parent is not None else None
        attributes = {}
        for key, value in kwargs.items():
            try:
                attributes[key] = to_plain(value, key)
            except UnsupportedValue:
                continue  # callers pass objects (dataframes, classes) that are not metadata
        run_id = self._run()
        res = self._resources.create(rtype, id, run_id, parent_res, attributes)
        self._runs.created.append((res.type, res.id, res.version or 0))
        return res

    def get_resource(
        self,
        id: str,
        type: str | None = None,
        *args: Any,
        parent: Any = None,
        version: int | None = None,
        **kwargs: Any,
    ) -> Resource:
        """That version, or the latest (among ``parent``'s children when given)."""
        rtype = type or "resource"
        id = str(id)
        if rtype == MODEL:
            if self._resources.latest_version(MODEL_VERSION, id) == 0:
                raise ResourceNotFound(f"no model {id!r} (no model_version/{id}) in {self.url}")
            return Resource(MODEL, id, None)
        if version is not None:
            return self._resolve(f"{rtype}/{id}@{int(version)}")
        if parent is not None:
            kids = [
                r
                for r in self._resources.links(self._resolve(parent), "children", rtype)
                if r.id == id
            ]
            if not kids:
                raise ResourceNotFound(
                    f"no {rtype}/{id} among the children of {parent} in {self.url}"
                )
            return self._resolve(kids[-1].ref)
        return self._latest(rtype, id)

    def update_resource(
        self, resource: Any, updates: Mapping[str, Any], *args: Any, **kwargs: Any
    ) -> Resource:
        """Write ``updates`` as the resource's attributes (one file each); returns the resource."""
        return self._write_items(resource, "attrs", updates)

    def clean_resource(
        self, resource: Any, type: str | None = None, *args: Any, **kwargs: Any
    ) -> None:
        """Close the version: ``end_time``, status FINISHED and a snapshot. Idempotent."""
        self._close(self._resolve(resource), CLOSED)

    def _close(self, res: Resource, status: str, refresh: bool = False) -> None:
        """Write end_time/status once, then the snapshot (again, with ``refresh``, so that what
        the run's end wrote is in it)."""
        assert res.version is not None
        vdir = paths.version_dir(res.type, res.id, res.version)
        status_file = paths.item_file(res.type, res.id, res.version, "attrs", "status")
        if self._items.read(status_file, "status"):
            snapshot = paths.snapshot_file(res.type, res.id, res.version)
            if not refresh and self._store.exists(snapshot):
                return
        else:
            self._write_items(res, "attrs", {"end_time": now(), "status": status})
        self._metrics.compact((res.type, res.id, res.version))  # flush + compact.tsv per key
        doc = self._resources.doc(res.type, res.id, res.version)
        self._items.snapshot(vdir, (*ITEM_KINDS, "manifests"), resource=doc)

    def get_resource_id(self, resource: Any, *args: Any, **kwargs: Any) -> str:
        """The resource's id (a str), e.g. ``titanic`` for ``model_version/titanic@3``."""
        if isinstance(resource, str):
            return parse_ref(resource)[1]
        return str(self._resolve(resource, allow_series=True).id)

    def get_parent_id(
        self, resource: Any, type: str | None = None, *args: Any, **kwargs: Any
    ) -> str | None:
        """The parent's id, or None. ``type`` may name the parent's type or, as lolpop passes
        it, the resource's own; any other type means "no parent of that type"."""
        res = self._resolve(resource)
        if not res.parent:
            return None
        ptype, pid, _ = parse_ref(res.parent)
        if type is not None and type not in (ptype, res.type, MODEL):
            return None
        return pid

    # -- tags, metadata, attributes --------------------------------------------------------------
    def _item_path(self, resource: Any, kind: str, key: str) -> str:
        res = self._resolve(resource)
        assert res.version is not None
        return paths.item_file(res.type, res.id, res.version, kind, str(key))

    def _write_items(self, resource: Any, kind: str, items: Mapping[str, Any]) -> Resource:
        """One key file per item of ``kind``; every value is checked before the first write."""
        res = self._resolve(resource)
        assert res.version is not None
        run_id = self._run()
        writes = [
            (paths.item_file(res.type, res.id, res.version, kind, str(k)), str(k), v)
            for k, v in items.items()
        ]
        self._changes.before(res.type, res.id, res.version)  # the query index learns of it
        self._items.write_many(writes, run_id)
        self._changes.after(res.type, res.id, res.version)
        return res

    def _read_item(self, resource: Any, kind: str, key: str, default: Any) -> Any:
        rec = self._items.read(self._item_path(resource, kind, key), str(key))
        return default if rec is None else rec.get("value")

    def log_tag(self, resource: Any, key: str, value: Any, *args: Any, **kwargs: Any) -> None:
        """Set tag ``key`` (last writer wins); one small file write."""
        self._write_items(resource, "tags", {key: value})

    def log_tags(self, resource: Any, tags: Mapping[str, Any], *args: Any, **kwargs: Any) -> None:
        """Set several tags; every value is checked before the first is written."""
        self._write_items(resource, "tags", tags)

    def get_tag(
        self, resource: Any, key: str, *args: Any, default: Any = None, **kwargs: Any
    ) -> Any:
        """The tag's value, or ``default`` (None) when it was never set; one read."""
        return self._read_item(resource, "tags", key, default)

    def delete_tag(self, resource: Any, key: str) -> None:
        """Remove tag ``key`` (its key file; the write is part of the run, like any write).

        Reads list the version's files, so the removed tag is gone for ``get_tag``, bulk reads
        and ``find`` (whose index validates against the directory); a closed version's snapshot
        is rewritten so it no longer carries the old value. Raises :class:`ResourceNotFound`
        when the version has no such tag."""
        res = self._resolve(resource)
        assert res.version is not None
        path = paths.item_file(res.type, res.id, res.version, "tags", str(key))
        if self._items.read(path, str(key)) is None:
            raise ResourceNotFound(f"{res.ref} has no tag {key!r}; see `tracker show {res.ref}`")
        self._run()
        self._changes.before(res.type, res.id, res.version)  # the query index learns of it
        self._store.remove(path)
        if self._store.exists(paths.snapshot_file(res.type, res.id, res.version)):
            doc = self._resources.doc(res.type, res.id, res.version)
            vdir = paths.version_dir(res.type, res.id, res.version)
            self._items.snapshot(vdir, (*ITEM_KINDS, "manifests"), resource=doc)
        self._changes.after(res.type, res.id, res.version)

    def log_metadata(self, resource: Any, id: str, data: Any, *args: Any, **kwargs: Any) -> None:
        """Store ``data`` under metadata ``id`` (last writer wins). A value per step is a metric:
        ``step=`` raises :class:`InvalidArgument` pointing to ``log_metric``."""
        if "step" in kwargs:
            raise InvalidArgument(
                f"log_metadata({id!r}, ..., step={kwargs['step']!r}): metadata keeps one value "
                f"per key; for a value per step use log_metric(resource, {id!r}, value, step=...)"
            )
        self._write_items(resource, "metadata", {id: data})

    def get_metadata(
        self, resource: Any, id: str, *args: Any, default: Any = None, **kwargs: Any
    ) -> Any:
        return self._read_item(resource, "metadata", id, default)

    def _load(
        self, resource: Any, kinds: tuple[str, ...]
    ) -> tuple[Resource, dict[str, dict[str, Any]]]:
        res = self._resolve(resource)
        assert res.version is not None
        return res, self._items.load(paths.version_dir(res.type, res.id, res.version), kinds)

    def get_tags(self, resource: Any) -> dict[str, Any]:
        """Every tag of the version, from one listing (plus the snapshot when closed)."""
        return values(self._load(resource, ("tags",))[1]["tags"])

    def get_all_metadata(self, resource: Any) -> dict[str, Any]:
        return values(self._load(resource, ("metadata",))[1]["metadata"])

    def get_attributes(self, resource: Any) -> dict[str, Any]:
        """Creation keywords overlaid with ``update_resource`` and closing attributes."""
        res, loaded = self._load(resource, ("attrs",))
        return self._attributes(res, loaded["attrs"])

    def _attributes(self, res: Resource, records: dict[str, Any]) -> dict[str, Any]:
        assert res.version is not None
        doc = self._resources.doc(res.type, res.id, res.version) or {}
        return {**(doc.get("attributes") or {}), **values(records)}

    def describe(self, resource: Any) -> dict[str, Any]:
        """Identity, attributes, tags, metadata, artifacts and links of one version, from one
        listing (plus the snapshot when the version is closed)."""
        kinds = (*ITEM_KINDS, "manifests", *LINK_KINDS)
        res = self._resolve(resource)
        assert res.version is not None
        vdir = paths.version_dir(res.type, res.id, res.version)
        listing = self._items.listing(vdir, kinds)
        held = self._items.resource_doc(vdir, listing)
        if held is not None:
            self._resources.remember(res.type, res.id, res.version, held)
        # without a snapshot, read afresh: a version deleted meanwhile must not describe itself
        doc = self._resources.doc(res.type, res.id, res.version, fresh=held is None)
        if doc is None:
            raise ResourceNotFound(self._missing(res.type, res.id, res.version))
        loaded = self._items.load(vdir, kinds, listing)
        links: dict[str, list[str]] = {kind: [] for kind in LINK_KINDS}
        for rel in listing:
            parts = rel.split("/")
            if len(parts) == 3 and parts[0] in links:
                try:
                    ltype, lid, lver = paths.parse_pointer(parts[1], parts[2])
                except ValueError:
                    continue
                links[parts[0]].append(Resource(ltype, lid, lver).ref)
        return {
            "ref": res.ref,
            "type": res.type,
            "id": res.id,
            "version": res.version,
            "run_id": res.run_id,
            "parent": res.parent,
            "created_at": doc.get("created_at"),
            "attrs": self._attributes(res, loaded["attrs"]),
            "tags": values(loaded["tags"]),
            "metadata": values(loaded["metadata"]),
            "artifacts": {
                aid: _artifact_summary(m) for aid, m in sorted(loaded["manifests"].items())
            },
            **{kind: sorted(refs) for kind, refs in links.items()},
        }

    def compare(self, refs_or_results: Any, **options: Any) -> Comparison:
        """Versions or runs side by side, one row per flattened field (see
        :func:`tracker.core.compare.compare` for ``differences_only``, ``best`` and ``keys``)."""
        from tracker.core.compare import compare

        return compare(self, refs_or_results, **options)

    # -- artifacts -------------------------------------------------------------------------------
    def log_artifact(
        self,
        resource: Any,
        id: str,
        path: str | os.PathLike[str],
        *args: Any,
        follow_symlinks: bool = False,
        **kwargs: Any,
    ) -> None:
        """Copy the file or directory at ``path`` in now, recording sizes and sha256 of the
        bytes copied. Links, FIFOs, sockets and devices inside a directory are refused (listed)
        unless ``follow_symlinks=True``; the store's own folder is never copied into itself."""
        res = self._resolve(resource)
        self._artifacts.log(res, str(id), path, self._run(), follow_symlinks=follow_symlinks)

    def get_artifact(
        self,
        resource: Any,
        id: str,
        *args: Any,
        dest: str | os.PathLike[str] | None = None,
        overwrite: bool = False,
        **kwargs: Any,
    ) -> str:
        """A verified local path to the artifact: the store's own copy on a local store (do not
        modify it), the download cache for a remote one, or ``dest/<name>`` (an existing one is
        replaced only with ``overwrite=True``, once the new copy is verified)."""
        return self._artifacts.get(self._resolve(resource), str(id), dest, overwrite)

    def artifacts(self, resource: Any) -> dict[str, dict[str, Any]]:
        """``{artifact_id: manifest}`` of the version."""
        return self._artifacts.manifests(self._resolve(resource))

    def _optional_artifact(self, resource: Any, artifact_id: str) -> str | None:
        try:
            return self.get_artifact(resource, artifact_id)
        except ArtifactNotFound:
            return None

    def log_data_profile(self, resource: Any, file_path: str, *args: Any, **kwargs: Any) -> None:
        self.log_artifact(resource, "data_profile", file_path)

    def get_data_profile(self, resource: Any, *args: Any, **kwargs: Any) -> str | None:
        return self._optional_artifact(resource, "data_profile")

    def log_checks(
        self, resource: Any, file_path: str, *args: Any, type: str = "data", **kwargs: Any
    ) -> None:
        self.log_artifact(resource, f"{type}_checks", file_path)

    def get_data_checks(
        self, resource: Any, *args: Any, type: str = "data", **kwargs: Any
    ) -> str | None:
        return self._optional_artifact(resource, f"{type}_checks")

    def log_data_comparison(self, resource: Any, file_path: str, *args: Any, **kwargs: Any) -> None:
        self.log_artifact(resource, "data_comparison", file_path)

    def get_data_comparison(self, resource: Any, *args: Any, **kwargs: Any) -> str | None:
        return self._optional_artifact(resource, "data_comparison")

    def check(
        self, repair: bool = False, verify: bool = True, grace: float = GRACE_SECONDS
    ) -> Report:
        """fsck: every file against the layout (see :mod:`tracker.core.check`); ``repair``
        removes only provable garbage (copies and temp files once older than ``grace`` seconds,
        as a writer may be at work); ``verify`` also hashes every artifact."""
        return check_store(self._store, repair=repair, verify=verify, grace=grace)

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
        """Record ``hexsha``/``uri`` (``<key>_hexsha``/``<key>_uri``) as metadata.

        With no hexsha, HEAD of the git repository at ``vc_info['repo']`` (an error if it is not
        one) or of the working directory (nothing recorded when there is none: lolpop passes
        ``vc_info=None`` when no version control is configured). ``additional_metadata`` items
        are logged as metadata too.
        """
        info = dict(vc_info or {})
        items: dict[str, Any] = {}
        if not info.get("hexsha"):
            try:
                head = gitinfo.head_hexsha(info.get("repo"))
            except VersionControlError:
                if info.get("repo"):
                    raise
            else:  # the caller's values win: the repository's remote goes under its own key
                info["hexsha"] = head["hexsha"]
                info.setdefault("remote", head.get("uri"))
                info.setdefault("uri", head.get("uri"))
        if info.get("hexsha"):
            prefix = f"{key}_" if key else ""
            info["hexsha"] = gitinfo.check_hexsha(info["hexsha"])
            items = {f"{prefix}hexsha": info["hexsha"], f"{prefix}uri": info.get("uri")}
            for k, v in info.items():
                if k not in ("hexsha", "uri", "repo"):
                    items.setdefault(f"{prefix}{k}", v)
        items.update(additional_metadata or {})
        self._write_items(resource, "metadata", items)

    def get_vc_info(
        self, resource: Any, key: str = "hexsha", *args: Any, **kwargs: Any
    ) -> dict[str, Any]:
        """``{"hexsha": ..., "uri": ...}`` as registered (``key`` may be ``X`` or ``X_hexsha``)."""
        prefix = key[: -len("hexsha")] if key.endswith("hexsha") else f"{key}_"
        return {
            "hexsha": self.get_metadata(resource, f"{prefix}hexsha"),
            "uri": self.get_metadata(resource, f"{prefix}uri"),
        }


def _artifact_summary(manifest: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": manifest.get("name"),
        "kind": manifest.get("kind"),
        "size": manifest.get("size"),
        "files": len(manifest.get("files") or []),
        "sha256": manifest.get("sha256"),
        "logged_at": manifest.get("logged_at"),
    }


Tracker = FileMetadataTracker
