"""Object-store faults through the counting proxy: 500s, 503 SlowDown, dropped connections (before
and after the server applied the request) and delays.

Every operation either succeeds through retries or raises a :class:`StoreError` (a
``TrackerError``) naming what failed; never a raw botocore/aiohttp exception. Afterwards the store
holds no half-written resource and no duplicate version, and every acknowledged write reads back.
A conditional create whose response was lost (``drop_after``) and whose retry met our own object
(412) is recognised as ours: no version is claimed twice, and none is skipped.
"""

from __future__ import annotations

import random
import time
from typing import Any

import pytest

pytest.importorskip("s3fs")

from tracker import Tracker
from tracker.core.check import check
from tracker.errors import StoreError, TrackerError
from tracker.store import paths
from tracker.store.remote import BOTO_RETRIES, S3FS_RETRIES, FsspecStore


@pytest.fixture
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """botocore's jittered backoff (up to 20 s between attempts) is what makes retries safe on
    real S3; in a test it only costs time, and it is not what is being tested."""
    import botocore.retries.standard as std

    monkeypatch.setattr(std.ExponentialBackoff, "delay_amount", lambda self, context: 0.0)


@pytest.fixture
def s3(s3_backend: Any, no_backoff: None, tmp_path: Any) -> Any:
    proxy = s3_backend.proxy
    proxy.clear_faults()
    yield s3_backend
    proxy.clear_faults()


def make(backend: Any) -> Tracker:
    return backend.make(progress=False)


# -- retries configured, user settings respected -------------------------------------------------
def test_default_retry_settings_and_user_settings_win() -> None:
    store = FsspecStore("s3://bucket/root", {"key": "k", "secret": "s"})
    assert store.fs.config_kwargs["retries"] == BOTO_RETRIES
    assert store.fs.retries == S3FS_RETRIES
    mine = {"config_kwargs": {"retries": {"max_attempts": 9}, "read_timeout": 7}}
    store = FsspecStore("s3://bucket/root", mine)
    assert store.fs.config_kwargs == {"retries": {"max_attempts": 9}, "read_timeout": 7}
    assert mine == {"config_kwargs": {"retries": {"max_attempts": 9}, "read_timeout": 7}}
    kept = {"config_kwargs": {"read_timeout": 7}}
    store = FsspecStore("s3://bucket/root", kept)
    assert store.fs.config_kwargs == {"read_timeout": 7, "retries": BOTO_RETRIES}
    assert kept == {"config_kwargs": {"read_timeout": 7}}  # the caller's dict is not modified


def test_unreachable_endpoint_is_a_store_error(no_backoff: None) -> None:
    from support.s3server import free_port, storage_options

    t = Tracker(
        "s3://bucket/root",
        storage_options={
            **storage_options(f"http://127.0.0.1:{free_port()}"),
            "config_kwargs": {"retries": {"mode": "standard", "total_max_attempts": 1}},
        },
        git=False,
    )
    start = time.monotonic()
    with pytest.raises(
        StoreError, match=r"read s3://bucket/root/\S+ failed: EndpointConnectionError"
    ):
        t.get_resource("x", "model_version")
    assert time.monotonic() - start < 10


# -- permanent faults: a clear error, quickly ----------------------------------------------------
@pytest.mark.parametrize("kind", ["error_500", "slowdown_503", "drop"])
def test_permanent_fault_is_a_store_error_for_every_operation(s3, tmp_path, kind):
    t = make(s3)
    res = t.create_resource("m", type="model_version")
    t.log_tag(res, "k", "before")
    src = tmp_path / "a.bin"
    src.write_bytes(b"artifact")
    t.log_artifact(res, "a", str(src))
    reader = make(s3)
    reader.require_store()
    operations = {
        "log_tag": lambda: t.log_tag(res, "k", "during"),
        "get_tag": lambda: reader.get_tag(res.ref, "k"),
        "create_resource": lambda: t.create_resource("m", type="model_version"),
        "describe": lambda: reader.describe(res.ref),
        "log_artifact": lambda: t.log_artifact(res, "b", str(src)),
        "get_artifact": lambda: reader.get_artifact(res.ref, "a", dest=str(tmp_path / "out")),
    }
    s3.proxy.set_faults(**{kind: 1.0})
    try:
        for name, operation in operations.items():
            start = time.monotonic()
            with pytest.raises(StoreError) as info:
                operation()
            assert time.monotonic() - start < 15, name
            message = str(info.value)
            assert "failed" in message and s3.root in message, (name, message)
            assert isinstance(info.value, TrackerError) and isinstance(info.value, OSError)
    finally:
        s3.proxy.clear_faults()
    # nothing half-written: the store is whole and the earlier writes read back
    assert t.get_tag(res, "k") == "before"
    assert [r.version for r in t.find(type="model_version", id="m")] == [1]
    t.stop()
    report = check(t._store, grace=0)
    assert {p.kind for p in report.problems} <= {"orphan-artifact"}, report.as_dict()


def test_transient_faults_are_retried_transparently(s3, tmp_path):
    t = make(s3)
    res = t.create_resource("m", type="model_version")
    src = tmp_path / "a.bin"
    src.write_bytes(b"artifact")
    for kind in ("error_500", "slowdown_503", "drop", "drop_after"):
        s3.proxy.fail_next(kind)
        t.log_tag(res, kind, kind)
        s3.proxy.fail_next(kind)
        assert t.get_tag(res, kind) == kind
        s3.proxy.fail_next(kind)
        t.create_resource("m", type="model_version")
        s3.proxy.fail_next(kind)
        t.log_artifact(res, kind, str(src))
        s3.proxy.fail_next(kind)
        assert t.describe(res)["tags"][kind] == kind
    assert [r.version for r in t.find(type="model_version", id="m")] == [1, 2, 3, 4, 5]
    s3.proxy.set_faults(delay=1.0, delay_seconds=0.05)
    assert t.get_tags(res) == {k: k for k in ("error_500", "slowdown_503", "drop", "drop_after")}
    s3.proxy.clear_faults()
    t.stop()
    assert t.check().ok


# -- a lost response to the conditional PUT that claims a version ---------------------------------
def arm_before_first(store: FsspecStore, proxy: Any, suffix: str, monkeypatch: Any) -> list[str]:
    """Make the next request after the first ``create`` of a path ending in ``suffix`` be a
    ``drop_after``: the server stores the object, the client never hears so and retries."""
    armed: list[str] = []
    real = store.create

    def create(path: str, data: bytes) -> bool:
        if path.endswith(suffix) and not armed:
            armed.append(path)
            proxy.fail_next("drop_after")
        return real(path, data)

    monkeypatch.setattr(store, "create", create)
    return armed


def puts_to(proxy: Any, path: str) -> list[Any]:
    return [r for r in proxy.records if r.method == "PUT" and r.path.endswith(path)]


def test_drop_after_on_the_version_claim_is_neither_duplicate_nor_gap(s3, monkeypatch):
    t = make(s3)
    t.create_resource("m", type="model_version")
    armed = arm_before_first(t._store, s3.proxy, "/resource.yaml", monkeypatch)
    s3.proxy.reset_counts()
    res = t.create_resource("m", type="model_version")
    assert armed == [paths.resource_file("model_version", "m", 2)]
    claims = puts_to(s3.proxy, "/m/2/resource.yaml")
    assert [r.fault for r in claims][:1] == ["drop_after"] and len(claims) >= 2
    assert claims[-1].status == 412  # the retry met our own object
    assert claims[0].header("If-None-Match") == "*"
    assert res.version == 2  # ours, not a clash: no version 3, no gap
    assert t.get_resource("m", "model_version").version == 2
    assert not puts_to(s3.proxy, "/m/3/resource.yaml")
    assert t.describe(res)["run_id"] == t.run_id
    t.stop()
    assert t.check().ok


def test_a_retried_412_mine_and_a_rivals_clash_are_told_apart(s3, monkeypatch):
    """The store's read-back (``FsspecStore._landed``) settles a retried claim by its bytes (our
    run id and a microsecond timestamp), while a rival's version still moves us on."""
    t = make(s3)
    t.create_resource("m", type="model_version")
    arm_before_first(t._store, s3.proxy, "/resource.yaml", monkeypatch)
    res = t.create_resource("m", type="model_version")
    assert res.version == 2
    assert not t._store.exists(paths.resource_file("model_version", "m", 3))
    # a real clash is still a clash: someone else's version 3 makes ours 4
    rival = make(s3)
    assert rival.create_resource("m", type="model_version").version == 3
    assert t.create_resource("m", type="model_version").version == 4
    t.stop()
    rival.stop()


def test_drop_after_on_run_creation_makes_one_run(s3, monkeypatch):
    t = make(s3)
    t.require_store  # noqa: B018
    t._run()  # the store exists; the next run is the one under test
    t.stop()
    t2 = make(s3)
    armed = arm_before_first(t2._store, s3.proxy, "/run.yaml", monkeypatch)
    t2.create_resource("m", type="model_version")
    assert armed and puts_to(s3.proxy, armed[0])[-1].status == 412
    runs = t2.runs()
    assert len(runs) == 2 and t2.run_id in {r["id"] for r in runs}
    t2.stop()
    assert {r["status"] for r in t2.runs()} == {"FINISHED"}


def test_drop_after_on_pointers_and_key_files(s3, monkeypatch):
    t = make(s3)
    mv = t.create_resource("m", type="model_version")
    armed = arm_before_first(t._store, s3.proxy, "@1", monkeypatch)  # the run's pointer
    ex = t.create_resource("x", type="experiment", parent=mv)
    assert armed
    s3.proxy.fail_next("drop_after")
    t.log_tag(ex, "k", "v")
    assert t.describe(mv)["children"] == ["experiment/x@1"] and t.get_tag(ex, "k") == "v"
    t.stop()
    assert t.check().ok


# -- a random mix of faults over a workload -------------------------------------------------------
@pytest.mark.parametrize("retries", ["default", "few"])
def test_random_faults_workload_loses_nothing_acknowledged(s3, tmp_path, torture, retries):
    """With the default retries every operation gets through; with two attempts per request
    some fail, with a StoreError, and a failed write may still have landed (``drop_after``)."""
    rounds = 150 if torture else 40
    rng = random.Random(3)
    options = dict(s3.storage_options)
    if retries == "few":
        options["config_kwargs"] = {"retries": {"mode": "standard", "total_max_attempts": 2}}
    t = Tracker(s3.root, storage_options=options, git=False, progress=False)
    target = t.create_resource("target", type="model_version")
    src = tmp_path / "a.bin"
    acked: dict[tuple[str, str], Any] = {}
    maybe: dict[tuple[str, str], list[Any]] = {}
    created: list[int] = []
    failures: dict[str, int] = {}
    s3.proxy.set_faults(
        error_500=0.08, slowdown_503=0.05, drop=0.04, drop_after=0.04, delay=0.05, seed=11
    )
    try:
        for i in range(rounds):
            op = rng.choice(["tag", "tag", "metadata", "create", "artifact", "read"])
            key = (op, f"k{rng.randrange(3)}")
            value: Any = f"v{i}"
            try:
                if op == "tag":
                    t.log_tag(target, key[1], value)
                elif op == "metadata":
                    value = {"i": i, "nested": [i, {"x": "y"}]}
                    t.log_metadata(target, key[1], value)
                elif op == "create":
                    created.append(t.create_resource("series", type="model_version").version or 0)
                    continue
                elif op == "artifact":
                    value = f"artifact {i}"  # before the call: a failed one may have landed
                    src.write_bytes(value.encode())
                    t.log_artifact(target, key[1], str(src))
                else:
                    t.describe(target)
                    continue
            except (
                StoreError
            ) as exc:  # allowed: a clear error; the write may or may not have landed
                failures[op] = failures.get(op, 0) + 1
                assert "failed" in str(exc)
                maybe.setdefault(key, []).append(value)
                continue
            acked[key] = value
            maybe[key] = []
    finally:
        s3.proxy.clear_faults()
    faults = sum(1 for r in s3.proxy.records if r.fault)
    assert faults > 10, faults
    assert (sum(failures.values()) > 0) == (retries == "few"), failures

    reader = make(s3)
    described = reader.describe(target.ref)
    for (op, k), value in acked.items():
        allowed = [value, *maybe[(op, k)]]
        if op == "tag":
            got = reader.get_tag(target.ref, k)
            assert described["tags"][k] == got
        elif op == "metadata":
            got = reader.get_metadata(target.ref, k)
            assert described["metadata"][k] == got
        else:
            with open(
                reader.get_artifact(target.ref, k, dest=str(tmp_path / "out" / k)), "rb"
            ) as f:
                got = f.read().decode()
        assert got in allowed, (op, k, got, allowed)
    # versions: unique, and whatever landed is gap-free (a failed claim may still have landed)
    assert len(created) == len(set(created))
    on_store = sorted(r.version for r in reader.find(type="model_version", id="series"))
    assert on_store == list(range(1, len(on_store) + 1))
    assert set(created) <= set(on_store)
    t.stop()
    report = check(t._store, repair=True, grace=0)
    assert report.ok, report.as_dict()
    assert {p.kind for p in report.repaired} <= {"orphan-artifact"}
