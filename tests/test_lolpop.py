"""The lolpop drop-in: lolpop's own runner and pipelines writing through the tracker.

Everything but the first test needs lolpop (``.ci/lolpop`` makes a venv with it), and the S3
test also s3fs and moto. The e2e runs lolpop's ClassificationRunner twice, in separate processes,
inside a real git repository, then reads the store back with :class:`tracker.Tracker`.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import tracker
from tracker import Resource, ResourceNotFound, Tracker

PROJECT = Path(__file__).resolve().parent / "lolpop_project"
MODEL = "titanic_survival"
NEEDS_LOLPOP = "lolpop is not installed here; .ci/lolpop runs these in a venv of its own"

# lolpop 0.2.0 pins pandas<2/numpy<2, which warn about each other's deprecations
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def lolpop() -> Any:
    return pytest.importorskip("lolpop", reason=NEEDS_LOLPOP)


@functools.cache
def installed() -> bool:
    """Whether a child Python imports ``tracker`` by itself (it is installed, e.g. ``pip
    install -e .``); then children test the install, else they get this checkout on PYTHONPATH."""
    probe = [sys.executable, "-c", "import tracker.integrations.lolpop"]
    return subprocess.run(probe, cwd=tempfile.gettempdir(), capture_output=True).returncode == 0


def child_env(base: dict[str, str] | None = None, **extra: str) -> dict[str, str]:
    """The environment for a child Python: ``tracker`` importable, no ``$TRACKER_ROOT``, quiet."""
    env = dict(os.environ if base is None else base)
    env.pop("TRACKER_ROOT", None)
    if not installed():
        source = str(Path(tracker.__file__).resolve().parent.parent)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (source, env.get("PYTHONPATH")) if p)
    env["PYTHONWARNINGS"] = "ignore"
    env.update(extra)
    return env


def python(code: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=cwd,
        env=child_env(**env),
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_adapter_package_needs_no_lolpop(tmp_path: Path) -> None:
    """``import tracker.integrations.lolpop`` and ``register()`` work with lolpop absent."""
    proc = python(
        """
        import sys
        sys.modules["lolpop"] = None  # importing lolpop now raises ImportError
        import tracker, tracker.integrations.lolpop as tl
        from pathlib import Path
        ext = tl.register()
        assert ext in sys.path and tl.register() == ext and sys.path.count(ext) == 1
        shim = Path(ext, "lolpop/extension/tracker/component/metadata_tracker")
        assert (shim / "file_metadata_tracker.py").is_file(), shim
        assert Path(tl.plugin_path()).is_file() and tl.CLASS_NAME == "FileMetadataTracker"
        assert tl.METRICS_CLASS_NAME == "FileMetricsTracker"
        assert tl.REPOSITORY_CLASS_NAME == "FileModelRepository"
        try:
            import tracker.integrations.lolpop.metadata_tracker.file_metadata_tracker
        except ImportError:
            print("ok")
        """,
        tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"


# -- in-process: the adapter as a lolpop component -----------------------------------------------
@pytest.fixture
def adapter(lolpop: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A FileMetadataTracker built the way lolpop builds it (class looked up by name)."""
    import tracker.integrations.lolpop as tl

    tl.register()  # lolpop is already imported here: exercises the late path
    from lolpop.component import StdOutLogger, StdOutNotifier
    from lolpop.utils import common_utils as utils
    from omegaconf import OmegaConf

    monkeypatch.chdir(tmp_path)  # no git repository here
    logger = StdOutLogger(conf={"config": {"log_level": "ERROR"}}, is_standalone=True)
    deps = {"component": {"logger": logger}}
    notifier = StdOutNotifier(conf={}, is_standalone=True, dependent_integrations=deps)
    cls = utils.load_class("FileMetadataTracker")
    conf = OmegaConf.create({"config": {"root": str(tmp_path / "store"), "run_name": "unit"}})
    mt = cls(
        conf=conf,
        is_standalone=True,
        problem_type="classification",
        dependent_integrations={"component": {"logger": logger, "notifier": notifier}},
    )
    yield mt
    mt.stop()


def test_metrics_tracker_writes_series_into_the_same_store(adapter: Any, tmp_path: Path) -> None:
    """FileMetricsTracker as lolpop builds it, next to the metadata tracker: MLflow's behaviour
    (split keys, performance metadata, copy, prediction metrics) as metric series."""
    import pandas as pd
    from lolpop.utils import common_utils as utils

    cls = utils.load_class("FileMetricsTracker")
    assert cls.__module__.split(".")[-2] == "metrics_tracker"
    logger = adapter.logger
    mtr = cls(
        conf={},
        is_standalone=True,
        problem_type="classification",
        dependent_integrations={"component": {"logger": logger, "metadata_tracker": adapter}},
    )
    assert mtr.type == "metrics_tracker" and mtr.tracker is adapter.tracker
    assert mtr.url == adapter.url
    mv = adapter.create_resource(MODEL, type="model_version")
    exp = adapter.create_resource(id=None, type="experiment", parent=mv)
    metrics = {"train": {"f1": 0.9, "accuracy": 0.8}, "valid": {"f1": 0.7}, "test": {}}
    mtr.log_metrics(exp, metrics, "f1")
    mtr.log_metric(exp, "loss", 0.5)
    mtr.log_metric(exp, "loss", 0.25)
    assert mtr.get_metric(exp, "valid_f1") == 0.7 and mtr.get_metric(exp, "nope") is None
    assert adapter.get_metadata(exp, "performance_metric") == "f1"
    assert adapter.get_metadata(exp, "performance_metric_value") == 0.7
    assert [p.value for p in adapter.tracker.get_metric_history(exp, "loss")] == [0.5, 0.25]
    adapter.log_metadata(exp, "training_params", {"max_depth": 3})
    mtr.copy_metrics(exp, mv)
    assert adapter.tracker.get_metrics(mv) == {
        "loss": 0.25, "train_accuracy": 0.8, "train_f1": 0.9, "valid_f1": 0.7
    }  # fmt: skip
    assert adapter.get_metadata(mv, "training_params") == {"max_depth": 3}
    job = adapter.create_resource(id="jobs", type="prediction_job", parent=mv)
    mtr.log_prediction_metrics(job, pd.Series([1, 0, 1, 1]))
    assert mtr.get_metric(job, "num_predictions") == 4
    assert adapter.get_metadata(job, "class_distribution") == {"1": 0.75, "0": 0.25}
    adapter.tracker.flush()
    chunks = list((tmp_path / "store/resources/experiment").rglob("metrics/valid_f1/*.tsv"))
    assert len(chunks) == 1 and chunks[0].read_text().splitlines()[2].endswith("\t0.7")


def test_model_repository_records_the_registry_states(adapter: Any) -> None:
    from lolpop.utils import common_utils as utils

    cls = utils.load_class("FileModelRepository")
    assert cls.__module__.split(".")[-2] == "model_repository"
    repo = cls(
        conf={},
        is_standalone=True,
        dependent_integrations={
            "component": {"logger": adapter.logger, "metadata_tracker": adapter}
        },
    )
    assert repo.type == "model_repository" and repo.tracker is adapter.tracker
    mv1 = adapter.create_resource(MODEL, type="model_version")
    mv2 = adapter.create_resource(MODEL, type="model_version")
    assert repo.register_model(mv1, object()) == mv1
    assert adapter.get_metadata(mv1, "status") == "REGISTERED"
    promotion = repo.promote_model(repo.register_model(mv1, object()))
    assert promotion == mv1 and adapter.get_metadata(mv1, "status") == "PROMOTED"
    assert repo.check_approval(promotion) is False
    assert repo.approve_model(promotion) is True and repo.check_approval(promotion) is True
    assert adapter.get_metadata(mv1, "approved") is True
    repo.promote_model(repo.register_model(mv2, object()))  # mv1 was promoted, never deployed
    assert adapter.get_metadata(mv1, "status") == "DEMOTED"
    assert adapter.get_metadata(mv2, "status") == "PROMOTED"
    assert adapter.get_metadata(mv2, "registered_model") == "object"


def test_lolpop_sees_a_metadata_tracker(adapter: Any, tmp_path: Path) -> None:
    assert type(adapter).__module__.split(".")[-2] == "metadata_tracker"
    assert adapter.type == "metadata_tracker"
    assert adapter.url == str(tmp_path / "store")
    assert not hasattr(adapter, "metadata_tracker")  # lolpop built no nested default tracker
    assert isinstance(adapter.tracker, Tracker)


def test_values_ids_and_repeated_calls(adapter: Any) -> None:
    from omegaconf import OmegaConf

    dv = adapter.create_resource("train_data", type="dataset_version")
    dv2 = adapter.create_resource("train_data", type="dataset_version")
    assert (dv.version, dv2.version) == (1, 2)
    mv = adapter.create_resource(MODEL, type="model_version")
    exp = adapter.create_resource(id=None, type="experiment", parent=mv)
    job = adapter.create_resource(
        id=f"{adapter.get_resource_id(mv)}_predictions",
        type="prediction_job",
        parent=mv,
        prediction_count=50,
    )
    model = adapter.get_resource(MODEL, type="model")
    for res in (dv, mv, exp, job, model):
        assert isinstance(adapter.get_resource_id(res), str)
    assert adapter.get_resource_id(exp, type="experiment") == exp.id
    assert adapter.get_parent_id(exp, type="experiment") == MODEL  # lolpop's meaning of type=
    assert adapter.get_resource(exp.id, type="experiment") == exp  # no parent needed

    params = OmegaConf.create({"max_depth": 3, "nested": {"xs": [1, 2]}, "ref": "${max_depth}"})
    adapter.register_vc_resource(
        exp, None, additional_metadata={"training_params": params, "model_trainer": "X"}
    )
    assert adapter.get_metadata(exp, "training_params") == {
        "max_depth": 3,
        "nested": {"xs": [1, 2]},
        "ref": 3,
    }
    assert adapter.get_vc_info(exp)["hexsha"] is None  # vc_info=None outside a repository
    for value in ("REGISTERED", "PROMOTED", "DEPLOYED"):
        adapter.log_metadata(mv, id="status", data=value)
    assert adapter.get_metadata(mv, "status") == "DEPLOYED"
    adapter.log_tag(mv, "note", OmegaConf.create(["a", "b"]))
    assert adapter.get_tag(mv, "note") == ["a", "b"]
    adapter.log_metadata(mv, "odd", object())  # stored as str, as lolpop's MLflow tracker does
    assert adapter.get_metadata(mv, "odd").startswith("<object object")
    sha = "ab" * 32
    adapter.register_vc_resource(mv, {"hexsha": sha, "uri": "/x"}, key="X_train")
    assert adapter.get_vc_info(mv, key="X_train_hexsha") == {"hexsha": sha, "uri": "/x"}
    assert adapter.get_latest_model_resource(model, type="prediction_job") == job
    assert adapter.get_prediction_job_model_version(job) == mv
    assert adapter.tracker.get_attributes(job)["prediction_count"] == 50


def test_keeps_working_after_stop(adapter: Any) -> None:
    mv = adapter.create_resource(MODEL, type="model_version")
    first = adapter.tracker.run_id
    adapter.stop()
    adapter.stop()  # idempotent
    assert adapter.tracker.run_id is None
    adapter.log_metadata(mv, "after", 1)
    assert adapter.get_metadata(mv, "after") == 1
    assert adapter.tracker.run_id not in (None, first)
    assert adapter.create_resource(MODEL, type="model_version").version == 2


def test_lineage_skips_resources_of_other_stores(adapter: Any, tmp_path: Path) -> None:
    """lolpop passes ``BaseProcess.datasets_used``, shared by every runner in the process."""
    other = Tracker(tmp_path / "other", git=False)
    foreign = other.create_resource("train_data", type="dataset_version")
    other.stop()
    dv = adapter.create_resource("train_data", type="dataset_version")
    mv = adapter.create_resource(MODEL, type="model_version")
    adapter.build_model_lineage(mv, [foreign, dv, dv])
    assert [n["ref"] for n in adapter.tracker.lineage(mv, "up")["links"]] == [dv.ref]


def test_config_falls_back_to_tracker_root(
    lolpop: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lolpop.component import StdOutLogger

    from tracker.integrations.lolpop.metadata_tracker.file_metadata_tracker import (
        FileMetadataTracker,
    )

    monkeypatch.setenv("TRACKER_ROOT", str(tmp_path / "env-store"))
    logger = StdOutLogger(conf={"config": {"log_level": "ERROR"}}, is_standalone=True)
    deps = {"component": {"logger": logger, "notifier": None}}
    mt = FileMetadataTracker(conf=None, is_standalone=True, dependent_integrations=deps)
    assert mt.url == str(tmp_path / "env-store")


def test_load_model_uses_lolpop_class_loader(adapter: Any) -> None:
    from lolpop.component import BaseResourceVersionControl, XGBoostModelTrainer

    peers = {"logger": adapter.logger, "notifier": adapter.notifier, "metadata_tracker": adapter}
    adapter.resource_version_control = BaseResourceVersionControl(
        conf={}, is_standalone=True, dependent_integrations={"component": peers}
    )
    mv = adapter.create_resource(MODEL, type="model_version")
    exp = adapter.create_resource(None, type="experiment", parent=mv)
    adapter.log_metadata(mv, "winning_experiment_id", adapter.get_resource_id(exp))
    adapter.log_metadata(mv, "winning_experiment_model_trainer", "XGBoostModelTrainer")
    fitted = object()
    trainer = adapter.load_model(fitted, mv, None)
    assert isinstance(trainer, XGBoostModelTrainer)
    assert trainer._get_model() is fitted and trainer.metadata_tracker is adapter
    # a recorded name is looked up among lolpop's known classes, never imported
    adapter.log_metadata(mv, "winning_experiment_model_trainer", "os.system")
    with pytest.raises(ResourceNotFound, match=r"lolpop knows no class 'os\.system'"):
        adapter.load_model(fitted, mv, None)


# -- end to end: lolpop's ClassificationRunner, twice, in a git repository ------------------------
def git(repo: Path, *args: str) -> str:
    cmd = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args]
    return subprocess.run(cmd, cwd=repo, check=True, capture_output=True, text=True).stdout.strip()


def commit(repo: Path, text: str) -> str:
    (repo / "README").write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", text)
    return git(repo, "rev-parse", "HEAD")


def lolpop_run(repo: Path, *args: str, base_env: dict[str, str] | None = None) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, str(PROJECT / "run.py"), *args],
        cwd=repo,
        env=child_env(base_env),
        capture_output=True,
        text=True,
        timeout=600,
    )
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("E2E-RESULT ")]
    assert proc.returncode == 0 and lines, f"{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}"
    result: dict[str, Any] = json.loads(lines[-1].split(" ", 1)[1])
    return result


@pytest.fixture(scope="module")
def e2e(lolpop: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Run 1 enables the adapter with ``register()``, run 2 with ``plugin_paths``; a commit
    between them, so each run records its own commit."""
    repo = tmp_path_factory.mktemp("lolpop-repo")
    git(repo, "init", "-q")
    (repo / ".gitignore").write_text("data/\nout/\nstore/\n")
    first = commit(repo, "first")
    run1 = lolpop_run(repo, "--enable", "register", "--seed", "0")
    second = commit(repo, "second")
    run2 = lolpop_run(repo, "--enable", "plugin", "--seed", "1", "--rows", "400")
    return {"repo": repo, "commits": [first, second], "results": [run1, run2]}


@pytest.fixture
def store(e2e: dict[str, Any]) -> Iterator[Tracker]:
    t = Tracker(e2e["repo"] / "store", git=False)
    yield t
    t.stop()


def test_e2e_lolpop_used_the_adapter(e2e: dict[str, Any]) -> None:
    for result in e2e["results"]:
        assert result["class"] == "FileMetadataTracker"
        assert result["module"] == (
            "tracker.integrations.lolpop.metadata_tracker.file_metadata_tracker"
        )
        assert result["type"] == "metadata_tracker"
        assert result["shared"] and not result["nested_default"]
        assert not result["mlflow_imported"] and not result["mlruns"]
        assert result["url"] == str(e2e["repo"] / "store")
        assert result["metrics_class"] == "FileMetricsTracker"
        assert result["metrics_module"] == (
            "tracker.integrations.lolpop.metrics_tracker.file_metrics_tracker"
        )
        assert result["metrics_type"] == "metrics_tracker" and result["metrics_shares_store"]


def test_e2e_model_versions_and_winners(store: Tracker) -> None:
    assert store.get_resource(MODEL, type="model_version").version == 2
    for version in (1, 2):
        mv = store.get_resource(MODEL, type="model_version", version=version)
        assert store.get_metadata(mv, "winning_experiment_model_trainer") == "XGBoostModelTrainer"
        exp = store.get_winning_experiment(mv)
        assert isinstance(exp, Resource) and exp.type == "experiment"
        assert exp.parent == mv.ref and exp.id == store.get_metadata(mv, "winning_experiment_id")
        meta = store.get_all_metadata(exp)
        assert meta["model_trainer"] == "XGBoostModelTrainer"
        assert meta["training_params"] == {"max_depth": 3, "n_estimators": 10, "random_state": 0}
        metrics = store.get_metrics(exp)  # lolpop's metrics tracker: series of the experiment
        assert {f"{s}_f1" for s in ("train", "valid", "test")} <= set(metrics)
        assert meta["performance_metric"] == "f1"
        assert meta["performance_metric_value"] == metrics["valid_f1"]
        assert [p.step for p in store.get_metric_history(exp, "valid_f1")] == [0]
        model_file = Path(meta["uri"])  # the version control's content address
        assert hashlib.sha256(model_file.read_bytes()).hexdigest() == meta["hexsha"]
        for split in ("X_train", "X_valid", "X_test", "y_train", "y_valid", "y_test"):
            assert len(store.get_vc_info(mv, split)["hexsha"]) == 64
    mv1 = store.get_resource(MODEL, type="model_version", version=1)
    mv2 = store.get_resource(MODEL, type="model_version", version=2)
    assert store.get_metadata(mv1, "status") == "DEPLOYED"  # the first model is always deployed
    # FileModelRepository: registered, promoted and approved as metadata of the version
    assert store.get_metadata(mv1, "registered_model") == "XGBoostModelTrainer"
    assert store.get_metadata(mv1, "promoted_to") == "Production"
    assert store.get_metadata(mv1, "approved") is True
    assert store.get_currently_deployed_model_version(mv2) == mv1
    assert "model_drift_report" in store.artifacts(mv2)  # compared with the deployed model


def test_e2e_prediction_jobs(store: Tracker) -> None:
    model = store.get_resource(MODEL, type="model")
    job = store.get_latest_model_resource(model, "prediction_job")
    mv2 = store.get_resource(MODEL, type="model_version", version=2)
    assert job is not None and job.ref == f"prediction_job/{MODEL}_predictions@2"
    assert store.get_prediction_job_model_version(job) == mv2
    for version in (1, 2):
        job = store.get_resource(f"{MODEL}_predictions", "prediction_job", version=version)
        assert store.get_attributes(job)["prediction_count"] == 50
        assert "prediction_checks" in store.artifacts(job)
        # evaluate_ground_truth ran after stop(): load_model rebuilt the trainer to score it
        job_metrics = store.get_metrics(job)
        assert job_metrics["num_ground_truth_observations"] == 25
        assert job_metrics["num_predictions"] == 50  # log_prediction_metrics
        assert 0 <= job_metrics["train_accuracy"] <= 1
        assert sum(store.get_metadata(job, "class_distribution").values()) == pytest.approx(1)


def test_e2e_datasets_and_lineage(store: Tracker) -> None:
    for version in (1, 2):
        mv = store.get_resource(MODEL, type="model_version", version=version)
        up = store.lineage(mv, "up")
        assert [(n["relation"], n["ref"]) for n in up["links"]] == [
            ("trained_on", f"dataset_version/train_data@{version}")
        ]
        dv = store.get_resource("train_data", "dataset_version", version=version)
        assert {"data_profile", "data_checks"} <= set(store.artifacts(dv))
        assert len(store.get_vc_info(dv)["hexsha"]) == 64
    dv2 = store.get_resource("train_data", "dataset_version", version=2)
    dv1 = store.get_resource("train_data", "dataset_version", version=1)
    assert store.get_prev_resource_version(dv2) == dv1
    assert "data_comparison" in store.artifacts(dv2)  # compared with the previous version
    assert "data_comparison" not in store.artifacts(dv1)
    down = store.lineage(dv2, "down")
    assert [n["ref"] for n in down["links"]] == [f"model_version/{MODEL}@2"]


def test_e2e_runs_record_git_commits(store: Tracker, e2e: dict[str, Any]) -> None:
    runs = list(reversed(store.runs()))  # oldest first
    # each process: build_all's run, then evaluate_ground_truth's run after stop()
    assert len(runs) == 4
    assert {r["status"] for r in runs} == {"FINISHED"}
    assert {r["name"] for r in runs} == {"lolpop-e2e"}
    first, second = e2e["commits"]
    assert [r["git"]["hexsha"] for r in runs] == [first, first, second, second]
    assert not any(r["git"]["dirty"] for r in runs)
    assert store.get_resource(MODEL, type="model_version", version=2).run_id == runs[2]["id"]


def test_e2e_store_is_consistent(store: Tracker) -> None:
    report = store.check()
    assert report.ok, report.as_dict()


def test_extension_dir_on_pythonpath(lolpop: Any, tmp_path: Path) -> None:
    """The third way (e.g. for ``lolpop run`` on the command line): PYTHONPATH."""
    import tracker.integrations.lolpop as tl

    proc = python(
        """
        from lolpop.utils import common_utils as utils
        print(utils.load_class("FileMetadataTracker").__module__)
        """,
        tmp_path,
        PYTHONPATH=os.pathsep.join(
            p for p in (tl.extension_dir(), child_env().get("PYTHONPATH")) if p
        ),
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == [
        "tracker.integrations.lolpop.metadata_tracker.file_metadata_tracker"
    ]


# -- the same on S3 (a moto server), when s3fs and moto are installed -----------------------------
@pytest.fixture(scope="module")
def s3_server(lolpop: Any) -> Iterator[Any]:
    pytest.importorskip("s3fs", reason="s3fs is not installed (pip install '.[s3]')")
    pytest.importorskip("moto.server", reason="moto is not installed (pip install 'moto[server]')")
    from tests.support.s3server import MotoServer, make_bucket

    with MotoServer() as server:
        make_bucket(server.endpoint_url, "lolpop")
        yield server


def test_e2e_on_s3(s3_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.support.s3server import ENV_VARS_TO_UNSET, s3_env, storage_options, subprocess_env

    for name in ENV_VARS_TO_UNSET:
        monkeypatch.delenv(name, raising=False)
    for name, value in s3_env().items():
        monkeypatch.setenv(name, value)
    options = storage_options(s3_server.endpoint_url)
    root = "s3://lolpop/store"
    result = lolpop_run(
        tmp_path,
        *("--enable", "register", "--root", root),
        *("--storage-options", json.dumps(options)),
        base_env=subprocess_env(),
    )
    assert result["url"] == root and result["class"] == "FileMetadataTracker"
    with Tracker(root, storage_options=options, git=False) as store:
        mv = store.get_resource(MODEL, type="model_version")
        assert mv.version == 1 and store.get_metadata(mv, "status") == "DEPLOYED"
        exp = store.get_winning_experiment(mv)
        assert exp is not None and exp.parent == mv.ref
        assert [n["ref"] for n in store.lineage(mv, "up")["links"]] == [
            "dataset_version/train_data@1"
        ]
        job = store.get_latest_model_resource(
            store.get_resource(MODEL, type="model"), "prediction_job"
        )
        assert job is not None and store.get_prediction_job_model_version(job) == mv
        assert store.get_metrics(job)["num_ground_truth_observations"] == 25  # a metric series
        dv = store.get_resource("train_data", "dataset_version")
        assert "PassengerId" in Path(store.get_artifact(dv, "data_profile")).read_text()
        assert store.check().ok
