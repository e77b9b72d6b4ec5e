"""``tracker rm``, ``restore``, ``trash`` and ``gc``: deletion into the store's trash area.

``rm REF...`` moves versions (``type/id@N``) and runs (a run id; ``--with-versions`` also the
versions it created) to the trash; ``restore REF|RUN|TRASH_ID...`` brings them back; ``trash``
lists what is there; ``gc --older-than 30d`` empties it of older entries for good. Each of the
write commands is a run of its own (named ``tracker rm`` etc., so it shows in ``tracker runs``),
checks every argument before the first change, and opens only an existing store.

``--json``: ``rm``, ``restore``, ``gc`` and ``trash`` write a list of trash entries ``{id, kind,
ref, state, deleted_at, run_id, group, files}`` (``run_id``: the run that deleted it; ``group``:
the entries one command deleted together; ``files``: how many files it moved).
"""

from __future__ import annotations

import argparse
from typing import Any

from tracker.cli.common import (
    CSV,
    JSON,
    TABLE,
    add_command,
    canonical_ref,
    emit,
    is_run_ref,
    resolve_run_id,
)
from tracker.cli.common import open_store as open_read_only
from tracker.cli.write import writer
from tracker.core.deleting import SUMMARY
from tracker.core.trash import parse_duration
from tracker.view import text

COLUMNS = [*SUMMARY, "files"]
JSON_KEYS = "a list of {id, kind, ref, state, deleted_at, run_id, group, files}"
RM_EPILOG = """examples:
  tracker rm model_version/titanic@3                   one version (type/id alone is refused)
  tracker rm dataset_version/a@1 dataset_version/a@2   several: all checked before the first
  tracker rm 20261204T041505Z-8bc907 --with-versions   a run (or a unique prefix of its id) and
                                                       the versions it created

a deleted version is invisible to show, find, ls and the lifecycle lookups, its number is never
reused, and the pointers to it (parent's children, lineage) go to the trash with it.
"""
RESTORE_EPILOG = """examples:
  tracker restore model_version/titanic@3
  tracker restore 20261204T041505Z-8bc907              a run, with the versions deleted with it
  tracker restore 20261204T041505Z-5cef9d1d            a trash id (see `tracker trash`)
"""
TRASH_EPILOG = """examples:
  tracker trash                    what is there, oldest first
  tracker trash --json             for programs (keys: see --json)

states: deleted; deleting, restoring or purging while a command is at work, or after one
crashed (`tracker fsck --repair` finishes it).
"""
GC_EPILOG = """examples:
  tracker gc                       entries deleted more than 30 days ago
  tracker gc --older-than 12h      AGE: <number><d|h|m|s>, or seconds
  tracker gc --older-than 0s       everything in the trash

purged versions stay deleted (their numbers are never reused) and cannot be restored.
"""


def register(sub: Any) -> None:
    rm = add_command(
        sub,
        "rm",
        run_rm,
        "move resource versions or runs to the trash (restorable until `tracker gc`)",
        description=(
            "Move resource versions (type/id@N) or runs (a run id) to the store's trash. A "
            "deleted version is invisible to show, find, ls and lifecycle lookups, and its number "
            "is never reused; `tracker restore` brings it back until `tracker gc` empties the "
            "trash. Every REF is checked before anything is deleted."
        ),
        epilog=RM_EPILOG,
        json_keys=JSON_KEYS,
    )
    rm.add_argument("refs", nargs="+", metavar="REF", help="type/id@version, or a run id")
    rm.add_argument(
        "--with-versions",
        action="store_true",
        help="for a run: also delete every resource version it created",
    )
    restore = add_command(
        sub,
        "restore",
        run_restore,
        "bring back deleted versions or runs from the trash",
        description=(
            "Restore what `tracker rm` moved to the trash: a version ref (type/id@N), a run id "
            "(with the versions deleted along with it) or a trash id (see `tracker trash`)."
        ),
        epilog=RESTORE_EPILOG,
        json_keys=JSON_KEYS,
    )
    restore.add_argument("targets", nargs="+", metavar="REF", help="type/id@N, run id or trash id")
    add_command(
        sub,
        "trash",
        run_trash,
        "list what is in the trash, oldest first",
        output=(TABLE, JSON, CSV),
        epilog=TRASH_EPILOG,
        json_keys=JSON_KEYS,
    )
    gc = add_command(
        sub,
        "gc",
        run_gc,
        "empty the trash of entries older than --older-than (for good)",
        description=(
            "Remove for good the trash entries deleted more than AGE ago. Purged versions stay "
            "deleted and keep their numbers; they can no longer be restored."
        ),
        epilog=GC_EPILOG,
        json_keys=JSON_KEYS,
    )
    gc.add_argument(
        "--older-than",
        default="30d",
        metavar="AGE",
        help="e.g. 30d, 12h, 90m, 45s (default 30d; 0s empties the whole trash)",
    )


def run_rm(args: argparse.Namespace) -> int:
    tracker = writer(args)  # an existing store only; its run is named `tracker rm`
    refs = [resolve_run_id(tracker, r) if is_run_ref(r) else canonical_ref(r) for r in args.refs]
    for ref in refs:  # every argument checked before the first deletion
        tracker.check_delete(ref)
    out: list[dict[str, Any]] = []
    with tracker:
        for ref in refs:
            if is_run_ref(ref):
                out += tracker.delete_run(ref, with_versions=args.with_versions)
            else:
                out.append(tracker.delete_resource(ref))
    return emit(args, out, lambda: _done("deleted", out, hint=True))


def run_restore(args: argparse.Namespace) -> int:
    tracker = writer(args)
    targets = [t if is_run_ref(t) else canonical_ref(t) for t in args.targets]
    for target in targets:
        tracker.check_restore(target)
    out: list[dict[str, Any]] = []
    with tracker:
        for target in targets:
            out += tracker.restore(target)
    return emit(args, out, lambda: _done("restored", out))


def run_trash(args: argparse.Namespace) -> int:
    tracker = open_read_only(args)
    rows = tracker.trash()

    def table() -> str:
        return text.table(
            ["TRASH ID", "KIND", "REF", "STATE", "DELETED (UTC)", "FILES", "BY RUN"],
            [
                [
                    r["id"],
                    r["kind"],
                    r["ref"],
                    r["state"],
                    text.human_time(r["deleted_at"]),
                    r["files"],
                    r["run_id"],
                ]
                for r in rows
            ],
            empty=f"the trash of {tracker.url} is empty",
        )

    return emit(args, rows, table, COLUMNS, rows)


def run_gc(args: argparse.Namespace) -> int:
    parse_duration(args.older_than)  # a bad age is refused before the run starts
    tracker = writer(args)
    with tracker:
        out = tracker.gc(older_than=args.older_than)
    return emit(args, out, lambda: _done("purged", out, empty="nothing to purge"))


def _done(verb: str, rows: list[dict[str, Any]], hint: bool = False, empty: str = "") -> str:
    if not rows:
        return empty or f"nothing {verb}"
    lines = [f"{verb} {r['kind']} {r['ref']} (trash {r['id']}, {r['files']} files)" for r in rows]
    if hint:
        lines.append("undo with `tracker restore REF`; `tracker trash` lists what is there")
    return "\n".join(lines)
