"""Key files (tags, metadata, attributes) and the consolidated snapshot that makes bulk reads cheap.

One YAML file per key, ``{key, value, logged_at, run_id}``: writers of different keys never race
and the same key is last-writer-wins. Closing a version writes ``snapshot.json``: every key file
and manifest with the stamp it had (exact mtime + inode locally, ETag on object stores). A bulk
read lists the version once and reads only the files whose stamp differs from the snapshot's, so
a closed version costs a few requests whatever its size, and a key written after the snapshot
still wins. The snapshot is JSON (36x faster to parse than YAML through PyYAML's constructor);
values JSON cannot hold exactly (datetimes, bytes, non-string keys, NaN) keep their YAML text.
The key files stay YAML: they are what people read.
"""

from __future__ import annotations

import copy
import datetime as _dt
import json
import time
from collections import OrderedDict
from typing import Any

from tracker.errors import CorruptFile, KeyCollision, UnsupportedValue
from tracker.store import Store, paths
from tracker.store.base import MAX_READ, Entry
from tracker.store.codec import dump_record, loads, to_plain
from tracker.store.fingerprints import RACY_SECONDS
from tracker.store.jsonform import from_json, to_json

SNAPSHOT = paths.SNAPSHOT
LINK_KINDS = paths.LINK_KINDS  # re-exported for callers not yet switched to tracker.store.paths
SNAPSHOT_ENTRY_MAX = 64 * 1024  # JSON bytes of one key file in the snapshot; larger: by reference
SNAPSHOT_MAX = 16 * 1024 * 1024  # the whole snapshot stays far below the read bound
_CACHE_SIZE = 20_000  # parsed documents remembered by stamp (write-through and read)


def now() -> _dt.datetime:
    return _dt.datetime.now(_dt.timezone.utc)


def record(key: str, value: Any, run_id: str | None) -> tuple[bytes, dict[str, Any]]:
    """One key file's bytes and document; raises UnsupportedValue (naming the key) before
    anything is written."""
    doc = {"key": key, "value": to_plain(value, key), "logged_at": now(), "run_id": run_id}
    data = dump_record(doc, key)
    if len(data) > MAX_READ:
        raise UnsupportedValue(
            f"{key}: {len(data)} bytes of YAML, more than the {MAX_READ} a key file may hold "
            "(it could not be read back); log it as an artifact instead"
        )
    return data, doc


def decode_record(data: bytes, key: str | None, where: str) -> dict[str, Any]:
    rec = loads(data, where)
    if not isinstance(rec, dict) or "key" not in rec or "value" not in rec:
        raise CorruptFile(f"{where}: expected a mapping with 'key' and 'value'; run `tracker fsck`")
    if key is not None and rec["key"] != key:
        raise KeyCollision(
            f"{where} holds key {rec['key']!r}, not {key!r}: the two keys share one file name "
            "(a case-insensitive filesystem?); rename one of them"
        )
    return rec


def parse_snapshot(data: bytes, where: str) -> dict[str, Any]:
    """The whole snapshot: ``files`` (always a mapping) and, when written, ``resource``."""
    try:
        loaded = json.loads(data)
    except (ValueError, RecursionError):
        raise CorruptFile(f"{where}: not valid JSON; run `tracker fsck`") from None
    files = loaded.get("files") if isinstance(loaded, dict) else None
    if not isinstance(files, dict):
        raise CorruptFile(f"{where}: no 'files' mapping; run `tracker fsck`")
    return dict(loaded)


class Items:
    """Reads and writes key files of resource versions and runs through one store.

    Remembers, by stamp, the documents it wrote or read (bounded), so closing a version does not
    read back what this process just wrote, and one parse of a snapshot serves several reads.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        # oldest first; an OrderedDict evicts in O(1) (a dict's first key after many deletions
        # from its front is found by skipping them all)
        self._known: OrderedDict[str, tuple[list[Any], Any]] = OrderedDict()
        self._pending: tuple[tuple[str, list[Any]], dict[str, Any]] | None = None

    def _remember(self, path: str, stamp: list[Any], doc: Any) -> None:
        known = self._known
        known.pop(path, None)
        known[path] = (stamp, doc)
        if len(known) > _CACHE_SIZE:
            known.popitem(last=False)

    def _recall(self, path: str, entry: Entry) -> Any:
        """The document remembered for ``path`` at this stamp (a hit becomes the newest: the
        memo is least-recently-used, so what a long session keeps reading stays)."""
        hit = self._known.get(path)
        if hit is None or hit[0] != entry.stamp:
            return None
        self._known.move_to_end(path)
        return hit[1]

    def write(self, path: str, key: str, value: Any, run_id: str | None) -> None:
        self.write_many([(path, key, value)], run_id)

    def write_many(self, paths_values: list[tuple[str, str, Any]], run_id: str | None) -> None:
        """Encode every value first, so one bad value writes nothing at all."""
        encoded = [(p, *record(k, v, run_id)) for p, k, v in paths_values]
        for path, data, doc in encoded:
            entry = self.store.write(path, data)
            if entry is not None:
                self._remember(path, entry.stamp, doc)

    def read(self, path: str, key: str) -> dict[str, Any] | None:
        data = self.store.read(path)
        return None if data is None else decode_record(data, key, path)

    # -- bulk reads --------------------------------------------------------------------------
    def listing(self, vdir: str, kinds: tuple[str, ...]) -> dict[str, Entry]:
        """Files under a version dir for ``kinds`` (relative paths) plus the snapshot, in as few
        calls as the backend allows (see :meth:`tracker.store.base.Store.list_version`)."""
        return self.store.list_version(vdir, kinds)

    def _snapshot(self, vdir: str, entry: Entry | None) -> dict[str, Any]:
        """The parsed snapshot, anew for each caller (JSON is cheap; callers get objects of their
        own) from bytes remembered by stamp (no second read). A parse made for
        :meth:`resource_doc` is handed, once, to the load that follows it."""
        if entry is None:
            return {"files": {}}
        path = paths.join(vdir, SNAPSHOT)
        pending, self._pending = self._pending, None
        if pending is not None and pending[0] == (path, entry.stamp):
            return pending[1]
        try:  # derived data: one that cannot be read or parsed is ignored, never an error
            data = self._recall(path, entry)
            if data is None:
                data = self.store.read(path)
                if data is None:
                    return {"files": {}}
                self._remember(path, entry.stamp, data)
            return parse_snapshot(data, path)
        except CorruptFile:
            return {"files": {}}

    def parsed_snapshot(self, vdir: str, listing: dict[str, Entry]) -> dict[str, Any]:
        """The version's snapshot as JSON gives it (``{"files": {}}`` without a usable one)."""
        return self._snapshot(vdir, listing.get(SNAPSHOT))

    def read_snapshot(self, vdir: str) -> dict[str, Any] | None:
        """The version's snapshot read before its listing (a reader that lets the snapshot's
        folder stamps spare it scans); None without a usable one. Not remembered."""
        path = paths.join(vdir, SNAPSHOT)
        try:
            data = self.store.read(path)
            return None if data is None else parse_snapshot(data, path)
        except CorruptFile:  # derived data: unusable is a miss
            return None

    def resource_doc(self, vdir: str, listing: dict[str, Entry]) -> dict[str, Any] | None:
        """The version's ``resource.yaml`` as the snapshot holds it (None without one): saves
        a YAML parse, which costs more than the rest of a closed version's read."""
        entry = listing.get(SNAPSHOT)
        if entry is None:
            return None
        loaded = self._snapshot(vdir, entry)
        self._pending = ((paths.join(vdir, SNAPSHOT), entry.stamp), loaded)
        held = loaded.get("resource")
        if not isinstance(held, dict):
            return None
        try:
            doc = from_json(held, paths.join(vdir, SNAPSHOT))
        except Exception:  # a wrong shape in a derived file is a miss
            return None
        return doc if isinstance(doc, dict) else None

    def _docs(
        self, vdir: str, kinds: tuple[str, ...], listing: dict[str, Entry], fresh: bool = True
    ) -> dict[str, tuple[Entry, Any]]:
        """``{relpath: (entry, document)}`` for every YAML file directly under ``kinds``: from
        the snapshot or this process's memory when the stamp matches, else read. ``fresh``
        copies remembered documents, so a caller that mutates a result cannot change them."""
        snap = self._snapshot(vdir, listing.get(SNAPSHOT))["files"]
        out: dict[str, tuple[Entry, Any]] = {}
        to_read: list[str] = []
        for rel, entry in sorted(listing.items()):
            kind, _, name = rel.partition("/")
            if kind not in kinds or "/" in name or not name.endswith(".yaml"):
                continue
            cached = snap.get(rel)
            if isinstance(cached, dict) and cached.get("stamp") == entry.stamp:
                held = _derived(cached, paths.join(vdir, SNAPSHOT), kind, name)
                if held is not None:
                    out[rel] = (entry, held)
                    continue
            known = self._recall(paths.join(vdir, rel), entry)
            if known is not None:
                out[rel] = (entry, copy.deepcopy(known) if fresh else known)
            else:
                to_read.append(rel)
        fetched = self.store.read_many([paths.join(vdir, rel) for rel in to_read])
        for rel in to_read:
            data = fetched[paths.join(vdir, rel)]
            if data is not None:  # None: removed between listing and read
                out[rel] = (listing[rel], loads(data, paths.join(vdir, rel)))
        return dict(sorted(out.items()))

    def load(
        self, vdir: str, kinds: tuple[str, ...], listing: dict[str, Entry] | None = None
    ) -> dict[str, dict[str, Any]]:
        """``{kind: {name: document}}`` for every YAML file directly under each of ``kinds``.

        Key files are checked against their names (``doc['key']``), manifests by ``doc['id']``.
        """
        listing = self.listing(vdir, kinds) if listing is None else listing
        result: dict[str, dict[str, Any]] = {kind: {} for kind in kinds}
        for rel, (_, doc) in self._docs(vdir, kinds, listing).items():
            kind, _, name = rel.partition("/")
            name = paths.decode(name[: -len(".yaml")])
            result[kind][name] = _checked(doc, kind, name, paths.join(vdir, rel))
        return result

    def snapshot(
        self, vdir: str, kinds: tuple[str, ...], resource: dict[str, Any] | None = None
    ) -> None:
        """(Re)write ``snapshot.json``: every YAML file of ``kinds`` with its stamp, and the
        (immutable) ``resource`` document. Incremental: only files changed since the previous
        snapshot (and not written by us) are read."""
        started = time.time_ns()
        if self.store.folder_stamps:  # each folder's stamp taken before its scan
            listing, stamps = self.store.list_version_stamped(vdir, kinds)
        else:
            listing, stamps = self.listing(vdir, kinds), {}
        docs = self._docs(vdir, kinds, listing, fresh=False)
        files = []  # each entry serialised once: its size decides, its text is reused
        total = 0
        held: set[str] = set()
        for rel, (e, doc) in docs.items():
            text = json.dumps({"stamp": e.stamp, **to_json(doc)}, ensure_ascii=False)
            if len(text) > SNAPSHOT_ENTRY_MAX or total + len(text) > SNAPSHOT_MAX:
                continue  # large values stay in their key file only: a reader reads it there
            files.append(f"{json.dumps(rel, ensure_ascii=False)}: {text}")
            total += len(text)
            held.add(rel)
        data = f'{{"written_at": "{now().isoformat()}", "files": {{{", ".join(files)}}}'
        folders = _whole_folders(kinds, listing, stamps, held, started)
        if folders:
            data += f', "folders": {json.dumps(folders)}'
        if resource is not None:
            data += f', "resource": {json.dumps(to_json(resource), ensure_ascii=False)}'
        data += "}"
        path = paths.join(vdir, SNAPSHOT)
        encoded = data.encode("utf-8")
        entry = self.store.write(path, encoded)
        if entry is not None:
            self._remember(path, entry.stamp, encoded)


def _whole_folders(
    kinds: tuple[str, ...],
    listing: dict[str, Entry],
    stamps: dict[str, Entry | None],
    held: set[str],
    started: int,
) -> dict[str, list[int]]:
    """``{kind: [mtime_ns, ino]}`` of the folders the snapshot holds whole (every key file in
    it) and that had not changed for ``RACY_SECONDS`` before this listing began: a later change
    in one of them cannot share the clock tick of its stamp, so a reader that finds the folder
    with that stamp may take its files from the snapshot without listing it."""
    out: dict[str, list[int]] = {}
    for kind in kinds:
        entry = stamps.get(kind)
        if entry is None or not entry.is_dir or entry.mtime_ns <= 0:
            continue
        if started - entry.mtime_ns < RACY_SECONDS * 1e9:
            continue
        prefix = kind + "/"
        if all(rel in held for rel in listing if rel.startswith(prefix) and _key_file(rel)):
            out[kind] = [entry.mtime_ns, entry.ino]
    return out


def _key_file(rel: str) -> bool:
    """A YAML file directly under its kind's folder (what the snapshot holds)."""
    name = rel.partition("/")[2]
    return "/" not in name and name.endswith(".yaml")


def _checked(doc: Any, kind: str, name: str, where: str) -> Any:
    field = "id" if kind == paths.MANIFESTS else "key"
    if not isinstance(doc, dict) or field not in doc:
        raise CorruptFile(f"{where}: expected a mapping with {field!r}; run `tracker fsck`")
    if kind != paths.MANIFESTS and "value" not in doc:  # the same rule as a single read
        raise CorruptFile(f"{where}: expected a mapping with 'key' and 'value'; run `tracker fsck`")
    if doc[field] != name:
        raise KeyCollision(
            f"{where} holds {field} {doc[field]!r} but its name says {name!r} (a "
            "case-insensitive filesystem?); run `tracker fsck`"
        )
    return doc


def _derived(cached: dict[str, Any], where: str, kind: str, name: str) -> Any:
    """A key file's document as the snapshot holds it, or None when its shape is wrong (a
    derived entry that is not what it should be is a miss: the key file is read instead)."""
    try:  # the same shape rule as the key file itself (_checked), a failure being a miss
        return _checked(from_json(cached, where), kind, paths.decode(name[: -len(".yaml")]), where)
    except Exception:
        return None


def values(records: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {k: r.get("value") for k, r in sorted(records.items())}
