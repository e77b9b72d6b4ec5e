"""Every Python and shell snippet of README.md runs as written, in order, in a fresh directory.

Python blocks run one after another in ONE interpreter (like notebook cells: a block may use what
an earlier one defined); shell blocks (``bash``/``sh``/``shell``) run with ``bash -e`` in the same
directory, calling the installed ``tracker`` entry point. Nothing is shared with the test
process: a fresh working directory, ``$HOME`` pointing into it (so store discovery stops there),
no ``$TRACKER_ROOT``, and ``PYTHONPATH`` set to this checkout.

A block that cannot run here is skipped by an HTML comment on the line before its fence:
``<!-- readme-test: skip (reason) -->``; the reason is required. :data:`EXPECTED_SKIPS` lists the
skipped blocks (by their first line) so that skipping a new block is a visible decision.
"""

from __future__ import annotations

import json
import os
import re
import select
import shutil
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
PYTHON = ("python", "py", "python3")
SHELL = ("bash", "sh", "shell")
SKIP = re.compile(r"<!--\s*readme-test:\s*skip\s*(?:\((?P<reason>[^)]*)\))?\s*-->")
BLOCK_TIMEOUT = 300  # seconds per block: a snippet that serves forever must be marked to skip
FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|~{3,})\s*(?P<lang>[\w+-]*)")

# first lines of the blocks this README skips on purpose (others may be added with a reason)
EXPECTED_SKIPS = {
    "pip install . && tracker demo --root ./demo-store",
    "pip install -e '.[test]' && python -m pytest",
    "pip install .              # core: fsspec, GitPython, PyYAML",
    "from tracker import Tracker",  # the S3 block: a real bucket and credentials
    "pip install . 'lolpop[xgboost,scikit-learn]==0.2.0'     # + '.[s3]' for s3:// stores",
}


@dataclass
class Block:
    line: int  # 1-based line of the opening fence
    lang: str
    code: str
    skip: str | None  # the reason, when marked to skip

    @property
    def where(self) -> str:
        return f"README.md:{self.line} ({self.lang})"


def blocks(text: str) -> list[Block]:
    """Fenced blocks in order; the skip marker is the last non-blank line before a fence."""
    lines = text.splitlines()
    out: list[Block] = []
    i = 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if not opening:
            i += 1
            continue
        fence, indent = opening.group("fence"), len(opening.group("indent"))
        body: list[str] = []
        j = i + 1
        while j < len(lines) and not lines[j].strip().startswith(fence[0] * len(fence)):
            line = lines[j]
            body.append(line[indent:] if line[:indent].strip() == "" else line.lstrip())
            j += 1
        before = next((lines[k] for k in range(i - 1, -1, -1) if lines[k].strip()), "")
        marker = SKIP.search(before)
        reason = None
        if marker:
            reason = (marker.group("reason") or "").strip()
            assert reason, f"README.md:{i}: a skip marker needs a reason: skip (why)"
        out.append(Block(i + 1, opening.group("lang").lower(), "\n".join(body) + "\n", reason))
        i = j + 1
    return out


def runnable(all_blocks: list[Block]) -> list[Block]:
    return [b for b in all_blocks if b.lang in PYTHON + SHELL]


DRIVER = r"""
import contextlib, io, json, sys, traceback
namespace = {"__name__": "__main__"}
for line in sys.stdin:
    request = json.loads(line)
    out = io.StringIO()
    ok, error = True, ""
    try:
        with contextlib.redirect_stdout(out):
            exec(compile(request["code"], request["where"], "exec"), namespace)
    except BaseException:
        ok, error = False, traceback.format_exc()
    sys.__stdout__.write(json.dumps({"ok": ok, "error": error, "out": out.getvalue()}) + "\n")
    sys.__stdout__.flush()
"""


class Interpreter:
    """One Python process that runs blocks in a shared namespace, like notebook cells."""

    def __init__(self, cwd: Path, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", DRIVER],
            cwd=cwd,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def run(self, block: Block) -> tuple[bool, str, str]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps({"code": block.code, "where": block.where}) + "\n")
        self.proc.stdin.flush()
        ready, _, _ = select.select([self.proc.stdout], [], [], BLOCK_TIMEOUT)
        if not ready:
            self.proc.kill()
            raise AssertionError(f"{block.where} still running after {BLOCK_TIMEOUT}s")
        reply = self.proc.stdout.readline()
        assert reply, f"{block.where}: the interpreter died"
        answer = json.loads(reply)
        return answer["ok"], answer["out"], answer["error"]

    def close(self) -> int:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        return self.proc.wait(timeout=120)


def environment(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
    env.update(
        HOME=str(home),
        PYTHONPATH=str(ROOT),
        TRACKER_CACHE_DIR=str(home / ".cache-tracker"),
        GIT_CONFIG_NOSYSTEM="1",
    )
    if shutil.which("tracker") is None:  # not installed: a stand-in for the entry point
        bin_dir = home / ".bin"
        bin_dir.mkdir()
        shim = bin_dir / "tracker"
        shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m tracker "$@"\n')
        shim.chmod(0o755)
        env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    return env


def test_the_readme_has_runnable_blocks_and_known_skips() -> None:
    found = runnable(blocks(README.read_text(encoding="utf-8")))
    skipped = {b.code.splitlines()[0] for b in found if b.skip is not None}
    assert skipped | EXPECTED_SKIPS >= EXPECTED_SKIPS
    assert len([b for b in found if b.skip is None and b.lang in PYTHON]) >= 2
    assert len([b for b in found if b.skip is None and b.lang in SHELL]) >= 1


def test_every_snippet_runs_in_order(tmp_path: Path) -> None:
    home = tmp_path / "home"
    work = home / "project"
    work.mkdir(parents=True)
    env = environment(home)
    python = Interpreter(work, env)
    outputs: dict[int, str] = {}
    try:
        for block in runnable(blocks(README.read_text(encoding="utf-8"))):
            if block.skip is not None:
                continue
            if block.lang in PYTHON:
                ok, out, error = python.run(block)
                assert ok, f"{block.where} failed:\n{block.code}\n{error}"
            else:
                done = subprocess.run(
                    ["bash", "-e", "-c", block.code],
                    cwd=work,
                    env=env,
                    capture_output=True,
                    text=True,
                    timeout=BLOCK_TIMEOUT,
                )
                out = done.stdout
                assert done.returncode == 0, (
                    f"{block.where} failed (exit {done.returncode}):\n{block.code}\n"
                    f"{done.stdout}\n{done.stderr}\n(mark a block that cannot run here with "
                    "<!-- readme-test: skip (reason) --> on the line before its fence)"
                )
            outputs[block.line] = out
    finally:
        assert python.close() == 0
    store = work / ".tracker"
    assert (store / "tracker.yaml").is_file(), "the snippets should build ./.tracker"
    assert (store / "resources" / "model_version" / "titanic" / "1" / "resource.yaml").is_file()
    everything = "\n".join(outputs.values())
    # the lifecycle find returns what the first snippet built
    assert "model_version/titanic@1" in everything
    assert not (home / ".tracker").exists() and not (work / "notebooks" / ".tracker").exists()


def test_blocks_parser_reads_markers_languages_and_indented_fences() -> None:
    text = textwrap.dedent(
        """\
        intro
        <!-- readme-test: skip (needs a bucket) -->
        ```python
        x = 1
        ```
        - item

          ```bash
          echo hi
          ```
        ~~~yaml
        a: 1
        ~~~
        """
    )
    found = blocks(text)
    assert [(b.lang, b.code, b.skip) for b in found] == [
        ("python", "x = 1\n", "needs a bucket"),
        ("bash", "echo hi\n", None),
        ("yaml", "a: 1\n", None),
    ]
    with pytest.raises(AssertionError, match="needs a reason"):
        blocks("<!-- readme-test: skip -->\n```python\nx\n```\n")
