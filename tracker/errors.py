"""The one error hierarchy of the tracker.

Every error says what was asked, what was found and what to do. Each subclasses the builtin that
fits, so callers that already catch ``KeyError``/``ValueError``/``TypeError`` keep working.
"""

from __future__ import annotations


class TrackerError(Exception):
    """Base of every error raised on purpose by the tracker."""


class StoreError(TrackerError, OSError):
    """The store could not be read or written (permissions, network, a missing root)."""


class StoreNotFound(StoreError, FileNotFoundError):
    """A read-only open of a root that holds no store (no ``tracker.yaml``)."""


class StoreFormatError(TrackerError, ValueError):
    """The store was written by another (newer) format, or a file in it is not what it should be."""


class CorruptFile(StoreFormatError):
    """A file in the store does not parse or does not hold what its path says it holds."""


class ResourceNotFound(TrackerError, KeyError):
    """A resource (or run, or artifact) that was asked for does not exist."""

    def __str__(self) -> str:  # KeyError quotes its message; we want it readable
        return str(self.args[0]) if self.args else ""


class ArtifactNotFound(ResourceNotFound):
    """An artifact id that was never logged on that resource."""


class SourceNotFound(TrackerError, FileNotFoundError):
    """A local file or directory handed to ``log_artifact`` does not exist."""


class UnsupportedSource(TrackerError, ValueError):
    """What ``log_artifact`` was given cannot be copied as it is: a link (without
    ``follow_symlinks=True``), a FIFO, device or socket, or a file that kept growing; nothing
    was recorded."""


class DestinationExists(TrackerError, FileExistsError):
    """``get_artifact(dest=...)`` would replace an existing file or folder; pass
    ``overwrite=True`` (``--force``) to replace it once the new copy is complete and verified."""


class InvalidKey(TrackerError, ValueError):
    """An id, key, type or artifact id that cannot name a file (empty, too long, not text)."""


class KeyCollision(TrackerError, ValueError):
    """Two different keys map to one file (a case-insensitive filesystem); nothing was returned."""


class InvalidRef(TrackerError, ValueError):
    """A ref string that is not ``type/id``, ``type/id@version`` or a run id."""


class UnsupportedValue(TrackerError, TypeError):
    """A value that cannot be stored as plain YAML; nothing was written."""


class ChecksumMismatch(TrackerError, ValueError):
    """An artifact's bytes do not match the sha256 recorded when it was logged."""


class ExpressionError(TrackerError, ValueError):
    """A ``where`` expression that does not parse; carries the column and what was expected."""

    def __init__(self, message: str, text: str = "", column: int = 0, expected: str = "") -> None:
        super().__init__(message)
        self.text = text
        self.column = column
        self.expected = expected


class InvalidArgument(TrackerError, ValueError):
    """An argument outside what the call accepts (a limit that is not a positive number)."""


class UntrustedCode(TrackerError, PermissionError):
    """Loading would import a module or unpickle a file the caller did not explicitly trust."""


class VersionControlError(TrackerError, ValueError):
    """Version-control information that is malformed (a hexsha that is not hex) or unreadable."""


class MissingDependency(TrackerError, ImportError):
    """An optional extra (pandas, s3fs, tqdm) is needed for what was asked; says what to install."""


class FieldWarning(UserWarning):
    """A query names a key no record in scope has (``tags.stauts``): it matches nothing, which
    may be right (nothing tagged yet) or a typo; the message suggests the keys that exist."""


class DeletionConflict(TrackerError, ValueError):
    """A deletion or restore that cannot happen now: already deleted, being deleted by another
    process, a run still running, a version purged from the trash."""


class InvalidDuration(TrackerError, ValueError):
    """An age such as ``30d`` that does not parse (``<number><d|h|m|s>``, or seconds)."""
