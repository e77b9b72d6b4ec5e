"""Validators for the query index: a value per version that changes whenever a file ``find``
reads under the version changes, so a cached record is used only while it is still true.

The store layer owns them because what is cheap and safe differs by backend. Object stores
(:class:`Fingerprints`) hash the ETags of the version's files, from one listing per version or,
when many versions are asked, one paged listing of the whole series. A local disk
(:class:`LocalFingerprints`) compares the exact mtime and inode of the version's item folders
(:data:`tracker.store.paths.ITEM_KINDS`), of each metric series folder and of ``resource.yaml``,
one ``stat`` each; a folder changed less than ``RACY_SECONDS`` ago gives no validator, so a
coarse filesystem clock cannot hide a change (git's "racy clean" rule).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from tracker.store import paths
from tracker.store.base import Entry, skipped

if TYPE_CHECKING:
    from tracker.store.base import Store

RACY_SECONDS = 3.0
SERIES_WALK = 50  # more unknown versions than this: one listing of the series beats one each

Validator = list[Any] | None
Listed = tuple[dict[str, Entry], Validator, frozenset[str]]  # listing, validator, not scanned


def etag_validator(files: list[tuple[str, Entry]]) -> Validator:
    """A digest of (path, ETag) pairs; None when the backend gives no content hashes."""
    if not files or any(not e.etag for _, e in files):
        return None  # no content hashes on this backend: nothing safe to compare
    digest = hashlib.sha1()  # noqa: S324 - a change detector, not security
    for rel, e in files:
        digest.update(f"{rel}\0{e.etag}\n".encode())
    return [digest.hexdigest()]


class Fingerprints:
    """Validators of the versions of one series (object stores: ETags of their files)."""

    from_listing = False  # True: listed() gives a new version's validator with its listing

    def __init__(self, store: Store, rtype: str, rid: str) -> None:
        self.store, self.rtype, self.rid = store, rtype, rid
        self._listed: dict[str, list[tuple[str, Entry]]] | None = None

    def expect(self, unknown: int) -> None:
        """``unknown`` versions are about to be asked for: list the series once if that is
        cheaper than one listing per version."""
        if self._listed is None and unknown > SERIES_WALK:
            self._listed = self._series_files()

    def of(self, versions: list[int]) -> dict[int, Validator]:
        if not versions:
            return {}
        if self._listed is not None:
            return {v: etag_validator(self._listed.get(str(v), [])) for v in versions}
        with ThreadPoolExecutor(min(self.store.read_parallelism, len(versions))) as pool:
            listed = list(pool.map(self._version_files, versions))
        return {v: etag_validator(files) for v, files in zip(versions, listed, strict=True)}

    def listed(self, version: int, unchanged: Mapping[str, Any] | None = None) -> Listed | None:
        """The version's listing (:meth:`~tracker.store.base.Store.list_version_stamped` of
        its item kinds; ``unchanged``: folder stamps from its snapshot) with its validator made
        from the same calls and the kinds not scanned (their folders unchanged), or None where
        a validator cannot come from a listing (object stores: :meth:`of` first, then reads)."""
        return None

    def _version_files(self, version: int) -> list[tuple[str, Entry]]:
        vdir = paths.version_dir(self.rtype, self.rid, version)
        return sorted(
            (rel, e)
            for rel, e in self.store.walk(vdir).items()
            if not rel.startswith(paths.ARTIFACTS + "/")
        )

    def _series_files(self) -> dict[str, list[tuple[str, Entry]]]:
        """Files of every version from one (paged) listing of the series, artifacts left out."""
        out: dict[str, list[tuple[str, Entry]]] = {}
        for rel, entry in sorted(self.store.walk(paths.series_dir(self.rtype, self.rid)).items()):
            version, _, rest = rel.partition("/")
            if version.isdigit() and not rest.startswith(paths.ARTIFACTS + "/"):
                out.setdefault(version, []).append((rest, entry))
        return out


class LocalFingerprints(Fingerprints):
    """Validators from ``stat``: folders change their mtime and inode when a file in them is
    created, replaced or removed (see the module doc for the racy-clock rule)."""

    from_listing = True

    def expect(self, unknown: int) -> None:
        return None  # a stat per version is cheaper than any listing

    def of(self, versions: list[int]) -> dict[int, Validator]:
        return {v: self.version(v) for v in versions}

    def listed(self, version: int, unchanged: Mapping[str, Any] | None = None) -> Listed | None:
        """A new version read once: the ``lstat`` of each folder before its scan is both the
        link check and the validator (no second round of ``stat`` calls)."""
        vdir = paths.version_dir(self.rtype, self.rid, version)
        kinds = tuple(paths.ITEM_KINDS)
        listing, stamps = self.store.list_version_stamped(vdir, kinds, unchanged)
        metrics = [e for rel, e in stamps.items() if rel.startswith(paths.METRICS + "/") and e]
        validator = _validator(stamps, metrics, time.time_ns())
        return listing, validator, skipped(self.store, kinds, stamps, unchanged)

    def version(self, version: int) -> Validator:
        vdir = paths.version_dir(self.rtype, self.rid, version)
        resource = self.store.stat(f"{vdir}/{paths.RESOURCE_FILE}")
        if resource is None:
            return None  # not (yet) a version: nothing to remember
        now = time.time_ns()
        stamps: dict[str, Entry | None] = {paths.RESOURCE_FILE: resource}
        for kind in paths.ITEM_KINDS:
            stamps[kind] = entry = self.store.stat(f"{vdir}/{kind}")
            if entry is not None and now - entry.mtime_ns < RACY_SECONDS * 1e9:
                return None
        metrics = self.store.list(f"{vdir}/{paths.METRICS}", detail=True)  # one per key
        return _validator(stamps, metrics, now)


def _validator(stamps: dict[str, Entry | None], metrics: list[Entry], now: int) -> Validator:
    """``[[mtime_ns, ino] or None per item folder, [mtime_ns, ino] of resource.yaml, [key,
    mtime_ns, ino] per metric key folder (by name)]``; None when the version is not (yet) there
    or a folder changed within ``RACY_SECONDS`` of ``now``."""
    resource = stamps.get(paths.RESOURCE_FILE)
    if resource is None:
        return None  # not (yet) a version: nothing to remember
    out: list[Any] = []
    for kind in paths.ITEM_KINDS:
        entry = stamps.get(kind)
        if entry is not None and now - entry.mtime_ns < RACY_SECONDS * 1e9:
            return None
        out.append(None if entry is None else [entry.mtime_ns, entry.ino])
    # replaced only whole (a tombstone, a restore) while the old file still exists, so the
    # inode always differs: no racy-clock window to wait out
    out.append([resource.mtime_ns, resource.ino])
    for entry in sorted(metrics, key=lambda e: e.name):
        if now - entry.mtime_ns < RACY_SECONDS * 1e9:
            return None
        out.append([entry.name, entry.mtime_ns, entry.ino])
    return out
