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

from filestore.domain.checksums import Checksum
from filestore.domain.events import Event
from filestore.domain.model import Connection, Share, Upload, User

# --- persistence -------------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class ListPosition:
    """Where a listing stopped: the last row's `(created_at, id)`."""

    created_at: datetime
    id: str


@dataclass(frozen=True)
class ProcessedBy:
    """One consumer's handling of one event: what `ProcessedEvents` remembers."""

    consumer: str
    event_id: str


# Optimistic concurrency, the same for every aggregate: `add` saves version 1 and sets it on the
# entity; `update` saves only if the stored version is still the entity's, then increments both,
# else raises `ConcurrencyConflict`. Reads return copies: changing one saves nothing.
#
# Queries keyed by `sub` (the identity provider's id of the caller) join the users table
# themselves, so that a use case needs no lookup of its caller first: one statement each. A
# user who is not registered yet owns nothing, so those queries find nothing for them.


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

    async def reserve(self, user_id: str, size: int) -> bool:
        """Count `size` more bytes against the user's quota if they fit (`used_bytes + size <=
        quota_bytes`), as one step no concurrent change can come between, and bump the
        version; False (nothing changed) if they do not fit or there is no such user."""

    async def id_for_sub(self, sub: str) -> str | None:
        """The id of the user with this sub, or None. A sub's user never changes: an adapter may
        answer from what it learned before (of committed users only), without a query."""

    async def get_for_consumer(
        self, user_id: str, processed: ProcessedBy
    ) -> tuple[User | None, bool]:
        """The user, and whether that consumer already handled that event: a consumer's read
        and its idempotency check in one query. `(None, False)` if there is no such user."""


class UploadRepository(Protocol):
    async def get(self, upload_id: str) -> Upload | None: ...
    async def get_for_sub(self, upload_id: str, sub: str) -> Upload | None:
        """The upload if the user with this sub owns it (in whatever state), else None."""

    async def get_by_object_key(self, object_key: str) -> Upload | None: ...
    async def add(self, upload: Upload) -> None:
        """Insert; raises `AlreadyExists` if the id or object key is taken, `NotFound` if the
        owner does not exist."""

    async def update(self, upload: Upload, *, release_bytes: int = 0) -> None:
        """Save if nobody saved it since it was read, else `ConcurrencyConflict`. With
        `release_bytes`, also give that many bytes back to the owner's quota (never below
        zero) in the same step: for an upload that stopped counting (failed, expired,
        deleted). The owner's version changes then, as by `UserRepository.update`."""

    async def list_stored_for_sub(
        self, sub: str, limit: int, after: ListPosition | None = None
    ) -> list[Upload]:
        """The stored uploads of the user with this sub, newest first by `(created_at, id)`,
        after `after`."""

    async def list_pending(
        self, created_before: datetime, limit: int, after: ListPosition | None = None
    ) -> list[Upload]:
        """Pending uploads created before a time, oldest first by `(created_at, id)`, strictly
        after `after` (for the reconciling sweep, which pages through them all)."""


class ShareRepository(Protocol):
    async def get(self, token: str) -> Share | None: ...
    async def get_for_sub(self, token: str, sub: str) -> Share | None:
        """The share if the user with this sub owns it (revoked or not), else None."""

    async def get_with_upload(self, token: str) -> tuple[Share, Upload] | None:
        """The share and its upload, in one query (what a share link resolves to)."""

    async def add(self, share: Share) -> None:
        """Insert; raises `AlreadyExists` if the token is taken."""

    async def update(self, share: Share) -> None:
        """Save if nobody saved it since it was read, else `ConcurrencyConflict`."""

    async def list_live_for_sub(
        self, upload_id: str, sub: str, now: datetime
    ) -> list[Share] | None:
        """Unrevoked, unexpired shares of one upload, soonest to expire first; None if the user
        with this sub has no such upload (or it is deleted)."""


class ConnectionRepository(Protocol):
    async def add(self, connection: Connection) -> None:
        """Insert or replace (a reconnect may reuse an id)."""

    async def remove(self, connection_id: str) -> None:
        """Forget a connection; absent is fine."""

    async def list_for_user(self, user_id: str) -> list[Connection]: ...
    async def remove_connected_before(self, cutoff: datetime) -> int:
        """Forget connections older than `cutoff`; returns how many."""

    async def list_for_consumer(
        self, user_id: str, processed: ProcessedBy
    ) -> tuple[list[Connection], bool]:
        """The user's connections, oldest first, and whether that consumer already handled
        that event: its read and its idempotency check in one query. `([], False)` if the
        user has none (nothing to deliver either way)."""


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
    async def record(self, consumer: str, event_id: str, now: datetime) -> None:
        """Record that `consumer` handled `event_id`, answering nothing (again is fine, and so
        is the same record made concurrently): for a consumer that records after its side
        effect, whose write may then wait for the commit and go alone."""


class UnitOfWork(Protocol):
    """One transaction over every repository; leaving without `commit()` rolls back.

    The transaction begins with the first write. Reads before it run on their own, each
    seeing what is committed when it runs, with no transaction to begin or end (on the Data
    API, one call each): a use case that only reads makes one statement per read and no more.
    Every write that depends on such a read is conditional on it (versions, or the condition
    of `UserRepository.reserve`), so a change made in between is still detected
    (`ConcurrencyConflict`). Reads after the first write run inside the transaction and see
    its writes.

    Writes that answer nothing (adding or removing a connection, `processed.record`, marking
    events published) may be held back until the next statement or the commit; a unit of work
    whose only statement is one of them commits it on its own, with no transaction.

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
    sha256: str | None = None  # hex: the part's SHA-256 the client sent it with


@dataclass(frozen=True)
class ObjectInfo:
    """What the blob store knows of a stored object."""

    size: int
    etag: str
    sha256: str | None = None  # hex, when the store recorded a full-object SHA-256
    # The SHA-256 storage checked the bytes against as they arrived: the whole file's, or the
    # composite of a multipart upload whose parts were each sent with theirs; None if none was.
    checksum: Checksum | None = None


class BlobStore(Protocol):
    """Where the bytes live. Presigning is local computation; the rest does I/O."""

    def presign_post(
        self, key: str, *, size: int, content_type: str, sha256: str | None, expires_in: timedelta
    ) -> PresignedPost:
        """A POST accepting exactly `size` bytes of `content_type` at `key`, and nothing else."""

    def presign_part(
        self,
        key: str,
        multipart_id: str,
        part_number: int,
        size: int,
        expires_in: timedelta,
        sha256: str | None = None,
    ) -> str:
        """A PUT URL for one part whose Content-Length is signed to `size` and, given `sha256`
        (hex), whose `x-amz-checksum-sha256` header is signed to it: storage refuses a part
        whose bytes do not match."""

    def presign_get(self, key: str, *, filename: str, expires_in: timedelta) -> str:
        """A GET URL answering with `Content-Disposition: attachment` carrying `filename`."""

    async def create_multipart(
        self, key: str, *, content_type: str, part_checksums: bool = False
    ) -> str:
        """Start a multipart upload; returns its id. With `part_checksums`, its parts come with
        their SHA-256s and the object gets their composite (S3 wants to know at the start)."""

    async def list_parts(self, key: str, multipart_id: str) -> list[StoredPart]: ...
    async def complete_multipart(
        self, key: str, multipart_id: str, parts: Sequence[CompletedPart]
    ) -> None:
        """Assemble the parts; raises `InvalidInput` if a part, ETag or part SHA-256 does not
        match what arrived."""

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
