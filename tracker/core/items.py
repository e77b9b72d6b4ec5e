"""Key files (tags, metadata, attributes) and the consolidated snapshot that makes bulk reads cheap.

One YAML file per key, ``{key, value, logged_at, run_id}``: writers of different keys never race and
the same key is last-writer-wins. Closing a version writes ``snapshot.yaml`` holding every key file
with the stamp (mtime, size, etag) it had; a bulk read lists the version once and reads only the
key files whose stamp differs from the snapshot's, so a closed version costs a few requests whatever
its size, and a key written after the snapshot still wins.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

from tracker.errors import CorruptFile, KeyCollision
from tracker.store import Store, paths
from tracker.store.base import Entry
from tracker.store.codec import dump_record, dumps, loads, to_plain

Key = tuple[str, str, int]  # (type, id, version)
SNAPSHOT = "snapshot.yaml"


def now() -> _dt.datetime:
    return _dt.datetime.now(_dt.timezone.utc)


def record(key: str, value: Any, run_id: str | None) -> bytes:
    """Encode one key file; raises UnsupportedValue (naming the key) before anything is written."""
    plain = to_plain(value, key)
    return dump_record({"key": key, "value": plain, "logged_at": now(), "run_id": run_id}, key)


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


def _stamp(entry: Entry) -> list[Any]:
    return [round(entry.mtime, 6), entry.size, entry.etag]


class Items:
    """Reads and writes key files of resource versions and runs through one store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def write(self, path: str, key: str, value: Any, run_id: str | None) -> None:
        self.store.write(path, record(key, value, run_id))

    def write_many(self, paths_values: list[tuple[str, str, Any]], run_id: str | None) -> None:
        """Encode every value first, so one bad value writes nothing at all."""
        encoded = [(p, record(k, v, run_id)) for p, k, v in paths_values]
        for path, data in encoded:
            self.store.write(path, data)

    def read(self, path: str, key: str) -> dict[str, Any] | None:
        data = self.store.read(path)
        return None if data is None else decode_record(data, key, path)

    # -- bulk reads --------------------------------------------------------------------------
    def listing(self, vdir: str, kinds: tuple[str, ...]) -> dict[str, Entry]:
        """Files under a version dir for ``kinds`` (relative paths) plus the snapshot, in as few
        calls as the backend allows: one recursive listing remotely, one scan per kind locally."""
        if not self.store.is_local:
            return self.store.walk(vdir)
        out: dict[str, Entry] = {}
        for kind in kinds:
            if kind in LINK_KINDS:
                for rel, e in self.store.walk(f"{vdir}/{kind}").items():
                    out[f"{kind}/{rel}"] = e
                continue
            for e in self.store.list(f"{vdir}/{kind}", detail=True):
                if not e.is_dir:
                    out[f"{kind}/{e.name}"] = e
        if self.store.exists(f"{vdir}/{SNAPSHOT}"):
            out[SNAPSHOT] = Entry(SNAPSHOT, False)
        return out

    def _docs(
        self, vdir: str, kinds: tuple[str, ...], listing: dict[str, Entry]
    ) -> dict[str, tuple[Entry, Any]]:
        """``{relpath: (entry, document)}`` for every YAML file directly under ``kinds``; files
        whose stamp matches the snapshot's come from it without a read."""
        snap: dict[str, Any] = {}
        if SNAPSHOT in listing:
            data = self.store.read(f"{vdir}/{SNAPSHOT}")
            if data is not None:
                loaded = loads(data, f"{vdir}/{SNAPSHOT}")
                files = loaded.get("files") if isinstance(loaded, dict) else None
                snap = files if isinstance(files, dict) else {}
        out: dict[str, tuple[Entry, Any]] = {}
        to_read: list[str] = []
        for rel, entry in sorted(listing.items()):
            kind, _, name = rel.partition("/")
            if kind not in kinds or "/" in name or not name.endswith(".yaml"):
                continue
            cached = snap.get(rel)
            if isinstance(cached, dict) and cached.get("stamp") == _stamp(entry):
                out[rel] = (entry, cached.get("doc"))
            else:
                to_read.append(rel)
        fetched = self.store.read_many([f"{vdir}/{rel}" for rel in to_read])
        for rel in to_read:
            data = fetched[f"{vdir}/{rel}"]
            if data is not None:  # None: removed between listing and read
                out[rel] = (listing[rel], loads(data, f"{vdir}/{rel}"))
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
            result[kind][name] = _checked(doc, kind, name, f"{vdir}/{rel}")
        return result

    def snapshot(self, vdir: str, kinds: tuple[str, ...]) -> None:
        """(Re)write ``snapshot.yaml``: every YAML file of ``kinds`` with its stamp. Incremental:
        only files changed since the previous snapshot are read."""
        docs = self._docs(vdir, kinds, self.listing(vdir, kinds))
        files = {rel: {"stamp": _stamp(e), "doc": doc} for rel, (e, doc) in docs.items()}
        self.store.write(f"{vdir}/{SNAPSHOT}", dumps({"written_at": now(), "files": files}))


LINK_KINDS = ("children", "lineage", "used_by")


def _checked(doc: Any, kind: str, name: str, where: str) -> Any:
    field = "id" if kind == "manifests" else "key"
    if not isinstance(doc, dict) or field not in doc:
        raise CorruptFile(f"{where}: expected a mapping with {field!r}; run `tracker fsck`")
    if doc[field] != name:
        raise KeyCollision(
            f"{where} holds {field} {doc[field]!r} but its name says {name!r} (a "
            "case-insensitive filesystem?); run `tracker fsck`"
        )
    return doc


def values(records: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {k: r.get("value") for k, r in sorted(records.items())}
