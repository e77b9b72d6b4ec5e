"""Strict calls: a keyword the method does not take is a :class:`UnknownArgument` naming it.

Python already refuses unknown keywords with a bare ``TypeError``; :func:`strict` turns that into
a ``TrackerError`` (still a ``TypeError``) that names the argument, suggests the closest accepted
name and lists what the method takes. The check costs nothing on a good call: the signature is
bound only after a ``TypeError``, to tell a wrong call from an error raised inside the method.
"""

from __future__ import annotations

import difflib
import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar

from tracker.errors import UnknownArgument

T = TypeVar("T", bound=type)

HINTS = {
    ("log_metadata", "step"): "metadata keeps one value per key; for a value per step use "
    "log_metric(resource, key, value, step=...)",
}


def strict(cls: T) -> T:
    """Wrap ``__init__`` and every public method defined in ``cls`` (see the module doc)."""
    for name, fn in list(vars(cls).items()):
        if inspect.isfunction(fn) and (name == "__init__" or not name.startswith("_")):
            setattr(cls, name, _checked(fn, cls.__name__))
    return cls


def _checked(fn: Callable[..., Any], owner: str) -> Callable[..., Any]:
    signature = inspect.signature(fn)

    @functools.wraps(fn)
    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except TypeError as exc:
            try:
                signature.bind(*args, **kwargs)
            except TypeError as wrong:
                raise UnknownArgument(
                    _explain(owner, fn.__name__, signature, kwargs, wrong)
                ) from exc
            raise

    return call


def _explain(
    owner: str, name: str, signature: inspect.Signature, kwargs: dict[str, Any], why: TypeError
) -> str:
    call = owner if name == "__init__" else f"{owner}.{name}"
    accepted = [p for p in signature.parameters if p != "self"]
    unknown = [k for k in kwargs if k not in signature.parameters]
    if not unknown:
        return f"{call}(): {why}; it takes ({', '.join(accepted)})"
    key = unknown[0]
    hint = HINTS.get((name, key))
    if hint is None:
        close = difflib.get_close_matches(key, accepted, n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"it takes ({', '.join(accepted)})"
    return f"{call}() takes no argument {key!r}: {hint}"
