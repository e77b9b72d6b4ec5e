"""``tracker ls``, ``show`` and ``find``: resource series, one version in full, and queries.

``ls --json``: a list of ``{type, id, versions, latest_version, latest_ref, latest_created_at}``,
one per series (``versions`` is the count); ``--format csv`` has the same columns.

``show REF --json`` for a resource version: ``kind`` (``"resource"``), ``ref``, ``type``, ``id``,
``version``, ``run_id``, ``parent`` (a ref or null), ``created_at``, ``attrs``, ``tags``,
``metadata`` (objects), ``artifacts`` (``{artifact_id: {name, kind, size, files, sha256,
logged_at}}``, ``files`` being a count), ``children``, ``lineage`` (the versions it was trained on)
and ``used_by`` (lists of refs), ``metrics`` (``{key: {value, step, timestamp, count}}``: the
last point of each metric series and how many points it has). For a run id, see
:mod:`tracker.cli.runs`.

``find --json``: a list of flat objects, one per version: ``ref``, ``type``, ``id``, ``version``,
``run_id``, ``parent``, ``created_at``, then ``tags.<key>``, ``metadata.<key>`` and
``attrs.<key>`` for what each version has (the rows of ``Results.to_pandas()``); ``--format csv``
has every column, empty where a version lacks it.
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
    canonical_type,
    emit,
    is_run_ref,
    open_store,
    positive_int,
    resolve,
    union_columns,
)
from tracker.cli.runs import describe_run, run_text
from tracker.core.results import columns_of
from tracker.view import text

LS_COLUMNS = ["type", "id", "versions", "latest_version", "latest_ref", "latest_created_at"]
IDENTITY = ["ref", "type", "id", "version", "run_id", "parent", "created_at"]


FIND_EPILOG = f"""fields:
  ref, type, id, version, run_id, parent, created_at (every version has them);
  tags.<key>, metadata.<key> (nested: metadata.params.C), attrs.<key> (creation keywords,
  status and end_time once closed, run_status once its run ended)

{WHERE_LANGUAGE}
output: one row per version; --json and --format csv have the columns ref, type, id, version,
run_id, parent, created_at, then tags.<key>, metadata.<key>, attrs.<key>; --columns picks
columns by the same field names (nested ones too).

examples:
  tracker find --where "tags.status = 'DEPLOYED'"
  tracker find --type model_version --where "metadata.f1 >= 0.8" --order-by -version --limit 5
  tracker find --type experiment --columns ref,metadata.f1,metadata.params.C --format csv
"""
SHOW_EPILOG = """REF is type/id@version, type/id (the latest version), model/id (the latest
model_version), or a run id or a unique prefix of one (see `tracker runs`).

--json keys: for a version {kind: "resource", ref, type, id, version, run_id, parent,
created_at, attrs, tags, metadata, artifacts, children, lineage, used_by}; for a run {kind:
"run", id, name, status, start_time, end_time, duration_s, user, host, pid, cwd, argv, python,
platform, git, attrs, created}.

examples:
  tracker show model_version/titanic@2
  tracker show model/titanic --json
  tracker show 20261126T1053                   a run, by a prefix of its id
"""
LS_EPILOG = """--json keys: a list of {type, id, versions, latest_version, latest_ref,
latest_created_at}; --format csv has the same columns.

examples:
  tracker ls
  tracker ls model_version
"""


def register(sub: Any) -> None:
    ls = add_command(
        sub,
        "ls",
        run_ls,
        "list resource series with their latest version",
        output=(TABLE, JSON, CSV),
        epilog=LS_EPILOG,
        json_keys="see below",
    )
    ls.add_argument("type", nargs="?", metavar="TYPE", help="only this type (e.g. model_version)")

    show = add_command(
        sub,
        "show",
        run_show,
        "show a resource version (identity, attributes, tags, metadata, artifacts, links) or a run",
        epilog=SHOW_EPILOG,
        json_keys="see below",
    )
    show.add_argument(
        "ref", metavar="REF", help="type/id@version, type/id for the latest version, or a run id"
    )

    find = add_command(
        sub,
        "find",
        run_find,
        "find resource versions matching an expression",
        output=(TABLE, JSON, CSV),
        epilog=FIND_EPILOG,
        json_keys="a list of flat rows, see below",
    )
    find.add_argument(
        "--where", metavar="EXPR", help="e.g. \"tags.status = 'DEPLOYED' and metadata.f1 >= 0.8\""
    )
    find.add_argument("--type", metavar="TYPE", help="only versions of this type")
    find.add_argument("--id", metavar="ID", help="only versions of series with this id")
    find.add_argument("--order-by", metavar="FIELDS", help="e.g. '-version' or 'metadata.f1 desc'")
    find.add_argument("--limit", type=positive_int, metavar="N", help="at most N versions")
    find.add_argument(
        "--columns", metavar="A,B", help="columns to show, e.g. ref,metadata.f1 (default: all)"
    )


# -- ls ------------------------------------------------------------------------------------------
def run_ls(args: argparse.Namespace) -> int:
    tracker = open_store(args)
    rows = tracker.series(canonical_type(args.type) if args.type else None)

    def table() -> str:
        what = f"of type {args.type!r} " if args.type else ""
        return text.table(
            ["TYPE", "ID", "LATEST", "VERSIONS", "CREATED (UTC)"],
            [
                [
                    r["type"],
                    r["id"],
                    r["latest_version"],
                    r["versions"],
                    text.human_time(r["latest_created_at"]),
                ]
                for r in rows
            ],
            empty=f"no resources {what}in {tracker.url}",
            keep=2,
        )

    return emit(args, rows, table, LS_COLUMNS, rows)


# -- show ----------------------------------------------------------------------------------------
def run_show(args: argparse.Namespace) -> int:
    tracker = open_store(args)
    if is_run_ref(args.ref):
        run = describe_run(tracker, args.ref)
        return emit(args, run, lambda: run_text(run))
    res = resolve(tracker, args.ref)
    info = {"kind": "resource", **tracker.describe(res)}
    info["metrics"] = tracker.metric_summary(res)  # {key: {value, step, timestamp, count}}
    return emit(args, info, lambda: resource_text(info))


def resource_text(info: dict[str, Any]) -> str:
    identity = {
        "type": info["type"],
        "id": info["id"],
        "version": info["version"],
        "run": info["run_id"],
        "created (UTC)": text.human_time(info["created_at"]),
        "parent": info["parent"],
    }
    artifacts = text.table(
        ["  ID", "NAME", "KIND", "FILES", "SIZE", "SHA256"],
        [
            [
                "  " + aid,
                a.get("name"),
                a.get("kind"),
                a.get("files"),
                text.human_size(a.get("size")),
                str(a.get("sha256") or "-")[:12],
            ]
            for aid, a in info["artifacts"].items()
        ],
        empty="  (none)",
        hint="use --json for every column, or a wider terminal",
    )
    lineage_note = text.prose(
        f"{len(info['lineage'])} upstream, {len(info['used_by'])} downstream, "
        f"{len(info['children'])} children: see `tracker lineage {info['ref']}`"
    )
    parts = [
        text.section(info["ref"], identity),
        text.section("attributes", info["attrs"]),
        text.section("tags", info["tags"]),
        text.section("metadata", info["metadata"]),
        text.section(
            "metrics (last value)",
            {
                k: f"{m['value']!r}  (step {m['step']}, {m['count']} points)"
                for k, m in info.get("metrics", {}).items()
            },
        ),
        f"artifacts\n{artifacts}",
        text.listing("children", info["children"]),
        text.listing("trained on", info["lineage"]),
        text.listing("used by", info["used_by"]),
        f"lineage\n{lineage_note}",
    ]
    return "\n\n".join(parts)


# -- find ----------------------------------------------------------------------------------------
def run_find(args: argparse.Namespace) -> int:
    tracker = open_store(args)
    results = tracker.find(
        type=canonical_type(args.type) if args.type else None,
        id=args.id,
        where=args.where,
        order_by=args.order_by,
        limit=args.limit,
    )
    rows = results.rows
    if args.columns:
        columns = [c.strip() for c in args.columns.split(",") if c.strip()]
        rows = columns_of(rows, columns)
    else:
        columns = union_columns(rows, IDENTITY)

    def table() -> str:
        shown = columns if args.columns else _table_columns(columns)
        return text.table(
            [c.upper() if "." not in c else c for c in shown],
            [[row.get(c) for c in shown] for row in rows],
            empty="no resource versions match",
            hint="choose them with --columns A,B, use --json or --format csv, or widen the "
            "terminal",
        )

    return emit(args, rows, table, columns, rows)


def _table_columns(columns: list[str]) -> list[str]:
    """For a terminal: the ref, when it was created, then tags and metadata (attrs are noise)."""
    return ["ref", "created_at"] + [c for c in columns if c.startswith(("tags.", "metadata."))]
