"""Commands: what someone asks the system to do. Each has exactly one handler.

Commands issued on behalf of a signed-in person carry an `Actor` (the identity provider's `sub`
and e-mail); the user is registered on first sight.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Final, Literal

from filestore.domain.events import Event
from filestore.domain.model import EmailStatus, OnConflict
from filestore.domain.ports import ANY_FOLDER, CompletedPart, SortField


class _Unchanged(Enum):
    UNCHANGED = "unchanged"


# A field of an update that was not given: it changes nothing (unlike None, the root).
UNCHANGED: Final = _Unchanged.UNCHANGED
Unchanged = Literal[_Unchanged.UNCHANGED]


@dataclass(frozen=True)
class Actor:
    """The verified identity a request came with."""

    sub: str
    email: str


@dataclass(frozen=True)
class Command:
    """Base of every command."""


@dataclass(frozen=True)
class RegisterUser(Command):
    actor: Actor


@dataclass(frozen=True)
class GetMe(Command):
    actor: Actor


@dataclass(frozen=True)
class UpdatePreferences(Command):
    """Turn e-mail notifications on or off; on is also a new opt-in after a complaint."""

    actor: Actor
    notify_email: bool


@dataclass(frozen=True)
class MarkEmailUndeliverable(Command):
    """The mail service reports that mail to `addresses` bounced for good (`BOUNCED`) or was
    marked as spam (`COMPLAINED`): no more e-mail goes to them.

    `feedback_id` names the report (SES's `feedbackId`): a report delivered again changes
    nothing.
    """

    feedback_id: str
    addresses: tuple[str, ...]
    status: EmailStatus


@dataclass(frozen=True)
class ConfirmEmailDeliverable(Command):
    """Mail reached the actor's address again (they typed a code the identity provider sent
    there): a bounce recorded against it no longer holds."""

    actor: Actor


@dataclass(frozen=True)
class RequestUpload(Command):
    actor: Actor
    name: str
    size: int
    content_type: str
    sha256: str | None = None
    folder_id: str | None = None
    on_conflict: OnConflict = OnConflict.RENAME
    # The client sends SHA-256s (each part's, for a multipart upload) though it declared no
    # `sha256`: a declared `sha256` says so too.
    part_checksums: bool = False


@dataclass(frozen=True)
class SignParts(Command):
    actor: Actor
    upload_id: str
    part_numbers: tuple[int, ...]
    # Each part's SHA-256 (hex), in the order of `part_numbers`, for the URLs to sign.
    sha256s: tuple[str, ...] | None = None


@dataclass(frozen=True)
class ListParts(Command):
    actor: Actor
    upload_id: str


@dataclass(frozen=True)
class CompleteMultipart(Command):
    actor: Actor
    upload_id: str
    parts: tuple[CompletedPart, ...]


@dataclass(frozen=True)
class RecordStoredObject(Command):
    """The blob store says an object landed at `object_key` (an S3 `ObjectCreated` record)."""

    object_key: str
    size: int | None = None


@dataclass(frozen=True)
class RecordLostObject(Command):
    """The blob store found a stored object's bytes gone or changed (`reason` says which); its
    upload cannot be served any more."""

    object_key: str
    reason: str


@dataclass(frozen=True)
class ListUploads(Command):
    """A page of the actor's stored files (`folder`: an id, None for the root, ANY_FOLDER
    for all), sorted, optionally only those whose names contain `q`; or, with `pending`,
    their unfinished uploads newest first (which combines with nothing else)."""

    actor: Actor
    limit: int = 50
    cursor: str | None = None
    folder: str | None = ANY_FOLDER
    sort: SortField = SortField.CREATED_AT
    descending: bool = True
    q: str | None = None
    pending: bool = False


@dataclass(frozen=True)
class GetUpload(Command):
    actor: Actor
    upload_id: str


@dataclass(frozen=True)
class GetDownload(Command):
    actor: Actor
    upload_id: str


@dataclass(frozen=True)
class UpdateUpload(Command):
    """Rename and/or move a file (`folder_id` None: to the root)."""

    actor: Actor
    upload_id: str
    name: str | None = None
    folder_id: str | Unchanged | None = UNCHANGED


@dataclass(frozen=True)
class DeleteUpload(Command):
    """Put a stored file in the trash, or abort a pending upload (its multipart upload too)."""

    actor: Actor
    upload_id: str


@dataclass(frozen=True)
class CreateFolder(Command):
    actor: Actor
    name: str
    parent_id: str | None = None


@dataclass(frozen=True)
class GetFolder(Command):
    actor: Actor
    folder_id: str


@dataclass(frozen=True)
class ListFolders(Command):
    """A page of the folders in `parent_id` (None: the root), by name."""

    actor: Actor
    parent_id: str | None = None
    limit: int = 50
    cursor: str | None = None


@dataclass(frozen=True)
class UpdateFolder(Command):
    """Rename and/or move a folder (`parent_id` None: to the root)."""

    actor: Actor
    folder_id: str
    name: str | None = None
    parent_id: str | Unchanged | None = UNCHANGED


@dataclass(frozen=True)
class DeleteFolder(Command):
    """Put a folder in the trash with everything in it."""

    actor: Actor
    folder_id: str


@dataclass(frozen=True)
class ListTrash(Command):
    actor: Actor
    limit: int = 50
    cursor: str | None = None


@dataclass(frozen=True)
class RestoreFromTrash(Command):
    actor: Actor
    item_id: str


@dataclass(frozen=True)
class DeleteFromTrash(Command):
    """Delete forever one file or folder the actor put in the trash."""

    actor: Actor
    item_id: str


@dataclass(frozen=True)
class EmptyTrash(Command):
    actor: Actor


@dataclass(frozen=True)
class CreateShare(Command):
    actor: Actor
    upload_id: str
    expires_in: int


@dataclass(frozen=True)
class ListShares(Command):
    actor: Actor
    upload_id: str


@dataclass(frozen=True)
class RevokeShare(Command):
    actor: Actor
    token: str


@dataclass(frozen=True)
class ResolveShare(Command):
    """Anyone holding a token asks for the file; no actor."""

    token: str


@dataclass(frozen=True)
class Connect(Command):
    connection_id: str
    actor: Actor


@dataclass(frozen=True)
class Disconnect(Command):
    connection_id: str


@dataclass(frozen=True)
class NotifyByEmail(Command):
    """Tell the event's user by e-mail, if they opted in (at most once per event)."""

    event: Event


@dataclass(frozen=True)
class NotifyRealtime(Command):
    """Push the event to every open connection of its user (at most once per event)."""

    event: Event


@dataclass(frozen=True)
class RelayOutbox(Command):
    """Publish what was committed but not yet published."""

    batch_size: int = 100


@dataclass(frozen=True)
class Reconcile(Command):
    """The sweep: complete late uploads, expire abandoned ones, forget stale connections,
    delete for good what has been in the trash longer than the policy keeps it.

    `grace`: pending uploads younger than this are left to their S3 event (default
    `SWEEP_GRACE`). A server starting after its queues were lost passes zero: no event is
    coming for anything that arrived before it stopped.

    Pending uploads are read `batch_size` at a time, oldest first, page after page until none
    is left. `time_budget` bounds that for a caller with a time limit (a Lambda): once that
    much time has passed on the services' clock, no new page is started. The page in hand is
    always finished, so every sweep makes progress (a budget of zero reads one page); the next
    sweep starts again from the oldest. A page is whole upload rows, up to ~2.2 KB each as the
    Data API answers them (a 255-character name of 4-byte characters, a 255-character content
    type): 200 of them stay far below its 1 MiB per call, where 500 could pass it and stop
    every sweep. Trash items are read at most 100 at a time whatever `batch_size` says.
    """

    now: datetime | None = None
    batch_size: int = 200
    grace: timedelta | None = None
    time_budget: timedelta | None = None
