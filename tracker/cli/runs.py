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
import datetime as _dt
from typing import Any

from tracker.cli.common import CSV, JSON, TABLE, add_command, emit, open_store
from tracker.core.items import now
from tracker.core.runs import RUNNING
from tracker.core.tracker import Tracker
from tracker.errors import ResourceNotFound
from tracker.view import text

COLUMNS = [
    "id",
    "name",
    "status",
    "start_time",
    "end_time",
    "duration_s",
    "user",
    "host",
    "git_commit",
    "git_branch",
    "git_dirty",
    "git_remote",
]


def register(sub: Any) -> None:
    parser = add_command(
        sub,
        "runs",
        run_runs,
        "list the runs (tracker sessions), newest first",
        output=(TABLE, JSON, CSV),
    )
    parser.add_argument("--where", metavar="EXPR", help="filter, e.g. \"status = 'FAILED'\"")
    parser.add_argument("--limit", type=int, metavar="N", help="at most N runs")


def duration(doc: dict[str, Any]) -> float | None:
    """Seconds from start to end; for a run still RUNNING, up to now."""
    start, end = doc.get("start_time"), doc.get("end_time")
    if end is None and doc.get("status") == RUNNING:
        end = now()
    if isinstance(start, _dt.datetime) and isinstance(end, _dt.datetime):
        try:
            return round((end - start).total_seconds(), 3)
        except TypeError:  # one naive, one aware: a hand-edited file
            return None
    return None


def _git(doc: dict[str, Any]) -> dict[str, Any]:
    git = doc.get("git")
    return git if isinstance(git, dict) else {}


def run_row(doc: dict[str, Any]) -> dict[str, Any]:
    git = _git(doc)
    return {
        "id": doc.get("id"),
        "name": doc.get("name"),
        "status": doc.get("status"),
        "start_time": doc.get("start_time"),
        "end_time": doc.get("end_time"),
        "duration_s": duration(doc),
        "user": doc.get("user"),
        "host": doc.get("host"),
        "git_commit": git.get("hexsha"),
        "git_branch": git.get("branch"),
        "git_dirty": git.get("dirty"),
        "git_remote": git.get("remote"),
    }


def short_commit(row: dict[str, Any]) -> str:
    return str(row["git_commit"])[:8] if row.get("git_commit") else "-"


def dirty_flag(row: dict[str, Any]) -> str:
    """``dirty`` when the work tree had uncommitted changes: the commit alone does not say what
    code ran."""
    dirty = row.get("git_dirty")
    return "-" if dirty is None else ("dirty" if dirty else "clean")


def run_runs(args: argparse.Namespace) -> int:
    tracker = open_store(args)
    rows = [run_row(doc) for doc in tracker.runs(where=args.where, limit=args.limit)]

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
            empty=f"no runs in {tracker.url}",
        )

    return emit(args, rows, table, COLUMNS, rows)


# -- tracker show RUN_ID ---------------------------------------------------------------------------
def describe_run(tracker: Tracker, run_id: str) -> dict[str, Any]:
    try:
        doc = tracker.run(run_id)
    except ResourceNotFound:
        raise ResourceNotFound(
            f"no run {run_id!r} in {tracker.url}; give a run id (see `tracker runs`) or a resource "
            "ref: type/id@version, or type/id for the latest version (see `tracker ls`)"
        ) from None
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
