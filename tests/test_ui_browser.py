"""``tracker ui`` and ``tracker report`` in a real browser (Playwright driving headless Chromium).

The server runs as a user would start it (``tracker ui`` in a subprocess on a demo store plus a
version with hostile values); every page is opened and its visible content asserted; every request
the browser makes is intercepted, and any that does not go to 127.0.0.1 (or, for the report, to
``file://``) is blocked and fails the test. The version page's screenshot is kept as
``docs/ui.png`` when ``TRACKER_SCREENSHOT=1``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import urllib.parse
from collections.abc import Iterator
from typing import Any

import pytest
from support.uistore import AMP, HOSTILE, REPO, SCRIPT, env, make_store

CHROMIUM = os.environ.get("TRACKER_CHROMIUM") or (
    "/usr/bin/chromium" if os.path.isfile("/usr/bin/chromium") else shutil.which("chromium") or ""
)
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="the browser tests need playwright: pip install playwright"
)
if not CHROMIUM or not (os.path.isfile(CHROMIUM) or shutil.which(CHROMIUM)):
    pytest.skip(
        f"no Chromium at {CHROMIUM} (apt-get install -y chromium, or set TRACKER_CHROMIUM)",
        allow_module_level=True,
    )


class Requests:
    """Every URL the page asked for; anything not local is aborted and remembered."""

    def __init__(self, allowed: tuple[str, ...]) -> None:
        self.allowed = allowed
        self.seen: list[str] = []
        self.blocked: list[str] = []

    def handle(self, route: Any) -> None:
        url = route.request.url
        self.seen.append(url)
        parts = urllib.parse.urlsplit(url)
        local = parts.scheme in ("data", "blob", "about") or (
            parts.scheme == "file" if "file" in self.allowed else False
        )
        if parts.scheme in ("http", "https") and parts.hostname in self.allowed:
            local = True
        if local:
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort()


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> str:
    base = tmp_path_factory.mktemp("ui")
    return make_store(str(base / "store"), str(base / "files"))


@pytest.fixture(scope="module")
def server(store: str) -> Iterator[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tracker", "--root", store, "ui", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env(),
    )
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        assert line.startswith("tracker ui: http://127.0.0.1:"), line + proc.stderr.read()
        yield line.split()[2]
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: Any) -> Iterator[tuple[Any, Requests, list[str]]]:
    context = browser.new_context(viewport={"width": 1100, "height": 760})
    pg = context.new_page()
    requests = Requests(("127.0.0.1", "file"))
    pg.route("**/*", requests.handle)
    dialogs: list[str] = []
    pg.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    yield pg, requests, dialogs
    context.close()
    assert not requests.blocked, f"requests left 127.0.0.1: {requests.blocked}"
    assert not dialogs, f"a script from the store ran: {dialogs}"


def _open(pg: Any, url: str, ready: str) -> None:
    pg.goto(url)
    pg.wait_for_selector(f"main[data-ready='{ready}']", timeout=20_000)


def _hash(base: str, page: str, **params: str) -> str:
    return f"{base}#/{page}?{urllib.parse.urlencode(params)}" if params else f"{base}#/{page}"


def test_resources_runs_and_version_table_with_filter(server: str, page: Any) -> None:
    pg, requests, _ = page
    _open(pg, _hash(server, "series"), "series")
    assert "model_version/titanic@2" in pg.inner_text("main")
    assert "hostile" in pg.inner_text("main")
    _open(pg, _hash(server, "runs"), "runs")
    assert "demo: train v2" in pg.inner_text("#runs")
    boxes = pg.locator("#runs tbody input[type=checkbox]")
    boxes.nth(0).check()
    boxes.nth(1).check()
    pg.click("text=Compare selected")
    pg.wait_for_selector("main[data-ready='compare']")
    assert pg.locator("#compare thead th").count() == 3  # key + two runs
    assert "name" in pg.inner_text("#compare tbody")  # run names differ
    _open(pg, _hash(server, "versions", type="model_version", id="titanic"), "versions")
    assert pg.locator("#versions tbody tr").count() == 2
    assert "DEPLOYED" in pg.inner_text("#versions") and "RETIRED" in pg.inner_text("#versions")
    pg.fill("input[name=where]", "tags.status = 'DEPLOYED'")
    pg.click("text=Filter")
    pg.wait_for_function("location.hash.includes('where=')")
    pg.wait_for_selector("main[data-ready='versions']")
    assert pg.locator("#versions tbody tr").count() == 1
    assert "model_version/titanic@2" in pg.inner_text("#versions tbody")
    assert "where=tags.status" in urllib.parse.unquote_plus(pg.url)  # state in the URL
    pg.fill("input[name=where]", "metadata.f1 >=")
    pg.click("text=Filter")
    pg.wait_for_selector("[role=alert]")
    error = pg.inner_text("[role=alert]")
    assert "column 15" in error and "^" in error
    assert any(u.startswith(server + "api/versions") for u in requests.seen)


def test_version_page_previews_and_literal_html(server: str, page: Any) -> None:
    pg, requests, _ = page
    _open(pg, _hash(server, "version", ref=HOSTILE), "version")
    tags = pg.inner_text("#tags")
    assert SCRIPT in tags and AMP in tags  # shown literally, escaped once
    assert "<b>bold</b>" in pg.inner_text("#metadata")
    assert pg.locator("#tags script").count() == 0
    pg.wait_for_function(
        "document.querySelector('[data-artifact=plot] img') && "
        "document.querySelector('[data-artifact=plot] img').naturalWidth > 0"
    )
    assert pg.eval_on_selector("[data-artifact=plot] img", "i => i.naturalWidth") == 24
    frame = pg.locator("[data-artifact=page] iframe")
    assert frame.get_attribute("sandbox") == ""
    assert "hello from an html artifact" in pg.frame_locator("[data-artifact=page] iframe").locator(
        "body"
    ).inner_text(timeout=10_000)
    assert "first line of the notes" in pg.inner_text("[data-artifact=notes] pre")
    sha = pg.inner_text("#artifacts")
    assert len([w for w in sha.split() if len(w) == 64]) == 3  # sha256 of each artifact
    assert pg.locator("[data-artifact=plot] a[download]").count() == 1
    assert any(u.startswith(server + "artifact?") for u in requests.seen)  # served, not fetched
    if os.environ.get("TRACKER_SCREENSHOT") == "1":
        os.makedirs(os.path.join(REPO, "docs"), exist_ok=True)
        pg.set_viewport_size({"width": 1100, "height": 900})
        pg.screenshot(path=os.path.join(REPO, "docs", "ui.png"))
    _open(pg, _hash(server, "version", ref="dataset_version/titanic@1"), "version")
    pg.wait_for_selector("[data-artifact=data] table")
    assert "passenger_id" in pg.inner_text("[data-artifact=data] table")


def test_lineage_compare_and_metrics(server: str, page: Any) -> None:
    pg, _, _ = page
    _open(pg, _hash(server, "lineage", ref="model_version/titanic@2"), "lineage")
    svg = pg.text_content("svg.lineage") or ""
    for ref in (
        "model_version/titanic@2",
        "dataset_version/titanic@2",
        "experiment/titanic-logreg@2",
    ):
        assert ref in svg
    assert pg.locator("svg.lineage path").count() >= 4  # edges up and down
    refs = "model_version/titanic@1,model_version/titanic@2"
    _open(pg, _hash(server, "compare", refs=refs, best="max"), "compare")
    table = pg.inner_text("#compare")
    assert "metadata.f1" in table and "★" in table and "tags.status" in table
    all_rows = pg.locator("#compare tbody tr").count()
    pg.check("#diff-only")
    pg.wait_for_function("location.hash.includes('diff=1')")
    pg.wait_for_selector("main[data-ready='compare']")
    assert 0 < pg.locator("#compare tbody tr").count() < all_rows
    assert "diff=1" in pg.url
    experiments = "experiment/titanic-logreg@2,experiment/titanic-stumps@2"
    _open(pg, _hash(server, "metrics", refs=experiments), "metrics")
    from tracker import Tracker

    if hasattr(Tracker, "metric_history"):  # the demo logs training curves on its experiments
        pg.wait_for_selector(".chart canvas", timeout=10_000)
        assert pg.locator(".chart").count() >= 1
        legend = pg.inner_text(".chart")
        assert "experiment/titanic-logreg@2" in legend and "experiment/titanic-stumps@2" in legend
        pg.check("text=log y")
        pg.wait_for_function("location.hash.includes('logy=1')")
        pg.wait_for_selector(".chart canvas", timeout=10_000)
    else:
        assert pg.inner_text("#no-metrics") == "no metric series in this store version"


def test_report_opens_from_file_without_a_server(store: str, browser: Any, tmp_path: Any) -> None:
    out = tmp_path / "report"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "tracker",
            "--root",
            store,
            "report",
            "--out",
            str(out),
            "model_version/titanic@1",
            "model_version/titanic@2",
            "dataset_version/titanic@2",
            HOSTILE,
        ],
        capture_output=True,
        text=True,
        env=env(),
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert (out / "index.html").is_file() and (out / "data.js").is_file()
    assert (out / "static" / "vendor" / "uplot" / "LICENSE").is_file()
    context = browser.new_context()
    pg = context.new_page()
    requests = Requests(("file",))
    pg.route("**/*", requests.handle)
    dialogs: list[str] = []
    pg.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    base = (out / "index.html").as_uri()
    _open(pg, _hash(base, "series"), "series")
    assert "model_version/titanic@2" in pg.inner_text("main")
    _open(pg, _hash(base, "version", ref=HOSTILE), "version")
    assert SCRIPT in pg.inner_text("#tags") and AMP in pg.inner_text("#tags")
    pg.wait_for_function("document.querySelector('[data-artifact=plot] img')?.naturalWidth > 0")
    _open(pg, _hash(base, "versions", type="model_version", id="titanic"), "versions")
    assert pg.locator("#versions tbody tr").count() == 2
    _open(pg, _hash(base, "lineage", ref="model_version/titanic@2"), "lineage")
    assert "dataset_version/titanic@2" in (pg.text_content("svg.lineage") or "")
    _open(
        pg,
        _hash(
            base,
            "compare",
            refs="model_version/titanic@1,model_version/titanic@2",
            best="max",
            diff="1",
        ),
        "compare",
    )
    assert "metadata.f1" in pg.inner_text("#compare") and "★" in pg.inner_text("#compare")
    context.close()
    assert all(u.startswith("file://") for u in requests.seen), requests.seen
    assert not requests.blocked and not dialogs
