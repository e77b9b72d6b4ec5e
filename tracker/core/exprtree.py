"""The ``where`` language's meaning: field lookup, typed comparison, the expression tree and
the ordering of records. :mod:`tracker.core.expr` parses text into these nodes.

* Field lookup: the first segment is a top-level key; while segments remain and the value is a
  mapping, the remaining segments joined with ``.`` are tried as one key first, then one segment.
* A missing field is *absent*: every comparison and ``in``/``not in`` with it is false (``!=`` too,
  like SQL NULL). ``exists`` is true when the field is present and not ``None``.
* ``=`` is true only for values of compatible types that are equal; ``!=`` (on present values) is
  its negation. ``null`` equals only ``None``. ``<``/``<=``/``>``/``>=`` are false for
  incompatible types or ``None``. ``in`` uses ``=``; ``not in`` is its negation (on present values).
* Types are strict. Compatible: int/float with int/float (bool is *not* a number), str with str
  (lexicographic), bool with bool, date/datetime with date/datetime or an ISO 8601 string (``Z``
  accepted, naive means UTC, a date is midnight UTC: there is no date literal), and two values of
  one type (lists, mappings: equality in practice). So ``metadata.f1 >= '0.87'`` is false for a
  number ``f1``, and a list never equals a scalar.
* Ordering (``order_by``): values of one kind sort among themselves (numbers, then text, ...);
  absent and null values come last in either direction.
"""

from __future__ import annotations

import dataclasses
import operator
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any, TypeVar

RecordT = TypeVar("RecordT", bound=Mapping[str, Any])
Scalar = None | bool | int | float | str

KEYWORDS = frozenset({"and", "or", "not", "in", "exists", "true", "false", "null", "none"})
_ORDER = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}
_COMPARE_ERRORS = (TypeError, ValueError, ArithmeticError)
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")

ABSENT: Any = object()  # what a missing field resolves to
_ABSENT = ABSENT

# --- values ----------------------------------------------------------------------


def _child(value: Any, key: str) -> Any:
    if isinstance(value, Mapping) and key in value:
        return value[key]
    return _ABSENT


def _lookup(record: Any, path: tuple[str, ...]) -> Any:
    value = _child(record, path[0])
    rest = path[1:]
    while rest and value is not _ABSENT:
        if len(rest) > 1:
            whole = _child(value, ".".join(rest))
            if whole is not _ABSENT:
                return whole
        value, rest = _child(value, rest[0]), rest[1:]
    return value


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _as_moment(value: Any) -> datetime | None:
    if isinstance(value, str):
        text = value.strip()
        if text[-1:] in ("Z", "z"):
            text = text[:-1] + "+00:00"
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            return None
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=timezone.utc)
    return None


def _coerce(a: Any, b: Any) -> tuple[Any, Any] | None:
    """The two values made comparable, or None when their types are incompatible."""
    if a is None or b is None:
        return None
    if _is_number(a) and _is_number(b):
        return a, b
    if isinstance(a, str) and isinstance(b, str):
        return a, b
    if _is_number(a) or _is_number(b):
        return None  # strict: a number never equals its text, a bool is not a number
    if isinstance(a, date) or isinstance(b, date):
        m, n = _as_moment(a), _as_moment(b)
        return None if m is None or n is None else (m, n)
    return (a, b) if type(a) is type(b) else None


def _equal(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    pair = _coerce(a, b)
    try:
        return pair is not None and bool(pair[0] == pair[1])
    except _COMPARE_ERRORS:
        return False


def _compare(op: str, a: Any, b: Any) -> bool:
    if op == "=":
        return _equal(a, b)
    if op == "!=":
        return not _equal(a, b)
    pair = _coerce(a, b)
    try:
        return pair is not None and bool(_ORDER[op](pair[0], pair[1]))
    except _COMPARE_ERRORS:
        return False


# --- AST -------------------------------------------------------------------------------------


def render_segment(segment: str) -> str:
    """A field segment as the parser reads it: plain when it can be, else back-quoted."""
    plain = (
        segment
        and (segment[0].isalpha() or segment[0] == "_")
        and segment.isascii()
        and set(segment) <= _NAME_CHARS
    )
    if plain and segment.lower() not in KEYWORDS:
        return segment
    return "`" + segment.replace("`", "``") + "`"


def render_path(path: Sequence[str]) -> str:
    return ".".join(render_segment(s) for s in path)


@dataclass(frozen=True)
class Field:
    path: tuple[str, ...]

    def resolve(self, record: Any) -> Any:
        return _lookup(record, self.path)

    def render(self) -> str:
        return render_path(self.path)


@dataclass(frozen=True)
class Literal:
    value: Scalar

    def resolve(self, record: Any) -> Any:
        return self.value

    def render(self) -> str:
        if self.value is None:
            return "null"
        if isinstance(self.value, bool):
            return "true" if self.value else "false"
        if isinstance(self.value, str):
            return "'" + self.value.replace("\\", "\\\\").replace("'", "\\'") + "'"
        return repr(self.value)


Operand = Field | Literal


@dataclass(frozen=True)
class Compare:
    op: str  # one of = != < <= > >=
    left: Operand
    right: Operand
    precedence = 4

    def evaluate(self, record: Any) -> bool:
        a, b = self.left.resolve(record), self.right.resolve(record)
        return a is not _ABSENT and b is not _ABSENT and _compare(self.op, a, b)

    def render(self) -> str:
        return f"{self.left.render()} {self.op} {self.right.render()}"


@dataclass(frozen=True)
class Membership:
    operand: Operand
    values: tuple[Literal, ...]
    negated: bool = False
    precedence = 4

    def evaluate(self, record: Any) -> bool:
        value = self.operand.resolve(record)
        if value is _ABSENT:
            return False
        return any(_equal(value, v.value) for v in self.values) != self.negated

    def render(self) -> str:
        keyword = "not in" if self.negated else "in"
        return f"{self.operand.render()} {keyword} ({', '.join(v.render() for v in self.values)})"


@dataclass(frozen=True)
class Exists:
    field: Field
    precedence = 4

    def evaluate(self, record: Any) -> bool:
        value = self.field.resolve(record)
        return value is not _ABSENT and value is not None

    def render(self) -> str:
        return f"{self.field.render()} exists"


@dataclass(frozen=True)
class Not:
    operand: Node
    precedence = 3

    def evaluate(self, record: Any) -> bool:
        return not self.operand.evaluate(record)

    def render(self) -> str:
        return "not " + _wrap(self.operand, 2)


@dataclass(frozen=True)
class Junction:
    word: str  # "and" or "or"
    parts: tuple[Node, ...]

    @property
    def precedence(self) -> int:
        return 2 if self.word == "and" else 1

    def evaluate(self, record: Any) -> bool:
        results = (p.evaluate(record) for p in self.parts)
        return all(results) if self.word == "and" else any(results)

    def render(self) -> str:
        return f" {self.word} ".join(_wrap(p, self.precedence) for p in self.parts)


Node = Compare | Membership | Exists | Not | Junction


def _wrap(node: Node, above: int) -> str:
    return node.render() if node.precedence > above else f"({node.render()})"


def _paths(node: object) -> Iterator[tuple[str, ...]]:
    if isinstance(node, Field):
        yield node.path
    elif isinstance(node, tuple):
        for item in node:
            yield from _paths(item)
    elif dataclasses.is_dataclass(node):
        for field in dataclasses.fields(node):
            yield from _paths(getattr(node, field.name))


@dataclass(frozen=True)
class Expression:
    """A parsed ``where`` expression: a predicate over one record (a mapping)."""

    node: Node

    def evaluate(self, record: Mapping[str, Any]) -> bool:
        """Whether ``record`` matches; never raises (odd values just do not match)."""
        return self.node.evaluate(record)

    __call__ = evaluate

    def nodes(self) -> Iterator[Node]:
        """Every node, parents before their parts."""
        stack: list[Node] = [self.node]
        while stack:
            node = stack.pop()
            yield node
            if isinstance(node, Not):
                stack.append(node.operand)
            elif isinstance(node, Junction):
                stack.extend(reversed(node.parts))

    def fields(self) -> frozenset[tuple[str, ...]]:
        """Every field path the expression reads, e.g. ``{("tags", "status")}``."""
        return frozenset(_paths(self.node))

    def __str__(self) -> str:
        return self.node.render()

    def __repr__(self) -> str:
        return f"Expression({str(self)!r})"


# --- ordering --------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderKey:
    """One key of an ``order_by``: a field and a direction."""

    field: Field
    descending: bool = False

    def render(self) -> str:
        return f"{self.field.render()} {'desc' if self.descending else 'asc'}"


def _sort_key(value: Any) -> tuple[Any, ...]:
    if isinstance(value, bool):
        return (1, value)
    if _is_number(value):
        return (0, value)
    if isinstance(value, str):
        return (2, value)
    moment = _as_moment(value) if isinstance(value, date) else None
    if moment is not None:
        return (3, moment)
    return (4, type(value).__name__, repr(value))


def order_records(records: Sequence[RecordT], keys: Sequence[OrderKey]) -> list[RecordT]:
    """``records`` sorted by ``keys`` (stable, the first key most significant); absent and null
    values last whatever the direction."""
    for key in reversed(keys):
        resolved = [(key.field.resolve(r), r) for r in records]
        present = [(v, r) for v, r in resolved if v is not ABSENT and v is not None]
        missing = [r for v, r in resolved if v is ABSENT or v is None]
        present.sort(key=lambda pair: _sort_key(pair[0]), reverse=key.descending)
        records = [r for _, r in present] + missing
    return list(records)
