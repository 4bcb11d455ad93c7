"""The S3-events consumer (`filestore.entrypoints.s3_events.handle`) on S3's own notifications.

LocalStack's S3 sends the bucket's `ObjectCreated` notifications to an SQS queue; the test
receives them as the Lambda event source mapping would and hands the raw records to the
consumer, whose bus runs on the in-memory unit of work and the real `S3BlobStore`. Nothing in
these events is written by hand.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from filestore.adapters.s3 import S3BlobStore
from filestore.bootstrap import Container, build
from filestore.domain import commands
from filestore.domain.handlers import UploadTicket
from filestore.domain.messagebus import MessageBus
from filestore.domain.model import Upload, UploadStatus
from filestore.entrypoints import s3_events
from filestore.settings import Settings
from tests.support.aws import Queue
from tests.support.lambda_events import LambdaContext

pytestmark = pytest.mark.integration

ALICE = commands.Actor(sub="alice-sub", email="alice@example.com")


@pytest.fixture
def bucket_and_queue(
    aws_client: Callable[[str], Any], make_queue: Callable[[], Queue]
) -> tuple[str, Queue]:
    """A bucket of this test's own, notifying a queue of every object created in it."""
    s3 = aws_client("s3")
    bucket = f"filestore-events-{os.urandom(4).hex()}"
    s3.create_bucket(Bucket=bucket)
    queue = make_queue()
    queue.allow("s3.amazonaws.com", f"arn:aws:s3:::{bucket}")
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "QueueConfigurations": [{"QueueArn": queue.arn, "Events": ["s3:ObjectCreated:*"]}]
        },
    )
    return bucket, queue


@pytest.fixture
def container(aws_client: Callable[[str], Any], bucket_and_queue: tuple[str, Queue]) -> Container:
    """The composition root in memory, but for the blobs: S3 (LocalStack)."""
    bucket, _ = bucket_and_queue
    return build(Settings(), blobs=S3BlobStore(aws_client("s3"), bucket))


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=60) as client:
        yield client


async def upload_by_post(bus: MessageBus, http: httpx.AsyncClient, data: bytes) -> UploadTicket:
    """What a browser does: ask for an upload, then POST the bytes to the presigned form."""
    ticket: UploadTicket = await bus.handle(
        commands.RequestUpload(
            ALICE, "notes.txt", len(data), "text/plain", hashlib.sha256(data).hexdigest()
        )
    )
    assert ticket.post is not None
    answer = await http.post(
        ticket.post.url, data=dict(ticket.post.fields), files={"file": ("notes.txt", data)}
    )
    assert answer.status_code == 204, answer.text
    return ticket


def notification_for(queue: Queue, key: str) -> dict[str, Any]:
    """The SQS record of S3's notification about `key` (others, like s3:TestEvent, skipped)."""
    for _ in range(10):
        for record in queue.receive(1, timeout=1.0):
            if key in record["body"]:
                return record
    raise AssertionError(f"S3 sent no notification for {key}")


async def consume(bus: MessageBus, *records: dict[str, Any]) -> dict[str, Any]:
    return await s3_events.handle({"Records": list(records)}, LambdaContext(), bus=bus)


async def get(bus: MessageBus, upload_id: str) -> Upload:
    upload: Upload = await bus.handle(commands.GetUpload(ALICE, upload_id))
    return upload


async def test_an_upload_is_stored_from_s3s_notification_and_a_repeat_changes_nothing(
    container: Container, bucket_and_queue: tuple[str, Queue], http: httpx.AsyncClient
) -> None:
    _, queue = bucket_and_queue
    bus = container.bus()
    ticket = await upload_by_post(bus, http, b"hello from the browser")
    record = notification_for(queue, ticket.upload.object_key)
    assert record["eventSource"] == "aws:sqs"

    assert await consume(bus, record) == {"batchItemFailures": []}

    stored = await get(bus, ticket.upload.id)
    assert stored.status is UploadStatus.STORED
    assert stored.size == len(b"hello from the browser")
    published = list(container.publisher().published)
    assert [e.type for e in published if e.type.startswith("upload.")] == [
        "upload.requested", "upload.stored",
    ]  # fmt: skip

    # SQS delivers at least once: the same record again is acknowledged and does nothing.
    assert await consume(bus, record) == {"batchItemFailures": []}
    assert await get(bus, ticket.upload.id) == stored
    assert container.publisher().published == published
    assert await container.blobs().head(ticket.upload.object_key) is not None


async def test_a_notice_for_an_object_deleted_meanwhile_is_acknowledged(
    container: Container,
    bucket_and_queue: tuple[str, Queue],
    http: httpx.AsyncClient,
    aws_client: Callable[[str], Any],
) -> None:
    bucket, queue = bucket_and_queue
    bus = container.bus()
    ticket = await upload_by_post(bus, http, b"gone before it was seen")
    record = notification_for(queue, ticket.upload.object_key)
    aws_client("s3").delete_object(Bucket=bucket, Key=ticket.upload.object_key)

    assert await consume(bus, record) == {"batchItemFailures": []}
    # Not stored on the word of a notice alone: it waits for the sweep to expire it.
    assert (await get(bus, ticket.upload.id)).status is UploadStatus.PENDING


async def test_a_late_repeat_for_an_upload_in_the_trash_keeps_its_bytes(
    container: Container, bucket_and_queue: tuple[str, Queue], http: httpx.AsyncClient
) -> None:
    _, queue = bucket_and_queue
    bus = container.bus()
    ticket = await upload_by_post(bus, http, b"stored, then put in the trash by its owner")
    record = notification_for(queue, ticket.upload.object_key)
    assert await consume(bus, record) == {"batchItemFailures": []}
    await bus.handle(commands.DeleteUpload(ALICE, ticket.upload.id))

    assert await consume(bus, record) == {"batchItemFailures": []}
    # Still there to be restored.
    assert await container.blobs().head(ticket.upload.object_key) is not None
    restored = await bus.handle(commands.RestoreFromTrash(ALICE, ticket.upload.id))
    assert restored.status is UploadStatus.STORED


async def test_a_late_repeat_for_an_upload_deleted_since_is_acknowledged(
    container: Container, bucket_and_queue: tuple[str, Queue], http: httpx.AsyncClient
) -> None:
    _, queue = bucket_and_queue
    bus = container.bus()
    ticket = await upload_by_post(bus, http, b"stored, then deleted for good by its owner")
    record = notification_for(queue, ticket.upload.object_key)
    assert await consume(bus, record) == {"batchItemFailures": []}
    await bus.handle(commands.DeleteUpload(ALICE, ticket.upload.id))
    await bus.handle(commands.DeleteFromTrash(ALICE, ticket.upload.id))
    assert await container.blobs().head(ticket.upload.object_key) is None

    assert await consume(bus, record) == {"batchItemFailures": []}
    assert await container.blobs().head(ticket.upload.object_key) is None


async def test_the_test_event_s3_sends_on_configuration_is_acknowledged(
    container: Container, aws_client: Callable[[str], Any], make_queue: Callable[[], Queue]
) -> None:
    s3 = aws_client("s3")
    bucket = f"filestore-events-{os.urandom(4).hex()}"
    s3.create_bucket(Bucket=bucket)
    queue = make_queue()
    queue.allow("s3.amazonaws.com", f"arn:aws:s3:::{bucket}")
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "QueueConfigurations": [{"QueueArn": queue.arn, "Events": ["s3:ObjectCreated:*"]}]
        },
    )
    [record] = queue.receive(1)
    assert "s3:TestEvent" in record["body"]
    assert await consume(container.bus(), record) == {"batchItemFailures": []}
