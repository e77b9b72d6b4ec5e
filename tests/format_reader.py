"""An independent reader of tracker stores, format 1, written from docs/FORMAT.md alone.

Only PyYAML and the standard library; it never imports ``tracker``. It reads only the source
files (never ``HEAD``, ``snapshot.json`` or ``index.json``: the spec says they are caches), so
it also proves those can be deleted. Local stores only.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from typing import Any

import yaml

MAX_BYTES = 64 * 1024 * 1024
KNOWN_FORMAT = 1
ITEM_KINDS = ("attrs", "tags", "metadata")
LINK_KINDS = ("children", "lineage", "used_by")
_ESCAPE = re.compile(r"%([0-9A-F]{2})")
_CHUNK = re.compile(r"([0-9a-f]{16})-([0-9]{6,12})\.tsv")
Point = tuple[int, float, "int | float"]


class FormatError(ValueError):
    """The store is not one this reader may read, or a file breaks the spec."""


def decode(segment: str) -> str:
    """Section 2: ``%XX`` is a byte; the bytes are UTF-8."""
    out = bytearray()
    i = 0
    while i < len(segment):
        if segment[i] == "%" and _ESCAPE.match(segment, i):
            out.append(int(segment[i + 1 : i + 3], 16))
            i += 3
        else:
            out.extend(segment[i].encode("utf-8"))
            i += 1
    return out.decode("utf-8")


def encode(text: str) -> str:
    if re.fullmatch(r"[A-Za-z0-9_-][A-Za-z0-9_.-]*", text):
        return text
    safe = set(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-")
    return "".join(
        chr(b) if b in safe and not (i == 0 and b == ord(".")) else f"%{b:02X}"
        for i, b in enumerate(text.encode("utf-8"))
    )


class StoreReader:
    def __init__(self, root: str) -> None:
        self.root = root
        doc = self._yaml("tracker.yaml")
        if not isinstance(doc, dict) or not isinstance(doc.get("format"), int):
            raise FormatError(f"{root}: no tracker.yaml with a format number; not a store")
        if doc["format"] > KNOWN_FORMAT:
            raise FormatError(f"{root}: format {doc['format']}, this reader knows 1")

    # -- files ------------------------------------------------------------------------------
    def _full(self, rel: str) -> str:
        return os.path.join(self.root, *rel.split("/"))

    def _bytes(self, rel: str) -> bytes:
        full = self._full(rel)
        st = os.lstat(full)
        if not stat.S_ISREG(st.st_mode):
            raise FormatError(f"{rel}: not a regular file")
        if st.st_size > MAX_BYTES:
            raise FormatError(f"{rel}: larger than 64 MiB")
        with open(full, "rb") as fh:
            return fh.read()

    def _yaml(self, rel: str) -> Any:
        return yaml.load(self._bytes(rel), Loader=yaml.SafeLoader)

    def _names(self, rel: str) -> list[str]:
        """Entries of a folder, temp files left out (section 4)."""
        full = self._full(rel)
        if not os.path.isdir(full):
            return []
        return sorted(n for n in os.listdir(full) if not n.startswith(".tmp-"))

    def _pointers(self, rel: str) -> list[str]:
        """Refs of the pointers under a link or created folder, dangling ones left out."""
        refs = []
        for tseg in self._names(rel):
            for name in self._names(f"{rel}/{tseg}"):
                enc_id, _, version = name.rpartition("@")
                if not version.isdigit():
                    continue
                target = f"resources/{tseg}/{enc_id}/{version}/resource.yaml"
                if os.path.isfile(self._full(target)):
                    refs.append(f"{decode(tseg)}/{decode(enc_id)}@{int(version)}")
        return sorted(refs)

    def _keyed(self, rel: str, field: str) -> dict[str, dict[str, Any]]:
        out = {}
        for name in self._names(rel):
            if not name.endswith(".yaml"):
                continue
            doc = self._yaml(f"{rel}/{name}")
            key = decode(name[: -len(".yaml")])
            if not isinstance(doc, dict) or doc.get(field) != key:
                raise FormatError(f"{rel}/{name}: does not hold {field} {key!r}")
            out[key] = doc
        return out

    # -- runs -------------------------------------------------------------------------------
    def run_ids(self) -> list[str]:
        return [decode(n) for n in self._names("runs")]

    def run(self, run_id: str) -> dict[str, Any]:
        base = f"runs/{encode(run_id)}"
        doc = self._yaml(f"{base}/run.yaml")
        if doc.get("id") != run_id:
            raise FormatError(f"{base}/run.yaml: not run {run_id!r}")
        attrs = {k: r["value"] for k, r in self._keyed(f"{base}/attrs", "key").items()}
        return {
            **doc,
            "attrs": attrs,
            "status": attrs.get("status", "RUNNING"),
            "end_time": attrs.get("end_time"),
            "created": self._pointers(f"{base}/created"),
        }

    # -- resources --------------------------------------------------------------------------
    def types(self) -> list[str]:
        return [decode(n) for n in self._names("resources")]

    def ids(self, rtype: str) -> list[str]:
        return [decode(n) for n in self._names(f"resources/{encode(rtype)}")]

    def versions(self, rtype: str, rid: str) -> list[int]:
        base = f"resources/{encode(rtype)}/{encode(rid)}"
        return sorted(
            int(n)
            for n in self._names(base)
            if n.isdigit() and os.path.isfile(self._full(f"{base}/{n}/resource.yaml"))
        )

    def version(self, rtype: str, rid: str, version: int) -> dict[str, Any]:
        """Everything about one version, from its source files only."""
        base = f"resources/{encode(rtype)}/{encode(rid)}/{version}"
        doc = self._yaml(f"{base}/resource.yaml")
        if (doc.get("type"), doc.get("id"), doc.get("version")) != (rtype, rid, version):
            raise FormatError(f"{base}/resource.yaml: does not describe {rtype}/{rid}@{version}")
        items = {k: self._keyed(f"{base}/{k}", "key") for k in ITEM_KINDS}
        values = {k: {key: r["value"] for key, r in v.items()} for k, v in items.items()}
        manifests = self._keyed(f"{base}/manifests", "id")
        return {
            "ref": f"{rtype}/{rid}@{version}",
            "run_id": doc.get("run_id"),
            "parent": doc.get("parent"),
            "created_at": doc.get("created_at"),
            "attrs": {**(doc.get("attributes") or {}), **values["attrs"]},
            "tags": values["tags"],
            "metadata": values["metadata"],
            "manifests": manifests,
            **{k: self._pointers(f"{base}/{k}") for k in LINK_KINDS},
        }

    def artifact(self, rtype: str, rid: str, version: int, aid: str) -> dict[str, bytes]:
        """``{path: bytes}`` of an artifact, each file checked against its sha256 and size,
        and the manifest's own ``sha256`` recomputed (section 4.5)."""
        base = f"resources/{encode(rtype)}/{encode(rid)}/{version}"
        man = self._yaml(f"{base}/manifests/{encode(aid)}.yaml")
        token = man["token"]
        if not re.fullmatch(r"[A-Za-z0-9_.-]+", token) or token.startswith("."):
            raise FormatError(f"manifest of {aid!r}: token {token!r} is not a plain name")
        out = {}
        tree = hashlib.sha256()
        for f in sorted(man["files"], key=lambda f: f["path"]):
            parts = f["path"].split("/")
            if f["path"].startswith("/") or any(p in ("", ".", "..") for p in parts):
                raise FormatError(f"manifest of {aid!r}: path {f['path']!r} leaves its folder")
            rel = f"{base}/artifacts/{encode(aid)}/{token}/" + "/".join(map(encode, parts))
            data = self._bytes(rel) if f["size"] <= MAX_BYTES else b""
            if len(data) != f["size"] or hashlib.sha256(data).hexdigest() != f["sha256"]:
                raise FormatError(f"{rel}: does not match its manifest")
            out[f["path"]] = data
            tree.update(f"{f['path']}\0{f['sha256']}\n".encode())
        whole = man["files"][0]["sha256"] if man["kind"] == "file" else tree.hexdigest()
        if whole != man["sha256"] or sum(f["size"] for f in man["files"]) != man["size"]:
            raise FormatError(f"manifest of {aid!r}: sha256 or size of the whole does not match")
        return out

    def metrics(self, rtype: str, rid: str, version: int) -> dict[str, list[Point]]:
        """Section 4.7: ``{key: [(step, timestamp, value)]}`` merged from the chunks (the
        derived ``compact.tsv`` is ignored), ordered by (step, timestamp), ties in chunk order
        (writer id, then sequence number) and row order."""
        base = f"resources/{encode(rtype)}/{encode(rid)}/{version}/metrics"
        out: dict[str, list[Point]] = {}
        for seg in self._names(base):
            parts: list[tuple[tuple[str, int], list[Point]]] = []
            for name in self._names(f"{base}/{seg}"):
                match = _CHUNK.fullmatch(name)
                if match is None:
                    continue
                lines = self._bytes(f"{base}/{seg}/{name}").decode("ascii").split("\n")
                head = lines[0].split("\t")
                writer, seq = match.group(1), int(match.group(2))
                if head[:4] != ["#tracker-metrics 1", seg, writer, str(seq)] or len(head) != 5:
                    raise FormatError(f"{base}/{seg}/{name}: header {lines[0][:80]!r}")
                if lines[1] != "step\ttimestamp\tvalue":
                    raise FormatError(f"{base}/{seg}/{name}: no column line")
                rows = [line.split("\t") for line in lines[2:] if line]
                if len(rows) != int(head[4]):
                    raise FormatError(f"{base}/{seg}/{name}: {len(rows)} rows, header {head[4]}")
                parts.append(((writer, seq), [(int(a), float(b), _number(c)) for a, b, c in rows]))
            merged = [row for _, rows in sorted(parts) for row in rows]
            merged.sort(key=lambda r: (r[0], r[1]))
            out[decode(seg)] = merged
        return out


def _number(text: str) -> int | float:
    """Integers are written as integers; floats always hold ``.``, ``e`` or ``n`` (``nan``,
    ``inf``)."""
    return float(text) if any(c in text for c in ".en") else int(text)
