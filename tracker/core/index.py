"""A per-series query index: ``resources/<type>/<id>/index.json``, a cache that ``find`` keeps.

It holds, for each version, the flat record ``find`` evaluates (identity, tags, metadata, attrs)
and a validator of the files it was built from. A reader uses an entry only when its validator
still matches (locally: the exact mtime and inode of the version's directories, one ``stat``
each; on object stores: the ETags of the version's files, from one paged listing of the series),
so a stale or missing entry costs a normal read, never a wrong answer. Entries younger than
``RACY_SECONDS`` are not stored, so a coarse filesystem clock cannot hide a change (git's "racy
clean" rule). Only readers write it (atomic replace, last writer wins: every entry validates
itself); writers of keys never touch it, and deleting it only costs speed.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from typing import Any

from tracker.errors import CorruptFile
from tracker.store import Store, paths
from tracker.store.base import Entry
from tracker.store.jsonform import from_json, to_json

RACY_SECONDS = 3.0
ENTRY_MAX = 64 * 1024  # JSON bytes of one version's record; larger ones are not indexed
_RESOURCE = "/resource.yaml"  # replaced by a deletion's tombstone (and back by a restore)
_DIRS = (
    "/attrs",
    "/tags",
    "/metadata",
    "/metrics",
    _RESOURCE,
)  # a new dir changes its stat from None


class SeriesIndex:
    """The index of one series, loaded once per query and saved when it learned something."""

    def __init__(self, store: Store, rtype: str, rid: str) -> None:
        self.store = store
        self.rtype, self.rid = rtype, rid
        self.path = paths.index_file(rtype, rid)
        self.dirty = False
        self.entries: dict[str, Any] = {}
        try:
            data = store.read(self.path)
        except CorruptFile:  # too large, a link, not a file: a broken cache is rebuilt
            data = None
        if data is not None:
            try:
                loaded = json.loads(data)
                self.entries = dict(loaded.get("entries") or {})
            except (ValueError, AttributeError, TypeError, RecursionError):
                self.entries = {}  # a broken cache is rebuilt, not an error
        self._remote: dict[str, list[tuple[str, Entry]]] | None = None

    def _validator(self, version: int) -> list[Any] | None:
        """What the entry of ``version`` must match; None when it must not be cached."""
        vdir = paths.version_dir(self.rtype, self.rid, version)
        if self.store.is_local:
            now = time.time_ns()
            out: list[Any] = []
            for suffix in _DIRS:
                entry = self.store.stat(vdir + suffix)
                if suffix == _RESOURCE:
                    # replaced only whole (a tombstone, a restore) while the old file still
                    # exists, so the inode always differs: no racy-clock window to wait out
                    if entry is None:
                        return None  # not (yet) a version: nothing to remember
                elif entry is not None and now - entry.mtime_ns < RACY_SECONDS * 1e9:
                    return None
                out.append(None if entry is None else [entry.mtime_ns, entry.ino])
            for entry in self.store.list(vdir + "/" + paths.METRICS, detail=True):  # one per key
                if now - entry.mtime_ns < RACY_SECONDS * 1e9:
                    return None
                out.append([entry.name, entry.mtime_ns, entry.ino])
            return out
        files = self._remote_files().get(str(version), [])
        if not files or any(not e.etag for _, e in files):
            return None  # no content hashes on this backend: nothing safe to compare
        digest = hashlib.sha1()  # noqa: S324 - a change detector, not security
        for rel, e in files:
            digest.update(f"{rel}\0{e.etag}\n".encode())
        return [digest.hexdigest()]

    def _remote_files(self) -> dict[str, list[tuple[str, Entry]]]:
        """Files of every version from one (paged) listing of the series, artifacts left out."""
        if self._remote is None:
            self._remote = {}
            for rel, entry in sorted(
                self.store.walk(paths.series_dir(self.rtype, self.rid)).items()
            ):
                version, _, rest = rel.partition("/")
                if version.isdigit() and not rest.startswith("artifacts/"):
                    self._remote.setdefault(version, []).append((rest, entry))
        return self._remote

    def record(
        self, version: int, build: Callable[[], dict[str, Any] | None]
    ) -> dict[str, Any] | None:
        """The record of ``version``: from the index when still valid, else built (and kept);
        None for a deleted version (kept too: its tombstone's stamp validates it)."""
        validator = self._validator(version)
        entry = self.entries.get(str(version))
        if validator is not None and isinstance(entry, dict) and entry.get("v") == validator:
            if "r" in entry and entry["r"] is None:
                return None  # no live version there (deleted, or never written)
            held = _valid_record(entry.get("r"), self.path, self.rtype, self.rid, version)
            if held is not None:
                return held
        record = build()
        if validator is not None:
            stored = None if record is None else to_json(record)
            if stored is None or len(json.dumps(stored, ensure_ascii=False)) <= ENTRY_MAX:
                self.entries[str(version)] = {"v": validator, "r": stored}
            else:  # a record this large is read from its files each time: the index stays small
                self.entries.pop(str(version), None)
            self.dirty = True
        return record

    def save(self) -> None:
        if self.dirty:
            data = json.dumps({"format": 1, "entries": self.entries}, ensure_ascii=False)
            self.store.write(self.path, data.encode("utf-8"))
            self.dirty = False


_SECTIONS = ("tags", "metadata", "attrs")


def _valid_record(
    raw: Any, where: str, rtype: str, rid: str, version: int
) -> dict[str, Any] | None:
    """An index entry's record when it has the shape ``find`` builds (identity of this version,
    mappings for tags, metadata and attrs), else None: a wrong shape is a miss, never a crash."""
    try:
        record = from_json(raw, where)
    except Exception:
        return None
    if not isinstance(record, dict):
        return None
    if (record.get("type"), record.get("id"), record.get("version")) != (rtype, rid, version):
        return None
    if any(not isinstance(record.get(k), dict) for k in _SECTIONS):
        return None
    return dict(record)
