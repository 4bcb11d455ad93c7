"""What the use cases run on: the ports chosen by the composition root, and the policy."""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from filestore.domain.events import Event
from filestore.domain.ports import (
    BlobStore,
    Clock,
    EmailSender,
    EventPublisher,
    IdGenerator,
    RealtimeNotifier,
    UnitOfWork,
    UnitOfWorkFactory,
)
from filestore.domain.rules import UploadPolicy

# The units of work opened inside `Services.collecting_committed()`. A context variable, so
# concurrent commands each collect their own, and tasks a use case starts count as its own.
_opened: contextvars.ContextVar[list[UnitOfWork] | None] = contextvars.ContextVar(
    "filestore_opened_uows", default=None
)


@dataclass
class Services:
    """Everything the use cases need, chosen by the composition root."""

    uow_factory: UnitOfWorkFactory
    blobs: BlobStore
    clock: Clock
    ids: IdGenerator
    policy: UploadPolicy = field(default_factory=UploadPolicy)
    publisher: EventPublisher | None = None
    email: EmailSender | None = None
    realtime: RealtimeNotifier | None = None

    def uow(self) -> UnitOfWork:
        """A new unit of work, remembered by `collecting_committed()` if one is open."""
        uow = self.uow_factory()
        opened = _opened.get()
        if opened is not None:
            opened.append(uow)
        return uow

    @contextmanager
    def collecting_committed(self) -> Iterator[list[Event]]:
        """Collect what the units of work opened inside the block commit.

        The list it yields is filled when the block is left, however it is left (a command
        may fail after a commit, and what it committed must still go on): with the events
        every unit of work from `uow()` committed, in the order they were opened.
        """
        opened: list[UnitOfWork] = []
        committed: list[Event] = []
        token = _opened.set(opened)
        try:
            yield committed
        finally:
            _opened.reset(token)
            for uow in opened:
                committed.extend(uow.committed_events)
