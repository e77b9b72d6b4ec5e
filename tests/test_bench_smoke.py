"""A tiny run of the benchmark (N=20) so it keeps working; no timed assertions."""

from __future__ import annotations

import pytest
from benchmarks.bench import smoke


def test_bench_smoke_local():
    result = smoke(s3=False)
    assert result  # smoke() raises BenchError when a workload returns a wrong answer


def test_bench_smoke_s3(s3_server):
    pytest.importorskip("s3fs")
    assert smoke(s3=True)
