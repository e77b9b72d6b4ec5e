"""Path encoding and the on-disk layout (format 1).

Every user string that becomes a path segment goes through :func:`encode`, so any id or key works
and none can climb out of its directory. Only this module knows where a thing lives; the tracker
layer asks it for paths and never joins strings itself.
"""

from __future__ import annotations

import functools
import re

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
RUNS = "runs"
RESOURCES = "resources"


def run_dir(run_id: str) -> str:
    return join(RUNS, encode(run_id, "run id"))


def run_file(run_id: str) -> str:
    return join(run_dir(run_id), "run.yaml")


def run_attr(run_id: str, key: str) -> str:
    return join(run_dir(run_id), "attrs", encode(key) + ".yaml")


def run_attrs_dir(run_id: str) -> str:
    return join(run_dir(run_id), "attrs")


def run_created_dir(run_id: str) -> str:
    return join(run_dir(run_id), "created")


def types_dir() -> str:
    return RESOURCES


def series_dir(rtype: str, rid: str) -> str:
    return join(RESOURCES, encode(rtype, "type"), encode(rid, "id"))


def type_dir(rtype: str) -> str:
    return join(RESOURCES, encode(rtype, "type"))


def head_file(rtype: str, rid: str) -> str:
    """A hint of the newest version; only ever an optimisation, exclusive create is the truth."""
    return join(series_dir(rtype, rid), "HEAD")


INDEX_CHUNK = 2000  # versions per query-index chunk and per change-log group


def chunk_of(version: int) -> int:
    """The chunk holding ``version`` (0 for versions 1..INDEX_CHUNK)."""
    return (int(version) - 1) // INDEX_CHUNK


def index_chunk(rtype: str, rid: str, chunk: int) -> str:
    """One chunk of the query index of a series: a rebuildable cache (see tracker.core.index)."""
    return join(series_dir(rtype, rid), f"index-{int(chunk)}.json")


def changes_dir(rtype: str, rid: str) -> str:
    """The series' change log: one small file per writer and chunk (see tracker.core.changes)."""
    return join(series_dir(rtype, rid), "changes")


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
    return join(version_dir(rtype, rid, version), "resource.yaml")


def snapshot_file(rtype: str, rid: str, version: int) -> str:
    return join(version_dir(rtype, rid, version), "snapshot.json")


KINDS = ("attrs", "tags", "metadata")


def item_dir(rtype: str, rid: str, version: int, kind: str) -> str:
    return join(version_dir(rtype, rid, version), kind)


@functools.lru_cache(maxsize=32768)
def item_file(rtype: str, rid: str, version: int, kind: str, key: str) -> str:
    return join(item_dir(rtype, rid, version, kind), encode(key) + ".yaml")


def manifest_dir(rtype: str, rid: str, version: int) -> str:
    return join(version_dir(rtype, rid, version), "manifests")


def manifest_file(rtype: str, rid: str, version: int, artifact_id: str) -> str:
    return join(manifest_dir(rtype, rid, version), encode(artifact_id, "artifact id") + ".yaml")


def artifact_dir(rtype: str, rid: str, version: int, artifact_id: str, token: str) -> str:
    return join(
        version_dir(rtype, rid, version), "artifacts", encode(artifact_id, "artifact id"), token
    )


def artifact_root(rtype: str, rid: str, version: int, artifact_id: str) -> str:
    return join(version_dir(rtype, rid, version), "artifacts", encode(artifact_id, "artifact id"))


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


def trash_entry(trash_id: str) -> str:
    return join(trash_dir(trash_id), "entry.yaml")


def trash_files(trash_id: str) -> str:
    return join(trash_dir(trash_id), "files")


def trash_file(trash_id: str, original: str) -> str:
    """Where the file at ``original`` (a store path) waits while in the trash."""
    return join(trash_files(trash_id), original)


def trash_claim(rtype: str, rid: str, version: int) -> str:
    """Created exclusively by the one deleter of a version; removed when it leaves the trash."""
    return join(TRASH, TRASH_CLAIMS, pointer_name(rtype, rid, version))


def trash_run_claim(run_id: str) -> str:
    return join(TRASH, TRASH_CLAIMS, RUNS, encode(run_id, "run id"))


# --- metric series (tracker.store.chunks, tracker.core.metrics) ---------------------------------
METRICS = "metrics"


def metrics_dir(rtype: str, rid: str, version: int) -> str:
    """``<v>/metrics/``: one directory per key, holding immutable chunks (one writer each)."""
    return join(version_dir(rtype, rid, version), METRICS)


def metric_dir(rtype: str, rid: str, version: int, key: str) -> str:
    return join(metrics_dir(rtype, rid, version), encode(key, "metric key"))
