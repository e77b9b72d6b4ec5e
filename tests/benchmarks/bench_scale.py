"""Queries over many versions (issue 17): the tracker at 10k/50k/100k versions, MLflow's
``search_runs`` on SQLite and on its file store, S3 request counts, and SQL over an export.

Run from the repository root (RAM filesystem by default; 100k versions are ~1.2M files, ~4 GB)::

    python -m tests.benchmarks.bench_scale                                  # everything, ~25 min
    python -m tests.benchmarks.bench_scale --sizes 10000 --mlflow 2000 --s3 500 --no-sql

Workload (as in the issue): one series ``model_version/m``; each version 5 tags (``status`` is
``DEPLOYED`` on 1 in 50, else ``STAGED``) and 1 metadata item ``f1``, closed. The filter is
``tags.status = 'DEPLOYED' and metadata.f1 >= 0.0`` (MLflow: the same tag and a metric ``f1``).

Each tracker measurement runs in a fresh process (no in-process cache; its peak RSS is
``ru_maxrss``): the first ``find`` right after writing, then, once the change log has
settled (``LocalStore.settle_seconds``), warm ``find`` (median of 3 processes) and
``find(order_by="-version", limit=1)``. Growth exponents are ``log(t2/t1) / log(n2/n1)``
between consecutive sizes. The S3 part writes a series through the counting proxy into moto,
waits for the change log to settle (``Store.settle_seconds``), and counts the requests of a
warm ``find``. Results go to ``bench-results/bench_scale.json``. ``smoke()`` is the tiny CI
version (no timing assertions).
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tracker import Tracker  # noqa: E402
from tracker.store.base import Store  # noqa: E402
from tracker.store.local import LocalStore  # noqa: E402

pc = time.perf_counter
WHERE = "tags.status = 'DEPLOYED' and metadata.f1 >= 0.0"
MLFLOW_FILTER = "tags.status = 'DEPLOYED' and metrics.f1 >= 0.0"
EVERY = 50
CLI = [sys.executable, "-m", "tracker", "--root"]


def deployed(v: int) -> bool:
    return v % EVERY == 25


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def ram_dir() -> str:
    return "/dev/shm" if os.path.isdir("/dev/shm") else tempfile.gettempdir()


# -- writing ---------------------------------------------------------------------------------------
def write_version(t: Tracker, close: bool = True) -> int:
    r = t.create_resource("m", type="model_version")
    v = int(r.version or 0)
    t.log_tags(
        r,
        {
            "status": "DEPLOYED" if deployed(v) else "STAGED",
            "team": "vision",
            "owner": f"user{v % 7}",
            "stage": "train",
            "i": v,
        },
    )
    t.log_metadata(r, "f1", (v % 100) / 100)
    if close:
        t.clean_resource(r)
    return v


def build(root: str, n: int) -> float:
    t = Tracker(root, git=False, progress=False)
    a = pc()
    for _ in range(n):
        write_version(t)
    t.stop()
    return pc() - a


# -- measuring in a fresh process ------------------------------------------------------------------
CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, sys.argv[1])
from tracker import Tracker
root, what, reps = sys.argv[2], sys.argv[3], int(sys.argv[4])
where = "tags.status = 'DEPLOYED' and metadata.f1 >= 0.0"
times, found = [], None
for _ in range(reps):
    t = Tracker(root, git=False, progress=False)
    a = time.perf_counter()
    if what == "limit1":
        res = t.find(type="model_version", id="m", where=where, order_by="-version", limit=1)
    else:
        res = t.find(type="model_version", id="m", where=where)
    times.append(time.perf_counter() - a)
    found = [r.version for r in res]
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"times": times, "found": found[:3], "count": len(found), "rss_mb": rss}))
"""


def child(root: str, what: str, reps: int = 1) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(REPO), root, what, str(reps)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr)
    return dict(json.loads(done.stdout))


def expected(n: int) -> tuple[int, list[int]]:
    tagged = [v for v in range(1, n + 1) if deployed(v)]
    return len(tagged), tagged[::-1][:1]


def local(sizes: list[int], base: str, keep: int | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for n in sizes:
        root = os.path.join(base, f"store-{n}")
        shutil.rmtree(root, ignore_errors=True)
        log(f"writing {n} versions into {root}")
        took = build(root, n)
        first = child(root, "all")
        count, newest = expected(n)
        if first["count"] != count:
            raise AssertionError(f"first find over {n}: {first['count']} found, want {count}")
        time.sleep(LocalStore.settle_seconds + 1)  # the change log settles
        child(root, "all")  # settles the index chunks
        warm = [child(root, "all") for _ in range(3)]
        limit1 = child(root, "limit1", reps=5)
        if limit1["found"] != newest or warm[0]["count"] != count:
            raise AssertionError(f"{n}: wrong answers {limit1['found']} / {warm[0]['count']}")
        files = sum(len(f) for _, _, f in os.walk(root))
        row = {
            "versions": n,
            "files": files,
            "write_s": took,
            "first_find_s": first["times"][0],
            "first_find_rss_mb": first["rss_mb"],
            "warm_find_s": statistics.median(w["times"][0] for w in warm),
            "warm_find_rss_mb": max(w["rss_mb"] for w in warm),
            "limit1_s": statistics.median(limit1["times"]),
            "matches": count,
        }
        out[str(n)] = row
        log(json.dumps(row))
        if keep is None or n != keep:
            shutil.rmtree(root, ignore_errors=True)
    growth = {}
    for a, b in itertools.pairwise(sizes):
        ra, rb = out[str(a)], out[str(b)]
        growth[f"{a}->{b}"] = {
            k: math.log(rb[k] / ra[k]) / math.log(b / a)
            for k in ("first_find_s", "warm_find_s", "limit1_s")
            if ra[k] > 0 and rb[k] > 0
        }
    out["growth_exponents"] = growth
    return out


# -- MLflow ----------------------------------------------------------------------------------------
def mlflow(n: int, base: str, only: str = "") -> dict[str, Any]:
    from tests.benchmarks.bench import load_mlflow

    client_cls, version = load_mlflow()
    if client_cls is None:
        return {"skipped": version}
    from mlflow.entities import Metric, RunTag

    out: dict[str, Any] = {"mlflow": version, "runs": n}
    try:  # MLflow's SQLite store needs SQLAlchemy and Alembic (the bench extra)
        import alembic  # noqa: F401
        import sqlalchemy  # noqa: F401

        kinds = ["sqlite", "file"]
    except ImportError:
        kinds = ["file"]
        out["sqlite"] = {"skipped": "pip install sqlalchemy alembic (the bench extra)"}
    kinds = [k for k in kinds if not only or k == only]
    for kind in kinds:
        path = os.path.join(base, f"mlflow-{kind}-{n}")
        shutil.rmtree(path, ignore_errors=True)
        os.makedirs(path)
        uri = f"sqlite:///{path}/mlflow.db" if kind == "sqlite" else Path(path).as_uri()
        c = client_cls(tracking_uri=uri, registry_uri=Path(path).as_uri())
        exp = c.create_experiment("m")
        log(f"MLflow {kind}: writing {n} runs")
        a = pc()
        now_ms = int(time.time() * 1000) - n * 1000
        for v in range(1, n + 1):
            run = c.create_run(exp, start_time=now_ms + v * 1000)
            tags = {
                "status": "DEPLOYED" if deployed(v) else "STAGED",
                "team": "vision",
                "owner": f"user{v % 7}",
                "stage": "train",
                "i": str(v),
            }
            c.log_batch(
                run.info.run_id,
                metrics=[Metric("f1", (v % 100) / 100, now_ms, 0)],
                tags=[RunTag(k, val) for k, val in tags.items()],
            )
            c.set_terminated(run.info.run_id)
        write_s = pc() - a
        times, limit1 = [], []
        count, newest = expected(n)
        for _ in range(3):
            a = pc()
            runs = c.search_runs([exp], MLFLOW_FILTER, max_results=min(n, 50_000))
            times.append(pc() - a)
            if len(runs) != count:
                raise AssertionError(f"MLflow {kind}: {len(runs)} runs, want {count}")
            a = pc()
            top = c.search_runs(
                [exp], MLFLOW_FILTER, order_by=["attributes.start_time DESC"], max_results=1
            )
            limit1.append(pc() - a)
            if [int(r.data.tags["i"]) for r in top] != newest:
                raise AssertionError(f"MLflow {kind}: newest {top}")
        out[kind] = {
            "write_s": write_s,
            "search_s": statistics.median(times),
            "search_limit1_s": statistics.median(limit1),
        }
        log(f"MLflow {kind}: {out[kind]}")
        shutil.rmtree(path, ignore_errors=True)
    return out


# -- S3 --------------------------------------------------------------------------------------------
def s3(n: int, settle: bool = True) -> dict[str, Any]:
    from tests.benchmarks.bench import s3_available, s3_environment

    why = s3_available()
    if why:
        return {"skipped": why}
    import tests.support.proxy as proxy_mod
    from tests.support.proxy import S3Proxy
    from tests.support.s3server import MotoServer, make_bucket, storage_options

    handler = getattr(proxy_mod, "_Handler", None)
    if handler is not None:
        handler.disable_nagle_algorithm = True  # see bench.py: +40 ms per GET otherwise
    with s3_environment(), MotoServer() as moto, S3Proxy(moto.endpoint_url) as proxy:
        make_bucket(moto.endpoint_url, "bench")
        so = storage_options(proxy.url)
        url = "s3://bench/store"
        log(f"S3: writing {n} versions (4 writer threads, not closed)")
        a = pc()
        per = [n // 4 + (1 if i < n % 4 else 0) for i in range(4)]

        def writer(count: int) -> None:
            t = Tracker(url, storage_options=so, git=False, progress=False)
            for _ in range(count):
                write_version(t, close=False)
            t.stop()

        threads = [threading.Thread(target=writer, args=(c,)) for c in per]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        write_s = pc() - a
        count, _ = expected(n)

        def find() -> tuple[float, int, dict[str, int]]:
            t = Tracker(url, storage_options=so, git=False, progress=False)
            proxy.reset_counts()
            a = pc()
            res = t.find(type="model_version", id="m", where=WHERE)
            dt = pc() - a
            if len(res) != count:
                raise AssertionError(f"S3 find: {len(res)} found, want {count}")
            return dt, proxy.total, dict(proxy.counts)

        first = find()
        if settle:
            time.sleep(max(0.0, Store.settle_seconds + 1 - (pc() - a - write_s)))
        find()  # settles the change log into the index chunks
        warm = [find() for _ in range(3)]
        listing = proxy_mod  # noqa: F841 - keep the module alive for the handler setting
        fs_files = Tracker(url, storage_options=so, git=False)._store.list(
            "resources/model_version/m/changes"
        )
    best = min(warm, key=lambda w: w[1])
    chunks = math.ceil(n / 2000)
    fixed = best[1] - chunks - math.ceil(len(fs_files) / 1000)
    at_100k = fixed + math.ceil(100_000 / 2000) + math.ceil(len(fs_files) * 100_000 / n / 1000)
    return {
        "versions": n,
        "write_s": write_s,
        "first_find": {"s": first[0], "requests": first[1], "by_method": first[2]},
        "warm_find": {"s": best[0], "requests": best[1], "by_method": best[2]},
        "change_files": len(fs_files),
        "extrapolated_100k": {
            "requests": at_100k,
            "s_at_20ms": at_100k * 0.020,
            "usd_per_find": at_100k * 0.0004 / 1000,
            "usd_per_million_finds": at_100k * 0.0004 * 1000,
        },
    }


# -- SQL -------------------------------------------------------------------------------------------
def sql(root: str, base: str) -> dict[str, Any]:
    from tracker.export import sql as sqlmod

    t = Tracker(root, git=False, progress=False)
    dest = os.path.join(base, "export")
    shutil.rmtree(dest, ignore_errors=True)
    a = pc()
    report = t.export_parquet(dest)
    first = pc() - a
    a = pc()
    again = t.export_parquet(dest)
    second = pc() - a
    query = (
        'select ref, "metadata.f1" from versions where "tags.status" = \'DEPLOYED\' '
        'and "metadata.f1" >= 0.0'
    )
    times, open_times = [], []
    for _ in range(5):
        a = pc()
        con = sqlmod.connect(dest)
        _, rows = sqlmod.query(con, query)
        times.append(pc() - a)
        a = pc()
        sqlmod.query(con, query)  # on the open connection: the query alone
        open_times.append(pc() - a)
        con.close()
    a = pc()
    cli = subprocess.run(
        [*CLI, root, "sql", query, "--parquet", dest, "--no-refresh", "--format", "csv"],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    cli_s = pc() - a
    if cli.returncode != 0:
        raise RuntimeError(cli.stderr)
    return {
        "versions": report.total["versions"],
        "export_first_s": first,
        "export_unchanged_s": second,
        "export_unchanged_written": again.written,
        "connect_and_query_s": statistics.median(times),
        "query_on_open_connection_s": statistics.median(open_times),
        "rows": len(rows),
        "cli_wall_s": cli_s,
    }


def smoke() -> dict[str, Any]:
    """A tiny run (CI): every part once at small sizes, answers checked, no timing assertions."""
    saved = LocalStore.settle_seconds, Store.settle_seconds
    LocalStore.settle_seconds = Store.settle_seconds = 0.0
    try:
        with tempfile.TemporaryDirectory() as base:
            out = {"local": local([60, 120], base, keep=120)}
            out["sql"] = sql(os.path.join(base, "store-120"), base)
            out["mlflow"] = mlflow(30, base)
            out["s3"] = s3(40, settle=False)
        return out
    finally:
        LocalStore.settle_seconds, Store.settle_seconds = saved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,50000,100000")
    parser.add_argument("--mlflow", type=int, default=10_000, help="runs (0: skip)")
    parser.add_argument(
        "--mlflow-store", choices=["sqlite", "file"], default="", help="only this MLflow store"
    )
    parser.add_argument("--s3", type=int, default=5000, help="versions on moto (0: skip)")
    parser.add_argument("--no-sql", dest="sql", action="store_false")
    parser.add_argument("--dir", default=ram_dir())
    parser.add_argument("--out", default="bench-results/bench_scale.json")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]
    base = tempfile.mkdtemp(prefix="bench-scale-", dir=args.dir)
    results: dict[str, Any] = {"python": sys.version.split()[0], "dir": base}
    try:
        results["local"] = local(sizes, base, keep=sizes[-1] if args.sql else None)
        if args.sql:
            results["sql"] = sql(os.path.join(base, f"store-{sizes[-1]}"), base)
            log(f"SQL: {results['sql']}")
        if args.mlflow:
            results["mlflow"] = mlflow(args.mlflow, base, args.mlflow_store)
        if args.s3:
            results["s3"] = s3(args.s3)
            log(f"S3: {results['s3']}")
    finally:
        shutil.rmtree(base, ignore_errors=True)
        os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
        with open(args.out, "w") as fh:
            json.dump(results, fh, indent=2, default=str)
    print(json.dumps(results, indent=2, default=str))


if __name__ == "__main__":
    main()
