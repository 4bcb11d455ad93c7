"""Use cases of users: registration, preferences, and whether mail reaches them."""

from __future__ import annotations

import logging

from filestore.domain import commands
from filestore.domain.errors import InvalidInput
from filestore.domain.handlers.common import user_for
from filestore.domain.handlers.results import UndeliverableMarks
from filestore.domain.handlers.services import Services
from filestore.domain.model import EmailStatus, User

log = logging.getLogger(__name__)

# The consumer of the mail service's bounce and complaint reports, whose reports are
# remembered (processed events) so that each is applied at most once.
EMAIL_FEEDBACK_CONSUMER = "email-feedback"


async def register_user(cmd: commands.RegisterUser, services: Services) -> User:
    """Register a user (idempotent: an existing one is returned as it is, its e-mail address
    brought up to date)."""
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
        if user.set_notify_email(cmd.notify_email):
            await uow.users.update(user)
        await uow.commit()
    return user


async def mark_email_undeliverable(
    cmd: commands.MarkEmailUndeliverable, services: Services
) -> UndeliverableMarks:
    """Stop e-mail to every user whose address bounced for good or complained (matched
    ignoring case); each report is applied once."""
    if cmd.status is EmailStatus.OK:
        raise InvalidInput("A bounce or complaint marks addresses bounced or complained.")
    marked: list[str] = []
    async with services.uow() as uow:
        # Recorded in the same transaction as the marks: both happen, or neither.
        if not await uow.processed.add(
            EMAIL_FEEDBACK_CONSUMER, cmd.feedback_id, services.clock.now()
        ):
            return UndeliverableMarks((), repeat=True)
        for address in dict.fromkeys(a.lower() for a in cmd.addresses):
            for user in await uow.users.list_by_email(address):
                if user.mark_email_undeliverable(cmd.status):
                    await uow.users.update(user)
                    marked.append(user.id)
        await uow.commit()
    for user_id in marked:
        log.info("e-mail to user %s stopped: %s", user_id, cmd.status.value)
    return UndeliverableMarks(tuple(marked))


async def confirm_email_deliverable(
    cmd: commands.ConfirmEmailDeliverable, services: Services
) -> User:
    """Lift a bounce from the actor's address: mail just reached it."""
    async with services.uow() as uow:
        user = await user_for(uow, cmd.actor, services)
        if user.email_proven_deliverable():
            await uow.users.update(user)
        await uow.commit()
    return user
