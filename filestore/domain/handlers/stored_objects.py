"""An object has arrived in the blob store: settle its upload stored, or failed."""

from __future__ import annotations

import logging
from dataclasses import replace

from filestore.domain import commands
from filestore.domain.checksums import Checksum
from filestore.domain.errors import NameTaken
from filestore.domain.handlers.placement import IfGone, IfTaken, place_upload
from filestore.domain.handlers.results import StoredOutcome
from filestore.domain.handlers.services import Services
from filestore.domain.model import OnConflict, Upload, UploadStatus
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
        # Names are settled now: a name taken meanwhile becomes `name (2)` (or fails the
        # upload, if it asked so), a folder trashed meanwhile leaves the file in the root.
        if_taken = IfTaken.NUMBER if upload.on_conflict is OnConflict.RENAME else IfTaken.REFUSE
        checksum = verified_checksum(upload, info)
        try:
            await place_upload(
                uow, upload,
                lambda stored, name, folder_id: stored.mark_stored(
                    now, checksum, name=name, folder_id=folder_id
                ),
                name=upload.name, folder_id=upload.folder_id,
                if_taken=if_taken, if_gone=IfGone.ROOT,
            )  # fmt: skip
            return StoredOutcome.STORED
        except NameTaken as taken:
            problem = taken.message
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
        elif upload.status in (UploadStatus.STORED, UploadStatus.TRASHED):
            # A repeated event, or the object written again (its form re-sent before it
            # expired): the bytes first stored stay the ones served. A file in the trash
            # keeps its bytes too: it may be restored.
            if await services.blobs.keep_first_version(cmd.object_key):
                log.warning("upload %s: its object was replaced; first bytes restored", upload.id)
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


async def record_lost_object(cmd: commands.RecordLostObject, services: Services) -> bool:
    """A stored object's bytes are gone or changed: its upload becomes failed, saying why, and
    gives its bytes back to the quota; whether an upload was marked (False: none was stored)."""
    async with services.uow() as uow:
        upload = await uow.uploads.get_by_object_key(cmd.object_key)
        if upload is None or upload.status is not UploadStatus.STORED:
            return False
        upload.mark_lost(cmd.reason, services.clock.now())
        await uow.uploads.update(upload, release_bytes=upload.size)
        await uow.commit()
    log.error("upload %s: its stored bytes are lost (%s); marked failed", upload.id, cmd.reason)
    # As for any failed upload: what is left of the object goes.
    await services.blobs.delete(cmd.object_key)
    return True
