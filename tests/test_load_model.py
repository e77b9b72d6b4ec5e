"""``load_model``: rebuilt from a reference, from a trusted recorded class, or refused."""

from __future__ import annotations

import json
import sys
import types

import pytest

from tracker import Tracker, UntrustedCode


class Trainer:
    def __init__(self, depth: int = 1) -> None:
        self.depth = depth
        self.params = {"depth": depth}
        self.model = None


class SetterTrainer(Trainer):
    def _set_model(self, model) -> None:
        self.model = ("set", model)


@pytest.fixture
def store(tmp_path):
    t = Tracker(str(tmp_path / "s"), git=False)
    mv = t.create_resource("m", type="model_version")
    ex = t.create_resource("winner", type="experiment", parent=mv)
    t.log_metadata(ex, "params", {"depth": 7})
    t.log_metadata(mv, "winning_experiment_id", "winner")
    model_file = tmp_path / "model.json"
    model_file.write_text(json.dumps({"weights": [1, 2]}))
    t.log_artifact(ex, "model", str(model_file))
    yield t, mv, ex
    t.stop()


def test_with_ref_model(store):
    t, mv, _ = store
    ref = Trainer(depth=2)
    trainer = t.load_model("fitted", mv, ref)
    assert type(trainer) is Trainer and trainer is not ref
    assert trainer.model == "fitted" and trainer.params == {"depth": 7} and trainer.depth == 2
    assert ref.model is None
    assert t.load_model("fitted", mv, SetterTrainer()).model == ("set", "fitted")


def test_recorded_class_needs_trust(store, monkeypatch):
    t, mv, ex = store
    module = types.ModuleType("trusted_trainers")
    module.Trainer = Trainer  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "trusted_trainers", module)
    t.log_metadata(ex, "model_trainer", "trusted_trainers.Trainer")
    t.log_metadata(ex, "model_trainer_kwargs", {"depth": 5})
    with pytest.raises(UntrustedCode, match="trusted_modules"):
        t.load_model("fitted", mv, None)
    trusting = Tracker(t.url, git=False, trusted_modules=["trusted_trainers"])
    trainer = trusting.load_model("fitted", mv, None)
    assert isinstance(trainer, Trainer) and trainer.depth == 5 and trainer.model == "fitted"


def test_untrusted_module_is_never_imported(store, monkeypatch):
    t, mv, ex = store
    t.log_metadata(ex, "model_trainer", "os.system")
    imported = []
    real_import = __import__

    def spy(name, *args, **kwargs):
        imported.append(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr("builtins.__import__", spy)
    with pytest.raises(UntrustedCode):
        Tracker(t.url, git=False, trusted_modules=["ossify"]).load_model("x", mv, None)
    assert "os" not in imported


def test_model_file_needs_a_loader(store):
    t, mv, _ = store
    with pytest.raises(UntrustedCode, match="loader="):
        t.load_model(None, mv, Trainer())

    def load(path):
        with open(path) as fh:
            return json.load(fh)

    trainer = t.load_model(None, mv, Trainer(), loader=load)
    assert trainer.model == {"weights": [1, 2]}
