"""Path encoding and the YAML codec, on their own."""

from __future__ import annotations

import datetime as dt
import enum
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tracker import CorruptFile, InvalidKey, UnsupportedValue
from tracker.core.resource import parse_ref
from tracker.store import codec, paths


@given(st.text(min_size=1, max_size=60))
def test_encode_round_trips_and_is_one_safe_segment(text):
    try:
        enc = paths.encode(text)
    except InvalidKey:
        return
    assert paths.decode(enc) == text
    assert "/" not in enc and not enc.startswith(".") and enc not in ("", ".", "..")
    assert all(c.isascii() and (c.isalnum() or c in "_.-%") for c in enc)


def test_encode_examples():
    assert paths.encode("plain-name_1.0") == "plain-name_1.0"
    assert paths.encode("../x") == "%2E.%2Fx"
    assert paths.encode("100%") == "100%25"
    assert paths.encode("a b") == "a%20b"
    with pytest.raises(InvalidKey):
        paths.encode("")
    with pytest.raises(InvalidKey, match="not valid unicode"):
        paths.encode("\ud800")
    with pytest.raises(UnsupportedValue, match="surrogate"):
        codec.dumps(codec.to_plain({"k": "\ud800"}), "k")


def test_parse_ref():
    assert parse_ref("model_version/titanic@3") == ("model_version", "titanic", 3)
    assert parse_ref("model_version/titanic") == ("model_version", "titanic", None)
    assert parse_ref("t/a/b@c@2") == ("t", "a/b@c", 2)


class Color(enum.Enum):
    RED = 1


@pytest.mark.parametrize("bad", [object(), Color.RED, lambda: 1, {1: {2: set([object()])}}])
def test_unsupported_values(bad):
    with pytest.raises(UnsupportedValue):
        codec.to_plain(bad, "k")


def test_depth_limit():
    deep: list = []
    node = deep
    for _ in range(500):
        node.append([])
        node = node[0]
    with pytest.raises(UnsupportedValue, match="nested deeper"):
        codec.to_plain(deep, "k")


def test_safe_loader_refuses_python_tags():
    with pytest.raises(CorruptFile, match="safe loader"):
        codec.loads(b"!!python/object/apply:os.system ['echo hacked']", "evil.yaml")


def test_datetimes_stay_datetimes():
    when = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    assert codec.loads(codec.dumps(codec.to_plain({"w": when}))) == {"w": when}


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(),
    st.datetimes(timezones=st.just(dt.timezone.utc)),
    st.binary(max_size=8),
)


@given(st.text(min_size=1, max_size=20), scalars, st.text(max_size=30))
def test_fast_record_writer_reads_back_like_pyyaml(key, value, run_id):
    record = {
        "key": key,
        "value": value,
        "logged_at": dt.datetime.now(dt.timezone.utc),
        "run_id": run_id,
    }
    try:
        slow = codec.loads(codec.dumps(record))
    except UnsupportedValue:
        return  # lone surrogates: refused by both
    fast = codec.loads(codec.dump_record(record))
    assert fast == slow == record


json_values = st.recursive(
    scalars | st.dates() | st.datetimes() | st.floats(),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.text(max_size=5) | st.integers(), children, max_size=3)
    ),
    max_leaves=12,
)


@given(st.dictionaries(st.text(max_size=8), json_values, max_size=5))
def test_json_form_gives_back_exactly_what_yaml_would(doc):
    from tracker.store.jsonform import from_json, to_json

    try:
        expected = codec.loads(codec.dumps(doc))
    except UnsupportedValue:
        return
    back = from_json(json.loads(json.dumps(to_json(expected))), "x")
    assert repr(back) == repr(expected)  # repr: NaN != NaN, and types must match too
