"""The core API is strict (a mistake is an error naming it); the lolpop interface class is loose.

``Tracker`` raises :class:`UnknownArgument` (a ``TypeError`` and a ``TrackerError``) for a keyword
or an extra positional argument it does not take, before anything is written;
``FileMetadataTracker`` (lolpop's calling convention) drops them instead.
"""

from __future__ import annotations

import os

import pytest

from tracker import (
    FileMetadataTracker,
    Tracker,
    TrackerError,
    UnknownArgument,
    UnsupportedValue,
)


def _files(root) -> set[str]:
    out = set()
    for dirpath, _, names in os.walk(root):
        out |= {os.path.relpath(os.path.join(dirpath, n), root) for n in names}
    return out


def test_misspelt_constructor_option_is_named_with_a_suggestion(tmp_path):
    with pytest.raises(UnknownArgument) as info:
        Tracker(tmp_path / "store", fsnyc=True)
    assert isinstance(info.value, TypeError) and isinstance(info.value, TrackerError)
    assert "'fsnyc'" in str(info.value) and "did you mean 'fsync'" in str(info.value)
    assert not (tmp_path / "store").exists()


def test_unknown_keyword_of_a_write_writes_nothing(tmp_path):
    t = Tracker(tmp_path / "s", git=False)
    r = t.create_resource("m", "model_version")
    before = _files(tmp_path / "s")
    with pytest.raises(UnknownArgument, match="'bogus'"):
        t.log_tag(r, "k", 1, bogus=2)
    with pytest.raises(UnknownArgument, match="log_metric"):  # a value per step is a metric
        t.log_metadata(r, "loss", 0.5, step=3)
    with pytest.raises(UnknownArgument, match="log_tag"):
        t.log_tag(r, "k", 1, "extra positional")
    assert _files(tmp_path / "s") == before
    assert t.get_tags(r) == {} and t.get_all_metadata(r) == {}


def test_a_type_error_from_inside_a_method_is_not_renamed(tmp_path):
    t = Tracker(tmp_path / "s", git=False)
    r = t.create_resource("m", "model_version")
    with pytest.raises(UnsupportedValue) as info:  # a TypeError raised by the method itself
        t.log_tag(r, "k", object())
    assert not isinstance(info.value, UnknownArgument)


def test_unstorable_attribute_is_an_error_naming_it_and_creates_nothing(tmp_path):
    t = Tracker(tmp_path / "s", git=False)
    t.create_resource("m", "model_version")
    with pytest.raises(UnsupportedValue, match="'weird'"):
        t.create_resource("m", "model_version", weird=object(), n=3)
    assert t.get_resource("m", "model_version").version == 1
    files = _files(tmp_path / "s")
    assert any("/m/1/resource.yaml" in p for p in files)
    assert not any("/m/2/" in p for p in files)  # no version 2, not even its resource.yaml


def test_lolpop_interface_absorbs_what_lolpop_passes(tmp_path):
    t = FileMetadataTracker(tmp_path / "s", git=False, tracking_uri="mlruns", fsnyc=True)
    assert isinstance(t, Tracker)
    mv = t.create_resource("m", "model_version", n=3, frame=object())
    assert t.get_attributes(mv) == {"n": 3}  # the object is not metadata: dropped
    t.log_tag(mv, "k", 1, "extra", file_type="csv")
    t.log_metadata(mv, "loss", 0.5, step=3)
    ex = t.create_resource("e", "experiment", parent=mv)
    assert t.get_parent_id(ex, type="experiment") == "m"  # lolpop passes the child's own type
    assert t.get_parent_id(ex, type="dataset_version") is None
    t.stop()
    assert (tmp_path / "s" / "resources").is_dir()
    on_disk = _files(tmp_path / "s")
    assert any(p.endswith("tags/k.yaml") for p in on_disk)
    assert any(p.endswith("metadata/loss.yaml") for p in on_disk)
    assert Tracker(tmp_path / "s").get_tag(mv.ref, "k") == 1
