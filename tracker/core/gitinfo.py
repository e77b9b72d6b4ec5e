"""Git state through GitPython: the commit a run's code came from, read once per run.

No repository, no git binary or an empty repository are not errors: the run records what it can.
GitPython is imported lazily because importing it costs ~50 ms.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

from tracker.errors import VersionControlError

HEXSHA = re.compile(r"^[0-9a-f]{7,64}$")


def _repo(path: str | os.PathLike[str] | None) -> Any:
    try:
        import git
    except ImportError:  # GitPython raises ImportError when no git executable can be found
        return None
    try:
        return git.Repo(path or os.getcwd(), search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError, git.GitCommandError):
        return None


def capture(path: str | os.PathLike[str] | None = None) -> dict[str, Any] | None:
    """``{hexsha, branch, dirty, remote, root}`` of the repository at ``path``, or None."""
    repo = _repo(path)
    if repo is None:
        return None
    try:
        info: dict[str, Any] = {"root": repo.working_tree_dir}
        try:
            info["hexsha"] = repo.head.commit.hexsha
        except ValueError:  # no commit yet
            info["hexsha"] = None
        try:
            info["branch"] = repo.active_branch.name
        except (TypeError, ValueError):  # detached HEAD
            info["branch"] = None
        info["dirty"] = bool(repo.is_dirty(untracked_files=True))
        remote = next(iter(repo.remotes), None)
        info["remote"] = next(iter(remote.urls), None) if remote is not None else None
        return info
    except Exception as exc:  # a broken repository must not stop a training run
        return {"error": f"{type(exc).__name__}: {exc}"}
    finally:
        repo.close()


def head_hexsha(path: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """HEAD's hexsha and the remote URL, for ``register_vc_resource`` without a hexsha."""
    repo = _repo(path)
    if repo is None:
        raise VersionControlError(
            f"no hexsha was given and {os.fspath(path or os.getcwd())} is not inside a git "
            "repository; pass vc_info={'hexsha': ...} or run inside the repository"
        )
    try:
        remote = next(iter(repo.remotes), None)
        return {
            "hexsha": repo.head.commit.hexsha,
            "uri": next(iter(remote.urls), None) if remote is not None else repo.working_tree_dir,
        }
    except ValueError:
        raise VersionControlError(
            f"the repository at {repo.working_tree_dir} has no commit yet; commit first"
        ) from None
    finally:
        repo.close()


def check_hexsha(value: Any) -> str:
    text = str(value).strip().lower()
    if not HEXSHA.match(text):
        raise VersionControlError(
            f"{value!r} is not a git commit hexsha (7 to 64 hex digits); pass the commit id"
        )
    return text


def vc_items(vc_info: Mapping[str, Any] | None, key: str | None) -> dict[str, Any]:
    """The metadata ``register_vc_resource`` records: ``<key>_hexsha``, ``<key>_uri`` and the
    caller's other values. With no hexsha, HEAD of ``vc_info['repo']`` (an error when that is
    not a repository) or of the working directory (nothing when there is none). The caller's
    values win; the repository's remote goes under ``<key>_remote``."""
    info = dict(vc_info or {})
    if not info.get("hexsha"):
        try:
            head = head_hexsha(info.get("repo"))
        except VersionControlError:
            if info.get("repo"):
                raise
        else:
            info["hexsha"] = head["hexsha"]
            info.setdefault("remote", head.get("uri"))
            info.setdefault("uri", head.get("uri"))
    if not info.get("hexsha"):
        return {}
    prefix = f"{key}_" if key else ""
    info["hexsha"] = check_hexsha(info["hexsha"])
    items = {f"{prefix}hexsha": info["hexsha"], f"{prefix}uri": info.get("uri")}
    for k, v in info.items():
        if k not in ("hexsha", "uri", "repo"):
            items.setdefault(f"{prefix}{k}", v)
    return items
