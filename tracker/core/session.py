"""The session every service shares: the store, its format check, and the current run.

A tracker opens nothing on construction. The first read checks ``tracker.yaml`` (format and
existence); the first write creates the store (``tracker.yaml`` and a ``.gitignore``) and then the
run (:class:`tracker.core.runs.Runs`). Services ask the session for the run id when they write.
"""

from __future__ import annotations

from tracker.core.runs import Runs
from tracker.errors import StoreFormatError, StoreNotFound
from tracker.store import Store, paths
from tracker.store.codec import dumps, loads


class Session:
    """Store plus current run; ``write_caches=False`` keeps reads from storing derived caches."""

    def __init__(self, store: Store, runs: Runs, write_caches: bool = True) -> None:
        self.store, self.runs = store, runs
        self.url = store.url
        self.write_caches = write_caches
        self._format_checked = False
        self._format_written = False

    def check_format(self) -> None:
        """Refuse a store of a newer format (once per session; one read)."""
        if self._format_checked:
            return
        data = self.store.read(paths.FORMAT_FILE)
        if data is not None:
            doc = loads(data, paths.FORMAT_FILE)
            fmt = doc.get("format") if isinstance(doc, dict) else None
            if not isinstance(fmt, int) or fmt > paths.FORMAT:
                raise StoreFormatError(
                    f"{self.url} is a store of format {fmt!r}; this tracker reads format "
                    f"{paths.FORMAT} and older. Upgrade tracker (pip install -U tracker)"
                )
            self._format_written = True
        self._format_checked = True

    def require_store(self) -> None:
        """Raise :class:`StoreNotFound` unless a store exists at the root (read-only opens)."""
        self.check_format()
        if not self._format_written:
            raise StoreNotFound(
                f"no tracker store at {self.url} (it has no {paths.FORMAT_FILE}); pass another "
                "root (--root, $TRACKER_ROOT) or record one, e.g. with `tracker demo`"
            )

    def run(self) -> str:
        """The current run id, creating the store and the run on the first write."""
        if self.runs.current is not None:
            return self.runs.current
        self.check_format()
        if not self._format_written:
            self.store.create(paths.FORMAT_FILE, dumps({"format": paths.FORMAT}))
            self.store.mark_ignored()
            self._format_written = True
        return self.runs.ensure()
