"""``tracker``: look at a store from the shell (runs, resources, lineage, artifacts), or fill one.

Commands live in one small module each under :mod:`tracker.cli`; every module listed in
:data:`COMMAND_MODULES` has a ``register(sub)`` function that adds its subcommands with
:func:`tracker.cli.common.add_command`. To add a command (``fsck``), write ``tracker/cli/fsck.py``
with ``register`` and append ``"fsck"`` to :data:`COMMAND_MODULES`.

Errors are one line on stderr, ``tracker: error: ...``, and exit code 1 (2 for a usage error, as
argparse does); a traceback is shown only with ``TRACKER_DEBUG=1``.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import sys
from collections.abc import Sequence

from tracker import __version__
from tracker.errors import TrackerError

COMMAND_MODULES: list[str] = ["runs", "resources", "artifacts", "lineage", "diff", "demo", "fsck"]
COMMAND_MODULES += ["export", "sql"]  # issue 17: Parquet export and DuckDB

EPILOG = """examples:
  tracker demo                                  record an example workflow in ./.tracker
  tracker runs                                  the runs, newest first
  tracker ls                                    every resource series and its latest version
  tracker show model_version/titanic            the latest version, in full
  tracker find --where "tags.status = 'DEPLOYED'"
  tracker lineage model_version/titanic@1 --up
  tracker sql "select ref from versions where \"tags.status\" = 'DEPLOYED'"
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tracker",
        description="Look at an ML metadata store: runs, resource versions, lineage, artifacts.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--root",
        metavar="URL",
        help="store root: a directory or fsspec URL (default: $TRACKER_ROOT, else ./.tracker)",
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
    try:
        args = parser.parse_args(list(argv) if argv is not None else None)
    except SystemExit as exc:  # --help, --version and usage errors
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    if getattr(args, "handler", None) is None:
        parser.print_help(sys.stderr)
        return 2
    debug = os.environ.get("TRACKER_DEBUG", "") not in ("", "0")
    try:
        code: int = args.handler(args)
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


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush raises no second error."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
