"""Notebook display: ``Resource._repr_html_`` and ``Results._repr_html_`` escape every value exactly
once and never raise."""

from __future__ import annotations

from pathlib import Path

import pytest

from tracker import Resource, Results, StoreError, Tracker
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


def test_resource_html_shows_identity_tags_and_metadata(tracker: Tracker) -> None:
    (res,) = tracker.find(type="model_version")
    markup = res._repr_html_()
    assert markup.startswith('<table class="tracker-resource"') and markup.endswith("</table>")
    assert_escaped_once(markup)
    assert "model_version/m&lt;1&gt;@1" in markup
    assert "alert(&#x27;x &amp; y&#x27;)" in markup
    assert '<th colspan="2" style="text-align:left">tags</th>' in markup
    assert "<td>stage</td><td>prod</td>" in markup
    assert "<td>f1</td><td>0.9</td>" in markup
    assert "{&quot;a&amp;b&quot;: [1, 2]}" in markup


def test_resource_without_tracker_shows_identity_only() -> None:
    res = Resource("dataset_version", "<x>", 2, run_id="r1", parent="a/b@1")
    markup = resource_html(res)
    assert "dataset_version/&lt;x&gt;@2" in markup and "a/b@1" in markup
    assert ">tags<" not in markup and ">metadata<" not in markup


def test_resource_html_never_raises(tracker: Tracker, monkeypatch: pytest.MonkeyPatch) -> None:
    (res,) = tracker.find(type="model_version")

    def unreadable(*args: object) -> None:
        raise StoreError("the bucket <b> is gone")

    monkeypatch.setattr(tracker, "describe", unreadable)
    markup = res._repr_html_()
    assert "model_version/m&lt;1&gt;@1" in markup
    assert "<td>StoreError</td><td>the bucket &lt;b&gt; is gone</td>" in markup


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
