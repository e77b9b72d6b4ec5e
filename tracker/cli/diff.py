"""``tracker diff REF REF``: attributes, tags and metadata of two versions side by side.

Only what differs unless ``--all``. ``--json``: ``{left, right, rows}`` where ``left``/``right``
are the resolved refs and each row is ``{section, key, left, right, change}``: ``section`` is
``attrs``, ``tags`` or ``metadata``, nested values are compared key by key (``key`` is the
dotted path, ``params.C``, as in ``where`` and ``--columns``); ``change`` is ``same``,
``changed``, ``added`` (only on the right) or ``removed`` (only on the left), the missing side
being null. Datetimes are shown to the microsecond, so a change is always visible.
"""

from __future__ import annotations

import argparse
import datetime as _dt
from collections.abc import Mapping
from typing import Any

from tracker.cli.common import add_command, emit, open_store, resolve
from tracker.core.exprtree import render_path
from tracker.store.paths import KEY_KINDS
from tracker.view import text

SECTIONS = KEY_KINDS  # tags, metadata, attrs: the key-file kinds of the layout table
_MARK = {"same": " ", "changed": "~", "added": "+", "removed": "-"}


def register(sub: Any) -> None:
    parser = add_command(
        sub, "diff", run_diff, "compare the attributes, tags and metadata of two versions"
    )
    parser.add_argument("left", metavar="REF", help="type/id@version, or type/id for the latest")
    parser.add_argument("right", metavar="REF", help="the version to compare it with")
    parser.add_argument("--all", action="store_true", help="show equal values too")


def compare(left: dict[str, Any], right: dict[str, Any], everything: bool) -> list[dict[str, Any]]:
    """One row per key of each section in either version (equal ones only with ``everything``)."""
    rows = []
    for section in SECTIONS:
        a, b = flatten(left.get(section) or {}), flatten(right.get(section) or {})
        for key in sorted(set(a) | set(b), key=str):
            if key not in b:
                change = "removed"
            elif key not in a:
                change = "added"
            else:
                change = "same" if _equal(a[key], b[key]) else "changed"
            if change != "same" or everything:
                rows.append(
                    {
                        "section": section,
                        "key": key,
                        "left": a.get(key),
                        "right": b.get(key),
                        "change": change,
                    }
                )
    return rows


def flatten(values: Mapping[str, Any], prefix: tuple[str, ...] = ()) -> dict[str, Any]:
    """Nested mappings as dotted keys (``params.C``), the paths ``where`` and ``--columns`` use
    (``metadata.params.C``); an empty mapping stays one value."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        path = (*prefix, str(key))
        if isinstance(value, Mapping) and value:
            out.update(flatten(value, path))
        else:
            out[render_path(path)] = value
    return out


def _equal(a: Any, b: Any) -> bool:
    """Equal values of one type; ``1 == 1.0`` counts as equal but ``True == 1`` does not."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    return type(a) is type(b) and a == b


def _shown(value: Any) -> Any:
    """Datetimes in full (microseconds, UTC): two that differ never look the same."""
    if isinstance(value, _dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(_dt.timezone.utc)
        return value.isoformat(sep=" ", timespec="microseconds")
    return value


def run_diff(args: argparse.Namespace) -> int:
    tracker = open_store(args)
    left = tracker.describe(resolve(tracker, args.left))
    right = tracker.describe(resolve(tracker, args.right))
    rows = compare(left, right, args.all)
    data = {"left": left["ref"], "right": right["ref"], "rows": rows}

    def table() -> str:
        if not rows:
            return f"{left['ref']} and {right['ref']} have the same attributes, tags and metadata"
        return text.table(
            ["", "SECTION", "KEY", left["ref"], right["ref"]],
            [
                [
                    _MARK[r["change"]],
                    r["section"],
                    r["key"],
                    "(absent)" if r["change"] == "added" else _shown(r["left"]),
                    "(absent)" if r["change"] == "removed" else _shown(r["right"]),
                ]
                for r in rows
            ],
            keep=3,
            hint="use --json for every column, or a wider terminal",
        )

    return emit(args, data, table)
