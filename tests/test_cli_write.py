"""``tracker tag/untag/meta/promote`` through the installed entry point, locally and on S3: what
they print, what lies in the store afterwards, the run each one records, and refusals that write
nothing. Plus ``Tracker.delete_tag`` against the snapshot and the query index."""

from __future__ import annotations

import datetime as _dt
import json
import os
from pathlib import Path

import pytest
import yaml
from clitools import cli, one_line_error, tracker_env

from tracker import ResourceNotFound, Tracker


def build(t: Tracker) -> None:
    for f1 in (0.8, 0.9):
        mv = t.create_resource("titanic", type="model_version")
        t.log_metadata(mv, "f1", f1)
    t.log_tag("model_version/titanic@1", "status", "DEPLOYED")
    t.stop()


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path):
    """(root, env, backend) of a store with model_version/titanic@1 (DEPLOYED) and @2."""
    if request.param == "local":
        root = str(tmp_path / "store")
        build(Tracker(root, git=False))
        return root, tracker_env(), None
    pytest.importorskip("s3fs")
    backend = request.getfixturevalue("s3_backend")
    build(backend.make())
    env = tracker_env(
        AWS_ENDPOINT_URL_S3=backend.storage_options["endpoint_url"],
        TRACKER_CACHE_DIR=str(tmp_path / "cache"),
    )
    return backend.root, env, backend


def reader(root: str, backend) -> Tracker:
    return backend.make() if backend is not None else Tracker(root, git=False)


def test_write_commands_change_the_store_and_each_is_a_run(store) -> None:
    root, env, backend = store
    code, out, err = cli("--root", root, "tag", "model/titanic", "stage=prod", "owner=ana", env=env)
    assert code == 0, err
    assert "model_version/titanic@2" in out and "stage=prod" in out
    code, out, err = cli(
        "--root",
        root,
        "meta",
        "model_version/titanic@2",
        "f1=0.91",
        "n=3",
        "ok=true",
        "day=2026-01-31",
        "label=1.10",
        "--json",
        env=env,
    )
    assert code == 0, err
    assert json.loads(out)["metadata"] == {
        "f1": 0.91,
        "n": 3,
        "ok": True,
        "day": "2026-01-31",
        "label": 1.1,
    }
    code, out, err = cli(
        "--root", root, "meta", "model_version/titanic@2", "label=1.10", "--string", env=env
    )
    assert code == 0, err
    code, out, err = cli("--root", root, "untag", "model_version/titanic@2", "stage", env=env)
    assert code == 0 and "removed: stage" in out, err
    code, out, err = cli("--root", root, "promote", "model/titanic", "--json", env=env)
    assert code == 0, err
    promoted = json.loads(out)
    assert promoted["ref"] == "model_version/titanic@2" and promoted["status"] == "DEPLOYED"
    assert promoted["before"] == ["model_version/titanic@1"]

    t = reader(root, backend)
    mv = "model_version/titanic@2"
    assert t.get_tags(mv) == {"owner": "ana", "status": "DEPLOYED"}
    assert t.get_metadata(mv, "f1") == 0.91 and t.get_metadata(mv, "ok") is True
    assert t.get_metadata(mv, "day") == _dt.date(2026, 1, 31)
    assert t.get_metadata(mv, "label") == "1.10"  # --string kept the text
    # on disk: the tag file is gone, the metadata file holds the typed value and its run
    if backend is None:
        vdir = Path(root, "resources", "model_version", "titanic", "2")
        assert not (vdir / "tags" / "stage.yaml").exists()
        doc = yaml.safe_load((vdir / "metadata" / "f1.yaml").read_text())
        assert doc["value"] == 0.91 and doc["run_id"]
    else:
        assert not any(f.endswith("/2/tags/stage.yaml") for f in backend.files())
    runs = t.runs()
    names = [r["name"] for r in runs]
    assert names[:5] == [
        "tracker promote",
        "tracker untag",
        "tracker meta",
        "tracker meta",
        "tracker tag",
    ]
    assert all(r["status"] == "FINISHED" for r in runs[:5])
    assert runs[0]["argv"][-3:] == ["promote", "model/titanic", "--json"]
    code, out, _ = cli("--root", root, "runs", "--where", "name = 'tracker promote'", env=env)
    assert code == 0 and "tracker promote" in out
    found = t.find(type="model_version", where="tags.status = 'DEPLOYED'", order_by="-version")
    assert [r.ref for r in found] == ["model_version/titanic@2", "model_version/titanic@1"]


def test_bad_refs_and_values_are_refused_on_one_line_and_write_nothing(store) -> None:
    root, env, backend = store
    before = len(reader(root, backend).runs())
    one_line_error(*cli("--root", root, "tag", "model_version/nope", "a=b", env=env), "nope")
    one_line_error(
        *cli("--root", root, "tag", "model_version/titanic@x", "a=b", env=env),
        "must be a number",
    )
    one_line_error(
        *cli("--root", root, "untag", "model_version/titanic@1", "missing", env=env),
        "no tag 'missing'",
    )
    one_line_error(
        *cli("--root", root, "meta", "model_version/titanic@1", "x=[1, 2]", env=env),
        "--string",
    )
    one_line_error(
        *cli("--root", root, "tag", "model_version/titanic@1", "novalue", env=env),
        "KEY=VALUE",
        "see tracker tag --help",
        exit_code=2,
    )
    one_line_error(*cli("--root", root, "promote", "model/titanic", "--status", " ", env=env))
    t = reader(root, backend)
    assert len(t.runs()) == before  # no run: nothing was written
    assert t.get_tags("model_version/titanic@1") == {"status": "DEPLOYED"}


def test_write_commands_never_create_a_store(tmp_path: Path) -> None:
    root = tmp_path / "typo"
    one_line_error(*cli("--root", str(root), "tag", "model/x", "a=b"), "no tracker store")
    assert not root.exists()


def test_delete_tag_is_seen_by_reads_the_snapshot_and_the_query_index(tmp_path: Path) -> None:
    root = tmp_path / "store"
    t = Tracker(str(root), git=False)
    mv = t.create_resource("m", type="model_version")
    t.log_tags(mv, {"status": "DEPLOYED", "stage": "prod"})
    t.stop()  # closes the version: snapshot.json holds both tags
    vdir = root / "resources" / "model_version" / "m" / "1"
    old = 1_000_000_000
    for sub in ("attrs", "tags", "metadata"):  # old enough for the index to keep an entry
        if (vdir / sub).exists():
            os.utime(vdir / sub, (old, old))
    reader = Tracker(str(root), git=False)
    assert [r.ref for r in reader.find(where="tags.stage = 'prod'")] == ["model_version/m@1"]
    data = (root / "resources" / "model_version" / "m" / "index-0.json").read_bytes()
    head = json.loads(data[: data.index(b"\n")])
    start, length = head["spans"]["1"]
    body = data[data.index(b"\n") + 1 :]
    entry = json.loads(body[start : start + length])
    assert entry["r"]["doc"]["tags"]["stage"] == "prod"  # the cached record

    writer = Tracker(str(root), git=False, run_name="cleanup")
    writer.delete_tag(mv, "stage")
    writer.stop()
    assert not (vdir / "tags" / "stage.yaml").exists()
    snapshot = json.loads((vdir / "snapshot.json").read_text())
    assert "tags/stage.yaml" not in snapshot["files"] and "tags/status.yaml" in snapshot["files"]
    fresh = Tracker(str(root), git=False)
    assert fresh.get_tag(mv, "stage") is None
    assert fresh.get_tags(mv) == {"status": "DEPLOYED"}
    assert "stage" not in fresh.describe(mv)["tags"]
    with pytest.warns(UserWarning, match="tags.stage"):
        assert fresh.find(where="tags.stage = 'prod'") == []
    assert [r.ref for r in reader.find(where="tags.status = 'DEPLOYED'")] == ["model_version/m@1"]
    assert fresh.runs()[0]["name"] == "cleanup"
    with pytest.raises(ResourceNotFound, match="no tag 'stage'"):
        fresh.delete_tag(mv, "stage")
