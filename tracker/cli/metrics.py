"""``tracker metrics`` and ``tracker plot``: metric series from the shell.

``metrics REF [KEY...] --json``: a list of ``{key, value, step, timestamp, count}`` (the last point
of each key); with ``--history`` a list of ``{ref, run_id, key, step, timestamp, value}``, one per
point (the rows of ``metric_history().to_pandas()``). ``timestamp`` is seconds since the epoch;
values that JSON cannot hold are the strings ``"nan"``, ``"inf"``, ``"-inf"``. ``--format csv``
has the same columns.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import math
from typing import Any

from tracker.cli.common import CSV, JSON, TABLE, CliError, add_command, emit, open_store, resolve
from tracker.core.metrics_api import TABLE_COLUMNS
from tracker.view import text

LAST_COLUMNS = ["key", "value", "step", "timestamp", "count"]
METRICS_EPILOG = """--json keys: a list of {key, value, step, timestamp, count} (the last point of
each key); with --history a list of {ref, run_id, key, step, timestamp, value}, one per point.
timestamp is seconds since the epoch; nan/inf are the strings "nan", "inf", "-inf".

examples:
  tracker metrics experiment/titanic-logreg
  tracker metrics experiment/titanic-logreg val_loss --history --format csv
"""
PLOT_EPILOG = """One curve per version, step on the x axis. .svg and .html need nothing; .png needs
matplotlib (pip install 'tracker[plot]').

examples:
  tracker plot experiment/titanic-logreg experiment/titanic-stumps --key val_loss
  tracker plot experiment/titanic-logreg --key train_loss --log-y --out loss.html
"""


def register(sub: Any) -> None:
    metrics = add_command(
        sub,
        "metrics",
        run_metrics,
        "the last value of each metric of a version, or whole histories",
        output=(TABLE, JSON, CSV),
        json_keys="see below",
        epilog=METRICS_EPILOG,
    )
    metrics.add_argument("ref", metavar="REF", help="type/id@version, or type/id for the latest")
    metrics.add_argument("keys", nargs="*", metavar="KEY", help="only these keys (default: all)")
    metrics.add_argument(
        "--history", action="store_true", help="every point (step, timestamp, value)"
    )

    plot = add_command(
        sub,
        "plot",
        run_plot,
        "draw one metric across versions into an SVG, HTML or PNG file",
        json_keys="{out, key, curves}",
        epilog=PLOT_EPILOG,
    )
    plot.add_argument("refs", nargs="+", metavar="REF", help="versions to draw, one curve each")
    plot.add_argument("--key", required=True, metavar="KEY", help="the metric to draw")
    plot.add_argument(
        "--out",
        default="plot.svg",
        metavar="FILE",
        help="output file: .svg or .html (no dependency) or .png (matplotlib); default plot.svg",
    )
    plot.add_argument("--title", metavar="TEXT", help="the figure's title (default: the key)")
    plot.add_argument("--log-y", action="store_true", help="logarithmic y axis")


def _plain(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)  # 'nan', 'inf', '-inf'
    return value


def _when(ts: float) -> str:
    return _dt.datetime.fromtimestamp(ts, _dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def run_metrics(args: argparse.Namespace) -> int:
    tracker = open_store(args)
    res = resolve(tracker, args.ref)
    keys = list(args.keys) or None
    if args.history:
        rows = [{k: _plain(v) for k, v in r.items()} for r in tracker.metric_history(res, keys)]
        if keys and not rows:
            raise CliError(f"{res.ref} has no metric {', '.join(keys)}; see `tracker metrics`")

        def history_table() -> str:
            return text.table(
                ["KEY", "STEP", "TIME (UTC)", "VALUE"],
                [[r["key"], r["step"], _when(r["timestamp"]), r["value"]] for r in rows],
                empty=f"no metrics logged on {res.ref}",
            )

        return emit(args, rows, history_table, list(TABLE_COLUMNS), rows)
    summary = tracker.metric_summary(res)
    missing = [k for k in keys or () if k not in summary]
    if missing:
        raise CliError(
            f"{res.ref} has no metric {', '.join(map(repr, missing))}; it has "
            f"{', '.join(summary) or 'none'}"
        )
    last = [
        {"key": k, **{f: _plain(v) for f, v in s.items()}}
        for k, s in summary.items()
        if keys is None or k in keys
    ]

    def table() -> str:
        return text.table(
            ["KEY", "LAST", "STEP", "POINTS", "TIME (UTC)"],
            [[r["key"], r["value"], r["step"], r["count"], _when(r["timestamp"])] for r in last],
            empty=f"no metrics logged on {res.ref}",
        )

    return emit(args, last, table, LAST_COLUMNS, last)


def run_plot(args: argparse.Namespace) -> int:
    tracker = open_store(args)
    refs = [resolve(tracker, r) for r in args.refs]
    figure = tracker.plot(refs, args.key, title=args.title, log_y=args.log_y)
    if not any(points for _, points in figure.series):
        raise CliError(f"no version among {', '.join(r.ref for r in refs)} has metric {args.key!r}")
    out = figure.save(args.out)
    drawn = sum(1 for _, points in figure.series if points)
    return emit(
        args,
        {"out": out, "key": args.key, "curves": drawn},
        lambda: f"wrote {out} ({args.key}, {drawn} curve{'s' if drawn != 1 else ''})",
    )
