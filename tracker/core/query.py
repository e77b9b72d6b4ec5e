"""Queries: ``find`` over resource versions and ``runs`` over runs, filtered by ``where``.

``where`` is parsed by :mod:`tracker.core.expr` (never evaluated as Python). Tags, metadata and
attributes are loaded only when the expression or the ordering reads them.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from tracker.core.context import TrackerContext
from tracker.core.index import Candidate, SeriesIndex
from tracker.core.items import values
from tracker.core.progress import progress_iter
from tracker.core.resource import Resource
from tracker.core.results import Results
from tracker.errors import ExpressionError
from tracker.store import paths

if TYPE_CHECKING:
    from tracker.core.expr import Expression

_ITEM_ROOTS = ("tags", "metadata", "attrs")


def parse_order(order_by: str | None) -> list[tuple[tuple[str, ...], bool]]:
    """``"-version"``, ``"metadata.f1 desc, id"`` -> [(path, descending), ...]."""
    out = []
    for part in (order_by or "").split(","):
        words = part.split()
        if not words:
            continue
        name, desc = words[0], False
        if name.startswith("-"):
            name, desc = name[1:], True
        if len(words) > 1:
            if len(words) > 2 or words[1].lower() not in ("asc", "desc"):
                raise ExpressionError(
                    f"order_by {part.strip()!r}: write 'field', '-field' or 'field desc'"
                )
            desc = words[1].lower() == "desc"
        out.append((tuple(name.split(".", 1)), desc))
    return out


def lookup(record: dict[str, Any], path: tuple[str, ...]) -> tuple[bool, Any]:
    value: Any = record
    for part in path:
        if not isinstance(value, dict) or part not in value:
            return False, None
        value = value[part]
    return True, value


def _sort_key(record: dict[str, Any], path: tuple[str, ...]) -> tuple[int, str, Any]:
    found, value = lookup(record, path)
    if not found or value is None:
        return (1, "", "")
    if isinstance(value, bool):
        return (0, "bool", value)
    if isinstance(value, int | float):
        return (0, "num", value)
    return (0, type(value).__name__, str(value))


def order(records: list[dict[str, Any]], order_by: str | None) -> list[dict[str, Any]]:
    for path, desc in reversed(parse_order(order_by)):
        present = [r for r in records if _sort_key(r, path)[0] == 0]
        absent = [r for r in records if _sort_key(r, path)[0] == 1]
        present.sort(key=lambda r, p=path: _sort_key(r, p), reverse=desc)  # type: ignore[misc]
        records = present + absent  # absent values last either way
    return records


def flat_row(record: dict[str, Any]) -> dict[str, Any]:
    row = {k: v for k, v in record.items() if k not in (*_ITEM_ROOTS, "git")}
    for root in (*_ITEM_ROOTS, "git"):
        for key, value in (record.get(root) or {}).items():
            row[f"{root}.{key}"] = value
    return row


class QueryMixin(TrackerContext):
    def _record(self, res: Resource, items: bool = True) -> dict[str, Any]:
        """The flat view of a version that ``where`` expressions and ``to_pandas`` see."""
        assert res.version is not None
        vdir = paths.version_dir(res.type, res.id, res.version)
        listing = self._items.listing(vdir, _ITEM_ROOTS) if items else None
        if listing is not None:  # a closed version's snapshot holds resource.yaml: no YAML parse
            held = self._items.resource_doc(vdir, listing)
            if held is not None:
                self._resources.remember(res.type, res.id, res.version, held)
        doc = self._resources.doc(res.type, res.id, res.version) or {}
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
            loaded = self._items.load(vdir, _ITEM_ROOTS, listing)
            record["tags"] = values(loaded["tags"])
            record["metadata"] = values(loaded["metadata"])
            record["attrs"] = {**(doc.get("attributes") or {}), **values(loaded["attrs"])}
        return record

    def _series_tops(self, type: str | None, id: str | None) -> list[tuple[str, str, int]]:
        """(type, id, newest version) of every matching series."""
        return [
            (rtype, rid, self._resources.latest_version(rtype, rid))
            for rtype in ([type] if type else self._resources.types())
            for rid in ([id] if id is not None else self._resources.ids(rtype))
        ]

    def _index(self, rtype: str, rid: str, top: int) -> SeriesIndex:
        return SeriesIndex(
            self._store, rtype, rid, top, lambda v: self._record(Resource(rtype, rid, v))
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
        from tracker.core.expr import parse

        self._check_format()
        expr: Expression | None = parse(where) if where else None
        order_spec = parse_order(order_by)
        spec = [(p, d) for p, d in order_spec]
        descending = spec in ([(("version",), True)], [(("created_at",), True)])
        early = limit is not None and (descending or spec == [(("version",), False)])
        fields = expr.fields() if expr is not None else frozenset()
        records: list[dict[str, Any]] = []
        series = self._series_tops(type, id)
        total = sum(top for _, _, top in series)
        with progress_iter(total, "find", self._artifacts.progress) as tick:

            def test(cand: Candidate) -> bool:
                tick()
                if expr is None:
                    return True
                raw = cand.raw_for(fields)
                return bool(expr.evaluate(raw if raw is not None else cand.record))

            for rtype, rid, top in series:
                walk = self._index(rtype, rid, top).walk(descending, test, str(expr or ""))
                for taken, cand in enumerate(walk, 1):
                    records.append(cand.record)
                    if early and taken >= (limit or 0):
                        break  # this series gave enough
                walk.close()  # saves what the walk learned
        records = order(records, order_by)[: limit if limit is not None else None]
        resources = [
            Resource(r["type"], r["id"], r["version"], r["run_id"], r["parent"], self)
            for r in records
        ]
        return Results(resources, [flat_row(r) for r in records], "resources")

    def runs(
        self,
        where: str | None = None,
        order_by: str | None = "-start_time",
        limit: int | None = None,
    ) -> Results:
        """Runs (dicts: id, name, status, start_time, end_time, user, host, git, attrs) matching
        ``where`` (e.g. ``status = 'FAILED'``), newest first by default."""
        from tracker.core.expr import parse

        self._check_format()
        expr = parse(where) if where else None
        records = []
        for run_id in self._runs.ids():
            rec = self._runs.read(run_id)
            if expr is None or expr.evaluate(rec):
                records.append(rec)
        records = order(records, order_by)[: limit if limit is not None else None]
        return Results(records, [flat_row(r) for r in records], "runs")

    def iter_rows(self, type: str | None = None, id: str | None = None) -> Iterator[dict[str, Any]]:
        """The flat row (as in ``find``) of every version, series by series, through the query
        index, without holding them all (exports stream from it)."""
        self._check_format()
        for rtype, rid, top in self._series_tops(type, id):
            for cand in self._index(rtype, rid, top).walk():
                yield flat_row(cand.record)

    def iter_run_rows(self) -> Iterator[dict[str, Any]]:
        """The flat row (as in ``runs``) of every run, oldest first."""
        self._check_format()
        for run_id in self._runs.ids():
            yield flat_row(self._runs.read(run_id))

    def export_parquet(self, dest: str, storage_options: dict[str, Any] | None = None) -> Any:
        """Bring the Parquet export at ``dest`` (a directory or fsspec URL) up to date: only what
        changed since the last export is written (see :mod:`tracker.export.parquet`)."""
        from tracker.export.parquet import export_parquet

        return export_parquet(self, dest, storage_options)  # type: ignore[arg-type]

    def sql(
        self,
        query: str,
        parquet: str | None = None,
        storage_options: dict[str, Any] | None = None,
        refresh: bool = True,
    ) -> Results:
        """Run a DuckDB ``query`` over the tables ``versions``, ``runs`` and ``metrics`` of a
        Parquet export: ``parquet`` (a directory or URL), else one kept in the local cache.
        ``refresh`` first brings the export up to date (incrementally)."""
        from tracker.export import sql as sqlmod

        cache = self._artifacts.cache_dir
        dest = parquet or os.path.join(
            cache, "sql", "exports", hashlib.sha256(self.url.encode()).hexdigest()[:16]
        )
        if refresh:
            self.export_parquet(dest, storage_options)
        con = sqlmod.connect(dest, storage_options, cache)
        try:
            _, rows = sqlmod.query(con, query)
        finally:
            con.close()
        return Results(rows, rows, "rows")

    def series(self, type: str | None = None) -> list[dict[str, Any]]:
        """One dict per resource series: ``type, id, versions, latest_version, latest_ref,
        latest_created_at`` (versions are gap-free, so the count is the newest number)."""
        self._check_format()
        rows = []
        for rtype in [type] if type else self._resources.types():
            for rid in self._resources.ids(rtype):
                latest = self._resources.latest_version(rtype, rid)
                doc = self._resources.doc(rtype, rid, latest) if latest else None
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

    def run(self, run_id: str) -> dict[str, Any]:
        """One run: ``run.yaml``, ``attrs``, resolved ``status``/``end_time`` and ``created``
        (refs of the versions it created)."""
        self._check_format()
        doc = self._runs.read(run_id)
        doc["created"] = [r.ref for r in self._resources.created_by(run_id)]
        return doc
