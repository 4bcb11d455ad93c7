"""The S3 events queue consumer: each `ObjectCreated` object → `RecordStoredObject`.

Each SQS record's body is an S3 event notification (several records, possibly) or the
`s3:TestEvent` S3 sends when the notification is set up (acknowledged). Keys arrive URL-encoded
(`+` for a space). Idempotent: a repeat for a stored upload is answered DUPLICATE and acknowledged.
A body that is not an S3 event fails (and reaches the DLQ after its retries, where it alarms).
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from filestore.domain.commands import RecordStoredObject
from filestore.domain.messagebus import MessageBus
from filestore.entrypoints.aws_events import created_objects
from filestore.entrypoints.batch import Ignore, process_batch
from filestore.entrypoints.observability import count, logger, metrics, tracer
from filestore.entrypoints.runtime import runtime


class NotAnS3Event(ValueError):
    """The message body is not an S3 event notification."""


def stored_objects(body: str) -> list[RecordStoredObject]:
    """The commands an SQS message body from S3 asks for (none for a test event)."""
    try:
        data = json.loads(body)
    except ValueError as error:
        raise NotAnS3Event("body is not JSON") from error
    if not isinstance(data, dict):
        raise NotAnS3Event("body is not a JSON object")
    if data.get("Event") == "s3:TestEvent":
        return []
    records = data.get("Records")
    if not isinstance(records, list) or not records:
        raise NotAnS3Event("body has no Records")
    return [RecordStoredObject(c.key, c.size) for c in created_objects(data)]


async def handle(
    event: dict[str, Any], context: Any, *, bus: MessageBus | None = None
) -> dict[str, list[dict[str, str]]]:
    """The async core: an SQS batch of S3 events in, the failed message ids out."""
    bus = bus or runtime.bus()

    async def record_objects(record: SQSRecord) -> None:
        commands = stored_objects(record.body)
        if not commands:
            raise Ignore("S3 test event, or no object created")
        for command in commands:
            outcome = await bus.handle(command)
            logger.info("object %s: %s", command.object_key, outcome)
            count(f"Objects{str(outcome).capitalize()}")

    return await process_batch(event, record_objects)


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, list[dict[str, str]]]:
    """The Lambda handler (`filestore.entrypoints.s3_events.handler`)."""
    return runtime.run(handle(event, context))
