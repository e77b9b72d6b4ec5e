"""lolpop plugin file: list its path (``tracker.integrations.lolpop.plugin_path()``) under the
runner's ``config: plugin_paths:`` and lolpop imports it by its stem and finds the class here.

A plugin is the way for the ``lolpop`` command line, which never runs user code that could call
``register()``. The re-exported class keeps its defining module, whose name makes lolpop treat it
as the ``metadata_tracker`` / ``metrics_tracker`` (see ``tracker.integrations.lolpop``).
"""

from tracker.integrations.lolpop.metadata_tracker.file_metadata_tracker import (
    FileMetadataTracker,
)
from tracker.integrations.lolpop.metrics_tracker.file_metrics_tracker import FileMetricsTracker
from tracker.integrations.lolpop.model_repository.file_model_repository import (
    FileModelRepository,
)

__all__ = ["FileMetadataTracker", "FileMetricsTracker", "FileModelRepository"]
