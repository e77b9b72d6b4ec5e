"""The layout table (tracker.store.paths): every builder's path parses back to what built it,
and files the layout does not have are told apart by area."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tracker.errors import InvalidKey
from tracker.store import paths

names = st.text(min_size=1, max_size=30)


@given(rtype=names, rid=names, key=names, version=st.integers(0, 10**6))
def test_every_version_builder_parses_back(rtype, rid, key, version):
    try:
        built = {
            "resource": paths.resource_file(rtype, rid, version),
            "snapshot": paths.snapshot_file(rtype, rid, version),
            "item": paths.item_file(rtype, rid, version, "tags", key),
            "manifest": paths.manifest_file(rtype, rid, version, key),
            "link": paths.link_file(rtype, rid, version, "children", rid, rtype, version + 1),
            "metric": f"{paths.metric_dir(rtype, rid, version, key)}/00000001.tsv",
            "artifact": f"{paths.artifact_dir(rtype, rid, version, key, 'tok')}/a/b.txt",
        }
    except InvalidKey:
        return  # too long once encoded: refused before any path exists
    for what, rel in built.items():
        at = paths.parse(rel)
        assert at.what == what and at.area == "version", (rel, at)
        assert (at.rtype, at.rid, at.version) == (rtype, rid, version)
        assert at.base == paths.version_dir(rtype, rid, version)
    assert paths.parse(built["item"]).key == key and paths.parse(built["item"]).folder == "tags"
    assert paths.parse(built["manifest"]).key == key
    assert paths.parse(built["metric"]).key == key
    assert paths.parse(built["link"]).target == (rid, rtype, version + 1)
    art = paths.parse(built["artifact"])
    assert art.key == key and art.token == "tok"
    assert art.copy == paths.artifact_dir(rtype, rid, version, key, "tok")


def test_run_series_and_trash_paths_parse_back():
    at = paths.parse(paths.run_attr("r/1", "lr"))
    assert (at.what, at.run_id, at.key) == ("run-attr", "r/1", "lr")
    assert paths.parse(paths.run_file("r/1")).what == "run"
    created = paths.parse(paths.run_created_file("r/1", "model", "m", 3))
    assert (created.what, created.target) == ("run-created", ("model", "m", 3))
    assert paths.parse(paths.head_file("model", "m")).what == "head"
    assert paths.parse(paths.index_chunk("model", "m", 3)).what == "index"
    assert paths.parse("resources/model/m/index.json").what == "index"  # an older build's
    change = paths.parse(paths.change_file("model", "m", 0, "w1"))
    assert (change.what, change.rtype, change.rid) == ("changes", "model", "m")
    assert paths.parse(paths.trash_entry("t1")).trash_id == "t1"
    assert paths.parse(paths.trash_file("t1", "resources/x/y/1/tags/a.yaml")).what == "trash-file"
    assert paths.parse(paths.trash_claim("model", "m", 1)).what == "trash-claim"
    assert paths.parse(paths.FORMAT_FILE).what == "format"


@pytest.mark.parametrize(
    ("rel", "area"),
    [
        ("notes.txt", "store"),
        ("resources/model/m/HEAD.bak", "store"),
        ("resources/model/m/1/tags/sub/a.yaml", "version"),
        ("resources/model/m/1/weights.bin", "version"),
        ("runs/r1/attrs/x/y.yaml", "run"),
        ("trash/t1/other.yaml", "trash"),
    ],
)
def test_foreign_files_are_unknown_with_their_area(rel, area):
    at = paths.parse(rel)
    assert (at.what, at.area, at.known) == ("unknown", area, False)


def test_malformed_pointer_parses_with_no_target():
    at = paths.parse("resources/model/m/1/lineage/dataset/no-version-here")
    assert at.what == "link" and at.target is None


def test_kind_tables_derive_from_item_kinds():
    assert paths.KEY_KINDS == ("tags", "metadata", "attrs")
    assert (*paths.KEY_KINDS, paths.MANIFESTS) == paths.SNAPSHOT_KINDS
    assert paths.ITEM_KINDS[paths.METRICS].rule == paths.SERIES
    assert set(paths.LINK_KINDS) == {"children", "lineage", "used_by"}
