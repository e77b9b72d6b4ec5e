"""``tracker``: look at a store from the shell (runs, resources, lineage, artifacts), or fill one.

Commands live in one small module each under :mod:`tracker.cli`; every module listed in
:data:`COMMAND_MODULES` has a ``register(sub)`` function that adds its subcommands with
:func:`tracker.cli.common.add_command`. To add a command (``fsck``), write ``tracker/cli/fsck.py``
with ``register`` and append ``"fsck"`` to :data:`COMMAND_MODULES`.

Errors are one line on stderr, ``tracker: error: ...``, and exit code 1; a usage error (an unknown
command or option, a bad option value) is one line plus "see tracker COMMAND --help" and exit code
2. A traceback is shown only with ``TRACKER_DEBUG=1``. Warnings of the core (a field no record has,
an unknown type) are printed as ``tracker: warning: ...`` lines on stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import sys
import warnings
from collections.abc import Sequence

from tracker import __version__
from tracker.cli.common import ROOT_HELP, VALUE_OPTIONS, CliParser, UsageError
from tracker.errors import FieldWarning, TrackerError

COMMAND_MODULES: list[str] = [
    "runs",
    "resources",
    "artifacts",
    "lineage",
    "diff",
    "demo",
    "fsck",
    "metrics",
    "write",
    "importer",
    "export",  # export mlflow (run by tracker.cli.importer), export parquet (issue 17)
    "sql",  # issue 17: DuckDB over the Parquet export
    "compare",
    "ui",
    "report",
]
COMMAND_MODULES += ["trash"]  # rm, restore, trash, gc

EPILOG = """examples:
  tracker demo                                  record an example workflow in ./.tracker
  tracker runs                                  the runs, newest first
  tracker ls                                    every resource series and its latest version
  tracker show model_version/titanic            the latest version, in full
  tracker find --where "tags.status = 'DEPLOYED'"
  tracker lineage model_version/titanic@1 --up
  tracker metrics experiment/xgb --history      a training curve, point by point
  tracker promote model_version/titanic@2       tag it status=DEPLOYED (a run of its own)
  tracker import mlflow ./mlruns                bring an MLflow file store in
  tracker sql "select ref from versions where \"tags.status\" = 'DEPLOYED'"

the store: --root, else $TRACKER_ROOT, else the nearest .tracker/ in this directory or a parent
(up to $HOME when inside it), else ./.tracker. `tracker COMMAND --help` explains each command.
"""


def build_parser() -> CliParser:
    parser = CliParser(
        prog="tracker",
        description=(
            "Look at an ML metadata store (runs, resource versions, lineage, artifacts) and "
            "make the everyday changes (tags, metadata, promotions)."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--root",
        metavar="URL",
        help=ROOT_HELP,
    )
    parser.add_argument("--version", action="version", version=f"tracker {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f"tracker.cli.{name}").register(sub)
    return parser


def _fail(message: str) -> int:
    text = " ".join(str(message).split()) or "unknown error"
    sys.stderr.write(f"tracker: error: {text}\n")
    return 1


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit code (the console script exits with it)."""
    parser = build_parser()
    words = join_dash_values(list(argv) if argv is not None else sys.argv[1:])
    try:
        args, extra = parser.parse_known_args(words)
        if extra:
            owner = parser.command_parser(getattr(args, "command", None) or "") or parser
            owner.error(f"unrecognized arguments: {' '.join(extra)}")
    except UsageError as exc:
        sys.stderr.write(f"{exc}\n")
        return 2
    except SystemExit as exc:  # --help and --version
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    if getattr(args, "handler", None) is None:
        sys.stderr.write("tracker: error: no command given; see tracker --help\n")
        return 2
    debug = os.environ.get("TRACKER_DEBUG", "") not in ("", "0")
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", FieldWarning)
            try:
                code: int = args.handler(args)
            finally:
                _print_warnings(caught)
        sys.stdout.flush()
        return code
    except KeyboardInterrupt:
        sys.stderr.write("tracker: interrupted\n")
        return 130
    except BrokenPipeError:  # `tracker runs | head`: the reader left, nothing to report
        _silence_stdout()
        return 0
    except (TrackerError, OSError) as exc:
        if debug:
            raise
        return _fail(str(exc) or type(exc).__name__)
    except Exception as exc:
        if debug:
            raise
        return _fail(
            f"unexpected {type(exc).__name__}: {exc} (rerun with TRACKER_DEBUG=1 for the "
            "traceback; if it looks like a bug, please report it)"
        )


def join_dash_values(argv: list[str]) -> list[str]:
    """``--order-by -version`` -> ``--order-by=-version``: argparse would take ``-version`` for an
    option. Only for options whose values may start with ``-`` (:data:`VALUE_OPTIONS`)."""
    out: list[str] = []
    i = 0
    while i < len(argv):
        word = argv[i]
        if word == "--":
            out.extend(argv[i:])
            break
        if word in VALUE_OPTIONS and i + 1 < len(argv) and argv[i + 1].startswith("-"):
            out.append(f"{word}={argv[i + 1]}")
            i += 2
            continue
        out.append(word)
        i += 1
    return out


def _print_warnings(caught: list[warnings.WarningMessage]) -> None:
    seen: set[str] = set()
    for w in caught:
        text = " ".join(str(w.message).split())
        if issubclass(w.category, FieldWarning) and text not in seen:
            seen.add(text)
            sys.stderr.write(f"tracker: warning: {text}\n")
        elif not issubclass(w.category, FieldWarning):
            warnings.showwarning(w.message, w.category, w.filename, w.lineno)


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush raises no second error."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
