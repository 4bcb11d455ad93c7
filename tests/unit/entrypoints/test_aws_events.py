"""What AWS sends the consumers, read as they read it: S3 object notices and event envelopes
in SQS messages (`filestore.entrypoints.aws_events`, and the test tools built on it)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from filestore.domain import events
from filestore.domain.events import UnknownEvent
from filestore.entrypoints.aws_events import created_objects
from tests.support.aws_messages import created_objects_in_sqs, event_in_sqs


def s3_record(key: str, name: str = "ObjectCreated:Post", size: int = 5) -> dict[str, Any]:
    return {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": "eu-west-1",
        "eventTime": "2026-01-01T00:00:00.000Z",
        "eventName": name,
        "s3": {
            "s3SchemaVersion": "1.0",
            "bucket": {"name": "bucket", "arn": "arn:aws:s3:::bucket"},
            "object": {"key": key, "size": size, "eTag": "e", "sequencer": "0055AED6DCD90281E5"},
        },
    }


def test_s3_keys_are_url_decoded_as_s3_encodes_them() -> None:
    # S3 form-encodes: a space is "+", a literal "+" is "%2B", non-ASCII is UTF-8 %XX.
    event = {"Records": [s3_record("u/a/ann%C3%A9e+2026+%2B+r%C3%A9sum%C3%A9.txt")]}
    [created] = created_objects(event)
    assert created.key == "u/a/année 2026 + résumé.txt"
    assert (created.bucket, created.size, created.sequencer) == ("bucket", 5, "0055AED6DCD90281E5")


def test_the_same_record_gets_the_same_event_id_and_another_write_another() -> None:
    first = created_objects({"Records": [s3_record("k")]})[0]
    again = created_objects({"Records": [s3_record("k")]})[0]
    other = s3_record("k")
    other["s3"]["object"]["sequencer"] = "0055AED6DCD90281F0"
    assert first.event_id == again.event_id != created_objects({"Records": [other]})[0].event_id


def test_test_events_and_removals_are_ignored() -> None:
    test_event = {"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": "bucket"}
    assert created_objects(test_event) == []
    assert created_objects({"Records": [s3_record("k", "ObjectRemoved:Delete")]}) == []
    record = {"messageId": "m", "body": json.dumps(test_event)}
    assert created_objects_in_sqs(record) == []


def test_s3_event_in_an_sqs_body() -> None:
    record = {"messageId": "m", "body": json.dumps({"Records": [s3_record("u/1/2")]})}
    assert [c.key for c in created_objects_in_sqs(record)] == ["u/1/2"]
    with pytest.raises(UnknownEvent):
        created_objects_in_sqs({"messageId": "m", "body": "not json"})


def _event() -> events.Event:
    return events.ShareRevoked(
        occurred_at=datetime(2026, 1, 1, tzinfo=UTC), user_id="u", upload_id="x"
    )


def test_events_from_sns_in_sqs_and_from_raw_delivery() -> None:
    event = _event()
    notification = {
        "Type": "Notification",
        "MessageId": "n",
        "TopicArn": "arn:aws:sns:eu-west-1:1:t",
        "Message": json.dumps(event.envelope()),
        "MessageAttributes": {"type": {"Type": "String", "Value": event.type}},
    }
    assert event_in_sqs({"messageId": "m", "body": json.dumps(notification)}) == event
    assert event_in_sqs({"messageId": "m", "body": json.dumps(event.envelope())}) == event


@pytest.mark.parametrize(
    "body",
    ["not json", "[]", json.dumps({"Type": "Notification", "Message": "nope"}), '{"type": "x"}'],
)
def test_anything_else_is_an_unknown_event(body: str) -> None:
    with pytest.raises(UnknownEvent):
        event_in_sqs({"messageId": "m", "body": body})
