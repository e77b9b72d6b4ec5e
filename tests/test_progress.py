"""Progress bars for long work: large finds (artifact transfers: test_artifacts_remote.py)."""

from __future__ import annotations

import pytest

from tracker.core import progress


def test_large_finds_show_progress_on_a_terminal(tmp_path, monkeypatch, capsys):
    pytest.importorskip("tqdm")
    from tracker import Tracker

    monkeypatch.setattr(progress, "_interactive", lambda: True)
    monkeypatch.setattr(progress, "MANY", 5)
    t = Tracker(str(tmp_path / "s"), git=False)
    for _ in range(6):
        t.create_resource("m", type="model_version")
    assert len(t.find(type="model_version")) == 6
    assert "find" in capsys.readouterr().err
    assert len(Tracker(str(tmp_path / "s"), progress=False).find()) == 6
    assert "find" not in capsys.readouterr().err
    t.stop()
