"""The SQL adapters beyond the shared contract: atomicity, locking, plans, migrations.

They run on real databases: SQLite files, the session's MariaDB/MySQL database (aiomysql) and
the Data API emulator on it. Without a MySQL they skip, or fail with FILESTORE_REQUIRE_SERVICES=1.
"""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pymysql
import pytest

from filestore.adapters.sql.alchemy import SqlDatabase, upgrade_database
from filestore.adapters.sql.migrations import migrations
from filestore.adapters.sql.repositories import list_pending_query, list_stored_query
from filestore.adapters.sql.sqlite import SqliteDatabase
from filestore.domain import events
from filestore.domain.errors import AlreadyExists
from filestore.domain.model import EmailStatus, UploadStatus
from filestore.domain.ports import ListPosition, UnitOfWorkFactory
from tests.factories import T0, make_share, make_upload, make_user
from tests.support.explain import plan_of
from tests.support.mysql import MySQLDatabase
from tests.support.sql import insert_owners, sqlite_url

pytestmark = pytest.mark.integration

SQL_ADAPTERS = ["sqlite", "mysql", "dataapi"]


@pytest.fixture(params=SQL_ADAPTERS)
def sql_uow_factory(request: pytest.FixtureRequest) -> UnitOfWorkFactory:
    factory: UnitOfWorkFactory = request.getfixturevalue(f"uow_factory_{request.param}")
    return factory


@pytest.fixture(params=["mysql", "dataapi"])
def mysql_uow_factory(request: pytest.FixtureRequest) -> UnitOfWorkFactory:
    """Both ways to MySQL: aiomysql and the Data API."""
    factory: UnitOfWorkFactory = request.getfixturevalue(f"uow_factory_{request.param}")
    return factory


# --- atomicity and unique keys -----------------------------------------------------------------


async def test_a_failing_outbox_write_undoes_the_state_change(
    sql_uow_factory: UnitOfWorkFactory,
) -> None:
    """The outbox row and the state change commit together or not at all."""
    user = make_user()
    taken = events.UserRegistered(occurred_at=T0, user_id=user.id, email="x@example.com")
    async with sql_uow_factory() as uow:
        await uow.outbox.add([taken])
        await uow.commit()
    clash = make_user()
    clash.events.append(
        events.UserRegistered(id=taken.id, occurred_at=T0, user_id=clash.id, email=clash.email)
    )
    with pytest.raises(AlreadyExists):
        async with sql_uow_factory() as uow:
            await uow.users.add(user)
            await uow.users.add(clash)
            await uow.commit()  # the outbox insert of the reused event id fails
    async with sql_uow_factory() as uow:
        assert await uow.users.get(user.id) is None
        assert await uow.users.get(clash.id) is None
        assert len(await uow.outbox.pending(10)) == 1


async def test_unique_keys_surface_as_already_exists(sql_uow_factory: UnitOfWorkFactory) -> None:
    user = make_user()
    upload = make_upload(user)
    share = make_share(upload)
    async with sql_uow_factory() as uow:
        await uow.users.add(user)
        await uow.uploads.add(upload)
        await uow.shares.add(share)
        await uow.commit()
    duplicates = [
        ("user id", lambda uow: uow.users.add(make_user(id=user.id))),
        ("upload id", lambda uow: uow.uploads.add(make_upload(user, id=upload.id))),
        ("share token", lambda uow: uow.shares.add(make_share(upload, token=share.token))),
    ]
    for _what, add in duplicates:
        with pytest.raises(AlreadyExists):
            async with sql_uow_factory() as uow:
                await add(uow)
                await uow.commit()


async def test_subs_compare_exactly(sql_uow_factory: UnitOfWorkFactory) -> None:
    """No case- or accent-insensitive collation may let one identity find another."""
    user = make_user(sub="alice")
    async with sql_uow_factory() as uow:
        await uow.users.add(user)
        await uow.users.add(make_user(sub="Alice"))
        await uow.users.add(make_user(sub="alicé"))
        await uow.commit()
    async with sql_uow_factory() as uow:
        found = await uow.users.get_by_sub("alice")
        assert await uow.users.get_by_sub("ALICE") is None
    assert found is not None and found.id == user.id


async def test_microseconds_survive_and_order_the_listing(
    sql_uow_factory: UnitOfWorkFactory,
) -> None:
    user = make_user()
    first = make_upload(user, name="first.txt", created_at=T0, status=UploadStatus.STORED)
    second = make_upload(
        user,
        name="second.txt",
        created_at=T0 + timedelta(microseconds=1),
        status=UploadStatus.STORED,
    )
    async with sql_uow_factory() as uow:
        await uow.users.add(user)
        await uow.uploads.add(second)
        await uow.uploads.add(first)
        await uow.commit()
    async with sql_uow_factory() as uow:
        listed = await uow.uploads.list_stored_for_sub(user.sub, 10)
    assert [u.id for u in listed] == [second.id, first.id]
    assert listed[0].created_at == T0 + timedelta(microseconds=1)
    assert listed[0].created_at.tzinfo is not None


# --- the outbox relay's locking (MySQL) --------------------------------------------------------


async def test_two_relays_never_hold_the_same_outbox_rows(
    mysql_uow_factory: UnitOfWorkFactory,
) -> None:
    user = make_user()
    for n in range(4):
        user.events.append(
            events.UserRegistered(occurred_at=T0, user_id=user.id, email=f"{n}@example.com")
        )
    async with mysql_uow_factory() as uow:
        await uow.users.add(user)
        await uow.commit()
        written = [e.id for e in uow.committed_events]
    async with mysql_uow_factory() as first, mysql_uow_factory() as second:
        held = await first.outbox.pending(2)  # locked until `first` ends
        rest = await second.outbox.pending(10)  # skips them instead of waiting
        assert [e.event.id for e in held] == written[:2]
        assert [e.event.id for e in rest] == written[2:]
        await second.outbox.mark_published([e.event.id for e in rest], T0)
        await second.commit()
    async with mysql_uow_factory() as uow:
        assert [e.event.id for e in await uow.outbox.pending(10)] == written[:2]


# --- the listing's plan (MySQL / MariaDB) ------------------------------------------------------


@pytest.fixture
def listing_data(empty_mysql: MySQLDatabase) -> tuple[MySQLDatabase, str]:
    """One owner (their sub) with 2,000 stored uploads among 50 owners of 20 each, statistics
    analysed."""
    with (
        pymysql.connect(**empty_mysql.pymysql_kwargs()) as connection,
        connection.cursor() as cursor,
    ):
        owners, internal = insert_owners(cursor, 51)
        rows = []
        for index, owner in enumerate(owners):
            for n in range(2000 if index == 0 else 20):
                upload = make_upload(owner, created_at=T0 + timedelta(seconds=n))
                status = "stored" if n % 10 else "pending"
                created = upload.created_at.replace(tzinfo=None)
                rows.append(
                    (upload.id, internal[owner.id], upload.object_key, "f", 1, "a/b", status)
                )
                rows[-1] = (*rows[-1], created, created)
        cursor.executemany(
            "INSERT INTO uploads (public_id, user_id, object_key, name, size, content_type,"
            " status, created_at, expires_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
            rows,
        )
        cursor.execute("ANALYZE TABLE users, uploads")
        cursor.fetchall()
    return empty_mysql, owners[0].sub


def _plan(
    database: MySQLDatabase, sql: str, params: dict[str, object], table: str = "u"
) -> dict[str, object]:
    """EXPLAIN's row for one table (by alias; `uploads` by default)."""
    return plan_of(database, sql, params, table)


@pytest.mark.parametrize("cursor_at", [1990, 1000, 100])
def test_the_keyset_page_is_a_range_scan_of_the_listing_index(
    listing_data: tuple[MySQLDatabase, str], cursor_at: int
) -> None:
    """At any depth: left to itself, MariaDB reads the owner's uploads from the newest down to
    the cursor (`ref` on (user_id, status)) whenever the range looks large."""
    database, owner = listing_data
    after = ListPosition(T0 + timedelta(seconds=cursor_at), "ffffffff-ffff-7fff-bfff-ffffffffffff")
    plan = _plan(database, *list_stored_query(owner, 20, after))
    assert plan["key"] == "uploads_owner_listing", plan
    assert plan["type"] == "range", plan
    assert int(str(plan["key_len"])) > 22, plan  # the range bounds created_at too
    assert "filesort" not in str(plan["Extra"]), plan
    # The owner, found by the caller's sub in the same query, is one row read once.
    assert _plan(database, *list_stored_query(owner, 20, after), table="o")["type"] == "const"


def test_the_first_page_reads_the_listing_index_in_order(
    listing_data: tuple[MySQLDatabase, str],
) -> None:
    database, owner = listing_data
    plan = _plan(database, *list_stored_query(owner, 20))
    assert plan["key"] == "uploads_owner_listing", plan
    assert plan["type"] in ("ref", "range"), plan
    assert "filesort" not in str(plan["Extra"]), plan


# --- the sweep's plan (MySQL / MariaDB) --------------------------------------------------------


@pytest.fixture
def pending_data(empty_mysql: MySQLDatabase) -> MySQLDatabase:
    """20,000 uploads of 20 owners, one in 20 pending, ten per timestamp; statistics analysed."""
    with (
        pymysql.connect(**empty_mysql.pymysql_kwargs()) as connection,
        connection.cursor() as cursor,
    ):
        owners = [make_user() for _ in range(20)]
        cursor.executemany(
            "INSERT INTO users (public_id, sub, email, quota_bytes, created_at)"
            " VALUES (%s, %s, %s, %s, %s)",
            [(u.id, u.sub, u.email, u.quota_bytes, T0.replace(tzinfo=None)) for u in owners],
        )
        cursor.execute("SELECT id, public_id FROM users")
        internal = {public: row_id for row_id, public in cursor.fetchall()}
        rows = []
        for n in range(20_000):
            owner = owners[n % len(owners)]
            upload = make_upload(owner, created_at=T0 + timedelta(seconds=n // 10))
            created = upload.created_at.replace(tzinfo=None)
            status = "pending" if n % 20 == 0 else "stored"
            row = (upload.id, internal[owner.id], upload.object_key, "f", 1, "a/b", status)
            rows.append((*row, created, created))
        cursor.executemany(
            "INSERT INTO uploads (public_id, user_id, object_key, name, size, content_type,"
            " status, created_at, expires_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
            rows,
        )
        cursor.execute("ANALYZE TABLE users, uploads")
        cursor.fetchall()
    return empty_mysql


@pytest.mark.parametrize("cursor_at", [None, 10, 1000, 1990])
def test_a_sweep_page_is_a_range_scan_in_index_order(
    pending_data: MySQLDatabase, cursor_at: int | None
) -> None:
    """Every page, the first and deep ones alike, reads the pending uploads' part of the index
    from the cursor on, in order: no sort of every pending upload to return 500 of them."""
    after = (
        None
        if cursor_at is None
        else ListPosition(T0 + timedelta(seconds=cursor_at), "00000000-0000-7000-8000-000000000000")
    )
    plan = _plan(pending_data, *list_pending_query(T0 + timedelta(days=1), 500, after))
    assert plan["key"] == "uploads_pending", plan
    assert plan["type"] == "range", plan
    assert "filesort" not in str(plan["Extra"]), plan


# --- migrations --------------------------------------------------------------------------------


async def test_sqlite_migrations_run_twice_change_nothing(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "twice.db")
    assert await upgrade_database(url) == [m.version for m in migrations("sqlite")]
    assert await upgrade_database(url) == []


async def test_sqlite_migration_steps_can_be_repeated_after_a_lost_record(
    tmp_path: Path,
) -> None:
    """A run that died before recording its version is finished by the next run."""
    database = SqlDatabase.from_url(sqlite_url(tmp_path / "again.db"))
    try:
        await database.migrate()
        transaction = await database.begin()
        await transaction.execute("DELETE FROM schema_migrations")
        await transaction.commit()
        assert await database.migrate() == [m.version for m in migrations("sqlite")]
        user = make_user()
        async with database.uow_factory()() as uow:
            await uow.users.add(user)
            await uow.commit()
    finally:
        await database.dispose()


async def test_sqlite_migrations_extend_a_seed_database(tmp_path: Path) -> None:
    """Users written before the e-mail status existed get `ok` and are found by address."""
    path = tmp_path / "seed.db"
    with sqlite3.connect(path) as connection:
        for statement in migrations("sqlite")[0].statements:
            connection.execute(statement)
        connection.execute("INSERT INTO users (sub, email) VALUES ('seed-sub', 'Seed@Example.com')")
    assert await upgrade_database(sqlite_url(path)) == [m.version for m in migrations("sqlite")]
    database = SqlDatabase.from_url(sqlite_url(path))
    try:
        async with database.uow_factory()() as uow:
            owner = await uow.users.get_by_sub("seed-sub")
            assert owner is not None and owner.email_status is EmailStatus.OK
            assert [u.id for u in await uow.users.list_by_email("seed@example.COM")] == [owner.id]
    finally:
        await database.dispose()


@pytest.fixture
def scratch_mysql(mysql_database: MySQLDatabase) -> Iterator[MySQLDatabase]:
    """An empty database of its own on the session's server, dropped after the test."""
    name = f"{mysql_database.database}_{secrets.token_hex(3)}"
    admin = replace(mysql_database, database="")
    with pymysql.connect(**admin.pymysql_kwargs()) as connection:
        connection.cursor().execute(f"CREATE DATABASE `{name}` CHARACTER SET latin1")
    try:
        yield replace(mysql_database, database=name)
    finally:
        with pymysql.connect(**admin.pymysql_kwargs()) as connection:
            connection.cursor().execute(f"DROP DATABASE IF EXISTS `{name}`")


async def test_mysql_migrations_extend_a_seed_database_and_are_idempotent(
    scratch_mysql: MySQLDatabase,
) -> None:
    """A database of the seed system (latin1 server default, rows in it) is extended in place;
    running again changes nothing, and repeating every step after a lost record is harmless."""
    seed = migrations("mysql")[0]
    with (
        pymysql.connect(**scratch_mysql.pymysql_kwargs()) as connection,
        connection.cursor() as cursor,
    ):
        for statement in seed.statements:
            cursor.execute(statement)
        cursor.execute("INSERT INTO users (sub, email) VALUES ('seed-sub', 'seed@example.com')")
        cursor.execute(
            "INSERT INTO uploads (object_key, name, user_id) VALUES ('old-key', 'old.txt', 1)"
        )
    assert await upgrade_database(scratch_mysql.url) == [m.version for m in migrations("mysql")]
    assert await upgrade_database(scratch_mysql.url) == []
    with pymysql.connect(**scratch_mysql.pymysql_kwargs()) as connection:
        connection.cursor().execute("DELETE FROM schema_migrations")
    assert await upgrade_database(scratch_mysql.url) == [m.version for m in migrations("mysql")]

    database = SqlDatabase.from_url(scratch_mysql.url)
    try:
        async with database.uow_factory()() as uow:
            old = await uow.uploads.get_by_object_key("old-key")
            owner = await uow.users.get_by_sub("seed-sub")
            assert old is not None and owner is not None
            assert (old.status, old.owner_id, old.name) == (
                UploadStatus.STORED,
                owner.id,
                "old.txt",
            )
            # Written before the e-mail status existed: mail reaches them, and they are found
            # by their address whatever its case.
            assert owner.email_status is EmailStatus.OK
            assert [u.id for u in await uow.users.list_by_email("SEED@example.com")] == [owner.id]
            emoji = make_upload(owner, name="😀" * 255)
            await uow.uploads.add(emoji)
            await uow.commit()
        async with database.uow_factory()() as uow:
            loaded = await uow.uploads.get(emoji.id)
            assert loaded is not None and loaded.name == "😀" * 255
    finally:
        await database.dispose()


async def test_sqlite_reads_the_listing_index_in_order(sqlite_database: SqliteDatabase) -> None:
    after = ListPosition(T0, "ffffffff-ffff-7fff-bfff-ffffffffffff")
    transaction = await sqlite_database.begin()
    try:
        for position in (None, after):
            sql, params = list_stored_query("owner", 20, position, "sqlite")
            plan = " | ".join(
                str(row[3]) for row in await transaction.fetch("EXPLAIN QUERY PLAN " + sql, params)
            )
            assert "USING INDEX uploads_owner_listing (user_id=? AND status=?" in plan, plan
            assert "TEMP B-TREE" not in plan, plan  # no sort: the index gives the order
    finally:
        await transaction.rollback()


async def test_sqlite_reads_the_sweep_index_in_order(sqlite_database: SqliteDatabase) -> None:
    after = ListPosition(T0, "00000000-0000-7000-8000-000000000000")
    transaction = await sqlite_database.begin()
    try:
        for position in (None, after):
            sql, params = list_pending_query(T0 + timedelta(days=1), 500, position, "sqlite")
            plan = " | ".join(
                str(row[3]) for row in await transaction.fetch("EXPLAIN QUERY PLAN " + sql, params)
            )
            assert "USING INDEX uploads_pending (pending_since" in plan, plan
            assert "TEMP B-TREE" not in plan, plan  # no sort: the index gives the order
    finally:
        await transaction.rollback()
