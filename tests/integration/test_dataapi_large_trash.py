"""A folder too big for one Data API answer, deleted forever on the Data API (emulator on
MySQL/MariaDB, which refuses an answer over 1 MiB as the service does).

Reading every file of a folder of a few thousand files as rows in one statement is more than
1 MiB: the service refuses it, and the delete (or the sweep, every time it comes back to it)
would fail. A purge reads their count, size and object keys a page at a time instead: one read
and one write as for a small folder, then one read per further page of keys
(`PURGE_PAGE`), the bounded extra a folder of many thousands of files costs.
"""

from __future__ import annotations

import math
import uuid

import pymysql
import pytest

from filestore.adapters.dataapi.database import DataApiDatabase, ResultTooLarge
from filestore.adapters.sql.executor import SqlError
from filestore.app import FileStore
from filestore.domain.commands import Actor
from filestore.domain.events import FolderDeleted
from filestore.domain.handlers.trash import PURGE_PAGE
from filestore.settings import Settings
from tests.support.dataapi_emulator import MAX_RESPONSE_BYTES, DataApiEmulator
from tests.support.mysql import MySQLDatabase

pytestmark = pytest.mark.integration

ALICE = Actor(sub="alice-sub", email="alice@example.com")
# Files in the folder: each of them is ~800 bytes as a full row in a Data API answer, so
# 2,500 of them are ~2 MB, and their keys take three pages.
FILES = 2_500
WRITE = 6  # Begin + 3 statements + Commit, and marking its events published


def filestore(database: DataApiDatabase, *, trash_days: int = 30) -> FileStore:
    settings = Settings(allow_memory_on_lambda=True, notify_in_process=False, trash_days=trash_days)
    return FileStore.from_settings(settings, uow_factory=database.uow_factory())


async def big_trashed_folder(store: FileStore, mysql: MySQLDatabase) -> tuple[str, set[str]]:
    """A trashed folder of `FILES` stored files (half in a subfolder), each with its object;
    the folder's id and the object keys. One file goes through the API; the others are
    copies of its row made in SQL (thousands of uploads through the API would take minutes)."""
    top = await store.create_folder(ALICE, "Big")
    inner = await store.create_folder(ALICE, "Inner", parent_id=top.id)
    ticket = await store.request_upload(
        ALICE, "first.txt", size=5, content_type="text/plain", folder_id=top.id
    )
    assert ticket.post is not None
    store.memory_blobs.post(ticket.post, b"hello")
    await store.record_stored(ticket.upload.object_key)
    owner_id = ticket.upload.owner_id
    keys = {ticket.upload.object_key}
    with pymysql.connect(**mysql.pymysql_kwargs()) as connection, connection.cursor() as cursor:
        cursor.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = DATABASE()"
            " AND table_name = 'uploads' AND extra NOT LIKE '%%GENERATED%%' AND column_name"
            " NOT IN ('id', 'public_id', 'object_key', 'name', 'name_key', 'search_key',"
            " 'folder_id')"
        )
        copied = ", ".join(row[0] for row in cursor.fetchall())
        rows = []
        for n in range(1, FILES):
            upload_id = str(uuid.uuid4())
            key = f"u/{owner_id}/{upload_id}"
            name = f"copy {n:05}.txt"
            folder_id = inner.id if n % 2 else top.id
            rows.append((upload_id, key, name, name, name, folder_id, ticket.upload.id))
            keys.add(key)
        cursor.executemany(
            f"INSERT INTO uploads (public_id, object_key, name, name_key, search_key,"
            f" folder_id, {copied}) SELECT %s, %s, %s, %s, %s, %s, {copied} FROM uploads"
            " WHERE public_id = %s",
            rows,
        )
        cursor.execute(
            "UPDATE users SET used_bytes = used_bytes + %s WHERE public_id = %s",
            (5 * (FILES - 1), owner_id),
        )
    first = store.memory_blobs.objects[ticket.upload.object_key]
    for key in keys:
        store.memory_blobs.objects[key] = first
    await store.delete_folder(ALICE, top.id)
    return top.id, keys


def assert_gone(store: FileStore, mysql: MySQLDatabase, keys: set[str]) -> None:
    """Every file deleted, its bytes given back, its object removed; `folder.deleted` says so."""
    assert not keys & store.memory_blobs.objects.keys()
    event = [e for e in store.memory_publisher.published if isinstance(e, FolderDeleted)][-1]
    assert (event.files, event.size) == (FILES, 5 * FILES)
    with pymysql.connect(**mysql.pymysql_kwargs()) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT status, COUNT(*) FROM uploads GROUP BY status")
        assert dict(cursor.fetchall()) == {"deleted": FILES}
        cursor.execute("SELECT used_bytes FROM users")
        assert cursor.fetchall() == ((0,),)


async def test_a_folder_bigger_than_one_answer_is_deleted_forever(
    dataapi_database: DataApiDatabase, dataapi_emulator: DataApiEmulator, empty_mysql: MySQLDatabase
) -> None:
    store = filestore(dataapi_database)
    await store.me(ALICE)
    folder_id, keys = await big_trashed_folder(store, empty_mysql)
    before = sum(dataapi_emulator.calls.values())
    await store.delete_forever(ALICE, folder_id)
    calls = sum(dataapi_emulator.calls.values()) - before
    # A read and a write, as for a small folder, then a read per further page of keys.
    assert calls == WRITE + math.ceil(FILES / PURGE_PAGE) - 1
    assert_gone(store, empty_mysql, keys)


async def test_the_sweep_purges_a_folder_bigger_than_one_answer(
    dataapi_database: DataApiDatabase, empty_mysql: MySQLDatabase
) -> None:
    store = filestore(dataapi_database, trash_days=0)  # everything in the trash is due
    await store.me(ALICE)
    _, keys = await big_trashed_folder(store, empty_mysql)
    report = await store.reconcile()
    assert report.purged == 1
    assert_gone(store, empty_mysql, keys)


async def test_the_emulator_refuses_an_answer_over_1_mib_as_the_service_does(
    dataapi_database: DataApiDatabase, dataapi_emulator: DataApiEmulator
) -> None:
    """What the service answers a statement whose result is over 1 MiB: the adapter says so
    plainly and does not retry it."""
    rows = MAX_RESPONSE_BYTES // 2000 + 1
    sql = (
        "WITH RECURSIVE n (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :rows)"
        " SELECT REPEAT('x', 2000) FROM n"
    )
    assert len(await dataapi_database.fetch(sql, {"rows": rows - 10})) == rows - 10
    before = dict(dataapi_emulator.calls)
    with pytest.raises(ResultTooLarge, match=r"at most 1 MiB.*must read in pages: WITH RECURSIVE"):
        await dataapi_database.fetch(sql, {"rows": rows})
    assert sum(dataapi_emulator.calls.values()) - sum(before.values()) == 1  # no retry
    # In a transaction, the service rolls the transaction back: it is gone.
    transaction = await dataapi_database.begin()
    assert await transaction.fetch("SELECT 1") == [[1]]
    with pytest.raises(ResultTooLarge):
        await transaction.fetch(sql, {"rows": rows})
    with pytest.raises(SqlError, match="not found"):
        await transaction.commit()
