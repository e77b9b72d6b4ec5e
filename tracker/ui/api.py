"""The JSON API of ``tracker ui``, as plain functions over the tracker's public read methods.

Each function takes a tracker and the request's parameters (strings, as in a query string) and
returns JSON-ready data; the HTTP server (:mod:`tracker.ui.server`) and the static report
(:mod:`tracker.ui.report`) share them. Nothing here writes: the only reads used are ``runs``,
``series``, ``find``, ``describe``, ``lineage``, ``compare``, ``get_artifact`` and, when the store
version has them, ``metric_history``.

Version tables are paged and sorted here, not in the browser: for the default order (newest
version first, no filter) a page costs one ``describe`` per row, whatever the size of the series;
a filter or another order runs one ``find`` over the series, kept for a few seconds so paging
through its result does not repeat it.
"""

from __future__ import annotations

import csv
import io
import math
import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from tracker.cli.common import jsonable
from tracker.cli.runs import run_row
from tracker.core.compare import compact, flatten
from tracker.core.resource import Resource
from tracker.errors import ExpressionError, InvalidArgument, ResourceNotFound, TrackerError

PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
MAX_POINTS = 2000  # points per curve sent to the browser
QUERY_TTL = 5.0  # seconds a find() result is reused for paging
IDENTITY_COLUMNS = ["ref", "version", "created_at", "run_id"]
NO_METRICS = "no metric series in this store version"


def _int(params: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = params.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(str(raw))
    except ValueError:
        raise InvalidArgument(f"{name} must be a whole number, got {raw!r}") from None
    return min(max(value, low), high)


def _page(params: Mapping[str, str], total: int) -> tuple[int, int, int]:
    """(page, size, pages), page clamped to what exists (1-based)."""
    size = _int(params, "size", PAGE_SIZE, 1, MAX_PAGE_SIZE)
    pages = max(1, math.ceil(total / size))
    page = _int(params, "page", 1, 1, pages)
    return page, size, pages


def expression_error(exc: ExpressionError) -> dict[str, Any]:
    return {"message": str(exc), "column": exc.column, "expected": exc.expected}


def info(tracker: Any) -> dict[str, Any]:
    from tracker import __version__

    return {
        "root": tracker.url,
        "version": __version__,
        "metric_series": hasattr(tracker, "metric_history"),
    }


def runs(tracker: Any, params: Mapping[str, str]) -> dict[str, Any]:
    """Runs, newest first unless ``sort``; ``where`` filters (errors come back, not raised)."""
    where = (params.get("where") or "").strip() or None
    sort = (params.get("sort") or "").strip() or "-start_time"
    try:
        docs = tracker.runs(where=where, order_by=sort)
    except ExpressionError as exc:
        return {"rows": [], "total": 0, "page": 1, "pages": 1, "error": expression_error(exc)}
    page, size, pages = _page(params, len(docs))
    rows = [run_row(d) for d in docs[(page - 1) * size : page * size]]
    return {"rows": jsonable(rows), "total": len(docs), "page": page, "pages": pages, "size": size}


def series(tracker: Any, params: Mapping[str, str]) -> dict[str, Any]:
    rtype = (params.get("type") or "").strip() or None
    return {"rows": jsonable(tracker.series(rtype))}


class QueryCache:
    """``find`` results by (type, id, where, sort) for :data:`QUERY_TTL` seconds."""

    def __init__(self, ttl: float = QUERY_TTL, clock: Callable[[], float] = time.monotonic):
        self.ttl, self.clock = ttl, clock
        self._lock = threading.Lock()
        self._entries: dict[tuple[str, ...], tuple[float, list[dict[str, Any]]]] = {}

    def rows(self, tracker: Any, key: tuple[str, str, str, str]) -> list[dict[str, Any]]:
        now = self.clock()
        with self._lock:
            hit = self._entries.get(key)
            if hit is not None and now - hit[0] < self.ttl:
                return hit[1]
        rtype, rid, where, sort = key
        found = tracker.find(type=rtype, id=rid, where=where or None, order_by=sort or None)
        rows = list(found.rows)
        with self._lock:
            self._entries = {k: v for k, v in self._entries.items() if now - v[0] < self.ttl}
            self._entries[key] = (now, rows)
        return rows


def flat_version(info: Mapping[str, Any]) -> dict[str, Any]:
    """The row of a version as ``find`` gives it (``tags.<k>``, ``metadata.<k>``, ...)."""
    row = {k: info.get(k) for k in ("ref", "type", "id", "version", "run_id", "parent")}
    row["created_at"] = info.get("created_at")
    for section in ("tags", "metadata", "attrs"):
        for key, value in (info.get(section) or {}).items():
            row[f"{section}.{key}"] = value
    return row


def _default_order(sort: str) -> bool | None:
    """True for newest-first by version, False for oldest-first, None for anything else."""
    return {"": True, "-version": True, "version": False, "version asc": False}.get(sort.strip())


def versions(tracker: Any, params: Mapping[str, str], cache: QueryCache) -> dict[str, Any]:
    """One page of a series' versions: ``{columns, rows, total, page, pages, size, sort,
    error}``; ``rows`` are flat (``tags.<k>``...) with values as compact text."""
    rtype, rid = (params.get("type") or "").strip(), (params.get("id") or "").strip()
    if not rtype or not rid:
        raise InvalidArgument("versions needs type and id (e.g. type=model_version&id=titanic)")
    where = (params.get("where") or "").strip()
    sort = (params.get("sort") or "").strip() or "-version"
    newest_first = _default_order(sort)
    error = None
    if not where and newest_first is not None:
        total = _latest(tracker, rtype, rid)
        page, size, pages = _page(params, total)
        start = (page - 1) * size
        numbers = (
            range(total - start, max(total - start - size, 0), -1)
            if newest_first
            else range(start + 1, min(start + size, total) + 1)
        )
        rows = [flat_version(tracker.describe(Resource(rtype, rid, n).ref)) for n in numbers]
    else:
        try:
            found = cache.rows(tracker, (rtype, rid, where, sort))
        except ExpressionError as exc:
            found, error = [], expression_error(exc)
        total = len(found)
        page, size, pages = _page(params, total)
        rows = found[(page - 1) * size : page * size]
    columns = columns_of(rows)
    return {
        "type": rtype,
        "id": rid,
        "columns": columns,
        "rows": [{c: cell_value(row.get(c)) for c in columns if c in row} for row in rows],
        "total": total,
        "page": page,
        "pages": pages,
        "size": size,
        "sort": sort,
        "where": where,
        "error": error,
    }


def _latest(tracker: Any, rtype: str, rid: str) -> int:
    """The newest version number of one series (0 when there is none), without listing others."""
    try:
        found = tracker.get_resource(rid, rtype)
        return found.version if isinstance(found, Resource) else 0  # a Series: no version
    except ResourceNotFound:
        return 0


def columns_of(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """Identity first, then tags, metadata and attributes (each sorted) seen on the page."""
    seen: dict[str, None] = {}
    for row in rows:
        seen.update(dict.fromkeys(row))
    rest = sorted(c for c in seen if c.startswith(("tags.", "metadata.", "attrs.")))
    rest.sort(key=lambda c: ("tags.", "metadata.", "attrs.").index(c.split(".")[0] + "."))
    return [c for c in IDENTITY_COLUMNS if c in seen] + rest


def cell_value(value: Any) -> Any:
    """Numbers and booleans stay JSON values (sortable, alignable); the rest is compact text."""
    if value is None or (isinstance(value, bool | int | float) and not _nan(value)):
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return compact(value)


def _nan(value: Any) -> bool:
    return isinstance(value, float) and value != value


def version(tracker: Any, params: Mapping[str, str]) -> dict[str, Any]:
    """Everything about one version (``describe``), nested metadata kept nested, plus the
    flattened view for display."""
    ref = _ref(params)
    described = tracker.describe(ref)
    data = jsonable(described)
    data["flat"] = jsonable(
        {s: flatten(described.get(s) or {}) for s in ("tags", "metadata", "attrs")}
    )
    if hasattr(tracker, "get_metrics"):
        try:
            data["metrics"] = jsonable(tracker.get_metrics(ref))
        except TrackerError:
            data["metrics"] = {}
    return data


def _ref(params: Mapping[str, str]) -> str:
    ref = (params.get("ref") or "").strip()
    if not ref:
        raise InvalidArgument("give ref=type/id@version")
    return ref


def lineage(tracker: Any, params: Mapping[str, str]) -> dict[str, Any]:
    ref = _ref(params)
    depth = _int(params, "depth", 6, 0, 50)
    return {
        "ref": tracker.describe(ref)["ref"],
        "up": jsonable(tracker.lineage(ref, "up", depth)),
        "down": jsonable(tracker.lineage(ref, "down", depth)),
    }


def compare(tracker: Any, params: Mapping[str, str]) -> dict[str, Any]:
    refs = [r for r in (params.get("refs") or "").split(",") if r.strip()]
    if not refs:
        raise InvalidArgument("give refs=a,b (type/id@version or run ids) to compare")
    best = (params.get("best") or "").strip() or None
    result = tracker.compare(
        [r.strip() for r in refs],
        differences_only=params.get("diff") in ("1", "true"),
        best=[b for b in best.split(",") if b] if best else None,
    )
    data: dict[str, Any] = jsonable(result.to_dict())
    for row in data["rows"]:
        row["text"] = {k: compact(v) for k, v in row["values"].items()}
    return data


def metrics(tracker: Any, params: Mapping[str, str]) -> dict[str, Any]:
    """Curves of the selected versions: ``{available, message, series: [{ref, key, x, y}]}``,
    each reduced to at most :data:`MAX_POINTS` points (min and max of each bucket kept)."""
    if not hasattr(tracker, "metric_history"):
        return {"available": False, "message": NO_METRICS, "series": []}
    refs = [r.strip() for r in (params.get("refs") or "").split(",") if r.strip()]
    keys = [k.strip() for k in (params.get("keys") or "").split(",") if k.strip()] or None
    x_axis = params.get("x") or "step"
    if x_axis not in ("step", "time"):
        raise InvalidArgument(f"x must be 'step' or 'time', got {x_axis!r}")
    if not refs:
        return {"available": True, "message": "select versions to plot", "series": []}
    points: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for row in tracker.metric_history(refs, keys=keys):
        r = (
            row
            if isinstance(row, Mapping)
            else dict(
                zip(("ref", "run_id", "key", "step", "timestamp", "value"), row, strict=False)
            )
        )
        x = r.get("step") if x_axis == "step" else _seconds(r.get("timestamp"))
        y = r.get("value")
        if isinstance(x, int | float) and isinstance(y, int | float) and not _nan(y):
            points.setdefault((str(r["ref"]), str(r["key"])), []).append((float(x), float(y)))
    out = []
    for (ref, key), pts in sorted(points.items()):
        pts.sort()
        reduced = reduce_points(pts, MAX_POINTS)
        out.append(
            {
                "ref": ref,
                "key": key,
                "count": len(pts),
                "x": [p[0] for p in reduced],
                "y": [p[1] for p in reduced],
            }
        )
    return {"available": True, "message": "" if out else "no points", "series": out, "x": x_axis}


def _seconds(value: Any) -> float | None:
    if hasattr(value, "timestamp"):
        return float(value.timestamp())
    return float(value) if isinstance(value, int | float) else None


def reduce_points(points: Sequence[tuple[float, float]], limit: int) -> list[tuple[float, float]]:
    """At most ``limit`` points keeping each bucket's first, min and max (the shape survives)."""
    if len(points) <= limit:
        return list(points)
    buckets = max(1, limit // 3)
    step = len(points) / buckets
    out: list[tuple[float, float]] = []
    for b in range(buckets):
        chunk = points[int(b * step) : int((b + 1) * step)]
        if not chunk:
            continue
        picks = {0, min(range(len(chunk)), key=lambda i: chunk[i][1])}
        picks.add(max(range(len(chunk)), key=lambda i: chunk[i][1]))
        out += [chunk[i] for i in sorted(picks)]
    if out[-1] != points[-1]:
        out.append(points[-1])
    return out


# -- artifacts -----------------------------------------------------------------------------------
PREVIEW_MAX_BYTES = 20 * 1024 * 1024  # larger artifacts are not fetched for a preview
TEXT_PREVIEW_BYTES = 16 * 1024
CSV_PREVIEW_ROWS = 20
IMAGE = (".png", ".jpg", ".jpeg", ".gif", ".webp", ".svg", ".bmp")
HTML = (".html", ".htm")
CSV = (".csv", ".tsv")
TEXT = (".txt", ".json", ".yaml", ".yml", ".md", ".log", ".py", ".toml", ".ini", ".cfg", ".xml")


def preview_kind(name: str) -> str:
    lower = name.lower()
    for kind, suffixes in (("image", IMAGE), ("html", HTML), ("csv", CSV), ("text", TEXT)):
        if lower.endswith(suffixes):
            return kind
    return "none"


def artifact_files(tracker: Any, ref: str, artifact_id: str) -> tuple[str, list[str]]:
    """The verified local copy (``get_artifact``) and its files relative to it (``[""]`` for
    a single file)."""
    path = tracker.get_artifact(ref, artifact_id)
    if os.path.isdir(path):
        files = []
        for base, _dirs, names in os.walk(path):
            for name in names:
                files.append(os.path.relpath(os.path.join(base, name), path).replace(os.sep, "/"))
        return path, sorted(files)
    return path, [""]


def artifact_file(tracker: Any, ref: str, artifact_id: str, rel: str) -> str:
    """The local path of one file of an artifact; ``rel`` must be one of its files."""
    path, files = artifact_files(tracker, ref, artifact_id)
    if rel not in files:
        raise InvalidArgument(f"artifact {artifact_id!r} of {ref} has no file {rel!r}")
    return os.path.join(path, *rel.split("/")) if rel else path


def preview(tracker: Any, params: Mapping[str, str], url: Callable[[str], str]) -> dict[str, Any]:
    """What the version page shows of an artifact: ``{kind, files: [{name, url}], text | rows}``
    (``kind``: image, html, csv, text or none; ``url(rel)`` makes a file's link)."""
    ref, artifact_id = _ref(params), (params.get("id") or "").strip()
    manifest = (tracker.describe(ref).get("artifacts") or {}).get(artifact_id)
    if manifest is None:
        raise InvalidArgument(f"{ref} has no artifact {artifact_id!r}")
    size = manifest.get("size") or 0
    if size > PREVIEW_MAX_BYTES:
        return {"kind": "none", "files": [], "note": f"too large to preview ({size} bytes)"}
    path, files = artifact_files(tracker, ref, artifact_id)
    shown = [{"name": f or str(manifest.get("name")), "url": url(f)} for f in files[:200]]
    first = os.path.join(path, *files[0].split("/")) if files and files[0] else path
    name = files[0] if files and files[0] else str(manifest.get("name") or "")
    kind = preview_kind(name) if files else "none"
    out: dict[str, Any] = {"kind": kind, "files": shown, "name": name, "url": shown[0]["url"]}
    if kind in ("text", "csv"):
        with open(first, "rb") as fh:
            head = fh.read(TEXT_PREVIEW_BYTES).decode("utf-8", "replace")
        if kind == "csv":
            delimiter = "\t" if name.lower().endswith(".tsv") else ","
            lines = head.splitlines()[: CSV_PREVIEW_ROWS + 1]
            out["rows"] = list(csv.reader(io.StringIO("\n".join(lines)), delimiter=delimiter))
        else:
            out["text"] = "\n".join(head.splitlines()[:40])
    return out
