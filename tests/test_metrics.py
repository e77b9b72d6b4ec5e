"""Metric series: the contract on every backend (local, memory, S3), what lies on disk, hostile
chunks, the S3 request budget, flush policy and fork safety."""

from __future__ import annotations

import datetime as dt
import math
import os

import numpy as np
import pytest

from tracker import CorruptFile, InvalidArgument, InvalidKey, MetricPoint, UnsupportedValue
from tracker.core.check import check
from tracker.core.metrics import Metrics
from tracker.store import chunks

M = "resources/experiment/exp/1/metrics"


def chunk_files(backend, key):
    return sorted(f for f in backend.files() if f.startswith(f"{M}/{key}/"))


# -- contract ------------------------------------------------------------------------------------
def test_log_and_read_back_exact_values_and_files(backend, tracker):
    exp = tracker.create_resource("exp", type="experiment")
    values = [0.1, 1e-300, float("nan"), float("inf"), -float("inf"), 3, np.float32(0.1)]
    for v in values:
        tracker.log_metric(exp, "loss", v)
    tracker.log_metric(exp, "loss", np.int64(7), step=10, timestamp=dt.datetime(2025, 1, 2))
    history = tracker.get_metric_history(exp, "loss")  # buffered points are read too
    assert [p.step for p in history] == [0, 1, 2, 3, 4, 5, 6, 10]
    got = [p.value for p in history]
    assert got[:2] == [0.1, 1e-300] and math.isnan(got[2]) and got[3:5] == [math.inf, -math.inf]
    assert got[5] == 3 and type(got[5]) is int and got[6] == float(np.float32(0.1))
    assert got[7] == 7 and type(got[7]) is int
    assert history[-1].timestamp == dt.datetime(2025, 1, 2).timestamp()
    assert chunk_files(backend, "loss") == []  # nothing written before the flush policy says so
    tracker.flush()
    (name,) = [f.rsplit("/", 1)[1] for f in chunk_files(backend, "loss")]
    assert chunks.CHUNK_NAME.fullmatch(name)
    text = backend.read(f"{M}/loss/{name}").decode()
    lines = text.splitlines()
    assert lines[0].split("\t")[0] == "#tracker-metrics 1" and lines[0].endswith("\t8")
    assert lines[1] == "step\ttimestamp\tvalue"
    assert [ln.split("\t")[2] for ln in lines[2:]] == [
        "0.1", "1e-300", "nan", "inf", "-inf", "3", repr(float(np.float32(0.1))), "7"
    ]  # fmt: skip
    reader = backend.make()
    again = reader.get_metric_history(exp.ref, "loss")
    assert [tuple(p) for p in again][:2] == [tuple(p) for p in history][:2]
    assert isinstance(again[0], MetricPoint) and math.isnan(again[2].value)


def test_values_refused_with_nothing_written(backend, tracker):
    exp = tracker.create_resource("exp", type="experiment")
    for bad in (True, np.bool_(False), "0.5", [1.0], {"a": 1}, None, np.array([1.0, 2.0])):
        with pytest.raises(UnsupportedValue, match="metric 'loss'"):
            tracker.log_metric(exp, "loss", bad)
    with pytest.raises(UnsupportedValue, match="step"):
        tracker.log_metric(exp, "loss", 1.0, step=1.5)
    with pytest.raises(UnsupportedValue, match="timestamp"):
        tracker.log_metric(exp, "loss", 1.0, timestamp="yesterday")
    with pytest.raises(UnsupportedValue):
        tracker.log_metrics(exp, {"a": 1.0, "b": "x"})  # checked before any is buffered
    with pytest.raises(InvalidKey, match="too long"):
        tracker.log_metrics(exp, {"a": 1.0, "k" * 300: 2.0})
    tracker.flush()
    assert tracker.get_metrics(exp) == {}
    assert not [f for f in backend.files() if "/metrics/" in f]
    with pytest.raises(InvalidArgument, match="log_metric"):
        tracker.log_metadata(exp, "loss", 0.5, step=3)
    assert tracker.get_metadata(exp, "loss") is None


def test_steps_last_values_and_merge_order(backend, tracker):
    exp = tracker.create_resource("exp", type="experiment")
    tracker.log_metrics(exp, {"loss": 1.0, "acc": 0.5})  # step 0 for both
    tracker.log_metrics(exp, {"loss": 0.5, "acc": 0.7})  # step 1
    tracker.log_metric(exp, "loss", 0.9, step=0, timestamp=1.0)  # an early timestamp at step 0
    tracker.log_metric(exp, "acc", 0.6, step=5)
    tracker.log_metric(exp, "acc", 0.65)  # next after 5
    tracker.flush()
    other = backend.make()
    other.log_metric(exp.ref, "loss", 0.25, step=1, timestamp=1.0)  # a second writer
    other.flush()
    loss = tracker.get_metric_history(exp, "loss")
    assert [(p.step, p.value) for p in loss] == [(0, 0.9), (0, 1.0), (1, 0.25), (1, 0.5)]
    assert [p.step for p in tracker.get_metric_history(exp, "acc")] == [0, 1, 5, 6]
    assert tracker.get_metrics(exp) == {"acc": 0.65, "loss": 0.5}
    assert len({f.split("/")[-1].split("-")[0] for f in chunk_files(backend, "loss")}) == 2
    assert tracker.get_metric_history(exp, "never") == []


def test_compaction_on_close_is_derived(backend, tracker):
    exp = tracker.create_resource("exp", type="experiment")
    for i in range(5):
        tracker.log_metric(exp, "loss", 1 / (i + 1))
        tracker.flush()  # five chunks
    before = [tuple(p) for p in tracker.get_metric_history(exp, "loss")]
    tracker.clean_resource(exp)
    files = chunk_files(backend, "loss")
    assert f"{M}/loss/compact.tsv" in files and len(files) == 6  # chunks stay: the truth
    compact = backend.read(f"{M}/loss/compact.tsv").decode().splitlines()
    assert compact[0].startswith("#tracker-metrics-compact 1\tloss\t5\t") and len(compact) == 7
    reader = backend.make()
    assert [tuple(p) for p in reader.get_metric_history(exp.ref, "loss")] == before
    tracker.log_metric(exp, "loss", 0.01, step=99)  # after the close: not in the compacted file
    tracker.flush()
    after = [tuple(p) for p in reader.get_metric_history(exp.ref, "loss")]
    assert after[:-1] == before and after[-1][::2] == (99, 0.01)
    backend.fs.rm(f"{backend.base}/{M}/loss/compact.tsv")  # safe to delete
    assert [tuple(p) for p in reader.get_metric_history(exp.ref, "loss")] == after


def test_find_table_and_plot(backend, tracker):
    refs = []
    for final in (0.2, 0.4):
        exp = tracker.create_resource("exp", type="experiment")
        for step in range(3):
            tracker.log_metric(exp, "val_loss", final + (2 - step) / 10)
        refs.append(exp)
    tracker.log_metric(refs[0], "val_loss", float("nan"), step=-1)  # last by step is still 0.2
    tracker.flush()
    found = tracker.find(where="metrics.val_loss < 0.3")
    assert [r.ref for r in found] == ["experiment/exp@1"]
    assert found.rows[0]["metrics.val_loss"] == 0.2
    ordered = tracker.find(type="experiment", order_by="-metrics.val_loss")
    assert [r.version for r in ordered] == [2, 1]
    table = tracker.metric_history(found)
    assert len(table) == 4 and table[0]["ref"] == "experiment/exp@1"
    assert table[0]["run_id"] == tracker.run_id and table[0]["step"] == -1
    df = tracker.metric_history([r.ref for r in refs], keys="val_loss").to_pandas()
    assert list(df.columns) == ["ref", "run_id", "key", "step", "timestamp", "value"]
    assert len(df) == 7 and df["value"].iloc[-1] == pytest.approx(0.4)
    svg = tracker.plot(refs, "val_loss")._repr_svg_()
    assert svg.startswith("<svg") and svg.count("<polyline") == 2 and "experiment/exp@2" in svg
    assert "val_loss" in found[0]._repr_html_()  # the notebook view lists last values


# -- hostile chunks --------------------------------------------------------------------------------
GOOD = "#tracker-metrics 1\tloss\t{w}\t{s}\t{n}\nstep\ttimestamp\tvalue\n"


@pytest.mark.parametrize(
    "name, body, what",
    [
        ("00000000000000aa-000001.tsv", "garbage\n", "header"),
        ("00000000000000aa-000001.tsv", GOOD + "0\t1.0\tabc\n", "row 3"),
        ("00000000000000aa-000001.tsv", GOOD + "0\t1.0\n", "row 3"),
        ("00000000000000aa-000001.tsv", GOOD.replace("{n}", "5") + "0\t1.0\t1\n", "announces"),
        ("00000000000000aa-000001.tsv", GOOD.replace("{n}", "99999999999") + "", "count"),
        ("00000000000000aa-000001.tsv", GOOD.replace("{w}", "00000000000000bb"), "duplicated"),
        ("00000000000000aa-000001.tsv", GOOD + "0\tnan\t1\n", "finite timestamp"),
        ("00000000000000aa-000001.tsv", "\xff\xfe", "ASCII"),
    ],
)
def test_hostile_chunks_are_refused_naming_the_file(backend, tracker, name, body, what):
    exp = tracker.create_resource("exp", type="experiment")
    tracker.log_metric(exp, "loss", 1.0)
    tracker.flush()
    n = body.count("\n") - 2
    text = body.replace("{w}", "00000000000000aa").replace("{s}", "1").replace("{n}", str(n))
    backend.write(f"{M}/loss/{name}", text.encode("latin-1"))
    reader = backend.make()
    with pytest.raises(CorruptFile, match=what) as err:
        reader.get_metric_history(exp.ref, "loss")
    assert f"{M}/loss/{name}" in str(err.value)
    report = check(reader._store, verify=False)
    assert [(p.path, p.kind) for p in report.problems] == [(f"{M}/loss/{name}", "bad-chunk")]
    assert not check(reader._store, repair=True, grace=0).repaired  # data is never removed


def test_broken_compaction_is_ignored_and_repairable(backend, tracker):
    exp = tracker.create_resource("exp", type="experiment")
    for i in range(3):
        tracker.log_metric(exp, "loss", float(i))
        tracker.flush()
    tracker.clean_resource(exp)
    backend.write(f"{M}/loss/compact.tsv", b"#tracker-metrics-compact 1\tloss\t1\t[[\n")
    reader = backend.make()
    assert [p.value for p in reader.get_metric_history(exp.ref, "loss")] == [0.0, 1.0, 2.0]
    report = check(reader._store, repair=True, grace=0)
    assert [p.kind for p in report.repaired] == ["bad-compaction"] and report.ok
    assert f"{M}/loss/compact.tsv" not in backend.files()


# -- S3 request budget ---------------------------------------------------------------------------
def test_s3_one_put_per_flushed_chunk(s3_backend):
    t = s3_backend.make()
    exp = t.create_resource("exp", type="experiment")
    proxy = s3_backend.proxy
    proxy.reset_counts()
    for i in range(2500):
        t.log_metric(exp, "loss", i * 0.5)
    puts = [r for r in proxy.requests if r[0] == "PUT"]
    assert len(puts) == 2 and all("/metrics/loss/" in p[1] for p in puts), proxy.requests
    assert len(proxy.requests) == 2  # no listing, no read: a flush is one PUT
    proxy.reset_counts()
    t.flush()
    assert [m for m, _, _ in proxy.requests] == ["PUT"]
    proxy.reset_counts()
    assert len(t.get_metric_history(exp, "loss")) == 2500
    assert len(proxy.requests) <= 1 + 3, proxy.requests  # one listing, the three chunks
    t.stop()


# -- flush policy and fork -------------------------------------------------------------------------
class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_flush_policy_points_and_seconds(tmp_path):
    from tracker.store import open_store

    store = open_store(str(tmp_path))
    runs: list[str] = []
    clock = FakeClock()
    m = Metrics(store, lambda: runs.append("r") or "r", clock, flush_points=3,
                flush_seconds=0.2, background=False)  # fmt: skip
    vkey = ("experiment", "e", 1)
    m.log(vkey, "k", 1.0)
    m.log(vkey, "k", 2.0)
    assert store.walk("") == {} and runs == ["r"]  # the run exists while points wait
    m.log(vkey, "k", 3.0)  # the third point fills a chunk
    assert len(store.walk("")) == 1
    m.log(vkey, "k", 4.0)
    import time

    time.sleep(0.25)
    m.log(vkey, "j", 5.0)  # the buffer's oldest point is older than flush_seconds
    assert len(store.walk("")) == 3
    assert [p.timestamp for p in m.history(vkey, "k")] == [1000.0] * 4


def test_background_thread_flushes_stale_points(tmp_path):
    from tracker.store import open_store

    store = open_store(str(tmp_path))
    m = Metrics(store, lambda: "r", flush_seconds=0.1)
    m.log(("experiment", "e", 1), "k", 1.0)
    deadline = __import__("time").monotonic() + 5
    while not store.walk("") and __import__("time").monotonic() < deadline:
        __import__("time").sleep(0.02)
    assert len(store.walk("")) == 1


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_forked_child_gets_its_own_writer_and_not_the_parent_buffer(tmp_path, backend):
    if backend.name != "local":
        pytest.skip("a forked child shares no memory:// store")
    t = backend.make()
    exp = t.create_resource("exp", type="experiment")
    t.log_metric(exp, "loss", 1.0)  # buffered in the parent
    parent_writer = t._metrics.writer
    pid = os.fork()
    if pid == 0:  # the child: log one point and flush, then leave without cleanup
        code = 1
        try:
            t.log_metric(exp, "loss", 2.0, step=1)
            t.flush()
            code = 0 if t._metrics.writer != parent_writer else 3
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    t.flush()
    assert sorted(p.value for p in t.get_metric_history(exp, "loss")) == [1.0, 2.0]
    assert len({f.split("/")[-1].split("-")[0] for f in chunk_files(backend, "loss")}) == 2
    t.stop()


def test_points_are_flushed_at_interpreter_exit(tmp_path):
    """No flush(), no stop(): the exit hook writes the buffer, and the run still ends FINISHED."""
    import subprocess
    import sys

    root = str(tmp_path / "store")
    code = (
        "import sys; from tracker import Tracker\n"
        f"t = Tracker({root!r}, git=False)\n"
        "e = t.create_resource('exp', type='experiment')\n"
        "[t.log_metric(e, 'loss', i / 10) for i in range(5)]\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    from tracker import Tracker

    t = Tracker(root, git=False)
    assert [p.value for p in t.get_metric_history("experiment/exp@1", "loss")] == [
        0.0, 0.1, 0.2, 0.3, 0.4
    ]  # fmt: skip
    assert t.runs()[0]["status"] == "FINISHED"
    on_disk = [f for f in t._store.walk("resources") if "/metrics/loss/" in f]
    assert len(on_disk) == 1 and chunks.CHUNK_NAME.fullmatch(on_disk[0].rsplit("/", 1)[1])


def test_bench_metrics_smoke():
    """The metrics benchmark keeps working (tiny sizes, no timed assertions); it checks answers."""
    from benchmarks.bench_metrics import smoke

    result = smoke()
    assert result["ours"]["points_per_s"] > 0 and result["codecs"]["tsv"]["bytes"] > 0
