"""The query index of a series: ``resources/<type>/<id>/index-<k>.json``, a cache ``find`` keeps.

Chunk ``k`` holds, for versions ``k*2000+1 .. (k+1)*2000``, the flat record ``find`` evaluates
(identity, tags, metadata, attrs) with a per-version validator (from the store:
:mod:`tracker.store.fingerprints`), plus how far it has read each change file of that chunk
(:mod:`tracker.core.changes`).

A warm ``find`` lists the change log once per series and trusts every entry whose version no new
change line names: no per-version ``stat`` or request. Versions that a new or unsettled line names
are validated one by one (stale: read anew); versions without an entry (new ones) are read once,
concurrently where the store says reads are latency-bound; where the store can
(``Fingerprints.from_listing``: locally, the ``lstat`` of each folder just before its scan), a new
version's validator comes from the listing its read makes, not from a second round of calls. A
version changed too recently for its validator to be trusted (a coarse clock) gets none, so it is
not stored.

Every write that changes what ``find`` sees of a version logs a change line first: keys (tags,
metadata, attributes, tag deletion), metric chunks and their compaction (``metrics.<key>``), a
deletion's tombstone and a restore. A deleted version's entry is ``"r": null`` (its validator
includes ``resource.yaml``, which a tombstone or a restore replaces). A record larger than
``ENTRY_MAX`` is not stored (read from its files each time); an entry of the wrong shape is a
miss (the version is read anew), never a crash; an unreadable chunk is an empty one.

Each chunk records the change-log position it is valid for, so readers racing to rewrite it
(atomic replace, last writer wins) always leave a consistent file; writers of keys never touch
it, and deleting it only costs speed. A chunk only walked in part (``limit``) keeps its old
position.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Generator, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Protocol

from tracker.core.changes import parse, window
from tracker.core.index_chunk import (  # noqa: F401 - the stored form, re-exported
    DELETED,
    FORMAT,
    Candidate,
    Gone,
    built_entry,
    chunk_entries,
    chunk_entry,
    dump_chunk,
    entry_text,
    is_chunk,
    load_chunk,
    position_ok,
    stored_validator,
)
from tracker.core.index_workers import Built, Workers, gather
from tracker.errors import CorruptFile, TrackerError
from tracker.store import Store, paths
from tracker.store.base import Entry

Test = Callable[[Candidate], bool]
_OF = "of"  # "validator: the one fingerprints.of gave before the read" (survives pickling)


class Build(Protocol):
    def __call__(
        self, version: int, listing: dict[str, Entry] | None = None
    ) -> dict[str, Any] | None:
        """A version's record read anew (None: deleted or not there); ``listing``: the
        version's listing when the caller has one (no second listing)."""


# lists a version for a reader: ``lister(unchanged)`` -> (listing, kinds not scanned), where
# ``unchanged`` holds folder stamps from the version's snapshot (Fingerprints.listed)
Lister = Callable[[Mapping[str, Any] | None], tuple[dict[str, Entry], frozenset[str]]]


class BuildEntry(Protocol):
    def __call__(
        self, version: int, lister: Lister | None = None
    ) -> tuple[dict[str, Any] | None, str]:
        """A version read anew for its entry: ``(record or None, the record's JSON form)``;
        a None record with JSON text means "not decoded" (parsed when a test needs it),
        ``(None, "null")`` deleted or not there. ``lister``: how to list it, when the
        caller takes the validator from that listing."""


ENTRY_MAX = 64 * 1024  # JSON bytes of one version's record; larger ones are not indexed
_MEMOS = 8  # remembered test results per chunk


class SeriesIndex:
    """Walks the versions of one series through its index chunks, updating them as it goes."""

    def __init__(
        self,
        store: Store,
        rtype: str,
        rid: str,
        top: int,
        build: Build,
        entry: BuildEntry,
        write: bool = True,
    ) -> None:
        """``build(v)`` reads a version's record (None: deleted or not there), ``entry(v)`` it
        for its entry; ``write=False`` stores no chunk (a reader that must write nothing)."""
        self.store, self.rtype, self.rid, self.top, self.build = store, rtype, rid, top, build
        self.entry = entry
        self.write = write
        self.window = window(store)
        self.now = time.time()
        self.marks: dict[int, dict[str, Entry]] = {}  # chunk -> change file name -> entry
        for change in store.list(paths.changes_dir(rtype, rid), detail=True):
            chunk = paths.parse_change_name(change.name)
            if chunk is not None and not change.is_dir:
                self.marks.setdefault(chunk, {})[change.name] = change
        self.fingerprints = store.fingerprints(rtype, rid)  # validators (tracker.store)
        self._workers = Workers(self._read_here)  # forked readers of many new local versions
        self._ramped = False  # the first chunk walked reads in growing batches, later ones not
        self.saved = 0  # chunks written (for tests and benchmarks)

    # -- the walk ----------------------------------------------------------------------------
    def walk(
        self,
        descending: bool = False,
        test: Test | None = None,
        key: str = "",
        remembered: Callable[[], bool] | None = None,
    ) -> Generator[Candidate, None, None]:
        """The candidates that pass ``test`` (all without one), oldest first (or newest first);
        stopping early is fine: what was learned is saved as the walk leaves each chunk.

        ``key`` names the test (the ``where`` text): a chunk walked in full remembers which of
        its versions passed, and the next walk with the same key trusts that for every version
        whose entry did not change, without parsing it (only while ``remembered()`` is true:
        a caller that must see every record, e.g. to learn which fields exist, says no)."""
        last = paths.chunk_of(self.top) if self.top else -1
        chunks = range(last, -1, -1) if descending else range(last + 1)
        try:
            for chunk in chunks:
                yield from self._chunk(chunk, descending, test, key, remembered)
        finally:
            self.close()

    def _chunk(
        self,
        chunk: int,
        descending: bool,
        test: Test | None,
        key: str,
        remembered: Callable[[], bool] | None,
    ) -> Generator[Candidate, None, None]:
        path = paths.index_chunk(self.rtype, self.rid, chunk)
        try:
            data = self.store.read(path)
        except CorruptFile:  # too large, a link, not a file: a broken cache is rebuilt
            data = None
        stored = load_chunk(data)
        suspects, position, settled = self._suspects(chunk, stored["marks"])
        lo = chunk * paths.INDEX_CHUNK + 1
        hi = min(self.top, lo + paths.INDEX_CHUNK - 1)
        key = key if test is not None else ""
        memo = stored["memo"].get(key) if key else None
        trust = remembered or (lambda: True)
        known: set[int] | None = None
        upto = 0
        if isinstance(memo, dict) and isinstance(memo.get("match"), list):
            known = {v for v in memo["match"] if isinstance(v, int) and lo <= v <= hi}
            upto = memo["upto"] if isinstance(memo.get("upto"), int) else 0
            if (
                trust()
                and memo.get("complete") is True
                and upto >= hi
                and not suspects
                and all(chunk_entry(stored, v) is not None for v in known)
            ):
                # nothing changed and every version was remembered: only the matches are read
                yield from self._remembered(path, stored, known, descending, position, settled)
                return
        entries: dict[str, bytes] = chunk_entries(stored)
        versions = list(range(hi, lo - 1, -1) if descending else range(lo, hi + 1))
        passed: list[int] = []
        dirty = position != stored["marks"]
        changed = done = False
        # a new version's validator comes from the listing its read makes, where the store can
        # (locally: the folders' lstat before their scan); else from fingerprints.of, before it
        listed = self.fingerprints.from_listing
        self.fingerprints.expect(
            sum(1 for v in versions if v in suspects or (str(v) not in entries and not listed))
        )
        parallel = self.store.read_parallelism
        # 1, 2, 4, ... in the walk's first chunk (a walk stopped early by ``limit`` reads little
        # ahead); whole batches after it
        batches = list(_batches(versions, 512 if parallel <= 1 else parallel, not self._ramped))
        self._ramped = True
        ahead: list[Future[Built]] | None = None  # the next batch's new versions, being read
        try:
            for i, batch in enumerate(batches):
                unknown = [v for v in batch if str(v) not in entries or v in suspects]
                new = [v for v in unknown if str(v) not in entries] if listed else []
                old = [v for v in unknown if str(v) in entries] if listed else unknown
                checked = self.fingerprints.of(old)  # before the read: a change after it shows
                stale = [
                    v
                    for v in old
                    if checked[v] is None or stored_validator(entries, v) != checked[v]
                ]
                built = self._build_many(stale)
                reading, ahead = ahead, None
                if listed and i + 1 < len(batches):  # workers read on while this one is tested
                    ahead = self._read_ahead([v for v in batches[i + 1] if str(v) not in entries])
                # the validator of a new version comes from its read (listed)
                built.update(gather(reading) if reading else self._build_many(new, listed=True))
                for v in batch:
                    name = str(v)
                    cand: Candidate | None
                    if v in built:
                        record, text, validator = built[v]
                        validator = checked[v] if validator == _OF else validator
                        stored_text = entry_text(validator, text)
                        if validator is not None and len(text) <= ENTRY_MAX:
                            entries[name] = stored_text
                            changed = True
                        elif entries.pop(name, None) is not None:
                            changed = True
                        if record is None and text == "null":  # deleted (or never written)
                            continue
                        if record is not None:
                            cand = Candidate(v, record, b"", path)
                        else:  # not decoded: parsed only if the test needs it
                            cand = self._candidate(v, stored_text, path)
                        ok = test is None or test(cand)
                    elif entries[name].endswith(DELETED):
                        continue
                    elif known is not None and v <= upto and trust():  # nothing to parse
                        ok = v in known
                        cand = self._candidate(v, entries[name], path) if ok else None
                    else:
                        cand = self._candidate(v, entries[name], path)
                        try:
                            ok = test(cand) if test is not None else bool(cand.record)
                        except Gone:
                            continue
                    if ok and cand is not None:
                        passed.append(v)
                        yield cand
            done = True
        finally:
            memos = {} if changed else dict(stored["memo"])
            if done and key:
                complete = all(str(v) in entries for v in range(lo, hi + 1))
                fresh = {"upto": hi, "match": sorted(passed), "complete": complete}
                if memos.get(key) != fresh or changed:
                    memos.pop(key, None)
                    while len(memos) >= _MEMOS:
                        memos.pop(next(iter(memos)))
                    memos[key] = fresh
                    dirty = True
            if dirty or changed:
                marks = position if done and settled else stored["marks"]
                self._save(path, marks, entries, memos)

    def _remembered(
        self,
        path: str,
        stored: dict[str, Any],
        known: set[int],
        descending: bool,
        position: dict[str, Any],
        settled: bool,
    ) -> Generator[Candidate, None, None]:
        done = False
        try:
            for v in sorted(known, reverse=descending):
                yield self._candidate(v, chunk_entry(stored, v) or b"", path)
            done = True
        finally:
            if done and settled and position != stored["marks"]:
                self._save(path, position, chunk_entries(stored), stored["memo"])

    def _candidate(self, version: int, text: bytes, path: str) -> Candidate:
        return Candidate(version, None, text, path, self.build, (self.rtype, self.rid))

    def _suspects(self, chunk: int, seen: dict[str, Any]) -> tuple[set[int], dict[str, Any], bool]:
        """Versions named by change lines this chunk has not settled; the position to record
        ({file: [stamp, lines settled, lines]}); False when a change file could not be read
        (every version of the chunk is then validated, and nothing is settled)."""
        suspects: set[int] = set()
        position: dict[str, Any] = {}
        current = self.marks.get(chunk, {})
        to_read = [
            name
            for name, e in current.items()
            if not (position_ok(seen.get(name)) and seen[name][0] == e.stamp)
            or seen[name][1] != seen[name][2]
        ]
        prefix = paths.changes_dir(self.rtype, self.rid)
        if any(name not in current for name in seen):
            # a change file this chunk read is gone (removed by hand): the lines it held may
            # name versions changed since, so every version of the chunk is validated
            lo = chunk * paths.INDEX_CHUNK + 1
            suspects.update(range(lo, lo + paths.INDEX_CHUNK))
        try:
            data = self.store.read_many([f"{prefix}/{n}" for n in to_read]) if to_read else {}
        except CorruptFile:  # one is not a readable file: none is trusted (all re-validated)
            data = {}
        settled = True
        for name, entry in current.items():
            if name not in to_read:
                position[name] = seen[name]
                continue
            lines = parse(data.get(f"{prefix}/{name}") or b"")
            if lines is None:
                settled = False
                lo = chunk * paths.INDEX_CHUNK + 1
                suspects.update(range(lo, lo + paths.INDEX_CHUNK))
                continue
            old = seen.get(name)
            start = 0
            if isinstance(old, list) and position_ok(old) and old[0] == entry.stamp:
                start = old[1]
            start = start if isinstance(start, int) and 0 <= start <= len(lines) else 0
            suspects.update(v for v, _ in lines[start:])
            done = start
            while done < len(lines) and lines[done][1] < self.now - self.window:
                done += 1
            position[name] = [entry.stamp, done, len(lines)]
        return suspects, position, settled

    # -- reads ------------------------------------------------------------------------------
    def _build_many(self, versions: list[int], listed: bool = False) -> Built:
        """``{version: (record, its JSON form as text, validator)}``, read anew; ``listed``:
        the validator comes from the version's own listing (else it is ``_OF``: the caller's)."""
        one = self._listed_one if listed else self._one
        parallel = self.store.read_parallelism
        if parallel <= 1:  # CPU-bound parsing: worker processes, not threads
            if self._forks(versions):
                return gather(self._workers.submit(versions, listed))
            return {v: one(v) for v in versions}
        if len(versions) < 2:
            return {v: one(v) for v in versions}
        with ThreadPoolExecutor(min(parallel, len(versions))) as pool:
            return dict(zip(versions, pool.map(one, versions), strict=True))

    def _one(self, version: int) -> tuple[dict[str, Any] | None, str, Any]:
        return (*self.entry(version), _OF)

    def _listed_one(self, version: int) -> tuple[dict[str, Any] | None, str, Any]:
        if not self.fingerprints.from_listing:  # the store cannot: validator, then the read
            validator = self.fingerprints.of([version])[version]
            return (*self.entry(version), validator)
        validators: list[Any] = []

        def lister(unchanged: Mapping[str, Any] | None) -> tuple[dict[str, Entry], frozenset[str]]:
            got = self.fingerprints.listed(version, unchanged)
            if got is None:
                raise TrackerError(f"{self.store.url}: a listing gave no validator")
            validators.append(got[1])
            return got[0], got[2]

        record, text = self.entry(version, lister)
        # the first listing's (the older, if the builder listed twice); none: not stored
        return record, text, validators[0] if validators else None

    def _forks(self, versions: list[int]) -> bool:
        """Whether to read these versions in worker processes (a local disk, many of them)."""
        return self.store.read_parallelism <= 1 and self._workers.worth_it(versions)

    def _read_ahead(self, versions: list[int]) -> list[Future[Built]] | None:
        """Start reading new versions in the workers (None: not worth forking for)."""
        return self._workers.submit(versions, True) if self._forks(versions) else None

    def _read_here(self, versions: list[int], listed: bool) -> Built:
        """What a worker runs: read ``versions`` in this process."""
        one = self._listed_one if listed else self._one
        return {v: one(v) for v in versions}

    def close(self) -> None:
        self._workers.close()

    def _save(
        self, path: str, marks: dict[str, Any], entries: dict[str, bytes], memo: dict[str, Any]
    ) -> None:
        if not self.write:
            return
        with contextlib.suppress(TrackerError, OSError):  # a cache: a read-only store is fine
            self.store.write(path, dump_chunk(marks, entries, memo))
            self.saved += 1


def _batches(items: list[int], cap: int, ramp: bool = True) -> Iterator[list[int]]:
    """1, 2, 4, ... items up to ``cap`` (``ramp``: a walk stopped early by ``limit`` read
    little ahead), else ``cap`` at a time."""
    start, size = 0, 1 if ramp else cap
    while start < len(items):
        yield items[start : start + size]
        start += size
        size = min(size * 2, cap)
