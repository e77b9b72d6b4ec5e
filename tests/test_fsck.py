"""``Tracker.check()`` and ``tracker fsck``: every kind of damage, made by hand on a real store, is
found with its path and kind; ``repair`` removes exactly the garbage and never a byte of data."""

from __future__ import annotations

import json
import os
import time
from typing import Any

import pytest

from tracker import Tracker
from tracker.cli.main import main
from tracker.core.check import check

V = "resources/model_version/m/1"
DEAD_PID = 4_000_000  # above pid_max (4194304 at most, 32768 by default): never a live process


def populated(backend: Any, tmp_path: Any) -> tuple[Tracker, dict[str, Any]]:
    t = backend.make()
    dv = t.create_resource("d", type="dataset_version")
    mv = t.create_resource("m", type="model_version")
    ex = t.create_resource("x", type="experiment", parent=mv)
    t.log_tag(mv, "stage", "prod")
    t.log_metadata(mv, "metrics", {"f1": 0.9})
    src = tmp_path / "weights.bin"
    src.write_bytes(b"w" * 100)
    t.log_artifact(mv, "weights", str(src))
    folder = tmp_path / "folder"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "a.txt").write_text("a")
    t.log_artifact(mv, "folder", str(folder))
    t.build_model_lineage(mv, [dv])
    t.clean_resource(ex)
    t.stop()
    arts = json.loads(json.dumps(t.artifacts(mv), default=str))
    return t, {"mv": mv, "dv": dv, "ex": ex, "manifest": arts["weights"], "folder": arts["folder"]}


def snapshot_files(backend: Any) -> dict[str, bytes]:
    """Every file under the root with its bytes (one filesystem object: each ``backend.fs`` is a
    new S3 client)."""
    fs, base = backend.fs, backend.base
    found = fs.find(base)
    return {str(p)[len(base) + 1 :]: bytes(fs.cat_file(p)) for p in found}


def writer(backend: Any) -> Any:
    """``write(rel, data)`` through one filesystem object."""
    if backend.name == "local":
        return backend.write
    fs, base = backend.fs, backend.base
    return lambda rel, data: fs.pipe_file(f"{base}/{rel}", data)


def kinds(report: Any) -> list[tuple[str, str]]:
    return sorted((p.kind, p.path) for p in report.problems)


def test_a_clean_store_is_ok_on_every_backend(backend, tmp_path):
    t, _ = populated(backend, tmp_path)
    report = t.check()
    assert report.ok and report.files > 20, report.as_dict()
    assert report.as_dict() == {"ok": True, "files": report.files, "problems": [], "repaired": []}


def test_each_kind_of_damage_is_found_and_only_garbage_is_repaired(backend, tmp_path):
    t, info = populated(backend, tmp_path)
    token = info["manifest"]["token"]
    art = f"{V}/artifacts/weights/{token}/weights.bin"
    garbage = {
        "resources/model_version/m/HEAD": (b"not a number\n", "bad-hint"),
        f"{V}/children/experiment/ghost@7": (b"", "dangling-pointer"),
        f"{V}/lineage/dataset_version/no-version-here": (b"", "bad-pointer"),
        f"runs/{info['mv'].run_id}/created/model_version/gone@3": (b"", "dangling-pointer"),
    }
    damage_kept = {
        f"{V}/tags/broken.yaml": (b"key: broken\nvalue: [unclosed\n", "unparsable"),
        f"{V}/tags/evil.yaml": (
            b"key: evil\nvalue: !!python/object/apply:os.system ['touch /tmp/pwned']\n",
            "unparsable",
        ),
        f"{V}/metadata/other.yaml": (b"key: OTHER\nvalue: 1\n", "identity"),
        "resources/model_version/m/9/tags/stray.yaml": (
            b"key: stray\nvalue: 1\n",
            "orphan-version",
        ),
        "resources/model_version/m/2/resource.yaml": (
            b"type: model_version\nid: n\nversion: 2\n",
            "identity",
        ),
        "resources/stray.txt": (b"notes the user left here\n", "unknown"),
        f"{V}/manifests/escape.yaml": (
            json.dumps(
                {
                    "id": "escape",
                    "token": "t",
                    "files": [{"path": "../../../../../../etc/passwd", "size": 1, "sha256": "0"}],
                }
            ).encode(),
            "bad-manifest",
        ),
        f"{V}/manifests/absolute.yaml": (
            json.dumps(
                {"id": "absolute", "token": "t", "files": [{"path": "/etc/passwd", "size": 1}]}
            ).encode(),
            "bad-manifest",
        ),
    }
    write = writer(backend)
    for rel, (data, _) in {**garbage, **damage_kept}.items():
        write(rel, data)
    # artifact damage: one copy truncated, one deleted, a stray copy nobody references
    write(art, b"w" * 99)
    missing = f"{V}/artifacts/folder/{info['folder']['token']}/sub/a.txt"
    backend.fs.rm(f"{backend.base}/{missing}")
    stray_copy = f"{V}/artifacts/weights/20200101T000000-deadbeef"
    write(f"{stray_copy}/weights.bin", b"old copy")

    before = snapshot_files(backend)
    report = t.check()
    found = kinds(report)
    for rel, (_, kind) in {**garbage, **damage_kept}.items():
        assert (kind, rel) in found, (kind, rel, found)
    assert ("artifact-size", art) in found
    assert ("artifact-missing", missing) in found
    assert ("orphan-artifact", stray_copy) in found
    by_path = {p.path: p for p in report.problems}
    assert not by_path[stray_copy].repairable  # young: could be a copy in progress
    assert all(by_path[rel].repairable for rel in garbage)
    assert not any(by_path[rel].repairable for rel in damage_kept if rel in by_path)

    # repair removes exactly the garbage (the stray copy too once it is past the grace period)
    fixed = check(t._store, repair=True, grace=0)
    removed = {p.path for p in fixed.repaired}
    assert removed == {*garbage, stray_copy}
    after = snapshot_files(backend)
    gone = set(before) - set(after)
    assert gone == {*garbage, f"{stray_copy}/weights.bin"}
    assert all(after[f] == before[f] for f in after)  # nothing else touched, byte for byte
    assert not set(after) - set(before)
    assert sorted(p.kind for p in fixed.problems) == sorted(
        [k for _, k in damage_kept.values()] + ["artifact-size", "artifact-missing"]
    )
    assert not os.path.exists("/tmp/pwned")
    # what is left is reported again, and nothing more is repaired
    again = t.check(repair=True)
    assert kinds(again) == kinds(fixed) and again.repaired == []


def test_a_damaged_manifest_protects_its_copies(backend, tmp_path):
    """Copies of an artifact whose manifest is damaged are data fsck cannot vouch for: reported
    through the manifest, never removed as unreferenced garbage."""
    t, info = populated(backend, tmp_path)
    manifest = f"{V}/manifests/weights.yaml"
    copy = f"{V}/artifacts/weights/{info['manifest']['token']}/weights.bin"
    for damage in (b"{{{ not yaml", b"id: weights\ntoken: ../../x\nfiles: []\n"):
        writer(backend)(manifest, damage)
        report = check(t._store, repair=True, grace=0)
        assert kinds(report) == [
            ("unparsable" if damage.startswith(b"{") else "bad-manifest", manifest)
        ]
        assert report.repaired == [] and backend.read(copy) == b"w" * 100


def test_checksum_damage_needs_verify_and_is_never_repaired(backend, tmp_path):
    t, info = populated(backend, tmp_path)
    art = f"{V}/artifacts/weights/{info['manifest']['token']}/weights.bin"
    backend.write(art, b"x" + b"w" * 99)  # same size, other bytes
    assert t.check(verify=False).ok
    report = t.check(repair=True)
    assert kinds(report) == [("artifact-checksum", art)]
    assert report.repaired == [] and backend.read(art) == b"x" + b"w" * 99


def test_temp_files_repairable_only_when_their_writer_is_gone(backend, tmp_path):
    t, _ = populated(backend, tmp_path)
    dead = f"{V}/tags/.tmp-{DEAD_PID}-0-stage.yaml"
    mine = f"{V}/tags/.tmp-{os.getpid()}-0-stage.yaml"
    backend.write(dead, b"key: stage\nval")
    backend.write(mine, b"key: stage\nval")
    report = t.check()
    by_path = {p.path: p for p in report.problems}
    assert {p.kind for p in report.problems} == {"temp-file"} and set(by_path) == {dead, mine}
    # a pid proves a dead writer only on a local disk; elsewhere only the grace period does
    assert by_path[dead].repairable == (backend.name == "local")
    assert not by_path[mine].repairable  # a live writer (this process): never removed
    fixed = t.check(repair=True)
    assert {p.path for p in fixed.repaired} == ({dead} if backend.name == "local" else set())
    assert mine in backend.files() and t.get_tag("model_version/m@1", "stage") == "prod"
    # past the grace period every temp file is garbage
    assert {p.path for p in check(t._store, repair=True, grace=0).repaired} >= {mine}
    assert t.check().ok


def test_old_temp_files_and_copies_are_garbage_after_the_default_grace(tmp_path):
    root = tmp_path / "store"
    t = Tracker(str(root), git=False)
    t.create_resource("m", type="model_version")
    t.stop()
    tmp = root / V / f".tmp-{os.getpid()}-9-x.yaml"
    tmp.write_bytes(b"half")
    copy = root / V / "artifacts" / "a" / "20200101T000000-00000000"
    copy.mkdir(parents=True)
    (copy / "f").write_bytes(b"old")
    hour_ago = time.time() - 3700
    for p in (tmp, copy / "f"):
        os.utime(p, (hour_ago, hour_ago))
    report = t.check(repair=True)
    assert {p.kind for p in report.repaired} == {"temp-file", "orphan-artifact"}
    assert report.ok and not tmp.exists() and not copy.exists()


def test_symlinks_are_reported_and_never_followed_or_removed(tmp_path):
    t, info = populated(_Local(tmp_path), tmp_path)
    root = tmp_path / "store"
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "a.txt").write_text("a")
    sub = root / V / "artifacts" / "folder" / info["folder"]["token"] / "sub"
    (sub / "a.txt").unlink()
    sub.rmdir()
    sub.symlink_to(outside)  # a directory link: walks do not enter it
    link = root / V / "tags" / "linked.yaml"
    link.symlink_to(outside / "a.txt")
    report = t.check(repair=True)
    found = kinds(report)
    assert ("symlink", str(sub.relative_to(root))) in found
    assert ("symlink", str(link.relative_to(root))) in found
    assert report.repaired == [] and sub.is_symlink() and link.is_symlink()
    assert (outside / "a.txt").read_text() == "a"


def test_empty_version_directory_left_by_a_killed_creator(tmp_path):
    root = tmp_path / "store"
    t = Tracker(str(root), git=False)
    t.create_resource("m", type="model_version")
    t.stop()
    (root / "resources/model_version/m/HEAD").unlink()  # killed before the hint was written
    vdir = root / "resources/model_version/m/2"
    vdir.mkdir()
    (vdir / f".tmp-{DEAD_PID}-0-resource.yaml").write_bytes(b"type: model_")
    report = check(t._store, repair=True, grace=0)
    assert sorted(p.kind for p in report.repaired) == ["orphan-version", "temp-file"]
    assert report.ok and not vdir.exists()
    assert Tracker(str(root), git=False).get_resource("m", "model_version").version == 1


def test_empty_version_directory_does_not_hide_the_latest_version(tmp_path):
    """Without fsck: a crash-left version directory must not be taken for the newest version."""
    root = tmp_path / "store"
    t = Tracker(str(root), git=False)
    t.create_resource("m", type="model_version")
    t.stop()
    (root / "resources/model_version/m/HEAD").unlink()
    (root / "resources/model_version/m/2").mkdir()
    (root / "resources/model_version/m/2" / f".tmp-{DEAD_PID}-0-resource.yaml").write_bytes(b"x")
    t2 = Tracker(str(root), git=False)
    assert t2.get_resource("m", "model_version").version == 1
    assert [r.ref for r in t2.find(type="model_version")] == ["model_version/m@1"]
    assert [s["latest_version"] for s in t2.series()] == [1]


def test_a_pointer_whose_target_appears_meanwhile_is_not_dangling(tmp_path, monkeypatch):
    """fsck lists first and looks later: a target written after the listing (before its pointer,
    as writers always do) is looked up again instead of being taken for damage."""
    root = tmp_path / "store"
    t = Tracker(str(root), git=False)
    mv = t.create_resource("m", type="model_version")
    store = t._store
    real_walk = store.walk

    def walk_then_write(path: str, include_temp: bool = False) -> Any:
        listing = real_walk(path, include_temp)
        t.create_resource("late", type="experiment", parent=mv)  # target, then pointers
        listing[f"{V}/children/experiment/late@1"] = listing[f"{V}/resource.yaml"]
        return listing

    monkeypatch.setattr(store, "walk", walk_then_write)
    report = check(store, repair=True, grace=0)
    assert not [p for p in report.problems + report.repaired if p.kind == "dangling-pointer"]
    monkeypatch.undo()
    assert t.describe(mv)["children"] == ["experiment/late@1"]
    t.stop()


# -- the command line ----------------------------------------------------------------------------
class _Local:
    """A stand-in for the ``backend`` fixture on a local root (for tests of local-only things)."""

    name = "local"

    def __init__(self, tmp_path: Any) -> None:
        self.root = str(tmp_path / "store")

    def make(self, **kwargs: Any) -> Tracker:
        return Tracker(self.root, git=False, **kwargs)


def fsck(capsys: pytest.CaptureFixture[str], root: str, *args: str) -> tuple[int, str, str]:
    code = main(["fsck", "--root", root, *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_exit_codes_text_and_json(tmp_path, capsys):
    _, info = populated(_Local(tmp_path), tmp_path)
    root = str(tmp_path / "store")
    code, out, err = fsck(capsys, root)
    assert (code, err) == (0, "") and "ok: no problems" in out and root in out

    (tmp_path / "store" / V / "tags" / "broken.yaml").write_bytes(b"{{{")
    (tmp_path / "store" / V / "tags" / f".tmp-{DEAD_PID}-1-x.yaml").write_bytes(b"")
    art = tmp_path / "store" / V / "artifacts" / "weights" / info["manifest"]["token"]
    (art / "weights.bin").write_bytes(b"v" * 100)

    code, out, _ = fsck(capsys, root)
    assert code == 1
    assert "unparsable" in out and f"{V}/tags/broken.yaml" in out
    assert "temp-file" in out and f".tmp-{DEAD_PID}-1-x.yaml" in out and "[repairable]" in out
    assert "artifact-checksum" in out and "--repair" in out

    code, out, _ = fsck(capsys, root, "--no-verify", "--json")
    doc = json.loads(out)
    assert code == 1 and doc["ok"] is False and doc["root"] == root
    assert {p["kind"] for p in doc["problems"]} == {"unparsable", "temp-file"}
    assert all(set(p) == {"path", "kind", "detail", "repairable"} for p in doc["problems"])

    code, out, _ = fsck(capsys, root, "--repair", "--json")
    doc = json.loads(out)
    assert code == 1  # the broken key file and the changed artifact are not garbage
    assert [p["kind"] for p in doc["repaired"]] == ["temp-file"]
    assert sorted(p["kind"] for p in doc["problems"]) == ["artifact-checksum", "unparsable"]
    assert (tmp_path / "store" / V / "tags" / "broken.yaml").exists()

    (tmp_path / "store" / V / "tags" / "broken.yaml").unlink()
    (art / "weights.bin").write_bytes(b"w" * 100)
    code, out, _ = fsck(capsys, root, "--repair")
    assert code == 0 and "ok: no problems" in out


def test_cli_repair_of_garbage_only_exits_zero_and_says_what_it_removed(tmp_path, capsys):
    populated(_Local(tmp_path), tmp_path)
    root = str(tmp_path / "store")
    (tmp_path / "store" / "resources/model_version/m/HEAD").write_bytes(b"x")
    code, out, _ = fsck(capsys, root, "--repair")
    assert code == 0
    assert "repaired (1):" in out and "bad-hint" in out and "resources/model_version/m/HEAD" in out


def test_cli_usage_errors(tmp_path, capsys):
    code, _, err = fsck(capsys, str(tmp_path / "nothing"))
    assert code == 1 and "no tracker store" in err
    assert main(["fsck", "--grace", "-1"]) == 2
    assert main(["fsck", "--grace", "soon"]) == 2
    capsys.readouterr()


def test_fsck_reads_nothing_it_should_not(tmp_path):
    """A 1 GB key file and an alias bomb are reported without being read or expanded."""
    t, _ = populated(_Local(tmp_path), tmp_path)
    big = tmp_path / "store" / V / "tags" / "huge.yaml"
    with open(big, "wb") as fh:
        fh.truncate(1 << 30)
    bomb = b"key: b\nvalue: &a [" + b",".join([b"x"] * 10) + b"]\n"
    prev = "a"
    for i in range(9):
        bomb += f"l{i}: &l{i} [{','.join(['*' + prev] * 10)}]\n".encode()
        prev = f"l{i}"
    (tmp_path / "store" / V / "tags" / "b.yaml").write_bytes(bomb)
    start = time.monotonic()
    report = t.check()
    assert time.monotonic() - start < 5
    assert kinds(report) == [
        ("unparsable", f"{V}/tags/b.yaml"),
        ("unparsable", f"{V}/tags/huge.yaml"),
    ]
