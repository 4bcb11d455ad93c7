"""`SnsEventPublisher` when SNS accepts some entries of a `PublishBatch` and refuses others.

Neither emulator refuses an entry that the publisher builds: LocalStack answers every
`PublishBatch` all or nothing (its provider raises for the whole call on any bad entry and never
fills `Failed`), and moto refuses single entries only for faults the publisher never makes (a
message over 256 KiB, which the publisher sends alone with `Publish`; a FIFO entry without its
ids, which it always sets). So the test spoils one entry on its way out, with a botocore hook on
the client: a `MessageDeduplicationId` on a standard topic, which moto's SNS (a real server, over
HTTP) refuses for that entry alone, answering the others as published, as SNS does.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from filestore.adapters.memory import MemoryUnitOfWorkFactory
from filestore.adapters.sns import EventsNotPublished, SnsEventPublisher
from filestore.adapters.system import RandomIds, SystemClock
from filestore.domain import commands, events, handlers
from filestore.domain.handlers import Services
from filestore.domain.rules import UploadPolicy
from tests.support.aws import REGION, Queue
from tests.support.aws_messages import event_in_sqs

pytestmark = pytest.mark.integration


@pytest.fixture
def moto_sns(moto_endpoint: str) -> Any:
    """An SNS client of its own on moto (the hook a test registers dies with it)."""
    return boto3.client(
        "sns", endpoint_url=moto_endpoint, region_name=REGION,
        aws_access_key_id="test", aws_secret_access_key="test",
    )  # fmt: skip


@pytest.fixture
def moto_topic_and_queue(moto_endpoint: str, moto_sns: Any) -> Iterator[tuple[str, Queue]]:
    """A standard topic and a queue subscribed to it with raw delivery."""
    sqs = boto3.client(
        "sqs", endpoint_url=moto_endpoint, region_name=REGION,
        aws_access_key_id="test", aws_secret_access_key="test",
    )  # fmt: skip
    topic = str(moto_sns.create_topic(Name=f"filestore-{os.urandom(6).hex()}")["TopicArn"])
    queue = Queue(sqs, f"filestore-{os.urandom(6).hex()}")
    moto_sns.subscribe(
        TopicArn=topic, Protocol="sqs", Endpoint=queue.arn,
        Attributes={"RawMessageDelivery": "true"},
    )  # fmt: skip
    yield topic, queue
    moto_sns.delete_topic(TopicArn=topic)
    sqs.delete_queue(QueueUrl=queue.url)


def spoil_entry_of(event_id: str) -> Callable[..., None]:
    """A botocore hook making the entry of `event_id` one that SNS refuses on its own."""

    def spoil(params: dict[str, Any], **_: Any) -> None:
        for entry in params["PublishBatchRequestEntries"]:
            if json.loads(entry["Message"])["id"] == event_id:
                # Only FIFO topics take a deduplication id: InvalidParameter, this entry only.
                entry["MessageDeduplicationId"] = event_id

    return spoil


def _stored_event(n: int) -> events.UploadStored:
    now = datetime.now(UTC)
    upload = events.UploadData(
        id=f"01890000-0000-7000-8000-{n:012d}", name=f"{n}.txt", size=3,
        content_type="text/plain", status="stored", created_at=now, stored_at=now,
    )  # fmt: skip
    return events.UploadStored(occurred_at=now, user_id="u1", upload=upload)


async def test_a_batch_with_a_refused_entry_raises_and_the_outbox_keeps_every_event(
    moto_sns: Any, moto_topic_and_queue: tuple[str, Queue]
) -> None:
    topic, queue = moto_topic_and_queue
    uow_factory = MemoryUnitOfWorkFactory()
    sent = [_stored_event(n) for n in range(23)]  # batches of 10, 10 and 3
    async with uow_factory() as uow:
        await uow.outbox.add(sent)
        await uow.commit()
    services = Services(
        uow_factory=uow_factory, blobs=None, clock=SystemClock(), ids=RandomIds(),
        policy=UploadPolicy(), publisher=SnsEventPublisher(moto_sns, topic),
    )  # fmt: skip
    refused = sent[14]  # in the second batch
    hook = spoil_entry_of(refused.id)
    moto_sns.meta.events.register("before-parameter-build.sns.PublishBatch", hook)

    with pytest.raises(EventsNotPublished) as raised:
        await handlers.relay_outbox(commands.RelayOutbox(), services)

    assert raised.value.event_ids == [refused.id]
    assert "InvalidParameter" in str(raised.value)
    async with uow_factory() as uow:  # nothing marked: every event is sent again later
        assert [e.event.id for e in await uow.outbox.pending(100)] == [e.id for e in sent]
    # What SNS did accept went out: the first batch and the rest of the second, not the third.
    delivered = [event_in_sqs(r).id for r in queue.receive(19, quiet=0.5)]
    assert sorted(delivered) == sorted(e.id for e in sent[:20] if e is not refused)

    # The entry is fine again: the relay sends all 23 (19 of them twice, which consumers,
    # idempotent by event id, ignore), marks them once, and has nothing left to send.
    moto_sns.meta.events.unregister("before-parameter-build.sns.PublishBatch", hook)
    assert await handlers.relay_outbox(commands.RelayOutbox(), services) == 23
    assert await handlers.relay_outbox(commands.RelayOutbox(), services) == 0
    async with uow_factory() as uow:
        assert await uow.outbox.pending(100) == []
    again = [event_in_sqs(r).id for r in queue.receive(23, quiet=0.5)]
    assert sorted(again) == sorted(e.id for e in sent)
