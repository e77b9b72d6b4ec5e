"""Plain-text rendering for terminals: value formatting, aligned tables, sections and trees.

Everything returns strings (no printing), so the CLI decides where output goes and tests can
compare it. No colours. Tables and sections fit the terminal (:func:`terminal_width`): on a
terminal, long cells are cut with an ellipsis and columns that still do not fit are left out with
a note saying which and how to see them; output piped to a file or program is never cut.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import shutil
import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

MAX_CELL = 48  # on a terminal, a wider cell is cut so one long value cannot wreck a table
MIN_CELL = 10  # cells are not cut below this to make room; columns are left out instead
GAP = "  "
AUTO = -1  # width argument: ask :func:`terminal_width`
HINT = "use --json or --format csv for every column, or a wider terminal"
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


def terminal_width() -> int | None:
    """Columns of the terminal stdout writes to; None when it is piped (nothing is cut then).

    ``TRACKER_WIDTH`` forces a width (``0``: never cut), for scripts and tests."""
    forced = os.environ.get("TRACKER_WIDTH", "").strip()
    if forced.isdigit():
        return int(forced) or None
    try:
        if not sys.stdout.isatty():
            return None
    except (AttributeError, ValueError):  # a closed or replaced stdout
        return None
    return max(shutil.get_terminal_size().columns, 20)


def _resolve_width(width: int | None) -> int | None:
    return terminal_width() if width == AUTO else width


def _line(cells: Sequence[str], widths: Sequence[int]) -> str:
    return GAP.join(c.ljust(w) for c, w in zip(cells, widths, strict=False)).rstrip()


def table(
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    empty: str = "",
    *,
    width: int | None = AUTO,
    keep: int = 1,
    hint: str = HINT,
) -> str:
    """An aligned table with a header row; values go through :func:`plain`.

    With a ``width`` (default: the terminal's; None: unlimited) cells are cut to
    :data:`MAX_CELL`, then wide columns are cut down to :data:`MIN_CELL`, then columns are left
    out from the right, never the first ``keep`` (the identifying ones); a last line then says
    how many were left out, which, and ``hint``."""
    limit = _resolve_width(width)
    texts = [[plain(v).replace("\r\n", "\n") for v in row] for row in rows]
    if not texts:
        return empty
    header = [str(c) for c in columns]
    if limit is None:
        cells = [[c.replace("\n", "⏎").replace("\t", " ") for c in row] for row in texts]
        widths = _widths(header, cells)
        return "\n".join(_line(r, widths) for r in [header, *cells])
    cells = [[cut(c) for c in row] for row in texts]
    widths = _widths(header, cells)
    shown = list(range(len(header)))

    def total() -> int:
        return sum(widths[i] for i in shown) + len(GAP) * (len(shown) - 1)

    kept = max(keep, 1)

    def shrink(candidates: Sequence[int]) -> None:
        while total() > limit:  # cut the widest column that can still give up characters
            cuttable = [i for i in candidates if widths[i] > max(MIN_CELL, len(header[i]))]
            if not cuttable:
                return
            widest = max(cuttable, key=lambda i: widths[i])
            floor = max(MIN_CELL, len(header[widest]))
            widths[widest] -= min(widths[widest] - floor, total() - limit)

    shrink([i for i in shown if i >= kept])
    while total() > limit and len(shown) > kept:
        shown.pop()
    shrink(shown)
    left_out = [header[i] for i in range(len(header)) if i not in shown]
    out_widths = [widths[i] for i in shown]
    lines = [_line([cut(header[i], widths[i]) for i in shown], out_widths)]
    for row in cells:
        lines.append(_line([cut(row[i], widths[i]) for i in shown], out_widths))
    if left_out:
        names = ", ".join(n.strip() or "?" for n in left_out)
        lines.append(
            f"({len(left_out)} column{'s' * (len(left_out) > 1)} left out: {names}; {hint})"
        )
    return "\n".join(lines)


def _widths(header: Sequence[str], cells: Sequence[Sequence[str]]) -> list[int]:
    widths = [len(c) for c in header]
    for row in cells:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=False)]
    return widths


def section(
    title: str, items: Mapping[str, Any], indent: str = "  ", *, width: int | None = AUTO
) -> str:
    """``title`` then one aligned ``key  value`` line per item (``(none)`` when empty); on a
    terminal a value is cut to the line's width."""
    if not items:
        return f"{title}\n{indent}(none)"
    limit = _resolve_width(width)
    key_width = min(max(len(str(k)) for k in items), 32)
    room = None if limit is None else max(limit - len(indent) - key_width - 2, MIN_CELL)
    lines = [title]
    for key, value in items.items():
        text = value if isinstance(value, str) else plain(value)
        text = text.replace("\r\n", "\n").replace("\n", "⏎") if room is None else cut(text, room)
        lines.append(f"{indent}{str(key).ljust(key_width)}  {text}".rstrip())
    return "\n".join(lines)


def prose(text: str, indent: str = "  ", *, width: int | None = AUTO) -> str:
    """A note wrapped at word boundaries to the terminal (never cut: it may hold a command)."""
    import textwrap

    limit = _resolve_width(width)
    if limit is None:
        return indent + text
    return textwrap.fill(
        text, limit, initial_indent=indent, subsequent_indent=indent, break_long_words=False
    )


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
