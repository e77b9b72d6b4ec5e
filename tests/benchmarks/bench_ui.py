"""Benchmark of ``tracker ui`` over one series of many versions (default 10,000).

Measures, against the real server (``tracker ui`` in a subprocess) on a store in ``/dev/shm``
when it exists:

- the JSON API's time per page of the version table (50 rows): newest first (first, middle and
  last page), sorted by a metadata value, and filtered with ``where`` (first call, then paging
  through the kept result);
- the first paint of the version table in headless Chromium: from navigation to the table's rows
  on screen (needs playwright and /usr/bin/chromium; skipped otherwise).

    python -m tests.benchmarks.bench_ui [--versions N] [--repeat R]

Prints a table and writes ``bench-results/bench_ui.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from typing import Any

QUERY_TTL = 5.0  # tracker.ui.api.QUERY_TTL
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CHROMIUM = "/usr/bin/chromium"
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


def build_store(root: str, n: int) -> None:
    sys.path.insert(0, REPO)
    from tracker import Tracker

    with Tracker(root, git=False, progress=False) as t:
        for i in range(1, n + 1):
            r = t.create_resource("big", type="experiment", algorithm="lr")
            t.log_tags(r, {"stage": "prod" if i % 10 == 0 else "dev", "owner": "bench"})
            t.log_metadata(r, "f1", round(((i * 7919) % 1000) / 1000, 3))
            t.log_metadata(r, "params", {"C": i % 7, "penalty": "l2"})


def timed_get(url: str, repeat: int) -> tuple[float, Any]:
    """Median seconds of ``repeat`` GETs (the first, possibly cold, is reported separately)."""
    times, data = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        with urllib.request.urlopen(url, timeout=300) as resp:  # 127.0.0.1 only
            data = json.loads(resp.read())
        times.append(time.perf_counter() - start)
    return statistics.median(times), data


def first_paint(base: str, repeat: int) -> list[float] | None:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    if not os.path.isfile(CHROMIUM):
        return None
    out = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for _ in range(repeat):
            page = browser.new_page()
            start = time.perf_counter()
            page.goto(base + "#/versions?type=experiment&id=big")
            page.wait_for_selector("#versions tbody tr:nth-child(50)", timeout=120_000)
            out.append(time.perf_counter() - start)
            page.close()
        browser.close()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--versions", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--out", default=os.path.join("bench-results", "bench_ui.json"))
    args = parser.parse_args()
    base_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
    with tempfile.TemporaryDirectory(dir=base_dir) as tmp:
        root = os.path.join(tmp, "store")
        start = time.perf_counter()
        build_store(root, args.versions)
        print(f"built {args.versions} versions in {time.perf_counter() - start:.1f}s")
        env = {**os.environ, "PYTHONPATH": REPO}
        proc = subprocess.Popen(
            [sys.executable, "-m", "tracker", "--root", root, "ui"],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        try:
            assert proc.stdout is not None
            url = proc.stdout.readline().split()[2]
            api = url + "api/versions?type=experiment&id=big"
            pages = -(-args.versions // 50)
            results: dict[str, Any] = {"versions": args.versions}
            rows = [
                ("newest first, page 1", api),
                (f"newest first, page {pages // 2}", f"{api}&page={pages // 2}"),
                (f"newest first, page {pages} (last)", f"{api}&page={pages}"),
            ]
            where = urllib.parse.quote("tags.stage = 'prod' and metadata.f1 >= 0.5")
            for label, sort_or_where in (
                ("sorted by -metadata.f1", "&sort=-metadata.f1"),
                ("filtered (where ...)", f"&where={where}"),
            ):
                cold_start = time.perf_counter()
                timed_get(api + sort_or_where, 1)
                results[f"{label}, first call right after writing"] = (
                    time.perf_counter() - cold_start
                )
                rows.append((f"{label}, page 3 (kept result)", api + sort_or_where + "&page=3"))
            time.sleep(QUERY_TTL + 1)  # the kept results expire; the core's query index stays
            for label, sort_or_where in (
                ("sorted by -metadata.f1", "&sort=-metadata.f1"),
                ("filtered (where ...)", f"&where={where}"),
            ):
                start = time.perf_counter()
                timed_get(api + sort_or_where, 1)
                results[f"{label}, first call at rest"] = time.perf_counter() - start
            for label, u in rows:
                median, data = timed_get(u, args.repeat)
                assert len(data["rows"]) > 0, (label, data)
                results[label] = median
            paint = first_paint(url, args.repeat)
            if paint is not None:
                results["first paint of the version table (browser)"] = statistics.median(paint)
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    width = max(len(k) for k in results)
    for key, value in results.items():
        shown = f"{value * 1000:8.1f} ms" if isinstance(value, float) else f"{value:>8}"
        print(f"{key.ljust(width)}  {shown}")
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as fh:
        json.dump(results, fh, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
