"""A store for the UI tests: ``tracker demo`` plus one version whose values and artifacts are
hostile (HTML in tags and metadata, an HTML artifact with a script) or need a preview (a PNG)."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import zlib
from typing import Any

from tracker import Tracker

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HOSTILE = "dataset_version/hostile@1"
SCRIPT = "<script>alert(1)</script>"
AMP = "&amp;"


def png(width: int = 24, height: int = 16) -> bytes:
    """A small red-and-blue PNG, written by hand (zlib + CRCs) so no imaging library is needed."""
    rows = b"".join(
        b"\x00"
        + b"".join(b"\xd0\x20\x20" if x < width // 2 else b"\x20\x40\xd0" for x in range(width))
        for _ in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def env(**extra: str) -> dict[str, str]:
    out = {**os.environ, "PYTHONPATH": REPO, **extra}
    out.pop("TRACKER_WIDTH", None)
    return out


def make_store(root: str, workdir: str, storage_options: dict[str, Any] | None = None) -> str:
    """Run the demo into ``root`` (local roots: as a user would, in a subprocess), then add the
    hostile version; returns ``root``."""
    if storage_options is None:
        subprocess.run(
            [sys.executable, "-m", "tracker", "demo", "--root", root],
            check=True,
            capture_output=True,
            env=env(),
        )
    os.makedirs(workdir, exist_ok=True)
    files = {
        "plot.png": png(),
        "page.html": f"<p>hello from an html artifact</p>{SCRIPT}".encode(),
        "notes.txt": b"first line of the notes\nsecond line\n",
    }
    for name, data in files.items():
        with open(os.path.join(workdir, name), "wb") as fh:
            fh.write(data)
    with Tracker(root, storage_options=storage_options, git=False, run_name="hostile") as t:
        r = t.create_resource("hostile", type="dataset_version")
        t.log_tags(r, {"note": SCRIPT, "amp": AMP})
        t.log_metadata(r, "params", {"html": "<b>bold</b>", "n": 3})
        t.log_artifact(r, "plot", os.path.join(workdir, "plot.png"))
        t.log_artifact(r, "page", os.path.join(workdir, "page.html"))
        t.log_artifact(r, "notes", os.path.join(workdir, "notes.txt"))
    return root
