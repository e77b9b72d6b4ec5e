"""The store layer: the only code that touches the filesystem or fsspec."""

from __future__ import annotations

import os
from typing import Any

from tracker.store.base import Entry, Store


def open_store(
    root: str | os.PathLike[str], storage_options: dict[str, Any] | None = None, fsync: bool = False
) -> Store:
    """A local directory (a path or ``file://``) gets the os backend; any other URL fsspec's."""
    text = os.fspath(root)
    if text.startswith("file://"):
        text = text[len("file://") :]
    if "://" not in text and "::" not in text:
        from tracker.store.local import LocalStore

        return LocalStore(text, fsync=fsync)
    from tracker.store.remote import FsspecStore

    return FsspecStore(text, storage_options)


__all__ = ["Entry", "Store", "open_store"]
