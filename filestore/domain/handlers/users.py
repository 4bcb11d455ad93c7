"""Use cases of users: registration and preferences."""

from __future__ import annotations

from filestore.domain import commands
from filestore.domain.handlers.common import user_for
from filestore.domain.handlers.services import Services
from filestore.domain.model import User


async def register_user(cmd: commands.RegisterUser, services: Services) -> User:
    """Register a user (idempotent: an existing one is returned as it is)."""
    async with services.uow() as uow:
        user = await user_for(uow, cmd.actor, services)
        await uow.commit()
    return user


async def get_me(cmd: commands.GetMe, services: Services) -> User:
    """The caller (one query), registered on first sight: a user's first request registers
    them, so that the answer has the id and creation time they keep."""
    return await register_user(commands.RegisterUser(cmd.actor), services)


async def update_preferences(cmd: commands.UpdatePreferences, services: Services) -> User:
    """Change whether the caller is told of their uploads by e-mail."""
    async with services.uow() as uow:
        user = await user_for(uow, cmd.actor, services)
        if user.notify_email != cmd.notify_email:
            user.notify_email = cmd.notify_email
            await uow.users.update(user)
        await uow.commit()
    return user
