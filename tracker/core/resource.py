"""Resources as small immutable values, and the ref strings that name them.

A resource prints as its ref (``model_version/titanic@3``); every API that takes a resource also
takes that string. Two resources are equal when they name the same version, whatever else they
carry, and a resource equals its own ref string, so lolpop's ``==`` comparisons work either way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tracker.errors import InvalidRef

MODEL = "model"  # a series handle: ``get_resource(name, type="model")``
MODEL_VERSION = "model_version"


@dataclass(frozen=True, eq=False)
class Resource:
    """One version of a typed, named resource (or, with ``version=None``, a whole series)."""

    type: str
    id: str
    version: int | None = None
    run_id: str | None = None
    parent: str | None = None
    _tracker: Any = field(default=None, repr=False, compare=False)

    @property
    def ref(self) -> str:
        base = f"{self.type}/{self.id}"
        return base if self.version is None else f"{base}@{self.version}"

    @property
    def key(self) -> tuple[str, str, int | None]:
        return (self.type, self.id, self.version)

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
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.ref)

    def __reduce__(self) -> tuple[Any, ...]:
        return (Resource, (self.type, self.id, self.version, self.run_id, self.parent))

    def _repr_html_(self) -> str:
        from tracker.view.html import resource_html

        return resource_html(self)


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
