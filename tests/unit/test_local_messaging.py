"""The local server's durable SNS, SQS and SES (a SQLite file): what was published or queued is
still there when the store is opened again after a crash, as it would be on AWS."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from filestore.adapters.local import emulator
from filestore.adapters.local.emulator import LocalAws
from filestore.adapters.sns import SnsEventPublisher
from filestore.domain.events import UploadData, UploadRenamed, UploadStored
from tests.support.clock import FakeClock


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def open_store(data_dir: Path, clock: Clock) -> LocalAws:
    aws = emulator.durable(data_dir)
    assert aws.messaging is not None
    aws.messaging._clock = clock  # the visibility timeout, without waiting for it
    return aws


def receive(aws: LocalAws, queue: str) -> list[dict[str, object]]:
    answer = aws.sqs.receive_message(
        QueueUrl=aws.queues[queue].url, MaxNumberOfMessages=10, WaitTimeSeconds=0
    )
    messages: list[dict[str, object]] = answer.get("Messages", [])
    return messages


def upload_data() -> UploadData:
    now = FakeClock().now()
    return UploadData(
        id="0190d1c0-0000-7000-8000-0000000000aa", name="a.txt", size=1,
        content_type="text/plain", status="stored", created_at=now, stored_at=now,
    )  # fmt: skip


def stored_event() -> UploadStored:
    return UploadStored(occurred_at=FakeClock().now(), user_id="u1", upload=upload_data())


async def test_a_published_event_waits_in_each_subscribed_queue_across_a_restart(
    tmp_path: Path,
) -> None:
    clock = Clock()
    aws = open_store(tmp_path, clock)
    await SnsEventPublisher(aws.sns, aws.topic_arn).publish([stored_event()])
    aws.stop()  # nothing received: the process dies with the messages queued

    aws = open_store(tmp_path, clock)
    for queue in ("email", "realtime"):
        [message] = receive(aws, queue)
        notification = json.loads(str(message["Body"]))
        assert notification["Type"] == "Notification"
        assert json.loads(notification["Message"])["type"] == "upload.stored"
        assert notification["MessageAttributes"]["type"]["Value"] == "upload.stored"
    assert receive(aws, "s3-events") == []


async def test_the_filter_policies_are_the_templates(tmp_path: Path) -> None:
    aws = open_store(tmp_path, Clock())
    renamed = UploadRenamed(
        occurred_at=FakeClock().now(), user_id="u1", upload=upload_data(), old_name="b.txt"
    )
    await SnsEventPublisher(aws.sns, aws.topic_arn).publish([renamed])
    assert receive(aws, "email") == []  # e-mail is for stored and failed only
    assert len(receive(aws, "realtime")) == 1


def test_a_received_message_not_deleted_comes_back_after_a_crash(tmp_path: Path) -> None:
    clock = Clock()
    aws = open_store(tmp_path, clock)
    url = aws.queues["s3-events"].url
    aws.sqs.send_message(QueueUrl=url, MessageBody="work")
    [taken] = receive(aws, "s3-events")
    assert receive(aws, "s3-events") == []  # hidden while its consumer works
    aws.stop()  # the consumer is killed before it deletes the message

    aws = open_store(tmp_path, clock)
    clock.now += emulator.VISIBILITY_TIMEOUT
    [again] = receive(aws, "s3-events")
    assert again["MessageId"] == taken["MessageId"]
    assert again["Attributes"]["ApproximateReceiveCount"] == "2"  # type: ignore[index]
    aws.sqs.delete_message_batch(
        QueueUrl=url, Entries=[{"Id": "0", "ReceiptHandle": again["ReceiptHandle"]}]
    )
    clock.now += emulator.VISIBILITY_TIMEOUT
    assert receive(aws, "s3-events") == []


def test_a_stale_receipt_deletes_nothing(tmp_path: Path) -> None:
    clock = Clock()
    aws = open_store(tmp_path, clock)
    url = aws.queues["email"].url
    aws.sqs.send_message(QueueUrl=url, MessageBody="work")
    [first] = receive(aws, "email")
    clock.now += emulator.VISIBILITY_TIMEOUT
    receive(aws, "email")  # received again: the first receipt is stale
    aws.sqs.delete_message_batch(
        QueueUrl=url, Entries=[{"Id": "0", "ReceiptHandle": first["ReceiptHandle"]}]
    )
    assert aws.messaging is not None
    assert aws.messaging.count("filestore-local-email") == 1


def test_a_message_received_too_often_moves_to_the_dead_letter_queue(tmp_path: Path) -> None:
    clock = Clock()
    aws = open_store(tmp_path, clock)
    aws.sqs.send_message(QueueUrl=aws.queues["email"].url, MessageBody="poison")
    for _ in range(emulator.MAX_RECEIVE_COUNT):
        assert len(receive(aws, "email")) == 1
        clock.now += emulator.VISIBILITY_TIMEOUT
    assert receive(aws, "email") == []
    assert aws.messaging is not None
    assert aws.messaging.count("filestore-local-email-dlq") == 1


def test_the_inbox_survives_a_restart(tmp_path: Path) -> None:
    aws = open_store(tmp_path, Clock())
    for subject in ("first", "second"):
        aws.ses.send_email(
            Source=emulator.SENDER,
            Destination={"ToAddresses": ["ann@example.com"]},
            Message={"Subject": {"Data": subject}, "Body": {"Text": {"Data": "hello"}}},
        )
    aws.stop()
    aws = open_store(tmp_path, Clock())
    assert [(m["subject"], m["to"]) for m in aws.sent_emails()] == [
        ("second", ["ann@example.com"]),
        ("first", ["ann@example.com"]),
    ]


def test_an_unknown_topic_is_refused(tmp_path: Path) -> None:
    aws = open_store(tmp_path, Clock())
    with pytest.raises(Exception, match="Topic does not exist"):
        aws.sns.publish(TopicArn="arn:aws:sns:us-east-1:000000000000:nope", Message="{}")
