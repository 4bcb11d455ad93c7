"""The quota contract: reservations and releases are single steps that concurrent ones cannot
undo or get past, on every unit-of-work adapter.

The use cases reserve an upload's bytes with `users.reserve` (the check and the change in one
conditional statement, no read of the user first) and give them back with
`uploads.update(..., release_bytes=...)` (one relative change, no read of the owner first).
Merging each into one statement is what opens the races these tests run.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest

from filestore.domain.errors import ConcurrencyConflict
from filestore.domain.model import Upload, UploadStatus, User
from filestore.domain.ports import UnitOfWork, UnitOfWorkFactory
from tests.factories import T0, make_upload, make_user

T = TypeVar("T")


async def retried(uow_factory: UnitOfWorkFactory, work: Callable[[UnitOfWork], Awaitable[T]]) -> T:
    """Run `work` in a unit of work and commit, again after a lost race (as the bus does)."""
    for _ in range(50):
        try:
            async with uow_factory() as uow:
                result = await work(uow)
                await uow.commit()
                return result
        except ConcurrencyConflict:
            await asyncio.sleep(0.001)
    raise AssertionError("still losing races after 50 attempts")


async def stored(uow_factory: UnitOfWorkFactory, user: User, *uploads: Upload) -> None:
    async with uow_factory() as uow:
        await uow.users.add(user)
        for upload in uploads:
            await uow.uploads.add(upload)
        await uow.commit()


async def used_bytes(uow_factory: UnitOfWorkFactory, user: User) -> int:
    async with uow_factory() as uow:
        loaded = await uow.users.get(user.id)
    assert loaded is not None
    return loaded.used_bytes


async def test_a_reservation_counts_what_fits_and_refuses_the_rest(
    uow_factory: UnitOfWorkFactory,
) -> None:
    user = make_user(quota_bytes=100, used_bytes=40)
    await stored(uow_factory, user)
    async with uow_factory() as uow:
        assert await uow.users.reserve(user.id, 60) is True  # exactly full is fine
        assert await uow.users.reserve(user.id, 1) is False
        await uow.commit()
    assert await used_bytes(uow_factory, user) == 100


async def test_a_reservation_for_nobody_is_refused(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        assert await uow.users.reserve("01890000-0000-7000-8000-000000000000", 1) is False


async def test_a_reservation_not_committed_counts_nothing(uow_factory: UnitOfWorkFactory) -> None:
    user = make_user(quota_bytes=100)
    await stored(uow_factory, user)
    async with uow_factory() as uow:
        assert await uow.users.reserve(user.id, 10) is True
    assert await used_bytes(uow_factory, user) == 0


async def test_a_reservation_makes_an_earlier_read_of_the_user_stale(
    uow_factory: UnitOfWorkFactory,
) -> None:
    """Preferences saved from a read taken before a reservation must not undo it."""
    user = make_user(quota_bytes=100)
    await stored(uow_factory, user)
    async with uow_factory() as uow:
        before = await uow.users.get(user.id)
    await retried(uow_factory, lambda uow: uow.users.reserve(user.id, 10))
    assert before is not None
    before.notify_email = True
    with pytest.raises(ConcurrencyConflict):
        async with uow_factory() as uow:
            await uow.users.update(before)
            await uow.commit()
    assert await used_bytes(uow_factory, user) == 10


async def test_concurrent_reservations_never_pass_the_quota(
    uow_factory: UnitOfWorkFactory,
) -> None:
    user = make_user(quota_bytes=100)
    await stored(uow_factory, user)
    everyone_is_ready = asyncio.Barrier(5)

    async def reserve() -> bool:
        await everyone_is_ready.wait()  # all five race for the same row at once
        return await retried(uow_factory, lambda uow: uow.users.reserve(user.id, 30))

    results = await asyncio.gather(*(reserve() for _ in range(5)))
    assert sorted(results) == [False, False, True, True, True]
    assert await used_bytes(uow_factory, user) == 90


async def test_a_release_gives_bytes_back_never_below_zero(uow_factory: UnitOfWorkFactory) -> None:
    user = make_user(used_bytes=10)
    upload = make_upload(user, size=30)
    await stored(uow_factory, user, upload)
    async with uow_factory() as uow:
        loaded = await uow.uploads.get(upload.id)
        assert loaded is not None
        loaded.mark_failed("too short", T0)
        await uow.uploads.update(loaded, release_bytes=30)
        await uow.commit()
    assert await used_bytes(uow_factory, user) == 0
    async with uow_factory() as uow:
        failed = await uow.uploads.get(upload.id)
    assert failed is not None and failed.status is UploadStatus.FAILED


async def test_a_stale_upload_releases_nothing(uow_factory: UnitOfWorkFactory) -> None:
    """The upload's change and its owner's release are one step: both, or neither."""
    user = make_user(used_bytes=50)
    upload = make_upload(user, size=50)
    await stored(uow_factory, user, upload)
    async with uow_factory() as uow:
        stale = await uow.uploads.get(upload.id)
    async with uow_factory() as uow:
        fresh = await uow.uploads.get(upload.id)
        assert fresh is not None
        fresh.rename("renamed.pdf", T0)
        await uow.uploads.update(fresh)
        await uow.commit()
    assert stale is not None
    stale.delete(T0)
    with pytest.raises(ConcurrencyConflict):
        async with uow_factory() as uow:
            await uow.uploads.update(stale, release_bytes=50)
            await uow.commit()
    assert await used_bytes(uow_factory, user) == 50


async def test_a_release_makes_an_earlier_read_of_the_owner_stale(
    uow_factory: UnitOfWorkFactory,
) -> None:
    user = make_user(used_bytes=50)
    upload = make_upload(user, size=50)
    await stored(uow_factory, user, upload)
    async with uow_factory() as uow:
        before = await uow.users.get(user.id)
        loaded = await uow.uploads.get(upload.id)
    assert before is not None and loaded is not None
    loaded.delete(T0)
    async with uow_factory() as uow:
        await uow.uploads.update(loaded, release_bytes=50)
        await uow.commit()
    before.notify_email = True
    with pytest.raises(ConcurrencyConflict):
        async with uow_factory() as uow:
            await uow.users.update(before)  # would write back used_bytes = 50
            await uow.commit()
    assert await used_bytes(uow_factory, user) == 0


async def test_concurrent_releases_are_all_counted(uow_factory: UnitOfWorkFactory) -> None:
    """Each release changes the owner's bytes relative to what they are when it lands: none
    is lost to another (a read-then-write of `used_bytes` would lose all but one)."""
    user = make_user(used_bytes=100)
    uploads = [make_upload(user, size=size) for size in (10, 20, 30, 40)]
    await stored(uow_factory, user, *uploads)
    everyone_is_ready = asyncio.Barrier(len(uploads))

    async def delete(upload: Upload) -> None:
        await everyone_is_ready.wait()

        async def work(uow: UnitOfWork) -> None:
            loaded = await uow.uploads.get(upload.id)
            assert loaded is not None
            loaded.delete(T0)
            await uow.uploads.update(loaded, release_bytes=loaded.size)

        await retried(uow_factory, work)

    await asyncio.gather(*(delete(upload) for upload in uploads))
    assert await used_bytes(uow_factory, user) == 0


async def test_a_reservation_racing_a_release_sees_it_or_not_but_loses_nothing(
    uow_factory: UnitOfWorkFactory,
) -> None:
    user = make_user(quota_bytes=100, used_bytes=60)
    upload = make_upload(user, size=60, status=UploadStatus.STORED)
    await stored(uow_factory, user, upload)
    everyone_is_ready = asyncio.Barrier(2)

    async def release() -> None:
        await everyone_is_ready.wait()

        async def work(uow: UnitOfWork) -> None:
            loaded = await uow.uploads.get(upload.id)
            assert loaded is not None
            loaded.delete(T0)
            await uow.uploads.update(loaded, release_bytes=60)

        await retried(uow_factory, work)

    async def reserve() -> bool:
        await everyone_is_ready.wait()
        return await retried(uow_factory, lambda uow: uow.users.reserve(user.id, 50))

    _, reserved = await asyncio.gather(release(), reserve())
    # Before the release it cannot fit (60 + 50 > 100); after it, it does.
    assert await used_bytes(uow_factory, user) == (50 if reserved else 0)
