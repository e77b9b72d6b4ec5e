"""`tracker import mlflow`: stores written by real MLflow, compared field by field with what
MLflow's own client reads; idempotence; an updated mlruns; the old layout; hostile input."""

from __future__ import annotations

import datetime as _dt
import math
import os
import subprocess
import sys
import warnings
from typing import Any

import pytest

pytest.importorskip("mlflow")

import mlflow_stores

from tracker import Tracker
from tracker.importers.mlflow import import_mlruns

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
NO_SERIES = "metric series not on this branch"


def ms(value: _dt.datetime | None) -> int | None:
    if value is None:
        return None
    return int((value - _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)).total_seconds() * 1000)


def same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return bool(a == b)


@pytest.fixture(scope="module")
def mlruns(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, Any]]:
    base = tmp_path_factory.mktemp("mlflow")
    cwd = os.getcwd()
    os.chdir(base)  # anything MLflow might drop in the working directory stays here
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ids = mlflow_stores.make_store(str(base / "mlruns"), str(base))
    finally:
        os.chdir(cwd)
    return str(base / "mlruns"), ids


def importing(mlruns: str, root: str, **kw: Any) -> Any:
    t = Tracker(root, git=False, run_name="import")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = import_mlruns(mlruns, t, progress=False, **kw)
    t.stop()
    return t, report


def ledger(t: Tracker, exp_id: str) -> dict[str, Any]:
    return dict(t.get_all_metadata(f"mlflow_experiment/{exp_id}@1"))


def files_with_stamps(root: str) -> dict[str, tuple[int, int]]:
    out = {}
    for dirpath, _, names in os.walk(root):
        for n in names:
            p = os.path.join(dirpath, n)
            st = os.stat(p)
            out[os.path.relpath(p, root)] = (st.st_mtime_ns, st.st_ino)
    return out


@pytest.fixture(scope="module")
def imported(mlruns: tuple[str, dict[str, Any]], tmp_path_factory: pytest.TempPathFactory) -> Any:
    root = str(tmp_path_factory.mktemp("store") / "store")
    t, report = importing(mlruns[0], root)
    return t, report, root


def test_import_reports_every_kind(imported: Any) -> None:
    _, report, root = imported
    assert report.ok, report.summary()
    assert report.created["run"] == 6  # 5 in "vision", 1 in the deleted experiment
    assert report.created["mlflow_experiment"] == 3  # Default, vision, old-project (trash)
    assert report.created["model_version"] == 3
    assert report.created["dataset_version"] == 1
    assert report.created["logged_model"] == 1
    assert report.artifact_files == 3
    assert os.path.isfile(os.path.join(root, "tracker.yaml"))
    fsck = Tracker(root, git=False).check()
    assert fsck.ok, fsck.problems


def test_runs_match_mlflow_client_field_by_field(mlruns: Any, imported: Any) -> None:
    from mlflow.entities import ViewType

    path, _ = mlruns
    t, _, _ = imported
    c = mlflow_stores.client(path)
    checked = 0
    for exp in c.search_experiments(view_type=ViewType.ALL):
        group = t.describe(f"mlflow_experiment/{exp.experiment_id}@1")
        assert group["attrs"]["name"] == exp.name
        assert group["attrs"]["lifecycle_stage"] == exp.lifecycle_stage
        assert ms(group["attrs"]["creation_time"]) == exp.creation_time
        assert group["tags"] == exp.tags
        refs = ledger(t, exp.experiment_id)
        for run in c.search_runs([exp.experiment_id], run_view_type=ViewType.ALL):
            info, data = run.info, run.data
            d = t.describe(refs[f"mlflow_run/{info.run_id}"])
            assert d["type"] == "experiment" and d["id"] == exp.name
            a = d["attrs"]
            assert a["mlflow_run_id"] == info.run_id
            assert a["mlflow_experiment_id"] == info.experiment_id
            assert a["run_name"] == info.run_name
            assert a["user_id"] == info.user_id
            assert a["status"] == info.status
            assert ms(a["start_time"]) == info.start_time
            assert ms(a["end_time"]) == info.end_time
            assert a["lifecycle_stage"] == info.lifecycle_stage
            assert a["artifact_uri"] == info.artifact_uri
            assert d["metadata"]["params"] == data.params
            assert d["tags"] == data.tags
            got = d["metadata"]["metrics"]
            assert got.keys() == data.metrics.keys()
            assert all(same(got[k], v) for k, v in data.metrics.items())
            names = sorted(f.path for f in c.list_artifacts(info.run_id))
            assert sorted(d["artifacts"]) == names
            checked += 1
    assert checked == 6
    # what lies on disk: one resource.yaml per imported run, in the experiment's series
    root = t.url
    series = os.path.join(root, "resources", "experiment", "vision")
    assert sorted(n for n in os.listdir(series) if n.isdigit()) == ["1", "2", "3", "4", "5"]
    for n in "12345":
        assert os.path.isfile(os.path.join(series, n, "resource.yaml"))


def test_states_parent_child_and_deleted(mlruns: Any, imported: Any) -> None:
    _, ids = mlruns
    t, _, _ = imported
    refs = ledger(t, ids["experiment"])
    parent = t.describe(refs[f"mlflow_run/{ids['parent']}"])
    child = t.describe(refs[f"mlflow_run/{ids['child']}"])
    assert child["parent"] == parent["ref"]
    assert child["ref"] in parent["children"]
    assert child["attrs"]["status"] == "FAILED"
    assert t.describe(refs[f"mlflow_run/{ids['running']}"])["attrs"]["status"] == "RUNNING"
    deleted = t.describe(refs[f"mlflow_run/{ids['deleted_run']}"])
    assert deleted["attrs"]["lifecycle_stage"] == "deleted"
    trash = t.describe(f"mlflow_experiment/{ids['deleted_experiment']}@1")
    assert trash["attrs"]["lifecycle_stage"] == "deleted"
    assert parent["metadata"]["params"]["model/layers/n"] == "3"
    assert parent["version"] < child["version"]  # parents are imported first


def test_metric_histories_match_mlflow(mlruns: Any, imported: Any) -> None:
    path, ids = mlruns
    t, report, _ = imported
    if not hasattr(t, "get_metric_history"):
        assert any("metric series" in n for n in report.notes)
        pytest.skip(NO_SERIES)
    c = mlflow_stores.client(path)
    ref = ledger(t, ids["experiment"])[f"mlflow_run/{ids['parent']}"]
    for key in ("loss", "odd", "same_step"):
        want = c.get_metric_history(ids["parent"], key)
        got = t.get_metric_history(ref, key)
        assert len(got) == len(want)
        for g, w in zip(got, want, strict=True):
            assert g.step == w.step and same(float(g.value), w.value)
            stamp = g.timestamp
            seconds = stamp.timestamp() if isinstance(stamp, _dt.datetime) else float(stamp)
            assert round(seconds * 1000) == w.timestamp
    assert report.metric_points == 50 + 3 + 2 + 1 + 2 + 2  # + val_acc on the run and the model


def test_artifacts_are_byte_identical(mlruns: Any, imported: Any, tmp_path: Any) -> None:
    path, ids = mlruns
    t, _, _ = imported
    c = mlflow_stores.client(path)
    ref = ledger(t, ids["experiment"])[f"mlflow_run/{ids['parent']}"]
    theirs = c.download_artifacts(ids["parent"], "", str(tmp_path / "mlflow"))
    for name in ("model", "notes.txt"):
        mine = t.get_artifact(ref, name)
        src = os.path.join(theirs, name)
        if os.path.isdir(src):
            for dirpath, _, names in os.walk(src):
                for n in names:
                    rel = os.path.relpath(os.path.join(dirpath, n), src)
                    with (
                        open(os.path.join(dirpath, n), "rb") as a,
                        open(os.path.join(mine, rel), "rb") as b,
                    ):
                        assert a.read() == b.read()
        else:
            with open(src, "rb") as a, open(mine, "rb") as b:
                assert a.read() == b.read()
    manifest = t.artifacts(ref)["model"]
    assert sorted(f["path"] for f in manifest["files"]) == ["sub/conf.json", "weights.bin"]
    assert all(len(f["sha256"]) == 64 for f in manifest["files"])


def test_datasets_inputs_and_lineage(mlruns: Any, imported: Any) -> None:
    path, ids = mlruns
    t, _, _ = imported
    c = mlflow_stores.client(path)
    run = c.get_run(ids["parent"])
    (inp,) = run.inputs.dataset_inputs
    refs = ledger(t, ids["experiment"])
    d = t.describe(refs[f"mlflow_run/{ids['parent']}"])
    (dref,) = d["lineage"]
    ds = t.describe(dref)
    assert ds["type"] == "dataset_version" and ds["id"] == inp.dataset.name
    for field in ("digest", "source_type", "source", "schema", "profile"):
        assert ds["attrs"][field] == getattr(inp.dataset, field)
    assert d["metadata"]["inputs"][0]["tags"] == {t_.key: t_.value for t_ in inp.tags}
    assert d["ref"] in ds["used_by"]


def test_registry_stages_aliases_and_logged_model(mlruns: Any, imported: Any) -> None:
    path, ids = mlruns
    t, _, _ = imported
    c = mlflow_stores.client(path)
    rm = c.get_registered_model("titanic")
    group = t.describe("mlflow_registered_model/titanic@1")
    assert group["attrs"]["description"] == rm.description
    assert group["tags"] == rm.tags
    assert group["metadata"]["aliases"] == {k: int(v) for k, v in rm.aliases.items()}
    run_ref = ledger(t, ids["experiment"])[f"mlflow_run/{ids['parent']}"]
    stage_status = {"Production": "DEPLOYED", "Staging": "PROMOTED", "Archived": "ARCHIVED"}
    for n in (1, 2, 3):
        mv = c.get_model_version("titanic", str(n))
        d = t.describe(group["metadata"][f"mlflow_version/{n}"])
        assert d["ref"] == f"model_version/titanic@{n}"
        assert d["attrs"]["current_stage"] == mv.current_stage
        assert d["tags"]["status"] == stage_status[mv.current_stage]
        assert d["attrs"]["source"] == mv.source and d["attrs"]["run_id"] == mv.run_id
        assert d["attrs"]["description"] == mv.description
        assert ms(d["attrs"]["creation_time"]) == mv.creation_timestamp
        assert {k: v for k, v in d["tags"].items() if k not in ("status", "aliases")} == mv.tags
        assert sorted(d["tags"].get("aliases", [])) == sorted(mv.aliases)
        assert run_ref in d["lineage"]
    assert t.get_currently_deployed_model_version("model_version/titanic").ref == (
        "model_version/titanic@2"
    )
    lm = c.get_logged_model(ids["logged_model"])
    lref = ledger(t, ids["experiment"])[f"mlflow_logged_model/{ids['logged_model']}"]
    d = t.describe(lref)
    assert d["id"] == lm.name and d["attrs"]["source_run_id"] == lm.source_run_id
    assert d["metadata"]["params"] == lm.params
    assert d["metadata"]["metrics"] == {m.key: m.value for m in lm.metrics} == {"val_acc": 0.8}
    assert d["tags"] == lm.tags
    assert run_ref in d["lineage"]


def test_reimport_is_a_no_op_and_updates_add_only_news(mlruns: Any, tmp_path: Any) -> None:
    import shutil

    path, ids = mlruns
    copy = str(tmp_path / "mlruns")
    shutil.copytree(path, copy, symlinks=True)
    root = str(tmp_path / "store")
    importing(copy, root)
    before = files_with_stamps(root)
    t, again = importing(copy, root)
    assert not again.created and not again.updated and again.ok
    assert files_with_stamps(root) == before  # not one file written, not even a run
    _, dry = importing(copy, root, dry_run=True)
    assert not dry.created and not dry.updated and dry.unchanged["run"] == 6
    c = mlflow_stores.client(copy)
    c.log_metric(ids["running"], "late", 3.0, timestamp=1_700_000_100_000, step=7)
    c.set_tag(ids["running"], "phase", "done")
    c.set_terminated(ids["running"], "FINISHED")
    fresh = c.create_run(ids["experiment"], run_name="new-one")
    c.set_registered_model_alias("titanic", "champion", "3")  # moves from 2 to 3
    t, third = importing(copy, root)
    assert dict(third.created) == {"run": 1}
    assert dict(third.updated) == {"run": 1, "model_version": 2, "mlflow_registered_model": 1}
    assert t.get_tag("model_version/titanic@2", "aliases") == ["best"]
    assert t.get_tag("model_version/titanic@3", "aliases") == ["challenger", "champion"]
    assert t.get_metadata("mlflow_registered_model/titanic@1", "aliases")["champion"] == 3
    refs = ledger(t, ids["experiment"])
    d = t.describe(refs[f"mlflow_run/{ids['running']}"])
    assert d["attrs"]["status"] == "FINISHED" and d["tags"]["phase"] == "done"
    assert d["metadata"]["metrics"] == {"late": 3.0}
    assert t.describe(refs[f"mlflow_run/{fresh.info.run_id}"])["attrs"]["run_name"] == "new-one"
    if hasattr(t, "get_metric_history"):
        assert [p.value for p in t.get_metric_history(d["ref"], "late")] == [3.0]
        assert third.metric_points == 1


def test_no_copy_records_references(mlruns: Any, tmp_path: Any) -> None:
    path, ids = mlruns
    t, report = importing(path, str(tmp_path / "s"), copy=False, experiments=["vision"])
    assert report.ok and report.created["mlflow_experiment"] == 1
    ref = ledger(t, ids["experiment"])[f"mlflow_run/{ids['parent']}"]
    assert t.artifacts(ref) == {}
    refs = t.get_metadata(ref, "artifact_refs")
    assert refs["notes.txt"]["kind"] == "file"
    assert refs["notes.txt"]["path"].startswith(path)
    assert refs["model"]["kind"] == "dir" and len(refs["model"]["files"]) == 2
    assert not os.path.exists(
        os.path.join(str(tmp_path / "s"), "resources", "experiment", "vision", "1", "artifacts")
    )
    _, again = importing(path, str(tmp_path / "s"), copy=False, experiments=["vision"])
    assert not again.created and not again.updated and again.artifact_files == 0


def test_dry_run_writes_nothing(mlruns: Any, tmp_path: Any) -> None:
    root = tmp_path / "never"
    _, report = importing(mlruns[0], str(root), dry_run=True)
    assert report.created["run"] == 6
    assert not root.exists()


def test_old_layout(tmp_path: Any) -> None:
    old = str(tmp_path / "mlruns")
    os.makedirs(old)
    run_id = mlflow_stores.make_old_layout(old)
    t, report = importing(old, str(tmp_path / "s"))
    assert report.ok, report.summary()
    d = t.describe(ledger(t, "0")[f"mlflow_run/{run_id}"])
    assert d["attrs"]["run_name"] == "legacy"  # `name: ''`: the mlflow.runName tag
    assert d["attrs"]["status"] == "FINISHED" and d["attrs"]["user_id"] == "bob"
    assert d["attrs"]["lifecycle_stage"] == "active"
    assert ms(d["attrs"]["start_time"]) == 1500000000000
    assert d["metadata"]["params"] == {"alpha": "0.5"}
    # two-field lines: step 0, latest time wins; five-field lines: the real step (4) wins
    assert d["metadata"]["metrics"] == {"rmse": 0.25, "with_dataset": 0.7}
    assert d["metadata"]["metric_datasets"] == {"with_dataset": [["train", "1a2b3c"]]}
    assert list(d["artifacts"]) == ["model.pkl"]
    if hasattr(t, "get_metric_history"):
        assert [(p.step, p.value) for p in t.get_metric_history(d["ref"], "rmse")] == [
            (0, 0.5),
            (0, 0.25),
        ]


def test_hostile_input_is_reported_and_skipped(tmp_path: Any) -> None:
    old = tmp_path / "mlruns"
    old.mkdir()
    run_id = mlflow_stores.make_old_layout(str(old))
    run = old / "0" / run_id
    # a YAML tag that would run code, a second run whose meta says it is someone else
    evil = old / "0" / ("f" * 32)
    (evil / "params").mkdir(parents=True)
    marker = tmp_path / "pwned"
    (evil / "meta.yaml").write_text(
        f"run_uuid: !!python/object/apply:os.system ['touch {marker}']\n"
    )
    liar = old / "0" / ("e" * 32)
    liar.mkdir()
    (liar / "meta.yaml").write_text(f"run_uuid: ../../{'e' * 32}\nexperiment_id: 0\n")
    secret = tmp_path / "secret.txt"
    secret.write_text("do not copy me")
    os.symlink(secret, run / "params" / "leak")
    os.symlink(secret, run / "artifacts" / "linked.txt")
    with open(run / "params" / "huge", "wb") as fh:
        fh.truncate(65 * 1024 * 1024)  # sparse: refused by its size, never read
    (run / "metrics" / "bad").write_text("1 2\nnot a metric line at all\n3 4\n")
    # a tag name MLflow accepts but the tracker cannot store (too long once encoded): that run
    # is skipped and named; a start time no datetime holds is kept only in the raw meta
    import shutil

    for twin, meta in (("d" * 32, None), ("c" * 32, "start_time: 100000000000000000000")):
        shutil.copytree(run, old / "0" / twin, symlinks=True)
        text = (run / "meta.yaml").read_text().replace(run_id, twin)
        if meta:
            text = text.replace("start_time: 1500000000000", meta)
        (old / "0" / twin / "meta.yaml").write_text(text)
        for p in (old / "0" / twin / "params").iterdir():
            p.unlink()
    ((old / "0" / ("d" * 32)) / "tags" / ("é" * 120)).write_text("long")
    # a registered model whose name climbs out: it is only ever an id, encoded into one segment
    reg = old / "models" / "evil"
    (reg / "version-1").mkdir(parents=True)
    (reg / "meta.yaml").write_text("name: ../../../outside\n")
    (reg / "version-1" / "meta.yaml").write_text(f"version: 1\nrun_id: {run_id}\n")
    store = tmp_path / "s"
    proc = subprocess.run(
        [sys.executable, "-m", "tracker", "--root", str(store), "import", "mlflow", str(old)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": REPO},
        timeout=120,
    )
    assert proc.returncode == 1, proc.stderr
    out = proc.stdout
    assert "skipped 9 unreadable item(s)" in out, out  # 6, the twins' linked.txt, the long tag
    for part in (
        f"{'f' * 32}/meta.yaml",
        f"{'e' * 32}/meta.yaml",
        "params/leak",
        "artifacts/linked.txt",
        "params/huge",
        "metrics/bad:2",
    ):
        assert part in out, (part, out)
    t = Tracker(str(store), git=False)
    d = t.describe(ledger(t, "0")[f"mlflow_run/{run_id}"])
    assert d["metadata"]["params"] == {"alpha": "0.5"}  # the rest of the run is there
    assert d["metadata"]["metrics"]["bad"] == 4.0
    assert list(d["artifacts"]) == ["model.pkl"]
    refs = ledger(t, "0")
    late = t.describe(refs[f"mlflow_run/{'c' * 32}"])
    assert late["attrs"]["start_time"] is None
    assert late["metadata"]["mlflow_run_meta"]["start_time"] == 10**20
    text = "".join(
        open(os.path.join(dp, n), "rb").read().decode("utf-8", "replace")
        for dp, _, ns in os.walk(store)
        for n in ns
    )
    assert "do not copy me" not in text
    assert not marker.exists()
    assert sorted(os.listdir(tmp_path)) == ["mlruns", "s", "secret.txt"]
    assert t.describe("model_version/../../../outside@1")["attrs"]["mlflow_version"] == 1
    assert os.path.isdir(store / "resources" / "model_version" / "%2E.%2F..%2F..%2Foutside")


def test_cli_summary_and_json(mlruns: Any, tmp_path: Any) -> None:
    import json

    cmd = [
        sys.executable,
        "-m",
        "tracker",
        "import",
        "mlflow",
        mlruns[0],
        "--root",
        str(tmp_path / "s"),
        "--experiment",
        "vision",
    ]
    env = {**os.environ, "PYTHONPATH": REPO}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "imported" in proc.stdout and "nothing skipped" in proc.stdout
    proc = subprocess.run([*cmd, "--json"], capture_output=True, text=True, env=env, timeout=120)
    data = json.loads(proc.stdout)
    assert data["ok"] and data["created"] == {} and data["unchanged"]["run"] == 5
    proc = subprocess.run([*cmd[:-1], "nope"], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 1 and "no MLflow experiment 'nope'" in proc.stderr


def test_progress_bar_on_a_terminal(
    mlruns: Any, tmp_path: Any, monkeypatch: Any, capsys: Any
) -> None:
    pytest.importorskip("tqdm")
    from tracker.core import progress

    monkeypatch.setattr(progress, "_interactive", lambda: True)
    t = Tracker(str(tmp_path / "s"), git=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import_mlruns(mlruns[0], t, ["vision"])
    t.stop()
    assert "import mlflow" in capsys.readouterr().err


def test_an_interrupted_import_is_completed(mlruns: Any, tmp_path: Any) -> None:
    path, ids = mlruns
    root = str(tmp_path / "s")
    t, _ = importing(path, root, experiments=["vision"])
    ref = ledger(t, ids["experiment"])[f"mlflow_run/{ids['parent']}"]
    vdir = os.path.join(root, "resources", *ref.replace("@", "/").split("/"))
    # what a crash after creating the version would have left out
    os.unlink(os.path.join(vdir, "tags", "custom.yaml"))
    os.unlink(os.path.join(vdir, "metadata", "params.yaml"))
    os.unlink(os.path.join(vdir, "manifests", "notes.txt.yaml"))
    os.unlink(os.path.join(vdir, "snapshot.json"))
    t, report = importing(path, root, experiments=["vision"])
    assert dict(report.updated) == {"run": 1} and not report.created
    d = t.describe(ref)
    assert d["tags"]["custom"] == "x"
    assert d["metadata"]["params"]["model/depth"] == "5"
    assert "notes.txt" in d["artifacts"]
    assert os.path.isfile(os.path.join(vdir, "tags", "custom.yaml"))


def test_import_on_every_backend(mlruns: Any, backend: Any) -> None:
    """Only the tracker's public API writes, so an import lands on S3 as it does locally."""
    path, ids = mlruns
    t = backend.make(run_name="import")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = import_mlruns(path, t, ["vision"], progress=False)
        t.stop()
        again = import_mlruns(path, backend.make(), ["vision"], progress=False)
    assert report.ok and report.created["run"] == 5
    assert not again.created and not again.updated
    ref = ledger(t, ids["experiment"])[f"mlflow_run/{ids['parent']}"]
    d = backend.make().describe(ref)
    assert d["metadata"]["params"]["model/depth"] == "5"
    assert sorted(d["artifacts"]) == ["model", "notes.txt"]
    assert any(f.endswith("/manifests/model.yaml") for f in backend.files())


def test_export_round_trip_reads_the_same_in_mlflow(
    mlruns: Any, imported: Any, tmp_path: Any
) -> None:
    """import -> export: MLflow's client reads the exported store as it read the original."""
    from mlflow.entities import ViewType

    path, ids = mlruns
    _, _, root = imported
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "tracker", "--root", root, "export", "mlflow", "--out", str(out)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": REPO},
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "6 run(s), 3 model version(s)" in proc.stdout
    a, b = mlflow_stores.client(path), mlflow_stores.client(str(out))

    def experiments(c: Any) -> list[Any]:
        return sorted(
            (e.experiment_id, e.name, e.lifecycle_stage, e.tags)
            for e in c.search_experiments(view_type=ViewType.ALL)
        )

    assert experiments(a) == experiments(b)
    runs = 0
    for e in a.search_experiments(view_type=ViewType.ALL):
        for r in a.search_runs([e.experiment_id], run_view_type=ViewType.ALL):
            r2 = b.get_run(r.info.run_id)
            for field in (
                "run_name",
                "experiment_id",
                "user_id",
                "status",
                "start_time",
                "end_time",
                "lifecycle_stage",
            ):
                assert getattr(r.info, field) == getattr(r2.info, field), field
            assert r2.info.artifact_uri.startswith(f"file://{out}")
            assert r.data.params == r2.data.params and r.data.tags == r2.data.tags
            assert r.data.metrics.keys() == r2.data.metrics.keys()
            assert all(same(v, r2.data.metrics[k]) for k, v in r.data.metrics.items())
            names = sorted(f.path for f in a.list_artifacts(r.info.run_id))
            assert names == sorted(f.path for f in b.list_artifacts(r.info.run_id))
            runs += 1
    assert runs == 6
    pid = ids["parent"]
    for store in (a, b):
        with open(
            store.download_artifacts(pid, "model/sub/conf.json", str(tmp_path / "dl")), "rb"
        ) as fh:
            assert fh.read() == b'{"k": 1}'
    for n in ("1", "2", "3"):
        v1, v2 = a.get_model_version("titanic", n), b.get_model_version("titanic", n)
        for field in ("current_stage", "run_id", "source", "description", "tags"):
            assert getattr(v1, field) == getattr(v2, field), field
        assert sorted(v1.aliases) == sorted(v2.aliases)
    m1, m2 = a.get_registered_model("titanic"), b.get_registered_model("titanic")
    assert (m1.description, m1.tags, m1.aliases) == (m2.description, m2.tags, m2.aliases)
    proc = subprocess.run(
        [sys.executable, "-m", "tracker", "--root", root, "export", "mlflow", "--out", str(out)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": REPO},
        timeout=120,
    )
    assert proc.returncode == 1 and "not an empty directory" in proc.stderr


def test_export_of_a_native_store(tmp_path: Any) -> None:
    root, src = str(tmp_path / "s"), tmp_path / "model.json"
    src.write_text("{}")
    with Tracker(root, git=False) as t:
        mv = t.create_resource("titanic", type="model_version")
        ex = t.create_resource("xgb", type="experiment", parent=mv)
        t.log_metadata(ex, "metrics", {"f1": 0.81})
        t.log_metadata(ex, "params", {"depth": 3})
        t.log_tag(ex, "stage", "trained")
        t.log_artifact(ex, "model", str(src))
        t.log_tag(mv, "status", "DEPLOYED")
        t.log_tag(mv, "aliases", ["../../escape", "prod"])  # only names stay inside --out
        t.log_tag(ex, "../up", "x")
        if hasattr(t, "log_metric"):
            t.log_metric(ex, "f1", 0.81, step=0)
    from tracker.importers.mlflow.export import export_mlruns

    result = export_mlruns(Tracker(root, git=False), str(tmp_path / "out"))
    assert result["runs"] == 1 and len(result["skipped"]) == 2
    assert sorted(os.listdir(tmp_path)) == ["model.json", "out", "s"]
    c = mlflow_stores.client(str(tmp_path / "out"))
    (exp,) = [e for e in c.search_experiments() if e.name == "xgb"]
    (run,) = c.search_runs([exp.experiment_id])
    assert run.data.params == {"depth": "3"} and run.data.metrics == {"f1": 0.81}
    assert run.data.tags["stage"] == "trained" and run.info.status == "FINISHED"
    assert [f.path for f in c.list_artifacts(run.info.run_id)] == ["model"]
    assert c.get_model_version("titanic", "1").current_stage == "Production"
    assert c.get_model_version("titanic", "1").aliases == ["prod"]
