"""Which fields a query may name, and the answer when it names one that is not there.

Each scope (resource versions for ``find``, runs for ``runs``) has fixed top-level fields; some are
mappings whose keys come from the data (``tags.<key>``, ``metadata.<key>.<sub>``, ``attrs.<key>``).

* A field no record of the scope can ever have (``status`` on versions, ``tag.status``,
  ``git.dirty`` on runs, ``id.x``) is an :class:`ExpressionError` naming it, with the closest
  fields as suggestions (:mod:`difflib`). A word standing where a value belongs
  (``tags.status = DEPLOYED``) is an error that says strings need quotes.
* A key that no record in scope has (``tags.stauts``) may simply not be written yet, so it is a
  :class:`FieldWarning` (a ``UserWarning``; the command line prints it on stderr) with suggestions
  from the keys that are present.
"""

from __future__ import annotations

import difflib
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tracker.core.exprtree import (
    ABSENT,
    Compare,
    Expression,
    Field,
    Membership,
    OrderKey,
    render_path,
)
from tracker.errors import ExpressionError, FieldWarning
from tracker.store import paths

_NESTED_DEPTH = 3  # how deep present keys of mappings are remembered for suggestions
_NESTED_SAMPLE = 200  # records whose nested keys are remembered (top-level keys: all of them)


@dataclass(frozen=True)
class Scope:
    """The fields of one kind of record: ``scalars`` and ``mappings`` (keys from the data)."""

    what: str  # "resource versions", "runs"
    scalars: tuple[str, ...]
    mappings: tuple[str, ...]
    always: tuple[str, ...] = ()  # keys of mappings that every (closed) record has
    aliases: tuple[tuple[str, str], ...] = ()  # old or likely names -> the field

    @property
    def roots(self) -> tuple[str, ...]:
        return (*self.scalars, *self.mappings)

    def describe(self) -> str:
        maps = ", ".join(f"{m}.<key>" for m in self.mappings)
        return f"{', '.join(self.scalars)}, {maps}"


RESOURCES = Scope(
    "resource versions",
    ("ref", "type", "id", "version", "run_id", "parent", "created_at"),
    tuple(paths.ITEM_KINDS),  # tags, metadata, attrs, metrics (<key>: last value)
    ("attrs.status", "attrs.end_time", "attrs.run_status"),
)
RUNS = Scope(
    "runs",
    (
        "id",
        "name",
        "status",
        "start_time",
        "end_time",
        "duration_s",
        "user",
        "host",
        "git_commit",
        "git_branch",
        "git_dirty",
        "git_remote",
        "pid",
        "cwd",
        "argv",
        "python",
        "platform",
    ),
    ("attrs",),
    ("attrs.status", "attrs.end_time"),
    (
        ("git.hexsha", "git_commit"),
        ("git.commit", "git_commit"),
        ("git.branch", "git_branch"),
        ("git.dirty", "git_dirty"),
        ("git.remote", "git_remote"),
        ("duration", "duration_s"),
    ),
)


def suggest(name: str, candidates: Iterable[str], n: int = 3) -> list[str]:
    """The closest of ``candidates`` to ``name`` (difflib's ratio over the whole path, best
    first), among those whose last segment is close too: ``metadata.f2`` suggests
    ``metadata.f1``, not ``metadata.params``; ``status`` suggests ``attrs.status``."""
    tail = name.rsplit(".", 1)[-1].lower()
    scored = []
    for cand in set(candidates) - {name}:
        cand_tail = cand.rsplit(".", 1)[-1].lower()
        if difflib.SequenceMatcher(None, tail, cand_tail).ratio() < 0.5:
            continue
        ratio = difflib.SequenceMatcher(None, name.lower(), cand.lower()).ratio()
        if cand_tail == tail:
            ratio = max(ratio, 0.61)
        if ratio >= 0.6:
            scored.append((-ratio, cand))
    return [cand for _, cand in sorted(scored)[:n]]


def _static_candidates(fld: Field, scope: Scope) -> list[str]:
    """What a field with an unknown root may have meant: a top-level field, a field every record
    has (``status`` -> ``attrs.status``), or the same key under a mapping of a similar name
    (``tag.x`` -> ``tags.x``)."""
    out = [*scope.scalars, *scope.always]
    if len(fld.path) > 1:
        close = difflib.get_close_matches(fld.path[0], scope.mappings, n=3, cutoff=0.6)
        out += [render_path((m, *fld.path[1:])) for m in close]
    return out


def did_you_mean(options: Sequence[str]) -> str:
    if not options:
        return ""
    return "; did you mean " + " or ".join(options) + "?"


def _fields_of(expr: Expression | None, order: Sequence[OrderKey]) -> list[tuple[Field, Any]]:
    """Every field with the node it sits in (None for order keys)."""
    out: list[tuple[Field, Any]] = []
    if expr is not None:
        for node in expr.nodes():
            for operand in _operands(node):
                if isinstance(operand, Field):
                    out.append((operand, node))
    out.extend((key.field, None) for key in order)
    return out


def _operands(node: Any) -> tuple[Any, ...]:
    if isinstance(node, Compare):
        return (node.left, node.right)
    if isinstance(node, Membership):
        return (node.operand,)
    inner = getattr(node, "field", None)
    return (inner,) if isinstance(inner, Field) else ()


def check_static(
    scope: Scope, expr: Expression | None, order: Sequence[OrderKey], what: str = "where"
) -> list[Field]:
    """Raise for fields the scope can never have; return the data-dependent ones to watch."""
    watch: list[Field] = []
    for fld, node in _fields_of(expr, order):
        root, name = fld.path[0], fld.render()
        context = "order_by" if node is None else what
        if root not in scope.roots:
            if isinstance(node, Compare) and _is_bare_word(fld, node, scope):
                raise ExpressionError(
                    f"{context}: {name!r} is not a field of {scope.what}; strings need quotes: "
                    f"'{'.'.join(fld.path)}' (fields: {scope.describe()})",
                    text=str(expr),
                    expected="a quoted string",
                )
            alias = dict(scope.aliases).get(name)
            options = [alias] if alias else suggest(name, _static_candidates(fld, scope))
            raise ExpressionError(
                f"{context}: no field {name!r} for {scope.what}{did_you_mean(options)} "
                f"(fields: {scope.describe()})",
                text=name,
                expected="a field",
            )
        if root in scope.scalars and len(fld.path) > 1:
            raise ExpressionError(
                f"{context}: {root!r} has no sub-fields, so {name!r} is never set; "
                f"use {root} (fields: {scope.describe()})",
                text=name,
                expected="a field",
            )
        if root in scope.mappings and len(fld.path) > 1 and fld not in watch:
            watch.append(fld)
    return watch


def _is_bare_word(fld: Field, node: Compare, scope: Scope) -> bool:
    """``tags.status = DEPLOYED``: one plain word facing a known field (or on the right)."""
    if len(fld.path) != 1:
        return False
    other = node.left if node.right is fld else node.right
    facing_field = isinstance(other, Field) and other.path[0] in scope.roots
    return facing_field or node.right is fld


@dataclass
class Presence:
    """Watches which data-dependent fields some record in scope has, and remembers the keys
    that are there, for suggestions: the top-level keys of every record (a C-speed set update)
    and nested keys of the first :data:`_NESTED_SAMPLE` records."""

    scope: Scope
    watched: list[Field]
    seen: set[Field] = field(default_factory=set)
    top: dict[str, set[Any]] = field(default_factory=dict)
    nested: set[str] = field(default_factory=set)
    sampled: int = 0

    def __post_init__(self) -> None:
        self.top = {root: set() for root in self.scope.mappings}
        self._missing = list(self.watched)

    def add(self, record: Mapping[str, Any]) -> None:
        if not self._missing:
            return
        for fld in [f for f in self._missing if f.resolve(record) is not ABSENT]:
            self._missing.remove(fld)
            self.seen.add(fld)
        for root, keys in self.top.items():
            value = record.get(root)
            if isinstance(value, dict):
                keys.update(value)
        if self.sampled < _NESTED_SAMPLE:
            self.sampled += 1
            for root in self.scope.mappings:
                _collect(record.get(root), (root,), self.nested)

    @property
    def keys(self) -> set[str]:
        """Every key seen, rendered as a field (``tags.status``, ``metadata.params.C``)."""
        out = set(self.nested)
        for root, keys in self.top.items():
            out.update(render_path((root, str(k))) for k in keys)
        return out

    def warn(self, stacklevel: int = 3) -> list[str]:
        """One :class:`FieldWarning` per watched field that no record had; returns the texts."""
        missing = [fld for fld in self.watched if fld not in self.seen]
        if not missing:
            return []
        keys = self.keys
        messages = []
        for fld in missing:
            name = fld.render()
            same_root = any(k.startswith(f"{fld.path[0]}.") for k in keys)
            hint = did_you_mean(suggest(name, keys)) or (
                "" if same_root else f" (no {scope_word(fld.path[0])} at all)"
            )
            messages.append(f"no {self.scope.what[:-1]} in scope has {name}{hint}")
        for message in messages:
            warnings.warn(message, FieldWarning, stacklevel=stacklevel)
        return messages


def scope_word(root: str) -> str:
    return {"tags": "tag", "attrs": "attribute"}.get(root, root)


def _collect(value: Any, prefix: tuple[str, ...], out: set[str]) -> None:
    if not isinstance(value, Mapping) or len(prefix) > _NESTED_DEPTH:
        return
    for key, sub in value.items():
        path = (*prefix, str(key))
        out.add(render_path(path))
        _collect(sub, path, out)
