"""lolpop extension entry for the model repository (see the metadata tracker's file)."""

from tracker.integrations.lolpop.model_repository.file_model_repository import (
    FileModelRepository,
)

__all__ = ["FileModelRepository"]
