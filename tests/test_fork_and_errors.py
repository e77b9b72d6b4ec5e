"""Forks start their own run; a damaged file never keeps a run from ending; OS errors are
TrackerErrors that name the operation and the path; fsck lists what a read would refuse."""

from __future__ import annotations

import errno
import multiprocessing
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tracker import Tracker
from tracker.errors import StoreError, TrackerError

SERIES = Path("resources/model_version/m")


def _child_logs(root: str) -> None:
    t = _TRACKERS[root]
    t.log_tag("model_version/m@1", "from_child", os.getpid())


_TRACKERS: dict[str, Tracker] = {}


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_a_child_process_never_ends_its_parents_run(tmp_path: Path, method: str) -> None:
    root = str(tmp_path / "s")
    t = Tracker(root, git=False)
    r = t.create_resource("m", type="model_version")
    parent_run = t.run_id
    if method == "spawn":
        ctx = multiprocessing.get_context("spawn")
        p = ctx.Process(target=_spawned, args=(root,))
    else:
        _TRACKERS[root] = t
        ctx = multiprocessing.get_context("fork")
        p = ctx.Process(target=_child_logs, args=(root,))
    p.start()
    p.join(60)
    assert p.exitcode == 0
    assert t.run(parent_run)["status"] == "RUNNING"
    assert t.get_attributes(r).get("status") is None  # the parent's version is still open
    child_runs = [x for x in t.runs() if x["id"] != parent_run]
    assert len(child_runs) == 1 and child_runs[0]["pid"] != os.getpid()
    assert t.get_tag(r, "from_child") == child_runs[0]["pid"]
    t.stop()
    assert t.run(parent_run)["status"] == "FINISHED"


def _spawned(root: str) -> None:
    t = Tracker(root, git=False)
    t.log_tag("model_version/m@1", "from_child", os.getpid())
    t.stop()


def test_os_fork_child_exit_does_not_finish_the_parent(tmp_path: Path) -> None:
    root = str(tmp_path / "s")
    script = textwrap.dedent(
        f"""
        import os, signal, sys, time
        from tracker import Tracker
        t = Tracker({root!r}, git=False)
        t.create_resource("m", type="model_version")
        print(t.run_id, flush=True)
        pid = os.fork()
        if pid == 0:
            sys.exit(0)  # atexit runs here: it must not end the parent's run
        os.waitpid(pid, 0)
        print("ready", flush=True)
        time.sleep(60)
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )  # fmt: skip
    assert proc.stdout is not None
    run_id = proc.stdout.readline().strip()
    assert proc.stdout.readline().strip() == "ready"
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    assert Tracker(root, git=False).run(run_id)["status"] == "CRASHED"


def test_stop_records_the_runs_end_despite_a_corrupt_key_file(tmp_path: Path) -> None:
    root = tmp_path / "s"
    t = Tracker(str(root), git=False)
    r = t.create_resource("m", type="model_version")
    t.log_tag(r, "ok", 1)
    (root / SERIES / "1" / "tags" / "evil.yaml").write_text("!!python/object:os.system {}\n")
    run_id = t.run_id
    t.stop()
    assert Tracker(str(root), git=False).run(run_id)["status"] == "FINISHED"
    problems = Tracker(str(root), git=False).check().problems
    assert [p.path.rsplit("/", 1)[-1] for p in problems] == ["evil.yaml"]


@pytest.mark.parametrize(
    "victim",
    [
        "resources/model_version/m/1/tags/status.yaml",
        "resources/model_version/m/1/resource.yaml",
        "resources/model_version/m/1/manifests/a.yaml",
        "runs/{run}/run.yaml",
        "runs/{run}/attrs/status.yaml",
    ],
)
def test_fsck_reports_files_truncated_to_zero(tmp_path: Path, victim: str) -> None:
    root = tmp_path / "s"
    t = Tracker(str(root), git=False)
    r = t.create_resource("m", type="model_version")
    t.log_tag(r, "status", "x")
    src = tmp_path / "a.txt"
    src.write_text("a")
    t.log_artifact(r, "a", str(src))
    run_id = t.run_id
    t.stop()
    path = root / victim.format(run=run_id)
    path.write_bytes(b"")
    report = Tracker(str(root), git=False).check()
    assert any(p.path.endswith(path.name) and p.kind == "empty" for p in report.problems), [
        (p.path, p.kind) for p in report.problems
    ]


def test_fsck_lists_an_unreadable_file_and_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tracker.store import local

    root = tmp_path / "s"
    t = Tracker(str(root), git=False)
    r = t.create_resource("m", type="model_version")
    t.log_tag(r, "a", 1)
    t.log_tag(r, "b", 2)
    t.stop()
    real_open = local.os.open

    def deny(path: str, *args: object, **kwargs: object) -> int:
        if str(path).endswith("tags/a.yaml"):  # EACCES as for a file of another user
            raise PermissionError(errno.EACCES, "Permission denied", path)
        return real_open(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(local.os, "open", deny)
    report = Tracker(str(root), git=False).check()
    assert [(p.kind, p.path.endswith("tags/a.yaml")) for p in report.problems] == [
        ("unreadable", True)
    ]
    assert "permission denied" in report.problems[0].detail.lower()


def test_disk_full_is_a_store_error_naming_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tracker.store import local

    t = Tracker(str(tmp_path / "s"), git=False)
    r = t.create_resource("m", type="model_version")

    def full(fd: int, data: bytes) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(local.os, "write", full)
    with pytest.raises(StoreError, match="disk is full") as err:
        t.log_tag(r, "k", 1)
    assert isinstance(err.value, OSError) and err.value.errno == errno.ENOSPC
    assert "tags/k.yaml" in str(err.value)
    monkeypatch.undo()
    assert t.get_tags(r) == {}
    assert not [p for p in (tmp_path / "s").rglob(".tmp-*")]  # no temp file left
    t.stop()


def test_a_name_too_long_for_the_filesystem_is_a_tracker_error(tmp_path: Path) -> None:
    deep = tmp_path
    for _ in range(20):
        deep = deep / ("d" * 200)
    try:
        deep.mkdir(parents=True)
    except OSError:
        pytest.skip("this filesystem refuses such deep paths outright")
    t = Tracker(str(deep / "s"), git=False)
    with pytest.raises(TrackerError, match=r"too long|failed"):
        r = t.create_resource("x" * 190, type="y" * 190)
        t.log_tag(r, "k" * 190, 1)


def test_cli_on_a_root_that_is_a_file_prints_one_line(tmp_path: Path) -> None:
    root = tmp_path / "afile"
    root.write_text("x")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    for argv in (["runs"], ["tag", "model_version/m", "a=1"], ["demo", "--root", str(root)]):
        proc = subprocess.run(
            [sys.executable, "-m", "tracker", "--root", str(root), *argv],
            capture_output=True, text=True, env=env, timeout=60,
        )  # fmt: skip
        assert proc.returncode == 1, (argv, proc.stderr)
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and "is a file" in lines[0] and ".tmp-" not in lines[0], lines
    assert root.read_text() == "x"
