"""get_artifact(dest=...) never deletes or overwrites what is already there, unless asked."""

from __future__ import annotations

from pathlib import Path

import pytest

from tracker import Tracker
from tracker.errors import ChecksumMismatch, DestinationExists


def _logged(tmp_path: Path, name: str = "model") -> tuple[Tracker, str]:
    t = Tracker(str(tmp_path / "store"), git=False, progress=False)
    res = t.create_resource("m", type="model_version")
    src = tmp_path / "src" / name
    src.mkdir(parents=True)
    (src / "weights.bin").write_bytes(b"new weights")
    t.log_artifact(res, "model", str(src))
    return t, res.ref


def test_an_existing_folder_is_left_alone_without_overwrite(tmp_path: Path) -> None:
    t, ref = _logged(tmp_path)
    dest = tmp_path / "dest"
    mine = dest / "model"
    mine.mkdir(parents=True)
    (mine / "notes.txt").write_text("my unrelated notes")
    with pytest.raises(DestinationExists, match="overwrite=True"):
        t.get_artifact(ref, "model", dest=str(dest))
    assert sorted(p.name for p in mine.iterdir()) == ["notes.txt"]
    assert (mine / "notes.txt").read_text() == "my unrelated notes"
    assert sorted(p.name for p in dest.iterdir()) == ["model"]  # no staging left behind


def test_overwrite_replaces_only_after_a_verified_copy(tmp_path: Path) -> None:
    t, ref = _logged(tmp_path)
    dest = tmp_path / "dest"
    (dest / "model").mkdir(parents=True)
    (dest / "model" / "old.txt").write_text("old")
    got = Path(t.get_artifact(ref, "model", dest=str(dest), overwrite=True))
    assert got == dest / "model"
    assert sorted(p.name for p in got.iterdir()) == ["weights.bin"]
    assert (got / "weights.bin").read_bytes() == b"new weights"
    assert sorted(p.name for p in dest.iterdir()) == ["model"]


def test_a_failed_copy_keeps_the_old_one_and_creates_no_folder(tmp_path: Path) -> None:
    t, ref = _logged(tmp_path)
    stored = next((tmp_path / "store").rglob("weights.bin"))
    stored.write_bytes(b"tampered!!!")  # same length, other bytes
    dest = tmp_path / "dest"
    (dest / "model").mkdir(parents=True)
    (dest / "model" / "keep.txt").write_text("keep")
    with pytest.raises(ChecksumMismatch):
        t.get_artifact(ref, "model", dest=str(dest), overwrite=True)
    assert (dest / "model" / "keep.txt").read_text() == "keep"
    assert sorted(p.name for p in dest.iterdir()) == ["model"]
    fresh = tmp_path / "new" / "deeper"
    with pytest.raises(ChecksumMismatch):
        t.get_artifact(ref, "model", dest=str(fresh))
    assert not (tmp_path / "new").exists()


def test_a_destination_inside_the_store_or_a_file_is_refused(tmp_path: Path) -> None:
    t, ref = _logged(tmp_path)
    before = sorted(str(p) for p in (tmp_path / "store").rglob("*"))
    with pytest.raises(DestinationExists, match="inside the store"):
        t.get_artifact(ref, "model", dest=str(tmp_path / "store" / "resources"))
    afile = tmp_path / "afile"
    afile.write_text("x")
    with pytest.raises(DestinationExists, match="is a file"):
        t.get_artifact(ref, "model", dest=str(afile))
    assert afile.read_text() == "x"
    assert sorted(str(p) for p in (tmp_path / "store").rglob("*")) == before


def test_cli_get_needs_force_and_says_whose_copy_it_prints(tmp_path: Path) -> None:
    from tracker.cli.main import main

    t, ref = _logged(tmp_path)
    t.stop()
    root = str(tmp_path / "store")
    dest = tmp_path / "d"
    assert main(["--root", root, "get", ref, "model", "--dest", str(dest)]) == 0
    (dest / "model" / "weights.bin").write_bytes(b"edited")
    assert main(["--root", root, "get", ref, "model", "--dest", str(dest)]) == 1
    assert (dest / "model" / "weights.bin").read_bytes() == b"edited"
    assert main(["--root", root, "get", ref, "model", "--dest", str(dest), "--force"]) == 0
    assert (dest / "model" / "weights.bin").read_bytes() == b"new weights"


def test_cli_get_without_dest_on_a_local_store_says_it_is_the_stores_copy(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tracker.cli.main import main

    t, ref = _logged(tmp_path)
    t.stop()
    assert main(["--root", str(tmp_path / "store"), "get", ref, "model"]) == 0
    out, err = capsys.readouterr()
    assert out.strip().startswith(str(tmp_path / "store"))
    assert "store's own copy" in err
