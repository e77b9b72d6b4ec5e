"""The per-series query index: used only while valid, rebuilt when stale or broken."""

from __future__ import annotations

import json
import os
import time

import pytest

from tracker import Tracker
from tracker.core import index as index_module
from tracker.core.query import Query


def age(root, seconds=10.0):
    """Set every directory's mtime into the past, as if the store were written a while ago."""
    past = time.time() - seconds
    for dirpath, _, _ in os.walk(root):
        os.utime(dirpath, (past, past))


@pytest.fixture
def store(tmp_path):
    root = tmp_path / "s"
    t = Tracker(str(root), git=False)
    for i in range(6):
        r = t.create_resource("m", type="model_version")
        t.log_tag(r, "i", i)
        if i % 2 == 0:
            t.log_tag(r, "status", "DEPLOYED")
    t.stop()
    age(root)
    return root


def where(t):
    return [r.version for r in t.find(type="model_version", where="tags.status = 'DEPLOYED'")]


def test_find_writes_the_index_and_reads_it_back(store, monkeypatch):
    t = Tracker(str(store), git=False)
    assert where(t) == [1, 3, 5]
    idx = json.loads((store / "resources/model_version/m/index.json").read_text())
    assert sorted(idx["entries"], key=int) == ["1", "2", "3", "4", "5", "6"]
    assert idx["entries"]["3"]["r"]["doc"]["tags"] == {"i": 2, "status": "DEPLOYED"}
    built = []
    real = Query.live_record
    monkeypatch.setattr(
        Query, "live_record", lambda self, *a, **k: built.append(1) or real(self, *a, **k)
    )
    assert where(Tracker(str(store), git=False)) == [1, 3, 5]
    assert built == []  # every record came from the index


def test_a_change_after_the_index_was_built_wins(store):
    t = Tracker(str(store), git=False)
    assert where(t) == [1, 3, 5]
    t.log_tag("model_version/m@2", "status", "DEPLOYED")
    t.log_tag("model_version/m@3", "status", "RETIRED")
    assert where(Tracker(str(store), git=False)) == [1, 2, 5]
    t.stop()


def test_entries_younger_than_the_racy_window_are_not_stored(tmp_path):
    t = Tracker(str(tmp_path / "s"), git=False)
    t.log_tag(t.create_resource("m", type="model_version"), "status", "DEPLOYED")
    assert where(t) == [1]
    index_file = tmp_path / "s/resources/model_version/m/index.json"
    assert not index_file.exists() or json.loads(index_file.read_text())["entries"] == {}
    t.stop()


def test_a_broken_index_is_rebuilt_and_fsck_can_remove_it(store):
    path = store / "resources/model_version/m/index.json"
    path.write_text("{not json")
    t = Tracker(str(store), git=False)
    assert [p.kind for p in t.check().problems] == ["bad-index"]
    assert where(t) == [1, 3, 5]
    assert json.loads(path.read_text())["entries"]
    assert t.check().ok


def test_index_is_used_on_s3(s3_backend, monkeypatch):
    monkeypatch.setattr(index_module, "RACY_SECONDS", 0.0)  # ETags, not clocks, validate on S3
    t = s3_backend.make()
    for i in range(8):
        r = t.create_resource("m", type="model_version")
        t.log_tag(r, "status", "DEPLOYED" if i % 4 == 0 else "NO")
    t.stop()
    reader = s3_backend.make()
    assert where(reader) == [1, 5]
    s3_backend.proxy.reset_counts()
    assert where(s3_backend.make()) == [1, 5]
    gets = [p for m, p, _ in s3_backend.proxy.requests if m == "GET"]
    # format, HEAD and the version it names (a hint is confirmed before it is trusted), the
    # index, a listing; no per-version reads
    assert len(gets) <= 7, gets
    reader.log_tag("model_version/m@2", "status", "DEPLOYED")
    assert where(s3_backend.make()) == [1, 2, 5]
