"""Steps several use cases share: finding the caller, their upload, giving quota back."""

from __future__ import annotations

from filestore.domain.commands import Actor
from filestore.domain.errors import AlreadyExists, ConcurrencyConflict, NotFound
from filestore.domain.handlers.services import Services
from filestore.domain.ids import is_public_id
from filestore.domain.model import Upload, User
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


async def owned_upload(uow: UnitOfWork, user: User, upload_id: str) -> Upload:
    """The user's upload `upload_id`; anyone else's, or none, is 'not found'."""
    if not is_public_id(upload_id):
        raise NotFound("No such upload.")
    upload = await uow.uploads.get(upload_id)
    if upload is None:
        raise NotFound("No such upload.")
    upload.check_owner(user.id)
    return upload


async def release_quota(uow: UnitOfWork, upload: Upload, owner: User | None = None) -> None:
    """Give the upload's bytes back to its owner's quota, in `uow` (not committed).

    For an upload that stopped counting: it failed, expired or was deleted while pending or
    stored. Pass `owner` if it is already loaded, to save a read.
    """
    if owner is None:
        owner = await uow.users.get(upload.owner_id)
        if owner is None:
            return
    owner.release(upload.size)
    await uow.users.update(owner)
