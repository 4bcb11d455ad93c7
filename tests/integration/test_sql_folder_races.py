"""Concurrent writes to one user's tree on MySQL, two transactions at once, through aiomysql
(READ COMMITTED: the writes lock what they depend on first) and the Data API (REPEATABLE
READ: each write is one statement whose reads lock): the conditional statements of the folder
repository keep the tree a tree and every name unique, and lose no change.

Each client reads what it changes, waits until the other has read too, then writes and
commits; the writes overlap on the server. A client whose write the other's made impossible
is told so (its conditional write answers False, or MySQL picks it as a deadlock victim:
`ConcurrencyConflict`); nothing is silently overwritten.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pymysql
import pytest

from filestore.domain.errors import ConcurrencyConflict
from filestore.domain.ids import uuid7
from filestore.domain.model import Folder, UploadStatus, User
from filestore.domain.ports import UnitOfWork, UnitOfWorkFactory
from tests.factories import T0, make_upload, make_user
from tests.support.mysql import MySQLDatabase

pytestmark = pytest.mark.integration

ROUNDS = 5

Write = Callable[[UnitOfWork], Awaitable[bool]]


@pytest.fixture(params=["mysql", "dataapi"])
def factory(request: pytest.FixtureRequest, empty_mysql: MySQLDatabase) -> UnitOfWorkFactory:
    found: UnitOfWorkFactory = request.getfixturevalue(f"uow_factory_{request.param}")
    return found


async def race(factory: UnitOfWorkFactory, *writes: Write) -> list[bool]:
    """Run writes at once, each in a unit of work of its own: all read, then all write and
    commit. Returns whether each was saved."""
    all_read = asyncio.Barrier(len(writes))

    async def client(write: Write) -> bool:
        async with factory() as uow:
            try:
                saved = await write(_Gate(uow, all_read))  # type: ignore[arg-type]
                if saved:
                    await uow.commit()
                return saved
            except ConcurrencyConflict:
                return False

    return list(await asyncio.gather(*(client(write) for write in writes)))


class _Gate:
    """The unit of work, plus `await uow.both_read()` between a client's reads and writes."""

    def __init__(self, uow: UnitOfWork, barrier: asyncio.Barrier) -> None:
        self._uow, self._barrier = uow, barrier

    def __getattr__(self, name: str) -> Any:
        return getattr(self._uow, name)

    async def both_read(self) -> None:
        await self._barrier.wait()


def new_folder(owner: User, name: str, parent: Folder | None = None) -> Folder:
    return Folder.create(
        id=uuid7(), owner_id=owner.id, name=name, parent_id=parent.id if parent else None, now=T0
    )


def mover(sub: str, folder_id: str, parent_id: str) -> Write:
    async def write(uow: Any) -> bool:
        folder = await uow.folders.get_for_sub(folder_id, sub)
        await uow.both_read()
        folder.move(parent_id, T0)
        saved: bool = await uow.folders.update(folder)
        return saved

    return write


def tree(database: MySQLDatabase, user: User) -> dict[str, tuple[str, str, str]]:
    """public id -> (parent id, name, path) of the user's folders, as stored."""
    with (
        pymysql.connect(**database.pymysql_kwargs()) as connection,
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "SELECT f.public_id, f.parent_id, f.name, f.path, f.id FROM folders f"
            " JOIN users o ON o.id = f.user_id WHERE o.public_id = %s",
            (user.id,),
        )
        rows = cursor.fetchall()
    internal = {row[0]: row[4] for row in rows}
    folders = {row[0]: (row[1], row[2], row[3]) for row in rows}
    # Every path is the chain of parents' internal ids: a tree, with no cycle.
    for folder_id in folders:
        chain: list[str] = []
        parent = folders[folder_id][0]
        while parent:
            assert parent not in chain and parent != folder_id, f"cycle through {folder_id}"
            chain.insert(0, parent)
            parent = folders[parent][0]
        expected = "/" + "".join(f"{internal[p]}/" for p in chain)
        assert folders[folder_id][2] == expected, (folder_id, folders[folder_id], expected)
    return folders


async def add_tree(factory: UnitOfWorkFactory, user: User, *folders: Folder) -> None:
    async with factory() as uow:
        await uow.users.add(user)
        for folder in folders:
            assert await uow.folders.add(folder)
        await uow.commit()


@pytest.mark.parametrize("depth", ["siblings", "deep"])
async def test_two_folders_moved_into_each_others_subtree_at_once_make_no_cycle(
    factory: UnitOfWorkFactory, empty_mysql: MySQLDatabase, depth: str
) -> None:
    for _ in range(ROUNDS):
        user = make_user()
        a, b = new_folder(user, "a"), new_folder(user, "b")
        a1, b1 = new_folder(user, "a1", a), new_folder(user, "b1", b)
        a2, b2 = new_folder(user, "a2", a1), new_folder(user, "b2", b1)
        await add_tree(factory, user, a, b, a1, b1, a2, b2)
        into_b, into_a = (b, a) if depth == "siblings" else (b2, a2)
        saved = await race(
            factory,
            mover(user.sub, a.id, into_b.id),
            mover(user.sub, b.id, into_a.id),
        )
        assert saved.count(True) == 1, saved  # one wins; the other is told
        stored = tree(empty_mysql, user)  # and the tree is still a tree
        winner, target = (a, into_b) if saved[0] else (b, into_a)
        assert stored[winner.id][0] == target.id


async def test_a_rename_racing_a_move_of_the_same_folder_loses_nothing(
    factory: UnitOfWorkFactory, empty_mysql: MySQLDatabase
) -> None:
    """One of them is saved, the other is refused (its version is stale), never both with one
    overwriting the other; retried, the refused one is saved on top of the first."""
    user = make_user()
    docs, archive = new_folder(user, "docs"), new_folder(user, "archive")
    await add_tree(factory, user, docs, archive)

    async def rename(uow: Any) -> bool:
        folder = await uow.folders.get_for_sub(docs.id, user.sub)
        await uow.both_read()
        folder.rename("documents", T0)
        saved: bool = await uow.folders.update(folder)
        return saved

    saved = await race(factory, rename, mover(user.sub, docs.id, archive.id))
    assert saved.count(True) == 1, saved
    retry = mover(user.sub, docs.id, archive.id) if saved[0] else rename
    assert await race(factory, retry) == [True]
    assert tree(empty_mysql, user)[docs.id][:2] == (archive.id, "documents")


async def test_a_file_renamed_while_its_folder_moves_keeps_both_changes(
    factory: UnitOfWorkFactory, empty_mysql: MySQLDatabase
) -> None:
    user = make_user()
    docs, archive = new_folder(user, "docs"), new_folder(user, "archive")
    await add_tree(factory, user, docs, archive)
    report = make_upload(user, name="report.pdf", folder_id=docs.id, status=UploadStatus.STORED)
    async with factory() as uow:
        await uow.uploads.add(report)
        await uow.commit()

    async def rename_file(uow: Any) -> bool:
        upload = await uow.uploads.get_for_sub(report.id, user.sub)
        await uow.both_read()
        upload.rename("final report.pdf", T0)
        saved: bool = await uow.uploads.place(upload)
        return saved

    move = mover(user.sub, docs.id, archive.id)
    saved = await race(factory, rename_file, move)
    # Both are saved at once, or MySQL picks one as a deadlock victim and it is told so
    # (`ConcurrencyConflict`); retried, as the bus retries it, it is saved on top of the other.
    for write, was_saved in zip((rename_file, move), saved, strict=True):
        if not was_saved:
            assert await race(factory, write) == [True]
    assert tree(empty_mysql, user)[docs.id][0] == archive.id
    async with factory() as uow:
        upload = await uow.uploads.get(report.id)
    assert upload is not None
    assert (upload.name, upload.folder_id) == ("final report.pdf", docs.id)


async def test_a_folder_and_a_file_racing_for_one_name_do_not_both_get_it(
    factory: UnitOfWorkFactory,
) -> None:
    for _ in range(ROUNDS):
        user = make_user()
        await add_tree(factory, user)
        report = make_upload(user, name="draft.pdf", status=UploadStatus.STORED)
        async with factory() as uow:
            await uow.uploads.add(report)
            await uow.commit()

        async def rename_file(uow: Any, report_id: str = report.id, sub: str = user.sub) -> bool:
            upload = await uow.uploads.get_for_sub(report_id, sub)
            await uow.both_read()
            upload.rename("Plans", T0)
            saved: bool = await uow.uploads.place(upload)
            return saved

        async def create_folder(uow: Any, owner: User = user) -> bool:
            await uow.both_read()
            saved: bool = await uow.folders.add(new_folder(owner, "plans"))
            return saved

        saved = await race(factory, rename_file, create_folder)
        assert saved.count(True) == 1, saved
        async with factory() as uow:
            assert await uow.folders.find_clash(user.id, None, "PLANS") is not None
