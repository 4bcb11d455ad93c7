"""The ports: what the domain needs from the outside world, shaped by the use cases.

Every port has an in-memory adapter in `filestore.adapters.memory` and a contract test suite in
`tests/contracts/` that every adapter of it passes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any, Protocol, Self

from filestore.domain.events import Event
from filestore.domain.model import Connection, Share, Upload, User

# --- persistence -------------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class ListPosition:
    """Where a listing stopped: the last row's `(created_at, id)`."""

    created_at: datetime
    id: str


# Optimistic concurrency, the same for every aggregate: `add` saves version 1 and sets it on the
# entity; `update` saves only if the stored version is still the entity's, then increments both,
# else raises `ConcurrencyConflict`. Reads return copies: changing one saves nothing.


class UserRepository(Protocol):
    async def get(self, user_id: str) -> User | None: ...
    async def get_by_sub(self, sub: str) -> User | None: ...
    async def list_by_email(self, email: str) -> list[User]:
        """Every user whose address is `email` ignoring the case of ASCII letters (how other
        letters fold is the database's; the addresses we mail are ASCII), in no set order.
        The identity provider keeps addresses unique, but a user may not have signed in since
        their address moved to someone else, so there may be several."""

    async def add(self, user: User) -> None:
        """Insert; raises `AlreadyExists` if the sub (or id) is taken."""

    async def update(self, user: User) -> None:
        """Save if nobody saved it since it was read, else `ConcurrencyConflict`."""


class UploadRepository(Protocol):
    async def get(self, upload_id: str) -> Upload | None: ...
    async def get_by_object_key(self, object_key: str) -> Upload | None: ...
    async def add(self, upload: Upload) -> None:
        """Insert; raises `AlreadyExists` if the id or object key is taken."""

    async def update(self, upload: Upload) -> None:
        """Save if nobody saved it since it was read, else `ConcurrencyConflict`."""

    async def list_stored(
        self, owner_id: str, limit: int, after: ListPosition | None = None
    ) -> list[Upload]:
        """The owner's stored uploads, newest first by `(created_at, id)`, after `after`."""

    async def list_pending(
        self, created_before: datetime, limit: int, after: ListPosition | None = None
    ) -> list[Upload]:
        """Pending uploads created before a time, oldest first by `(created_at, id)`, strictly
        after `after` (for the reconciling sweep, which pages through them all)."""


class ShareRepository(Protocol):
    async def get(self, token: str) -> Share | None: ...
    async def add(self, share: Share) -> None:
        """Insert; raises `AlreadyExists` if the token is taken."""

    async def update(self, share: Share) -> None:
        """Save if nobody saved it since it was read, else `ConcurrencyConflict`."""

    async def list_live(self, upload_id: str, now: datetime) -> list[Share]:
        """Unrevoked, unexpired shares of one upload, soonest to expire first."""


class ConnectionRepository(Protocol):
    async def add(self, connection: Connection) -> None:
        """Insert or replace (a reconnect may reuse an id)."""

    async def remove(self, connection_id: str) -> None:
        """Forget a connection; absent is fine."""

    async def list_for_user(self, user_id: str) -> list[Connection]: ...
    async def remove_connected_before(self, cutoff: datetime) -> int:
        """Forget connections older than `cutoff`; returns how many."""


@dataclass(frozen=True)
class OutboxEntry:
    """An event committed with the state change it describes, waiting to be published."""

    position: int
    event: Event


class Outbox(Protocol):
    async def add(self, events: Sequence[Event]) -> None:
        """Write events in the current transaction, in order."""

    async def pending(self, limit: int) -> list[OutboxEntry]:
        """Unpublished entries, oldest first; skips rows another relay is working on."""

    async def mark_published(self, event_ids: Sequence[str], now: datetime) -> None: ...


class ProcessedEvents(Protocol):
    async def add(self, consumer: str, event_id: str, now: datetime) -> bool:
        """Record that `consumer` handled `event_id`; False if it already had."""

    async def contains(self, consumer: str, event_id: str) -> bool: ...


class UnitOfWork(Protocol):
    """One transaction over every repository; leaving without `commit()` rolls back.

    On commit, the events recorded by every aggregate added or updated through it are written
    to the outbox in the same transaction, and kept in `committed_events` for the caller.
    """

    users: UserRepository
    uploads: UploadRepository
    shares: ShareRepository
    connections: ConnectionRepository
    outbox: Outbox
    processed: ProcessedEvents
    committed_events: list[Event]

    async def __aenter__(self) -> Self: ...
    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...
    async def commit(self) -> None: ...
    async def rollback(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self) -> UnitOfWork: ...
    async def aclose(self) -> None:
        """Release what the factory holds (pooled connections); it is not used afterwards."""


# --- blobs -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PresignedPost:
    """A form upload: POST `fields` plus the file (last) as multipart/form-data to `url`."""

    url: str
    fields: Mapping[str, str]
    expires_at: datetime


@dataclass(frozen=True)
class PartUrl:
    part_number: int
    url: str


@dataclass(frozen=True)
class StoredPart:
    part_number: int
    etag: str
    size: int


@dataclass(frozen=True)
class CompletedPart:
    part_number: int
    etag: str


@dataclass(frozen=True)
class ObjectInfo:
    """What the blob store knows of a stored object."""

    size: int
    etag: str
    sha256: str | None = None  # hex, when the store recorded a full-object SHA-256


class BlobStore(Protocol):
    """Where the bytes live. Presigning is local computation; the rest does I/O."""

    def presign_post(
        self, key: str, *, size: int, content_type: str, sha256: str | None, expires_in: timedelta
    ) -> PresignedPost:
        """A POST accepting exactly `size` bytes of `content_type` at `key`, and nothing else."""

    def presign_part(
        self, key: str, multipart_id: str, part_number: int, size: int, expires_in: timedelta
    ) -> str:
        """A PUT URL for one part whose Content-Length is signed to `size`."""

    def presign_get(self, key: str, *, filename: str, expires_in: timedelta) -> str:
        """A GET URL answering with `Content-Disposition: attachment` carrying `filename`."""

    async def create_multipart(self, key: str, *, content_type: str) -> str:
        """Start a multipart upload; returns its id."""

    async def list_parts(self, key: str, multipart_id: str) -> list[StoredPart]: ...
    async def complete_multipart(
        self, key: str, multipart_id: str, parts: Sequence[CompletedPart]
    ) -> None:
        """Assemble the parts; raises `InvalidInput` if a part or ETag does not match."""

    async def abort_multipart(self, key: str, multipart_id: str) -> None:
        """Abandon a multipart upload; absent is fine."""

    async def head(self, key: str) -> ObjectInfo | None: ...
    async def delete(self, key: str) -> None:
        """Delete an object; absent is fine."""


# --- messages out ------------------------------------------------------------------------------


class EventPublisher(Protocol):
    async def publish(self, events: Sequence[Event]) -> None:
        """Publish to every subscriber (at least once); raises if any was not accepted."""


@dataclass(frozen=True)
class EmailMessage:
    to: str
    subject: str
    text: str
    html: str


class EmailSender(Protocol):
    async def send(self, message: EmailMessage) -> None: ...


class RealtimeNotifier(Protocol):
    async def post(self, connection_id: str, message: Mapping[str, Any]) -> None:
        """Send one JSON message; raises `ConnectionGone` if the connection no longer exists."""


# --- time and identity -------------------------------------------------------------------------


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""


class IdGenerator(Protocol):
    def new_id(self) -> str:
        """A new opaque, time-ordered public id."""

    def new_token(self) -> str:
        """A new unguessable share token."""
