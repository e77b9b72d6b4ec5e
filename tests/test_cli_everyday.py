"""The command line for everyday use, through the installed entry point: one-line usage errors
(exit 2), ``--order-by -version``, positive limits, warnings on stderr, nested columns, refs
with a bad version, run-id prefixes, full-precision datetimes in diff, self-explaining --help."""

from __future__ import annotations

import csv
import io
import json

import pytest
from clitools import cli, one_line_error, tracker_env

from tracker import Tracker
from tracker.cli.main import COMMAND_MODULES, build_parser


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = str(tmp_path_factory.mktemp("cli") / "store")
    for f1 in (0.81, 0.93):
        t = Tracker(path, git=False, run_name="train")
        mv = t.create_resource("titanic", type="model_version")
        t.log_metadata(mv, "f1", f1)
        t.log_metadata(mv, "params", {"C": f1 * 10, "penalty": "l2"})
        t.stop()
    return path


def test_usage_errors_are_one_line_with_exit_code_2(root: str) -> None:
    for argv, fragments in [
        (["bogus"], ["unknown command 'bogus'", "see tracker --help"]),
        (["fnd"], ["did you mean find"]),
        (["runs", "--limit", "abc"], ["--limit", "'abc'", "see tracker runs --help"]),
        (["find", "--limit", "-1"], ["--limit", "positive", "see tracker find --help"]),
        (["find", "--limit", "0"], ["positive"]),
        (["find", "--frobnicate"], ["unrecognized arguments: --frobnicate", "tracker find --help"]),
        (["runs", "--format", "xml"], ["see tracker runs --help"]),
        ([], ["no command", "see tracker --help"]),
    ]:
        one_line_error(*cli("--root", root, *argv), *fragments, exit_code=2)


def test_order_by_minus_field_and_nested_columns(root: str) -> None:
    code, out, err = cli("--root", root, "find", "--order-by", "-version", "--json")
    assert code == 0, err
    assert [r["ref"] for r in json.loads(out)] == [
        "model_version/titanic@2",
        "model_version/titanic@1",
    ]
    code, out, err = cli(
        "--root",
        root,
        "find",
        "--columns",
        "ref,metadata.params.C",
        "--order-by",
        "metadata.params.C desc",
    )
    assert code == 0, err
    assert "9.3" in out and "8.1" in out and " - " not in out
    code, out, _ = cli(
        "--root", root, "find", "--columns", "ref,metadata.params.penalty", "--format", "csv"
    )
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["metadata.params.penalty"] for r in rows] == ["l2", "l2"]


def test_mistakes_get_an_answer_on_stderr(root: str) -> None:
    one_line_error(
        *cli("--root", root, "find", "--where", "tags.status = DEPLOYED"),
        "strings need quotes: 'DEPLOYED'",
    )
    one_line_error(*cli("--root", root, "runs", "--where", "git.dirty = true"), "git_dirty")
    code, out, err = cli("--root", root, "find", "--where", "metadata.f2 > 0.5")
    assert code == 0 and out.strip() == "no resource versions match"
    warning = "no resource version in scope has metadata.f2; did you mean metadata.f1?"
    assert err == f"tracker: warning: {warning}\n"
    code, out, err = cli("--root", root, "find", "--type", "model_verison")
    assert code == 0 and "tracker: warning: no resources of type 'model_verison'" in err
    assert "did you mean model_version" in err
    one_line_error(
        *cli("--root", root, "show", "model_version/titanic@x"),
        "version after '@' must be a number",
    )


def test_run_ids_by_unique_prefix(root: str) -> None:
    ids = [r["id"] for r in Tracker(root, git=False).runs()]
    assert len(ids) == 2
    common = 0
    while ids[0][common] == ids[1][common]:
        common += 1
    code, out, err = cli("--root", root, "show", ids[0][: common + 1], "--json")
    assert code == 0, err
    assert json.loads(out)["id"] == ids[0]
    one_line_error(*cli("--root", root, "show", ids[0][:common]), "ambiguous", ids[0], ids[1])
    one_line_error(*cli("--root", root, "show", "nope"), "no run 'nope'")


def test_diff_shows_datetimes_that_differ_differently(root: str) -> None:
    code, out, err = cli(
        "--root", root, "diff", "model_version/titanic@1", "model_version/titanic@2"
    )
    assert code == 0, err
    line = next(x for x in out.splitlines() if "end_time" in x)
    left, right = line.split()[-4:-2], line.split()[-2:]
    assert left != right  # the microseconds show
    assert "params.C" in out  # nested metadata compared key by key


def test_every_command_explains_itself() -> None:
    parser = build_parser()
    commands = parser._commands()
    assert {"runs", "find", "tag", "untag", "meta", "promote"} <= set(commands)
    for name in commands:
        code, out, err = cli(name, "--help", env=tracker_env())
        assert code == 0, err
        assert "examples:" in out and "--root" in out, name
    _, find_help, _ = cli("find", "--help")
    _, runs_help, _ = cli("runs", "--help")
    for text in (find_help, runs_help):
        for word in ("!=", "not in", "exists", "strings always in quotes", "-FIELD"):
            assert word in text
    assert "metadata.<key>" in find_help and "created_at" in find_help
    for field in ("duration_s", "git_dirty", "git_commit", "git_branch"):
        assert field in runs_help
    assert len(COMMAND_MODULES) >= 8
