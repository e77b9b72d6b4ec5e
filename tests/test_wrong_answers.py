"""No wrong answers from stale hints, forged derived files or half-written key files."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from tracker import Tracker
from tracker.errors import CorruptFile


def _series(root: Path, n: int = 3) -> Tracker:
    t = Tracker(str(root), git=False)
    for i in range(n):
        r = t.create_resource("m", type="model_version")
        t.log_tag(r, "status", "STAGING" if i else "DEPLOYED")
    t.stop()
    return Tracker(str(root), git=False)


SERIES = Path("resources/model_version/m")


@pytest.mark.parametrize("hint", ["removed", "99"])
def test_a_hint_above_the_newest_version_gives_no_wrong_answer(tmp_path: Path, hint: str) -> None:
    root = tmp_path / "s"
    _series(root)
    if hint == "removed":
        shutil.rmtree(root / SERIES / "3")  # the newest removed by hand; HEAD still says 3
    else:
        (root / SERIES / "HEAD").write_text("99")
        shutil.rmtree(root / SERIES / "3")
    t = Tracker(str(root), git=False)
    assert t.get_resource("m", "model_version").version == 2
    rows = t.find(type="model_version")
    assert [r.version for r in rows] == [1, 2] and all(row["run_id"] for row in rows.rows)
    kinds = {p.kind for p in t.check().problems}
    assert "bad-hint" in kinds and kinds <= {"bad-hint", "dangling-pointer"}  # run's pointer
    assert t.create_resource("m", type="model_version").version == 3  # no gap
    t.stop()
    assert sorted(p.name for p in (root / SERIES).iterdir() if p.name.isdigit()) == ["1", "2", "3"]
    assert Tracker(str(root), git=False).check().ok


def test_fsck_repair_removes_a_hint_above_the_newest(tmp_path: Path) -> None:
    root = tmp_path / "s"
    _series(root)
    (root / SERIES / "HEAD").write_text("7")
    t = Tracker(str(root), git=False)
    assert not t.check(repair=True).problems
    assert not (root / SERIES / "HEAD").exists()
    assert t.get_resource("m", "model_version").version == 3


def _snapshot(root: Path, version: int = 1) -> tuple[Path, dict[str, Any]]:
    path = root / SERIES / str(version) / "snapshot.json"
    return path, json.loads(path.read_text())


@pytest.mark.parametrize(
    "forge",
    [
        lambda e: e["doc"].pop("value"),  # no value
        lambda e: e["doc"].update(key=["not", "a", "key"]),
        lambda e: e.update(doc=[1, 2]),
        lambda e: e.update(dt="junk"),
        lambda e: e.pop("doc"),
    ],
)
def test_a_wrong_shaped_snapshot_entry_is_a_miss(tmp_path: Path, forge: Any) -> None:
    root = tmp_path / "s"
    t = _series(root)
    path, snap = _snapshot(root)
    entry = snap["files"]["tags/status.yaml"]
    stamp = entry["stamp"]
    forge(entry)
    entry["stamp"] = stamp  # the stamp still matches: only the shape is wrong
    path.write_text(json.dumps(snap))
    t = Tracker(str(root), git=False)
    assert t.get_tags("model_version/m@1") == {"status": "DEPLOYED"}
    assert t.get_tag("model_version/m@1", "status") == "DEPLOYED"


def test_a_forged_snapshot_value_is_found_and_repaired_by_fsck(tmp_path: Path) -> None:
    root = tmp_path / "s"
    _series(root)
    path, snap = _snapshot(root)
    snap["files"]["tags/status.yaml"]["doc"]["value"] = "FORGED"
    path.write_text(json.dumps(snap))
    t = Tracker(str(root), git=False)
    report = t.check()
    assert [(p.kind, p.path.endswith("1/snapshot.json")) for p in report.problems] == [
        ("stale-snapshot", True)
    ]
    t.check(repair=True)
    assert t.get_tags("model_version/m@1") == {"status": "DEPLOYED"}
    assert t.check().ok


@pytest.mark.parametrize("bad", [b"{", b"[]", b'{"files": 3}', b"x" * 10])
def test_a_broken_snapshot_is_ignored(tmp_path: Path, bad: bytes) -> None:
    root = tmp_path / "s"
    _series(root)
    path, _ = _snapshot(root)
    path.write_bytes(bad)
    t = Tracker(str(root), git=False)
    assert t.get_tags("model_version/m@1") == {"status": "DEPLOYED"}
    assert t.describe("model_version/m@1")["tags"] == {"status": "DEPLOYED"}
    assert [r.version for r in t.find(where="tags.status = 'DEPLOYED'")] == [1]


def test_large_values_never_make_a_snapshot_unreadable(tmp_path: Path) -> None:
    root = tmp_path / "s"
    t = Tracker(str(root), git=False)
    r = t.create_resource("m", type="model_version")
    big = "x" * (3 * 1024 * 1024)
    for i in range(30):  # 90 MB of metadata, each value under the per-file bound
        t.log_metadata(r, f"blob{i}", big)
    t.log_tag(r, "status", "DEPLOYED")
    t.stop()
    path, snap = _snapshot(root)
    assert path.stat().st_size < 1024 * 1024
    assert "tags/status.yaml" in snap["files"] and "metadata/blob0.yaml" not in snap["files"]
    t = Tracker(str(root), git=False)
    assert t.get_tags(r.ref) == {"status": "DEPLOYED"}
    assert len(t.get_all_metadata(r.ref)) == 30
    assert [x.version for x in t.find(where="tags.status = 'DEPLOYED'")] == [1]
    index = root / SERIES / "index-0.json"  # the query index's first chunk
    assert not index.exists() or index.stat().st_size < 1024 * 1024


@pytest.mark.parametrize("entry", [{"v": None, "r": 3}, "junk", {"r": {"type": "x"}}])
def test_a_wrong_shaped_index_entry_is_a_miss(tmp_path: Path, entry: Any, monkeypatch) -> None:
    from tracker.core import index as index_module
    from tracker.store import fingerprints as fingerprints_module

    monkeypatch.setattr(fingerprints_module, "RACY_SECONDS", 0.0)
    root = tmp_path / "s"
    t = _series(root)
    assert [r.version for r in t.find(where="tags.status = 'DEPLOYED'")] == [1]
    path = root / SERIES / "index-0.json"  # the query index's first chunk
    data = path.read_bytes()
    head = json.loads(data[: data.index(b"\n")])
    stored = index_module.load_chunk(data)
    entries = index_module.chunk_entries(stored)
    if isinstance(entry, dict) and "v" not in entry:
        valid = json.loads(entries["2"])["v"]
        entry = {"v": valid, "r": {"type": "x"}}  # valid stamp, bad record
    entries["2"] = json.dumps(entry).encode()
    path.write_bytes(index_module.dump_chunk(head["marks"], entries, head["memo"]))
    t = Tracker(str(root), git=False)
    assert [r.version for r in t.find(where="tags.status = 'STAGING'")] == [2, 3]


def test_a_key_file_without_value_is_refused_by_every_reader(tmp_path: Path) -> None:
    root = tmp_path / "s"
    t = _series(root, 1)
    (root / SERIES / "1" / "tags" / "status.yaml").write_text("key: status\n")
    (root / SERIES / "1" / "snapshot.json").unlink()
    t = Tracker(str(root), git=False)
    for read in (
        lambda: t.get_tag("model_version/m@1", "status"),
        lambda: t.get_tags("model_version/m@1"),
        lambda: t.find(where="tags.status = 'DEPLOYED'"),
    ):
        with pytest.raises(CorruptFile, match="value"):
            read()
    assert any(p.kind == "identity" for p in t.check().problems)


def test_register_vc_resource_keeps_the_callers_uri(tmp_path: Path, monkeypatch) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    run = lambda *a: subprocess.run(["git", *a], cwd=repo, check=True, capture_output=True)  # noqa: E731
    run("init", "-q")
    run("-c", "user.email=a@b", "-c", "user.name=a", "commit", "-q", "--allow-empty", "-m", "x")
    run("remote", "add", "origin", "https://example.invalid/repo.git")
    monkeypatch.chdir(repo)
    t = Tracker(str(tmp_path / "s"), git=False)
    r = t.create_resource("m", type="model_version")
    t.register_vc_resource(r, {"uri": "models/exp.pkl"}, key="model")
    md = t.get_all_metadata(r)
    assert md["model_uri"] == "models/exp.pkl"
    assert md["model_remote"] == "https://example.invalid/repo.git"
    assert len(md["model_hexsha"]) == 40
    t.stop()


class Steps(Sequence[int]):
    def __init__(self, n: int) -> None:
        self.n = n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return list(range(self.n))[i]
        if not 0 <= i < self.n:
            raise IndexError(i)
        return i * 10


def test_sequences_and_mappings_of_any_class_are_stored_plainly(tmp_path: Path) -> None:
    from omegaconf import OmegaConf

    t = Tracker(str(tmp_path / "s"), git=False)
    r = t.create_resource("m", type="model_version")
    cfg = OmegaConf.create({"layers": [64, 32], "opt": {"lr": 0.1}})
    t.log_metadata(r, "cfg", cfg)
    t.log_metadata(r, "layers", cfg.layers)
    t.log_metadata(r, "steps", Steps(3))
    assert t.get_metadata(r, "cfg") == {"layers": [64, 32], "opt": {"lr": 0.1}}
    assert t.get_metadata(r, "layers") == [64, 32]
    assert t.get_metadata(r, "steps") == [0, 10, 20]
    text = (tmp_path / "s" / SERIES / "1" / "metadata" / "layers.yaml").read_text()
    assert "!!" not in text and "- 64" in text
    t.stop()


def test_fsck_compares_index_entries_with_the_files_and_repair_rebuilds(
    tmp_path: Path, monkeypatch
) -> None:
    """An index entry with a valid validator but a forged record would be trusted by find:
    fsck reads the version afresh, reports the difference, and --repair removes the chunk."""
    from tracker.core import index as index_module
    from tracker.store import fingerprints as fingerprints_module

    monkeypatch.setattr(fingerprints_module, "RACY_SECONDS", 0.0)
    root = tmp_path / "s"
    t = _series(root)
    assert [r.version for r in t.find(where="tags.status = 'DEPLOYED'")] == [1]
    assert not [p for p in t.check().problems if p.kind.endswith("index")]  # a true index
    path = root / SERIES / "index-0.json"
    data = path.read_bytes()
    head = json.loads(data[: data.index(b"\n")])
    entries = index_module.chunk_entries(index_module.load_chunk(data))
    forged = json.loads(entries["2"])
    forged["r"]["doc"]["tags"]["status"] = "DEPLOYED"  # the validator "v" is left as it was
    entries["2"] = json.dumps(forged).encode()
    path.write_bytes(index_module.dump_chunk(head["marks"], entries, head["memo"]))
    t = Tracker(str(root), git=False)
    # a where text the chunk has not remembered matches for: the forged entry is trusted
    assert [r.version for r in t.find(where="tags.status != 'STAGING'")] == [1, 2]
    report = t.check()
    stale = [p for p in report.problems if p.kind == "stale-index"]
    assert [p.path for p in stale] == [f"{SERIES}/index-0.json"] and stale[0].repairable
    assert "version 2" in stale[0].detail
    t.check(repair=True, grace=0)
    assert not path.exists()  # removed: a cache, rebuilt by the next find
    assert [
        r.version for r in Tracker(str(root), git=False).find(where="tags.status = 'DEPLOYED'")
    ] == [1]
    assert not [p for p in Tracker(str(root), git=False).check().problems if "index" in p.kind]
