"""``tracker artifacts REF`` lists a version's artifacts; ``tracker get REF ID`` fetches one.

``artifacts --json``: a list of ``{id, name, kind, files, size, sha256, logged_at, run_id,
contents}`` (``kind`` is ``file`` or ``dir``, ``files`` a count, ``size`` in bytes, ``contents`` a
list of ``{path, size, sha256}``); ``--format csv`` has every column but ``contents``.

``get --json``: ``{ref, artifact_id, path}``, ``path`` being a verified local path: inside the
store for a local store, in the download cache for a remote one, or under ``--dest DIR``. Without
``--json`` only the path is printed, so ``cat "$(tracker get REF ID)"`` works.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from tracker.cli.common import CSV, JSON, TABLE, add_command, emit, open_store, resolve
from tracker.view import text

COLUMNS = ["id", "name", "kind", "files", "size", "sha256", "logged_at", "run_id"]


def register(sub: Any) -> None:
    arts = add_command(
        sub,
        "artifacts",
        run_artifacts,
        "list the artifacts of a resource version",
        output=(TABLE, JSON, CSV),
    )
    arts.add_argument("ref", metavar="REF", help="type/id@version, or type/id for the latest")

    get = add_command(
        sub, "get", run_get, "print a verified local path to an artifact (copied with --dest)"
    )
    get.add_argument("ref", metavar="REF", help="type/id@version, or type/id for the latest")
    get.add_argument("artifact_id", metavar="ARTIFACT_ID", help="see `tracker artifacts REF`")
    get.add_argument(
        "--dest",
        metavar="DIR",
        help="copy the artifact into this directory (created only once the copy succeeds)",
    )
    get.add_argument(
        "--force",
        action="store_true",
        help="replace an existing DIR/<name> (only once the new copy is complete and verified)",
    )


def artifact_row(aid: str, manifest: dict[str, Any]) -> dict[str, Any]:
    files = manifest.get("files") or []
    return {
        "id": aid,
        "name": manifest.get("name"),
        "kind": manifest.get("kind"),
        "files": len(files),
        "size": manifest.get("size"),
        "sha256": manifest.get("sha256"),
        "logged_at": manifest.get("logged_at"),
        "run_id": manifest.get("run_id"),
        "contents": [
            {"path": f.get("path"), "size": f.get("size"), "sha256": f.get("sha256")}
            for f in files
            if isinstance(f, dict)
        ],
    }


def run_artifacts(args: argparse.Namespace) -> int:
    tracker = open_store(args)
    ref = resolve(tracker, args.ref).ref
    rows = [artifact_row(aid, m) for aid, m in sorted(tracker.artifacts(ref).items())]

    def table() -> str:
        return text.table(
            ["ID", "NAME", "KIND", "FILES", "SIZE", "SHA256", "LOGGED (UTC)"],
            [
                [
                    r["id"],
                    r["name"],
                    r["kind"],
                    r["files"],
                    text.human_size(r["size"]),
                    str(r["sha256"] or "-")[:12],
                    text.human_time(r["logged_at"]),
                ]
                for r in rows
            ],
            empty=f"{ref} has no artifacts",
        )

    return emit(args, rows, table, COLUMNS, rows)


def run_get(args: argparse.Namespace) -> int:
    tracker = open_store(args)
    ref = resolve(tracker, args.ref).ref
    path = tracker.get_artifact(ref, args.artifact_id, dest=args.dest, overwrite=args.force)
    if args.dest is None and tracker.is_local and path.startswith(tracker.url):
        sys.stderr.write(
            "tracker: note: this is the store's own copy (verified); do not modify it, use "
            "--dest DIR for a copy of your own\n"
        )
    data = {"ref": ref, "artifact_id": args.artifact_id, "path": path}
    return emit(args, data, lambda: path)
