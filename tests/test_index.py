"""The query index: chunks trusted through the change log, validated per version only for what
changed, rebuilt when stale or broken; correct under concurrent writers (real processes)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time

import pytest
from support.forked import forked_find

from tracker import Tracker
from tracker.core.query import Query
from tracker.store import fingerprints as fingerprints_module
from tracker.store import paths
from tracker.store.base import Store
from tracker.store.fingerprints import LocalFingerprints
from tracker.store.local import LocalStore


def age(root, seconds=10.0):
    """Set every directory's mtime into the past, as if the store were written a while ago."""
    past = time.time() - seconds
    for dirpath, _, _ in os.walk(root):
        os.utime(dirpath, (past, past))


@pytest.fixture
def settled(monkeypatch):
    """Change lines settle at once (a single-process test has no write in flight)."""
    monkeypatch.setattr(LocalStore, "settle_seconds", 0.0)


@pytest.fixture
def store(tmp_path, settled):
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


def where(t, **kw):
    return [r.version for r in t.find(type="model_version", where="tags.status = 'DEPLOYED'", **kw)]


class Counter:
    """Counts versions read anew for the index (``live_entry``) and per-version validations."""

    def __init__(self, monkeypatch):
        self.built, self.validated = [], []
        real_record, real_validator = Query.live_entry, LocalFingerprints.version
        monkeypatch.setattr(
            Query,
            "live_entry",
            lambda t, res, *a, **k: self.built.append(res.version) or real_record(t, res, *a, **k),
        )
        monkeypatch.setattr(
            LocalFingerprints,
            "version",
            lambda i, v: self.validated.append(v) or real_validator(i, v),
        )


def chunk0(root):
    """The chunk's head, with ``entries`` parsed from its body."""
    data = (root / "resources/model_version/m/index-0.json").read_bytes()
    cut = data.index(b"\n")
    head = json.loads(data[:cut])
    body = data[cut + 1 :]
    head["entries"] = {v: json.loads(body[a : a + n]) for v, (a, n) in head["spans"].items()}
    return head


def test_warm_find_trusts_the_index_without_looking_at_each_version(store, monkeypatch):
    assert where(Tracker(str(store), git=False)) == [1, 3, 5]
    idx = chunk0(store)
    assert sorted(idx["entries"], key=int) == ["1", "2", "3", "4", "5", "6"]
    assert idx["entries"]["3"]["r"]["doc"]["tags"] == {"i": 2, "status": "DEPLOYED"}
    assert idx["memo"] == {
        "tags.status = 'DEPLOYED'": {"upto": 6, "match": [1, 3, 5], "complete": True}
    }
    assert all(done == total for _, done, total in idx["marks"].values())  # all lines settled
    seen = Counter(monkeypatch)
    assert where(Tracker(str(store), git=False)) == [1, 3, 5]
    assert seen.built == [] and seen.validated == []  # no read and no stat per version


def test_a_change_after_the_index_was_built_wins_and_only_it_is_validated(store, monkeypatch):
    t = Tracker(str(store), git=False)
    assert where(t) == [1, 3, 5]
    t.log_tag("model_version/m@2", "status", "DEPLOYED")
    t.log_tag("model_version/m@3", "status", "RETIRED")
    seen = Counter(monkeypatch)
    assert where(Tracker(str(store), git=False)) == [1, 2, 5]
    assert sorted(set(seen.validated)) == [2, 3]
    t.stop()


def test_an_unsettled_change_line_keeps_its_version_validated(tmp_path, monkeypatch):
    monkeypatch.setattr(fingerprints_module, "RACY_SECONDS", 0.0)
    root = tmp_path / "s"
    t = Tracker(str(root), git=False)
    for _ in range(3):
        t.log_tag(t.create_resource("m", type="model_version"), "status", "NO")
    t.log_tag("model_version/m@2", "status", "DEPLOYED")
    assert where(t) == [2]
    marks = chunk0(root)["marks"]
    assert [done for _, done, _ in marks.values()] == [0]  # younger than the window: unsettled
    seen = Counter(monkeypatch)
    assert where(Tracker(str(root), git=False)) == [2]
    assert sorted(seen.validated) == [1, 2, 3] and seen.built == []
    monkeypatch.setattr(LocalStore, "settle_seconds", 0.0)
    assert where(Tracker(str(root), git=False)) == [2]
    seen.validated.clear()
    assert where(Tracker(str(root), git=False)) == [2]
    assert seen.validated == []
    t.stop()


def test_entries_younger_than_the_racy_window_are_not_stored(tmp_path, settled):
    t = Tracker(str(tmp_path / "s"), git=False)
    t.log_tag(t.create_resource("m", type="model_version"), "status", "DEPLOYED")
    assert where(t) == [1]
    assert chunk0(tmp_path / "s")["entries"] == {}
    t.stop()


def test_a_broken_index_is_rebuilt_and_fsck_can_remove_it(store):
    path = store / "resources/model_version/m/index-0.json"
    where(Tracker(str(store), git=False))
    path.write_text("{not json")
    t = Tracker(str(store), git=False)
    assert [p.kind for p in t.check().problems] == ["bad-index"]
    assert where(t) == [1, 3, 5]
    assert chunk0(store)["entries"]
    assert t.check().ok


def test_newest_first_with_a_limit_reads_only_the_newest(tmp_path, monkeypatch, settled):
    monkeypatch.setattr(paths, "INDEX_CHUNK", 10)
    root = tmp_path / "s"
    t = Tracker(str(root), git=False)
    for i in range(35):
        r = t.create_resource("m", type="model_version")
        t.log_tag(r, "status", "DEPLOYED" if i in (3, 30) else "NO")
    t.stop()
    seen = Counter(monkeypatch)
    reader = Tracker(str(root), git=False)
    assert where(reader, order_by="-version", limit=1) == [31]
    assert sorted(seen.built) == [31, 32, 33, 34, 35]  # from the newest down to the match
    assert where(reader, order_by="version", limit=1) == [4]
    assert where(reader, order_by="-version", limit=2) == [31, 4]
    assert where(reader, order_by="-version") == [31, 4]


def test_progress_bar_walks_every_version(tmp_path, monkeypatch, settled):
    from tracker.core import progress

    ticks = []
    monkeypatch.setattr(progress, "MANY", 3)
    monkeypatch.setattr(progress, "_interactive", lambda: True)
    t = Tracker(str(tmp_path / "s"), git=False)
    for _ in range(4):
        t.create_resource("m", type="model_version")

    class Bar:
        def __init__(self, total, **kw):
            ticks.append(("total", total))

        def update(self, n):
            ticks.append(n)

        def close(self):
            ticks.append("closed")

    monkeypatch.setattr("tqdm.auto.tqdm", Bar)
    assert len(t.find(type="model_version")) == 4
    assert ticks == [("total", 4), 1, 1, 1, 1, "closed"]
    t.stop()


WRITER = textwrap.dedent(
    """
    import json, random, sys, time
    sys.path.insert(0, sys.argv[1])
    from tracker.store import paths
    from tracker.store.local import LocalStore
    LocalStore.settle_seconds = float(sys.argv[4])
    paths.INDEX_CHUNK = 10
    from tracker import Tracker
    root, name, window, n, acks = sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6]
    t = Tracker(root, git=False)
    rnd = random.Random(name)
    with open(acks, "a") as log:
        for i in range(int(n)):
            v = rnd.randint(1, 30)
            t.log_tag(f"model_version/m@{v}", name, i)
            log.write(json.dumps([v, name, i]) + "\\n")
            log.flush()
            time.sleep(rnd.random() * 0.01)
    t.stop()
    """
)


def test_concurrent_writers_never_see_a_change_hidden(tmp_path, monkeypatch):
    """Four writer processes tag random versions while this one queries: every find returns,
    for every (version, writer), at least the value acknowledged before the find began; once
    they are done, exactly what the versions hold."""
    window = 0.3
    monkeypatch.setattr(LocalStore, "settle_seconds", window)
    monkeypatch.setattr(
        fingerprints_module, "RACY_SECONDS", 0.0
    )  # ns clocks here: exercise the index
    monkeypatch.setattr(paths, "INDEX_CHUNK", 10)
    root = tmp_path / "s"
    t = Tracker(str(root), git=False)
    for _ in range(30):
        t.log_tag(t.create_resource("m", type="model_version"), "status", "NO")
    t.stop()
    acks = tmp_path / "acks.jsonl"
    acks.touch()
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                str(script),
                os.getcwd(),
                str(root),
                f"w{i}",
                str(window),
                "150",
                acks,
            ],
            stderr=subprocess.PIPE,
        )
        for i in range(4)
    ]
    finds = 0
    try:
        while any(p.poll() is None for p in procs) or finds < 3:
            acked: dict[tuple[int, str], int] = {}
            for line in acks.read_text().splitlines():
                v, name, i = json.loads(line)
                acked[(v, name)] = max(i, acked.get((v, name), -1))
            rows = {
                r["version"]: r
                for r in Tracker(str(root), git=False).find(type="model_version").rows
            }
            for (v, name), i in acked.items():
                assert rows[v].get(f"tags.{name}", -1) >= i, (v, name, i)
            finds += 1
    finally:
        for p in procs:
            p.wait(timeout=120)
    assert all(p.returncode == 0 for p in procs), [p.stderr.read() for p in procs]
    assert finds >= 3
    time.sleep(window * 2)
    reader = Tracker(str(root), git=False)
    truth = {v: reader.get_tags(f"model_version/m@{v}") for v in range(1, 31)}
    for _ in range(2):  # the second run trusts what the first settled
        rows = Tracker(str(root), git=False).find(type="model_version").rows
        got = {
            r["version"]: {k[5:]: x for k, x in r.items() if k.startswith("tags.")} for r in rows
        }
        assert got == truth
    assert chunk0(root)["entries"]  # the index was used, not just rebuilt each time
    assert len(list((root / "resources/model_version/m/changes").iterdir())) >= 4


def test_warm_find_on_s3_costs_a_bounded_number_of_requests(s3_backend, monkeypatch):
    monkeypatch.setattr(
        fingerprints_module, "RACY_SECONDS", 0.0
    )  # ETags, not clocks, validate on S3
    monkeypatch.setattr(Store, "settle_seconds", 0.0)
    t = s3_backend.make()
    for i in range(120):
        r = t.create_resource("m", type="model_version")
        t.log_tag(r, "status", "DEPLOYED" if i % 40 == 0 else "NO")
    t.stop()
    reader = s3_backend.make()
    assert where(reader) == [1, 41, 81]
    s3_backend.proxy.reset_counts()
    assert where(s3_backend.make()) == [1, 41, 81]
    reqs = s3_backend.proxy.requests
    # the format file, HEAD and the version it names (a hint is confirmed before it is
    # trusted), one probe past it, one LIST of the change log, one index chunk
    assert len(reqs) <= 7, reqs
    assert not [p for m, p, _ in reqs if m == "PUT"]
    reader.log_tag("model_version/m@2", "status", "DEPLOYED")
    s3_backend.proxy.reset_counts()
    assert where(s3_backend.make()) == [1, 2, 41, 81]
    # + the writer's change file, then for version 2 alone: a LIST to validate it, its reads
    # (resource, LIST, snapshot, the newer tag) and the chunk's PUT (the HEAD hint's check: +1)
    assert len(s3_backend.proxy.requests) <= 14, "\n".join(map(str, s3_backend.proxy.requests))
    reader.stop()


def test_many_new_local_versions_are_read_by_worker_processes(tmp_path):
    """A fresh process (no other thread) reads new versions in forked workers: same answer."""
    root = tmp_path / "s"
    t = Tracker(str(root), git=False)
    for i in range(40):
        t.log_tag(t.create_resource("m", type="model_version"), "status", f"s{i % 3}")
    t.stop()
    out = forked_find(root, "tags.status = 's1'")
    assert out["found"] == [v for v in range(1, 41) if (v - 1) % 3 == 1]
    assert sum(out["forked"]) >= 30  # the batches of 4 and more went to the workers


def test_a_damaged_entry_or_position_is_read_anew_not_an_error(store):
    assert where(Tracker(str(store), git=False)) == [1, 3, 5]
    path = store / "resources/model_version/m/index-0.json"
    data = path.read_bytes()
    cut = data.index(b"\n")
    head = json.loads(data[:cut])
    start, length = head["spans"]["3"]
    body = bytearray(data[cut + 1 :])
    body[start : start + length] = b"x" * length  # entry of version 3: not JSON any more
    for name in head["marks"]:
        head["marks"][name] = ["bad"]  # a position that is not [stamp, settled, lines]
    head["memo"] = {}
    path.write_bytes(json.dumps(head).encode() + b"\n" + bytes(body))
    assert where(Tracker(str(store), git=False)) == [1, 3, 5]
    assert chunk0(store)["entries"]["3"]["r"]["doc"]["tags"]["status"] == "DEPLOYED"
