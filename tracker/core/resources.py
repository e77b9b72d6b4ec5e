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
_DOCS = 20_000  # resource.yaml documents remembered (they are immutable)


class Resources:
    def __init__(self, store: Store, changes: ChangeLog | None = None) -> None:
        self.store = store
        self.changes = changes
        # resource.yaml is immutable; oldest first, evicted in O(1)
        self._docs: OrderedDict[tuple[str, str, int], dict[str, Any]] = OrderedDict()

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
        version = self._head(rtype, rid) + 1
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
        self._docs[(rtype, rid, version)] = doc
        if self.changes is not None:  # its keys come next: one change line covers them
            self.changes.before(rtype, rid, version)
        self.store.write(paths.head_file(rtype, rid), str(version).encode())
        res = Resource(rtype, rid, version, run_id, parent.ref if parent is not None else None)
        self.store.create(paths.run_created_file(run_id, rtype, rid, version), b"")
        if parent is not None and parent.version is not None:
            self.link(parent, "children", res)
        return res

    def link(self, source: Resource, kind: str, target: Resource) -> None:
        assert source.version is not None and target.version is not None
        path = paths.link_file(
            source.type, source.id, source.version, kind, target.type, target.id, target.version
        )
        self.store.create(path, b"")

    # -- read ------------------------------------------------------------------------------------
    def doc(self, rtype: str, rid: str, version: int) -> dict[str, Any] | None:
        key = (rtype, rid, version)
        if key in self._docs:
            return self._docs[key]
        where = paths.resource_file(rtype, rid, version)
        data = self.store.read(where)
        if data is None:
            return None
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
        if len(self._docs) >= _DOCS:  # bounded: a find over 100,000 versions must not keep all
            self._docs.popitem(last=False)
        self._docs[key] = doc
        return doc

    def remember(self, rtype: str, rid: str, version: int, doc: dict[str, Any]) -> None:
        """Take a copy of ``resource.yaml`` found elsewhere (the snapshot), if it is that one."""
        if (doc.get("type"), doc.get("id"), doc.get("version")) == (rtype, rid, version):
            if len(self._docs) >= _DOCS:
                self._docs.popitem(last=False)
            self._docs.setdefault((rtype, rid, version), doc)

    def get(self, rtype: str, rid: str, version: int) -> Resource | None:
        doc = self.doc(rtype, rid, version)
        if doc is None:
            return None
        return Resource(rtype, rid, version, doc.get("run_id"), doc.get("parent"))

    def latest_version(self, rtype: str, rid: str) -> int:
        """The newest version number (0 when the series does not exist)."""
        version = self._head(rtype, rid)
        if version == 0:
            return self._max_listed(rtype, rid)
        for _ in range(_PROBE_BEFORE_LIST):
            if self.store.read(paths.resource_file(rtype, rid, version + 1)) is None:
                return version
            version += 1
        return self._max_listed(rtype, rid)

    def versions(self, rtype: str, rid: str) -> list[int]:
        return sorted(
            int(e.name)
            for e in self.store.list(paths.series_dir(rtype, rid))
            if e.is_dir and e.name.isdigit()
        )

    def _head(self, rtype: str, rid: str) -> int:
        data = self.store.read(paths.head_file(rtype, rid))
        try:
            return int(data or 0)
        except ValueError:
            return 0

    def _max_listed(self, rtype: str, rid: str) -> int:
        """The newest listed version that has its resource file (a directory without one, left
        by damage or a foreign tool, is not a version)."""
        for version in reversed(self.versions(rtype, rid)):
            if self.doc(rtype, rid, version) is not None:
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
        return sorted(out, key=lambda r: (r.type, r.id, r.version or 0))

    def links(self, res: Resource, kind: str, rtype: str | None = None) -> list[Resource]:
        """Resources named by the pointer files under ``res``'s ``kind`` directory."""
        assert res.version is not None
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
        return sorted(out, key=lambda r: (r.type, r.id, r.version or 0))
