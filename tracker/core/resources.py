"""Resource versions: race-free numbering, lookups, and the pointer files that link versions.

A version number is claimed by exclusively creating ``<v>/resource.yaml``; on a clash the next
number is tried, so concurrent creators get unique, gap-free versions with no lock. ``HEAD`` holds a
hint of the newest version (rewritten last-writer-wins, never trusted: a reader probes past it), so
neither creating nor finding the latest version lists the series.
"""

from __future__ import annotations

import secrets
from collections import OrderedDict
from typing import Any

from tracker.core.changes import ChangeLog
from tracker.core.items import now
from tracker.core.resource import Resource
from tracker.errors import CorruptFile, InvalidKey
from tracker.store import Store, paths
from tracker.store.codec import dumps, loads, to_plain

_PROBE_BEFORE_LIST = 8
_DOCS = 20_000  # resource.yaml documents remembered (bounded: a find over 100,000 versions)
TOMBSTONE = "deleted"  # the key a deleted version's resource.yaml holds (see tracker.core.trash)


def _marked(data: bytes) -> bool:
    """Whether ``resource.yaml`` bytes may hold the tombstone key (a top-level ``deleted:``);
    a false yes only costs a parse."""
    marker = TOMBSTONE.encode() + b":"
    return data.startswith(marker) or b"\n" + marker in data


class Resources:
    def __init__(self, store: Store, changes: ChangeLog | None = None) -> None:
        self.store = store
        self.changes = changes
        # resource.yaml, parsed, with its bytes (None: taken from a snapshot, bytes unknown);
        # oldest first, evicted in O(1)
        self._docs: OrderedDict[tuple[str, str, int], tuple[bytes | None, dict[str, Any]]] = (
            OrderedDict()
        )

    # -- create ----------------------------------------------------------------------------------
    def create(
        self,
        rtype: str,
        rid: str | None,
        run_id: str,
        parent: Resource | None,
        attributes: dict[str, Any],
    ) -> Resource:
        rid = rid if rid is not None else f"{now():%Y%m%dT%H%M%S}-{secrets.token_hex(4)}"
        rid = str(rid)
        if "/" in str(rtype):
            raise InvalidKey(
                f"type {rtype!r} holds '/', which would make refs (type/id@version) ambiguous; "
                "use another character, e.g. '-' or '.'"
            )
        paths.encode(rtype, "type"), paths.encode(rid, "id")  # validate before any write
        attrs = to_plain(attributes, "attributes") if attributes else {}
        version = self._trusted_head(rtype, rid) + 1
        for attempt in range(1_000_000):
            if attempt == _PROBE_BEFORE_LIST:
                version = max(version, self._max_listed(rtype, rid) + 1)
            doc = {
                "type": rtype,
                "id": rid,
                "version": version,
                "run_id": run_id,
                "parent": parent.ref if parent is not None else None,
                "created_at": now(),
                "attributes": attrs,
            }
            data = dumps(doc)
            where = paths.resource_file(rtype, rid, version)
            if self.store.create(where, data):
                break
            version += 1
        self._keep((rtype, rid, version), (data, doc))
        if self.changes is not None:  # its keys come next: one change line covers them
            self.changes.before(rtype, rid, version)
        self.store.write(paths.head_file(rtype, rid), str(version).encode())
        res = Resource(rtype, rid, version, run_id, parent.ref if parent is not None else None)
        self.store.create(paths.run_created_file(run_id, rtype, rid, version), b"")
        if parent is not None:
            self.link(parent, "children", res)
        return res

    def link(self, source: Resource, kind: str, target: Resource) -> None:
        path = paths.link_file(
            source.type, source.id, source.version, kind, target.type, target.id, target.version
        )
        self.store.create(path, b"")

    # -- read ------------------------------------------------------------------------------------
    def doc(self, rtype: str, rid: str, version: int, fresh: bool = False) -> dict[str, Any] | None:
        """``resource.yaml`` of a live version; None when missing or deleted (a tombstone).

        Remembered per process with its bytes (the file is immutable until a deletion replaces
        it with its tombstone); ``fresh`` reads the bytes again, which every lookup by ref does,
        so a version deleted by another process is never served from memory. Unchanged bytes
        reuse the parsed document: a fresh lookup costs one small read, no YAML parse.
        """
        key = (rtype, rid, version)
        known = self._docs.get(key)
        if known is not None and not fresh:
            return known[1]
        where = paths.resource_file(rtype, rid, version)
        data = self.store.read(where)
        if known is not None and data is not None and data == known[0]:
            return known[1]
        if known is not None and known[0] is None and data is not None and not _marked(data):
            self._keep(key, (data, known[1]))  # the snapshot's copy, and no tombstone: no parse
            return known[1]
        doc = None if data is None else self._parse(data, where, rtype, rid, version)
        if doc is None or TOMBSTONE in doc:
            self._docs.pop(key, None)
            return None
        self._keep(key, (data, doc))
        return doc

    def unmarked(self, rtype: str, rid: str, version: int) -> bool:
        """Whether ``resource.yaml`` is there and cannot be a tombstone (read afresh, not
        parsed): a caller holding its document from elsewhere (the snapshot) may use that."""
        data = self.store.read(paths.resource_file(rtype, rid, version))
        return data is not None and not _marked(data)

    def raw_doc(self, rtype: str, rid: str, version: int) -> dict[str, Any] | None:
        """``resource.yaml`` as stored, a tombstone included (None when missing)."""
        where = paths.resource_file(rtype, rid, version)
        data = self.store.read(where)
        return None if data is None else self._parse(data, where, rtype, rid, version)

    @staticmethod
    def _parse(data: bytes, where: str, rtype: str, rid: str, version: int) -> dict[str, Any]:
        doc = loads(data, where)
        if (
            not isinstance(doc, dict)
            or doc.get("type") != rtype
            or doc.get("id") != rid
            or doc.get("version") != version
        ):
            raise CorruptFile(
                f"{where}: holds {doc!r:.120} instead of {rtype}/{rid}@{version}; "
                "run `tracker fsck`"
            )
        return doc

    def _keep(self, key: tuple[str, str, int], value: tuple[bytes | None, dict[str, Any]]) -> None:
        self._docs.pop(key, None)
        if len(self._docs) >= _DOCS:
            self._docs.popitem(last=False)
        self._docs[key] = value

    def forget(self, rtype: str, rid: str, version: int) -> None:
        self._docs.pop((rtype, rid, version), None)

    def remember(self, rtype: str, rid: str, version: int, doc: dict[str, Any]) -> None:
        """Take a copy of ``resource.yaml`` found elsewhere (the snapshot), if it is that one."""
        key = (rtype, rid, version)
        if (doc.get("type"), doc.get("id"), doc.get("version")) == key and key not in self._docs:
            self._keep(key, (None, doc))

    def get(self, rtype: str, rid: str, version: int) -> Resource | None:
        """The live version (read afresh: one read), or None when missing or deleted."""
        doc = self.doc(rtype, rid, version, fresh=True)
        if doc is None:
            return None
        return Resource(rtype, rid, version, doc.get("run_id"), doc.get("parent"))

    def latest_version(self, rtype: str, rid: str) -> int:
        """The newest version number (0 when the series does not exist): the ``HEAD`` hint once
        its version is confirmed to exist, then probed upwards; a hint above the newest version
        (removed by hand, or a hostile ``HEAD``) falls back to listing, never a wrong answer."""
        version = self._trusted_head(rtype, rid)
        if version == 0:
            return self._max_listed(rtype, rid)
        for _ in range(_PROBE_BEFORE_LIST):
            if self.store.read(paths.resource_file(rtype, rid, version + 1)) is None:
                return version
            version += 1
        return self._max_listed(rtype, rid)

    def latest_live(self, rtype: str, rid: str) -> Resource | None:
        """The newest version that is not deleted: one read more per deleted version on top."""
        for version in range(self.latest_version(rtype, rid), 0, -1):
            found = self.get(rtype, rid, version)
            if found is not None:
                return found
        return None

    def versions(self, rtype: str, rid: str) -> list[int]:
        return sorted(
            int(e.name)
            for e in self.store.list(paths.series_dir(rtype, rid))
            if e.is_dir and e.name.isdigit()
        )

    def _head(self, rtype: str, rid: str) -> int:
        data = self.store.read(paths.head_file(rtype, rid))
        try:
            return max(0, int(data or 0))
        except ValueError:
            return 0

    def _trusted_head(self, rtype: str, rid: str) -> int:
        """The hint when its version exists (one read, which callers then find cached), else
        the newest listed version (0 for a new series)."""
        head = self._head(rtype, rid)
        if head and self.doc(rtype, rid, head) is None:
            return self._max_listed(rtype, rid)
        return head

    def _max_listed(self, rtype: str, rid: str) -> int:
        """The newest listed version that has its resource file (a directory without one, left
        by damage or a foreign tool, is not a version; a deleted one keeps its number)."""
        for version in reversed(self.versions(rtype, rid)):
            if self.raw_doc(rtype, rid, version) is not None:
                return version
        return 0

    def ids(self, rtype: str) -> list[str]:
        return sorted(
            paths.decode(e.name) for e in self.store.list(paths.type_dir(rtype)) if e.is_dir
        )

    def types(self) -> list[str]:
        return sorted(paths.decode(e.name) for e in self.store.list(paths.RESOURCES) if e.is_dir)

    def created_by(self, run_id: str) -> list[Resource]:
        """The versions a run created, from its ``created/`` pointers."""
        base = paths.run_created_dir(run_id)
        out = []
        for type_entry in self.store.list(base):
            for e in self.store.list(f"{base}/{type_entry.name}") if type_entry.is_dir else []:
                try:
                    out.append(Resource(*paths.parse_pointer(type_entry.name, e.name)))
                except ValueError:
                    continue
        return sorted(out, key=lambda r: (r.type, r.id, r.version))

    def links(self, res: Resource, kind: str, rtype: str | None = None) -> list[Resource]:
        """Resources named by the pointer files under ``res``'s ``kind`` directory."""
        base = paths.link_dir(res.type, res.id, res.version, kind)
        type_segments = (
            [paths.encode(rtype, "type")]
            if rtype is not None
            else [e.name for e in self.store.list(base) if e.is_dir]
        )
        out = []
        for seg in type_segments:
            for e in self.store.list(f"{base}/{seg}"):
                try:
                    ltype, lid, lver = paths.parse_pointer(seg, e.name)
                except ValueError:
                    continue
                out.append(Resource(ltype, lid, lver))
        return sorted(out, key=lambda r: (r.type, r.id, r.version))
