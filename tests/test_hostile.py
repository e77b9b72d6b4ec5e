"""Hostile input and a hostile store.

Input (hypothesis): ids, keys, types and artifact ids with unicode, NUL, ``..``, ``/``, ``%``,
great length or a difference only in case either round-trip exactly or raise a ``TrackerError``,
and no file ever appears outside the root. Values (deep nesting, huge strings, NaN, infinities,
bytes, odd unicode) round-trip or raise ``UnsupportedValue`` before anything is written.

Store: YAML with ``!!python`` tags, alias bombs, a 1 GB key file, absurd nesting, manifests naming
``../`` or absolute paths or traversing tokens, symbolic links inside artifact directories: every
read fails quickly with a clear ``TrackerError``, nothing is executed, and ``get_artifact`` writes
nothing outside its destination.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tracker import Tracker
from tracker.errors import CorruptFile, InvalidKey, KeyCollision, TrackerError, UnsupportedValue

V = "resources/model_version/m/1"
MAIN = str(Path(__file__).resolve().parents[1])


def examples(torture: bool, default: int) -> int:
    return default * 10 if torture else default


# -- names ---------------------------------------------------------------------------------------
HOSTILE_NAMES = [
    "..",
    ".",
    "...",
    "/",
    "a/b",
    "../../etc/passwd",
    "/etc/passwd",
    "\x00",
    "a\x00b",
    "%",
    "%2F",
    "%2e%2e",
    "con",
    "NUL",
    " ",
    "\t\n",
    "\\",
    "..\\..\\x",
    "~",
    "@1",
    "x@2",
    "é",
    "e\u0301",
    "\u202e",
    "\ufeff",
    "\U0001f600",
    "Key",
    "key",
    "KEY",
    "x" * 60,
    "\u00e9" * 40,
    "y" * 250,
    ".hidden",
    "",
]
names = st.one_of(st.sampled_from(HOSTILE_NAMES), st.text(min_size=0, max_size=30))


def outside_files(parent: Path, root: Path, allowed: set[Path]) -> list[str]:
    """Files under ``parent`` that are neither in the root nor in ``allowed`` directories."""
    out = []
    for dirpath, _, filenames in os.walk(parent):
        for name in filenames:
            p = Path(dirpath) / name
            if root in p.parents or any(a == p or a in p.parents for a in allowed):
                continue
            out.append(str(p))
    return out


@pytest.fixture
def sandbox(tmp_path: Path) -> dict[str, Path]:
    """``parent/store`` is the root; sources and destinations live in a sibling ``work`` dir."""
    parent = tmp_path / "parent"
    parent.mkdir()
    work = tmp_path / "work"
    work.mkdir()
    return {"parent": parent, "root": parent / "store", "work": work}


def test_hostile_names_round_trip_or_raise(sandbox, torture):
    root, work = sandbox["root"], sandbox["work"]
    t = Tracker(str(root), git=False, progress=False)
    src = work / "payload.bin"
    src.write_bytes(b"payload \x00\xff")
    counter = [0]

    @settings(
        max_examples=examples(torture, 60),
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(rtype=names, rid=names, key=names, aid=names)
    def run(rtype: str, rid: str, key: str, aid: str) -> None:
        counter[0] += 1
        try:
            res = t.create_resource(rid, type=rtype or "thing")
        except TrackerError:
            return
        assert (res.type, res.id) == (rtype or "thing", rid)
        assert t.get_resource(rid, rtype or "thing") == res
        if "/" not in res.type:  # see test_type_with_slash_makes_an_ambiguous_ref
            assert t.get_resource(rid, rtype or "thing", version=res.version) == res
        value = {"key": key, "n": counter[0]}
        try:
            t.log_tag(res, key, value)
        except TrackerError:
            assert t.get_tags(res) == {}
        else:
            assert t.get_tag(res, key) == value
            assert t.get_tags(res) == {key: value}
            assert t.describe(res)["tags"] == {key: value}
        try:
            t.log_artifact(res, aid, str(src))
        except TrackerError:
            assert t.artifacts(res) == {}
        else:
            assert list(t.artifacts(res)) == [aid]
            with open(t.get_artifact(res, aid), "rb") as fh:
                assert fh.read() == b"payload \x00\xff"
            dest = work / "dest"
            got = Path(t.get_artifact(res, aid, dest=str(dest), overwrite=True))
            assert dest in got.parents and got.read_bytes() == b"payload \x00\xff"
        assert outside_files(sandbox["parent"], root, set()) == []

    run()
    t.stop()
    assert t.check().ok
    assert sorted(os.listdir(sandbox["parent"])) == ["store"]


def test_hostile_names_on_memory_and_s3(backend, tmp_path, torture):
    if backend.name == "local":
        return  # the test above
    t = backend.make(progress=False)
    src = tmp_path / "payload.bin"
    src.write_bytes(b"payload")

    @settings(
        max_examples=examples(torture, 25 if backend.name == "memory" else 8),
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(rid=names, key=names)
    def run(rid: str, key: str) -> None:
        try:
            res = t.create_resource(rid, type="thing")
        except TrackerError:
            return
        try:
            t.log_tag(res, key, key)
            t.log_artifact(res, key, str(src))
        except TrackerError:
            return
        assert t.get_tag(res, key) == key and t.get_tags(res) == {key: key}
        with open(t.get_artifact(res, key), "rb") as fh:
            assert fh.read() == b"payload"

    run()
    t.stop()
    assert t.check().ok


def test_keys_differing_only_in_case_stay_apart_or_collide_loudly(tmp_path):
    t = Tracker(str(tmp_path / "store"), git=False)
    res = t.create_resource("m", type="model_version")
    for key in ("key", "Key", "KEY"):
        t.log_tag(res, key, key.swapcase())
    assert t.get_tags(res) == {"key": "KEY", "Key": "kEY", "KEY": "key"}
    # a case-insensitive filesystem: one file, written under another spelling
    (tmp_path / "store" / V / "tags" / "key.yaml").write_text("key: KEY\nvalue: 1\n")
    with pytest.raises(KeyCollision, match="KEY"):
        t.get_tag(res, "key")
    with pytest.raises(KeyCollision):
        t.get_tags(res)
    with pytest.raises(KeyCollision):
        t.describe(res)
    t.stop()


def test_type_with_slash_makes_an_ambiguous_ref(tmp_path):
    t = Tracker(str(tmp_path / "store"), git=False)
    first = t.create_resource("b/c", type="a")
    t.log_tag(first, "who", "type a, id b/c")
    with pytest.raises(InvalidKey, match="ambiguous"):  # refused: no ambiguity
        t.create_resource("c", type="a/b")
    assert t.get_tag("a/b/c@1", "who") == "type a, id b/c"


# -- values --------------------------------------------------------------------------------------
def same(a: Any, b: Any) -> bool:
    """Equality where NaN equals NaN and types must match (1 is not 1.0 is not True)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or (
            a == b and math.copysign(1, a) == math.copysign(1, b)
        )
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return bool(a == b)


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(),
    st.binary(max_size=50),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.text(max_size=10), st.integers()), inner, max_size=4),
    ),
    max_leaves=20,
)


def test_values_round_trip_exactly(tmp_path, torture):
    t = Tracker(str(tmp_path / "store"), git=False)
    res = t.create_resource("m", type="model_version")
    reader = Tracker(str(tmp_path / "store"), git=False)

    @settings(
        max_examples=examples(torture, 150),
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )
    @given(value=values)
    def run(value: Any) -> None:
        t.log_metadata(res, "v", value)
        assert same(reader.get_metadata(res.ref, "v"), value), value
        t.log_tag(res, "v", value)
        assert same(reader.get_tags(res.ref)["v"], value), value

    run()
    t.clean_resource(res)  # through the snapshot, too
    t.log_metadata(res, "nan", float("nan"))
    t.clean_resource(res)
    assert math.isnan(reader.describe(res.ref)["metadata"]["nan"])
    t.stop()


@pytest.mark.parametrize(
    "value",
    [
        float("nan"),
        float("inf"),
        float("-inf"),
        -0.0,
        2**100,
        b"\x00\xff" * 1000,
        "\x00\x85\u2028\u2029\ufeff\r\n\t \x1b",
        "---\n...\n",
        "!!python/object:os.system",
        "&a *a",
        {"yes": "no", "on": "off", "null": None, "~": "~", "0x1F": "0o17", "1e3": "1_000"},
        {1: "int key", "1": "str key", None: "null key", False: "bool key"},
        [[[[[[[[[["ten deep"]]]]]]]]]],
    ],
)
def test_odd_values_round_trip(tmp_path, value):
    t = Tracker(str(tmp_path / "store"), git=False)
    res = t.create_resource("m", type="model_version")
    t.log_metadata(res, "v", value)
    assert same(Tracker(str(tmp_path / "store"), git=False).get_metadata(res.ref, "v"), value)
    t.stop()


def test_deep_and_huge_values(tmp_path):
    t = Tracker(str(tmp_path / "store"), git=False)
    res = t.create_resource("m", type="model_version")
    deep: Any = "bottom"
    for _ in range(90):
        deep = [deep]
    t.log_metadata(res, "deep", deep)
    assert t.get_metadata(res, "deep") == deep
    for _ in range(20):
        deep = {"d": deep}
    with pytest.raises(UnsupportedValue, match="deeper"):
        t.log_metadata(res, "deeper", deep)
    big = "x" * (8 * 1024 * 1024)
    t.log_tag(res, "big", big)
    assert t.get_tag(res, "big") == big
    with pytest.raises(UnsupportedValue):
        t.log_tags(res, {"ok": 1, "bad": object()})
    assert t.get_tag(res, "ok") is None  # one bad value writes nothing at all
    assert "deeper" not in t.get_all_metadata(res)
    t.stop()


def test_a_value_too_large_to_read_back_is_refused_before_writing(tmp_path):
    t = Tracker(str(tmp_path / "store"), git=False)
    res = t.create_resource("m", type="model_version")
    with pytest.raises(UnsupportedValue):
        t.log_tag(res, "huge", "x" * (65 * 1024 * 1024))
    assert t.get_tags(res) == {}
    t.stop()


# -- a hostile store -----------------------------------------------------------------------------
@pytest.fixture
def store(tmp_path: Path) -> tuple[Tracker, Any, Path]:
    root = tmp_path / "parent" / "store"
    t = Tracker(str(root), git=False, progress=False)
    res = t.create_resource("m", type="model_version")
    t.log_tag(res, "k", "v")
    src = tmp_path / "work" / "a.txt"
    src.parent.mkdir()
    src.write_text("hello")
    t.log_artifact(res, "art", str(src))
    folder = tmp_path / "work" / "folder"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "f.txt").write_text("in a folder")
    t.log_artifact(res, "dir", str(folder))
    t.stop()
    return t, res, root


def reads(t: Tracker, res: Any) -> dict[str, Any]:
    return {
        "get_tag": lambda: t.get_tag(res.ref, "k"),
        "get_tags": lambda: t.get_tags(res.ref),
        "describe": lambda: t.describe(res.ref),
        "find": lambda: t.find(type="model_version", where="tags.k = 'v'"),
    }


PWNED = "/tmp/tracker-test-pwned"


@pytest.mark.parametrize(
    "payload",
    [
        f"key: k\nvalue: !!python/object/apply:os.system ['touch {PWNED}']\n",
        f"key: k\nvalue: !!python/object/new:subprocess.Popen [['touch', '{PWNED}']]\n",
        "key: k\nvalue: !!python/name:os.system\n",
        "key: !!python/object:tracker.Tracker {}\nvalue: 1\n",
        "key: k\nvalue: !!binary 'é'\n",
        "key: k\nvalue: [unclosed\n",
        "\x00\x01\x02 not yaml",
        "- just\n- a list\n",
    ],
)
def test_hostile_yaml_fails_safely(store, payload):
    t, res, root = store
    (root / V / "tags" / "k.yaml").write_text(payload)
    for name, read in reads(t, res).items():
        with pytest.raises(CorruptFile):
            read()
        assert not os.path.exists(PWNED), name
    report = t.check()
    assert [(p.kind, p.path) for p in report.problems] == [("unparsable", f"{V}/tags/k.yaml")] or [
        (p.kind, p.path) for p in report.problems
    ] == [("identity", f"{V}/tags/k.yaml")]


@pytest.mark.parametrize(
    "value",
    [
        "2020-02-30",  # a plain scalar that looks like a date
        "2020-01-01 25:00:00",
        "!!timestamp 'soon'",
        "!!int 'x'",
        "!!float 'x'",
        "!!bool 'maybe'",
        pytest.param("!!int " + "9" * 5000, id="int-past-the-digit-limit"),
    ],
)
def test_constructor_errors_are_corrupt_files(store, value):
    t, res, root = store
    (root / V / "tags" / "k.yaml").write_text(f"key: k\nvalue: {value}\n")
    for read in reads(t, res).values():
        with pytest.raises(CorruptFile):
            read()


def alias_bomb(levels: int = 9) -> str:
    text = "key: k\nvalue: &l0 [" + ",".join(["lol"] * 10) + "]\n"
    for i in range(1, levels + 1):
        text += f"l{i}: &l{i} [" + ",".join([f"*l{i - 1}"] * 10) + "]\n"
    return text


def test_alias_bomb_is_refused_quickly(store):
    t, res, root = store
    (root / V / "tags" / "k.yaml").write_text(alias_bomb())
    for read in reads(t, res).values():
        start = time.monotonic()
        with pytest.raises(CorruptFile, match="aliases"):
            read()
        assert time.monotonic() - start < 2


def test_one_gigabyte_key_file_is_refused_unread(store, monkeypatch):
    t, res, root = store
    with open(root / V / "tags" / "k.yaml", "wb") as fh:
        fh.truncate(1 << 30)  # sparse: costs nothing on disk
    for read in reads(t, res).values():
        start = time.monotonic()
        with pytest.raises(CorruptFile, match="larger than"):
            read()
        assert time.monotonic() - start < 1


DEEP_SCRIPT = """
import sys
from tracker import Tracker
from tracker.errors import CorruptFile
t = Tracker(sys.argv[1], git=False)
for read in (lambda: t.get_tag("model_version/m@1", "k"), lambda: t.get_tags("model_version/m@1")):
    try:
        read()
    except CorruptFile as exc:
        print("CorruptFile", exc)
    else:
        print("parsed")
"""


def test_absurdly_nested_yaml_is_refused_without_crashing(store):
    _, _, root = store
    (root / V / "tags" / "k.yaml").write_bytes(b"key: k\nvalue: " + b"[" * 200_000)
    proc = subprocess.run(
        [sys.executable, "-c", DEEP_SCRIPT, str(root)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=MAIN,
    )
    assert proc.returncode == 0, f"reader died with {proc.returncode}: {proc.stderr[-300:]}"
    assert [line.split()[0] for line in proc.stdout.splitlines()] == ["CorruptFile"] * 2


def rewrite_manifest(root: Path, aid: str, **changes: Any) -> dict[str, Any]:
    path = root / V / "manifests" / f"{aid}.yaml"
    doc = yaml.safe_load(path.read_text())
    doc.update(changes)
    path.write_text(yaml.safe_dump(doc))
    return doc


@pytest.mark.parametrize(
    "change",
    [
        {"files": [{"path": "../../../../../../../../etc/passwd", "size": 1, "sha256": "0"}]},
        {"files": [{"path": "/etc/passwd", "size": 1, "sha256": "0"}]},
        {"files": [{"path": "a/../../b", "size": 1, "sha256": "0"}]},
        {"files": [{"path": "C:\\windows", "size": 1, "sha256": "0"}]},
        {"files": [{"path": "a\x00b", "size": 1, "sha256": "0"}]},
        {"files": "not a list"},
        {"files": [["not", "a", "mapping"]]},
        {"name": "../../../escape"},
        {"name": "/tmp/escape"},
        {"token": 5},
        {"id": "another"},
    ],
)
def test_hostile_manifest_fails_safely_and_writes_nowhere_else(store, tmp_path, change):
    t, res, root = store
    rewrite_manifest(root, "art", **change)
    dest = tmp_path / "dest"
    before = sorted(str(p) for p in tmp_path.rglob("*"))
    for kwargs in ({}, {"dest": str(dest)}):
        with pytest.raises(TrackerError):
            t.get_artifact(res.ref, "art", **kwargs)
    after = sorted(str(p) for p in tmp_path.rglob("*") if dest not in p.parents and p != dest)
    assert after == before
    assert not os.path.exists("/tmp/escape")
    assert not t.check().ok


@pytest.mark.parametrize(
    "change",
    [
        {"token": "../../../../../../../work"},
        {"token": ""},
        {"files": []},
    ],
)
def test_manifest_token_and_file_count_are_validated(store, tmp_path, change):
    t, res, root = store
    (tmp_path / "work" / "a.txt").write_text("hello")  # where a traversing token would point
    rewrite_manifest(root, "art", **change)
    for kwargs in ({}, {"dest": str(tmp_path / "dest")}):
        with pytest.raises(CorruptFile):
            t.get_artifact(res.ref, "art", **kwargs)


def test_symlinked_artifact_file_is_refused_in_place(store, tmp_path):
    t, res, root = store
    token = t.artifacts(res.ref)["art"]["token"]
    stored = root / V / "artifacts" / "art" / token / "a.txt"
    outside = tmp_path / "outside.txt"
    outside.write_text("hello")  # same bytes, same sha256: only the link gives it away
    stored.unlink()
    stored.symlink_to(outside)
    with pytest.raises(CorruptFile, match="symbolic link"):
        t.get_artifact(res.ref, "art")
    assert ("symlink", str(stored.relative_to(root))) in [
        (p.kind, p.path) for p in t.check().problems
    ]


GET_SCRIPT = """
import sys
from tracker import Tracker
from tracker.errors import TrackerError
t = Tracker(sys.argv[1], git=False, progress=False)
try:
    print("got", t.get_artifact("model_version/m@1", sys.argv[2], dest=sys.argv[3]))
except TrackerError as exc:
    print("refused", type(exc).__name__, exc)
"""


@pytest.mark.parametrize("target", ["fifo", "outside-file", "outside-dir"])
def test_symlinks_inside_artifacts_are_refused_with_a_destination(store, tmp_path, target):
    t, res, root = store
    aid = "dir" if target == "outside-dir" else "art"
    token = t.artifacts(res.ref)[aid]["token"]
    base = root / V / "artifacts" / aid / token
    if target == "fifo":
        link, pointee = base / "a.txt", tmp_path / "fifo"
        os.mkfifo(pointee)
    elif target == "outside-file":
        link, pointee = base / "a.txt", tmp_path / "outside.txt"
        pointee.write_text("hello")
    else:
        link, pointee = base / "sub", tmp_path / "outside-dir"
        pointee.mkdir()
        (pointee / "f.txt").write_text("in a folder")
        (base / "sub" / "f.txt").unlink()
    if link.is_dir():
        link.rmdir()
    else:
        link.unlink()
    link.symlink_to(pointee)
    dest = tmp_path / "dest"
    try:
        proc = subprocess.run(
            [sys.executable, "-c", GET_SCRIPT, str(root), aid, str(dest)],
            capture_output=True,
            text=True,
            timeout=3,
            cwd=MAIN,
        )
        out = proc.stdout
    except subprocess.TimeoutExpired:
        out = "hung"
    assert out.startswith("refused CorruptFile"), out
    if target == "outside-dir":
        with pytest.raises(CorruptFile):
            t.get_artifact(res.ref, aid)  # in place: the path must not lead outside the store


READ_SCRIPT = """
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, (1 << 31, 1 << 31))  # an endless read fails, not the box
from tracker import Tracker
from tracker.errors import TrackerError
t = Tracker(sys.argv[1], git=False)
reads = {
    "get_tag": lambda: t.get_tag("model_version/m@1", "k"),
    "get_tags": lambda: t.get_tags("model_version/m@1"),
    "fsck": lambda: print("fsck", sorted((p.kind, p.path) for p in t.check().problems)),
}
for name in sys.argv[2].split(","):
    try:
        reads[name]()
        print(name, "read")
    except TrackerError as exc:
        print(name, "refused", type(exc).__name__)
    except BaseException as exc:
        print(name, "raw", type(exc).__name__)
"""


def run_reads(root: Path, which: str, timeout: float = 10) -> str:
    try:
        proc = subprocess.run(
            [sys.executable, "-c", READ_SCRIPT, str(root), which],
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=MAIN,
        )
    except subprocess.TimeoutExpired:
        return "hung"
    return proc.stdout + proc.stderr[-300:]


def special_key_file(root: Path, tmp_path: Path, kind: str) -> Path:
    tag = root / V / "tags" / "k.yaml"
    tag.unlink()
    if kind == "link-to-dev-zero":
        tag.symlink_to("/dev/zero")
    elif kind == "link-to-fifo":
        os.mkfifo(tmp_path / "fifo")
        tag.symlink_to(tmp_path / "fifo")
    else:
        os.mkfifo(tag)
    return tag


@pytest.mark.parametrize("kind", ["link-to-dev-zero", "link-to-fifo", "fifo"])
def test_fsck_never_opens_links_or_special_files(store, tmp_path, kind):
    _, _, root = store
    special_key_file(root, tmp_path, kind)
    out = run_reads(root, "fsck")
    expected = "special-file" if kind == "fifo" else "symlink"
    assert f"fsck [('{expected}', '{V}/tags/k.yaml')]" in out, out


@pytest.mark.parametrize("kind", ["link-to-dev-zero", "link-to-fifo", "fifo"])
def test_reads_never_open_links_or_special_files(store, tmp_path, kind):
    _, _, root = store
    special_key_file(root, tmp_path, kind)
    for which in ("get_tag", "get_tags"):
        out = run_reads(root, which, timeout=3)
        assert out.startswith(f"{which} refused CorruptFile"), out


# -- the same on S3 ------------------------------------------------------------------------------
def test_hostile_objects_on_s3(s3_backend, tmp_path):
    t = s3_backend.make(progress=False)
    res = t.create_resource("m", type="model_version")
    t.log_tag(res, "k", "v")
    src = tmp_path / "a.txt"
    src.write_text("hello")
    t.log_artifact(res, "art", str(src))
    t.stop()
    fs, base = s3_backend.fs, s3_backend.base
    tag = f"{base}/{V}/tags/k.yaml"
    reader = s3_backend.make()
    reader.require_store()
    for payload in (
        alias_bomb(),
        f"key: k\nvalue: !!python/object/apply:os.system ['touch {PWNED}']\n",
    ):
        fs.pipe_file(tag, payload.encode())
        for read in reads(reader, res).values():
            with pytest.raises(CorruptFile):
                read()
    assert not os.path.exists(PWNED)
    # a 70 MB object: refused after one bounded GET and a HEAD, not downloaded
    fs.pipe_file(tag, b"x" * (70 * 1024 * 1024))
    proxy = s3_backend.proxy
    for read in reads(reader, res).values():
        proxy.reset_counts()
        start = time.monotonic()
        with pytest.raises(CorruptFile, match="larger than"):
            read()
        assert time.monotonic() - start < 5
        gets = [r for r in proxy.records if r.method == "GET" and r.path.endswith("/k.yaml")]
        assert gets and all((r.header("Range") or "").startswith("bytes=0-") for r in gets)
    report = t.check(verify=False)
    assert [(p.kind, p.path) for p in report.problems] == [("unparsable", f"{V}/tags/k.yaml")]
    # a manifest pointing out of its directory
    manifest = f"{base}/{V}/manifests/art.yaml"
    doc = yaml.safe_load(fs.cat_file(manifest))
    doc["files"][0]["path"] = "../../../../../../tags/k.yaml"
    fs.pipe_file(manifest, yaml.safe_dump(doc).encode())
    dest = tmp_path / "dest"
    with pytest.raises(CorruptFile):
        reader.get_artifact(res.ref, "art", dest=str(dest))
    assert not dest.exists() or not any(dest.iterdir())
    digest = hashlib.sha256(b"hello").hexdigest()
    assert json.dumps(digest)  # the payload was never fetched under another name
