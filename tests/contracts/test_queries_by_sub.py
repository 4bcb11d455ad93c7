"""Queries keyed by the caller's `sub`, and consumers' reads that check idempotency at once:
one statement each, on every unit-of-work adapter. Someone not registered yet owns nothing."""

from __future__ import annotations

from datetime import timedelta

from filestore.domain.model import Connection, UploadStatus
from filestore.domain.ports import ProcessedBy, UnitOfWorkFactory
from tests.factories import T0, make_share, make_upload, make_user

NOBODY = "sub-of-nobody-registered"


async def test_an_upload_is_found_by_its_owner_sub_only(uow_factory: UnitOfWorkFactory) -> None:
    alice, bob = make_user(), make_user()
    upload = make_upload(alice, status=UploadStatus.DELETED)
    async with uow_factory() as uow:
        await uow.users.add(alice)
        await uow.users.add(bob)
        await uow.uploads.add(upload)
        await uow.commit()
    async with uow_factory() as uow:
        mine = await uow.uploads.get_for_sub(upload.id, alice.sub)
        assert await uow.uploads.get_for_sub(upload.id, bob.sub) is None
        assert await uow.uploads.get_for_sub(upload.id, NOBODY) is None
        assert (
            await uow.uploads.get_for_sub("01890000-0000-7000-8000-000000000000", alice.sub) is None
        )
    # In whatever state: the use case decides what a deleted upload means.
    assert mine is not None and (mine.id, mine.status) == (upload.id, UploadStatus.DELETED)


async def test_someone_not_registered_lists_an_empty_page(uow_factory: UnitOfWorkFactory) -> None:
    alice = make_user()
    async with uow_factory() as uow:
        await uow.users.add(alice)
        await uow.uploads.add(make_upload(alice, status=UploadStatus.STORED))
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.uploads.list_stored_for_sub(NOBODY, 10) == []
        assert len(await uow.uploads.list_stored_for_sub(alice.sub, 10)) == 1


async def test_a_share_is_found_by_its_owner_sub_only(uow_factory: UnitOfWorkFactory) -> None:
    alice, bob = make_user(), make_user()
    upload = make_upload(alice, status=UploadStatus.STORED)
    share = make_share(upload, revoked_at=T0)
    async with uow_factory() as uow:
        await uow.users.add(alice)
        await uow.users.add(bob)
        await uow.uploads.add(upload)
        await uow.shares.add(share)
        await uow.commit()
    async with uow_factory() as uow:
        mine = await uow.shares.get_for_sub(share.token, alice.sub)
        assert await uow.shares.get_for_sub(share.token, bob.sub) is None
        assert await uow.shares.get_for_sub(share.token, NOBODY) is None
    assert mine is not None and (mine.upload_id, mine.revoked_at) == (upload.id, T0)


async def test_a_share_comes_with_its_upload(uow_factory: UnitOfWorkFactory) -> None:
    user = make_user()
    upload = make_upload(user, name="shared.pdf", status=UploadStatus.STORED)
    share = make_share(upload)
    async with uow_factory() as uow:
        await uow.users.add(user)
        await uow.uploads.add(upload)
        await uow.shares.add(share)
        await uow.commit()
    async with uow_factory() as uow:
        found = await uow.shares.get_with_upload(share.token)
        assert await uow.shares.get_with_upload("no-such-token-000000") is None
    assert found is not None
    got_share, got_upload = found
    assert (got_share.token, got_share.expires_at, got_share.version) == (
        share.token,
        share.expires_at,
        1,
    )
    assert (got_upload.id, got_upload.name, got_upload.owner_id, got_upload.object_key) == (
        upload.id,
        "shared.pdf",
        user.id,
        upload.object_key,
    )


async def test_live_shares_tell_no_upload_from_no_share(uow_factory: UnitOfWorkFactory) -> None:
    alice, bob = make_user(), make_user()
    bare = make_upload(alice, name="bare.txt", status=UploadStatus.STORED)
    shared = make_upload(alice, name="shared.txt", status=UploadStatus.STORED)
    deleted = make_upload(alice, status=UploadStatus.DELETED)
    live = make_share(shared, expires_at=T0 + timedelta(hours=1))
    expired = make_share(shared, expires_at=T0 - timedelta(seconds=1))
    async with uow_factory() as uow:
        await uow.users.add(alice)
        await uow.users.add(bob)
        for upload in (bare, shared, deleted):
            await uow.uploads.add(upload)
        for share in (live, expired, make_share(deleted)):
            await uow.shares.add(share)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.shares.list_live_for_sub(bare.id, alice.sub, T0) == []
        listed = await uow.shares.list_live_for_sub(shared.id, alice.sub, T0)
        assert listed is not None and [s.token for s in listed] == [live.token]
        assert await uow.shares.list_live_for_sub(shared.id, bob.sub, T0) is None
        assert await uow.shares.list_live_for_sub(shared.id, NOBODY, T0) is None
        assert await uow.shares.list_live_for_sub(deleted.id, alice.sub, T0) is None


async def test_a_user_id_is_known_by_sub_once_committed(uow_factory: UnitOfWorkFactory) -> None:
    user = make_user()
    async with uow_factory() as uow:
        assert await uow.users.id_for_sub(user.sub) is None
        await uow.users.add(user)
        assert await uow.users.id_for_sub(user.sub) == user.id  # its own write, in the unit
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.users.id_for_sub(user.sub) == user.id
        assert await uow.users.id_for_sub(NOBODY) is None


async def test_a_registration_rolled_back_leaves_no_id_behind(
    uow_factory: UnitOfWorkFactory,
) -> None:
    """An adapter that keeps ids it learned must keep only committed ones."""
    user = make_user()
    async with uow_factory() as uow:
        await uow.users.add(user)
        assert await uow.users.id_for_sub(user.sub) == user.id
    async with uow_factory() as uow:
        assert await uow.users.id_for_sub(user.sub) is None
    again = make_user(sub=user.sub)  # registered for real, with another id
    async with uow_factory() as uow:
        await uow.users.add(again)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.users.id_for_sub(user.sub) == again.id


async def test_a_consumer_reads_with_its_check_whether_it_handled_the_event(
    uow_factory: UnitOfWorkFactory,
) -> None:
    alice, bob = make_user(), make_user()
    email = ProcessedBy("email", "event-1")
    realtime = ProcessedBy("realtime", "event-1")
    async with uow_factory() as uow:
        await uow.users.add(alice)
        await uow.users.add(bob)
        await uow.connections.add(Connection("c1", alice.id, T0))
        await uow.processed.add("email", "event-1", T0)
        await uow.commit()
    async with uow_factory() as uow:
        user, handled = await uow.users.get_for_consumer(alice.id, email)
        assert user is not None and (user.email, handled) == (alice.email, True)
        user, handled = await uow.users.get_for_consumer(alice.id, ProcessedBy("email", "2"))
        assert user is not None and (user.id, handled) == (alice.id, False)
        nobody = await uow.users.get_for_consumer("01890000-0000-7000-8000-000000000000", email)
        assert nobody == (None, False)
        connections, handled = await uow.connections.list_for_consumer(alice.id, realtime)
        assert ([c.id for c in connections], handled) == (["c1"], False)
        assert await uow.connections.list_for_consumer(bob.id, realtime) == ([], False)
        await uow.processed.record("realtime", "event-1", T0)
        await uow.commit()
    async with uow_factory() as uow:
        connections, handled = await uow.connections.list_for_consumer(alice.id, realtime)
        assert ([c.id for c in connections], handled) == (["c1"], True)
