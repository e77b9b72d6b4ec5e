"""Use the tracker as lolpop's metadata tracker (``metadata_tracker: FileMetadataTracker``) and
metrics tracker (``metrics_tracker: FileMetricsTracker``) and model repository
(``model_repository: FileModelRepository``).

lolpop finds components by class name among its built-ins, its extensions (directories named
``lolpop/extension/<ext>/component/<type>/`` on ``sys.path`` when lolpop is imported) and the
plugin files listed in the runner's ``plugin_paths``. This package ships both an extension
directory and a plugin file; enable the adapter with one of:

* ``tracker.integrations.lolpop.register()`` in your script (before or after ``import lolpop``);
* ``plugin_paths: [<tracker.integrations.lolpop.plugin_path()>]`` under the runner's ``config:``,
  which also works for the ``lolpop`` command line;
* ``PYTHONPATH=<tracker.integrations.lolpop.extension_dir()>`` in the environment.

Nothing here imports lolpop: ``import tracker.integrations.lolpop`` works without it.
"""

from __future__ import annotations

import sys
from pathlib import Path

__all__ = [
    "CLASS_NAME",
    "METRICS_CLASS_NAME",
    "REPOSITORY_CLASS_NAME",
    "extension_dir",
    "plugin_path",
    "register",
]

CLASS_NAME = "FileMetadataTracker"
"""The name to put under ``component: metadata_tracker:`` in a lolpop config."""

METRICS_CLASS_NAME = "FileMetricsTracker"
"""The name to put under ``component: metrics_tracker:``."""
REPOSITORY_CLASS_NAME = "FileModelRepository"
"""The name to put under ``component: model_repository:``."""

_HERE = Path(__file__).resolve().parent
_ADAPTERS = {
    CLASS_NAME: "tracker.integrations.lolpop.metadata_tracker.file_metadata_tracker",
    METRICS_CLASS_NAME: "tracker.integrations.lolpop.metrics_tracker.file_metrics_tracker",
    REPOSITORY_CLASS_NAME: "tracker.integrations.lolpop.model_repository.file_model_repository",
}


def extension_dir() -> str:
    """The directory holding ``lolpop/extension/tracker/...``; lolpop scans it when it is on
    ``sys.path`` (or ``PYTHONPATH``) at ``import lolpop`` time."""
    return str(_HERE / "extension")


def plugin_path() -> str:
    """The plugin file to list under the runner's ``config: plugin_paths:``.

    It sits alone in its directory because lolpop appends that directory to ``sys.path``.
    """
    return str(_HERE / "plugin" / "tracker_lolpop_plugin.py")


def register() -> str:
    """Make lolpop resolve ``FileMetadataTracker``, ``FileMetricsTracker`` and
    ``FileModelRepository``; idempotent;
    returns :func:`extension_dir`.

    Before ``import lolpop`` it only puts the extension directory on ``sys.path`` (lolpop's
    ``pkgutil.extend_path`` picks it up). After, it also extends the already computed package
    paths and, when lolpop's extension scan has already run, adds the class to it directly,
    which imports lolpop.
    """
    ext = extension_dir()
    if ext not in sys.path:
        sys.path.append(ext)
    lolpop = sys.modules.get("lolpop")
    if lolpop is not None:
        _extend(lolpop, str(Path(ext) / "lolpop"))
        extension = sys.modules.get("lolpop.extension")
        if extension is not None:
            _extend(extension, str(Path(ext) / "lolpop" / "extension"))
            from importlib import import_module

            for name, module in _ADAPTERS.items():
                setattr(extension, name, getattr(import_module(module), name))
    return ext


def _extend(package: object, portion: str) -> None:
    """Append ``portion`` to a package's ``__path__`` (a list after ``extend_path``)."""
    path = getattr(package, "__path__", None)
    if isinstance(path, list) and portion not in path:
        path.append(portion)
