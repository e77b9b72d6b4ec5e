"""The state every part of the tracker shares: its store, its run, and ref resolution.

:class:`FileMetadataTracker` is assembled from this base and the mixins next to it (lifecycle,
queries, loading); each mixin subclasses :class:`TrackerContext`, so they all see one typed set of
attributes and primitives.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from tracker.core.artifacts import Artifacts
from tracker.core.changes import ChangeLog
from tracker.core.items import Items
from tracker.core.metrics import Metrics
from tracker.core.resource import MODEL, MODEL_VERSION, Resource, parse_ref
from tracker.core.resources import TOMBSTONE, Resources
from tracker.core.runs import Runs
from tracker.errors import InvalidRef, ResourceNotFound, StoreFormatError, StoreNotFound
from tracker.store import open_store, paths
from tracker.store.codec import dumps, loads
from tracker.store.discovery import DEFAULT_NAME, default_root, resolve_root

DEFAULT_ROOT = DEFAULT_NAME
__all__ = ["DEFAULT_ROOT", "TrackerContext", "default_root"]


class TrackerContext:
    """Store, run and resolution primitives (see :class:`FileMetadataTracker` for arguments)."""

    if TYPE_CHECKING:  # provided by the other parts of FileMetadataTracker

        def _stop_with(self, status: str) -> None: ...
        def get_all_metadata(self, resource: Any) -> dict[str, Any]: ...
        def get_artifact(self, resource: Any, id: str, *args: Any, **kwargs: Any) -> str: ...
        def get_winning_experiment(self, model_version: Any, *a: Any, **k: Any) -> Any: ...
        def get_prev_resource_version(self, resource: Any, *a: Any, **k: Any) -> Any: ...
        def get_resource(self, id: str, type: str | None = None, *a: Any, **k: Any) -> Any: ...
        def _record(self, res: Resource, items: bool = True) -> dict[str, Any]: ...

    def __init__(
        self,
        root: str | os.PathLike[str] | None = None,
        storage_options: dict[str, Any] | None = None,
        *,
        run_name: str | None = None,
        git: bool = True,
        git_path: str | os.PathLike[str] | None = None,
        fsync: bool = False,
        cache_dir: str | None = None,
        progress: bool = True,
        trusted_modules: tuple[str, ...] | list[str] = (),
        write_caches: bool = True,
        **_ignored: Any,
    ) -> None:
        self._store = open_store(resolve_root(root), storage_options, fsync)
        self.url = self._store.url
        self._items = Items(self._store)
        self._changes = ChangeLog(self._store)
        self._resources = Resources(self._store, self._changes)
        self._artifacts = Artifacts(self._store, cache_dir, progress)
        self._runs = Runs(self._store, self._items, run_name, git_path, git)
        self._runs.on_exit = self._stop_with
        # metric series (tracker.core.metrics); their writes log changes for the query index
        self._metrics = Metrics(self._store, self._run, changes=self._changes)
        self.trusted_modules = tuple(trusted_modules)
        # whether reads may store derived caches (the query index); False keeps a reader such
        # as `tracker ui` from writing anything at all into the store
        self.write_caches = write_caches
        self._format_checked = False
        self._format_written = False

    def __repr__(self) -> str:
        return f"FileMetadataTracker({self.url!r})"

    # -- store and run ---------------------------------------------------------------------------
    def _check_format(self) -> None:
        if self._format_checked:
            return
        data = self._store.read(paths.FORMAT_FILE)
        if data is not None:
            doc = loads(data, paths.FORMAT_FILE)
            fmt = doc.get("format") if isinstance(doc, dict) else None
            if not isinstance(fmt, int) or fmt > paths.FORMAT:
                raise StoreFormatError(
                    f"{self.url} is a store of format {fmt!r}; this tracker reads format "
                    f"{paths.FORMAT} and older. Upgrade tracker (pip install -U tracker)"
                )
            self._format_written = True
        self._format_checked = True

    def require_store(self) -> None:
        """Raise :class:`StoreNotFound` unless a store exists at the root (read-only opens)."""
        self._check_format()
        if not self._format_written:
            raise StoreNotFound(
                f"no tracker store at {self.url} (it has no {paths.FORMAT_FILE}); pass another "
                "root (--root, $TRACKER_ROOT) or record one, e.g. with `tracker demo`"
            )

    def _run(self) -> str:
        """The current run id, creating the store and the run on the first write."""
        if self._runs.current is not None:
            return self._runs.current
        self._check_format()
        if not self._format_written:
            self._store.create(paths.FORMAT_FILE, dumps({"format": paths.FORMAT}))
            if self._store.is_local:  # a store inside a git work tree must not make it dirty
                self._store.create(
                    ".gitignore", b"# written by tracker: ignore the whole store\n*\n"
                )
            self._format_written = True
        return self._runs.ensure()

    @property
    def is_local(self) -> bool:
        """Whether the store is a local directory (artifacts are then read in place)."""
        return self._store.is_local

    @property
    def run_id(self) -> str | None:
        """The id of the open run, or None before the first write and after ``stop()``."""
        return self._runs.current

    # -- resources -------------------------------------------------------------------------------
    def _resolve(self, resource: Any, allow_series: bool = False) -> Resource:
        """A Resource for a Resource or a ref string; ``type/id`` means the latest version."""
        self._check_format()
        if isinstance(resource, Resource):
            if resource.version is None and not allow_series:
                return self._latest(
                    resource.type if resource.type != MODEL else MODEL_VERSION, resource.id
                )
            return resource
        if isinstance(resource, str):
            rtype, rid, version = parse_ref(resource)
            if version is None:
                if allow_series and rtype == MODEL:
                    series: Resource = self.get_resource(rid, MODEL)
                    return series
                return self._latest(rtype, rid)
            found = self._resources.get(rtype, rid, version)
            if found is None:
                raise ResourceNotFound(self._missing(rtype, rid, version))
            return found
        raise InvalidRef(
            f"expected a resource or a ref string like 'model_version/titanic@3', got "
            f"{type(resource).__name__}: {resource!r:.80}"
        )

    def _latest(self, rtype: str, rid: str) -> Resource:
        found = self._resources.latest_live(rtype, rid)
        if found is None:
            raise ResourceNotFound(
                f"no resource {rtype}/{rid} in {self.url}; see `tracker ls {rtype}`"
            )
        return found

    def _full(self, res: Resource) -> Resource:
        """``res`` with its run_id and parent, read from its (immutable) resource file."""
        found = self._live(res)
        if found is None:
            raise ResourceNotFound(f"no resource {res.ref} in {self.url}")
        return found

    def _missing(self, rtype: str, rid: str, version: int) -> str:
        """Why ``type/id@version`` cannot be read (only on the error path: one read more)."""
        ref = Resource(rtype, rid, version).ref
        raw = self._resources.raw_doc(rtype, rid, version)
        if raw is not None and TOMBSTONE in raw:
            return (
                f"{ref} was deleted from {self.url}; see `tracker trash`, "
                f"and `tracker restore {ref}` to bring it back"
            )
        return f"no resource {ref} in {self.url}; see `tracker ls`"

    def _live(self, res: Resource) -> Resource | None:
        """``res`` in full when it exists and is not deleted (one read), else None."""
        return self._resources.get(res.type, res.id, res.version or 0)

    def _value(self, res: Resource, key: str, kinds: tuple[str, ...]) -> Any:
        """The value of ``key`` in the first of ``kinds`` (tags, metadata, attrs) that has it."""
        assert res.version is not None
        for kind in kinds:
            rec = self._items.read(paths.item_file(res.type, res.id, res.version, kind, key), key)
            if rec is not None:
                return rec.get("value")
        return None
