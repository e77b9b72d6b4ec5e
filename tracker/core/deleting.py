"""The deletion API of the tracker: ``delete_resource``, ``delete_run``, ``restore``, ``trash``,
``gc``. How deletion works on the store (tombstones, the trash area, crash safety) is in
:mod:`tracker.core.trash`. Every call here is a write: it runs inside the tracker's run, so a
deletion records who did it, and shows in ``tracker runs``.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

from tracker.core.items import now
from tracker.core.resolve import Resolver
from tracker.core.resource import Resource, named
from tracker.core.resources import TOMBSTONE, Resources
from tracker.core.runs import RUNNING, Runs
from tracker.core.session import Session
from tracker.core.trash import DELETED, RUN, Trash, new_trash_id, parse_duration
from tracker.errors import DeletionConflict, InvalidRef, ResourceNotFound

SUMMARY = ("id", "kind", "ref", "state", "deleted_at", "run_id", "group")


def summary(doc: dict[str, Any]) -> dict[str, Any]:
    """What ``trash()`` lists per entry: ``id, kind, ref, state, deleted_at, run_id`` (the run
    that deleted it), ``group`` (entries deleted by one call) and ``files`` (a count)."""
    return {**{k: doc.get(k) for k in SUMMARY}, "files": len(doc.get("files") or [])}


class Deletion:
    """Deleting and restoring versions and runs through :class:`tracker.core.trash.Trash`."""

    def __init__(
        self, session: Session, resolver: Resolver, resources: Resources, runs: Runs
    ) -> None:
        self.session, self.resolver, self.resources, self.runs = session, resolver, resources, runs
        self.trash_area = Trash(session.store, resources)

    def check_delete(self, target: Any) -> None:
        """Raise what deleting ``target`` (a version ref, a Resource or a run id) would raise,
        without writing: callers check every argument before the first deletion."""
        if isinstance(target, str) and "/" not in target:
            self.session.check_format()
            self.runs.read(target)  # ResourceNotFound when there is no such run
            return
        res = self.resolver.exact(target)
        if self.resources.get(res.type, res.id, res.version) is None:
            raise ResourceNotFound(self.resolver.missing(res.type, res.id, res.version))

    def check_restore(self, target: str) -> str:
        """The trash id ``restore(target)`` would restore; raises when there is none."""
        self.session.check_format()
        return self.trash_area.trash_id_of(str(target))

    def delete_version(self, resource: Any) -> dict[str, Any]:
        """Move one version (``type/id@N`` or a Resource) to the trash; returns its trash entry.

        From then on it is invisible to reads, ``find`` and lifecycle lookups; its number is
        never reused; ``restore_resource`` brings it back until ``gc`` empties the trash.
        """
        self.session.check_format()
        res = self.resolver.exact(resource)
        self.check_delete(res)
        doc = self.trash_area.delete_version(res, self.session.run())
        key = (res.type, res.id, res.version)
        self.runs.created = [c for c in self.runs.created if c != key]  # no closing it at stop
        return summary(doc)

    def delete_run(self, run_id: str, with_versions: bool = False) -> list[dict[str, Any]]:
        """Move a run's record to the trash (and, ``with_versions``, every version it created
        that is still there); returns the trash entries, one group restored together."""
        self.session.check_format()
        run_id = str(run_id)
        status = self.runs.status(run_id)
        if status is None:
            raise ResourceNotFound(f"no run {run_id!r} in {self.session.url}; see `tracker runs`")
        if status == RUNNING or run_id == self.runs.current:
            raise DeletionConflict(
                f"run {run_id} is still running; stop it (or wait for it) before deleting it"
            )
        created = self.resources.created_by(run_id) if with_versions else []
        by_run, group = self.session.run(), new_trash_id()
        out = []
        for res in created:
            if self.resolver.live(res) is not None:
                out.append(summary(self.trash_area.delete_version(res, by_run, group)))
        out.append(summary(self.trash_area.delete_run(run_id, by_run, group)))
        return out

    def restore(self, target: str) -> list[dict[str, Any]]:
        """Bring back what a deletion moved to the trash: a version ref (``type/id@N``), a run id
        (with the versions deleted along with it) or a trash id; returns the restored entries."""
        self.session.check_format()
        trash = self.trash_area
        trash_id = trash.trash_id_of(str(target))
        first = trash.entry(trash_id)
        if first is None:
            raise ResourceNotFound(f"no trash entry {trash_id!r}; see `tracker trash`")
        docs = [first]
        if first.get("kind") == RUN:  # the versions deleted with it (--with-versions)
            docs = [d for d in trash.entries() if d.get("group") == first.get("group")]
            docs.sort(key=lambda d: d.get("kind") != RUN)
        current = self.session.run()
        restored = [trash.restore(d["id"]) for d in docs]
        for doc in restored:  # a version this run created is closed again when the run ends
            if doc.get("kind") != RUN:
                was = named(str(doc["ref"]))  # read from disk: may name no version
                res = self.resolver.live(was) if isinstance(was, Resource) else None
                if res is not None and res.run_id == current:
                    self.runs.created.append((res.type, res.id, res.version))
        return [summary(doc) for doc in restored]

    def restore_version(self, resource: Any) -> Resource:
        """Restore one deleted version; returns it."""
        res = self.resolver.exact(resource)
        self.restore(res.ref)
        return self.resolver.full(res)

    def restore_run(self, run_id: str) -> list[dict[str, Any]]:
        """Restore a deleted run and the versions deleted with it."""
        if "/" in str(run_id):
            raise InvalidRef(f"{run_id!r} is not a run id (run ids hold no '/')")
        return self.restore(str(run_id))

    def entries(self) -> list[dict[str, Any]]:
        """The trash entries, oldest first (see :func:`summary` for the keys)."""
        self.session.check_format()
        return [summary(d) for d in self.trash_area.entries()]

    def gc(self, older_than: str | float = "30d") -> list[dict[str, Any]]:
        """Empty the trash of entries deleted more than ``older_than`` ago (``30d``, ``12h``,
        ``90m``, ``45s`` or seconds); returns what was purged. Purged versions stay deleted and
        keep their numbers."""
        self.session.check_format()
        age = parse_duration(older_than)
        trash = self.trash_area
        cutoff = now() - _dt.timedelta(seconds=age)
        self.session.run()
        purged = []
        for doc in trash.entries():
            when = doc.get("deleted_at")
            old = isinstance(when, _dt.datetime) and when <= cutoff
            if doc.get("state") == DELETED and old and trash.purge(doc):
                purged.append(summary(doc))
        return purged

    def is_deleted(self, resource: Any) -> bool:
        """Whether the version exists and is deleted (in the trash, or purged from it)."""
        res = self.resolver.exact(resource)
        raw = self.resources.raw_doc(res.type, res.id, res.version)
        return raw is not None and TOMBSTONE in raw
