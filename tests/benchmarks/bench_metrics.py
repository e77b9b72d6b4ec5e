"""Metric series, side by side with MLflow's file store, in one process on a RAM filesystem.

    python -m tests.benchmarks.bench_metrics [--points 100000] [--out bench-results/metrics.json]

Measures: ``log_metric`` per point (ours buffered, flushes included) against MLflow's
``log_metric`` and ``log_batch`` per point; points per second; flatness (last 10% / first 10% of
a long series); reading a 100,000-point history (ours from chunks and after compaction, MLflow's
``get_metric_history``); the chunk encoding candidates (TSV vs JSON lines); and the plot options
(inline SVG vs matplotlib). Every workload checks its answer, so a fast wrong result fails.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import time
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # tests/
from benchmarks.bench import fresh_dir, load_mlflow, mlflow_uri, ram_base

pc = time.perf_counter


class BenchError(AssertionError):
    """A workload returned a wrong answer."""


def best_of(k: int, fn: Any) -> tuple[float, Any]:
    """The fastest of ``k`` calls (reads are repeatable; the minimum is the least disturbed)."""
    best, out = float("inf"), None
    for _ in range(k):
        out = None
        gc.collect()
        t0 = pc()
        out = fn()
        best = min(best, pc() - t0)
    return best, out


def ours_log(root: str, n: int) -> dict[str, Any]:
    from tracker import Tracker

    t = Tracker(root, git=False)
    exp = t.create_resource("bench", type="experiment")
    t.log_metric(exp, "warm", 1.0)
    window = max(n // 10, 1)
    windows: list[float] = []
    gc.collect()
    start = pc()
    for w in range(0, n, window):
        t0 = pc()
        for i in range(w, min(w + window, n)):
            t.log_metric(exp, "loss", i * 0.5, step=i)
        windows.append(pc() - t0)
    t.flush()
    total = pc() - start
    read_chunks, history = best_of(3, lambda: t.get_metric_history(exp, "loss"))
    if len(history) != n or history[-1].value != (n - 1) * 0.5:
        raise BenchError(f"ours: {len(history)} points read back, not {n}")
    t.clean_resource(exp)
    reader = Tracker(root, git=False)
    read_compact, again = best_of(3, lambda: reader.get_metric_history(exp.ref, "loss"))
    if [tuple(p) for p in again] != [tuple(p) for p in history]:
        raise BenchError("ours: the compacted history differs")
    t.stop()
    return {
        "per_point_s": total / n,
        "points_per_s": n / total,
        "flatness_last_first": windows[-1] / windows[0],
        "read_chunks_s": read_chunks,
        "read_compacted_s": read_compact,
    }


def mlflow_log(client_cls: Any, root: str, n: int, single: int) -> dict[str, Any]:
    from mlflow.entities import Metric

    c = client_cls(tracking_uri=mlflow_uri(root))
    exp = c.create_experiment("bench")
    run = c.create_run(exp).info.run_id
    c.log_metric(run, "warm", 1.0)
    gc.collect()
    t0 = pc()
    for i in range(single):
        c.log_metric(run, "single", i * 0.5, step=i)
    per_single = (pc() - t0) / single
    now = int(time.time() * 1000)
    t0 = pc()
    for b in range(0, n, 1000):
        batch = [Metric("loss", i * 0.5, now, i) for i in range(b, min(b + 1000, n))]
        c.log_batch(run, metrics=batch)
    per_batch_point = (pc() - t0) / n
    read, history = best_of(3, lambda: c.get_metric_history(run, "loss"))
    if len(history) != n:
        raise BenchError(f"mlflow: {len(history)} points read back, not {n}")
    c.set_terminated(run)
    return {"log_metric_s": per_single, "log_batch_per_point_s": per_batch_point, "read_s": read}


def codecs(n: int) -> dict[str, Any]:
    """The chunk encodings considered: our TSV and JSON lines (encode + decode, size)."""
    from tracker.store import chunks

    points = [(i, 1.7e9 + i * 0.013, 1 / (i + 1)) for i in range(n)]
    t0 = pc()
    tsv = chunks.encode_chunk("loss", "0" * 16, 1, points)
    tsv_enc = pc() - t0
    t0 = pc()
    back = chunks.decode_chunk(tsv, "x", "loss", "0" * 16 + "-000001.tsv")
    tsv_dec = pc() - t0
    t0 = pc()
    jl = "".join(
        json.dumps({"step": s, "timestamp": t, "value": v}) + "\n" for s, t, v in points
    ).encode()
    jl_enc = pc() - t0
    t0 = pc()
    jback = [tuple(d.values()) for d in map(json.loads, jl.decode().splitlines())]
    jl_dec = pc() - t0
    if back != points or jback != points:
        raise BenchError("codec round trip differs")
    return {
        "tsv": {"encode_s": tsv_enc, "decode_s": tsv_dec, "bytes": len(tsv)},
        "jsonl": {"encode_s": jl_enc, "decode_s": jl_dec, "bytes": len(jl)},
    }


def plots() -> dict[str, Any]:
    """Three 1,000-point curves: our SVG in-process vs matplotlib (import + PNG) in a fresh one."""
    from tracker.view.plot import Figure

    series = [(f"v{k}", [(i, 1 / (i + 1 + k)) for i in range(1000)]) for k in range(3)]
    t0 = pc()
    svg = Figure(series, "loss").svg()
    ours = pc() - t0
    code = (
        "import time; t=time.perf_counter(); import matplotlib; matplotlib.use('Agg');"
        "import matplotlib.pyplot as plt; i=time.perf_counter()-t; f,a=plt.subplots();"
        "[a.plot(range(1000),[1/(x+1+k) for x in range(1000)]) for k in range(3)];"
        "import io; f.savefig(io.BytesIO(), format='png'); print(i, time.perf_counter()-t)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    mpl = [float(x) for x in out.stdout.split()] if out.returncode == 0 else [None, None]
    return {"svg_s": ours, "svg_bytes": len(svg), "mpl_import_s": mpl[0], "mpl_png_s": mpl[1]}


def run(n: int, single: int, base: str | None = None) -> dict[str, Any]:
    base_dir, fs = ram_base(base)
    client_cls, mlflow_version = load_mlflow()
    with fresh_dir(base_dir, "metrics-ours") as root:
        ours = ours_log(root, n)
    theirs = None
    if client_cls is not None:
        with fresh_dir(base_dir, "metrics-mlflow") as root:
            theirs = mlflow_log(client_cls, root, n, single)
    return {
        "points": n,
        "filesystem": fs,
        "mlflow": mlflow_version,
        "ours": ours,
        "mlflow_file_store": theirs,
        "codecs": codecs(n),
        "plots": plots(),
    }


def smoke() -> dict[str, Any]:
    """A tiny run for CI (no timed assertions)."""
    return run(2000, 20)


def report(result: dict[str, Any]) -> str:
    o, m = result["ours"], result["mlflow_file_store"] or {}

    def us(x: float | None) -> str:
        return "-" if x is None else f"{x * 1e6:.2f} µs"

    def ms(x: float | None) -> str:
        return "-" if x is None else f"{x * 1e3:.1f} ms"

    def ratio(a: float | None, b: float | None) -> str:
        return "-" if not a or not b else f"{a / b:.3f}"

    rows = [
        ("log_metric per point (ours buffered | MLflow log_metric)", us(o["per_point_s"]),
         us(m.get("log_metric_s")), ratio(o["per_point_s"], m.get("log_metric_s"))),
        ("per point vs MLflow log_batch (1,000 per call)", us(o["per_point_s"]),
         us(m.get("log_batch_per_point_s")),
         ratio(o["per_point_s"], m.get("log_batch_per_point_s"))),
        (f"read {result['points']:,} points, chunks (ours) | get_metric_history",
         ms(o["read_chunks_s"]), ms(m.get("read_s")), ratio(o["read_chunks_s"], m.get("read_s"))),
        (f"read {result['points']:,} points, compacted (ours) | get_metric_history",
         ms(o["read_compacted_s"]), ms(m.get("read_s")),
         ratio(o["read_compacted_s"], m.get("read_s"))),
    ]  # fmt: skip
    lines = ["| operation | tracker | MLflow | ratio |", "|---|---:|---:|---:|"]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    c, p = result["codecs"], result["plots"]
    lines += [
        "",
        f"points/s buffered: {o['points_per_s']:,.0f}; flatness (last 10% / first 10%): "
        f"{o['flatness_last_first']:.2f}",
        f"codec, {result['points']:,} points: TSV encode {ms(c['tsv']['encode_s'])}, decode "
        f"{ms(c['tsv']['decode_s'])}, {c['tsv']['bytes']:,} B | JSON lines encode "
        f"{ms(c['jsonl']['encode_s'])}, decode {ms(c['jsonl']['decode_s'])}, "
        f"{c['jsonl']['bytes']:,} B",
        f"plot, 3 x 1,000 points: inline SVG {ms(p['svg_s'])} ({p['svg_bytes']:,} B) | "
        f"matplotlib import {ms(p['mpl_import_s'])}, import + PNG {ms(p['mpl_png_s'])}",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument("--single", type=int, default=2_000, help="MLflow log_metric calls")
    parser.add_argument("--base", help="directory for the stores (default: /dev/shm)")
    parser.add_argument("--out", default="bench-results/metrics.json")
    args = parser.parse_args(argv)
    result = run(args.points, args.single, args.base)
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    with open(args.out, "w") as fh:
        json.dump(result, fh, indent=2)
    print(report(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
