"""``tracker compare REF REF ... | --where EXPR``: versions (or runs) side by side.

One column per version or run, one row per flattened field (``tags.x``, ``metadata.params.C``,
``attrs.x``, ``artifacts.<id>.sha256``); only the rows that differ unless ``--all``; ``--best
KEY=max`` (or ``--best max`` for every numeric row) marks the best value of a row with ``*``.

``--json``: ``{columns, differences_only, rows: [{key, values: {column: value}, differs, best:
[column, ...]}]}`` (a column without the key is left out of ``values``). ``--format csv``: the
columns ``key``, one per version or run, ``differs`` and ``best`` (space-separated columns).
"""

from __future__ import annotations

import argparse
from typing import Any

from tracker.cli.common import (
    CSV,
    JSON,
    TABLE,
    CliError,
    add_command,
    canonical_ref,
    canonical_type,
    emit,
    is_run_ref,
    open_store,
    resolve,
)
from tracker.core.compare import Comparison, compact
from tracker.view import text

BEST_MARK = "*"


def register(sub: Any) -> None:
    parser = add_command(
        sub,
        "compare",
        run_compare,
        "compare versions or runs side by side (one column each)",
        output=(TABLE, JSON, CSV),
    )
    parser.add_argument(
        "refs", nargs="*", metavar="REF", help="type/id@version, type/id (the latest), or run id"
    )
    parser.add_argument("--where", metavar="EXPR", help="compare the versions matching EXPR")
    parser.add_argument("--type", metavar="TYPE", help="with --where: only versions of this type")
    parser.add_argument(
        "--limit", type=int, default=20, metavar="N", help="with --where: at most N (default 20)"
    )
    parser.add_argument("--all", action="store_true", help="show equal rows too")
    parser.add_argument(
        "--columns",
        metavar="KEYS",
        help="only these rows: keys or dotted prefixes, e.g. metadata,tags.status",
    )
    parser.add_argument(
        "--best",
        action="append",
        metavar="[KEY=]max|min",
        help="mark the best value: 'max' for every numeric row, or 'metadata.loss=min' "
        "(repeatable)",
    )


def run_compare(args: argparse.Namespace) -> int:
    tracker = open_store(args)
    if bool(args.refs) == bool(args.where):
        raise CliError(
            "give the versions to compare as REFs (e.g. model_version/titanic@1 "
            "model_version/titanic@2) or select them with --where EXPR, not both"
        )
    items: list[Any]
    if args.where:
        items = list(
            tracker.find(
                type=canonical_type(args.type) if args.type else None,
                where=args.where,
                order_by="-created_at",
                limit=args.limit,
            )
        )
        if not items:
            raise CliError(f"no resource versions match {args.where!r}; nothing to compare")
    else:
        items = [r if is_run_ref(r) else resolve(tracker, canonical_ref(r)) for r in args.refs]
    keys = [k.strip() for k in (args.columns or "").split(",") if k.strip()] or None
    result = tracker.compare(items, differences_only=not args.all, best=args.best, keys=keys)
    return emit(
        args,
        result.to_dict(),
        lambda: comparison_text(result),
        result.csv_columns(),
        result.csv_rows(),
    )


def comparison_text(result: Comparison) -> str:
    """KEY then one column per version; ``*`` after the best value of a row."""
    if not result.rows:
        what = "the same values" if result.differences_only else "no fields"
        return f"{', '.join(result.columns)} have {what}" + (
            " (--all shows them)" if result.differences_only else ""
        )
    body = []
    for row in result.rows:
        cells: list[Any] = [row.key]
        for i, (value, present) in enumerate(zip(row.values, row.present, strict=True)):
            shown = compact(value) if present else "(absent)"
            cells.append(f"{shown} {BEST_MARK}" if i in row.best else shown)
        body.append(cells)
    table = text.table(
        ["KEY", *result.columns],
        body,
        hint="name fewer versions, choose rows with --columns, use --json or --format csv, or "
        "widen the terminal",
    )
    notes = []
    if result.directions:
        notes.append(f"{BEST_MARK} best value ({_directions(result.directions)})")
    if result.differences_only:
        notes.append("differences only (--all shows equal rows)")
    return table + ("\n" + "; ".join(notes) if notes else "")


def _directions(directions: dict[str, str]) -> str:
    return ", ".join(
        f"{'numeric rows' if k == '*' else k}: {v}" for k, v in sorted(directions.items())
    )
