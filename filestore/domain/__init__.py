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
    NameTaken,
    NotFound,
    QuotaExceeded,
    ServiceUnavailable,
    TooLarge,
)
from filestore.domain.messagebus import MessageBus
from filestore.domain.model import (
    Connection,
    EmailStatus,
    Folder,
    FolderStatus,
    OnConflict,
    Share,
    Upload,
    UploadStatus,
    User,
)
from filestore.domain.ports import ANY_FOLDER, SortField

__all__ = [
    "ANY_FOLDER",
    "Actor",
    "AlreadyExists",
    "ConcurrencyConflict",
    "Conflict",
    "Connection",
    "EmailStatus",
    "FilestoreError",
    "Folder",
    "FolderStatus",
    "InvalidInput",
    "MessageBus",
    "NameTaken",
    "NotFound",
    "OnConflict",
    "QuotaExceeded",
    "ServiceUnavailable",
    "Share",
    "SortField",
    "TooLarge",
    "Upload",
    "UploadStatus",
    "User",
]
