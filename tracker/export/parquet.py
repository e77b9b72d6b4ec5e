"""``tracker export parquet DIR``: the store as three Parquet tables, written incrementally.

Layout of ``DIR`` (a local directory or any fsspec URL)::

    DIR/versions/part-<time_ns>-<hex>.parquet   flat rows of ``find`` (ref, type, id, ..., tags.x)
    DIR/runs/part-<...>.parquet                 flat rows of ``runs``
    DIR/metrics/part-<...>.parquet              ref, run_id, key, step, timestamp, value
    DIR/_state.json                             what the parts hold: a digest per row key

Parts are immutable and only ever added. An export reads every record through the query index
(so an unchanged version costs what a warm ``find`` costs), compares its digest with the state and
writes only the rows that are new or changed into a new part; a row in a later part supersedes the
same key in earlier ones (:mod:`tracker.export.sql` builds views that keep the newest). A key that
left the store (a deleted version or run, a version whose metric points are gone) gets a row
``{key, DELETED: true}`` that supersedes it the same way and that the views leave out. The state is
written last, in one atomic write: a crash in between only re-exports those rows next time. When
parts pile up (``COMPACT_AFTER``) they are merged into one. One exporter at a time per ``DIR``.

pyarrow builds the files (``pip install 'tracker[sql]'``). A column whose values do not share one
Arrow type (a tag that is a number in one version and a string in another) is written as text;
mappings and lists are written as JSON text (DuckDB's ``json_extract`` reads them).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tracker.errors import MissingDependency, StoreError, TrackerError

if TYPE_CHECKING:
    from tracker.core.tracker import Tracker

TABLES = ("versions", "runs", "metrics")
DELETED = "_deleted"  # the column of a row that says its key left the store
KEYS = {"versions": ("ref",), "runs": ("id",), "metrics": ("ref",)}
STATE = "_state.json"
PART_ROWS = 20_000  # rows per part while exporting: bounds memory on a first export
COMPACT_AFTER = 64  # parts of one table before they are merged into one


class ExportError(TrackerError, ValueError):
    """An export directory that is not one (a foreign or newer ``_state.json``)."""


def require_pyarrow() -> Any:
    try:
        import pyarrow
    except ImportError:
        raise MissingDependency(
            "Parquet export needs pyarrow: pip install 'tracker[sql]' (pyarrow and duckdb)"
        ) from None
    return pyarrow


@dataclass
class ExportReport:
    """What one export did: rows written per table, parts written and the export location."""

    url: str
    written: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TABLES, 0))
    total: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TABLES, 0))
    parts: list[str] = field(default_factory=list)
    compacted: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "written": dict(self.written),
            "total": dict(self.total),
            "parts": list(self.parts),
            "compacted": list(self.compacted),
        }


class Target:
    """The export directory, through fsspec (plain ``os`` renames locally for atomic state)."""

    def __init__(self, url: str, storage_options: dict[str, Any] | None = None) -> None:
        import fsspec

        self.url = url.rstrip("/") or url
        opts = dict(storage_options or {})
        if "://" in url and not url.startswith("file://"):
            opts.setdefault("use_listings_cache", False)
            opts.setdefault("skip_instance_cache", True)
        try:
            self.fs, root = fsspec.core.url_to_fs(url, **opts)
        except (ImportError, TypeError, ValueError, OSError) as exc:
            raise StoreError(f"cannot open export directory {url}: {exc}") from exc
        self.root = root.rstrip("/") or root
        self.local = "file" in (
            self.fs.protocol if isinstance(self.fs.protocol, tuple) else (self.fs.protocol,)
        )

    def path(self, rel: str) -> str:
        return f"{self.root}/{rel}"

    def read(self, rel: str) -> bytes | None:
        try:
            return bytes(self.fs.cat_file(self.path(rel)))
        except FileNotFoundError:
            return None

    def write_atomic(self, rel: str, data: bytes) -> None:
        full = self.path(rel)
        if self.local:
            os.makedirs(os.path.dirname(full), exist_ok=True)
            tmp = f"{os.path.dirname(full)}/.tmp-{os.getpid()}-{secrets.token_hex(4)}"
            with open(tmp, "wb") as fh:
                fh.write(data)
            os.replace(tmp, full)
        else:
            self.fs.pipe_file(full, data)  # one PUT: whole or nothing

    def parts(self, table: str) -> list[str]:
        try:
            names = self.fs.ls(self.path(table), detail=False)
        except FileNotFoundError:
            return []
        return sorted(
            f"{table}/{str(n).rstrip('/').rsplit('/', 1)[-1]}"
            for n in names
            if str(n).endswith(".parquet") and "/part-" in str(n)
        )

    def write_table(self, rel: str, table: Any) -> None:
        """Write the Parquet file under a temp name first (locally), so a reader never sees half
        of it; on object stores the upload is one object."""
        import pyarrow.parquet as pq

        full = self.path(rel)
        if self.local:
            os.makedirs(os.path.dirname(full), exist_ok=True)
            tmp = f"{os.path.dirname(full)}/.tmp-{os.getpid()}-{secrets.token_hex(4)}"
            pq.write_table(table, tmp, compression="zstd")
            os.replace(tmp, full)
            return
        with self.fs.open(full, "wb") as fh:
            pq.write_table(table, fh, compression="zstd")

    def remove(self, rel: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.fs.rm(self.path(rel))


def digest(row: dict[str, Any]) -> str:
    text = json.dumps(row, sort_keys=True, default=_json_default, ensure_ascii=False)
    return hashlib.sha1(text.encode()).hexdigest()[:16]  # noqa: S324 - a change detector


def _json_default(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return repr(value)


def _cell(value: Any) -> Any:
    """Containers become JSON text; everything else is left for Arrow to type."""
    if isinstance(value, dict | list | tuple | set):
        return json.dumps(
            list(value) if isinstance(value, set) else value,
            sort_keys=True,
            default=_json_default,
            ensure_ascii=False,
        )
    return value


def arrow_table(rows: list[dict[str, Any]]) -> Any:
    """One Arrow table over the union of the rows' columns; a column Arrow cannot type as one
    type (or whose numbers are not all finite-representable) falls back to text."""
    pa = require_pyarrow()
    columns: dict[str, None] = {}
    for row in rows:
        columns.update(dict.fromkeys(row))
    arrays = []
    for name in columns:
        values = [_cell(row.get(name)) for row in rows]
        try:
            arrays.append(pa.array(values))
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError):
            arrays.append(
                pa.array([None if v is None else _text(v) for v in values], type=pa.string())
            )
    return pa.Table.from_arrays(arrays, names=list(columns))


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return json.dumps(value, default=_json_default, ensure_ascii=False)


def _part_name(table: str) -> str:
    return f"{table}/part-{time.time_ns():020d}-{secrets.token_hex(3)}.parquet"


class _Writer:
    """Collects changed rows of one table and writes them in parts of ``PART_ROWS``."""

    def __init__(self, target: Target, table: str, report: ExportReport) -> None:
        self.target, self.table, self.report = target, table, report
        self.rows: list[dict[str, Any]] = []

    def add(self, rows: Iterable[dict[str, Any]]) -> None:
        self.rows.extend(rows)
        if len(self.rows) >= PART_ROWS:
            self.flush()

    def flush(self) -> None:
        if not self.rows:
            return
        name = _part_name(self.table)
        self.target.write_table(name, arrow_table(self.rows))
        self.report.written[self.table] += len(self.rows)
        self.report.parts.append(name)
        self.rows = []


def load_state(target: Target) -> dict[str, Any]:
    data = target.read(STATE)
    if data is None:
        return {"format": 1, **{t: {} for t in TABLES}}
    try:
        state = json.loads(data)
    except ValueError:
        state = None
    if not isinstance(state, dict) or state.get("format") != 1:
        raise ExportError(
            f"{target.url}/{STATE} is not the state of a tracker Parquet export (format 1); "
            "export into an empty directory, or delete the directory to export anew"
        )
    for table in TABLES:
        if not isinstance(state.get(table), dict):
            state[table] = {}
    return state


_METRIC_COLUMN = "metrics."  # a flat row's last value of a metric key


def export_parquet(
    tracker: Tracker, dest: str, storage_options: dict[str, Any] | None = None
) -> ExportReport:
    """Bring the Parquet export at ``dest`` up to date with the store (see the module doc)."""
    require_pyarrow()
    tracker.require_store()
    target = Target(dest, storage_options)
    state = load_state(target)
    report = ExportReport(target.url)
    new_state: dict[str, Any] = {"format": 1, "store": tracker.url}
    refs: list[str] = []

    versions = _Writer(target, "versions", report)
    seen: dict[str, str] = {}
    for row in tracker.iter_rows():
        ref = str(row["ref"])
        if any(k.startswith(_METRIC_COLUMN) for k in row):  # it has points (their last values)
            refs.append(ref)
        d = digest(row)
        seen[ref] = d
        if state["versions"].get(ref) != d:
            versions.add([row])
    _gone(versions, state["versions"], seen)
    versions.flush()
    new_state["versions"] = seen

    runs = _Writer(target, "runs", report)
    seen = {}
    for row in tracker.iter_run_rows():
        d = digest(row)
        seen[str(row["id"])] = d
        if state["runs"].get(str(row["id"])) != d:
            runs.add([row])
    _gone(runs, state["runs"], seen)
    runs.flush()
    new_state["runs"] = seen

    new_state["metrics"] = _export_metrics(tracker, target, state["metrics"], refs, report)
    report.total = {t: len(new_state[t]) for t in TABLES}
    target.write_atomic(STATE, json.dumps(new_state).encode())
    for table in TABLES:
        _compact(target, table, report)
    return report


def _export_metrics(
    tracker: Any, target: Target, old: dict[str, str], refs: list[str], report: ExportReport
) -> dict[str, str]:
    """Metric points of the versions ``refs`` names (those whose row holds a last metric
    value: the others have none, and asking would cost a lookup each), when the tracker has
    metric series: a version whose points changed gets all its points in the new part (they
    supersede its older rows)."""
    if not hasattr(tracker, "metric_history"):
        return {}
    writer = _Writer(target, "metrics", report)
    seen: dict[str, str] = {}
    for start in range(0, len(refs), 1000):
        batch = refs[start : start + 1000]
        by_ref: dict[str, list[dict[str, Any]]] = {ref: [] for ref in batch}
        for point in _points(tracker.metric_history(batch)):
            by_ref.setdefault(str(point.get("ref")), []).append(point)
        for ref, points in by_ref.items():
            if not points:
                continue
            d = digest({"points": points})
            seen[ref] = d
            if old.get(ref) != d:
                writer.add(points)
    _gone(writer, old, seen)
    writer.flush()
    return seen


def _gone(writer: _Writer, old: dict[str, str], seen: dict[str, str]) -> None:
    """A row ``{key, DELETED: true}`` for each key the last export had and this one has not."""
    (key,) = KEYS[writer.table]
    gone = [k for k in old if k not in seen]
    if gone:
        writer.flush()  # the deletion rows get a part of their own (one column type each)
        writer.add([{key: k, DELETED: True} for k in gone])


def _points(history: Any) -> Iterator[dict[str, Any]]:
    """Rows of ``metric_history``'s long table (its ``rows``, or the items as mappings)."""
    rows = getattr(history, "rows", None)
    for item in rows if rows is not None else history:
        if isinstance(item, dict):
            yield dict(item)
        else:
            yield {
                k: getattr(item, k, None)
                for k in ("ref", "run_id", "key", "step", "timestamp", "value")
            }


def _compact(target: Target, table: str, report: ExportReport) -> None:
    """Merge a table's parts into one (the newest row per key) once there are too many."""
    parts = target.parts(table)
    if len(parts) <= COMPACT_AFTER:
        return
    from tracker.export.sql import connect_parts

    with tempfile.TemporaryDirectory() as mirror:  # remote parts are read through a mirror
        con = connect_parts(target, {table: parts}, mirror)
        try:
            relation = con.table(table)
            fetch = getattr(relation, "to_arrow_table", None) or relation.arrow
            merged = fetch()
        finally:
            con.close()
    name = _part_name(table)
    target.write_table(name, merged)
    for part in parts:
        target.remove(part)
    report.compacted.append(name)
