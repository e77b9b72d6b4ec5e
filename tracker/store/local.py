"""The local-directory backend: plain ``os`` calls, no fsspec overhead on the hot path.

Atomic write = temp file in the same directory + ``os.replace``. Exclusive create = temp file +
``os.link`` (fails with EEXIST, atomic, and a reader never sees a half-written file, which
``open(O_EXCL)`` followed by a write cannot promise). ``fsync=True`` also flushes files and their
directories for power-loss safety.
"""

from __future__ import annotations

import errno
import hashlib
import itertools
import os
import shutil
import stat
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from tracker.errors import CorruptFile, StoreError
from tracker.store import paths
from tracker.store.base import (
    MAX_READ,
    TMP_PREFIX,
    BoundedSource,
    Entry,
    Progress,
    Store,
    skipped,
    too_large,
)
from tracker.store.fingerprints import Fingerprints, LocalFingerprints
from tracker.store.local_os import (
    READ_FLAGS,
    copy_file,
    empty_dirs,
    entry_of,
    irregular_files,
    open_plain,
    read_up_to,
    remove_empty_dirs,
    store_error,
    unlink_quietly,
    writer_alive,
)

_COUNTER = itertools.count()
_CHUNK = 1024 * 1024
_VERIFIED_MAX = 65536  # directories known to be real (not links) in this process


class LocalStore(Store):
    is_local = True
    settle_seconds = 5.0  # one machine's clock; mtimes are exact
    read_parallelism = 1  # syscall-bound: threads would share one core
    folder_stamps = True  # every write renames into its folder (see Store.folder_stamps)

    def fingerprints(self, rtype: str, rid: str) -> Fingerprints:
        return LocalFingerprints(self, rtype, rid)

    def __init__(self, root: str, fsync: bool = False) -> None:
        self.root = os.path.abspath(os.path.expanduser(root))
        self.url = self.root
        self.fsync = fsync
        self._verified: set[str] = set()
        if os.path.exists(self.root) and not os.path.isdir(self.root):
            raise StoreError(
                f"store root {self.root} is a file, not a directory: pass a directory (or a "
                "path that does not exist yet)"
            )

    # -- helpers ---------------------------------------------------------------------------------
    def _abs(self, path: str, whole: bool = False) -> str:
        """The absolute path, after checking that no folder on the way below the root is a
        symbolic link (``whole``: the last component too, for folders that are listed)."""
        if not path:
            return self.root
        folder = path if whole else path.rpartition("/")[0]
        if folder and f"{self.root}/{folder}" not in self._verified:  # fast path: one lookup
            self._check_dirs(folder.split("/"), path)
        return f"{self.root}/{path}"

    def _find(self, path: str, whole: bool = False) -> str | None:
        """Like :meth:`_abs`, but None when a folder on the way is missing: the ``lstat`` that
        found it missing answers the operation (no second, failing system call)."""
        if not path:
            return self.root
        folder = path if whole else path.rpartition("/")[0]
        full_folder = f"{self.root}/{folder}"
        if (
            folder
            and full_folder not in self._verified
            and not self._check_dirs(folder.split("/"), path)
        ):
            return None
        return f"{self.root}/{path}"

    def _check_dirs(self, parts: list[str], path: str) -> bool:
        """``lstat`` each folder from the root down (once per process per folder): the store
        never creates a link, so one found on the way is a hostile or broken store, and
        following it could read, write or delete outside the root."""
        current = self.root
        verified = self._verified
        for part in parts:
            current = f"{current}/{part}"
            if current in verified:
                continue
            st = self._lstat_checked(current, f" (on the way to {path})")
            if st is None:
                return False  # the rest does not exist yet; what we create is a real folder
            if not stat.S_ISDIR(st.st_mode):
                return True  # a file where a folder should be: the operation itself reports it
        return True

    def _lstat_checked(self, full: str, context: str = "") -> os.stat_result | None:
        """``lstat`` of a store path (None: missing); a link raises CorruptFile, a real folder
        is remembered as verified (never ``lstat``ed again by this process's checks)."""
        try:
            st = os.lstat(full)
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as exc:
            raise store_error("check", full, exc) from exc
        if stat.S_ISLNK(st.st_mode):
            raise CorruptFile(
                f"{full}: a symbolic link inside the store{context}; the store never writes one, "
                "so nothing is read, written or removed through it. Remove the link (`tracker "
                "fsck` lists it)"
            )
        if stat.S_ISDIR(st.st_mode):
            if len(self._verified) >= _VERIFIED_MAX:
                self._verified.clear()
            self._verified.add(full)
        return st

    @contextmanager
    def _errors(self, what: str, path: str) -> Iterator[None]:
        """Raise OS errors other than "missing"/"exists" as StoreError (still an OSError)
        naming the operation, the path and what to do."""
        try:
            yield
        except (FileNotFoundError, FileExistsError, StoreError, CorruptFile):
            raise
        except OSError as exc:
            raise store_error(what, self._abs_unchecked(path), exc) from exc

    def _abs_unchecked(self, path: str) -> str:
        return f"{self.root}/{path}" if path else self.root

    def _tmp_for(self, full: str) -> str:
        head, _, name = full.rpartition("/")
        return f"{head}/{TMP_PREFIX}{os.getpid()}-{next(_COUNTER)}-{name[:40]}"

    def _write_tmp(
        self, full: str, data: bytes, new_folder: bool = False
    ) -> tuple[str, os.stat_result]:
        """Write ``data`` to a temp file next to ``full``; ``new_folder``: its folder was just
        found missing, so it is created first (no failing ``open`` to learn that again)."""
        tmp = self._tmp_for(full)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
        if new_folder:
            self._makedirs(full.rpartition("/")[0])
        try:
            fd = os.open(tmp, flags, 0o644)
        except FileNotFoundError:
            self._makedirs(full.rpartition("/")[0])
            fd = os.open(tmp, flags, 0o644)
        try:
            written = os.write(fd, data)
            if written < len(data):  # rare: a signal or a full disk mid-write
                view = memoryview(data)[written:]
                while view:
                    view = view[os.write(fd, view) :]
            if self.fsync:
                os.fsync(fd)
            st = os.fstat(fd)  # rename keeps inode and mtime: this is the stamp of the result
        except BaseException:
            os.close(fd)
            unlink_quietly(tmp)
            raise
        os.close(fd)
        return tmp, st

    def _makedirs(self, folder: str) -> None:
        """Create ``folder`` and the folders on its way; each is then known to be real: those
        that existed were checked by :meth:`_abs` (or makedirs would have failed on a file), and
        what ``mkdir`` creates is never a link. Saves an ``lstat`` per new folder."""
        os.makedirs(folder, exist_ok=True)
        verified = self._verified
        if len(verified) >= _VERIFIED_MAX:
            verified.clear()
        while folder.startswith(self.root + "/") and folder not in verified:
            verified.add(folder)
            folder = folder.rpartition("/")[0]

    def _sync_dir(self, full: str) -> None:
        if self.fsync:
            fd = os.open(os.path.dirname(full), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)

    # -- interface -------------------------------------------------------------------------------
    def read(self, path: str) -> bytes | None:
        full = self._find(path)
        if full is None:
            return None
        fd = open_plain(full)
        if fd is None:
            return None
        try:
            st = os.fstat(fd)
            if stat.S_ISDIR(st.st_mode):
                raise StoreError(f"{full} is a directory where a file was expected")
            if not stat.S_ISREG(st.st_mode):
                raise CorruptFile(f"{full}: not a regular file (a FIFO, device or socket)")
            if st.st_size > MAX_READ:
                raise too_large(full)
            # straight from the descriptor (a file object would fstat it again; O_NONBLOCK
            # does nothing to a regular file). read(n) allocates n bytes up front: ask for what
            # fstat saw, plus one to notice a file that grew meanwhile, then for the rest
            data = os.read(fd, st.st_size + 1)
            if len(data) > st.st_size:
                data += read_up_to(fd, MAX_READ + 1 - len(data))
        finally:
            os.close(fd)
        if len(data) > MAX_READ:
            raise too_large(full)
        return data

    def write(self, path: str, data: bytes) -> Entry:
        found = self._find(path)
        full = found or f"{self.root}/{path}"
        try:  # inline, not a context manager: this is the hot path of every key write
            tmp, st = self._write_tmp(full, data, found is None)
            try:
                os.replace(tmp, full)
            except BaseException:
                unlink_quietly(tmp)
                raise
        except (FileNotFoundError, FileExistsError):
            raise
        except OSError as exc:
            raise store_error("write", full, exc) from exc
        self._sync_dir(full)
        return entry_of(full.rsplit("/", 1)[-1], st)

    def create(self, path: str, data: bytes) -> bool:
        found = self._find(path)
        full = found or f"{self.root}/{path}"
        try:  # inline, not a context manager: every new version and pointer passes here
            return self._create(full, data, found is None)
        except (FileNotFoundError, FileExistsError):
            raise
        except OSError as exc:
            raise store_error("create", full, exc) from exc

    def _create(self, full: str, data: bytes, new_folder: bool) -> bool:
        tmp, _ = self._write_tmp(full, data, new_folder)
        try:
            os.link(tmp, full)
        except FileExistsError:
            return False
        except OSError:  # filesystems without hard links: O_EXCL is still exclusive
            return self._create_excl(full, data)
        finally:
            unlink_quietly(tmp)
        self._sync_dir(full)
        return True

    def _create_excl(self, full: str, data: bytes) -> bool:
        try:
            with open(full, "xb") as fh:
                fh.write(data)
        except FileExistsError:
            return False
        return True

    def exists(self, path: str) -> bool:
        full = self._find(path)
        try:
            return full is not None and stat.S_ISREG(os.lstat(full).st_mode)
        except (FileNotFoundError, NotADirectoryError):
            return False

    def list(self, path: str, detail: bool = False) -> list[Entry]:
        out: list[Entry] = []
        full = self._find(path, whole=True)
        if full is None:
            return out
        try:
            with os.scandir(full) as it:
                for e in it:
                    if e.name.startswith(TMP_PREFIX):
                        continue
                    if detail:
                        out.append(entry_of(e.name, e.stat(follow_symlinks=False)))
                    else:
                        out.append(Entry(e.name, e.is_dir(follow_symlinks=False)))
        except (FileNotFoundError, NotADirectoryError):
            return []
        return out

    def walk(self, path: str, include_temp: bool = False) -> dict[str, Entry]:
        base = self._find(path, whole=True)
        out: dict[str, Entry] = {}
        if base is None:
            return out
        for dirpath, dirnames, filenames in os.walk(base):  # never descends into links
            rel = os.path.relpath(dirpath, base)
            prefix = "" if rel == "." else rel.replace(os.sep, "/") + "/"
            if not include_temp:
                dirnames[:] = [d for d in dirnames if not d.startswith(TMP_PREFIX)]
            for name in dirnames:  # os.walk lists a link to a folder here and never enters it:
                full = os.path.join(dirpath, name)  # report it, so readers and fsck see it
                if os.path.islink(full):
                    out[prefix + name] = entry_of(name, os.lstat(full))
            for name in filenames:
                if name.startswith(TMP_PREFIX) and not include_temp:
                    continue
                out[prefix + name] = entry_of(name, os.lstat(os.path.join(dirpath, name)))
        return out

    def upload(
        self, local_path: str, path: str, progress: Progress | None = None
    ) -> tuple[str, int]:
        full = self._abs(path)
        with self._errors("upload", path):
            self._makedirs(full.rpartition("/")[0])
        tmp = self._tmp_for(full)
        source = BoundedSource(local_path)
        try:
            with self._errors("upload", path):
                copy_file(source, tmp, progress, self.fsync)
                os.replace(tmp, full)
        except BaseException:
            unlink_quietly(tmp)
            raise
        return source.sha256, source.size

    def download(self, path: str, local_path: str, progress: Progress | None = None) -> None:
        src = self._abs(path)  # folders on the way: checked; the file itself: O_NOFOLLOW
        try:  # O_NONBLOCK: opening a FIFO must not wait for a writer
            fd = os.open(src, READ_FLAGS)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise CorruptFile(f"{src}: a symbolic link; the store never writes one") from None
            raise
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise CorruptFile(f"{src}: not a regular file; the store never writes one")
            os.set_blocking(fd, True)
            with open(fd, "rb", closefd=False) as fin, open(local_path, "wb") as fout:
                while chunk := fin.read(_CHUNK):
                    fout.write(chunk)
                    if progress:
                        progress(len(chunk))
        finally:
            os.close(fd)

    def remove(self, path: str, recursive: bool = False) -> None:
        full = self._abs(path)  # removal never follows a link: unlink removes the link itself
        try:
            with self._errors("remove", path):
                if recursive and stat.S_ISDIR(os.lstat(full).st_mode):
                    shutil.rmtree(full)  # fd-based on Linux: never follows links inside
                else:
                    os.unlink(full)
        except (FileNotFoundError, NotADirectoryError):
            return

    def move(self, src: str, dst: str) -> bool:
        full, target = self._abs(src), self._abs(dst)
        try:
            try:
                os.replace(full, target)
            except FileNotFoundError:
                if not os.path.lexists(full):
                    return False
                os.makedirs(os.path.dirname(target), exist_ok=True)
                os.replace(full, target)
        except FileNotFoundError:
            return False
        self._sync_dir(target)
        self._prune(os.path.dirname(full))
        return True

    def _prune(self, directory: str) -> None:
        """``rmdir`` emptied directories upwards (never the root; stops at the first non-empty)."""
        while directory.startswith(self.root + "/"):
            try:
                os.rmdir(directory)
            except OSError:
                return
            directory = os.path.dirname(directory)

    def stat(self, path: str) -> Entry | None:
        full = self._find(path)
        try:
            return None if full is None else entry_of(path.rsplit("/", 1)[-1], os.lstat(full))
        except (FileNotFoundError, NotADirectoryError):
            return None

    def size(self, path: str) -> int | None:
        full = self._find(path)
        try:
            return None if full is None else os.lstat(full).st_size
        except (FileNotFoundError, NotADirectoryError):
            return None

    def is_symlink(self, path: str) -> bool:
        """Whether ``path`` or any directory on the way to it below the root is a link."""
        full = self.root
        for part in path.split("/"):
            full = f"{full}/{part}"
            if os.path.islink(full):
                return True
        return False

    # -- bulk reads ------------------------------------------------------------------------------
    def list_version(self, vdir: str, kinds: tuple[str, ...]) -> dict[str, Entry]:
        """One scan per kind (a local listing is per folder: cheaper than walking the version,
        whose artifacts may hold thousands of files); pointers and series are walked."""
        out: dict[str, Entry] = {}
        for kind in kinds:
            self._scan_kind(vdir, kind, out)
        return self._with_snapshot(vdir, out)

    def _scan_kind(self, vdir: str, kind: str, out: dict[str, Entry]) -> None:
        """Add the files of one kind's folder to ``out``: pointers and series walked, key
        folders listed (one level)."""
        spec = paths.ITEM_KINDS.get(kind)
        if kind in paths.LINK_KINDS or (spec is not None and spec.rule == paths.SERIES):
            for rel, e in self.walk(f"{vdir}/{kind}").items():
                out[f"{kind}/{rel}"] = e
            return
        for e in self.list(f"{vdir}/{kind}", detail=True):
            if not e.is_dir:
                out[f"{kind}/{e.name}"] = e

    def _with_snapshot(self, vdir: str, out: dict[str, Entry]) -> dict[str, Entry]:
        snap = self.stat(f"{vdir}/{paths.SNAPSHOT}")
        if snap is not None:
            out[paths.SNAPSHOT] = snap
        return out

    def list_version_stamped(
        self, vdir: str, kinds: tuple[str, ...], unchanged: Mapping[str, Any] | None = None
    ) -> tuple[dict[str, Entry], dict[str, Entry | None]]:
        """One ``lstat`` per folder, before its scan, serves both the link check and the stamp
        (instead of a ``stat`` for the validator and another for the check); a folder whose
        stamp is the one ``unchanged`` holds is not scanned at all."""
        resource = self.stat(f"{vdir}/{paths.RESOURCE_FILE}")
        stamps: dict[str, Entry | None] = {paths.RESOURCE_FILE: resource}
        out: dict[str, Entry] = {} if resource is None else {paths.RESOURCE_FILE: resource}
        base = self._find(f"{vdir}/{paths.RESOURCE_FILE}")  # the version's folder, checked
        for kind in kinds:
            entry = None if base is None else self._folder_stamp(f"{vdir}/{kind}")
            stamps[kind] = entry
            if entry is None or not entry.is_dir:
                continue
            if unchanged and skipped(self, (kind,), stamps, unchanged):
                continue  # the caller holds this folder's listing (from the snapshot)
            spec = paths.ITEM_KINDS.get(kind)
            if spec is not None and spec.rule == paths.SERIES:  # each series folder's stamp
                for e in self.list(f"{vdir}/{kind}", detail=True):
                    stamps[f"{kind}/{e.name}"] = e
            self._scan_kind(vdir, kind, out)
        return self._with_snapshot(vdir, out), stamps

    def _folder_stamp(self, path: str) -> Entry | None:
        """The ``lstat`` of a folder whose parent is checked; a link raises CorruptFile (as the
        check on the way would), a checked real folder is remembered as verified."""
        st = self._lstat_checked(f"{self.root}/{path}")
        return None if st is None else entry_of(path.rsplit("/", 1)[-1], st)

    def sha256(self, path: str) -> str | None:
        full = self._abs(path)
        fd = open_plain(full)
        if fd is None:
            return None
        with open(fd, "rb", buffering=0) as fh:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise CorruptFile(f"{full}: not a regular file (a FIFO, device or socket)")
            os.set_blocking(fd, True)
            digest = hashlib.sha256()
            while chunk := fh.read(_CHUNK):
                digest.update(chunk)
        return digest.hexdigest()

    def in_place(self, path: str) -> str | None:
        """Every component is checked afresh (not from this process's cache of verified
        folders): the caller reads the path without the store's ``O_NOFOLLOW`` guard."""
        full = self.root
        for part in path.split("/"):
            full = f"{full}/{part}"
            try:
                mode = os.lstat(full).st_mode
            except (FileNotFoundError, NotADirectoryError):
                return None
            if stat.S_ISLNK(mode):
                raise CorruptFile(f"{full}: is a symbolic link; the store never writes one")
        return full

    def mark_ignored(self) -> None:
        self.create(paths.GITIGNORE, b"# written by tracker: ignore the whole store\n*\n")

    def contains(self, local_path: str) -> bool:
        inside = os.path.realpath(self.root)
        return os.path.commonpath([inside, os.path.realpath(local_path)]) == inside

    # -- maintenance (tracker.store.local_os) ----------------------------------------------------
    def irregular_files(self, path: str = "") -> dict[str, str]:
        return irregular_files(self._abs(path, whole=True), f"{path}/" if path else "")

    def empty_dirs(self, path: str, depth: int) -> dict[str, float]:
        return empty_dirs(self._abs(path, whole=True), path, depth)

    def remove_empty_dirs(self, path: str) -> None:
        top = self._abs(path, whole=True)
        if top != self.root:  # never the root
            remove_empty_dirs(top)

    def writer_alive(self, temp_path: str) -> bool | None:
        return writer_alive(temp_path)
