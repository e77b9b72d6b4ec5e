"""N-way compare: one column per version (or run), one row per flattened field.

Built only on the tracker's public reads (``describe``, ``run``, ``find``), so it is the same over
any store and survives changes beneath them. Nested mappings are flattened with dots
(``metadata.params.C``); lists stay values (shown compactly by :func:`compact`). A row "differs"
when its values are not all equal (``1 == 1.0`` but ``True != 1``; a missing value differs from
any present one). With a direction (``max``/``min``, for every numeric row or per key) the best
numeric value of a row is marked.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from tracker.errors import InvalidArgument, MissingDependency

DIRECTIONS = ("max", "min")
IDENTITY = ("run_id", "parent", "created_at")
RUN_FIELDS = ("name", "status", "start_time", "end_time", "user", "host")
MISSING: Any = None  # what a column without the row's key holds in values


class _Reads(Protocol):
    def describe(self, resource: Any) -> dict[str, Any]: ...
    def run(self, run_id: str) -> dict[str, Any]: ...


def flatten(value: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}, "c": [1, 2]}`` -> ``{"a.b": 1, "c": [1, 2]}``; an empty mapping stays
    a value (``{}``) so that it still shows up as a row."""
    out: dict[str, Any] = {}
    for key, item in value.items():
        name = f"{prefix}{key}"
        if isinstance(item, Mapping) and item:
            out.update(flatten(item, name + "."))
        else:
            out[name] = item
    return out


def compact(value: Any, limit: int = 8) -> str:
    """A value as short text: lists as ``[1, 2, 3]`` (beyond ``limit`` items: ``… +N``),
    mappings as compact JSON, scalars as themselves, a missing value as an empty string."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        shown = ", ".join(_scalar_text(v) for v in value[:limit])
        more = f", … +{len(value) - limit}" if len(value) > limit else ""
        return f"[{shown}{more}]"
    return _scalar_text(value)


def _scalar_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, int | float):
        return repr(value) if isinstance(value, float) else str(value)
    if isinstance(value, Mapping | list | tuple):
        return json.dumps(value, default=str, ensure_ascii=False, separators=(", ", ": "))
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b or (a != a and b != b)  # NaN equals NaN here: the same recorded value
    return type(a) is type(b) and a == b


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return None if math.isnan(value) else float(value)


@dataclass
class Row:
    """One field across the columns: ``values[i]`` belongs to ``columns[i]`` (None when absent)."""

    key: str
    values: list[Any]
    present: list[bool]
    differs: bool
    best: list[int] = field(default_factory=list)  # column indexes holding the best value


@dataclass
class Comparison:
    """The compare table; ``rows`` hold every field unless it was made differences-only."""

    columns: list[str]
    rows: list[Row]
    differences_only: bool = False
    directions: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON form: ``{columns, differences_only, rows: [{key, values: {col: v}, differs,
        best: [col, ...]}]}``; a column lacking the key is left out of ``values``."""
        return {
            "columns": list(self.columns),
            "differences_only": self.differences_only,
            "rows": [
                {
                    "key": row.key,
                    "values": {
                        c: v
                        for c, v, p in zip(self.columns, row.values, row.present, strict=True)
                        if p
                    },
                    "differs": row.differs,
                    "best": [self.columns[i] for i in row.best],
                }
                for row in self.rows
            ],
        }

    def csv_columns(self) -> list[str]:
        return ["key", *self.columns, "differs", "best"]

    def csv_rows(self) -> list[dict[str, Any]]:
        """One dict per row over :meth:`csv_columns` (``best`` joined with spaces)."""
        out = []
        for row in self.rows:
            item: dict[str, Any] = {"key": row.key}
            for c, v, p in zip(self.columns, row.values, row.present, strict=True):
                item[c] = v if p else None
            item["differs"] = row.differs
            item["best"] = " ".join(self.columns[i] for i in row.best)
            out.append(item)
        return out

    def to_pandas(self) -> Any:
        """A DataFrame indexed by key with one column per version (or run)."""
        try:
            import pandas as pd
        except ImportError:
            raise MissingDependency(
                "to_pandas() needs pandas: pip install 'tracker[pandas]' (or pip install pandas)"
            ) from None
        frame = pd.DataFrame(
            [row.values for row in self.rows],
            index=[row.key for row in self.rows],
            columns=self.columns,
        )
        frame.index.name = "key"
        return frame

    def _repr_html_(self) -> str:
        from tracker.view.html import comparison_html

        return comparison_html(self)

    def __len__(self) -> int:
        return len(self.rows)


def parse_directions(best: str | Mapping[str, str] | Sequence[str] | None) -> dict[str, str]:
    """``"max"`` (every numeric row), ``{"metadata.f1": "max"}``, or CLI items ``KEY=max``;
    the key ``"*"`` stands for every row. Anything else raises :class:`InvalidArgument`."""
    if best is None:
        return {}
    if isinstance(best, str):
        items: Iterable[tuple[str, str]] = [_split_direction(best)]
    elif isinstance(best, Mapping):
        items = [(str(k), str(v)) for k, v in best.items()]
    else:
        items = [_split_direction(str(b)) for b in best]
    out = {}
    for key, direction in items:
        if direction.lower() not in DIRECTIONS:
            raise InvalidArgument(
                f"best direction {direction!r} for {key!r}: use 'max' or 'min' "
                "(e.g. best='max' or best={'metadata.f1': 'max', 'metadata.loss': 'min'})"
            )
        out[key] = direction.lower()
    return out


def _split_direction(text: str) -> tuple[str, str]:
    key, sep, direction = text.rpartition("=")
    return (key, direction) if sep else ("*", text)


def _direction_for(key: str, directions: Mapping[str, str]) -> str | None:
    """The direction of the most specific matching key: exact, then dotted prefix, then ``*``."""
    parts = key.split(".")
    for i in range(len(parts), 0, -1):
        found = directions.get(".".join(parts[:i]))
        if found:
            return found
    return directions.get("*")


def _selected(key: str, keys: Sequence[str] | None) -> bool:
    """``keys`` are exact keys or dotted prefixes (``metadata`` selects ``metadata.*``)."""
    if not keys:
        return True
    return any(key == k or key.startswith(k.rstrip(".") + ".") for k in keys)


def build(
    records: Sequence[tuple[str, Mapping[str, Any]]],
    *,
    differences_only: bool = False,
    best: str | Mapping[str, str] | Sequence[str] | None = None,
    keys: Sequence[str] | None = None,
) -> Comparison:
    """The table over already-flat ``(column, {key: value})`` records: identity fields first,
    then tags, metadata, attributes, git and artifacts, each sorted by key."""
    directions = parse_directions(best)
    columns = [name for name, _ in records]
    seen: dict[str, None] = {}
    for _, flat in records:
        seen.update(dict.fromkeys(flat))
    position = {key: i for i, key in enumerate(seen)}
    rows = []
    for key in sorted(seen, key=lambda k: _row_order(k, position[k])):
        if not _selected(key, keys):
            continue
        present = [key in flat for _, flat in records]
        values = [flat.get(key, MISSING) for _, flat in records]
        first = next((v for v, p in zip(values, present, strict=True) if p), None)
        differs = not all(present) or not all(
            _equal(first, v) for v, p in zip(values, present, strict=True) if p
        )
        if differences_only and not differs:
            continue
        row = Row(key, values, present, differs)
        direction = _direction_for(key, directions)
        numbers = [(i, _number(v)) for i, v in enumerate(values) if present[i]]
        numeric = [(i, n) for i, n in numbers if n is not None]
        if direction and len(numeric) >= 2:
            target = (max if direction == "max" else min)(n for _, n in numeric)
            row.best = [i for i, n in numeric if n == target]
        rows.append(row)
    return Comparison(columns, rows, differences_only, directions)


SECTIONS = ("tags", "metadata", "attrs", "git", "artifacts")


def _row_order(key: str, position: int) -> tuple[int, str, int]:
    """Identity fields first (as first seen), then each section's keys sorted."""
    section = key.split(".", 1)[0]
    if "." in key and section in SECTIONS:
        return (1 + SECTIONS.index(section), key, 0)
    return (0, "", position)


def resource_record(info: Mapping[str, Any]) -> dict[str, Any]:
    """The flat fields of a version from ``describe()``: identity, tags, metadata, attrs and
    each artifact's size and sha256."""
    flat: dict[str, Any] = {k: info.get(k) for k in IDENTITY}
    for section in ("tags", "metadata", "attrs"):
        items = info.get(section) or {}
        flat.update(flatten({k: items[k] for k in sorted(items, key=str)}, section + "."))
    for aid, art in sorted((info.get("artifacts") or {}).items()):
        flat[f"artifacts.{aid}.sha256"] = art.get("sha256")
        flat[f"artifacts.{aid}.size"] = art.get("size")
    return flat


def run_record(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The flat fields of a run: who/when, its git state and attributes."""
    flat: dict[str, Any] = {k: doc.get(k) for k in RUN_FIELDS}
    git = doc.get("git")
    if isinstance(git, Mapping):
        flat.update(flatten(dict(git), "git."))
    attrs = doc.get("attrs") or {}
    flat.update(flatten({k: attrs[k] for k in sorted(attrs, key=str)}, "attrs."))
    return flat


def records_of(tracker: _Reads, items: Iterable[Any]) -> list[tuple[str, dict[str, Any]]]:
    """``(column name, flat fields)`` for refs, resources, run ids or run dicts (as ``runs()``
    returns them); the same column twice is kept once."""
    out: list[tuple[str, dict[str, Any]]] = []
    seen: set[str] = set()
    for item in items:
        if isinstance(item, Mapping):
            name, flat = str(item.get("id")), run_record(item)
        elif isinstance(item, str) and "/" not in item:
            name, flat = item, run_record(tracker.run(item))
        else:
            info = tracker.describe(item)
            name, flat = str(info["ref"]), resource_record(info)
        if name not in seen:
            seen.add(name)
            out.append((name, flat))
    return out


def compare(
    tracker: _Reads,
    refs_or_results: Iterable[Any],
    *,
    differences_only: bool = False,
    best: str | Mapping[str, str] | Sequence[str] | None = None,
    keys: Sequence[str] | None = None,
) -> Comparison:
    """Compare versions or runs (refs, resources, run ids, or what ``find``/``runs`` return)."""
    items = list(refs_or_results)
    if not items:
        raise InvalidArgument(
            "nothing to compare: give refs (type/id@version), run ids, or the result of "
            "find()/runs() with at least one item"
        )
    return build(
        records_of(tracker, items), differences_only=differences_only, best=best, keys=keys
    )
