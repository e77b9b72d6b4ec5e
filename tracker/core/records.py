"""What a version holds: creating it, its key files (tags, metadata, attrs), closing it.

``log_tag`` goes: :meth:`Records.write` -> :class:`~tracker.core.resolve.Resolver` (which version)
-> :class:`~tracker.core.session.Session` (the run, created on the first write) ->
:meth:`tracker.core.items.Items.write_many` (one key file per item, every value checked first) ->
the store (one atomic whole-file write each). Reads list the version's folders once and merge in
the snapshot a closed version carries (:mod:`tracker.core.items`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tracker.core.changes import ChangeLog
from tracker.core.items import Items, now, values
from tracker.core.metrics import Metrics
from tracker.core.resolve import Resolver
from tracker.core.resource import Resource
from tracker.core.resources import Resources
from tracker.core.session import Session
from tracker.errors import CorruptFile, KeyCollision, ResourceNotFound, UnsupportedValue
from tracker.store import paths
from tracker.store.codec import to_plain

CLOSED = "FINISHED"


class Records:
    def __init__(
        self,
        session: Session,
        resolver: Resolver,
        items: Items,
        resources: Resources,
        metrics: Metrics,
        changes: ChangeLog,
    ) -> None:
        self.session, self.resolver, self.items = session, resolver, items
        self.resources, self.metrics, self.changes = resources, metrics, changes

    # -- versions --------------------------------------------------------------------------------
    def create(
        self, id: str | None, type: str | None, parent: Any, attributes: Mapping[str, Any]
    ) -> Resource:
        """A new version; every attribute must be storable (else nothing is written)."""
        parent_res = self.resolver.resolve(parent) if parent is not None else None
        plain = {}
        for key, value in attributes.items():
            try:
                plain[key] = to_plain(value, key)
            except UnsupportedValue as exc:
                raise UnsupportedValue(
                    f"create_resource: attribute {key!r} cannot be stored ({exc}); pass plain "
                    "data (numbers, text, lists, mappings, dates) or log it as an artifact"
                ) from None
        run_id = self.session.run()
        res = self.resources.create(type or "resource", id, run_id, parent_res, plain)
        self.session.runs.created.append((res.type, res.id, res.version))
        return res

    def close(self, res: Resource, status: str = CLOSED, refresh: bool = False) -> None:
        """Write end_time/status once, then the snapshot (again, with ``refresh``, so that what
        the run's end wrote is in it)."""
        vdir = paths.version_dir(res.type, res.id, res.version)
        status_file = paths.item_file(res.type, res.id, res.version, "attrs", "status")
        if self.items.read(status_file, "status"):
            snapshot = paths.snapshot_file(res.type, res.id, res.version)
            if not refresh and self.session.store.exists(snapshot):
                return
        else:
            self.write(res, "attrs", {"end_time": now(), "status": status})
        self.metrics.compact((res.type, res.id, res.version))  # flush + compact.tsv per key
        doc = self.resources.doc(res.type, res.id, res.version)
        self.items.snapshot(vdir, paths.SNAPSHOT_KINDS, resource=doc)

    def end_run(self, status: str) -> None:
        """Flush metrics, mark and close every version the run created, then end the run. A
        damaged file skips that version's snapshot (fsck reports it); the run's end is always
        recorded, and the first store failure is raised after it."""
        runs = self.session.runs
        failure: BaseException | None = None
        try:
            self.metrics.flush()  # metric points buffered by this process
        except Exception as exc:  # kept in the buffer; the run's end is still recorded
            failure = exc
        if runs.current is None:
            if failure is not None:
                raise failure
            return
        run_id = runs.current
        for rtype, rid, version in runs.created:
            res = Resource(rtype, rid, version)
            path = paths.item_file(rtype, rid, version, "attrs", "run_status")
            try:
                self.changes.before(rtype, rid, version)  # the query index learns of it
                self.items.write(path, "run_status", status, run_id)
                self.changes.after(rtype, rid, version)
                self.close(res, status, refresh=True)
            except (CorruptFile, KeyCollision):
                continue
            except Exception as exc:  # the store failed: still try to record the run's end
                failure = failure or exc
        runs.stop(status)
        if failure is not None:
            raise failure

    # -- key files -------------------------------------------------------------------------------
    def write(self, resource: Any, kind: str, items: Mapping[str, Any]) -> Resource:
        """One key file per item of ``kind``; every value is checked before the first write."""
        res = self.resolver.resolve(resource)
        run_id = self.session.run()
        writes = [
            (paths.item_file(res.type, res.id, res.version, kind, str(k)), str(k), v)
            for k, v in items.items()
        ]
        self.changes.before(res.type, res.id, res.version)  # the query index learns of it
        self.items.write_many(writes, run_id)
        self.changes.after(res.type, res.id, res.version)
        return res

    def read(self, resource: Any, kind: str, key: str, default: Any = None) -> Any:
        res = self.resolver.resolve(resource)
        path = paths.item_file(res.type, res.id, res.version, kind, str(key))
        rec = self.items.read(path, str(key))
        return default if rec is None else rec.get("value")

    def delete_tag(self, resource: Any, key: str) -> None:
        """Remove a tag's key file; a closed version's snapshot is rewritten without it."""
        res = self.resolver.resolve(resource)
        path = paths.item_file(res.type, res.id, res.version, "tags", str(key))
        if self.items.read(path, str(key)) is None:
            raise ResourceNotFound(f"{res.ref} has no tag {key!r}; see `tracker show {res.ref}`")
        self.session.run()
        self.changes.before(res.type, res.id, res.version)  # the query index learns of it
        self.session.store.remove(path)
        if self.session.store.exists(paths.snapshot_file(res.type, res.id, res.version)):
            doc = self.resources.doc(res.type, res.id, res.version)
            vdir = paths.version_dir(res.type, res.id, res.version)
            self.items.snapshot(vdir, paths.SNAPSHOT_KINDS, resource=doc)
        self.changes.after(res.type, res.id, res.version)

    def load(self, resource: Any, kind: str) -> dict[str, Any]:
        """Every value of one kind (``tags``, ``metadata``; ``attrs`` with the creation
        attributes underneath), from one listing plus the snapshot when closed."""
        res = self.resolver.resolve(resource)
        vdir = paths.version_dir(res.type, res.id, res.version)
        loaded = self.items.load(vdir, (kind,))[kind]
        return self.attributes(res, loaded) if kind == "attrs" else values(loaded)

    def attributes(self, res: Resource, records: dict[str, Any]) -> dict[str, Any]:
        doc = self.resources.doc(res.type, res.id, res.version) or {}
        return {**(doc.get("attributes") or {}), **values(records)}

    def describe(self, resource: Any) -> dict[str, Any]:
        """Identity, attributes, tags, metadata, artifacts and links of one version, from one
        listing (plus the snapshot when the version is closed)."""
        kinds = (*paths.SNAPSHOT_KINDS, *paths.LINK_KINDS)
        res = self.resolver.resolve(resource)
        vdir = paths.version_dir(res.type, res.id, res.version)
        listing = self.items.listing(vdir, kinds)
        held = self.items.resource_doc(vdir, listing)
        if held is not None:
            self.resources.remember(res.type, res.id, res.version, held)
        # without a snapshot, read afresh: a version deleted meanwhile must not describe itself
        doc = self.resources.doc(res.type, res.id, res.version, fresh=held is None)
        if doc is None:
            raise ResourceNotFound(self.resolver.missing(res.type, res.id, res.version))
        loaded = self.items.load(vdir, kinds, listing)
        links: dict[str, list[str]] = {kind: [] for kind in paths.LINK_KINDS}
        for rel in listing:
            parts = rel.split("/")
            if len(parts) == 3 and parts[0] in links:
                try:
                    ltype, lid, lver = paths.parse_pointer(parts[1], parts[2])
                except ValueError:
                    continue
                links[parts[0]].append(Resource(ltype, lid, lver).ref)
        return {
            "ref": res.ref,
            "type": res.type,
            "id": res.id,
            "version": res.version,
            "run_id": res.run_id,
            "parent": res.parent,
            "created_at": doc.get("created_at"),
            "attrs": self.attributes(res, loaded["attrs"]),
            "tags": values(loaded["tags"]),
            "metadata": values(loaded["metadata"]),
            "artifacts": {
                aid: _artifact_summary(m) for aid, m in sorted(loaded["manifests"].items())
            },
            **{kind: sorted(refs) for kind, refs in links.items()},
        }


def _artifact_summary(manifest: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": manifest.get("name"),
        "kind": manifest.get("kind"),
        "size": manifest.get("size"),
        "files": len(manifest.get("files") or []),
        "sha256": manifest.get("sha256"),
        "logged_at": manifest.get("logged_at"),
    }
