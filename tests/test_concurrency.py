"""Real processes racing on one store: version numbers stay unique and gap-free."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

WORKERS = os.path.join(os.path.dirname(__file__), "workers.py")


def run_creators(
    root: str, processes: int, each: int, env: dict[str, str] | None = None
) -> list[int]:
    start_at = str(time.time() + 1.5)
    procs = [
        subprocess.Popen(
            [sys.executable, WORKERS, "create", root, "contended", str(each), start_at],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, **(env or {})},
        )
        for _ in range(processes)
    ]
    versions: list[int] = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        versions += json.loads(out)
    return versions


def test_eight_processes_create_versions_1_to_8_once_each(backend):
    if backend.name == "memory":
        return  # memory:// is per process; the S3 and local backends are the shared ones
    env = {"TRACKER_TEST_STORAGE_OPTIONS": json.dumps(backend.storage_options)}
    versions = run_creators(backend.root, 8, 1, env)
    assert sorted(versions) == list(range(1, 9))
    on_disk = {f.split("/")[3] for f in backend.files() if f.endswith("/resource.yaml")}
    assert on_disk == {str(v) for v in range(1, 9)}
    t = backend.make()
    assert t.get_resource("contended", "model_version").version == 8
    runs = {t.get_resource("contended", "model_version", version=v).run_id for v in range(1, 9)}
    assert len(runs) == 8


def test_many_versions_per_process_stay_gap_free(tmp_path):
    versions = run_creators(str(tmp_path / "store"), 4, 10)
    assert sorted(versions) == list(range(1, 41))
