"""Evidence for notes/bench-findings.md: what the bulk reads and ``find`` would cost with a JSON
snapshot, and what a series-level index would cost. A prototype, not a proposal of code: it
monkeypatches the tracker in this process only and changes nothing on disk outside a temp dir.

    python -m tests.benchmarks.proto_snapshot [--n 300] [--versions 5000]

Prints, per variant, microseconds per call of ``get_tags + get_all_metadata``, ``describe`` and
``find(where="tags.status = 'DEPLOYED'")`` over one series, plus the parts they are made of.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as _dt
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import tracker.core.items as items_mod  # noqa: E402
from tracker import Tracker  # noqa: E402
from tracker.store import paths  # noqa: E402
from tracker.store.codec import loads as yaml_loads  # noqa: E402

pc = time.perf_counter
TYPE = "model_version"
WHERE = "tags.status = 'DEPLOYED'"


def best_of(fn: Callable[[], Any], n: int, reps: int = 5) -> float:
    """Median over ``reps`` of the mean time of one of ``n`` calls inside ``fn`` (seconds)."""
    times = []
    for _ in range(reps):
        a = pc()
        fn()
        times.append((pc() - a) / n)
    return statistics.median(times)


def _json_default(value: Any) -> Any:
    if isinstance(value, _dt.datetime | _dt.date):
        return value.isoformat()  # the real change needs a typed form; fine for timing
    if isinstance(value, bytes):
        return value.decode("latin-1")
    raise TypeError(type(value))


@contextlib.contextmanager
def json_snapshot() -> Iterator[None]:
    """Write snapshot.yaml as JSON (JSON is YAML, so old readers still read it) and parse any
    file that starts with '{' with json.loads."""
    orig_dumps, orig_loads = items_mod.dumps, items_mod.loads

    def dumps(data: Any, key: str = "value") -> bytes:
        if isinstance(data, dict) and "files" in data and "written_at" in data:
            return json.dumps(data, default=_json_default, separators=(",", ":")).encode()
        return orig_dumps(data, key)

    def loads(data: bytes, where: str = "") -> Any:
        if data[:1] == b"{":
            return json.loads(data)
        return orig_loads(data, where)

    items_mod.dumps, items_mod.loads = dumps, loads
    try:
        yield
    finally:
        items_mod.dumps, items_mod.loads = orig_dumps, orig_loads


def build(root: str, n: int, versions: int) -> list[Any]:
    t = Tracker(root, git=False)
    handles = []
    for i in range(n):
        r = t.create_resource(f"r{i:05d}", type=TYPE)
        t.log_tags(r, {f"tag{j}": f"value-{i}-{j}" for j in range(10)})
        for j in range(5):
            t.log_metadata(r, f"meta{j}", 0.001 * i + j)
        t.clean_resource(r)
        handles.append(r)
    for v in range(1, versions + 1):
        r = t.create_resource("m", type=TYPE)
        tags = {"i": str(v), "team": "a"}
        if v % 50 == 25:
            tags["status"] = "DEPLOYED"
        t.log_tags(r, tags)
        t.log_metadata(r, "lr", 0.01)
        t.clean_resource(r)
    t.stop()
    return handles


def resnapshot(root: str, handles: list[Any], versions: int) -> None:
    """Rewrite every snapshot under the active codec (what clean_resource would have written)."""
    t = Tracker(root, git=False)
    kinds = ("attrs", "tags", "metadata", "manifests")
    for r in handles:
        t._items.snapshot(paths.version_dir(r.type, r.id, r.version), kinds)
    for v in range(1, versions + 1):
        t._items.snapshot(paths.version_dir(TYPE, "m", v), kinds)


def measure(root: str, handles: list[Any], versions: int) -> dict[str, float]:
    out = {}

    def bulk() -> None:
        t = Tracker(root, git=False)
        for r in handles:
            t.get_tags(r)
            t.get_all_metadata(r)

    def describe() -> None:
        t = Tracker(root, git=False)
        for r in handles:
            t.describe(r)

    def find_all() -> None:
        Tracker(root, git=False).find(type=TYPE, id="m", where=WHERE)

    out["get_tags+get_all_metadata"] = best_of(bulk, len(handles))
    out["describe"] = best_of(describe, len(handles))
    out[f"find all over {versions} (per call)"] = best_of(find_all, 1, reps=3)

    def rewrite_snapshots() -> None:  # what clean_resource and stop() spend most time on
        t = Tracker(root, git=False)
        kinds = ("attrs", "tags", "metadata", "manifests")
        for r in handles:
            t._items.snapshot(paths.version_dir(r.type, r.id, r.version), kinds)

    out["rewrite one snapshot (Items.snapshot, as clean_resource/stop do)"] = best_of(
        rewrite_snapshots, len(handles), reps=3
    )
    snap = f"{root}/{paths.snapshot_file(TYPE, handles[0].id, 1)}"
    data = Path(snap).read_bytes()
    out[f"parse one snapshot ({len(data)} B)"] = best_of(
        lambda: [items_mod.loads(data, snap) for _ in range(200)], 200
    )
    rdoc = Path(f"{root}/{paths.resource_file(TYPE, 'm', 1)}").read_bytes()
    out["parse one resource.yaml (YAML)"] = best_of(
        lambda: [yaml_loads(rdoc) for _ in range(200)], 200
    )
    return out


def dir_mtime_lower_bound(root: str, handles: list[Any]) -> dict[str, float]:
    """Bulk reads that validate a JSON snapshot by the mtime of each kind's directory (one stat
    per kind instead of a scan + one stat per key file): the syscalls and parsing only."""
    vdirs = [f"{root}/{paths.version_dir(r.type, r.id, r.version)}" for r in handles]

    def one(vdir: str, kind: str) -> dict[str, Any]:
        mtime = os.stat(f"{vdir}/{kind}").st_mtime_ns
        with open(f"{vdir}/snapshot.yaml", "rb") as fh:
            snap = json.loads(fh.read())
        if snap.get("dirs", {}).get(kind, mtime) != mtime:
            raise AssertionError("stale")
        prefix = f"{kind}/"
        return {
            rel[len(prefix) : -5]: f["doc"]["value"]
            for rel, f in snap["files"].items()
            if rel.startswith(prefix)
        }

    def bulk() -> None:
        for d in vdirs:
            one(d, "tags")
            one(d, "metadata")

    return {"get_tags+get_all_metadata, dir-mtime validated": best_of(bulk, len(vdirs))}


def index_lower_bound(root: str, versions: int) -> dict[str, float]:
    """What a series index (one JSON file with every closed version's record, validated by the
    mtimes of each version's attrs/tags/metadata directories) would cost to use."""
    t = Tracker(root, git=False)
    records = {}
    for v in range(1, versions + 1):
        r = t.get_resource("m", type=TYPE, version=v)
        records[v] = t._query.record(r)
    vdirs = [f"{root}/{paths.version_dir(TYPE, 'm', v)}" for v in range(1, versions + 1)]
    stamps = {
        v: [os.stat(f"{d}/{k}").st_mtime_ns for k in ("attrs", "tags", "metadata")]
        for v, d in zip(range(1, versions + 1), vdirs, strict=True)
    }
    blob = json.dumps(
        {"versions": {v: {"stamps": stamps[v], "record": records[v]} for v in records}},
        default=_json_default,
    ).encode()

    def use() -> None:
        index = json.loads(blob)["versions"]
        for v, d in zip(range(1, versions + 1), vdirs, strict=True):
            now = [os.stat(f"{d}/{k}").st_mtime_ns for k in ("attrs", "tags", "metadata")]
            entry = index[str(v)]
            if entry["stamps"] != now:
                raise AssertionError("stale")
            _ = entry["record"]["tags"].get("status") == "DEPLOYED"

    return {
        f"series index: json.loads ({len(blob) // 1024} KiB) + 3 stats per version, all "
        f"{versions}": best_of(use, 1, reps=5)
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tests.benchmarks.proto_snapshot")
    p.add_argument("--n", type=int, default=300)
    p.add_argument("--versions", type=int, default=5000)
    p.add_argument("--dir", default="/dev/shm" if os.path.isdir("/dev/shm") else None)
    args = p.parse_args(argv)
    root = tempfile.mkdtemp(prefix="tracker-proto-", dir=args.dir)
    try:
        handles = build(root, args.n, args.versions)
        results = {"current (YAML snapshot)": measure(root, handles, args.versions)}
        with json_snapshot():
            resnapshot(root, handles, args.versions)
            results["JSON snapshot"] = measure(root, handles, args.versions)
            results["JSON snapshot + dir-mtime check (lower bound)"] = dir_mtime_lower_bound(
                root, handles
            )
        results["series index (lower bound)"] = index_lower_bound(root, args.versions)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    for variant, values in results.items():
        print(variant)
        for name, seconds in values.items():
            print(f"  {name:<72} {seconds * 1e6:10.0f} µs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
