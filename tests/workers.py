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

from tracker import Tracker


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


def process(root: str, source: str) -> None:
    """Two dataset versions of ``titanic`` from one processing run."""
    t = _tracker(root, run_name="process")
    for rows in (100, 120):
        dv = t.create_resource("titanic", type="dataset_version", file_type="csv")
        t.log_metadata(dv, "rows", rows)
        t.log_data_profile(dv, source)
    t.stop()
    print(json.dumps({"run_id": None}))


def train(root: str, dataset_ref: str, winner: str, fail: str = "") -> None:
    """A model version with three experiments, a winner and lineage; ``fail`` ends it FAILED."""
    t = _tracker(root, run_name="train")
    mv = t.create_resource("titanic", type="model_version")
    for i, name in enumerate(("xgb", "rf", "logreg")):
        ex = t.create_resource(f"{mv.version}-{name}", type="experiment", parent=mv)
        t.log_metadata(ex, "metrics", {"f1": 0.7 + i / 10})
        t.clean_resource(ex)
    t.log_metadata(mv, "winning_experiment_id", f"{mv.version}-{winner}")
    t.build_model_lineage(mv, [dataset_ref])
    t.stop(status="FAILED" if fail else "FINISHED")
    print(json.dumps({"ref": mv.ref}))


def deploy(root: str, ref: str) -> None:
    t = _tracker(root, run_name="deploy")
    t.log_tag(ref, "status", "DEPLOYED")
    t.stop()


def predict(root: str) -> None:
    t = _tracker(root, run_name="predict")
    model = t.get_resource("titanic", type="model")
    mv = t.get_currently_deployed_model_version(model)
    job = t.create_resource(None, type="prediction_job", parent=mv)
    t.stop()
    print(json.dumps({"ref": job.ref, "model_version": mv.ref}))


if __name__ == "__main__":
    job, *args = sys.argv[1:]
    jobs = {"create": create, "hang": hang, "process": process, "train": train}
    jobs.update({"deploy": deploy, "predict": predict})
    jobs[job](*args)
