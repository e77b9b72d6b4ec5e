r"""The ``where`` expression language of queries.

A hand-written tokenizer and recursive-descent parser; nothing is ever evaluated as Python.
Keywords (``and or not in exists true false null none``) are case-insensitive::

    expression = disjunct , { "or" , disjunct } ;
    disjunct   = negation , { "and" , negation } ;
    negation   = "not" , negation | "(" , expression , ")" | condition ;
    condition  = field , "exists"
               | operand , compare , operand
               | operand , [ "not" ] , "in" , "(" , literal , { "," , literal } , ")" ;
    compare    = "=" | "==" | "!=" | "<>" | "<" | "<=" | ">" | ">=" ;
    operand    = field | literal ;
    field      = segment , { "." , segment } ;
    segment    = ? [A-Za-z_][A-Za-z0-9_-]* ? | "`" , { ? any character ? | "``" } , "`" ;
    literal    = string | number | "true" | "false" | "null" | "none" ;
    string     = "'" , ... , "'" | '"' , ... , '"' ;     (escapes: \\  \'  \")
    number     = ? -?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)? ? ;

Precedence: comparisons > ``not`` > ``and`` > ``or``. A segment that is a keyword or is not a plain
name (``tags.`my.key```) must be backtick-quoted; a doubled backtick inside means one backtick.

Semantics of :meth:`Expression.evaluate` (it never raises on any record):

* Field lookup: the first segment is a top-level key; while segments remain and the value is a
  mapping, the remaining segments joined with ``.`` are tried as one key first, then one segment.
* A missing field is *absent*: every comparison and ``in``/``not in`` with it is false (``!=`` too,
  like SQL NULL). ``exists`` is true when the field is present and not ``None``.
* ``=`` is true only for compatible, equal values; ``!=`` (on present values) is its negation.
  ``null`` equals only ``None``. ``<``/``<=``/``>``/``>=`` are false for incompatible types or
  ``None``. ``in`` uses ``=``; ``not in`` is its negation (on present values).
* Compatible: int/float (bool is *not* a number), str/str (lexicographic), bool/bool, a numeric
  string with a number (``'0.93' = 0.93``), date/datetime with date/datetime or an ISO string
  (``Z`` accepted, naive means UTC, a date is midnight UTC), and two values of one type (lists,
  mappings: equality only in practice). A list is never equal to a scalar.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import operator
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any, NoReturn

from tracker.errors import ExpressionError

__all__ = ["MAX_DEPTH", "Expression", "parse"]

MAX_DEPTH = 100  # nested 'not' / '(' levels; keeps the parser far from Python's recursion limit

Scalar = None | bool | int | float | str

_KEYWORDS = frozenset({"and", "or", "not", "in", "exists", "true", "false", "null", "none"})
_CONSTANTS: dict[str, Scalar] = {"true": True, "false": False, "null": None, "none": None}
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*", re.ASCII)
_NUMBER = re.compile(r"-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
_NUMERIC_TEXT = re.compile(r"\s*[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\s*", re.ASCII)
_OPS = ("==", "!=", "<>", "<=", ">=", "=", "<", ">")
_CANONICAL_OP = {"==": "=", "<>": "!="}
_ORDER = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}
_PUNCT = {"(": "lparen", ")": "rparen", ",": "comma"}
_COMPARE_ERRORS = (TypeError, ValueError, ArithmeticError)


_ABSENT: Any = object()  # what a missing field resolves to


# --- evaluation helpers ----------------------------------------------------------------------


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


def _as_number(value: Any) -> int | float | None:
    if isinstance(value, int | float):
        return None if isinstance(value, bool) else value
    if not isinstance(value, str) or not _NUMERIC_TEXT.fullmatch(value):
        return None
    try:
        return int(value)
    except ValueError:  # a float, or more digits than int() accepts
        return float(value)


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
    if _is_number(a) or _is_number(b):  # a number and a maybe-numeric string
        x, y = _as_number(a), _as_number(b)
        return None if x is None or y is None else (x, y)
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


def _render_segment(segment: str) -> str:
    if _NAME.fullmatch(segment) and segment.lower() not in _KEYWORDS:
        return segment
    return "`" + segment.replace("`", "``") + "`"


@dataclass(frozen=True)
class Field:
    path: tuple[str, ...]

    def resolve(self, record: Any) -> Any:
        return _lookup(record, self.path)

    def render(self) -> str:
        return ".".join(_render_segment(s) for s in self.path)


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

    def fields(self) -> frozenset[tuple[str, ...]]:
        """Every field path the expression reads, e.g. ``{("tags", "status")}``."""
        return frozenset(_paths(self.node))

    def __str__(self) -> str:
        return self.node.render()

    def __repr__(self) -> str:
        return f"Expression({str(self)!r})"


# --- tokenizer and parser --------------------------------------------------------------------


@dataclass(frozen=True)
class _Token:
    kind: str  # name qname dot string number op lparen rparen comma eof
    value: Any
    start: int
    end: int


def _fail(text: str, index: int, expected: str, found: str = "") -> NoReturn:
    column = index + 1
    but = f" but found {found}" if found else ""
    message = f"expected {expected}{but} at column {column} in: {text}"
    raise ExpressionError(message, text=text, column=column, expected=expected)


def _read_quoted(text: str, start: int, what: str) -> tuple[str, int]:
    quote, i, out = text[start], start + 1, []
    while i < len(text):
        char = text[i]
        if quote == "`" and char == "`" and text.startswith("`", i + 1):
            out.append("`")
            i += 2
        elif char == quote:
            return "".join(out), i + 1
        elif quote != "`" and char == "\\" and i + 1 < len(text):
            if text[i + 1] not in "\\'\"":
                _fail(text, i, "\\\\, \\' or \\\" after a backslash", repr(text[i : i + 2]))
            out.append(text[i + 1])
            i += 2
        else:
            out.append(char)
            i += 1
    _fail(text, len(text), f"a closing {quote} for the {what} starting at column {start + 1}")


def _read_number(text: str, match: re.Match[str]) -> int | float:
    raw = match.group()
    if any(c in raw for c in ".eE"):
        number = float(raw)
        if not math.isfinite(number):
            _fail(text, match.start(), "a number within the float range", repr(raw[:20]))
        return number
    try:
        return int(raw)
    except ValueError:  # more digits than int() accepts
        _fail(text, match.start(), "a number with fewer digits", repr(raw[:20] + "..."))


def _ends_field(tokens: list[_Token]) -> bool:
    """Whether the last token is a field segment, so that a following '.' is not a number."""
    last = tokens[-1] if tokens else None
    if last is None or last.kind not in ("name", "qname"):
        return False
    after_dot = len(tokens) > 1 and tokens[-2].kind == "dot"
    return last.kind == "qname" or after_dot or last.value.lower() not in _KEYWORDS


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    value: Any
    i = 0
    while i < len(text):
        char, start = text[i], i
        if char.isspace():
            i += 1
            continue
        number = None if char == "." and _ends_field(tokens) else _NUMBER.match(text, i)
        name = _NAME.match(text, i)
        if number:
            kind, value, i = "number", _read_number(text, number), number.end()
        elif name:
            kind, value, i = "name", name.group(), name.end()
        elif char in "'\"`":
            kind = "qname" if char == "`" else "string"
            value, i = _read_quoted(text, i, "name" if char == "`" else "string")
            if kind == "qname" and not value:
                _fail(text, start, "a name between the backticks", "``")
        elif op := next((o for o in _OPS if text.startswith(o, i)), None):
            kind, value, i = "op", op, i + len(op)
        elif char in _PUNCT or char == ".":
            kind, value, i = _PUNCT.get(char, "dot"), char, i + 1
        else:
            _fail(text, i, "a field, a value, an operator or a parenthesis", repr(char))
        tokens.append(_Token(kind, value, start, i))
    tokens.append(_Token("eof", None, len(text), len(text)))
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.index = 0
        self.depth = 0

    def peek(self) -> _Token:
        return self.tokens[self.index]

    def advance(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def keyword(self) -> str | None:
        token = self.peek()
        word = token.value.lower() if token.kind == "name" else None
        return word if word in _KEYWORDS else None

    def expect(self, kind: str, expected: str) -> _Token:
        if self.peek().kind != kind:
            self.fail(expected)
        return self.advance()

    def fail(self, expected: str) -> NoReturn:
        token = self.peek()
        found = "" if token.kind == "eof" else repr(self.text[token.start : token.end][:20])
        _fail(self.text, token.start, expected, found)

    def parse(self) -> Node:
        if self.peek().kind == "eof":
            self.fail("an expression")
        node = self.junction("or", "a condition")
        if self.peek().kind != "eof":
            self.fail("'and', 'or' or the end of the expression")
        return node

    def junction(self, word: str, expected: str) -> Node:
        def part(expected: str) -> Node:
            return self.junction("and", expected) if word == "or" else self.negation(expected)

        parts = [part(expected)]
        while self.keyword() == word:
            self.advance()
            parts.append(part(f"a condition after '{word}'"))
        flat: list[Node] = []
        for p in parts:
            flat.extend(p.parts if isinstance(p, Junction) and p.word == word else (p,))
        return flat[0] if len(flat) == 1 else Junction(word, tuple(flat))

    def negation(self, expected: str) -> Node:
        word, opening = self.keyword(), self.peek()
        if word != "not" and opening.kind != "lparen":
            return self.condition(expected)
        self.depth += 1
        if self.depth > MAX_DEPTH:
            self.fail(f"at most {MAX_DEPTH} nested 'not' or '('")
        self.advance()
        node: Node
        if word == "not":
            node = Not(self.negation("a condition after 'not'"))
        else:
            node = self.junction("or", "a condition after '('")
            self.expect("rparen", f"')' to match the '(' at column {opening.start + 1}")
        self.depth -= 1
        return node

    def condition(self, expected: str) -> Node:
        first = self.peek()
        left = self.operand(expected)
        word, token = self.keyword(), self.peek()
        if word == "exists":
            if not isinstance(left, Field):
                raw = repr(self.text[first.start : first.end][:20])
                _fail(self.text, first.start, "a field before 'exists'", raw)
            self.advance()
            return Exists(left)
        if word == "not":
            self.advance()
            if self.keyword() != "in":
                self.fail("'in' after 'not'")
        if word in ("not", "in"):
            self.advance()
            return Membership(left, self.literals(), negated=word == "not")
        self.expect("op", "an operator (=, !=, <, <=, >, >=, in, not in or exists)")
        right = self.operand(f"a value after '{token.value}'")
        return Compare(_CANONICAL_OP.get(token.value, token.value), left, right)

    def literals(self) -> tuple[Literal, ...]:
        self.expect("lparen", "'(' to start the list after 'in'")
        values = [self.literal("a value in the list after 'in'")]
        while self.peek().kind == "comma":
            self.advance()
            values.append(self.literal("a value after ','"))
        self.expect("rparen", "',' or ')' in the list after 'in'")
        return tuple(values)

    def literal(self, expected: str) -> Literal:
        token, word = self.peek(), self.keyword()
        if token.kind not in ("string", "number") and word not in _CONSTANTS:
            self.fail(expected)
        self.advance()
        return Literal(_CONSTANTS[word] if word in _CONSTANTS else token.value)  # noqa: SIM401

    def operand(self, expected: str) -> Operand:
        token = self.peek()
        if token.kind == "qname" or (token.kind == "name" and self.keyword() is None):
            path = [self.advance().value]
            while self.peek().kind == "dot":
                self.advance()
                if self.peek().kind not in ("name", "qname"):
                    self.fail("a field name after '.' (quote other names with backticks)")
                path.append(self.advance().value)
            return Field(tuple(path))
        return self.literal(expected)


@functools.lru_cache(maxsize=256)
def _parse(text: str) -> Expression:
    return Expression(_Parser(text).parse())


def parse(text: str) -> Expression:
    """Parse a ``where`` expression; raises :class:`ExpressionError` when it does not parse."""
    if not isinstance(text, str):
        message = f"expected a string expression, got {type(text).__name__}"
        raise ExpressionError(message, text=repr(text), column=0, expected="a string")
    return _parse(text)
