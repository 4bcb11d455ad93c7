"""Domain events (past tense) and their wire envelope.

On the wire an event is `{"id", "type", "occurred_at", "user_id", "data": {...}}`, published to
SNS with a `type` message attribute. Consumers are idempotent by `id`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from filestore.domain.checksums import Checksum
from filestore.domain.ids import uuid7

UploadStatusName = Literal["pending", "stored", "failed", "expired", "deleted"]


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
