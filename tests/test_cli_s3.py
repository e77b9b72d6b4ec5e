"""The command line on an S3 root: the demo, then every read command on what it wrote."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytest.importorskip("s3fs")


def cli(env, *args):
    out = subprocess.run(
        [sys.executable, "-m", "tracker", *args], capture_output=True, text=True, env=env
    )
    return out.returncode, out.stdout, out.stderr


def test_demo_and_every_read_command_on_s3(s3_backend, tmp_path):
    env = {
        **os.environ,
        "AWS_ENDPOINT_URL_S3": s3_backend.storage_options["endpoint_url"],
        "TRACKER_CACHE_DIR": str(tmp_path / "cache"),
        "PYTHONPATH": os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
    }
    root = s3_backend.root
    code, out, err = cli(env, "demo", "--root", root)
    assert code == 0, err
    assert "model_version/titanic@2" in out
    code, out, err = cli(env, "--root", root, "show", "model_version/titanic", "--json")
    assert code == 0, err
    shown = json.loads(out)
    assert shown["ref"] == "model_version/titanic@2" and shown["tags"]["status"] == "DEPLOYED"
    code, out, _ = cli(env, "--root", root, "find", "--where", "tags.status = 'DEPLOYED'", "--json")
    assert [r["ref"] for r in json.loads(out)] == ["model_version/titanic@2"]
    code, out, _ = cli(env, "--root", root, "lineage", "model_version/titanic@2", "--up")
    assert "dataset_version/titanic@2" in out
    code, out, _ = cli(env, "--root", root, "runs", "--json")
    assert len(json.loads(out)) == 3
    code, out, _ = cli(env, "--root", root, "ls", "--format", "csv")
    assert "model_version,titanic,2" in out
    code, out, _ = cli(
        env, "--root", root, "diff", "model_version/titanic@1", "model_version/titanic@2"
    )
    assert code == 0 and "status" in out
    code, out, _ = cli(env, "--root", root, "artifacts", "model_version/titanic@2", "--json")
    artifact = json.loads(out)[0]
    code, out, err = cli(
        env,
        "--root",
        root,
        "get",
        "model_version/titanic@2",
        artifact["id"],
        "--dest",
        str(tmp_path / "d"),
    )
    assert code == 0, err
    assert os.path.isfile(out.strip().splitlines()[-1].split()[-1]) or os.listdir(tmp_path / "d")
    code, _, err = cli(env, "--root", root, "show", "model_version/nope")
    assert code == 1 and err.startswith("tracker: error:") and "Traceback" not in err
