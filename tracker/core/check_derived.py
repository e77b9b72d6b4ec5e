"""The derived-data part of ``fsck`` (see :mod:`tracker.core.check`): snapshots and compacted
metric files are summaries of key files and chunks. A broken one is repairable (rebuilt or
removed: that only costs speed); an entry whose stamp still matches its file must say what the
file says, since a reader trusts it on the stamp alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tracker.core.index_chunk import DELETED, Candidate, chunk_entries, load_chunk, stored_validator
from tracker.core.items import Items, parse_snapshot
from tracker.core.metrics import Metrics
from tracker.core.query import Query
from tracker.core.resource import Resource
from tracker.core.resources import Resources
from tracker.core.runs import Runs
from tracker.core.session import Session
from tracker.errors import CorruptFile, StoreError, TrackerError
from tracker.store import Store, chunks, paths
from tracker.store.base import Entry, folder_unchanged
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
        if not self._folders_hold(vdir, snap):
            self.problem(
                rel,
                "stale-snapshot",
                'a folder it vouches for ("folders": the same stamp now) holds key files it '
                "does not (forged or damaged); --repair rebuilds the snapshot",
                repairable=True,
            )
            return
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

    def _folders_hold(self, vdir: str, snap: dict[str, Any]) -> bool:
        """Whether every folder the snapshot vouches for and that still has the recorded
        stamp (a reader skips listing it) holds exactly the key files the snapshot holds for
        it, with the same stamps."""
        folders = snap.get("folders")
        if not isinstance(folders, dict):
            return True
        for kind, recorded in folders.items():
            if not isinstance(kind, str) or kind not in paths.SNAPSHOT_KINDS:
                continue  # readers only skip the snapshot's own kinds
            if not folder_unchanged(self.store.stat(f"{vdir}/{kind}"), recorded):
                continue  # a reader lists it: no harm
            prefix = f"{vdir}/{kind}/"
            actual = {
                path[len(vdir) + 1 :]: e.stamp
                for path, e in self.files.items()
                if path.startswith(prefix)
                and "/" not in path[len(prefix) :]
                and path.endswith(".yaml")
            }
            held = {
                inner: entry.get("stamp") if isinstance(entry, dict) else None
                for inner, entry in snap["files"].items()
                if inner.startswith(kind + "/")
            }
            if actual != held:
                return False
        return True

    def _compare_index(self, rel: str, rtype: str, rid: str, data: bytes) -> None:
        """Each entry of a query-index chunk that a reader would trust (its validator equals
        the version's fingerprint now) must hold the record the version's files give; a
        forged or damaged one is repaired by removing the chunk (the next find rebuilds it)."""
        entries = chunk_entries(load_chunk(data))
        versions = sorted(int(v) for v in entries if v.isdigit())
        current = self.store.fingerprints(rtype, rid).of(versions)
        for version in versions:
            held = stored_validator(entries, version)
            if held is None or held != current.get(version):
                continue  # a reader reads this version anew: no harm
            text = entries[str(version)]
            try:
                claimed = (
                    None
                    if text.endswith(DELETED)
                    else Candidate(version, None, text, rel, None, (rtype, rid)).record
                )
            except (TrackerError, LookupError, ValueError, TypeError):
                continue  # unusable: a reader reads it anew
            if claimed != self._records().live_record(Resource(rtype, rid, version)):
                self.problem(
                    rel,
                    "stale-index",
                    f"its entry for version {version} differs from the version's files (forged "
                    "or damaged); --repair removes the chunk and the next find rebuilds it",
                    repairable=True,
                )
                return

    def _records(self) -> Query:
        """A read-only query service on this store (built once), to read records afresh."""
        query: Query | None = getattr(self, "_fresh_query", None)
        if query is None:
            items, resources = Items(self.store), Resources(self.store)
            runs = Runs(self.store, items, capture_git=False)
            session = Session(self.store, runs, write_caches=False)
            metrics = Metrics(self.store, session.run)
            query = Query(session, items, resources, runs, metrics, progress=False)
            self._fresh_query = query
        return query

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
