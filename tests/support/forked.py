"""A ``find`` in a fresh process (no other thread, so the query index may fork its readers),
with worker batches from 4 versions up, reporting what it found and what went to the workers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

SCRIPT = textwrap.dedent(
    """
    import json, sys
    sys.path.insert(0, sys.argv[1])
    from tracker import Tracker
    from tracker.core import index_workers
    index_workers.FORK_BATCH = 4
    forked = []
    real = index_workers.Workers.submit
    index_workers.Workers.submit = lambda s, v, *a: forked.append(len(v)) or real(s, v, *a)
    found = Tracker(sys.argv[2], git=False).find(type="model_version", where=sys.argv[3])
    print(json.dumps({"found": [r.version for r in found], "forked": forked}))
    """
)


def forked_find(root: Path, where: str) -> dict[str, Any]:
    """``{"found": [versions], "forked": [versions per batch sent to the workers]}``."""
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, os.getcwd(), str(root), where],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout))
