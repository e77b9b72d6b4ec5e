"""Every write that changes what ``find`` returns for a version reaches a warm query index: it
logs a change line (on disk, naming the version) that makes readers re-validate that version.

Each test warms the index in a reader (lines settle at once, entries are stored at once), makes
the write in another tracker, and checks a fresh reader's ``find`` before and after. Without the
line the warm index would trust its old entry and return the old rows."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest

from tracker import Tracker
from tracker.core.changes import parse
from tracker.core.trash import Trash
from tracker.store import fingerprints as fingerprints_module
from tracker.store.base import Store
from tracker.store.fingerprints import LocalFingerprints
from tracker.store.local import LocalStore

SERIES = Path("resources/model_version/m")
DEPLOYED = "tags.status = 'DEPLOYED'"


@pytest.fixture(autouse=True)
def settled(monkeypatch: pytest.MonkeyPatch) -> None:
    """Change lines settle and entries are stored at once (one process: nothing in flight)."""
    monkeypatch.setattr(LocalStore, "settle_seconds", 0.0)
    monkeypatch.setattr(fingerprints_module, "RACY_SECONDS", 0.0)


def lines(root: Path) -> list[tuple[int, float]]:
    """Every change line of the series, from the files on disk."""
    out: list[tuple[int, float]] = []
    folder = root / SERIES / "changes"
    for path in sorted(folder.iterdir()) if folder.exists() else []:
        parsed = parse(path.read_bytes())
        assert parsed is not None, path
        out.extend(parsed)
    return out


def found(root: Path, where: str = DEPLOYED) -> list[int]:
    reader = Tracker(str(root), git=False)
    return [r.version for r in reader.find(type="model_version", where=where)]


def build(root: Path, n: int = 4) -> None:
    t = Tracker(str(root), git=False)
    for i in range(n):
        r = t.create_resource("m", type="model_version")
        t.log_tag(r, "status", "DEPLOYED")
        t.log_metric(r, "loss", 1.0 + i)
    t.stop()


class Warm:
    """Warms the index of ``root`` for ``where``; afterwards tells which versions a find
    validated one by one (only those a new change line names, on a warm index)."""

    def __init__(self, root: Path, monkeypatch: pytest.MonkeyPatch, where: str, want: list[int]):
        assert found(root, where) == want
        assert found(root, where) == want  # the chunk now holds every entry and a settled mark
        assert (root / SERIES / "index-0.json").exists()
        self.validated: list[int] = []
        real = LocalFingerprints.version
        monkeypatch.setattr(
            LocalFingerprints,
            "version",
            lambda i, v: self.validated.append(v) or real(i, v),
        )
        assert found(root, where) == want and self.validated == []  # warm: no per-version stat
        self.lines = set(lines(root))

    def logged(self, root: Path, version: int) -> None:
        """A new change line on disk names ``version``."""
        new = set(lines(root)) - self.lines
        assert version in [v for v, _ in new], new
        self.lines |= new


def test_a_deletion_and_a_restore_reach_a_warm_index(tmp_path: Path, monkeypatch: Any) -> None:
    root = tmp_path / "s"
    build(root)
    warm = Warm(root, monkeypatch, DEPLOYED, [1, 2, 3, 4])
    writer = Tracker(str(root), git=False)
    writer.delete_resource("model_version/m@3")
    warm.logged(root, 3)
    assert found(root) == [1, 2, 4]
    assert 3 in warm.validated and set(warm.validated) == {3}  # only what the line names
    assert found(root) == [1, 2, 4]  # and again from the updated chunk
    writer.restore_resource("model_version/m@3")
    warm.logged(root, 3)
    assert found(root) == [1, 2, 3, 4]
    assert found(root, "metrics.loss >= 3.0") == [3, 4]
    writer.stop()


def test_gc_keeps_a_deleted_version_out(tmp_path: Path, monkeypatch: Any) -> None:
    """gc needs no line (the version was invisible already and its tombstone stays)."""
    root = tmp_path / "s"
    build(root)
    writer = Tracker(str(root), git=False)
    writer.delete_resource("model_version/m@2")
    Warm(root, monkeypatch, DEPLOYED, [1, 3, 4])
    assert [e["ref"] for e in writer.gc(older_than=0)] == ["model_version/m@2"]
    assert found(root) == [1, 3, 4]
    assert (root / SERIES / "2" / "resource.yaml").exists()  # the tombstone
    writer.stop()


def test_a_restore_completed_by_fsck_reaches_a_warm_index(tmp_path: Path, monkeypatch: Any) -> None:
    """The restoring process died before writing anything; fsck --repair finishes the restore
    in a process of its own, and that one logs the change."""
    root = tmp_path / "s"
    build(root)
    writer = Tracker(str(root), git=False)
    entry = writer.delete_resource("model_version/m@2")
    warm = Warm(root, monkeypatch, DEPLOYED, [1, 3, 4])
    trash = Trash(writer._store, writer._resources)
    doc = trash.entry(entry["id"])
    assert doc is not None
    doc["state"] = "restoring"  # a restorer killed right after marking its entry
    trash._save(doc)
    writer.stop()
    Tracker(str(root), git=False).check(repair=True, grace=0)
    warm.logged(root, 2)
    assert found(root) == [1, 2, 3, 4]
    assert not Tracker(str(root), git=False).is_deleted("model_version/m@2")


def test_metric_writes_and_compaction_reach_a_warm_index(tmp_path: Path, monkeypatch: Any) -> None:
    root = tmp_path / "s"
    build(root)
    low = "metrics.loss < 2.5"
    warm = Warm(root, monkeypatch, low, [1, 2])
    writer = Tracker(str(root), git=False)
    writer.log_metric("model_version/m@4", "loss", 0.5, step=7)
    writer.flush()
    warm.logged(root, 4)
    assert found(root, low) == [1, 2, 4]
    with pytest.warns(UserWarning, match="metrics.acc"):  # no version has it yet
        assert found(root, "metrics.acc > 0") == []
    writer.log_metric("model_version/m@1", "acc", 0.9)
    writer.log_metric("model_version/m@1", "loss", 9.0, step=8)
    writer.flush()
    warm.logged(root, 1)
    assert found(root, low) == [2, 4]
    assert found(root, "metrics.acc > 0") == [1]
    new = writer.create_resource("m", type="model_version")  # m@5, open: not compacted yet
    for step in range(2):
        writer.log_metric(new, "loss", 0.1, step=step)
        writer.flush()  # two chunks
    warm = Warm(root, monkeypatch, low, [2, 4, 5])
    writer.clean_resource(new)  # closes m@5: compacts its series
    assert (root / SERIES / "5" / "metrics" / "loss" / "compact.tsv").exists()
    warm.logged(root, 5)
    assert found(root, low) == [2, 4, 5]
    assert found(root, "metrics.acc > 0") == [1]
    writer.stop()


def test_key_writes_and_tag_deletion_reach_a_warm_index(tmp_path: Path, monkeypatch: Any) -> None:
    root = tmp_path / "s"
    build(root)
    warm = Warm(root, monkeypatch, DEPLOYED, [1, 2, 3, 4])
    writer = Tracker(str(root), git=False)
    writer.delete_tag("model_version/m@2", "status")
    warm.logged(root, 2)
    assert found(root) == [1, 3, 4]
    writer.log_metadata("model_version/m@3", "f1", 0.9)
    warm.logged(root, 3)
    assert found(root, "metadata.f1 > 0.5") == [3]
    writer.log_tag("model_version/m@2", "status", "DEPLOYED")
    warm.logged(root, 2)
    assert found(root) == [1, 2, 3, 4]
    writer.stop()


def test_a_removed_change_file_costs_speed_only(tmp_path: Path, monkeypatch: Any) -> None:
    """Change files the chunk had read disappear (removed by hand), together with the line of a
    change made since: every version of the chunk is validated, so the change is still seen."""
    root = tmp_path / "s"
    build(root)
    warm = Warm(root, monkeypatch, DEPLOYED, [1, 2, 3, 4])
    writer = Tracker(str(root), git=False)
    writer.delete_tag("model_version/m@2", "status")
    writer.stop()
    warm.logged(root, 2)
    for path in (root / SERIES / "changes").iterdir():
        os.remove(path)
    assert found(root) == [1, 3, 4]
    assert sorted(set(warm.validated)) == [1, 2, 3, 4]
    warm.validated.clear()
    assert found(root) == [1, 3, 4] and warm.validated == []  # warm again


def test_a_reader_with_write_caches_off_writes_nothing(tmp_path: Path) -> None:
    root = tmp_path / "s"
    build(root)
    time.sleep(0.01)

    def tree() -> dict[str, float]:
        return {
            str(p.relative_to(root)): p.stat().st_mtime
            for p in root.rglob("*")
            if p.is_file() and not p.name.startswith(".tmp-")
        }

    before = tree()
    reader = Tracker(str(root), git=False, write_caches=False)
    assert [r.version for r in reader.find(type="model_version", where=DEPLOYED)] == [1, 2, 3, 4]
    assert reader.find(type="model_version", order_by="-version", limit=1)[0].version == 4
    assert tree() == before
    assert not (root / SERIES / "index-0.json").exists()


def test_deletion_restore_and_metrics_reach_a_warm_index_on_s3(s3_backend: Any, monkeypatch: Any):
    """The same through ETags and a LIST of the change log, on the moto server."""
    monkeypatch.setattr(Store, "settle_seconds", 0.0)
    t = s3_backend.make()
    for i in range(3):
        r = t.create_resource("m", type="model_version")
        t.log_tag(r, "status", "DEPLOYED")
        t.log_metric(r, "loss", 1.0 + i)
    t.stop()

    def s3_found(where: str = DEPLOYED) -> list[int]:
        return [r.version for r in s3_backend.make().find(type="model_version", where=where)]

    assert s3_found() == [1, 2, 3] and s3_found() == [1, 2, 3]  # warm
    store = s3_backend.make()._store
    listed = lambda: store.walk("resources/model_version/m/changes")  # noqa: E731
    stamps = lambda: {rel: e.stamp for rel, e in listed().items()}  # noqa: E731
    before = stamps()
    writer = s3_backend.make()
    writer.delete_resource("model_version/m@2")
    assert stamps() != before  # a change file was written
    assert s3_found() == [1, 3]
    writer.restore_resource("model_version/m@2")
    assert s3_found() == [1, 2, 3]
    writer.log_metric("model_version/m@3", "loss", 0.5, step=9)
    writer.flush()
    assert s3_found("metrics.loss < 1.5") == [1, 3]
    lines_on_s3 = [
        line
        for rel in listed()
        for line in parse(store.read(f"resources/model_version/m/changes/{rel}") or b"") or []
    ]
    assert {2, 3} <= {v for v, _ in lines_on_s3}
    writer.stop()
