"""From what a caller names to a version: ``Resource``/``Series`` values and ref strings.

Every public method that takes a resource goes through :class:`Resolver`: ``type/id@N`` is that
version (one read of its ``resource.yaml``), a :class:`Series` or ``type/id`` the newest live one
(the ``HEAD`` hint, confirmed; ``model/<name>`` is the series of ``model_version/<name>``), a
:class:`Resource` is taken as it is. Errors name what is missing and how to look.
"""

from __future__ import annotations

from typing import Any

from tracker.core.items import Items
from tracker.core.resource import MODEL, MODEL_VERSION, Resource, Series, named
from tracker.core.resources import TOMBSTONE, Resources
from tracker.core.session import Session
from tracker.errors import InvalidRef, ResourceNotFound
from tracker.store import paths

Ref = Resource | Series | str
"""What every API taking a resource accepts: a version, a series, or a ref string."""


def _versions_of(rtype: str) -> str:
    """The type whose versions a series of ``rtype`` holds (``model`` -> ``model_version``)."""
    return MODEL_VERSION if rtype == MODEL else rtype


def _refused(resource: Any) -> InvalidRef:
    return InvalidRef(
        f"expected a Resource, a Series or a ref string like 'model_version/titanic@3', got "
        f"{type(resource).__name__}: {resource!r:.80}"
    )


class Resolver:
    def __init__(self, session: Session, resources: Resources, items: Items) -> None:
        self.session, self.resources, self.items = session, resources, items

    @property
    def url(self) -> str:
        return self.session.url

    def resolve(self, resource: Any) -> Resource:
        """The version ``resource`` names: a Resource as it is, ``type/id@N`` read (it must
        exist and not be deleted), a Series or ``type/id`` its newest live version."""
        self.session.check_format()
        if isinstance(resource, Resource):
            return resource
        if isinstance(resource, str):
            resource = named(resource)
            if isinstance(resource, Resource):
                found = self.resources.get(resource.type, resource.id, resource.version)
                if found is None:
                    raise ResourceNotFound(
                        self.missing(resource.type, resource.id, resource.version)
                    )
                return found
        if isinstance(resource, Series):
            return self.latest(_versions_of(resource.type), resource.id)
        raise _refused(resource)

    def version_or_series(self, resource: Any) -> Resource | Series:
        """For walks that may start from a whole series: a Series is kept (its walk includes the
        newest version), ``model/<name>`` becomes its (existing) Series, anything else a version."""
        if isinstance(resource, Series):
            self.session.check_format()
            return resource
        if isinstance(resource, str):
            value = named(resource)
            if isinstance(value, Series) and value.type == MODEL:
                return self.get(value.id, MODEL)
        return self.resolve(resource)

    def get(
        self,
        id: str,
        type: str | None = None,
        parent: Any = None,
        version: int | None = None,
    ) -> Resource | Series:
        """``type/id`` at ``version``, or the latest (among ``parent``'s children when given);
        ``type="model"`` is the series handle of ``model_version/<id>``."""
        rtype = type or "resource"
        id = str(id)
        if rtype == MODEL:
            if self.resources.latest_version(MODEL_VERSION, id) == 0:
                raise ResourceNotFound(f"no model {id!r} (no model_version/{id}) in {self.url}")
            return Series(MODEL, id)
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
        if isinstance(resource, str):
            resource = named(resource)
        if isinstance(resource, Series):
            series = resource.ref
            raise InvalidRef(
                f"{series!r} names a series; this takes one version: {series}@N "
                f"(see `tracker show {series}`)"
            )
        if not isinstance(resource, Resource):
            raise _refused(resource)
        # model/titanic@2: that model version
        return Resource(_versions_of(resource.type), resource.id, resource.version)

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
        return self.resources.get(res.type, res.id, res.version)

    def value(self, res: Resource, key: str, kinds: tuple[str, ...]) -> Any:
        """The value of ``key`` in the first of ``kinds`` (tags, metadata, attrs) that has it."""
        for kind in kinds:
            rec = self.items.read(paths.item_file(res.type, res.id, res.version, kind, key), key)
            if rec is not None:
                return rec.get("value")
        return None
