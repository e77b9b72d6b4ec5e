"""Artifacts: files or directories copied in at call time, checked by sha256 on the way out.

Each logging copies into a fresh ``artifacts/<id>/<token>/`` directory and only then atomically
replaces ``manifests/<id>.yaml`` (name, files, sizes, sha256), so a reader sees the old artifact or
the new one, never a mix, and a crash mid-copy leaves only an unreferenced token directory for
``fsck`` to remove. Remote artifacts are downloaded into a local cache keyed by sha256.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import shutil
import stat
import tempfile
from collections.abc import Callable
from typing import Any

from tracker.core.items import now
from tracker.core.progress import progress_bar
from tracker.core.resource import Resource
from tracker.errors import (
    ArtifactNotFound,
    ChecksumMismatch,
    CorruptFile,
    DestinationExists,
    SourceNotFound,
    UnsupportedSource,
)
from tracker.store import Store, paths
from tracker.store.base import sha256_of as sha256_file
from tracker.store.codec import dumps, loads


def _tree_digest(files: list[dict[str, Any]]) -> str:
    h = hashlib.sha256()
    for f in sorted(files, key=lambda f: f["path"]):
        h.update(f"{f['path']}\0{f['sha256']}\n".encode())
    return h.hexdigest()


def _source_files(
    source: str, follow_symlinks: bool, skip: Callable[[str], bool]
) -> tuple[list[tuple[str, str]], list[str]]:
    """(absolute path, relative posix path) of every file to copy, and the relative paths left
    out because they are the store itself (``skip`` says which folders are). Links, FIFOs,
    sockets and devices are refused, listed, unless ``follow_symlinks`` (links followed; the
    rest still refused)."""
    st = os.stat(source) if follow_symlinks else os.lstat(source)
    if stat.S_ISREG(st.st_mode):
        return [(source, os.path.basename(os.path.abspath(source)))], []
    if not stat.S_ISDIR(st.st_mode):
        what = "a symbolic link" if stat.S_ISLNK(st.st_mode) else "not a regular file or folder"
        hint = " (pass follow_symlinks=True to copy what it points to)" if "link" in what else ""
        raise UnsupportedSource(f"{source}: {what}; nothing was recorded{hint}")
    out: list[tuple[str, str]] = []
    bad: list[str] = []
    skipped: list[str] = []
    seen: set[tuple[int, int]] = set()
    for dirpath, dirnames, filenames in os.walk(source, followlinks=follow_symlinks):
        here = os.stat(dirpath)
        if (here.st_dev, here.st_ino) in seen:  # a link loop: each folder once
            dirnames[:] = []
            continue
        seen.add((here.st_dev, here.st_ino))
        dirnames.sort()
        for name in list(dirnames):
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, source).replace(os.sep, "/")
            if skip(full):
                dirnames.remove(name)
                skipped.append(rel)
            elif os.path.islink(full) and not follow_symlinks:
                dirnames.remove(name)
                bad.append(f"{rel} (link to a folder)")
        for name in sorted(filenames):
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, source).replace(os.sep, "/")
            mode = (os.stat(full) if follow_symlinks else os.lstat(full)).st_mode
            if stat.S_ISREG(mode) and not (os.path.islink(full) and not follow_symlinks):
                out.append((full, rel))
            elif stat.S_ISLNK(mode) or os.path.islink(full):
                bad.append(f"{rel} (symbolic link)")
            else:
                bad.append(f"{rel} ({_kind(mode)})")
    if bad:
        shown = ", ".join(bad[:10]) + (f" and {len(bad) - 10} more" if len(bad) > 10 else "")
        raise UnsupportedSource(
            f"{source}: {len(bad)} entr{'y' if len(bad) == 1 else 'ies'} the tracker does not "
            f"copy: {shown}. Remove them, or pass follow_symlinks=True to copy what links point "
            "to (FIFOs, sockets and devices are never copied); nothing was recorded"
        )
    return out, skipped


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "FIFO"
    if stat.S_ISSOCK(mode):
        return "socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    return "special file"


def check_name(name: Any, where: str) -> str:
    """A file or folder name a manifest may give: one plain segment, never ``.``/``..``."""
    if not isinstance(name, str) or name in ("", ".", "..") or "/" in name or "\0" in name:
        raise CorruptFile(f"{where}: artifact name {name!r} is not a plain file name")
    if os.sep != "/" and (os.sep in name or ":" in name):
        raise CorruptFile(f"{where}: artifact name {name!r} cannot name a file on this system")
    return name


def safe_relpath(rel: Any, where: str) -> str:
    """A manifest path must stay inside its artifact directory (every segment a plain name)."""
    if not isinstance(rel, str) or not rel or rel.startswith("/"):
        raise CorruptFile(f"{where}: artifact file name {rel!r} is not a relative path")
    for part in rel.split("/"):
        try:
            check_name(part, where)
        except CorruptFile:
            raise CorruptFile(
                f"{where}: artifact file name {rel!r} would leave its directory"
            ) from None
    return rel


def validate_manifest(doc: Any, artifact_id: str, where: str) -> dict[str, Any]:
    """The one shape rule of a manifest, for readers and fsck alike: the artifact's id, a plain
    token and name, ``kind`` file (one file) or dir, and files that stay inside the copy."""
    if not isinstance(doc, dict) or doc.get("id") != artifact_id:
        raise CorruptFile(f"{where}: not the manifest of artifact {artifact_id!r}")
    files, token = doc.get("files"), doc.get("token")
    if not isinstance(files, list) or not isinstance(token, str):
        raise CorruptFile(f"{where}: manifest without files or token; run `tracker fsck`")
    if not token or paths.encode(token, "token") != token:  # get() joins it into a path
        raise CorruptFile(f"{where}: token {token!r} is not a plain name; run `tracker fsck`")
    check_name(doc.get("name") or artifact_id, where)
    if doc.get("kind") not in ("file", "dir") or (doc["kind"] == "file" and len(files) != 1):
        raise CorruptFile(
            f"{where}: kind {doc.get('kind')!r} with {len(files)} files; run `tracker fsck`"
        )
    for f in files:
        if not isinstance(f, dict):
            raise CorruptFile(f"{where}: file entry {f!r:.60} is not a mapping; run `tracker fsck`")
        safe_relpath(f.get("path"), where)
    return doc


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
        self,
        res: Resource,
        artifact_id: str,
        source: str | os.PathLike[str],
        run_id: str,
        follow_symlinks: bool = False,
    ) -> None:
        src = os.fspath(source)
        what = f"log_artifact({res.ref}, {artifact_id!r})"
        if not os.path.lexists(src):
            raise SourceNotFound(f"{what}: no file or directory at {src!r}")
        mpath = paths.manifest_file(res.type, res.id, res.version, artifact_id)
        token = f"{now():%Y%m%dT%H%M%S}-{secrets.token_hex(4)}"
        target = paths.artifact_dir(res.type, res.id, res.version, artifact_id, token)
        if self.store.contains(src):  # the store would grow into itself
            raise UnsupportedSource(f"{what}: {src!r} lies inside the store; log a copy")
        try:
            sources, skipped = _source_files(src, follow_symlinks, self.store.contains)
        except OSError as exc:
            raise UnsupportedSource(f"{what}: cannot read {src!r}: {exc.strerror}") from exc
        name = os.path.basename(os.path.abspath(src)) or artifact_id
        for _, rel in sources:  # every name must come back out: checked before any copy
            safe_relpath(rel, what)
            paths.encode_relpath(rel)
        check_name(name, what)
        for full, _ in sources:  # an unreadable file is named now, before anything is copied
            try:
                with open(full, "rb"):
                    pass
            except OSError as exc:
                raise UnsupportedSource(
                    f"{what}: cannot read {full!r} ({exc.strerror or exc}); nothing was recorded"
                ) from exc
        files: list[dict[str, Any]] = []
        total = sum(os.path.getsize(full) for full, _ in sources)
        with progress_bar(total, f"upload {artifact_id}", self.progress) as bar:
            for full, rel in sources:
                try:
                    digest, size = self.store.upload(
                        full, f"{target}/{paths.encode_relpath(rel)}", bar
                    )
                except PermissionError as exc:
                    raise UnsupportedSource(f"{what}: cannot read {full!r}: {exc}") from exc
                files.append({"path": rel, "size": size, "sha256": digest})
        is_dir = os.path.isdir(src)
        manifest = {
            "id": artifact_id,
            "name": name,
            "kind": "dir" if is_dir else "file",
            "token": token,
            "files": files,
            "size": sum(int(f["size"]) for f in files),
            "sha256": _tree_digest(files) if is_dir else files[0]["sha256"],
            "source": os.path.abspath(src),
            "logged_at": now(),
            "run_id": run_id,
        }
        if skipped:
            manifest["excluded"] = skipped  # the store's own folder is never copied into it
        old = self._manifest_or_none(mpath, artifact_id)
        self.store.write(mpath, dumps(manifest))
        if old is not None and old.get("token") and old["token"] != token:
            root = paths.artifact_root(res.type, res.id, res.version, artifact_id)
            self.store.remove(f"{root}/{paths.encode(str(old['token']))}", recursive=True)

    # -- read ------------------------------------------------------------------------------------
    def _manifest_or_none(self, mpath: str, artifact_id: str) -> dict[str, Any] | None:
        data = self.store.read(mpath)
        return None if data is None else validate_manifest(loads(data, mpath), artifact_id, mpath)

    def manifest(self, res: Resource, artifact_id: str) -> dict[str, Any]:
        mpath = paths.manifest_file(res.type, res.id, res.version, artifact_id)
        doc = self._manifest_or_none(mpath, artifact_id)
        if doc is None:
            raise ArtifactNotFound(
                f"{res.ref} has no artifact {artifact_id!r}; see `tracker artifacts {res.ref}`"
            )
        return doc

    def manifests(self, res: Resource) -> dict[str, dict[str, Any]]:
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

    def get(
        self,
        res: Resource,
        artifact_id: str,
        dest: str | os.PathLike[str] | None,
        overwrite: bool = False,
    ) -> str:
        """A verified local path to the artifact (a file, or a directory for a directory).

        With ``dest``, the copy goes to ``dest/<name>``: an existing file or folder there is
        never touched unless ``overwrite``, and then replaced only once the new copy is complete
        and verified; ``dest`` is created only for a copy that succeeds, and never inside the
        store. Without ``dest``, a local store returns its own (verified) copy's path, which
        must not be modified; a remote one a copy in the cache."""
        doc = self.manifest(res, artifact_id)
        base = paths.artifact_dir(res.type, res.id, res.version, artifact_id, doc["token"])
        name = check_name(doc.get("name") or artifact_id, "manifest name")
        encoded = any(paths.encode_relpath(f["path"]) != f["path"] for f in doc["files"])
        local = None if dest is not None or encoded else self.store.in_place(base)
        if local is not None:  # read in place, once verified
            for f in doc["files"]:
                stored = f"{base}/{paths.encode_relpath(f['path'])}"
                self.store.in_place(stored)  # refuses a link
                _verify_stored(self.store, stored, f, res, artifact_id)
            if doc["kind"] == "file":
                return (
                    self.store.in_place(f"{base}/{paths.encode_relpath(doc['files'][0]['path'])}")
                    or ""
                )
            return local
        if dest is None:
            target = os.path.join(self.cache_dir, str(doc["sha256"]), name)
            if self._cached(doc, target, res, artifact_id):
                return target
            return self._fetch(doc, base, target, res, artifact_id, replace=True)
        folder = os.path.abspath(os.fspath(dest))
        if self.store.contains(folder):
            raise DestinationExists(
                f"get_artifact({res.ref}, {artifact_id!r}): destination {folder} lies inside "
                "the store; choose a folder outside it"
            )
        if os.path.lexists(folder) and not os.path.isdir(folder):
            raise DestinationExists(
                f"get_artifact({res.ref}, {artifact_id!r}): destination {folder} is a file, not "
                "a folder; pass a folder (the artifact is written into it)"
            )
        target = os.path.join(folder, name)
        if os.path.lexists(target) and not overwrite:
            raise DestinationExists(
                f"get_artifact({res.ref}, {artifact_id!r}): {target} already exists; pass "
                "overwrite=True (`tracker get --force`) to replace it, or another destination"
            )
        return self._fetch(doc, base, target, res, artifact_id, replace=overwrite)

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

    def _fetch(
        self,
        doc: dict[str, Any],
        base: str,
        target: str,
        res: Resource,
        aid: str,
        replace: bool,
    ) -> str:
        """Download into a staging folder next to ``target``, verify, then move into place; a
        folder created for it is removed again when the copy fails."""
        parent = os.path.dirname(target)
        created = _missing_dirs(parent)
        os.makedirs(parent, exist_ok=True)
        staging = tempfile.mkdtemp(prefix=".tmp-", dir=parent)
        try:
            with progress_bar(int(doc.get("size") or 0), f"download {aid}", self.progress) as bar:
                for f in doc["files"]:
                    rel = f["path"] if doc["kind"] == "dir" else "file"
                    out = os.path.join(staging, *rel.split("/"))
                    os.makedirs(os.path.dirname(out), exist_ok=True)
                    try:
                        self.store.download(f"{base}/{paths.encode_relpath(f['path'])}", out, bar)
                    except FileNotFoundError:
                        raise ChecksumMismatch(
                            f"artifact {aid!r} of {res.ref}: file {f['path']!r} is missing from "
                            "the store (run `tracker fsck`); log it again"
                        ) from None
                    _verify(out, f, res, aid)
            produced = os.path.join(staging, "file") if doc["kind"] == "file" else staging
            if os.path.lexists(target):
                if not replace:
                    raise DestinationExists(f"{target} appeared meanwhile; nothing was replaced")
                old = tempfile.mkdtemp(prefix=".tmp-old-", dir=parent)
                os.replace(target, os.path.join(old, "previous"))  # aside, then swap in
                os.replace(produced, target)
                _remove(old)
            else:
                os.replace(produced, target)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            for folder in created:
                with contextlib.suppress(OSError):
                    os.rmdir(folder)  # only if still empty
            raise
        shutil.rmtree(staging, ignore_errors=True)
        return target


def _missing_dirs(path: str) -> list[str]:
    """The folders ``os.makedirs(path)`` would create, deepest first."""
    out = []
    while path and not os.path.lexists(path):
        out.append(path)
        parent = os.path.dirname(path)
        if parent == path:
            break
        path = parent
    return out


def _remove(path: str) -> None:
    """Remove a tree without following links (``shutil.rmtree`` is link-safe on Linux)."""
    shutil.rmtree(path, ignore_errors=True)


def _verify_stored(store: Store, stored: str, f: dict[str, Any], res: Resource, aid: str) -> None:
    """A stored file matches its manifest entry (size first: a cheap refusal)."""
    size = store.size(stored)
    digest = store.sha256(stored) if size == f.get("size") else None
    if size is None:
        raise ChecksumMismatch(
            f"artifact {aid!r} of {res.ref}: file {f['path']!r} is missing from the store"
        )
    _mismatch(digest, f, res, aid)


def _verify(path: str, f: dict[str, Any], res: Resource, aid: str) -> None:
    try:
        size = os.path.getsize(path)
        digest = sha256_file(path) if size == f.get("size") else None
    except FileNotFoundError:
        raise ChecksumMismatch(
            f"artifact {aid!r} of {res.ref}: file {f['path']!r} is missing from the store"
        ) from None
    _mismatch(digest, f, res, aid)


def _mismatch(digest: str | None, f: dict[str, Any], res: Resource, aid: str) -> None:
    if digest != f.get("sha256"):
        raise ChecksumMismatch(
            f"artifact {aid!r} of {res.ref}: {f['path']!r} does not match the sha256 recorded when "
            "it was logged (the stored copy changed or is damaged); log it again or restore it"
        )
