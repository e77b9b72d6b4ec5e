"""``tracker ui``'s JSON API and HTTP server, without a browser: paging and sorting on the server,
filter errors with their column, artifacts verified by sha256, read-only (the store's files are
unchanged but for the query-index cache), loopback binding, and the same API on S3 (moto)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request

import pytest
from support.uistore import HOSTILE, SCRIPT, env, make_store

from tracker import Tracker
from tracker.ui import api
from tracker.ui.server import UIServer, is_loopback


@pytest.fixture
def big(tmp_path):
    """One series of 120 versions with a numeric metadata value and a tag on every third."""
    root = str(tmp_path / "big")
    with Tracker(root, git=False) as t:
        for i in range(1, 121):
            r = t.create_resource("s", type="experiment")
            t.log_metadata(r, "score", (i * 37) % 101)
            if i % 3 == 0:
                t.log_tag(r, "kind", "third")
    return root


def test_versions_are_paged_and_sorted_on_the_server(big):
    t = Tracker(big, git=False)
    cache = api.QueryCache()
    first = api.versions(t, {"type": "experiment", "id": "s"}, cache)
    assert first["total"] == 120 and first["pages"] == 3 and first["size"] == 50
    assert [r["version"] for r in first["rows"]][:3] == [120, 119, 118]
    page3 = api.versions(t, {"type": "experiment", "id": "s", "page": "3"}, cache)
    assert [r["version"] for r in page3["rows"]] == list(range(20, 0, -1))
    oldest = api.versions(
        t, {"type": "experiment", "id": "s", "sort": "version", "size": "5"}, cache
    )
    assert [r["version"] for r in oldest["rows"]] == [1, 2, 3, 4, 5]
    by_score = api.versions(
        t, {"type": "experiment", "id": "s", "sort": "-metadata.score", "size": "3"}, cache
    )
    scores = sorted(((i * 37) % 101 for i in range(1, 121)), reverse=True)
    assert [r["metadata.score"] for r in by_score["rows"]] == scores[:3]
    narrowed = api.versions(
        t, {"type": "experiment", "id": "s", "where": "tags.kind = 'third'"}, cache
    )
    assert narrowed["total"] == 40 and narrowed["error"] is None
    assert all(r["version"] % 3 == 0 for r in narrowed["rows"])
    bad = api.versions(t, {"type": "experiment", "id": "s", "where": "metadata.score >="}, cache)
    assert bad["rows"] == [] and bad["error"]["column"] == 18
    assert "column 18" in bad["error"]["message"]


def _snapshot(root):
    out = {}
    for base, _dirs, files in os.walk(root):
        for name in files:
            path = os.path.join(base, name)
            with open(path, "rb") as fh:
                out[os.path.relpath(path, root)] = (os.stat(path).st_mtime_ns, fh.read())
    return out


@pytest.fixture
def served(tmp_path):
    root = make_store(str(tmp_path / "store"), str(tmp_path / "files"))
    server = UIServer(Tracker(root, git=False, write_caches=False), "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, server.url
    server.shutdown()
    server.server_close()


def _get(url):
    try:
        with urllib.request.urlopen(url, timeout=30) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def test_http_api_is_read_only_and_escapes_nothing_itself(served):
    root, url = served
    assert url.startswith("http://127.0.0.1:")
    before = _snapshot(root)
    q = urllib.parse.quote
    status, headers, body = _get(url + "api/version?ref=" + q(HOSTILE))
    assert status == 200 and "default-src 'none'" in headers["Content-Security-Policy"]
    page = json.loads(body)
    assert page["tags"]["note"] == SCRIPT  # JSON carries the raw value; the page escapes it
    assert page["metadata"]["params"] == {"html": "<b>bold</b>", "n": 3}
    assert page["flat"]["metadata"]["params.html"] == "<b>bold</b>"
    status, _, body = _get(url + f"api/preview?ref={q(HOSTILE)}&id=plot")
    preview = json.loads(body)
    assert preview["kind"] == "image"
    status, headers, data = _get(url + preview["url"])
    assert status == 200 and headers["Content-Type"] == "image/png"
    assert hashlib.sha256(data).hexdigest() == page["artifacts"]["plot"]["sha256"]
    status, _, body = _get(url + f"api/preview?ref={q(HOSTILE)}&id=page")
    html_preview = json.loads(body)
    status, headers, _ = _get(url + html_preview["url"])
    assert headers["Content-Security-Policy"].startswith("sandbox")
    status, _, body = _get(url + f"api/preview?ref={q(HOSTILE)}&id=notes")
    assert json.loads(body)["text"].startswith("first line of the notes")
    status, _, body = _get(url + "api/preview?ref=" + q("dataset_version/titanic@1") + "&id=data")
    assert json.loads(body)["rows"][0][0] == "passenger_id"
    for path in ("api/series", "api/runs", "api/lineage?ref=model_version/titanic@2"):
        assert _get(url + path)[0] == 200
    status, _, body = _get(
        url + "api/versions?type=model_version&id=titanic&where=" + q("tags.status = 'DEPLOYED'")
    )
    assert [r["ref"] for r in json.loads(body)["rows"]] == ["model_version/titanic@2"]
    status, _, body = _get(
        url + "api/compare?refs=model_version/titanic@1,model_version/titanic@2&diff=1&best=max"
    )
    compared = json.loads(body)
    f1 = next(r for r in compared["rows"] if r["key"] == "metadata.f1")
    assert f1["differs"] and len(f1["best"]) == 1
    # refusals: unknown ref, a file outside the artifact, a path outside static, writes
    assert _get(url + "api/version?ref=" + q("dataset_version/nope@1"))[0] == 404
    bad = _get(url + f"artifact?ref={q(HOSTILE)}&id=plot&file=../../tracker.yaml")
    assert bad[0] == 400 and b"has no file" in bad[2]
    assert _get(url + "static/../api.py")[0] == 404
    assert _get(url + "static/%2e%2e/api.py")[0] == 404
    request = urllib.request.Request(url + "api/series", data=b"{}", method="POST")
    try:
        urllib.request.urlopen(request, timeout=10)
        raise AssertionError("POST was accepted")
    except urllib.error.HTTPError as exc:
        assert exc.code == 405
    after = _snapshot(root)
    changed = {k for k in set(before) | set(after) if before.get(k) != after.get(k)}
    assert not changed, changed  # not even the query index (the app reads only)


def test_metrics_api_without_and_with_series(served):
    _root, url = served
    _status, _, body = _get(url + "api/metrics?refs=model_version/titanic@2")
    data = json.loads(body)
    if not hasattr(Tracker, "metric_history"):
        assert data == {"available": False, "message": api.NO_METRICS, "series": []}
        pytest.skip("this store version has no metric series (Tracker.metric_history)")
    assert data["available"] is True


def test_reduce_points_keeps_the_shape():
    points = [(float(i), float((i * 7919) % 1000)) for i in range(100_000)]
    reduced = api.reduce_points(points, 2000)
    assert len(reduced) <= 2001
    assert max(p[1] for p in reduced) == 999.0 and min(p[1] for p in reduced) == 0.0
    assert reduced[0] == points[0] and reduced[-1] == points[-1]
    assert [p[0] for p in reduced] == sorted(p[0] for p in reduced)


def test_ui_command_binds_loopback_and_prints_its_url(tmp_path):
    root = str(tmp_path / "store")
    Tracker(root, git=False).create_resource("x", type="dataset_version")
    proc = subprocess.Popen(
        [sys.executable, "-m", "tracker", "--root", root, "ui"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env(),
    )
    try:
        line = proc.stdout.readline()
        assert line.startswith("tracker ui: http://127.0.0.1:") and "read-only" in line
        url = line.split()[2]
        status, _, body = _get(url + "api/series")
        assert status == 200 and json.loads(body)["rows"][0]["id"] == "x"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.2")


def test_ui_refuses_a_store_that_does_not_exist(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "tracker", "--root", str(tmp_path / "nope"), "ui"],
        capture_output=True,
        text=True,
        env=env(),
        timeout=60,
    )
    assert out.returncode == 1 and "tracker: error:" in out.stderr
    assert not os.path.exists(tmp_path / "nope")


def test_json_api_on_s3(s3_backend, tmp_path):
    root = make_store(s3_backend.root, str(tmp_path / "files"), s3_backend.storage_options)
    t = Tracker(root, storage_options=s3_backend.storage_options, git=False)
    cache = api.QueryCache()
    series = api.series(t, {})["rows"]
    assert [(r["type"], r["id"]) for r in series] == [("dataset_version", "hostile")]
    page = api.version(t, {"ref": HOSTILE})
    assert page["tags"] == {"note": SCRIPT, "amp": "&amp;"}
    rows = api.versions(
        t, {"type": "dataset_version", "id": "hostile", "where": "tags.amp exists"}, cache
    )
    assert rows["total"] == 1 and rows["rows"][0]["tags.amp"] == "&amp;"
    preview = api.preview(t, {"ref": HOSTILE, "id": "notes"}, lambda rel: "u")
    assert preview["kind"] == "text" and preview["text"].startswith("first line")
    path = api.artifact_file(t, HOSTILE, "plot", "")
    with open(path, "rb") as fh:
        assert hashlib.sha256(fh.read()).hexdigest() == page["artifacts"]["plot"]["sha256"]
    assert api.lineage(t, {"ref": HOSTILE})["up"]["links"] == []
    assert "s3://" in api.info(t)["root"] and s3_backend.files()  # the store is really on S3


def test_infinite_values_and_downloads(tmp_path):
    root = str(tmp_path / "s")
    with Tracker(root, git=False) as t:
        r = t.create_resource("x", type="experiment")
        t.log_metadata(r, "loss", float("inf"))
        big = tmp_path / "big.bin"
        big.write_bytes(os.urandom(3 * 1024 * 1024))
        t.log_artifact(r, "blob", str(big))
    server = UIServer(Tracker(root, git=False), "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        status, _, body = _get(server.url + "api/version?ref=experiment/x@1")
        assert status == 200 and json.loads(body)["metadata"]["loss"] == "inf"
        status, headers, data = _get(
            server.url + "artifact?ref=experiment/x@1&id=blob&file=&download=1"
        )
        assert status == 200 and data == big.read_bytes()
        assert headers["Content-Disposition"] == "attachment; filename*=UTF-8''big.bin"
        assert headers["Content-Length"] == str(3 * 1024 * 1024)
    finally:
        server.shutdown()
        server.server_close()
