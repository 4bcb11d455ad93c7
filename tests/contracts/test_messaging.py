"""Contracts of the outgoing ports: event publisher, e-mail sender, realtime notifier."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from filestore.domain import events
from filestore.domain.errors import ConnectionGone
from filestore.domain.ports import EmailMessage
from tests.contracts.harness import EmailHarness, PublisherHarness, RealtimeHarness

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _upload(name: str = "a.txt") -> events.UploadData:
    return events.UploadData(
        id="01890000-0000-7000-8000-000000000001",
        name=name,
        size=3,
        content_type="text/plain",
        status="stored",
        created_at=NOW,
        stored_at=NOW,
    )


async def test_published_events_arrive_as_envelopes(publisher: PublisherHarness) -> None:
    """Every event arrives as its envelope. In no promised order: SNS standard topics (and SQS
    standard queues) do not keep one, so no consumer may rely on it."""
    sent = [
        events.UploadStored(occurred_at=NOW, user_id="u1", upload=_upload("ü 1.txt")),
        events.UploadDeleted(occurred_at=NOW, user_id="u1", upload=_upload()),
        events.ShareCreated(occurred_at=NOW, user_id="u1", upload_id="x", expires_at=NOW),
    ]
    await publisher.publisher.publish(sent)
    received = sorted(await publisher.received(len(sent)), key=lambda r: str(r["id"]))
    in_id_order = sorted(sent, key=lambda e: e.id)
    assert [r["id"] for r in received] == [e.id for e in in_id_order]
    assert received == [e.envelope() for e in in_id_order]
    assert [events.parse_event(r) for r in received] == in_id_order


async def test_publishing_nothing_is_fine(publisher: PublisherHarness) -> None:
    await publisher.publisher.publish([])
    assert list(await publisher.received(0)) == []


async def test_email_is_delivered_to_its_recipient(email: EmailHarness) -> None:
    message = EmailMessage(
        to="alice@example.com",
        subject="Your file has been stored",
        text='Your file "résumé.pdf" has been stored.',
        html="<p>Your file <strong>résumé.pdf</strong> has been stored.</p>",
    )
    await email.sender.send(message)
    sent = await email.sent_to("alice@example.com")
    assert len(sent) == 1
    assert sent[0].subject == message.subject
    assert "résumé.pdf" in sent[0].text
    assert await email.sent_to("bob@example.com") == []


async def test_realtime_message_reaches_an_open_connection(realtime: RealtimeHarness) -> None:
    connection = await realtime.open_connection()
    message = {"type": "upload.stored", "upload": _upload().model_dump(mode="json")}
    await realtime.notifier.post(connection, message)
    assert list(await realtime.received(connection)) == [message]


async def test_posting_to_a_closed_connection_is_gone(realtime: RealtimeHarness) -> None:
    connection = await realtime.open_connection()
    await realtime.close_connection(connection)
    with pytest.raises(ConnectionGone):
        await realtime.notifier.post(connection, {"type": "pong"})
