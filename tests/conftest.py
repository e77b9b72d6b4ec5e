"""Shared fixtures: one ``backend`` fixture that every contract test runs on (local, memory, S3).

A backend makes trackers on one fresh store and lets a test look at the raw files beneath them,
so tests assert both what the API returns and what lies in the store.
"""

from __future__ import annotations

import contextlib
import os
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import fsspec
import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # tests/support as `support`

from tracker import Tracker

os.environ.setdefault(
    "TRACKER_CACHE_DIR", os.path.join("/tmp", f"tracker-test-cache-{os.getpid()}")
)


@dataclass
class Backend:
    """A fresh store: ``make()`` opens trackers on it; ``files()``/``read()`` look beneath."""

    name: str
    root: str
    storage_options: dict[str, Any] = field(default_factory=dict)
    proxy: Any = None  # the counting proxy in front of the S3 server (S3 only)

    def make(self, **kwargs: Any) -> Tracker:
        kwargs.setdefault("git", False)
        return Tracker(self.root, storage_options=self.storage_options or None, **kwargs)

    @property
    def fs(self) -> Any:
        if self.name == "local":
            return fsspec.filesystem("file")
        fs, _ = fsspec.core.url_to_fs(self.root, **self.storage_options)
        fs.invalidate_cache()
        return fs

    @property
    def base(self) -> str:
        return (
            self.root
            if self.name == "local"
            else fsspec.core.url_to_fs(self.root, **self.storage_options)[1].rstrip("/")
        )

    def files(self) -> set[str]:
        """Every file under the root, relative, as posix paths."""
        base = self.base
        found = self.fs.find(base)
        return {str(p)[len(base) + 1 :] for p in found if str(p).startswith(base + "/")}

    def read(self, rel: str) -> bytes:
        return bytes(self.fs.cat_file(f"{self.base}/{rel}"))

    def write(self, rel: str, data: bytes) -> None:
        path = f"{self.base}/{rel}"
        if self.name == "local":
            os.makedirs(os.path.dirname(path), exist_ok=True)
        self.fs.pipe_file(path, data)


BACKENDS = ["local", "memory", "s3"]


@pytest.fixture(scope="session")
def s3_server() -> Iterator[tuple[Any, Any]]:
    """A moto S3 server on 127.0.0.1 behind a counting proxy, for the whole session.

    Dummy credentials and no metadata service; nothing reaches another address. The proxy
    serialises writes because moto checks ``If-None-Match`` without a lock (real S3 is atomic).
    """
    pytest.importorskip("s3fs", reason="the S3 backend needs s3fs: pip install '.[test]'")
    from support.proxy import S3Proxy
    from support.s3server import ENV_VARS_TO_UNSET, MotoServer, s3_env

    saved = dict(os.environ)
    for name in ENV_VARS_TO_UNSET:
        os.environ.pop(name, None)
    os.environ.update(s3_env())
    moto = MotoServer().start()
    proxy = S3Proxy(moto.endpoint_url, serialize_writes=True).start()
    try:
        yield moto, proxy
    finally:
        proxy.stop()
        moto.stop()
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture
def s3_backend(s3_server: tuple[Any, Any]) -> Backend:
    """A fresh bucket per test, reached through the counting proxy."""
    from support.s3server import make_bucket, storage_options

    moto, proxy = s3_server
    bucket = f"tracker-{uuid.uuid4().hex[:16]}"
    make_bucket(moto.endpoint_url, bucket)
    backend = Backend("s3", f"s3://{bucket}/store", storage_options(proxy.url))
    backend.proxy = proxy
    return backend


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[Backend]:
    if request.param == "local":
        yield Backend("local", str(tmp_path / "store"))
    elif request.param == "memory":
        root = f"memory://tracker-{uuid.uuid4().hex}"
        yield Backend("memory", root)
        with contextlib.suppress(FileNotFoundError):
            fsspec.filesystem("memory").rm(root.split("://", 1)[1], recursive=True)
    else:
        yield request.getfixturevalue(f"{request.param}_backend")


@pytest.fixture
def tracker(backend: Backend) -> Iterator[Tracker]:
    t = backend.make()
    yield t
    t.stop()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--torture",
        action="store_true",
        help="run the long torture variants (crash loops, big concurrency) as well",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--torture"):
        return
    skip = pytest.mark.skip(reason="long torture variant: run with --torture")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def torture(request: pytest.FixtureRequest) -> bool:
    """True under ``--torture``: tests scale their loops up instead of keeping a short variant."""
    return bool(request.config.getoption("--torture"))
