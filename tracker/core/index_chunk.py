"""The stored form of the query index (see :mod:`tracker.core.index`): a chunk's bytes (one
line of JSON, then its entries back to back), the entries in it, and :class:`Candidate`, one
version's record parsed only when a walk needs it. A damaged chunk or entry is never an error:
a chunk that does not parse is empty, an entry of the wrong shape is read anew."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from tracker.store import paths
from tracker.store.jsonform import from_json, to_json

FORMAT = 5
DELETED = b', "r": null}'  # how an entry of a deleted version ends (see entry_text)
_SECTIONS = tuple(paths.ITEM_KINDS)  # every record has one mapping per item kind


class Gone(LookupError):
    """A version whose stored entry was unusable turned out deleted when read anew."""


class Candidate:
    """One version's record, parsed and decoded only when asked (``text`` is its stored entry).
    A damaged entry is not an error: the version is read anew through ``rebuild``."""

    __slots__ = ("_entry", "_record", "ident", "rebuild", "text", "version", "where")

    def __init__(
        self,
        version: int,
        record: dict[str, Any] | None,
        text: bytes,
        where: str,
        rebuild: Callable[[int], dict[str, Any] | None] | None = None,
        ident: tuple[str, str] | None = None,
    ):
        self.version, self._record, self.text, self.where = version, record, text, where
        self.rebuild = rebuild
        self.ident = ident  # (type, id) the entry must name
        self._entry: Any = None

    def _shaped(self, record: Any) -> bool:
        """Whether a stored record has the shape ``find`` builds (this version's identity,
        mappings for its sections): a wrong shape is a miss, never a crash."""
        if not isinstance(record, dict) or record.get("version") != self.version:
            return False
        if self.ident is not None and (record.get("type"), record.get("id")) != self.ident:
            return False
        return all(isinstance(record.get(k), dict) for k in _SECTIONS)

    def _json(self) -> Any:
        if self._entry is None:
            try:
                entry = json.loads(self.text)["r"]
                if not isinstance(entry, dict) or not isinstance(entry.get("doc", {}), dict):
                    raise TypeError("not an entry")
            except (ValueError, TypeError, KeyError, RecursionError):
                entry = {"whole": None}  # unusable: read the version anew (see record)
            self._entry = entry
        return self._entry

    def raw_for(self, fields: frozenset[tuple[str, ...]]) -> dict[str, Any] | None:
        """The JSON form of the record when reading ``fields`` from it gives what the decoded
        record would (no datetime, date or YAML-kept value on their paths); else None."""
        if self._record is not None:
            return None
        entry = self._json()
        if "whole" in entry:
            return None
        kept = entry.get("yaml") or {}
        typed = [*(entry.get("dt") or ()), *(entry.get("d") or ())]
        for field in fields:
            if field[0] in kept:
                return None
            for path in typed:
                n = min(len(path), len(field))
                if tuple(path[:n]) == field[:n]:
                    return None
        doc = entry.get("doc")
        return doc if self._shaped(doc) else None

    @property
    def record(self) -> dict[str, Any]:
        if self._record is None:
            entry = self._json()
            try:
                if entry.get("whole", "") is None:
                    raise TypeError("damaged entry")
                record = from_json(entry, self.where)
                if not self._shaped(record):
                    raise TypeError("not the record of this version")
                self._record = dict(record)
            except Exception:  # a damaged cache entry: read the version anew
                if self.rebuild is None:
                    raise
                rebuilt = self.rebuild(self.version)
                if rebuilt is None:  # deleted since: nothing the entry said holds
                    raise Gone(f"{self.where}: version {self.version} is gone") from None
                self._record = rebuilt
        return self._record


def dump_chunk(marks: dict[str, Any], entries: dict[str, bytes], memo: dict[str, Any]) -> bytes:
    """One line of JSON (format, change-log position, remembered matches, and where each
    version's entry lies in the body), then the entries' JSON texts back to back: a reader
    parses the small head and only the entries it needs."""
    spans: dict[str, list[int]] = {}
    offset = 0
    for name, text in entries.items():
        spans[name] = [offset, len(text)]
        offset += len(text)
    head = json.dumps({"format": FORMAT, "marks": marks, "memo": memo, "spans": spans})
    return b"".join([head.encode("utf-8"), b"\n", *entries.values()])


def load_chunk(data: bytes | None) -> dict[str, Any]:
    """A chunk as stored (see :func:`dump_chunk`); a missing or broken one is empty (a cache is
    rebuilt, not an error). Entries stay bytes until a walk needs one."""
    parsed = _parse(data) if data is not None else None
    empty = {"marks": {}, "memo": {}, "spans": {}, "data": b"", "body": 0}
    return parsed if parsed is not None else empty


def _parse(data: bytes) -> dict[str, Any] | None:
    cut = data.find(b"\n")
    if cut < 0:
        return None
    try:
        head = json.loads(data[:cut])
    except (ValueError, RecursionError):
        return None
    if (
        not isinstance(head, dict)
        or head.get("format") != FORMAT
        or not isinstance(head.get("spans"), dict)
        or not isinstance(head.get("marks"), dict)
        or not isinstance(head.get("memo"), dict)
    ):
        return None
    return {
        "marks": head["marks"],
        "memo": head["memo"],
        "spans": head["spans"],
        "data": data,
        "body": cut + 1,
    }


def chunk_entry(stored: dict[str, Any], version: int) -> bytes | None:
    """One entry's text, sliced from the chunk's body only when asked for."""
    span = stored["spans"].get(str(version))
    if not (isinstance(span, list) and len(span) == 2):
        return None
    if type(span[0]) is not int or type(span[1]) is not int:  # bools are not offsets
        return None
    start = stored["body"] + span[0]
    if span[0] < 0 or span[1] < 0 or start + span[1] > len(stored["data"]):
        return None
    return bytes(stored["data"][start : start + span[1]])


def chunk_entries(stored: dict[str, Any]) -> dict[str, bytes]:
    out = {}
    for name in stored["spans"]:
        text = chunk_entry(stored, int(name)) if name.isdigit() else None
        if text is not None:
            out[name] = text
    return out


def position_ok(position: Any) -> bool:
    """A recorded change-file position is ``[stamp, settled lines, lines]``."""
    return (
        isinstance(position, list)
        and len(position) == 3
        and isinstance(position[1], int)
        and isinstance(position[2], int)
    )


def is_chunk(data: bytes) -> bool:
    """Whether ``data`` is a query-index chunk of this format (for fsck)."""
    return _parse(data) is not None


def stored_validator(entries: dict[str, bytes], version: int) -> Any:
    text = entries.get(str(version))
    if text is None:
        return None
    try:
        entry = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if not isinstance(entry, dict) or not (entry.get("r") is None or isinstance(entry["r"], dict)):
        return None
    return entry.get("v") if "r" in entry else None


def entry_text(validator: Any, text: str) -> bytes:
    """A stored entry: the validator, then the record's JSON (``null``: deleted, see
    ``DELETED``)."""
    return f'{{"v": {json.dumps(validator)}, "r": {text}}}'.encode()


def built_entry(record: dict[str, Any] | None) -> tuple[dict[str, Any] | None, str]:
    return record, "null" if record is None else json.dumps(to_json(record))
