"""Domain events (past tense) and their wire envelope.

On the wire an event is `{"id", "type", "occurred_at", "user_id", "data": {...}}`, published to
SNS with a `type` message attribute. Consumers are idempotent by `id`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from filestore.domain.checksums import Checksum
from filestore.domain.ids import uuid7

UploadStatusName = Literal["pending", "stored", "trashed", "failed", "expired", "deleted"]


class ChecksumData(BaseModel):
    """A verified SHA-256 of an upload (`filestore.domain.checksums`)."""

    model_config = ConfigDict(frozen=True)

    algorithm: Literal["sha256"] = "sha256"
    type: Literal["full_object", "composite"]
    value: str
    part_size: int | None = None

    @classmethod
    def of(cls, checksum: Checksum) -> ChecksumData:
        return cls(
            algorithm=checksum.algorithm,
            type=checksum.type,
            value=checksum.value,
            part_size=checksum.part_size,
        )


class UploadData(BaseModel):
    """An upload as users see it (the HTTP API's `Upload`, and events' `upload`)."""

    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    size: int
    content_type: str
    status: UploadStatusName
    created_at: datetime
    stored_at: datetime | None = None
    checksum: ChecksumData | None = None
    folder_id: str | None = None
    # The upload's last visible change (`Upload.updated_at`): of two messages about one
    # upload, the one with the later `updated_at` holds its newer state.
    updated_at: datetime

    @model_validator(mode="before")
    @classmethod
    def _updated_at_of_older_events(cls, data: Any) -> Any:
        """Events written before uploads had `updated_at` (still in the outbox or a queue
        while a new version is deployed) read its best estimate: stored, else created."""
        if isinstance(data, dict) and data.get("updated_at") is None:
            return {**data, "updated_at": data.get("stored_at") or data.get("created_at")}
        return data


class FolderData(BaseModel):
    """A folder as users see it (the HTTP API's `Folder`, and events' `folder`)."""

    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    parent_id: str | None
    created_at: datetime


class Event(BaseModel):
    """Something that happened to one user's data."""

    model_config = ConfigDict(frozen=True)

    type: ClassVar[str]
    id: str = Field(default_factory=uuid7)
    occurred_at: datetime
    user_id: str

    def envelope(self) -> dict[str, Any]:
        """The JSON-ready wire form."""
        return {
            "id": self.id,
            "type": self.type,
            "occurred_at": self.occurred_at.isoformat(),
            "user_id": self.user_id,
            "data": self.model_dump(mode="json", exclude={"id", "occurred_at", "user_id"}),
        }


class UserRegistered(Event):
    type: ClassVar[str] = "user.registered"
    email: str


class UploadRequested(Event):
    type: ClassVar[str] = "upload.requested"
    upload: UploadData
    multipart: bool


class UploadStored(Event):
    type: ClassVar[str] = "upload.stored"
    upload: UploadData


class UploadFailed(Event):
    type: ClassVar[str] = "upload.failed"
    upload: UploadData
    reason: str


class UploadExpired(Event):
    type: ClassVar[str] = "upload.expired"
    upload: UploadData


class UploadRenamed(Event):
    type: ClassVar[str] = "upload.renamed"
    upload: UploadData
    old_name: str


class UploadDeleted(Event):
    type: ClassVar[str] = "upload.deleted"
    upload: UploadData


class UploadMoved(Event):
    type: ClassVar[str] = "upload.moved"
    upload: UploadData
    old_folder_id: str | None


class UploadTrashed(Event):
    type: ClassVar[str] = "upload.trashed"
    upload: UploadData


class UploadRestored(Event):
    """Back from the trash, in `upload.folder_id` under `upload.name` (which may differ from
    the name it had: a clash on restore numbers it)."""

    type: ClassVar[str] = "upload.restored"
    upload: UploadData


class FolderCreated(Event):
    type: ClassVar[str] = "folder.created"
    folder: FolderData


class FolderRenamed(Event):
    type: ClassVar[str] = "folder.renamed"
    folder: FolderData
    old_name: str


class FolderMoved(Event):
    type: ClassVar[str] = "folder.moved"
    folder: FolderData
    old_parent_id: str | None


class FolderTrashed(Event):
    """The folder went to the trash, and with it everything in it that was not already
    there (those items get no event of their own)."""

    type: ClassVar[str] = "folder.trashed"
    folder: FolderData


class FolderRestored(Event):
    """The folder is back, with everything that went to the trash with it."""

    type: ClassVar[str] = "folder.restored"
    folder: FolderData


class FolderDeleted(Event):
    """The folder was deleted forever, and with it every file that went to the trash with
    it: `files` of them, `size` bytes in all (those files get no `upload.deleted` of their
    own)."""

    type: ClassVar[str] = "folder.deleted"
    folder: FolderData
    files: int = 0
    size: int = 0


class ShareCreated(Event):
    type: ClassVar[str] = "share.created"
    upload_id: str
    expires_at: datetime


class ShareRevoked(Event):
    type: ClassVar[str] = "share.revoked"
    upload_id: str


EVENT_TYPES: dict[str, type[Event]] = {
    cls.type: cls
    for cls in (
        UserRegistered,
        UploadRequested,
        UploadStored,
        UploadFailed,
        UploadExpired,
        UploadRenamed,
        UploadDeleted,
        UploadMoved,
        UploadTrashed,
        UploadRestored,
        FolderCreated,
        FolderRenamed,
        FolderMoved,
        FolderTrashed,
        FolderRestored,
        FolderDeleted,
        ShareCreated,
        ShareRevoked,
    )
}


class UnknownEvent(ValueError):
    """An envelope whose type we do not know or whose data does not fit its type."""


def parse_event(envelope: dict[str, Any]) -> Event:
    """The event an envelope carries; raises `UnknownEvent` for anything else."""
    kind = envelope.get("type")
    cls = EVENT_TYPES.get(kind) if isinstance(kind, str) else None
    data = envelope.get("data")
    if cls is None or not isinstance(data, dict):
        raise UnknownEvent(f"not a filestore event envelope (type {kind!r})")
    fields = {k: envelope.get(k) for k in ("id", "occurred_at", "user_id")}
    try:
        return cls.model_validate({**data, **fields})
    except ValidationError as error:
        raise UnknownEvent(
            f"malformed {kind} event: {error.error_count()} invalid fields"
        ) from error
