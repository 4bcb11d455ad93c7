"""Use cases of uploads, from request to deletion, on the in-memory system."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import timedelta

import pytest

from filestore.adapters.memory import MemoryBlobStore, PresignedRequestRefused
from filestore.app import FileStore
from filestore.domain.commands import Actor
from filestore.domain.errors import Conflict, InvalidInput, NotFound, QuotaExceeded, TooLarge
from filestore.domain.handlers import StoredOutcome
from filestore.domain.model import Upload, UploadStatus
from filestore.domain.ports import CompletedPart
from filestore.domain.rules import MiB, UploadPolicy
from tests.support.clock import FakeClock

DATA = b"hello, world"


async def stored_upload(
    store: FileStore, actor: Actor, name: str = "notes.txt", data: bytes = DATA
) -> Upload:
    ticket = await store.request_upload(actor, name, size=len(data), content_type="text/plain")
    assert ticket.post is not None
    store.memory_blobs.post(ticket.post, data)
    assert await store.record_stored(ticket.upload.object_key) is StoredOutcome.STORED
    return await store.get_upload(actor, ticket.upload.id)


class TestRequest:
    async def test_a_small_file_gets_a_presigned_post_for_exactly_its_key(
        self, store: FileStore, alice: Actor, clock: FakeClock
    ) -> None:
        ticket = await store.request_upload(
            alice, "  Résumé.pdf ", size=10, content_type="Application/PDF"
        )
        upload = ticket.upload
        me = await store.me(alice)
        assert upload.status is UploadStatus.PENDING
        assert upload.name == "Résumé.pdf"
        assert upload.content_type == "application/pdf"
        assert upload.object_key == f"u/{me.id}/{upload.id}"
        assert ticket.multipart is None
        assert ticket.post is not None
        assert ticket.post.fields["key"] == upload.object_key
        assert ticket.post.expires_at <= clock.now() + timedelta(minutes=15)

    async def test_the_user_is_registered_on_first_sight(
        self, store: FileStore, alice: Actor
    ) -> None:
        await store.request_upload(alice, "a.txt", size=1, content_type="text/plain")
        me = await store.me(alice)
        assert (me.sub, me.email, me.used_bytes) == ("alice-sub", "alice@example.com", 1)
        types = [e.type for e in store.memory_publisher.published]
        assert types == ["user.registered", "upload.requested"]

    async def test_someone_not_registered_reads_nothing_and_is_not_registered_by_reading(
        self, store: FileStore, alice: Actor, bob: Actor
    ) -> None:
        upload = await stored_upload(store, alice)
        assert (await store.list_uploads(bob)).items == []
        for read in (store.get_upload, store.download, store.shares):
            with pytest.raises(NotFound):
                await read(bob, upload.id)
        assert [e.type for e in store.memory_publisher.published].count("user.registered") == 1
        me = await store.me(bob)  # their first request that needs them: registered now
        assert (me.sub, me.used_bytes) == ("bob-sub", 0)
        assert me == await store.me(bob)  # the same user, id and all, from now on

    async def test_an_upload_that_does_not_fit_says_how_much_is_free(
        self, store: FileStore, alice: Actor
    ) -> None:
        await store.request_upload(alice, "a.bin", size=60 * MiB, content_type="a/b")
        with pytest.raises(QuotaExceeded, match=f"only {40 * MiB} of your {100 * MiB} bytes"):
            await store.request_upload(alice, "b.bin", size=41 * MiB, content_type="a/b")
        await store.request_upload(alice, "c.bin", size=40 * MiB, content_type="a/b")
        assert (await store.me(alice)).used_bytes == 100 * MiB

    async def test_bad_names_are_refused_before_anything_is_stored(
        self, store: FileStore, alice: Actor
    ) -> None:
        with pytest.raises(InvalidInput, match="must not contain"):
            await store.request_upload(alice, "../../etc/passwd", size=1, content_type="text/plain")
        assert store.memory_publisher.published == []

    async def test_a_size_over_the_limit_is_too_large(self, store: FileStore, alice: Actor) -> None:
        with pytest.raises(TooLarge):
            await store.request_upload(alice, "big.bin", size=1024 * MiB + 1, content_type="a/b")

    async def test_a_disallowed_content_type_is_refused(
        self, clock: FakeClock, alice: Actor
    ) -> None:
        from filestore.domain.rules import UploadPolicy

        store = FileStore.in_memory(
            policy=UploadPolicy(allowed_content_types=frozenset({"image/*"})), clock=clock
        )
        with pytest.raises(InvalidInput, match="not accepted"):
            await store.request_upload(alice, "a.html", size=1, content_type="text/html")
        await store.request_upload(alice, "a.png", size=1, content_type="image/png")

    async def test_a_bad_checksum_declaration_is_refused(
        self, store: FileStore, alice: Actor
    ) -> None:
        with pytest.raises(InvalidInput, match="sha256"):
            await store.request_upload(alice, "a", size=1, content_type="a/b", sha256="xyz")


class TestQuota:
    async def test_pending_bytes_count_until_the_upload_leaves_pending(
        self, store: FileStore, alice: Actor
    ) -> None:
        await store.request_upload(alice, "a", size=15 * MiB, content_type="a/b")
        await store.request_upload(alice, "b", size=15 * MiB, content_type="a/b")
        with pytest.raises(QuotaExceeded, match="free"):
            await store.request_upload(alice, "c", size=71 * MiB, content_type="a/b")
        await store.request_upload(alice, "c", size=70 * MiB, content_type="a/b")  # exactly full
        assert (await store.me(alice)).used_bytes == 100 * MiB

    async def test_quota_is_per_user(self, store: FileStore, alice: Actor, bob: Actor) -> None:
        await store.request_upload(alice, "a", size=100 * MiB, content_type="a/b")
        await store.request_upload(bob, "b", size=100 * MiB, content_type="a/b")

    async def test_trashed_bytes_count_until_deleted_forever(
        self, store: FileStore, alice: Actor
    ) -> None:
        upload = await stored_upload(store, alice)
        assert (await store.me(alice)).used_bytes == len(DATA)
        await store.delete(alice, upload.id)
        assert (await store.me(alice)).used_bytes == len(DATA)
        await store.delete_forever(alice, upload.id)
        assert (await store.me(alice)).used_bytes == 0

    async def test_a_failed_upload_gives_the_bytes_back(
        self, store: FileStore, alice: Actor
    ) -> None:
        ticket = await store.request_upload(alice, "a", size=5, content_type="a/b")
        store.memory_blobs.put_object(ticket.upload.object_key, b"1234")  # 4 bytes, not 5
        assert await store.record_stored(ticket.upload.object_key) is StoredOutcome.FAILED
        assert (await store.me(alice)).used_bytes == 0


class TestRecordStored:
    async def test_the_declared_file_becomes_stored(
        self, store: FileStore, alice: Actor, clock: FakeClock
    ) -> None:
        upload = await stored_upload(store, alice)
        assert upload.status is UploadStatus.STORED
        assert upload.stored_at == clock.now()
        assert store.memory_publisher.published[-1].type == "upload.stored"

    async def test_a_repeat_is_acknowledged_and_changes_nothing(
        self, store: FileStore, alice: Actor
    ) -> None:
        upload = await stored_upload(store, alice)
        published = len(store.memory_publisher.published)
        assert await store.record_stored(upload.object_key) is StoredOutcome.DUPLICATE
        assert len(store.memory_publisher.published) == published

    async def test_a_size_mismatch_fails_the_upload_and_deletes_the_object(
        self, store: FileStore, alice: Actor
    ) -> None:
        ticket = await store.request_upload(alice, "a", size=5, content_type="a/b")
        key = ticket.upload.object_key
        store.memory_blobs.put_object(key, b"123456")
        assert await store.record_stored(key) is StoredOutcome.FAILED
        assert await store.services.blobs.head(key) is None
        upload = await store.get_upload(alice, ticket.upload.id)
        assert upload.status is UploadStatus.FAILED
        failed = store.memory_publisher.published[-1]
        assert failed.type == "upload.failed"
        assert "6 bytes but 5 were declared" in failed.reason  # type: ignore[attr-defined]

    async def test_a_checksum_mismatch_fails_the_upload(
        self, store: FileStore, alice: Actor
    ) -> None:
        declared = hashlib.sha256(b"hello").hexdigest()
        ticket = await store.request_upload(alice, "a", size=5, content_type="a/b", sha256=declared)
        assert ticket.post is not None
        with pytest.raises(PresignedRequestRefused):  # storage checks it first...
            store.memory_blobs.post(ticket.post, b"HELLO")
        store.memory_blobs.put_object(ticket.upload.object_key, b"HELLO")  # ...and so do we
        assert await store.record_stored(ticket.upload.object_key) is StoredOutcome.FAILED

    async def test_an_object_nobody_asked_for_is_deleted(self, store: FileStore) -> None:
        store.memory_blobs.put_object("u/someone/something", b"x")
        assert await store.record_stored("u/someone/something") is StoredOutcome.ORPHAN
        assert await store.services.blobs.head("u/someone/something") is None

    async def test_an_object_for_a_deleted_upload_is_deleted(
        self, store: FileStore, alice: Actor
    ) -> None:
        ticket = await store.request_upload(alice, "a", size=1, content_type="a/b")
        await store.delete(alice, ticket.upload.id)
        store.memory_blobs.put_object(ticket.upload.object_key, b"x")  # arrives late
        assert await store.record_stored(ticket.upload.object_key) is StoredOutcome.REJECTED
        assert await store.services.blobs.head(ticket.upload.object_key) is None

    async def test_a_vanished_object_changes_nothing(self, store: FileStore, alice: Actor) -> None:
        ticket = await store.request_upload(alice, "a", size=1, content_type="a/b")
        assert await store.record_stored(ticket.upload.object_key) is StoredOutcome.MISSING
        assert (await store.get_upload(alice, ticket.upload.id)).status is UploadStatus.PENDING


class TestOwnership:
    async def test_another_users_upload_is_not_found_everywhere(
        self, store: FileStore, alice: Actor, bob: Actor
    ) -> None:
        upload = await stored_upload(store, alice)
        attempts = [
            store.get_upload(bob, upload.id),
            store.download(bob, upload.id),
            store.rename(bob, upload.id, "mine.txt"),
            store.delete(bob, upload.id),
            store.share(bob, upload.id, expires_in=60),
            store.shares(bob, upload.id),
            store.sign_parts(bob, upload.id, [1]),
            store.list_parts(bob, upload.id),
        ]
        for attempt in attempts:
            with pytest.raises(NotFound, match="No such upload"):
                await attempt
        assert (await store.get_upload(alice, upload.id)).name == "notes.txt"

    @pytest.mark.parametrize(
        "upload_id", ["nope", "1 OR 1=1", "", "01890000-0000-7000-8000-00000000000Z"]
    )
    async def test_malformed_ids_are_not_found(
        self, store: FileStore, alice: Actor, upload_id: str
    ) -> None:
        with pytest.raises(NotFound):
            await store.get_upload(alice, upload_id)
        with pytest.raises(NotFound):
            await store.delete(alice, upload_id)

    async def test_absent_ids_are_not_found(self, store: FileStore, alice: Actor) -> None:
        with pytest.raises(NotFound):
            await store.get_upload(alice, "01890000-0000-7000-8000-000000000000")


class TestLifecycle:
    async def test_no_download_of_a_pending_upload(self, store: FileStore, alice: Actor) -> None:
        ticket = await store.request_upload(alice, "a", size=1, content_type="a/b")
        with pytest.raises(Conflict, match="pending"):
            await store.download(alice, ticket.upload.id)

    async def test_download_link_serves_the_bytes_under_the_name(
        self, store: FileStore, alice: Actor, clock: FakeClock
    ) -> None:
        upload = await stored_upload(store, alice, name="résumé.txt")
        link = await store.download(alice, upload.id)
        body, headers = store.memory_blobs.get(link.url)
        assert body == DATA
        assert "filename*=UTF-8''r%C3%A9sum%C3%A9.txt" in headers["Content-Disposition"]
        assert link.expires_at <= clock.now() + timedelta(minutes=15)

    async def test_rename_changes_metadata_only(self, store: FileStore, alice: Actor) -> None:
        upload = await stored_upload(store, alice)
        renamed = await store.rename(alice, upload.id, "  new name.txt ")
        assert renamed.name == "new name.txt"
        assert renamed.object_key == upload.object_key
        event = store.memory_publisher.published[-1]
        assert event.type == "upload.renamed"
        assert event.old_name == "notes.txt"  # type: ignore[attr-defined]
        with pytest.raises(InvalidInput):
            await store.rename(alice, upload.id, "a/b")

    async def test_renaming_to_the_same_name_emits_nothing(
        self, store: FileStore, alice: Actor
    ) -> None:
        upload = await stored_upload(store, alice)
        before = len(store.memory_publisher.published)
        await store.rename(alice, upload.id, upload.name)
        assert len(store.memory_publisher.published) == before

    async def test_the_owner_deletes_twice_and_both_succeed(
        self, store: FileStore, alice: Actor
    ) -> None:
        upload = await stored_upload(store, alice)
        await store.delete(alice, upload.id)
        await store.delete(alice, upload.id)
        published = store.memory_publisher.published
        assert len([e for e in published if e.type == "upload.trashed"]) == 1
        # In the trash, the object stays (a restore brings the file back).
        assert await store.services.blobs.head(upload.object_key) is not None
        with pytest.raises(NotFound):
            await store.get_upload(alice, upload.id)
        await store.delete_forever(alice, upload.id)
        await store.delete(alice, upload.id)
        assert len([e for e in published if e.type == "upload.deleted"]) == 1
        assert await store.services.blobs.head(upload.object_key) is None

    async def test_every_visible_change_advances_updated_at_and_its_event_carries_it(
        self, store: FileStore, alice: Actor, clock: FakeClock
    ) -> None:
        ticket = await store.request_upload(alice, "a.txt", size=len(DATA), content_type="a/b")
        assert ticket.upload.updated_at == ticket.upload.created_at == clock.now()
        folder = await store.create_folder(alice, "Docs")
        clock.advance(timedelta(seconds=1))
        assert ticket.post is not None
        store.memory_blobs.post(ticket.post, DATA)
        await store.record_stored(ticket.upload.object_key)
        seen = [(await store.get_upload(alice, ticket.upload.id)).updated_at]
        assert seen == [clock.now()]
        # The clock stands still (or goes back): each change is still strictly later.
        seen.append((await store.rename(alice, ticket.upload.id, "b.txt")).updated_at)
        seen.append((await store.move(alice, ticket.upload.id, folder.id)).updated_at)
        clock.advance(timedelta(seconds=-5))
        seen.append((await store.rename(alice, ticket.upload.id, "c.txt")).updated_at)
        await store.delete(alice, ticket.upload.id)
        await store.restore(alice, ticket.upload.id)
        seen.append((await store.get_upload(alice, ticket.upload.id)).updated_at)
        assert seen == sorted(set(seen)) and len(seen) == 5
        await store.delete(alice, ticket.upload.id)
        await store.delete_forever(alice, ticket.upload.id)
        about = [
            e.upload.updated_at  # type: ignore[attr-defined]
            for e in store.memory_publisher.published
            if getattr(e, "upload", None) is not None
        ]
        # requested, stored, renamed, moved, renamed, trashed, restored, trashed, deleted
        assert len(about) == 9
        assert about[0] == ticket.upload.created_at
        assert about[1:5] == seen[:4] and about[6] == seen[4]
        assert about == sorted(set(about))

    async def test_a_deleted_upload_cannot_be_renamed(self, store: FileStore, alice: Actor) -> None:
        upload = await stored_upload(store, alice)
        await store.delete(alice, upload.id)
        with pytest.raises(NotFound):
            await store.rename(alice, upload.id, "x")


class TestMultipart:
    SIZE = 20 * MiB + 3 * MiB  # over the 20 MiB threshold: three 8 MiB parts (the last 7 MiB)

    async def _upload_parts(
        self, store: FileStore, actor: Actor, data: bytes
    ) -> tuple[Upload, list[CompletedPart]]:
        ticket = await store.request_upload(
            actor, "big.bin", size=len(data), content_type="application/octet-stream"
        )
        assert ticket.post is None
        assert ticket.multipart is not None
        plan = ticket.multipart
        urls = await store.sign_parts(actor, ticket.upload.id, list(range(1, plan.part_count + 1)))
        parts = []
        for part in urls:
            start = (part.part_number - 1) * plan.part_size
            etag = store.memory_blobs.put_part(part.url, data[start : start + plan.part_size])
            parts.append(CompletedPart(part.part_number, etag))
        return ticket.upload, parts

    async def test_parts_are_signed_listed_and_completed(
        self, store: FileStore, alice: Actor
    ) -> None:
        data = bytes(range(256)) * (self.SIZE // 256)
        upload, parts = await self._upload_parts(store, alice, data)
        arrived = await store.list_parts(alice, upload.id)
        assert [p.part_number for p in arrived] == [1, 2, 3]
        assert [p.size for p in arrived] == [8 * MiB, 8 * MiB, 7 * MiB]
        done = await store.complete_upload(alice, upload.id, parts)
        assert done.status is UploadStatus.STORED
        link = await store.download(alice, upload.id)
        assert store.memory_blobs.get(link.url)[0] == data
        # A client that lost the answer completes again: the same answer, nothing happens.
        events = len(store.memory_publisher.published)
        again = await store.complete_upload(alice, upload.id, parts)
        assert (again.id, again.status, again.stored_at) == (done.id, done.status, done.stored_at)
        assert len(store.memory_publisher.published) == events
        with pytest.raises(InvalidInput, match="every part"):  # still a well-formed request
            await store.complete_upload(alice, upload.id, parts[:2])

    async def test_completion_needs_every_part_in_order(
        self, store: FileStore, alice: Actor
    ) -> None:
        upload, parts = await self._upload_parts(store, alice, b"x" * self.SIZE)
        with pytest.raises(InvalidInput, match="every part from 1 to 3"):
            await store.complete_upload(alice, upload.id, parts[:2])
        with pytest.raises(InvalidInput, match="every part"):
            await store.complete_upload(alice, upload.id, list(reversed(parts)))

    async def test_a_wrong_etag_is_invalid_input(self, store: FileStore, alice: Actor) -> None:
        upload, parts = await self._upload_parts(store, alice, b"x" * self.SIZE)
        parts[1] = CompletedPart(2, '"00000000000000000000000000000000"')
        with pytest.raises(InvalidInput, match="Part 2"):
            await store.complete_upload(alice, upload.id, parts)

    async def test_a_failed_upload_cannot_be_renamed_or_completed(
        self, store: FileStore, alice: Actor
    ) -> None:
        # Every part has arrived, but an object of the wrong size at its key failed the upload.
        upload, parts = await self._upload_parts(store, alice, b"x" * self.SIZE)
        store.memory_blobs.put_object(upload.object_key, b"1")
        assert await store.record_stored(upload.object_key) is StoredOutcome.FAILED
        with pytest.raises(Conflict, match="failed"):
            await store.rename(alice, upload.id, "b")
        with pytest.raises(Conflict, match="failed"):
            await store.complete_upload(alice, upload.id, parts)
        assert (await store.get_upload(alice, upload.id)).status is UploadStatus.FAILED
        assert await store.services.blobs.head(upload.object_key) is None  # nothing assembled

    @pytest.mark.parametrize("numbers", [[], [0], [4], [1, 1], list(range(1, 1002))])
    async def test_bad_part_numbers_are_refused(
        self, store: FileStore, alice: Actor, numbers: list[int]
    ) -> None:
        ticket = await store.request_upload(alice, "big", size=self.SIZE, content_type="a/b")
        with pytest.raises(InvalidInput):
            await store.sign_parts(alice, ticket.upload.id, numbers)

    async def test_a_single_request_upload_has_no_parts(
        self, store: FileStore, alice: Actor
    ) -> None:
        ticket = await store.request_upload(alice, "small", size=1, content_type="a/b")
        with pytest.raises(InvalidInput, match="not a multipart upload"):
            await store.sign_parts(alice, ticket.upload.id, [1])

    async def test_deleting_a_pending_multipart_upload_aborts_it(
        self, store: FileStore, alice: Actor
    ) -> None:
        upload, _ = await self._upload_parts(store, alice, b"x" * self.SIZE)
        await store.delete(alice, upload.id)
        assert upload.multipart_id is not None
        assert await store.services.blobs.list_parts(upload.object_key, upload.multipart_id) == []
        assert (await store.me(alice)).used_bytes == 0


class TestListing:
    async def test_pages_newest_first_with_a_cursor(
        self, store: FileStore, alice: Actor, bob: Actor, clock: FakeClock
    ) -> None:
        names = []
        for i in range(7):
            names.append((await stored_upload(store, alice, name=f"f{i}")).name)
            clock.advance(timedelta(microseconds=1 if i % 2 else 0))  # some share a timestamp
        await stored_upload(store, bob, name="bob's")
        await store.request_upload(alice, "pending", size=1, content_type="a/b")
        seen, cursor = [], None
        while True:
            page = await store.list_uploads(alice, limit=3, cursor=cursor)
            seen.extend(u.name for u in page.items)
            cursor = page.next_cursor
            if cursor is None:
                break
        assert seen == list(reversed(names))

    async def test_an_exactly_full_last_page_has_no_next_cursor(
        self, store: FileStore, alice: Actor
    ) -> None:
        for i in range(2):
            await stored_upload(store, alice, name=f"f{i}")
        page = await store.list_uploads(alice, limit=2)
        assert len(page.items) == 2
        assert page.next_cursor is None

    @pytest.mark.parametrize("limit", [0, 101, -1])
    async def test_limit_is_between_1_and_100(
        self, store: FileStore, alice: Actor, limit: int
    ) -> None:
        with pytest.raises(InvalidInput, match="between 1 and 100"):
            await store.list_uploads(alice, limit=limit)

    @pytest.mark.parametrize("cursor", ["garbage", "eyJ0IjogMX0", "e30", "!!!"])
    async def test_a_forged_cursor_is_invalid_input(
        self, store: FileStore, alice: Actor, cursor: str
    ) -> None:
        with pytest.raises(InvalidInput, match="cursor"):
            await store.list_uploads(alice, cursor=cursor)


class _EventDuringCompletion(MemoryBlobStore):
    """A blob store whose ObjectCreated event is handled the moment a multipart upload is
    assembled, before the completing request commits: the race S3 events can win."""

    store: FileStore | None = None

    async def complete_multipart(
        self, key: str, multipart_id: str, parts: Sequence[CompletedPart]
    ) -> None:
        await super().complete_multipart(key, multipart_id, parts)
        assert self.store is not None
        assert await self.store.record_stored(key) is StoredOutcome.STORED


async def test_completion_that_loses_the_race_to_its_own_event_still_succeeds(
    clock: FakeClock, policy: UploadPolicy, alice: Actor
) -> None:
    blobs = _EventDuringCompletion(clock)
    store = FileStore.in_memory(policy=policy, clock=clock, blobs=blobs)
    blobs.store = store
    data = b"y" * (policy.multipart_threshold + 1)
    ticket = await store.request_upload(alice, "big.bin", size=len(data), content_type="a/b")
    assert ticket.multipart is not None
    parts = []
    for part in await store.sign_parts(alice, ticket.upload.id, [1, 2, 3]):
        start = (part.part_number - 1) * ticket.multipart.part_size
        chunk = data[start : start + ticket.multipart.part_size]
        parts.append(CompletedPart(part.part_number, blobs.put_part(part.url, chunk)))
    done = await store.complete_upload(alice, ticket.upload.id, parts)
    assert done.status is UploadStatus.STORED
    stored_events = [e for e in store.memory_publisher.published if e.type == "upload.stored"]
    assert len(stored_events) == 1
