"""The promises of the ``Store`` interface (tracker.store.base), as one abstract test class.

In the style of fsspec's ``fsspec/tests/abstract``: :class:`StoreContract` holds every test; a
backend runs them by a one-line subclass (see tests/test_store_contract.py) that names the
backend and declares its capabilities:

- ``links``: symbolic links and special files can exist below the root (local disks), so the
  store must refuse to go through them and fsck's maintenance group must find them;
- ``folders``: a folder exists without a file in it (local disks, not object stores), so
  ``empty_dirs``/``remove_empty_dirs`` have something to do;
- ``pids``: temp files name a process on this machine, so ``writer_alive`` can tell.

Each test asserts what the store returns *and* what lies beneath (read back through a second,
fresh store object on the same root, or the raw filesystem where the promise is about it).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import time
import uuid
from typing import Any, ClassVar

import fsspec
import pytest

from tracker.errors import CorruptFile, TrackerError
from tracker.store import Store, open_store
from tracker.store.base import MAX_READ, SPECIAL_FILE, SYMLINK, TMP_PREFIX, Entry

DEAD_PID = 4_000_000  # above the default pid_max: never a live process
V = "resources/model/m/3"  # a version directory, as the layout has it


class StoreContract:
    """Every promise of a Store. Subclasses set ``backend`` and the capabilities."""

    backend: ClassVar[str]
    links: ClassVar[bool] = False
    folders: ClassVar[bool] = False
    pids: ClassVar[bool] = False

    # -- fixtures --------------------------------------------------------------------------------
    @pytest.fixture
    def where(self, request: pytest.FixtureRequest, tmp_path: Any) -> Any:
        """``(root, storage_options)`` of a fresh, empty store of this backend."""
        if self.backend == "local":
            yield str(tmp_path / "store"), None
        elif self.backend == "memory":
            root = f"memory://store-contract-{uuid.uuid4().hex}"
            yield root, None
            with contextlib.suppress(FileNotFoundError):  # a test that wrote nothing
                fsspec.filesystem("memory").rm(root.split("://", 1)[1], recursive=True)
        else:
            s3 = request.getfixturevalue("s3_backend")
            yield s3.root, s3.storage_options

    @pytest.fixture
    def store(self, where: tuple[str, Any]) -> Store:
        return open_store(where[0], where[1])

    @pytest.fixture
    def other(self, where: tuple[str, Any]) -> Store:
        """A second store object on the same root: what another process sees."""
        return open_store(where[0], where[1])

    # -- whole-file writes -----------------------------------------------------------------------
    def test_write_replaces_the_whole_file(self, store: Store, other: Store) -> None:
        store.write("a/b.yaml", b"x" * 5000)
        store.write("a/b.yaml", b"short")
        assert store.read("a/b.yaml") == b"short" and other.read("a/b.yaml") == b"short"
        assert other.size("a/b.yaml") == 5

    def test_write_returns_the_stamp_a_listing_gives(self, store: Store, other: Store) -> None:
        entry = store.write(f"{V}/tags/k.yaml", b"value: 1\n")
        seen = other.stat(f"{V}/tags/k.yaml")
        assert seen is not None and seen.size == 9
        if entry is not None:  # backends that learn it for free
            assert entry.stamp == seen.stamp
        listed = {e.name: e for e in other.list(f"{V}/tags", detail=True)}
        assert listed["k.yaml"].stamp == seen.stamp

    def test_a_rewrite_changes_the_stamp(self, store: Store, other: Store) -> None:
        store.write("k.yaml", b"value: 1\n")
        first = other.stat("k.yaml")
        store.write("k.yaml", b"value: 2\n")  # same size: only the stamp can tell
        second = other.stat("k.yaml")
        assert first is not None and second is not None and first.stamp != second.stamp
        assert other.read("k.yaml") == b"value: 2\n"

    def test_refused_exclusive_create_leaves_the_first_bytes(
        self, store: Store, other: Store
    ) -> None:
        assert store.create("HEAD", b"1") is True
        assert other.create("HEAD", b"2") is False
        assert store.create("HEAD", b"3") is False
        assert other.read("HEAD") == b"1" and store.read("HEAD") == b"1"

    # -- missing files ---------------------------------------------------------------------------
    def test_missing_files_read_as_none_and_list_as_empty(self, store: Store) -> None:
        assert store.read("no/such.yaml") is None
        assert store.read_many(["no/such.yaml"]) == {"no/such.yaml": None}
        assert store.exists("no/such.yaml") is False
        assert store.size("no/such.yaml") is None and store.stat("no/such.yaml") is None
        assert store.list("no/such") == [] and store.walk("no/such") == {}
        assert store.sha256("no/such.bin") is None
        assert store.move("no/such.yaml", "elsewhere.yaml") is False
        store.remove("no/such.yaml")  # not an error
        store.remove("no/such", recursive=True)
        assert store.walk("") == {}

    def test_read_many_reads_each_file(self, store: Store) -> None:
        store.write("a.yaml", b"A")
        store.write("d/b.yaml", b"B")
        assert store.read_many(["a.yaml", "d/b.yaml", "c.yaml"]) == {
            "a.yaml": b"A",
            "d/b.yaml": b"B",
            "c.yaml": None,
        }

    # -- listings --------------------------------------------------------------------------------
    def test_listings_hide_temp_files(self, store: Store) -> None:
        store.write("d/x.yaml", b"x")
        temp = f"d/{TMP_PREFIX}{DEAD_PID}-0-x.yaml"
        store.write(temp, b"half")  # what a writer killed before its rename leaves
        assert [e.name for e in store.list("d")] == ["x.yaml"]
        assert set(store.walk("")) == {"d/x.yaml"}
        assert set(store.walk("", include_temp=True)) == {"d/x.yaml", temp}

    def test_list_and_walk_tell_files_from_folders(self, store: Store) -> None:
        store.write("top/f.yaml", b"1")
        store.write("top/sub/g.yaml", b"22")
        listed = {e.name: e.is_dir for e in store.list("top")}
        assert listed == {"f.yaml": False, "sub": True}
        walked = store.walk("top")
        assert set(walked) == {"f.yaml", "sub/g.yaml"} and walked["sub/g.yaml"].size == 2
        assert all(isinstance(e, Entry) and not e.is_dir for e in walked.values())

    def test_list_version_covers_the_kinds_asked_and_the_snapshot(self, store: Store) -> None:
        for rel in ("tags/a.yaml", "metadata/b.yaml", "children/model/n@1", "snapshot.json"):
            store.write(f"{V}/{rel}", b"1")
        store.write(f"{V}/artifacts/x/tok/big.bin", b"not asked for")
        found = store.list_version(V, ("tags", "metadata", "attrs", "children"))
        expected = {"tags/a.yaml", "metadata/b.yaml", "children/model/n@1", "snapshot.json"}
        assert expected <= set(found)  # a backend may list more (one recursive listing)
        assert set(found) <= expected | {"artifacts/x/tok/big.bin"}
        assert found["tags/a.yaml"].stamp == store.stat(f"{V}/tags/a.yaml").stamp  # type: ignore[union-attr]

    def test_list_version_stamped_is_the_listing_plus_the_stamps_taken_before_it(
        self, store: Store
    ) -> None:
        for rel in ("resource.yaml", "tags/a.yaml", "metrics/loss/c1.tsv", "snapshot.json"):
            store.write(f"{V}/{rel}", b"1")
        kinds = ("tags", "metadata", "attrs", "metrics")
        found, stamps = store.list_version_stamped(V, kinds)
        resource = stamps["resource.yaml"]
        assert found == {"resource.yaml": resource, **store.list_version(V, kinds)}
        assert {"tags/a.yaml", "metrics/loss/c1.tsv", "snapshot.json", "resource.yaml"} <= set(
            found
        )
        assert resource is not None and resource.stamp == store.stat(f"{V}/resource.yaml").stamp  # type: ignore[union-attr]
        assert set(kinds) <= set(stamps)
        assert stamps["metadata"] is None  # a folder that does not exist
        _, gone = store.list_version_stamped("resources/model/m/4", kinds)
        assert gone["resource.yaml"] is None and all(gone[k] is None for k in kinds)
        if store.is_local:  # folders exist: their own stamps, and one per metric key folder
            assert stamps["tags"] == store.stat(f"{V}/tags")
            assert stamps["metrics/loss"] is not None and stamps["metrics/loss"].is_dir
            assert [stamps[k] is not None for k in kinds] == [True, False, False, True]

    def test_a_folder_whose_stamp_the_caller_holds_is_not_scanned(self, store: Store) -> None:
        for rel in ("resource.yaml", "tags/a.yaml", "attrs/b.yaml"):
            store.write(f"{V}/{rel}", b"1")
        kinds = ("tags", "attrs")
        time.sleep(0.05)  # past the clock tick of those writes (snapshots wait RACY_SECONDS)
        _, stamps = store.list_version_stamped(V, kinds)
        held = {k: [e.mtime_ns, e.ino] for k in kinds if (e := stamps[k]) is not None}
        found, _ = store.list_version_stamped(V, kinds, {"tags": held.get("tags", [0, 0])})
        if not store.folder_stamps:  # nothing vouches for a folder: everything is listed
            assert {"tags/a.yaml", "attrs/b.yaml"} <= set(found)
            return
        assert "tags/a.yaml" not in found and "attrs/b.yaml" in found
        store.write(f"{V}/tags/c.yaml", b"2")  # the folder changed: its old stamp vouches for none
        found, _ = store.list_version_stamped(V, kinds, {"tags": held["tags"]})
        assert {"tags/a.yaml", "tags/c.yaml"} <= set(found)
        store.remove(f"{V}/tags/c.yaml")
        found, _ = store.list_version_stamped(V, kinds, {"tags": held["tags"], "metrics": [1, 2]})
        assert "tags/a.yaml" in found and "tags/c.yaml" not in found

    # -- size bound ------------------------------------------------------------------------------
    def test_a_file_over_the_size_bound_is_refused_unread(
        self, store: Store, tmp_path: Any
    ) -> None:
        big = tmp_path / "big.bin"
        with open(big, "wb") as fh:  # sparse: costs no disk
            fh.truncate(MAX_READ + 1)
        store.upload(str(big), "tags/huge.yaml")
        assert store.size("tags/huge.yaml") == MAX_READ + 1
        with pytest.raises(CorruptFile, match="larger than"):
            store.read("tags/huge.yaml")

    # -- copies in and out -----------------------------------------------------------------------
    def test_upload_describes_the_bytes_copied(self, store: Store, tmp_path: Any) -> None:
        data = os.urandom(3 * 1024 * 1024 + 17)  # over one chunk
        src = tmp_path / "src.bin"
        src.write_bytes(data)
        seen: list[int] = []
        digest, size = store.upload(str(src), "art/tok/odd name%.bin", seen.append)
        assert (
            (digest, size)
            == (hashlib.sha256(data).hexdigest(), len(data))
            == (
                store.sha256("art/tok/odd name%.bin"),
                store.size("art/tok/odd name%.bin"),
            )
        )
        assert sum(seen) == len(data)
        store.download("art/tok/odd name%.bin", str(tmp_path / "back.bin"))
        assert (tmp_path / "back.bin").read_bytes() == data

    def test_remove_and_move(self, store: Store, other: Store) -> None:
        store.write("t/a/1.yaml", b"1")
        store.write("t/a/2/3.yaml", b"3")
        store.write("keep.yaml", b"k")
        assert store.move("keep.yaml", "moved/keep.yaml") is True
        assert other.read("moved/keep.yaml") == b"k" and other.exists("keep.yaml") is False
        store.remove("t/a/1.yaml")
        assert other.read("t/a/1.yaml") is None and other.read("t/a/2/3.yaml") == b"3"
        store.remove("t", recursive=True)
        assert set(other.walk("")) == {"moved/keep.yaml"}

    # -- reading in place ------------------------------------------------------------------------
    def test_in_place_and_contains(self, store: Store, tmp_path: Any) -> None:
        store.write("art/f.bin", b"bytes")
        place = store.in_place("art/f.bin")
        if self.backend == "local":
            assert place is not None and open(place, "rb").read() == b"bytes"
            assert store.contains(place) and not store.contains(str(tmp_path / "elsewhere"))
            assert store.in_place("art/none.bin") is None
        else:
            assert place is None and not store.contains(str(tmp_path))

    # -- the maintenance group -------------------------------------------------------------------
    def test_irregular_files_of_a_clean_store(self, store: Store) -> None:
        store.write(f"{V}/tags/a.yaml", b"1")
        store.write(f"{V}/{TMP_PREFIX}{DEAD_PID}-0-x", b"")
        assert store.irregular_files() == {}

    def test_writer_alive(self, store: Store) -> None:
        dead = f"{V}/tags/{TMP_PREFIX}{DEAD_PID}-0-a.yaml"
        mine = f"{V}/tags/{TMP_PREFIX}{os.getpid()}-0-a.yaml"
        if self.pids:
            assert store.writer_alive(dead) is False and store.writer_alive(mine) is True
        else:  # a remote writer may run on any machine: never provably gone
            assert store.writer_alive(dead) is None and store.writer_alive(mine) is None
        assert store.writer_alive(f"{V}/tags/a.yaml") is None

    def test_empty_dirs_and_their_removal(self, store: Store, where: tuple[str, Any]) -> None:
        store.write(f"{V}/resource.yaml", b"type: model\n")
        store.write(f"{V}/tags/{TMP_PREFIX}{DEAD_PID}-0-a.yaml", b"")
        store.remove(f"{V}/resource.yaml")  # left: a folder holding only a temp file
        store.write("resources/model/m/4/resource.yaml", b"type: model\n")
        empty = store.empty_dirs("resources", 3)
        if self.folders:
            assert set(empty) == {V} and isinstance(empty[V], float)
            store.remove(f"{V}/tags/{TMP_PREFIX}{DEAD_PID}-0-a.yaml")
            store.remove_empty_dirs(V)
            assert not os.path.lexists(os.path.join(where[0], V))
        else:  # no folder exists without a file: nothing to find, nothing to remove
            assert empty == {}
            store.remove_empty_dirs(V)
        assert store.read("resources/model/m/4/resource.yaml") == b"type: model\n"

    def test_remove_empty_dirs_never_removes_a_file(self, store: Store) -> None:
        store.write(f"{V}/tags/a.yaml", b"1")
        store.remove_empty_dirs(V)
        assert store.read(f"{V}/tags/a.yaml") == b"1"

    # -- validators for the query index (tracker.store.fingerprints) ---------------------------
    def test_fingerprints_change_with_what_find_reads(
        self, store: Store, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        from tracker.store import fingerprints

        monkeypatch.setattr(fingerprints, "RACY_SECONDS", 0.0)  # exact clocks: no racy window
        assert store.settle_seconds > 0 and store.read_parallelism >= 1
        store.write(f"{V}/resource.yaml", b"type: model\n")
        store.write(f"{V}/tags/k.yaml", b"key: k\nvalue: 1\n")
        fp = store.fingerprints("model", "m")
        fp.expect(100)  # may list the whole series once
        first = fp.of([3, 4])
        assert first[4] is None  # no such version: nothing to trust
        if first[3] is None:  # a backend without content hashes or exact stamps
            assert self.backend == "memory"
            return
        store.write(f"{V}/tags/k.yaml", b"key: k\nvalue: 2\n")
        store.write(f"{V}/metadata/m.yaml", b"key: m\nvalue: 1\n")
        again = store.fingerprints("model", "m").of([3])[3]
        assert again is not None and again != first[3]
        store.write(f"{V}/artifacts/a/t/f", b"x")  # artifacts are not what find reads
        assert store.fingerprints("model", "m").of([3])[3] == again

    # -- links (backends that have them) ---------------------------------------------------------
    def test_links_and_special_files_are_found_and_never_followed(
        self, store: Store, where: tuple[str, Any], tmp_path: Any
    ) -> None:
        if not self.links:
            pytest.skip(f"{self.backend} has no links or special files")
        root = where[0]
        outside = tmp_path / "outside"
        outside.mkdir()
        (outside / "secret.yaml").write_bytes(b"key: s\nvalue: secret\n")
        store.write(f"{V}/tags/a.yaml", b"1")
        os.symlink(outside, os.path.join(root, V, "metadata"))
        os.symlink(outside / "secret.yaml", os.path.join(root, V, "tags", "b.yaml"))
        os.mkfifo(os.path.join(root, V, "tags", "c.yaml"))
        assert store.irregular_files() == {
            f"{V}/metadata": SYMLINK,
            f"{V}/tags/b.yaml": SYMLINK,
            f"{V}/tags/c.yaml": SPECIAL_FILE,
        }
        with pytest.raises(CorruptFile):
            store.read(f"{V}/metadata/secret.yaml")  # a link on the way
        with pytest.raises(CorruptFile):
            store.read(f"{V}/tags/b.yaml")  # a link at the end
        with pytest.raises(CorruptFile):
            store.read(f"{V}/tags/c.yaml")  # a FIFO: never opened for reading, never blocks
        with pytest.raises(TrackerError):
            store.write(f"{V}/metadata/new.yaml", b"x")
        with pytest.raises(CorruptFile):
            store.in_place(f"{V}/tags/b.yaml")
        assert sorted(os.listdir(outside)) == ["secret.yaml"]  # nothing written through it
        store.remove(f"{V}/metadata", recursive=True)  # removes the link, never its target
        assert (outside / "secret.yaml").read_bytes() == b"key: s\nvalue: secret\n"
