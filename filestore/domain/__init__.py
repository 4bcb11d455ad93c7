"""filestore's core: the model, its rules, commands, events, ports and use cases.

Pure Python (the standard library and pydantic): importing it loads no AWS SDK, no database
driver and no framework.
"""

from filestore.domain.commands import Actor
from filestore.domain.errors import (
    AlreadyExists,
    ConcurrencyConflict,
    Conflict,
    FilestoreError,
    InvalidInput,
    NotFound,
    QuotaExceeded,
    ServiceUnavailable,
    TooLarge,
)
from filestore.domain.messagebus import MessageBus
from filestore.domain.model import Connection, EmailStatus, Share, Upload, UploadStatus, User

__all__ = [
    "Actor",
    "AlreadyExists",
    "ConcurrencyConflict",
    "Conflict",
    "Connection",
    "EmailStatus",
    "FilestoreError",
    "InvalidInput",
    "MessageBus",
    "NotFound",
    "QuotaExceeded",
    "ServiceUnavailable",
    "Share",
    "TooLarge",
    "Upload",
    "UploadStatus",
    "User",
]
