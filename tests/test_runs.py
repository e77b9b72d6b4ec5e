"""Runs: git capture in a real repository, FAILED on exceptions, CRASHED when the process died."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import git
import pytest

from tracker import Tracker, VersionControlError

WORKERS = os.path.join(os.path.dirname(__file__), "workers.py")


@pytest.fixture
def repo(tmp_path):
    work = tmp_path / "project"
    work.mkdir()
    r = git.Repo.init(work)
    with r.config_writer() as cw:
        cw.set_value("user", "name", "Test")
        cw.set_value("user", "email", "test@example.com")
    (work / "train.py").write_text("print('train')\n")
    r.index.add(["train.py"])
    r.index.commit("first")
    r.create_remote("origin", "https://example.invalid/project.git")
    return r


def test_run_records_commit_and_store_inside_tree_is_not_dirty(repo, monkeypatch):
    work = repo.working_tree_dir
    monkeypatch.chdir(work)
    t = Tracker(os.path.join(work, ".tracker"))
    t.create_resource("titanic", type="model_version")
    t.stop()
    t2 = Tracker(os.path.join(work, ".tracker"))
    t2.log_tag("model_version/titanic@1", "again", 1)  # a second run: the store exists now
    run = next(r for r in t2.runs() if r["id"] == t2.run_id)
    t2.stop()
    assert run["git"]["hexsha"] == repo.head.commit.hexsha
    assert run["git"]["branch"] == repo.active_branch.name
    assert run["git"]["dirty"] is False
    assert run["git"]["remote"] == "https://example.invalid/project.git"
    assert not repo.is_dirty(untracked_files=True)
    with open(os.path.join(work, "train.py"), "a") as fh:
        fh.write("# edit\n")
    t3 = Tracker(os.path.join(work, ".tracker"))
    t3.log_tag("model_version/titanic@1", "third", 1)
    assert next(r for r in t3.runs() if r["id"] == t3.run_id)["git"]["dirty"] is True
    t3.stop()


def test_register_vc_resource_reads_head(repo, tmp_path, monkeypatch):
    monkeypatch.chdir(repo.working_tree_dir)
    t = Tracker(str(tmp_path / "store"), git=False)
    res = t.create_resource("data", type="dataset_version")
    t.register_vc_resource(res, None, key="X_train")
    assert t.get_vc_info(res, "X_train_hexsha")["hexsha"] == repo.head.commit.hexsha
    t.register_vc_resource(res, {"repo": repo.working_tree_dir})
    assert t.get_vc_info(res) == {
        "hexsha": repo.head.commit.hexsha,
        "uri": "https://example.invalid/project.git",
    }
    t.stop()


def test_no_repository_is_not_an_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    t = Tracker(str(tmp_path / "store"))
    res = t.create_resource("x", type="model_version")
    run = t.runs()[0]
    assert run["git"] is None and run["status"] == "RUNNING"
    # lolpop passes vc_info=None without version control: nothing to record, no error
    t.register_vc_resource(res, None, key="X_train", additional_metadata={"rows": 3})
    assert t.get_vc_info(res, "X_train") == {"hexsha": None, "uri": None}
    assert t.get_all_metadata(res) == {"rows": 3}
    with pytest.raises(VersionControlError, match="not inside a git repository"):
        t.register_vc_resource(res, {"repo": str(tmp_path)})
    t.stop()


def test_killed_process_shows_as_crashed(tmp_path):
    root = str(tmp_path / "store")
    proc = subprocess.Popen(
        [sys.executable, WORKERS, "hang", root], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    info = json.loads(proc.stdout.readline())
    t = Tracker(root, git=False)
    assert t.runs()[0]["status"] == "RUNNING"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    run = t.runs()[0]
    assert run["id"] == info["run_id"] and run["status"] == "CRASHED"
    victim = t.create_resource("victim", type="model_version")  # version 2, by a live run
    assert t.get_prev_resource_version(victim) is None  # v1's run crashed: skipped
    t.stop()


def test_uncaught_exception_at_exit_marks_failed_and_normal_exit_finished(tmp_path):
    root = str(tmp_path / "store")
    code = (
        f"import sys; sys.path.insert(0, {os.path.dirname(os.path.dirname(__file__))!r})\n"
        "from tracker import Tracker\n"
        f"t = Tracker({root!r}, git=False)\n"
        "t.create_resource('x', type='model_version')\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    subprocess.run([sys.executable, "-c", code + "raise SystemExit('bye')\n"])
    subprocess.run(
        [sys.executable, "-c", code + "raise ValueError('boom')\n"], stderr=subprocess.DEVNULL
    )
    statuses = [r["status"] for r in Tracker(root).runs(order_by="start_time")]
    assert statuses == ["FINISHED", "FINISHED", "FAILED"]
