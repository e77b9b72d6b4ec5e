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


def test_bench_scale_smoke(s3_server):
    from benchmarks.bench_scale import smoke as scale_smoke

    result = scale_smoke()  # raises when any part gets a wrong answer
    assert result["local"]["120"]["matches"] == 2
    assert result["sql"]["rows"] == 2
