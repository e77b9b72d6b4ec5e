"""The writing side shared by the importer's parts: look up, create, and write only what differs.

Every write goes through the tracker's public API; with ``dry_run`` nothing is written and the
report counts what would be.
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from tracker.errors import ResourceNotFound, StoreError, TrackerError
from tracker.importers.mlflow.reader import MlrunsReader
from tracker.importers.mlflow.report import ImportReport

T = TypeVar("T")
MAX_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z, the last instant a datetime holds
MIN_MS = -62_135_596_800_000  # 0001-01-01T00:00:00Z
_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)


def ms_to_datetime(ms: Any) -> _dt.datetime | None:
    """MLflow's milliseconds since the epoch as an exact UTC datetime (None stays None)."""
    if isinstance(ms, bool) or not isinstance(ms, int) or not MIN_MS <= ms <= MAX_MS:
        return None  # not milliseconds (the raw value stays in the imported meta)
    return _EPOCH + _dt.timedelta(milliseconds=ms)


def same(a: Any, b: Any) -> bool:
    """Equal as stored values: same type, NaN equal to NaN, recursively."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


class Base:
    """State of one import (what was mapped to which ref) and the writes every part shares."""

    def __init__(
        self,
        reader: MlrunsReader,
        tracker: Any,
        report: ImportReport,
        dry_run: bool = False,
        copy: bool = True,
    ) -> None:
        self.reader, self.t, self.report = reader, tracker, report
        self.dry_run, self.copy = dry_run, copy
        self.series = hasattr(tracker, "log_metric")
        self.runs: dict[str, str] = {}  # MLflow run id -> ref
        self.datasets: dict[str, str] = {}  # MLflow dataset id -> ref (per experiment)
        self.models: dict[str, str] = {}  # MLflow logged model id -> ref
        self.run_datasets: dict[str, list[str]] = {}  # run ref -> dataset refs

    # -- generic helpers ---------------------------------------------------------------------
    def _describe(self, ref: str | None) -> dict[str, Any]:
        if ref is None:
            return {"attrs": {}, "tags": {}, "metadata": {}, "artifacts": {}, "lineage": []}
        return dict(self.t.describe(ref))

    def _group(self, rtype: str, rid: str) -> tuple[str | None, dict[str, Any], bool]:
        """``rtype/rid@1`` (created unless dry-run), what it holds now, and whether it is new."""
        try:
            ref = str(self.t.get_resource(rid, type=rtype, version=1).ref)
            return ref, self._describe(ref), False
        except ResourceNotFound:
            pass
        if self.dry_run:
            return None, self._describe(None), True
        return str(self.t.create_resource(rid, type=rtype).ref), self._describe(None), True

    def _version(
        self, group: str | None, ledger: dict[str, Any], key: str, rtype: str, rid: str, **kw: Any
    ) -> tuple[str | None, dict[str, Any], bool]:
        """The ref recorded in the ledger under ``key``, or a new version of ``rtype/rid``
        (recorded at once, so an interrupted import resumes instead of duplicating)."""
        ref = ledger.get(key)
        if isinstance(ref, str):
            try:
                return ref, self._describe(ref), False
            except ResourceNotFound:
                pass  # the ledger names a version that is gone: make it again
        if self.dry_run:
            return None, self._describe(None), True
        parent = kw.get("parent") or group
        made = str(self.t.create_resource(rid, type=rtype, parent=parent).ref)
        assert group is not None
        self.t.log_metadata(group, key, made)
        return made, self._describe(None), True

    def _sync(
        self, ref: str | None, current: dict[str, Any], kind: str, want: dict[str, Any]
    ) -> int:
        """Write the items of ``kind`` whose value differs; returns how many."""
        have = current.get(kind) or {}
        changed = {k: v for k, v in want.items() if k not in have or not same(have[k], v)}
        if changed and not self.dry_run:
            if kind == "attrs":
                self.t.update_resource(ref, changed)
            elif kind == "tags":
                self.t.log_tags(ref, changed)
            else:
                for k, v in changed.items():
                    self.t.log_metadata(ref, k, v)
        return len(changed)

    def _count(self, kind: str, created: bool, writes: int) -> None:
        bucket = (
            self.report.created
            if created
            else (self.report.updated if writes else self.report.unchanged)
        )
        bucket[kind] += 1

    def _link(self, ref: str | None, current: dict[str, Any], targets: Iterable[str]) -> int:
        new = [r for r in dict.fromkeys(targets) if r not in (current.get("lineage") or [])]
        if new and ref is not None and not self.dry_run:
            self.t.build_model_lineage(ref, new)
        return len(new)

    def _close(self, ref: str | None) -> None:
        if ref is not None and not self.dry_run:
            self.t.clean_resource(ref)

    # -- experiments, datasets, runs ---------------------------------------------------------
    def tick(self) -> None:
        """Replaced by the progress bar's tick while an import runs."""

    def guarded(self, where: str, fn: Callable[..., T], *args: Any) -> T | None:
        """One item's import; a value or name the tracker refuses (an error of ours, a key
        too long once encoded, ...) skips that item, reported with its path, and the import
        goes on. A store that fails (``StoreError``) stops it."""
        try:
            return fn(*args)
        except StoreError:
            raise
        except TrackerError as exc:
            self.reader.skip(where, f"not imported: {exc}")
            return None
