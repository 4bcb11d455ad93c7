"""filestore's core: the model, its rules, commands, events, ports and use cases.

Pure Python (the standard library and pydantic): importing it loads no AWS SDK, no database
driver and no framework.

The names below are loaded when first used (PEP 562): a program that needs one module of the
domain (the command-line client needs its naming rules) does not pay for importing all of it,
pydantic models included.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

# Where each name below lives.
_HOMES = {
    "ANY_FOLDER": "ports",
    "Actor": "commands",
    "AlreadyExists": "errors",
    "ConcurrencyConflict": "errors",
    "Conflict": "errors",
    "Connection": "model",
    "EmailStatus": "model",
    "FilestoreError": "errors",
    "Folder": "model",
    "FolderStatus": "model",
    "InvalidInput": "errors",
    "MessageBus": "messagebus",
    "NameTaken": "errors",
    "NotFound": "errors",
    "OnConflict": "model",
    "QuotaExceeded": "errors",
    "ServiceUnavailable": "errors",
    "Share": "model",
    "SortField": "ports",
    "TooLarge": "errors",
    "Upload": "model",
    "UploadStatus": "model",
    "User": "model",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"filestore.domain.{home}"), name)
    globals()[name] = value
    return value


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
