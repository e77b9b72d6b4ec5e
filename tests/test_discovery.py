"""Store discovery: ``Tracker()`` and ``tracker`` find ``.tracker/`` like git finds ``.git``."""

from __future__ import annotations

from pathlib import Path

import pytest
from clitools import cli, tracker_env

from tracker import Tracker
from tracker.store.discovery import default_root, find_store


def make_store(where: Path) -> Path:
    root = where / ".tracker"
    t = Tracker(str(root), git=False, run_name="made")
    t.create_resource("iris", type="dataset_version")
    t.stop()
    return root


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("TRACKER_ROOT", raising=False)
    return home


def test_the_nearest_store_above_the_working_directory_is_used(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = home / "project"
    deep = project / "src" / "pkg"
    deep.mkdir(parents=True)
    root = make_store(project)
    monkeypatch.chdir(deep)
    assert find_store() == str(root)
    t = Tracker(git=False)
    assert t.url.rstrip("/") == str(root)
    t.create_resource("iris", type="dataset_version")
    t.stop()
    assert not (deep / ".tracker").exists()  # no second store
    assert (root / "resources" / "dataset_version" / "iris" / "2" / "resource.yaml").is_file()
    env = tracker_env(HOME=str(home))
    code, out, err = cli("ls", "--json", env=env, cwd=str(deep))
    assert code == 0, err
    assert '"latest_version": 2' in out


def test_explicit_root_and_env_win(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = home / "project"
    project.mkdir()
    make_store(project)
    other = make_store(home / "other")
    monkeypatch.chdir(project)
    monkeypatch.setenv("TRACKER_ROOT", str(other))
    assert default_root() == str(other)
    assert Tracker(git=False).url.rstrip("/") == str(other)
    explicit = home / "explicit"
    assert Tracker(str(explicit), git=False).url.rstrip("/") == str(explicit)
    code, out, _ = cli("--root", str(other), "ls", cwd=str(project), env=tracker_env())
    assert code == 0 and "iris" in out


def test_search_stops_at_home_and_skips_a_folder_that_is_no_store(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    above = home.parent
    make_store(above)  # above $HOME: never picked up from inside it
    work = home / "work"
    (work / ".tracker").mkdir(parents=True)  # no tracker.yaml: not a store
    monkeypatch.chdir(work)
    assert find_store() is None
    assert default_root() == ".tracker"
    t = Tracker(git=False)
    t.create_resource("x", type="dataset_version")
    t.stop()
    assert (work / ".tracker" / "tracker.yaml").is_file()  # the default: ./.tracker
    code, _, err = cli("ls", env=tracker_env(HOME=str(home)), cwd=str(home))
    assert code == 1 and "no tracker store" in err  # $HOME itself has none; above is not looked at


def test_outside_home_the_search_goes_up_to_the_filesystem_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "elsewhere"))
    root = make_store(tmp_path)
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    assert find_store(deep) == str(root)
