"""Notebook display: ``Resource._repr_html_`` and ``Results._repr_html_`` escape every value exactly
once, show only what the object carries and never read the store."""

from __future__ import annotations

import pickle
import shutil
from pathlib import Path

import pytest

from tracker import Resource, Results, Tracker
from tracker.view.html import MAX_ROWS, resource_html, results_html

NASTY = "<script>alert('x & y')</script>"


@pytest.fixture
def tracker(tmp_path: Path) -> Tracker:
    t = Tracker(str(tmp_path / "store"), git=False)
    mv = t.create_resource("m<1>", type="model_version", note='say "hi"')
    t.log_tag(mv, "status", NASTY)
    t.log_tag(mv, "stage", "prod")
    t.log_metadata(mv, "f1", 0.9)
    t.log_metadata(mv, "params", {"a&b": [1, 2]})
    t.stop()
    return t


def assert_escaped_once(markup: str) -> None:
    assert "&lt;script&gt;" in markup
    assert "<script>" not in markup
    assert "&amp;lt;" not in markup and "&amp;amp;" not in markup and "&amp;#x27;" not in markup


def test_resource_from_find_carries_and_shows_its_tags_and_metadata(tracker: Tracker) -> None:
    (res,) = tracker.find(type="model_version")
    assert res.info is not None and res.info["tags"]["stage"] == "prod"
    markup = res._repr_html_()
    assert markup.startswith('<table class="tracker-resource"') and markup.endswith("</table>")
    assert_escaped_once(markup)
    assert "model_version/m&lt;1&gt;@1" in markup
    assert "alert(&#x27;x &amp; y&#x27;)" in markup
    assert '<th colspan="2" style="text-align:left">tags</th>' in markup
    assert "<td>stage</td><td>prod</td>" in markup
    assert "<td>f1</td><td>0.9</td>" in markup
    assert "{&quot;a&amp;b&quot;: [1, 2]}" in markup
    assert "<td>note</td><td>say &quot;hi&quot;</td>" in markup  # attrs
    assert "t.describe" not in markup


def test_resource_without_info_shows_identity_and_a_hint() -> None:
    res = Resource("dataset_version", "<x>", 2, run_id="r1", parent="a/b@1")
    markup = resource_html(res)
    assert "dataset_version/&lt;x&gt;@2" in markup and "a/b@1" in markup
    assert ">tags<" not in markup and ">metadata<" not in markup
    assert "t.describe(&#x27;dataset_version/&lt;x&gt;@2&#x27;)" in markup


def test_created_resource_shows_identity_and_hint(tracker: Tracker) -> None:
    res = tracker.get_resource("m<1>", type="model_version")
    assert isinstance(res, Resource) and res.info is None
    markup = res._repr_html_()
    assert "model_version/m&lt;1&gt;@1" in markup and "t.describe(" in markup
    assert ">tags<" not in markup


def test_display_reads_nothing(tracker: Tracker, tmp_path: Path) -> None:
    """Display is data-only: with the store folder gone it shows the same markup."""
    (found,) = tracker.find(type="model_version")
    plain = tracker.get_resource("m<1>", type="model_version")
    series = tracker.get_resource("m<1>", type="model")
    before = [found._repr_html_(), plain._repr_html_(), series._repr_html_()]
    shutil.rmtree(tmp_path / "store")
    assert [found._repr_html_(), plain._repr_html_(), series._repr_html_()] == before
    assert not (tmp_path / "store").exists()
    assert "<td>stage</td><td>prod</td>" in before[0]
    assert "model/m&lt;1&gt;" in before[2] and "t.describe(" in before[2]


def test_info_is_read_only_and_ignored_by_equality_and_pickle(tracker: Tracker) -> None:
    (found,) = tracker.find(type="model_version")
    bare = Resource("model_version", "m<1>", 1)
    assert found == bare and hash(found) == hash(bare)
    assert found.info is not None
    with pytest.raises(TypeError):
        found.info["tags"] = {}  # type: ignore[index]
    again = pickle.loads(pickle.dumps(found))
    assert again == found and again.info is None and again.run_id == found.run_id


def test_results_html_from_find_and_runs(tracker: Tracker) -> None:
    results = tracker.find(where="metadata.f1 > 0.5")
    markup = results._repr_html_()
    assert markup.startswith('<table class="tracker-results"')
    assert "<caption>1 resource</caption>" in markup
    assert "<th>tags.status</th>" in markup and "<th>metadata.f1</th>" in markup
    assert_escaped_once(markup)
    runs_markup = tracker.runs()._repr_html_()
    assert "<caption>1 run</caption>" in runs_markup and "<td>FINISHED</td>" in runs_markup
    frame = results.to_pandas()
    assert list(frame["tags.status"]) == [NASTY]


def test_results_html_is_capped_and_handles_ragged_rows() -> None:
    rows = [{"ref": f"t/x@{i}", **({"tags.k": "<v>"} if i % 2 else {})} for i in range(1, 601)]
    markup = results_html(Results([], rows, "resources"))
    assert markup.count("<tr>") == MAX_ROWS + 1  # the header row and MAX_ROWS rows
    assert f"600 resources (first {MAX_ROWS} shown" in markup
    assert "<td>-</td>" in markup and "<td>&lt;v&gt;</td>" in markup
    empty = results_html(Results([], [], "runs"))
    assert "<caption>0 runs</caption>" in empty
