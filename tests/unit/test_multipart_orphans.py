"""A multipart upload is made before the transaction that records its upload commits; when that
transaction fails (a lost race the bus retries, a database error), nothing would ever use it."""

from __future__ import annotations

from typing import Any

import pytest

from filestore.adapters import memory
from filestore.adapters.memory import MemoryBlobStore
from filestore.app import FileStore
from filestore.domain.commands import Actor
from filestore.domain.errors import ConcurrencyConflict, InvalidInput
from filestore.domain.rules import MiB

SIZE = 30 * MiB  # over the 20 MiB threshold of the tests' policy


class CountingBlobs(MemoryBlobStore):
    """Remembers every multipart upload it made."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.made: list[tuple[str, str]] = []

    async def create_multipart(
        self, key: str, *, content_type: str, part_checksums: bool = False
    ) -> str:
        multipart_id = await super().create_multipart(
            key, content_type=content_type, part_checksums=part_checksums
        )
        self.made.append((key, multipart_id))
        return multipart_id


async def live(blobs: MemoryBlobStore, key: str, multipart_id: str) -> bool:
    try:
        await blobs.complete_multipart(key, multipart_id, [])
    except InvalidInput as error:
        return "does not exist" not in str(error)
    return True


@pytest.fixture
def blobs(clock: Any) -> CountingBlobs:
    return CountingBlobs(clock)


@pytest.fixture
def store_with(blobs: CountingBlobs, clock: Any, policy: Any) -> FileStore:
    return FileStore.in_memory(policy=policy, clock=clock, blobs=blobs)


async def test_a_retried_request_leaves_one_multipart_upload(
    store_with: FileStore, blobs: CountingBlobs, alice: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    add = memory.MemoryUploadRepository.add
    losses = [1, 1]  # the first two attempts lose a race at the insert

    async def add_losing_races(self: Any, upload: Any) -> None:
        if losses:
            losses.pop()
            raise ConcurrencyConflict("lost a race")
        await add(self, upload)

    monkeypatch.setattr(memory.MemoryUploadRepository, "add", add_losing_races)
    ticket = await store_with.request_upload(
        alice, "big.bin", size=SIZE, content_type="application/octet-stream"
    )
    assert len(blobs.made) == 3
    kept = (ticket.upload.object_key, ticket.upload.multipart_id)
    assert [await live(blobs, *made) for made in blobs.made] == [
        made == kept for made in blobs.made
    ]


async def test_a_request_that_fails_for_good_leaves_none(
    store_with: FileStore, blobs: CountingBlobs, alice: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(self: Any, upload: Any) -> None:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(memory.MemoryUploadRepository, "add", broken)
    with pytest.raises(RuntimeError):
        await store_with.request_upload(
            alice, "big.bin", size=SIZE, content_type="application/octet-stream"
        )
    assert len(blobs.made) == 1
    assert not await live(blobs, *blobs.made[0])
