"""What AWS sends us, turned into our terms: S3 object notices and filestore event envelopes.

The Lambda handlers (S3 events through SQS, SNS events through SQS) call these; they read the
records with Powertools' event source data classes.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools.utilities.data_classes import S3Event, SQSRecord
from aws_lambda_powertools.utilities.data_classes.s3_event import S3EventRecord

from filestore.domain.events import UnknownEvent

# Names event ids derived from S3 records (uuid5), so the same record always gets the same id.
_S3_EVENT_NAMESPACE = uuid.UUID("5d0c7e6a-93c4-4a7e-9a57-6f1f3e0c2b11")


@dataclass(frozen=True)
class CreatedObject:
    """One `ObjectCreated` notification: which object, how big, and its place in the order.

    `sequencer` orders the events of one key (compare equal-length hex strings); `event_id` is
    stable for one notification, so a repeated delivery can be recognised.
    """

    bucket: str
    key: str
    size: int
    sequencer: str
    event_id: str


def _created(record: S3EventRecord) -> CreatedObject | None:
    if not record.event_name.startswith("ObjectCreated:"):
        return None
    s3 = record.s3
    obj = s3.get_object
    # S3 URL-encodes keys in notifications, a space as "+" (form encoding).
    key = unquote_plus(obj.key)
    bucket = s3.bucket.name
    sequencer = obj.get("sequencer") or ""
    # S3 records carry no id of their own: bucket, key and sequencer identify one write.
    event_id = str(uuid.uuid5(_S3_EVENT_NAMESPACE, f"{bucket}\n{key}\n{sequencer}"))
    return CreatedObject(bucket, key, int(obj.get("size") or 0), sequencer, event_id)


def created_objects(event: Mapping[str, Any]) -> list[CreatedObject]:
    """The created objects of an S3 event (`{"Records": [...]}`); none for `s3:TestEvent`.

    Other event kinds (removals, restores) are not ours to act on and are left out.
    """
    if "Records" not in event:  # s3:TestEvent, sent when notifications are configured
        return []
    return [c for c in map(_created, S3Event(dict(event)).records) if c is not None]


def envelope_in_sqs(record: Mapping[str, Any] | SQSRecord) -> dict[str, Any]:
    """The envelope an SQS record fed by SNS carries (in the SNS notification or, raw, as the
    body), not yet checked against our event types; `UnknownEvent` if there is none."""
    sqs = record if isinstance(record, SQSRecord) else SQSRecord(dict(record))
    try:
        body = sqs.json_body
        if isinstance(body, dict) and body.get("Type") == "Notification" and "Message" in body:
            body = json.loads(sqs.decoded_nested_sns_event.message)
    except (TypeError, ValueError) as error:
        raise UnknownEvent("the SQS message is not JSON") from error
    if not isinstance(body, dict):
        raise UnknownEvent("the SQS message is not a filestore event envelope")
    return body
