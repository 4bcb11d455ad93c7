"""Use cases of share links: create, list and revoke them, and resolve one for anyone."""

from __future__ import annotations

from filestore.domain import commands
from filestore.domain.errors import NotFound
from filestore.domain.handlers.common import owned_upload, user_for
from filestore.domain.handlers.results import SharedFile
from filestore.domain.handlers.services import Services
from filestore.domain.ids import is_token
from filestore.domain.model import Share, UploadStatus
from filestore.domain.rules import check_share_lifetime


async def create_share(cmd: commands.CreateShare, services: Services) -> Share:
    """A link to one of the caller's stored files, live for the lifetime asked."""
    lifetime = check_share_lifetime(cmd.expires_in)
    async with services.uow() as uow:
        user = await user_for(uow, cmd.actor, services)
        upload = await owned_upload(uow, user, cmd.upload_id)
        upload.check_downloadable()
        share = Share.create(
            token=services.ids.new_token(),
            upload=upload,
            lifetime=lifetime,
            now=services.clock.now(),
        )
        await uow.shares.add(share)
        await uow.commit()
    return share


async def list_shares(cmd: commands.ListShares, services: Services) -> list[Share]:
    """The live share links of one of the caller's uploads."""
    async with services.uow() as uow:
        user = await user_for(uow, cmd.actor, services)
        upload = await owned_upload(uow, user, cmd.upload_id)
        shares = await uow.shares.list_live(upload.id, services.clock.now())
        await uow.commit()
    return shares


async def revoke_share(cmd: commands.RevokeShare, services: Services) -> None:
    """Revoke a share link (again is fine for its owner; anyone else gets 'not found')."""
    if not is_token(cmd.token):
        raise NotFound("No such share.")
    async with services.uow() as uow:
        user = await user_for(uow, cmd.actor, services)
        share = await uow.shares.get(cmd.token)
        if share is None or share.owner_id != user.id:
            raise NotFound("No such share.")
        if share.revoked_at is None:
            share.revoke(services.clock.now())
            await uow.shares.update(share)
        await uow.commit()


async def resolve_share(cmd: commands.ResolveShare, services: Services) -> SharedFile:
    """What a share link gives anyone holding it: the file's name, size and a short-lived URL."""
    if not is_token(cmd.token):
        raise NotFound("No such share.")
    now = services.clock.now()
    async with services.uow() as uow:
        share = await uow.shares.get(cmd.token)
        upload = await uow.uploads.get(share.upload_id) if share is not None else None
    if share is None or upload is None or not share.is_live(now):
        raise NotFound("No such share, or it has expired.")
    if upload.status is not UploadStatus.STORED:
        raise NotFound("No such share, or it has expired.")
    ttl = min(services.policy.share_url_ttl, share.expires_at - now)
    url = services.blobs.presign_get(upload.object_key, filename=upload.name, expires_in=ttl)
    return SharedFile(upload.name, upload.size, url, now + ttl)
