"""Use cases of multipart uploads: signing parts, listing what arrived, completing."""

from __future__ import annotations

from collections.abc import Sequence

from filestore.domain import commands
from filestore.domain.checksums import is_sha256_hex
from filestore.domain.errors import ConcurrencyConflict, Conflict, InvalidInput
from filestore.domain.handlers.common import owned_upload
from filestore.domain.handlers.results import StoredOutcome
from filestore.domain.handlers.services import Services
from filestore.domain.handlers.stored_objects import settle
from filestore.domain.model import Upload, UploadStatus
from filestore.domain.ports import PartUrl, StoredPart, UnitOfWork

MAX_PARTS_PER_REQUEST = 1000


async def _pending_multipart(uow: UnitOfWork, actor: commands.Actor, upload_id: str) -> Upload:
    return _pending(await owned_upload(uow, actor, upload_id))


def _multipart(upload: Upload) -> Upload:
    if not upload.is_multipart:
        raise InvalidInput("This upload is not a multipart upload; POST the file to upload_url.")
    return upload


def _pending(upload: Upload) -> Upload:
    if _multipart(upload).status is not UploadStatus.PENDING:
        raise Conflict(f"The upload is {upload.status.value}, not pending.")
    return upload


async def sign_parts(cmd: commands.SignParts, services: Services) -> list[PartUrl]:
    """Presigned PUT URLs for some parts of a pending multipart upload."""
    numbers = list(cmd.part_numbers)
    if not numbers:
        raise InvalidInput("part_numbers must list at least one part number.")
    if len(numbers) > MAX_PARTS_PER_REQUEST:
        raise InvalidInput(f"Ask for at most {MAX_PARTS_PER_REQUEST} parts at a time.")
    if len(set(numbers)) != len(numbers):
        raise InvalidInput("part_numbers must not repeat a number.")
    sha256s: dict[int, str] = {}
    if cmd.sha256s is not None:
        if len(cmd.sha256s) != len(numbers):
            raise InvalidInput("sha256 must give one SHA-256 per part number, in the same order.")
        _check_sha256s(cmd.sha256s)
        sha256s = {n: value.lower() for n, value in zip(numbers, cmd.sha256s, strict=True)}
    async with services.uow() as uow:
        upload = await _pending_multipart(uow, cmd.actor, cmd.upload_id)
    bad = [n for n in numbers if not 1 <= n <= upload.part_count]
    if bad:
        raise InvalidInput(
            f"Part numbers must be between 1 and {upload.part_count}; got {bad[:5]}."
        )
    assert upload.multipart_id is not None  # _pending_multipart returns multipart uploads only  # nosec B101
    return [
        PartUrl(
            n,
            services.blobs.presign_part(
                upload.object_key,
                upload.multipart_id,
                n,
                upload.part_length(n),
                services.policy.upload_url_ttl,
                sha256s.get(n),
            ),
        )
        for n in sorted(numbers)
    ]


def _check_sha256s(values: Sequence[str]) -> None:
    bad = [value for value in values if not is_sha256_hex(value)]
    if bad:
        raise InvalidInput(f"A part's sha256 must be 64 hex digits; got {bad[0][:80]!r}.")


async def list_parts(cmd: commands.ListParts, services: Services) -> list[StoredPart]:
    """The parts that have arrived, so an interrupted upload can send only the rest."""
    async with services.uow() as uow:
        upload = await _pending_multipart(uow, cmd.actor, cmd.upload_id)
    assert upload.multipart_id is not None  # _pending_multipart returns multipart uploads only  # nosec B101
    return await services.blobs.list_parts(upload.object_key, upload.multipart_id)


async def complete_multipart(cmd: commands.CompleteMultipart, services: Services) -> Upload:
    """Assemble the parts, check the result and mark the upload stored (or failed)."""
    numbers = [p.part_number for p in cmd.parts]
    _check_sha256s([p.sha256 for p in cmd.parts if p.sha256 is not None])
    async with services.uow() as uow:
        upload = _multipart(await owned_upload(uow, cmd.actor, cmd.upload_id))
        if numbers != list(range(1, upload.part_count + 1)):
            raise InvalidInput(
                f"parts must list every part from 1 to {upload.part_count} in order, "
                "each with the ETag its PUT returned."
            )
        if upload.status is UploadStatus.STORED:
            # Completed already: a client retrying after it lost the answer gets the same one.
            return upload
        _pending(upload)
        assert upload.multipart_id is not None  # _pending_multipart returns multipart uploads only  # nosec B101
        await services.blobs.complete_multipart(upload.object_key, upload.multipart_id, cmd.parts)
        info = await services.blobs.head(upload.object_key)
        if info is None:
            raise ConcurrencyConflict("object vanished right after completion")
        try:
            outcome = await settle(uow, upload, info, services)
            await uow.commit()
        except ConcurrencyConflict:
            outcome = None
    if outcome is None:
        # The blob store's event for this very completion settled the upload first: the
        # client's completion succeeded all the same, so answer with what it became.
        async with services.uow() as uow:
            settled = await uow.uploads.get(upload.id)
        if settled is None or settled.status not in (UploadStatus.STORED, UploadStatus.FAILED):
            raise ConcurrencyConflict("upload changed during completion")
        return settled
    if outcome is StoredOutcome.FAILED:
        await services.blobs.delete(upload.object_key)
    return upload
