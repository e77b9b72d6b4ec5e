"""``tracker report``: the pages of ``tracker ui`` as static files that open from ``file://``.

The report is the same single page (``index.html``, ``static/``) plus ``data.js``, which sets
``window.TRACKER_REPORT`` to the API's answers for the chosen versions (every run, every series,
each chosen version's page, lineage and previews, and one comparison of them all). The page then
pages, sorts and compares in the browser; filtering with ``where`` needs the server, so the report
holds what ``--where`` selected when it was written. Artifacts up to :data:`COPY_MAX_BYTES` are
copied next to it (``artifacts/<sha256>/<name>``) for previews and downloads. It reads the store
only; it writes only under ``out``.
"""

from __future__ import annotations

import json
import os
import shutil
import urllib.parse
from collections.abc import Sequence
from typing import Any

from tracker.cli.common import jsonable
from tracker.errors import InvalidArgument
from tracker.ui import api
from tracker.ui.server import static_dir

COPY_MAX_BYTES = 50 * 1024 * 1024  # per artifact
MAX_VERSIONS = 2000
MARKER = "<!--REPORT-DATA-->"


def _select(tracker: Any, refs: Sequence[str], where: str | None) -> list[str]:
    if refs and where:
        raise InvalidArgument("give REFs or --where, not both")
    if refs:
        return [str(tracker.describe(r)["ref"]) for r in refs]
    found = tracker.find(where=where or None, order_by="type, id, -version", limit=MAX_VERSIONS)
    return [r.ref for r in found]


def write_report(
    tracker: Any, out: str, refs: Sequence[str] = (), where: str | None = None
) -> dict[str, Any]:
    """Write the report into ``out`` (created; an existing report there is replaced); returns
    ``{out, index, versions, artifacts}``."""
    chosen = _select(tracker, refs, where)
    if not chosen:
        raise InvalidArgument(f"no resource versions match {where!r}; nothing to report")
    os.makedirs(out, exist_ok=True)
    static_out = os.path.join(out, "static")
    if os.path.isdir(static_out):
        shutil.rmtree(static_out)
    shutil.copytree(static_dir(), static_out, ignore=shutil.ignore_patterns("index.html"))
    data: dict[str, Any] = {
        "info": api.info(tracker),
        "series": api.series(tracker, {})["rows"],
        "runs": jsonable([api.run_row(d) for d in tracker.runs()]),
        "versions": {},
        "columns": {},
        "version": {},
        "lineage": {},
        "previews": {},
    }
    copied = 0
    for ref in chosen:
        page = api.version(tracker, {"ref": ref})
        data["version"][ref] = page
        data["lineage"][ref] = api.lineage(tracker, {"ref": ref})
        series_key = f"{page['type']}/{page['id']}"
        row = api.flat_version(page)
        data["versions"].setdefault(series_key, []).append(
            {k: api.cell_value(v) for k, v in row.items()}
        )
        for aid, art in (page.get("artifacts") or {}).items():
            preview, n = _preview(tracker, out, ref, aid, art)
            data["previews"][f"{ref}\0{aid}"] = preview
            copied += n
    for key, rows in data["versions"].items():
        data["columns"][key] = api.columns_of(rows)
    data["compare"] = api.compare(tracker, {"refs": ",".join(chosen)})
    data["metrics"] = api.metrics(tracker, {"refs": ",".join(chosen)})
    payload = json.dumps(jsonable(data), ensure_ascii=True, allow_nan=False)
    payload = payload.replace("</", "<\\/")  # no "</script>" can end the script early
    with open(os.path.join(out, "data.js"), "w", encoding="utf-8") as fh:
        fh.write(f"window.TRACKER_REPORT = {payload};\n")
    with open(os.path.join(static_dir(), "index.html"), encoding="utf-8") as fh:
        page_html = fh.read().replace(MARKER, '<script src="data.js"></script>')
    index = os.path.join(out, "index.html")
    with open(index, "w", encoding="utf-8") as fh:
        fh.write(page_html)
    return {
        "out": out,
        "index": index,
        "versions": len(chosen),
        "artifacts": copied,
        "truncated": not refs and len(chosen) >= MAX_VERSIONS,
    }


def _preview(
    tracker: Any, out: str, ref: str, aid: str, art: dict[str, Any]
) -> tuple[dict[str, Any], int]:
    """The preview of one artifact with links into the report's copy (none above the limit)."""
    size = art.get("size") or 0
    if size > COPY_MAX_BYTES:
        note = f"not copied into the report ({size} bytes); `tracker get {ref} {aid}`"
        return {"kind": "none", "files": [], "note": note}, 0
    sha = str(art.get("sha256") or "nohash")[:16]
    base = f"artifacts/{sha}-{_safe(aid)}"

    def url(rel: str) -> str:
        name = rel or str(art.get("name") or aid)
        return base + "/" + "/".join(urllib.parse.quote(_safe(p)) for p in name.split("/"))

    preview = api.preview(tracker, {"ref": ref, "id": aid}, url)
    path, files = api.artifact_files(tracker, ref, aid)
    for rel in files:
        src = os.path.join(path, *rel.split("/")) if rel else path
        name = rel or str(art.get("name") or aid)
        dest = os.path.join(out, *base.split("/"), *(_safe(p) for p in name.split("/")))
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        shutil.copyfile(src, dest)
    return preview, 1


def _safe(name: str) -> str:
    """One path segment that stays inside its directory."""
    cleaned = "".join(c if c.isalnum() or c in "-_." else "_" for c in name).lstrip(".")
    return cleaned or "_"
