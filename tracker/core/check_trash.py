"""The trash part of ``fsck`` (see :mod:`tracker.core.check` and :mod:`tracker.core.trash`).

Deleted versions (a tombstone ``resource.yaml``) and trash entries are found before the per-file
pass, so that a file in a deleted version, or a pointer into one, is told apart from live data
(``deleted-leftover``: moved into the version's trash entry), an entry a crash left half-done is
reported (``trash-incomplete``: finished, or rolled back when its tombstone was never written),
and what a cut-short restore or gc leaves (``trash-claim``, ``trash-orphan``) is removed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tracker.core.changes import ChangeLog
from tracker.core.resources import TOMBSTONE, Resources
from tracker.core.trash import DELETED, DELETING, RESTORING, Trash
from tracker.errors import CorruptFile, TrackerError
from tracker.store import Store, paths
from tracker.store.base import Entry
from tracker.store.codec import loads

TRASH_KINDS = ("trash-incomplete", "trash-claim", "trash-orphan", "deleted-leftover")


class TrashChecks:
    """Mixed into :class:`tracker.core.check.Checker`, whose state and helpers it uses."""

    store: Store
    files: dict[str, Entry]
    located: dict[str, paths.Located]  # store path -> what the layout says it is
    prefetched: dict[str, bytes | None]
    tombstones: dict[str, str]  # version dir -> trash id of its deletion
    trash_states: dict[str, str]  # trash id -> state of its entry

    if TYPE_CHECKING:  # provided by Checker

        def problem(self, path: str, kind: str, detail: str, repairable: bool = False) -> None: ...
        def _doc(self, rel: str) -> Any: ...
        def _old(self, mtime: float) -> bool: ...

    def _find_tombstones(self) -> None:
        """Deleted versions (their ``resource.yaml`` holds ``deleted:``) and trash entry states,
        before the per-file checks that depend on them."""
        for rel in self.files:
            at = self.located[rel]
            is_resource, is_entry = at.what == "resource", at.what == "trash-entry"
            if not (is_resource or is_entry):
                continue
            data = self.prefetched.get(rel)
            if is_resource and (data is None or b"deleted:" not in data):
                continue
            try:
                doc = loads(data if data is not None else self.store.read(rel) or b"", rel)
            except CorruptFile:
                continue  # reported as unparsable by the per-file pass
            if not isinstance(doc, dict):
                continue
            if is_entry:
                self.trash_states[str(at.trash_id)] = str(doc.get("state"))
            elif isinstance(doc.get(TOMBSTONE), dict):
                self.tombstones[at.base] = str(doc[TOMBSTONE].get("trash"))

    def _leftover(self, rel: str, vdir: str) -> None:
        """A file in (or pointing into) a deleted version: left by a deletion in progress or
        crashed, or written later by a process that still held the version."""
        trash_id = self.tombstones[vdir]
        moving = self.trash_states.get(trash_id) in (DELETING, RESTORING)
        self.problem(
            rel,
            "deleted-leftover",
            f"belongs to a version deleted into trash entry {trash_id}"
            + (" (being moved right now)" if moving else "; repair moves it there"),
            repairable=not moving,
        )

    def _trash_file(self, rel: str, at: paths.Located) -> None:
        if at.what == "trash-claim":
            claim = (self.prefetched.pop(rel, None) or self.store.read(rel) or b"").decode(
                "utf-8", "replace"
            )
            trash_id = claim.strip()
            if trash_id not in self.trash_states and not self._entry_exists(trash_id):
                self.problem(rel, "trash-claim", "claims a trash entry that does not exist", True)
        elif at.what == "trash-entry":
            doc = self._doc(rel)
            state = doc.get("state") if isinstance(doc, dict) else None
            if not isinstance(doc, dict) or doc.get("id") != at.trash_id:
                self.problem(rel, "identity", f"not the trash entry {at.trash_id!r}")
            elif state != DELETED:
                old = self._old(self.files[rel].mtime)
                self.problem(
                    rel,
                    "trash-incomplete",
                    f"a {doc.get('kind')} {doc.get('ref')} left {state} (a crashed process"
                    + ("" if old else ", or one at work right now")
                    + "); repair completes it",
                    repairable=old,
                )
        elif at.what != "trash-file":
            self.problem(rel, "unknown", "a file the trash layout does not have")

    def _entry_exists(self, trash_id: str) -> bool:
        try:
            return self.store.exists(paths.trash_entry(trash_id))
        except TrackerError:
            return False

    def _orphan_trash(self) -> None:
        """Trash directories without ``entry.yaml`` (a restore or gc cut short)."""
        newest: dict[str, float] = {}
        trash_ids: dict[str, str] = {}
        for rel, entry in self.files.items():
            at = self.located[rel]
            if at.trash_id is not None and at.trash_id not in self.trash_states:
                trash_ids[at.base] = at.trash_id
                newest[at.base] = max(newest.get(at.base, 0.0), entry.mtime)
        for base, mtime in sorted(newest.items()):
            if self._entry_exists(trash_ids[base]):
                continue  # created meanwhile
            self.problem(base, "trash-orphan", "trash files without their entry", self._old(mtime))

    def _leftover_trash(self, p: Any) -> str:
        """The trash id of the deleted version a ``deleted-leftover`` belongs or points to."""
        at = paths.parse(p.path)
        vdir = at.base
        if vdir not in self.tombstones and at.target is not None:  # a pointer into one
            vdir = paths.version_dir(*at.target)
        return self.tombstones[vdir]

    def _repair_trash(self, p: Any) -> None:
        # a completed restore changes what find returns: the query index must learn of it
        trash = Trash(self.store, Resources(self.store, ChangeLog(self.store)))
        if p.kind == "trash-incomplete":
            doc = trash.entry(str(paths.parse(p.path).trash_id))
            if doc is not None:
                trash.complete(doc)
        elif p.kind == "deleted-leftover":
            if self.store.exists(p.path):  # else moved by the deletion it was left by
                trash.put_away(p.path, self._leftover_trash(p))
        else:  # trash-claim, trash-orphan
            self.store.remove(p.path, recursive=p.kind == "trash-orphan")
