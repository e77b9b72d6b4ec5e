"""A version's query-index entry built straight from its snapshot's JSON (the first ``find``).

Reading a new version for the query index used to decode every key file's document from the
snapshot (datetimes turned back), assemble the flat record, and encode it to JSON again for the
index entry: ~10 JSON conversions per version, a fifth of the first ``find`` after a burst of
writes. The snapshot already holds each value in the JSON form the entry needs
(:mod:`tracker.store.jsonform`), so the entry is put together from those pieces, with each
typed path (``dt``, ``d``) moved under its record field. Nothing is decoded; ``find`` parses an
entry only when its test needs the value.

Only the common case is taken; anything else returns None and the caller reads the version the
general way (:meth:`tracker.core.query.Query.live_record`), which gives the same record and
raises the same errors: a key file whose stamp differs from the snapshot's (written after it),
one the snapshot does not hold (too large), a value kept as YAML text (bytes, NaN, non-string
keys), a document of the wrong shape or key, a resource document that is not this version's.
"""

from __future__ import annotations

import json
from typing import Any, TypeGuard

from tracker.store import paths
from tracker.store.base import Entry

_TYPED = ("dt", "d")  # path lists of to_json: datetimes, dates
_FROM_RESOURCE = ("run_id", "parent", "created_at")  # record fields copied from resource.yaml


def entry_json(
    ref: str,
    key: tuple[str, str, int],
    snapshot: dict[str, Any],
    listing: dict[str, Entry],
    metrics: dict[str, Any],
    unscanned: frozenset[str] = frozenset(),
) -> str | None:
    """The JSON text ``to_json`` would give for the version's flat record (see
    :meth:`tracker.core.query.Query.flat`), or None where the general read must decide.

    ``listing``: the version's files (as :meth:`tracker.store.base.Store.list_version` gives
    them), whose stamps each key file's snapshot entry must carry; ``metrics``: the last value
    per metric key, read from the same listing; ``unscanned``: kinds whose folders were found
    unchanged since the snapshot listed them (not in ``listing``: every key file of theirs that
    the snapshot holds is theirs, see :func:`tracker.store.base.folder_unchanged`)."""
    resource = snapshot.get("resource")
    if not _plain(resource) or not isinstance(resource["doc"], dict):
        return None
    rdoc = resource["doc"]
    if (rdoc.get("type"), rdoc.get("id"), rdoc.get("version")) != key:
        return None
    typed: dict[str, list[list[Any]]] = {}
    record: dict[str, Any] = {"ref": ref, "type": key[0], "id": key[1], "version": key[2]}
    for field in _FROM_RESOURCE:
        record[field] = rdoc.get(field)
    sections = _sections(snapshot.get("files"), listing, unscanned, typed)
    if sections is None:
        return None
    record.update(sections)
    attributes = rdoc.get("attributes") or {}
    if not isinstance(attributes, dict):
        return None
    overridden = set(record["attrs"])
    for kind in _TYPED:  # resource.yaml's typed paths, where the record keeps those fields
        for path in resource.get(kind) or ():
            if not isinstance(path, list) or not path:
                return None
            if path[0] in _FROM_RESOURCE:
                typed.setdefault(kind, []).append(path)
            elif path[0] == "attributes" and len(path) > 1 and path[1] not in overridden:
                typed.setdefault(kind, []).append(["attrs", *path[1:]])
    record["attrs"] = {**attributes, **record["attrs"]}
    for value in metrics.values():
        if type(value) not in (int, float) or value != value or value in _INFINITE:
            return None  # NaN, infinities: the general read keeps them exactly
    record["metrics"] = metrics
    out: dict[str, Any] = {"doc": record}
    for kind in _TYPED:  # the order to_json gives does not matter to from_json
        if kind in typed:
            out[kind] = typed[kind]
    return json.dumps(out)


_INFINITE = (float("inf"), float("-inf"))


def _plain(entry: Any) -> TypeGuard[dict[str, Any]]:
    """A ``to_json`` form with nothing kept as YAML text."""
    return (
        isinstance(entry, dict)
        and "doc" in entry
        and "whole" not in entry
        and not entry.get("yaml")
    )


def _sections(
    files: Any,
    listing: dict[str, Entry],
    unscanned: frozenset[str],
    typed: dict[str, list[list[Any]]],
) -> dict[str, dict[str, Any]] | None:
    """``{kind: {key: value in JSON form}}`` for the key kinds, each key file taken from the
    snapshot when its stamp is the listed one, or when its kind's folder is unscanned
    (unchanged); None: some file must be read."""
    if not isinstance(files, dict):
        return None
    found: dict[str, list[tuple[str, Any, dict[str, Any]]]] = {k: [] for k in paths.KEY_KINDS}
    held = [(rel, None) for rel in files if rel.partition("/")[0] in unscanned]
    for rel, entry in [*listing.items(), *held]:
        kind, _, name = rel.partition("/")
        keys = found.get(kind)
        if keys is None or not name.endswith(".yaml") or "/" in name:
            continue
        cached = files.get(rel)
        if type(cached) is not dict or (entry is not None and cached.get("stamp") != entry.stamp):
            return None
        doc = cached.get("doc")
        if type(doc) is not dict or "whole" in cached or cached.get("yaml"):
            return None
        key = paths.decode(name[:-5])
        if doc.get("key") != key or "value" not in doc:
            return None  # the general read names the problem (KeyCollision, CorruptFile)
        keys.append((key, doc["value"], cached))
    out: dict[str, dict[str, Any]] = {}
    for kind, keys in found.items():
        keys.sort(key=_first)
        out[kind] = section = {}
        for key, value, cached in keys:
            section[key] = value
            for tkind in _TYPED:
                for path in cached.get(tkind) or ():
                    if type(path) is not list or not path:
                        return None
                    if path[0] == "value":
                        typed.setdefault(tkind, []).append([kind, key, *path[1:]])
    return out


def _first(item: tuple[str, Any, Any]) -> str:
    return item[0]
