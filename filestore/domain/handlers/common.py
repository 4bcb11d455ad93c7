"""Steps several use cases share: finding or registering the caller, finding their upload."""

from __future__ import annotations

from filestore.domain.commands import Actor
from filestore.domain.errors import AlreadyExists, ConcurrencyConflict, NotFound
from filestore.domain.handlers.services import Services
from filestore.domain.ids import is_public_id
from filestore.domain.model import Upload, UploadStatus, User
from filestore.domain.ports import UnitOfWork


async def user_for(uow: UnitOfWork, actor: Actor, services: Services) -> User:
    """The actor's user, registered on first sight.

    The identity provider owns the address: when the actor's differs from the one stored
    (they changed it since), the user takes it, in `uow` (not committed), and
    a bounce or complaint of the old mailbox no longer holds.
    """
    user = await uow.users.get_by_sub(actor.sub)
    if user is not None:
        if user.change_email(actor.email):
            await uow.users.update(user)
        return user
    user = User.register(
        id=services.ids.new_id(),
        sub=actor.sub,
        email=actor.email,
        quota_bytes=services.policy.default_quota_bytes,
        now=services.clock.now(),
    )
    try:
        await uow.users.add(user)
    except AlreadyExists as error:
        # Someone registered the same sub a moment ago: run the command again and find them.
        raise ConcurrencyConflict("user registered concurrently") from error
    return user


async def user_id_for(uow: UnitOfWork, actor: Actor, services: Services) -> str:
    """The actor's user id, registered on first sight: for a write that needs the id and not
    the user (the repository may know it without a query)."""
    user_id = await uow.users.id_for_sub(actor.sub)
    return user_id if user_id is not None else (await user_for(uow, actor, services)).id


async def owned_upload(uow: UnitOfWork, actor: Actor, upload_id: str) -> Upload:
    """The actor's upload `upload_id`, in one query; anyone else's, a trashed or deleted one,
    or none is 'not found' (so is any upload of someone not registered yet: they own
    nothing)."""
    if not is_public_id(upload_id):
        raise NotFound("No such upload.")
    upload = await uow.uploads.get_for_sub(upload_id, actor.sub)
    if upload is None or upload.status in (UploadStatus.DELETED, UploadStatus.TRASHED):
        raise NotFound("No such upload.")
    return upload
