"""lolpop extension entry: lolpop's extension scan imports this file and registers the class.

This directory tree mirrors ``lolpop/extension/<name>/component/<type>/<file>.py`` so that
``tracker.integrations.lolpop.register()`` only has to put its root on ``sys.path``. The class is
defined in ``tracker.integrations.lolpop.metadata_tracker.file_metadata_tracker``, whose module
name already tells lolpop it is a ``metadata_tracker``.
"""

from tracker.integrations.lolpop.metadata_tracker.file_metadata_tracker import (
    FileMetadataTracker,
)

__all__ = ["FileMetadataTracker"]
