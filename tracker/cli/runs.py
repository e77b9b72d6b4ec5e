"""``tracker runs``: the runs of a store, newest first; and the run view of ``tracker show RUN_ID``.

``runs --json`` writes a list of objects with the keys ``id``, ``name``, ``status``,
``start_time``, ``end_time`` (ISO 8601 or null), ``duration_s`` (seconds, null while unknown),
``user``, ``host``, ``git_commit`` (full hexsha or null), ``git_branch``, ``git_dirty`` (bool or
null) and ``git_remote``; ``--format csv`` has the same columns.

``show RUN_ID --json`` writes one object: ``kind`` (``"run"``), ``id``, ``name``, ``status``,
``start_time``, ``end_time``, ``duration_s``, ``user``, ``host``, ``pid``, ``cwd``, ``argv``,
``python``, ``platform``, ``git`` (``{hexsha, branch, dirty, remote}`` or null), ``attrs`` and
``created`` (the refs of the resource versions the run created).
"""

from __future__ import annotations

import argparse
from typing import Any

from tracker.cli.common import (
    CSV,
    JSON,
    TABLE,
    WHERE_LANGUAGE,
    add_command,
    emit,
    open_store,
    positive_int,
    resolve_run_id,
)
from tracker.core.fields import RUNS
from tracker.core.runs import run_record
from tracker.core.tracker import Tracker
from tracker.view import text

# the table's columns: the run fields up to git_remote (the rest, pid .. platform, are in the
# JSON and CSV output and in --where); one list of fields, core.fields.RUNS
COLUMNS = list(RUNS.scalars[: RUNS.scalars.index("git_remote") + 1])


RUNS_EPILOG = f"""fields (the same names in --where, --order-by, the JSON and CSV output):
  {", ".join(COLUMNS)},
  pid, cwd, argv, python, platform, attrs.<key>
  status is RUNNING, FINISHED, FAILED or CRASHED (RUNNING whose process is gone).

{WHERE_LANGUAGE}
examples:
  tracker runs --where "status = 'FAILED'"
  tracker runs --where "git_dirty = true and duration_s > 60" --order-by -duration_s
  tracker runs --where "name = 'train.py'" --limit 5 --json
"""


def register(sub: Any) -> None:
    parser = add_command(
        sub,
        "runs",
        run_runs,
        "list the runs (tracker sessions), newest first",
        output=(TABLE, JSON, CSV),
        epilog=RUNS_EPILOG,
        json_keys="a list of objects with the fields listed below",
    )
    parser.add_argument("--where", metavar="EXPR", help="filter, e.g. \"status = 'FAILED'\"")
    parser.add_argument(
        "--order-by",
        default="-start_time",
        metavar="FIELDS",
        help="order, e.g. -duration_s or 'name, -start_time' (default: -start_time)",
    )
    parser.add_argument("--limit", type=positive_int, metavar="N", help="at most N runs")


def run_row(doc: dict[str, Any]) -> dict[str, Any]:
    """The output row of a run: the query fields of :func:`tracker.core.runs.run_record` that
    ``runs`` prints and writes as JSON/CSV."""
    record = run_record(doc)
    return {k: record[k] for k in COLUMNS}


def _git(doc: dict[str, Any]) -> dict[str, Any]:
    git = doc.get("git")
    return git if isinstance(git, dict) else {}


def short_commit(row: dict[str, Any]) -> str:
    return str(row["git_commit"])[:8] if row.get("git_commit") else "-"


def dirty_flag(row: dict[str, Any]) -> str:
    """``dirty`` when the work tree had uncommitted changes: the commit alone does not say what
    code ran."""
    dirty = row.get("git_dirty")
    return "-" if dirty is None else ("dirty" if dirty else "clean")


def run_runs(args: argparse.Namespace) -> int:
    tracker = open_store(args)
    found = tracker.runs(where=args.where, order_by=args.order_by, limit=args.limit)
    rows = [run_row(doc) for doc in found]

    def table() -> str:
        return text.table(
            ["RUN", "NAME", "STATUS", "START (UTC)", "DURATION", "COMMIT", "GIT"],
            [
                [
                    r["id"],
                    r["name"],
                    r["status"],
                    text.human_time(r["start_time"]),
                    text.human_duration(r["duration_s"]),
                    short_commit(r),
                    dirty_flag(r),
                ]
                for r in rows
            ],
            empty="no runs match" if args.where else f"no runs in {tracker.url}",
        )

    return emit(args, rows, table, COLUMNS, rows)


# -- tracker show RUN_ID ---------------------------------------------------------------------------
def describe_run(tracker: Tracker, run_id: str) -> dict[str, Any]:
    """``run_id`` may be a unique prefix (``tracker show 20261126T1053``)."""
    doc = tracker.run(resolve_run_id(tracker, run_id))
    git = _git(doc)
    row = run_row(doc)
    return {
        "kind": "run",
        **{k: row[k] for k in ("id", "name", "status", "start_time", "end_time", "duration_s")},
        **{k: row[k] for k in ("user", "host")},
        "pid": doc.get("pid"),
        "cwd": doc.get("cwd"),
        "argv": doc.get("argv"),
        "python": doc.get("python"),
        "platform": doc.get("platform"),
        "git": {k: git.get(k) for k in ("hexsha", "branch", "dirty", "remote")} if git else None,
        "attrs": doc.get("attrs") or {},
        "created": doc["created"],
    }


def run_text(info: dict[str, Any]) -> str:
    git = info.get("git") or {}
    identity = {
        "name": info["name"],
        "status": info["status"],
        "start (UTC)": text.human_time(info["start_time"]),
        "end (UTC)": text.human_time(info["end_time"]),
        "duration": text.human_duration(info["duration_s"]),
        "user@host": f"{info['user'] or '-'}@{info['host'] or '-'}",
        "cwd": info["cwd"],
        "command": " ".join(str(a) for a in info.get("argv") or []) or "-",
        "python": info["python"],
    }
    git_view = (
        {
            "commit": git.get("hexsha") or "-",
            "branch": git.get("branch") or "-",
            "dirty": git.get("dirty"),
            "remote": git.get("remote") or "-",
        }
        if git
        else {}
    )
    attrs = {k: v for k, v in info["attrs"].items() if k not in ("status", "end_time")}
    parts = [
        text.section(f"run {info['id']}", identity),
        text.section("git", git_view) if git_view else "git\n  (not recorded: no repository)",
        text.section("attributes", attrs),
        text.listing("created", info["created"]),
    ]
    return "\n\n".join(parts)
