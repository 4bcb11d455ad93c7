"""Bounces and complaints: which addresses stop getting mail, and what lets it resume."""

from __future__ import annotations

import pytest

from filestore.app import FileStore
from filestore.domain import commands
from filestore.domain.commands import Actor
from filestore.domain.errors import InvalidInput
from filestore.domain.events import UploadStored
from filestore.domain.handlers import EmailNotice, UndeliverableMarks
from filestore.domain.model import EmailStatus
from tests.unit.test_uploads import stored_upload

BOUNCED, COMPLAINED, OK = EmailStatus.BOUNCED, EmailStatus.COMPLAINED, EmailStatus.OK


async def report(
    store: FileStore, status: EmailStatus, *addresses: str, feedback_id: str = "feedback-1"
) -> UndeliverableMarks:
    result: UndeliverableMarks = await store.bus.handle(
        commands.MarkEmailUndeliverable(feedback_id, addresses, status)
    )
    return result


async def status_of(store: FileStore, actor: Actor) -> EmailStatus:
    return (await store.me(actor)).email_status


async def last_stored_event(store: FileStore) -> UploadStored:
    return next(
        e for e in reversed(store.memory_publisher.published) if isinstance(e, UploadStored)
    )


class TestMarking:
    async def test_a_bounce_marks_every_user_of_the_address_whatever_its_case(
        self, store: FileStore, alice: Actor, bob: Actor
    ) -> None:
        # An address that moved to someone else while its former user never signed in again.
        former = Actor(sub="former-sub", email="Alice@Example.com")
        for actor in (alice, bob, former):
            await store.me(actor)
        marks = await report(store, BOUNCED, "ALICE@example.COM")
        assert not marks.repeat
        assert len(marks.user_ids) == 2
        assert await status_of(store, alice) is BOUNCED
        assert await status_of(store, former) is BOUNCED
        assert await status_of(store, bob) is OK

    async def test_a_report_delivered_again_changes_nothing(
        self, store: FileStore, alice: Actor
    ) -> None:
        await store.me(alice)
        await report(store, BOUNCED, alice.email)
        # The user moves on to a new address, then to the old one again (a fresh start)...
        await store.me(Actor(alice.sub, "alice@example.org"))
        await store.me(alice)
        assert await status_of(store, alice) is OK
        # ...and SQS hands the old report over once more: it was applied already.
        marks = await report(store, BOUNCED, alice.email)
        assert marks == UndeliverableMarks((), repeat=True)
        assert await status_of(store, alice) is OK

    async def test_an_address_no_user_has_is_recorded_and_marks_nobody(
        self, store: FileStore, alice: Actor
    ) -> None:
        await store.me(alice)
        assert await report(store, BOUNCED, "nobody@example.com") == UndeliverableMarks(())
        assert await status_of(store, alice) is OK
        assert (await report(store, BOUNCED, "nobody@example.com")).repeat

    async def test_several_recipients_of_one_report_are_each_marked_once(
        self, store: FileStore, alice: Actor, bob: Actor
    ) -> None:
        await store.me(alice)
        await store.me(bob)
        marks = await report(store, COMPLAINED, alice.email, bob.email, alice.email.upper())
        assert len(marks.user_ids) == 2
        assert await status_of(store, alice) is COMPLAINED
        assert await status_of(store, bob) is COMPLAINED

    async def test_a_complaint_outranks_a_bounce(self, store: FileStore, alice: Actor) -> None:
        await store.me(alice)
        await report(store, BOUNCED, alice.email, feedback_id="b1")
        assert (await report(store, COMPLAINED, alice.email, feedback_id="c1")).user_ids
        assert not (await report(store, BOUNCED, alice.email, feedback_id="b2")).user_ids
        assert await status_of(store, alice) is COMPLAINED

    async def test_marking_an_address_ok_is_not_what_a_report_does(self, store: FileStore) -> None:
        with pytest.raises(InvalidInput):
            await report(store, OK, "alice@example.com")


class TestMailStops:
    async def test_no_mail_goes_to_a_bounced_address_until_the_address_changes(
        self, store: FileStore, alice: Actor
    ) -> None:
        await store.set_notify_email(alice, True)
        await stored_upload(store, alice)
        assert [m.to for m in store.memory_email.sent] == ["alice@example.com"]

        await report(store, BOUNCED, "alice@example.com")
        await stored_upload(store, alice, name="second.txt")
        assert len(store.memory_email.sent) == 1  # not sent
        event = await last_stored_event(store)
        # Recorded as handled all the same: a redelivery does not try again.
        assert await store.bus.handle(commands.NotifyByEmail(event)) is EmailNotice.REPEAT
        me = await store.me(alice)
        assert (me.notify_email, me.email_status) == (True, BOUNCED)

        # The user changed their address with the identity provider: their next token says so.
        moved = Actor(alice.sub, "alice@example.org")
        me = await store.me(moved)
        assert (me.email, me.email_status) == ("alice@example.org", OK)
        await stored_upload(store, moved, name="third.txt")
        assert [m.to for m in store.memory_email.sent] == [
            "alice@example.com",
            "alice@example.org",
        ]

    async def test_the_notice_says_why_nothing_was_sent(self, alice: Actor, bob: Actor) -> None:
        # Notifications left to the caller (as the queue consumers do on AWS).
        from filestore.settings import Settings

        store = FileStore.from_settings(Settings(notify_in_process=False))
        await store.set_notify_email(alice, True)
        await stored_upload(store, alice)
        await stored_upload(store, bob)
        alices, bobs = [e for e in store.memory_publisher.published if isinstance(e, UploadStored)]
        await report(store, BOUNCED, alice.email)
        notify = store.bus.handle
        assert await notify(commands.NotifyByEmail(alices)) is EmailNotice.UNDELIVERABLE
        assert await notify(commands.NotifyByEmail(bobs)) is EmailNotice.NOT_MAILED
        assert store.memory_email.sent == []

    async def test_the_same_mailbox_written_in_another_case_stays_bounced(
        self, store: FileStore, alice: Actor
    ) -> None:
        await store.me(alice)
        await report(store, BOUNCED, alice.email)
        me = await store.me(Actor(alice.sub, "ALICE@example.com"))
        assert (me.email, me.email_status) == ("ALICE@example.com", BOUNCED)


class TestMailResumes:
    async def test_mail_reaching_the_address_lifts_a_bounce_not_a_complaint(
        self, store: FileStore, alice: Actor, bob: Actor
    ) -> None:
        await store.me(alice)
        await store.me(bob)
        await report(store, BOUNCED, alice.email, feedback_id="b")
        await report(store, COMPLAINED, bob.email, feedback_id="c")
        for actor in (alice, bob):
            await store.bus.handle(commands.ConfirmEmailDeliverable(actor))
        assert await status_of(store, alice) is OK
        assert await status_of(store, bob) is COMPLAINED

    async def test_opting_in_again_lifts_a_complaint_not_a_bounce(
        self, store: FileStore, alice: Actor, bob: Actor
    ) -> None:
        for actor in (alice, bob):
            await store.set_notify_email(actor, True)
        await report(store, COMPLAINED, alice.email, feedback_id="c")
        await report(store, BOUNCED, bob.email, feedback_id="b")
        # Already on: saying "on" again is the new opt-in.
        assert (await store.set_notify_email(alice, True)).email_status is OK
        assert (await store.set_notify_email(bob, True)).email_status is BOUNCED
        await stored_upload(store, alice)
        await stored_upload(store, bob)
        assert [m.to for m in store.memory_email.sent] == ["alice@example.com"]

    async def test_turning_mail_off_keeps_the_complaint(
        self, store: FileStore, alice: Actor
    ) -> None:
        await store.set_notify_email(alice, True)
        await report(store, COMPLAINED, alice.email)
        me = await store.set_notify_email(alice, False)
        assert (me.notify_email, me.email_status) == (False, COMPLAINED)
