"""Artifacts: files or directories copied in at call time, checked by sha256 on the way out.

Each logging copies into a fresh ``artifacts/<id>/<token>/`` directory and only then atomically
replaces ``manifests/<id>.yaml`` (name, files, sizes, sha256), so a reader sees the old artifact or
the new one, never a mix, and a crash mid-copy leaves only an unreferenced token directory for
``fsck`` to remove. Remote artifacts are downloaded into a local cache keyed by sha256.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
import tempfile
from typing import Any

from tracker.core.items import now
from tracker.core.progress import progress_bar
from tracker.core.resource import Resource
from tracker.errors import ArtifactNotFound, ChecksumMismatch, CorruptFile, SourceNotFound
from tracker.store import Store, paths
from tracker.store.base import sha256_of as sha256_file
from tracker.store.codec import dumps, loads

_CHUNK = 1024 * 1024


def _tree_digest(files: list[dict[str, Any]]) -> str:
    h = hashlib.sha256()
    for f in sorted(files, key=lambda f: f["path"]):
        h.update(f"{f['path']}\0{f['sha256']}\n".encode())
    return h.hexdigest()


def _source_files(source: str) -> list[tuple[str, str]]:
    """(absolute path, relative posix path) of every file to copy."""
    if os.path.isfile(source):
        return [(source, os.path.basename(source))]
    out = []
    for dirpath, dirnames, filenames in os.walk(source):
        dirnames.sort()
        for name in sorted(filenames):
            full = os.path.join(dirpath, name)
            if not os.path.isfile(full):
                continue  # broken links, sockets, fifos
            out.append((full, os.path.relpath(full, source).replace(os.sep, "/")))
    return out


def safe_relpath(rel: Any, where: str) -> str:
    """A manifest path must stay inside its artifact directory."""
    if not isinstance(rel, str) or not rel or rel.startswith(("/", "\\")) or "\\" in rel:
        raise CorruptFile(f"{where}: artifact file name {rel!r} is not a relative path")
    parts = rel.split("/")
    if any(p in ("", ".", "..") for p in parts) or ":" in parts[0] or "\0" in rel:
        raise CorruptFile(f"{where}: artifact file name {rel!r} would leave its directory")
    return rel


class Artifacts:
    def __init__(self, store: Store, cache_dir: str | None = None, progress: bool = True) -> None:
        self.store = store
        self.cache_dir = (
            cache_dir
            or os.environ.get("TRACKER_CACHE_DIR")
            or os.path.join(os.path.expanduser("~"), ".cache", "tracker", "artifacts")
        )
        self.progress = progress

    # -- write -----------------------------------------------------------------------------------
    def log(
        self, res: Resource, artifact_id: str, source: str | os.PathLike[str], run_id: str
    ) -> None:
        assert res.version is not None
        src = os.fspath(source)
        if not os.path.exists(src):
            raise SourceNotFound(
                f"log_artifact({res.ref}, {artifact_id!r}): no file or directory at {src!r}"
            )
        mpath = paths.manifest_file(res.type, res.id, res.version, artifact_id)
        token = f"{now():%Y%m%dT%H%M%S}-{secrets.token_hex(4)}"
        target = paths.artifact_dir(res.type, res.id, res.version, artifact_id, token)
        files = []
        sources = _source_files(src)
        total = sum(os.path.getsize(full) for full, _ in sources)
        with progress_bar(total, f"upload {artifact_id}", self.progress) as bar:
            for full, rel in sources:
                size = os.path.getsize(full)
                digest = self.store.upload(full, f"{target}/{paths.encode_relpath(rel)}", bar)
                files.append({"path": rel, "size": size, "sha256": digest})
        is_dir = os.path.isdir(src)
        manifest = {
            "id": artifact_id,
            "name": os.path.basename(os.path.normpath(src)) or artifact_id,
            "kind": "dir" if is_dir else "file",
            "token": token,
            "files": files,
            "size": total,
            "sha256": _tree_digest(files) if is_dir else files[0]["sha256"],
            "source": os.path.abspath(src),
            "logged_at": now(),
            "run_id": run_id,
        }
        old = self._manifest_or_none(mpath, artifact_id)
        self.store.write(mpath, dumps(manifest))
        if old is not None and old.get("token") and old["token"] != token:
            root = paths.artifact_root(res.type, res.id, res.version, artifact_id)
            self.store.remove(f"{root}/{paths.encode(str(old['token']))}", recursive=True)

    # -- read ------------------------------------------------------------------------------------
    def _manifest_or_none(self, mpath: str, artifact_id: str) -> dict[str, Any] | None:
        data = self.store.read(mpath)
        if data is None:
            return None
        doc = loads(data, mpath)
        if not isinstance(doc, dict) or doc.get("id") != artifact_id:
            raise CorruptFile(f"{mpath}: not the manifest of artifact {artifact_id!r}")
        for f in doc.get("files") or []:
            safe_relpath(f.get("path") if isinstance(f, dict) else None, mpath)
        if not isinstance(doc.get("files"), list) or not isinstance(doc.get("token"), str):
            raise CorruptFile(f"{mpath}: manifest without files or token; run `tracker fsck`")
        token = doc["token"]
        if not token or paths.encode(token, "token") != token:  # get() joins it into a path
            raise CorruptFile(f"{mpath}: token {token!r} is not a plain name; run `tracker fsck`")
        if doc.get("kind") not in ("file", "dir") or (
            doc["kind"] == "file" and len(doc["files"]) != 1
        ):
            raise CorruptFile(
                f"{mpath}: kind {doc.get('kind')!r} with {len(doc['files'])} files; "
                "run `tracker fsck`"
            )
        return doc

    def manifest(self, res: Resource, artifact_id: str) -> dict[str, Any]:
        assert res.version is not None
        mpath = paths.manifest_file(res.type, res.id, res.version, artifact_id)
        doc = self._manifest_or_none(mpath, artifact_id)
        if doc is None:
            raise ArtifactNotFound(
                f"{res.ref} has no artifact {artifact_id!r}; see `tracker artifacts {res.ref}`"
            )
        return doc

    def manifests(self, res: Resource) -> dict[str, dict[str, Any]]:
        assert res.version is not None
        out = {}
        for e in self.store.list(paths.manifest_dir(res.type, res.id, res.version)):
            if e.is_dir or not e.name.endswith(".yaml"):
                continue
            aid = paths.decode(e.name[: -len(".yaml")])
            doc = self._manifest_or_none(
                paths.manifest_file(res.type, res.id, res.version, aid), aid
            )
            if doc is not None:
                out[aid] = doc
        return out

    def get(self, res: Resource, artifact_id: str, dest: str | os.PathLike[str] | None) -> str:
        """A verified local path to the artifact (a file, or a directory for a directory)."""
        assert res.version is not None
        doc = self.manifest(res, artifact_id)
        base = paths.artifact_dir(res.type, res.id, res.version, artifact_id, doc["token"])
        name = safe_relpath(doc.get("name") or artifact_id, "manifest name")
        local = self.store.local_path(base)
        if dest is None and local is not None:
            for f in doc["files"]:
                stored = f"{base}/{paths.encode_relpath(f['path'])}"
                if self.store.is_symlink(stored):
                    raise CorruptFile(f"{stored}: is a symbolic link; artifacts never are")
                _verify(self.store.local_path(stored) or "", f, res, artifact_id)
            if doc["kind"] == "file":
                return (
                    self.store.local_path(f"{base}/{paths.encode_relpath(doc['files'][0]['path'])}")
                    or ""
                )
            return local
        if dest is None:
            target = os.path.join(self.cache_dir, str(doc["sha256"]), name)
            if self._cached(doc, target, res, artifact_id):
                return target
        else:
            target = os.path.join(os.path.abspath(os.fspath(dest)), name)
        return self._fetch(doc, base, target, res, artifact_id)

    def _cached(self, doc: dict[str, Any], target: str, res: Resource, aid: str) -> bool:
        """A cached copy is reused only when it still matches the manifest (no download)."""
        if not os.path.exists(target) or os.path.islink(target):
            return False
        try:
            for f in doc["files"]:
                inside = (
                    target if doc["kind"] == "file" else os.path.join(target, *f["path"].split("/"))
                )
                _verify(inside, f, res, aid)
        except ChecksumMismatch:
            return False
        return True

    def _fetch(self, doc: dict[str, Any], base: str, target: str, res: Resource, aid: str) -> str:
        parent = os.path.dirname(target)
        os.makedirs(parent, exist_ok=True)
        staging = tempfile.mkdtemp(prefix=".tmp-", dir=parent)
        try:
            with progress_bar(int(doc.get("size") or 0), f"download {aid}", self.progress) as bar:
                for f in doc["files"]:
                    rel = f["path"] if doc["kind"] == "dir" else "file"
                    out = os.path.join(staging, *rel.split("/"))
                    os.makedirs(os.path.dirname(out), exist_ok=True)
                    self.store.download(f"{base}/{paths.encode_relpath(f['path'])}", out, bar)
                    _verify(out, f, res, aid)
            produced = os.path.join(staging, "file") if doc["kind"] == "file" else staging
            if os.path.isdir(target) and not os.path.islink(target):
                shutil.rmtree(target)
            os.replace(produced, target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return target


def _verify(path: str, f: dict[str, Any], res: Resource, aid: str) -> None:
    try:
        size = os.path.getsize(path)
        digest = sha256_file(path) if size == f.get("size") else None
    except FileNotFoundError:
        raise ChecksumMismatch(
            f"artifact {aid!r} of {res.ref}: file {f['path']!r} is missing from the store"
        ) from None
    if digest != f.get("sha256"):
        raise ChecksumMismatch(
            f"artifact {aid!r} of {res.ref}: {f['path']!r} does not match the sha256 recorded when "
            "it was logged (the stored copy changed or is damaged); log it again or restore it"
        )
