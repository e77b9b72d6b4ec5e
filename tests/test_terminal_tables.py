"""Tables fit the terminal: identifying columns kept, long cells cut with an ellipsis, a note
saying which columns were left out; piped output is never cut."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tracker import Tracker
from tracker.view import text

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LONG = "x" * 80


def test_unlimited_width_cuts_nothing():
    out = text.table(["REF", "A"], [["r@1", LONG]], width=None)
    assert LONG in out and "…" not in out


def test_cells_are_cut_before_columns_are_dropped():
    out = text.table(["REF", "A", "B"], [["model_version/titanic@1", LONG, "short"]], width=60)
    lines = out.splitlines()
    assert all(len(line) <= 60 for line in lines)
    assert "model_version/titanic@1" in lines[1]  # identifying column intact
    assert "x…" in lines[1] and "short" in lines[1]
    assert "left out" not in out


def test_columns_left_out_are_named_with_a_hint():
    cols = ["REF", *(f"C{i}" for i in range(10))]
    out = text.table(cols, [["model_version/titanic@1", *([LONG] * 10)]], width=50, hint="see X")
    lines = out.splitlines()
    assert all(len(line) <= 50 for line in lines[:-1])
    assert lines[-1].startswith("(") and "columns left out: C" in lines[-1] and "see X" in lines[-1]
    assert "C9" in lines[-1] and lines[0].startswith("REF")
    kept = text.table(["A", "B", "C"], [["1" * 30, "2" * 30, LONG]], width=70, keep=2)
    assert "1" * 30 in kept and "left out: C" in kept


def test_section_values_fit():
    out = text.section("tags", {"k": LONG}, width=30)
    assert all(len(line) <= 30 for line in out.splitlines())
    assert LONG in text.section("tags", {"k": LONG}, width=None)


@pytest.fixture
def store(tmp_path):
    root = str(tmp_path / "store")
    with Tracker(root, git=False) as t:
        for i in range(2):
            r = t.create_resource("series-with-a-long-name", type="dataset_version")
            t.log_tags(r, {f"tag{j}": f"value-{i}-{j}-" + "y" * 60 for j in range(6)})
    return root


def _cli(width, *args):
    env = {**os.environ, "PYTHONPATH": REPO}
    env.pop("TRACKER_WIDTH", None)
    if width is not None:
        env["TRACKER_WIDTH"] = str(width)
    out = subprocess.run(
        [sys.executable, "-m", "tracker", *args], capture_output=True, text=True, env=env
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


@pytest.mark.parametrize(
    "command",
    [
        ["find", "--type", "dataset_version"],
        ["ls"],
        ["runs"],
        ["show", "dataset_version/series-with-a-long-name@1"],
        [
            "diff",
            "dataset_version/series-with-a-long-name@1",
            "dataset_version/series-with-a-long-name@2",
        ],
        [
            "compare",
            "dataset_version/series-with-a-long-name@1",
            "dataset_version/series-with-a-long-name@2",
        ],
    ],
)
def test_every_command_fits_a_narrow_terminal_and_pipes_whole(store, command):
    narrow = _cli(64, "--root", store, *command)
    body = [line for line in narrow.splitlines() if not line.startswith("(")]
    assert all(len(line) <= 64 for line in body), narrow
    piped = _cli(None, "--root", store, *command)
    assert "…" not in piped
    if command[0] in ("find", "show", "diff", "compare"):
        assert "y" * 60 in piped and "y" * 60 not in narrow
    if command[0] == "find":
        assert "column" in narrow and "left out" in narrow and "--columns" in narrow
