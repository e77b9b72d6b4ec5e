"""``tracker demo``: a realistic workflow recorded through the public API, quickly, repeatably,
and readable back with ``show``, ``lineage``, ``find`` and ``runs``."""

from __future__ import annotations

import json
import shlex
import time
from pathlib import Path
from typing import Any

import pytest

from tracker import Tracker
from tracker.cli.main import main


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    code = main([*argv, "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out)


@pytest.fixture(scope="module")
def demo_root(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(tmp_path_factory.mktemp("demo") / "store")


def test_demo_records_three_runs_quickly(
    capsys: pytest.CaptureFixture[str], demo_root: str
) -> None:
    started = time.perf_counter()
    code = main(["--root", demo_root, "demo"])
    elapsed = time.perf_counter() - started
    out, err = capsys.readouterr()
    assert code == 0, err
    assert elapsed < 3, f"demo took {elapsed:.2f}s"
    assert f"Recorded a demo workflow in {demo_root} (3 runs)" in out
    for ref in (
        "dataset_version/titanic@1",
        "dataset_version/titanic@2",
        "model_version/titanic@1",
        "model_version/titanic@2",
        "experiment/titanic-logreg@2",
        "prediction_job/",
    ):
        assert ref in out
    assert "Deployed now: model_version/titanic@2" in out
    assert f"tracker --root {demo_root} show model_version/titanic" in out
    assert f"tracker --root {demo_root} find --where \"tags.status = 'DEPLOYED'\"" in out

    runs = run_json(capsys, "--root", demo_root, "runs")
    assert isinstance(runs, list)
    assert [r["name"] for r in runs] == ["demo: train v2", "demo: train v1", "demo: prepare data"]
    assert {r["status"] for r in runs} == {"FINISHED"}


def test_show_lineage_and_find_on_the_demo(
    capsys: pytest.CaptureFixture[str], demo_root: str
) -> None:
    mv = run_json(capsys, "--root", demo_root, "show", "model_version/titanic")
    assert isinstance(mv, dict)
    assert mv["ref"] == "model_version/titanic@2" and mv["tags"]["status"] == "DEPLOYED"
    assert mv["metadata"]["winning_experiment_id"].startswith("titanic-")
    assert mv["metadata"]["replaces"] == "model_version/titanic@1"
    assert 0.5 < mv["metadata"]["accuracy"] <= 1
    assert mv["lineage"] == ["dataset_version/titanic@2"]
    assert mv["artifacts"]["model"]["kind"] == "file"
    kinds = sorted(ref.split("/")[0] for ref in mv["children"])
    assert kinds == ["experiment"] * 3 + ["prediction_job"]

    v1 = run_json(capsys, "--root", demo_root, "show", "model_version/titanic@1")
    assert isinstance(v1, dict) and v1["tags"]["status"] == "RETIRED"
    assert v1["lineage"] == ["dataset_version/titanic@1"]

    dv = run_json(capsys, "--root", demo_root, "show", "dataset_version/titanic@2")
    assert isinstance(dv, dict) and dv["tags"]["stage"] == "clean"
    assert set(dv["artifacts"]) == {"data", "data_comparison", "data_profile"}
    assert dv["metadata"]["rows"] < 891 and dv["used_by"] == ["model_version/titanic@2"]

    tree = run_json(capsys, "--root", demo_root, "lineage", "dataset_version/titanic@1", "--down")
    assert isinstance(tree, dict)
    (used,) = tree["down"]["links"]
    assert used["ref"] == "model_version/titanic@1" and used["relation"] == "used_by"
    assert len(used["links"]) == 4

    found = run_json(capsys, "--root", demo_root, "find", "--where", "tags.status = 'DEPLOYED'")
    assert [r["ref"] for r in found] == ["model_version/titanic@2"]
    jobs = run_json(capsys, "--root", demo_root, "find", "--type", "prediction_job")
    assert isinstance(jobs, list) and len(jobs) == 2
    assert {j["parent"] for j in jobs} == {"model_version/titanic@1", "model_version/titanic@2"}
    assert all(0 <= j["metadata.positive_rate"] <= 1 for j in jobs)

    # the core's lifecycle lookups agree with what the demo meant to record
    t = Tracker(demo_root)
    winner = t.get_winning_experiment("model_version/titanic@2")
    assert winner is not None and winner.parent == "model_version/titanic@2"
    assert t.get_currently_deployed_model_version("model_version/titanic@2") == v1["ref"]
    predictions = Path(t.get_artifact(jobs[0]["ref"], "predictions")).read_text()
    assert predictions.startswith("passenger_id,survived,probability\n")
    assert len(predictions.splitlines()) == 419
    assert t.run_id is None  # reading opened no run


def test_printed_commands_work(capsys: pytest.CaptureFixture[str], demo_root: str) -> None:
    info = run_json(capsys, "--root", demo_root, "demo")  # a second time: new versions
    assert isinstance(info, dict) and info["deployed"] == "model_version/titanic@4"
    assert [len(r["created"]) for r in info["runs"]] == [2, 5, 5]
    for command in info["commands"]:
        argv = shlex.split(command)
        assert argv[0] == "tracker"
        assert main(argv[1:]) == 0, command
        assert capsys.readouterr().out
    found = run_json(capsys, "--root", demo_root, "find", "--where", "tags.status = 'DEPLOYED'")
    assert [r["ref"] for r in found] == ["model_version/titanic@4"]
    assert len(run_json(capsys, "--root", demo_root, "runs")) == 6


def test_demo_in_a_git_repository_records_the_commit(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    git = pytest.importorskip("git")
    repo = git.Repo.init(tmp_path / "project")
    with repo.config_writer() as cfg:
        cfg.set_value("user", "name", "t").set_value("user", "email", "t@example.com")
    (tmp_path / "project" / "README").write_text("demo\n")
    repo.index.add(["README"])
    sha = repo.index.commit("init").hexsha
    monkeypatch.chdir(tmp_path / "project")
    monkeypatch.delenv("TRACKER_ROOT", raising=False)
    assert main(["demo"]) == 0  # default root: ./.tracker, inside the repository
    out = capsys.readouterr().out
    assert str(tmp_path / "project" / ".tracker") in out
    runs = run_json(capsys, "runs")
    assert isinstance(runs, list) and len(runs) == 3
    assert {r["git_commit"] for r in runs} == {sha}
    assert {r["git_dirty"] for r in runs} == {False}  # the store does not dirty the work tree
    assert not repo.is_dirty(untracked_files=True)
    repo.close()
