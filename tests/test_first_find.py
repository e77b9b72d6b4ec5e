"""The first ``find`` after writing (issue 17): a new local version is listed once, and the
``lstat`` of each item folder taken just before its scan is both the link check and the version's
validator. These tests pin the rules that makes safe: the validator equals the one a later
``find`` computes (so an unchanged version is never read again), it is taken *before* the scan
(so a key written during the read is found later), and a folder inside the racy window gives
none (nothing is stored)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest
from support.forked import forked_find

from tracker import Tracker
from tracker.store import paths
from tracker.store.fingerprints import RACY_SECONDS, LocalFingerprints
from tracker.store.local import LocalStore

WHERE = "tags.status = 'DEPLOYED'"


def age(root: Path, seconds: float = 10.0) -> None:
    """Every folder's mtime in the past, as if the store were written a while ago."""
    past = time.time() - seconds
    for dirpath, _, _ in os.walk(root):
        os.utime(dirpath, (past, past))


def entries(root: Path) -> dict[str, Any]:
    data = (root / "resources/model_version/m/index-0.json").read_bytes()
    cut = data.index(b"\n")
    head, body = json.loads(data[:cut]), data[cut + 1 :]
    return {v: json.loads(body[a : a + n]) for v, (a, n) in head["spans"].items()}


def write(root: Path, n: int) -> None:
    t = Tracker(str(root), git=False)
    for i in range(n):
        r = t.create_resource("m", type="model_version")
        t.log_tags(r, {"status": "DEPLOYED" if i % 2 else "STAGED", "i": i})
        if i % 3 == 0:
            t.log_metric(r, "loss", 1.0 / (i + 1))
    t.stop()


@pytest.fixture
def settled(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(LocalStore, "settle_seconds", 0.0)


def found(root: Path, where: str = WHERE) -> list[int]:
    t = Tracker(str(root), git=False)
    return [r.version or 0 for r in t.find(type="model_version", where=where)]


def test_the_validator_from_the_listing_is_the_one_a_later_find_computes(
    tmp_path: Path, settled: None
) -> None:
    root = tmp_path / "s"
    write(root, 9)
    age(root)
    assert found(root) == [2, 4, 6, 8]
    stored = entries(root)
    fp = LocalFingerprints(LocalStore(str(root)), "model_version", "m")
    assert sorted(stored, key=int) == [str(v) for v in range(1, 10)]
    for v in range(1, 10):
        assert stored[str(v)]["v"] is not None and stored[str(v)]["v"] == fp.version(v)
    assert stored["1"]["r"]["doc"]["metrics"] == {"loss": 1.0}  # metric key folders covered
    assert any(isinstance(part, list) and part[0] == "loss" for part in stored["1"]["v"])


def test_worker_processes_store_the_same_validators(tmp_path: Path) -> None:
    """The forked path (many new versions, a fresh process) stores what ``version`` gives."""
    root = tmp_path / "s"
    write(root, 30)
    age(root)
    out = forked_find(root, "tags.i >= 0")
    assert out["found"] == list(range(1, 31))
    assert sum(out["forked"]) >= 20 or (os.cpu_count() or 1) < 2
    fp = LocalFingerprints(LocalStore(str(root)), "model_version", "m")
    stored = entries(root)
    assert all(stored[str(v)]["v"] == fp.version(v) for v in range(1, 31))


def test_a_key_written_while_its_folder_is_scanned_is_found_by_the_next_find(
    tmp_path: Path, settled: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The folder's stamp is taken before its scan: a key replaced after the stamp leaves the
    stored validator older than the folder, so the next find (the writer logged a change line)
    reads the version anew, even when the folder's new mtime is outside the racy window."""
    root = tmp_path / "s"
    write(root, 3)
    age(root)
    tags = root / "resources/model_version/m/2/tags"
    real_list = LocalStore.list
    done: list[str] = []

    def list_and_write(self: LocalStore, path: str, detail: bool = False) -> list[Any]:
        if path.endswith("m/2/tags") and not done:
            done.append(path)
            writer = Tracker(str(root), git=False)
            writer.log_tag("model_version/m@2", "status", "RETIRED")
            writer.stop()
            past = time.time() - 2 * RACY_SECONDS  # another old mtime: outside the window
            os.utime(tags, (past, past))
        return real_list(self, path, detail)

    monkeypatch.setattr(LocalStore, "list", list_and_write)
    first = found(root)
    monkeypatch.setattr(LocalStore, "list", real_list)
    assert done and first in ([2], [])  # the read saw the old or the new value
    stored = entries(root)["2"]
    assert stored["v"] != LocalFingerprints(LocalStore(str(root)), "model_version", "m").version(2)
    assert found(root) == []  # version 2 is RETIRED now: read anew, not served from the entry
    assert entries(root)["2"]["r"]["doc"]["tags"]["status"] == "RETIRED"
    assert (tags / "status.yaml").read_text().count("RETIRED") == 1


def test_a_folder_inside_the_racy_window_gives_no_entry_until_it_settles(
    tmp_path: Path, settled: None
) -> None:
    root = tmp_path / "s"
    write(root, 2)
    age(root)
    os.utime(root / "resources/model_version/m/1/tags")  # changed just now
    assert found(root) == [2]
    assert set(entries(root)) == {"2"}  # version 1 is read again next time, not trusted
    age(root)
    assert found(root) == [2]
    assert set(entries(root)) == {"1", "2"}


def test_a_replaced_folder_or_a_deleted_version_changes_the_validator(
    tmp_path: Path, settled: None
) -> None:
    """A folder replaced whole (same mtime, new inode) and a tombstone both change the validator
    the listing gives; a deleted version is never returned."""
    root = tmp_path / "s"
    write(root, 4)
    age(root)
    assert found(root) == [2, 4]
    fp = LocalFingerprints(LocalStore(str(root)), "model_version", "m")
    before = {v: entries(root)[str(v)]["v"] for v in (2, 4)}
    vdir = root / paths.version_dir("model_version", "m", 2)
    st = os.stat(vdir / "tags")
    os.rename(vdir / "tags", vdir / "tags-old")
    os.rename(vdir / "tags-old", vdir / "tags-new")
    os.mkdir(vdir / "tags")
    for f in (vdir / "tags-new").iterdir():
        os.rename(f, vdir / "tags" / f.name)
    os.rmdir(vdir / "tags-new")
    os.utime(vdir / "tags", ns=(st.st_atime_ns, st.st_mtime_ns))  # same mtime, new inode
    listed = fp.listed(2)
    assert listed is not None and "tags/status.yaml" in listed[0]
    assert listed[1] is not None and listed[1] != before[2] and listed[1] == fp.version(2)
    t = Tracker(str(root), git=False)
    t.delete_resource("model_version/m@4")
    t.stop()
    age(root)
    assert fp.version(4) != before[4]
    assert found(root) == [2]
    assert entries(root)["4"]["r"] is None  # the tombstone's entry: never returned
