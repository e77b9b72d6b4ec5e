"""Concurrency: 8 processes x 500 mixed operations on shared resources, on a local root and on S3.

Each process (``tests/reliability_worker.py stress``) logs every operation with its start and end
on ``time.monotonic()`` (one clock for all processes of the machine). The rules checked:

- versions: unique, gap-free, each one exactly as its creator was told;
- writes: for every key, the value read back at the end (one key at a time, and in bulk through
  the snapshot) equals some acknowledged write ``w`` that no other write *started after ``w``
  completed* (such a write would have had to replace it). That is last-writer-wins, stated only
  with what the logs can prove; writes that overlap in time may land in either order;
- reads during the run: a read returns a value whose write had started before the read ended, and
  not one that a later write had already replaced before the read began; it returns nothing only
  if no write of that key had completed before the read began;
- afterwards fsck finds nothing but the artifact copies that lost a concurrent replacement (it
  removes them), and every run FINISHED.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import defaultdict
from typing import Any

import pytest

from tracker import Tracker
from tracker.core.check import check

WORKER = os.path.join(os.path.dirname(__file__), "reliability_worker.py")
TARGETS = ("dataset_version/data@1", "model_version/target@1")
KEY_OPS = ("tag", "metadata", "attr", "artifact")


def run_stress(
    root: str,
    tmp: str,
    processes: int,
    ops: int,
    storage_options: dict[str, Any] | None = None,
    timeout: float = 600,
) -> list[dict[str, Any]]:
    t = Tracker(root, storage_options=storage_options, git=False)
    t.create_resource("data", type="dataset_version")
    t.create_resource("target", type="model_version")
    t.stop()
    env = {**os.environ}
    if storage_options:
        env["TRACKER_TEST_STORAGE_OPTIONS"] = json.dumps(storage_options)
    start_at = str(time.time() + 2.0)
    logs = [os.path.join(tmp, f"stress-{i}.jsonl") for i in range(processes)]
    procs = [
        subprocess.Popen(
            [sys.executable, WORKER, "stress", root, logs[i], str(i), str(ops), str(i), start_at],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for i in range(processes)
    ]
    for p in procs:
        _, err = p.communicate(timeout=timeout)
        assert p.returncode == 0, err
    records = []
    for log in logs:
        with open(log) as fh:
            records += [json.loads(line) for line in fh]
    errors = [r for r in records if r["op"] == "error"]
    assert not errors, errors
    assert len(records) == processes * ops
    return records


def survivors(writes: list[dict[str, Any]]) -> list[Any]:
    """Values of writes that no write started after they completed: the allowed final values."""
    latest_start = max(w["start"] for w in writes)
    return [w["value"] for w in writes if w["end"] >= latest_start]


def check_read(key_writes: list[dict[str, Any]], value: Any, start: float, end: float) -> None:
    done_before = [w for w in key_writes if w["end"] < start]
    if value is None:
        assert not done_before, ("read nothing after a completed write", done_before[-1])
        return
    matches = [w for w in key_writes if w["value"] == value]
    assert matches, ("read a value nobody wrote", value)
    w = matches[0]  # values are unique per write
    assert w["start"] < end, ("read a value before its write began", w, start, end)
    replaced = [x for x in done_before if x["start"] > w["end"]]
    assert not replaced, ("read a value already replaced", value, replaced[0])


def verify(
    root: str, records: list[dict[str, Any]], storage_options: dict[str, Any] | None = None
) -> dict[str, int]:
    t = Tracker(root, storage_options=storage_options, git=False, progress=False)
    report = t.check()
    # two processes replacing one artifact at once: each removes the copy the manifest named when
    # it started, so the loser's fresh copy is left unreferenced (garbage for fsck, never data)
    assert {p.kind for p in report.problems} <= {"orphan-artifact"}, report.as_dict()
    if not report.ok:
        assert check(t._store, repair=True, grace=0, verify=False).ok

    # versions
    created: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in records:
        if r["op"] == "create":
            created[r["series"]].append(r)
    for series, recs in created.items():
        versions = sorted(int(r["ref"].rsplit("@", 1)[1]) for r in recs)
        assert versions == list(range(1, len(recs) + 1)), (series, versions)
        assert t.get_resource(series, "model_version").version == len(recs)
        if series == "alpha":  # the query path too (reads every version's record)
            assert sorted(r.version for r in t.find(type="model_version", id=series)) == versions
        for r in recs:
            res = t.get_resource(series, "model_version", version=int(r["ref"].rsplit("@", 1)[1]))
            assert res.run_id == r["run_id"]

    # every key's final value: one key at a time, and in bulk (through the snapshots)
    writes: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
    for r in records:
        if r["op"] in KEY_OPS:
            writes[(r["op"], r["ref"], r["key"])].append(r)
    described = {ref: t.describe(ref) for ref in TARGETS}
    for (op, ref, key), ws in writes.items():
        allowed = survivors(ws)
        d = described[ref]
        if op == "tag":
            single, bulk = t.get_tag(ref, key), d["tags"][key]
        elif op == "metadata":
            single, bulk = t.get_metadata(ref, key), d["metadata"][key]
        elif op == "attr":
            single, bulk = t.get_attributes(ref)[key], d["attrs"][key]
        else:
            single, bulk = t.artifacts(ref)[key]["sha256"], d["artifacts"][key]["sha256"]
            t.get_artifact(ref, key)  # the copy matches its manifest
        assert single in allowed, (op, ref, key, single, allowed)
        assert bulk == single, (op, ref, key, bulk, single)

    # reads while others wrote
    reads = 0
    for r in records:
        if r["op"] == "read":
            key_writes = writes.get(("tag", r["ref"], r["key"]), [])
            check_read(key_writes, r["value"], r["start"], r["end"])
            reads += 1
        elif r["op"] == "bulk":
            for key in {k for (op, ref, k) in writes if op == "tag" and ref == r["ref"]}:
                got = r["value"].get(key)
                check_read(writes[("tag", r["ref"], key)], got, r["start"], r["end"])
            reads += 1

    statuses = {run["status"] for run in t.runs()}
    assert statuses == {"FINISHED"}, statuses
    return {
        "versions": sum(len(v) for v in created.values()),
        "keys": len(writes),
        "writes": sum(len(v) for v in writes.values()),
        "reads": reads,
    }


def test_eight_processes_mixed_operations_local(tmp_path, torture):
    root = str(tmp_path / "store")
    records = run_stress(root, str(tmp_path), 8, 500)
    stats = verify(root, records)
    assert stats["versions"] > 600 and stats["writes"] > 1500 and stats["reads"] > 500, stats


def test_eight_processes_mixed_operations_s3(s3_backend, tmp_path, torture):
    ops = 500 if torture else 30
    records = run_stress(s3_backend.root, str(tmp_path), 8, ops, s3_backend.storage_options)
    stats = verify(s3_backend.root, records, s3_backend.storage_options)
    assert stats["versions"] > ops and stats["writes"] > 2 * ops, stats


def test_survivors_rule():
    """The rule itself: a write survives unless another write started after it completed."""
    w = [
        {"value": "a", "start": 0.0, "end": 1.0},
        {"value": "b", "start": 0.5, "end": 3.0},  # overlaps a and c
        {"value": "c", "start": 2.0, "end": 2.5},  # starts after a completed: a is out
    ]
    assert survivors(w) == ["b", "c"]
    check_read(w, "b", 3.5, 4.0)
    check_read(w, "c", 2.7, 2.8)
    with pytest.raises(AssertionError):
        check_read(w, "a", 2.6, 2.7)  # c replaced a (started after a ended) before the read
    with pytest.raises(AssertionError):
        check_read(w, None, 1.5, 1.6)  # a had completed
    check_read(w, None, 0.1, 0.2)


def test_snapshot_is_not_fooled_by_a_coarse_clock(tmp_path):
    """A key rewritten after the snapshot with the same size in the same clock tick (ext4 on many
    kernels: ~4 ms; HFS+: 1 s; FAT: 2 s; simulated by setting the mtime back) must still win."""
    root = tmp_path / "store"
    t = Tracker(str(root), git=False)
    res = t.create_resource("m", type="model_version")
    t.log_tag(res, "k", "value-1")
    f = root / "resources/model_version/m/1/tags/k.yaml"
    tick = os.stat(f).st_mtime_ns
    t.clean_resource(res)
    t.log_tag(res, "k", "value-2")  # same size
    os.utime(f, ns=(tick, tick))
    assert t.get_tag(res, "k") == "value-2"
    assert t.get_tags(res)["k"] == "value-2"
    t.stop()
