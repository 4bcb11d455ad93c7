"""Use cases of share links: create, list and revoke them, and resolve one for anyone."""

from __future__ import annotations

from filestore.domain import commands
from filestore.domain.errors import NotFound
from filestore.domain.handlers.common import owned_upload
from filestore.domain.handlers.results import SharedFile
from filestore.domain.handlers.services import Services
from filestore.domain.ids import is_public_id, is_token
from filestore.domain.model import Share
from filestore.domain.rules import check_share_lifetime


async def create_share(cmd: commands.CreateShare, services: Services) -> Share:
    """A link to one of the caller's stored files, live for the lifetime asked."""
    lifetime = check_share_lifetime(cmd.expires_in)
    async with services.uow() as uow:
        upload = await owned_upload(uow, cmd.actor, cmd.upload_id)
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
    """The live share links of one of the caller's uploads (one query)."""
    if not is_public_id(cmd.upload_id):
        raise NotFound("No such upload.")
    async with services.uow() as uow:
        shares = await uow.shares.list_live_for_sub(
            cmd.upload_id, cmd.actor.sub, services.clock.now()
        )
    if shares is None:
        raise NotFound("No such upload.")
    return shares


async def revoke_share(cmd: commands.RevokeShare, services: Services) -> None:
    """Revoke a share link (again is fine for its owner; anyone else gets 'not found')."""
    if not is_token(cmd.token):
        raise NotFound("No such share.")
    async with services.uow() as uow:
        share = await uow.shares.get_for_sub(cmd.token, cmd.actor.sub)
        if share is None:
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
        found = await uow.shares.get_with_upload(cmd.token)
    if found is None or not found[0].is_live(now):
        raise NotFound("No such share, or it has expired.")
    share, upload = found
    # A file's links end for good when it goes to the trash, even if it comes back.
    if not upload.honours(share):
        raise NotFound("No such share, or it has expired.")
    ttl = min(services.policy.share_url_ttl, share.expires_at - now)
    url = services.blobs.presign_get(upload.object_key, filename=upload.name, expires_in=ttl)
    return SharedFile(upload.name, upload.size, url, now + ttl, share.expires_at)
