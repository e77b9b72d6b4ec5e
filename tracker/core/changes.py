"""The per-series change log: how a reader learns which versions changed without looking at each.

Every writer of a version's keys (tags, metadata, attributes) first records "version v changed at
time t" in a file of its own, ``resources/<type>/<id>/changes/c<chunk>-<writer>-<n>``: lines
``"<version> <unix time>"``, the file rewritten whole by its single writer (so it is never a file
that many writers share) and replaced by a new ``<n>`` after ``MARK_LINES`` lines. A reader lists
the directory (one ``scandir`` locally, one LIST per 1,000 files on S3), reads only the files
whose stamp changed since its index chunk was written, and re-validates only the versions those
new lines name.

Why a change is never hidden:
- the line is written *before* the data, so a crash leaves at most a harmless line;
- a writer skips the line when its own previous line for that version is younger than half of
  ``window`` and, after the data, writes another when the data took longer than that: every write
  that completed at time t has a line no older than t - window/2;
- a reader treats a line as settled (and stops re-validating its version) only once it is older
  than ``window``, so it never settles a write still in flight (coarse clocks, slow PUTs, listing
  lag). Writers' and readers' clocks must agree within ``window / 2`` (the store's
  ``settle_seconds``: 5 s locally, 30 s on object stores).
"""

from __future__ import annotations

import os
import secrets
import threading
import time

from tracker.store import Store, paths

MARK_LINES = 256  # lines per change file (a rewrite stays under ~6 KB)
_REMEMBER = 200_000  # (series, version) -> time of our last line, bounded


def window(store: Store) -> float:
    """Seconds after which a change line is settled (see the module doc)."""
    return store.settle_seconds


def parse(data: bytes) -> list[tuple[int, float]] | None:
    """The ``(version, time)`` lines of a change file; None when it is not one."""
    out = []
    try:
        for line in data.decode("ascii").splitlines():
            if line.strip():
                version, stamp = line.split()
                out.append((int(version), float(stamp)))
    except (UnicodeDecodeError, ValueError):
        return None
    return out


class ChangeLog:
    """The writer side: one per tracker, its files named by a token of this process."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.window = window(store)
        self._reset()

    def _reset(self) -> None:
        self.pid = os.getpid()
        self.token = secrets.token_hex(6)
        self._files: dict[tuple[str, str, int], tuple[int, list[str]]] = {}
        self._last: dict[tuple[str, str, int], float] = {}
        self._clock = 0.0
        self._lock = threading.Lock()  # metric flushes come from a timer thread too

    def before(self, rtype: str, rid: str, version: int) -> None:
        """Call before writing a key of the version: records the change unless a recent line
        of ours already covers it."""
        if os.getpid() != self.pid:  # a forked child must not rewrite its parent's files
            self._reset()
        with self._lock:
            last = self._last.get((rtype, rid, version))
            if last is None or time.time() - last >= self.window / 2:
                self._append(rtype, rid, version)

    def after(self, rtype: str, rid: str, version: int) -> None:
        """Call after the write: a write that took long gets a line newer than its data."""
        with self._lock:
            last = self._last.get((rtype, rid, version))
            if last is not None and time.time() - last >= self.window / 2:
                self._append(rtype, rid, version)

    def _append(self, rtype: str, rid: str, version: int) -> None:
        chunk = paths.chunk_of(version)
        seq, lines = self._files.get((rtype, rid, chunk), (0, []))
        if len(lines) >= MARK_LINES:
            seq, lines = seq + 1, []
        now = max(time.time(), self._clock)  # monotonic per writer: lines stay in time order
        self._clock = now
        lines.append(f"{version} {now:.6f}")
        self._files[(rtype, rid, chunk)] = (seq, lines)
        name = f"{self.token}-{seq}"
        self.store.write(paths.change_file(rtype, rid, chunk, name), "\n".join(lines).encode())
        if len(self._last) >= _REMEMBER:
            self._last.clear()
        self._last[(rtype, rid, version)] = now
