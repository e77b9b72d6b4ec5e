"""The ``tracker`` command line: every command through ``main(argv)``, its output formats, its
errors (one line, non-zero exit, no traceback) and that reading never writes to the store."""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import re
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import pytest

from tracker import Tracker
from tracker.cli import main as cli_main
from tracker.cli.common import add_command, write
from tracker.cli.main import main

MAIN = str(Path(__file__).resolve().parents[1])


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def assert_error(code: int, out: str, err: str, *fragments: str) -> None:
    """One line on stderr, ``tracker: error: ...``, a non-zero exit and nothing on stdout."""
    assert code == 1
    assert out == ""
    assert err.startswith("tracker: error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in err, err


def tree_of(root: Path) -> dict[str, int]:
    """Every file and its mtime, but the query index: a rebuildable cache that reads refresh."""
    return {
        str(p.relative_to(root)): p.stat().st_mtime_ns
        for p in root.rglob("*")
        if p.is_file() and not re.fullmatch(r"index(-\d+)?\.json", p.name)
    }


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A small store written through the API: two datasets, a model with experiments, a job."""
    root = tmp_path_factory.mktemp("store") / "root"
    files = tmp_path_factory.mktemp("files")
    (files / "model.json").write_text('{"weights": [1, 2, 3]}')
    (files / "preds").mkdir()
    (files / "preds" / "a.csv").write_text("id,p\n1,0.5\n")
    (files / "preds" / "b.csv").write_text("id,p\n2,0.7\n")

    t = Tracker(str(root), git=False, run_name="prepare")
    dv1 = t.create_resource("iris", type="dataset_version", rows=150)
    t.log_tags(dv1, {"stage": "raw"})
    t.log_metadata(dv1, "rows", 150)
    dv2 = t.create_resource("iris", type="dataset_version", rows=147)
    t.log_tags(dv2, {"stage": "clean", "note": "<b>dropped & fixed</b>"})
    t.log_metadata(dv2, "rows", 147)
    t.stop()

    t = Tracker(str(root), git=False, run_name="train")
    mv = t.create_resource("iris", type="model_version")
    for name, f1 in (("small", 0.81), ("large", 0.93)):
        exp = t.create_resource(name, type="experiment", parent=mv)
        t.log_metadata(exp, "f1", f1)
    t.log_metadata(mv, "f1", 0.93)
    t.log_metadata(mv, "params", {"depth": 3, "features": ["a", "b"]})
    t.log_metadata(mv, "winning_experiment_id", "large")
    t.log_tag(mv, "status", "DEPLOYED")
    t.log_artifact(mv, "model", str(files / "model.json"))
    t.build_model_lineage(mv, [dv2])
    job = t.create_resource("job-1", type="prediction_job", parent=mv)
    t.log_artifact(job, "predictions", str(files / "preds"))
    t.stop()
    return str(root)


# -- runs ----------------------------------------------------------------------------------------
def test_runs_table_json_and_csv(capsys: pytest.CaptureFixture[str], store: str) -> None:
    code, out, err = run(capsys, "--root", store, "runs")
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0].split()[:4] == ["RUN", "NAME", "STATUS", "START"]
    assert "train" in lines[1] and "prepare" in lines[2]  # newest first
    assert all("FINISHED" in line for line in lines[1:])

    code, out, _ = run(capsys, "--root", store, "runs", "--json")
    rows = json.loads(out)
    assert code == 0 and [r["name"] for r in rows] == ["train", "prepare"]
    assert set(rows[0]) == {
        "id", "name", "status", "start_time", "end_time", "duration_s", "user", "host",
        "git_commit", "git_branch", "git_dirty", "git_remote",
    }  # fmt: skip
    assert rows[0]["start_time"].startswith("20") and "T" in rows[0]["start_time"]
    assert rows[0]["duration_s"] >= 0 and rows[0]["git_commit"] is None

    code, out, _ = run(capsys, "--root", store, "runs", "--format", "csv")
    parsed = list(csv.DictReader(io.StringIO(out)))
    assert [r["name"] for r in parsed] == ["train", "prepare"]
    assert parsed[0]["id"] == rows[0]["id"] and parsed[0]["git_commit"] == ""

    code, out, _ = run(capsys, "--root", store, "runs", "--where", "name = 'prepare'", "--json")
    assert [r["name"] for r in json.loads(out)] == ["prepare"]
    code, out, _ = run(capsys, "--root", store, "runs", "--limit", "1", "--json")
    assert len(json.loads(out)) == 1


def test_runs_show_git_commit_and_dirty_flag(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    git = pytest.importorskip("git")
    repo = git.Repo.init(tmp_path / "repo")
    with repo.config_writer() as cfg:
        cfg.set_value("user", "name", "t").set_value("user", "email", "t@example.com")
    (tmp_path / "repo" / "train.py").write_text("print(1)\n")
    repo.index.add(["train.py"])
    sha = repo.index.commit("first").hexsha
    (tmp_path / "repo" / "train.py").write_text("print(2)\n")  # uncommitted change
    t = Tracker(str(tmp_path / "store"), git_path=str(tmp_path / "repo"), run_name="dirty-run")
    t.create_resource("x", type="dataset_version")
    t.stop()
    repo.close()

    code, out, _ = run(capsys, "--root", str(tmp_path / "store"), "runs")
    assert code == 0 and sha[:8] in out and "dirty" in out
    code, out, _ = run(capsys, "--root", str(tmp_path / "store"), "runs", "--json")
    (row,) = json.loads(out)
    assert row["git_commit"] == sha and row["git_dirty"] is True


# -- ls / show -----------------------------------------------------------------------------------
def test_ls(capsys: pytest.CaptureFixture[str], store: str) -> None:
    code, out, _ = run(capsys, "--root", store, "ls")
    assert code == 0
    line = next(x for x in out.splitlines() if x.startswith("dataset_version"))
    assert line.split()[:4] == ["dataset_version", "iris", "2", "2"]
    code, out, _ = run(capsys, "--root", store, "ls", "experiment", "--json")
    rows = json.loads(out)
    assert [(r["id"], r["latest_ref"]) for r in rows] == [
        ("large", "experiment/large@1"),
        ("small", "experiment/small@1"),
    ]
    assert set(rows[0]) == {
        "type", "id", "versions", "latest_version", "latest_ref", "latest_created_at",
    }  # fmt: skip
    code, out, _ = run(capsys, "--root", store, "ls", "--format", "csv")
    parsed = list(csv.DictReader(io.StringIO(out)))
    assert {(r["type"], r["id"], r["versions"]) for r in parsed} >= {
        ("dataset_version", "iris", "2"),
        ("model_version", "iris", "1"),
        ("prediction_job", "job-1", "1"),
    }
    code, out, _ = run(capsys, "--root", store, "ls", "nosuchtype")
    assert code == 0 and "no resources of type 'nosuchtype'" in out


def test_show_resource(capsys: pytest.CaptureFixture[str], store: str) -> None:
    code, out, _ = run(capsys, "--root", store, "show", "model_version/iris")
    assert code == 0
    assert out.startswith("model_version/iris@1\n")
    for fragment in (
        "status  DEPLOYED",
        "winning_experiment_id",
        "model.json",
        "22 B",
        "experiment/large@1",
        "prediction_job/job-1@1",
        "trained on (1)\n  dataset_version/iris@2",
        "tracker lineage model_version/iris@1",
    ):
        assert fragment in out, fragment

    code, out, _ = run(capsys, "--root", store, "show", "dataset_version/iris@1", "--json")
    info = json.loads(out)
    assert set(info) == {
        "kind", "ref", "type", "id", "version", "run_id", "parent", "created_at", "attrs",
        "tags", "metadata", "artifacts", "children", "lineage", "used_by", "metrics",
    }  # fmt: skip
    assert info["kind"] == "resource" and info["ref"] == "dataset_version/iris@1"
    assert info["tags"] == {"stage": "raw"} and info["metadata"] == {"rows": 150}
    assert info["attrs"]["rows"] == 150 and info["attrs"]["status"] == "FINISHED"

    code, out, _ = run(capsys, "--root", store, "show", "prediction_job/job-1", "--json")
    info = json.loads(out)
    assert info["parent"] == "model_version/iris@1"
    art = info["artifacts"]["predictions"]
    assert art["kind"] == "dir" and art["files"] == 2 and art["size"] == 22
    # "model/NAME" names the model_version series
    code, out, _ = run(capsys, "--root", store, "show", "model/iris", "--json")
    assert json.loads(out)["ref"] == "model_version/iris@1"


def test_show_run(capsys: pytest.CaptureFixture[str], store: str) -> None:
    code, out, _ = run(capsys, "--root", store, "runs", "--json")
    train = next(r for r in json.loads(out) if r["name"] == "train")
    code, out, _ = run(capsys, "--root", store, "show", train["id"])
    assert code == 0 and f"run {train['id']}" in out and "FINISHED" in out
    assert "model_version/iris@1" in out and "no repository" in out
    code, out, _ = run(capsys, "--root", store, "show", train["id"], "--json")
    info = json.loads(out)
    assert info["kind"] == "run" and info["id"] == train["id"] and info["git"] is None
    assert info["created"] == [
        "experiment/large@1",
        "experiment/small@1",
        "model_version/iris@1",
        "prediction_job/job-1@1",
    ]


# -- find ----------------------------------------------------------------------------------------
def test_find(capsys: pytest.CaptureFixture[str], store: str) -> None:
    code, out, _ = run(capsys, "--root", store, "find", "--where", "tags.status = 'DEPLOYED'")
    assert code == 0
    header, *lines = out.splitlines()
    assert header.split()[:2] == ["REF", "CREATED_AT"] and "tags.status" in header
    assert len(lines) == 1 and lines[0].startswith("model_version/iris@1")

    code, out, _ = run(
        capsys, "--root", store, "find", "--type", "experiment", "--order-by", "metadata.f1 desc",
        "--json",
    )  # fmt: skip
    rows = json.loads(out)
    assert [(r["ref"], r["metadata.f1"]) for r in rows] == [
        ("experiment/large@1", 0.93),
        ("experiment/small@1", 0.81),
    ]
    assert rows[0]["parent"] == "model_version/iris@1" and "T" in rows[0]["created_at"]

    code, out, _ = run(
        capsys, "--root", store, "find", "--where", "metadata.rows >= 100", "--format", "csv"
    )
    parsed = list(csv.DictReader(io.StringIO(out)))
    assert [r["ref"] for r in parsed] == ["dataset_version/iris@1", "dataset_version/iris@2"]
    assert parsed[1]["tags.note"] == "<b>dropped & fixed</b>" and parsed[0]["tags.note"] == ""
    assert parsed[0]["metadata.rows"] == "150"

    code, out, _ = run(
        capsys, "--root", store, "find", "--type", "model_version", "--columns",
        "ref,metadata.params", "--format", "csv",
    )  # fmt: skip
    (row,) = csv.DictReader(io.StringIO(out))
    assert json.loads(row["metadata.params"]) == {"depth": 3, "features": ["a", "b"]}

    code, out, _ = run(capsys, "--root", store, "find", "--id", "iris", "--limit", "1", "--json")
    assert len(json.loads(out)) == 1
    code, out, _ = run(capsys, "--root", store, "find", "--where", "tags.status = 'NOPE'")
    assert code == 0 and "no resource versions match" in out


def test_find_bad_expression_names_the_column(
    capsys: pytest.CaptureFixture[str], store: str
) -> None:
    assert_error(*run(capsys, "--root", store, "find", "--where", "tags.status = "), "column 15")
    assert_error(*run(capsys, "--root", store, "find", "--where", "tags.x == = 1"), "column")
    assert_error(*run(capsys, "--root", store, "find", "--order-by", "a b c"), "order_by")


# -- lineage / diff ------------------------------------------------------------------------------
def test_lineage(capsys: pytest.CaptureFixture[str], store: str) -> None:
    code, out, _ = run(capsys, "--root", store, "lineage", "model_version/iris")
    assert code == 0
    assert "upstream: what model_version/iris@1 came from" in out
    assert "└── trained on: dataset_version/iris@2" in out
    assert "├── child: experiment/large@1" in out and "└── child: prediction_job/job-1@1" in out

    code, out, _ = run(capsys, "--root", store, "lineage", "dataset_version/iris@2", "--down")
    assert "upstream" not in out
    assert out.splitlines()[1:] == [
        "dataset_version/iris@2",
        "└── used by: model_version/iris@1",
        "    ├── child: experiment/large@1",
        "    ├── child: experiment/small@1",
        "    └── child: prediction_job/job-1@1",
    ]
    code, out, _ = run(
        capsys, "--root", store, "lineage", "dataset_version/iris@2", "--down", "--depth", "1",
        "--json",
    )  # fmt: skip
    data = json.loads(out)
    assert data["ref"] == "dataset_version/iris@2" and data["up"] is None
    assert data["down"] == {
        "ref": "dataset_version/iris@2",
        "relation": "self",
        "links": [{"ref": "model_version/iris@1", "relation": "used_by", "links": []}],
    }
    code, out, _ = run(capsys, "--root", store, "lineage", "dataset_version/iris@1", "--up")
    assert code == 0 and "(nothing)" in out
    code, _, err = run(capsys, "--root", store, "lineage", "x/y", "--up", "--down")
    assert code == 2 and "not allowed" in err


def test_diff(capsys: pytest.CaptureFixture[str], store: str) -> None:
    a, b = "dataset_version/iris@1", "dataset_version/iris@2"
    code, out, _ = run(capsys, "--root", store, "diff", a, b)
    assert code == 0
    assert out.splitlines()[0].split() == ["SECTION", "KEY", a, b]
    assert any(
        line.split()[:5] == ["~", "tags", "stage", "raw", "clean"] for line in out.splitlines()
    )
    assert any("note" in line and "(absent)" in line for line in out.splitlines())
    assert "run_status" not in out  # equal values are hidden

    code, out, _ = run(capsys, "--root", store, "diff", a, b, "--json")
    data = json.loads(out)
    assert data["left"] == a and data["right"] == b
    rows = {(r["section"], r["key"]): r for r in data["rows"]}
    assert rows[("metadata", "rows")] == {
        "section": "metadata", "key": "rows", "left": 150, "right": 147, "change": "changed",
    }  # fmt: skip
    assert rows[("tags", "note")]["change"] == "added" and rows[("tags", "note")]["left"] is None
    assert all(r["change"] != "same" for r in data["rows"])

    code, out, _ = run(capsys, "--root", store, "diff", a, b, "--all", "--json")
    changes = {(r["section"], r["key"]): r["change"] for r in json.loads(out)["rows"]}
    assert changes[("attrs", "run_status")] == "same"
    code, out, _ = run(capsys, "--root", store, "diff", a, a)
    assert code == 0 and "have the same attributes, tags and metadata" in out


# -- artifacts / get -----------------------------------------------------------------------------
def test_artifacts_and_get(capsys: pytest.CaptureFixture[str], store: str, tmp_path: Path) -> None:
    code, out, _ = run(capsys, "--root", store, "artifacts", "prediction_job/job-1@1")
    assert code == 0 and out.split("\n")[1].split()[:5] == [
        "predictions",
        "preds",
        "dir",
        "2",
        "22",
    ]
    code, out, _ = run(capsys, "--root", store, "artifacts", "model_version/iris", "--json")
    (art,) = json.loads(out)
    assert set(art) == {
        "id", "name", "kind", "files", "size", "sha256", "logged_at", "run_id", "contents",
    }  # fmt: skip
    assert art["id"] == "model" and art["kind"] == "file" and len(art["sha256"]) == 64
    assert art["contents"] == [{"path": "model.json", "size": 22, "sha256": art["sha256"]}]
    code, out, _ = run(
        capsys, "--root", store, "artifacts", "model_version/iris", "--format", "csv"
    )
    (row,) = csv.DictReader(io.StringIO(out))
    assert row["id"] == "model" and row["size"] == "22" and "contents" not in row
    code, out, _ = run(capsys, "--root", store, "artifacts", "dataset_version/iris@1")
    assert code == 0 and "has no artifacts" in out

    code, out, _ = run(capsys, "--root", store, "get", "model_version/iris", "model")
    assert code == 0 and Path(out.strip()).read_text() == '{"weights": [1, 2, 3]}'
    code, out, _ = run(
        capsys, "--root", store, "get", "prediction_job/job-1", "predictions",
        "--dest", str(tmp_path / "out"), "--json",
    )  # fmt: skip
    data = json.loads(out)
    assert data["ref"] == "prediction_job/job-1@1" and data["artifact_id"] == "predictions"
    assert Path(data["path"]) == tmp_path / "out" / "preds"
    assert (tmp_path / "out" / "preds" / "b.csv").read_text() == "id,p\n2,0.7\n"
    assert_error(*run(capsys, "--root", store, "get", "model_version/iris", "nope"), "'nope'")


# -- errors --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["show", "model_version/nope"], "no resource model_version/nope"),
        (["show", "model_version/iris@7"], "no resource model_version/iris@7"),
        (["show", "20990101T000000Z-abcdef"], "no run '20990101T000000Z-abcdef'"),
        (["show", "model_version/"], "not a resource ref"),
        (["lineage", "dataset_version/nope"], "no resource dataset_version/nope"),
        (["diff", "dataset_version/iris@1", "dataset_version/iris@9"], "iris@9"),
        (["artifacts", "nope/x"], "no resource nope/x"),
        (["get", "nope/x", "model"], "no resource nope/x"),
    ],
)
def test_bad_refs(
    capsys: pytest.CaptureFixture[str], store: str, argv: list[str], fragment: str
) -> None:
    assert_error(*run(capsys, "--root", store, *argv), fragment)


READ_COMMANDS = [
    ["runs"],
    ["ls"],
    ["show", "model_version/iris"],
    ["find"],
    ["lineage", "model_version/iris"],
    ["diff", "model_version/iris", "model_version/iris"],
    ["artifacts", "model_version/iris"],
    ["get", "model_version/iris", "model"],
]


@pytest.mark.parametrize("argv", READ_COMMANDS, ids=lambda a: a[0])
def test_missing_store_is_reported_and_not_created(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: list[str]
) -> None:
    root = tmp_path / "nothing-here"
    assert_error(
        *run(capsys, "--root", str(root), *argv), "no tracker store at", "--root", "tracker demo"
    )
    assert not root.exists()


def test_newer_format_and_unreadable_store(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    newer = tmp_path / "newer"
    newer.mkdir()
    (newer / "tracker.yaml").write_text("format: 99\n")
    for argv in READ_COMMANDS:
        assert_error(*run(capsys, "--root", str(newer), *argv), "format 99", "Upgrade")
    assert_error(*run(capsys, "--root", str(newer), "demo"), "format 99")
    assert sorted(p.name for p in newer.iterdir()) == ["tracker.yaml"]  # the demo wrote nothing

    broken = tmp_path / "broken"
    (broken / "tracker.yaml").mkdir(parents=True)  # where a file should be
    assert_error(*run(capsys, "--root", str(broken), "ls"), "tracker.yaml")
    garbled = tmp_path / "garbled"
    garbled.mkdir()
    (garbled / "tracker.yaml").write_text("format: [1\n")
    assert_error(*run(capsys, "--root", str(garbled), "runs"), "tracker.yaml")


def test_reading_never_writes(capsys: pytest.CaptureFixture[str], store: str) -> None:
    before = tree_of(Path(store))
    for argv in READ_COMMANDS:
        code, _, err = run(capsys, "--root", store, *argv)
        assert code == 0, (argv, err)
        code, out, _ = run(capsys, "--root", store, *argv, "--json")
        json.loads(out)
    assert tree_of(Path(store)) == before


def test_unexpected_errors_are_one_line(
    capsys: pytest.CaptureFixture[str], store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("kaput")

    monkeypatch.setattr(Tracker, "runs", boom)
    assert_error(*run(capsys, "--root", store, "runs"), "RuntimeError: kaput", "TRACKER_DEBUG")
    monkeypatch.setenv("TRACKER_DEBUG", "1")
    with pytest.raises(RuntimeError):
        main(["--root", store, "runs"])


# -- roots, usage, extension ---------------------------------------------------------------------
def test_root_from_env_default_and_after_command(
    capsys: pytest.CaptureFixture[str], store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRACKER_ROOT", store)
    code, out, _ = run(capsys, "ls", "model_version")
    assert code == 0 and "iris" in out
    monkeypatch.delenv("TRACKER_ROOT")
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "runs")
    assert_error(code, out, err, str(tmp_path / ".tracker"))
    code, out, _ = run(capsys, "ls", "--root", store, "--json")
    assert code == 0 and json.loads(out)
    code, out, _ = run(capsys, "--root", str(tmp_path), "ls", "--root", store)
    assert code == 0 and "iris" in out  # the later --root wins


def test_usage(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--help")
    assert code == 0 and "lineage" in out and "find" in out
    code, out, _ = run(capsys, "--version")
    assert code == 0 and out.startswith("tracker ")
    code, _, err = run(capsys)
    assert code == 2 and "no command" in err and "tracker --help" in err
    code, _, err = run(capsys, "frobnicate")
    assert code == 2 and "unknown command 'frobnicate'" in err and err.count("\n") == 1
    code, _, err = run(capsys, "find", "--limit", "many")
    assert code == 2 and "--limit" in err and "see tracker find --help" in err
    assert err.count("\n") == 1
    code, _, err = run(capsys, "runs", "--format", "xml")
    assert code == 2
    code, _, err = run(capsys, "show", "x/y", "--format", "csv")  # not a tabular command
    assert code == 2


def test_more_commands_can_be_registered(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    module = types.ModuleType("tracker.cli.hello")

    def hello(args: argparse.Namespace) -> int:
        write(f"hello {args.name}")
        return 3

    def register(sub: Any) -> None:
        add_command(sub, "hello", hello, "say hello").add_argument("name")

    module.register = register  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "tracker.cli.hello", module)
    monkeypatch.setattr(cli_main, "COMMAND_MODULES", [*cli_main.COMMAND_MODULES, "hello"])
    assert run(capsys, "hello", "you") == (3, "hello you\n", "")


def test_python_dash_m(store: str, tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": MAIN}
    env.pop("TRACKER_ROOT", None)
    ok = subprocess.run(
        [sys.executable, "-m", "tracker", "--root", store, "show", "model_version/iris", "--json"],
        capture_output=True, text=True, env=env, timeout=60,
    )  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["tags"] == {"status": "DEPLOYED"}
    bad = subprocess.run(
        [sys.executable, "-m", "tracker", "--root", str(tmp_path / "none"), "runs"],
        capture_output=True, text=True, env=env, timeout=60,
    )  # fmt: skip
    assert bad.returncode == 1 and bad.stdout == ""
    assert (
        bad.stderr.startswith("tracker: error: no tracker store") and "Traceback" not in bad.stderr
    )
