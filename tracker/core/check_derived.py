"""The derived-data part of ``fsck`` (see :mod:`tracker.core.check`): snapshots and compacted
metric files are summaries of key files and chunks. A broken one is repairable (rebuilt or
removed: that only costs speed); an entry whose stamp still matches its file must say what the
file says, since a reader trusts it on the stamp alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tracker.core.items import Items, parse_snapshot
from tracker.errors import CorruptFile, StoreError
from tracker.store import Store, chunks, paths
from tracker.store.base import Entry
from tracker.store.codec import loads
from tracker.store.jsonform import from_json


class DerivedChecks:
    """Mixed into :class:`tracker.core.check.Checker`, whose state and helpers it uses."""

    store: Store
    files: dict[str, Entry]
    prefetched: dict[str, bytes | None]

    if TYPE_CHECKING:  # provided by Checker

        def problem(self, path: str, kind: str, detail: str, repairable: bool = False) -> None: ...

    def _snapshot(self, rel: str, vdir: str) -> None:
        try:  # derived data: removing a broken one only costs speed
            snap = parse_snapshot(self.store.read(rel) or b"", rel)
        except CorruptFile as exc:  # not a StoreError: a failed read proves no damage
            self.problem(rel, "bad-snapshot", str(exc), repairable=True)
        else:
            self._compare_snapshot(rel, vdir, snap)

    def _compare_snapshot(self, rel: str, vdir: str, snap: dict[str, Any]) -> None:
        """Each entry whose stamp still matches its file must say what the file says (a
        reader trusts it on the stamp alone); a mismatch is repaired by rebuilding."""
        for inner, held in snap["files"].items():
            entry = self.files.get(f"{vdir}/{inner}")
            if not isinstance(held, dict) or entry is None or held.get("stamp") != entry.stamp:
                continue  # stale entries are never used: no harm
            try:
                data = self.prefetched.get(f"{vdir}/{inner}")
                actual = loads(
                    data if data is not None else self.store.read(f"{vdir}/{inner}") or b"", inner
                )
                claimed = from_json({k: v for k, v in held.items() if k != "stamp"}, rel)
            except (CorruptFile, StoreError, ValueError, TypeError):
                continue  # the file itself is reported on its own
            if claimed != actual:
                self.problem(
                    rel,
                    "stale-snapshot",
                    f"its entry for {inner} differs from the file (forged or damaged); "
                    "--repair rebuilds the snapshot",
                    repairable=True,
                )
                return

    def _metric_file(self, rel: str, segment: str, name: str) -> None:
        """A chunk must decode exactly (``bad-chunk``: data, never removed); a compacted file
        is derived (``bad-compaction``: removing it only costs speed)."""
        try:
            data = self.store.read(rel) or b""
            if name == chunks.COMPACT:
                chunks.decode_compact(data, rel, segment)
            else:
                chunks.decode_chunk(data, rel, segment, name)
        except CorruptFile as exc:  # not a StoreError: a failed read proves no damage
            if name == chunks.COMPACT:
                self.problem(rel, "bad-compaction", str(exc), repairable=True)
            else:
                self.problem(rel, "bad-chunk", str(exc))

    def _rebuild_snapshot(self, rel: str) -> None:
        """Write the snapshot again from the key files (read afresh, not from the old one)."""
        vdir = paths.parse(rel).base
        self.store.remove(rel)
        doc = loads(
            self.store.read(paths.join(vdir, paths.RESOURCE_FILE)) or b"",
            paths.join(vdir, paths.RESOURCE_FILE),
        )
        Items(self.store).snapshot(
            vdir, paths.SNAPSHOT_KINDS, resource=doc if isinstance(doc, dict) else None
        )
