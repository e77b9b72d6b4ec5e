"""A new version's query-index entry put together from its snapshot's JSON
(:mod:`tracker.core.fast_entry`) must decode to exactly the record the general read gives, and
every case the shortcut does not cover must fall back to that read (not be guessed)."""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from tracker import Tracker
from tracker.core.resource import Resource
from tracker.store import paths
from tracker.store.jsonform import from_json
from tracker.store.local import LocalStore

UTC = dt.timezone.utc
WHEN = dt.datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)


def entry(t: Tracker, res: Resource) -> tuple[dict[str, Any] | None, str]:
    return t._query.live_entry(res)


def decoded(text: str) -> Any:
    return None if text == "null" else from_json(json.loads(text), "test")


def same(t: Tracker, res: Resource) -> dict[str, Any] | None:
    """The entry decodes to the general read's record, key order included."""
    record, text = entry(t, res)
    fresh = Tracker(t.url, git=False)._query.live_record(res)
    got = record if record is not None else decoded(text)
    assert got == fresh
    if fresh is not None and got is not None:
        assert list(got) == list(fresh)
        for section in paths.ITEM_KINDS:
            assert list(got[section]) == list(fresh[section])
    return record


@pytest.fixture
def t(tmp_path: Path) -> Tracker:
    return Tracker(str(tmp_path / "store"), git=False)


def test_a_closed_version_is_put_together_from_its_snapshot(t: Tracker) -> None:
    r = t.create_resource(
        "m", type="model_version", lr=0.1, started=WHEN, when=[dt.date(2026, 1, 1)]
    )
    t.log_tags(r, {"status": "DEPLOYED", "n": 3, "ok": True, "none": None, "b": "x y/z"})
    t.log_metadata(r, "eval", {"f1": 0.9, "at": WHEN, "days": [dt.date(2026, 2, 3)], "l": [1, 2]})
    t.update_resource(r, {"lr": 0.2, "note": "überall"})  # overrides a creation attribute
    t.log_metric(r, "loss", 0.5)
    t.log_metric(r, "loss", 0.25)
    t.clean_resource(r)
    assert same(t, r) is None  # nothing decoded: the shortcut was taken
    text = entry(t, r)[1]
    got = decoded(text)
    assert got["attrs"]["lr"] == 0.2 and got["attrs"]["started"] == WHEN
    assert got["attrs"]["when"] == [dt.date(2026, 1, 1)]
    assert got["metadata"]["eval"]["at"] == WHEN and got["metrics"] == {"loss": 0.25}
    assert got["created_at"].tzinfo is not None


def test_an_attribute_overridden_by_a_datetime_and_back(t: Tracker) -> None:
    r = t.create_resource("m", type="model_version", a=WHEN, b="plain")
    t.update_resource(r, {"a": "now a string", "b": WHEN})
    t.clean_resource(r)
    assert same(t, r) is None
    got = decoded(entry(t, r)[1])
    assert got["attrs"]["a"] == "now a string" and got["attrs"]["b"] == WHEN


@pytest.mark.parametrize("value", [b"\x00bytes", float("nan"), {1: "int key"}, float("inf")])
def test_values_json_cannot_hold_take_the_general_read(t: Tracker, value: Any) -> None:
    r = t.create_resource("m", type="model_version")
    t.log_tag(r, "odd", value)
    t.log_tag(r, "plain", 1)
    t.clean_resource(r)
    record, _ = entry(t, r)
    assert record is not None  # decoded by the general read
    if value == value:  # NaN is not equal to itself
        assert record["tags"]["odd"] == value


def test_a_metric_json_cannot_hold_takes_the_general_read(t: Tracker) -> None:
    r = t.create_resource("m", type="model_version")
    t.log_metric(r, "loss", float("inf"))
    t.clean_resource(r)
    record, _ = entry(t, r)
    assert record is not None and record["metrics"] == {"loss": float("inf")}


def test_a_key_written_after_the_snapshot_is_read_from_its_file(t: Tracker) -> None:
    r = t.create_resource("m", type="model_version")
    t.log_tag(r, "status", "STAGED")
    t.clean_resource(r)
    t.log_tag(r, "status", "DEPLOYED")  # the snapshot's stamp for it is now stale
    t.log_tag(r, "extra", 1)  # and one the snapshot never saw
    record = same(t, r)
    assert record is not None and record["tags"] == {"extra": 1, "status": "DEPLOYED"}


def test_a_deleted_tag_is_gone_from_the_entry(t: Tracker) -> None:
    r = t.create_resource("m", type="model_version")
    t.log_tags(r, {"a": 1, "b": 2})
    t.clean_resource(r)
    t.delete_tag(r, "a")
    assert same(t, r) is None  # the snapshot still holds "a", but the listing does not
    assert decoded(entry(t, r)[1])["tags"] == {"b": 2}


def test_a_deleted_or_open_version(t: Tracker) -> None:
    gone = t.create_resource("m", type="model_version")
    t.log_tag(gone, "a", 1)
    t.clean_resource(gone)
    t.delete_resource(gone)
    assert entry(t, gone) == (None, "null")
    assert "deleted" in (Path(t.url) / paths.resource_file("model_version", "m", 1)).read_text()
    open_one = t.create_resource("m", type="model_version")
    t.log_tag(open_one, "a", 1)
    assert not (Path(t.url) / paths.version_dir("model_version", "m", 2) / paths.SNAPSHOT).exists()
    record = same(t, open_one)
    assert record is not None and record["tags"] == {"a": 1}


def test_a_snapshot_entry_of_the_wrong_key_is_not_trusted(t: Tracker) -> None:
    r = t.create_resource("m", type="model_version")
    t.log_tag(r, "status", "STAGED")
    t.clean_resource(r)
    snap = Path(t.url) / paths.version_dir("model_version", "m", 1) / paths.SNAPSHOT
    doc = json.loads(snap.read_text())
    doc["files"]["tags/status.yaml"]["doc"]["key"] = "other"
    doc["files"]["tags/status.yaml"]["doc"]["value"] = "FORGED"
    snap.write_text(json.dumps(doc))
    record = same(t, r)
    assert record is not None and record["tags"] == {"status": "STAGED"}


def test_a_snapshot_of_another_version_is_not_trusted(t: Tracker) -> None:
    for _ in range(2):
        r = t.create_resource("m", type="model_version")
        t.log_tag(r, "i", r.version)
        t.clean_resource(r)
    vdir = Path(t.url) / paths.version_dir("model_version", "m", 1)
    other = Path(t.url) / paths.version_dir("model_version", "m", 2) / paths.SNAPSHOT
    (vdir / paths.SNAPSHOT).write_bytes(other.read_bytes())  # stamps differ, resource too
    record = same(t, Resource("model_version", "m", 1))
    assert record is not None and record["tags"] == {"i": 1}


def test_find_stores_entries_that_decode_to_the_records(t: Tracker, tmp_path: Path) -> None:
    for i in range(6):
        r = t.create_resource("m", type="model_version", at=WHEN)
        t.log_tags(r, {"status": "DEPLOYED" if i % 2 else "STAGED", "when": WHEN})
        t.clean_resource(r)
    t.stop()
    fresh = Tracker(t.url, git=False)
    got = fresh.find(type="model_version", where="tags.status = 'DEPLOYED'")
    assert [r.version for r in got] == [2, 4, 6]
    assert all(r.info["tags"]["when"] == WHEN for r in got)
    chunk = (Path(t.url) / "resources/model_version/m/index-0.json").read_bytes()
    cut = chunk.index(b"\n")
    head, body = json.loads(chunk[:cut]), chunk[cut + 1 :]
    if not head["spans"]:  # every folder still inside the racy window: nothing stored yet
        return
    for v, (a, n) in head["spans"].items():
        stored = json.loads(body[a : a + n])["r"]
        want = fresh._query.live_record(Resource("model_version", "m", int(v)))
        assert from_json(stored, "test") == want


# -- folders the snapshot vouches for (not scanned by the first find) -----------------------------
def age(folder: Path, seconds: float = 10.0) -> None:
    past = time.time() - seconds
    os.utime(folder, (past, past))


def snapshot_of(t: Tracker, v: int) -> dict[str, Any]:
    vdir = Path(t.url) / paths.version_dir("model_version", "m", v)
    return dict(json.loads((vdir / paths.SNAPSHOT).read_text()))


def first_read(t: Tracker, v: int, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, list[str]]:
    """What the first find reads of version ``v`` (decoded), and which folders it scanned."""
    scanned: list[str] = []
    real = LocalStore._scan_kind
    monkeypatch.setattr(
        LocalStore,
        "_scan_kind",
        lambda s, vdir, kind, out: scanned.append(kind) or real(s, vdir, kind, out),
    )
    reader = Tracker(t.url, git=False)
    record, text, _ = reader._query._index("model_version", "m", v)._listed_one(v)
    monkeypatch.undo()
    return (record if record is not None else decoded(text)), scanned


def test_folders_unchanged_since_the_snapshot_are_not_scanned(
    t: Tracker, monkeypatch: pytest.MonkeyPatch
) -> None:
    r = t.create_resource("m", type="model_version")
    t.log_tags(r, {"status": "STAGED", "n": 1})
    t.log_metadata(r, "eval", {"at": WHEN})
    vdir = Path(t.url) / paths.version_dir("model_version", "m", 1)
    age(vdir / "tags")
    age(vdir / "metadata")
    t.clean_resource(r)  # writes attrs now: that folder is too recent to vouch for
    folders = snapshot_of(t, 1)["folders"]
    assert set(folders) == {"tags", "metadata"}
    assert folders["tags"] == [os.lstat(vdir / "tags").st_mtime_ns, os.lstat(vdir / "tags").st_ino]
    got, scanned = first_read(t, 1, monkeypatch)
    assert "tags" not in scanned and "metadata" not in scanned and "attrs" in scanned
    assert got == Tracker(t.url, git=False)._query.live_record(r)
    assert got["tags"] == {"n": 1, "status": "STAGED"} and got["metadata"]["eval"]["at"] == WHEN
    # a key written after the snapshot changes the folder's stamp: it is scanned again
    t.log_tag(r, "status", "DEPLOYED")
    t.log_tag(r, "extra", True)
    got, scanned = first_read(t, 1, monkeypatch)
    assert "tags" in scanned
    assert got["tags"] == {"extra": True, "n": 1, "status": "DEPLOYED"}
    # and a deleted one too (its file is gone, the snapshot still holds it)
    t.clean_resource(r)
    age(vdir / "tags", 20)
    t.delete_tag(r, "extra")
    got, scanned = first_read(t, 1, monkeypatch)
    assert "tags" in scanned and got["tags"] == {"n": 1, "status": "DEPLOYED"}


def test_a_folder_held_in_part_or_changed_just_before_is_not_vouched_for(t: Tracker) -> None:
    r = t.create_resource("m", type="model_version")
    t.log_tag(r, "big", "x" * 70_000)  # larger than a snapshot entry: stays in its file only
    t.log_metadata(r, "recent", 1)
    vdir = Path(t.url) / paths.version_dir("model_version", "m", 1)
    age(vdir / "tags")
    t.clean_resource(r)
    snap = snapshot_of(t, 1)
    assert "tags/big.yaml" not in snap["files"] and "metadata/recent.yaml" in snap["files"]
    assert "tags" not in snap.get("folders", {}) and "metadata" not in snap.get("folders", {})
    record = same(t, r)
    assert record is not None and len(record["tags"]["big"]) == 70_000


def test_a_snapshot_s_folder_stamps_are_ignored_where_the_store_has_none(s3_backend: Any) -> None:
    t = s3_backend.make()
    r = t.create_resource("m", type="model_version")
    t.log_tag(r, "status", "DEPLOYED")
    t.clean_resource(r)
    snap = json.loads(t._session.store.read(paths.snapshot_file("model_version", "m", 1)))
    assert "folders" not in snap  # object stores have no folder stamps to vouch with
    assert [x.version for x in t.find(type="model_version", where="tags.status = 'DEPLOYED'")] == [
        1
    ]


def test_fsck_finds_a_snapshot_vouching_for_a_folder_it_does_not_hold(
    t: Tracker, monkeypatch: pytest.MonkeyPatch
) -> None:
    r = t.create_resource("m", type="model_version")
    t.log_tags(r, {"a": 1, "b": 2})
    vdir = Path(t.url) / paths.version_dir("model_version", "m", 1)
    age(vdir / "tags")
    t.clean_resource(r)
    t.stop()
    assert t.check().ok
    snap = snapshot_of(t, 1)
    del snap["files"]["tags/b.yaml"]  # forged: the folder still has the stamp it vouches for
    (vdir / paths.SNAPSHOT).write_text(json.dumps(snap))
    got, scanned = first_read(t, 1, monkeypatch)
    assert "tags" not in scanned and got["tags"] == {"a": 1}  # what a forged cache can do
    report = t.check()
    assert [(p.kind, p.path.endswith(paths.SNAPSHOT)) for p in report.problems] == [
        ("stale-snapshot", True)
    ]
    t.check(repair=True, grace=0)
    assert "tags/b.yaml" in snapshot_of(t, 1)["files"]
    got, _ = first_read(t, 1, monkeypatch)
    assert got["tags"] == {"a": 1, "b": 2}
    assert t.check().ok
