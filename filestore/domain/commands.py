"""Commands: what someone asks the system to do. Each has exactly one handler.

Commands issued on behalf of a signed-in person carry an `Actor` (the identity provider's `sub`
and e-mail); the user is registered on first sight.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from filestore.domain.events import Event
from filestore.domain.model import EmailStatus
from filestore.domain.ports import CompletedPart


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
class ListUploads(Command):
    actor: Actor
    limit: int = 50
    cursor: str | None = None


@dataclass(frozen=True)
class GetUpload(Command):
    actor: Actor
    upload_id: str


@dataclass(frozen=True)
class GetDownload(Command):
    actor: Actor
    upload_id: str


@dataclass(frozen=True)
class RenameUpload(Command):
    actor: Actor
    upload_id: str
    name: str


@dataclass(frozen=True)
class DeleteUpload(Command):
    """Delete a stored upload, or abort a pending one (its multipart upload too)."""

    actor: Actor
    upload_id: str


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
    """The sweep: complete late uploads, expire abandoned ones, forget stale connections.

    `grace`: pending uploads younger than this are left to their S3 event (default
    `SWEEP_GRACE`). A server starting after its queues were lost passes zero: no event is
    coming for anything that arrived before it stopped.

    Pending uploads are read `batch_size` at a time, oldest first, page after page until none
    is left. `time_budget` bounds that for a caller with a time limit (a Lambda): once that
    much time has passed on the services' clock, no new page is started. The page in hand is
    always finished, so every sweep makes progress (a budget of zero reads one page); the next
    sweep starts again from the oldest.
    """

    now: datetime | None = None
    batch_size: int = 500
    grace: timedelta | None = None
    time_budget: timedelta | None = None
