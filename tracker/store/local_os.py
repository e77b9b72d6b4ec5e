"""Operating-system helpers of the local backend (:mod:`tracker.store.local`): descriptors
opened without following links or blocking on a FIFO, bounded reads, directory scans, the
errors an ``OSError`` becomes (with what to do about it), and the maintenance walks ``fsck``
uses. Kept apart so that ``local.py`` holds the store's own logic (paths, atomic writes)."""

from __future__ import annotations

import contextlib
import errno
import os
import re
import stat

from tracker.errors import CorruptFile, StoreError
from tracker.store.base import SPECIAL_FILE, SYMLINK, TMP_PREFIX, BoundedSource, Entry, Progress

READ_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_CLOEXEC", 0)
)
TMP_PID = re.compile(re.escape(TMP_PREFIX) + r"(\d+)-")  # the names LocalStore._tmp_for gives

# what to do about an OS error, by errno: the message names the operation and the path too
ADVICE = {
    errno.ENOSPC: "the disk is full: free space (or point the store elsewhere) and repeat",
    errno.EDQUOT: "the disk quota is exhausted: free space and repeat",
    errno.EACCES: "permission denied: check the permissions of the store's folders",
    errno.EPERM: "not permitted: check the permissions of the store's folders",
    errno.EROFS: "the filesystem is read-only: use a writable root",
    errno.ENAMETOOLONG: "the path is too long for this filesystem: use shorter ids/keys "
    "or a root with a shorter path",
    errno.ENOTDIR: "a file stands where a folder must be: is the root a file? pass a directory",
    errno.EISDIR: "a folder stands where a file must be: run `tracker fsck`",
    errno.EIO: "an I/O error: check the disk",
}


def open_plain(full: str) -> int | None:
    """A descriptor for reading ``full``, None when it is missing; never through a link, never
    blocking on a FIFO (the store only holds plain files)."""
    try:
        return os.open(full, READ_FLAGS)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise CorruptFile(f"{full}: a symbolic link (the store never writes one)") from None
        raise store_error("read", full, exc) from exc


def read_up_to(fd: int, limit: int) -> bytes:
    """What is left of a file, at most ``limit`` bytes (a file that grew while being read)."""
    parts, got = [], 0
    while got < limit:
        part = os.read(fd, min(limit - got, 1 << 20))
        if not part:
            break
        parts.append(part)
        got += len(part)
    return b"".join(parts)


def scan(folder: str) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(folder) as it:
            return list(it)
    except (FileNotFoundError, NotADirectoryError):
        return []


def holds_file(folder: str) -> bool:
    """Whether ``folder`` holds, at any depth, a file (or link) that is not a temp file."""
    for dirpath, dirnames, filenames in os.walk(folder):
        if any(not name.startswith(TMP_PREFIX) for name in filenames):
            return True
        if any(os.path.islink(os.path.join(dirpath, name)) for name in dirnames):
            return True
    return False


def entry_of(name: str, st: os.stat_result) -> Entry:
    is_dir = stat.S_ISDIR(st.st_mode)
    return Entry(name, is_dir, st.st_size, st.st_mtime, "", st.st_mtime_ns, st.st_ino)


def copy_file(source: BoundedSource, dst: str, progress: Progress | None, fsync: bool) -> None:
    """Copy in 1 MiB chunks; the source hashes and counts the same bytes, in one pass."""
    with open(source.path, "rb") as fin, open(dst, "wb") as fout:
        for chunk in source.chunks(fin):
            fout.write(chunk)
            if progress:
                progress(len(chunk))
        if fsync:
            fout.flush()
            os.fsync(fout.fileno())


def unlink_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        return


def store_error(what: str, full: str, exc: OSError) -> StoreError:
    advice = ADVICE.get(exc.errno or 0, "check the path and repeat")
    reason = exc.strerror or type(exc).__name__
    err = StoreError(f"{what} {full} failed: {reason}; {advice}")
    err.errno = exc.errno
    return err


def irregular_files(top: str, prefix: str) -> dict[str, str]:
    """Links and special files under ``top`` (relative names with ``prefix``): DirEntry
    types come from the listing itself, no stat per file."""
    out: dict[str, str] = {}
    todo = [(top, prefix)]
    while todo:
        folder, pre = todo.pop()
        for e in scan(folder):
            if e.is_symlink():
                out[pre + e.name] = SYMLINK
            elif e.is_dir(follow_symlinks=False):
                todo.append((e.path, f"{pre}{e.name}/"))
            elif not e.is_file(follow_symlinks=False):
                out[pre + e.name] = SPECIAL_FILE
    return out


def empty_dirs(top: str, path: str, depth: int) -> dict[str, float]:
    """Folders ``depth`` levels under ``top`` that hold no file at any depth, by their store
    path (under ``path``), with their mtimes."""
    level = [(top, path)]
    for _ in range(depth):
        level = [
            (e.path, f"{rel}/{e.name}" if rel else e.name)
            for folder, rel in level
            for e in scan(folder)
            if e.is_dir(follow_symlinks=False) and not e.name.startswith(TMP_PREFIX)
        ]
    out = {}
    for full, rel in level:
        if not holds_file(full):
            with contextlib.suppress(OSError):  # removed meanwhile
                out[rel] = os.lstat(full).st_mtime
    return out


def remove_empty_dirs(top: str) -> None:
    """Remove the empty folders under ``top`` and ``top`` itself, deepest first; stop at the
    first that is not empty."""
    for dirpath, _, _ in sorted(os.walk(top), key=lambda w: -len(w[0])):
        try:
            os.rmdir(dirpath)  # fails on a folder that is not empty: it stays
        except OSError:
            return


def writer_alive(temp_path: str) -> bool | None:
    """Whether the process that named a temp file (``TMP_PREFIX<pid>-...``) still runs; None
    when the name carries no pid. A local store's writers run on this machine."""
    match = TMP_PID.match(temp_path.rsplit("/", 1)[-1])
    if match is None:
        return None
    try:  # signal 0: only asks
        os.kill(int(match.group(1)), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True
    return True
