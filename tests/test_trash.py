"""Deletion into the trash, restore and gc: the API on every backend (local, memory, S3), the
store beneath it, fsck on every half-done state, and a deleter SIGKILLed mid-move."""

from __future__ import annotations

import datetime as _dt
import os
import re
import signal
import subprocess
import sys
import time
from typing import Any

import pytest
import yaml

from tracker import Tracker
from tracker.core.trash import Trash, parse_duration
from tracker.errors import (
    DeletionConflict,
    FieldWarning,
    InvalidDuration,
    InvalidRef,
    ResourceNotFound,
)
from tracker.store import paths

MV2 = "resources/model_version/m/2"


def build(backend: Any) -> tuple[Tracker, dict[str, Any]]:
    """d@1 -> m@1 (DEPLOYED), m@2 (DEPLOYED, trained on d@1, parent d@1) -> a job and an
    experiment under m@2, an artifact on m@2; every run ended."""
    t = backend.make()
    dv = t.create_resource("d", type="dataset_version")
    m1 = t.create_resource("m", type="model_version")
    t.log_tag(m1, "status", "DEPLOYED")
    m2 = t.create_resource("m", type="model_version", parent=dv)
    t.log_tag(m2, "status", "DEPLOYED")
    t.log_metadata(m2, "metrics", {"f1": 0.9})
    t.build_model_lineage(m2, [dv])
    job = t.create_resource(None, type="prediction_job", parent=m2)
    t.create_resource("x", type="experiment", parent=m2)
    t.log_metadata(m2, "winning_experiment_id", "x")
    t.stop()
    return backend.make(), {"dv": dv, "m1": m1, "m2": m2, "job": job}


def tree(backend: Any, prefix: str = "") -> dict[str, bytes]:
    fs, base = backend.fs, backend.base
    out = {}
    for p in fs.find(f"{base}/{prefix}".rstrip("/")):
        rel = str(p)[len(base) + 1 :]
        out[rel] = bytes(fs.cat_file(p))
    return out


def _derived(path: str) -> bool:
    """A query-index chunk or a change-log file (tracker.core.index, tracker.core.changes)."""
    parts = path.split("/")
    return re.fullmatch(r"index-\d+\.json", parts[-1]) is not None or "changes" in parts[-2:-1]


def live_files(backend: Any) -> dict[str, bytes]:
    """Every file outside the trash, runs and caches: what a restore must give back."""
    return {
        k: v
        for k, v in tree(backend, "resources").items()
        if not k.endswith(("index.json", "HEAD")) and not _derived(k)
    }


def test_a_deleted_version_is_invisible_and_its_number_stays_taken(backend):
    t, r = build(backend)
    before = live_files(backend)
    entry = t.delete_resource("model_version/m@2")
    assert entry["ref"] == "model_version/m@2" and entry["state"] == "deleted"
    assert entry["run_id"] == t.run_id and entry["files"] >= 8
    # reads
    assert t.get_resource("m", type="model_version").ref == "model_version/m@1"
    with pytest.raises(ResourceNotFound, match=r"was deleted.*tracker restore"):
        t.get_resource("m", type="model_version", version=2)
    with pytest.raises(ResourceNotFound):
        t.describe("model_version/m@2")
    assert t.is_deleted("model_version/m@2") and not t.is_deleted("model_version/m@1")
    # find, with and without the items (and so with and without the query index)
    assert [x.ref for x in t.find(type="model_version")] == ["model_version/m@1"]
    hits = t.find(where="tags.status = 'DEPLOYED'")
    assert [x.ref for x in hits] == ["model_version/m@1"]
    assert [s["latest_ref"] for s in t.series("model_version")] == ["model_version/m@1"]
    # lifecycle lookups
    model = t.get_resource("m", type="model")
    assert t.get_currently_deployed_model_version(model) == "model_version/m@1"
    assert t.get_prev_resource_version("model_version/m", filters={"status": "DEPLOYED"}) is None
    assert t.get_prediction_job_model_version(r["job"]) is None
    assert t.lineage(r["job"], "up")["links"] == []  # its deleted parent is left out
    assert t.lineage(r["dv"], "down")["links"] == []  # pointers to m@2 moved with it
    # on the store: a tombstone keeps the claim; the rest moved into the trash, pointers too
    files = backend.files()
    tomb = yaml.safe_load(backend.read(f"{MV2}/resource.yaml"))
    assert tomb["deleted"]["trash"] == entry["id"] and tomb["version"] == 2
    assert [f for f in files if f.startswith(MV2 + "/")] == [f"{MV2}/resource.yaml"]
    moved = {f.split("/files/", 1)[1] for f in files if f.startswith(f"trash/{entry['id']}/files/")}
    assert f"{MV2}/tags/status.yaml" in moved
    assert "resources/dataset_version/d/1/used_by/model_version/m@2" in moved
    assert "resources/dataset_version/d/1/children/model_version/m@2" in moved
    assert "trash/claims/model_version/m@2" in files
    # never reused: the next version is 3
    assert t.create_resource("m", type="model_version").version == 3
    t.stop()
    assert [e["ref"] for e in t.trash()] == ["model_version/m@2"]
    # restore gives every byte back
    t2 = backend.make()
    assert t2.restore_resource("model_version/m@2") == "model_version/m@2"
    after = {k: v for k, v in live_files(backend).items() if "/m/3/" not in k}
    assert after == before
    assert t2.trash() == [] and not any(f.startswith("trash/") for f in backend.files())
    assert t2.get_tag("model_version/m@2", "status") == "DEPLOYED"
    assert t2.get_prediction_job_model_version(r["job"]) == "model_version/m@2"
    assert t2.get_winning_experiment("model_version/m@2") == "experiment/x@1"
    assert t2.check(grace=0).ok
    t2.stop()


def test_runs_are_deleted_alone_or_with_their_versions(backend):
    t, r = build(backend)
    run_id = r["m2"].run_id
    only = t.delete_run(run_id)
    assert [e["kind"] for e in only] == ["run"]
    assert run_id not in [x["id"] for x in t.runs()]
    assert t.get_resource("m", type="model_version") == "model_version/m@2"  # versions stay
    assert not any(f.startswith(f"runs/{run_id}/") for f in backend.files())
    with pytest.raises(ResourceNotFound):
        t.delete_run(run_id)
    t.restore(run_id)
    assert run_id in [x["id"] for x in t.runs()]
    group = t.delete_run(run_id, with_versions=True)
    assert sorted(e["ref"] for e in group if e["kind"] == "version") == sorted(
        [str(x) for x in (r["dv"], r["m1"], r["m2"], r["job"])] + ["experiment/x@1"]
    )
    assert len({e["group"] for e in group}) == 1
    assert t.find() == []
    restored = t.restore_run(run_id)
    assert len(restored) == len(group) and restored[0]["kind"] == "run"
    assert len(t.find()) == 5 and t.trash() == []
    assert t.check(grace=0).ok
    # a version restored while its run is in the trash: its run pointer waits with the run
    t.delete_resource(r["m1"])
    t.delete_run(run_id)
    t.restore_resource(r["m1"])
    assert not any(f.startswith(f"runs/{run_id}/") for f in backend.files())
    assert t.check(grace=0).ok
    t.restore(run_id)
    assert str(r["m1"]) in t.run(run_id)["created"]
    t.stop()


def test_gc_empties_only_old_entries_and_the_version_stays_deleted(backend):
    t, _ = build(backend)
    old = t.delete_resource("model_version/m@1")
    new = t.delete_resource("experiment/x@1")
    # age the first entry by hand (entries are plain YAML)
    where = paths.trash_entry(old["id"])
    doc = yaml.safe_load(backend.read(where))
    doc["deleted_at"] = doc["deleted_at"] - _dt.timedelta(days=31)
    backend.write(where, yaml.safe_dump(doc).encode())
    assert [e["ref"] for e in t.gc("30d")] == ["model_version/m@1"]
    assert [e["id"] for e in t.trash()] == [new["id"]]
    assert not any(f.startswith(f"trash/{old['id']}") for f in backend.files())
    assert "trash/claims/model_version/m@1" not in backend.files()
    assert t.is_deleted("model_version/m@1")  # the tombstone stays: number 1 is never reused
    with pytest.raises(DeletionConflict, match="emptied from the trash"):
        t.restore("model_version/m@1")
    assert [e["ref"] for e in t.gc(0)] == ["experiment/x@1"] and t.trash() == []
    assert t.check(grace=0).ok
    t.stop()


def test_bad_requests_are_refused_before_any_write(backend):
    t, _r = build(backend)
    before = tree(backend)
    with pytest.raises(InvalidRef, match="names a series"):
        t.delete_resource("model_version/m")
    with pytest.raises(ResourceNotFound, match="no resource model_version/m@9"):
        t.delete_resource("model_version/m@9")
    with pytest.raises(ResourceNotFound, match="no run"):
        t.delete_run("20990101T000000Z-000000")
    with pytest.raises(DeletionConflict, match="is not deleted"):
        t.restore("model_version/m@1")
    with pytest.raises(ResourceNotFound, match="neither a deleted run nor a trash id"):
        t.restore("nothing-like-this")
    with pytest.raises(InvalidDuration, match="30d"):
        t.gc("a month")
    assert tree(backend) == before  # not even a run was started
    assert t.delete_resource("model/m@1")["ref"] == "model_version/m@1"  # model/X@N works
    with pytest.raises(ResourceNotFound, match="was deleted"):
        t.delete_resource("model_version/m@1")
    live = backend.make()
    live.create_resource("z", type="dataset_version")
    with pytest.raises(DeletionConflict, match="still running"):
        t.delete_run(live.run_id)
    live.stop()
    t.stop()


def test_parse_duration():
    assert parse_duration("30d") == 30 * 86400
    assert parse_duration("12h") == 43200 and parse_duration("90m") == 5400
    assert parse_duration("45s") == 45 and parse_duration("1.5h") == 5400
    assert parse_duration(0) == 0 and parse_duration("10") == 10
    for bad in ("-1d", "3x", "", "d", -5, True):
        with pytest.raises(InvalidDuration):
            parse_duration(bad)  # type: ignore[arg-type]


def test_two_deleters_of_one_version_one_wins(backend):
    t, _ = build(backend)
    trash = Trash(t._store, t._resources)
    backend.write("trash/claims/model_version/m@1", b"someone-else")
    with pytest.raises(DeletionConflict, match="being deleted by another process"):
        trash.delete_version(t.get_resource("m", type="model_version", version=1), "run")
    assert not t.is_deleted("model_version/m@1")
    assert [f for f in backend.files() if f.startswith("trash/")] == [
        "trash/claims/model_version/m@1"
    ]
    report = t.check(grace=0)
    assert [(p.kind, p.path) for p in report.problems] == [
        ("trash-claim", "trash/claims/model_version/m@1")
    ]
    t.check(repair=True, grace=0)
    assert t.check(grace=0).ok and t.delete_resource("model_version/m@1")["state"] == "deleted"
    t.stop()


# -- fsck: every half-done state reads consistently and is finished or rolled back -----------------
def _half_delete(t: Tracker, ref: str, moves: int, tombstone: bool = True) -> dict[str, Any]:
    """What a deleter killed after ``moves`` file moves leaves (``tombstone=False``: killed
    after its claim, before its tombstone)."""
    trash = Trash(t._store, t._resources)
    real_move = t._store.move
    count = {"n": 0}

    class Killed(Exception):
        pass

    def move(src: str, dst: str) -> bool:
        if count["n"] >= moves:
            raise Killed
        count["n"] += 1
        return real_move(src, dst)

    real_write = t._store.write

    def write(path: str, data: bytes) -> Any:
        if not tombstone and path.endswith("resource.yaml"):
            raise Killed
        return real_write(path, data)

    t._store.move = move  # type: ignore[method-assign]
    t._store.write = write  # type: ignore[method-assign]
    try:
        with pytest.raises(Killed):
            trash.delete_version(t._resolver.resolve(ref), "run")
    finally:
        t._store.move = real_move  # type: ignore[method-assign]
        t._store.write = real_write  # type: ignore[method-assign]
    return trash.entries()[0]


def test_fsck_finishes_a_deletion_cut_after_its_tombstone(backend):
    t, _ = build(backend)
    before = live_files(backend)
    entry = _half_delete(t, "model_version/m@2", moves=3)
    assert entry["state"] == "deleting"
    # consistent meanwhile: invisible everywhere although most files are still in place
    assert t.get_resource("m", type="model_version") == "model_version/m@1"
    assert [x.ref for x in t.find(where="tags.status = 'DEPLOYED'")] == ["model_version/m@1"]
    kinds = {p.kind for p in t.check(grace=0).problems}
    assert kinds == {"trash-incomplete", "deleted-leftover"}
    with pytest.raises(DeletionConflict, match="fsck --repair"):
        t.restore("model_version/m@2")
    report = t.check(repair=True, grace=0)
    assert report.ok and {p.kind for p in report.repaired} >= {"trash-incomplete"}
    assert t.check(grace=0).ok
    assert [e["state"] for e in t.trash()] == ["deleted"]
    assert [f for f in backend.files() if f.startswith(MV2 + "/")] == [f"{MV2}/resource.yaml"]
    t.restore("model_version/m@2")
    assert live_files(backend) == before
    t.stop()


def test_fsck_rolls_back_a_deletion_cut_before_its_tombstone(backend):
    t, _ = build(backend)
    before = live_files(backend)
    entry = _half_delete(t, "model_version/m@2", moves=0, tombstone=False)
    assert entry["state"] == "deleting"
    assert t.get_resource("m", type="model_version") == "model_version/m@2"  # still live
    assert [p.kind for p in t.check(grace=0).problems] == ["trash-incomplete"]
    assert not t.check(grace=3600).problems[0].repairable  # young: perhaps at work right now
    t.check(repair=True, grace=0)
    assert t.check(grace=0).ok and t.trash() == []
    assert not any(f.startswith("trash/") for f in backend.files())
    assert live_files(backend) == before
    t.stop()


def test_fsck_moves_a_late_write_into_the_trash_entry(backend):
    t, _r = build(backend)
    holder = backend.make()
    m2 = holder.get_resource("m", type="model_version", version=2)  # held before the deletion
    entry = t.delete_resource("model_version/m@2")
    holder.log_tag(m2, "late", "yes")  # lands in the deleted version's directory
    with pytest.raises(ResourceNotFound, match="was deleted"):
        holder.describe(m2)  # its identity was in the holder's memory: read afresh
    holder.stop()
    with pytest.warns(FieldWarning, match="tags.late"):  # no live version has it
        assert t.find(where="tags.late = 'yes'") == []
    problems = t.check(grace=0).problems
    assert [(p.kind, p.path, p.repairable) for p in problems] == [
        ("deleted-leftover", f"{MV2}/tags/late.yaml", True)
    ]
    t.check(repair=True, grace=0)
    assert t.check(grace=0).ok
    assert f"trash/{entry['id']}/files/{MV2}/tags/late.yaml" in backend.files()
    t.restore("model_version/m@2")
    assert t.get_tags("model_version/m@2") == {"status": "DEPLOYED", "late": "yes"}
    t.stop()


def test_fsck_finishes_a_restore_and_a_gc_cut_short(backend):
    t, _ = build(backend)
    entry = t.delete_resource("model_version/m@2")
    trash = Trash(t._store, t._resources)
    doc = trash.entry(entry["id"])
    assert doc is not None
    doc["state"] = "restoring"  # killed right after marking the entry
    trash._save(doc)
    assert t.get_resource("m", type="model_version") == "model_version/m@1"
    assert [p.kind for p in t.check(grace=0).problems] == ["trash-incomplete"]
    t.check(repair=True, grace=0)
    assert t.get_resource("m", type="model_version") == "model_version/m@2" and t.trash() == []
    entry = t.delete_resource("model_version/m@2")
    doc = trash.entry(entry["id"])
    assert doc is not None
    doc["state"] = "purging"
    trash._save(doc)
    t._store.remove(paths.trash_files(entry["id"]), recursive=True)  # killed mid-purge
    t.check(repair=True, grace=0)
    assert t.check(grace=0).ok and t.trash() == [] and t.is_deleted("model_version/m@2")
    t.stop()


def test_the_query_index_never_serves_a_deleted_version(tmp_path):
    root = tmp_path / "s"
    t = Tracker(str(root), git=False)
    for _i in range(4):
        t.log_tag(t.create_resource("m", type="model_version"), "status", "DEPLOYED")
    t.stop()
    past = time.time() - 10
    for dirpath, _, _files in os.walk(root):
        os.utime(dirpath, (past, past))
    t = Tracker(str(root), git=False)
    assert len(t.find(where="tags.status = 'DEPLOYED'")) == 4
    assert (root / "resources/model_version/m/index-0.json").exists()
    # only the tombstone: the index entry of version 3 still matches its tag directories
    trash = Trash(t._store, t._resources)
    real_move = t._store.move
    t._store.move = lambda src, dst: (_ for _ in ()).throw(KeyboardInterrupt)  # type: ignore
    with pytest.raises(KeyboardInterrupt):
        trash.delete_version(t.get_resource("m", type="model_version", version=3), "r")
    t._store.move = real_move  # type: ignore[method-assign]
    fresh = Tracker(str(root), git=False)
    assert [x.version for x in fresh.find(where="tags.status = 'DEPLOYED'")] == [1, 2, 4]
    assert [x.version for x in fresh.find(where="tags.status = 'DEPLOYED'")] == [1, 2, 4]


# -- a real deleter, SIGKILLed in the middle of its moves ------------------------------------------
SLOW_DELETER = """
import sys, time
from tracker import Tracker
from tracker.store.local import LocalStore
real = LocalStore.move
def slow(self, src, dst):
    time.sleep(0.02)
    return real(self, src, dst)
LocalStore.move = slow
Tracker(sys.argv[1], git=False).delete_resource("model_version/big@1")
"""


def test_a_deleter_killed_mid_move_leaves_a_store_fsck_completes(tmp_path):
    root = str(tmp_path / "s")
    t = Tracker(root, git=False)
    big = t.create_resource("big", type="model_version")
    t.log_tags(big, {f"k{i}": i for i in range(200)})
    t.stop()
    before = {k: v for k, v in _local_tree(root).items() if k.startswith("resources/")}
    env = {**os.environ, "PYTHONPATH": os.path.dirname(os.path.dirname(os.path.abspath(__file__)))}
    proc = subprocess.Popen([sys.executable, "-c", SLOW_DELETER, root], env=env)
    deadline = time.time() + 30
    while time.time() < deadline:  # kill once the tombstone is there and some files moved
        moved = [k for k in _local_tree(root) if "/files/resources/" in k]
        if len(moved) >= 20:
            break
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    remaining = [k for k in _local_tree(root) if k.startswith("resources/model_version/big/1/tags")]
    assert 0 < len(remaining) < 200, "the kill did not land mid-move"
    t = Tracker(root, git=False)
    with pytest.raises(ResourceNotFound, match="was deleted"):
        t.get_resource("big", type="model_version", version=1)
    with pytest.raises(ResourceNotFound):
        t.get_resource("big", type="model_version")
    assert t.find(type="model_version") == []
    with pytest.warns(FieldWarning, match="tags.k1"):  # the 200 tags left are invisible
        assert t.find(where="tags.k1 = 1") == []
    report = t.check(grace=0)
    assert {p.kind for p in report.problems} == {"trash-incomplete", "deleted-leftover"}
    t.check(repair=True, grace=0)
    assert t.check(grace=0).ok
    assert [e["state"] for e in t.trash()] == ["deleted"]
    t.restore("model_version/big@1")
    after = {k: v for k, v in _local_tree(root).items() if k.startswith("resources/")}
    assert after == before
    assert t.get_tags("model_version/big@1") == {f"k{i}": i for i in range(200)}
    t.stop()


def _local_tree(root: str) -> dict[str, bytes]:
    out = {}
    for dirpath, _, files in os.walk(root):
        for name in files:
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, root).replace(os.sep, "/")
            if name.startswith(".tmp-") or rel.endswith(("index.json", "HEAD")) or _derived(rel):
                continue
            try:
                with open(full, "rb") as fh:
                    out[rel] = fh.read()
            except FileNotFoundError:
                continue
    return out


# -- the command line, through the installed entry point, locally and on S3 ------------------------
def _cli_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return {**os.environ, "PYTHONPATH": here, **(extra or {})}


def _tracker(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    import shutil

    exe = shutil.which("tracker")
    assert exe, "the `tracker` entry point is not installed (pip install -e .)"
    out = subprocess.run([exe, *args], capture_output=True, text=True, env=env, timeout=120)
    return out.returncode, out.stdout, out.stderr


@pytest.fixture(params=["local", "s3"])
def cli_store(request: pytest.FixtureRequest, tmp_path: Any) -> tuple[str, dict[str, str]]:
    if request.param == "local":
        return str(tmp_path / "store"), _cli_env()
    backend = request.getfixturevalue("s3_backend")
    endpoint = backend.storage_options["endpoint_url"]
    return backend.root, _cli_env({"AWS_ENDPOINT_URL_S3": endpoint})


def test_cli_rm_trash_restore_gc(cli_store):
    import json

    root, env = cli_store
    code, _, err = _tracker(env, "demo", "--root", root)
    assert code == 0, err
    # bad refs are refused on one line, before anything is deleted, and start no run
    for args, expected in [
        (["rm", "model_version/titanic"], "names a series"),
        (["rm", "model_version/titanic@2", "model_version/titanic@9"], "no resource"),
        (["rm", "nosuchrun"], "no run"),
        (["restore", "model_version/titanic@2"], "is not deleted"),
        (["gc", "--older-than", "soon"], "not a duration"),
    ]:
        code, out, err = _tracker(env, "--root", root, *args)
        assert code == 1 and err.startswith("tracker: error:") and len(err.splitlines()) == 1, err
        assert expected in err and "Traceback" not in err
    code, out, _ = _tracker(env, "--root", root, "runs", "--json")
    assert len(json.loads(out)) == 3
    code, _, err = _tracker(env, "--root", root, "show", "model_version/titanic@2")
    assert code == 0, err

    code, out, err = _tracker(env, "--root", root, "rm", "model_version/titanic@2", "--json")
    assert code == 0, err
    [entry] = json.loads(out)
    assert entry["ref"] == "model_version/titanic@2" and entry["state"] == "deleted"
    code, out, err = _tracker(env, "--root", root, "show", "model_version/titanic@2")
    assert code == 1 and "was deleted" in err
    code, out, _ = _tracker(env, "--root", root, "show", "model_version/titanic", "--json")
    assert json.loads(out)["ref"] == "model_version/titanic@1"
    code, out, _ = _tracker(env, "--root", root, "find", "--where", "tags.status = 'DEPLOYED'")
    assert "titanic@2" not in out
    code, out, _ = _tracker(env, "--root", root, "trash", "--json")
    assert [e["ref"] for e in json.loads(out)] == ["model_version/titanic@2"]
    code, out, _ = _tracker(env, "--root", root, "trash")
    assert "model_version/titanic@2" in out and "deleted" in out
    code, out, _ = _tracker(env, "--root", root, "runs", "--json")
    runs = json.loads(out)
    rm_run = [r for r in runs if r["name"] == "tracker rm"]
    assert len(rm_run) == 1 and rm_run[0]["id"] == entry["run_id"]
    assert rm_run[0]["status"] == "FINISHED"

    code, out, err = _tracker(env, "--root", root, "restore", "model_version/titanic@2")
    assert code == 0 and "restored version model_version/titanic@2" in out, err
    code, out, _ = _tracker(env, "--root", root, "show", "model_version/titanic", "--json")
    assert json.loads(out)["ref"] == "model_version/titanic@2"

    # a run with the versions it created, then gc empties the trash
    first_run = sorted(r["id"] for r in runs if r["name"].startswith("demo"))[0]
    code, out, err = _tracker(env, "--root", root, "rm", first_run, "--with-versions", "--json")
    assert code == 0, err
    group = json.loads(out)
    assert group[-1]["kind"] == "run" and any(e["kind"] == "version" for e in group)
    code, out, _ = _tracker(env, "--root", root, "gc", "--older-than", "1d", "--json")
    assert json.loads(out) == []  # nothing that old
    code, out, err = _tracker(env, "--root", root, "gc", "--older-than", "0s", "--json")
    assert code == 0 and len(json.loads(out)) == len(group), err
    code, out, _ = _tracker(env, "--root", root, "trash", "--json")
    assert json.loads(out) == []
    code, out, err = _tracker(env, "--root", root, "restore", first_run)
    assert code == 1 and "neither a deleted run" in err
    code, out, err = _tracker(env, "--root", root, "fsck", "--grace", "0")
    assert code == 0, out + err
    code, out, _ = _tracker(env, "--root", root, "runs", "--json")
    names = sorted(r["name"] for r in json.loads(out))
    assert names.count("tracker gc") == 2 and "tracker restore" in names
    assert first_run not in out


RACER = """
import json, os, sys, time
from tracker import Tracker
from tracker.errors import TrackerError
root, start_at = sys.argv[1], float(sys.argv[2])
options = json.loads(os.environ.get("TRACKER_TEST_STORAGE_OPTIONS") or "{}") or None
t = Tracker(root, storage_options=options, git=False)
t.get_resource("m", type="model_version", version=1)  # connected and warm before the start
while time.time() < start_at:
    time.sleep(0.001)
try:
    t.delete_resource("model_version/m@1")
    print("deleted")
except TrackerError as exc:
    print(type(exc).__name__)
t.stop()
"""


@pytest.mark.parametrize("where", ["local", "s3"])
def test_concurrent_deleters_of_one_version_one_wins(where, tmp_path, request):
    import json

    if where == "local":
        root, options, env = str(tmp_path / "s"), None, _cli_env()
    else:
        backend = request.getfixturevalue("s3_backend")
        root, options = backend.root, backend.storage_options
        env = _cli_env({"TRACKER_TEST_STORAGE_OPTIONS": json.dumps(options)})
    t = Tracker(root, storage_options=options, git=False)
    m = t.create_resource("m", type="model_version")
    t.log_tags(m, {f"k{i}": i for i in range(20)})
    t.stop()
    start_at = time.time() + 4
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", RACER, root, str(start_at)],
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    outcomes = sorted(p.communicate(timeout=120)[0].strip() for p in procs)
    assert outcomes.count("deleted") == 1, outcomes
    assert set(outcomes) - {"deleted"} <= {"DeletionConflict", "ResourceNotFound"}, outcomes
    t = Tracker(root, storage_options=options, git=False)
    [entry] = t.trash()
    assert entry["ref"] == "model_version/m@1" and entry["state"] == "deleted"
    assert t.check(grace=0).ok
    t.restore("model_version/m@1")
    assert t.get_tags("model_version/m@1") == {f"k{i}": i for i in range(20)}
    t.stop()
