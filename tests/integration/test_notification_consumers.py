"""The notification queue consumers on SNS's own envelopes (LocalStack), not hand-written ones.

A command on the bus commits `upload.stored`; `SnsEventPublisher` publishes it to a topic that
two queues subscribe to as the template subscribes the e-mail and realtime queues (raw delivery
off, the template's filter policies). The records received from each queue go, as the Lambda
event source mapping would hand them over, to `notifications.handle_email` (whose bus sends
through `SesEmailSender` on LocalStack: the mail is read back at `/_aws/ses`) and
`notifications.handle_realtime`. A second delivery of the same records does nothing more.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

import pytest

from filestore.adapters.memory import MemoryBlobStore, MemoryRealtimeNotifier
from filestore.adapters.ses import SesEmailSender
from filestore.adapters.sns import SnsEventPublisher
from filestore.bootstrap import Container, build
from filestore.domain import commands
from filestore.domain.handlers import UploadTicket
from filestore.entrypoints import notifications
from filestore.settings import Settings
from tests.support.aws import Queue, ses_messages
from tests.support.lambda_events import LambdaContext
from tests.support.template import load_template

pytestmark = pytest.mark.integration


def subscribe_as_the_template_does(
    aws_client: Callable[[str], Any], topic: str, queue: Queue, subscription: str
) -> None:
    properties = load_template()["Resources"][subscription]["Properties"]
    queue.allow("sns.amazonaws.com", topic)
    aws_client("sns").subscribe(
        TopicArn=topic,
        Protocol=properties["Protocol"],
        Endpoint=queue.arn,
        Attributes={
            "RawMessageDelivery": str(properties["RawMessageDelivery"]).lower(),
            "FilterPolicyScope": properties["FilterPolicyScope"],
            "FilterPolicy": json.dumps(properties["FilterPolicy"]),
        },
    )


@pytest.fixture
def queues(
    aws_client: Callable[[str], Any], sns_topic: str, make_queue: Callable[[], Queue]
) -> dict[str, Queue]:
    made = {"email": make_queue(), "realtime": make_queue()}
    subscribe_as_the_template_does(aws_client, sns_topic, made["email"], "EmailSubscription")
    subscribe_as_the_template_does(aws_client, sns_topic, made["realtime"], "RealtimeSubscription")
    return made


@pytest.fixture
def container(aws_client: Callable[[str], Any], sns_topic: str, ses_sender: str) -> Container:
    """In memory but for the messages out: SNS and SES (LocalStack). Notifications are the
    queues' business, as on Lambda."""
    return build(
        Settings(notify_in_process=False),
        publisher=SnsEventPublisher(aws_client("sns"), sns_topic),
        email=SesEmailSender(aws_client("ses"), f"Filestore <{ses_sender}>"),
        realtime=MemoryRealtimeNotifier(),
    )


async def test_an_upload_stored_reaches_the_mailbox_and_the_connection_once(
    container: Container, queues: dict[str, Queue], aws_endpoint: str
) -> None:
    bus = container.bus()
    address = f"user-{os.urandom(4).hex()}@example.com"
    alice = commands.Actor(sub=f"sub-{os.urandom(4).hex()}", email=address)
    await bus.handle(commands.UpdatePreferences(alice, notify_email=True))
    realtime: MemoryRealtimeNotifier = container.realtime()
    realtime.open("open-connection")
    await bus.handle(commands.Connect("open-connection", alice))
    await bus.handle(commands.Connect("gone-connection", alice))  # closed since

    ticket: UploadTicket = await bus.handle(
        commands.RequestUpload(alice, "résumé.pdf", 5, "application/pdf")
    )
    assert ticket.post is not None
    blobs: MemoryBlobStore = container.blobs()
    blobs.post(ticket.post, b"%PDF-")
    await bus.handle(commands.RecordStoredObject(ticket.upload.object_key))  # publishes

    # Only upload.stored passes the filters (user.registered and upload.requested do not).
    email_records = queues["email"].receive(1, quiet=1.0)
    realtime_records = queues["realtime"].receive(1, quiet=0.2)
    assert len(email_records) == 1 and len(realtime_records) == 1
    envelope = json.loads(email_records[0]["body"])
    assert envelope["Type"] == "Notification"  # SNS's envelope around ours
    assert json.loads(envelope["Message"])["type"] == "upload.stored"

    assert await notifications.handle_email(
        {"Records": email_records}, LambdaContext(), bus=bus
    ) == {"batchItemFailures": []}
    assert await notifications.handle_realtime(
        {"Records": realtime_records}, LambdaContext(), bus=bus
    ) == {"batchItemFailures": []}

    def mail() -> list[dict[str, Any]]:
        return [m for m in ses_messages(aws_endpoint) if address in m["Destination"]["ToAddresses"]]

    [sent] = mail()
    assert sent["Subject"] == "Your file has been stored"
    assert "résumé.pdf" in sent["Body"]["text_part"]
    [pushed] = realtime.messages["open-connection"]
    assert pushed["type"] == "upload.stored"
    assert pushed["upload"]["id"] == ticket.upload.id
    async with container.services().uow() as uow:  # the gone connection was forgotten
        user = await uow.users.get_by_sub(alice.sub)
        assert user is not None
        assert [c.id for c in await uow.connections.list_for_user(user.id)] == ["open-connection"]

    # SQS delivers at least once: the same records again send nothing more.
    assert await notifications.handle_email(
        {"Records": email_records}, LambdaContext(), bus=bus
    ) == {"batchItemFailures": []}
    assert await notifications.handle_realtime(
        {"Records": realtime_records}, LambdaContext(), bus=bus
    ) == {"batchItemFailures": []}
    assert len(mail()) == 1
    assert len(realtime.messages["open-connection"]) == 1
