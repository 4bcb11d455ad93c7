"""The blob store on Amazon S3: presigned POST and part URLs, multipart, presigned downloads.

Presigning is local computation (SigV4 over the client's credentials); everything else is a
blocking boto3 call, run in a worker thread so the event loop keeps serving.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from filestore.adapters.http_headers import content_disposition
from filestore.domain.checksums import Checksum, from_base64
from filestore.domain.errors import InvalidInput, ServiceUnavailable
from filestore.domain.ports import (
    CompletedPart,
    ObjectInfo,
    PresignedPost,
    StoredPart,
)
from filestore.domain.rules import MAX_UPLOAD_URL_TTL

# What S3 answers when a completion names parts that do not fit: the client's fault.
_INVALID_COMPLETION = frozenset(
    {"InvalidPart", "InvalidPartOrder", "NoSuchUpload", "EntityTooSmall", "InvalidRequest"}
)
_ABSENT = frozenset({"404", "NoSuchKey", "NotFound"})
# A HEAD has no body, so S3's refusal comes back as the bare status.
_REFUSED = frozenset({"403", "AccessDenied", "Forbidden"})
# How long a client is told to wait when storage refuses us: an operator has to act.
REFUSED_RETRY_AFTER_S = 60
# Presigned GET URLs are capped by SigV4 itself at 7 days.
_MAX_GET_TTL = timedelta(days=7)

log = logging.getLogger(__name__)


def _seconds(ttl: timedelta, cap: timedelta) -> int:
    """Whole seconds of `ttl`, at least 1 and at most `cap` (SigV4 expiries are whole seconds)."""
    return max(1, int(min(ttl, cap).total_seconds()))


# Metadata of a copy that restored a replaced object's first version (its version id).
RESTORED_FROM = "filestore-restored-from"


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def sha256_base64(hex_digest: str) -> str:
    """S3's form of a SHA-256 (base64 of the digest) from the domain's (hex)."""
    return base64.b64encode(bytes.fromhex(hex_digest)).decode("ascii")


def sha256_hex(b64_digest: str) -> str | None:
    """The domain's form of a SHA-256 (hex) from S3's, or None if it is not one digest."""
    try:
        raw = base64.b64decode(b64_digest, validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw.hex() if len(raw) == 32 else None


class S3BlobStore:
    """`BlobStore` on one S3 bucket, through one shared boto3 S3 client."""

    def __init__(self, client: Any, bucket: str) -> None:
        self._s3 = client
        self.bucket = bucket

    # presigning: no network

    def presign_post(
        self, key: str, *, size: int, content_type: str, sha256: str | None, expires_in: timedelta
    ) -> PresignedPost:
        """A form POST whose policy pins the key, the exact size, the type and the checksum."""
        seconds = _seconds(expires_in, MAX_UPLOAD_URL_TTL)
        expires_at = datetime.now(UTC) + timedelta(seconds=seconds)
        fields: dict[str, str] = {"Content-Type": content_type}
        # botocore adds the exact `bucket` and `key` conditions itself.
        conditions: list[Any] = [
            {"Content-Type": content_type},
            ["content-length-range", size, size],
        ]
        if sha256 is not None:
            # S3 checks the body against this, where it verifies POST checksums; the policy
            # makes sure the client cannot drop or change it.
            checksum = {
                "x-amz-checksum-algorithm": "SHA256",
                "x-amz-checksum-sha256": sha256_base64(sha256),
            }
            fields.update(checksum)
            conditions.extend({name: value} for name, value in checksum.items())
        post = self._s3.generate_presigned_post(
            Bucket=self.bucket, Key=key, Fields=fields, Conditions=conditions, ExpiresIn=seconds
        )
        return PresignedPost(url=post["url"], fields=dict(post["fields"]), expires_at=expires_at)

    def presign_part(
        self,
        key: str,
        multipart_id: str,
        part_number: int,
        size: int,
        expires_in: timedelta,
        sha256: str | None = None,
    ) -> str:
        """A PUT URL for one part; Content-Length is a signed header, so no other size fits,
        and so is `x-amz-checksum-sha256` given `sha256`: S3 checks the part's bytes against
        it and refuses the PUT (400 BadDigest) if they differ."""
        params: dict[str, Any] = {
            "Bucket": self.bucket,
            "Key": key,
            "UploadId": multipart_id,
            "PartNumber": part_number,
            "ContentLength": size,
        }
        if sha256 is not None:
            params["ChecksumSHA256"] = sha256_base64(sha256)
        return str(
            self._s3.generate_presigned_url(
                "upload_part", Params=params, ExpiresIn=_seconds(expires_in, MAX_UPLOAD_URL_TTL)
            )
        )

    def presign_get(self, key: str, *, filename: str, expires_in: timedelta) -> str:
        """A GET URL whose response downloads as an attachment named `filename`."""
        return str(
            self._s3.generate_presigned_url(
                "get_object",
                Params={
                    "Bucket": self.bucket,
                    "Key": key,
                    "ResponseContentDisposition": content_disposition(filename),
                },
                ExpiresIn=_seconds(expires_in, _MAX_GET_TTL),
            )
        )

    # multipart

    async def create_multipart(
        self, key: str, *, content_type: str, part_checksums: bool = False
    ) -> str:
        options = {"ChecksumAlgorithm": "SHA256"} if part_checksums else {}
        answer = await asyncio.to_thread(
            self._s3.create_multipart_upload,
            Bucket=self.bucket,
            Key=key,
            ContentType=content_type,
            **options,
        )
        return str(answer["UploadId"])

    async def list_parts(self, key: str, multipart_id: str) -> list[StoredPart]:
        """The parts that arrived, in order; none for an upload S3 does not know."""
        return await asyncio.to_thread(self._list_parts, key, multipart_id)

    def _list_parts(self, key: str, multipart_id: str) -> list[StoredPart]:
        paginator = self._s3.get_paginator("list_parts")
        parts: list[StoredPart] = []
        try:
            for page in paginator.paginate(Bucket=self.bucket, Key=key, UploadId=multipart_id):
                parts.extend(
                    StoredPart(int(p["PartNumber"]), str(p["ETag"]), int(p["Size"]))
                    for p in page.get("Parts", [])
                )
        except ClientError as error:
            if _error_code(error) == "NoSuchUpload":
                return []
            raise
        return sorted(parts, key=lambda p: p.part_number)

    async def complete_multipart(
        self, key: str, multipart_id: str, parts: Sequence[CompletedPart]
    ) -> None:
        """Assemble the parts; `InvalidInput` when a part is missing or its ETag is wrong."""
        listed: list[dict[str, Any]] = []
        for p in parts:
            entry: dict[str, Any] = {
                "PartNumber": p.part_number,
                "ETag": '"' + p.etag.strip('"') + '"',
            }
            if p.sha256 is not None:
                # S3 checks it against the checksum the part arrived with (InvalidPart if not).
                entry["ChecksumSHA256"] = sha256_base64(p.sha256)
            listed.append(entry)
        try:
            await asyncio.to_thread(
                self._s3.complete_multipart_upload,
                Bucket=self.bucket,
                Key=key,
                UploadId=multipart_id,
                MultipartUpload={"Parts": listed},
            )
        except ClientError as error:
            code = _error_code(error)
            if code in _INVALID_COMPLETION:
                if code == "NoSuchUpload":
                    raise InvalidInput(
                        "The multipart upload does not exist; start a new upload."
                    ) from error
                raise InvalidInput(
                    "A part was not uploaded, is too small, or its ETag or SHA-256 does not "
                    "match what arrived: send each part's ETag as its PUT returned it, and "
                    "upload again a part whose SHA-256 differs."
                ) from error
            raise

    async def abort_multipart(self, key: str, multipart_id: str) -> None:
        try:
            await asyncio.to_thread(
                self._s3.abort_multipart_upload,
                Bucket=self.bucket,
                Key=key,
                UploadId=multipart_id,
            )
        except ClientError as error:
            if _error_code(error) != "NoSuchUpload":
                raise

    # objects

    async def head(self, key: str) -> ObjectInfo | None:
        """Size, ETag and, when S3 kept one for the whole object, its SHA-256; None if absent.

        S3 tells a missing key apart (404) only to a caller that may also list the bucket
        (`s3:ListBucket` on the key's prefix); to others it answers 403, as it does when the
        caller may not read the key at all. Either way that is a permission missing from this
        function's role: it is logged as such and raised as `ServiceUnavailable` (a 503 with
        `Retry-After` on the HTTP API, a retried message on a queue), never taken for "absent",
        which would expire or delete uploads whose bytes are there.
        """
        try:
            answer = await asyncio.to_thread(
                self._s3.head_object, Bucket=self.bucket, Key=key, ChecksumMode="ENABLED"
            )
        except ClientError as error:
            code = _error_code(error)
            if code in _ABSENT:
                return None
            if code in _REFUSED:
                log.error(
                    "S3 refused HEAD of s3://%s/%s (%s): a configuration error. The role needs "
                    "s3:GetObject on the key and s3:ListBucket on the bucket for its prefix "
                    "(without it S3 answers 403 for a missing key)",
                    self.bucket,
                    key,
                    code,
                )
                raise ServiceUnavailable(
                    "storage refused to describe an object (a missing permission)",
                    retry_after=REFUSED_RETRY_AFTER_S,
                ) from error
            raise
        sha256, verified = None, None
        checksum = answer.get("ChecksumSHA256")
        # A multipart object's checksum is a checksum of part checksums ("…-3", COMPOSITE),
        # not the file's: only a FULL_OBJECT one says what the bytes are.
        kind = answer.get("ChecksumType") or ("COMPOSITE" if "-" in (checksum or "") else "")
        if checksum and kind != "COMPOSITE":
            sha256 = sha256_hex(checksum)
            verified = None if sha256 is None else Checksum.full_object(sha256)
        elif checksum:
            value = from_base64(checksum)
            verified = None if value is None else Checksum("composite", value)
        return ObjectInfo(
            size=int(answer["ContentLength"]),
            etag=str(answer["ETag"]),
            sha256=sha256,
            checksum=verified,
        )

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self._s3.delete_object, Bucket=self.bucket, Key=key)

    async def keep_first_version(self, key: str) -> bool:
        """Copy the key's oldest version back over it if the current one differs (the bucket
        is versioned: a replaced object's first bytes stay as a noncurrent version).

        A copy, not a delete of the later version: no function may delete a version, so the
        replacement stays recoverable too until the lifecycle expires it. The copy is marked
        (`RESTORED_FROM` metadata) and, once made, is what the key serves: its own
        `ObjectCreated` event, or an old event replayed after the lifecycle expired the first
        version, finds a restored copy current and changes nothing.
        """
        return await asyncio.to_thread(self._keep_first_version, key)

    def _keep_first_version(self, key: str) -> bool:
        versions: list[dict[str, Any]] = []
        pages = self._s3.get_paginator("list_object_versions")
        for page in pages.paginate(Bucket=self.bucket, Prefix=key):
            versions += [v for v in page.get("Versions", []) if v["Key"] == key]
        current = next((v for v in versions if v.get("IsLatest")), None)
        if current is None or len(versions) < 2:
            return False  # deleted (a delete marker is current), or never replaced
        # S3 lists a key's versions newest first (LastModified has only seconds to go by).
        first = versions[-1]
        if first["ETag"] == current["ETag"]:
            return False  # the first bytes are current
        now = self._s3.head_object(Bucket=self.bucket, Key=key, VersionId=current["VersionId"])
        if RESTORED_FROM in now.get("Metadata", {}):
            return False  # restored already: what it serves is settled
        head = self._s3.head_object(Bucket=self.bucket, Key=key, VersionId=first["VersionId"])
        # Its metadata given (REPLACE): S3 emulators refuse a copy onto its own key that changes
        # nothing, which AWS allows for an earlier version (its documented way to restore one).
        self._s3.copy_object(
            Bucket=self.bucket,
            Key=key,
            CopySource={"Bucket": self.bucket, "Key": key, "VersionId": first["VersionId"]},
            MetadataDirective="REPLACE",
            ContentType=head.get("ContentType", "application/octet-stream"),
            Metadata={**head.get("Metadata", {}), RESTORED_FROM: first["VersionId"]},
        )
        log.warning(
            "s3://%s/%s was written again after it was stored; its first bytes (version %s) "
            "are current again",
            self.bucket, key, first["VersionId"],
        )  # fmt: skip
        return True
