"""docs/FORMAT.md is enough to read a store: the independent reader (tests/format_reader.py, no
import of tracker) gives the tracker's own answers, with every derived file deleted."""

from __future__ import annotations

import datetime as _dt
import math
import os
from typing import Any

import format_reader
import pytest

from tracker import Tracker

ODD_KEYS = ["plain", "with space", "a/b/c", ".dot", "ünï", "100%", "MiXeD", "x" * 150]


def same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


@pytest.fixture
def store(tmp_path: Any) -> tuple[str, Tracker]:
    root = str(tmp_path / "store")
    src = tmp_path / "src"
    (src / "d" / "deep").mkdir(parents=True)
    (src / "d" / "deep" / "w b.bin").write_bytes(os.urandom(3000))
    (src / "d" / "top.txt").write_text("top")
    (src / "model.json").write_text('{"a": 1}')
    with Tracker(root, git=False, run_name="writer") as t:
        dv = t.create_resource("titanic data", type="dataset_version", rows=891)
        t.log_tags(dv, {k: f"v-{k}" for k in ODD_KEYS})
        t.log_metadata(dv, "profile", {"nan": float("nan"), "inf": -float("inf"), "n": [1, 2.5]})
        t.log_metadata(dv, "when", _dt.datetime(2020, 1, 2, 3, 4, 5, 6, tzinfo=_dt.timezone.utc))
        t.log_metadata(dv, "raw", b"\x00\xff")
        t.clean_resource(dv)
        mv = t.create_resource("titanic", type="model_version")
        for name in ("xgb", "rf"):
            ex = t.create_resource(name, type="experiment", parent=mv)
            t.log_metadata(ex, "metrics", {"f1": 0.8})
            t.log_artifact(ex, "model", str(src / "model.json"))
            t.log_artifact(ex, "tree", str(src / "d"))
        t.build_model_lineage(mv, [dv])
        t.log_tag(mv, "status", "DEPLOYED")
        t.update_resource(mv, {"stage": "prod"})
        if hasattr(t, "log_metric"):
            for step in range(30):
                t.log_metric(mv, "loss", 1.0 / (step + 1), step=step)
            t.log_metric(mv, "odd", float("nan"), step=0)
            t.log_metric(mv, "odd", float("inf"), step=1)
            t.log_metric(mv, "count", 7, step=0)
            t.flush()
        t.create_resource("titanic", type="model_version")  # @2, still open
    with Tracker(root, git=False, run_name="second") as t2:
        t2.log_tag("model_version/titanic@1", "status", "ARCHIVED")  # a later writer wins
        if hasattr(t2, "log_metric"):  # a second writer of the same series
            t2.log_metric("model_version/titanic@1", "loss", 0.01, step=30)
    return root, Tracker(root, git=False)


def test_reader_agrees_with_the_tracker(store: tuple[str, Tracker], tmp_path: Any) -> None:
    root, t = store
    r = format_reader.StoreReader(root)
    compared = 0
    for rtype in r.types():
        for rid in r.ids(rtype):
            assert r.versions(rtype, rid) == list(range(1, len(r.versions(rtype, rid)) + 1))
            for v in r.versions(rtype, rid):
                mine = r.version(rtype, rid, v)
                theirs = t.describe(f"{rtype}/{rid}@{v}")
                for field in (
                    "ref",
                    "run_id",
                    "parent",
                    "created_at",
                    "children",
                    "lineage",
                    "used_by",
                ):
                    assert mine[field] == theirs[field], field
                for field in ("attrs", "tags", "metadata"):
                    assert same(mine[field], theirs[field]), field
                assert sorted(mine["manifests"]) == sorted(theirs["artifacts"])
                for aid, man in mine["manifests"].items():
                    assert man["sha256"] == theirs["artifacts"][aid]["sha256"]
                    files = r.artifact(rtype, rid, v, aid)
                    dest = tmp_path / "get" / f"{rtype}-{rid}-{v}-{aid}"
                    local = t.get_artifact(f"{rtype}/{rid}@{v}", aid, dest=str(dest))
                    for path, data in files.items():
                        target = local if man["kind"] == "file" else os.path.join(local, path)
                        with open(target, "rb") as fh:
                            assert fh.read() == data
                compared += 1
    assert compared == 5
    assert r.version("model_version", "titanic", 1)["tags"]["status"] == "ARCHIVED"
    tags = r.version("dataset_version", "titanic data", 1)["tags"]
    assert set(tags) == set(ODD_KEYS)


def test_runs_agree(store: tuple[str, Tracker]) -> None:
    root, t = store
    r = format_reader.StoreReader(root)
    assert sorted(r.run_ids()) == sorted(x["id"] for x in t.runs())
    for run_id in r.run_ids():
        mine, theirs = r.run(run_id), t.run(run_id)
        for field in (
            "id",
            "name",
            "start_time",
            "end_time",
            "status",
            "user",
            "host",
            "argv",
            "created",
            "git",
        ):
            assert mine[field] == theirs[field], field
        assert mine["status"] == "FINISHED"


def test_derived_files_are_not_needed(store: tuple[str, Tracker]) -> None:
    root, _ = store
    before = format_reader.StoreReader(root).version("model_version", "titanic", 1)
    removed = 0
    for dirpath, _, names in os.walk(root):
        for n in names:
            if n in ("HEAD", "snapshot.json", "index.json") or (
                n.startswith("index-") and n.endswith(".json")  # query-index chunks
            ):
                os.unlink(os.path.join(dirpath, n))
                removed += 1
    assert removed >= 5
    fresh = Tracker(root, git=False)
    assert fresh.describe("model_version/titanic@1")["tags"] == before["tags"]
    assert fresh.get_resource("titanic", type="model_version").version == 2
    assert format_reader.StoreReader(root).version("model_version", "titanic", 1) == before


def test_reader_refuses_newer_formats_and_mismatches(store: tuple[str, Tracker]) -> None:
    root, _ = store
    with open(os.path.join(root, "tracker.yaml"), "w") as fh:
        fh.write("format: 2\n")
    with pytest.raises(format_reader.FormatError, match="format 2"):
        format_reader.StoreReader(root)
    with open(os.path.join(root, "tracker.yaml"), "w") as fh:
        fh.write("format: 1\n")
    tags = os.path.join(root, "resources", "model_version", "titanic", "1", "tags")
    os.rename(os.path.join(tags, "status.yaml"), os.path.join(tags, "Status.yaml"))
    with pytest.raises(format_reader.FormatError, match="does not hold key"):
        format_reader.StoreReader(root).version("model_version", "titanic", 1)


def test_encoding_matches_the_spec_examples() -> None:
    assert format_reader.encode("mlflow.runName") == "mlflow.runName"
    assert format_reader.encode("model/depth") == "model%2Fdepth"
    assert format_reader.encode(".hidden") == "%2Ehidden"
    assert format_reader.encode("a b") == "a%20b"
    from tracker.store import paths

    for key in ODD_KEYS:
        assert format_reader.encode(key) == paths.encode(key)
        assert format_reader.decode(paths.encode(key)) == key


def test_metric_series_agree(store: tuple[str, Tracker]) -> None:
    root, t = store
    if not hasattr(t, "get_metric_history"):
        pytest.skip("metric series not on this branch")
    series = format_reader.StoreReader(root).metrics("model_version", "titanic", 1)
    assert sorted(series) == ["count", "loss", "odd"]
    for key, mine in series.items():
        theirs = t.get_metric_history("model_version/titanic@1", key)
        assert len(mine) == len(theirs)
        for (step, ts, value), p in zip(mine, theirs, strict=True):
            assert step == p.step and same(value, p.value)
            stamp = p.timestamp
            assert ts == (stamp.timestamp() if isinstance(stamp, _dt.datetime) else stamp)
    assert len(series["loss"]) == 31 and series["count"] == [(0, series["count"][0][1], 7)]
    assert isinstance(series["count"][0][2], int)
