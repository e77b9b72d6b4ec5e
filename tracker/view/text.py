"""Plain-text rendering for terminals: value formatting, aligned tables, sections and trees.

Everything returns strings (no printing), so the CLI decides where output goes and tests can
compare it. No colours and no terminal queries: output piped to a file looks the same.
"""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

MAX_CELL = 48  # a wider cell is cut with an ellipsis so one long value cannot wreck a table
_UNITS = ("B", "KB", "MB", "GB", "TB")


def human_size(size: Any) -> str:
    """``1536`` -> ``1.5 KB``; anything that is not a number is shown as ``-``."""
    if not isinstance(size, int | float) or isinstance(size, bool):
        return "-"
    value = float(size)
    for unit in _UNITS:
        if value < 1024 or unit == _UNITS[-1]:
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TB"  # pragma: no cover - the loop always returns


def human_time(value: Any) -> str:
    """A datetime to the second, in UTC (the store's timezone), e.g. ``2026-11-26 10:53:16``."""
    if isinstance(value, _dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(_dt.timezone.utc)
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return "-" if value is None else str(value)


def human_duration(seconds: float | None) -> str:
    """``3725.2`` -> ``1h02m05s``; short ones keep their precision (``2.5s``, ``40ms``)."""
    if seconds is None:
        return "-"
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    if seconds < 10:
        return f"{seconds:.1f}s"
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m{secs:02d}s"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"


def plain(value: Any) -> str:
    """One value as readable text: scalars as themselves, containers as compact JSON."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, _dt.datetime):
        return human_time(value)
    if isinstance(value, _dt.date):
        return value.isoformat()
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return repr(value) if isinstance(value, float) else str(value)
    if isinstance(value, dict | list | tuple):
        try:
            return json.dumps(value, default=str, ensure_ascii=False, sort_keys=True)
        except (TypeError, ValueError):  # mixed key types cannot be sorted
            return str(value)
    return str(value)


def cut(text: str, width: int = MAX_CELL) -> str:
    """One line of at most ``width`` characters (newlines shown as ``⏎``)."""
    text = text.replace("\r\n", "\n").replace("\n", "⏎").replace("\t", " ")
    return text if len(text) <= width else text[: width - 1] + "…"


def table(columns: Sequence[str], rows: Iterable[Sequence[Any]], empty: str = "") -> str:
    """An aligned table with a header row; values go through :func:`plain` and :func:`cut`."""
    cells = [[cut(plain(v)) for v in row] for row in rows]
    if not cells:
        return empty
    widths = [len(c) for c in columns]
    for row in cells:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=False)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=False)).rstrip()]
    for row in cells:
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=False)).rstrip())
    return "\n".join(lines)


def section(title: str, items: Mapping[str, Any], indent: str = "  ") -> str:
    """``title`` then one aligned ``key  value`` line per item (``(none)`` when empty)."""
    if not items:
        return f"{title}\n{indent}(none)"
    width = min(max(len(str(k)) for k in items), 32)
    lines = [title]
    for key, value in items.items():
        text = value if isinstance(value, str) else plain(value)
        lines.append(f"{indent}{str(key).ljust(width)}  {cut(text, 100)}")
    return "\n".join(lines)


def listing(title: str, refs: Sequence[str], indent: str = "  ") -> str:
    """``title (n)`` then one ref per line."""
    if not refs:
        return f"{title}\n{indent}(none)"
    return "\n".join([f"{title} ({len(refs)})", *(f"{indent}{r}" for r in refs)])


RELATIONS = {"parent": "parent", "trained_on": "trained on", "child": "child", "used_by": "used by"}


def tree(node: Mapping[str, Any]) -> str:
    """A lineage tree (``{"ref", "relation", "links"}``) drawn with box-drawing characters."""
    lines = [str(node.get("ref"))]

    def walk(links: Sequence[Mapping[str, Any]], prefix: str) -> None:
        for i, link in enumerate(links):
            last = i == len(links) - 1
            relation = RELATIONS.get(str(link.get("relation")), str(link.get("relation")))
            lines.append(f"{prefix}{'└── ' if last else '├── '}{relation}: {link.get('ref')}")
            walk(link.get("links") or [], prefix + ("    " if last else "│   "))

    walk(node.get("links") or [], "")
    return "\n".join(lines)
