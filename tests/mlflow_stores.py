"""Make ``mlruns`` directories with real MLflow (mlflow-skinny's file store) for the import tests.

Each maker returns what the test needs to find things again (ids); what is *in* the store is then
read back through MLflow's own client, never from these notes.
"""

from __future__ import annotations

import os
from typing import Any

os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
os.environ.setdefault("MLFLOW_ENABLE_ASYNC_LOGGING", "false")


def client(mlruns: str) -> Any:
    from mlflow import MlflowClient

    uri = "file://" + os.path.abspath(mlruns)
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def make_store(mlruns: str, scratch: str) -> dict[str, Any]:
    """Experiments (one deleted), runs (parent/child, one deleted), params with nested keys,
    metric histories with steps and nan/inf, tags, artifacts (files, folders), a dataset input,
    a registered model with three versions, stages and aliases, an MLflow 3 logged model."""
    import mlflow
    import mlflow.data
    import pandas as pd
    from mlflow.entities import DatasetInput, InputTag, Metric, Param, RunTag

    c = client(mlruns)
    mlflow.set_tracking_uri(c.tracking_uri)  # the fluent API's default is ./mlflow.db
    eid = c.create_experiment("vision", tags={"team": "cv", "mlflow.note.content": "notes"})
    parent = c.create_run(eid, run_name="sweep", tags={"custom": "x", "mlflow.user": "alice"})
    pid = parent.info.run_id
    t0 = 1_700_000_000_000
    c.log_batch(
        pid,
        metrics=[Metric("loss", 1.0 / (i + 1), t0 + i * 10, i) for i in range(50)]
        + [Metric("odd", float("nan"), t0, 0), Metric("odd", float("inf"), t0 + 1, 1)]
        + [Metric("odd", float("-inf"), t0 + 2, 2), Metric("same_step", 1.0, t0, 3)]
        + [Metric("same_step", 2.0, t0 + 5, 3)],
        params=[Param("lr", "0.1"), Param("model/depth", "5"), Param("model/layers/n", "3")],
        tags=[RunTag("git", "abc123"), RunTag("nested/tag", "yes"), RunTag("empty", "")],
    )
    df = pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]})
    ds = mlflow.data.from_pandas(df, source="s3://bucket/train.csv", name="train")
    c.log_inputs(
        pid, [DatasetInput(ds._to_mlflow_entity(), [InputTag("mlflow.data.context", "training")])]
    )
    os.makedirs(os.path.join(scratch, "model", "sub"), exist_ok=True)
    with open(os.path.join(scratch, "model", "weights.bin"), "wb") as fh:
        fh.write(os.urandom(4096))
    with open(os.path.join(scratch, "model", "sub", "conf.json"), "w") as fh:
        fh.write('{"k": 1}')
    with open(os.path.join(scratch, "notes.txt"), "w") as fh:
        fh.write("hello\n")
    c.log_artifacts(pid, os.path.join(scratch, "model"), "model")
    c.log_artifact(pid, os.path.join(scratch, "notes.txt"))
    c.set_terminated(pid, "FINISHED", end_time=t0 + 60_000)

    child = c.create_run(eid, run_name="trial-1", tags={"mlflow.parentRunId": pid})
    c.log_metric(child.info.run_id, "acc", 0.9, timestamp=t0 + 5, step=0)
    c.set_terminated(child.info.run_id, "FAILED")
    killed = c.create_run(eid, run_name="killed")
    c.set_terminated(killed.info.run_id, "KILLED")
    running = c.create_run(eid, run_name="still-running")
    gone = c.create_run(eid, run_name="deleted-run")
    c.delete_run(gone.info.run_id)

    old = c.create_experiment("old-project")
    c.create_run(old, run_name="in-trash")
    c.delete_experiment(old)

    lm = c.create_logged_model(
        eid, name="clf", source_run_id=pid, params={"C": "1.0"}, tags={"flavor": "sk"}
    )
    c.log_metric(pid, "val_acc", 0.7, timestamp=t0 + 7, step=1, model_id=lm.model_id)
    c.log_metric(pid, "val_acc", 0.8, timestamp=t0 + 8, step=2, model_id=lm.model_id)
    c.create_registered_model("titanic", tags={"owner": "ml"}, description="the model")
    for i in range(3):
        c.create_model_version(
            "titanic",
            f"runs:/{pid}/model",
            run_id=pid,
            tags={"v": str(i + 1)},
            description=f"version {i + 1}",
        )
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        c.transition_model_version_stage("titanic", "1", "Archived")
        c.transition_model_version_stage("titanic", "2", "Production")
        c.transition_model_version_stage("titanic", "3", "Staging")
    c.set_registered_model_alias("titanic", "champion", "2")
    c.set_registered_model_alias("titanic", "challenger", "3")
    c.set_registered_model_alias("titanic", "best", "2")
    return {
        "experiment": eid,
        "parent": pid,
        "child": child.info.run_id,
        "running": running.info.run_id,
        "deleted_run": gone.info.run_id,
        "deleted_experiment": old,
        "logged_model": lm.model_id,
    }


OLD_RUN = "0123456789abcdef0123456789abcdef"


def make_old_layout(mlruns: str) -> str:
    """A store as MLflow 0.x/1.x wrote it: ``run_uuid``, an int experiment id, no
    lifecycle_stage, two-field metric lines (``timestamp value``)."""
    exp = os.path.join(mlruns, "0")
    run = os.path.join(exp, OLD_RUN)
    for sub in ("params", "metrics", "tags", "artifacts"):
        os.makedirs(os.path.join(run, sub), exist_ok=True)
    with open(os.path.join(exp, "meta.yaml"), "w") as fh:
        fh.write(f"artifact_location: {exp}\nexperiment_id: 0\nname: Default\n")
    with open(os.path.join(run, "meta.yaml"), "w") as fh:
        fh.write(
            f"artifact_uri: {run}/artifacts\nend_time: 1500000009000\nentry_point_name: ''\n"
            "experiment_id: 0\nname: ''\nrun_uuid: " + OLD_RUN + "\nsource_name: train.py\n"
            "source_type: 4\nsource_version: ''\nstart_time: 1500000000000\nstatus: 3\n"
            "tags: []\nuser_id: bob\n"
        )
    with open(os.path.join(run, "metrics", "rmse"), "w") as fh:
        fh.write("1500000001 0.5\n1500000002 0.25\n")
    with open(os.path.join(run, "metrics", "with_dataset"), "w") as fh:  # MLflow 2.x+ lines
        fh.write("1500000003 0.7 4 train 1a2b3c\n1500000004 0.6 3 train 1a2b3c\n")
    with open(os.path.join(run, "params", "alpha"), "w") as fh:
        fh.write("0.5")
    with open(os.path.join(run, "tags", "mlflow.runName"), "w") as fh:
        fh.write("legacy")
    with open(os.path.join(run, "artifacts", "model.pkl"), "wb") as fh:
        fh.write(b"\x80\x04N.")
    return OLD_RUN
