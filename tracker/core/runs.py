"""Runs: one tracker session each, created on the first write and never on a read.

``run.yaml`` is immutable (who, where, when, which commit); the status lives in ``attrs/`` and moves
RUNNING -> FINISHED | FAILED. A RUNNING run whose process is gone (same host, dead pid or a
different process start time) reads as CRASHED, so nothing stays RUNNING forever.
"""

from __future__ import annotations

import atexit
import datetime as _dt
import getpass
import os
import platform
import secrets
import socket
import sys
import weakref
from collections.abc import Callable
from typing import Any

from tracker.core import gitinfo
from tracker.core.items import Items, now
from tracker.errors import CorruptFile, ResourceNotFound
from tracker.store import Store, paths
from tracker.store.codec import dumps, loads

RUNNING, FINISHED, FAILED, CRASHED = "RUNNING", "FINISHED", "FAILED", "CRASHED"
_HOST = socket.gethostname()


def new_run_id() -> str:
    """Sortable by start time, unique without coordination: ``20261126T105316Z-3f9a1c``."""
    return f"{now():%Y%m%dT%H%M%S}Z-{secrets.token_hex(3)}"


def _proc_start(pid: int) -> str | None:
    """The kernel's start time of ``pid`` (Linux), so a reused pid is not taken for our process."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().rsplit(b")", 1)[1].split()[19].decode()
    except (OSError, IndexError):
        return None


def _alive(pid: int, proc_start: str | None) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    if proc_start is not None and os.path.exists("/proc"):
        return _proc_start(pid) == proc_start
    return True


ENV_RUN_NAME = "TRACKER_RUN_NAME"
NOTEBOOK = "notebook"


def command_line() -> tuple[list[str], str | None]:
    """``sys.argv`` to record, and the run's name when this is a notebook kernel.

    A Jupyter kernel's argv is ``ipykernel_launcher.py -f <connection file>``: the connection
    file (which holds the kernel's key) is not recorded, and the run is named after the
    notebook when it can be known (VS Code's ``__vsc_ipynb_file__``, Jupyter's
    ``JPY_SESSION_NAME``), else ``"notebook"``."""
    argv = list(sys.argv)
    launcher = os.path.basename(argv[0]) if argv else ""
    if "ipykernel" not in sys.modules or not launcher.startswith("ipykernel"):
        return argv, None
    kept, skip = [argv[0]], False
    for word in argv[1:]:
        if skip:
            skip = False
        elif word in ("-f", "--f"):
            skip = True
        elif not word.startswith(("-f=", "--f=")) and not word.endswith(".json"):
            kept.append(word)
    return kept, _notebook_name() or NOTEBOOK


def _notebook_name() -> str | None:
    path: Any = None
    try:
        from IPython import get_ipython  # only imported inside a kernel, where it is loaded

        shell = get_ipython()
        path = shell.user_ns.get("__vsc_ipynb_file__") if shell is not None else None
    except Exception:  # no IPython, or a shell without a namespace: fall back to the env
        path = None
    path = path or os.environ.get("JPY_SESSION_NAME")
    return os.path.basename(str(path)) if path else None


class Runs:
    """The current run of one tracker, plus reads of any run in the store."""

    def __init__(
        self,
        store: Store,
        items: Items,
        name: str | None = None,
        git_path: str | os.PathLike[str] | None = None,
        capture_git: bool = True,
    ) -> None:
        self.store, self.items = store, items
        self.name = name
        self.git_path = git_path
        self.capture_git = capture_git
        self.current: str | None = None
        self.created: list[tuple[str, str, int]] = []
        self._failed = False
        # what ends the run at interpreter exit; the tracker sets it so its resources get closed
        self.on_exit: Callable[[str], Any] = self.stop

    def ensure(self) -> str:
        """The current run id, creating the run on first use."""
        if self.current is not None:
            return self.current
        doc = self._describe_process()
        while True:
            run_id = new_run_id()
            doc["id"] = run_id
            if self.store.create(paths.run_file(run_id), dumps(doc)):
                break
        self.items.write(paths.run_attr(run_id, "status"), "status", RUNNING, run_id)
        self.current = run_id
        self.created = []
        _register_exit(self)
        return run_id

    def _describe_process(self) -> dict[str, Any]:
        argv, notebook = command_line()
        name = (
            self.name
            or os.environ.get(ENV_RUN_NAME)
            or notebook
            or (os.path.basename(argv[0]) if argv and argv[0] else "python")
        )
        try:
            user = getpass.getuser()
        except Exception:
            user = None
        pid = os.getpid()
        git = gitinfo.capture(self.git_path) if self.capture_git else None
        return {
            "id": None,
            "name": name or "python",
            "start_time": now(),
            "user": user,
            "host": _HOST,
            "pid": pid,
            "proc_start": _proc_start(pid),
            "argv": argv,
            "cwd": os.getcwd(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "git": git,
        }

    def stop(self, status: str = FINISHED) -> str | None:
        """End the current run (idempotent); returns the id of the run that was ended."""
        run_id = self.current
        if run_id is None:
            return None
        self.current = None
        self.items.write_many(
            [
                (paths.run_attr(run_id, "status"), "status", status),
                (paths.run_attr(run_id, "end_time"), "end_time", now()),
            ],
            run_id,
        )
        return run_id

    # -- reads -----------------------------------------------------------------------------------
    def read(self, run_id: str) -> dict[str, Any]:
        """``run.yaml`` plus its attributes, with the status resolved (CRASHED detection)."""
        where = paths.run_file(run_id)
        data = self.store.read(where)
        if data is None:
            raise ResourceNotFound(f"no run {run_id!r} in {self.store.url}; see `tracker runs`")
        doc = loads(data, where)
        if not isinstance(doc, dict) or doc.get("id") != run_id:
            raise CorruptFile(f"{where}: does not describe run {run_id!r}; run `tracker fsck`")
        records = self.items.load(paths.run_dir(run_id), ("attrs",))["attrs"]
        attrs = {k: r.get("value") for k, r in records.items()}
        doc["attrs"] = attrs
        doc["status"] = self.resolve_status(doc, attrs.get("status"))
        doc["end_time"] = attrs.get("end_time")
        return doc

    def resolve_status(self, doc: dict[str, Any], status: Any) -> str:
        status = str(status) if status else RUNNING
        if status != RUNNING or doc.get("id") == self.current:
            return status
        pid = doc.get("pid")
        if (
            doc.get("host") == _HOST
            and isinstance(pid, int)
            and not _alive(pid, doc.get("proc_start"))
        ):
            return CRASHED
        return status

    def status(self, run_id: str | None) -> str | None:
        """The status of ``run_id`` (None for no run); one or two small reads."""
        if not run_id:
            return None
        rec = self.items.read(paths.run_attr(run_id, "status"), "status")
        status = rec.get("value") if rec else None
        if status not in (None, RUNNING) or run_id == self.current:
            return str(status) if status else RUNNING
        data = self.store.read(paths.run_file(run_id))
        if data is None:
            return None
        doc = loads(data, paths.run_file(run_id))
        return self.resolve_status(doc if isinstance(doc, dict) else {}, status)

    def ids(self) -> list[str]:
        return sorted(paths.decode(e.name) for e in self.store.list(paths.RUNS) if e.is_dir)


def duration(doc: dict[str, Any]) -> float | None:
    """Seconds from start to end; for a run still RUNNING, up to now."""
    start, end = doc.get("start_time"), doc.get("end_time")
    if end is None and doc.get("status") == RUNNING:
        end = now()
    if isinstance(start, _dt.datetime) and isinstance(end, _dt.datetime):
        try:
            return round((end - start).total_seconds(), 3)
        except TypeError:  # one naive, one aware: a hand-edited file
            return None
    return None


def run_record(doc: dict[str, Any]) -> dict[str, Any]:
    """A run under the names that queries, output and JSON share (``git_commit``, not
    ``git.hexsha``): what ``runs(where=...)`` evaluates."""
    found = doc.get("git")
    git: dict[str, Any] = found if isinstance(found, dict) else {}
    return {
        "id": doc.get("id"),
        "name": doc.get("name"),
        "status": doc.get("status"),
        "start_time": doc.get("start_time"),
        "end_time": doc.get("end_time"),
        "duration_s": duration(doc),
        "user": doc.get("user"),
        "host": doc.get("host"),
        "git_commit": git.get("hexsha"),
        "git_branch": git.get("branch"),
        "git_dirty": git.get("dirty"),
        "git_remote": git.get("remote"),
        "pid": doc.get("pid"),
        "cwd": doc.get("cwd"),
        "argv": doc.get("argv"),
        "python": doc.get("python"),
        "platform": doc.get("platform"),
        "attrs": doc.get("attrs") or {},
    }


_LIVE: weakref.WeakSet[Runs] = weakref.WeakSet()
_HOOKED = False


def _register_exit(runs: Runs) -> None:
    """End open runs at interpreter exit: FINISHED, or FAILED after an uncaught exception."""
    global _HOOKED
    _LIVE.add(runs)
    if _HOOKED:
        return
    _HOOKED = True
    previous = sys.excepthook

    def hook(*args: Any) -> None:
        for r in list(_LIVE):
            r._failed = True
        previous(*args)

    sys.excepthook = hook
    atexit.register(_stop_all)


def _forget_in_child() -> None:
    """A forked child must not end, close or write as its parent's run: it starts its own run
    on its first write (and the parent's run still reads CRASHED if the parent is killed)."""
    for r in list(_LIVE):
        r.current = None
        r.created = []
        r._failed = False


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_in_child)


def _stop_all() -> None:
    for r in list(_LIVE):
        try:
            if r.current is not None:
                r.on_exit(FAILED if r._failed else FINISHED)
        except Exception:  # noqa: S112 - at exit there is nobody left to tell
            continue
