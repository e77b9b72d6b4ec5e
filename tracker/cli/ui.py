"""``tracker ui``: a local, read-only web app over a store (see :mod:`tracker.ui.server`).

Binds 127.0.0.1 on a free port unless told otherwise, prints its URL and serves until
interrupted. Any address that is not loopback must be given with ``--host`` explicitly (it is
then reachable by others, and the store's contents with it).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from tracker.cli.common import CliError, add_command, open_store
from tracker.ui.server import UIServer, is_loopback

DEFAULT_HOST = "127.0.0.1"


def register(sub: Any) -> None:
    parser = add_command(
        sub,
        "ui",
        run_ui,
        "browse the store in a local read-only web app (prints its URL)",
        output=(),
    )
    parser.add_argument(
        "--host",
        default=None,
        help="address to bind (default 127.0.0.1; another address must be given explicitly)",
    )
    parser.add_argument("--port", type=int, default=0, help="port (default 0: a free one)")
    parser.add_argument("--verbose", action="store_true", help="log every request on stderr")


def host_of(args: argparse.Namespace) -> str:
    """127.0.0.1 unless ``--host`` names another address: nothing else (no environment variable,
    no config file) can make the server listen beyond this machine."""
    host = str(args.host).strip() if args.host is not None else DEFAULT_HOST
    if not host:
        raise CliError("--host needs an address, e.g. --host 127.0.0.1")
    return host


def run_ui(args: argparse.Namespace) -> int:
    if not 0 <= args.port <= 65535:
        raise CliError(f"--port must be 0..65535, got {args.port}")
    host = host_of(args)
    tracker = open_store(args, write_caches=False)  # the app never writes to the store
    server = UIServer(tracker, host, args.port, verbose=args.verbose)
    note = (
        "" if is_loopback(host) else " (NOT loopback: anyone who can reach it can read the store)"
    )
    sys.stdout.write(f"tracker ui: {server.url} (read-only, {tracker.url}){note}\n")
    sys.stdout.write("press Ctrl-C to stop\n")
    sys.stdout.flush()
    try:
        server.serve_forever()
    finally:
        server.server_close()
    return 0
