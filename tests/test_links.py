"""A store whose folders are symbolic links never leads a read, write or delete outside it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tracker import Tracker
from tracker.errors import CorruptFile, StoreError


def _store(tmp_path: Path) -> tuple[Tracker, str, Path]:
    root = tmp_path / "store"
    t = Tracker(str(root), git=False)
    res = t.create_resource("m", type="model_version")
    t.log_tag(res, "status", "STAGING")
    src = tmp_path / "a.txt"
    src.write_text("one")
    t.log_artifact(res, "model", str(src))
    t.stop()
    return t, res.ref, root / "resources" / "model_version" / "m" / "1"


def _outside(tmp_path: Path) -> Path:
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "secret.yaml").write_text("key: secret\nvalue: leaked\n")
    (victim / "keep.txt").write_text("precious")
    return victim


@pytest.mark.parametrize("kind", ["tags", "metadata", "attrs"])
def test_linked_key_folder_is_refused_for_reads_and_writes(tmp_path: Path, kind: str) -> None:
    _, ref, vdir = _store(tmp_path)
    victim = _outside(tmp_path)
    target = vdir / kind
    if target.exists():
        for f in target.iterdir():
            f.unlink()
        target.rmdir()
    target.symlink_to(victim, target_is_directory=True)
    t = Tracker(str(tmp_path / "store"), git=False)
    with pytest.raises(CorruptFile, match="symbolic link"):
        t.get_tags(ref) if kind == "tags" else t.describe(ref)
    with pytest.raises(CorruptFile, match="symbolic link"):
        {"tags": t.log_tag, "metadata": t.log_metadata, "attrs": t.log_metadata}[kind](
            ref, "secret", "x"
        ) if kind != "attrs" else t.update_resource(ref, {"secret": "x"})
    assert sorted(os.listdir(victim)) == ["keep.txt", "secret.yaml"]
    assert (victim / "secret.yaml").read_text() == "key: secret\nvalue: leaked\n"
    t.stop()


def test_relogging_through_a_linked_artifact_folder_deletes_nothing_outside(
    tmp_path: Path,
) -> None:
    _, ref, vdir = _store(tmp_path)
    victim = _outside(tmp_path)
    art = vdir / "artifacts" / "model"
    for token in art.iterdir():
        os.replace(token, victim / token.name)  # the old copy now lies outside
    art.rmdir()
    art.symlink_to(victim, target_is_directory=True)
    t = Tracker(str(tmp_path / "store"), git=False)
    src = tmp_path / "b.txt"
    src.write_text("two")
    with pytest.raises(CorruptFile, match="symbolic link"):
        t.log_artifact(ref, "model", str(src))
    assert (victim / "keep.txt").read_text() == "precious"
    assert len(list(victim.iterdir())) == 3  # keep, secret and the moved token: all still there
    t.stop()


def test_a_linked_series_folder_is_refused(tmp_path: Path) -> None:
    _store(tmp_path)
    victim = _outside(tmp_path)
    link = tmp_path / "store" / "resources" / "model_version" / "evil"
    link.symlink_to(victim, target_is_directory=True)
    t = Tracker(str(tmp_path / "store"), git=False)
    with pytest.raises(CorruptFile, match="symbolic link"):
        t.create_resource("evil", type="model_version")
    assert sorted(os.listdir(victim)) == ["keep.txt", "secret.yaml"]
    t.stop()


def test_file_url_roots_get_the_same_checks(tmp_path: Path) -> None:
    _, ref, vdir = _store(tmp_path)
    victim = _outside(tmp_path)
    tags = vdir / "tags"
    for f in tags.iterdir():
        f.unlink()
    tags.rmdir()
    tags.symlink_to(victim, target_is_directory=True)
    t = Tracker("file://" + str(tmp_path / "store"), git=False)
    with pytest.raises(CorruptFile):
        t.get_tag(ref, "secret")
    with pytest.raises(CorruptFile):
        t.log_tag(ref, "x", 1)
    assert sorted(os.listdir(victim)) == ["keep.txt", "secret.yaml"]


def test_a_root_that_is_a_file_is_a_clear_store_error(tmp_path: Path) -> None:
    root = tmp_path / "file"
    root.write_text("not a store")
    with pytest.raises(StoreError, match="is a file"):
        Tracker(str(root), git=False)
    assert root.read_text() == "not a store"
