"""The artifact behaviours of test_sources/test_destinations/test_links that apply to object
stores, on S3 (the moto server behind the counting proxy): odd names round-trip, size and sha256
describe the bytes copied, a destination is never overwritten unless asked, and a failed copy
leaves no half-written artifact."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from tracker.errors import (
    ArtifactNotFound,
    ChecksumMismatch,
    DestinationExists,
    StoreError,
)

pytest.importorskip("s3fs")


def _tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


@pytest.fixture
def s3(s3_backend, tmp_path):
    t = s3_backend.make(cache_dir=str(tmp_path / "cache"), progress=False)
    res = t.create_resource("m", type="model_version")
    yield s3_backend, t, res, tmp_path
    t.stop()


def _logged_folder(tmp_path: Path, t, res) -> None:
    src = tmp_path / "src" / "model"
    src.mkdir(parents=True)
    (src / "weights.bin").write_bytes(b"new weights")
    t.log_artifact(res, "model", str(src))


def test_odd_names_round_trip(s3):
    backend, t, res, tmp = s3
    work = tmp / "work"
    (work / "sub dir").mkdir(parents=True)
    (work / "train-2024-01-01T10:00:00.log").write_text("colon")
    (work / "back\\slash.txt").write_text("backslash")
    (work / ".hidden").write_text("dot")
    (work / "sub dir" / "100% ünïcode?.txt").write_text("percent")
    t.log_artifact(res, "code", str(work))
    t.log_artifact(res, "log", str(work / "train-2024-01-01T10:00:00.log"))
    got = Path(t.get_artifact(res, "code", dest=str(tmp / "out")))
    assert got == tmp / "out" / "work" and _tree(got) == _tree(work)
    cached = Path(t.get_artifact(res, "code"))  # the verified copy in the cache
    assert _tree(cached) == _tree(work)
    log = Path(t.get_artifact(res, "log"))
    assert log.name == "train-2024-01-01T10:00:00.log" and log.read_text() == "colon"
    stored = [f for f in backend.files() if "/artifacts/" in f]
    assert len(stored) == 5  # four files of the folder, one log
    assert not any(":" in f or "\\" in f or "/." in f for f in stored)  # encoded in the store
    t.stop()
    assert t.check().ok


def test_size_and_sha256_describe_the_bytes_copied(s3):
    backend, t, res, _ = s3
    if not os.path.exists("/proc/cpuinfo"):
        pytest.skip("no /proc/cpuinfo here")
    t.log_artifact(res, "cpu", "/proc/cpuinfo")  # stat says 0 bytes
    manifest = t.artifacts(res)["cpu"]
    data = Path(t.get_artifact(res, "cpu")).read_bytes()
    assert manifest["size"] == len(data) > 0
    assert manifest["sha256"] == hashlib.sha256(data).hexdigest()
    stored = next(f for f in backend.files() if f.endswith("/cpuinfo"))
    assert backend.read(stored) == data


def test_an_existing_destination_is_left_alone_without_overwrite(s3):
    _, t, res, tmp = s3
    _logged_folder(tmp, t, res)
    dest = tmp / "dest"
    (dest / "model").mkdir(parents=True)
    (dest / "model" / "notes.txt").write_text("my unrelated notes")
    with pytest.raises(DestinationExists, match="overwrite=True"):
        t.get_artifact(res, "model", dest=str(dest))
    assert _tree(dest) == {"model/notes.txt": b"my unrelated notes"}
    got = Path(t.get_artifact(res, "model", dest=str(dest), overwrite=True))
    assert got == dest / "model" and _tree(dest) == {"model/weights.bin": b"new weights"}
    assert sorted(p.name for p in dest.iterdir()) == ["model"]  # no staging left behind


def test_a_damaged_stored_copy_replaces_nothing_and_creates_no_folder(s3):
    backend, t, res, tmp = s3
    _logged_folder(tmp, t, res)
    stored = next(f for f in backend.files() if f.endswith("/weights.bin"))
    backend.write(stored, b"tampered!!!")  # same length, other bytes
    dest = tmp / "dest"
    (dest / "model").mkdir(parents=True)
    (dest / "model" / "keep.txt").write_text("keep")
    with pytest.raises(ChecksumMismatch):
        t.get_artifact(res, "model", dest=str(dest), overwrite=True)
    assert _tree(dest) == {"model/keep.txt": b"keep"}
    with pytest.raises(ChecksumMismatch):
        t.get_artifact(res, "model", dest=str(tmp / "new" / "deeper"))
    assert not (tmp / "new").exists()
    assert ("artifact-checksum", stored) in [(p.kind, p.path) for p in t.check().problems]


def test_a_failed_copy_records_no_artifact_and_no_half_written_file(s3):
    backend, t, res, tmp = s3
    src = tmp / "bundle"
    src.mkdir()
    (src / "a.txt").write_text("first")
    (src / "b.txt").write_bytes(os.urandom(100_000))
    with (
        backend.proxy.faults(error_500=1.0, methods={"PUT", "POST"}, path_contains="/b.txt"),
        pytest.raises(StoreError, match=r"b\.txt"),
    ):
        t.log_artifact(res, "bundle", str(src))
    assert t.artifacts(res) == {}  # no manifest: the artifact was never recorded
    with pytest.raises(ArtifactNotFound):
        t.get_artifact(res, "bundle")
    assert not any(f.endswith("/b.txt") for f in backend.files())  # no partial object
    # the copy made before the failure is garbage fsck finds (and repairs once old)
    report = t.check()
    assert {p.kind for p in report.problems} == {"orphan-artifact"}
    t.log_artifact(res, "bundle", str(src))  # a retry succeeds and reads back whole
    assert _tree(Path(t.get_artifact(res, "bundle"))) == _tree(src)
