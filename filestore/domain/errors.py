"""Domain errors: values a user can act on, each mapped once to a status at the edge."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class FilestoreError(Exception):
    """Base of every error the domain raises on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(FilestoreError):
    """The request is well-formed but a value breaks a rule (HTTP 422)."""

    def __init__(self, message: str, details: Sequence[dict[str, Any]] = ()) -> None:
        super().__init__(message)
        self.details = list(details)


class NotFound(FilestoreError):
    """Absent, malformed, or someone else's: never a hint which (HTTP 404)."""


class Conflict(FilestoreError):
    """The thing exists but is in the wrong state for this (HTTP 409)."""


class NameTaken(Conflict):
    """A name is taken in the folder a file or folder was to go (HTTP 409, naming what holds
    it in `details`)."""

    def __init__(self, kind: str, item_id: str, name: str) -> None:
        what = "A folder" if kind == "folder" else "A file"
        super().__init__(f'{what} named "{name}" is already there; choose another name.')
        self.details = [{"kind": kind, "id": item_id, "name": name}]


class TooLarge(FilestoreError):
    """A declared size over a limit or over the user's quota (HTTP 413)."""


class QuotaExceeded(TooLarge):
    """Stored plus pending bytes would pass the user's quota (HTTP 413)."""


class AlreadyExists(FilestoreError):
    """A unique value (a user's sub, an object key, a token) is taken."""


class ConcurrencyConflict(FilestoreError):
    """Someone else changed the same row first; the command may be retried."""


class ServiceUnavailable(FilestoreError):
    """A dependency (the database waking from pause) did not answer in time (HTTP 503)."""

    def __init__(self, message: str, retry_after: int = 10) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ConnectionGone(FilestoreError):
    """A realtime connection no longer exists and should be forgotten."""
