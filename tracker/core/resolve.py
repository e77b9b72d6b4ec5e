"""From what a caller names to a version: ``Resource`` objects and ref strings.

Every public method that takes a resource goes through :class:`Resolver`: ``type/id@N`` is that
version (one read of its ``resource.yaml``), ``type/id`` the newest live one (the ``HEAD`` hint,
confirmed), a :class:`Resource` is taken as it is. Errors name what is missing and how to look.
"""

from __future__ import annotations

from typing import Any

from tracker.core.items import Items
from tracker.core.resource import MODEL, MODEL_VERSION, Resource, parse_ref
from tracker.core.resources import TOMBSTONE, Resources
from tracker.core.session import Session
from tracker.errors import InvalidRef, ResourceNotFound
from tracker.store import paths

Ref = Resource | str
"""What every API taking a resource accepts: a Resource or a ref string."""


class Resolver:
    def __init__(self, session: Session, resources: Resources, items: Items) -> None:
        self.session, self.resources, self.items = session, resources, items

    @property
    def url(self) -> str:
        return self.session.url

    def resolve(self, resource: Any, allow_series: bool = False) -> Resource:
        """A Resource for a Resource or a ref string; ``type/id`` means the latest version
        (``model/<name>`` stays the series handle with ``allow_series``)."""
        self.session.check_format()
        if isinstance(resource, Resource):
            if resource.version is None and not allow_series:
                return self.latest(
                    resource.type if resource.type != MODEL else MODEL_VERSION, resource.id
                )
            return resource
        if isinstance(resource, str):
            rtype, rid, version = parse_ref(resource)
            if version is None:
                if allow_series and rtype == MODEL:
                    return self.get(rid, MODEL)
                return self.latest(rtype, rid)
            found = self.resources.get(rtype, rid, version)
            if found is None:
                raise ResourceNotFound(self.missing(rtype, rid, version))
            return found
        raise InvalidRef(
            f"expected a resource or a ref string like 'model_version/titanic@3', got "
            f"{type(resource).__name__}: {resource!r:.80}"
        )

    def get(
        self,
        id: str,
        type: str | None = None,
        parent: Any = None,
        version: int | None = None,
    ) -> Resource:
        """``type/id`` at ``version``, or the latest (among ``parent``'s children when given);
        ``type="model"`` is the series handle of ``model_version/<id>``."""
        rtype = type or "resource"
        id = str(id)
        if rtype == MODEL:
            if self.resources.latest_version(MODEL_VERSION, id) == 0:
                raise ResourceNotFound(f"no model {id!r} (no model_version/{id}) in {self.url}")
            return Resource(MODEL, id, None)
        if version is not None:
            return self.resolve(f"{rtype}/{id}@{int(version)}")
        if parent is not None:
            kids = [
                r
                for r in self.resources.links(self.resolve(parent), "children", rtype)
                if r.id == id
            ]
            if not kids:
                raise ResourceNotFound(
                    f"no {rtype}/{id} among the children of {parent} in {self.url}"
                )
            return self.resolve(kids[-1].ref)
        return self.latest(rtype, id)

    def exact(self, resource: Any) -> Resource:
        """The exact version ``resource`` names, without reading it; a series is refused."""
        if isinstance(resource, Resource):
            rtype, rid, version = resource.type, resource.id, resource.version
        elif isinstance(resource, str):
            rtype, rid, version = parse_ref(resource)
        else:
            raise InvalidRef(f"expected a ref like 'model_version/titanic@3', got {resource!r:.80}")
        if rtype == MODEL and version is not None:  # model/titanic@2: that model version
            rtype = MODEL_VERSION
        if version is None or rtype == MODEL:
            series = Resource(rtype, rid).ref
            raise InvalidRef(
                f"{series!r} names a series; this takes one version: {series}@N "
                f"(see `tracker show {series}`)"
            )
        return Resource(rtype, rid, version)

    def latest(self, rtype: str, rid: str) -> Resource:
        found = self.resources.latest_live(rtype, rid)
        if found is None:
            raise ResourceNotFound(
                f"no resource {rtype}/{rid} in {self.url}; see `tracker ls {rtype}`"
            )
        return found

    def full(self, res: Resource) -> Resource:
        """``res`` with its run_id and parent, read from its (immutable) resource file."""
        found = self.live(res)
        if found is None:
            raise ResourceNotFound(f"no resource {res.ref} in {self.url}")
        return found

    def missing(self, rtype: str, rid: str, version: int) -> str:
        """Why ``type/id@version`` cannot be read (only on the error path: one read more)."""
        ref = Resource(rtype, rid, version).ref
        raw = self.resources.raw_doc(rtype, rid, version)
        if raw is not None and TOMBSTONE in raw:
            return (
                f"{ref} was deleted from {self.url}; see `tracker trash`, "
                f"and `tracker restore {ref}` to bring it back"
            )
        return f"no resource {ref} in {self.url}; see `tracker ls`"

    def live(self, res: Resource) -> Resource | None:
        """``res`` in full when it exists and is not deleted (one read), else None."""
        return self.resources.get(res.type, res.id, res.version or 0)

    def value(self, res: Resource, key: str, kinds: tuple[str, ...]) -> Any:
        """The value of ``key`` in the first of ``kinds`` (tags, metadata, attrs) that has it."""
        assert res.version is not None
        for kind in kinds:
            rec = self.items.read(paths.item_file(res.type, res.id, res.version, kind, key), key)
            if rec is not None:
                return rec.get("value")
        return None
