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
import difflib
import json
import re
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, NoReturn

from tracker.core.fields import did_you_mean
from tracker.core.resource import MODEL, MODEL_VERSION, Resource, parse_ref
from tracker.core.tracker import Tracker
from tracker.errors import InvalidRef, ResourceNotFound, TrackerError
from tracker.store.discovery import default_root

Handler = Callable[[argparse.Namespace], int]
TABLE, JSON, CSV = "table", "json", "csv"


ROOT_HELP = (
    "store root: a directory or fsspec URL (default: $TRACKER_ROOT, else the nearest .tracker/ "
    "in the working directory or a parent, else ./.tracker)"
)
# options whose value may start with '-' (``--order-by -version``): main() joins them with '='
VALUE_OPTIONS = frozenset({"--order-by", "--where"})


class CliError(TrackerError):
    """A user-facing error the CLI raises itself (printed as one line, exit code 1)."""


class UsageError(Exception):
    """A command line argparse refused; its text is the one line to print (exit code 2)."""


class CliParser(argparse.ArgumentParser):
    """argparse with one-line usage errors: ``tracker runs: error: ...; see tracker runs --help``
    instead of the whole usage (subcommand parsers inherit the class)."""

    def error(self, message: str) -> NoReturn:
        choice = re.match(r"argument COMMAND: invalid choice: '([^']*)'", message)
        if choice:
            commands = sorted(self._commands())
            hint = did_you_mean(difflib.get_close_matches(choice.group(1), commands, n=2))
            message = f"unknown command {choice.group(1)!r}{hint}"
        text = " ".join(message.split())
        raise UsageError(f"{self.prog}: error: {text}; see {self.prog} --help")

    def _commands(self) -> list[str]:
        for action in self._actions:
            if isinstance(action, argparse._SubParsersAction):
                return list(action.choices)
        return []

    def command_parser(self, name: str) -> CliParser | None:
        for action in self._actions:
            if isinstance(action, argparse._SubParsersAction):
                found = action.choices.get(name)
                return found if isinstance(found, CliParser) else None
        return None


WHERE_LANGUAGE = """the where language (strings always in quotes; never run as Python):
  compare     = != < <= > >=       e.g. metadata.f1 >= 0.8, tags.status = 'DEPLOYED'
  membership  in (...), not in (...)      e.g. tags.stage in ('prod', 'canary')
  presence    FIELD exists                e.g. tags.status exists
  combine     and, or, not, ( )
  values      'text' or "text", numbers, true, false, null
  fields      nested with dots (metadata.params.C); quote odd names with backticks:
              tags.`my.key`
  types are strict: 0.8 and '0.8' differ; a date field compares with an ISO text
  ('2026-01-31'); an unknown field is an error, a key no record has a warning.
order-by: comma-separated fields, each FIELD, -FIELD or FIELD asc|desc
  (e.g. -version, 'metadata.f1 desc, id'); absent values come last.
"""


# --help epilogs of the commands that do not pass their own (keys of --json, examples)
EPILOGS: dict[str, str] = {
    "import": """--json keys: {mlruns, root, dry_run, created, updated, unchanged, metric_points,
artifact_files, artifact_bytes, skipped: [{path, reason}], notes, ok}.

examples:
  tracker import mlflow ./mlruns --dry-run          what would come in, nothing written
  tracker import mlflow ./mlruns                    everything (run again: only what is new)
  tracker import mlflow ./mlruns --experiment churn --no-copy
""",
    "export": """--json keys: {out, experiments, runs, model_versions, skipped} (mlflow).

examples:
  tracker export mlflow --out ./mlruns-out          MLflow's client and UI read it
""",
    "compare": """--json keys: {columns, differences_only, rows: [{key, values, differs, best}]}.

examples:
  tracker compare experiment/xgb@1 experiment/rf@1
  tracker compare --where "metadata.f1 >= 0.8" --type experiment --best metadata.f1=max
""",
    "ui": """The app binds to 127.0.0.1 unless --host is given, reads the store only and loads
nothing from outside the machine.

examples:
  tracker ui                                        prints the URL to open
  tracker --root s3://bucket/store ui --port 8765
""",
    "report": """examples:
  tracker report --out report/ model_version/titanic@1 model_version/titanic@2
  tracker report --out report/ --where "tags.status = 'DEPLOYED'"
""",
    "lineage": """--json keys: {ref, up, down}, each a tree of {ref, relation, links} or null.

examples:
  tracker lineage model_version/titanic@2 --up       what it was trained on
  tracker lineage dataset_version/titanic --down --depth 2
""",
    "diff": """--json keys: {left, right, rows: [{section, key, left, right, change}]}, change one
of same, changed, added, removed; nested values compare key by key (key params.C).

examples:
  tracker diff model_version/titanic@1 model_version/titanic@2
  tracker diff model/titanic experiment/rf@1 --all --json
""",
    "artifacts": """--json keys: a list of {id, name, kind, files, size, sha256, logged_at, run_id,
contents}; --format csv has the scalar columns.

examples:
  tracker artifacts model_version/titanic@2
""",
    "get": """--json keys: {ref, artifact_id, path}.

examples:
  tracker get model_version/titanic@2 model
  tracker get experiment/rf model --dest ./models
""",
    "fsck": """--json keys: {ok, files, problems, repaired}; exit code 0 when clean, 1 otherwise.

examples:
  tracker fsck
  tracker fsck --repair --grace 0          when nothing writes to the store
""",
    "demo": """examples:
  tracker demo                          into the store found as usual (./.tracker)
  tracker demo --root ./demo-store && tracker --root ./demo-store runs
""",
}


def positive_int(text: str) -> int:
    """argparse type for ``--limit``/``--depth``: a whole number >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a positive whole number, got {text!r}"
        ) from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {text!r}")
    return value


# -- registering commands ------------------------------------------------------------------------
def root_option() -> argparse.ArgumentParser:
    """A parent parser so ``--root`` also works after the command (``tracker show X --root R``).

    ``SUPPRESS`` keeps a subcommand from overwriting a ``--root`` given before the command.
    """
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument("--root", default=argparse.SUPPRESS, metavar="URL", help=ROOT_HELP)
    return parent


def add_command(
    sub: Any,
    name: str,
    handler: Handler,
    help: str,
    *,
    output: Sequence[str] = (TABLE, JSON),
    description: str | None = None,
    epilog: str | None = None,
    json_keys: str | None = None,
) -> argparse.ArgumentParser:
    """Add subcommand ``name`` running ``handler``; ``output`` lists the formats it can write,
    ``epilog`` (examples, keys) is shown after the options by ``--help``."""
    parser: argparse.ArgumentParser = sub.add_parser(
        name,
        help=help,
        description=description or help,
        epilog=epilog or EPILOGS.get(name),
        parents=[root_option()],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    if JSON in output:
        parser.add_argument(
            "--json",
            dest="format",
            action="store_const",
            const=JSON,
            help=f"write JSON: {json_keys}" if json_keys else "write JSON (keys: see README)",
        )
    if len(output) > 1:
        parser.add_argument("--format", choices=list(output), default=TABLE, help="output format")
    parser.set_defaults(handler=handler, format=TABLE)
    return parser


# -- the store -----------------------------------------------------------------------------------
def root_of(args: argparse.Namespace) -> str:
    return str(getattr(args, "root", None) or default_root())


def open_store(args: argparse.Namespace, write_caches: bool = True) -> Tracker:
    """A tracker on an existing store, for reading only (it creates no run; with
    ``write_caches=False`` it writes nothing at all, not even the query index)."""
    tracker = Tracker(root_of(args), git=False, write_caches=write_caches)
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
    """The version ``ref`` names (``type/id`` and ``model/id``: the latest), through the API.

    ``type/id@x`` where ``x`` is not a number and no series ``id@x`` exists is an error that says
    the version must be a number (ids may hold ``@``, so the series is looked up first)."""
    rtype, rid, version = parse_ref(canonical_ref(ref))
    try:
        found = tracker.get_resource(rid, rtype, version=version)
    except ResourceNotFound:
        base, at, tail = rid.rpartition("@")
        if version is None and at and base and not tail.isdigit():
            raise InvalidRef(
                f"{ref!r}: the version after '@' must be a number, got {tail!r} "
                f"(e.g. {rtype}/{base}@1, or {rtype}/{base} for the latest)"
            ) from None
        raise
    if not isinstance(found, Resource):  # canonical_ref made model/X a model_version
        raise InvalidRef(f"{ref!r} names a whole series; give a version: {ref}@N")
    return found


def resolve_run_id(tracker: Tracker, given: str) -> str:
    """A run id, or a unique prefix of one (like git's short hashes); an ambiguous prefix is an
    error listing the candidates."""
    ids = tracker.run_ids()
    if given in ids:
        return given
    matches = [r for r in ids if r.startswith(given)] if given else []
    if len(matches) == 1:
        return matches[0]
    if matches:
        shown = ", ".join(matches[:10]) + (" ..." if len(matches) > 10 else "")
        raise CliError(f"run prefix {given!r} is ambiguous: {len(matches)} runs match ({shown})")
    raise ResourceNotFound(
        f"no run {given!r} in {tracker.url}; give a run id or a unique prefix (see `tracker runs`)"
        " or a resource ref: type/id@version, or type/id for the latest version (see `tracker ls`)"
    )


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
