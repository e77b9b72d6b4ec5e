"""The model lifecycle over separate processes, one run each, asserted from a third party."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tracker import Series, Tracker

WORKERS = os.path.join(os.path.dirname(__file__), "workers.py")


def step(*args: str) -> dict:
    out = subprocess.run(
        [sys.executable, WORKERS, *args], capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1]) if out.stdout.strip() else {}


@pytest.fixture(scope="module")
def lifecycle_store(tmp_path_factory):
    root = str(tmp_path_factory.mktemp("lifecycle") / "store")
    profile = os.path.join(os.path.dirname(root), "profile.html")
    with open(profile, "w") as fh:
        fh.write("<html>profile</html>")
    step("process", root, profile)
    mv1 = step("train", root, "dataset_version/titanic@1", "rf")["ref"]
    step("deploy", root, mv1)
    job1 = step("predict", root)
    mv2 = step("train", root, "dataset_version/titanic@2", "xgb")["ref"]
    mv3 = step("train", root, "dataset_version/titanic@2", "logreg", "fail")["ref"]
    job2 = step("predict", root)
    return root, mv1, mv2, mv3, job1, job2


def test_versions_and_previous(lifecycle_store):
    root, mv1, mv2, mv3, *_ = lifecycle_store
    t = Tracker(root)
    assert (mv1, mv2, mv3) == (
        "model_version/titanic@1",
        "model_version/titanic@2",
        "model_version/titanic@3",
    )
    mv4 = t.create_resource("titanic", type="model_version")
    # v3's run FAILED: skipped
    assert t.get_prev_resource_version(mv4) == mv2
    assert t.get_prev_resource_version(mv4, num=5) == [mv2, mv1]
    assert t.get_prev_resource_version(mv2) == mv1
    assert t.get_prev_resource_version(mv1) is None
    assert t.get_prev_resource_version(mv4, filters={"status": "DEPLOYED"}) == mv1
    assert (
        t.get_prev_resource_version(mv4, filters="metadata.winning_experiment_id = '2-xgb'") == mv2
    )
    t.stop(status="FAILED")  # leave v4 out of the other tests' way


def test_deployed_version_and_prediction_jobs(lifecycle_store):
    root, mv1, mv2, _mv3, job1, job2 = lifecycle_store
    t = Tracker(root)
    model = t.get_resource("titanic", type="model")
    assert model == Series("model", "titanic") and model.version is None
    assert t.get_currently_deployed_model_version(model) == mv1
    assert t.get_currently_deployed_model_version(mv2) == mv1
    assert t.get_currently_deployed_model_version(mv1) is None
    assert job1["model_version"] == mv1 and job2["model_version"] == mv1
    assert t.get_prediction_job_model_version(job2["ref"]) == mv1
    assert t.get_latest_model_resource(model, "prediction_job") == job2["ref"]
    latest = t.get_latest_model_resource(model, "model_version")
    assert latest == t.get_resource("titanic", "model_version") and latest.version >= 3
    assert t.get_latest_model_resource(mv2, "experiment").id.startswith("3-")


def test_deployed_falls_back_to_promoted_then_previous(tmp_path):
    t = Tracker(str(tmp_path / "s"), git=False)
    v1, v2, v3 = (t.create_resource("m", type="model_version") for _ in range(3))
    assert t.get_currently_deployed_model_version(v3) == v2
    t.log_metadata(v1, "status", "PROMOTED")  # lolpop writes status as metadata
    assert t.get_currently_deployed_model_version(v3) == v1
    t.log_metadata(v2, "status", "DEPLOYED")
    assert t.get_currently_deployed_model_version(v3) == v2
    t.stop()


def test_winning_experiment_and_lineage(lifecycle_store):
    root, mv1, mv2, *_ = lifecycle_store
    t = Tracker(root)
    assert t.get_winning_experiment(mv1) == "experiment/1-rf@1"
    assert t.get_winning_experiment(mv2) == "experiment/2-xgb@1"
    up = t.lineage(mv2, "up")
    assert [n["ref"] for n in up["links"]] == ["dataset_version/titanic@2"]
    down = t.lineage("dataset_version/titanic@1", "down")
    model_node = down["links"][0]
    assert model_node["ref"] == mv1 and model_node["relation"] == "used_by"
    below = {n["ref"] for n in model_node["links"]}
    assert {"experiment/1-rf@1", "experiment/1-xgb@1", "experiment/1-logreg@1"} <= below
    assert any(r.startswith("prediction_job/") for r in below)
    shallow = t.lineage("dataset_version/titanic@1", "down", depth=1)
    assert shallow["links"][0]["links"] == []
    job = t.get_latest_model_resource(t.get_resource("titanic", "model"), "prediction_job")
    chain = t.lineage(job, "up")
    assert chain["links"][0]["ref"] == mv1
    assert chain["links"][0]["links"][0]["ref"] == "dataset_version/titanic@1"


def test_empty_lineage_copies_previous(tmp_path):
    t = Tracker(str(tmp_path / "s"), git=False)
    dv = t.create_resource("d", type="dataset_version")
    v1 = t.create_resource("m", type="model_version")
    t.build_model_lineage(v1, [dv])
    v2 = t.create_resource("m", type="model_version")
    t.build_model_lineage(v2, [])
    assert t.describe(v2)["lineage"] == [dv.ref]
    assert t.describe(dv)["used_by"] == [v1.ref, v2.ref]
    t.stop()


def test_find_and_runs(lifecycle_store):
    root, mv1, mv2, mv3, *_ = lifecycle_store
    t = Tracker(root)
    deployed = t.find(type="model_version", where="tags.status = 'DEPLOYED'")
    assert deployed == [mv1] and deployed.rows[0]["tags.status"] == "DEPLOYED"
    newest = t.find(type="model_version", id="titanic", order_by="-version", limit=2)
    top = t.get_resource("titanic", "model_version").version
    assert [r.version for r in newest] == [top, top - 1]
    winners = t.find(
        type="model_version", where="metadata.winning_experiment_id exists", order_by="version"
    )
    assert winners[:3] == [mv1, mv2, mv3]
    exps = t.find(type="experiment", where="metadata.metrics.f1 >= 0.85", order_by="id")
    assert [e.id for e in exps] == ["1-logreg", "2-logreg", "3-logreg"]
    failed = t.runs(where="status = 'FAILED'")
    assert [r["name"] for r in failed][-1] == "train"
    assert {r["name"] for r in t.runs()} >= {"process", "train", "deploy", "predict"}
