"""The fsspec backend: ``memory://``, ``s3://``, ``gs://`` and every other fsspec URL.

One request per write (a single PUT), exclusive create by a conditional PUT where the backend has
one (``If-None-Match: *`` on S3; ``open("xb")`` in memory), and listings always fetched anew:
other processes write to the same store.

Failures: transient faults are retried (botocore ``standard`` mode, 5 attempts per request, plus
one s3fs pass for throttling and dropped connections, unless the caller's ``storage_options``
configure retries themselves); whatever still fails is raised as a :class:`StoreError` naming the
operation and the path, never as a raw botocore/aiohttp exception. ``FileNotFoundError`` and
``FileExistsError`` keep their meaning (missing / taken). A conditional create whose response was
lost and whose retry then saw "exists" is recognised by reading the object back: if it holds our
exact bytes, the write was ours.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import errno
from collections.abc import Iterator
from typing import Any

import fsspec

from tracker.errors import StoreError, TrackerError
from tracker.store.base import (
    MAX_READ,
    TMP_PREFIX,
    BoundedSource,
    Entry,
    Progress,
    Store,
    too_large,
)

_OBJECT_STORES = {"s3", "s3a", "gs", "gcs", "abfs", "az", "adl", "oss"}
_NO_CACHE = {"use_listings_cache": False, "skip_instance_cache": True}
_S3 = {"s3", "s3a"}
# botocore: 5 attempts per request with jittered exponential backoff for 5xx, throttling and
# dropped connections; s3fs's own loop (default 5 passes, each running botocore's) is cut to 2 so a
# dead endpoint fails in seconds, not minutes.
BOTO_RETRIES: dict[str, Any] = {"mode": "standard", "total_max_attempts": 5}
S3FS_RETRIES = 2
# A read first fetches at most this much: every metadata file fits, and a huge object (damage, or
# an attack) costs one bounded request and a HEAD before it is refused, never a 64 MB download.
FIRST_READ = 4 * 1024 * 1024
_PASS_THROUGH = (FileNotFoundError, FileExistsError, IsADirectoryError, NotADirectoryError)


class FsspecStore(Store):
    def __init__(self, url: str, storage_options: dict[str, Any] | None = None) -> None:
        options = dict(storage_options or {})
        protocol = url.split("://", 1)[0] if "://" in url else "file"
        if protocol in _OBJECT_STORES:
            for key, value in _NO_CACHE.items():
                options.setdefault(key, value)
        tune_retries = protocol in _S3 and "retries" not in (options.get("config_kwargs") or {})
        if tune_retries:  # the caller's own retry settings always win
            options["config_kwargs"] = {
                **(options.get("config_kwargs") or {}),
                "retries": dict(BOTO_RETRIES),
            }
        self.url = url.rstrip("/")
        try:
            self.fs, root = fsspec.core.url_to_fs(url, **options)
        except ImportError as exc:
            raise StoreError(
                f"cannot open {url}: {exc}. Install the backend, e.g. pip install 'tracker[s3]'"
            ) from None
        except (TypeError, ValueError, OSError) as exc:
            raise StoreError(f"cannot open {url}: {type(exc).__name__}: {exc}") from exc
        if tune_retries and hasattr(self.fs, "retries"):
            self.fs.retries = S3FS_RETRIES
        self.protocol = protocol
        self.object_store = protocol in _OBJECT_STORES
        self.root = root.rstrip("/")

    def _abs(self, path: str) -> str:
        return f"{self.root}/{path}" if path else self.root

    @contextlib.contextmanager
    def _errors(self, what: str, path: str) -> Iterator[None]:
        """Raise anything but missing/exists as a StoreError naming the operation and path."""
        try:
            yield
        except (*_PASS_THROUGH, TrackerError):
            raise
        except Exception as exc:
            where = f"{self.url}/{path}" if path else self.url
            err = StoreError(
                f"{what} {where} failed: {type(exc).__name__}: {exc}".rstrip(": ")
                + " (transient faults were retried; check the connection, credentials and "
                "endpoint, then try again)"
            )
            err.errno = getattr(exc, "errno", None)
            raise err from exc

    def _fresh(self, full: str) -> None:
        # a backend without a listing cache has nothing to invalidate
        with contextlib.suppress(Exception):
            self.fs.invalidate_cache(full)

    def read(self, path: str) -> bytes | None:
        full = self._abs(path)
        try:
            with self._errors("read", path):
                # a ranged GET: a huge file costs one bounded request, not a huge download
                data = self.fs.cat_file(full, start=0, end=FIRST_READ)
                if len(data) >= FIRST_READ:
                    data = self._read_rest(full)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None
        return bytes(data)

    def _read_rest(self, full: str) -> bytes:
        """A file of FIRST_READ bytes or more: refuse it by its size, or read it whole again (one
        GET of one version of the object; joining two ranged reads could mix two versions)."""
        if int(self.fs.size(full)) > MAX_READ:
            raise too_large(full)
        data = self.fs.cat_file(full, start=0, end=MAX_READ + 1)
        if len(data) > MAX_READ:
            raise too_large(full)
        return bytes(data)

    def read_many(self, paths: list[str]) -> dict[str, bytes | None]:
        if len(paths) < 2:
            return {p: self.read(p) for p in paths}
        full = [self._abs(p) for p in paths]
        try:  # concurrent ranged GETs on async backends (s3fs), sequential elsewhere
            with self._errors("read", paths[0]):
                got = self.fs.cat_ranges(
                    full, [0] * len(full), [FIRST_READ] * len(full), on_error="return"
                )
        except NotImplementedError:
            return {p: self.read(p) for p in paths}
        out: dict[str, bytes | None] = {}
        for rel, data in zip(paths, got, strict=True):
            if isinstance(data, FileNotFoundError | IsADirectoryError | NotADirectoryError):
                out[rel] = None
            elif isinstance(data, BaseException):
                # one failed file: read it alone (retried, and a clear error if it still fails)
                out[rel] = self.read(rel)
            elif len(data) >= FIRST_READ:
                out[rel] = self.read(rel)
            else:
                out[rel] = bytes(data)
        return out

    def write(self, path: str, data: bytes) -> Entry | None:
        with self._errors("write", path):
            out = self.fs.pipe_file(self._abs(path), data)
        # s3fs hands back the PUT's response: its ETag is the new file's stamp, for free
        etag = str(out.get("ETag") or "").strip('"') if isinstance(out, dict) else ""
        return Entry(path.rsplit("/", 1)[-1], False, len(data), 0.0, etag) if etag else None

    def create(self, path: str, data: bytes) -> bool:
        full = self._abs(path)
        with self._errors("create", path):
            try:
                self.fs.pipe_file(full, data, mode="create")
            except FileExistsError:
                return self._landed(full, data)
            except OSError as exc:
                # S3 refuses a conditional PUT with 412 PreconditionFailed, which some
                # s3fs/aiobotocore versions surface as a bare OSError(EINVAL): it exists.
                if exc.errno == errno.EINVAL or "precondition" in str(exc).lower():
                    return self._landed(full, data)
                raise
        return True

    def _landed(self, full: str, data: bytes) -> bool:
        """After "exists": whether the object holds exactly ``data``, i.e. it was our own PUT whose
        response was lost and whose retry (aiohttp, botocore or s3fs) then met our object. Every
        caller that needs a unique winner writes unique bytes (a run id and a timestamp)."""
        if not self.object_store:
            return False  # no retries below us: "exists" is always someone else
        try:
            return bytes(self.fs.cat_file(full)) == data
        except FileNotFoundError:
            return False

    def exists(self, path: str) -> bool:
        full = self._abs(path)
        self._fresh(full)
        try:  # info, not isfile: isfile answers False for *any* error, a network fault included
            with self._errors("stat", path):
                return bool(self.fs.info(full).get("type") == "file")
        except (FileNotFoundError, NotADirectoryError):
            return False

    def list(self, path: str, detail: bool = False) -> list[Entry]:
        full = self._abs(path)
        self._fresh(full)
        try:
            with self._errors("list", path):
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
            with self._errors("list", path):
                infos = self.fs.find(full, detail=True)
        except (FileNotFoundError, NotADirectoryError):
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

    def upload(
        self, local_path: str, path: str, progress: Progress | None = None
    ) -> tuple[str, int]:
        """One streaming pass: what is hashed is what is sent (s3fs writes multipart above its
        block size, and the object appears only when the upload completes)."""
        source = BoundedSource(local_path)
        with self._errors("upload to", path), open(local_path, "rb") as fin:
            out = self.fs.open(self._abs(path), "wb")
            try:
                for chunk in source.chunks(fin):
                    out.write(chunk)
                    if progress:
                        progress(len(chunk))
            except BaseException:
                with contextlib.suppress(Exception):  # abort: no partial object appears
                    out.discard()
                raise
            out.close()
        return source.sha256, source.size

    def download(self, path: str, local_path: str, progress: Progress | None = None) -> None:
        with self._errors("download", path):
            self.fs.get_file(self._abs(path), local_path, callback=_callback(progress))

    def remove(self, path: str, recursive: bool = False) -> None:
        full = self._abs(path)
        try:
            with self._errors("remove", path):
                self.fs.rm(full, recursive=recursive)
        except FileNotFoundError:
            return

    def move(self, src: str, dst: str) -> bool:
        full, target = self._abs(src), self._abs(dst)
        try:
            with self._errors("copy", src):
                self.fs.copy(full, target)  # server-side on S3: no download
        except FileNotFoundError:
            return False
        self.remove(src)
        return True

    def stat(self, path: str) -> Entry | None:
        full = self._abs(path)
        self._fresh(full)
        try:
            with self._errors("stat", path):
                info = self.fs.info(full)
        except (FileNotFoundError, NotADirectoryError):
            return None
        if info.get("type") != "file":
            return None
        return _entry(path.rsplit("/", 1)[-1], False, info)

    def size(self, path: str) -> int | None:
        full = self._abs(path)
        self._fresh(full)
        try:
            with self._errors("stat", path):
                return int(self.fs.size(full))
        except (FileNotFoundError, NotADirectoryError):
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
