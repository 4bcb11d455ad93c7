"""The HTTP API's bodies (v1 contract in DESIGN.md), as pydantic models, and their mapping
from domain results. Request models are strict (a string is not a number, unknown fields are
refused) so clients learn about mistakes instead of having them guessed away; an integer is
JSON Schema's, so `5.0` is one.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, StrictInt, StrictStr

from filestore.domain.handlers import (
    MAX_PARTS_PER_REQUEST,
    DownloadLink,
    SharedFile,
    UploadPage,
    UploadTicket,
)
from filestore.domain.model import Share, Upload, User
from filestore.domain.ports import PartUrl, StoredPart
from filestore.domain.rules import MAX_PARTS, MAX_SHARE_LIFETIME, MIN_SHARE_LIFETIME


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _integral_float_to_int(value: object) -> object:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


_ZERO_FRACTION_OK = BeforeValidator(_integral_float_to_int)
JsonInt = Annotated[StrictInt, _ZERO_FRACTION_OK]
"""An integer as JSON Schema means it (`5` or `5.0`), never `"5"`, `true` or `5.5`."""

# Bounds that are plain numbers live here too, so the OpenAPI document states them; the domain
# checks them again (and the rules no schema can say: names, content types, a part count).
# The bounds go inside, before the validator: outside it pydantic writes them as "ge"/"le",
# which are not JSON Schema.
PartNumber = Annotated[StrictInt, Field(ge=1, le=MAX_PARTS), _ZERO_FRACTION_OK]


# --- requests ------------------------------------------------------------------------------------


class PreferencesIn(_Request):
    notify_email: StrictBool


class UploadIn(_Request):
    name: StrictStr = Field(min_length=1, examples=["report.pdf"])
    size: JsonInt = Field(ge=0, description="Exact size in bytes.", examples=[1234])
    content_type: StrictStr = Field(examples=["application/pdf"])
    sha256: StrictStr | None = Field(default=None, description="Hex SHA-256 of the file.")
    checksum_algorithm: Literal["sha256"] | None = Field(
        default=None,
        description=(
            "`sha256`: the client sends SHA-256s without declaring the whole file's (`sha256` "
            "implies it): each part's, if the upload is multipart, which storage then checks "
            "every part against. A multipart upload's checksum is the parts' composite, so "
            "the whole file's SHA-256 would be checked against nothing; a single-request "
            "upload is checked only against a declared `sha256`."
        ),
    )
    folder_id: StrictStr | None = Field(
        default=None, description="The folder to store it in; null or absent for the root."
    )
    on_conflict: Literal["rename", "fail"] = Field(
        default="rename",
        description=(
            "If a stored file or a folder there has the name when the file is stored: "
            "`rename` keeps both, this one as `name (2).ext`; `fail` refuses it (409 at once "
            "if the name is already taken)."
        ),
    )


class PartNumbersIn(_Request):
    part_numbers: list[PartNumber] = Field(
        min_length=1,
        max_length=MAX_PARTS_PER_REQUEST,
        json_schema_extra={"uniqueItems": True},
        description="Distinct part numbers, from 1 to the upload's part_count.",
        examples=[[1, 2, 3]],
    )
    sha256: list[StrictStr] | None = Field(
        default=None,
        max_length=MAX_PARTS_PER_REQUEST,
        description="Each part's hex SHA-256, in the order of part_numbers: each URL then "
        "signs it as x-amz-checksum-sha256, a header the PUT must send (base64), and storage "
        "refuses a part whose bytes do not match it.",
    )


class CompletedPartIn(_Request):
    part_number: PartNumber
    etag: StrictStr
    sha256: StrictStr | None = Field(
        default=None, description="The part's hex SHA-256, as it was sent with its PUT."
    )


class CompleteIn(_Request):
    parts: list[CompletedPartIn] = Field(
        min_length=1,
        max_length=MAX_PARTS,
        description="Every part from 1 to the upload's part_count, in order.",
    )


class ShareIn(_Request):
    expires_in: JsonInt = Field(
        ge=int(MIN_SHARE_LIFETIME.total_seconds()),
        le=int(MAX_SHARE_LIFETIME.total_seconds()),
        description="Seconds, from 1 to 604800 (7 days).",
    )


# --- responses -----------------------------------------------------------------------------------


class UserOut(BaseModel):
    id: str
    email: str
    notify_email: bool
    email_status: Literal["ok", "bounced", "complained"] = Field(
        description=(
            "Whether e-mail reaches `email`. `bounced`: mail to it bounced for good; "
            "`complained`: one of our e-mails was marked as spam. Either way no e-mail is "
            "sent until the address changes (at the identity provider); after a bounce, also "
            "until a password reset proves mail arrives again; after a complaint, also until "
            "`notify_email` is set to true again."
        )
    )
    quota_bytes: int
    used_bytes: int
    created_at: datetime

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(
            id=user.id,
            email=user.email,
            notify_email=user.notify_email,
            email_status=user.email_status.value,
            quota_bytes=user.quota_bytes,
            used_bytes=user.used_bytes,
            created_at=user.created_at,
        )


class ChecksumOut(BaseModel):
    """What storage verified: the file's SHA-256 (`full_object`), or for a multipart upload the
    SHA-256 of its parts' binary SHA-256s followed by `-<parts>` (`composite`, as S3 computes
    it; every part is `part_size` bytes but the last). Values in hex."""

    algorithm: Literal["sha256"]
    type: Literal["full_object", "composite"]
    value: str
    part_size: int | None = None


class UploadOut(BaseModel):
    id: str
    name: str
    size: int
    content_type: str
    status: Literal["pending", "stored", "trashed", "failed", "expired", "deleted"]
    created_at: datetime
    stored_at: datetime | None
    checksum: ChecksumOut | None = Field(
        default=None, description="The SHA-256 verified when the file was stored, if one was."
    )
    folder_id: str | None = Field(description="The folder it is in; null for the root.")
    updated_at: datetime = Field(
        description="When its owner last saw it change (status, name or folder): `created_at`"
        " at first, strictly later with each change. Realtime messages about a file may arrive"
        " out of order or twice: clients may compare this to order them, keeping the state"
        " with the latest `updated_at` (an equal one is a repeat)."
    )

    @classmethod
    def of(cls, upload: Upload) -> UploadOut:
        # The fields of `upload.view()`, read straight from the upload: a listing makes one per
        # row, and going through the view and a dump of it cost three models instead of one.
        checksum = upload.checksum
        return cls(
            id=upload.id,
            name=upload.name,
            size=upload.size,
            content_type=upload.content_type,
            status=upload.status.value,
            created_at=upload.created_at,
            stored_at=upload.stored_at,
            checksum=None
            if checksum is None
            else ChecksumOut(
                algorithm=checksum.algorithm,
                type=checksum.type,
                value=checksum.value,
                part_size=checksum.part_size,
            ),
            folder_id=upload.folder_id,
            updated_at=upload.updated_at,
        )


class UploadUrlOut(BaseModel):
    method: Literal["POST"] = "POST"
    url: str
    fields: Mapping[str, str] = Field(description="Form fields to send before the file.")
    expires_at: datetime


class MultipartOut(BaseModel):
    part_size: int
    part_count: int


class SingleUploadOut(BaseModel):
    """Send the file as the last field of a multipart/form-data POST to `upload_url`."""

    upload: UploadOut
    upload_url: UploadUrlOut


class MultipartUploadOut(BaseModel):
    """Ask for part URLs at `POST /uploads/{id}/parts`, PUT each part, then complete."""

    upload: UploadOut
    multipart: MultipartOut


def ticket_out(ticket: UploadTicket) -> SingleUploadOut | MultipartUploadOut:
    upload = UploadOut.of(ticket.upload)
    if ticket.multipart is not None:
        plan = ticket.multipart
        return MultipartUploadOut(
            upload=upload,
            multipart=MultipartOut(part_size=plan.part_size, part_count=plan.part_count),
        )
    assert ticket.post is not None  # a single upload always has its POST  # nosec B101
    post = ticket.post
    return SingleUploadOut(
        upload=upload,
        upload_url=UploadUrlOut(url=post.url, fields=dict(post.fields), expires_at=post.expires_at),
    )


class PartUrlOut(BaseModel):
    part_number: int
    url: str


class PartUrlsOut(BaseModel):
    parts: list[PartUrlOut]

    @classmethod
    def of(cls, parts: list[PartUrl]) -> PartUrlsOut:
        return cls(parts=[PartUrlOut(part_number=p.part_number, url=p.url) for p in parts])


class StoredPartOut(BaseModel):
    part_number: int
    etag: str
    size: int


class StoredPartsOut(BaseModel):
    parts: list[StoredPartOut]

    @classmethod
    def of(cls, parts: list[StoredPart]) -> StoredPartsOut:
        items = [StoredPartOut(part_number=p.part_number, etag=p.etag, size=p.size) for p in parts]
        return cls(parts=items)


class UploadPageOut(BaseModel):
    items: list[UploadOut]
    next_cursor: str | None

    @classmethod
    def of(cls, page: UploadPage) -> UploadPageOut:
        # The uploads' attributes validated in one call, in pydantic's core: a model made per row
        # in Python (`UploadOut.of`) cost twice as much (30 rows: ~160 us against ~85 us).
        # `UploadOut`'s fields are `Upload`'s attributes of the same names.
        page_in = {"items": page.items, "next_cursor": page.next_cursor}
        return cls.model_validate(page_in, from_attributes=True)


class DownloadOut(BaseModel):
    url: str
    expires_at: datetime

    @classmethod
    def of(cls, link: DownloadLink) -> DownloadOut:
        return cls(url=link.url, expires_at=link.expires_at)


class ShareOut(BaseModel):
    token: str
    url: str
    expires_at: datetime

    @classmethod
    def of(cls, share: Share, url: str) -> ShareOut:
        """`share` with its link `url` (the web app's share page, or the API's route)."""
        return cls(token=share.token, url=url, expires_at=share.expires_at)


class SharesOut(BaseModel):
    items: list[ShareOut]


class SharedFileOut(BaseModel):
    name: str
    size: int
    url: str
    expires_at: datetime = Field(description="When `url` stops working (minutes from now).")
    share_expires_at: datetime = Field(description="When the share link itself expires.")

    @classmethod
    def of(cls, shared: SharedFile) -> SharedFileOut:
        return cls(
            name=shared.name,
            size=shared.size,
            url=shared.url,
            expires_at=shared.expires_at,
            share_expires_at=shared.share_expires_at or shared.expires_at,
        )


class ProblemOut(BaseModel):
    """One item of an error's `details`: a value that breaks a rule (`loc`, `msg`, `type`, as
    in a 422), or what holds a name already taken (`kind`, `id`, `name`, as in a 409)."""

    model_config = ConfigDict(extra="allow")

    loc: list[str | int] | None = Field(
        default=None, description="Where the value is: `body`, `query` or `path`, then its name."
    )
    msg: str | None = Field(default=None, description="What is wrong with it.")
    type: str | None = Field(default=None, description="The kind of problem (a stable code).")
    kind: Literal["upload", "folder"] | None = Field(
        default=None, description="A 409: what holds the name."
    )
    id: str | None = Field(default=None, description="A 409: its id.")
    name: str | None = Field(default=None, description="A 409: the name taken.")


class ErrorOut(BaseModel):
    """Every error answer: `message` for people, and, where it helps, `details` (absent when
    there are none)."""

    message: str = Field(description="What went wrong, in a sentence a person can act on.")
    details: list[ProblemOut] = Field(
        default_factory=list, description="What exactly; absent when there is nothing to add."
    )
