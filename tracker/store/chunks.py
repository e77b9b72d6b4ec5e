"""Metric chunks: immutable TSV files of ``(step, timestamp, value)`` points, one writer each.

A chunk is written whole, once, by the store's atomic write and never changed, so nothing is ever
appended in place and two writers never share a file. It reads with standard tools
(``column -t``, ``cut``, ``sort -n``) or ``pandas.read_csv(path, sep="\\t", comment="#")``::

    #tracker-metrics 1	<key, percent-encoded>	<writer id>	<seq>	<points>
    step	timestamp	value
    0	1733301234.5678	0.6931471805599453
    1	1733301234.5791	nan

Floats are written with ``repr`` (shortest exact round trip; ``nan``, ``inf``, ``-inf`` as
Python spells them), integers as integers, so every value reads back bit for bit. The compacted
file of a key (``compact.tsv``, derived, written on close) has the same rows, merged, behind a
header listing the chunks it holds with their stamps; a reader uses it only while every listed
chunk still has that stamp.
"""

from __future__ import annotations

import json
import math
import operator
import re
from typing import Any, NamedTuple

from tracker.errors import CorruptFile

MAGIC = "#tracker-metrics 1"
COMPACT_MAGIC = "#tracker-metrics-compact 1"
COLUMNS = "step\ttimestamp\tvalue"
EXT = ".tsv"
COMPACT = "compact" + EXT
CHUNK_NAME = re.compile(r"([0-9a-f]{16})-([0-9]{6,12})\.tsv")
MAX_POINTS = 2_000_000  # per file; a writer flushes every 1,000 by default
_INT64 = 1 << 63


class MetricPoint(NamedTuple):
    """One point of a metric series; ``timestamp`` is seconds since the epoch (UTC)."""

    step: int
    timestamp: float
    value: int | float


Row = tuple[int, float, "int | float"]


def chunk_name(writer: str, seq: int) -> str:
    return f"{writer}-{seq:06d}{EXT}"


def _num(value: int | float) -> str:
    return repr(value) if isinstance(value, float) else str(value)


def _rows(points: list[Row]) -> str:
    return "".join(f"{s}\t{t!r}\t{_num(v)}\n" for s, t, v in points)


def encode_chunk(key_segment: str, writer: str, seq: int, points: list[Row]) -> bytes:
    head = f"{MAGIC}\t{key_segment}\t{writer}\t{seq}\t{len(points)}\n{COLUMNS}\n"
    return (head + _rows(points)).encode("ascii")


def encode_compact(key_segment: str, covered: dict[str, list[Any]], points: list[Row]) -> bytes:
    """``covered``: ``{chunk name: stamp}`` of every chunk merged into ``points``."""
    listing = json.dumps(sorted(covered.items()), separators=(",", ":"))
    head = f"{COMPACT_MAGIC}\t{key_segment}\t{len(points)}\t{listing}\n{COLUMNS}\n"
    return (head + _rows(points)).encode("ascii")


def _parse_value(text: str) -> int | float:
    # ints never hold '.', 'e' or 'n'; floats (repr) always hold one of them (nan, inf, 1e-05)
    if "." in text or "e" in text or "n" in text:
        return float(text)
    return int(text)


_INT_VALUE = re.compile(r"\t-?[0-9]+$", re.MULTILINE)  # a row whose value column is an int
_TABS = operator.methodcaller("count", "\t")


def _parse_rows(lines: list[str], where: str, expected: int) -> list[Row]:
    """Column-wise parsing (C loops: split, map(int), map(float)); every row is still checked
    for exactly three fields, an integer step, a finite timestamp and a number."""
    if len(lines) < 2 or lines[1] != COLUMNS:
        raise CorruptFile(f"{where}: second line must be {COLUMNS!r}; run `tracker fsck`")
    body = lines[2:]
    if body and body[-1] == "":
        body.pop()
    if len(body) != expected:
        raise CorruptFile(
            f"{where}: the header announces {expected} points but {len(body)} rows follow; "
            "run `tracker fsck`"
        )
    if not body:
        return []
    text = "\t".join(body)
    fields = text.split("\t")
    try:
        if len(fields) != 3 * expected or any(c != 2 for c in map(_TABS, body)):
            raise ValueError("shape")
        steps = list(map(int, fields[0::3]))
        stamps = list(map(float, fields[1::3]))
        raw = fields[2::3]
        ints = _INT_VALUE.search("\n".join(body)) is not None
        values = list(map(_parse_value, raw)) if ints else list(map(float, raw))
        if min(steps) < -_INT64 or max(steps) >= _INT64 or not math.isfinite(math.fsum(stamps)):
            raise ValueError("range")
    except (ValueError, OverflowError):
        bad = next((i for i, ln in enumerate(body) if not _row_ok(ln)), 0)
        raise CorruptFile(
            f"{where}: row {bad + 3} is not 'step<TAB>timestamp<TAB>value' with an integer step, "
            f"a finite timestamp and a number: {body[bad][:80]!r}; run `tracker fsck`"
        ) from None
    return list(zip(steps, stamps, values, strict=True))


def _row_ok(line: str) -> bool:
    try:
        s, t, v = line.split("\t")
        _parse_value(v)
        return -_INT64 <= int(s) < _INT64 and math.isfinite(float(t))
    except ValueError:
        return False


def _text(data: bytes, where: str) -> list[str]:
    try:
        return data.decode("ascii").split("\n")
    except UnicodeDecodeError:
        raise CorruptFile(f"{where}: a metric chunk is ASCII text; run `tracker fsck`") from None


def decode_chunk(data: bytes, where: str, key_segment: str, name: str) -> list[Row]:
    """The points of chunk ``name`` of key ``key_segment``; CorruptFile (naming ``where``) for
    anything that is not exactly what its name and header say."""
    match = CHUNK_NAME.fullmatch(name)
    if match is None:
        raise CorruptFile(f"{where}: not a chunk name (<writer>-<seq>{EXT}); run `tracker fsck`")
    lines = _text(data, where)
    head = lines[0].split("\t")
    if len(head) != 5 or head[0] != MAGIC:
        raise CorruptFile(f"{where}: first line is not a {MAGIC!r} header; run `tracker fsck`")
    _, key, writer, seq, count = head
    if key != key_segment or writer != match.group(1) or seq != str(int(match.group(2))):
        raise CorruptFile(
            f"{where}: header names key {key!r}, writer {writer!r}, chunk {seq!r}, but the file "
            f"is chunk {int(match.group(2))} of writer {match.group(1)} of key {key_segment!r} "
            "(a copied or duplicated chunk?); run `tracker fsck`"
        )
    return _parse_rows(lines, where, _count(count, where))


def _count(text: str, where: str) -> int:
    if not text.isdigit() or int(text) > MAX_POINTS:
        raise CorruptFile(f"{where}: point count {text[:20]!r} is not 0..{MAX_POINTS}")
    return int(text)


def decode_compact(data: bytes, where: str, key_segment: str) -> tuple[dict[str, Any], list[Row]]:
    """``({chunk name: stamp}, points)`` of a compacted file."""
    lines = _text(data, where)
    head = lines[0].split("\t", 3)
    if len(head) != 4 or head[0] != COMPACT_MAGIC or head[1] != key_segment:
        raise CorruptFile(f"{where}: not the compacted file of key {key_segment!r}")
    try:
        covered = {str(n): list(s) for n, s in json.loads(head[3])}
    except (ValueError, TypeError):
        raise CorruptFile(f"{where}: the list of compacted chunks does not parse") from None
    return covered, _parse_rows(lines, where, _count(head[2], where))
