"""Running the installed ``tracker`` entry point in a subprocess, with this checkout's code."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

CHECKOUT = str(Path(__file__).resolve().parents[1])


def entry_point() -> list[str]:
    """The console script when installed (what users run), else ``python -m tracker``."""
    found = shutil.which("tracker")
    return [found] if found else [sys.executable, "-m", "tracker"]


def tracker_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("TRACKER_ROOT", "TRACKER_RUN_NAME")}
    env["PYTHONPATH"] = CHECKOUT
    env.update(extra)
    return env


def cli(*args: str, env: dict[str, str] | None = None, cwd: str | None = None):
    """(exit code, stdout, stderr) of ``tracker ARGS``."""
    done = subprocess.run(
        [*entry_point(), *args],
        capture_output=True,
        text=True,
        env=env if env is not None else tracker_env(),
        cwd=cwd,
        timeout=120,
    )
    return done.returncode, done.stdout, done.stderr


def one_line_error(code: int, out: str, err: str, *fragments: str, exit_code: int = 1) -> None:
    assert code == exit_code, (code, out, err)
    assert out == ""
    assert err.startswith("tracker") and err.count("\n") == 1 and "Traceback" not in err, err
    for fragment in fragments:
        assert fragment in err, err
