"""``load_model``: rebuild a trainer for the winning experiment without trusting the store.

Nothing is imported or unpickled implicitly. A class recorded in the store is imported only when
its module is listed in ``trusted_modules``; a stored model file is deserialized only through a
``loader`` callable the caller passes.
"""

from __future__ import annotations

import copy
import importlib
from collections.abc import Callable
from typing import Any

from tracker.core.artifacts import Artifacts
from tracker.core.lifecycle import Lifecycle
from tracker.core.records import Records
from tracker.core.resolve import Resolver
from tracker.errors import ResourceNotFound, UntrustedCode


def is_trusted(module: str, trusted: tuple[str, ...]) -> bool:
    """``pkg.sub`` is trusted by ``pkg.sub`` or ``pkg`` (whole dotted components only)."""
    return any(module == t or module.startswith(t + ".") for t in trusted if t)


def import_trusted(path: str, trusted: tuple[str, ...]) -> Any:
    module, _, name = str(path).rpartition(".")
    if not module or not name:
        raise UntrustedCode(f"{path!r} is not an import path like 'package.module.Class'")
    if not is_trusted(module, trusted):
        raise UntrustedCode(
            f"the store names the trainer class {path!r}, but module {module!r} is not trusted; "
            f"pass Tracker(..., trusted_modules=[{module.split('.')[0]!r}]) if you trust it, or "
            "pass ref_model="
        )
    obj = importlib.import_module(module)
    for part in name.split("."):
        obj = getattr(obj, part)
    return obj


def set_model(trainer: Any, model_obj: Any) -> Any:
    setter = getattr(trainer, "_set_model", None)
    if callable(setter):
        setter(model_obj)
    else:
        trainer.model = model_obj
    return trainer


class Loader:
    """Builds trainers; ``trusted_modules`` is the only way a stored class name gets imported."""

    def __init__(
        self,
        resolver: Resolver,
        lifecycle: Lifecycle,
        records: Records,
        artifacts: Artifacts,
        trusted_modules: tuple[str, ...],
    ) -> None:
        self.resolver, self.lifecycle, self.records = resolver, lifecycle, records
        self.artifacts, self.trusted_modules = artifacts, trusted_modules

    def load_model(
        self,
        model_obj: Any,
        model_version: Any,
        ref_model: Any = None,
        loader: Callable[[str], Any] | None = None,
    ) -> Any:
        """A trainer for ``model_version``'s winning experiment holding ``model_obj``.

        With ``ref_model``: a copy of it with the experiment's recorded ``params`` (if any).
        Without: the class recorded as the experiment's ``model_trainer`` metadata, built with its
        ``model_trainer_kwargs`` - only if its module is trusted. With ``model_obj=None``: the
        experiment's ``model`` artifact read by ``loader(path)``.
        """
        mv = self.resolver.resolve(model_version)
        experiment = self.lifecycle.winning_experiment(mv)
        if experiment is None:
            raise ResourceNotFound(
                f"{mv.ref} has no winning experiment (no 'winning_experiment_id' tag or metadata)"
            )
        meta = self.records.load(experiment, "metadata")
        if model_obj is None:
            if loader is None:
                raise UntrustedCode(
                    f"model_obj is None, so the model would be read from the 'model' artifact of "
                    f"{experiment.ref}; pass loader=<callable taking a path> (e.g. joblib.load) "
                    "if you trust that file"
                )
            model_obj = loader(self.artifacts.get(experiment, "model", None, False))
        if ref_model is not None:
            trainer = copy.copy(ref_model)
            if isinstance(meta.get("params"), dict) and hasattr(trainer, "params"):
                trainer.params = meta["params"]
        else:
            path = meta.get("model_trainer")
            if not path:
                raise ResourceNotFound(
                    f"{experiment.ref} records no 'model_trainer' class; pass ref_model="
                )
            cls = import_trusted(str(path), self.trusted_modules)
            init = meta.get("model_trainer_kwargs") or {}
            trainer = cls(**init) if isinstance(init, dict) else cls()
            if isinstance(meta.get("params"), dict) and not hasattr(trainer, "params"):
                trainer.params = meta["params"]
        return set_model(trainer, model_obj)
