"""Crash safety: writers SIGKILLed at random moments, then fsck and every acknowledged write.

Writer processes (``tests/reliability_worker.py crash``) do mixed operations on one store and log
each operation's intent before it and its acknowledgement after it (fsynced), so after the kills
the test knows exactly what was acknowledged and which write was in flight. Two writer slots run
at once (keys are namespaced per slot, versions of one shared series are contended), each slot a
sequence of processes, every one of them killed.

Afterwards: fsck finds only garbage a crash may leave (temp files, unreferenced artifact copies,
empty version directories) and repairs it without touching data; every acknowledged write reads
back with its last acknowledged value (or the value of the write in flight at the kill, which may
have landed); versions are unique and gap-free; every killed run reads as CRASHED.

Also here: the durability knob ``Tracker(root, fsync=True)``.
"""

from __future__ import annotations

import json
import os
import random
import select
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import pytest

from tracker import Tracker
from tracker.core.check import check
from tracker.store import paths

WORKER = os.path.join(os.path.dirname(__file__), "reliability_worker.py")
GARBAGE = {"temp-file", "orphan-artifact", "orphan-version"}  # what a kill may leave behind


@dataclass
class Slot:
    name: str
    log: str
    proc: subprocess.Popen[str] | None = None
    spawned: float = 0.0
    ready_at: float | None = None
    kill_at: float = 0.0
    pids: list[int] = field(default_factory=list)


def crash_loop(
    root: str,
    tmp: str,
    kills: int,
    max_life: float,
    seed: int,
    env: dict[str, str] | None = None,
    slots: int = 2,
) -> list[Slot]:
    """Spawn writers in ``slots`` parallel lanes and SIGKILL each at a random moment."""
    rng = random.Random(seed)
    lanes = [Slot(str(i), os.path.join(tmp, f"log-{i}.jsonl")) for i in range(slots)]
    done = 0
    spawned = 0
    while done < kills:
        now = time.monotonic()
        for lane in lanes:
            p = lane.proc
            if p is None:
                if spawned >= kills:
                    continue
                spawned += 1
                seed_arg = str(rng.getrandbits(32))
                lane.proc = subprocess.Popen(
                    [sys.executable, WORKER, "crash", root, lane.log, lane.name, seed_arg],
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                    env={**os.environ, **(env or {})},
                )
                lane.pids.append(lane.proc.pid)
                lane.spawned, lane.ready_at = now, None
                # one kill in six lands during start-up (imports, opening the run), the rest
                # while the writer is busy
                lane.kill_at = now + rng.uniform(0.05, 0.3) if rng.random() < 1 / 6 else 0.0
                continue
            if lane.ready_at is None and select.select([p.stdout], [], [], 0)[0]:
                assert p.stdout is not None
                if p.stdout.readline().strip() == "ready":
                    lane.ready_at = now
                    if not lane.kill_at:
                        lane.kill_at = now + rng.uniform(0.0, max_life)
            if p.poll() is not None:  # it must not end by itself
                raise AssertionError(f"writer exited with {p.returncode}: {p.stderr.read()}")
            if lane.kill_at and now >= lane.kill_at:
                p.send_signal(signal.SIGKILL)
                p.wait(timeout=30)
                assert p.returncode == -signal.SIGKILL, p.stderr.read() if p.stderr else ""
                assert p.stdout is not None and p.stderr is not None
                p.stdout.close()
                p.stderr.close()
                lane.proc = None
                done += 1
        time.sleep(0.003)
    return lanes


def read_log(path: str) -> list[dict[str, Any]]:
    if not os.path.exists(path):
        return []
    out = []
    with open(path) as fh:
        for line in fh:
            if line.endswith("\n"):  # a line cut by the kill was never acknowledged
                out.append(json.loads(line))
    return out


def expected_values(lanes: list[Slot]) -> dict[tuple[str, str, str], list[Any]]:
    """``(op, ref, key) -> allowed final values``: the last acknowledged value, plus the values of
    writes in flight after it (a killed write may or may not have landed). Never acknowledged and
    never attempted keys are absent."""
    allowed: dict[tuple[str, str, str], list[Any]] = {}
    for lane in lanes:
        for rec in read_log(lane.log):
            if rec["op"] not in ("tag", "metadata", "attr", "artifact"):
                continue
            k = (rec["op"], rec["ref"], rec["key"])
            if rec["phase"] == "ack":
                allowed[k] = [rec["value"]]
            else:
                allowed.setdefault(k, [None]).append(rec["value"])
    return allowed


def setup_store(root: str, storage_options: dict[str, Any] | None = None) -> str:
    t = Tracker(root, storage_options=storage_options, git=False)
    t.create_resource("data", type="dataset_version")
    t.create_resource("target", type="model_version")
    run_id = t.run_id
    t.stop()
    assert run_id is not None
    return run_id


def verify_after_crashes(
    root: str, lanes: list[Slot], setup_run: str, storage_options: dict[str, Any] | None = None
) -> dict[str, Any]:
    t = Tracker(root, storage_options=storage_options, git=False, progress=False)
    store = t._store

    before = check(store, verify=True)
    assert {p.kind for p in before.problems} <= GARBAGE, before.as_dict()
    assert all(p.repairable for p in before.problems if p.kind == "temp-file"), before.as_dict()
    repaired = check(store, repair=True, grace=0)
    assert repaired.ok, repaired.as_dict()
    assert {p.kind for p in repaired.repaired} <= GARBAGE
    again = check(store, verify=True)
    assert again.ok, again.as_dict()

    # every acknowledged key value reads back, one key at a time and in bulk
    allowed = expected_values(lanes)
    described: dict[str, dict[str, Any]] = {}
    for (op, ref, key), values in sorted(allowed.items()):
        d = described.setdefault(ref, t.describe(ref))
        if op == "tag":
            single, bulk = t.get_tag(ref, key), d["tags"].get(key)
        elif op == "metadata":
            single, bulk = t.get_metadata(ref, key), d["metadata"].get(key)
        elif op == "attr":
            single = t.get_attributes(ref).get(key)
            bulk = d["attrs"].get(key)
        else:
            arts = t.artifacts(ref)
            single = arts[key]["sha256"] if key in arts else None
            bulk = d["artifacts"][key]["sha256"] if key in d["artifacts"] else None
            if single is not None:
                t.get_artifact(ref, key)  # verifies the sha256 of the stored copy
        assert single in values, (op, ref, key, single, values)
        assert bulk == single, (op, ref, key, bulk, single)

    # versions: every acknowledged one exists as acknowledged; the series is gap-free
    created = [
        r
        for lane in lanes
        for r in read_log(lane.log)
        if r["op"] == "create" and r["phase"] == "ack"
    ]
    refs = [r["ref"] for r in created]
    assert len(refs) == len(set(refs))
    children = set(t.describe("model_version/target@1")["children"])
    for rec in created:
        rtype, rest = rec["ref"].split("/", 1)
        rid, version = rest.rsplit("@", 1)
        res = t.get_resource(rid, rtype, version=int(version))
        assert res.run_id == rec["run_id"]
        assert res.parent == rec["parent"]
        if rec["parent"]:
            assert rec["ref"] in children
    series = paths.series_dir("model_version", "shared")
    on_store = sorted(
        int(e.name)
        for e in store.list(series)
        if e.is_dir and store.exists(f"{series}/{e.name}/resource.yaml")
    )
    assert on_store == list(range(1, len(on_store) + 1))
    if on_store:
        assert t.get_resource("shared", "model_version").version == len(on_store)
    assert {int(r.rsplit("@", 1)[1]) for r in refs} <= set(on_store)

    # lineage and closing, as acknowledged
    links: dict[tuple[str, str], set[str]] = {}

    def linked(ref: str, kind: str) -> set[str]:
        if (ref, kind) not in links:
            links[(ref, kind)] = set(t.describe(ref)[kind])
        return links[(ref, kind)]

    for lane in lanes:
        for rec in read_log(lane.log):
            if rec["phase"] != "ack":
                continue
            if rec["op"] == "lineage":
                assert rec["value"] in linked(rec["ref"], "lineage")
                assert rec["ref"] in linked(rec["value"], "used_by")
            elif rec["op"] == "close":
                assert t.get_attributes(rec["ref"])["status"] == "FINISHED"

    # every killed writer's run is CRASHED (whether or not it got to acknowledge anything)
    acked_runs = {r["run_id"] for lane in lanes for r in read_log(lane.log) if r["phase"] == "ack"}
    statuses = {run["id"]: run["status"] for run in t.runs()}
    assert acked_runs <= set(statuses)
    assert statuses.pop(setup_run) == "FINISHED"
    assert set(statuses.values()) <= {"CRASHED"}, statuses
    t.stop()
    return {
        "acks": sum(1 for lane in lanes for r in read_log(lane.log) if r["phase"] == "ack"),
        "versions": len(on_store),
        "repaired": len(repaired.repaired),
        "runs": len(statuses),
    }


def test_fifty_sigkills_lose_no_acknowledged_write(tmp_path):
    root = str(tmp_path / "store")
    setup_run = setup_store(root)
    lanes = crash_loop(root, str(tmp_path), kills=50, max_life=0.25, seed=7)
    stats = verify_after_crashes(root, lanes, setup_run)
    assert stats["acks"] > 200 and stats["versions"] > 10, stats


@pytest.mark.slow
def test_torture_hundreds_of_sigkills(tmp_path):
    root = str(tmp_path / "store")
    setup_run = setup_store(root)
    lanes = crash_loop(root, str(tmp_path), kills=400, max_life=1.5, seed=11)
    stats = verify_after_crashes(root, lanes, setup_run)
    assert stats["acks"] > 2000, stats


@pytest.mark.slow
def test_torture_sigkills_on_s3(s3_backend, tmp_path):
    env = {"TRACKER_TEST_STORAGE_OPTIONS": json.dumps(s3_backend.storage_options)}
    setup_run = setup_store(s3_backend.root, s3_backend.storage_options)
    lanes = crash_loop(s3_backend.root, str(tmp_path), kills=60, max_life=1.5, seed=5, env=env)
    stats = verify_after_crashes(s3_backend.root, lanes, setup_run, s3_backend.storage_options)
    assert stats["acks"] > 50, stats


def test_sigkilled_writer_leaves_only_garbage_fsck_removes(tmp_path):
    """A writer killed in the middle of copying a large artifact: its temp file and copy are
    garbage for fsck (the dead pid proves the temp file; ``grace=0`` the copy); the resource and
    the earlier artifact are untouched."""
    root = str(tmp_path / "store")
    t = Tracker(root, git=False)
    res = t.create_resource("target", type="model_version")
    small = tmp_path / "small.bin"
    small.write_bytes(b"first version")
    t.log_artifact(res, "weights", str(small))
    t.stop()
    big = tmp_path / "big.bin"
    with open(big, "wb") as fh:
        fh.truncate(400 * 1024 * 1024)  # sparse: slow to copy, free to make
    code = (
        "import sys; from tracker import Tracker\n"
        "t = Tracker(sys.argv[1], git=False, progress=False)\n"
        "print('ready', flush=True)\n"
        "t.log_artifact('model_version/target@1', 'weights', sys.argv[2])\n"
    )
    p = subprocess.Popen(
        [sys.executable, "-c", code, root, str(big)], stdout=subprocess.PIPE, text=True
    )
    assert p.stdout is not None and p.stdout.readline().strip() == "ready"
    deadline = time.monotonic() + 20
    # the artifact's own temp file (the run's files are written through temp files too, first)
    while not any(".tmp-" in f for d, _, fs in os.walk(root) if "/artifacts/" in d for f in fs):
        assert time.monotonic() < deadline and p.poll() is None
        time.sleep(0.005)
    p.kill()
    p.wait()
    report = check(Tracker(root, git=False)._store)
    kinds = sorted(p.kind for p in report.problems)
    assert kinds == ["orphan-artifact", "temp-file"], report.as_dict()
    temp = next(p for p in report.problems if p.kind == "temp-file")
    assert temp.repairable  # its writer is dead
    orphan = next(p for p in report.problems if p.kind == "orphan-artifact")
    assert not orphan.repairable  # young: could be a copy in progress
    fixed = check(Tracker(root, git=False)._store, repair=True, grace=0)
    assert fixed.ok and len(fixed.repaired) == 2
    t2 = Tracker(root, git=False)
    with open(t2.get_artifact("model_version/target@1", "weights"), "rb") as fh:
        assert fh.read() == b"first version"
    assert t2.runs(where="status = 'CRASHED'")[0]["name"] == "-c"


# -- durability knob ---------------------------------------------------------------------------
def test_fsync_true_flushes_files_and_directories(tmp_path, monkeypatch):
    calls: list[tuple[int, bool]] = []
    real_fsync = os.fsync

    def counting(fd: int) -> None:
        import stat

        calls.append((fd, stat.S_ISDIR(os.fstat(fd).st_mode)))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", counting)
    src = tmp_path / "a.bin"
    src.write_bytes(b"x" * 1000)

    fast = Tracker(str(tmp_path / "fast"), git=False)
    res = fast.create_resource("m", type="model_version")
    fast.log_tag(res, "k", "v")
    fast.log_artifact(res, "a", str(src))
    fast.stop()
    assert calls == []  # the default trades power-loss durability for speed

    t = Tracker(str(tmp_path / "durable"), git=False, fsync=True)
    res = t.create_resource("m", type="model_version")
    calls.clear()
    t.log_tag(res, "k", "v")
    assert [is_dir for _, is_dir in calls] == [False, True]  # the file, then its directory
    calls.clear()
    t.create_resource("m", type="model_version")
    files = sum(1 for _, d in calls if not d)
    dirs = sum(1 for _, d in calls if d)
    assert files >= 3 and dirs >= 3  # resource.yaml, HEAD, the run's pointer: each + its dir
    calls.clear()
    t.log_artifact(res, "a", str(src))
    assert sum(1 for _, d in calls if not d) >= 2  # the copied file and the manifest
    t.stop()
    assert Tracker(str(tmp_path / "durable"), git=False).get_tag(res.ref, "k") == "v"
