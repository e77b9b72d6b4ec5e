"""The Store contract (tests/store_contract.py) on every backend, by one-line subclasses."""

from __future__ import annotations

from store_contract import StoreContract


class TestLocalStore(StoreContract):
    backend, links, folders, pids = "local", True, True, True


class TestMemoryStore(StoreContract):
    backend = "memory"


class TestS3Store(StoreContract):
    backend = "s3"
