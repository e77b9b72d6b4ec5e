"""Metric writers for tests/test_metrics_crash.py (run as ``python metrics_worker.py MODE ...``).

``crash ROOT REF LOG SEED``: log points of key ``p<SEED>`` (step i, value SEED + i/2, timestamp
1000 + i) and of the shared key ``shared`` forever; after each random batch, ``flush()`` and then
append ``{"seed", "flushed": n}`` (fsynced) to LOG: n points of ``p<SEED>`` are acknowledged.
``bulk ROOT REF INDEX N``: log N points of key ``bulk`` (step i, value INDEX * 1e6 + i), then stop.
S3 roots take their endpoint and keys from the environment (``TRACKER_TEST_STORAGE_OPTIONS``).
"""

from __future__ import annotations

import json
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tracker import Tracker


def _tracker(root: str) -> Tracker:
    options = json.loads(os.environ.get("TRACKER_TEST_STORAGE_OPTIONS") or "null")
    return Tracker(root, storage_options=options, git=False, progress=False)


def crash(root: str, ref: str, log: str, seed: int) -> None:
    t = _tracker(root)
    rng = random.Random(seed)
    key = f"p{seed}"
    i = 0
    fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    print("ready", flush=True)
    while True:
        for _ in range(rng.randint(1, 400)):
            t.log_metric(ref, key, seed + i / 2, step=i, timestamp=1000.0 + i)
            t.log_metric(ref, "shared", float(i), step=i)
            i += 1
        t.flush()
        os.write(fd, (json.dumps({"seed": seed, "flushed": i}) + "\n").encode())
        os.fsync(fd)


def bulk(root: str, ref: str, index: int, n: int) -> None:
    t = _tracker(root)
    for i in range(n):
        t.log_metric(ref, "bulk", index * 1_000_000 + i, step=i)
    t.stop()


if __name__ == "__main__":
    mode, args = sys.argv[1], sys.argv[2:]
    if mode == "crash":
        crash(args[0], args[1], args[2], int(args[3]))
    elif mode == "bulk":
        bulk(args[0], args[1], int(args[2]), int(args[3]))
    else:
        raise SystemExit(f"unknown mode {mode!r}")
