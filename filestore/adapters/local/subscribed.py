"""Events for the local topic, sent only when one of its subscriptions would take them.

The local emulator's events topic has exactly the subscriptions `emulator.QUEUES` lists, each
filtered on the event type. SNS delivers an event no filter accepts to nobody; publishing it to
the in-process emulator still costs a few milliseconds of the server's CPU (the SDK call, and
the emulator's own handling of it on the same interpreter). So the local profile's publisher
sends only the types some subscription takes; what the topic would drop is dropped here.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from filestore.domain.events import Event
from filestore.domain.ports import EventPublisher


class SubscribedTypesPublisher:
    """An `EventPublisher` that passes on only events of `types` to `publisher`."""

    def __init__(self, publisher: EventPublisher, types: Collection[str]) -> None:
        self._publisher = publisher
        self._types = frozenset(types)

    async def publish(self, events: Sequence[Event]) -> None:
        wanted = [event for event in events if event.type in self._types]
        if wanted:
            await self._publisher.publish(wanted)
