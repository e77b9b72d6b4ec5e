"""Run names (``run_name=``, ``$TRACKER_RUN_NAME``, notebooks), float32 values as their shortest
text, and singular captions."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import numpy as np
import pytest
import yaml

from tracker import Tracker
from tracker.view.html import results_html

CONNECTION = "/root/.local/share/jupyter/runtime/kernel-5f1c.json"


def record_run(root: Path, **kwargs: object) -> dict:
    t = Tracker(str(root), git=False, **kwargs)  # type: ignore[arg-type]
    t.create_resource("d", type="dataset_version")
    run_id = t.run_id
    t.stop()
    doc = yaml.safe_load((root / "runs" / str(run_id) / "run.yaml").read_text())
    assert doc == {**doc, "id": run_id}
    return doc


@pytest.fixture
def kernel(monkeypatch: pytest.MonkeyPatch) -> None:
    """What a Jupyter kernel looks like from inside: ipykernel loaded, its launcher in argv."""
    monkeypatch.setitem(sys.modules, "ipykernel", types.ModuleType("ipykernel"))
    launcher = "/usr/lib/python3/site-packages/ipykernel_launcher.py"
    monkeypatch.setattr(sys, "argv", [launcher, "-f", CONNECTION])
    monkeypatch.delenv("TRACKER_RUN_NAME", raising=False)
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)


def test_a_notebook_run_is_named_after_the_notebook(
    kernel: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JPY_SESSION_NAME", "/home/ana/project/analysis.ipynb")
    doc = record_run(tmp_path / "s")
    assert doc["name"] == "analysis.ipynb"
    assert CONNECTION not in doc["argv"] and "-f" not in doc["argv"]
    assert doc["argv"] == ["/usr/lib/python3/site-packages/ipykernel_launcher.py"]


def test_an_unknown_notebook_is_named_notebook(kernel: None, tmp_path: Path) -> None:
    doc = record_run(tmp_path / "s")
    assert doc["name"] == "notebook" and CONNECTION not in str(doc)


def test_vscode_notebook_file_is_used(
    kernel: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shell = types.SimpleNamespace(user_ns={"__vsc_ipynb_file__": "/w/eda/explore.ipynb"})
    fake = types.ModuleType("IPython")
    fake.get_ipython = lambda: shell  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "IPython", fake)
    assert record_run(tmp_path / "s")["name"] == "explore.ipynb"


def test_explicit_names_win(kernel: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACKER_RUN_NAME", "nightly")
    assert record_run(tmp_path / "a")["name"] == "nightly"
    assert record_run(tmp_path / "b", run_name="by-hand")["name"] == "by-hand"


def test_a_script_keeps_its_argv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", ["/src/train.py", "-f", "config.json"])
    monkeypatch.delenv("TRACKER_RUN_NAME", raising=False)
    doc = record_run(tmp_path / "s")
    assert doc["name"] == "train.py" and doc["argv"] == ["/src/train.py", "-f", "config.json"]


def test_float32_is_stored_as_its_shortest_text(tmp_path: Path) -> None:
    t = Tracker(str(tmp_path / "s"), git=False)
    mv = t.create_resource("m", type="model_version")
    t.log_metadata(mv, "f1", np.float32(0.91))
    t.log_metadata(mv, "curve", np.array([0.1, 0.91], dtype=np.float32))
    t.log_metadata(mv, "exact", np.float64(0.1) + np.float64(0.2))
    t.stop()
    assert t.get_metadata(mv, "f1") == 0.91
    assert t.get_metadata(mv, "curve") == [0.1, 0.91]
    assert t.get_metadata(mv, "exact") == 0.1 + 0.2  # float64 keeps every digit
    text = (tmp_path / "s/resources/model_version/m/1/metadata/f1.yaml").read_text()
    assert "value: 0.91\n" in text
    found = t.find(where="metadata.f1 = 0.91")
    assert [r.ref for r in found] == ["model_version/m@1"]
    assert "<caption>1 resource</caption>" in results_html(found)
    assert "<caption>1 run</caption>" in results_html(t.runs())
