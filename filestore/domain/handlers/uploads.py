"""Use cases of uploads: request one, then list, read, download, rename and delete them."""

from __future__ import annotations

from filestore.domain import commands
from filestore.domain.errors import InvalidInput, NotFound
from filestore.domain.handlers.common import owned_upload, user_for, user_id_for
from filestore.domain.handlers.cursors import decode_cursor, encode_cursor
from filestore.domain.handlers.results import DownloadLink, MultipartPlan, UploadPage, UploadTicket
from filestore.domain.handlers.services import Services
from filestore.domain.ids import is_public_id
from filestore.domain.model import Upload, UploadStatus
from filestore.domain.ports import ListPosition
from filestore.domain.rules import normalize_name, normalize_sha256, part_size_for

LIST_LIMIT_MAX = 100


async def request_upload(cmd: commands.RequestUpload, services: Services) -> UploadTicket:
    """Declare an upload, reserve its bytes against the quota, and say where to send them."""
    policy = services.policy
    name = normalize_name(cmd.name)
    policy.check_size(cmd.size)
    content_type = policy.normalize_content_type(cmd.content_type)
    sha256 = normalize_sha256(cmd.sha256)
    now = services.clock.now()
    multipart = policy.is_multipart(cmd.size)

    async with services.uow() as uow:
        owner_id = await user_id_for(uow, cmd.actor, services)
        # The quota check and the reservation in one conditional step: concurrent uploads can
        # never reserve more than the quota between them.
        if not await uow.users.reserve(owner_id, cmd.size):
            # It does not fit (or the quota changed meanwhile): decide on the whole user, whose
            # refusal says how many bytes are free.
            user = await user_for(uow, cmd.actor, services)
            user.reserve(cmd.size)
            await uow.users.update(user)
            owner_id = user.id
        upload_id = services.ids.new_id()
        upload = Upload(
            id=upload_id,
            owner_id=owner_id,
            name=name,
            size=cmd.size,
            content_type=content_type,
            sha256=sha256,
            object_key=Upload.key_for(owner_id, upload_id),
            created_at=now,
            expires_at=now + (policy.multipart_ttl if multipart else policy.upload_url_ttl),
        )
        if multipart:
            upload.part_size = part_size_for(cmd.size)
            # A client that declares the file's SHA-256 sends each part's as well.
            upload.multipart_id = await services.blobs.create_multipart(
                upload.object_key, content_type=content_type, part_checksums=sha256 is not None
            )
        upload.requested(now)
        await uow.uploads.add(upload)
        await uow.commit()

    if multipart:
        assert upload.part_size is not None  # set above for a multipart upload  # nosec B101
        return UploadTicket(upload, multipart=MultipartPlan(upload.part_size, upload.part_count))
    post = services.blobs.presign_post(
        upload.object_key,
        size=upload.size,
        content_type=upload.content_type,
        sha256=upload.sha256,
        expires_in=policy.upload_url_ttl,
    )
    return UploadTicket(upload, post=post)


async def list_uploads(cmd: commands.ListUploads, services: Services) -> UploadPage:
    """One page of the actor's stored uploads, newest first."""
    if not 1 <= cmd.limit <= LIST_LIMIT_MAX:
        raise InvalidInput(f"limit must be between 1 and {LIST_LIMIT_MAX}.")
    after = decode_cursor(cmd.cursor) if cmd.cursor else None
    async with services.uow() as uow:
        rows = await uow.uploads.list_stored_for_sub(cmd.actor.sub, cmd.limit + 1, after)
    items = rows[: cmd.limit]
    next_cursor = None
    if len(rows) > cmd.limit:
        last = items[-1]
        next_cursor = encode_cursor(ListPosition(last.created_at, last.id))
    return UploadPage(items, next_cursor)


async def get_upload(cmd: commands.GetUpload, services: Services) -> Upload:
    """One of the caller's uploads, in whatever state it is."""
    async with services.uow() as uow:
        return await owned_upload(uow, cmd.actor, cmd.upload_id)


async def get_download(cmd: commands.GetDownload, services: Services) -> DownloadLink:
    """A short-lived link that downloads the file under its name."""
    upload = await get_upload(commands.GetUpload(cmd.actor, cmd.upload_id), services)
    upload.check_downloadable()
    ttl = services.policy.download_url_ttl
    url = services.blobs.presign_get(upload.object_key, filename=upload.name, expires_in=ttl)
    return DownloadLink(url, services.clock.now() + ttl)


async def rename_upload(cmd: commands.RenameUpload, services: Services) -> Upload:
    """Rename: metadata only, the object is not touched."""
    name = normalize_name(cmd.name)
    async with services.uow() as uow:
        upload = await owned_upload(uow, cmd.actor, cmd.upload_id)
        upload.rename(name, services.clock.now())
        await uow.uploads.update(upload)
        await uow.commit()
    return upload


async def delete_upload(cmd: commands.DeleteUpload, services: Services) -> None:
    """Delete an upload (twice is fine for its owner); its bytes no longer count."""
    if not is_public_id(cmd.upload_id):
        raise NotFound("No such upload.")
    async with services.uow() as uow:
        upload = await uow.uploads.get_for_sub(cmd.upload_id, cmd.actor.sub)
        if upload is None:
            raise NotFound("No such upload.")
        held = upload.holds_quota
        was_pending = upload.status is UploadStatus.PENDING
        if not upload.delete(services.clock.now()):
            return
        await uow.uploads.update(upload, release_bytes=upload.size if held else 0)
        await uow.commit()
    # After the commit: if this fails the object is an orphan, which the S3 path deletes later.
    if was_pending and upload.multipart_id is not None:
        await services.blobs.abort_multipart(upload.object_key, upload.multipart_id)
    await services.blobs.delete(upload.object_key)
