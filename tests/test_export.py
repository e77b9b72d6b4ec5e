"""Parquet export and SQL: incremental (a change after an export shows in the next), on a local
directory and on S3 (moto), through the API and the command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytest.importorskip("duckdb")
pytest.importorskip("pyarrow")

import pyarrow.parquet as pq

from tracker import Tracker
from tracker.errors import MissingDependency, TrackerError
from tracker.export import parquet as parquet_module
from tracker.export.parquet import ExportError

DEPLOYED = "select ref from versions where \"tags.status\" = 'DEPLOYED' order by version"


def fill(t: Tracker, n: int = 4) -> None:
    for i in range(n):
        r = t.create_resource("m", type="model_version")
        t.log_tag(r, "status", "DEPLOYED" if i % 2 else "STAGED")
        t.log_metadata(r, "f1", i / 10)
        t.log_metadata(r, "cfg", {"depth": i, "tags": ["a"]})
    t.stop()


def refs(results) -> list[str]:
    return [row["ref"] for row in results]


def parts(root: str, table: str) -> list[str]:
    folder = os.path.join(root, table)
    return sorted(os.listdir(folder)) if os.path.isdir(folder) else []


def test_export_then_change_then_export_writes_only_the_change(tmp_path):
    store, out = str(tmp_path / "s"), str(tmp_path / "export")
    t = Tracker(store, git=False)
    fill(t)
    first = t.export_parquet(out)
    assert first.written == {"versions": 4, "runs": 1, "metrics": 0}
    assert len(parts(out, "versions")) == 1 and len(parts(out, "runs")) == 1
    table = pq.read_table(os.path.join(out, "versions", parts(out, "versions")[0])).to_pylist()
    assert [r["ref"] for r in table] == [f"model_version/m@{i}" for i in range(1, 5)]
    assert json.loads(table[2]["metadata.cfg"]) == {"depth": 2, "tags": ["a"]}
    assert refs(t.sql(DEPLOYED, parquet=out, refresh=False)) == [
        "model_version/m@2",
        "model_version/m@4",
    ]

    again = t.export_parquet(out)  # nothing changed: nothing written
    assert again.written == {"versions": 0, "runs": 0, "metrics": 0} and again.parts == []

    writer = Tracker(store, git=False)
    writer.log_tag("model_version/m@1", "status", "DEPLOYED")
    writer.create_resource("m", type="model_version")
    writer.stop()
    third = writer.export_parquet(out)
    assert third.written["versions"] == 2  # m@1 changed, m@5 is new
    assert third.total["versions"] == 5 and third.written["runs"] == 1
    assert len(parts(out, "versions")) == 2
    assert refs(t.sql(DEPLOYED, parquet=out, refresh=False)) == [
        "model_version/m@1",
        "model_version/m@2",
        "model_version/m@4",
    ]
    count = t.sql("select count(*) as n from versions", parquet=out, refresh=False)
    assert count.rows == [{"n": 5}]  # the superseded row of m@1 is not counted twice
    state = json.loads((tmp_path / "export" / "_state.json").read_text())
    assert sorted(state["versions"]) == [f"model_version/m@{i}" for i in range(1, 6)]


def test_sql_without_a_directory_keeps_its_export_in_the_cache(tmp_path):
    cache = tmp_path / "cache"
    t = Tracker(str(tmp_path / "s"), git=False, cache_dir=str(cache))
    fill(t, 3)
    assert refs(t.sql(DEPLOYED)) == ["model_version/m@2"]
    t.log_tag("model_version/m@3", "status", "DEPLOYED")
    assert refs(t.sql(DEPLOYED)) == ["model_version/m@2", "model_version/m@3"]
    states = list(cache.rglob("_state.json"))
    assert len(states) == 1 and (tmp_path / "s" / "sql").exists() is False
    runs = t.sql("select status from runs order by start_time")
    assert [r["status"] for r in runs] == ["FINISHED", "RUNNING"]
    t.stop()


def test_mixed_value_types_in_one_column_become_text(tmp_path):
    t = Tracker(str(tmp_path / "s"), git=False)
    a = t.create_resource("m", type="model_version")
    b = t.create_resource("m", type="model_version")
    t.log_tag(a, "x", 3)
    t.log_tag(b, "x", "three")
    t.stop()
    out = str(tmp_path / "e")
    t.export_parquet(out)
    rows = t.sql('select "tags.x" as x from versions order by version', parquet=out)
    assert [r["x"] for r in rows] == ["3", "three"]


def test_real_metric_series_and_a_deletion_reach_the_next_export(tmp_path):
    """The tracker's own metric series go into ``metrics`` (a new point re-exports that
    version's points), ``metrics.<key>`` columns into ``versions``; a deleted version leaves
    the ``versions`` view of the next export."""
    t = Tracker(str(tmp_path / "s"), git=False)
    fill(t, 2)
    t.log_metric("model_version/m@1", "loss", 0.5, step=0)
    t.log_metric("model_version/m@1", "loss", 0.25, step=1)
    t.flush()
    out = str(tmp_path / "e")
    assert t.export_parquet(out).written["metrics"] == 2
    t.log_metric("model_version/m@2", "loss", 0.9, step=0)
    t.flush()
    assert t.export_parquet(out).written["metrics"] == 1  # m@1's points did not change
    rows = t.sql("select ref, step, value from metrics order by ref, step", parquet=out)
    assert [(r["ref"][-1], r["step"], r["value"]) for r in rows] == [
        ("1", 0, 0.5),
        ("1", 1, 0.25),
        ("2", 0, 0.9),
    ]
    rows = t.sql('select ref, "metrics.loss" as loss from versions order by ref', parquet=out)
    assert [(r["ref"][-1], r["loss"]) for r in rows] == [("1", 0.25), ("2", 0.9)]
    t.delete_resource("model_version/m@2")
    t.export_parquet(out)
    rows = t.sql("select ref from versions order by ref", parquet=out, refresh=False)
    assert [r["ref"] for r in rows] == ["model_version/m@1"]
    assert os.path.exists(os.path.join(out, "_state.json"))
    t.stop()


def test_metric_points_are_exported_and_versions_without_any_are_not_asked(tmp_path, monkeypatch):
    t = Tracker(str(tmp_path / "s"), git=False)
    fill(t, 3)
    t.log_metric("model_version/m@1", "loss", 0.5, step=0)
    t.log_metric("model_version/m@1", "loss", 0.25, step=1)
    t.flush()
    asked: list[str] = []
    real = Tracker.metric_history
    monkeypatch.setattr(
        Tracker,
        "metric_history",
        lambda self, refs, *a, **k: asked.extend(map(str, refs)) or real(self, refs, *a, **k),
    )
    out = str(tmp_path / "e")
    assert t.export_parquet(out).written["metrics"] == 2
    assert asked == ["model_version/m@1"]  # m@2 and m@3 have no points: no lookup each
    t.log_metric("model_version/m@1", "loss", 0.125, step=2)
    t.log_metric("model_version/m@2", "loss", 0.9, step=0)
    t.flush()
    assert t.export_parquet(out).written["metrics"] == 4  # all of m@1 again, and m@2
    rows = t.sql(
        "select ref, step, value from metrics order by ref, step", parquet=out, refresh=False
    )
    assert [(r["ref"][-1], r["step"], r["value"]) for r in rows] == [
        ("1", 0, 0.5),
        ("1", 1, 0.25),
        ("1", 2, 0.125),
        ("2", 0, 0.9),
    ]
    assert t.export_parquet(out).written["metrics"] == 0  # nothing changed
    t.stop()


def test_many_parts_are_compacted_into_one(tmp_path, monkeypatch):
    monkeypatch.setattr(parquet_module, "COMPACT_AFTER", 2)
    t = Tracker(str(tmp_path / "s"), git=False)
    out = str(tmp_path / "e")
    r = t.create_resource("m", type="model_version")
    compacted = []
    for i in range(4):
        t.log_tag(r, "i", i)
        compacted += t.export_parquet(out).compacted
        assert len(parts(out, "versions")) <= 2
    assert any(name.startswith("versions/") for name in compacted)
    rows = t.sql('select "tags.i" as i from versions', parquet=out, refresh=False)
    assert rows.rows == [{"i": 3}]
    t.stop()


def test_a_foreign_state_file_is_refused_and_left_alone(tmp_path):
    t = Tracker(str(tmp_path / "s"), git=False)
    fill(t, 1)
    out = tmp_path / "e"
    out.mkdir()
    (out / "_state.json").write_text('{"format": 9}')
    with pytest.raises(ExportError, match="not the state of a tracker Parquet export"):
        t.export_parquet(str(out))
    assert sorted(os.listdir(out)) == ["_state.json"]


def test_bad_sql_is_a_clear_error(tmp_path):
    t = Tracker(str(tmp_path / "s"), git=False)
    fill(t, 1)
    with pytest.raises(TrackerError, match="tables: versions, runs, metrics"):
        t.sql("select nope from versions")


def test_without_pyarrow_the_error_says_what_to_install(tmp_path, monkeypatch):
    t = Tracker(str(tmp_path / "s"), git=False)
    fill(t, 1)
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    with pytest.raises(MissingDependency, match=r"tracker\[sql\]"):
        t.export_parquet(str(tmp_path / "e"))
    assert not (tmp_path / "e").exists()


def test_export_and_sql_on_s3(s3_backend):
    t = s3_backend.make()
    fill(t, 3)
    bucket = s3_backend.root.split("/")[2]
    out = f"s3://{bucket}/export"
    reader = s3_backend.make()
    assert reader.export_parquet(out, s3_backend.storage_options).written["versions"] == 3
    fs = s3_backend.fs
    assert len(fs.ls(f"{bucket}/export/versions")) == 1
    assert fs.exists(f"{bucket}/export/_state.json")
    writer = s3_backend.make()
    writer.log_tag("model_version/m@1", "status", "DEPLOYED")
    writer.stop()
    report = reader.export_parquet(out, s3_backend.storage_options)
    assert report.written["versions"] == 1
    got = reader.sql(DEPLOYED, parquet=out, storage_options=s3_backend.storage_options)
    assert refs(got) == ["model_version/m@1", "model_version/m@2"]


def test_cli_export_and_sql(tmp_path):
    store, out = str(tmp_path / "s"), str(tmp_path / "e")
    fill(Tracker(store, git=False), 4)
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    base = [sys.executable, "-m", "tracker", "--root", store]
    done = subprocess.run(
        [*base, "export", "parquet", out, "--json"], capture_output=True, text=True, env=env
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["written"]["versions"] == 4
    assert (tmp_path / "e" / "_state.json").exists()
    done = subprocess.run(
        [*base, "sql", DEPLOYED, "--parquet", out, "--no-refresh", "--format", "csv"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["ref", "model_version/m@2", "model_version/m@4"]
    done = subprocess.run([*base, "sql", "select bogus"], capture_output=True, text=True, env=env)
    assert done.returncode == 1 and done.stderr.startswith("tracker: error:")
    assert "Traceback" not in done.stderr


def test_cli_export_targets_need_their_destination(tmp_path):
    """`export parquet` without a directory and `export mlflow` without --out are clear errors
    that write nothing; an unknown target names the two there are."""
    store = str(tmp_path / "s")
    fill(Tracker(store, git=False), 1)
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    base = [sys.executable, "-m", "tracker", "--root", store]
    before = sorted(p.name for p in tmp_path.iterdir())
    for args, hint in (
        (["export", "parquet"], "tracker export parquet ./ml-export"),
        (["export", "mlflow"], "tracker export mlflow --out"),
        (["export", "parquet", "a", "--out", "b"], "two destinations"),
    ):
        done = subprocess.run([*base, *args], capture_output=True, text=True, env=env)
        assert done.returncode == 1 and hint in done.stderr, done.stderr
        assert "Traceback" not in done.stderr
    done = subprocess.run([*base, "export", "csv", "x"], capture_output=True, text=True, env=env)
    assert done.returncode == 2 and "'mlflow', 'parquet'" in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing written beside
    done = subprocess.run([*base, "export", "--help"], capture_output=True, text=True, env=env)
    assert "tracker export parquet ./ml-export" in done.stdout
    assert "tracker export mlflow --out" in done.stdout
