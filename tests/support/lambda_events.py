"""Lambda test support: a LambdaContext, and real event shapes built from `tests/events/`.

The JSON under `tests/events/` was made with `sam local generate-event` (HTTP API v2, S3, SQS,
SNS, CloudFormation, scheduled) or written by hand from the AWS documentation (WebSocket,
the WebSocket REQUEST authorizer, the Cognito pre-sign-up and post-confirmation triggers, which
`sam local generate-event` has no template for, and the bounce and complaint records SES
publishes to SNS for a configuration set: `ses_bounce`, `ses_complaint`).
"""

from __future__ import annotations

import base64
import copy
import json
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

EVENTS = Path(__file__).resolve().parent.parent / "events"


def load_event(name: str) -> dict[str, Any]:
    """A fresh copy of `tests/events/<name>.json`."""
    return copy.deepcopy(json.loads((EVENTS / f"{name}.json").read_text()))


@dataclass
class LambdaContext:
    """What Lambda passes as `context` (the attributes Powertools and our handlers read)."""

    function_name: str = "filestore-test"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:filestore-test"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = "/aws/lambda/filestore-test"
    log_stream_name: str = "2026/01/01/[$LATEST]0123456789abcdef"
    remaining_ms: int = 30_000

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def http_event(
    method: str,
    path: str,
    *,
    json_body: Any = None,
    body: str | bytes | None = None,
    claims: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """An HTTP API (payload v2) event; `claims` as the JWT authorizer would put them."""
    event = load_event("http_api_v2")
    event["routeKey"] = "$default"
    event["rawPath"] = path
    event["requestContext"]["http"].update(method=method, path=path)
    event["requestContext"]["requestId"] = str(uuid.uuid4())
    event.pop("pathParameters", None)
    event.pop("cookies", None)
    event["queryStringParameters"] = dict(query or {})
    event["rawQueryString"] = "&".join(f"{k}={v}" for k, v in (query or {}).items())
    event["headers"] = {"content-type": "application/json", **(headers or {})}
    if claims is None:
        event["requestContext"].pop("authorizer")
    else:
        event["requestContext"]["authorizer"]["jwt"]["claims"] = dict(claims)
    if json_body is not None:
        body = json.dumps(json_body)
    if isinstance(body, bytes):
        event["body"], event["isBase64Encoded"] = base64.b64encode(body).decode(), True
    elif body is not None:
        event["body"], event["isBase64Encoded"] = body, False
    else:
        event.pop("body")
        event["isBase64Encoded"] = False
    return event


def sqs_event(*bodies: str) -> dict[str, Any]:
    """An SQS batch with one record per body, each with its own message id."""
    template = load_event("sqs_receive")["Records"][0]
    records = []
    for body in bodies:
        record = copy.deepcopy(template)
        record["messageId"] = str(uuid.uuid4())
        record["body"] = body
        records.append(record)
    return {"Records": records}


def s3_body(*keys: str, size: int = 1024, event_name: str = "ObjectCreated:Put") -> str:
    """An S3 event notification (as S3 sends it to SQS), keys URL-encoded as S3 does."""
    from urllib.parse import quote_plus

    template = load_event("s3_put")["Records"][0]
    records = []
    for key in keys:
        record = copy.deepcopy(template)
        record["eventName"] = event_name
        record["s3"]["object"].update(key=quote_plus(key, safe="/"), size=size)
        records.append(record)
    return json.dumps({"Records": records})


_EVENT_TYPE_ATTRIBUTE = {"type": {"Type": "String", "Value": "upload.stored"}}


def sns_body(message: str, attributes: dict[str, Any] | None = None) -> str:
    """What an SQS queue subscribed to SNS (raw delivery off) receives: the notification JSON.

    `attributes`: the message attributes (default: our events' `type`; SES publishes none).
    """
    sns = load_event("sns_notification")["Records"][0]["Sns"]
    notification = {
        "Type": "Notification",
        "MessageId": str(uuid.uuid4()),
        "TopicArn": sns["TopicArn"],
        "Message": message,
        "Timestamp": "2026-01-01T12:00:00.000Z",
        "SignatureVersion": "1",
        "Signature": sns["Signature"],
        "SigningCertURL": sns["SigningCertUrl"],
        "UnsubscribeURL": sns["UnsubscribeUrl"],
        "MessageAttributes": _EVENT_TYPE_ATTRIBUTE if attributes is None else attributes,
    }
    if not notification["MessageAttributes"]:
        del notification["MessageAttributes"]  # as SNS leaves it out
    return json.dumps(notification)


def ses_feedback_body(name: str, *, recipient: str | None = None, **changes: Any) -> str:
    """An SQS body carrying SES's record `tests/events/<name>.json` as SNS delivers it (raw
    delivery off, no message attributes), the recipient and any fields of the bounce or
    complaint (`bounceType`, `feedbackId`, ...) changed as asked."""
    record = load_event(name)
    kind = "bounce" if "bounce" in record else "complaint"
    if recipient is not None:
        recipients = "bouncedRecipients" if kind == "bounce" else "complainedRecipients"
        for entry in record[kind][recipients]:
            entry["emailAddress"] = recipient
        record["mail"]["destination"] = [recipient]
    record[kind].update(changes)
    return sns_body(json.dumps(record), attributes={})


@pytest.fixture
def lambda_context() -> LambdaContext:
    return LambdaContext()
