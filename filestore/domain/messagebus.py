"""The message bus: runs a command's handler, then hands the events it committed onwards.

Commands fail loudly: their errors reach the caller. A command that lost an optimistic
concurrency race is run again, up to five times in all, after a short jittered pause. The
events committed while it ran are then:
- handed to in-process event handlers (each isolated: a failure is logged, not raised), and
- published through the publisher, if there is one, and marked published in the outbox
  (if that fails, the outbox keeps them and the relay publishes them later).

Marking them is one statement of its own after the command's transaction (one Data API call):
it must follow the publish, which must follow the commit. By default nothing is left to run after
`handle` returns: a Lambda environment is frozen between invocations, and work left on its loop
would run, late, inside the next one. A long-running process (`filestore serve`) instead
publishes in the background (`publish_in_background`), so a command answers once it committed;
`drain()` waits for what is still being published, and a publish lost to a crash is the outbox
relay's to make.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from filestore.domain import commands, events
from filestore.domain.deadlines import command_clock
from filestore.domain.errors import ConcurrencyConflict
from filestore.domain.handlers import COMMAND_HANDLERS, Handler
from filestore.domain.handlers.services import Services

log = logging.getLogger(__name__)

# At most this many events per publish and mark in the background (SNS takes 10 per call).
BACKGROUND_BATCH = 100

# What to do in-process when an event was committed: commands to run for it.
EventHandlers = Mapping[type[events.Event], Sequence[Callable[[events.Event], commands.Command]]]

NOTIFY_IN_PROCESS: EventHandlers = {
    events.UploadStored: (commands.NotifyByEmail, commands.NotifyRealtime),
    events.UploadFailed: (commands.NotifyByEmail, commands.NotifyRealtime),
    events.UploadRenamed: (commands.NotifyRealtime,),
    events.UploadDeleted: (commands.NotifyRealtime,),
    events.UploadMoved: (commands.NotifyRealtime,),
    events.UploadTrashed: (commands.NotifyRealtime,),
    events.UploadRestored: (commands.NotifyRealtime,),
    events.FolderCreated: (commands.NotifyRealtime,),
    events.FolderRenamed: (commands.NotifyRealtime,),
    events.FolderMoved: (commands.NotifyRealtime,),
    events.FolderTrashed: (commands.NotifyRealtime,),
    events.FolderRestored: (commands.NotifyRealtime,),
    events.FolderDeleted: (commands.NotifyRealtime,),
}
"""For a system in one process (the library on its own): notify right away."""


class MessageBus:
    """Dispatches commands to their handlers and the resulting events onwards."""

    def __init__(
        self,
        services: Services,
        *,
        event_handlers: EventHandlers | None = None,
        command_handlers: Mapping[type[commands.Command], Handler] | None = None,
        publish_inline: bool = True,
        publish_in_background: bool = False,
        attempts: int = 5,
    ) -> None:
        self.services = services
        self.event_handlers: EventHandlers = event_handlers or {}
        self.command_handlers = dict(command_handlers or COMMAND_HANDLERS)
        self.publish_inline = publish_inline
        self.publish_in_background = publish_in_background
        self.attempts = attempts
        # Background publishing: committed events waiting, and the one task that publishes them.
        self._unpublished: list[events.Event] = []
        self._publisher_task: asyncio.Task[None] | None = None

    async def handle(self, command: commands.Command) -> Any:
        """Run `command` and return its handler's result; its errors propagate."""
        handler = self.command_handlers.get(type(command))
        if handler is None:
            raise TypeError(f"no handler for {type(command).__name__}")
        committed: list[events.Event] = []
        # One clock for the whole command, its retries and its after-commit work included: the
        # budget of adapters that wait for a dependency is counted from here (`deadlines`).
        with command_clock():
            try:
                with self.services.collecting_committed() as committed:
                    return await self._run(handler, command)
            finally:
                # Even when the command failed after a commit, what was committed goes on.
                if committed:
                    await self._after_commit(committed)

    async def _run(self, handler: Handler, command: commands.Command) -> Any:
        """Run the handler, again after a lost concurrency race, up to `attempts` times."""
        for attempt in range(1, self.attempts + 1):
            try:
                return await handler(command, self.services)
            except ConcurrencyConflict:
                if attempt == self.attempts:
                    raise
                log.info("retrying %s after a concurrent change", type(command).__name__)
                # Jittered back-off, so contenders for one row do not collide again in step.
                await asyncio.sleep(random.uniform(0, 0.005 * 2**attempt))  # noqa: S311 - jitter, not a secret  # nosec B311
        raise AssertionError("unreachable")  # pragma: no cover

    async def drain(self) -> None:
        """Wait for the events still being published in the background (before shutting down)."""
        while self._publisher_task is not None and not self._publisher_task.done():
            await asyncio.gather(self._publisher_task, return_exceptions=True)

    async def _after_commit(self, committed: list[events.Event]) -> None:
        if self.publish_inline and self.services.publisher is not None:
            if self.publish_in_background:
                self._publish_later(committed)
            else:
                await self._publish(committed)
        for event in committed:
            for make_command in self.event_handlers.get(type(event), ()):
                try:
                    await self.handle(make_command(event))
                except Exception:
                    log.exception("handling event %s (%s) failed", event.id, event.type)

    def _publish_later(self, committed: list[events.Event]) -> None:
        """Queue `committed` for the background publisher, started if it is not running. Events
        committed meanwhile by other commands go out together: one publish and one mark for
        many commands when they come quickly."""
        self._unpublished.extend(committed)
        if self._publisher_task is None or self._publisher_task.done():
            self._publisher_task = asyncio.create_task(self._publish_queued())

    async def _publish_queued(self) -> None:
        while self._unpublished:
            batch = self._unpublished[:BACKGROUND_BATCH]
            del self._unpublished[:BACKGROUND_BATCH]
            await self._publish(batch)

    async def _publish(self, committed: list[events.Event]) -> None:
        """Publish `committed` and mark it published; a failure is left to the relay."""
        if self.services.publisher is None:
            return
        try:
            await self.services.publisher.publish(committed)
            async with self.services.uow() as uow:
                await uow.outbox.mark_published(
                    [event.id for event in committed], self.services.clock.now()
                )
                await uow.commit()
        except Exception:
            log.exception(
                "publishing %d events failed; the outbox relay will retry", len(committed)
            )
