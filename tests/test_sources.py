"""What log_artifact accepts comes back out byte for byte; what it cannot copy is refused first."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tracker import Tracker
from tracker.errors import TrackerError, UnsupportedSource


def _tracker(tmp_path: Path) -> Tracker:
    return Tracker(str(tmp_path / "store"), git=False, progress=False)


def _tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_a_link_inside_a_folder_is_refused_and_listed(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("do not copy me")
    src = tmp_path / "proj"
    (src / "sub").mkdir(parents=True)
    (src / "ok.txt").write_text("fine")
    (src / "leak.txt").symlink_to(secret)
    (src / "sub" / "linkdir").symlink_to(tmp_path, target_is_directory=True)
    os.mkfifo(src / "pipe")
    t = _tracker(tmp_path)
    res = t.create_resource("m", type="model_version")
    with pytest.raises(UnsupportedSource) as err:
        t.log_artifact(res, "code", str(src))
    text = str(err.value)
    assert "leak.txt (symbolic link)" in text and "sub/linkdir (link to a folder)" in text
    assert "pipe (FIFO)" in text and "follow_symlinks=True" in text
    assert t.artifacts(res) == {}
    assert not list((tmp_path / "store").rglob("artifacts"))
    os.unlink(src / "pipe")
    (src / "sub" / "linkdir").unlink()
    t.log_artifact(res, "code", str(src), follow_symlinks=True)
    got = Path(t.get_artifact(res, "code", dest=str(tmp_path / "out")))
    assert _tree(got) == {"leak.txt": b"do not copy me", "ok.txt": b"fine"}


@pytest.mark.parametrize("special", ["/dev/null", "fifo"])
def test_special_sources_are_a_clear_error(tmp_path: Path, special: str) -> None:
    if special == "fifo":
        special = str(tmp_path / "fifo")
        os.mkfifo(special)
    t = _tracker(tmp_path)
    res = t.create_resource("m", type="model_version")
    with pytest.raises(UnsupportedSource, match="not a regular file or folder"):
        t.log_artifact(res, "x", special)
    assert t.artifacts(res) == {}


def test_the_store_is_never_copied_into_itself(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "train.py").write_text("print(1)")
    t = Tracker(str(project / ".tracker"), git=False, progress=False)
    res = t.create_resource("m", type="model_version")
    t.log_artifact(res, "code", str(project))
    t.log_artifact(res, "code", str(project))  # again: nothing of the store goes in
    manifest = t.artifacts(res)["code"]
    assert [f["path"] for f in manifest["files"]] == ["train.py"]
    assert manifest["excluded"] == [".tracker"]
    with pytest.raises(UnsupportedSource, match="inside the store"):
        t.log_artifact(res, "x", str(project / ".tracker" / "tracker.yaml"))


def test_dot_and_odd_file_names_round_trip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    work = tmp_path / "work"
    work.mkdir()
    (work / "train-2024-01-01T10:00:00.log").write_text("colon")
    (work / "back\\slash.txt").write_text("backslash")
    (work / ".hidden").write_text("dot")
    monkeypatch.chdir(work)
    t = _tracker(tmp_path)
    res = t.create_resource("m", type="model_version")
    t.log_artifact(res, "log", "train-2024-01-01T10:00:00.log")
    t.log_artifact(res, "code", ".")
    got = Path(t.get_artifact(res, "code", dest=str(tmp_path / "out")))
    assert got.name == "work"
    assert _tree(got) == _tree(work)
    # without dest: names that had to be encoded in the store come back as a verified copy
    # (in the cache) under their real names, never as the store's encoded file names
    cached = Path(t.get_artifact(res, "code"))
    assert not str(cached).startswith(str(tmp_path / "store"))
    assert _tree(cached) == _tree(work)
    log = Path(t.get_artifact(res, "log"))
    assert log.name == "train-2024-01-01T10:00:00.log" and log.read_text() == "colon"
    assert sorted(t.artifacts(res)) == ["code", "log"]
    t.stop()
    assert t.check().ok


def test_proc_files_record_the_bytes_copied(tmp_path: Path) -> None:
    if not os.path.exists("/proc/cpuinfo"):
        pytest.skip("no /proc/cpuinfo here")
    t = _tracker(tmp_path)
    res = t.create_resource("m", type="model_version")
    t.log_artifact(res, "cpu", "/proc/cpuinfo")
    manifest = t.artifacts(res)["cpu"]
    data = Path(t.get_artifact(res, "cpu")).read_bytes()
    assert manifest["size"] == len(data) > 0  # stat said 0 bytes; the copy is what counts


def test_a_file_growing_while_copied_is_recorded_as_copied_or_refused(tmp_path: Path) -> None:
    log = tmp_path / "train.log"
    log.write_bytes(b"x" * 1024)
    stop = threading.Event()

    def grow() -> None:
        with open(log, "ab") as fh:
            while not stop.is_set():
                fh.write(b"y" * (1 << 20))
                fh.flush()

    t = _tracker(tmp_path)
    res = t.create_resource("m", type="model_version")
    writer = threading.Thread(target=grow)
    writer.start()
    try:
        t.log_artifact(res, "log", str(log))
    except UnsupportedSource as exc:
        assert "kept growing" in str(exc)
        assert t.artifacts(res) == {}
    else:
        manifest = t.artifacts(res)["log"]
        data = Path(t.get_artifact(res, "log")).read_bytes()  # verifies size and sha256
        assert len(data) == manifest["size"]
    finally:
        stop.set()
        writer.join()


_NAMES = st.text(
    alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="/\0"),
    min_size=1,
    max_size=12,
).filter(lambda s: s not in (".", ".."))


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    files=st.dictionaries(
        st.lists(_NAMES, min_size=1, max_size=3).map(tuple), st.binary(max_size=64), max_size=6
    )
)
def test_random_trees_come_back_identical(tmp_path_factory, files) -> None:
    base = tmp_path_factory.mktemp("tree")
    src = base / "src"
    src.mkdir()
    written = {}
    for parts, data in files.items():
        path = src.joinpath(*parts)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        except OSError:
            continue  # a prefix is already a file, or the name is too long for this system
        written[path] = data
    t = _tracker(base)
    res = t.create_resource("m", type="model_version")
    try:
        t.log_artifact(res, "tree", str(src))
    except TrackerError:
        assert t.artifacts(res) == {}  # refused before anything was written
        return
    got = Path(t.get_artifact(res, "tree", dest=str(base / "out")))
    assert _tree(got) == _tree(src)


def test_an_unreadable_source_file_is_named_before_anything_is_copied(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import builtins

    src = tmp_path / "proj"
    src.mkdir()
    (src / "a.txt").write_text("a")
    (src / "secret.txt").write_text("s")
    real_open = builtins.open

    def deny(file, *args, **kwargs):  # EACCES as for a file of another user (we run as root)
        if str(file).endswith("secret.txt"):
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    t = _tracker(tmp_path)
    res = t.create_resource("m", type="model_version")
    monkeypatch.setattr(builtins, "open", deny)
    with pytest.raises(UnsupportedSource, match=r"secret\.txt.*Permission denied"):
        t.log_artifact(res, "code", str(src))
    monkeypatch.undo()
    assert t.artifacts(res) == {}
    assert not list((tmp_path / "store").rglob("artifacts"))
