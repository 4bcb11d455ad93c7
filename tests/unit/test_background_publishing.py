"""A long-running server's bus publishes after the command answered, many commands together,
and leaves to the relay what it could not publish."""

from __future__ import annotations

import asyncio

from filestore.app import FileStore
from filestore.domain import commands
from filestore.domain.commands import Actor
from filestore.domain.messagebus import MessageBus


def _declare(actor: Actor, n: int) -> commands.RequestUpload:
    return commands.RequestUpload(actor, f"f{n}.txt", 1, "text/plain", None)


def test_commands_answer_before_their_events_are_published_then_drain_publishes_all(
    store: FileStore, alice: Actor
) -> None:
    bus = MessageBus(store.bus.services, publish_in_background=True)

    async def scenario() -> tuple[int, int]:
        await bus.handle(_declare(alice, 0))
        published_when_answered = len(store.memory_publisher.published)
        await asyncio.gather(*(bus.handle(_declare(alice, n)) for n in range(1, 5)))
        await bus.drain()
        return published_when_answered, len(store.memory_publisher.published)

    at_answer, after_drain = asyncio.run(scenario())
    assert at_answer == 0
    assert after_drain == 6  # user.registered and five upload.requested

    async def unpublished() -> int:
        async with store.bus.services.uow() as uow:
            return len(await uow.outbox.pending(100))

    assert asyncio.run(unpublished()) == 0


def test_what_failed_to_publish_stays_for_the_relay(store: FileStore, alice: Actor) -> None:
    bus = MessageBus(store.bus.services, publish_in_background=True)
    store.memory_publisher.fail_next = 1

    async def scenario() -> int:
        await bus.handle(_declare(alice, 1))
        await bus.drain()
        async with store.bus.services.uow() as uow:
            return len(await uow.outbox.pending(100))

    assert asyncio.run(scenario()) == 2
    assert store.memory_publisher.published == []
