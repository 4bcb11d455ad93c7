"""The queue consumers (S3 events, notifications), driven with SQS batches of real shapes."""

from __future__ import annotations

import asyncio
import json

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from filestore.app import FileStore
from filestore.domain.commands import Actor
from filestore.domain.events import UploadStored
from filestore.entrypoints import notifications, s3_events
from filestore.entrypoints.batch import Ignore, process_batch
from filestore.entrypoints.runtime import runtime
from tests.support.lambda_events import LambdaContext, s3_body, sns_body, sqs_event
from tests.unit.entrypoints.conftest import ALICE

ACTOR = Actor(**ALICE)


def sent_upload(store: FileStore, name: str = "my notes.txt", data: bytes = b"hello") -> str:
    """Declare an upload and send its bytes (the client's part); returns its object key."""
    ticket = runtime.run(
        store.request_upload(ACTOR, name, size=len(data), content_type="text/plain")
    )
    assert ticket.post is not None
    store.memory_blobs.post(ticket.post, data)
    return ticket.upload.object_key


# --- S3 events ------------------------------------------------------------------------------------


def test_s3_event_records_the_object_and_a_repeat_is_acknowledged(store: FileStore) -> None:
    key = sent_upload(store)
    event = sqs_event(s3_body(key, size=5))
    assert s3_events.handler(event, LambdaContext()) == {"batchItemFailures": []}
    page = runtime.run(store.list_uploads(ACTOR))
    assert [u.object_key for u in page.items] == [key]
    assert [e.type for e in store.memory_publisher.published][-1] == "upload.stored"

    published = len(store.memory_publisher.published)
    assert s3_events.handler(event, LambdaContext()) == {"batchItemFailures": []}
    assert len(store.memory_publisher.published) == published  # nothing happened twice


def test_s3_keys_are_url_decoded(store: FileStore) -> None:
    # Object keys are ours (u/<user>/<uuid>); encode every character S3 would.
    key = sent_upload(store)
    body = json.loads(s3_body(key))
    body["Records"][0]["s3"]["object"]["key"] = key.replace("/", "%2F")
    s3_events.handler(sqs_event(json.dumps(body)), LambdaContext())
    assert runtime.run(store.list_uploads(ACTOR)).items
    command = s3_events.stored_objects(s3_body("a b+c/ü.txt"))[0]
    assert command.object_key == "a b+c/ü.txt"


def test_one_poison_record_is_the_only_failure_reported(store: FileStore) -> None:
    good = sent_upload(store, "a.txt")
    other = sent_upload(store, "b.txt")
    event = sqs_event(s3_body(good, size=5), "this is not JSON", s3_body(other, size=5))
    poison_id = event["Records"][1]["messageId"]
    result = s3_events.handler(event, LambdaContext())
    assert result == {"batchItemFailures": [{"itemIdentifier": poison_id}]}
    assert len(runtime.run(store.list_uploads(ACTOR)).items) == 2


def test_s3_test_event_and_other_event_kinds_are_acknowledged(store: FileStore) -> None:
    test_event = json.dumps(
        {"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": "b", "RequestId": "r"}
    )
    removed = s3_body("u/x/y", event_name="ObjectRemoved:Delete")
    result = s3_events.handler(sqs_event(test_event, removed), LambdaContext())
    assert result == {"batchItemFailures": []}


def test_an_object_nobody_asked_for_is_deleted(store: FileStore) -> None:
    store.memory_blobs.put_object("u/nobody/stray", b"junk")
    result = s3_events.handler(sqs_event(s3_body("u/nobody/stray")), LambdaContext())
    assert result == {"batchItemFailures": []}
    assert "u/nobody/stray" not in store.memory_blobs.objects


# --- notifications --------------------------------------------------------------------------------


def stored_event(store: FileStore, notify_email: bool = True) -> UploadStored:
    """An upload.stored event of Alice's, as the publisher sent it, with no in-process notify."""
    runtime.run(store.set_notify_email(ACTOR, notify_email))
    store.bus.event_handlers = {}  # as on Lambda: notifications come through the queues
    key = sent_upload(store)
    runtime.run(store.record_stored(key))
    event = store.memory_publisher.published[-1]
    assert isinstance(event, UploadStored)
    return event


def test_email_consumer_sends_once_per_event(store: FileStore) -> None:
    event = stored_event(store)
    batch = sqs_event(sns_body(json.dumps(event.envelope())))
    assert notifications.email_handler(batch, LambdaContext()) == {"batchItemFailures": []}
    assert [m.to for m in store.memory_email.sent] == ["alice@example.com"]
    assert "my notes.txt" in store.memory_email.sent[0].text
    notifications.email_handler(batch, LambdaContext())  # SQS delivered it twice
    assert len(store.memory_email.sent) == 1


def test_realtime_consumer_accepts_raw_delivery_too(store: FileStore) -> None:
    event = stored_event(store)
    runtime.run(store.connect(ACTOR, "conn-1"))
    store.memory_realtime.open("conn-1")
    batch = sqs_event(json.dumps(event.envelope()))  # raw message delivery
    assert notifications.realtime_handler(batch, LambdaContext()) == {"batchItemFailures": []}
    assert store.memory_realtime.messages["conn-1"] == [
        {"type": "upload.stored", "upload": event.upload.model_dump(mode="json")}
    ]


def test_malformed_messages_fail_and_unknown_types_are_acknowledged(store: FileStore) -> None:
    event = stored_event(store)
    unknown = {**event.envelope(), "type": "upload.teleported"}
    malformed = {**event.envelope(), "data": {"upload": "not an upload"}}
    batch = sqs_event(
        sns_body(json.dumps(event.envelope())),
        sns_body("{not json"),
        sns_body(json.dumps(unknown)),
        sns_body(json.dumps(malformed)),
        "[]",
    )
    ids = [r["messageId"] for r in batch["Records"]]
    result = notifications.email_handler(batch, LambdaContext())
    assert result == {
        "batchItemFailures": [{"itemIdentifier": i} for i in (ids[1], ids[3], ids[4])]
    }
    assert len(store.memory_email.sent) == 1


# --- batches -------------------------------------------------------------------------------------


def test_the_records_of_a_batch_are_handled_together_and_failures_reported_exactly() -> None:
    """Ten records waiting on I/O take as long as one: each record here waits until all ten
    have started, which only concurrent handling lets happen. The failures are still the
    records that failed, in the batch's order."""
    batch = sqs_event(*(f"record {n}" for n in range(10)))
    all_started = asyncio.Barrier(10)

    async def handle(record: SQSRecord) -> None:
        await asyncio.wait_for(all_started.wait(), timeout=5)
        if record.body in ("record 7", "record 2"):
            raise ValueError("this one fails")
        if record.body == "record 4":
            raise Ignore("nothing to do")

    result = runtime.run(process_batch(batch, handle))
    ids = [r["messageId"] for r in batch["Records"]]
    assert result == {"batchItemFailures": [{"itemIdentifier": ids[2]}, {"itemIdentifier": ids[7]}]}


def test_a_batch_has_at_most_so_many_records_in_hand_at_once() -> None:
    batch = sqs_event(*(f"record {n}" for n in range(7)))
    in_hand, most = 0, 0

    async def handle(record: SQSRecord) -> None:
        nonlocal in_hand, most
        in_hand += 1
        most = max(most, in_hand)
        await asyncio.sleep(0.01)
        in_hand -= 1

    assert runtime.run(process_batch(batch, handle, concurrency=3)) == {"batchItemFailures": []}
    assert most == 3
