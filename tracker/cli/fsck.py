"""``tracker fsck``: check a store file by file; ``--repair`` removes only provable garbage.

Exit code 0 when the store is clean (after repairs, with ``--repair``), 1 when problems remain.
``--json``: ``{root, ok, files, problems, repaired}``, each problem ``{path, kind, detail,
repairable}`` with ``path`` relative to the root. See :mod:`tracker.core.check` for the kinds.
"""

from __future__ import annotations

import argparse
from typing import Any

from tracker.cli.common import add_command, emit, open_store
from tracker.core.check import GRACE_SECONDS, Problem, Report


def register(sub: Any) -> None:
    parser = add_command(
        sub,
        "fsck",
        run_fsck,
        "check every file of the store; --repair removes leftover garbage",
        description=(
            "Check that every YAML file parses (safe loader), identities match their paths, "
            "pointers resolve and artifacts match their sha256, and find leftover temp files. "
            "Exit code 0 when clean, 1 when problems remain. --repair removes only provable "
            "garbage (temp files of dead writers, dangling pointers, broken HEAD hints, artifact "
            "copies no manifest references), never a key, a resource or an artifact in use; it "
            "finishes a deletion, restore or gc a crash cut short (or rolls back a deletion that "
            "had not hidden its version yet) and moves files left in a deleted version into its "
            "trash entry."
        ),
    )
    parser.add_argument(
        "--repair", action="store_true", help="remove what is provably garbage, then report"
    )
    parser.add_argument(
        "--no-verify",
        dest="verify",
        action="store_false",
        help="compare artifact sizes only, without hashing every artifact",
    )
    parser.add_argument(
        "--grace",
        type=_seconds,
        default=GRACE_SECONDS,
        metavar="SECONDS",
        help=(
            "unreferenced artifact copies and temp files younger than this may belong to a "
            f"write in progress and are kept (default {GRACE_SECONDS:.0f}); use 0 only when "
            "nothing writes to the store"
        ),
    )


def _seconds(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not seconds >= 0:  # also refuses nan
        raise argparse.ArgumentTypeError(f"expected a number of seconds >= 0, got {value!r}")
    return seconds


def run_fsck(args: argparse.Namespace) -> int:
    tracker = open_store(args)
    report = tracker.check(repair=args.repair, verify=args.verify, grace=args.grace)
    data = {"root": tracker.url, **report.as_dict()}
    emit(args, data, lambda: render(tracker.url, report, args.repair))
    return 0 if report.ok else 1


def render(url: str, report: Report, repaired: bool) -> str:
    lines = [f"checked {report.files} files in {url}"]
    if report.repaired:
        lines.append(f"repaired ({len(report.repaired)}):")
        lines += _rows(report.repaired)
    if report.problems:
        lines.append(f"problems ({len(report.problems)}):")
        lines += _rows(report.problems)
        if not repaired and any(p.repairable for p in report.problems):
            lines.append("problems marked [repairable] are garbage: `tracker fsck --repair`")
    else:
        lines.append("ok: no problems")
    return "\n".join(lines)


def _rows(problems: list[Problem]) -> list[str]:
    width = max(len(p.kind) for p in problems)
    return [
        f"  {p.kind:<{width}}  {p.path}\n  {'':<{width}}  {p.detail}"
        + (" [repairable]" if p.repairable else "")
        for p in problems
    ]
