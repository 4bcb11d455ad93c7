"""End-to-end checksums: what storage verified reaches `Upload.checksum`, and the client checks
what it downloads against it."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from filestore.adapters.memory import MemoryBlobStore
from filestore.app import FileStore
from filestore.domain.checksums import Checksum, composite_value
from filestore.domain.commands import Actor
from filestore.domain.errors import InvalidInput
from filestore.domain.handlers import StoredOutcome
from filestore.domain.model import UploadStatus
from filestore.domain.ports import CompletedPart
from filestore.domain.rules import MiB, UploadPolicy
from filestore.entrypoints.checksums_client import DownloadCheck

DATA = b"hello, world"
SIZE = 20 * MiB + 3 * MiB  # three 8 MiB parts, the last 7 MiB


async def test_a_single_upload_carries_the_sha256_storage_checked(
    store: FileStore, alice: Actor
) -> None:
    digest = hashlib.sha256(DATA).hexdigest()
    ticket = await store.request_upload(
        alice, "a.txt", size=len(DATA), content_type="text/plain", sha256=digest
    )
    assert ticket.post is not None
    store.memory_blobs.post(ticket.post, DATA)
    assert await store.record_stored(ticket.upload.object_key) is StoredOutcome.STORED
    stored = await store.get_upload(alice, ticket.upload.id)
    assert stored.checksum == Checksum.full_object(digest)
    assert stored.view().model_dump()["checksum"] == {
        "algorithm": "sha256", "type": "full_object", "value": digest, "part_size": None,
    }  # fmt: skip


async def test_without_a_declared_sha256_nothing_is_claimed_verified(
    store: FileStore, alice: Actor
) -> None:
    ticket = await store.request_upload(alice, "a.txt", size=len(DATA), content_type="text/plain")
    assert ticket.post is not None
    store.memory_blobs.post(ticket.post, DATA)
    await store.record_stored(ticket.upload.object_key)
    assert (await store.get_upload(alice, ticket.upload.id)).checksum is None


async def _parts(
    store: FileStore, actor: Actor, data: bytes
) -> tuple[str, list[CompletedPart], list[str]]:
    ticket = await store.request_upload(
        actor, "big.bin", size=len(data), content_type="application/octet-stream",
        sha256=hashlib.sha256(data).hexdigest(),
    )  # fmt: skip
    assert ticket.multipart is not None
    size = ticket.multipart.part_size
    chunks = [data[i : i + size] for i in range(0, len(data), size)]
    shas = [hashlib.sha256(c).hexdigest() for c in chunks]
    urls = await store.sign_parts(actor, ticket.upload.id, [1, 2, 3], shas)
    parts = [
        CompletedPart(u.part_number, store.memory_blobs.put_part(u.url, c, sha256=s), s)
        for u, c, s in zip(urls, chunks, shas, strict=True)
    ]
    return ticket.upload.id, parts, shas


async def test_a_multipart_upload_carries_the_composite_and_its_part_size(
    store: FileStore, alice: Actor
) -> None:
    data = bytes(range(256)) * (SIZE // 256)
    upload_id, parts, shas = await _parts(store, alice, data)
    done = await store.complete_upload(alice, upload_id, parts)
    assert done.status is UploadStatus.STORED
    assert done.checksum == Checksum("composite", composite_value(shas), 8 * MiB)
    check = DownloadCheck(done.view().model_dump()["checksum"])
    check.update(data[:1000])
    check.update(data[1000:])
    assert check.problem() is None


async def test_a_part_sha256_that_is_not_hex_is_refused(store: FileStore, alice: Actor) -> None:
    ticket = await store.request_upload(
        alice, "big.bin", size=SIZE, content_type="application/octet-stream"
    )
    with pytest.raises(InvalidInput, match="64 hex digits"):
        await store.sign_parts(alice, ticket.upload.id, [1], ["not-a-digest"])
    with pytest.raises(InvalidInput, match="one SHA-256 per part"):
        await store.sign_parts(alice, ticket.upload.id, [1, 2], ["0" * 64])


async def test_a_part_completed_with_another_sha256_fails_clearly(
    store: FileStore, alice: Actor
) -> None:
    data = b"y" * SIZE
    upload_id, parts, _ = await _parts(store, alice, data)
    parts[1] = CompletedPart(2, parts[1].etag, hashlib.sha256(b"corrupted").hexdigest())
    with pytest.raises(InvalidInput, match="Part 2 is not what was sent"):
        await store.complete_upload(alice, upload_id, parts)


def test_the_download_check_finds_a_changed_byte() -> None:
    data = b"z" * 10_000
    full = {"type": "full_object", "value": hashlib.sha256(data).hexdigest()}
    check = DownloadCheck(full)
    check.update(data[:-1] + b"!")
    assert check.problem() is not None and "SHA-256" in check.problem()  # type: ignore[operator]
    part_shas = [hashlib.sha256(data[i : i + 4096]).hexdigest() for i in range(0, 10_000, 4096)]
    composite = {"type": "composite", "value": composite_value(part_shas), "part_size": 4096}
    good, bad = DownloadCheck(composite), DownloadCheck(composite)
    good.update(data)
    bad.update(data[:5000] + b"!" + data[5001:])
    assert good.problem() is None and bad.problem() is not None


class RecordingBlobs(MemoryBlobStore):
    """Remembers whether each multipart upload it made was asked for part checksums."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.part_checksums: list[bool] = []

    async def create_multipart(
        self, key: str, *, content_type: str, part_checksums: bool = False
    ) -> str:
        self.part_checksums.append(part_checksums)
        return await super().create_multipart(
            key, content_type=content_type, part_checksums=part_checksums
        )


@pytest.mark.parametrize(
    ("declared", "expected"),
    [
        ({"sha256": "ab" * 32}, True),  # the whole file's SHA-256 declared
        ({"part_checksums": True}, True),  # `checksum_algorithm: sha256` without it
        ({}, False),  # a v1 client: no checksum at all
    ],
)
async def test_a_multipart_upload_checks_its_parts_when_the_client_says_it_sends_sha256s(
    clock: Any, policy: UploadPolicy, alice: Actor, declared: dict[str, Any], expected: bool
) -> None:
    blobs = RecordingBlobs(clock)
    store = FileStore.in_memory(policy=policy, clock=clock, blobs=blobs)
    ticket = await store.request_upload(
        alice, "big.bin", size=SIZE, content_type="application/octet-stream", **declared
    )
    assert ticket.multipart is not None
    assert blobs.part_checksums == [expected]


async def test_a_multipart_upload_declared_without_the_files_sha256_gets_its_composite(
    clock: Any, policy: UploadPolicy, alice: Actor
) -> None:
    store = FileStore.in_memory(policy=policy, clock=clock)
    data = bytes(range(256)) * (SIZE // 256)
    ticket = await store.request_upload(
        alice, "big.bin", size=len(data), content_type="application/octet-stream",
        part_checksums=True,
    )  # fmt: skip
    assert ticket.multipart is not None
    size = ticket.multipart.part_size
    chunks = [data[i : i + size] for i in range(0, len(data), size)]
    shas = [hashlib.sha256(c).hexdigest() for c in chunks]
    urls = await store.sign_parts(alice, ticket.upload.id, [1, 2, 3], shas)
    parts = [
        CompletedPart(u.part_number, store.memory_blobs.put_part(u.url, c, sha256=s), s)
        for u, c, s in zip(urls, chunks, shas, strict=True)
    ]
    done = await store.complete_upload(alice, ticket.upload.id, parts)
    assert done.status is UploadStatus.STORED
    assert done.checksum == Checksum("composite", composite_value(shas), 8 * MiB)
