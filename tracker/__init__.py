"""tracker: ML metadata (runs, resource versions, tags, metadata, artifacts, lineage, git commits)
as plain YAML files and copied artifacts under a local directory or any fsspec URL."""

from tracker.core.resource import Resource, Series, parse_ref
from tracker.core.results import Results
from tracker.core.tracker import Tracker
from tracker.errors import (
    ArtifactNotFound,
    ChecksumMismatch,
    CorruptFile,
    ExpressionError,
    InvalidArgument,
    InvalidKey,
    InvalidRef,
    KeyCollision,
    MissingDependency,
    ResourceNotFound,
    SourceNotFound,
    StoreError,
    StoreFormatError,
    StoreNotFound,
    TrackerError,
    UnknownArgument,
    UnsupportedValue,
    UntrustedCode,
    VersionControlError,
)
from tracker.integrations.lolpop.interface import BaseMetadataTracker
from tracker.integrations.lolpop.loose import FileMetadataTracker
from tracker.store.chunks import MetricPoint

__version__ = "0.1.0"

__all__ = [
    "ArtifactNotFound",
    "BaseMetadataTracker",
    "ChecksumMismatch",
    "CorruptFile",
    "ExpressionError",
    "FileMetadataTracker",
    "InvalidArgument",
    "InvalidKey",
    "InvalidRef",
    "KeyCollision",
    "MetricPoint",
    "MissingDependency",
    "Resource",
    "ResourceNotFound",
    "Results",
    "Series",
    "SourceNotFound",
    "StoreError",
    "StoreFormatError",
    "StoreNotFound",
    "Tracker",
    "TrackerError",
    "UnknownArgument",
    "UnsupportedValue",
    "UntrustedCode",
    "VersionControlError",
    "__version__",
    "parse_ref",
]
