"""The Data API budget (DESIGN.md), counted: what each use case costs in rds-data calls.

Every use case through the message bus on the Data API adapter and the emulator, which counts
the calls it answers. A read is one call; a write at most Begin + 3 statements + Commit, plus
one to mark its events published; a consumer at most two per message, one for a repeat; a
user's first request and the first write of a fresh execution environment are exempt.
`bench/dataapi_calls.py` prints the same through the entrypoints, with the calls in order.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

import pytest

from filestore.adapters.dataapi.database import DataApiDatabase
from filestore.app import FileStore
from filestore.domain import commands
from filestore.domain.commands import Actor
from filestore.domain.events import Event, UploadStored
from filestore.domain.ports import ANY_FOLDER, CompletedPart, SortField
from filestore.settings import Settings
from tests.support.dataapi_emulator import DataApiEmulator

pytestmark = pytest.mark.integration

READ = 1
WRITE = 6  # Begin + 3 statements + Commit, and marking its events published
MiB = 1024 * 1024
ALICE = Actor(sub="alice-sub", email="alice@example.com")


class Counted:
    """A filestore on the Data API whose calls the emulator counts."""

    def __init__(self, database: DataApiDatabase, emulator: DataApiEmulator) -> None:
        self.emulator = emulator
        self.database = database
        self.store = self.fresh_environment()

    def fresh_environment(self) -> FileStore:
        """A filestore as a new execution environment has it: nothing learned yet."""
        settings = Settings(
            allow_memory_on_lambda=True,
            notify_in_process=False,  # as on AWS: the queue consumers notify
            multipart_threshold=8 * MiB,
            single_request_limit=8 * MiB,
        )
        return FileStore.from_settings(settings, uow_factory=self.database.uow_factory())

    async def calls(self, work: Awaitable[Any]) -> tuple[int, Any]:
        """How many calls `work` made, and its result."""
        before = sum(self.emulator.calls.values())
        result = await work
        return sum(self.emulator.calls.values()) - before, result

    async def cost(self, work: Awaitable[Any]) -> int:
        return (await self.calls(work))[0]

    def published(self, kind: type[Event]) -> Event:
        return [e for e in self.store.memory_publisher.published if isinstance(e, kind)][-1]


@pytest.fixture
def counted(dataapi_database: DataApiDatabase, dataapi_emulator: DataApiEmulator) -> Counted:
    return Counted(dataapi_database, dataapi_emulator)


async def stored_upload(counted: Counted, name: str = "notes.txt") -> str:
    store = counted.store
    ticket = await store.request_upload(ALICE, name, size=5, content_type="text/plain")
    assert ticket.post is not None
    store.memory_blobs.post(ticket.post, b"hello")
    await store.record_stored(ticket.upload.object_key)
    return ticket.upload.id


async def test_a_first_request_registers_then_reads_are_one_call(counted: Counted) -> None:
    store = counted.store
    assert await counted.cost(store.me(ALICE)) <= WRITE  # exempt: registration
    assert await counted.cost(store.me(ALICE)) == READ
    assert await counted.cost(store.list_uploads(ALICE)) == READ
    nobody = Actor(sub="not-registered", email="nobody@example.com")
    calls, page = await counted.calls(store.list_uploads(nobody))
    assert (calls, page.items) == (READ, [])


async def test_uploads_cost_a_write_each_and_reads_one_call(counted: Counted) -> None:
    store = counted.store
    await store.me(ALICE)
    calls, ticket = await counted.calls(
        store.request_upload(ALICE, "a.txt", size=5, content_type="text/plain")
    )
    assert calls <= WRITE
    upload_id = ticket.upload.id
    store.memory_blobs.post(ticket.post, b"hello")
    assert await counted.cost(store.record_stored(ticket.upload.object_key)) <= WRITE
    assert await counted.cost(store.record_stored(ticket.upload.object_key)) == READ  # repeat
    assert await counted.cost(store.get_upload(ALICE, upload_id)) == READ
    assert await counted.cost(store.download(ALICE, upload_id)) == READ
    assert await counted.cost(store.rename(ALICE, upload_id, "b.txt")) <= WRITE
    assert await counted.cost(store.set_notify_email(ALICE, True)) <= WRITE
    assert await counted.cost(store.delete(ALICE, upload_id)) <= WRITE
    assert await counted.cost(store.delete(ALICE, upload_id)) == READ  # again: nothing to do


async def test_multipart_uploads_read_in_one_call_and_complete_in_a_write(
    counted: Counted,
) -> None:
    store = counted.store
    await store.me(ALICE)
    ticket = await store.request_upload(
        ALICE, "big.bin", size=9 * MiB, content_type="application/octet-stream"
    )
    upload_id = ticket.upload.id
    calls, urls = await counted.calls(store.sign_parts(ALICE, upload_id, [1, 2]))
    assert calls == READ
    etags = [
        store.memory_blobs.put_part(urls[0].url, b"x" * 8 * MiB),
        store.memory_blobs.put_part(urls[1].url, b"x" * MiB),
    ]
    assert await counted.cost(store.list_parts(ALICE, upload_id)) == READ
    parts = [CompletedPart(n + 1, etag) for n, etag in enumerate(etags)]
    assert await counted.cost(store.complete_upload(ALICE, upload_id, parts)) <= WRITE


async def test_shares_cost_a_write_to_change_and_one_call_to_read(counted: Counted) -> None:
    store = counted.store
    await store.me(ALICE)
    upload_id = await stored_upload(counted)
    calls, share = await counted.calls(store.share(ALICE, upload_id, expires_in=3600))
    assert calls <= WRITE
    assert await counted.cost(store.shares(ALICE, upload_id)) == READ
    assert await counted.cost(store.resolve_share(share.token)) == READ
    assert await counted.cost(store.revoke_share(ALICE, share.token)) <= WRITE
    assert await counted.cost(store.revoke_share(ALICE, share.token)) == READ  # again


async def test_consumers_spend_two_calls_a_message_and_one_a_repeat(counted: Counted) -> None:
    store = counted.store
    await store.set_notify_email(ALICE, True)
    await store.connect(ALICE, "conn-1")
    store.memory_realtime.open("conn-1")
    await stored_upload(counted)
    stored = counted.published(UploadStored)
    for command in (commands.NotifyRealtime(stored), commands.NotifyByEmail(stored)):
        assert await counted.cost(store.bus.handle(command)) <= 2
        assert await counted.cost(store.bus.handle(command)) == 1
    assert len(store.memory_email.sent) == 1
    assert len(store.memory_realtime.messages["conn-1"]) == 1


async def test_websocket_connections_cost_one_call(counted: Counted) -> None:
    store = counted.store
    await store.me(ALICE)
    assert await counted.cost(store.connect(ALICE, "conn-1")) == 1
    assert await counted.cost(store.disconnect("conn-1")) == 1


async def test_the_first_write_of_a_fresh_environment_looks_its_caller_up_once(
    counted: Counted,
) -> None:
    await counted.store.me(ALICE)
    fresh = counted.fresh_environment()
    first = fresh.request_upload(ALICE, "a.txt", size=5, content_type="text/plain")
    assert await counted.cost(first) == WRITE + 1  # exempt: the lookup of sub -> user id
    second = fresh.request_upload(ALICE, "b.txt", size=5, content_type="text/plain")
    assert await counted.cost(second) == WRITE


# --- folders, sorting, search and the trash ----------------------------------------------------


async def test_listings_and_searches_are_one_call_each(counted: Counted) -> None:
    store = counted.store
    await store.me(ALICE)
    docs = await store.create_folder(ALICE, "Docs")
    await store.create_folder(ALICE, "2026", parent_id=docs.id)
    await stored_upload(counted, "Résumé.pdf")
    for folder in (ANY_FOLDER, None, docs.id):
        for sort in SortField:
            page = store.list_uploads(ALICE, folder=folder, sort=sort, descending=False)
            assert await counted.cost(page) == READ
    assert await counted.cost(store.list_uploads(ALICE, q="resume")) == READ
    assert await counted.cost(store.list_uploads(ALICE, folder=docs.id, q="resume")) == READ
    assert await counted.cost(store.list_folders(ALICE)) == READ
    assert await counted.cost(store.list_folders(ALICE, parent_id=docs.id)) == READ
    assert await counted.cost(store.bus.handle(commands.GetFolder(ALICE, docs.id))) == READ
    assert await counted.cost(store.trash(ALICE)) == READ


async def test_folder_writes_fold_their_checks_into_a_write(counted: Counted) -> None:
    """Creating, renaming, moving, trashing and restoring a folder, and moving a file: each a
    write, with the name and cycle checks in its own statements."""
    store = counted.store
    await store.me(ALICE)
    calls, docs = await counted.calls(store.create_folder(ALICE, "Docs"))
    assert calls <= WRITE
    archive = await store.create_folder(ALICE, "Archive")
    inner = await store.create_folder(ALICE, "Inner", parent_id=docs.id)
    upload_id = await stored_upload(counted)
    assert await counted.cost(store.move(ALICE, upload_id, inner.id)) <= WRITE
    rename = commands.UpdateFolder(ALICE, docs.id, name="Documents")
    assert await counted.cost(store.bus.handle(rename)) <= WRITE
    move = commands.UpdateFolder(ALICE, docs.id, parent_id=archive.id)
    assert await counted.cost(store.bus.handle(move)) <= WRITE
    assert await counted.cost(store.delete_folder(ALICE, docs.id)) <= WRITE
    assert await counted.cost(store.restore(ALICE, docs.id)) <= WRITE
    assert await counted.cost(store.delete(ALICE, upload_id)) <= WRITE  # the file: to the trash
    assert await counted.cost(store.restore(ALICE, upload_id)) <= WRITE


async def test_deleting_forever_is_a_write_after_one_read(counted: Counted) -> None:
    """A folder and the files trashed with it (whose objects are deleted) in one read; the
    write is one statement for the folder, everything with it and the quota. A file alike."""
    store = counted.store
    await store.me(ALICE)
    docs = await store.create_folder(ALICE, "Docs")
    upload_id = await stored_upload(counted)
    await store.move(ALICE, upload_id, docs.id)
    await store.delete_folder(ALICE, docs.id)
    assert await counted.cost(store.delete_forever(ALICE, docs.id)) <= WRITE
    assert store.memory_blobs.objects == {}
    alone = await stored_upload(counted, "alone.txt")
    await store.delete(ALICE, alone)
    assert await counted.cost(store.delete_forever(ALICE, alone)) <= WRITE
