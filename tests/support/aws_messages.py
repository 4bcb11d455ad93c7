"""Reading what arrives in an SQS queue the way the consumers do: test tools, never shipped.

The consumers themselves (`filestore.entrypoints.s3_events`, `notifications`) go through
`filestore.entrypoints.aws_events`; these wrappers give a test the objects or the event a
received message carries, so it can assert on what a queue was sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools.utilities.data_classes import SQSRecord

from filestore.domain.events import Event, UnknownEvent, parse_event
from filestore.entrypoints.aws_events import CreatedObject, created_objects, envelope_in_sqs


def created_objects_in_sqs(record: Mapping[str, Any] | SQSRecord) -> list[CreatedObject]:
    """The created objects of an S3 event delivered through SQS (the body is the S3 event)."""
    sqs = record if isinstance(record, SQSRecord) else SQSRecord(dict(record))
    try:
        body = sqs.json_body
    except (TypeError, ValueError) as error:
        raise UnknownEvent("the SQS message is not an S3 event") from error
    if not isinstance(body, dict):
        raise UnknownEvent("the SQS message is not an S3 event")
    return created_objects(body)


def event_in_sqs(record: Mapping[str, Any] | SQSRecord) -> Event:
    """Our event from an SQS record fed by SNS: the SNS notification or, raw, the envelope.

    Raises `UnknownEvent` for anything else.
    """
    return parse_event(envelope_in_sqs(record))
