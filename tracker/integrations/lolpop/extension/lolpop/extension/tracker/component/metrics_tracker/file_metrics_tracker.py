"""lolpop extension entry for the metrics tracker (see the metadata tracker's file next door).

The class is defined in ``tracker.integrations.lolpop.metrics_tracker.file_metrics_tracker``,
whose module name tells lolpop it is a ``metrics_tracker``.
"""

from tracker.integrations.lolpop.metrics_tracker.file_metrics_tracker import (
    FileMetricsTracker,
)

__all__ = ["FileMetricsTracker"]
