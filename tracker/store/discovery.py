"""Where the store is when nobody says: found like git finds its repository.

The one rule, used by ``Tracker()`` and by the command line alike:

1. an explicit root (``Tracker(root)``, ``tracker --root``) wins;
2. else ``$TRACKER_ROOT``;
3. else the nearest ``.tracker/`` holding a ``tracker.yaml``, looking in the working directory and
   then in each parent, stopping after the filesystem root or after ``$HOME`` when the working
   directory is inside it (a store above the home directory is never picked up by accident);
4. else ``./.tracker`` in the working directory (created on the first write).

A ``.tracker`` directory without ``tracker.yaml`` is not a store (it may be anything) and is
skipped, so an empty folder of that name cannot capture every run below it.
"""

from __future__ import annotations

import os

DEFAULT_NAME = ".tracker"
ENV_ROOT = "TRACKER_ROOT"
FORMAT_FILE = "tracker.yaml"


def find_store(start: str | os.PathLike[str] | None = None) -> str | None:
    """The nearest ``.tracker`` store at or above ``start`` (default: the working directory)."""
    here = os.path.abspath(os.fspath(start) if start is not None else os.getcwd())
    home = os.environ.get("HOME")
    ceiling = os.path.abspath(home) if home else None
    if ceiling is not None and not _inside(here, ceiling):
        ceiling = None  # outside $HOME: search up to the filesystem root
    while True:
        candidate = os.path.join(here, DEFAULT_NAME)
        if os.path.isfile(os.path.join(candidate, FORMAT_FILE)):
            return candidate
        parent = os.path.dirname(here)
        if parent == here or (ceiling is not None and here == ceiling):
            return None
        here = parent


def default_root(start: str | os.PathLike[str] | None = None) -> str:
    """The root to use when none was given: ``$TRACKER_ROOT``, a found store, else
    ``./.tracker`` (relative, as before, so messages stay short)."""
    return os.environ.get(ENV_ROOT) or find_store(start) or DEFAULT_NAME


def resolve_root(root: str | os.PathLike[str] | None) -> str:
    """``root`` when given (it always wins), else :func:`default_root`."""
    return os.fspath(root) if root is not None else default_root()


def _inside(path: str, directory: str) -> bool:
    try:
        return os.path.commonpath([path, directory]) == directory
    except ValueError:  # different drives on Windows
        return False
