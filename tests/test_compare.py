"""N-way compare: flattening, compact lists, differences only, the best-value marker, and the
CLI's JSON and CSV keys; asserted against what lies in a real store."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys

import pytest

from tracker import InvalidArgument, Tracker
from tracker.core.compare import build, compact, flatten

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_flatten_nests_with_dots_and_keeps_lists_and_empty_mappings():
    flat = flatten({"params": {"C": 1.0, "opt": {"lr": 0.1}}, "cols": [1, 2], "empty": {}})
    assert flat == {"params.C": 1.0, "params.opt.lr": 0.1, "cols": [1, 2], "empty": {}}


def test_compact_lists_are_short_and_truncated():
    assert compact([1, 2.5, "a", True, None]) == "[1, 2.5, a, true, null]"
    assert compact(list(range(12))) == "[0, 1, 2, 3, 4, 5, 6, 7, … +4]"
    assert compact({"a": 1}) == '{"a": 1}'
    assert compact(None) == ""


def test_differences_only_and_equality_rules():
    table = build(
        [
            ("a", {"x": 1, "same": "s", "flag": True, "only_a": 3}),
            ("b", {"x": 1.0, "same": "s", "flag": 1}),
        ]
    )
    by_key = {r.key: r for r in table.rows}
    assert not by_key["x"].differs  # 1 == 1.0
    assert by_key["flag"].differs  # True is not 1
    assert by_key["only_a"].differs and by_key["only_a"].present == [True, False]
    assert not by_key["same"].differs
    diff = build([("a", {"x": 1, "y": 2}), ("b", {"x": 1, "y": 3})], differences_only=True)
    assert [r.key for r in diff.rows] == ["y"]


def test_best_marker_follows_the_direction_and_marks_ties():
    records = [
        ("a", {"metadata.f1": 0.8, "metadata.loss": 0.3, "tags.s": "x"}),
        ("b", {"metadata.f1": 0.9, "metadata.loss": 0.2, "tags.s": "y"}),
        ("c", {"metadata.f1": 0.9, "metadata.loss": 0.5}),
    ]
    table = build(records, best={"metadata.f1": "max", "metadata.loss": "min"})
    rows = {r.key: r for r in table.rows}
    assert rows["metadata.f1"].best == [1, 2]
    assert rows["metadata.loss"].best == [1]
    assert rows["tags.s"].best == []  # not numeric
    everything = build(records, best="min")
    assert {r.key: r.best for r in everything.rows}["metadata.f1"] == [0]
    prefixed = build(records, best=["metadata=max"])  # a dotted prefix
    assert {r.key: r.best for r in prefixed.rows}["metadata.f1"] == [1, 2]
    assert [r.key for r in prefixed.rows] == ["tags.s", "metadata.f1", "metadata.loss"]
    assert build(records).rows[0].best == []  # no direction, no marker
    with pytest.raises(InvalidArgument, match="'max' or 'min'"):
        build(records, best="biggest")


@pytest.fixture
def store(tmp_path):
    root = str(tmp_path / "store")
    with Tracker(root, git=False) as t:
        for f1, c in ((0.8, 1.0), (0.85, 0.1)):
            ex = t.create_resource("exp", type="experiment", algorithm="lr")
            t.log_metadata(ex, "metrics", {"f1": f1, "curve": [0.1, 0.2]})
            t.log_metadata(ex, "params", {"C": c})
            t.log_tag(ex, "owner", "<script>alert(1)</script> &amp;")
    return root


def test_tracker_compare_over_a_real_store(store):
    t = Tracker(store, git=False)
    result = t.compare(t.find(type="experiment"), best={"metadata.metrics.f1": "max"})
    assert result.columns == ["experiment/exp@1", "experiment/exp@2"]
    rows = {r.key: r for r in result.rows}
    assert rows["metadata.params.C"].values == [1.0, 0.1]
    assert rows["metadata.metrics.curve"].values == [[0.1, 0.2], [0.1, 0.2]]
    assert not rows["metadata.metrics.curve"].differs
    assert rows["metadata.metrics.f1"].best == [1]
    assert rows["attrs.algorithm"].values == ["lr", "lr"]
    frame = result.to_pandas()
    assert frame.loc["metadata.params.C", "experiment/exp@2"] == 0.1
    html = result._repr_html_()
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp;amp;" in html and "<script>" not in html
    assert "★" in html
    with pytest.raises(InvalidArgument, match="nothing to compare"):
        t.compare([])
    # the store holds what was compared, untouched
    assert t.get_metadata("experiment/exp@2", "params") == {"C": 0.1}


def test_runs_compare_by_id(store):
    t = Tracker(store, git=False)
    run_id = t.runs()[0]["id"]
    result = t.compare([run_id, t.runs()[0]])
    assert result.columns == [run_id]
    assert {r.key for r in result.rows} >= {"name", "status", "start_time"}


def _cli(*args):
    env = {**os.environ, "PYTHONPATH": REPO}
    env.pop("TRACKER_WIDTH", None)
    out = subprocess.run(
        [sys.executable, "-m", "tracker", *args], capture_output=True, text=True, env=env
    )
    return out.returncode, out.stdout, out.stderr


def test_cli_json_and_csv_keys(store):
    refs = ["experiment/exp@1", "experiment/exp@2"]
    code, out, err = _cli("--root", store, "compare", *refs, "--json", "--best", "max")
    assert code == 0, err
    data = json.loads(out)
    assert set(data) == {"columns", "differences_only", "rows"}
    assert data["columns"] == refs and data["differences_only"] is True
    row = next(r for r in data["rows"] if r["key"] == "metadata.metrics.f1")
    assert set(row) == {"key", "values", "differs", "best"}
    assert row["values"] == {refs[0]: 0.8, refs[1]: 0.85} and row["best"] == [refs[1]]
    assert all(r["differs"] for r in data["rows"])  # differences only by default
    code, out, err = _cli("--root", store, "compare", *refs, "--format", "csv", "--all")
    assert code == 0, err
    table = list(csv.DictReader(io.StringIO(out)))
    assert list(table[0]) == ["key", *refs, "differs", "best"]
    owner = next(r for r in table if r["key"] == "tags.owner")
    assert owner[refs[0]] == "<script>alert(1)</script> &amp;" and owner["differs"] == "false"


def test_cli_where_text_and_errors(store):
    code, out, err = _cli(
        "--root", store, "compare", "--where", "attrs.algorithm = 'lr'", "--columns", "metadata"
    )
    assert code == 0, err
    assert "metadata.params.C" in out and "tags.owner" not in out
    assert "differences only" in out
    code, _, err = _cli("--root", store, "compare")
    assert code == 1 and "give the versions to compare" in err
    code, _, err = _cli("--root", store, "compare", "experiment/exp@1", "--best", "up")
    assert code == 1 and "'max' or 'min'" in err


def test_lineage_displays_as_a_tree_in_a_notebook(tmp_path):
    with Tracker(str(tmp_path / "s"), git=False) as t:
        data = t.create_resource("d<&>", type="dataset_version")
        model = t.create_resource("m", type="model_version")
        t.build_model_lineage(model, [data])
        tree = t.lineage(model, "up")
    assert tree == {
        "ref": "model_version/m@1",
        "relation": "self",
        "links": [{"ref": "dataset_version/d<&>@1", "relation": "trained_on", "links": []}],
    }
    html = tree._repr_html_()
    assert "<ul><li>" in html and "trained on:" in html
    assert "<code>dataset_version/d&lt;&amp;&gt;@1</code>" in html
    assert json.loads(json.dumps(tree)) == tree  # still plain data
