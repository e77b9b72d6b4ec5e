"""``fsck``: check every file of a store against the layout, and remove only provable garbage.

Checks that every YAML file parses with the safe loader, that identities match their paths, that
pointers resolve, that artifacts match their manifests (sizes always, sha256 with ``verify``), and
finds leftover temp files and symbolic links. ``repair`` removes temp files of dead writers,
dangling pointers, broken ``HEAD`` hints and artifact copies no manifest references (once older
than ``grace`` seconds, since a writer may be copying right now; ``grace=0`` when no writer can be
running), and, locally, version directories a crashed creator left without any file — never a key
file, a resource or an artifact in use.

Every problem is confirmed against the store before it is reported, so a check that runs while
other processes write does not mistake their fresh files for damage: a pointer is dangling only if
its target is still missing after the pointer was seen (targets are always written first), and an
artifact is missing only if it is still missing when looked up again.

Problem kinds: ``temp-file``, ``unparsable``, ``identity``, ``bad-hint``, ``bad-snapshot``
(derived data: repairable), ``bad-chunk`` (a metric chunk that does not decode exactly),
``bad-compaction`` (a metric key's derived ``compact.tsv``: repairable), ``bad-pointer``,
``dangling-pointer``, ``orphan-version``,
``bad-manifest``, ``artifact-missing``, ``artifact-size``, ``artifact-checksum``,
``orphan-artifact``, ``symlink``, ``special-file``, ``unknown``; and for the trash (see
:mod:`tracker.core.trash`): ``trash-incomplete`` (a deletion, restore or gc cut short: repair
finishes it, or rolls back a deletion that had not written its tombstone yet), ``deleted-leftover``
(a file in, or a pointer into, a deleted version: moved into its trash entry), ``trash-claim`` and
``trash-orphan`` (what a cut-short restore or gc leaves: removed).
"""

from __future__ import annotations

import os
import re
import stat
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any

from tracker.core.artifacts import safe_relpath
from tracker.core.changes import parse as parse_changes
from tracker.core.check_trash import TRASH_KINDS, TrashChecks
from tracker.core.index import is_chunk
from tracker.core.items import SNAPSHOT, Items, parse_snapshot
from tracker.core.runs import _alive
from tracker.errors import CorruptFile, StoreError, TrackerError
from tracker.store import Store, chunks, paths
from tracker.store.base import TMP_PREFIX, Entry
from tracker.store.base import sha256_of as sha256_file
from tracker.store.codec import loads
from tracker.store.jsonform import from_json

GRACE_SECONDS = 3600.0
_BATCH = 256  # files read at once
_PREFETCH_MAX = 1024 * 1024  # larger files (damage) are read, and refused, one at a time
_TMP_PID = re.compile(re.escape(TMP_PREFIX) + r"(\d+)-")
_ITEM_KINDS = ("attrs", "tags", "metadata")
_LINK_KINDS = ("children", "lineage", "used_by")
_INDEX = re.compile(r"index(-\d+)?\.json")  # query-index chunks (index.json: an older one)


@dataclass(frozen=True)
class Problem:
    path: str
    kind: str
    detail: str
    repairable: bool = False


@dataclass
class Report:
    """What ``check`` found; ``ok`` when nothing at all is wrong."""

    files: int = 0
    problems: list[Problem] = field(default_factory=list)
    repaired: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "files": self.files,
            "problems": [vars(p) for p in self.problems],
            "repaired": [vars(p) for p in self.repaired],
        }


class Checker(TrashChecks):
    def __init__(
        self,
        store: Store,
        verify: bool,
        now: float | None = None,
        grace: float = GRACE_SECONDS,
    ) -> None:
        self.store = store
        self.verify = verify
        self.now = now if now is not None else time.time()
        self.grace = grace
        self.report = Report()
        self.files: dict[str, Entry] = {}
        self.prefetched: dict[str, bytes | None] = {}
        self.odd: dict[str, tuple[str, str]] = {}
        self.empty_versions: list[str] = []
        self.tombstones: dict[str, str] = {}  # version dir -> trash id of its deletion
        self.trash_states: dict[str, str] = {}  # trash id -> state of its entry

    def problem(self, path: str, kind: str, detail: str, repairable: bool = False) -> None:
        self.report.problems.append(Problem(path, kind, detail, repairable))

    def run(self) -> Report:
        self.files = self.store.walk("", include_temp=True)
        self.report.files = len(self.files)
        odd = self.odd = self._not_regular()  # never opened: links lead anywhere, FIFOs block
        self._prefetch(odd)
        self._find_tombstones()
        referenced_tokens: set[str] = set()
        for rel, entry in sorted(self.files.items()):
            name = rel.rsplit("/", 1)[-1]
            if rel in odd:
                self.problem(rel, *odd[rel])
            elif name.startswith(TMP_PREFIX):
                self._temp(rel, entry)
            else:
                referenced_tokens |= self._file(rel)
        self._orphan_artifacts(referenced_tokens)
        self._orphan_trash()
        self._local_directories()
        return self.report

    def _not_regular(self) -> dict[str, tuple[str, str]]:
        """Local stores: ``{path: (kind, detail)}`` of symbolic links and special files (FIFOs,
        devices, sockets), which the store never writes and fsck never reads."""
        odd: dict[str, tuple[str, str]] = {}
        if not self.store.is_local:
            return odd
        for rel in self.files:
            full = self.store.local_path(rel)
            try:
                mode = os.lstat(full).st_mode if full else stat.S_IFREG
            except OSError:
                continue  # removed meanwhile
            if stat.S_ISLNK(mode) or self.store.is_symlink(rel):
                odd[rel] = ("symlink", "a symbolic link (the store never writes one); not followed")
            elif not stat.S_ISREG(mode):
                odd[rel] = ("special-file", "not a regular file (a FIFO, device or socket)")
        return odd

    def _prefetch(self, skip: dict[str, Any]) -> None:
        """Read every YAML file in batches (concurrent requests on object stores); a file that
        cannot be read in a batch (too large) is left for ``_doc`` to read and report alone."""
        names = [
            rel
            for rel, entry in sorted(self.files.items())
            if rel.endswith(".yaml")
            and not _is_temp(rel)
            and not (rel.startswith(paths.TRASH + "/") and "/files/" in rel)  # never checked
            and entry.size <= _PREFETCH_MAX
            and rel not in skip
        ]
        for i in range(0, len(names), _BATCH):
            batch = names[i : i + _BATCH]
            try:
                self.prefetched.update(self.store.read_many(batch))
            except (CorruptFile, StoreError):  # each is read again alone, and reported
                continue

    def _old(self, mtime: float) -> bool:
        return self.now - mtime > self.grace

    # -- per kind of file ------------------------------------------------------------------------
    def _temp(self, rel: str, entry: Entry) -> None:
        match = _TMP_PID.match(rel.rsplit("/", 1)[-1])
        dead = match is not None and self.store.is_local and not _alive(int(match.group(1)), None)
        old = self._old(entry.mtime)
        self.problem(rel, "temp-file", "left by an unfinished write", repairable=dead or old)

    def _doc(self, rel: str) -> Any:
        """The parsed YAML document, or None after reporting why a reader would refuse it
        (unparsable, empty, unreadable): every file the store reads holds a mapping."""
        try:
            data = self.prefetched.pop(rel) if rel in self.prefetched else self.store.read(rel)
            doc = loads(data or b"", rel)
        except CorruptFile as exc:
            self.problem(rel, "unparsable", str(exc))
            return None
        except StoreError as exc:  # this file only: listed, and the check goes on
            self.problem(rel, "unreadable", str(exc))
            return None
        if doc is None:
            self.problem(rel, "empty", "an empty file (truncated?); reads of it fail")
        return doc

    def _file(self, rel: str) -> set[str]:
        parts = rel.split("/")
        if rel in (paths.FORMAT_FILE, ".gitignore"):
            return set()
        if parts[0] == paths.RUNS and len(parts) >= 3:
            self._run_file(rel, parts)
        elif parts[0] == paths.RESOURCES and len(parts) == 4 and parts[3] == "HEAD":
            data = self.store.read(rel) or b""
            if not data.strip().isdigit():
                self.problem(rel, "bad-hint", f"HEAD holds {data[:20]!r}, not a version", True)
            elif int(data) > 0 and "/".join([*parts[:3], str(int(data)), "resource.yaml"]) not in (
                self.files
            ):
                self.problem(
                    rel,
                    "bad-hint",
                    f"HEAD names version {int(data)}, which does not "
                    "exist (removed by hand?); readers fall back to listing",
                    True,
                )
        elif parts[0] == paths.RESOURCES and len(parts) == 4 and _INDEX.fullmatch(parts[3]):
            # the query index is a cache: a broken one is garbage, rebuilt by the next find
            if not is_chunk(self.store.read(rel) or b""):
                self.problem(rel, "bad-index", "not a query index; find rebuilds it", True)
        elif parts[0] == paths.RESOURCES and len(parts) == 5 and parts[3] == "changes":
            if (
                paths.parse_change_name(parts[4]) is None
                or parse_changes(self.store.read(rel) or b"") is None
            ):  # not repairable: removing it could hide a change from the index
                self.problem(
                    rel, "bad-changes", "not a change log; delete it with the index-*.json beside"
                )
        elif parts[0] == paths.RESOURCES and len(parts) >= 5 and parts[3].isdigit():
            vdir = "/".join(parts[:4])
            if vdir in self.tombstones and parts[4:] != ["resource.yaml"]:
                self._leftover(rel, vdir)
                return set()
            return self._version_file(rel, parts)
        elif parts[0] == paths.TRASH:
            self._trash_file(rel, parts)
        else:
            self.problem(rel, "unknown", "a file the store layout does not have")
        return set()

    def _run_file(self, rel: str, parts: list[str]) -> None:
        run_id = paths.decode(parts[1])
        if parts[2:] == ["run.yaml"]:
            doc = self._doc(rel)
            if doc is not None and (not isinstance(doc, dict) or doc.get("id") != run_id):
                self.problem(rel, "identity", f"does not describe run {run_id!r}")
        elif len(parts) == 4 and parts[2] == "attrs":
            self._key_file(rel, parts[3])
        elif len(parts) == 5 and parts[2] == "created":
            self._pointer(rel, parts[3], parts[4])
        else:
            self.problem(rel, "unknown", "a file the run layout does not have")

    def _version_file(self, rel: str, parts: list[str]) -> set[str]:
        rtype, rid, version = paths.decode(parts[1]), paths.decode(parts[2]), int(parts[3])
        vdir = "/".join(parts[:4])
        rest = parts[4:]
        if f"{vdir}/resource.yaml" not in self.files:
            self.problem(rel, "orphan-version", f"{rtype}/{rid}@{version} has no resource.yaml")
        if rest == ["resource.yaml"]:
            doc = self._doc(rel)
            if doc is not None and (
                not isinstance(doc, dict)
                or (doc.get("type"), doc.get("id"), doc.get("version")) != (rtype, rid, version)
            ):
                self.problem(rel, "identity", f"does not describe {rtype}/{rid}@{version}")
        elif rest == [SNAPSHOT]:
            try:  # derived data: removing a broken one only costs speed
                snap = parse_snapshot(self.store.read(rel) or b"", rel)
            except CorruptFile as exc:  # not a StoreError: a failed read proves no damage
                self.problem(rel, "bad-snapshot", str(exc), repairable=True)
            else:
                self._compare_snapshot(rel, vdir, snap)
        elif len(rest) == 2 and rest[0] in _ITEM_KINDS:
            self._key_file(rel, rest[1])
        elif len(rest) == 2 and rest[0] == "manifests":
            return self._manifest(rel, vdir, rest[1])
        elif len(rest) == 3 and rest[0] in _LINK_KINDS:
            self._pointer(rel, rest[1], rest[2])
        elif len(rest) == 3 and rest[0] == paths.METRICS:
            self._metric_file(rel, rest[1], rest[2])
        elif not (len(rest) >= 4 and rest[0] == "artifacts"):  # those: see _orphan_artifacts
            self.problem(rel, "unknown", "a file the version layout does not have")
        return set()

    def _compare_snapshot(self, rel: str, vdir: str, snap: dict[str, Any]) -> None:
        """Each entry whose stamp still matches its file must say what the file says (a
        reader trusts it on the stamp alone); a mismatch is repaired by rebuilding."""
        for inner, held in snap["files"].items():
            entry = self.files.get(f"{vdir}/{inner}")
            if not isinstance(held, dict) or entry is None or held.get("stamp") != entry.stamp:
                continue  # stale entries are never used: no harm
            try:
                data = self.prefetched.get(f"{vdir}/{inner}")
                actual = loads(
                    data if data is not None else self.store.read(f"{vdir}/{inner}") or b"", inner
                )
                claimed = from_json({k: v for k, v in held.items() if k != "stamp"}, rel)
            except (CorruptFile, StoreError, ValueError, TypeError):
                continue  # the file itself is reported on its own
            if claimed != actual:
                self.problem(
                    rel,
                    "stale-snapshot",
                    f"its entry for {inner} differs from the file (forged or damaged); "
                    "--repair rebuilds the snapshot",
                    repairable=True,
                )
                return

    def _metric_file(self, rel: str, segment: str, name: str) -> None:
        """A chunk must decode exactly (``bad-chunk``: data, never removed); a compacted file
        is derived (``bad-compaction``: removing it only costs speed)."""
        try:
            data = self.store.read(rel) or b""
            if name == chunks.COMPACT:
                chunks.decode_compact(data, rel, segment)
            else:
                chunks.decode_chunk(data, rel, segment, name)
        except CorruptFile as exc:  # not a StoreError: a failed read proves no damage
            if name == chunks.COMPACT:
                self.problem(rel, "bad-compaction", str(exc), repairable=True)
            else:
                self.problem(rel, "bad-chunk", str(exc))

    def _key_file(self, rel: str, name: str) -> None:
        doc = self._doc(rel)
        if doc is None:
            return
        key = paths.decode(name[: -len(".yaml")]) if name.endswith(".yaml") else None
        if not isinstance(doc, dict) or doc.get("key") != key or "value" not in doc:
            self.problem(rel, "identity", f"does not hold key {key!r} with a value")

    def _pointer(self, rel: str, type_segment: str, name: str) -> None:
        try:
            ptype, pid, pver = paths.parse_pointer(type_segment, name)
            target = paths.resource_file(ptype, pid, pver)
        except (ValueError, TrackerError):
            self.problem(rel, "bad-pointer", "not a <type>/<id>@<version> pointer", True)
            return
        # a pointer is written after its target, so a target missing from the listing but present
        # now was created meanwhile; one still missing after the pointer was seen never will be
        if target not in self.files and not self.store.exists(target):
            self.problem(rel, "dangling-pointer", f"{ptype}/{pid}@{pver} does not exist", True)
        elif target.rsplit("/", 1)[0] in self.tombstones:
            self._leftover(rel, target.rsplit("/", 1)[0])

    def _manifest(self, rel: str, vdir: str, name: str) -> set[str]:
        """Check one manifest and its files; returns the copy it references. A manifest that is
        damaged protects every copy of its artifact: they are data fsck cannot vouch for, never
        garbage to remove."""
        doc = self._doc(rel)
        aid = paths.decode(name[: -len(".yaml")])
        every_copy = {f"{vdir}/artifacts/{name[: -len('.yaml')]}/*"}
        if doc is None:
            return every_copy
        try:
            if not isinstance(doc, dict) or doc.get("id") != aid:
                raise TrackerError(f"not the manifest of artifact {aid!r}")
            token = doc.get("token")
            if not isinstance(token, str) or not token or paths.encode(token, "token") != token:
                raise TrackerError(f"token {token!r} is not one plain path segment")
            safe_relpath(doc.get("name") or aid, rel)
            files = doc.get("files")
            if doc.get("kind") not in ("file", "dir") or not isinstance(files, list):
                raise TrackerError("kind must be 'file' or 'dir', with a list of files")
            if doc["kind"] == "file" and len(files) != 1:
                raise TrackerError(f"a 'file' artifact lists {len(files)} files, not 1")
            base = f"{vdir}/artifacts/{paths.encode(aid, 'artifact id')}/{token}"
            for f in files:
                if not isinstance(f, dict):
                    raise TrackerError(f"file entry {f!r:.60} is not a mapping")
                stored = f"{base}/{paths.encode_relpath(safe_relpath(f.get('path'), rel))}"
                self._artifact_file(stored, f)
        except (TrackerError, KeyError, TypeError) as exc:
            self.problem(rel, "bad-manifest", str(exc))
            return every_copy
        return {base}

    def _artifact_file(self, stored: str, f: dict[str, Any]) -> None:
        if stored in self.odd or self._through_link(stored):
            return  # reported as a symlink or special file; never read
        entry = self.files.get(stored)
        # the manifest was read after the listing: a copy made meanwhile is looked up again
        size = entry.size if entry is not None else self.store.size(stored)
        if size is None:
            self.problem(stored, "artifact-missing", "listed in its manifest but not stored")
        elif size != f.get("size"):
            self.problem(stored, "artifact-size", f"{size} bytes, manifest says {f.get('size')}")
        elif self.verify and _sha256(self.store, stored) != f.get("sha256"):
            self.problem(stored, "artifact-checksum", "does not match the manifest's sha256")

    def _through_link(self, rel: str) -> bool:
        """Local stores: whether a directory on the way to ``rel`` is a symbolic link."""
        top = self.store.local_path("") if self.store.is_local else None
        if top is None:
            return False
        parts = rel.split("/")
        return any(os.path.islink(os.path.join(top, *parts[:i])) for i in range(1, len(parts)))

    def _orphan_artifacts(self, referenced: set[str]) -> None:
        newest: dict[str, float] = {}
        for rel, entry in self.files.items():
            parts = rel.split("/")
            if len(parts) < 8 or parts[0] != paths.RESOURCES or parts[4] != "artifacts":
                continue
            base = "/".join(parts[:7])
            if base not in referenced and "/".join(parts[:6]) + "/*" not in referenced:
                newest[base] = max(newest.get(base, 0.0), entry.mtime)
        for base, mtime in sorted(newest.items()):
            self.problem(
                base,
                "orphan-artifact",
                "a copy no manifest references (a crashed or replaced logging"
                + ("" if self._old(mtime) else ", or one being copied right now")
                + ")",
                repairable=self._old(mtime),
            )

    def _local_directories(self) -> None:
        """Local stores only: symbolic links to directories (``walk`` does not enter them) and
        version directories without a file (a creator killed before its first write completed
        leaves one; listing-based lookups could take it for a version)."""
        top = self.store.local_path("") if self.store.is_local else None
        if top is None:
            return
        with_files = {  # version directories holding a file that is not a temp file
            "/".join(f.split("/")[:4])
            for f in self.files
            if f.startswith(paths.RESOURCES + "/") and not _is_temp(f)
        }
        kept_temps = [
            p.path for p in self.report.problems if p.kind == "temp-file" and not p.repairable
        ]
        for dirpath, dirnames, _ in os.walk(top):
            rel = os.path.relpath(dirpath, top).replace(os.sep, "/")
            for name in dirnames:
                if os.path.islink(os.path.join(dirpath, name)):
                    where = name if rel == "." else f"{rel}/{name}"
                    self.problem(where, "symlink", "a symbolic link to a directory")
            parts = rel.split("/")
            if len(parts) != 4 or parts[0] != paths.RESOURCES or not parts[3].isdigit():
                continue
            if rel in with_files:
                continue
            busy = any(t.startswith(rel + "/") for t in kept_temps)
            old = self._old(os.stat(dirpath).st_mtime)
            self.problem(
                rel,
                "orphan-version",
                "a version directory without resource.yaml or any other file (a killed creator)",
                repairable=old and not busy,
            )

    def repair(self) -> None:
        # finished trash entries first: the leftovers of a deletion they finish are then garbage
        order = sorted(self.report.problems, key=lambda p: p.kind != "trash-incomplete")
        finished = set()
        for p in order:
            if p.kind == "trash-incomplete" and p.repairable:
                finished.add(paths.decode(p.path.split("/")[1]))
        for p in order:
            leftover_done = p.kind == "deleted-leftover" and self._leftover_trash(p) in finished
            if not (p.repairable or leftover_done):
                continue
            if p.kind in TRASH_KINDS:
                self._repair_trash(p)
                self.report.repaired.append(p)
                continue
            if p.kind == "orphan-artifact" and self._referenced_now(p.path):
                continue  # its manifest was written meanwhile: in use after all
            if p.kind == "orphan-version":
                self._remove_empty_dirs(p.path)
            elif p.kind == "stale-snapshot":
                self._rebuild_snapshot(p.path)
            else:
                self.store.remove(p.path, recursive=p.kind == "orphan-artifact")
            self.report.repaired.append(p)
        repaired = {id(p) for p in self.report.repaired}
        self.report.problems = [p for p in self.report.problems if id(p) not in repaired]

    def _rebuild_snapshot(self, rel: str) -> None:
        """Write the snapshot again from the key files (read afresh, not from the old one)."""
        vdir = rel.rsplit("/", 1)[0]
        self.store.remove(rel)
        doc = loads(self.store.read(f"{vdir}/resource.yaml") or b"", f"{vdir}/resource.yaml")
        Items(self.store).snapshot(
            vdir, (*_ITEM_KINDS, "manifests"), resource=doc if isinstance(doc, dict) else None
        )

    def _referenced_now(self, base: str) -> bool:
        """Whether the manifest of the artifact copy at ``base`` names it (read again now)."""
        parts = base.split("/")
        manifest = "/".join([*parts[:4], "manifests", parts[5] + ".yaml"])
        try:
            doc = loads(self.store.read(manifest) or b"", manifest)
        except CorruptFile:
            return True  # cannot tell: keep it
        return isinstance(doc, dict) and paths.encode(str(doc.get("token")), "token") == parts[6]

    def _remove_empty_dirs(self, rel: str) -> None:
        """``rmdir`` bottom-up (never ``rmtree``): a directory that got a file meanwhile stays."""
        top = self.store.local_path(rel)
        if top is None:
            return
        for dirpath, _, _ in sorted(os.walk(top), key=lambda w: -len(w[0])):
            try:
                os.rmdir(dirpath)  # fails on a directory that is not empty: it stays
            except OSError:
                return


def _is_temp(rel: str) -> bool:
    return rel.rsplit("/", 1)[-1].startswith(TMP_PREFIX)


def _sha256(store: Store, rel: str) -> str:
    local = store.local_path(rel)
    if local is not None:
        return sha256_file(local)
    with tempfile.TemporaryDirectory() as tmp:
        target = os.path.join(tmp, "f")
        store.download(rel, target)
        return sha256_file(target)


def check(
    store: Store, repair: bool = False, verify: bool = True, grace: float = GRACE_SECONDS
) -> Report:
    """Check ``store``; ``repair`` removes provable garbage; ``verify`` hashes every artifact;
    unreferenced copies and temp files count as garbage once older than ``grace`` seconds."""
    checker = Checker(store, verify, grace=grace)
    checker.run()
    if repair:
        checker.repair()
    return checker.report
