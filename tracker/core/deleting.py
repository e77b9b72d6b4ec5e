"""The deletion API of the tracker: ``delete_resource``, ``delete_run``, ``restore``, ``trash``,
``gc``. How deletion works on the store (tombstones, the trash area, crash safety) is in
:mod:`tracker.core.trash`. Every call here is a write: it runs inside the tracker's run, so a
deletion records who did it, and shows in ``tracker runs``.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

from tracker.core.context import TrackerContext
from tracker.core.items import now
from tracker.core.resource import MODEL, MODEL_VERSION, Resource, parse_ref
from tracker.core.resources import TOMBSTONE
from tracker.core.runs import RUNNING
from tracker.core.trash import DELETED, RUN, Trash, new_trash_id, parse_duration
from tracker.errors import DeletionConflict, InvalidRef, ResourceNotFound

SUMMARY = ("id", "kind", "ref", "state", "deleted_at", "run_id", "group")


def summary(doc: dict[str, Any]) -> dict[str, Any]:
    """What ``trash()`` lists per entry: ``id, kind, ref, state, deleted_at, run_id`` (the run
    that deleted it), ``group`` (entries deleted by one call) and ``files`` (a count)."""
    return {**{k: doc.get(k) for k in SUMMARY}, "files": len(doc.get("files") or [])}


class DeletionMixin(TrackerContext):
    """Mixed into :class:`FileMetadataTracker`."""

    @property
    def _trash(self) -> Trash:
        return Trash(self._store, self._resources)

    def _version_ref(self, resource: Any) -> Resource:
        """The exact version ``resource`` names; a series (``type/id``) is refused."""
        if isinstance(resource, Resource):
            rtype, rid, version = resource.type, resource.id, resource.version
        elif isinstance(resource, str):
            rtype, rid, version = parse_ref(resource)
        else:
            raise InvalidRef(f"expected a ref like 'model_version/titanic@3', got {resource!r:.80}")
        if rtype == MODEL and version is not None:  # model/titanic@2: that model version
            rtype = MODEL_VERSION
        if version is None or rtype == MODEL:
            raise InvalidRef(
                f"{Resource(rtype, rid).ref!r} names a series; deletion takes one version: "
                f"{Resource(rtype, rid).ref}@N (see `tracker show {Resource(rtype, rid).ref}`)"
            )
        return Resource(rtype, rid, version)

    def check_delete(self, target: Any) -> None:
        """Raise what deleting ``target`` (a version ref, a Resource or a run id) would raise,
        without writing: callers check every argument before the first deletion."""
        if isinstance(target, str) and "/" not in target:
            self._check_format()
            self._runs.read(target)  # ResourceNotFound when there is no such run
            return
        res = self._version_ref(target)
        if self._resources.get(res.type, res.id, res.version or 0) is None:
            raise ResourceNotFound(self._missing(res.type, res.id, res.version or 0))

    def check_restore(self, target: str) -> str:
        """The trash id ``restore(target)`` would restore; raises when there is none."""
        self._check_format()
        return self._trash.trash_id_of(str(target))

    def delete_resource(self, resource: Any) -> dict[str, Any]:
        """Move one version (``type/id@N`` or a Resource) to the trash; returns its trash entry.

        From then on it is invisible to reads, ``find`` and lifecycle lookups; its number is
        never reused; ``restore_resource`` brings it back until ``gc`` empties the trash.
        """
        self._check_format()
        res = self._version_ref(resource)
        self.check_delete(res)
        doc = self._trash.delete_version(res, self._run())
        key = (res.type, res.id, res.version)
        self._runs.created = [c for c in self._runs.created if c != key]  # no closing it at stop
        return summary(doc)

    def delete_run(self, run_id: str, with_versions: bool = False) -> list[dict[str, Any]]:
        """Move a run's record to the trash (and, ``with_versions``, every version it created
        that is still there); returns the trash entries, one group restored together."""
        self._check_format()
        run_id = str(run_id)
        status = self._runs.status(run_id)
        if status is None:
            raise ResourceNotFound(f"no run {run_id!r} in {self.url}; see `tracker runs`")
        if status == RUNNING or run_id == self._runs.current:
            raise DeletionConflict(
                f"run {run_id} is still running; stop it (or wait for it) before deleting it"
            )
        created = self._resources.created_by(run_id) if with_versions else []
        by_run, group = self._run(), new_trash_id()
        out = []
        for res in created:
            if self._live(res) is not None:
                out.append(summary(self._trash.delete_version(res, by_run, group)))
        out.append(summary(self._trash.delete_run(run_id, by_run, group)))
        return out

    def restore(self, target: str) -> list[dict[str, Any]]:
        """Bring back what a deletion moved to the trash: a version ref (``type/id@N``), a run id
        (with the versions deleted along with it) or a trash id; returns the restored entries."""
        self._check_format()
        trash = self._trash
        trash_id = trash.trash_id_of(str(target))
        first = trash.entry(trash_id)
        if first is None:
            raise ResourceNotFound(f"no trash entry {trash_id!r}; see `tracker trash`")
        docs = [first]
        if first.get("kind") == RUN:  # the versions deleted with it (--with-versions)
            docs = [d for d in trash.entries() if d.get("group") == first.get("group")]
            docs.sort(key=lambda d: d.get("kind") != RUN)
        current = self._run()
        restored = [trash.restore(d["id"]) for d in docs]
        for doc in restored:  # a version this run created is closed again when the run ends
            if doc.get("kind") != RUN:
                res = self._live(Resource(*parse_ref(str(doc["ref"]))))
                if res is not None and res.run_id == current and res.version is not None:
                    self._runs.created.append((res.type, res.id, res.version))
        return [summary(doc) for doc in restored]

    def restore_resource(self, resource: Any) -> Resource:
        """Restore one deleted version; returns it."""
        res = self._version_ref(resource)
        self.restore(res.ref)
        return self._full(res)

    def restore_run(self, run_id: str) -> list[dict[str, Any]]:
        """Restore a deleted run and the versions deleted with it."""
        if "/" in str(run_id):
            raise InvalidRef(f"{run_id!r} is not a run id (run ids hold no '/')")
        return self.restore(str(run_id))

    def trash(self) -> list[dict[str, Any]]:
        """The trash entries, oldest first (see :func:`summary` for the keys)."""
        self._check_format()
        return [summary(d) for d in self._trash.entries()]

    def gc(self, older_than: str | float = "30d") -> list[dict[str, Any]]:
        """Empty the trash of entries deleted more than ``older_than`` ago (``30d``, ``12h``,
        ``90m``, ``45s`` or seconds); returns what was purged. Purged versions stay deleted and
        keep their numbers."""
        self._check_format()
        age = parse_duration(older_than)
        trash = self._trash
        cutoff = now() - _dt.timedelta(seconds=age)
        self._run()
        purged = []
        for doc in trash.entries():
            when = doc.get("deleted_at")
            old = isinstance(when, _dt.datetime) and when <= cutoff
            if doc.get("state") == DELETED and old and trash.purge(doc):
                purged.append(summary(doc))
        return purged

    def is_deleted(self, resource: Any) -> bool:
        """Whether the version exists and is deleted (in the trash, or purged from it)."""
        res = self._version_ref(resource)
        raw = self._resources.raw_doc(res.type, res.id, res.version or 0)
        return raw is not None and TOMBSTONE in raw
