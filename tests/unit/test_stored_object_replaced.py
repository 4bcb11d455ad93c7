"""A stored object written again (its presigned POST re-sent before it expired) is put back to
its first bytes by the S3-events consumer, which the write's own event reaches."""

from __future__ import annotations

from typing import Any

from filestore.adapters.memory import MemoryBlobStore
from filestore.app import FileStore
from filestore.domain.commands import Actor
from filestore.domain.handlers.results import StoredOutcome


class ReplacedOnce(MemoryBlobStore):
    """A store (S3, versioned) where the key was written again after it was stored."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.restored: list[str] = []

    async def keep_first_version(self, key: str) -> bool:
        if key in self.restored:
            return False
        self.restored.append(key)
        return True


async def test_the_event_of_a_second_write_restores_the_first_bytes(
    clock: Any, policy: Any, alice: Actor
) -> None:
    blobs = ReplacedOnce(clock)
    store = FileStore.in_memory(policy=policy, clock=clock, blobs=blobs)
    ticket = await store.request_upload(alice, "a.txt", size=5, content_type="text/plain")
    assert ticket.post is not None
    blobs.post(ticket.post, b"first")
    key = ticket.upload.object_key
    assert await store.record_stored(key) is StoredOutcome.STORED
    assert blobs.restored == []  # the first write: nothing to restore

    # The second write's event (or a repeat of the first: the store tells them apart).
    assert await store.record_stored(key) is StoredOutcome.DUPLICATE
    assert blobs.restored == [key]
    assert (await store.get_upload(alice, ticket.upload.id)).status.value == "stored"
