"""Path encoding and the on-disk layout (format 1): the one layout table.

Every user string that becomes a path segment goes through :func:`encode`, so any id or key works
and none can climb out of its directory. Only this module knows where a thing lives: the tracker
layer asks it for paths (the builders below) and, to learn what a path found in a listing is,
calls :func:`parse` (fsck does); it never joins or splits path strings itself.

The per-version folders are tables: :data:`ITEM_KINDS` (key files and metric series: adding a
kind is one entry here plus its API method), :data:`LINK_KINDS` (lineage pointers) and the
artifact folders (:data:`MANIFESTS`, :data:`ARTIFACTS`). Derived tuples (:data:`KEY_KINDS`,
:data:`SNAPSHOT_KINDS`) say which of them the snapshot and bulk reads cover.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from dataclasses import dataclass

from tracker.errors import InvalidKey

FORMAT = 1
MAX_SEGMENT = 200  # encoded bytes; most filesystems stop at 255 and we add suffixes
_SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-")
_ESCAPE = re.compile(r"%([0-9A-F]{2})")
_PLAIN = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]*")


def encode(text: str, what: str = "key") -> str:
    """Percent-encode ``text`` into one safe path segment (``[A-Za-z0-9_.-]``, no leading dot)."""
    if not isinstance(text, str):
        raise InvalidKey(f"{what} must be a string, got {type(text).__name__}: {text!r}")
    return _encode(text, what)


@functools.lru_cache(maxsize=8192)
def _encode(text: str, what: str) -> str:
    if not text:
        raise InvalidKey(f"{what} must not be empty; give a non-empty string")
    if _PLAIN.fullmatch(text):
        out = text
    else:
        try:
            raw = text.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise InvalidKey(f"{what} {text!r} is not valid unicode text: {exc}") from None
        parts = []
        for i, byte in enumerate(raw):
            ch = chr(byte)
            if ch in _SAFE and not (i == 0 and ch == "."):
                parts.append(ch)
            else:
                parts.append(f"%{byte:02X}")
        out = "".join(parts)
    if len(out) > MAX_SEGMENT:
        raise InvalidKey(
            f"{what} {text[:40]!r}... is too long ({len(out)} bytes once encoded, at most "
            f"{MAX_SEGMENT}); use a shorter {what}"
        )
    return out


def decode(segment: str) -> str:
    """Inverse of :func:`encode`."""
    if "%" not in segment:
        return segment
    raw = bytearray()
    i = 0
    while i < len(segment):
        if segment[i] == "%" and _ESCAPE.match(segment, i):
            raw.append(int(segment[i + 1 : i + 3], 16))
            i += 3
        else:
            raw.extend(segment[i].encode("utf-8"))
            i += 1
    return raw.decode("utf-8", errors="replace")


def join(*parts: str) -> str:
    return "/".join(parts)


# --- layout -------------------------------------------------------------------------------------

FORMAT_FILE = "tracker.yaml"
GITIGNORE = ".gitignore"  # local stores: keeps a store inside a git work tree out of it
RUNS = "runs"
RESOURCES = "resources"
RUN_FILE = "run.yaml"
RUN_ATTRS = "attrs"  # runs/<run>/attrs/<key>.yaml: key files
RUN_CREATED = "created"  # runs/<run>/created/<type>/<id>@<v>: pointers
HEAD = "HEAD"
INDEX = "index.json"  # the single-file query index of earlier builds (fsck removes it)
CHANGES = "changes"  # <series>/changes/c<chunk>-<writer>: the change log (tracker.core.changes)
RESOURCE_FILE = "resource.yaml"
SNAPSHOT = "snapshot.json"
MANIFESTS = "manifests"  # <v>/manifests/<artifact id>.yaml
ARTIFACTS = "artifacts"  # <v>/artifacts/<artifact id>/<token>/<encoded relative path>
METRICS = "metrics"
KEY_FILE = "key"  # <folder>/<encoded key>.yaml holding {key, value, logged_at, run_id}
SERIES = "series"  # <folder>/<encoded key>/<chunk>: immutable chunks (tracker.store.chunks)
POINTER = "pointer"  # <folder>/<encoded type>/<encoded id>@<version>: an empty file


@dataclass(frozen=True, slots=True)
class ItemKind:
    """One per-version folder of items: where it lives, how its files are named, and whether
    ``snapshot.json`` summarises it (and the query index validates it)."""

    folder: str
    rule: str  # KEY_FILE or SERIES
    in_snapshot: bool


ITEM_KINDS: dict[str, ItemKind] = {
    "tags": ItemKind("tags", KEY_FILE, True),
    "metadata": ItemKind("metadata", KEY_FILE, True),
    "attrs": ItemKind("attrs", KEY_FILE, True),
    METRICS: ItemKind(METRICS, SERIES, False),
}
# lineage pointers: ``children``/``used_by`` (reverse) and ``lineage`` (forward)
LINK_KINDS: tuple[str, ...] = ("children", "lineage", "used_by")
KEY_KINDS: tuple[str, ...] = tuple(k for k, v in ITEM_KINDS.items() if v.rule == KEY_FILE)
SNAPSHOT_KINDS: tuple[str, ...] = (
    *(k for k, v in ITEM_KINDS.items() if v.in_snapshot),
    MANIFESTS,
)


def run_dir(run_id: str) -> str:
    return join(RUNS, encode(run_id, "run id"))


def run_file(run_id: str) -> str:
    return join(run_dir(run_id), "run.yaml")


def run_attr(run_id: str, key: str) -> str:
    return join(run_dir(run_id), RUN_ATTRS, encode(key) + ".yaml")


def run_created_dir(run_id: str) -> str:
    return join(run_dir(run_id), RUN_CREATED)


def series_dir(rtype: str, rid: str) -> str:
    return join(RESOURCES, encode(rtype, "type"), encode(rid, "id"))


def type_dir(rtype: str) -> str:
    return join(RESOURCES, encode(rtype, "type"))


def head_file(rtype: str, rid: str) -> str:
    """A hint of the newest version; only ever an optimisation, exclusive create is the truth."""
    return join(series_dir(rtype, rid), HEAD)


INDEX_CHUNK = 2000  # versions per query-index chunk and per change-log group


def chunk_of(version: int) -> int:
    """The chunk holding ``version`` (0 for versions 1..INDEX_CHUNK)."""
    return (int(version) - 1) // INDEX_CHUNK


def index_chunk(rtype: str, rid: str, chunk: int) -> str:
    """One chunk of the query index of a series: a rebuildable cache (see tracker.core.index)."""
    return join(series_dir(rtype, rid), f"index-{int(chunk)}.json")


def changes_dir(rtype: str, rid: str) -> str:
    """The series' change log: one small file per writer and chunk (see tracker.core.changes)."""
    return join(series_dir(rtype, rid), CHANGES)


def change_file(rtype: str, rid: str, chunk: int, name: str) -> str:
    return join(changes_dir(rtype, rid), f"c{int(chunk)}-{encode(name, 'writer id')}")


def parse_change_name(name: str) -> int | None:
    """The chunk a change-log file belongs to, from its name (None: not one)."""
    head, sep, _ = name.partition("-")
    return int(head[1:]) if sep and head[:1] == "c" and head[1:].isdigit() else None


@functools.lru_cache(maxsize=8192)
def version_dir(rtype: str, rid: str, version: int) -> str:
    return join(series_dir(rtype, rid), str(int(version)))


def resource_file(rtype: str, rid: str, version: int) -> str:
    return join(version_dir(rtype, rid, version), RESOURCE_FILE)


def snapshot_file(rtype: str, rid: str, version: int) -> str:
    return join(version_dir(rtype, rid, version), SNAPSHOT)


def item_dir(rtype: str, rid: str, version: int, kind: str) -> str:
    return join(version_dir(rtype, rid, version), kind)


@functools.lru_cache(maxsize=32768)
def item_file(rtype: str, rid: str, version: int, kind: str, key: str) -> str:
    return join(item_dir(rtype, rid, version, kind), encode(key) + ".yaml")


def manifest_dir(rtype: str, rid: str, version: int) -> str:
    return join(version_dir(rtype, rid, version), MANIFESTS)


def manifest_file(rtype: str, rid: str, version: int, artifact_id: str) -> str:
    return join(manifest_dir(rtype, rid, version), encode(artifact_id, "artifact id") + ".yaml")


def artifact_dir(rtype: str, rid: str, version: int, artifact_id: str, token: str) -> str:
    return join(artifact_root(rtype, rid, version, artifact_id), token)


def artifact_root(rtype: str, rid: str, version: int, artifact_id: str) -> str:
    return join(version_dir(rtype, rid, version), ARTIFACTS, encode(artifact_id, "artifact id"))


def pointer_name(rtype: str, rid: str, version: int) -> str:
    """``<type>/<id>@<v>`` as two segments: the type directory and ``<id>@<v>``."""
    return join(encode(rtype, "type"), f"{encode(rid, 'id')}@{int(version)}")


def parse_pointer(type_segment: str, name: str) -> tuple[str, str, int]:
    enc_id, _, ver = name.rpartition("@")
    if not enc_id or not ver.isdigit():
        raise ValueError(f"not a pointer name: {name!r}")
    return decode(type_segment), decode(enc_id), int(ver)


def link_dir(rtype: str, rid: str, version: int, kind: str) -> str:
    """``children`` or ``used_by`` (reverse lineage) or ``lineage`` (forward) pointers."""
    return join(version_dir(rtype, rid, version), kind)


def link_file(
    rtype: str, rid: str, version: int, kind: str, ttype: str, tid: str, tversion: int
) -> str:
    return join(link_dir(rtype, rid, version, kind), pointer_name(ttype, tid, tversion))


def run_created_file(run_id: str, rtype: str, rid: str, version: int) -> str:
    return join(run_created_dir(run_id), pointer_name(rtype, rid, version))


def encode_relpath(rel: str) -> str:
    """A relative path inside an artifact: each segment encoded, so none is ``..`` or absolute."""
    return "/".join(encode(part, "artifact file name") for part in rel.split("/"))


# --- trash (see tracker.core.trash) -------------------------------------------------------------
TRASH = "trash"
TRASH_CLAIMS = "claims"  # trash/claims/<type>/<id>@<v> | trash/claims/runs/<run>: one deleter each


def trash_dir(trash_id: str) -> str:
    """One deletion: ``entry.yaml`` (what, when, by which run, state) and ``files/``."""
    return join(TRASH, encode(trash_id, "trash id"))


TRASH_ENTRY = "entry.yaml"
TRASH_FILES = "files"


def trash_entry(trash_id: str) -> str:
    return join(trash_dir(trash_id), TRASH_ENTRY)


def trash_files(trash_id: str) -> str:
    return join(trash_dir(trash_id), TRASH_FILES)


def trash_file(trash_id: str, original: str) -> str:
    """Where the file at ``original`` (a store path) waits while in the trash."""
    return join(trash_files(trash_id), original)


def trash_claim(rtype: str, rid: str, version: int) -> str:
    """Created exclusively by the one deleter of a version; removed when it leaves the trash."""
    return join(TRASH, TRASH_CLAIMS, pointer_name(rtype, rid, version))


def trash_run_claim(run_id: str) -> str:
    return join(TRASH, TRASH_CLAIMS, RUNS, encode(run_id, "run id"))


# --- metric series (tracker.store.chunks, tracker.core.metrics) ---------------------------------
def metrics_dir(rtype: str, rid: str, version: int) -> str:
    """``<v>/metrics/``: one directory per key, holding immutable chunks (one writer each)."""
    return join(version_dir(rtype, rid, version), METRICS)


def metric_dir(rtype: str, rid: str, version: int, key: str) -> str:
    return join(metrics_dir(rtype, rid, version), encode(key, "metric key"))


# --- the inverse: what a path found in a listing is ---------------------------------------------
@dataclass(frozen=True, slots=True)
class Located:
    """What :func:`parse` found at a store path. ``what`` is one of ``format``, ``gitignore``,
    ``run``, ``run-attr``, ``run-created``, ``head``, ``index`` (a query-index chunk),
    ``changes`` (a change-log file), ``resource``, ``snapshot``,
    ``item`` (a key file of an :data:`ITEM_KINDS` folder), ``metric`` (a file of a metric
    series), ``manifest``, ``artifact`` (a file of an artifact copy), ``link`` (a lineage
    pointer), ``trash-entry``, ``trash-file``, ``trash-claim``, or ``unknown`` (a file the
    layout does not have; ``area`` then says which part of the layout: ``store``, ``run``,
    ``version`` or ``trash``). Segments are kept as stored (``segment``, ``name``) and decoded
    (``key``, ids)."""

    what: str
    area: str = "store"
    rtype: str | None = None
    rid: str | None = None
    version: int | None = None
    base: str = ""  # the folder this file belongs to: run, series, version or trash entry
    folder: str | None = None  # the per-version or per-run folder (tags, manifests, created...)
    segment: str | None = None  # the encoded key / artifact id / metric key segment
    name: str | None = None  # the last segment, as stored
    key: str | None = None  # decoded key, metric key or artifact id (None: not a .yaml name)
    token: str | None = None  # an artifact copy's token
    copy: str | None = None  # an artifact copy's folder (<v>/artifacts/<id>/<token>)
    run_id: str | None = None
    trash_id: str | None = None
    target: tuple[str, str, int] | None = None  # a pointer's (type, id, version); None: malformed

    @property
    def known(self) -> bool:
        return self.what != "unknown"


def _yaml_key(name: str) -> str | None:
    return decode(name[: -len(".yaml")]) if name.endswith(".yaml") else None


def _target(type_segment: str, name: str) -> tuple[str, str, int] | None:
    """A pointer's target, or None when the pointer is malformed or names no valid path."""
    try:
        ptype, pid, pver = parse_pointer(type_segment, name)
        resource_file(ptype, pid, pver)
    except (ValueError, InvalidKey):
        return None
    return ptype, pid, pver


_INDEX_NAME = re.compile(r"index(-\d+)?\.json")  # query-index chunks (index.json: an older one)


def parse(rel: str) -> Located:
    """The meaning of the store path ``rel`` (a file), the inverse of the builders above."""
    parts = rel.split("/")
    top, n = parts[0], len(parts)
    if rel == FORMAT_FILE:
        return Located("format")
    if rel == GITIGNORE:
        return Located("gitignore")
    if top == RUNS and n >= 3:
        return _parse_run(parts)
    if top == RESOURCES and n == 4 and (parts[3] == HEAD or _INDEX_NAME.fullmatch(parts[3])):
        what = "head" if parts[3] == HEAD else "index"
        rtype, rid = decode(parts[1]), decode(parts[2])
        return Located(what, "series", rtype, rid, base="/".join(parts[:3]), name=parts[3])
    if top == RESOURCES and n == 5 and parts[3] == CHANGES:
        rtype, rid = decode(parts[1]), decode(parts[2])
        return Located("changes", "series", rtype, rid, base="/".join(parts[:3]), name=parts[4])
    if top == RESOURCES and n >= 5 and parts[3].isdigit():
        return _parse_version(parts)
    if top == TRASH and n >= 3:
        return _parse_trash(parts)
    return Located("unknown")


def _parse_run(parts: list[str]) -> Located:
    run_id, base, rest = decode(parts[1]), "/".join(parts[:2]), parts[2:]
    if rest == [RUN_FILE]:
        return Located("run", "run", base=base, run_id=run_id, name=RUN_FILE)
    if len(rest) == 2 and rest[0] == RUN_ATTRS:
        segment, key = rest[1][: -len(".yaml")], _yaml_key(rest[1])
        at = Located("run-attr", "run", base=base, folder=RUN_ATTRS, run_id=run_id)
        return dataclasses.replace(at, segment=segment, name=rest[1], key=key)
    if len(rest) == 3 and rest[0] == RUN_CREATED:
        target = _target(rest[1], rest[2])
        at = Located("run-created", "run", base=base, folder=RUN_CREATED, run_id=run_id)
        return dataclasses.replace(at, name=rest[2], target=target)
    return Located("unknown", "run", base=base, run_id=run_id)


def _parse_version(parts: list[str]) -> Located:
    base, rest = "/".join(parts[:4]), parts[4:]
    at = functools.partial(
        Located,
        area="version",
        rtype=decode(parts[1]),
        rid=decode(parts[2]),
        version=int(parts[3]),
        base=base,
    )
    if rest in ([RESOURCE_FILE], [SNAPSHOT]):
        return at("resource" if rest[0] == RESOURCE_FILE else "snapshot", name=rest[0])
    folder, name = rest[0], rest[-1]
    spec = ITEM_KINDS.get(folder)
    if len(rest) == 2 and (folder == MANIFESTS or (spec is not None and spec.rule == KEY_FILE)):
        what = "manifest" if folder == MANIFESTS else "item"
        segment = name[: -len(".yaml")]
        return at(what, folder=folder, segment=segment, name=name, key=_yaml_key(name))
    if len(rest) == 3 and spec is not None and spec.rule == SERIES:
        return at("metric", folder=folder, segment=rest[1], name=name, key=decode(rest[1]))
    if len(rest) == 3 and folder in LINK_KINDS:
        return at("link", folder=folder, name=name, target=_target(rest[1], name))
    if len(rest) >= 4 and folder == ARTIFACTS:
        copy = "/".join(parts[:7])
        key = decode(rest[1])
        return at(
            "artifact", folder=folder, segment=rest[1], name=name, key=key, token=rest[2], copy=copy
        )
    return at("unknown")


def _parse_trash(parts: list[str]) -> Located:
    if parts[1] == TRASH_CLAIMS:
        return Located("trash-claim", "trash", folder=TRASH_CLAIMS, name=parts[-1])
    trash_id, base = decode(parts[1]), "/".join(parts[:2])
    if parts[2:] == [TRASH_ENTRY]:
        return Located("trash-entry", "trash", base=base, name=TRASH_ENTRY, trash_id=trash_id)
    if len(parts) >= 4 and parts[2] == TRASH_FILES:
        return Located("trash-file", "trash", base=base, name=parts[-1], trash_id=trash_id)
    return Located("unknown", "trash", base=base, trash_id=trash_id)
