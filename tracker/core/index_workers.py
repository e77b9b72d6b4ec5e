"""Forked worker processes that read many new local versions for the query index (the first
``find`` after a burst of writes, see :mod:`tracker.core.index`).

Reading a local version is CPU-bound (system calls and JSON, ~0.1 ms each), so threads would
share one core; forked processes inherit the reader and the open store and send back only each
version's entry text and validator. Fork is used only where it is safe: not on macOS, and not in
a process with other threads (a forked child could find one of their locks held). The pool is
created on first use and lives for one walk; what was submitted ahead and not needed (a walk
left early by ``limit``) is cancelled when it closes.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

# version -> (record or None, its JSON text, validator)
Built = dict[int, tuple[dict[str, Any] | None, str, Any]]
Read = Callable[[list[int], bool], Built]  # (versions, validator from their listing) -> built

FORK_BATCH = 128  # new local versions in one batch before reading them in worker processes
_READ: Read | None = None  # what the workers forked from here on run (inherited, not pickled)


def available() -> int:
    """Worker processes for reading many local versions: only where fork is safe (not macOS,
    and no other thread that a forked child could find holding a lock)."""
    if not hasattr(os, "fork") or sys.platform == "darwin" or threading.active_count() > 1:
        return 1
    return min(4, os.cpu_count() or 1)


class Workers:
    """One walk's pool of forked readers running ``read``."""

    def __init__(self, read: Read) -> None:
        self.read = read
        self._pool: ProcessPoolExecutor | None = None
        self._count = 1

    def worth_it(self, versions: list[int]) -> bool:
        """Whether to read these versions in worker processes (enough of them, fork safe)."""
        return len(versions) >= FORK_BATCH and (self._pool is not None or available() > 1)

    def submit(self, versions: list[int], listed: bool) -> list[Future[Built]]:
        """Start reading ``versions``, one slice per worker."""
        global _READ
        if self._pool is None:
            self._count = available()
            context = multiprocessing.get_context("fork")
            self._pool = ProcessPoolExecutor(self._count, mp_context=context)
        _READ = self.read  # read by the workers forked from here on (the pool forks lazily)
        step = -(-len(versions) // self._count)
        return [
            self._pool.submit(_run, versions[i : i + step], listed)
            for i in range(0, len(versions), step)
        ]

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)  # a walk left early: what was read ahead
            self._pool = None


def gather(parts: list[Future[Built]]) -> Built:
    out: Built = {}
    for part in parts:
        out.update(part.result())
    return out


def _run(versions: list[int], listed: bool) -> Built:
    if _READ is None:
        raise RuntimeError("a worker forked without a reader")
    return _READ(versions, listed)
