"""Folders under concurrent writers, on every unit-of-work adapter: whatever interleaving the
database allows, two moves into each other's subtree never make a cycle, and two folders
never take one name. A loser gets False or a concurrency conflict (the bus runs it again)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

from filestore.domain.errors import ConcurrencyConflict
from filestore.domain.model import Folder
from filestore.domain.ports import UnitOfWork, UnitOfWorkFactory
from tests.contracts.organize_support import folder, owner, reload_folder
from tests.factories import T0, make_folder

Write = Callable[[UnitOfWork], Awaitable[bool]]


async def _meet(barrier: asyncio.Barrier) -> None:
    """Wait for the other writer, but not for ever: a database that makes it wait on our lock
    (MySQL's row locks, SQLite's one writer) must still get its turn after our commit."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(barrier.wait(), timeout=0.5)


async def _once(
    uow_factory: UnitOfWorkFactory, ready: asyncio.Barrier, written: asyncio.Barrier, write: Write
) -> bool:
    """Run one conditional write (`write(uow)`) when everyone is ready, and commit once the
    other has written too where the database lets it; True if it committed."""
    try:
        async with uow_factory() as uow:
            await _meet(ready)
            accepted = await write(uow)
            await _meet(written)
            if not accepted:
                return False
            await uow.commit()
            return True
    except ConcurrencyConflict:
        return False


async def test_two_moves_into_each_other_never_make_a_cycle(
    uow_factory: UnitOfWorkFactory,
) -> None:
    alice = await owner(uow_factory)
    a = await folder(uow_factory, alice, "a")
    b = await folder(uow_factory, alice, "b")
    ready, written = asyncio.Barrier(2), asyncio.Barrier(2)

    def move(moving: Folder, into: Folder) -> Write:
        async def write(uow: UnitOfWork) -> bool:
            current = await uow.folders.get(moving.id)
            assert current is not None
            current.move(into.id, T0)
            return await uow.folders.update(current)

        return write

    results = await asyncio.gather(
        _once(uow_factory, ready, written, move(a, b)),
        _once(uow_factory, ready, written, move(b, a)),
    )
    a_now, b_now = await reload_folder(uow_factory, a), await reload_folder(uow_factory, b)
    assert not (a_now.parent_id == b.id and b_now.parent_id == a.id)
    assert results.count(True) <= 1
    assert (a_now.parent_id == b.id) == results[0] and (b_now.parent_id == a.id) == results[1]


async def test_two_new_folders_never_take_one_name(uow_factory: UnitOfWorkFactory) -> None:
    alice = await owner(uow_factory)
    ready, written = asyncio.Barrier(2), asyncio.Barrier(2)

    def create(name: str) -> Write:
        async def write(uow: UnitOfWork) -> bool:
            return await uow.folders.add(make_folder(alice, name=name))

        return write

    results = await asyncio.gather(
        _once(uow_factory, ready, written, create("Report")),
        _once(uow_factory, ready, written, create("report")),
    )
    assert results.count(True) == 1
    async with uow_factory() as uow:
        listed = await uow.folders.list_for_sub(alice.sub, None, 10)
    assert listed is not None and len(listed) == 1
