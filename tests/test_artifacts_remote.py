"""Artifacts on object stores: the sha256-keyed download cache, verification, progress."""

from __future__ import annotations

import os

import pytest

from tracker.core import progress

pytest.importorskip("s3fs")


@pytest.fixture
def s3(s3_backend, tmp_path):
    t = s3_backend.make(cache_dir=str(tmp_path / "cache"))
    res = t.create_resource("m", type="model_version")
    yield s3_backend, t, res, tmp_path
    t.stop()


def test_download_cache_is_keyed_by_sha256_and_reused(s3):
    backend, t, res, tmp = s3
    src = tmp / "model.bin"
    src.write_bytes(os.urandom(300_000))
    t.log_artifact(res, "model", str(src))
    sha = t.artifacts(res)["model"]["sha256"]
    backend.proxy.reset_counts()
    path = t.get_artifact(res, "model")
    assert path == str(tmp / "cache" / sha / "model.bin")
    assert open(path, "rb").read() == src.read_bytes()
    first = backend.proxy.requests
    assert any(m == "GET" and p.endswith("/model.bin") for m, p, _ in first)
    backend.proxy.reset_counts()
    assert t.get_artifact(res, "model") == path
    again = backend.proxy.requests
    assert not any(p.endswith("/model.bin") for _, p, _ in again), again  # no second download
    assert len(again) == 1  # the manifest


def test_damaged_cache_copy_is_downloaded_again(s3):
    _, t, res, tmp = s3
    src = tmp / "weights.txt"
    src.write_text("good weights")
    t.log_artifact(res, "weights", str(src))
    path = t.get_artifact(res, "weights")
    with open(path, "w") as fh:
        fh.write("tampered")
    assert t.get_artifact(res, "weights") == path
    assert open(path).read() == "good weights"


def test_directory_artifact_round_trips_through_the_cache(s3):
    _, t, res, tmp = s3
    src = tmp / "bundle"
    (src / "deep" / "er").mkdir(parents=True)
    (src / "a.txt").write_text("A")
    (src / "deep" / "er" / "b.txt").write_text("B")
    t.log_artifact(res, "bundle", str(src))
    out = t.get_artifact(res, "bundle")
    assert open(os.path.join(out, "deep", "er", "b.txt")).read() == "B"
    dest = t.get_artifact(res, "bundle", dest=str(tmp / "elsewhere"))
    assert dest == str(tmp / "elsewhere" / "bundle") and os.path.isfile(os.path.join(dest, "a.txt"))


def test_large_transfers_show_progress_on_a_terminal(s3, monkeypatch, capsys):
    backend, t, res, tmp = s3
    pytest.importorskip("tqdm")
    monkeypatch.setattr(progress, "_interactive", lambda: True)
    big = tmp / "big.bin"
    big.write_bytes(os.urandom(progress.THRESHOLD + 1024))
    t.log_artifact(res, "big", str(big))
    err = capsys.readouterr().err
    assert "upload big" in err and "100%" in err
    quiet = backend.make(progress=False, cache_dir=str(tmp / "cache2"))
    quiet.get_artifact(res.ref, "big")
    assert "download big" not in capsys.readouterr().err
    t.get_artifact(res, "big", dest=str(tmp / "d"))
    assert "download big" in capsys.readouterr().err
