"""Metric series under kill -9 and under many concurrent writers, locally and on S3.

Crash: writers (``tests/metrics_worker.py crash``) log two keys and acknowledge each ``flush()``
in a log file; each is SIGKILLed at a random moment (50 kills locally and 10 on S3 per run, 300
with ``--torture``).
Afterwards every acknowledged point reads back exactly, every chunk decodes (none is ever
partially visible), and fsck finds nothing but temp files of the killed writers.

Concurrency: 8 processes log 10,000 points each on one key of one version (S3: 1,000 each unless
``--torture``); the merged history holds exactly every point, in step order.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from typing import Any

import pytest

from tracker import Tracker
from tracker.core.check import check

WORKER = os.path.join(os.path.dirname(__file__), "metrics_worker.py")


def _env(options: dict[str, Any] | None) -> dict[str, str]:
    return {**os.environ, "TRACKER_TEST_STORAGE_OPTIONS": json.dumps(options)}


def _target(root: str, options: dict[str, Any] | None) -> str:
    t = Tracker(root, storage_options=options, git=False)
    ref = t.create_resource("curves", type="experiment").ref
    t.stop()
    return ref


def _crash_loop(
    root: str, ref: str, tmp: str, kills: int, options: Any, window: float = 0.4
) -> dict[int, int]:
    """Run ``kills`` writers one after another (two at a time), each killed at random."""
    rng = random.Random(1234)
    log = os.path.join(tmp, "acks.jsonl")
    running: list[tuple[subprocess.Popen[str], float]] = []
    started = done = 0
    while done < kills:
        while len(running) < 2 and started < kills:
            seed = 1 + started
            started += 1
            proc = subprocess.Popen(
                [sys.executable, WORKER, "crash", root, ref, log, str(seed)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=_env(options),
            )
            assert proc.stdout is not None
            assert proc.stdout.readline().strip() == "ready", proc.stderr.read()  # type: ignore
            running.append((proc, time.monotonic() + rng.uniform(0.0, window)))
        time.sleep(0.005)
        for item in list(running):
            proc, kill_at = item
            if proc.poll() is not None:
                raise AssertionError(f"writer exited by itself: {proc.stderr.read()}")  # type: ignore
            if time.monotonic() >= kill_at:
                proc.send_signal(signal.SIGKILL)
                proc.wait(timeout=30)
                assert proc.returncode == -signal.SIGKILL
                proc.stdout.close()  # type: ignore[union-attr]
                proc.stderr.close()  # type: ignore[union-attr]
                running.remove(item)
                done += 1
    acked: dict[int, int] = {}
    with open(log) if os.path.exists(log) else open(os.devnull) as fh:
        for line in fh:
            if line.endswith("\n"):
                rec = json.loads(line)
                acked[rec["seed"]] = max(acked.get(rec["seed"], 0), rec["flushed"])
    return acked


def _verify_crashes(root: str, ref: str, kills: int, acked: dict[int, int], options: Any) -> None:
    t = Tracker(root, storage_options=options, git=False)
    report = check(t._store, verify=False)
    assert {p.kind for p in report.problems} <= {"temp-file"}, report.as_dict()
    assert check(t._store, repair=True, grace=0).ok
    assert sum(1 for n in acked.values() if n) >= kills // 3, acked  # it tested something
    shared_steps: set[int] = set()
    for seed in range(1, kills + 1):
        history = t.get_metric_history(ref, f"p{seed}")
        n = len(history)
        assert n >= acked.get(seed, 0), (seed, n, acked.get(seed))
        # a prefix of what the writer logged, every point exact (chunks land whole, in order)
        assert [tuple(p) for p in history] == [(i, 1000.0 + i, seed + i / 2) for i in range(n)], (
            seed
        )
        shared_steps.update(range(acked.get(seed, 0)))
    shared = t.get_metric_history(ref, "shared")
    assert [p.step for p in shared] == sorted(p.step for p in shared)
    assert {p.step for p in shared} >= shared_steps
    assert len(shared) >= sum(acked.values())  # every acknowledged flush of the shared key too


@pytest.mark.parametrize("where", ["local", "s3"])
def test_kill9_writers_lose_only_unflushed_points(where, tmp_path, torture, request) -> None:
    kills = 300 if torture else 50
    if where == "local":
        root, options = str(tmp_path / "store"), None
    else:
        backend = request.getfixturevalue("s3_backend")
        root, options = backend.root, backend.storage_options
        kills = kills if torture else 10  # slower per writer; 50 locally, 300 under --torture
    ref = _target(root, options)
    # a PUT to the local S3 server takes longer than a local write, more so on a busy machine:
    # kill later there, so that most writers flush (and acknowledge) something first
    window = 0.4 if where == "local" else 2.0
    acked = _crash_loop(root, ref, str(tmp_path), kills, options, window)
    _verify_crashes(root, ref, kills, acked, options)


@pytest.mark.parametrize("where", ["local", "s3"])
def test_eight_writers_one_key_exact_merge(where, tmp_path, torture, request) -> None:
    n = 10_000
    if where == "local":
        root, options = str(tmp_path / "store"), None
    else:
        backend = request.getfixturevalue("s3_backend")
        root, options = backend.root, backend.storage_options
        n = 10_000 if torture else 1_000
    ref = _target(root, options)
    procs = [
        subprocess.Popen(
            [sys.executable, WORKER, "bulk", root, ref, str(i), str(n)],
            stderr=subprocess.PIPE,
            text=True,
            env=_env(options),
        )
        for i in range(8)
    ]
    for p in procs:
        _, err = p.communicate(timeout=600)
        assert p.returncode == 0, err
    t = Tracker(root, storage_options=options, git=False)
    history = t.get_metric_history(ref, "bulk")
    assert len(history) == 8 * n
    assert sorted((p.step, p.value) for p in history) == sorted(
        (i, w * 1_000_000 + i) for w in range(8) for i in range(n)
    )
    assert [p.step for p in history] == sorted(p.step for p in history)
    assert all(isinstance(p.value, int) for p in history)
    chunk_files = [f for f in t._store.walk("resources/experiment/curves/1/metrics/bulk")]
    writers = {f.split("-")[0] for f in chunk_files if f != "compact.tsv"}
    assert len(writers) == 8  # one writer id per process, never shared
