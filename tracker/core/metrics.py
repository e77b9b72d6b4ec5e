"""Metric series: buffered points, flushed as immutable per-writer chunks, merged on read.

:class:`Metrics` is a self-contained service: it gets the store, a run-id provider and a clock,
and knows versions only as ``(type, id, version)``. Points go to an in-memory buffer; a key's
buffer becomes one chunk (``<v>/metrics/<key>/<writer>-<seq>.tsv``, one atomic write, one PUT on
S3) when it holds ``flush_points`` points, when the oldest buffered point is ``flush_seconds``
old (checked on every log call and by a daemon thread), on :meth:`flush`, and when the tracker
closes a version, stops or the interpreter exits. A crash loses at most the unflushed buffer.

Every process (and every child after ``fork``) writes under a writer id of its own, so writers
never collide, locally or on S3. A reader merges every chunk (plus this process's buffer) by
``(step, timestamp, writer, chunk, row)``. Closing a version writes ``compact.tsv`` per key:
derived, valid only while each chunk it lists keeps its stamp, safe to delete.
"""

from __future__ import annotations

import atexit
import contextlib
import datetime as _dt
import gc
import math
import numbers
import operator
import os
import secrets
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from tracker.core.changes import ChangeLog
from tracker.errors import CorruptFile, UnsupportedValue
from tracker.store import Store, chunks, paths
from tracker.store.base import Entry
from tracker.store.chunks import MetricPoint, Row

FLUSH_POINTS = 1000
FLUSH_SECONDS = 5.0
VKey = tuple[str, str, int]  # (type, id, version)
_LIVE: weakref.WeakSet[Metrics] = weakref.WeakSet()


def metric_value(key: str, value: Any) -> int | float:
    """``value`` as a plain int or float (numpy scalars included); UnsupportedValue otherwise."""
    kind = type(value)
    if kind is float or kind is int:
        return value
    if isinstance(value, bool) or (
        getattr(value, "dtype", None) is not None and (getattr(value.dtype, "kind", "") == "b")
    ):
        raise UnsupportedValue(
            f"metric {key!r}: {value!r} is a bool; log 0/1 if you mean a number, or a tag"
        )
    if isinstance(value, numbers.Integral) and getattr(value, "shape", ()) == ():
        return int(value)
    if isinstance(value, numbers.Real) and getattr(value, "shape", ()) == ():
        return float(value)
    raise UnsupportedValue(
        f"metric {key!r}: a metric value is an int, a float or a numpy scalar, got "
        f"{type(value).__module__}.{type(value).__qualname__} {str(value)[:60]!r}; log text, "
        "lists and dicts with log_metadata"
    )


def metric_step(key: str, step: Any) -> int:
    if type(step) is int and -(1 << 63) <= step < 1 << 63:
        return step
    if isinstance(step, bool) or not isinstance(step, numbers.Integral):
        raise UnsupportedValue(f"metric {key!r}: step must be an int (or None), got {step!r}")
    out = int(step)
    if not -(1 << 63) <= out < 1 << 63:
        raise UnsupportedValue(f"metric {key!r}: step {out} does not fit in 64 bits")
    return out


def metric_time(key: str, timestamp: Any) -> float:
    """Seconds since the epoch from a number or a datetime (naive means local time)."""
    if type(timestamp) is float and math.isfinite(timestamp):
        return timestamp
    if isinstance(timestamp, _dt.datetime):
        return timestamp.timestamp()
    if isinstance(timestamp, numbers.Real) and not isinstance(timestamp, bool):
        out = float(timestamp)
        if math.isfinite(out):
            return out
    raise UnsupportedValue(
        f"metric {key!r}: timestamp must be seconds since the epoch (a finite number) or a "
        f"datetime, got {timestamp!r}"
    )


class _Series:
    __slots__ = ("key", "next_step", "points", "segment", "vkey")

    def __init__(self, vkey: VKey, key: str) -> None:
        self.vkey, self.key = vkey, key
        self.segment = paths.encode(key, "metric key")
        self.points: list[Row] = []
        self.next_step = 0


class Metrics:
    """Buffer, flush, read and compact metric series of one store (see the module doc)."""

    def __init__(
        self,
        store: Store,
        run_id: Callable[[], str],
        clock: Callable[[], float] = time.time,
        flush_points: int = FLUSH_POINTS,
        flush_seconds: float = FLUSH_SECONDS,
        background: bool = True,
        changes: ChangeLog | None = None,
    ) -> None:
        self.store = store
        self.changes = changes  # metrics.<key> is a find field: the query index must learn of it
        self.run_id = run_id
        self.clock = clock
        self.flush_points = max(1, int(flush_points))
        self.flush_seconds = float(flush_seconds)
        self.background = background
        self._reset()
        _LIVE.add(self)

    def _reset(self) -> None:
        """Fresh state: at start and in a forked child (the parent's buffer is the parent's)."""
        self.writer = secrets.token_hex(8)
        self._seq = 0
        self._series: dict[tuple[VKey, str], _Series] = {}
        self._buffered = 0
        self._oldest: float | None = None  # monotonic time the buffer became non-empty
        self._lock = threading.RLock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    # -- writing ---------------------------------------------------------------------------------
    def log(
        self, vkey: VKey, key: str, value: Any, step: Any = None, timestamp: Any = None
    ) -> None:
        """Buffer one point (validated now: nothing bad ever reaches a chunk)."""
        number = metric_value(key, value)
        ts = self.clock() if timestamp is None else metric_time(key, timestamp)
        explicit = None if step is None else metric_step(key, step)
        with self._lock:
            series = self._series.get((vkey, key))
            if series is None:
                series = self._series[(vkey, key)] = _Series(vkey, key)
            if explicit is None:
                explicit = series.next_step
            series.next_step = explicit + 1
            series.points.append((explicit, ts, number))
            self._buffered += 1
            if self._oldest is None:
                self.run_id()  # the run exists while points wait (its end flushes them)
                self._oldest = time.monotonic()
                self._start_timer()
            if len(series.points) >= self.flush_points:
                self._flush_series(series)
            elif time.monotonic() - self._oldest >= self.flush_seconds:
                self.flush()

    def flush(self, vkey: VKey | None = None) -> int:
        """Write every buffered point (of ``vkey`` only, when given) as chunks; returns how many
        chunks were written. Safe from any thread."""
        written = 0
        with self._lock:
            for series in list(self._series.values()):
                if series.points and (vkey is None or series.vkey == vkey):
                    self._flush_series(series)
                    written += 1
            if self._buffered == 0:
                self._oldest = None
        return written

    def _flush_series(self, series: _Series) -> None:
        points = series.points
        self._seq += 1
        name = chunks.chunk_name(self.writer, self._seq)
        path = paths.join(paths.metric_dir(*series.vkey, series.key), name)
        if self.changes is not None:
            self.changes.before(*series.vkey)
        self.store.write(path, chunks.encode_chunk(series.segment, self.writer, self._seq, points))
        if self.changes is not None:
            self.changes.after(*series.vkey)
        series.points = []
        self._buffered -= len(points)
        if self._buffered == 0:
            self._oldest = None

    def _start_timer(self) -> None:
        if not self.background or self._thread is not None:
            return
        self._thread = threading.Thread(
            target=_timer, args=(weakref.ref(self), self._wake), name="tracker-metrics", daemon=True
        )
        self._thread.start()

    def _flush_stale(self) -> None:
        with self._lock:
            if self._oldest is not None and time.monotonic() - self._oldest >= self.flush_seconds:
                self.flush()

    def forget(self, vkey: VKey) -> None:
        """Drop the step counters of a closed version (its buffer must be flushed first)."""
        with self._lock:
            for k in [k for k, s in self._series.items() if s.vkey == vkey and not s.points]:
                del self._series[k]

    # -- reading ---------------------------------------------------------------------------------
    def _buffered_rows(self, vkey: VKey, key: str) -> list[Row]:
        with self._lock:
            series = self._series.get((vkey, key))
            return list(series.points) if series is not None else []

    def _read_key(self, vkey: VKey, key: str, listing: dict[str, Entry]) -> list[Row]:
        """Merged rows of one key from its directory ``listing`` (name -> entry)."""
        kdir = paths.metric_dir(*vkey, key)
        segment = paths.encode(key, "metric key")
        names = {n: e for n, e in listing.items() if chunks.CHUNK_NAME.fullmatch(n)}
        base: list[Row] = []
        covered: dict[str, Any] = {}
        if chunks.COMPACT in listing:
            data = self.store.read(f"{kdir}/{chunks.COMPACT}")
            try:
                held, rows = chunks.decode_compact(data or b"", f"{kdir}/{chunks.COMPACT}", segment)
                if all(n in names and names[n].stamp == s for n, s in held.items()):
                    base, covered = rows, held
            except CorruptFile:
                pass  # derived data: a broken one is only slower (fsck reports it)
        todo = sorted((n for n in names if n not in covered), key=_chunk_order)
        fetched = self.store.read_many([f"{kdir}/{n}" for n in todo])
        parts: list[Row] = []
        for n in todo:
            data = fetched[f"{kdir}/{n}"]
            if data is not None:
                parts.extend(chunks.decode_chunk(data, f"{kdir}/{n}", segment, n))
        own = self._buffered_rows(vkey, key)
        if not parts and not own:
            return base
        merged = base + parts + own  # chunks by (writer, seq), then ours: a stable sort keeps it
        merged.sort(key=_order)
        return merged

    def history(self, vkey: VKey, key: str) -> list[MetricPoint]:
        listing = {e.name: e for e in self.store.list(paths.metric_dir(*vkey, key), detail=True)}
        with _gc_paused():
            return list(map(MetricPoint._make, self._read_key(vkey, key, listing)))

    def _walk(self, vkey: VKey, listing: dict[str, Entry] | None = None) -> dict[str, Entry]:
        """Files under ``<v>/metrics/`` (relative to it). ``listing``: a listing of the version
        that covers its metrics (:meth:`tracker.store.base.Store.list_version`) a caller already
        has, which then costs no request."""
        prefix = paths.METRICS + "/"
        if listing is None:
            listing = self.store.list_version(paths.version_dir(*vkey), (paths.METRICS,))
        return {rel[len(prefix) :]: e for rel, e in listing.items() if rel.startswith(prefix)}

    def histories(
        self,
        vkey: VKey,
        keys: Iterable[str] | None = None,
        version_listing: dict[str, Entry] | None = None,
    ) -> dict[str, list[Row]]:
        """Merged rows of every key (or of ``keys``) of a version, from one recursive listing."""
        by_key: dict[str, dict[str, Entry]] = {}
        for rel, entry in self._walk(vkey, version_listing).items():
            segment, _, name = rel.partition("/")
            if name and "/" not in name:
                by_key.setdefault(paths.decode(segment), {})[name] = entry
        with self._lock:
            for vk, key in self._series:
                if vk == vkey and self._series[(vk, key)].points:
                    by_key.setdefault(key, {})
        wanted = sorted(by_key) if keys is None else [k for k in keys if k in by_key]
        return {k: self._read_key(vkey, k, by_key[k]) for k in wanted}

    def last_values(
        self, vkey: VKey, version_listing: dict[str, Entry] | None = None
    ) -> dict[str, dict[str, Any]]:
        """``{key: {value, step, timestamp, count}}``: the last point by (step, timestamp)."""
        out = {}
        for key, rows in self.histories(vkey, None, version_listing).items():
            if rows:
                step, ts, value = rows[-1]
                out[key] = {"value": value, "step": step, "timestamp": ts, "count": len(rows)}
        return out

    # -- compaction --------------------------------------------------------------------------------
    def compact(self, vkey: VKey) -> int:
        """Flush ``vkey``, then write ``compact.tsv`` for every key whose chunks it does not
        already cover; returns how many were written."""
        self.flush(vkey)
        written = 0
        walked = self._walk(vkey)
        by_key: dict[str, dict[str, Entry]] = {}
        for rel, entry in walked.items():
            segment, _, name = rel.partition("/")
            if name and "/" not in name:
                by_key.setdefault(segment, {})[name] = entry
        for segment, listing in sorted(by_key.items()):
            names = {n: e.stamp for n, e in listing.items() if chunks.CHUNK_NAME.fullmatch(n)}
            if not names or not self._needs_compaction(vkey, segment, listing, names):
                continue
            try:
                rows = self._read_key(vkey, paths.decode(segment), listing)
            except CorruptFile:
                continue  # a damaged chunk: readers refuse it and fsck reports it; close anyway
            data = chunks.encode_compact(segment, names, rows)
            if self.changes is not None:  # same points, but the version's files change
                self.changes.before(*vkey)
            self.store.write(paths.join(paths.metrics_dir(*vkey), segment, chunks.COMPACT), data)
            if self.changes is not None:
                self.changes.after(*vkey)
            written += 1
        self.forget(vkey)
        return written

    def _needs_compaction(
        self, vkey: VKey, segment: str, listing: dict[str, Entry], names: dict[str, Any]
    ) -> bool:
        if chunks.COMPACT not in listing:
            return len(names) > 1
        where = paths.join(paths.metrics_dir(*vkey), segment, chunks.COMPACT)
        try:
            held, _ = chunks.decode_compact(self.store.read(where) or b"", where, segment)
        except CorruptFile:
            return True
        return held != names


def _chunk_order(name: str) -> tuple[str, int]:
    writer, _, seq = name[: -len(chunks.EXT)].partition("-")
    return (writer, int(seq))


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """No cyclic GC while a long history is built: it allocates only acyclic tuples and numbers,
    and the collector would otherwise rescan them again and again (~20% of a 100k-point read)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


_order = operator.itemgetter(0, 1)  # (step, timestamp); a stable sort keeps writer order


def _timer(ref: weakref.ref[Metrics], wake: threading.Event) -> None:
    """Flush stale buffers every ``flush_seconds`` while the service lives."""
    while True:
        service = ref()
        if service is None or service._wake is not wake:
            return
        period = service.flush_seconds
        del service
        wake.wait(period)
        service = ref()
        if service is None or service._wake is not wake:
            return
        try:
            service._flush_stale()
        except Exception:  # noqa: S112 - a failed background flush is retried by the next one
            continue
        finally:
            del service


def flush_all() -> None:
    """Flush every live service (at interpreter exit)."""
    for service in list(_LIVE):
        try:
            service.flush()
        except Exception:  # noqa: S112 - at exit there is nobody left to tell
            continue


def _after_fork() -> None:
    for service in list(_LIVE):
        service._reset()


atexit.register(flush_all)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)
