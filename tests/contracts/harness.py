"""What a contract test needs beyond the port itself: the other side of each adapter.

A blob store's contract is about what a *client* can do with its presigned URLs, so the blob
harness also plays the client; a publisher's is about what subscribers receive, so its harness
reads what was delivered.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any, Protocol

from filestore.adapters.memory import (
    MemoryBlobStore,
    MemoryEmailSender,
    MemoryEventPublisher,
    MemoryRealtimeNotifier,
    PresignedRequestRefused,
)
from filestore.domain.events import Event
from filestore.domain.ports import (
    BlobStore,
    EmailMessage,
    EmailSender,
    EventPublisher,
    PresignedPost,
    RealtimeNotifier,
)
from tests.support.clock import FakeClock


class Refused(Exception):
    """The store refused a client request (S3 answers 4xx)."""


class BlobHarness(Protocol):
    store: BlobStore

    def post(
        self, post: PresignedPost, data: bytes, fields: Mapping[str, str] | None = None
    ) -> None:
        """POST the form; raises `Refused` if the store refuses it."""

    def put_part(self, url: str, data: bytes, sha256: str | None = None) -> str:
        """PUT one part (with `x-amz-checksum-sha256` given `sha256`, hex); returns its ETag;
        raises `Refused`."""

    def get(self, url: str) -> tuple[bytes, Mapping[str, str]]:
        """GET; returns the body and headers (lower-case names); raises `Refused`."""

    def put_object(self, key: str, data: bytes) -> None:
        """Store an object behind the port's back (as S3 allows the bucket owner to)."""

    def expire_all(self) -> None:
        """Make every URL issued so far expired (by waiting, or by moving a clock)."""


class MemoryBlobHarness:
    def __init__(self) -> None:
        self.clock = FakeClock()
        self.store = MemoryBlobStore(self.clock)
        self._memory = self.store

    def post(
        self, post: PresignedPost, data: bytes, fields: Mapping[str, str] | None = None
    ) -> None:
        try:
            self._memory.post(post, data, fields=fields)
        except PresignedRequestRefused as error:
            raise Refused(str(error)) from error

    def put_part(self, url: str, data: bytes, sha256: str | None = None) -> str:
        try:
            return self._memory.put_part(url, data, sha256=sha256)
        except PresignedRequestRefused as error:
            raise Refused(str(error)) from error

    def get(self, url: str) -> tuple[bytes, Mapping[str, str]]:
        try:
            body, headers = self._memory.get(url)
        except PresignedRequestRefused as error:
            raise Refused(str(error)) from error
        return body, {k.lower(): v for k, v in headers.items()}

    def put_object(self, key: str, data: bytes) -> None:
        self._memory.put_object(key, data)

    def expire_all(self) -> None:
        self.clock.advance(timedelta(hours=1))


class PublisherHarness(Protocol):
    publisher: EventPublisher

    async def received(self, expected: int) -> Sequence[dict[str, Any]]:
        """The envelopes delivered to a subscriber of every type, waiting for `expected`."""


class MemoryPublisherHarness:
    def __init__(self) -> None:
        self._memory = MemoryEventPublisher()
        self.publisher: EventPublisher = self._memory

    async def received(self, expected: int) -> Sequence[dict[str, Any]]:
        return [event.envelope() for event in self._memory.published]


class EmailHarness(Protocol):
    sender: EmailSender

    async def sent_to(self, address: str) -> Sequence[EmailMessage]:
        """What was sent to `address`, oldest first."""


class MemoryEmailHarness:
    def __init__(self) -> None:
        self._memory = MemoryEmailSender()
        self.sender: EmailSender = self._memory

    async def sent_to(self, address: str) -> Sequence[EmailMessage]:
        return [m for m in self._memory.sent if m.to == address]


class RealtimeHarness(Protocol):
    notifier: RealtimeNotifier

    async def open_connection(self) -> str:
        """A live connection id."""

    async def close_connection(self, connection_id: str) -> None: ...
    async def received(self, connection_id: str) -> Sequence[dict[str, Any]]: ...


class MemoryRealtimeHarness:
    def __init__(self) -> None:
        self._memory = MemoryRealtimeNotifier()
        self.notifier: RealtimeNotifier = self._memory
        self._next = 0

    async def open_connection(self) -> str:
        self._next += 1
        connection_id = f"conn-{self._next}"
        self._memory.open(connection_id)
        return connection_id

    async def close_connection(self, connection_id: str) -> None:
        self._memory.close(connection_id)

    async def received(self, connection_id: str) -> Sequence[dict[str, Any]]:
        return list(self._memory.messages.get(connection_id, []))


__all__ = ["Event"]
