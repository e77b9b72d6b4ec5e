"""The fsspec backend: ``memory://``, ``s3://``, ``gs://`` and every other fsspec URL.

One request per write (a single PUT), exclusive create by a conditional PUT where the backend has
one (``If-None-Match: *`` on S3; ``open("xb")`` in memory), and listings always fetched anew:
other processes write to the same store.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import errno
from typing import Any

import fsspec

from tracker.errors import StoreError
from tracker.store.base import MAX_READ, TMP_PREFIX, Entry, Progress, Store, too_large

_OBJECT_STORES = {"s3", "s3a", "gs", "gcs", "abfs", "az", "adl", "oss"}
_NO_CACHE = {"use_listings_cache": False, "skip_instance_cache": True}


class FsspecStore(Store):
    def __init__(self, url: str, storage_options: dict[str, Any] | None = None) -> None:
        options = dict(storage_options or {})
        protocol = url.split("://", 1)[0] if "://" in url else "file"
        if protocol in _OBJECT_STORES:
            for key, value in _NO_CACHE.items():
                options.setdefault(key, value)
        try:
            self.fs, root = fsspec.core.url_to_fs(url, **options)
        except ImportError as exc:
            raise StoreError(
                f"cannot open {url}: {exc}. Install the backend, e.g. pip install 'tracker[s3]'"
            ) from None
        self.protocol = protocol
        self.object_store = protocol in _OBJECT_STORES
        self.root = root.rstrip("/")
        self.url = url.rstrip("/")

    def _abs(self, path: str) -> str:
        return f"{self.root}/{path}" if path else self.root

    def _fresh(self, full: str) -> None:
        # a backend without a listing cache has nothing to invalidate
        with contextlib.suppress(Exception):
            self.fs.invalidate_cache(full)

    def read(self, path: str) -> bytes | None:
        try:  # a ranged GET: a huge file costs one bounded request, not a huge download
            data = self.fs.cat_file(self._abs(path), start=0, end=MAX_READ + 1)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None
        if len(data) > MAX_READ:
            raise too_large(self._abs(path))
        return bytes(data)

    def read_many(self, paths: list[str]) -> dict[str, bytes | None]:
        if len(paths) < 2:
            return {p: self.read(p) for p in paths}
        full = [self._abs(p) for p in paths]
        try:  # concurrent ranged GETs on async backends (s3fs), sequential elsewhere
            got = self.fs.cat_ranges(
                full, [0] * len(full), [MAX_READ + 1] * len(full), on_error="return"
            )
        except NotImplementedError:
            return {p: self.read(p) for p in paths}
        out: dict[str, bytes | None] = {}
        for rel, data in zip(paths, got, strict=True):
            if isinstance(data, FileNotFoundError):
                out[rel] = None
            elif isinstance(data, BaseException):
                raise data
            elif len(data) > MAX_READ:
                raise too_large(self._abs(rel))
            else:
                out[rel] = bytes(data)
        return out

    def write(self, path: str, data: bytes) -> None:
        self.fs.pipe_file(self._abs(path), data)

    def create(self, path: str, data: bytes) -> bool:
        full = self._abs(path)
        try:
            self.fs.pipe_file(full, data, mode="create")
        except FileExistsError:
            return False
        except OSError as exc:
            # S3 refuses a conditional PUT with 412 PreconditionFailed, which some s3fs/aiobotocore
            # versions surface as a bare OSError(EINVAL); either way the object exists.
            if exc.errno == errno.EINVAL or "precondition" in str(exc).lower():
                return False
            raise
        return True

    def exists(self, path: str) -> bool:
        full = self._abs(path)
        self._fresh(full)
        try:
            return bool(self.fs.isfile(full))
        except FileNotFoundError:
            return False

    def list(self, path: str, detail: bool = False) -> list[Entry]:
        full = self._abs(path)
        self._fresh(full)
        try:
            infos = self.fs.ls(full, detail=True)
        except (FileNotFoundError, NotADirectoryError):
            return []
        out = []
        for info in infos:
            name = str(info["name"]).rstrip("/").rsplit("/", 1)[-1]
            if name.startswith(TMP_PREFIX) or str(info["name"]).rstrip("/") == full:
                continue
            is_dir = info.get("type") == "directory"
            out.append(_entry(name, is_dir, info))
        return out

    def walk(self, path: str, include_temp: bool = False) -> dict[str, Entry]:
        full = self._abs(path)
        self._fresh(full)
        try:
            infos = self.fs.find(full, detail=True)
        except FileNotFoundError:
            return {}
        out = {}
        cut = len(full) + 1
        for name, info in infos.items():
            rel = str(name)[cut:] if str(name).startswith(full + "/") else ""
            if not rel or info.get("type") == "directory":
                continue
            base = rel.rsplit("/", 1)[-1]
            if base.startswith(TMP_PREFIX) and not include_temp:
                continue
            out[rel] = _entry(base, False, info)
        return out

    def upload(self, local_path: str, path: str, progress: Progress | None = None) -> None:
        self.fs.put_file(local_path, self._abs(path), callback=_callback(progress))

    def download(self, path: str, local_path: str, progress: Progress | None = None) -> None:
        self.fs.get_file(self._abs(path), local_path, callback=_callback(progress))

    def remove(self, path: str, recursive: bool = False) -> None:
        full = self._abs(path)
        try:
            self.fs.rm(full, recursive=recursive)
        except FileNotFoundError:
            return

    def size(self, path: str) -> int | None:
        full = self._abs(path)
        self._fresh(full)
        try:
            return int(self.fs.size(full))
        except FileNotFoundError:
            return None


def _entry(name: str, is_dir: bool, info: dict[str, Any]) -> Entry:
    etag = str(info.get("ETag") or info.get("etag") or info.get("md5Hash") or "").strip('"')
    return Entry(name, is_dir, int(info.get("size") or 0), _mtime(info), etag)


def _mtime(info: dict[str, Any]) -> float:
    for key in ("LastModified", "mtime", "created", "updated"):
        value = info.get(key)
        if isinstance(value, _dt.datetime):
            if value.tzinfo is None:
                value = value.replace(tzinfo=_dt.timezone.utc)
            return value.timestamp()
        if isinstance(value, int | float):
            return float(value)
        if isinstance(value, str):
            try:
                return _dt.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
            except ValueError:
                continue
    return 0.0


def _callback(progress: Progress | None) -> Any:
    from fsspec.callbacks import Callback, NoOpCallback

    if progress is None:
        return NoOpCallback()
    report = progress

    class _Relay(Callback):
        def call(self, *args: Any, **kwargs: Any) -> None:
            return None

        def relative_update(self, inc: int | None = 1) -> None:
            report(inc or 0)

    return _Relay()
