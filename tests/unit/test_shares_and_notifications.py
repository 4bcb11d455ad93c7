"""Share links, realtime connections, notifications, the outbox relay and the sweep."""

from __future__ import annotations

from datetime import timedelta

import pytest

from filestore.adapters.memory import PresignedRequestRefused
from filestore.app import FileStore
from filestore.domain import commands
from filestore.domain.commands import Actor
from filestore.domain.errors import Conflict, InvalidInput, NotFound
from filestore.domain.events import UploadStored
from filestore.domain.handlers import EmailNotice
from filestore.domain.model import UploadStatus
from tests.support.clock import FakeClock
from tests.unit.test_uploads import DATA, stored_upload


class TestShares:
    async def test_a_share_resolves_without_an_account(
        self, store: FileStore, alice: Actor, clock: FakeClock
    ) -> None:
        upload = await stored_upload(store, alice, name="photo.jpg")
        share = await store.share(alice, upload.id, expires_in=3600)
        assert share.expires_at == clock.now() + timedelta(hours=1)
        shared = await store.resolve_share(share.token)
        assert (shared.name, shared.size) == ("photo.jpg", len(DATA))
        assert shared.expires_at == clock.now() + timedelta(minutes=5)
        assert store.memory_blobs.get(shared.url)[0] == DATA

    async def test_the_url_lives_no_longer_than_the_share(
        self, store: FileStore, alice: Actor, clock: FakeClock
    ) -> None:
        upload = await stored_upload(store, alice)
        share = await store.share(alice, upload.id, expires_in=60)
        clock.advance(timedelta(seconds=50))
        shared = await store.resolve_share(share.token)
        assert shared.expires_at == share.expires_at
        clock.advance(timedelta(seconds=10))
        with pytest.raises(PresignedRequestRefused):
            store.memory_blobs.get(shared.url)
        with pytest.raises(NotFound, match="expired"):
            await store.resolve_share(share.token)

    @pytest.mark.parametrize("seconds", [0, 7 * 24 * 3600 + 1])
    async def test_lifetime_is_1_second_to_7_days(
        self, store: FileStore, alice: Actor, seconds: int
    ) -> None:
        upload = await stored_upload(store, alice)
        with pytest.raises(InvalidInput, match="7 days"):
            await store.share(alice, upload.id, expires_in=seconds)

    async def test_only_stored_uploads_can_be_shared(self, store: FileStore, alice: Actor) -> None:
        ticket = await store.request_upload(alice, "a", size=1, content_type="a/b")
        with pytest.raises(Conflict):
            await store.share(alice, ticket.upload.id, expires_in=60)

    async def test_listing_shows_live_shares_only(
        self, store: FileStore, alice: Actor, clock: FakeClock
    ) -> None:
        upload = await stored_upload(store, alice)
        short = await store.share(alice, upload.id, expires_in=10)
        long = await store.share(alice, upload.id, expires_in=1000)
        revoked = await store.share(alice, upload.id, expires_in=500)
        await store.revoke_share(alice, revoked.token)
        assert [s.token for s in await store.shares(alice, upload.id)] == [short.token, long.token]
        clock.advance(timedelta(seconds=10))
        assert [s.token for s in await store.shares(alice, upload.id)] == [long.token]

    async def test_revoked_and_deleted_shares_stop_resolving(
        self, store: FileStore, alice: Actor
    ) -> None:
        upload = await stored_upload(store, alice)
        first = await store.share(alice, upload.id, expires_in=60)
        second = await store.share(alice, upload.id, expires_in=60)
        await store.revoke_share(alice, first.token)
        await store.revoke_share(alice, first.token)  # again: fine for the owner
        with pytest.raises(NotFound):
            await store.resolve_share(first.token)
        await store.resolve_share(second.token)
        await store.delete(alice, upload.id)
        with pytest.raises(NotFound):
            await store.resolve_share(second.token)

    async def test_someone_elses_share_cannot_be_revoked(
        self, store: FileStore, alice: Actor, bob: Actor
    ) -> None:
        upload = await stored_upload(store, alice)
        share = await store.share(alice, upload.id, expires_in=60)
        with pytest.raises(NotFound):
            await store.revoke_share(bob, share.token)
        await store.resolve_share(share.token)

    @pytest.mark.parametrize(
        "token", ["", "x", "../../../etc/passwd", "a" * 200, "abcdefghijklmnopqrstuvwxyz123456"]
    )
    async def test_unknown_tokens_are_not_found(self, store: FileStore, token: str) -> None:
        with pytest.raises(NotFound):
            await store.resolve_share(token)

    async def test_share_events(self, store: FileStore, alice: Actor) -> None:
        upload = await stored_upload(store, alice)
        share = await store.share(alice, upload.id, expires_in=60)
        await store.revoke_share(alice, share.token)
        assert [e.type for e in store.memory_publisher.published[-2:]] == [
            "share.created",
            "share.revoked",
        ]


class TestNotifications:
    async def test_stored_upload_is_mailed_only_to_users_who_opted_in(
        self, store: FileStore, alice: Actor, bob: Actor
    ) -> None:
        await store.set_notify_email(alice, True)
        await stored_upload(store, alice, name="<b>x<i>.txt")
        await stored_upload(store, bob)
        sent = store.memory_email.sent
        assert [m.to for m in sent] == ["alice@example.com"]
        assert '"<b>x<i>.txt"' in sent[0].text
        assert "&lt;b&gt;x&lt;i&gt;.txt" in sent[0].html

    async def test_failed_upload_is_mailed_with_the_reason(
        self, store: FileStore, alice: Actor
    ) -> None:
        await store.set_notify_email(alice, True)
        ticket = await store.request_upload(alice, "a", size=5, content_type="a/b")
        store.memory_blobs.put_object(ticket.upload.object_key, b"1")
        await store.record_stored(ticket.upload.object_key)
        assert store.memory_email.sent[-1].subject == "Your upload failed"
        assert "1 bytes but 5 were declared" in store.memory_email.sent[-1].text

    async def test_each_event_is_mailed_at_most_once(self, store: FileStore, alice: Actor) -> None:
        await store.set_notify_email(alice, True)
        await stored_upload(store, alice)
        event = next(e for e in store.memory_publisher.published if isinstance(e, UploadStored))
        assert await store.bus.handle(commands.NotifyByEmail(event)) is EmailNotice.REPEAT
        assert len(store.memory_email.sent) == 1

    async def test_open_connections_get_the_event_and_gone_ones_are_forgotten(
        self, store: FileStore, alice: Actor, bob: Actor
    ) -> None:
        store.memory_realtime.open("tab-1")
        store.memory_realtime.open("tab-2")
        store.memory_realtime.open("bob-tab")
        await store.connect(alice, "tab-1")
        await store.connect(alice, "tab-2")
        await store.connect(alice, "closed-tab")  # never opened: gone
        await store.connect(bob, "bob-tab")
        upload = await stored_upload(store, alice)
        for tab in ("tab-1", "tab-2"):
            messages = store.memory_realtime.messages[tab]
            assert messages == [
                {"type": "upload.stored", "upload": upload.view().model_dump(mode="json")}
            ]
        assert store.memory_realtime.messages["bob-tab"] == []
        me = await store.me(alice)
        async with store.services.uow() as uow:
            remaining = [c.id for c in await uow.connections.list_for_user(me.id)]
        assert remaining == ["tab-1", "tab-2"]

    async def test_rename_and_delete_are_pushed(self, store: FileStore, alice: Actor) -> None:
        store.memory_realtime.open("tab")
        await store.connect(alice, "tab")
        upload = await stored_upload(store, alice)
        await store.rename(alice, upload.id, "b.txt")
        await store.delete(alice, upload.id)
        types = [m["type"] for m in store.memory_realtime.messages["tab"]]
        assert types == ["upload.stored", "upload.renamed", "upload.trashed"]

    async def test_disconnect_forgets_the_connection(self, store: FileStore, alice: Actor) -> None:
        store.memory_realtime.open("tab")
        await store.connect(alice, "tab")
        await store.disconnect("tab")
        await stored_upload(store, alice)
        assert store.memory_realtime.messages["tab"] == []


class TestOutboxRelay:
    async def test_events_not_published_inline_are_relayed_later_in_order(
        self, store: FileStore, alice: Actor
    ) -> None:
        store.memory_publisher.fail_next = 2
        await store.me(alice)  # user.registered: publish fails
        await store.request_upload(alice, "a", size=1, content_type="a/b")  # fails too
        assert store.memory_publisher.published == []
        assert await store.relay_outbox() == 2
        assert [e.type for e in store.memory_publisher.published] == [
            "user.registered",
            "upload.requested",
        ]
        assert await store.relay_outbox() == 0

    async def test_a_failing_relay_keeps_the_events(self, store: FileStore, alice: Actor) -> None:
        store.memory_publisher.fail_next = 2
        await store.me(alice)
        with pytest.raises(ConnectionError):
            await store.relay_outbox()
        assert await store.relay_outbox() == 1


class TestReconcile:
    async def test_a_late_object_is_completed(
        self, store: FileStore, alice: Actor, clock: FakeClock
    ) -> None:
        ticket = await store.request_upload(alice, "a", size=len(DATA), content_type="a/b")
        assert ticket.post is not None
        store.memory_blobs.post(ticket.post, DATA)  # its S3 event is lost
        clock.advance(timedelta(minutes=3))
        report = await store.reconcile()
        assert report.completed == 1
        assert (await store.get_upload(alice, ticket.upload.id)).status is UploadStatus.STORED

    async def test_young_pending_uploads_are_left_to_their_event(
        self, store: FileStore, alice: Actor
    ) -> None:
        ticket = await store.request_upload(alice, "a", size=len(DATA), content_type="a/b")
        assert ticket.post is not None
        store.memory_blobs.post(ticket.post, DATA)
        assert (await store.reconcile()).completed == 0

    async def test_without_grace_young_uploads_that_arrived_are_completed(
        self, store: FileStore, alice: Actor, clock: FakeClock
    ) -> None:
        # What a restarted local server does: the queued S3 events were lost with the process.
        arrived = await store.request_upload(alice, "a", size=len(DATA), content_type="a/b")
        waiting = await store.request_upload(alice, "b", size=len(DATA), content_type="a/b")
        assert arrived.post is not None
        store.memory_blobs.post(arrived.post, DATA)
        clock.advance(timedelta(seconds=1))
        report = await store.reconcile(grace=timedelta(0))
        assert (report.completed, report.expired) == (1, 0)
        assert (await store.get_upload(alice, arrived.upload.id)).status is UploadStatus.STORED
        # One whose bytes have not come yet keeps its upload URL: it is neither settled nor expired.
        assert (await store.get_upload(alice, waiting.upload.id)).status is UploadStatus.PENDING
        assert store.memory_publisher.published[-1].type == "upload.stored"

    async def test_abandoned_uploads_expire_and_free_their_bytes(
        self, store: FileStore, alice: Actor, clock: FakeClock
    ) -> None:
        ticket = await store.request_upload(alice, "a", size=10, content_type="a/b")
        clock.advance(timedelta(minutes=10))
        assert (await store.reconcile()).expired == 0  # its URL is still valid
        clock.advance(timedelta(minutes=10))
        assert (await store.reconcile()).expired == 1
        upload = await store.get_upload(alice, ticket.upload.id)
        assert upload.status is UploadStatus.EXPIRED
        assert (await store.me(alice)).used_bytes == 0
        assert store.memory_publisher.published[-1].type == "upload.expired"

    async def test_a_mismatched_late_object_fails(
        self, store: FileStore, alice: Actor, clock: FakeClock
    ) -> None:
        ticket = await store.request_upload(alice, "a", size=10, content_type="a/b")
        store.memory_blobs.put_object(ticket.upload.object_key, b"short")
        clock.advance(timedelta(minutes=3))
        assert (await store.reconcile()).failed == 1
        assert await store.services.blobs.head(ticket.upload.object_key) is None

    @staticmethod
    async def _waiting_then_late(store: FileStore, alice: Actor, clock: FakeClock) -> str:
        """Four uploads still waiting for their bytes, then one whose bytes came unannounced:
        with pages of two, only the third page holds the late one. Returns its id."""
        for name in "abcd":
            await store.request_upload(alice, name, size=len(DATA), content_type="a/b")
            clock.advance(timedelta(seconds=1))
        late = await store.request_upload(alice, "e", size=len(DATA), content_type="a/b")
        assert late.post is not None
        store.memory_blobs.post(late.post, DATA)
        clock.advance(timedelta(minutes=3))  # past the grace, within the upload URLs' life
        return late.upload.id

    async def test_every_page_of_pending_uploads_is_swept(
        self, store: FileStore, alice: Actor, clock: FakeClock
    ) -> None:
        late = await self._waiting_then_late(store, alice, clock)
        report = await store.reconcile(batch_size=2)
        assert (report.completed, report.expired, report.stopped_early) == (1, 0, False)
        assert (await store.get_upload(alice, late)).status is UploadStatus.STORED

    async def test_a_spent_time_budget_starts_no_new_page(
        self, store: FileStore, alice: Actor, clock: FakeClock
    ) -> None:
        late = await self._waiting_then_late(store, alice, clock)
        report = await store.reconcile(batch_size=2, time_budget=timedelta(0))
        assert (report.completed, report.stopped_early) == (0, True)  # one page, then stop
        assert (await store.get_upload(alice, late)).status is UploadStatus.PENDING
        # The next sweep with time enough gets there.
        report = await store.reconcile(batch_size=2, time_budget=timedelta(minutes=5))
        assert (report.completed, report.stopped_early) == (1, False)

    async def test_the_time_budget_is_checked_between_pages(
        self,
        store: FileStore,
        alice: Actor,
        clock: FakeClock,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        late = await self._waiting_then_late(store, alice, clock)
        head = store.memory_blobs.head

        async def slow_head(key: str) -> object:
            clock.advance(timedelta(seconds=40))  # each look at S3 takes a while
            return await head(key)

        monkeypatch.setattr(store.memory_blobs, "head", slow_head)
        report = await store.reconcile(batch_size=2, time_budget=timedelta(minutes=1))
        # The first page (80 s) was finished although it overran; the second was not started.
        assert report.stopped_early
        assert (await store.get_upload(alice, late)).status is UploadStatus.PENDING

    async def test_stale_connections_are_removed(
        self, store: FileStore, alice: Actor, clock: FakeClock
    ) -> None:
        await store.connect(alice, "old")
        clock.advance(timedelta(hours=3))
        await store.connect(alice, "new")
        assert (await store.reconcile()).connections_removed == 1
