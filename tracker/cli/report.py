"""``tracker report --out DIR [--where EXPR] [REFS...]``: static HTML pages of chosen versions.

The same pages as ``tracker ui`` (see :mod:`tracker.ui.report`), as files that open from
``file://`` with no server; ``--json`` writes ``{out, index, versions, artifacts, truncated}``
(``truncated``: more versions matched than a report holds, 2,000).
"""

from __future__ import annotations

import argparse
from typing import Any

from tracker.cli.common import add_command, canonical_ref, emit, open_store, resolve
from tracker.ui.report import write_report


def register(sub: Any) -> None:
    parser = add_command(
        sub, "report", run_report, "write static HTML pages of versions (opens from file://)"
    )
    parser.add_argument("refs", nargs="*", metavar="REF", help="versions to include")
    parser.add_argument("--out", required=True, metavar="DIR", help="directory to write")
    parser.add_argument(
        "--where", metavar="EXPR", help="include the versions matching EXPR (default: all)"
    )


def run_report(args: argparse.Namespace) -> int:
    tracker = open_store(args)
    refs = [resolve(tracker, canonical_ref(r)).ref for r in args.refs]
    done = write_report(tracker, args.out, refs, args.where)
    return emit(
        args,
        done,
        lambda: (
            f"wrote {done['index']} ({done['versions']} versions, {done['artifacts']} "
            f"artifacts copied); open it in a browser"
            + (
                f"\nonly the first {done['versions']} versions: choose them with --where or REFs"
                if done["truncated"]
                else ""
            )
        ),
    )
