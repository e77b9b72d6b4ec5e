"""The store interface: the handful of file operations the tracker needs, on any backend.

Paths are relative POSIX strings built by :mod:`tracker.store.paths`. Two backends implement it:
:class:`~tracker.store.local.LocalStore` (plain ``os`` calls: the fastest and the only one with a
truly atomic exclusive create on a local disk) and :class:`~tracker.store.remote.FsspecStore`
(every other fsspec URL, S3 included).
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tracker.errors import CorruptFile
from tracker.store import paths

if TYPE_CHECKING:
    from tracker.store.fingerprints import Fingerprints

TMP_PREFIX = ".tmp-"  # encoded names never start with '.', so temp files never look like data
MAX_READ = 64 * 1024 * 1024  # no metadata file is this large; a larger one is refused unread


def sha256_of(path: str) -> str:
    """The hex sha256 of a local file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def too_large(where: str) -> CorruptFile:
    return CorruptFile(
        f"{where}: larger than {MAX_READ} bytes, which no metadata file is; it was not read "
        "(run `tracker fsck`)"
    )


Progress = Callable[[int], None]
GROWTH_ALLOWANCE = 1 << 20  # bytes a source may grow while copied, beyond 10% of its size


class BoundedSource:
    """Reads a local file in 1 MiB chunks, hashing and counting exactly the bytes handed out, and
    refuses to chase a file that keeps growing past its size at the start plus an allowance (a
    log being written, ``/dev/zero``): size and sha256 then describe the copy, whatever the file
    does meanwhile."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.size = 0
        self.digest = hashlib.sha256()

    def chunks(self, fh: Any) -> Any:
        import os

        start = os.fstat(fh.fileno()).st_size
        bound = start + max(GROWTH_ALLOWANCE, start // 10)
        while chunk := fh.read(1 << 20):
            self.size += len(chunk)
            if self.size > bound:
                from tracker.errors import UnsupportedSource

                raise UnsupportedSource(
                    f"{self.path} kept growing while it was copied ({start} bytes at the start, "
                    f"more than {bound} read): copy it somewhere stable (or stop its writer) and "
                    "log that copy; nothing was recorded"
                )
            self.digest.update(chunk)
            yield chunk

    @property
    def sha256(self) -> str:
        return self.digest.hexdigest()


@dataclass(frozen=True, slots=True)
class Entry:
    """One name in a directory listing; ``mtime`` is seconds since the epoch (0.0 if unknown)."""

    name: str
    is_dir: bool
    size: int = 0
    mtime: float = 0.0
    etag: str = ""  # object stores: the content hash the listing reports
    mtime_ns: int = 0  # local: exact mtime and inode, so a rewrite is never taken for the same
    ino: int = 0  #       file (each write is a new inode renamed into place)

    @property
    def stamp(self) -> list[Any]:
        """What identifies this version of the file, for the snapshot and the caches."""
        if self.etag:
            return ["e", self.size, self.etag]
        return ["m", self.mtime_ns or round(self.mtime, 6), self.size, self.ino]


class Store(ABC):
    """File operations relative to a root. Implementations never trust a cached listing."""

    url: str
    is_local: bool = False  # artifacts can be read in place (see in_place); nothing else
    # what readers may assume, so that core plans its reads by cost, never by backend name:
    settle_seconds = 30.0  # a change may stay unseen this long (listing lag, skewed clocks)
    read_parallelism = 16  # reads worth issuing at once (latency-bound: object stores)
    # a folder's stamp (mtime, inode) changes whenever a file in it is created, replaced or
    # removed, so an unchanged stamp vouches for its listing (see folder_unchanged)
    folder_stamps = False

    def fingerprints(self, rtype: str, rid: str) -> Fingerprints:
        """Validators of the versions of series ``rtype/rid`` for the query index."""
        from tracker.store.fingerprints import Fingerprints

        return Fingerprints(self, rtype, rid)

    @abstractmethod
    def read(self, path: str) -> bytes | None:
        """The whole file, or None when it does not exist."""

    def read_many(self, paths: list[str]) -> dict[str, bytes | None]:
        """Several whole files at once (concurrently where the backend can); None when missing."""
        return {p: self.read(p) for p in paths}

    @abstractmethod
    def write(self, path: str, data: bytes) -> Entry | None:
        """Atomically replace ``path`` with ``data`` (a reader sees the old or the new bytes).

        Returns the new file's entry (its stamp) when the backend tells it for free, else None.
        """

    @abstractmethod
    def create(self, path: str, data: bytes) -> bool:
        """Atomically create ``path`` with ``data`` if it does not exist; False if it exists."""

    @abstractmethod
    def exists(self, path: str) -> bool:
        """Whether a file exists at ``path``."""

    @abstractmethod
    def list(self, path: str, detail: bool = False) -> list[Entry]:
        """The entries directly under ``path`` ([] when missing); sizes/mtimes only with detail."""

    @abstractmethod
    def walk(self, path: str, include_temp: bool = False) -> dict[str, Entry]:
        """Every file below ``path``, keyed by path relative to it, with size and mtime (temp
        files of unfinished writes only with ``include_temp``, for fsck)."""

    @abstractmethod
    def upload(
        self, local_path: str, path: str, progress: Progress | None = None
    ) -> tuple[str, int]:
        """Copy a local file into the store (multipart on object stores); returns the sha256
        and size of the bytes copied, computed in the same pass as the copy (see
        :class:`BoundedSource`), so a file that changes meanwhile is described as copied."""

    @abstractmethod
    def download(self, path: str, local_path: str, progress: Progress | None = None) -> None:
        """Copy a stored file to a local path."""

    @abstractmethod
    def remove(self, path: str, recursive: bool = False) -> None:
        """Delete a file (or a whole tree); missing is not an error."""

    @abstractmethod
    def move(self, src: str, dst: str) -> bool:
        """Move one file (a rename locally; copy then delete on object stores, which cannot
        rename), replacing ``dst``; False when ``src`` no longer exists. Emptied directories
        are removed locally, so a moved-out tree leaves no husk behind."""

    @abstractmethod
    def size(self, path: str) -> int | None:
        """The file's size in bytes, or None when it does not exist."""

    def stat(self, path: str) -> Entry | None:
        """The entry of one file, or None when it does not exist."""
        size = self.size(path)
        return None if size is None else Entry(path.rsplit("/", 1)[-1], False, size)

    def is_symlink(self, path: str) -> bool:
        """Whether ``path`` is a symbolic link (only local stores have them)."""
        return False

    # -- bulk reads ------------------------------------------------------------------------------
    def list_version(self, vdir: str, kinds: tuple[str, ...]) -> dict[str, Entry]:
        """Files of a version directory, keyed by path relative to it: at least those under
        ``kinds`` (folders of :mod:`tracker.store.paths`) and ``snapshot.json``, in as few calls
        as the backend allows. The default is one recursive listing (everything, which callers
        filter); a backend where listing is per folder scans only ``kinds``."""
        return self.walk(vdir)

    def list_version_stamped(
        self, vdir: str, kinds: tuple[str, ...], unchanged: Mapping[str, Any] | None = None
    ) -> tuple[dict[str, Entry], dict[str, Entry | None]]:
        """:meth:`list_version` (with ``resource.yaml``'s entry) plus the stamps a local
        validator is made of (see :class:`tracker.store.fingerprints.LocalFingerprints`), each
        taken before what it covers was listed: ``resource.yaml``, each of ``kinds`` (None:
        missing) and, for a kind of series (``metrics``), each ``<kind>/<key>`` folder.

        ``unchanged``: folder stamps the caller holds the listing of (``{kind: [mtime_ns,
        ino]}``, from a snapshot); a kind whose folder still has that stamp
        (:func:`folder_unchanged`) is not scanned, and its files are not in the listing. Only
        where :attr:`folder_stamps` is true. The default stats first, then lists."""
        resource = self.stat(f"{vdir}/{paths.RESOURCE_FILE}")
        stamps: dict[str, Entry | None] = {paths.RESOURCE_FILE: resource}
        for kind in kinds:
            stamps[kind] = self.stat(f"{vdir}/{kind}")
            spec = paths.ITEM_KINDS.get(kind)
            if spec is not None and spec.rule == paths.SERIES:
                for e in self.list(f"{vdir}/{kind}", detail=True):
                    stamps[f"{kind}/{e.name}"] = e
        skip = skipped(self, kinds, stamps, unchanged)
        listing = self.list_version(vdir, tuple(k for k in kinds if k not in skip))
        listing = {rel: e for rel, e in listing.items() if rel.partition("/")[0] not in skip}
        if resource is not None:
            listing.setdefault(paths.RESOURCE_FILE, resource)
        return listing, stamps

    def sha256(self, path: str) -> str | None:
        """The hex sha256 of a stored file (None when missing), streamed, never held whole."""
        import os
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            target = os.path.join(tmp, "f")
            try:
                self.download(path, target)
            except FileNotFoundError:
                return None
            return sha256_of(target)

    def in_place(self, path: str) -> str | None:
        """A local path where the stored file or folder ``path`` can be read without a copy
        (checked: no link on the way or at the end), or None when the backend has no such path
        or nothing is there. Callers must not modify it."""
        return None

    def mark_ignored(self) -> None:
        """Keep version control out of a new store: a local store writes a ``.gitignore``
        (a store inside a git work tree must not make it dirty); object stores need nothing."""
        return None

    def contains(self, local_path: str) -> bool:
        """Whether the local path ``local_path`` (after links) lies inside this store's root:
        never a source to copy in, nor a destination to copy out to."""
        return False

    # -- maintenance (fsck): a backend without such things answers "none" ------------------------
    def irregular_files(self, path: str = "") -> dict[str, str]:
        """``{store path: SYMLINK | SPECIAL_FILE}`` for the symbolic links (to files or folders)
        and FIFOs, devices and sockets below ``path``, none of which the store writes or reads
        through. Object stores have neither."""
        return {}

    def empty_dirs(self, path: str, depth: int) -> dict[str, float]:
        """Folders exactly ``depth`` levels below ``path`` that hold no file but temp files
        (what a writer killed before its first write leaves), with their mtimes. Object stores
        have no folder without a file."""
        return {}

    def remove_empty_dirs(self, path: str) -> None:
        """Remove the folder ``path`` and the empty folders in it, bottom-up, never a file: a
        folder that got a file meanwhile stays. Nothing to do where folders are not things."""
        return None

    def writer_alive(self, temp_path: str) -> bool | None:
        """Whether the process writing the temp file ``temp_path`` may still run: False only
        when provably gone (local stores: its process id is not running), None when it cannot
        be known (a remote store's writer may run on any machine)."""
        return None


SYMLINK = "symlink"
SPECIAL_FILE = "special-file"


def folder_unchanged(entry: Entry | None, recorded: Any) -> bool:
    """Whether a folder's current entry has the stamp ``[mtime_ns, ino]`` a snapshot recorded
    for it (recorded only when the folder had not changed for a while before its listing, so
    a change after that listing cannot share its clock tick; see ``snapshot.json``)."""
    return (
        entry is not None
        and entry.is_dir
        and entry.mtime_ns > 0
        and isinstance(recorded, list)
        and recorded == [entry.mtime_ns, entry.ino]
    )


def skipped(
    store: Store,
    kinds: tuple[str, ...],
    stamps: Mapping[str, Entry | None],
    unchanged: Mapping[str, Any] | None,
) -> frozenset[str]:
    """The kinds :meth:`Store.list_version_stamped` does not scan: folders a snapshot holds
    (``paths.SNAPSHOT_KINDS``) whose stamps are unchanged."""
    if not unchanged or not store.folder_stamps:
        return frozenset()
    return frozenset(
        k
        for k in kinds
        if k in paths.SNAPSHOT_KINDS and folder_unchanged(stamps.get(k), unchanged.get(k))
    )
