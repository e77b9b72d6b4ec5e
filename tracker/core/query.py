"""Queries: ``find`` over resource versions and ``runs`` over runs, filtered by ``where``.

``where`` is parsed by :mod:`tracker.core.expr` (never evaluated as Python). ``find`` walks each
matching series through its query index (:class:`tracker.core.index.SeriesIndex`): a version's
flat record (identity, tags, metadata, attrs, last metric values) comes from an index chunk while
the series' change log (:mod:`tracker.core.changes`) names no newer change to it, else it is read
afresh (:meth:`Query.live_record`: one listing of the version plus its snapshot) and remembered.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence
from typing import Any

from tracker.core.expr import parse, parse_order
from tracker.core.exprtree import OrderKey, order_records
from tracker.core.fast_entry import entry_json
from tracker.core.fields import RESOURCES, RUNS, Presence, check_static, did_you_mean, suggest
from tracker.core.index import Candidate, Gone, Lister, SeriesIndex, built_entry
from tracker.core.items import Items, values
from tracker.core.metrics import Metrics
from tracker.core.progress import progress_iter
from tracker.core.resource import Resource, shown
from tracker.core.resources import Resources
from tracker.core.results import Results
from tracker.core.runs import Runs, run_record
from tracker.core.session import Session
from tracker.errors import FieldWarning, InvalidArgument, ResourceNotFound
from tracker.store import paths
from tracker.store.base import Entry

_ITEM_ROOTS = tuple(paths.ITEM_KINDS)  # record sections: tags, metadata, attrs, metrics
_LISTED = tuple(paths.ITEM_KINDS)  # one listing of a version covers its keys and metrics
_METRICS = paths.METRICS + "/"
VERSION_ORDER = (("version",), ("created_at",))


def _has_metrics(listing: dict[str, Entry]) -> bool:
    return any(rel.startswith(_METRICS) for rel in listing)


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
    """``find``, ``runs`` and the listings; a found resource carries what was read (its info)."""

    def __init__(
        self,
        session: Session,
        items: Items,
        resources: Resources,
        runs: Runs,
        metrics: Metrics,
        progress: bool = True,
    ) -> None:
        self.session, self.items, self.resources = session, items, resources
        self.run_records, self.metrics, self.progress = runs, metrics, progress

    def record(self, res: Resource, items: bool = True) -> dict[str, Any]:
        """The flat view of a version that ``where`` expressions and ``to_pandas`` see."""
        doc = self.resources.doc(res.type, res.id, res.version) or {}
        return self.flat(res, doc, items)

    def live_record(
        self, res: Resource, items: bool = True, listing: dict[str, Entry] | None = None
    ) -> dict[str, Any] | None:
        """:meth:`record` of a version that exists and is not deleted (read afresh), else None.
        ``listing``: the version's listing of its item kinds, when the caller already made it."""
        if items:  # a closed version's snapshot holds resource.yaml: no YAML parse
            vdir = paths.version_dir(res.type, res.id, res.version)
            if listing is None:
                listing = self.items.listing(vdir, _LISTED)
            held = self.items.resource_doc(vdir, listing)
            if held is not None:
                self.resources.remember(res.type, res.id, res.version, held)
        doc = self.resources.doc(res.type, res.id, res.version, fresh=True)
        return None if doc is None else self.flat(res, doc, items, listing)

    def live_entry(
        self, res: Resource, lister: Lister | None = None
    ) -> tuple[dict[str, Any] | None, str]:
        """A version's record for the query index: ``(None, its JSON form)`` when its snapshot
        covers it (:mod:`tracker.core.fast_entry`: nothing decoded), else ``(record, JSON)``
        as :meth:`live_record` reads it (``(None, "null")``: deleted or not there).

        ``lister(unchanged)`` lists the version for the caller (who takes its validator from
        the same calls); the snapshot is read first, so folders it vouches for
        (``"folders"``) are not scanned."""
        vdir = paths.version_dir(res.type, res.id, res.version)
        snap: dict[str, Any] | None = None
        spared: frozenset[str] = frozenset()
        if lister is not None:
            snap = self.items.read_snapshot(vdir)
            folders = snap.get("folders") if snap is not None else None
            listing, spared = lister(folders if isinstance(folders, dict) else None)
        else:
            listing = self.items.listing(vdir, _LISTED)
        if paths.SNAPSHOT in listing:
            if snap is None:
                snap = self.items.parsed_snapshot(vdir, listing)
            last = self.metrics.last_values(res.key, listing) if _has_metrics(listing) else {}
            values = {k: v["value"] for k, v in last.items()}
            text = entry_json(res.ref, res.key, snap, listing, values, spared)
            # resource.yaml afresh, as every lookup by ref: a tombstone hides the version
            if text is not None and self.resources.unmarked(*res.key):
                return None, text
        if spared and lister is not None:  # the general read needs every folder listed
            listing, _ = lister(None)
        return built_entry(self.live_record(res, listing=listing))

    def flat(
        self,
        res: Resource,
        doc: dict[str, Any],
        items: bool,
        listing: dict[str, Entry] | None = None,
    ) -> dict[str, Any]:
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
            if listing is None:
                listing = self.items.listing(vdir, _LISTED)
            loaded = self.items.load(vdir, paths.KEY_KINDS, listing)
            for kind in paths.KEY_KINDS:
                record[kind] = values(loaded[kind])
            record["attrs"] = {**(doc.get("attributes") or {}), **record["attrs"]}
            # last value per metric key, from the same listing (it covers the metric chunks)
            last = self.metrics.last_values((res.type, res.id, res.version), listing)
            record["metrics"] = {k: v["value"] for k, v in last.items()}
        return record

    def _series_tops(self, type: str | None, id: str | None) -> list[tuple[str, str, int]]:
        """(type, id, newest version) of every matching series."""
        return [
            (rtype, rid, self.resources.latest_version(rtype, rid))
            for rtype in ([type] if type else self.resources.types())
            for rid in ([id] if id is not None else self.resources.ids(rtype))
        ]

    def _index(self, rtype: str, rid: str, top: int) -> SeriesIndex:
        return SeriesIndex(
            self.session.store,
            rtype,
            rid,
            top,
            lambda v, listing=None: self.live_record(Resource(rtype, rid, v), listing=listing),
            lambda v, lister=None: self.live_entry(Resource(rtype, rid, v), lister),
            write=self.session.write_caches,  # False: a reader that writes nothing (`tracker ui`)
        )

    def find(
        self,
        type: str | None = None,
        id: str | None = None,
        where: str | None = None,
        order_by: str | None = None,
        limit: int | None = None,
    ) -> Results:
        """Resource versions matching ``where`` (e.g. ``tags.status = 'DEPLOYED'``), ordered by
        ``order_by`` (``-version``, ``metadata.f1 desc``), at most ``limit`` of them.

        Ordered by version alone (``-version``, ``version``; ``-created_at``, as versions are
        created in order) with a ``limit``, each series is walked in that order and left once it
        gave ``limit`` matches: newest-first over 100,000 versions reads only the newest few."""
        self.session.check_format()
        check_limit(limit)
        expr = parse(where) if where else None
        keys = parse_order(order_by)
        presence = Presence(RESOURCES, check_static(RESOURCES, expr, keys))
        descending = _newest_first(keys)
        ascending = len(keys) == 1 and not keys[0].descending and keys[0].field.path == ("version",)
        early = limit is not None and (descending or ascending)
        fields = expr.fields() if expr is not None else frozenset()
        records: list[dict[str, Any]] = []
        stopped = False
        series = self._series_tops(type, id)
        total = sum(top for _, _, top in series)

        def settled() -> bool:  # every watched field seen: remembered matches may stand in
            return len(presence.seen) >= len(presence.watched)

        with progress_iter(total, "find", self.progress) as tick:

            def test(cand: Candidate) -> bool:
                tick()
                raw = cand.raw_for(fields) if expr is not None else None
                record = raw if raw is not None else cand.record
                if not settled():
                    presence.add(record)
                return expr is None or bool(expr.evaluate(record))

            for rtype, rid, top in series:
                walk = self._index(rtype, rid, top).walk(
                    descending, test, str(expr or ""), remembered=settled
                )
                taken = 0
                for cand in walk:
                    try:
                        records.append(cand.record)
                    except Gone:  # a damaged entry of a version deleted since
                        continue
                    taken += 1
                    if early and taken >= (limit or 0):
                        stopped = True
                        break  # this series gave enough
                walk.close()  # saves what the walk learned
        if not stopped:
            presence.warn()
        if type is not None and not total:  # costs a listing only when nothing was found
            _warn_unknown_type(type, self.resources.types())
        records = order(records, keys)[: limit if limit is not None else None]
        resources = [
            Resource(r["type"], r["id"], r["version"], r["run_id"], r["parent"], shown(r))
            for r in records
        ]
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

    def iter_rows(self, type: str | None = None, id: str | None = None) -> Iterator[dict[str, Any]]:
        """The flat row (as in ``find``) of every version, series by series, through the query
        index, without holding them all (exports stream from it)."""
        self.session.check_format()
        for rtype, rid, top in self._series_tops(type, id):
            for cand in self._index(rtype, rid, top).walk():
                yield flat_row(cand.record)

    def iter_run_rows(self) -> Iterator[dict[str, Any]]:
        """The flat row (as in ``runs``) of every run, oldest first."""
        self.session.check_format()
        for run_id in self.run_records.ids():
            try:
                doc = self.run_records.read(run_id)
            except ResourceNotFound:
                continue  # being deleted: its run.yaml moves to the trash first
            full = {**doc, **run_record(doc)}
            yield flat_row({k: full.get(k) for k in (*RUNS.scalars, "attrs")})

    def series(self, type: str | None = None) -> list[dict[str, Any]]:
        """One dict per resource series: ``type, id, versions, latest_version, latest_ref,
        latest_created_at`` (versions are gap-free, so the count is the newest number)."""
        self.session.check_format()
        rows = []
        for rtype in [type] if type else self.resources.types():
            for rid in self.resources.ids(rtype):
                live = self.resources.latest_live(rtype, rid)
                latest = live.version if live is not None else 0
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
