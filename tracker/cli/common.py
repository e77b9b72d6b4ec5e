"""What every command shares: opening a store read-only, resolving refs, and writing output.

Read commands open the store through :func:`open_store`, which refuses a root without
``tracker.yaml`` (so a typo in ``--root`` is reported instead of showing an empty store) and a store
of a newer format, and never writes: the core creates a run only on the first write.

Output goes through :func:`emit`: a text table for people, ``--json`` (datetimes as ISO 8601
strings, bytes as base64) or ``--format csv`` (containers as compact JSON, missing values empty)
for programs.
"""

from __future__ import annotations

import argparse
import base64
import csv
import datetime as _dt
import json
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from tracker.core.context import default_root
from tracker.core.resource import MODEL, MODEL_VERSION, Resource, parse_ref
from tracker.core.tracker import Tracker
from tracker.errors import TrackerError

Handler = Callable[[argparse.Namespace], int]
TABLE, JSON, CSV = "table", "json", "csv"


class CliError(TrackerError):
    """A user-facing error the CLI raises itself (printed as one line, exit code 1)."""


# -- registering commands ------------------------------------------------------------------------
def root_option() -> argparse.ArgumentParser:
    """A parent parser so ``--root`` also works after the command (``tracker show X --root R``).

    ``SUPPRESS`` keeps a subcommand from overwriting a ``--root`` given before the command.
    """
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument(
        "--root",
        default=argparse.SUPPRESS,
        metavar="URL",
        help="store root: a directory or fsspec URL (default: $TRACKER_ROOT, else ./.tracker)",
    )
    return parent


def add_command(
    sub: Any,
    name: str,
    handler: Handler,
    help: str,
    *,
    output: Sequence[str] = (TABLE, JSON),
    description: str | None = None,
) -> argparse.ArgumentParser:
    """Add subcommand ``name`` running ``handler``; ``output`` lists the formats it can write."""
    parser: argparse.ArgumentParser = sub.add_parser(
        name, help=help, description=description or help, parents=[root_option()]
    )
    if JSON in output:
        parser.add_argument(
            "--json",
            dest="format",
            action="store_const",
            const=JSON,
            help="write JSON (the keys are listed in the README)",
        )
    if len(output) > 1:
        parser.add_argument("--format", choices=list(output), default=TABLE, help="output format")
    parser.set_defaults(handler=handler, format=TABLE)
    return parser


# -- the store -----------------------------------------------------------------------------------
def root_of(args: argparse.Namespace) -> str:
    return str(getattr(args, "root", None) or default_root())


def open_store(args: argparse.Namespace) -> Tracker:
    """A tracker on an existing store, for reading only (it creates no run and writes nothing)."""
    tracker = Tracker(root_of(args), git=False)
    tracker.require_store()  # StoreNotFound, or StoreFormatError for a newer store
    return tracker


def canonical_type(rtype: str) -> str:
    """``model`` names the series of ``model_version``s (as ``get_resource(type="model")``)."""
    return MODEL_VERSION if rtype == MODEL else rtype


def canonical_ref(ref: str) -> str:
    """``model/X`` -> ``model_version/X``; any other ref unchanged."""
    rtype, sep, rest = ref.partition("/")
    return f"{canonical_type(rtype)}{sep}{rest}"


def resolve(tracker: Tracker, ref: str) -> Resource:
    """The version ``ref`` names (``type/id`` and ``model/id``: the latest), through the API."""
    rtype, rid, version = parse_ref(canonical_ref(ref))
    found: Resource = tracker.get_resource(rid, rtype, version=version)
    return found


def is_run_ref(ref: str) -> bool:
    """Run ids never hold ``/``; resource refs always do."""
    return "/" not in ref


# -- output --------------------------------------------------------------------------------------
def jsonable(value: Any) -> Any:
    """Plain JSON data: ISO datetimes, base64 bytes, string keys, sets as sorted lists."""
    if isinstance(value, _dt.datetime | _dt.date):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, Mapping):
        return {str(jsonable(k)): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted((jsonable(v) for v in value), key=str)
    if isinstance(value, float) and value != value:  # NaN is not JSON
        return None
    return value


def csv_cell(value: Any) -> str:
    if value is None:
        return ""
    value = jsonable(value)
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def write(text: str) -> None:
    """Write ``text`` and a final newline; a terminal that cannot show a character (the tree's
    box drawing on a legacy code page) gets ``?`` rather than an error."""
    text = text if text.endswith("\n") or not text else text + "\n"
    try:
        sys.stdout.write(text)
    except UnicodeEncodeError:
        encoding = getattr(sys.stdout, "encoding", None) or "ascii"
        sys.stdout.write(text.encode(encoding, "replace").decode(encoding))


def emit(
    args: argparse.Namespace,
    data: Any,
    text: Callable[[], str],
    columns: Sequence[str] | None = None,
    rows: Iterable[Mapping[str, Any]] | None = None,
) -> int:
    """Write ``data`` as JSON, ``rows`` as CSV over ``columns``, or ``text()`` for a terminal."""
    fmt = getattr(args, "format", TABLE)
    if fmt == JSON:
        json.dump(jsonable(data), sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
    elif fmt == CSV:
        assert columns is not None and rows is not None, "a CSV command must pass columns and rows"
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow([csv_cell(row.get(c)) for c in columns])
    else:
        write(text())
    return 0


def union_columns(rows: Iterable[Mapping[str, Any]], first: Sequence[str] = ()) -> list[str]:
    """``first`` (those present), then every other key of ``rows`` sorted."""
    seen: dict[str, None] = {}
    for row in rows:
        seen.update(dict.fromkeys(row))
    return [c for c in first if c in seen] + sorted(c for c in seen if c not in first)
