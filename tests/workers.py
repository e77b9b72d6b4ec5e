"""Worker processes for the multi-process tests: ``python tests/workers.py JOB ROOT [ARGS]``.

Each job opens its own tracker (its own run), does one thing, prints a JSON result and exits, so
tests exercise real processes racing on one store. S3 roots take storage options as JSON in
``$TRACKER_TEST_STORAGE_OPTIONS``.
"""

from __future__ import annotations

import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tracker import Tracker  # noqa: E402


def _tracker(root: str, **kwargs: object) -> Tracker:
    options = json.loads(os.environ.get("TRACKER_TEST_STORAGE_OPTIONS") or "{}") or None
    return Tracker(root, storage_options=options, git=False, **kwargs)  # type: ignore[arg-type]


def wait_until(start_at: float) -> None:
    """Start together: every worker sleeps until the same wall-clock instant."""
    delay = start_at - time.time()
    if delay > 0:
        time.sleep(delay)


def create(root: str, name: str, count: str, start_at: str) -> None:
    t = _tracker(root)
    t.log_tag  # noqa: B018 - import cost paid before the start line
    wait_until(float(start_at))
    versions = [t.create_resource(name, type="model_version").version for _ in range(int(count))]
    t.stop()
    print(json.dumps(versions))


def hang(root: str) -> None:
    """Open a run, say so, then wait to be killed."""
    t = _tracker(root)
    res = t.create_resource("victim", type="model_version")
    print(json.dumps({"run_id": t.run_id, "ref": res.ref}), flush=True)
    time.sleep(600)


if __name__ == "__main__":
    job, *args = sys.argv[1:]
    {"create": create, "hang": hang}[job](*args)
