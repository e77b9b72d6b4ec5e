"""Resources as small immutable values, and the ref strings that name them.

Two kinds of value name things in a store:

* :class:`Resource` is one version (``model_version/titanic@3``): its ``version`` is always a
  number, so code handed a Resource never asks "which version?".
* :class:`Series` is a whole series (``model_version/titanic``, or ``model/titanic`` as
  ``get_resource(name, type="model")`` returns it). Every API that takes a resource resolves a
  Series (and a ``type/id`` string) to its newest live version; the lifecycle walks
  (``get_prev_resource_version`` and friends) start from the newest one included.

Both print as their ref, equal their ref string and each other by identity (type, id, version),
hash like their ref and pickle without anything else, so lolpop's ``==`` comparisons work
either way. A Resource may carry ``info`` (tags, metadata, metrics, attrs as they were read by
the call that returned it, e.g. ``find``): shown in a notebook, never compared or pickled.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from tracker.errors import InvalidRef

MODEL = "model"  # a series handle: ``get_resource(name, type="model")``
MODEL_VERSION = "model_version"
INFO_KINDS = ("tags", "metadata", "metrics", "attrs")
"""What a Resource's ``info`` may hold, in display order."""


@dataclass(frozen=True, eq=False)
class Resource:
    """One version of a typed, named resource; ``info`` is what was read with it, if anything."""

    type: str
    id: str
    version: int
    run_id: str | None = None
    parent: str | None = None
    info: Mapping[str, Any] | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        v = self.version
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise InvalidRef(
                f"Resource({self.type!r}, {self.id!r}, {v!r}): a version is a number >= 1; "
                f"for the whole series use Series({self.type!r}, {self.id!r})"
            )
        if self.info is not None and not isinstance(self.info, MappingProxyType):
            object.__setattr__(self, "info", MappingProxyType(dict(self.info)))

    @property
    def ref(self) -> str:
        return f"{self.type}/{self.id}@{self.version}"

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.type, self.id, self.version)

    @property
    def series(self) -> Series:
        return Series(self.type, self.id)

    def __str__(self) -> str:
        return self.ref

    def __repr__(self) -> str:
        parent = f", parent={self.parent!r}" if self.parent else ""
        return f"Resource({self.ref!r}, run_id={self.run_id!r}{parent})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Resource):
            return self.key == other.key
        if isinstance(other, str):
            return self.ref == other
        if isinstance(other, Series):
            return False
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.ref)

    def __reduce__(self) -> tuple[Any, ...]:
        return (Resource, (self.type, self.id, self.version, self.run_id, self.parent))

    def _repr_html_(self) -> str:
        from tracker.view.html import resource_html

        return resource_html(self)


@dataclass(frozen=True, eq=False)
class Series:
    """A whole series ``type/id``: what it resolves to is its newest live version, read when it
    is used (so a Series held for a while follows new versions)."""

    type: str
    id: str

    @property
    def ref(self) -> str:
        return f"{self.type}/{self.id}"

    @property
    def version(self) -> None:
        """Always None: a series names no version (lolpop code tests ``version is None``)."""
        return None

    def __str__(self) -> str:
        return self.ref

    def __repr__(self) -> str:
        return f"Series({self.ref!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Series):
            return (self.type, self.id) == (other.type, other.id)
        if isinstance(other, str):
            return self.ref == other
        if isinstance(other, Resource):
            return False
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.ref)

    def __reduce__(self) -> tuple[Any, ...]:
        return (Series, (self.type, self.id))

    def _repr_html_(self) -> str:
        from tracker.view.html import series_html

        return series_html(self)


def parse_ref(ref: str) -> tuple[str, str, int | None]:
    """``type/id@version`` -> (type, id, version); ``type/id`` -> (type, id, None).

    The id may itself hold ``/`` and ``@``: the type ends at the first ``/`` and the version is the
    digits after the last ``@``.
    """
    if not isinstance(ref, str):
        raise InvalidRef(f"expected a resource or a ref string, got {type(ref).__name__}: {ref!r}")
    rtype, sep, rest = ref.partition("/")
    if not sep or not rtype or not rest:
        raise InvalidRef(
            f"{ref!r} is not a resource ref; write type/id@version (e.g. model_version/titanic@3) "
            "or type/id for the latest version"
        )
    rid, at, ver = rest.rpartition("@")
    if at and rid and ver.isdigit() and ver.isascii():
        if int(ver) < 1:
            raise InvalidRef(f"{ref!r}: versions start at 1")
        return rtype, rid, int(ver)
    return rtype, rest, None


def named(ref: str) -> Resource | Series:
    """The value a ref string names, without reading anything: a Resource for ``type/id@N``,
    a Series for ``type/id``."""
    rtype, rid, version = parse_ref(ref)
    return Series(rtype, rid) if version is None else Resource(rtype, rid, version)


def shown(record: Mapping[str, Any]) -> dict[str, Any]:
    """The part of a version's record a Resource carries as ``info`` (see :data:`INFO_KINDS`)."""
    return {kind: record[kind] for kind in INFO_KINDS if record.get(kind) is not None}
