"""Benchmarks (issue 6); not collected by the default test run. See ``bench.py``."""
