"""Plain YAML documents in JSON form, for the derived caches (snapshots, query indexes).

JSON parses ~36x faster than YAML through PyYAML's constructor, but cannot hold every value YAML
can. A document is stored as ``{"doc": ..., "dt": [paths], "d": [paths], "yaml": {field: text}}``:
datetimes and dates anywhere inside are ISO strings whose paths are listed (and turned back on
reading); a top-level field holding anything else JSON would change (bytes, NaN, infinities,
non-string keys) keeps its YAML text. Reading gives exactly what the YAML would.
"""

from __future__ import annotations

import datetime as _dt
import math
from typing import Any

from tracker.store.codec import dumps, loads

Path = list[Any]


class _NotExact(Exception):
    """A value inside that JSON would not give back as it is."""


def _encode(value: Any, path: Path, typed: dict[str, list[Path]]) -> Any:
    kind = type(value)
    if kind in (str, int, bool) or value is None:
        return value
    if kind is float:
        if not math.isfinite(value):
            raise _NotExact
        return value
    if kind is _dt.datetime:
        typed.setdefault("dt", []).append(path)
        return value.isoformat()
    if kind is _dt.date:
        typed.setdefault("d", []).append(path)
        return value.isoformat()
    if kind is list:
        return [_encode(v, [*path, i], typed) for i, v in enumerate(value)]
    if kind is dict:
        if not all(type(k) is str for k in value):
            raise _NotExact
        return {k: _encode(v, [*path, k], typed) for k, v in value.items()}
    raise _NotExact


def to_json(doc: Any) -> dict[str, Any]:
    """``doc`` in JSON form (one that is not a mapping with string keys: as ``whole`` YAML)."""
    if not isinstance(doc, dict) or not all(type(k) is str for k in doc):
        return {"whole": dumps(doc).decode()}
    plain: dict[str, Any] = {}
    typed: dict[str, list[Path]] = {}
    yaml_fields: dict[str, str] = {}
    for field, value in doc.items():
        mine: dict[str, list[Path]] = {}
        try:
            plain[field] = _encode(value, [field], mine)
        except _NotExact:
            plain[field] = None  # holds the field's place: key order is kept
            yaml_fields[field] = dumps(value).decode()
            continue
        for kind, found in mine.items():
            typed.setdefault(kind, []).extend(found)
    out: dict[str, Any] = {"doc": plain, **typed}
    if yaml_fields:
        out["yaml"] = yaml_fields
    return out


def from_json(entry: dict[str, Any], where: str) -> Any:
    """The document :func:`to_json` was given."""
    if "whole" in entry:
        return loads(str(entry["whole"]).encode(), where)
    yaml_fields = entry.get("yaml") or {}
    doc = dict(entry.get("doc") or {})
    for kind, parse in (("dt", _dt.datetime.fromisoformat), ("d", _dt.date.fromisoformat)):
        for path in entry.get(kind) or ():
            _set(doc, path, parse)
    for field, text in yaml_fields.items():
        doc[field] = loads(text.encode(), where)
    return doc


def _set(doc: Any, path: Path, parse: Any) -> None:
    """Replace the value at ``path``, copying the containers on the way: the entry it came
    from (a cache that may be written again) keeps its JSON form."""
    node = doc
    for step in path[:-1]:
        child = node[step]
        child = dict(child) if isinstance(child, dict) else list(child)
        node[step] = child
        node = child
    node[path[-1]] = parse(node[path[-1]])
