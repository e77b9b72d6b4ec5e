"""The tracker against MLflow's file store and a bare-Python floor (issue 6).

Run from the repository root::

    pip install -e '.[bench]' && python -m tests.benchmarks.bench          # full run, ~4 min
    python -m tests.benchmarks.bench --n 50 --reps 3 --versions 500       # a quick look

One process runs the same workload on both, alternating which goes first, with fresh temp stores
on a RAM filesystem (``/dev/shm`` where it is tmpfs) for every repetition, then one pass on the
disk. Sections (labels in the output):

  a. N resources (MLflow: runs in one experiment), each with 10 tags and 5 metadata items
     (MLflow: params), then closed (``clean_resource``; MLflow: ``set_terminated``): per-op median
     and p95; plus the tag-write cost on the first 50 and the last 50 resources (growth);
  b. artifacts of 1 MiB (``log_artifact``; MLflow: ``log_artifact``);
  c. the newest version tagged ``status = DEPLOYED`` (1 in 50 tagged, the newest tagged one 25
     below the top) over 500 and over 5,000 versions: ``get_prev_resource_version(model handle,
     filters=...)`` and ``find(..., order_by="-version", limit=1)`` (MLflow: ``search_runs`` newest
     first, ``max_results=1``), and a ``find`` returning every match (MLflow: ``search_runs``);
  d. reading one closed resource: ``get_tags`` + ``get_all_metadata``, and ``describe``
     (MLflow: ``get_run``), from a fresh tracker (no in-process cache);
  e. ``create_resource`` (MLflow: ``create_run``), and the first write of a fresh store (which
     creates the run) with and without git capture;
  f. the floor: a bare Python loop writing a small file to a temp name and renaming it;
  g. the tracker against a moto S3 server behind the counting proxy of ``tests/support``:
     requests per operation and ms per op (skipped when moto/s3fs/the support modules are missing).

Medians are medians over repetitions of each repetition's median (p95 likewise). The table, the
ratios (ours / MLflow, ours / floor), the growth and the targets are printed and saved as JSON
(``bench-results/bench.json`` by default; the directory is gitignored). ``smoke()`` runs a tiny
version (N=20, no timing assertions) for CI; it skips the MLflow side when MLflow is missing.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import gc
import io
import json
import logging
import math
import os
import platform
import pstats
import shutil
import statistics
import sys
import tempfile
import time
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:  # `tests.support` and `tracker` from a checkout
    sys.path.insert(0, str(REPO))

from tracker import Resource, Tracker  # noqa: E402

pc = time.perf_counter
TYPE = "model_version"
TAGGED_EVERY = 50  # 1 in 50 versions is tagged status=DEPLOYED ...
TAGGED_AT = 25  # ... those with version % 50 == 25, so the newest tagged one is 25 below the top
WHERE = "tags.status = 'DEPLOYED'"
MLFLOW_FILTER = "tags.status = 'DEPLOYED'"
MLFLOW_ORDER = ["attributes.start_time DESC"]


class BenchError(AssertionError):
    """A workload returned a wrong answer: the numbers would be meaningless."""


@dataclass
class Config:
    n: int = 500
    reps: int = 5
    tags: int = 10
    metas: int = 5
    versions: tuple[int, ...] = (500, 5000)
    artifacts: int = 100
    artifact_bytes: int = 1024 * 1024
    read_sample: int = 100
    growth_window: int = 50
    ram_dir: str | None = None
    disk_dir: str | None = None
    disk: bool = True
    mlflow: bool = True
    s3: bool = True
    s3_n: int = 10
    s3_versions: int = 100
    s3_reps: int = 3
    out: str | None = "bench-results/bench.json"
    profile: bool = False
    verbose: bool = True


# -- statistics ------------------------------------------------------------------------------------
def pct(samples: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    s = sorted(samples)
    return s[max(0, math.ceil(q / 100 * len(s)) - 1)]


@dataclass
class Recorder:
    """Per-op samples (seconds), one list per repetition, per (place, system, op)."""

    reps: dict[tuple[str, str, str], list[list[float]]] = field(
        default_factory=lambda: defaultdict(list)
    )

    def add(self, place: str, system: str, op: str, samples: list[float]) -> None:
        if samples:
            self.reps[(place, system, op)].append(list(samples))

    def summary(self, place: str, system: str, op: str) -> dict[str, Any] | None:
        reps = self.reps.get((place, system, op))
        if not reps:
            return None
        medians = [statistics.median(r) for r in reps]
        p95s = [pct(r, 95) for r in reps]
        return {
            "median_s": statistics.median(medians),
            "p95_s": statistics.median(p95s),
            "rep_medians_s": medians,
            "ops_per_rep": [len(r) for r in reps],
            "reps": len(reps),
        }


def fmt_time(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.3g} ms"
    return f"{seconds:.3g} s"


def fmt_ratio(r: float | None) -> str:
    if r is None:
        return "-"
    return f"{r:.3f}" if r < 0.1 else f"{r:.2f}"


# -- places ----------------------------------------------------------------------------------------
def fs_type(path: str) -> str:
    """The filesystem type of ``path`` from /proc/mounts ('?' elsewhere)."""
    real = os.path.realpath(path)
    best, kind = "", "?"
    try:
        with open("/proc/mounts") as fh:
            for line in fh:
                parts = line.split()
                if len(parts) < 3:
                    continue
                mnt = parts[1].replace("\\040", " ")
                inside = real == mnt or real.startswith(mnt.rstrip("/") + "/")
                if inside and len(mnt) >= len(best):
                    best, kind = mnt, parts[2]
    except OSError:
        pass
    return kind


def ram_base(explicit: str | None) -> tuple[str, str]:
    if explicit:
        return explicit, fs_type(explicit)
    if (
        os.path.isdir("/dev/shm")
        and os.access("/dev/shm", os.W_OK)
        and fs_type("/dev/shm") == "tmpfs"
    ):
        return "/dev/shm", "tmpfs"
    tmp = tempfile.gettempdir()
    return tmp, f"{fs_type(tmp)} (no tmpfs /dev/shm: NOT a RAM filesystem)"


def disk_base(explicit: str | None) -> tuple[str, str]:
    if explicit:
        return explicit, fs_type(explicit)
    for cand in (tempfile.gettempdir(), "/var/tmp", str(REPO / "bench-results")):
        os.makedirs(cand, exist_ok=True)
        kind = fs_type(cand)
        if kind not in ("tmpfs", "ramfs"):
            return cand, kind
    return tempfile.gettempdir(), fs_type(tempfile.gettempdir())


@contextlib.contextmanager
def fresh_dir(base: str, prefix: str) -> Iterator[str]:
    os.makedirs(base, exist_ok=True)
    path = tempfile.mkdtemp(prefix=f"tracker-bench-{prefix}-", dir=base)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


# -- MLflow ----------------------------------------------------------------------------------------
def load_mlflow() -> tuple[Any, str]:
    """(MlflowClient class or None, version or the reason it is missing)."""
    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"  # MLflow >= 3.13 refuses a file store without
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")  # no network, no telemetry threads
    os.environ.setdefault("DO_NOT_TRACK", "true")
    warnings.filterwarnings("ignore", module=r"mlflow.*")
    warnings.filterwarnings("ignore", message=r".*[Ff]ile ?[Ss]tore.*")
    warnings.filterwarnings("ignore", message=r".*filesystem.*")
    try:
        import mlflow
        from mlflow import MlflowClient
    except ImportError as exc:
        return None, f"MLflow is not installed ({exc}); pip install -e '.[bench]'"
    logging.getLogger("mlflow").setLevel(logging.ERROR)
    return MlflowClient, str(mlflow.__version__)


def mlflow_uri(path: str) -> str:
    return Path(path).resolve().as_uri()


# -- workloads: ours -------------------------------------------------------------------------------
def tag_value(i: int, j: int) -> str:
    return f"value-{i}-{j}"


def meta_value(i: int, j: int) -> float:
    return round(0.001 * i + j, 6)


def ours_resources(
    root: str, cfg: Config
) -> tuple[dict[str, list[float]], list[list[float]], list[Any]]:
    """a. N resources x (create, tags, metadata, close); per-op samples and per-resource tags."""
    t = Tracker(root, git=False)
    w = t.create_resource("warmup", type=TYPE)  # the first write creates the run: not timed
    t.log_tag(w, "warm", "up")
    t.log_metadata(w, "warm", 1.0)
    t.clean_resource(w)
    ops: dict[str, list[float]] = defaultdict(list)
    per_resource_tags: list[list[float]] = []
    resources = []
    gc.collect()
    for i in range(cfg.n):
        t0 = pc()
        r = t.create_resource(f"r{i:05d}", type=TYPE)
        t1 = pc()
        tag_times = []
        for j in range(cfg.tags):
            a = pc()
            t.log_tag(r, f"tag{j}", tag_value(i, j))
            tag_times.append(pc() - a)
        for j in range(cfg.metas):
            a = pc()
            t.log_metadata(r, f"meta{j}", meta_value(i, j))
            ops["metadata"].append(pc() - a)
        t3 = pc()
        t.clean_resource(r)
        t4 = pc()
        ops["create"].append(t1 - t0)
        ops["tag"].extend(tag_times)
        ops["close"].append(t4 - t3)
        ops["resource_total"].append(t4 - t0)
        per_resource_tags.append(tag_times)
        resources.append(r)
    t0 = pc()
    t.stop()
    ops["stop"].append(pc() - t0)
    return ops, per_resource_tags, resources


def ours_reads(root: str, resources: list[Any], cfg: Config) -> dict[str, list[float]]:
    """d. bulk reads of closed resources from a fresh tracker."""
    t = Tracker(root, git=False)
    sample = spread(resources, cfg.read_sample)
    ops: dict[str, list[float]] = defaultdict(list)
    first = sample[0]
    i0 = int(first.id[1:])
    tags, meta = t.get_tags(first), t.get_all_metadata(first)
    want_tags = {f"tag{j}": tag_value(i0, j) for j in range(cfg.tags)}
    if tags != want_tags or len(meta) != cfg.metas:
        raise BenchError(f"get_tags/get_all_metadata of {first}: {tags!r} / {meta!r}")
    # one fresh tracker per kind of read, so that no read profits from another's cache
    t_bulk, t_desc, t_tag = (Tracker(root, git=False) for _ in range(3))
    gc.collect()
    for r in sample:
        a = pc()
        t_bulk.get_tags(r)
        t_bulk.get_all_metadata(r)
        ops["read_bulk"].append(pc() - a)
    for r in sample:
        a = pc()
        d = t_desc.describe(r)
        ops["describe"].append(pc() - a)
        if len(d["tags"]) != cfg.tags:
            raise BenchError(f"describe({r}) has {len(d['tags'])} tags")
    for r in sample:
        a = pc()
        t_tag.get_tag(r, "tag0")
        ops["get_tag"].append(pc() - a)
    for r in sample[: min(20, len(sample))]:
        a = pc()
        t2 = Tracker(root, git=False)
        t2.get_resource(r.id, type=TYPE)
        ops["get_resource"].append(pc() - a)
    return ops


def ours_artifacts(root: str, src: str, cfg: Config) -> dict[str, list[float]]:
    t = Tracker(root, git=False)
    r = t.create_resource("art", type=TYPE)
    t.log_artifact(r, "warm", src)
    samples = []
    gc.collect()
    for i in range(cfg.artifacts):
        a = pc()
        t.log_artifact(r, f"a{i:03d}", src)
        samples.append(pc() - a)
    m = t.artifacts(r)
    if len(m) != cfg.artifacts + 1 or m["a000"]["size"] != cfg.artifact_bytes:
        raise BenchError(f"artifacts: {len(m)} manifests")
    t.stop()
    return {"artifact": samples}


def ours_first_write(base: str, git: bool, creates: int) -> dict[str, list[float]]:
    """e. a fresh store: Tracker() + the first create (creates the run), then steady creates."""
    suffix = "git" if git else "nogit"
    with fresh_dir(base, f"first-{suffix}") as root:
        a = pc()
        t = Tracker(root, git=git)
        t.create_resource("first", type=TYPE)
        first = pc() - a
        steady = []
        for i in range(creates):
            a = pc()
            t.create_resource(f"c{i}", type=TYPE)
            steady.append(pc() - a)
        t.stop()
    return {f"first_write_{suffix}": [first], f"create_{suffix}": steady}


def ours_build_series(root: str, versions: int) -> dict[str, list[float]]:
    """c. one model with ``versions`` closed versions; 1 in 50 tagged status=DEPLOYED."""
    t = Tracker(root, git=False)
    creates = []
    for v in range(1, versions + 1):
        a = pc()
        r = t.create_resource("m", type=TYPE)
        creates.append(pc() - a)
        if r.version != v:
            raise BenchError(f"expected version {v}, got {r}")
        tags = {"i": str(v), "team": "a"}
        if v % TAGGED_EVERY == TAGGED_AT:
            tags["status"] = "DEPLOYED"
        t.log_tags(r, tags)
        t.log_metadata(r, "lr", 0.01)
        t.clean_resource(r)
    a = pc()
    t.stop()
    return {"create_next_version": creates, "build_stop": [pc() - a]}


def expected_newest(versions: int) -> int:
    top = versions - (versions - TAGGED_AT) % TAGGED_EVERY
    return top if top >= 1 else 0


def expected_count(versions: int) -> int:
    return sum(1 for v in range(1, versions + 1) if v % TAGGED_EVERY == TAGGED_AT)


def ours_query(root: str, kind: str, versions: int) -> float:
    t = Tracker(root, git=False)  # fresh: nothing cached in the process
    want = expected_newest(versions)
    a = pc()
    if kind == "prev_deployed":
        found = t.get_prev_resource_version(
            t.get_resource("m", type="model"), filters={"status": "DEPLOYED"}
        )
        got = [found.version] if isinstance(found, Resource) else []
    elif kind == "find_newest":
        got = [
            r.version for r in t.find(type=TYPE, id="m", where=WHERE, order_by="-version", limit=1)
        ]
    else:
        got = [r.version for r in t.find(type=TYPE, id="m", where=WHERE)]
    dt = pc() - a
    if kind == "find_all":
        top = max((g or 0 for g in got), default=0)
        if len(got) != expected_count(versions) or top != want:
            raise BenchError(f"find all over {versions}: {len(got)} results, newest {top}")
    elif got != ([want] if want else []):
        raise BenchError(f"{kind} over {versions}: got {got}, expected {want}")
    return dt


# -- workloads: MLflow -----------------------------------------------------------------------------
def mlflow_resources(
    client_cls: Any, root: str, cfg: Config
) -> tuple[dict[str, list[float]], list[list[float]], list[str]]:
    c = client_cls(tracking_uri=mlflow_uri(root))
    exp = c.create_experiment("bench")
    w = c.create_run(exp).info.run_id  # warm-up, not timed
    c.set_tag(w, "warm", "up")
    c.log_param(w, "warm", "1.0")
    c.set_terminated(w)
    ops: dict[str, list[float]] = defaultdict(list)
    per_run_tags: list[list[float]] = []
    run_ids = []
    gc.collect()
    for i in range(cfg.n):
        t0 = pc()
        run_id = c.create_run(exp).info.run_id
        t1 = pc()
        tag_times = []
        for j in range(cfg.tags):
            a = pc()
            c.set_tag(run_id, f"tag{j}", tag_value(i, j))
            tag_times.append(pc() - a)
        for j in range(cfg.metas):
            a = pc()
            c.log_param(run_id, f"meta{j}", str(meta_value(i, j)))
            ops["metadata"].append(pc() - a)
        t3 = pc()
        c.set_terminated(run_id)
        t4 = pc()
        ops["create"].append(t1 - t0)
        ops["tag"].extend(tag_times)
        ops["close"].append(t4 - t3)
        ops["resource_total"].append(t4 - t0)
        per_run_tags.append(tag_times)
        run_ids.append(run_id)
    return ops, per_run_tags, run_ids


def mlflow_reads(
    client_cls: Any, root: str, run_ids: list[str], cfg: Config
) -> dict[str, list[float]]:
    c = client_cls(tracking_uri=mlflow_uri(root))
    sample = spread(run_ids, cfg.read_sample)
    run = c.get_run(sample[0])
    if len([k for k in run.data.tags if k.startswith("tag")]) != cfg.tags:
        raise BenchError(f"get_run: {run.data.tags}")
    samples = []
    gc.collect()
    for run_id in sample:
        a = pc()
        c.get_run(run_id)
        samples.append(pc() - a)
    return {"read_bulk": samples}


def mlflow_artifacts(client_cls: Any, root: str, src: str, cfg: Config) -> dict[str, list[float]]:
    c = client_cls(tracking_uri=mlflow_uri(root))
    run_id = c.create_run(c.create_experiment("art")).info.run_id
    c.log_artifact(run_id, src, artifact_path="warm")
    samples = []
    gc.collect()
    for i in range(cfg.artifacts):
        a = pc()
        c.log_artifact(run_id, src, artifact_path=f"a{i:03d}")
        samples.append(pc() - a)
    c.set_terminated(run_id)
    return {"artifact": samples}


def mlflow_first_write(client_cls: Any, base: str, creates: int) -> dict[str, list[float]]:
    with fresh_dir(base, "mlflow-first") as root:
        a = pc()
        c = client_cls(tracking_uri=mlflow_uri(root))
        c.create_run(c.create_experiment("first"))  # a fresh store has no experiment yet
        first = pc() - a
    return {"first_write_nogit": [first]}


def mlflow_build_series(
    client_cls: Any, root: str, versions: int
) -> tuple[dict[str, list[float]], str]:
    c = client_cls(tracking_uri=mlflow_uri(root))
    exp = c.create_experiment("m")
    base_ms = int(time.time() * 1000) - versions * 1000
    creates = []
    for v in range(1, versions + 1):
        tags = {"i": str(v), "team": "a"}
        if v % TAGGED_EVERY == TAGGED_AT:
            tags["status"] = "DEPLOYED"
        a = pc()
        run_id = c.create_run(exp, start_time=base_ms + v * 1000, tags=tags).info.run_id
        creates.append(pc() - a)
        c.log_param(run_id, "lr", "0.01")
        c.set_terminated(run_id, end_time=base_ms + v * 1000 + 500)
    return {"create_next_version": creates}, str(exp)


def mlflow_query(client_cls: Any, root: str, exp: str, kind: str, versions: int) -> float:
    c = client_cls(tracking_uri=mlflow_uri(root))
    want = expected_newest(versions)
    a = pc()
    if kind == "find_all":
        runs = c.search_runs(
            [exp], MLFLOW_FILTER, order_by=MLFLOW_ORDER, max_results=max(1000, versions)
        )
    else:
        runs = c.search_runs([exp], MLFLOW_FILTER, order_by=MLFLOW_ORDER, max_results=1)
    dt = pc() - a
    got = [int(r.data.tags["i"]) for r in runs]
    if kind == "find_all":
        if len(got) != expected_count(versions) or (got and got[0] != want):
            raise BenchError(f"MLflow search_runs over {versions}: {len(got)} results")
    elif got != ([want] if want else []):
        raise BenchError(f"MLflow search_runs max_results=1 over {versions}: {got}, want {want}")
    return dt


# -- workloads: the floor --------------------------------------------------------------------------
def floor_writes(root: str, cfg: Config, payload: bytes) -> dict[str, list[float]]:
    """f. write a small file to a temp name and rename it (dirs made beforehand, untimed)."""
    samples = []
    gc.collect()
    for i in range(cfg.n):
        d = f"{root}/r{i:05d}/tags"
        os.makedirs(d)
        for j in range(cfg.tags):
            final = f"{d}/tag{j}.yaml"
            tmp = f"{d}/.tmp-{j}"
            a = pc()
            with open(tmp, "wb") as fh:
                fh.write(payload)
            os.replace(tmp, final)
            samples.append(pc() - a)
    return {"write": samples}


def floor_copies(root: str, src: str, cfg: Config) -> dict[str, list[float]]:
    samples = []
    for i in range(cfg.artifacts):
        a = pc()
        shutil.copyfile(src, f"{root}/a{i:03d}")
        samples.append(pc() - a)
    return {"copy": samples}


def tag_payload() -> bytes:
    """A tag file as the tracker writes it, so the floor writes the same number of bytes."""
    from tracker.core.items import record

    return record("tag0", tag_value(123, 0), "20260101T000000Z-abcdef")[0]


# -- helpers ---------------------------------------------------------------------------------------
def spread(items: list[Any], k: int) -> list[Any]:
    if len(items) <= k:
        return list(items)
    step = len(items) / k
    return [items[int(i * step)] for i in range(k)]


def growth_samples(per_resource: list[list[float]], window: int) -> tuple[list[float], list[float]]:
    w = max(1, min(window, len(per_resource) // 2))
    first = [s for r in per_resource[:w] for s in r]
    last = [s for r in per_resource[-w:] for s in r]
    return first, last


def log(cfg: Config, msg: str) -> None:
    if cfg.verbose:
        print(msg, flush=True)


def order_for(rep: int, systems: list[str]) -> list[str]:
    return systems if rep % 2 == 0 else list(reversed(systems))


# -- the local runs --------------------------------------------------------------------------------
def run_local(
    place: str, base: str, reps: int, cfg: Config, client_cls: Any, rec: Recorder
) -> None:
    """a, b, d, e, f on ``base``: ``reps`` repetitions, fresh stores, alternating systems."""
    systems = ["ours", "mlflow"] if client_cls is not None else ["ours"]
    payload = tag_payload()
    with fresh_dir(base, "src") as srcdir:
        src = f"{srcdir}/blob.bin"
        with open(src, "wb") as fh:
            fh.write(os.urandom(cfg.artifact_bytes))
        for rep in range(reps):
            log(cfg, f"  [{place}] repetition {rep + 1}/{reps}")
            for system in order_for(rep, systems):
                with fresh_dir(base, f"{system}-a") as root:
                    if system == "ours":
                        ops, per_res, handles = ours_resources(root, cfg)
                        reads = ours_reads(root, handles, cfg)
                    else:
                        ops, per_res, handles = mlflow_resources(client_cls, root, cfg)
                        reads = mlflow_reads(client_cls, root, handles, cfg)
                for op, samples in {**ops, **reads}.items():
                    rec.add(place, system, op, samples)
                first, last = growth_samples(per_res, cfg.growth_window)
                rec.add(place, system, "tag_first", first)
                rec.add(place, system, "tag_last", last)
            with fresh_dir(base, "floor") as root:
                for op, samples in floor_writes(root, cfg, payload).items():
                    rec.add(place, "floor", op, samples)
            if cfg.artifacts:
                for system in order_for(rep, systems):
                    with fresh_dir(base, f"{system}-b") as root:
                        if system == "ours":
                            ops = ours_artifacts(root, src, cfg)
                        else:
                            ops = mlflow_artifacts(client_cls, root, src, cfg)
                    for op, samples in ops.items():
                        rec.add(place, system, op, samples)
                with fresh_dir(base, "floor-b") as root:
                    for op, samples in floor_copies(root, src, cfg).items():
                        rec.add(place, "floor", op, samples)
            creates = min(20, cfg.n)
            for system in order_for(rep, systems):
                if system == "ours":
                    for git in (False, True):
                        for op, samples in ours_first_write(base, git, creates).items():
                            rec.add(place, system, op, samples)
                else:
                    for op, samples in mlflow_first_write(client_cls, base, creates).items():
                        rec.add(place, system, op, samples)


def run_queries(base: str, cfg: Config, client_cls: Any, rec: Recorder) -> dict[str, Any]:
    """c. build each series once per system, then ``reps`` fresh-process-like lookups each."""
    systems = ["ours", "mlflow"] if client_cls is not None else ["ours"]
    builds: dict[str, Any] = {}
    for versions in cfg.versions:
        place = f"ram/{versions}"
        with contextlib.ExitStack() as stack:
            roots = {s: stack.enter_context(fresh_dir(base, f"{s}-c{versions}")) for s in systems}
            exp = None
            for system in systems:
                log(cfg, f"  [c] building {versions} versions ({system})")
                a = pc()
                if system == "ours":
                    ops = ours_build_series(roots[system], versions)
                else:
                    ops, exp = mlflow_build_series(client_cls, roots[system], versions)
                builds[f"{system}/{versions}"] = pc() - a
                for op, samples in ops.items():
                    rec.add(place, system, op, samples)
                    if op == "create_next_version":
                        first, last = growth_samples([[s] for s in samples], cfg.growth_window)
                        rec.add(place, system, "create_first", first)
                        rec.add(place, system, "create_last", last)
            for kind in ("prev_deployed", "find_newest", "find_all"):
                timings: dict[str, list[float]] = defaultdict(list)
                for rep in range(cfg.reps):
                    for system in order_for(rep, systems):
                        if system == "ours":
                            timings[system].append(ours_query(roots[system], kind, versions))
                        elif kind != "prev_deployed":
                            timings[system].append(
                                mlflow_query(client_cls, roots[system], str(exp), kind, versions)
                            )
                for system, values in timings.items():
                    # one lookup per repetition: each repetition's "median" is its one sample
                    for v in values:
                        rec.add(place, system, kind, [v])
    return {"build_seconds": builds}


# -- S3 (section g) --------------------------------------------------------------------------------
def s3_available() -> str | None:
    """None when section g can run, else why not."""
    for mod in ("s3fs", "moto", "boto3"):
        try:
            __import__(mod)
        except ImportError:
            return f"{mod} is not installed (pip install -e '.[test]')"
    for name in ("s3server.py", "proxy.py"):
        if not (REPO / "tests" / "support" / name).exists():
            return f"tests/support/{name} does not exist yet"
    return None


@contextlib.contextmanager
def s3_environment() -> Iterator[None]:
    from tests.support.s3server import ENV_VARS_TO_UNSET, s3_env

    saved = dict(os.environ)
    for name in ENV_VARS_TO_UNSET:
        os.environ.pop(name, None)
    os.environ.update(s3_env())
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def run_s3(cfg: Config, workdir: str) -> dict[str, Any]:
    """g. the tracker's operations against moto behind the counting proxy."""
    why = s3_available()
    if why:
        return {"skipped": why}
    import tests.support.proxy as proxy_mod
    from tests.support.proxy import S3Proxy
    from tests.support.s3server import MotoServer, make_bucket, storage_options

    raw: dict[str, list[tuple[float, int, dict[str, int]]]] = defaultdict(list)
    notes = []
    handler = getattr(proxy_mod, "_Handler", None)
    if handler is not None and not getattr(handler, "disable_nagle_algorithm", False):
        # The proxy writes a response's headers and body in two sends; with Nagle's algorithm on
        # and the client's delayed ACK, every response with a body waits ~40 ms. Measured: a GET
        # takes 48 ms through the proxy and 6 ms direct. TCP_NODELAY removes that artefact.
        handler.disable_nagle_algorithm = True
        notes.append("set TCP_NODELAY on tests/support/proxy.py's handler (Nagle: +40 ms per GET)")
    with s3_environment(), MotoServer() as moto, S3Proxy(moto.endpoint_url) as proxy:
        make_bucket(moto.endpoint_url, "bench")
        so = storage_options(proxy.url)
        url = "s3://bench/store"

        def measure(op: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
            proxy.reset_counts()
            a = pc()
            out = fn(*args, **kwargs)
            dt = pc() - a
            raw[op].append((dt, proxy.total, dict(proxy.counts)))
            return out

        def fresh() -> Any:
            return Tracker(url, storage_options=so, git=False, progress=False)

        def warm() -> Any:
            """A fresh tracker whose s3fs client has made one request (connection set-up is
            not the operation's cost)."""
            tr = fresh()
            tr.get_tag("model_version/w@1", "none")
            return tr

        k = cfg.s3_n
        t = fresh()
        measure("first write (fresh store, run start)", t.create_resource, "w", type=TYPE)
        closed = []
        for i in range(k):
            r = measure("create_resource (new id)", t.create_resource, f"r{i}", type=TYPE)
            for j in range(cfg.tags):
                measure("log_tag", t.log_tag, r, f"tag{j}", tag_value(i, j))
            for j in range(cfg.metas):
                measure("log_metadata", t.log_metadata, r, f"meta{j}", meta_value(i, j))
            measure("clean_resource", t.clean_resource, r)
            closed.append(r)
        opened = []
        for i in range(k):
            r = t.create_resource(f"o{i}", type=TYPE)
            tags = {f"tag{j}": tag_value(i, j) for j in range(cfg.tags)}
            measure(f"log_tags ({cfg.tags} at once)", t.log_tags, r, tags)
            opened.append(r)
        tr_open = warm()
        for r in opened:
            measure(f"get_tags (open version, {cfg.tags} tags, no snapshot)", tr_open.get_tags, r)
        with fresh_dir(workdir, "s3src") as srcdir:
            src = f"{srcdir}/blob.bin"
            with open(src, "wb") as fh:
                fh.write(os.urandom(cfg.artifact_bytes))
            art = t.create_resource("art", type=TYPE)
            size = f"{cfg.artifact_bytes // 1024} KiB"
            for i in range(min(k, 5)):
                measure(f"log_artifact ({size})", t.log_artifact, art, f"a{i}", src)
            t2 = warm()
            for i in range(min(k, 5)):
                with fresh_dir(workdir, "s3dest") as dest:
                    measure(
                        "get_artifact (download + verify)", t2.get_artifact, art, f"a{i}", dest=dest
                    )
        measure(f"stop() (closes the {2 * k + 2} versions it created)", t.stop)
        # reads from fresh trackers (nothing cached in the process)
        tr, tr_latest = warm(), warm()
        for i, r in enumerate(closed):
            measure("get_tag (one key)", tr.get_tag, r, "tag0")
            got = measure(
                "get_tags + get_all_metadata (closed)",
                lambda tr, r: (tr.get_tags(r), tr.get_all_metadata(r)),
                tr,
                r,
            )
            if got[0] != {f"tag{j}": tag_value(i, j) for j in range(cfg.tags)}:
                raise BenchError(f"S3 get_tags({r}): {got[0]}")
            measure("describe (closed)", tr.describe, r)
            measure("get_resource (latest, by id)", tr_latest.get_resource, f"r{i}", type=TYPE)
        # a series for the lookups
        v_s3 = cfg.s3_versions
        ts = fresh()
        for v in range(1, v_s3 + 1):
            r = measure("create_resource (next version)", ts.create_resource, "m", type=TYPE)
            tags = {"i": str(v), "team": "a"}
            if v % TAGGED_EVERY == TAGGED_AT:
                tags["status"] = "DEPLOYED"
            ts.log_tags(r, tags)
            ts.clean_resource(r)
        ts.stop()
        want = expected_newest(v_s3)

        def prev_deployed(tr: Any) -> Any:
            model = tr.get_resource("m", type="model")
            return tr.get_prev_resource_version(model, filters={"status": "DEPLOYED"})

        for _ in range(cfg.s3_reps):
            got = measure(
                f"get_prev_resource_version DEPLOYED ({v_s3} versions)", prev_deployed, warm()
            )
            if (got.version if got else 0) != want:
                raise BenchError(f"S3 prev deployed: {got}, want {want}")
            tr = warm()
            measure(
                f"find DEPLOYED limit=1 ({v_s3} versions)",
                tr.find,
                type=TYPE,
                id="m",
                where=WHERE,
                order_by="-version",
                limit=1,
            )
            tr = warm()
            got = measure(
                f"find DEPLOYED all ({v_s3} versions)", tr.find, type=TYPE, id="m", where=WHERE
            )
            if len(got) != expected_count(v_s3):
                raise BenchError(f"S3 find all: {len(got)}")
    out: dict[str, Any] = {"ops": {}, "notes": notes}
    for op, samples in raw.items():
        times = [s[0] for s in samples]
        counts = [s[1] for s in samples]
        methods: dict[str, float] = defaultdict(float)
        for _, _, m in samples:
            for meth, c in m.items():
                methods[meth] += c / len(samples)
        out["ops"][op] = {
            "median_s": statistics.median(times),
            "p95_s": pct(times, 95),
            "requests_median": statistics.median(counts),
            "requests_min": min(counts),
            "requests_max": max(counts),
            "requests_by_method_mean": {m: round(c, 2) for m, c in sorted(methods.items())},
            "n": len(samples),
        }
    return out


# -- report ----------------------------------------------------------------------------------------
ROWS: list[tuple[str, str, str | None, str | None, str | None]] = [
    # (section, label, our op, MLflow op, floor op)
    ("a", "create_resource (new id) | create_run", "create", "create", None),
    ("a", "log_tag | set_tag", "tag", "tag", "write"),
    ("a", "log_metadata | log_param", "metadata", "metadata", "write"),
    ("a", "clean_resource | set_terminated", "close", "close", None),
    ("a", "one resource: create+10 tags+5 meta+close", "resource_total", "resource_total", None),
    ("a", "stop() after N resources (once per rep)", "stop", None, None),
    ("a", "growth: tag write, first {w} resources", "tag_first", "tag_first", "write"),
    ("a", "growth: tag write, last {w} resources", "tag_last", "tag_last", "write"),
    ("b", "log_artifact 1 MiB | log_artifact (floor: copyfile)", "artifact", "artifact", "copy"),
    ("d", "get_tags+get_all_metadata | get_run", "read_bulk", "read_bulk", None),
    ("d", "describe | get_run", "describe", "read_bulk", None),
    ("d", "get_tag (one key)", "get_tag", None, None),
    ("d", "get_resource(id) from a new Tracker", "get_resource", None, None),
    (
        "e",
        "first write, fresh store, git=False | create_run",
        "first_write_nogit",
        "first_write_nogit",
        None,
    ),
    ("e", "first write, fresh store, git=True", "first_write_git", None, None),
    ("e", "create_resource after start, git=True", "create_git", None, None),
    ("f", "floor: write tmp + rename", None, None, "write"),
]
QUERY_ROWS: list[tuple[str, str, str, str | None]] = [
    (
        "e",
        "create_resource (next version) | create_run",
        "create_next_version",
        "create_next_version",
    ),
    ("e", "growth: next version, first {w}", "create_first", "create_first"),
    ("e", "growth: next version, last {w}", "create_last", "create_last"),
    ("e", "stop() after creating the series (re-closes it)", "build_stop", None),
    (
        "c",
        "newest DEPLOYED: get_prev_resource_version | search_runs(max_results=1)",
        "prev_deployed",
        "find_newest",
    ),
    (
        "c",
        "newest DEPLOYED: find(limit=1) | search_runs(max_results=1)",
        "find_newest",
        "find_newest",
    ),
    ("c", "all DEPLOYED: find() | search_runs()", "find_all", "find_all"),
]


def med(s: dict[str, Any] | None) -> float | None:
    return None if s is None else s["median_s"]


def ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or b == 0 else a / b


def build_rows(rec: Recorder, places: list[str], cfg: Config) -> list[dict[str, Any]]:
    rows = []
    w = max(1, min(cfg.growth_window, cfg.n // 2))
    for place in places:
        for section, label, ours, mlf, flo in ROWS:
            o = rec.summary(place, "ours", ours) if ours else None
            m = rec.summary(place, "mlflow", mlf) if mlf else None
            f = rec.summary(place, "floor", flo) if flo else None
            if o is None and f is None:
                continue
            rows.append(_row(place, section, label.format(w=w), o, m, f))
    for versions in cfg.versions:
        place = f"ram/{versions}"
        for section, label, ours, mlf in QUERY_ROWS:
            o = rec.summary(place, "ours", ours)
            m = rec.summary(place, "mlflow", mlf) if mlf else None
            if o is None:
                continue
            wv = max(1, min(cfg.growth_window, versions // 2))
            label = f"{label.format(w=wv)} [{versions} versions]"
            rows.append(_row(place, section, label, o, m, None))
    return rows


def _row(place: str, section: str, label: str, o: Any, m: Any, f: Any) -> dict[str, Any]:
    main = o if o is not None else f
    return {
        "place": place,
        "section": section,
        "op": label,
        "ours": o,
        "mlflow": m,
        "floor": f,
        "ours_over_mlflow": ratio(med(o), med(m)),
        "ours_over_floor": ratio(med(o), med(f)) if o is not None else None,
        "median_s": med(main),
    }


def find_row(rows: list[dict[str, Any]], place: str, op_prefix: str) -> dict[str, Any] | None:
    return next((r for r in rows if r["place"] == place and r["op"].startswith(op_prefix)), None)


def targets(rows: list[dict[str, Any]], cfg: Config, rec: Recorder) -> list[dict[str, Any]]:
    out = []

    def add(name: str, value: float | None, limit: float, cmp: str, detail: str) -> None:
        met = None if value is None else (value <= limit if cmp == "<=" else value >= limit)
        out.append(
            {
                "target": name,
                "value": value,
                "limit": limit,
                "cmp": cmp,
                "met": met,
                "detail": detail,
            }
        )

    tag = find_row(rows, "ram", "log_tag")
    add(
        "tag write <= 1/5 of MLflow set_tag (ours/MLflow)",
        tag["ours_over_mlflow"] if tag else None,
        0.2,
        "<=",
        "ram, medians",
    )
    for label in ("get_tags+get_all_metadata", "describe"):
        row = find_row(rows, "ram", label)
        add(
            f"read a resource ({label}) <= 1/5 of get_run",
            row["ours_over_mlflow"] if row else None,
            0.2,
            "<=",
            "ram, closed resource, fresh tracker",
        )
    big = max(cfg.versions, default=0)
    for label in ("newest DEPLOYED: get_prev", "newest DEPLOYED: find(limit=1)", "all DEPLOYED"):
        row = find_row(rows, f"ram/{big}", label)
        r = row["ours_over_mlflow"] if row else None
        add(
            f"{label}... over {big} versions >= 10x faster than search_runs (ours/MLflow)",
            r,
            0.1,
            "<=",
            "ram",
        )
    add("tag write <= 3x the floor", tag["ours_over_floor"] if tag else None, 3.0, "<=", "ram")
    first = med(rec.summary("ram", "ours", "tag_first"))
    last = med(rec.summary("ram", "ours", "tag_last"))
    w = max(1, min(cfg.growth_window, cfg.n // 2))
    add(
        f"tag write growth: last {w} / first {w} <= 1.3",
        ratio(last, first),
        1.3,
        "<=",
        f"ram, N={cfg.n}",
    )
    return out


def print_table(result: dict[str, Any]) -> None:
    rows = result["rows"]
    meta = result["meta"]
    print()
    print(
        f"ram = {meta['ram_dir']} ({meta['ram_fs']}), {meta['config']['reps']} repetitions; "
        f"disk = {meta['disk_dir']} ({meta['disk_fs']}), one pass; ram/<V> = section c over a "
        f"series of V versions; MLflow {meta['mlflow']}; {meta['cpus']} CPUs"
    )
    head = (
        f"{'where':<9} {'§':<1} {'operation (ours | MLflow)':<72} {'ours med':>9} "
        f"{'ours p95':>9} {'MLflow med':>10} {'MLflow p95':>10} {'floor':>8} {'/MLflow':>8} "
        f"{'/floor':>7}"
    )
    print()
    print(head)
    print("-" * len(head))
    for r in rows:
        o, m, f = r["ours"], r["mlflow"], r["floor"]
        print(
            f"{r['place']:<9} {r['section']:<1} {r['op'][:72]:<72} "
            f"{fmt_time(o and o['median_s']):>9} {fmt_time(o and o['p95_s']):>9} "
            f"{fmt_time(m and m['median_s']):>10} {fmt_time(m and m['p95_s']):>10} "
            f"{fmt_time(f and f['median_s']):>8} {fmt_ratio(r['ours_over_mlflow']):>8} "
            f"{fmt_ratio(r['ours_over_floor']):>7}"
        )
    g = result.get("growth") or {}
    if g:
        print()
        for system, v in g.items():
            print(f"growth ({system}): tag write, last / first resources = {fmt_ratio(v)}")
    s3 = result.get("s3") or {}
    print()
    if "skipped" in s3:
        print(f"g. S3: skipped: {s3['skipped']}")
    elif s3:
        print(
            "g. S3 (moto server on localhost behind the counting proxy; ms are moto's, not AWS's)"
        )
        print(f"   {'operation':<58} {'median':>9} {'p95':>9} {'requests':>9}  by method (mean)")
        for op, v in s3["ops"].items():
            req = f"{v['requests_median']:g}"
            if v["requests_min"] != v["requests_max"]:
                req += f" ({v['requests_min']}-{v['requests_max']})"
            print(
                f"   {op:<58} {fmt_time(v['median_s']):>9} {fmt_time(v['p95_s']):>9} "
                f"{req:>9}  {v['requests_by_method_mean']}"
            )
    print()
    print("targets:")
    for t in result["targets"]:
        mark = {True: "MET   ", False: "MISSED", None: "n/a   "}[t["met"]]
        value = "-" if t["value"] is None else f"{t['value']:.3f}"
        print(f"  {mark} {t['target']}: {value} (limit {t['cmp']} {t['limit']})")
    for note in [*result["notes"], *(s3.get("notes") or [])]:
        print(f"note: {note}")


# -- profiling (--profile) -------------------------------------------------------------------------
def profile_ours(base: str, cfg: Config, out_dir: str) -> dict[str, str]:
    """cProfile our side of a (tag writes), d (bulk reads) and c (find all over the largest
    series); writes ``profile-*.txt`` next to the JSON and returns their paths."""
    os.makedirs(out_dir, exist_ok=True)
    files = {}

    def dump(name: str, prof: cProfile.Profile) -> None:
        buf = io.StringIO()
        stats = pstats.Stats(prof, stream=buf)
        stats.sort_stats("tottime").print_stats(25)
        stats.sort_stats("cumulative").print_stats(25)
        path = os.path.join(out_dir, f"profile-{name}.txt")
        with open(path, "w") as fh:
            fh.write(buf.getvalue())
        files[name] = path

    with fresh_dir(base, "profile") as root:
        t = Tracker(root, git=False)
        handles = [t.create_resource(f"r{i:05d}", type=TYPE) for i in range(cfg.n)]
        prof = cProfile.Profile()
        prof.enable()
        for i, r in enumerate(handles):
            for j in range(cfg.tags):
                t.log_tag(r, f"tag{j}", tag_value(i, j))
        prof.disable()
        dump("log_tag", prof)
        for i, r in enumerate(handles):
            for j in range(cfg.metas):
                t.log_metadata(r, f"meta{j}", meta_value(i, j))
        prof = cProfile.Profile()
        prof.enable()
        for r in handles:
            t.clean_resource(r)
        prof.disable()
        dump("clean_resource", prof)
        t.stop()
        t = Tracker(root, git=False)
        prof = cProfile.Profile()
        prof.enable()
        for r in handles:
            t.get_tags(r)
            t.get_all_metadata(r)
        prof.disable()
        dump("read_bulk", prof)
        prof = cProfile.Profile()
        prof.enable()
        for r in handles:
            t.describe(r)
        prof.disable()
        dump("describe", prof)
    big = max(cfg.versions, default=0)
    if not big:
        return files
    with fresh_dir(base, "profile-c") as root:
        ours_build_series(root, big)
        t = Tracker(root, git=False)
        prof = cProfile.Profile()
        prof.enable()
        t.find(type=TYPE, id="m", where=WHERE)
        prof.disable()
        dump(f"find_all_{big}", prof)
    return files


# -- main ------------------------------------------------------------------------------------------
def run(cfg: Config) -> dict[str, Any]:
    notes: list[str] = []
    client_cls, mlflow_version = (None, "disabled (--no-mlflow)")
    if not cfg.mlflow:
        notes.append("MLflow side skipped: disabled (--no-mlflow)")
    else:
        client_cls, mlflow_version = load_mlflow()
        if client_cls is None:
            notes.append(f"MLflow side skipped: {mlflow_version}")
            log(cfg, f"MLflow side SKIPPED: {mlflow_version}")
    ram, ram_fs = ram_base(cfg.ram_dir)
    load_start = _loadavg()
    rec = Recorder()
    started = pc()
    log(cfg, f"RAM store base: {ram} ({ram_fs}); N={cfg.n}, reps={cfg.reps}")
    run_local("ram", ram, cfg.reps, cfg, client_cls, rec)
    places = ["ram"]
    disk, disk_fs = (None, None)
    if cfg.disk:
        disk, disk_fs = disk_base(cfg.disk_dir)
        log(cfg, f"disk store base: {disk} ({disk_fs}); one pass")
        run_local("disk", disk, 1, cfg, client_cls, rec)
        places.append("disk")
    queries = run_queries(ram, cfg, client_cls, rec) if cfg.versions else {}
    s3: dict[str, Any] = {}
    if cfg.s3:
        log(cfg, "  [g] S3 (moto + counting proxy)")
        s3 = run_s3(cfg, ram)
    else:
        s3 = {"skipped": "disabled (--no-s3)"}
    rows = build_rows(rec, places, cfg)
    growth = {}
    for system in ("ours", "mlflow"):
        first = med(rec.summary("ram", system, "tag_first"))
        last = med(rec.summary("ram", system, "tag_last"))
        if first and last:
            growth[system] = last / first
    import yaml

    result: dict[str, Any] = {
        "meta": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "mlflow": mlflow_version,
            "pyyaml": yaml.__version__,
            "libyaml": bool(getattr(yaml, "__with_libyaml__", False)),
            "ram_dir": ram,
            "ram_fs": ram_fs,
            "disk_dir": disk,
            "disk_fs": disk_fs,
            "config": asdict(cfg),
            "seconds": None,
            "loadavg_start": load_start,
            "loadavg_end": _loadavg(),
            "method": (
                "per-op medians and p95 within each repetition, then the median over "
                "repetitions; fresh stores per repetition; systems alternate which goes first"
            ),
        },
        "rows": rows,
        "growth": growth,
        "queries": queries,
        "s3": s3,
        "notes": notes,
    }
    result["targets"] = (
        targets(rows, cfg, rec)
        if client_cls is not None
        else [
            t
            for t in targets(rows, cfg, rec)
            if "MLflow" not in t["target"]
            and "get_run" not in t["target"]
            and "search_runs" not in t["target"]
        ]
    )
    if cfg.profile:
        result["profiles"] = profile_ours(ram, cfg, os.path.dirname(cfg.out or "bench-results/x"))
    result["meta"]["seconds"] = round(pc() - started, 1)
    if cfg.out:
        os.makedirs(os.path.dirname(os.path.abspath(cfg.out)), exist_ok=True)
        with open(cfg.out, "w") as fh:
            json.dump(result, fh, indent=1, default=str)
    if cfg.verbose:
        print_table(result)
        meta = result["meta"]
        print(f"load average at start {meta['loadavg_start']}, at end {meta['loadavg_end']}")
        if cfg.out:
            print(f"saved {cfg.out} ({meta['seconds']} s)")
    return result


def _loadavg() -> list[float] | None:
    """The 1/5/15-minute load averages: other work on the machine skews every number."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def smoke(out: str | None = None, s3: bool | None = None, mlflow: bool = True) -> dict[str, Any]:
    """A tiny run (N=20, one repetition) for CI: checks every workload still works, times
    nothing. MLflow's side is skipped (and a note says so) when MLflow is not installed; S3's
    when moto/s3fs are missing (``s3=None``: whenever they are present)."""
    cfg = Config(
        n=20,
        reps=1,
        versions=(60,),
        artifacts=3,
        artifact_bytes=64 * 1024,
        read_sample=10,
        growth_window=5,
        disk=False,
        mlflow=mlflow,
        s3=(s3_available() is None) if s3 is None else s3,
        s3_n=2,
        s3_versions=26,
        s3_reps=1,
        out=out,
        verbose=False,
    )
    result = run(cfg)
    for note in result["notes"]:
        print(f"bench smoke: {note}")
    if result["s3"].get("skipped") and cfg.s3:
        raise BenchError(f"S3 section failed to run: {result['s3']['skipped']}")
    return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m tests.benchmarks.bench", description=__doc__.split("\n\n")[0]
    )
    p.add_argument("--n", type=int, default=500, help="resources in workload a (default 500)")
    p.add_argument("--reps", type=int, default=5, help="repetitions (default 5)")
    p.add_argument("--versions", default="500,5000", help="series sizes for c (default 500,5000)")
    p.add_argument("--artifacts", type=int, default=100, help="artifacts in b (default 100)")
    p.add_argument("--artifact-mib", type=float, default=1.0, help="artifact size (default 1)")
    p.add_argument("--ram-dir", help="where the RAM stores go (default /dev/shm when tmpfs)")
    p.add_argument("--disk-dir", help="where the disk pass goes (default: a non-tmpfs temp dir)")
    p.add_argument("--no-disk", action="store_true", help="skip the pass on the disk")
    p.add_argument("--no-mlflow", action="store_true", help="skip the MLflow side")
    p.add_argument("--no-s3", action="store_true", help="skip section g (S3)")
    p.add_argument("--s3-n", type=int, default=10, help="resources in section g (default 10)")
    p.add_argument("--out", default="bench-results/bench.json", help="JSON output path")
    p.add_argument("--profile", action="store_true", help="also cProfile our side (a, d, c)")
    p.add_argument("--smoke", action="store_true", help="the tiny CI run (N=20), no JSON")
    args = p.parse_args(argv)
    if args.smoke:
        smoke()
        print("smoke: ok")
        return 0
    cfg = Config(
        n=args.n,
        reps=args.reps,
        versions=tuple(int(v) for v in args.versions.split(",") if v.strip()),
        artifacts=args.artifacts,
        artifact_bytes=int(args.artifact_mib * 1024 * 1024),
        ram_dir=args.ram_dir,
        disk_dir=args.disk_dir,
        disk=not args.no_disk,
        mlflow=not args.no_mlflow,
        s3=not args.no_s3,
        s3_n=args.s3_n,
        out=args.out,
        profile=args.profile,
    )
    run(cfg)
    return 0


if __name__ == "__main__":
    sys.exit(main())
