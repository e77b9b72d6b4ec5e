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

import time
from dataclasses import dataclass, field
from typing import Any

from tracker.core.artifacts import safe_relpath, validate_manifest
from tracker.core.changes import parse as parse_changes
from tracker.core.check_derived import DerivedChecks
from tracker.core.check_trash import TRASH_KINDS, TrashChecks
from tracker.core.index import is_chunk
from tracker.errors import CorruptFile, StoreError, TrackerError
from tracker.store import Store, paths
from tracker.store.base import SPECIAL_FILE, SYMLINK, TMP_PREFIX, Entry
from tracker.store.codec import loads

GRACE_SECONDS = 3600.0
_BATCH = 256  # files read at once
_PREFETCH_MAX = 1024 * 1024  # larger files (damage) are read, and refused, one at a time
_ODD = {
    SYMLINK: "a symbolic link (the store never writes one); not followed",
    SPECIAL_FILE: "not a regular file (a FIFO, device or socket)",
}


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


class Checker(TrashChecks, DerivedChecks):
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
        self.odd: dict[str, str] = {}  # store path -> symlink | special-file
        self.located: dict[str, paths.Located] = {}  # store path -> what the layout says it is
        self.tombstones: dict[str, str] = {}  # version dir -> trash id of its deletion
        self.trash_states: dict[str, str] = {}  # trash id -> state of its entry

    def problem(self, path: str, kind: str, detail: str, repairable: bool = False) -> None:
        self.report.problems.append(Problem(path, kind, detail, repairable))

    def run(self) -> Report:
        self.files = self.store.walk("", include_temp=True)
        self.report.files = len(self.files)
        self.located = {rel: paths.parse(rel) for rel in self.files}  # each path parsed once
        odd = self.odd = self.store.irregular_files()  # never opened: links lead anywhere
        for rel, kind in sorted(odd.items()):
            self.problem(rel, kind, _ODD[kind])
        self._prefetch(odd)
        self._find_tombstones()
        referenced_tokens: set[str] = set()
        for rel, entry in sorted(self.files.items()):
            if rel in odd:
                continue
            if _is_temp(rel):
                self._temp(rel, entry)
            else:
                referenced_tokens |= self._file(rel)
        self._orphan_artifacts(referenced_tokens)
        self._orphan_trash()
        self._empty_versions()
        return self.report

    def _prefetch(self, skip: dict[str, Any]) -> None:
        """Read every YAML file in batches (concurrent requests on object stores); a file that
        cannot be read in a batch (too large) is left for ``_doc`` to read and report alone."""
        names = [
            rel
            for rel, entry in sorted(self.files.items())
            if rel.endswith(".yaml")
            and not _is_temp(rel)
            and self.located[rel].what != "trash-file"  # never checked
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
        dead = self.store.writer_alive(rel) is False
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
        at = self.located[rel]
        what = at.what
        if what in ("format", "gitignore", "trash-file"):
            return set()  # artifact copies: see _manifest and _orphan_artifacts
        if at.area == "version":
            if at.base in self.tombstones and what != "resource":
                self._leftover(rel, at.base)
                return set()
            return self._version_file(rel, at)
        if what == "run":
            doc = self._doc(rel)
            if doc is not None and (not isinstance(doc, dict) or doc.get("id") != at.run_id):
                self.problem(rel, "identity", f"does not describe run {at.run_id!r}")
        elif what == "run-attr":
            self._key_file(rel, at.key)
        elif what == "run-created":
            self._pointer(rel, at.target)
        elif what == "head":
            self._head(rel, at)
        elif what == "index":
            # the query index is a cache: a broken one is garbage, rebuilt by the next find
            data = self.store.read(rel) or b""
            if not is_chunk(data):
                self.problem(rel, "bad-index", "not a query index; find rebuilds it", True)
            elif at.rtype is not None and at.rid is not None:
                self._compare_index(rel, at.rtype, at.rid, data)
        elif what == "changes":
            name = at.name or ""
            if (
                paths.parse_change_name(name) is None
                or parse_changes(self.store.read(rel) or b"") is None
            ):  # not repairable: removing it could hide a change from the index
                self.problem(
                    rel, "bad-changes", "not a change log; delete it with the index-*.json beside"
                )
        elif what.startswith("trash"):
            self._trash_file(rel, at)
        else:
            self.problem(rel, "unknown", f"a file the {at.area} layout does not have")
        return set()

    def _head(self, rel: str, at: paths.Located) -> None:
        data = self.store.read(rel) or b""
        if not data.strip().isdigit():
            self.problem(rel, "bad-hint", f"HEAD holds {data[:20]!r}, not a version", True)
        elif int(data) > 0 and f"{at.base}/{int(data)}/{paths.RESOURCE_FILE}" not in self.files:
            self.problem(
                rel,
                "bad-hint",
                f"HEAD names version {int(data)}, which does not exist (removed by hand?); "
                "readers fall back to listing",
                True,
            )

    def _version_file(self, rel: str, at: paths.Located) -> set[str]:
        ref = f"{at.rtype}/{at.rid}@{at.version}"
        if f"{at.base}/{paths.RESOURCE_FILE}" not in self.files:
            self.problem(rel, "orphan-version", f"{ref} has no resource.yaml")
        if at.what == "resource":
            doc = self._doc(rel)
            if doc is not None and (
                not isinstance(doc, dict)
                or (doc.get("type"), doc.get("id"), doc.get("version"))
                != (at.rtype, at.rid, at.version)
            ):
                self.problem(rel, "identity", f"does not describe {ref}")
        elif at.what == "snapshot":
            self._snapshot(rel, at.base)
        elif at.what == "item":
            self._key_file(rel, at.key)
        elif at.what == "link":
            self._pointer(rel, at.target)
        elif at.what == "manifest":
            return self._manifest(rel, at)
        elif at.what == "metric":
            self._metric_file(rel, at.segment or "", at.name or "")
        elif at.what != "artifact":  # those: see _manifest and _orphan_artifacts
            self.problem(rel, "unknown", "a file the version layout does not have")
        return set()

    def _key_file(self, rel: str, key: str | None) -> None:
        doc = self._doc(rel)
        if doc is None:
            return
        if not isinstance(doc, dict) or doc.get("key") != key or "value" not in doc:
            self.problem(rel, "identity", f"does not hold key {key!r} with a value")

    def _pointer(self, rel: str, target: tuple[str, str, int] | None) -> None:
        if target is None:
            self.problem(rel, "bad-pointer", "not a <type>/<id>@<version> pointer", True)
            return
        ptype, pid, pver = target
        path = paths.resource_file(ptype, pid, pver)
        # a pointer is written after its target, so a target missing from the listing but present
        # now was created meanwhile; one still missing after the pointer was seen never will be
        if path not in self.files and not self.store.exists(path):
            self.problem(rel, "dangling-pointer", f"{ptype}/{pid}@{pver} does not exist", True)
        elif paths.version_dir(ptype, pid, pver) in self.tombstones:
            self._leftover(rel, paths.version_dir(ptype, pid, pver))

    def _manifest(self, rel: str, at: paths.Located) -> set[str]:
        """Check one manifest and its files; returns the copy it references. A manifest that is
        damaged protects every copy of its artifact: they are data fsck cannot vouch for, never
        garbage to remove."""
        doc = self._doc(rel)
        every_copy = {f"{at.base}/{paths.ARTIFACTS}/{at.segment}/*"}
        if doc is None or at.key is None:
            return every_copy
        try:
            validate_manifest(doc, at.key, rel)
            base = paths.artifact_dir(
                at.rtype or "", at.rid or "", at.version or 0, at.key, doc["token"]
            )
            for f in doc["files"]:
                stored = f"{base}/{paths.encode_relpath(safe_relpath(f.get('path'), rel))}"
                self._artifact_file(stored, f)
        except TrackerError as exc:
            self.problem(rel, "bad-manifest", str(exc))
            return every_copy
        return {base}

    def _artifact_file(self, stored: str, f: dict[str, Any]) -> None:
        if any(stored == odd or stored.startswith(odd + "/") for odd in self.odd):
            return  # reported as a symlink or special file; never read
        entry = self.files.get(stored)
        # the manifest was read after the listing: a copy made meanwhile is looked up again
        size = entry.size if entry is not None else self.store.size(stored)
        if size is None:
            self.problem(stored, "artifact-missing", "listed in its manifest but not stored")
        elif size != f.get("size"):
            self.problem(stored, "artifact-size", f"{size} bytes, manifest says {f.get('size')}")
        elif self.verify and self.store.sha256(stored) != f.get("sha256"):
            self.problem(stored, "artifact-checksum", "does not match the manifest's sha256")

    def _orphan_artifacts(self, referenced: set[str]) -> None:
        newest: dict[str, float] = {}
        for rel, entry in self.files.items():
            at = self.located[rel]
            if at.what != "artifact" or at.copy is None:
                continue
            if at.copy not in referenced and at.copy.rpartition("/")[0] + "/*" not in referenced:
                newest[at.copy] = max(newest.get(at.copy, 0.0), entry.mtime)
        for base, mtime in sorted(newest.items()):
            self.problem(
                base,
                "orphan-artifact",
                "a copy no manifest references (a crashed or replaced logging"
                + ("" if self._old(mtime) else ", or one being copied right now")
                + ")",
                repairable=self._old(mtime),
            )

    def _empty_versions(self) -> None:
        """Version directories without a file (a creator killed before its first write
        completed leaves one; listing-based lookups could take it for a version): only on
        backends where a folder exists by itself."""
        kept_temps = [
            p.path for p in self.report.problems if p.kind == "temp-file" and not p.repairable
        ]
        for rel, mtime in sorted(self.store.empty_dirs(paths.RESOURCES, 3).items()):
            if paths.parse(f"{rel}/{paths.RESOURCE_FILE}").what != "resource":
                continue  # not a version directory
            busy = any(t.startswith(rel + "/") for t in kept_temps)
            self.problem(
                rel,
                "orphan-version",
                "a version directory without resource.yaml or any other file (a killed creator)",
                repairable=self._old(mtime) and not busy,
            )

    def repair(self) -> None:
        # finished trash entries first: the leftovers of a deletion they finish are then garbage
        order = sorted(self.report.problems, key=lambda p: p.kind != "trash-incomplete")
        finished = set()
        for p in order:
            if p.kind == "trash-incomplete" and p.repairable:
                finished.add(str(paths.parse(p.path).trash_id))
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
                self.store.remove_empty_dirs(p.path)
            elif p.kind == "stale-snapshot":
                self._rebuild_snapshot(p.path)
            else:
                self.store.remove(p.path, recursive=p.kind == "orphan-artifact")
            self.report.repaired.append(p)
        repaired = {id(p) for p in self.report.repaired}
        self.report.problems = [p for p in self.report.problems if id(p) not in repaired]

    def _referenced_now(self, base: str) -> bool:
        """Whether the manifest of the artifact copy at ``base`` names it (read again now)."""
        at = paths.parse(f"{base}/-")
        if at.key is None or at.rtype is None or at.rid is None or at.version is None:
            return True  # cannot tell: keep it
        manifest = paths.manifest_file(at.rtype, at.rid, at.version, at.key)
        try:
            doc = loads(self.store.read(manifest) or b"", manifest)
        except CorruptFile:
            return True  # cannot tell: keep it
        return isinstance(doc, dict) and paths.encode(str(doc.get("token")), "token") == at.token


def _is_temp(rel: str) -> bool:
    return rel.rsplit("/", 1)[-1].startswith(TMP_PREFIX)


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
