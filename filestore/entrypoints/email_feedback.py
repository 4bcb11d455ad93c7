"""The e-mail feedback queue consumer: SES's bounces and complaints → `MarkEmailUndeliverable`.

SES publishes the events of the configuration set mail is sent with (bounces and complaints
only) to an SNS topic; the queue is subscribed to it with raw delivery off, so an SQS body is
SNS's notification JSON, whose `Message` is SES's record (`{"eventType": "Bounce", "bounce":
{...}, "mail": {...}}`). A raw-delivery body (SES's record itself) is read too.

A permanent bounce marks every user with the bounced address `bounced`, a complaint
`complained`; the e-mail consumer then sends them nothing until they change their address (or,
after a bounce, prove it receives mail again; after a complaint, opt in again). A transient or
undetermined bounce, a "not spam" report, or any other kind of SES event is acknowledged and
logged. Idempotent by SES's feedback id (the use case records it with the marks).

Poison policy, as for the other consumers: a body that is not an SES notification fails, is
retried, then waits in the dead-letter queue, whose alarm makes someone look.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from filestore.domain.commands import MarkEmailUndeliverable
from filestore.domain.events import UnknownEvent
from filestore.domain.handlers import UndeliverableMarks
from filestore.domain.messagebus import MessageBus
from filestore.entrypoints.aws_events import MailFeedback, envelope_in_sqs, ses_feedback
from filestore.entrypoints.batch import Ignore, process_batch
from filestore.entrypoints.observability import count, log_keys, logger, metrics, tracer
from filestore.entrypoints.runtime import runtime


class MalformedFeedback(ValueError):
    """The message is not an SES notification."""


def feedback_of(record: SQSRecord) -> MailFeedback | None:
    """The bounce or complaint an SQS record carries; None for another kind of SES event."""
    try:
        return ses_feedback(envelope_in_sqs(record))
    except UnknownEvent as error:
        raise MalformedFeedback(str(error)) from error


async def handle(
    event: dict[str, Any], context: Any, *, bus: MessageBus | None = None
) -> dict[str, list[dict[str, str]]]:
    """The async core: an SQS batch of SES notifications in, the failed message ids out."""
    bus = bus or runtime.bus()

    async def apply(record: SQSRecord) -> None:
        feedback = feedback_of(record)
        if feedback is None:
            raise Ignore("an SES event that is neither a bounce nor a complaint")
        with log_keys(feedback_id=feedback.feedback_id, ses_message_id=feedback.message_id):
            if feedback.status is None:
                count("EmailFeedbackTransient")
                raise Ignore(f"{feedback.kind} ({feedback.detail}): the address stays as it is")
            marks: UndeliverableMarks = await bus.handle(
                MarkEmailUndeliverable(feedback.feedback_id, feedback.recipients, feedback.status)
            )
            if marks.repeat:
                logger.info("%s already applied", feedback.kind)
                return
            logger.info(
                "%s (%s): %d user(s) marked %s",
                feedback.kind,
                feedback.detail,
                len(marks.user_ids),
                feedback.status.value,
            )
            count(f"EmailAddresses{feedback.status.value.capitalize()}", len(marks.user_ids))

    return await process_batch(event, apply)


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, list[dict[str, str]]]:
    """The Lambda handler (`filestore.entrypoints.email_feedback.handler`)."""
    return runtime.run(handle(event, context))
