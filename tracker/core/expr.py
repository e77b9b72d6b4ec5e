r"""The ``where`` and ``order_by`` languages of queries: tokenizer and parser.

A hand-written tokenizer and recursive-descent parser; nothing is ever evaluated as Python. What
an expression means (lookup, typed comparison) is in :mod:`tracker.core.exprtree`; which fields a
query may name is checked by :mod:`tracker.core.fields`. Keywords (``and or not in exists true
false null none``) are case-insensitive::

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

    order_by   = key , { "," , key } ;
    key        = [ "-" ] , field , [ "asc" | "desc" ] ;     ("-" means desc; not both)

Precedence: comparisons > ``not`` > ``and`` > ``or``. A segment that is a keyword or is not a plain
name (``tags.`my.key```) must be backtick-quoted; a doubled backtick inside means one backtick.
A word on the right of a comparison is a field, not text: strings always need quotes
(``tags.status = 'DEPLOYED'``); :mod:`tracker.core.fields` says so when the word is no field.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass
from typing import Any, NoReturn

from tracker.core.exprtree import (
    KEYWORDS,
    Compare,
    Exists,
    Expression,
    Field,
    Junction,
    Literal,
    Membership,
    Node,
    Not,
    Operand,
    OrderKey,
    Scalar,
)
from tracker.errors import ExpressionError

__all__ = [
    "MAX_DEPTH",
    "Compare",
    "Expression",
    "Field",
    "Literal",
    "OrderKey",
    "parse",
    "parse_field",
    "parse_order",
]

MAX_DEPTH = 100  # nested 'not' / '(' levels; keeps the parser far from Python's recursion limit

_KEYWORDS = KEYWORDS
_CONSTANTS: dict[str, Scalar] = {"true": True, "false": False, "null": None, "none": None}
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*", re.ASCII)
_NUMBER = re.compile(r"-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
_OPS = ("==", "!=", "<>", "<=", ">=", "=", "<", ">")
_CANONICAL_OP = {"==": "=", "<>": "!="}
_PUNCT = {"(": "lparen", ")": "rparen", ",": "comma"}
_DIRECTIONS = ("asc", "desc")


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


def _tokenize(text: str, minus: bool = False) -> list[_Token]:
    """Tokens of ``text``; with ``minus`` (order_by) a ``-`` is a token of its own."""
    tokens: list[_Token] = []
    value: Any
    i = 0
    while i < len(text):
        char, start = text[i], i
        if char.isspace():
            i += 1
            continue
        if minus and char == "-":
            tokens.append(_Token("minus", char, i, i + 1))
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
    def __init__(self, text: str, minus: bool = False) -> None:
        self.text = text
        self.tokens = _tokenize(text, minus)
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

    def order(self) -> tuple[OrderKey, ...]:
        """``order_by``: comma-separated keys, each ``[-]field [asc|desc]``."""
        if self.peek().kind == "eof":
            self.fail("a field to order by")
        keys = [self.order_key()]
        while self.peek().kind == "comma":
            self.advance()
            keys.append(self.order_key())
        if self.peek().kind != "eof":
            self.fail("'asc', 'desc', ',' or the end of order_by")
        return tuple(keys)

    def order_key(self) -> OrderKey:
        minus = self.peek().kind == "minus"
        if minus:
            self.advance()
        token = self.peek()
        if token.kind not in ("name", "qname") or (token.kind == "name" and self.keyword()):
            self.fail("a field to order by (e.g. version, -version, metadata.f1 desc)")
        field = self.operand("a field")
        assert isinstance(field, Field)
        token = self.peek()
        word = token.value.lower() if token.kind == "name" else None
        if word in _DIRECTIONS:
            if minus:
                self.fail("',' or the end after '-field' ('-' already means desc)")
            self.advance()
            return OrderKey(field, word == "desc")
        return OrderKey(field, minus)

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
        if token.kind == "name" and word is None:
            self.fail(f"{expected} (strings need quotes: '{token.value}')")
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


@functools.lru_cache(maxsize=256)
def parse_field(text: str) -> Field:
    """One field in the ``where`` syntax (``metadata.params.C``, ``tags.`my.key```)."""
    parser = _Parser(text)
    if parser.peek().kind not in ("name", "qname") or parser.keyword():
        parser.fail("a field (e.g. metadata.f1)")
    field = parser.operand("a field")
    if parser.peek().kind != "eof":
        parser.fail("the end of the field")
    assert isinstance(field, Field)
    return field


@functools.lru_cache(maxsize=256)
def _parse_order(text: str) -> tuple[OrderKey, ...]:
    return _Parser(text, minus=True).order()


def parse_order(text: str | None) -> tuple[OrderKey, ...]:
    """Parse an ``order_by`` (``-version``, ``metadata.f1 desc, id``; None or blank: no order);
    raises :class:`ExpressionError` naming the column of what is wrong."""
    if text is None:
        return ()
    if not isinstance(text, str):
        message = f"expected a string order_by, got {type(text).__name__}"
        raise ExpressionError(message, text=repr(text), column=0, expected="a string")
    return _parse_order(text) if text.strip() else ()
