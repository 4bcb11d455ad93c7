"""The persistence contract: every unit of work and repository adapter passes these."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest

from filestore.domain import events
from filestore.domain.errors import AlreadyExists, ConcurrencyConflict
from filestore.domain.model import Connection, EmailStatus, Upload, UploadStatus, User
from filestore.domain.ports import FileQuery, ListPosition, UnitOfWorkFactory
from tests.factories import T0, make_share, make_upload, make_user


async def test_added_user_is_readable_by_id_and_sub_after_commit(
    uow_factory: UnitOfWorkFactory,
) -> None:
    user = make_user(notify_email=True, used_bytes=42)
    async with uow_factory() as uow:
        await uow.users.add(user)
        await uow.commit()
    async with uow_factory() as uow:
        by_id = await uow.users.get(user.id)
        by_sub = await uow.users.get_by_sub(user.sub)
    assert by_id is not None and by_sub is not None
    for loaded in (by_id, by_sub):
        assert (loaded.id, loaded.sub, loaded.email) == (user.id, user.sub, user.email)
        assert (loaded.notify_email, loaded.used_bytes, loaded.quota_bytes) == (
            True,
            42,
            user.quota_bytes,
        )
        assert loaded.created_at == user.created_at
        assert loaded.email_status is EmailStatus.OK
        assert loaded.version == 1


@pytest.mark.parametrize("status", list(EmailStatus))
async def test_the_email_status_is_kept_on_add_and_update(
    uow_factory: UnitOfWorkFactory, status: EmailStatus
) -> None:
    user = make_user(email_status=status)
    async with uow_factory() as uow:
        await uow.users.add(user)
        await uow.commit()
    async with uow_factory() as uow:
        loaded = await uow.users.get_by_sub(user.sub)
        assert loaded is not None and loaded.email_status is status
        loaded.email_status = (
            EmailStatus.OK if status is not EmailStatus.OK else EmailStatus.BOUNCED
        )
        await uow.users.update(loaded)
        await uow.commit()
    async with uow_factory() as uow:
        again = await uow.users.get(user.id)
    assert again is not None and again.email_status is loaded.email_status
    assert again.version == 2


async def test_users_are_found_by_address_ignoring_case(uow_factory: UnitOfWorkFactory) -> None:
    alice = make_user(email="Alice.Smith@Example.COM")
    previous = make_user(email="alice.smith@example.com")  # the same mailbox, written otherwise
    bob = make_user(email="bob@example.com")
    async with uow_factory() as uow:
        for user in (alice, previous, bob):
            await uow.users.add(user)
        # Rows of this transaction are found too (not committed yet).
        found = await uow.users.list_by_email("ALICE.SMITH@example.com")
        assert {u.id for u in found} == {alice.id, previous.id}
        await uow.commit()
    async with uow_factory() as uow:
        found = await uow.users.list_by_email("alice.smith@EXAMPLE.com")
        assert {u.id for u in found} == {alice.id, previous.id}
        assert {u.email for u in found} == {"Alice.Smith@Example.COM", "alice.smith@example.com"}
        assert all(u.version == 1 and u.email_status is EmailStatus.OK for u in found)
        assert [u.id for u in await uow.users.list_by_email("bob@example.com")] == [bob.id]
        assert await uow.users.list_by_email("carol@example.com") == []
        assert await uow.users.list_by_email("alice.smith@example.co") == []
        assert await uow.users.list_by_email("") == []
        # A changed address is found under the new one only.
        moved = await uow.users.get(bob.id)
        assert moved is not None and moved.change_email("Robert@Example.org")
        await uow.users.update(moved)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.users.list_by_email("bob@example.com") == []
        [robert] = await uow.users.list_by_email("robert@example.org")
        assert (robert.id, robert.email, robert.version) == (bob.id, "Robert@Example.org", 2)


async def test_a_long_address_is_stored_and_found(uow_factory: UnitOfWorkFactory) -> None:
    # Longer than the 255 characters an index on the address may cover.
    address = "a" * 64 + "@" + ".".join(["b" * 63] * 4) + ".example.com"
    user = make_user(email=address.upper())
    async with uow_factory() as uow:
        await uow.users.add(user)
        await uow.commit()
    async with uow_factory() as uow:
        [found] = await uow.users.list_by_email(address)
    assert found.id == user.id and found.email == address.upper()


async def test_absent_rows_are_none(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        assert await uow.users.get("01890000-0000-7000-8000-000000000000") is None
        assert await uow.users.get_by_sub("nobody") is None
        assert await uow.uploads.get("01890000-0000-7000-8000-000000000000") is None
        assert await uow.uploads.get_by_object_key("u/x/y") is None
        assert await uow.shares.get("no-such-token-000000") is None


async def test_leaving_without_commit_rolls_back(uow_factory: UnitOfWorkFactory) -> None:
    user = make_user()
    async with uow_factory() as uow:
        await uow.users.add(user)
        await uow.uploads.add(make_upload(user))
    async with uow_factory() as uow:
        assert await uow.users.get(user.id) is None


async def test_an_error_rolls_back_everything_written_before_it(
    uow_factory: UnitOfWorkFactory,
) -> None:
    user = make_user()
    upload = make_upload(user)
    with pytest.raises(RuntimeError):
        async with uow_factory() as uow:
            await uow.users.add(user)
            await uow.uploads.add(upload)
            raise RuntimeError("boom")
    async with uow_factory() as uow:
        assert await uow.users.get(user.id) is None
        assert await uow.uploads.get(upload.id) is None
        assert await uow.outbox.pending(10) == []


async def test_duplicate_sub_is_already_exists(uow_factory: UnitOfWorkFactory) -> None:
    first = make_user(sub="same-sub")
    async with uow_factory() as uow:
        await uow.users.add(first)
        await uow.commit()
    with pytest.raises(AlreadyExists):
        async with uow_factory() as uow:
            await uow.users.add(make_user(sub="same-sub"))
            await uow.commit()


async def test_duplicate_object_key_is_already_exists(uow_factory: UnitOfWorkFactory) -> None:
    user, upload = await _a_saved_upload(uow_factory)
    with pytest.raises(AlreadyExists):
        async with uow_factory() as uow:
            await uow.uploads.add(make_upload(user, object_key=upload.object_key))
            await uow.commit()


async def test_upload_round_trips_every_field(uow_factory: UnitOfWorkFactory) -> None:
    user = make_user()
    upload = make_upload(
        user,
        name="Ünïcödé 名前 😀.txt",
        size=5 * 1024**4,
        content_type="text/plain; charset=utf-8",
        sha256="ab" * 32,
        multipart_id="mp-1",
        part_size=8 * 1024**2,
    )
    async with uow_factory() as uow:
        await uow.users.add(user)
        await uow.uploads.add(upload)
        await uow.commit()
    async with uow_factory() as uow:
        loaded = await uow.uploads.get(upload.id)
        by_key = await uow.uploads.get_by_object_key(upload.object_key)
    assert loaded is not None and by_key is not None
    expected = dataclasses.replace(upload, version=1)
    for got in (loaded, by_key):
        assert {
            f.name: getattr(got, f.name) for f in dataclasses.fields(got) if f.name != "events"
        } == {
            f.name: getattr(expected, f.name)
            for f in dataclasses.fields(expected)
            if f.name != "events"
        }


async def test_names_at_255_characters_are_kept_whole(uow_factory: UnitOfWorkFactory) -> None:
    user = make_user()
    name = ("é" * 127) + ("😀" * 128)
    assert len(name) == 255
    upload = make_upload(user, name=name)
    async with uow_factory() as uow:
        await uow.users.add(user)
        await uow.uploads.add(upload)
        await uow.commit()
    async with uow_factory() as uow:
        loaded = await uow.uploads.get(upload.id)
    assert loaded is not None and loaded.name == name


async def test_update_saves_and_bumps_the_version(uow_factory: UnitOfWorkFactory) -> None:
    _user, upload = await _a_saved_upload(uow_factory)
    async with uow_factory() as uow:
        loaded = await uow.uploads.get(upload.id)
        assert loaded is not None
        loaded.mark_stored(T0 + timedelta(seconds=1))
        await uow.uploads.update(loaded)
        assert loaded.version == 2
        await uow.commit()
    async with uow_factory() as uow:
        again = await uow.uploads.get(upload.id)
    assert again is not None
    assert again.status is UploadStatus.STORED
    assert again.stored_at == T0 + timedelta(seconds=1)
    assert again.version == 2


async def test_updated_at_is_kept_and_advances_with_each_change(
    uow_factory: UnitOfWorkFactory,
) -> None:
    user, upload = await _a_saved_upload(uow_factory)
    assert (await _reload(uow_factory, upload)).updated_at == T0
    stored_at = T0 + timedelta(seconds=1)
    async with uow_factory() as uow:
        loaded = await uow.uploads.get(upload.id)
        assert loaded is not None
        loaded.mark_stored(stored_at)
        await uow.uploads.update(loaded)
        await uow.commit()
    assert (await _reload(uow_factory, upload)).updated_at == stored_at
    # A rename saved where the rules allow (`place`), at a clock that went back: still later.
    async with uow_factory() as uow:
        loaded = await uow.uploads.get(upload.id)
        assert loaded is not None
        loaded.rename("renamed.pdf", T0)
        assert await uow.uploads.place(loaded)
        await uow.commit()
    renamed = await _reload(uow_factory, upload)
    assert renamed.name == "renamed.pdf"
    assert renamed.updated_at == stored_at + timedelta(microseconds=1)
    async with uow_factory() as uow:
        (listed,) = await uow.uploads.list_files_for_sub(user.sub, FileQuery(), 10) or []
        deleted_at = T0 + timedelta(minutes=5)
        assert listed.updated_at == renamed.updated_at
        listed.delete(deleted_at)
        await uow.uploads.update(listed)
        await uow.commit()
    assert (await _reload(uow_factory, upload)).updated_at == deleted_at


async def _a_saved_upload(uow_factory: UnitOfWorkFactory) -> tuple[User, Upload]:
    """A new user and their pending upload, committed."""
    user = make_user()
    upload = make_upload(user)
    async with uow_factory() as uow:
        await uow.users.add(user)
        await uow.uploads.add(upload)
        await uow.commit()
    return user, upload


async def _reload(uow_factory: UnitOfWorkFactory, upload: Upload) -> Upload:
    async with uow_factory() as uow:
        found = await uow.uploads.get(upload.id)
    assert found is not None
    return found


async def test_stale_update_is_a_concurrency_conflict(uow_factory: UnitOfWorkFactory) -> None:
    user = make_user()
    async with uow_factory() as uow:
        await uow.users.add(user)
        await uow.commit()
    async with uow_factory() as first, uow_factory() as second:
        a = await first.users.get(user.id)
        b = await second.users.get(user.id)
        assert a is not None and b is not None
        a.used_bytes = 1
        await first.users.update(a)
        await first.commit()
        b.used_bytes = 2
        with pytest.raises(ConcurrencyConflict):
            await second.users.update(b)
            await second.commit()
    async with uow_factory() as uow:
        final = await uow.users.get(user.id)
    assert final is not None and final.used_bytes == 1


async def test_concurrent_completion_of_one_upload_has_exactly_one_winner(
    uow_factory: UnitOfWorkFactory,
) -> None:
    _user, upload = await _a_saved_upload(uow_factory)

    everyone_has_read = asyncio.Barrier(4)

    async def complete() -> bool:
        try:
            async with uow_factory() as uow:
                loaded = await uow.uploads.get(upload.id)
                assert loaded is not None
                await everyone_has_read.wait()  # all have read before any writes
                loaded.mark_stored(T0 + timedelta(seconds=1))
                await uow.uploads.update(loaded)
                await uow.commit()
            return True
        except ConcurrencyConflict:
            return False

    results = await asyncio.gather(*(complete() for _ in range(4)))
    assert sorted(results) == [False, False, False, True]
    async with uow_factory() as uow:
        pending = await uow.outbox.pending(100)
    stored = [e for e in pending if isinstance(e.event, events.UploadStored)]
    assert len(stored) == 1


async def test_commit_writes_the_aggregates_events_to_the_outbox_in_order(
    uow_factory: UnitOfWorkFactory,
) -> None:
    user = make_user()
    upload = make_upload(user)
    upload.requested(T0)
    async with uow_factory() as uow:
        await uow.users.add(user)
        await uow.uploads.add(upload)
        upload.mark_stored(T0 + timedelta(seconds=1))
        await uow.uploads.update(upload)
        await uow.commit()
        committed = list(uow.committed_events)
    assert [e.type for e in committed] == ["upload.requested", "upload.stored"]
    async with uow_factory() as uow:
        pending = await uow.outbox.pending(10)
    assert [entry.event for entry in pending] == committed
    assert pending[0].position < pending[1].position
    assert upload.events == []


async def test_events_of_a_rolled_back_unit_of_work_never_reach_the_outbox(
    uow_factory: UnitOfWorkFactory,
) -> None:
    user = make_user()
    upload = make_upload(user)
    upload.requested(T0)
    async with uow_factory() as uow:
        await uow.users.add(user)
        await uow.uploads.add(upload)
        assert uow.committed_events == []
    async with uow_factory() as uow:
        assert await uow.outbox.pending(10) == []


async def test_outbox_events_round_trip_and_mark_published(uow_factory: UnitOfWorkFactory) -> None:
    user = make_user()
    upload = make_upload(user, name="naïve.txt")
    upload.requested(T0)
    upload.mark_stored(T0 + timedelta(microseconds=7))
    async with uow_factory() as uow:
        await uow.users.add(user)
        await uow.uploads.add(upload)
        await uow.commit()
        committed = list(uow.committed_events)
    async with uow_factory() as uow:
        pending = await uow.outbox.pending(1)
        assert [entry.event for entry in pending] == committed[:1]
        await uow.outbox.mark_published([committed[0].id], T0)
        await uow.commit()
    async with uow_factory() as uow:
        rest = await uow.outbox.pending(10)
    assert [entry.event for entry in rest] == committed[1:]
    assert rest[0].event.envelope() == committed[1].envelope()


async def pages_of(
    fetch: Callable[[ListPosition | None], Awaitable[list[Upload]]], most: int = 10
) -> list[list[str]]:
    """The ids of every page `fetch` gives, each page read after the last one's position, until
    an empty page (so a page that is merely short does not hide one that ignored the limit).
    Stops after `most` pages: a listing that ignores `after` must fail, not loop."""
    pages: list[list[str]] = []
    after = None
    for _ in range(most):
        page = await fetch(after)
        if not page:
            return pages
        pages.append([u.id for u in page])
        after = ListPosition(page[-1].created_at, page[-1].id)
    return pages


async def test_listing_is_newest_first_stored_only_own_only_with_keyset(
    uow_factory: UnitOfWorkFactory,
) -> None:
    alice, bob = make_user(), make_user()
    stored = []
    async with uow_factory() as uow:
        await uow.users.add(alice)
        await uow.users.add(bob)
        for i in range(7):
            # two uploads share each timestamp: the id breaks the tie
            upload = make_upload(
                alice, name=f"file {i}.txt", created_at=T0 + timedelta(microseconds=i // 2)
            )
            upload.status = UploadStatus.STORED  # stored names are unique within a folder
            await uow.uploads.add(upload)
            stored.append(upload)
        await uow.uploads.add(make_upload(alice))  # pending: not listed
        other = make_upload(bob, created_at=T0 + timedelta(days=1))
        other.status = UploadStatus.STORED
        await uow.uploads.add(other)
        await uow.commit()
    expected = sorted(stored, key=lambda u: (u.created_at, u.id), reverse=True)
    async with uow_factory() as uow:
        pages = await pages_of(lambda after: uow.uploads.list_stored_for_sub(alice.sub, 3, after))
    ids = [u.id for u in expected]
    # Exactly `limit` per page until the last: each upload once, in order, none left out.
    assert pages == [ids[0:3], ids[3:6], ids[6:7]]


async def test_list_pending_is_oldest_first_before_a_time(uow_factory: UnitOfWorkFactory) -> None:
    user = make_user()
    old = make_upload(user, created_at=T0)
    older = make_upload(user, created_at=T0 - timedelta(hours=1))
    new = make_upload(user, created_at=T0 + timedelta(hours=1))
    done = make_upload(user, created_at=T0 - timedelta(hours=2), status=UploadStatus.STORED)
    async with uow_factory() as uow:
        await uow.users.add(user)
        for upload in (old, older, new, done):
            await uow.uploads.add(upload)
        await uow.commit()
    async with uow_factory() as uow:
        pending = await uow.uploads.list_pending(T0 + timedelta(minutes=1), 10)
        first = await uow.uploads.list_pending(T0 + timedelta(minutes=1), 1)
    assert [u.id for u in pending] == [older.id, old.id]
    assert [u.id for u in first] == [older.id]


async def test_list_pending_pages_oldest_first_with_ties_broken_by_id(
    uow_factory: UnitOfWorkFactory,
) -> None:
    user = make_user()
    # Two uploads share each timestamp: the id breaks the tie, and a page boundary falls inside
    # a pair. Written newest first, so neither insertion order nor a row number gives the order.
    pending = [make_upload(user, created_at=T0 + timedelta(microseconds=i // 2)) for i in range(7)]
    stored = make_upload(user, created_at=T0, status=UploadStatus.STORED)
    young = make_upload(user, created_at=T0 + timedelta(hours=1))
    async with uow_factory() as uow:
        await uow.users.add(user)
        for upload in [*reversed(pending), stored, young]:
            await uow.uploads.add(upload)
        await uow.commit()
    expected = sorted(pending, key=lambda u: (u.created_at, u.id))
    async with uow_factory() as uow:
        pages = await pages_of(
            lambda after: uow.uploads.list_pending(T0 + timedelta(minutes=1), 3, after)
        )
    ids = [u.id for u in expected]
    assert pages == [ids[0:3], ids[3:6], ids[6:7]]


async def test_shares_live_listing_and_revocation(uow_factory: UnitOfWorkFactory) -> None:
    user = make_user()
    upload = make_upload(user)
    soon = make_share(upload, expires_at=T0 + timedelta(minutes=5))
    later = make_share(upload, expires_at=T0 + timedelta(days=1))
    gone = make_share(upload, expires_at=T0 - timedelta(seconds=1))
    async with uow_factory() as uow:
        await uow.users.add(user)
        await uow.uploads.add(upload)
        for share in (later, soon, gone):
            await uow.shares.add(share)
        await uow.commit()
    async with uow_factory() as uow:
        live = await uow.shares.list_live_for_sub(upload.id, user.sub, T0)
        assert live is not None and [s.token for s in live] == [soon.token, later.token]
        loaded = await uow.shares.get(later.token)
        assert loaded is not None and loaded.expires_at == later.expires_at
        loaded.revoke(T0)
        await uow.shares.update(loaded)
        await uow.commit()
    async with uow_factory() as uow:
        live = await uow.shares.list_live_for_sub(upload.id, user.sub, T0)
        revoked = await uow.shares.get(later.token)
    assert live is not None and [s.token for s in live] == [soon.token]
    assert revoked is not None and revoked.revoked_at == T0


async def test_connections_add_list_remove_and_expire(uow_factory: UnitOfWorkFactory) -> None:
    alice, bob = make_user(), make_user()
    async with uow_factory() as uow:
        await uow.users.add(alice)
        await uow.users.add(bob)
        await uow.connections.add(Connection("c1", alice.id, T0))
        await uow.connections.add(Connection("c2", alice.id, T0 + timedelta(hours=3)))
        await uow.connections.add(Connection("c3", bob.id, T0))
        await uow.commit()
    async with uow_factory() as uow:
        assert [c.id for c in await uow.connections.list_for_user(alice.id)] == ["c1", "c2"]
        await uow.connections.remove("c3")
        await uow.connections.remove("never-there")
        removed = await uow.connections.remove_connected_before(T0 + timedelta(hours=1))
        await uow.commit()
    assert removed == 1
    async with uow_factory() as uow:
        assert [c.id for c in await uow.connections.list_for_user(alice.id)] == ["c2"]
        assert await uow.connections.list_for_user(bob.id) == []


async def test_processed_events_are_recorded_once(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        assert await uow.processed.add("email", "event-1", T0) is True
        assert await uow.processed.contains("email", "event-1")
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.processed.add("email", "event-1", T0) is False
        assert await uow.processed.add("realtime", "event-1", T0) is True
        assert not await uow.processed.contains("email", "event-2")


async def test_a_record_without_an_answer_is_kept_once_even_when_made_twice_at_once(
    uow_factory: UnitOfWorkFactory,
) -> None:
    """What a consumer writes after its side effect: a second record, even a concurrent one,
    must not fail (the consumer would be run again, and send again)."""
    async with uow_factory() as first, uow_factory() as second:
        await first.processed.record("email", "event-1", T0)
        await second.processed.record("email", "event-1", T0)
        await first.commit()
        await second.commit()
    async with uow_factory() as uow:
        await uow.processed.record("email", "event-1", T0)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.processed.contains("email", "event-1")
        assert await uow.processed.add("email", "event-1", T0) is False


async def test_reads_are_copies_so_changing_one_saves_nothing(
    uow_factory: UnitOfWorkFactory,
) -> None:
    user, upload = await _a_saved_upload(uow_factory)
    user.used_bytes = 999  # the object that was added is not the stored row either
    async with uow_factory() as uow:
        loaded = await uow.uploads.get(upload.id)
        assert loaded is not None
        loaded.name = "changed.txt"
        loaded.mark_stored(T0)
        again = await uow.uploads.get(upload.id)
        await uow.commit()
    assert again is not None
    assert (again.name, again.status, again.events) == ("report.pdf", UploadStatus.PENDING, [])
    async with uow_factory() as uow:
        final = await uow.uploads.get(upload.id)
        stored_user = await uow.users.get(user.id)
        assert await uow.outbox.pending(10) == []
    assert final is not None and final.status is UploadStatus.PENDING
    assert stored_user is not None and stored_user.used_bytes == 0


async def test_reads_before_the_first_write_see_what_is_committed_meanwhile(
    uow_factory: UnitOfWorkFactory,
) -> None:
    """Until it writes, a unit's reads run on their own; its writes still catch the change."""
    user = make_user()
    async with uow_factory() as uow:
        await uow.users.add(user)
        await uow.commit()
    async with uow_factory() as reader:
        first = await reader.users.get(user.id)
        async with uow_factory() as writer:
            changed = await writer.users.get(user.id)
            assert changed is not None
            changed.used_bytes = 5
            await writer.users.update(changed)
            await writer.commit()
        second = await reader.users.get(user.id)
        assert first is not None and second is not None
        assert (first.used_bytes, second.used_bytes) == (0, 5)
        first.notify_email = True
        with pytest.raises(ConcurrencyConflict):
            await reader.users.update(first)
            await reader.commit()


async def test_a_unit_reads_its_own_writes_even_those_held_back(
    uow_factory: UnitOfWorkFactory,
) -> None:
    user = make_user()
    async with uow_factory() as uow:
        await uow.users.add(user)
        await uow.commit()
    async with uow_factory() as uow:
        await uow.connections.add(Connection("c1", user.id, T0))
        await uow.processed.record("email", "event-1", T0)
        assert [c.id for c in await uow.connections.list_for_user(user.id)] == ["c1"]
        assert await uow.processed.contains("email", "event-1")
        await uow.connections.remove("c1")
        assert await uow.connections.list_for_user(user.id) == []
    async with uow_factory() as uow:  # the first left without committing: nothing stayed
        assert await uow.connections.list_for_user(user.id) == []
        assert not await uow.processed.contains("email", "event-1")


async def test_a_lone_write_held_back_is_committed_or_rolled_back(
    uow_factory: UnitOfWorkFactory,
) -> None:
    user = make_user()
    async with uow_factory() as uow:
        await uow.users.add(user)
        await uow.commit()
    async with uow_factory() as uow:
        await uow.connections.add(Connection("kept", user.id, T0))
        await uow.commit()
    async with uow_factory() as uow:
        await uow.connections.add(Connection("dropped", user.id, T0))
    async with uow_factory() as uow:
        assert [c.id for c in await uow.connections.list_for_user(user.id)] == ["kept"]
        await uow.connections.remove("kept")
        await uow.processed.record("realtime", "event-1", T0)
        await uow.commit()  # two writes held back: both, in one transaction
    async with uow_factory() as uow:
        assert await uow.connections.list_for_user(user.id) == []
        assert await uow.processed.contains("realtime", "event-1")
