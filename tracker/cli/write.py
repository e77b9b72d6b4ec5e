"""``tracker tag``, ``untag``, ``meta`` and ``promote``: the everyday writes, from the shell.

Each command is a run of its own (named ``tracker tag`` etc., so it shows in ``tracker runs`` with
who, where and when, and its argv), writes only to an existing store, and checks the ref and every
value before the first write: a bad one is refused with one line and nothing is written.

``--json`` writes ``{ref, run_id, ...}``: ``tags`` (tag), ``removed`` (untag), ``metadata``
(meta), ``status`` and ``before`` (promote: the refs that had that status before).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import warnings
from typing import Any

import yaml

from tracker.cli.common import add_command, emit, resolve, root_of
from tracker.core.resource import Resource
from tracker.core.tracker import Tracker
from tracker.errors import FieldWarning, TrackerError, UnsupportedValue
from tracker.view.text import plain

SCALARS = (str, int, float, bool, type(None), _dt.date)

TAG_EPILOG = """examples:
  tracker tag model_version/titanic@2 stage=prod owner=ana
  tracker tag dataset_version/titanic note="cleaned twice"     (type/id: the latest version)

values are stored as text; to store numbers or booleans use `tracker meta`.
"""
UNTAG_EPILOG = """examples:
  tracker untag model_version/titanic@2 stage

the tag's file is removed; reads, `find` and `show` no longer see it.
"""
META_EPILOG = """examples:
  tracker meta model_version/titanic@2 f1=0.91 rows=891 calibrated=true
  tracker meta model_version/titanic@2 version_label=1.10 --string    (keep "1.10" as text)

values are read as YAML scalars with the safe loader: 0.91 a number, true a boolean, null
nothing, 2026-01-31 a date, anything else text; --string keeps every value as text.
"""
PROMOTE_EPILOG = """examples:
  tracker promote model_version/titanic@2                  status=DEPLOYED
  tracker promote model/titanic --status PROMOTED           the latest version

prints which versions of the series had that status before (they keep it; the lifecycle
lookups take the newest). `tracker runs` shows the promotion as a run of its own.
"""


def key_value(text: str) -> tuple[str, str]:
    """argparse type: ``key=value`` (the value may be empty or hold '=')."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key.strip(), value


def register(sub: Any) -> None:
    ref_help = "type/id@version, or type/id for the latest version"
    tag = add_command(
        sub,
        "tag",
        run_tag,
        "set tags on a resource version",
        epilog=TAG_EPILOG,
        json_keys="{ref, run_id, tags}",
    )
    tag.add_argument("ref", metavar="REF", help=ref_help)
    tag.add_argument("items", nargs="+", type=key_value, metavar="KEY=VALUE", help="tags to set")

    untag = add_command(
        sub,
        "untag",
        run_untag,
        "remove tags from a resource version",
        epilog=UNTAG_EPILOG,
        json_keys="{ref, run_id, removed}",
    )
    untag.add_argument("ref", metavar="REF", help=ref_help)
    untag.add_argument("keys", nargs="+", metavar="KEY", help="tags to remove")

    meta = add_command(
        sub,
        "meta",
        run_meta,
        "set metadata on a resource version",
        epilog=META_EPILOG,
        json_keys="{ref, run_id, metadata}",
    )
    meta.add_argument("ref", metavar="REF", help=ref_help)
    meta.add_argument("items", nargs="+", type=key_value, metavar="KEY=VALUE", help="metadata")
    meta.add_argument("--string", action="store_true", help="store every value as text")

    promote = add_command(
        sub,
        "promote",
        run_promote,
        "set a version's status tag (default DEPLOYED)",
        epilog=PROMOTE_EPILOG,
        json_keys="{ref, run_id, status, before}",
    )
    promote.add_argument("ref", metavar="REF", help=ref_help + " (model/id works too)")
    promote.add_argument("--status", default="DEPLOYED", help="the status (default DEPLOYED)")


def writer(args: argparse.Namespace) -> Tracker:
    """A tracker on an existing store whose run is named after the command."""
    tracker = Tracker(root_of(args), git=False, run_name=f"tracker {args.command}")
    tracker.require_store()
    return tracker


def scalar(key: str, text: str, as_string: bool) -> Any:
    if as_string:
        return text
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text  # not YAML at all: plain text, as written
    if not isinstance(value, SCALARS):
        raise UnsupportedValue(
            f"{key}={text!r}: not a single value ({type(value).__name__}); quote it or pass "
            "--string to store the text"
        )
    return value


def _done(
    args: argparse.Namespace, tracker: Tracker, res: Resource, note: str = "", **data: Any
) -> int:
    """Stop the command's run, then print what was written (``note`` adds a sentence)."""
    info = {"ref": res.ref, "run_id": tracker.run_id, **data}
    tracker.stop()

    def text() -> str:
        parts = [f"{k}: {_show(v)}" for k, v in data.items() if k != "before"]
        line = f"{res.ref}  " + "  ".join(parts) + f"  (run {info['run_id']})"
        return f"{line}\n{note}" if note else line

    return emit(args, info, text)


def _show(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}={plain(v)}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "(none)"
    return str(value)


def run_tag(args: argparse.Namespace) -> int:
    tracker = writer(args)
    res = resolve(tracker, args.ref)
    tags = dict(args.items)
    tracker.log_tags(res, tags)
    return _done(args, tracker, res, tags=tags)


def run_untag(args: argparse.Namespace) -> int:
    tracker = writer(args)
    res = resolve(tracker, args.ref)
    present = tracker.get_tags(res)
    missing = [k for k in args.keys if k not in present]
    if missing:
        raise TrackerError(
            f"{res.ref} has no tag {', '.join(repr(k) for k in missing)} (tags: "
            f"{', '.join(sorted(present)) or 'none'}); nothing was removed"
        )
    for key in dict.fromkeys(args.keys):
        tracker.delete_tag(res, key)
    return _done(args, tracker, res, removed=list(dict.fromkeys(args.keys)))


def run_meta(args: argparse.Namespace) -> int:
    tracker = writer(args)
    res = resolve(tracker, args.ref)
    items = {key: scalar(key, text, args.string) for key, text in args.items}
    for key, value in items.items():
        tracker.log_metadata(res, key, value)
    return _done(args, tracker, res, metadata=items)


def run_promote(args: argparse.Namespace) -> int:
    status = args.status.strip()
    if not status:
        raise TrackerError("--status must not be empty (e.g. DEPLOYED, PROMOTED)")
    tracker = writer(args)
    res = resolve(tracker, args.ref)
    quoted = "'" + status.replace("\\", "\\\\").replace("'", "\\'") + "'"
    with warnings.catch_warnings():  # no version tagged yet is the normal first promotion
        warnings.simplefilter("ignore", FieldWarning)
        holders = tracker.find(
            type=res.type, id=res.id, where=f"tags.status = {quoted}", order_by="-version"
        )
    before = [r.ref for r in holders if r != res]
    tracker.log_tag(res, "status", status)
    note = (
        f"{status} before: {', '.join(before)} (tags unchanged; lookups take the newest)"
        if before
        else f"no other version of {res.type}/{res.id} was {status}"
    )
    return _done(args, tracker, res, note, status=status, before=before)
