"""Bounces and complaints through SNS and SQS (LocalStack) to the feedback consumer, on SQLite.

No emulator plays SES's configuration set, so the test publishes SES's record (the documented
shape, `tests/events/ses_bounce.json`, for this test's address) to a topic that a queue is
subscribed to as template.yaml subscribes the feedback queue. The records received go, as the
Lambda event source mapping would hand them over, to `email_feedback.handle` on a bus over a
migrated SQLite database; the e-mail consumer then sends nothing to the address through SES on
LocalStack (read back at `/_aws/ses`), until the user's token carries a new address.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from filestore.adapters.memory import MemoryEventPublisher
from filestore.adapters.ses import SesEmailSender
from filestore.adapters.sql.alchemy import upgrade_database
from filestore.bootstrap import Container, build
from filestore.domain import commands
from filestore.domain.events import UploadData, UploadStored
from filestore.domain.model import EmailStatus
from filestore.domain.ports import EmailMessage
from filestore.entrypoints import email_feedback, notifications
from filestore.settings import Settings
from tests.factories import T0
from tests.support.aws import Queue, ses_messages
from tests.support.lambda_events import LambdaContext, load_event, sns_body
from tests.support.sql import sqlite_url
from tests.support.template import load_template

pytestmark = pytest.mark.integration

NO_FAILURES: dict[str, list[dict[str, str]]] = {"batchItemFailures": []}


@pytest.fixture
def feedback_queue(
    aws_client: Callable[[str], Any], sns_topic: str, make_queue: Callable[[], Queue]
) -> Queue:
    """A queue subscribed to `sns_topic` as the template subscribes EmailFeedbackQueue."""
    properties = load_template()["Resources"]["EmailFeedbackSubscription"]["Properties"]
    queue = make_queue()
    queue.allow("sns.amazonaws.com", sns_topic)
    attributes = {"RawMessageDelivery": str(properties["RawMessageDelivery"]).lower()}
    assert "FilterPolicy" not in properties  # every report SES publishes there
    aws_client("sns").subscribe(
        TopicArn=sns_topic,
        Protocol=properties["Protocol"],
        Endpoint=queue.arn,
        Attributes=attributes,
    )
    return queue


@pytest.fixture
async def container(
    tmp_path: Path, aws_client: Callable[[str], Any], ses_sender: str
) -> AsyncIterator[Container]:
    """SQLite, and SES on LocalStack; notifications are the queues' business, as on Lambda."""
    url = sqlite_url(tmp_path / "feedback.db")
    await upgrade_database(url)
    container = build(
        Settings(database="sql", database_url=url, notify_in_process=False),
        publisher=MemoryEventPublisher(),
        email=SesEmailSender(aws_client("ses"), ses_sender),
    )
    yield container
    await container.uow_factory().aclose()


def ses_bounce(address: str) -> str:
    record = load_event("ses_bounce")
    record["bounce"]["bouncedRecipients"][0]["emailAddress"] = address
    record["bounce"]["feedbackId"] = f"{os.urandom(8).hex()}-{os.urandom(16).hex()}-000000"
    record["mail"]["destination"] = [address]
    return json.dumps(record)


def stored_event(user_id: str) -> UploadStored:
    upload = UploadData(
        id="0189a000-0000-7000-8000-000000000001",
        name="report.pdf",
        size=5,
        content_type="application/pdf",
        status="stored",
        created_at=T0,
        stored_at=T0,
    )
    return UploadStored(occurred_at=T0, user_id=user_id, upload=upload)


async def test_a_bounce_through_sns_and_sqs_stops_the_mail_until_the_address_changes(
    container: Container,
    feedback_queue: Queue,
    sns_topic: str,
    aws_client: Callable[[str], Any],
    aws_endpoint: str,
) -> None:
    bus = container.bus()
    address = f"User-{os.urandom(4).hex()}@Example.com"
    actor = commands.Actor(sub=f"sub-{os.urandom(4).hex()}", email=address)
    user = await bus.handle(commands.UpdatePreferences(actor, notify_email=True))

    aws_client("sns").publish(TopicArn=sns_topic, Message=ses_bounce(address.lower()))
    records = feedback_queue.receive(1)
    assert len(records) == 1
    notification = json.loads(records[0]["body"])
    assert notification["Type"] == "Notification"  # SNS's envelope around SES's record
    event = {"Records": records}
    assert await email_feedback.handle(event, LambdaContext(), bus=bus) == NO_FAILURES
    assert (await bus.handle(commands.GetMe(actor))).email_status is EmailStatus.BOUNCED
    # SQS delivers at least once: the same record again is acknowledged, and changes nothing.
    assert await email_feedback.handle(event, LambdaContext(), bus=bus) == NO_FAILURES

    def mail_to(to: str) -> list[dict[str, Any]]:
        return [m for m in ses_messages(aws_endpoint) if to in m["Destination"]["ToAddresses"]]

    stored = sns_body(json.dumps(stored_event(user.id).envelope()))
    batch = {"Records": [{**records[0], "messageId": "m-stored", "body": stored}]}
    assert await notifications.handle_email(batch, LambdaContext(), bus=bus) == NO_FAILURES
    assert mail_to(address) == []

    # The user moved to a new address: their next token carries it, and mail resumes.
    moved = commands.Actor(actor.sub, f"new-{os.urandom(4).hex()}@example.com")
    me = await bus.handle(commands.GetMe(moved))
    assert (me.email, me.email_status) == (moved.email, EmailStatus.OK)
    again = sns_body(json.dumps(stored_event(user.id).envelope()))  # another event, another id
    batch = {"Records": [{**records[0], "messageId": "m-again", "body": again}]}
    assert await notifications.handle_email(batch, LambdaContext(), bus=bus) == NO_FAILURES
    [sent] = mail_to(moved.email)
    assert sent["Subject"] == "Your file has been stored"


async def test_mail_goes_out_with_a_configuration_set(
    aws_client: Callable[[str], Any], aws_endpoint: str, ses_sender: str
) -> None:
    """The e-mail function's SendEmail names the set; an SES that knows it accepts the mail."""
    ses = aws_client("ses")
    name = f"filestore-test-{os.urandom(4).hex()}"
    ses.create_configuration_set(ConfigurationSet={"Name": name})
    try:
        sender = SesEmailSender(ses, ses_sender, configuration_set=name)
        address = f"user-{os.urandom(4).hex()}@example.com"
        await sender.send(EmailMessage(address, "Hello", "text", "<p>html</p>"))
        sent = [m for m in ses_messages(aws_endpoint) if address in m["Destination"]["ToAddresses"]]
        assert len(sent) == 1
    finally:
        ses.delete_configuration_set(ConfigurationSetName=name)
