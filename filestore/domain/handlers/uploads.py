"""Use cases of uploads: request one, then list, read, download, rename or move, and delete
(to the trash) them."""

from __future__ import annotations

import logging

from filestore.domain import commands
from filestore.domain.errors import InvalidInput, NameTaken, NotFound
from filestore.domain.handlers.common import owned_upload, user_for, user_id_for
from filestore.domain.handlers.cursors import (
    decode_file_cursor,
    decode_pending_cursor,
    encode_file_cursor,
    encode_pending_cursor,
)
from filestore.domain.handlers.folders import check_folder_id
from filestore.domain.handlers.placement import (
    IfGone,
    IfTaken,
    check_destination_id,
    no_such_destination,
    place_upload,
)
from filestore.domain.handlers.results import DownloadLink, MultipartPlan, UploadPage, UploadTicket
from filestore.domain.handlers.services import Services
from filestore.domain.ids import is_public_id
from filestore.domain.model import OnConflict, Upload, UploadStatus
from filestore.domain.names import search_key
from filestore.domain.ports import (
    ANY_FOLDER,
    FileQuery,
    ListPosition,
    SortField,
    SortPosition,
    UnitOfWork,
)
from filestore.domain.rules import MAX_NAME_LENGTH, normalize_name, normalize_sha256, part_size_for

LIST_LIMIT_MAX = 100

log = logging.getLogger(__name__)


async def request_upload(cmd: commands.RequestUpload, services: Services) -> UploadTicket:
    """Declare an upload, reserve its bytes against the quota, and say where to send them."""
    policy = services.policy
    name = normalize_name(cmd.name)
    policy.check_size(cmd.size)
    content_type = policy.normalize_content_type(cmd.content_type)
    sha256 = normalize_sha256(cmd.sha256)
    check_destination_id(cmd.folder_id)
    now = services.clock.now()
    multipart = policy.is_multipart(cmd.size)

    async with services.uow() as uow:
        if cmd.on_conflict is OnConflict.FAIL:
            await _refuse_a_taken_name(uow, cmd, name)
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
            folder_id=cmd.folder_id,
            on_conflict=cmd.on_conflict,
            created_at=now,
            updated_at=now,
            expires_at=now + (policy.multipart_ttl if multipart else policy.upload_url_ttl),
        )
        if multipart:
            upload.part_size = part_size_for(cmd.size)
            # A client that declares the file's SHA-256, or says it sends SHA-256s, sends each
            # part's.
            upload.multipart_id = await services.blobs.create_multipart(
                upload.object_key,
                content_type=content_type,
                part_checksums=sha256 is not None or cmd.part_checksums,
            )
        upload.requested(now)
        try:
            try:
                await uow.uploads.add(upload)
            except NotFound as missing:
                if cmd.folder_id is None:
                    raise
                raise no_such_destination() from missing  # its folder, checked by the insert
            await uow.commit()
        except BaseException:
            # Not committed (a lost race that the bus retries, a database error): no upload
            # holds the multipart upload made above, so it goes now rather than lingering
            # until the bucket's lifecycle rule (or, locally, for ever). The caller gets the
            # error and never the ticket, so no client is sending it parts.
            if upload.multipart_id is not None:
                await _abort_quietly(services, upload)
            raise

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


async def _refuse_a_taken_name(uow: UnitOfWork, cmd: commands.RequestUpload, name: str) -> None:
    """An upload that asked to fail on a taken name is refused at once if it is taken now
    (and checked again when it is stored: names are settled then). The folder itself is
    checked by `uploads.add`."""
    if cmd.folder_id is not None:
        folder = await uow.folders.get_for_sub(cmd.folder_id, cmd.actor.sub)
        if folder is None or not folder.is_active:
            raise no_such_destination()
        owner_id: str | None = folder.owner_id
    else:
        owner_id = await uow.users.id_for_sub(cmd.actor.sub)
    clash = await uow.folders.find_clash(owner_id, cmd.folder_id, name) if owner_id else None
    if clash is not None:
        raise NameTaken(clash.kind, clash.id, clash.name)


def _file_query(cmd: commands.ListUploads) -> FileQuery:
    if cmd.folder != ANY_FOLDER:
        check_folder_id(cmd.folder)
    contains = None
    if cmd.q is not None:
        contains = search_key(cmd.q.strip())
        if not contains or len(cmd.q) > MAX_NAME_LENGTH:
            raise InvalidInput(f"q must be 1 to {MAX_NAME_LENGTH} characters of a name.")
    return FileQuery(cmd.folder, cmd.sort, cmd.descending, contains)


async def _abort_quietly(services: Services, upload: Upload) -> None:
    assert upload.multipart_id is not None  # only called for a multipart upload  # nosec B101
    try:
        await services.blobs.abort_multipart(upload.object_key, upload.multipart_id)
    except Exception:
        # The lifecycle rule (on AWS) or the local sweep removes it later.
        log.warning("could not abort the multipart upload of %s", upload.object_key, exc_info=True)


async def list_uploads(cmd: commands.ListUploads, services: Services) -> UploadPage:
    """One page of the actor's stored files: in one folder or all, sorted, searched (one
    query); or of their pending uploads, newest first."""
    if not 1 <= cmd.limit <= LIST_LIMIT_MAX:
        raise InvalidInput(f"limit must be between 1 and {LIST_LIMIT_MAX}.")
    if cmd.pending:
        return await _list_pending(cmd, services)
    query = _file_query(cmd)
    after = decode_file_cursor(query, cmd.cursor) if cmd.cursor else None
    async with services.uow() as uow:
        rows = await uow.uploads.list_files_for_sub(cmd.actor.sub, query, cmd.limit + 1, after)
    if rows is None:
        raise NotFound("No such folder.")
    items = rows[: cmd.limit]
    next_cursor = None
    if len(rows) > cmd.limit:
        last = items[-1]
        next_cursor = encode_file_cursor(query, SortPosition(query.key_of(last), last.id))
    return UploadPage(items, next_cursor)


async def _list_pending(cmd: commands.ListUploads, services: Services) -> UploadPage:
    if cmd.folder != ANY_FOLDER or cmd.q is not None or cmd.sort is not SortField.CREATED_AT:
        raise InvalidInput("status=pending combines with no folder_id, q, sort or order.")
    if not cmd.descending:
        raise InvalidInput("status=pending combines with no folder_id, q, sort or order.")
    after = decode_pending_cursor(cmd.cursor) if cmd.cursor else None
    async with services.uow() as uow:
        rows = await uow.uploads.list_pending_for_sub(cmd.actor.sub, cmd.limit + 1, after)
    items = rows[: cmd.limit]
    next_cursor = None
    if len(rows) > cmd.limit:
        next_cursor = encode_pending_cursor(ListPosition(items[-1].created_at, items[-1].id))
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


async def update_upload(cmd: commands.UpdateUpload, services: Services) -> Upload:
    """Rename and/or move a file: metadata only, the object is not touched. A name taken
    where it goes is a conflict naming what holds it."""
    name = normalize_name(cmd.name) if cmd.name is not None else None
    if cmd.folder_id is not commands.UNCHANGED:
        check_destination_id(cmd.folder_id)
    now = services.clock.now()
    async with services.uow() as uow:
        upload = await owned_upload(uow, cmd.actor, cmd.upload_id)
        folder_id = upload.folder_id if cmd.folder_id is commands.UNCHANGED else cmd.folder_id

        def change(candidate: Upload, name: str, folder_id: str | None) -> None:
            candidate.rename(name, now)
            candidate.move(folder_id, now)

        if (name or upload.name, folder_id) == (upload.name, upload.folder_id):
            return upload
        upload = await place_upload(
            uow, upload, change, name=name or upload.name, folder_id=folder_id,
            if_taken=IfTaken.REFUSE, if_gone=IfGone.REFUSE,
        )  # fmt: skip
        await uow.commit()
    return upload


async def delete_upload(cmd: commands.DeleteUpload, services: Services) -> None:
    """Put a stored file in the trash, where its bytes still count (twice is fine for its
    owner); abort a pending upload, or forget a failed or expired one, at once."""
    if not is_public_id(cmd.upload_id):
        raise NotFound("No such upload.")
    async with services.uow() as uow:
        upload = await uow.uploads.get_for_sub(cmd.upload_id, cmd.actor.sub)
        if upload is None:
            raise NotFound("No such upload.")
        if upload.status in (UploadStatus.STORED, UploadStatus.TRASHED):
            if upload.trash(services.clock.now()):
                await uow.uploads.update(upload)
                await uow.commit()
            return
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
