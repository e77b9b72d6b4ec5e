"""HTML for notebooks: what ``Resource._repr_html_`` and ``Results._repr_html_`` return.

Display is data-only: it shows what the object holds and never reads the store (a notebook
redraws cells at will; a display must not cost reads nor show something newer than the value).
A ``Resource`` shows its identity plus its ``info`` (tags, metadata, metrics, attrs) when the call
that returned it had read them (``find``); otherwise a one-line hint, ``t.describe(ref)``.

Every user string passes through :func:`html.escape` exactly once, at the point where it enters
the markup (:func:`_cell`), so a tag value ``<script>`` shows as text and nothing is escaped twice.
Displaying cannot fail on the store, since it never touches it.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from typing import Any

from tracker.core.resource import INFO_KINDS
from tracker.view.text import plain

MAX_ROWS = 500  # beyond this a notebook cell becomes unusable; to_pandas() has everything
_STYLE = "border-collapse:collapse;text-align:left"


def _cell(value: Any, tag: str = "td") -> str:
    return f"<{tag}>{html.escape(plain(value))}</{tag}>"


def _header(title: str) -> str:
    return f'<tr><th colspan="2" style="text-align:left">{html.escape(title)}</th></tr>'


def _pairs(items: Mapping[str, Any]) -> Iterable[str]:
    for key, value in items.items():
        yield f"<tr>{_cell(key)}{_cell(value)}</tr>"


def resource_html(resource: Any) -> str:
    """A two-column table: the version's identity, then what it carries in ``info`` (tags,
    metadata, metrics, attrs), or a hint to ``describe`` it when it carries nothing."""
    identity = {
        "ref": resource.ref,
        "type": resource.type,
        "id": resource.id,
        "version": resource.version,
        "run_id": resource.run_id,
        "parent": resource.parent,
    }
    rows = [_header("resource"), *_pairs(identity)]
    info = getattr(resource, "info", None)
    if info is None:
        rows.append(_note(f"tags and metadata: t.describe({resource.ref!r})"))
    else:
        for title in INFO_KINDS:
            if title == "metrics" and not info.get(title):
                continue  # most versions have none: no empty section
            rows.append(_header(title))
            rows += list(_pairs(info.get(title) or {})) or [_note("-")]
    return f'<table class="tracker-resource" style="{_STYLE}">{"".join(rows)}</table>'


def series_html(series: Any) -> str:
    """A series names no version: its ref and how to see what it resolves to."""
    rows = [
        _header("series"),
        *_pairs({"ref": series.ref, "type": series.type, "id": series.id}),
        _note(f"newest version: t.describe({series.ref!r})"),
    ]
    return f'<table class="tracker-resource" style="{_STYLE}">{"".join(rows)}</table>'


def _note(text: str) -> str:
    return f'<tr><td colspan="2">{html.escape(text)}</td></tr>'


def results_html(results: Any) -> str:
    """One row per result from ``results.rows``; columns are every key, in first-seen order."""
    rows: list[Mapping[str, Any]] = list(getattr(results, "rows", None) or [])
    kind = str(getattr(results, "kind", "results"))
    columns: dict[str, None] = {}
    for row in rows:
        columns.update(dict.fromkeys(row))
    shown = rows[:MAX_ROWS]
    head = "".join(_cell(c, "th") for c in columns)
    body = ["<tr>" + "".join(_cell(row.get(c)) for c in columns) + "</tr>" for row in shown]
    noun = kind[:-1] if len(rows) == 1 and kind.endswith("s") else kind
    caption = f"{len(rows)} {noun}"
    if len(rows) > len(shown):
        caption += f" (first {len(shown)} shown; use .to_pandas() for all)"
    return (
        f'<table class="tracker-results" style="{_STYLE}">'
        f"<caption>{html.escape(caption)}</caption>"
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
    )


_BEST = "font-weight:bold;background:#e6f4ea"
_DIFF = "background:#fff8e1"


def comparison_html(result: Any) -> str:
    """The compare table: a row per field, a column per version; differing rows shaded, the
    best value bold (with a ★ so it survives copying as text)."""
    from tracker.core.compare import compact

    head = _cell("key", "th") + "".join(_cell(c, "th") for c in result.columns)
    body = []
    for row in result.rows[:MAX_ROWS]:
        cells = [_cell(row.key)]
        for i, (value, present) in enumerate(zip(row.values, row.present, strict=True)):
            text = compact(value) if present else "(absent)"
            if i in row.best:
                cells.append(f'<td style="{_BEST}">{html.escape(text)} ★</td>')
            else:
                cells.append(_cell(text))
        style = f' style="{_DIFF}"' if row.differs and not result.differences_only else ""
        body.append(f"<tr{style}>{''.join(cells)}</tr>")
    caption = f"{len(result.columns)} compared, {len(result.rows)} rows"
    if result.differences_only:
        caption += " (differences only)"
    if len(result.rows) > MAX_ROWS:
        caption += f" (first {MAX_ROWS} shown; use .to_pandas() for all)"
    return (
        f'<table class="tracker-compare" style="{_STYLE}">'
        f"<caption>{html.escape(caption)}</caption>"
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
    )


_RELATIONS = {
    "parent": "parent",
    "trained_on": "trained on",
    "child": "child",
    "used_by": "used by",
}


def _relation(link: Mapping[str, Any]) -> str:
    name = str(link.get("relation"))
    return _RELATIONS.get(name, name)


def lineage_html(node: Mapping[str, Any]) -> str:
    """A lineage tree (``{ref, relation, links}``) as nested lists, each link labelled."""

    def walk(item: Mapping[str, Any]) -> str:
        links = item.get("links") or []
        inner = "".join(
            f'<li><span style="color:#666">{html.escape(_relation(link))}:</span> {walk(link)}</li>'
            for link in links
        )
        ref = f"<code>{html.escape(str(item.get('ref')))}</code>"
        return ref + (f"<ul>{inner}</ul>" if inner else "")

    return f'<div class="tracker-lineage">{walk(node)}</div>'
