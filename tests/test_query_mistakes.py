"""Mistakes in queries get an answer: unknown fields (error or warning, with suggestions), bare
words, unknown types, strict types, the order_by parser, limits, and one set of run field names."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from tracker import ExpressionError, Tracker
from tracker.core.expr import parse_field, parse_order
from tracker.errors import FieldWarning, InvalidArgument


@pytest.fixture(scope="module")
def t(tmp_path_factory: pytest.TempPathFactory) -> Tracker:
    root = tmp_path_factory.mktemp("q") / "store"
    w = Tracker(str(root), git=False, run_name="train")
    for i, f1 in enumerate((0.81, 0.87, 0.93), start=1):
        mv = w.create_resource("titanic", type="model_version")
        w.log_metadata(mv, "f1", f1)
        w.log_metadata(mv, "params", {"C": i / 10, "odd.key": i})
        w.log_tag(mv, "stage", "dev")
    w.log_tag("model_version/titanic@3", "status", "DEPLOYED")
    w.stop()
    return Tracker(str(root), git=False)


def refs(results) -> list[str]:
    return [r.ref for r in results]


@pytest.mark.parametrize(
    ("where", "fragments"),
    [
        ("tags.status = DEPLOYED", ["strings need quotes: 'DEPLOYED'"]),
        ("id = titanic", ["strings need quotes: 'titanic'"]),
        ("tags.status in (DEPLOYED, 'x')", ["strings need quotes: 'DEPLOYED'"]),
        ("status = 'FINISHED'", ["no field 'status'", "did you mean attrs.status"]),
        ("tag.status = 'DEPLOYED'", ["no field 'tag.status'", "did you mean tags.status"]),
        ("metadat.f1 > 0.5", ["did you mean metadata.f1"]),
        ("id.x = 'a'", ["'id' has no sub-fields"]),
    ],
)
def test_fields_no_version_can_have_are_errors_with_suggestions(
    t: Tracker, where: str, fragments: list[str]
) -> None:
    with pytest.raises(ExpressionError) as info:
        t.find(where=where)
    for fragment in fragments:
        assert fragment in str(info.value)


def test_unknown_field_errors_list_the_fields_of_the_scope(t: Tracker) -> None:
    with pytest.raises(ExpressionError, match="fields: ref, type, id, version"):
        t.find(where="stauts = 'x'")


def test_a_key_no_version_has_is_a_warning_with_suggestions(t: Tracker) -> None:
    with pytest.warns(FieldWarning, match=r"tags\.stauts; did you mean tags\.status"):
        assert t.find(where="tags.stauts = 'DEPLOYED'") == []
    with pytest.warns(FieldWarning, match=r"metadata\.params\.c; did you mean metadata\.params\.C"):
        t.find(where="metadata.params.c > 0")
    with pytest.warns(FieldWarning, match=r"metadata\.f2; did you mean metadata\.f1"):
        t.find(type="model_version", order_by="metadata.f2 desc")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # present keys warn about nothing
        assert refs(t.find(where="tags.status = 'DEPLOYED'")) == ["model_version/titanic@3"]
        assert len(t.find(where="metadata.params.`odd.key` >= 2")) == 2


def test_an_unknown_type_warns_with_the_types_there_are(t: Tracker) -> None:
    with pytest.warns(FieldWarning, match="'model_verison'; did you mean model_version"):
        assert t.find(type="model_verison") == []


def test_types_are_strict(t: Tracker) -> None:
    assert t.find(where="metadata.f1 >= '0.87'") == []
    assert refs(t.find(where="metadata.f1 >= 0.87", order_by="version")) == [
        "model_version/titanic@2",
        "model_version/titanic@3",
    ]
    assert len(t.find(where="created_at >= '2000-01-01'")) == 3  # dates take ISO text


def test_order_by_uses_the_field_syntax(t: Tracker) -> None:
    assert refs(t.find(order_by="-version"))[0] == "model_version/titanic@3"
    assert refs(t.find(order_by="metadata.params.C desc"))[0] == "model_version/titanic@3"
    assert refs(t.find(order_by="metadata.params.`odd.key` asc"))[0] == "model_version/titanic@1"
    assert refs(t.find(order_by="tags.stage, -metadata.f1")) == [
        "model_version/titanic@3",
        "model_version/titanic@2",
        "model_version/titanic@1",
    ]
    keys = parse_order("-version, metadata.`a.b` desc, id asc, x")
    assert [(k.field.path, k.descending) for k in keys] == [
        (("version",), True),
        (("metadata", "a.b"), True),
        (("id",), False),
        (("x",), False),
    ]
    for bad, fragment in [
        ("version up", "'up'"),
        ("-version desc", "'-' already means desc"),
        ("metadata.", "field name after '.'"),
        ("1", "a field to order by"),
        ("-", "a field to order by"),
    ]:
        with pytest.raises(ExpressionError, match=fragment):
            parse_order(bad)
    with pytest.raises(ExpressionError, match="no field 'statuss'"):
        t.find(order_by="statuss")
    assert parse_field("metadata.params.`odd.key`").path == ("metadata", "params", "odd.key")


@pytest.mark.parametrize("limit", [0, -1, 1.5, True])
def test_limits_must_be_positive(t: Tracker, limit: object) -> None:
    with pytest.raises(InvalidArgument, match="positive"):
        t.find(limit=limit)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument):
        t.runs(limit=limit)  # type: ignore[arg-type]


def test_runs_use_the_names_they_are_shown_with(tmp_path: Path) -> None:
    import git

    repo = git.Repo.init(tmp_path / "code")
    (tmp_path / "code" / "a.py").write_text("x = 1\n")
    repo.index.add(["a.py"])
    repo.index.commit("first")
    (tmp_path / "code" / "a.py").write_text("x = 2\n")  # dirty
    root = str(tmp_path / "store")
    w = Tracker(root, git_path=str(tmp_path / "code"), run_name="dirty-run")
    w.create_resource("d", type="dataset_version")
    w.stop()
    t = Tracker(root, git=False)
    (run,) = t.runs(where="git_dirty = true and duration_s >= 0 and git_branch exists")
    assert run["name"] == "dirty-run" and run["git_commit"] == repo.head.commit.hexsha
    assert run["git_dirty"] is True and isinstance(run["duration_s"], float)
    assert t.runs(where=f"git_commit = '{repo.head.commit.hexsha}'")[0]["id"] == run["id"]
    assert t.runs(where="git_dirty = false") == []
    assert t.runs(order_by="-duration_s")[0]["id"] == run["id"]
    row = t.runs().rows[0]
    assert {"duration_s", "git_commit", "git_branch", "git_dirty", "git_remote"} <= set(row)
    with pytest.raises(ExpressionError, match="did you mean git_dirty"):
        t.runs(where="git.dirty = true")
    with pytest.raises(ExpressionError, match="did you mean git_commit"):
        t.runs(where="git.hexsha = 'abc'")
    with pytest.raises(ExpressionError, match="strings need quotes: 'FAILED'"):
        t.runs(where="status = FAILED")


def test_nested_fields_are_columns_everywhere(t: Tracker) -> None:
    pytest.importorskip("pandas")
    found = t.find(order_by="version")
    frame = found.to_pandas(columns=["ref", "metadata.params.C", "metadata.params.`odd.key`"])
    assert list(frame.columns) == ["ref", "metadata.params.C", "metadata.params.`odd.key`"]
    assert frame["metadata.params.C"].tolist() == [0.1, 0.2, 0.3]
    assert frame["metadata.params.`odd.key`"].tolist() == [1, 2, 3]
    assert "metadata.params" in found.to_pandas().columns  # default: the flat rows as before


def test_lifecycle_filter_expressions_are_checked_too(t: Tracker) -> None:
    mv = "model_version/titanic@3"
    with pytest.raises(ExpressionError, match=r"filters: no field 'status'.*attrs\.status"):
        t.get_prev_resource_version(mv, filters="status = 'FINISHED'")
    with pytest.raises(ExpressionError, match="strings need quotes: 'dev'"):
        t.get_prev_resource_version(mv, filters="tags.stage = dev")
    found = t.get_prev_resource_version(mv, filters="tags.stage = 'dev'")
    assert found is not None and found.ref == "model_version/titanic@2"
