"""Deletion into a trash area, restore, and emptying the trash (``gc``), on any backend.

A deleted version keeps its ``resource.yaml`` in place, replaced by a *tombstone*: the same
document plus ``deleted: {at, run_id, trash}``. The file still exists, so the version's number
stays claimed (creation claims by exclusive create) and is never reused; and every lookup by ref
already reads that file, so hiding a deleted version costs reads nothing. Everything else of the
version (keys, manifests, artifacts, snapshot, link pointers) and the pointers that lead to it
from elsewhere (its parent's ``children/``, the ``used_by/``/``lineage/`` of its lineage
partners, its run's ``created/``) move to ``trash/<trash_id>/files/<original path>``.

Object stores cannot rename, so a move is a copy and a delete per file, and a crash can stop
between any two. The order makes every intermediate state read consistently:

1. ``trash/<id>/entry.yaml`` (state ``deleting``, the list of files to move, the original
   ``resource.yaml``) is created;
2. ``trash/claims/<type>/<id>@<v>`` is created exclusively: one deleter per version wins;
3. the tombstone replaces ``resource.yaml``: from here on the version is invisible;
4. the files move; 5. the entry's state becomes ``deleted``.

Restore is the reverse (state ``restoring``; files back, a file written meanwhile wins; the
original ``resource.yaml`` last; the claim and the entry removed). ``gc`` marks an entry
``purging``, removes its files, its claim, then its entry; the tombstone stays forever. ``fsck``
finishes an entry left ``deleting`` (rolled back when no tombstone was written yet),
``restoring`` or ``purging``, and moves files written into a deleted version later (a writer that
held the version before it was deleted) into its trash entry.

A run is deleted the same way, its ``run.yaml`` moved first (a run without it is not listed).
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from tracker.core.items import now
from tracker.core.resource import Resource
from tracker.core.resources import TOMBSTONE, Resources
from tracker.errors import CorruptFile, DeletionConflict, InvalidDuration, ResourceNotFound
from tracker.store import Store, paths
from tracker.store.codec import dumps, loads

DELETING, DELETED, RESTORING, PURGING = "deleting", "deleted", "restoring", "purging"
VERSION, RUN = "version", "run"
_DURATION = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([dhms]?)\s*")
_UNIT = {"d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0, "": 1.0}


def parse_duration(value: str | float | int) -> float:
    """``30d``, ``12h``, ``90m``, ``45s`` or a number of seconds -> seconds (>= 0)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        if value >= 0:
            return float(value)
    elif isinstance(value, str) and (match := _DURATION.fullmatch(value)):
        return float(match.group(1)) * _UNIT[match.group(2)]
    raise InvalidDuration(
        f"age {value!r} is not a duration; write <number><d|h|m|s>, e.g. 30d, 12h, 90m, 45s"
    )


def new_trash_id() -> str:
    """Sortable by deletion time, unique without coordination."""
    return f"{now():%Y%m%dT%H%M%S}Z-{secrets.token_hex(4)}"


class Trash:
    """Deleting, restoring and purging through one store (no state of its own)."""

    def __init__(self, store: Store, resources: Resources) -> None:
        self.store = store
        self.resources = resources

    # -- entries ---------------------------------------------------------------------------------
    def entry(self, trash_id: str) -> dict[str, Any] | None:
        where = paths.trash_entry(trash_id)
        data = self.store.read(where)
        if data is None:
            return None
        doc = loads(data, where)
        if not isinstance(doc, dict) or doc.get("id") != trash_id:
            raise CorruptFile(f"{where}: not the trash entry {trash_id!r}; run `tracker fsck`")
        return doc

    def _save(self, doc: dict[str, Any], create: bool = False) -> None:
        where = paths.trash_entry(doc["id"])
        if create:
            if not self.store.create(where, dumps(doc)):
                raise DeletionConflict(f"{where} exists already; try again")
        else:
            self.store.write(where, dumps(doc))

    def entries(self) -> list[dict[str, Any]]:
        """Every trash entry, oldest first (lists the trash area only)."""
        out = []
        for e in self.store.list(paths.TRASH):
            if not e.is_dir or e.name == paths.TRASH_CLAIMS:
                continue
            doc = self.entry(paths.decode(e.name))
            if doc is not None:
                out.append(doc)
        return sorted(out, key=lambda d: (str(d.get("deleted_at")), d["id"]))

    def claim_of(self, path: str) -> str | None:
        data = self.store.read(path)
        return data.decode("utf-8", "replace").strip() if data is not None else None

    # -- delete ----------------------------------------------------------------------------------
    def delete_version(
        self, res: Resource, run_id: str, group: str | None = None
    ) -> dict[str, Any]:
        rtype, rid, version = res.type, res.id, res.version
        raw = self.resources.raw_doc(rtype, rid, version)
        if raw is None:
            raise ResourceNotFound(f"no resource {res.ref} in {self.store.url}; see `tracker ls`")
        if TOMBSTONE in raw:
            raise DeletionConflict(
                f"{res.ref} is deleted already (trash entry {raw[TOMBSTONE].get('trash')}); "
                "see `tracker trash`"
            )
        original = self.store.read(paths.resource_file(rtype, rid, version)) or b""
        trash_id = new_trash_id()
        doc = {
            "id": trash_id,
            "kind": VERSION,
            "ref": res.ref,
            "state": DELETING,
            "deleted_at": now(),
            "run_id": run_id,
            "group": group or trash_id,
            "resource": original.decode("utf-8"),
            "files": self._version_files(rtype, rid, version, raw),
        }
        self._save(doc, create=True)
        claim = paths.trash_claim(rtype, rid, version)
        if not self.store.create(claim, trash_id.encode()):
            self.store.remove(paths.trash_entry(trash_id))
            raise DeletionConflict(
                f"{res.ref} is being deleted by another process (trash entry "
                f"{self.claim_of(claim)}); see `tracker trash`"
            )
        tomb = {**raw, TOMBSTONE: {"at": doc["deleted_at"], "run_id": run_id, "trash": trash_id}}
        self._changed(rtype, rid, version, before=True)  # the query index re-validates it
        self.store.write(paths.resource_file(rtype, rid, version), dumps(tomb))
        self.resources.forget(rtype, rid, version)
        done = self._finish_delete(doc)
        self._changed(rtype, rid, version, before=False)
        return done

    def _changed(self, rtype: str, rid: str, version: int, before: bool) -> None:
        """A change line for the version (see :mod:`tracker.core.changes`): a deletion or a
        restore changes what ``find`` returns for it."""
        log = self.resources.changes
        if log is not None:
            (log.before if before else log.after)(rtype, rid, version)

    def _version_files(self, rtype: str, rid: str, version: int, raw: dict[str, Any]) -> list[str]:
        """The version's files but ``resource.yaml``, and the pointers leading to it."""
        vdir = paths.version_dir(rtype, rid, version)
        own = sorted(f"{vdir}/{rel}" for rel in self.store.walk(vdir) if rel != "resource.yaml")
        me = Resource(rtype, rid, version)
        incoming = [paths.run_created_file(str(raw.get("run_id")), rtype, rid, version)]
        if raw.get("run_id") is None:
            incoming = []
        parent = raw.get("parent")
        if isinstance(parent, str):
            from tracker.core.resource import parse_ref

            ptype, pid, pver = parse_ref(parent)
            if pver is not None:
                incoming.append(paths.link_file(ptype, pid, pver, "children", rtype, rid, version))
        reverse = {"lineage": "used_by", "used_by": "lineage"}
        for kind, back in reverse.items():
            for other in self.resources.links(me, kind):
                incoming.append(
                    paths.link_file(other.type, other.id, other.version, back, rtype, rid, version)
                )
        return own + sorted(set(incoming))

    def _finish_delete(self, doc: dict[str, Any]) -> dict[str, Any]:
        """Move every listed file into the trash (idempotent: a moved file is skipped)."""
        trash_id = doc["id"]
        for path in doc["files"]:
            self.store.move(path, paths.trash_file(trash_id, path))
        doc["state"] = DELETED
        self._save(doc)
        return doc

    def delete_run(self, run_id: str, by_run: str, group: str | None = None) -> dict[str, Any]:
        if self.store.read(paths.run_file(run_id)) is None:
            raise ResourceNotFound(
                f"no run {run_id!r} in {self.store.url}; see `tracker runs` (and `tracker trash` "
                "for deleted ones)"
            )
        run_dir = paths.run_dir(run_id)
        files = sorted(f"{run_dir}/{rel}" for rel in self.store.walk(run_dir))
        first = paths.run_file(run_id)  # moved first: a run without run.yaml is not listed
        trash_id = new_trash_id()
        doc = {
            "id": trash_id,
            "kind": RUN,
            "ref": run_id,
            "state": DELETING,
            "deleted_at": now(),
            "run_id": by_run,
            "group": group or trash_id,
            "files": [first] + [f for f in files if f != first],
        }
        self._save(doc, create=True)
        claim = paths.trash_run_claim(run_id)
        if not self.store.create(claim, trash_id.encode()):
            self.store.remove(paths.trash_entry(trash_id))
            raise DeletionConflict(f"run {run_id} is being deleted by another process")
        return self._finish_delete(doc)

    # -- restore ---------------------------------------------------------------------------------
    def restore(self, trash_id: str) -> dict[str, Any]:
        doc = self.entry(trash_id)
        if doc is None:
            raise ResourceNotFound(
                f"no trash entry {trash_id!r} in {self.store.url} (emptied by `tracker gc`?); "
                "see `tracker trash`"
            )
        if doc.get("state") not in (DELETED, RESTORING):
            raise DeletionConflict(
                f"trash entry {trash_id} ({doc.get('ref')}) is {doc.get('state')}, not deleted: "
                "another process is at work on it, or one crashed (run `tracker fsck --repair`)"
            )
        if doc.get("kind") == VERSION:
            rtype, rid, version = self._version_of(doc)
            raw = self.resources.raw_doc(rtype, rid, version) or {}
            if (raw.get(TOMBSTONE) or {}).get("trash") != trash_id:
                raise DeletionConflict(
                    f"{doc.get('ref')} is not held by trash entry {trash_id}; run `tracker fsck`"
                )
        doc["state"] = RESTORING
        self._save(doc)
        return self._finish_restore(doc)

    def _version_of(self, doc: dict[str, Any]) -> tuple[str, str, int]:
        from tracker.core.resource import parse_ref

        rtype, rid, version = parse_ref(str(doc.get("ref")))
        if version is None:
            raise CorruptFile(f"trash entry {doc.get('id')}: ref {doc.get('ref')!r} has no version")
        return rtype, rid, version

    def _finish_restore(self, doc: dict[str, Any]) -> dict[str, Any]:
        trash_id = doc["id"]
        if doc.get("kind") == VERSION:
            self._changed(*self._version_of(doc), before=True)
        base = paths.trash_files(trash_id)
        moved = sorted(self.store.walk(base))
        if doc.get("kind") == RUN:  # run.yaml last: the run is listed again only when whole
            first = paths.run_file(str(doc["ref"]))
            moved.sort(key=lambda rel: rel == first)
        for rel in moved:
            if self.store.exists(rel):  # written after the deletion: the newer file wins
                self.store.remove(f"{base}/{rel}")
            elif doc.get("kind") == VERSION and self._run_gone(rel):
                self._to_run_trash(f"{base}/{rel}", rel)
            else:
                self.store.move(f"{base}/{rel}", rel)
        if doc.get("kind") == VERSION:
            rtype, rid, version = self._version_of(doc)
            self.store.write(paths.resource_file(rtype, rid, version), doc["resource"].encode())
            self.resources.forget(rtype, rid, version)
            self._changed(rtype, rid, version, before=False)
            self.store.remove(paths.trash_claim(rtype, rid, version))
        else:
            self.store.remove(paths.trash_run_claim(str(doc["ref"])))
        self._drop(trash_id)
        doc["state"] = "restored"
        return doc

    def _run_gone(self, rel: str) -> bool:
        """Whether ``rel`` is a run's ``created/`` pointer and that run is deleted (or gone)."""
        parts = rel.split("/")
        if parts[0] != paths.RUNS or len(parts) < 3:
            return False
        return not self.store.exists(paths.run_file(paths.decode(parts[1])))

    def _to_run_trash(self, held: str, rel: str) -> None:
        """A restored version's pointer from a run that is itself in the trash goes into the
        run's trash entry (restored with the run), or away when the run was purged."""
        run_id = paths.decode(rel.split("/")[1])
        trash_id = self.claim_of(paths.trash_run_claim(run_id))
        if trash_id and self.store.exists(paths.trash_entry(trash_id)):
            self.store.move(held, paths.trash_file(trash_id, rel))
        else:
            self.store.remove(held)

    def _drop(self, trash_id: str) -> None:
        """Remove an entry: its files first, ``entry.yaml`` last."""
        self.store.remove(paths.trash_files(trash_id), recursive=True)
        self.store.remove(paths.trash_entry(trash_id))
        self.store.remove(paths.trash_dir(trash_id), recursive=True)

    def trash_id_of(self, target: str) -> str:
        """The trash entry holding a version ref, a run id, or a trash id itself."""
        from tracker.core.resource import parse_ref

        if "/" in target:
            rtype, rid, version = parse_ref(target)
            if version is None:
                raise DeletionConflict(
                    f"{target!r} names a whole series; give the version: {target}@N "
                    "(see `tracker trash`)"
                )
            claim = self.claim_of(paths.trash_claim(rtype, rid, version))
            if claim is None:
                raw = self.resources.raw_doc(rtype, rid, version)
                if raw is None:
                    raise ResourceNotFound(f"no resource {target} in {self.store.url}")
                if TOMBSTONE not in raw:
                    raise DeletionConflict(f"{target} is not deleted; nothing to restore")
                raise DeletionConflict(
                    f"{target} was emptied from the trash (`tracker gc`); it cannot be restored"
                )
            return claim
        claim = self.claim_of(paths.trash_run_claim(target))
        if claim is not None:
            return claim
        if self.store.read(paths.trash_entry(target)) is not None:
            return target
        raise ResourceNotFound(
            f"{target!r} is neither a deleted run nor a trash id in {self.store.url}; "
            "see `tracker trash`"
        )

    # -- gc and repair ---------------------------------------------------------------------------
    def purge(self, doc: dict[str, Any]) -> bool:
        """Empty one entry for good (False when a restore took it meanwhile); the version's
        tombstone (its claimed number) stays."""
        if doc.get("state") != PURGING:
            current = self.entry(doc["id"])  # read again: a restore may have begun meanwhile
            if current is None or current.get("state") != DELETED:
                return False
        doc["state"] = PURGING
        self._save(doc)
        if doc.get("kind") == VERSION:
            rtype, rid, version = self._version_of(doc)
            claim = paths.trash_claim(rtype, rid, version)
        else:
            claim = paths.trash_run_claim(str(doc["ref"]))
        self.store.remove(paths.trash_files(doc["id"]), recursive=True)
        if self.claim_of(claim) == doc["id"]:
            self.store.remove(claim)
        self._drop(doc["id"])
        doc["state"] = "purged"
        return True

    def complete(self, doc: dict[str, Any]) -> str:
        """Finish an entry a crash left half-done; returns what was done."""
        state, trash_id = doc.get("state"), doc["id"]
        if state == DELETING:
            if doc.get("kind") == VERSION:
                rtype, rid, version = self._version_of(doc)
                raw = self.resources.raw_doc(rtype, rid, version) or {}
                if (raw.get(TOMBSTONE) or {}).get("trash") != trash_id:
                    claim = paths.trash_claim(rtype, rid, version)
                    if self.claim_of(claim) == trash_id:
                        self.store.remove(claim)
                    self._drop(trash_id)  # nothing moved yet: the version stays as it was
                    return "rolled back"
            elif self.claim_of(paths.trash_run_claim(str(doc["ref"]))) != trash_id:
                self._drop(trash_id)
                return "rolled back"
            self._finish_delete(doc)
            return "deletion completed"
        if state == RESTORING:
            self._finish_restore(doc)
            return "restore completed"
        if state == PURGING:
            self.purge(doc)
            return "purge completed"
        return "nothing to do"

    def put_away(self, path: str, trash_id: str) -> None:
        """A file written into a deleted version after its deletion: into the version's trash
        entry when it still exists (a restore brings it back), else removed."""
        if self.store.read(paths.trash_entry(trash_id)) is not None:
            self.store.move(path, paths.trash_file(trash_id, path))
        else:
            self.store.remove(path)
