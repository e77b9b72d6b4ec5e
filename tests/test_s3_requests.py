"""Request budgets on S3, counted at the HTTP proxy in front of the moto server."""

from __future__ import annotations

import pytest

pytest.importorskip("s3fs")


@pytest.fixture
def s3(s3_backend):
    t = s3_backend.make()
    t.create_resource("warm", type="model_version")  # the store and the run exist now
    proxy = s3_backend.proxy
    proxy.reset_counts()
    yield s3_backend, t, proxy
    t.stop()


def count(proxy, fn):
    proxy.reset_counts()
    out = fn()
    return out, proxy.requests


def test_key_writes_and_reads_cost_one_request(s3):
    _, t, proxy = s3
    res = t.create_resource("m", type="model_version")
    _, reqs = count(proxy, lambda: t.log_tag(res, "k", "v"))
    assert [m for m, _, _ in reqs] == ["PUT"]
    _, reqs = count(proxy, lambda: t.log_metadata(res, "m", {"a": [1, 2]}))
    assert [m for m, _, _ in reqs] == ["PUT"]
    value, reqs = count(proxy, lambda: t.get_tag(res, "k"))
    assert value == "v" and [m for m, _, _ in reqs] == ["GET"]
    value, reqs = count(proxy, lambda: t.get_tag(res, "missing"))
    assert value is None and [m for m, _, _ in reqs] == ["GET"]


def test_create_resource_costs_at_most_five(s3):
    _, t, proxy = s3
    for expected in (1, 2, 3):
        res, reqs = count(proxy, lambda: t.create_resource("m", type="model_version"))
        assert res.version == expected and len(reqs) <= 5, reqs
        # the claim, HEAD, the run's pointer, and this process's change-log file
        changes = [p for m, p, _ in reqs if m == "PUT" and "/changes/" in p]
        assert len(changes) == 1, reqs
    _, reqs = count(proxy, lambda: t.log_tag(res, "k", "v"))  # the change line covers it
    assert [m for m, _, _ in reqs] == ["PUT"]


def test_closed_version_reads_in_three_requests_and_later_keys_win(s3):
    backend, t, proxy = s3
    res = t.create_resource("big", type="model_version")
    t.log_tags(res, {f"tag{i}": i for i in range(50)})
    for i in range(20):
        t.log_metadata(res, f"meta{i}", {"i": i})
    t.clean_resource(res)
    reader = backend.make()
    reader.require_store()
    described, reqs = count(proxy, lambda: reader.describe(res.ref))
    assert len(reqs) <= 3, reqs
    assert described["tags"] == {f"tag{i}": i for i in range(50)}
    assert described["metadata"]["meta19"] == {"i": 19}
    t.log_tag(res, "tag7", "changed after the snapshot")
    tags, reqs = count(proxy, lambda: reader.get_tags(res.ref))
    assert tags["tag7"] == "changed after the snapshot" and len(tags) == 50
    assert len(reqs) <= 3 + 1, reqs


def test_previous_version_costs_three_plus_one_per_candidate(s3):
    backend, t, proxy = s3
    versions = [t.create_resource("series", type="model_version") for _ in range(6)]
    t.log_tag(versions[1], "status", "DEPLOYED")
    t.stop()
    reader = backend.make()
    reader.require_store()
    prev, reqs = count(proxy, lambda: reader.get_prev_resource_version(versions[-1]))
    assert prev == versions[-2] and len(reqs) <= 3 + 1, reqs
    found, reqs = count(
        proxy,
        lambda: reader.get_prev_resource_version(versions[-1], filters={"status": "DEPLOYED"}),
    )
    candidates = 4  # versions 5, 4, 3 and 2 are inspected
    assert found == versions[1] and len(reqs) <= 3 + candidates, reqs
