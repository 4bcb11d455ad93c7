"""The notification queue consumers: e-mail (`NotifyByEmail`) and realtime (`NotifyRealtime`).

Each queue is subscribed to the events topic with raw delivery off, so an SQS body is SNS's
notification JSON (`{"Type": "Notification", "Message": "<our envelope>", ...}`); a raw-delivery
body (the envelope itself) is accepted too. Idempotent by event id: the use cases record what
they processed.

Poison policy: a body that is not JSON, not an SNS notification or not a well-formed envelope
fails, so it is retried and then lands in the queue's DLQ, where an alarm makes someone look;
dropping it would hide a publisher bug. An envelope of a type this consumer does not know (a
newer publisher) is acknowledged and logged: retrying cannot help and nothing is lost.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from filestore.domain.commands import Command, NotifyByEmail, NotifyRealtime
from filestore.domain.events import EVENT_TYPES, Event, UnknownEvent, parse_event
from filestore.domain.handlers import EmailNotice
from filestore.domain.messagebus import MessageBus
from filestore.entrypoints.aws_events import envelope_in_sqs
from filestore.entrypoints.batch import Ignore, process_batch
from filestore.entrypoints.observability import count, log_keys, logger, metrics, tracer
from filestore.entrypoints.runtime import runtime


class MalformedMessage(ValueError):
    """The message is not an event envelope at all."""


def event_of(record: SQSRecord) -> Event:
    """The domain event an SQS record carries (SNS notification, or raw delivery)."""
    try:
        data = envelope_in_sqs(record)
    except UnknownEvent as error:
        raise MalformedMessage(str(error)) from error
    kind = data.get("type")
    if isinstance(kind, str) and kind not in EVENT_TYPES:
        raise Ignore(f"unknown event type {kind!r}")
    try:
        return parse_event(data)
    except UnknownEvent as error:
        raise MalformedMessage(str(error)) from error


def _count_email(notice: Any) -> None:
    if notice is EmailNotice.SENT:
        count("EmailsSent")
    elif notice is EmailNotice.UNDELIVERABLE:
        # The user opted in, but their address bounced or complained: see GET /me.
        logger.info("e-mail not sent: the user's address bounced or complained")
        count("EmailsSkippedUndeliverable")


async def _consume(
    event: dict[str, Any],
    bus: MessageBus | None,
    command: Callable[[Event], Command],
    report: Callable[[Any], None] | None = None,
) -> dict[str, list[dict[str, str]]]:
    bus = bus or runtime.bus()

    async def notify(record: SQSRecord) -> None:
        domain_event = event_of(record)
        with log_keys(event_id=domain_event.id, event_type=domain_event.type):
            result = await bus.handle(command(domain_event))
            if report is not None:
                report(result)

    return await process_batch(event, notify)


async def handle_email(
    event: dict[str, Any], context: Any, *, bus: MessageBus | None = None
) -> dict[str, list[dict[str, str]]]:
    """The e-mail queue's async core."""
    return await _consume(event, bus, NotifyByEmail, _count_email)


async def handle_realtime(
    event: dict[str, Any], context: Any, *, bus: MessageBus | None = None
) -> dict[str, list[dict[str, str]]]:
    """The realtime queue's async core."""
    return await _consume(event, bus, NotifyRealtime)


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def email_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """The Lambda handler (`filestore.entrypoints.notifications.email_handler`)."""
    return runtime.run(handle_email(event, context))


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def realtime_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """The Lambda handler (`filestore.entrypoints.notifications.realtime_handler`)."""
    return runtime.run(handle_realtime(event, context))
