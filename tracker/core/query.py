"""Queries: ``find`` over resource versions and ``runs`` over runs, filtered by ``where``.

``where`` is parsed by :mod:`tracker.core.expr` (never evaluated as Python). Tags, metadata and
attributes are loaded only when the expression or the ordering reads them.
"""

from __future__ import annotations

import contextlib
import functools
import warnings
from collections.abc import Iterator, Sequence
from typing import Any

from tracker.core.expr import parse, parse_order
from tracker.core.exprtree import OrderKey, order_records
from tracker.core.fields import RESOURCES, RUNS, Presence, check_static, did_you_mean, suggest
from tracker.core.index import SeriesIndex
from tracker.core.items import Items, values
from tracker.core.metrics import Metrics
from tracker.core.progress import progress_iter
from tracker.core.resource import Resource
from tracker.core.resources import Resources
from tracker.core.results import Results
from tracker.core.runs import Runs, run_record
from tracker.core.session import Session
from tracker.errors import FieldWarning, InvalidArgument, ResourceNotFound, TrackerError
from tracker.store import paths

_ITEM_ROOTS = ("tags", "metadata", "attrs", "metrics")
VERSION_ORDER = (("version",), ("created_at",))


def order(records: list[dict[str, Any]], keys: Sequence[OrderKey]) -> list[dict[str, Any]]:
    """``records`` sorted by parsed ``order_by`` keys (absent values last either way)."""
    return order_records(records, keys) if keys else records


def _newest_first(keys: Sequence[OrderKey]) -> bool:
    """Whether ``keys`` is ``-version`` or ``-created_at``: newest first within one series."""
    return len(keys) == 1 and keys[0].descending and keys[0].field.path in VERSION_ORDER


def check_limit(limit: int | None) -> None:
    if limit is None:
        return
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise InvalidArgument(f"limit must be a positive whole number (or None), got {limit!r}")


def _warn_unknown_type(type: str, known: list[str]) -> None:
    if type in known:
        return
    hint = did_you_mean(suggest(type, known))
    listing = ", ".join(known) or "none yet"
    warnings.warn(f"no resources of type {type!r}{hint} (types: {listing})", FieldWarning, 3)


def flat_row(record: dict[str, Any]) -> dict[str, Any]:
    row = {k: v for k, v in record.items() if k not in _ITEM_ROOTS}
    for root in _ITEM_ROOTS:
        for key, value in (record.get(root) or {}).items():
            row[f"{root}.{key}"] = value
    return row


class Query:
    """``find``, ``runs`` and the listings; ``owner`` is what returned resources display with."""

    def __init__(
        self,
        session: Session,
        items: Items,
        resources: Resources,
        runs: Runs,
        metrics: Metrics,
        progress: bool = True,
        owner: Any = None,
    ) -> None:
        self.session, self.items, self.resources = session, items, resources
        self.run_records, self.metrics, self.progress, self.owner = runs, metrics, progress, owner

    def record(self, res: Resource, items: bool = True) -> dict[str, Any]:
        """The flat view of a version that ``where`` expressions and ``to_pandas`` see."""
        assert res.version is not None
        doc = self.resources.doc(res.type, res.id, res.version) or {}
        return self.flat(res, doc, items)

    def live_record(self, res: Resource, items: bool = True) -> dict[str, Any] | None:
        """:meth:`record` of a version that exists and is not deleted (read afresh), else None."""
        assert res.version is not None
        doc = self.resources.doc(res.type, res.id, res.version, fresh=True)
        return None if doc is None else self.flat(res, doc, items)

    def flat(self, res: Resource, doc: dict[str, Any], items: bool) -> dict[str, Any]:
        assert res.version is not None
        record: dict[str, Any] = {
            "ref": res.ref,
            "type": res.type,
            "id": res.id,
            "version": res.version,
            "run_id": doc.get("run_id"),
            "parent": doc.get("parent"),
            "created_at": doc.get("created_at"),
        }
        if items:
            vdir = paths.version_dir(res.type, res.id, res.version)
            listing = self.items.listing(vdir, ("tags", "metadata", "attrs"))
            loaded = self.items.load(vdir, ("tags", "metadata", "attrs"), listing)
            record["tags"] = values(loaded["tags"])
            record["metadata"] = values(loaded["metadata"])
            record["attrs"] = {**(doc.get("attributes") or {}), **values(loaded["attrs"])}
            # last value per metric key; an object store's listing already holds the chunks
            whole = None if self.session.store.is_local else listing
            last = self.metrics.last_values((res.type, res.id, res.version), whole)
            record["metrics"] = {k: v["value"] for k, v in last.items()}
        return record

    def versions(self, type: str | None, id: str | None, newest_first: bool) -> Iterator[Resource]:
        """Every version of the matching series; a progress bar on a terminal when there are
        many (see :func:`tracker.core.progress.progress_iter`)."""
        series = [
            (rtype, rid, self.resources.latest_version(rtype, rid))
            for rtype in ([type] if type else self.resources.types())
            for rid in ([id] if id is not None else self.resources.ids(rtype))
        ]
        total = sum(top for _, _, top in series)
        with progress_iter(total, "find", self.progress) as tick:
            for rtype, rid, top in series:
                versions = range(top, 0, -1) if newest_first else range(1, top + 1)
                for version in versions:
                    tick()
                    yield Resource(rtype, rid, version)

    def find(
        self,
        type: str | None = None,
        id: str | None = None,
        where: str | None = None,
        order_by: str | None = None,
        limit: int | None = None,
    ) -> Results:
        """Resource versions matching ``where`` (e.g. ``tags.status = 'DEPLOYED'``), ordered by
        ``order_by`` (``-version``, ``metadata.f1 desc``), at most ``limit`` of them."""
        self.session.check_format()
        check_limit(limit)
        expr = parse(where) if where else None
        keys = parse_order(order_by)
        presence = Presence(RESOURCES, check_static(RESOURCES, expr, keys))
        roots = {f.path[0] for f in presence.watched}
        need_items = bool(roots & set(_ITEM_ROOTS))
        # newest-first over one series can stop at the limit without reading the rest
        early = limit is not None and id is not None and type is not None and _newest_first(keys)
        records = []
        stopped = False
        scanned = 0
        indexes: dict[tuple[str, str], SeriesIndex] = {}
        for res in self.versions(type, id, newest_first=early):
            scanned += 1
            if need_items:
                key = (res.type, res.id)
                if key not in indexes:
                    indexes[key] = SeriesIndex(self.session.store, res.type, res.id)
                rec = indexes[key].record(
                    res.version or 0, functools.partial(self.live_record, res)
                )
            else:
                rec = self.live_record(res, items=False)
            if rec is None:  # deleted (or a number whose creator died before writing it)
                continue
            if need_items:
                presence.add(rec)
            if expr is not None and not expr.evaluate(rec):
                continue
            records.append(rec)
            if early and limit is not None and len(records) >= limit:
                stopped = True
                break
        for index in indexes.values() if self.session.write_caches else ():
            with contextlib.suppress(TrackerError, OSError):  # a cache: a read-only store is fine
                index.save()
        if not stopped:
            presence.warn()
        if type is not None and not scanned:  # costs a listing only when nothing was found
            _warn_unknown_type(type, self.resources.types())
        records = order(records, keys)[: limit if limit is not None else None]
        resources = [
            Resource(r["type"], r["id"], r["version"], r["run_id"], r["parent"], self.owner)
            for r in records
        ]
        if not need_items:
            records = [self.record(r) for r in resources]
        return Results(resources, [flat_row(r) for r in records], "resources")

    def runs(
        self,
        where: str | None = None,
        order_by: str | None = "-start_time",
        limit: int | None = None,
    ) -> Results:
        """Runs matching ``where`` (e.g. ``status = 'FAILED' and git_dirty = true``), newest
        first by default. Each is a dict with the fields ``where`` and ``order_by`` name (``id,
        name, status, start_time, end_time, duration_s, user, host, git_commit, git_branch,
        git_dirty, git_remote, pid, cwd, argv, python, platform, attrs``) plus ``git``."""
        self.session.check_format()
        check_limit(limit)
        expr = parse(where) if where else None
        keys = parse_order(order_by)
        presence = Presence(RUNS, check_static(RUNS, expr, keys))
        records = []
        for run_id in self.run_records.ids():
            try:
                doc = self.run_records.read(run_id)
            except ResourceNotFound:
                continue  # being deleted: its run.yaml moves to the trash first
            rec = run_record(doc)
            presence.add(rec)
            if expr is None or expr.evaluate(rec):
                records.append({**doc, **rec})
        presence.warn()
        records = order(records, keys)[: limit if limit is not None else None]
        rows = [flat_row({k: r.get(k) for k in (*RUNS.scalars, "attrs")}) for r in records]
        return Results(records, rows, "runs")

    def series(self, type: str | None = None) -> list[dict[str, Any]]:
        """One dict per resource series: ``type, id, versions, latest_version, latest_ref,
        latest_created_at`` (versions are gap-free, so the count is the newest number)."""
        self.session.check_format()
        rows = []
        for rtype in [type] if type else self.resources.types():
            for rid in self.resources.ids(rtype):
                live = self.resources.latest_live(rtype, rid)
                latest = live.version if live is not None and live.version else 0
                doc = self.resources.doc(rtype, rid, latest) if latest else None
                if doc is None:
                    continue
                rows.append(
                    {
                        "type": rtype,
                        "id": rid,
                        "versions": latest,
                        "latest_version": latest,
                        "latest_ref": Resource(rtype, rid, latest).ref,
                        "latest_created_at": doc.get("created_at"),
                    }
                )
        return rows

    def run_ids(self) -> list[str]:
        """Every run id of the store, oldest first (ids sort by start time); one listing."""
        self.session.check_format()
        return self.run_records.ids()

    def run(self, run_id: str) -> dict[str, Any]:
        """One run: ``run.yaml``, ``attrs``, resolved ``status``/``end_time`` and ``created``
        (refs of the versions it created)."""
        self.session.check_format()
        doc = self.run_records.read(run_id)
        doc["created"] = [r.ref for r in self.resources.created_by(run_id)]
        return doc
