"""Use cases of telling users: realtime connections, and notifying by e-mail and realtime."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from filestore.domain import commands
from filestore.domain.errors import ConnectionGone
from filestore.domain.handlers.common import user_for
from filestore.domain.handlers.results import EmailNotice
from filestore.domain.handlers.services import Services
from filestore.domain.model import Connection
from filestore.domain.notifications import EMAIL_EVENT_TYPES, email_for, realtime_message

log = logging.getLogger(__name__)

# The consumers whose handled events are remembered, so each event reaches each at most once.
EMAIL_CONSUMER = "email"
REALTIME_CONSUMER = "realtime"


async def connect(cmd: commands.Connect, services: Services) -> None:
    """Remember a user's new realtime connection."""
    async with services.uow() as uow:
        user = await user_for(uow, cmd.actor, services)
        await uow.connections.add(Connection(cmd.connection_id, user.id, services.clock.now()))
        await uow.commit()


async def disconnect(cmd: commands.Disconnect, services: Services) -> None:
    """Forget a realtime connection."""
    async with services.uow() as uow:
        await uow.connections.remove(cmd.connection_id)
        await uow.commit()


async def notify_by_email(cmd: commands.NotifyByEmail, services: Services) -> EmailNotice:
    """E-mail the event's user if they opted in and mail reaches them; each event at most
    once."""
    event = cmd.event
    if event.type not in EMAIL_EVENT_TYPES or services.email is None:
        return EmailNotice.NOT_MAILED
    async with services.uow() as uow:
        if await uow.processed.contains(EMAIL_CONSUMER, event.id):
            return EmailNotice.REPEAT
        user = await uow.users.get(event.user_id)
    message = email_for(event, user) if user and user.notify_email else None
    if message is None:
        notice = EmailNotice.NOT_MAILED
    elif user is not None and not user.email_deliverable:
        # Mailing an address that bounces or complained is what gets a sender suspended.
        log.info("not e-mailing user %s: their address %s", user.id, user.email_status.value)
        notice = EmailNotice.UNDELIVERABLE
    else:
        await services.email.send(message)
        notice = EmailNotice.SENT
    await _mark_processed(services, EMAIL_CONSUMER, event.id)
    return notice


async def notify_realtime(cmd: commands.NotifyRealtime, services: Services) -> int:
    """Push the event to each open connection of its user; forget the gone ones."""
    event = cmd.event
    message = realtime_message(event)
    if message is None or services.realtime is None:
        return 0
    async with services.uow() as uow:
        if await uow.processed.contains(REALTIME_CONSUMER, event.id):
            return 0
        connections = await uow.connections.list_for_user(event.user_id)
    delivered, gone = 0, []
    for connection in connections:
        try:
            await services.realtime.post(connection.id, message)
            delivered += 1
        except ConnectionGone:
            gone.append(connection.id)
    await _mark_processed(services, REALTIME_CONSUMER, event.id, gone)
    return delivered


async def _mark_processed(
    services: Services, consumer: str, event_id: str, gone_connections: Sequence[str] = ()
) -> None:
    """Record, after the side effect, that `consumer` handled the event (a crash in between
    means it happens twice, never that it is lost). In a transaction of its own that writes
    first: had the side effect run inside the transaction that read, another writer committing
    meanwhile would fail this write (SQLite refuses to upgrade a stale read snapshot), and the
    bus's retry would send the e-mail or the message a second time."""
    async with services.uow() as uow:
        await uow.processed.add(consumer, event_id, services.clock.now())
        for connection_id in gone_connections:
            await uow.connections.remove(connection_id)
        await uow.commit()
