"""An object has arrived in the blob store: settle its upload stored, or failed."""

from __future__ import annotations

import logging
from dataclasses import replace

from filestore.domain import commands
from filestore.domain.checksums import Checksum
from filestore.domain.handlers.results import StoredOutcome
from filestore.domain.handlers.services import Services
from filestore.domain.model import Upload, UploadStatus
from filestore.domain.ports import ObjectInfo, UnitOfWork

log = logging.getLogger(__name__)


def _check_object(upload: Upload, info: ObjectInfo) -> str | None:
    """Why the stored object does not match its declaration, or None if it does."""
    if info.size != upload.size:
        return f"the file has {info.size} bytes but {upload.size} were declared"
    if upload.sha256 is not None and not upload.is_multipart:
        # Storage checked the bytes against the declared SHA-256 as they arrived (a presigned
        # POST signs it); an object with another checksum, or none, is not what was declared.
        found = info.checksum.value if info.checksum is not None else info.sha256
        if found is None:
            return "storage did not check the file against the SHA-256 declared"
        if found != upload.sha256.lower():
            return "the file's SHA-256 checksum does not match the one declared"
    return None


def verified_checksum(upload: Upload, info: ObjectInfo) -> Checksum | None:
    """The checksum storage verified for this upload, as `Upload.checksum` carries it."""
    checksum = info.checksum
    if checksum is None:
        return None
    if checksum.type == "full_object" and upload.is_multipart:
        return None
    if checksum.type == "composite":
        if not upload.is_multipart:
            return None
        # A client recomputes a composite from the part size (S3's HEAD does not say it).
        return replace(checksum, part_size=upload.part_size)
    return checksum


async def settle(
    uow: UnitOfWork, upload: Upload, info: ObjectInfo, services: Services
) -> StoredOutcome:
    """Mark a pending upload stored, or failed if its object does not match; not committed.

    The caller deletes the object of a failed upload once this is committed.
    """
    now = services.clock.now()
    problem = _check_object(upload, info)
    if problem is None:
        upload.mark_stored(now, verified_checksum(upload, info))
        await uow.uploads.update(upload)
        return StoredOutcome.STORED
    upload.mark_failed(problem, now)
    await uow.uploads.update(upload, release_bytes=upload.size)
    return StoredOutcome.FAILED


async def record_stored_object(
    cmd: commands.RecordStoredObject, services: Services
) -> StoredOutcome:
    """The blob store reports a new object: settle its upload, or delete what nobody asked for."""
    async with services.uow() as uow:
        upload = await uow.uploads.get_by_object_key(cmd.object_key)
        if upload is None:
            outcome = StoredOutcome.ORPHAN
        elif upload.status is UploadStatus.STORED:
            return StoredOutcome.DUPLICATE
        elif upload.status is not UploadStatus.PENDING:
            outcome = StoredOutcome.REJECTED
        else:
            info = await services.blobs.head(cmd.object_key)
            if info is None:
                return StoredOutcome.MISSING
            outcome = await settle(uow, upload, info, services)
            await uow.commit()
    if outcome is not StoredOutcome.STORED:
        log.warning("deleting object %s: %s", cmd.object_key, outcome.value)
        await services.blobs.delete(cmd.object_key)
    return outcome
