"""The contract every backend honours: each method, what it returns and what it leaves in the store.

Runs once per backend of ``conftest.BACKENDS`` (local directory, ``memory://``, the S3 server).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import pickle
from pathlib import Path

import pytest
import yaml

from tracker import (
    ArtifactNotFound,
    ChecksumMismatch,
    InvalidKey,
    InvalidRef,
    Resource,
    ResourceNotFound,
    SourceNotFound,
    StoreFormatError,
    TrackerError,
    UnsupportedValue,
    VersionControlError,
)

V = "resources/model_version/titanic"


def ydoc(backend, rel):
    return yaml.safe_load(backend.read(rel))


# -- resources -------------------------------------------------------------------------------------
def test_create_numbers_versions_and_writes_resource_files(backend, tracker):
    first = tracker.create_resource("titanic", type="model_version", file_type="csv")
    second = tracker.create_resource("titanic", type="model_version")
    assert (first.version, second.version) == (1, 2)
    assert str(first) == "model_version/titanic@1" and first.type == "model_version"
    doc = ydoc(backend, f"{V}/1/resource.yaml")
    assert doc["id"] == "titanic" and doc["version"] == 1 and doc["run_id"] == tracker.run_id
    assert doc["attributes"] == {"file_type": "csv"}
    assert ydoc(backend, "tracker.yaml") == {"format": 1}
    assert f"runs/{tracker.run_id}/created/model_version/titanic@2" in backend.files()


def test_get_resource_latest_and_by_version(tracker):
    a = tracker.create_resource("titanic", type="model_version")
    b = tracker.create_resource("titanic", type="model_version")
    assert tracker.get_resource("titanic", "model_version") == b
    assert tracker.get_resource("titanic", "model_version", version=1) == a
    assert tracker.get_resource("titanic", "model_version", version=1).run_id == tracker.run_id
    with pytest.raises(ResourceNotFound, match="model_version/titanic@7"):
        tracker.get_resource("titanic", "model_version", version=7)
    with pytest.raises(KeyError, match="dataset_version/nope"):
        tracker.get_resource("nope", "dataset_version")


def test_resources_are_frozen_values(tracker):
    res = tracker.create_resource("titanic", type="model_version")
    again = tracker.get_resource("titanic", "model_version")
    assert res == again and hash(res) == hash(again) and res == "model_version/titanic@1"
    assert pickle.loads(pickle.dumps(res)) == res
    with pytest.raises(AttributeError):
        res.version = 2  # type: ignore[misc]
    assert {res, again} == {res}


def test_every_method_takes_ref_strings(tracker):
    tracker.create_resource("titanic", type="model_version")
    tracker.log_tag("model_version/titanic@1", "k", "v")
    assert tracker.get_tag("model_version/titanic", "k") == "v"
    assert tracker.get_resource_id("model_version/titanic@1") == "titanic"
    with pytest.raises(InvalidRef, match="type/id"):
        tracker.get_tag("titanic", "k")
    with pytest.raises(ResourceNotFound):
        tracker.log_tag("model_version/titanic@9", "k", "v")


def test_generated_ids_are_unique(tracker):
    a = tracker.create_resource(None, type="prediction_job")
    b = tracker.create_resource(None, type="prediction_job")
    assert a.id != b.id and a.version == b.version == 1


def test_parent_child_and_parent_id(backend, tracker):
    mv = tracker.create_resource("titanic", type="model_version")
    ex = tracker.create_resource("exp-a", type="experiment", parent=mv)
    assert ex.parent == "model_version/titanic@1"
    assert tracker.get_parent_id(ex) == "titanic"
    # lolpop's `type=` reading of get_parent_id: tests/test_strict.py (FileMetadataTracker)
    assert tracker.get_parent_id(mv) is None
    assert f"{V}/1/children/experiment/exp-a@1" in backend.files()
    assert tracker.get_resource("exp-a", "experiment", parent=mv) == ex
    with pytest.raises(ResourceNotFound):
        tracker.get_resource("exp-b", "experiment", parent=mv)


def test_update_resource_writes_attributes(backend, tracker):
    res = tracker.create_resource("titanic", type="model_version", algo="xgb")
    assert tracker.update_resource(res, {"stage": "staging", "n": 3}) == res
    assert tracker.get_attributes(res) == {"algo": "xgb", "stage": "staging", "n": 3}
    assert ydoc(backend, f"{V}/1/attrs/stage.yaml")["value"] == "staging"


def test_clean_resource_closes_once(backend, tracker):
    res = tracker.create_resource("titanic", type="model_version")
    tracker.log_tag(res, "a", 1)
    tracker.clean_resource(res)
    attrs = tracker.get_attributes(res)
    assert attrs["status"] == "FINISHED" and isinstance(attrs["end_time"], dt.datetime)
    snap = json.loads(backend.read(f"{V}/1/snapshot.json"))
    assert snap["files"]["tags/a.yaml"]["doc"]["value"] == 1
    assert snap["files"]["tags/a.yaml"]["dt"] == [["logged_at"]]
    before = backend.read(f"{V}/1/attrs/end_time.yaml")
    tracker.clean_resource(res)
    assert backend.read(f"{V}/1/attrs/end_time.yaml") == before


# -- tags, metadata --------------------------------------------------------------------------------
def test_tags_round_trip_replace_and_missing(backend, tracker):
    res = tracker.create_resource("titanic", type="model_version")
    tracker.log_tag(res, "status", "STAGED")
    tracker.log_tag(res, "status", "DEPLOYED")
    assert tracker.get_tag(res, "status") == "DEPLOYED"
    assert tracker.get_tag(res, "missing") is None
    assert tracker.get_tag(res, "missing", default="x") == "x"
    rec = ydoc(backend, f"{V}/1/tags/status.yaml")
    assert rec["key"] == "status" and rec["value"] == "DEPLOYED" and rec["run_id"] == tracker.run_id


def test_log_tags_and_bulk_reads(tracker):
    res = tracker.create_resource("titanic", type="model_version")
    tracker.log_tags(res, {"a": "1", "b": 2})
    tracker.log_metadata(res, "metrics", {"f1": 0.91, "auc": 0.95})
    tracker.log_metadata(res, "rows", 891)
    assert tracker.get_tags(res) == {"a": "1", "b": 2}
    assert tracker.get_all_metadata(res) == {"metrics": {"f1": 0.91, "auc": 0.95}, "rows": 891}
    assert tracker.get_metadata(res, "metrics")["f1"] == 0.91
    assert tracker.get_metadata(res, "nope") is None


def test_log_tags_checks_every_value_before_writing(backend, tracker):
    res = tracker.create_resource("titanic", type="model_version")
    with pytest.raises(UnsupportedValue, match="bad"):
        tracker.log_tags(res, {"good": 1, "bad": object()})
    assert tracker.get_tags(res) == {}
    assert not any("/tags/" in f for f in backend.files())


def test_values_round_trip_with_their_types(tracker):
    np = pytest.importorskip("numpy")
    res = tracker.create_resource("titanic", type="model_version")
    when = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
    values = {
        "s": "text",
        "i": 3,
        "f": 0.5,
        "b": True,
        "n": None,
        "l": [1, "a"],
        "d": {"x": {"y": 1}},
        "when": when,
        "day": dt.date(2026, 1, 2),
        "bytes": b"\x00\xff",
        "inf": float("inf"),
    }
    for key, value in values.items():
        tracker.log_metadata(res, key, value)
    back = tracker.get_all_metadata(res)
    assert back == values
    tracker.log_metadata(res, "np", {"a": np.float32(1.5), "arr": np.arange(3), "i": np.int64(7)})
    tracker.log_metadata(res, "conv", {"t": (1, 2), "set": {3, 1}})
    assert tracker.get_metadata(res, "np") == {"a": 1.5, "arr": [0, 1, 2], "i": 7}
    assert type(tracker.get_metadata(res, "np")["i"]) is int
    assert tracker.get_metadata(res, "conv") == {"t": [1, 2], "set": [1, 3]}


def test_omegaconf_config_is_stored_as_plain_mapping(tracker):
    omegaconf = pytest.importorskip("omegaconf")
    res = tracker.create_resource("titanic", type="model_version")
    conf = omegaconf.OmegaConf.create({"model": {"depth": 3, "lr": [0.1, 0.2]}})
    tracker.log_metadata(res, "config", conf)
    assert tracker.get_metadata(res, "config") == {"model": {"depth": 3, "lr": [0.1, 0.2]}}


def test_unstorable_value_is_a_clear_error_and_writes_nothing(backend, tracker):
    res = tracker.create_resource("titanic", type="model_version")
    before = backend.files()
    with pytest.raises(UnsupportedValue, match=r"weights.*object") as info:
        tracker.log_metadata(res, "weights", object())
    assert isinstance(info.value, TypeError) and isinstance(info.value, TrackerError)
    assert backend.files() == before


def test_same_calls_twice_are_harmless(tracker):
    res = tracker.create_resource("titanic", type="model_version")
    for _ in range(2):
        tracker.log_tag(res, "k", "v")
        tracker.log_metadata(res, "m", 1)
        tracker.update_resource(res, {"a": 1})
        tracker.clean_resource(res)
    assert tracker.get_tags(res) == {"k": "v"} and tracker.get_all_metadata(res) == {"m": 1}
    tracker.stop()
    tracker.stop()


# -- odd ids and keys ------------------------------------------------------------------------------
ODD = ["a/b", "..", "../../outside", "with space", "100%", "ünïcødé ✓", ".hidden", "a\\b", "CON"]


@pytest.mark.parametrize("name", ODD)
def test_odd_ids_and_keys_round_trip_inside_the_root(backend, tracker, name):
    rtype = name.replace("/", "|")  # a type may not hold '/': refs are type/id@version
    res = tracker.create_resource(name, type=rtype)
    tracker.log_tag(res, name, name)
    tracker.log_metadata(res, name, {"v": name})
    assert tracker.get_resource(name, rtype) == res
    assert tracker.get_tag(res, name) == name
    assert tracker.get_tags(res) == {name: name}
    assert tracker.get_metadata(res, name) == {"v": name}
    assert tracker.get_resource_id(res) == name
    for rel in backend.files():
        parts = rel.split("/")
        assert ".." not in parts and not any(p.startswith(".") and p != ".gitignore" for p in parts)
    if backend.name == "local":
        parent = os.path.dirname(backend.root)
        assert sorted(os.listdir(parent)) == ["store"]


def test_invalid_keys(tracker):
    res = tracker.create_resource("titanic", type="model_version")
    with pytest.raises(InvalidKey, match="empty"):
        tracker.log_tag(res, "", "v")
    with pytest.raises(InvalidKey, match="too long"):
        tracker.log_tag(res, "k" * 500, "v")
    with pytest.raises(InvalidKey):
        tracker.create_resource("", type="model_version")


# -- artifacts -------------------------------------------------------------------------------------
def test_artifact_file_round_trip_and_replace(backend, tracker, tmp_path):
    res = tracker.create_resource("titanic", type="model_version")
    src = tmp_path / "model.bin"
    src.write_bytes(b"first")
    tracker.log_artifact(res, "model", str(src))
    src.write_bytes(b"second, longer")  # the caller reuses the file: we copied at call time
    path = tracker.get_artifact(res, "model")
    assert Path(path).read_bytes() == b"first"
    manifest = tracker.artifacts(res)["model"]
    assert manifest["size"] == 5 and manifest["sha256"] == hashlib.sha256(b"first").hexdigest()
    tracker.log_artifact(res, "model", str(src))
    again = tracker.get_artifact(res, "model")
    assert Path(again).read_bytes() == b"second, longer"
    stored = [f for f in backend.files() if "/artifacts/model/" in f]
    assert len(stored) == 1 and stored[0].endswith("/model.bin")  # the old copy is gone
    dest = tmp_path / "out"
    got = tracker.get_artifact(res, "model", dest=str(dest))
    assert got == str(dest / "model.bin") and Path(got).read_bytes() == b"second, longer"


def test_artifact_directory(tracker, tmp_path):
    res = tracker.create_resource("titanic", type="model_version")
    src = tmp_path / "bundle"
    (src / "sub").mkdir(parents=True)
    (src / "a.txt").write_text("A")
    (src / "sub" / "b.txt").write_text("B")
    tracker.log_artifact(res, "bundle", str(src))
    out = tracker.get_artifact(res, "bundle")
    assert Path(os.path.join(out, "a.txt")).read_text() == "A"
    assert Path(os.path.join(out, "sub", "b.txt")).read_text() == "B"
    assert tracker.artifacts(res)["bundle"]["kind"] == "dir"
    assert len(tracker.artifacts(res)["bundle"]["files"]) == 2


def test_artifact_errors(backend, tracker, tmp_path):
    res = tracker.create_resource("titanic", type="model_version")
    with pytest.raises(SourceNotFound, match="nowhere"):
        tracker.log_artifact(res, "model", str(tmp_path / "nowhere"))
    with pytest.raises(ArtifactNotFound, match="model"):
        tracker.get_artifact(res, "model")
    src = tmp_path / "m.txt"
    src.write_text("good")
    tracker.log_artifact(res, "model", str(src))
    stored = next(f for f in backend.files() if f.endswith("/m.txt"))
    backend.write(stored, b"evil")
    with pytest.raises(ChecksumMismatch, match="sha256"):
        tracker.get_artifact(res, "model", dest=str(tmp_path / "d"))
    assert not (tmp_path / "d" / "m.txt").exists()


def test_data_profile_checks_comparison(tracker, tmp_path):
    res = tracker.create_resource("titanic", type="dataset_version")
    assert tracker.get_data_profile(res) is None
    for name in ("profile.html", "checks.json", "cmp.html"):
        (tmp_path / name).write_text(name)
    tracker.log_data_profile(res, str(tmp_path / "profile.html"))
    tracker.log_checks(res, str(tmp_path / "checks.json"))
    tracker.log_data_comparison(res, str(tmp_path / "cmp.html"))
    assert Path(tracker.get_data_profile(res)).read_text() == "profile.html"
    assert Path(tracker.get_data_checks(res)).read_text() == "checks.json"
    assert Path(tracker.get_data_comparison(res)).read_text() == "cmp.html"
    assert set(tracker.artifacts(res)) == {"data_profile", "data_checks", "data_comparison"}


# -- describe, snapshot ----------------------------------------------------------------------------
def test_describe(tracker, tmp_path):
    mv = tracker.create_resource("titanic", type="model_version", algo="xgb")
    ex = tracker.create_resource("e1", type="experiment", parent=mv)
    dv = tracker.create_resource("data", type="dataset_version")
    tracker.log_tag(mv, "t", "v")
    tracker.log_metadata(mv, "m", [1, 2])
    (tmp_path / "f").write_text("x")
    tracker.log_artifact(mv, "f", str(tmp_path / "f"))
    tracker.build_model_lineage(mv, [dv])
    d = tracker.describe(mv)
    assert d["ref"] == "model_version/titanic@1" and d["attrs"] == {"algo": "xgb"}
    assert d["tags"] == {"t": "v"} and d["metadata"] == {"m": [1, 2]}
    assert d["artifacts"]["f"]["size"] == 1 and d["children"] == [ex.ref]
    assert d["lineage"] == [dv.ref] and tracker.describe(dv)["used_by"] == [mv.ref]


def test_key_written_after_snapshot_wins(backend, tracker):
    res = tracker.create_resource("titanic", type="model_version")
    tracker.log_tags(res, {f"t{i}": i for i in range(5)})
    tracker.clean_resource(res)
    other = backend.make()
    other.log_tag(res.ref, "t3", "changed")
    other.log_tag(res.ref, "new", "yes")
    assert tracker.get_tags(res) == {
        "t0": 0,
        "t1": 1,
        "t2": 2,
        "t3": "changed",
        "t4": 4,
        "new": "yes",
    }
    other.stop()


def test_corrupt_snapshot_entry_is_not_trusted_over_a_changed_file(backend, tracker):
    res = tracker.create_resource("titanic", type="model_version")
    tracker.log_tag(res, "a", "old")
    tracker.clean_resource(res)
    backend.write(f"{V}/1/tags/a.yaml", yaml.safe_dump({"key": "a", "value": "new"}).encode())
    assert tracker.get_tags(res) == {"a": "new"}


# -- version control -------------------------------------------------------------------------------
def test_register_vc_resource_with_hexsha_and_key(tracker):
    res = tracker.create_resource("titanic", type="dataset_version")
    sha = "a" * 40
    tracker.register_vc_resource(
        res, {"hexsha": sha, "uri": "git@x:y.git"}, key="X_train", additional_metadata={"rows": 3}
    )
    assert tracker.get_metadata(res, "X_train_hexsha") == sha
    assert tracker.get_vc_info(res, key="X_train_hexsha") == {"hexsha": sha, "uri": "git@x:y.git"}
    assert tracker.get_vc_info(res, key="X_train") == {"hexsha": sha, "uri": "git@x:y.git"}
    assert tracker.get_metadata(res, "rows") == 3
    tracker.register_vc_resource(res, {"hexsha": "b" * 40})
    assert tracker.get_vc_info(res) == {"hexsha": "b" * 40, "uri": None}
    with pytest.raises(VersionControlError, match="hexsha"):
        tracker.register_vc_resource(res, {"hexsha": "not-a-sha"})


# -- store format, runs ----------------------------------------------------------------------------
def test_newer_store_format_is_refused(backend):
    backend.write("tracker.yaml", b"format: 99\n")
    t = backend.make()
    with pytest.raises(StoreFormatError, match="format 99"):
        t.create_resource("x", type="model_version")


def test_reads_never_open_a_run_and_writes_after_stop_start_a_new_one(backend):
    t = backend.make()
    t.create_resource("titanic", type="model_version")
    first = t.run_id
    t.stop()
    assert t.run_id is None
    reader = backend.make()
    assert reader.get_tags("model_version/titanic@1") == {}
    assert reader.run_id is None
    runs_before = {f.split("/")[1] for f in backend.files() if f.startswith("runs/")}
    t.log_tag("model_version/titanic@1", "k", "v")
    assert t.run_id not in (None, first)
    runs_after = {f.split("/")[1] for f in backend.files() if f.startswith("runs/")}
    second = t.run_id
    assert runs_after - runs_before == {second}
    t.stop()
    statuses = {r["id"]: r["status"] for r in reader.runs()}
    assert statuses == {first: "FINISHED", second: "FINISHED"}


def test_with_block_fails_the_run_on_exception(backend):
    with pytest.raises(RuntimeError), backend.make() as t:
        res = t.create_resource("titanic", type="model_version")
        run_id = t.run_id
        raise RuntimeError("boom")
    reader = backend.make()
    run = reader.runs(where=f"id = '{run_id}'")[0]
    assert run["status"] == "FAILED" and run["end_time"] is not None
    assert reader.get_attributes(res)["run_status"] == "FAILED"
    assert Resource("model_version", "titanic", 1) == res
