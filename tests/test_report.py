"""``tracker report``: static pages that need no server and reach nothing outside the report
directory; the data escapes ``</script>``; artifacts are copied byte for byte; bad input refused.
(Opening it in a browser from file:// is in tests/test_ui_browser.py.)"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys

import pytest
from support.uistore import HOSTILE, SCRIPT, env, make_store

from tracker import InvalidArgument, Tracker
from tracker.ui.report import write_report


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    base = tmp_path_factory.mktemp("report")
    return make_store(str(base / "store"), str(base / "files"))


def _data(out):
    text = (out / "data.js").read_text(encoding="utf-8")
    assert text.startswith("window.TRACKER_REPORT = ") and text.rstrip().endswith(";")
    return text, json.loads(text[len("window.TRACKER_REPORT = ") :].rstrip().rstrip(";"))


def test_report_of_refs_is_self_contained(store, tmp_path):
    out = tmp_path / "r"
    code = subprocess.run(
        [
            sys.executable,
            "-m",
            "tracker",
            "--root",
            store,
            "report",
            "--out",
            str(out),
            HOSTILE,
            "model_version/titanic",
            "--json",
        ],
        capture_output=True,
        text=True,
        env=env(),
        timeout=120,
    )
    assert code.returncode == 0, code.stderr
    done = json.loads(code.stdout)
    assert done["versions"] == 2 and done["index"] == str(out / "index.html")
    assert done["truncated"] is False
    raw, data = _data(out)
    assert "</script>" not in raw and "<\\/script>" in raw  # cannot end the page's script tag
    assert sorted(data["version"]) == [HOSTILE, "model_version/titanic@2"]
    assert data["version"][HOSTILE]["tags"]["note"] == SCRIPT
    assert data["compare"]["columns"] == [HOSTILE, "model_version/titanic@2"]
    assert data["lineage"]["model_version/titanic@2"]["up"]["links"][0]["ref"] == (
        "dataset_version/titanic@2"
    )
    assert data["metrics"]["available"] is hasattr(Tracker, "metric_history")
    # every file the page loads is in the report, referenced relatively
    index = (out / "index.html").read_text(encoding="utf-8")
    for src in re.findall(r'(?:src|href)="([^"#]+)"', index):
        assert "://" not in src and not src.startswith("/")
        assert (out / src).is_file(), src
    for name in ("app.js", "app.css"):
        code_text = (out / "static" / name).read_text(encoding="utf-8")
        code_text = code_text.replace("http://www.w3.org/2000/svg", "")  # a namespace name
        assert "http://" not in code_text and "https://" not in code_text
    # artifacts copied byte for byte, linked from the preview
    page = data["version"][HOSTILE]
    for aid in ("plot", "page", "notes"):
        preview = data["previews"][f"{HOSTILE}\u0000{aid}"]
        path = out / preview["url"]
        assert hashlib.sha256(path.read_bytes()).hexdigest() == page["artifacts"][aid]["sha256"]
    written = {p.relative_to(out).parts[0] for p in out.rglob("*")}
    assert written == {"index.html", "data.js", "static", "artifacts"}


def test_report_where_cap_and_refusals(store, tmp_path, monkeypatch):
    t = Tracker(store, git=False)
    before = sorted(os.listdir(store))
    done = write_report(t, str(tmp_path / "w"), where="tags.status = 'DEPLOYED'")
    _, data = _data(tmp_path / "w")
    assert done["versions"] == 1 and list(data["version"]) == ["model_version/titanic@2"]
    monkeypatch.setattr("tracker.ui.report.MAX_VERSIONS", 3)
    capped = write_report(t, str(tmp_path / "c"))
    assert capped["versions"] == 3 and capped["truncated"] is True
    with pytest.raises(InvalidArgument, match="not both"):
        write_report(t, str(tmp_path / "x"), ["model_version/titanic@1"], "tags.x = 1")
    with pytest.raises(InvalidArgument, match="nothing to report"):
        write_report(t, str(tmp_path / "y"), where="tags.status = 'NOPE'")
    assert not (tmp_path / "y").exists() and sorted(os.listdir(store)) == before
