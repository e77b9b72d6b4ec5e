"""Worker processes for the crash and stress tests: ``python tests/reliability_worker.py JOB ...``.

``crash ROOT LOG SLOT SEED``: opens a tracker, prints ``ready``, then does mixed operations forever
(new versions, tags, metadata, attributes, artifacts, lineage, closing) until it is killed. Before
each operation it appends an ``intent`` line to LOG and after it an ``ack`` line, each flushed and
fsynced before the next step, so the log says exactly which writes were acknowledged and which one
was in flight when the process died. Keys are namespaced by SLOT, so two slots may run at once and
every key still has one sequential history.

``stress ROOT LOG PROC OPS SEED START_AT``: waits for the common start instant, does OPS mixed
operations on shared resources (versions of shared series, tags/metadata/attributes/artifacts on
shared keys, reads, snapshots), timing each with ``time.monotonic()`` (one clock for every process
on the machine), and writes one JSON line per operation to LOG at the end.

S3 roots take storage options as JSON in ``$TRACKER_TEST_STORAGE_OPTIONS``.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tracker import Tracker

SERIES = ("model_version", "shared")  # every crash worker adds versions to this one series
DATASET = "dataset_version/data@1"  # made by the test before any worker starts
TARGET = "model_version/target@1"  # likewise; shared tag/metadata/artifact target
STRESS_SERIES = ("alpha", "beta", "gamma")


def open_tracker(root: str, **kwargs: Any) -> Tracker:
    options = json.loads(os.environ.get("TRACKER_TEST_STORAGE_OPTIONS") or "{}") or None
    return Tracker(root, storage_options=options, git=False, progress=False, **kwargs)


class Log:
    """Append-only JSON lines, each flushed and fsynced before the caller goes on."""

    def __init__(self, path: str) -> None:
        self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def write(self, record: dict[str, Any]) -> None:
        os.write(self.fd, (json.dumps(record, sort_keys=True) + "\n").encode())
        os.fsync(self.fd)


def unique_file(directory: str, text: str) -> tuple[str, str]:
    path = os.path.join(directory, "payload.txt")
    data = text.encode() * 7
    with open(path, "wb") as fh:
        fh.write(data)
    return path, hashlib.sha256(data).hexdigest()


# -- crash -------------------------------------------------------------------------------------
def crash(root: str, log_path: str, slot: str, seed: str) -> None:
    rng = random.Random(int(seed))
    log = Log(log_path)
    work = tempfile.mkdtemp(prefix=f"crash-{slot}-")
    t = open_tracker(root)
    own: list[str] = []  # versions this process created (refs)
    print("ready", flush=True)
    seq = 0
    while True:
        seq += 1
        stamp = f"{os.getpid()}-{seq}"
        kind = rng.choices(
            ["create", "tag", "metadata", "attr", "artifact", "lineage", "close"],
            weights=[20, 30, 20, 8, 8, 8, 6],
        )[0]
        target = rng.choice([TARGET, DATASET, *own[-3:]])
        key = f"s{slot}-{kind}-{rng.randrange(4)}"
        rec: dict[str, Any] = {"op": kind, "pid": os.getpid()}
        action: Callable[[], Any]
        if kind == "create":
            parent = rng.choice([None, TARGET])
            rec.update(parent=parent)
            action = partial(t.create_resource, SERIES[1], type=SERIES[0], parent=parent)
        elif kind == "tag":
            value = f"tag-{stamp}"
            rec.update(ref=target, key=key, value=value)
            action = partial(t.log_tag, target, key, value)
        elif kind == "metadata":
            value_m = {"stamp": stamp, "n": seq, "nested": [seq, {"f": seq / 7}]}
            rec.update(ref=target, key=key, value=value_m)
            action = partial(t.log_metadata, target, key, value_m)
        elif kind == "attr":
            value = f"attr-{stamp}"
            rec.update(ref=target, key=key, value=value)
            action = partial(t.update_resource, target, {key: value})
        elif kind == "artifact":
            path, digest = unique_file(work, f"artifact {stamp}\n")
            rec.update(ref=target, key=key, value=digest)
            action = partial(t.log_artifact, target, key, path)
        elif kind == "lineage":
            mv = own[-1] if own else TARGET
            rec.update(ref=mv, value=DATASET)
            action = partial(t.build_model_lineage, mv, [DATASET])
        else:
            if not own:
                continue
            ref = own[-1]
            rec.update(ref=ref)
            action = partial(t.clean_resource, ref)
        log.write({**rec, "phase": "intent"})
        result = action()
        if kind == "create":
            own.append(result.ref)
            rec.update(ref=result.ref)
        log.write({**rec, "phase": "ack", "run_id": t.run_id})


# -- stress ------------------------------------------------------------------------------------
def stress(root: str, log_path: str, proc: str, ops: str, seed: str, start_at: str) -> None:
    rng = random.Random(int(seed))
    work = tempfile.mkdtemp(prefix=f"stress-{proc}-")
    t = open_tracker(root)
    t.get_tag(TARGET, "warm-up")  # imports and connections paid before the start line
    delay = float(start_at) - time.time()
    if delay > 0:
        time.sleep(delay)
    records: list[dict[str, Any]] = []
    error: str | None = None
    try:
        for seq in range(int(ops)):
            stamp = f"p{proc}-{seq:05d}"
            kind = rng.choices(
                ["create", "tag", "metadata", "attr", "artifact", "read", "bulk", "close"],
                weights=[22, 30, 12, 6, 3, 15, 8, 4],
            )[0]
            target = rng.choice([TARGET, DATASET])
            rec: dict[str, Any] = {"op": kind, "proc": proc, "ref": target}
            start = time.monotonic()
            if kind == "create":
                rec["series"] = rng.choice(STRESS_SERIES)
                rec["ref"] = t.create_resource(rec["series"], type="model_version").ref
            elif kind == "tag":
                rec.update(key=f"k{rng.randrange(4)}", value=stamp)
                t.log_tag(target, rec["key"], stamp)
            elif kind == "metadata":
                rec.update(key=f"m{rng.randrange(3)}", value={"by": stamp, "x": [seq, seq * 0.5]})
                t.log_metadata(target, rec["key"], rec["value"])
            elif kind == "attr":
                rec.update(key=f"a{rng.randrange(2)}", value=stamp)
                t.update_resource(target, {rec["key"]: stamp})
            elif kind == "artifact":
                path, digest = unique_file(work, f"artifact {stamp}\n")
                rec.update(key=f"art{rng.randrange(2)}", value=digest)
                t.log_artifact(target, rec["key"], path)
            elif kind == "read":
                rec.update(key=f"k{rng.randrange(4)}")
                rec["value"] = t.get_tag(target, rec["key"])
            elif kind == "bulk":
                rec["value"] = t.get_tags(target)
            else:
                t.clean_resource(target)
            rec.update(start=start, end=time.monotonic(), run_id=t.run_id)
            records.append(rec)
    except Exception as exc:  # reported to the test, which fails with it
        error = f"{type(exc).__module__}.{type(exc).__name__}: {exc}"
    finally:
        t.stop()
        with open(log_path, "w") as fh:
            for r in records:
                fh.write(json.dumps(r, sort_keys=True) + "\n")
            if error is not None:
                fh.write(json.dumps({"op": "error", "proc": proc, "error": error}) + "\n")


if __name__ == "__main__":
    job, *args = sys.argv[1:]
    {"crash": crash, "stress": stress}[job](*args)
