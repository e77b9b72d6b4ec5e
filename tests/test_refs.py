"""A ``Resource`` is always one version; a ``Series`` names a whole series and resolves, when
used, to its newest live version."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from tracker import InvalidRef, Resource, ResourceNotFound, Series, Tracker


def tree(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` and its bytes: what lies on disk."""
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.fixture
def store(tmp_path: Path) -> tuple[str, list[Resource]]:
    """``dataset_version/d`` at versions 1..3 with v3 deleted; ``model_version/m`` at 1..2."""
    root = str(tmp_path / "store")
    t = Tracker(root, git=False)
    ds = [t.create_resource("d", type="dataset_version") for _ in range(3)]
    mv = [t.create_resource("m", type="model_version") for _ in range(2)]
    t.delete_resource(ds[2])
    t.stop()
    return root, [*ds, *mv]


def test_a_resource_always_has_a_version() -> None:
    with pytest.raises(TypeError):
        Resource("t", "i")  # type: ignore[call-arg]
    for bad in (None, 0, -1, True, "3", 2.0):
        with pytest.raises(InvalidRef, match="Series"):
            Resource("t", "i", bad)  # type: ignore[arg-type]
    res = Resource("t", "i", 3)
    assert res.version == 3 and res.ref == "t/i@3" and res.series == Series("t", "i")


def test_series_equality_hash_pickle_and_text() -> None:
    s = Series("model", "titanic")
    assert s == Series("model", "titanic") and s == "model/titanic"
    assert s != Series("model_version", "titanic") and s != "model/titanic@1"
    assert s != Resource("model", "titanic", 1) and Resource("model", "titanic", 1) != s
    assert hash(s) == hash("model/titanic") and {s, Series("model", "titanic")} == {s}
    assert str(s) == s.ref == "model/titanic" and repr(s) == "Series('model/titanic')"
    assert s.version is None  # lolpop code tests ``version is None`` on a model handle
    again = pickle.loads(pickle.dumps(s))
    assert again == s and isinstance(again, Series)
    with pytest.raises(AttributeError):
        s.id = "other"  # type: ignore[misc]


def test_get_resource_of_type_model_is_a_series(store: tuple[str, list[Resource]]) -> None:
    root, (_d1, _d2, _d3, _m1, m2) = store
    t = Tracker(root, git=False)
    model = t.get_resource("m", type="model")
    assert isinstance(model, Series) and model == Series("model", "m")
    assert t.get_resource_id(model) == "m"
    assert t.get_latest_model_resource(model, "model_version") == m2
    assert t.get_prev_resource_version(model) == m2  # a series' walk includes its newest
    assert t.get_prev_resource_version(m2) == Resource("model_version", "m", 1)
    with pytest.raises(ResourceNotFound, match="no model 'nope'"):
        t.get_resource("nope", type="model")


def test_a_series_and_a_type_id_string_resolve_to_the_newest_live_version(
    store: tuple[str, list[Resource]], tmp_path: Path
) -> None:
    root, (_d1, d2, _d3, _m1, m2) = store
    t = Tracker(root, git=False)
    t.log_tag(Series("dataset_version", "d"), "via", "series")  # v3 is deleted: v2
    t.log_tag("dataset_version/d", "also", "string")
    t.log_tag(Series("model", "m"), "via", "model series")  # model/m: model_version/m
    t.stop()
    assert t.describe(Series("dataset_version", "d"))["ref"] == d2.ref
    assert t.get_tag("dataset_version/d", "via") == "series"
    assert t.get_tag(m2, "via") == "model series"
    base = tmp_path / "store" / "resources"
    assert (base / "dataset_version/d/2/tags/via.yaml").is_file()
    assert (base / "dataset_version/d/2/tags/also.yaml").is_file()
    assert not (base / "dataset_version/d/1/tags").exists()
    assert not (base / "dataset_version/d/3/tags").exists()  # deleted: only its tombstone
    assert (base / "model_version/m/2/tags/via.yaml").is_file()


def test_deletion_refuses_a_series(store: tuple[str, list[Resource]], tmp_path: Path) -> None:
    root, _ = store
    t = Tracker(root, git=False)
    before = tree(tmp_path / "store")
    for series in (Series("dataset_version", "d"), "dataset_version/d", Series("model", "m")):
        with pytest.raises(InvalidRef, match="names a series"):
            t.delete_resource(series)
    assert tree(tmp_path / "store") == before


def test_reads_through_refs_write_nothing(
    store: tuple[str, list[Resource]], tmp_path: Path
) -> None:
    root, (_d1, d2, *_rest) = store
    t = Tracker(root, git=False)
    t.find(type="dataset_version")  # the query index is a cache: let it be stored first
    before = tree(tmp_path / "store")
    assert t.get_resource("d", type="dataset_version") == d2
    assert t.describe("dataset_version/d")["version"] == 2
    assert t.get_tags(Series("dataset_version", "d")) == {}
    assert isinstance(t.get_resource("m", type="model"), Series)
    assert tree(tmp_path / "store") == before


def test_bad_refs_are_refused_with_what_was_given(store: tuple[str, list[Resource]]) -> None:
    root, _ = store
    t = Tracker(root, git=False)
    with pytest.raises(InvalidRef, match="got int"):
        t.get_tags(3)  # type: ignore[arg-type]
    with pytest.raises(ResourceNotFound, match="was deleted"):
        t.get_tags("dataset_version/d@3")
