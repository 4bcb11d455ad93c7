"""What the use cases answer, beyond the aggregates themselves."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from filestore.domain.model import Folder, Upload
from filestore.domain.ports import PresignedPost


@dataclass(frozen=True)
class MultipartPlan:
    """How to split a multipart upload: every part is `part_size` bytes but the last."""

    part_size: int
    part_count: int


@dataclass(frozen=True)
class UploadTicket:
    """A requested upload and how to send its bytes: one form POST, or parts."""

    upload: Upload
    post: PresignedPost | None = None
    multipart: MultipartPlan | None = None


@dataclass(frozen=True)
class UploadPage:
    """One page of a listing; `next_cursor` asks for the next one (None on the last)."""

    items: list[Upload]
    next_cursor: str | None


@dataclass(frozen=True)
class FolderPage:
    """One page of folders, by name; `next_cursor` asks for the next one (None on the last)."""

    items: list[Folder]
    next_cursor: str | None


@dataclass(frozen=True)
class FolderWithPath:
    """A folder and the folders it is in, outermost first, itself last (the root not listed)."""

    folder: Folder
    path: list[Folder]


@dataclass(frozen=True)
class TrashItem:
    """One thing put in the trash directly, and when the sweep deletes it for good."""

    item: Upload | Folder
    purge_at: datetime


@dataclass(frozen=True)
class TrashPage:
    """One page of the trash, most recently trashed first."""

    items: list[TrashItem]
    next_cursor: str | None


@dataclass(frozen=True)
class DownloadLink:
    """A short-lived URL that downloads a file."""

    url: str
    expires_at: datetime


@dataclass(frozen=True)
class SharedFile:
    """What a share link shows anyone holding it: `expires_at` is when `url` stops working (a
    few minutes), `share_expires_at` when the link itself does."""

    name: str
    size: int
    url: str
    expires_at: datetime
    share_expires_at: datetime | None = None


class StoredOutcome(StrEnum):
    """What recording a stored object did."""

    STORED = "stored"
    FAILED = "failed"  # the object did not match the declaration; it was deleted
    DUPLICATE = "duplicate"  # already stored: an at-least-once repeat
    REJECTED = "rejected"  # its upload is deleted, failed or expired; the object was deleted
    ORPHAN = "orphan"  # no upload has this key; the object was deleted
    MISSING = "missing"  # the object is no longer there; nothing to do


@dataclass(frozen=True)
class ReconcileReport:
    """What one sweep did."""

    completed: int = 0
    failed: int = 0
    expired: int = 0
    connections_removed: int = 0
    # The time budget ran out before every pending upload was looked at.
    stopped_early: bool = False
    # Items deleted for good after their time in the trash.
    purged: int = 0


class EmailNotice(StrEnum):
    """What became of an event's e-mail (`NotifyByEmail`)."""

    SENT = "sent"
    # Nothing to send: the event is not mailed, the user did not opt in (or is gone), or no
    # e-mail sender is configured.
    NOT_MAILED = "not_mailed"
    # The user wants it, but their address bounced or complained: it is not sent.
    UNDELIVERABLE = "undeliverable"
    # This event was handled before (a redelivery).
    REPEAT = "repeat"


@dataclass(frozen=True)
class UndeliverableMarks:
    """What a bounce or complaint report changed (`MarkEmailUndeliverable`)."""

    # The users whose status changed now (not those already marked so).
    user_ids: tuple[str, ...]
    # The report was handled before (a redelivery): nothing was looked at.
    repeat: bool = False
