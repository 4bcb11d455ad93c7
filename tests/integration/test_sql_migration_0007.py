"""Migration 0007 on a database that already holds files: each upload's `updated_at` is the
latest time its row recorded (created, stored, trashed, restored); running it again changes
nothing; on MySQL the column is NOT NULL afterwards.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pymysql
import pytest

from filestore.adapters.sql.alchemy import SqlDatabase, upgrade_database
from filestore.adapters.sql.migrations import migrations
from tests.factories import T0, make_upload, make_user
from tests.support.mysql import MySQLDatabase, apply_mysql_migrations
from tests.support.sql import sqlite_url

pytestmark = pytest.mark.integration

NAIVE = T0.replace(tzinfo=None)
MINUTE = timedelta(minutes=1)
# status, stored_at, trashed_at, restored_at (minutes after T0, None: not recorded), and the
# `updated_at` expected (minutes after T0).
ROWS: list[tuple[str, int | None, int | None, int | None, int]] = [
    ("pending", None, None, None, 0),
    ("stored", 2, None, None, 2),
    ("trashed", 2, 5, None, 5),
    ("stored", 2, None, 9, 9),  # restored from the trash
    ("trashed", 2, 12, 9, 12),  # restored, then trashed again
]


def _at(minutes: int | None) -> datetime | None:
    return None if minutes is None else NAIVE + minutes * MINUTE


def _v6_rows() -> tuple[tuple[object, ...], list[tuple[object, ...]], list[int]]:
    owner = make_user()
    user = (owner.id, owner.sub, owner.email, NAIVE)
    uploads: list[tuple[object, ...]] = []
    for status, stored, trashed, restored, _ in ROWS:
        upload = make_upload(owner)
        times = (_at(stored), _at(trashed), upload.id if trashed else None, _at(restored))
        uploads.append(
            (upload.id, 1, upload.object_key, "f.txt", status, NAIVE, NAIVE + MINUTE, *times)
        )
    return user, uploads, [row[-1] for row in ROWS]


_INSERT_UPLOAD = (
    "INSERT INTO uploads (public_id, user_id, object_key, name, status, created_at, expires_at,"
    " stored_at, trashed_at, trashed_with, restored_at) VALUES ({})"
)


async def _check(url: str, uploads: list[tuple[object, ...]], expected: list[int]) -> None:
    database = SqlDatabase.from_url(url)
    try:
        async with database.uow_factory()() as uow:
            for row, minutes in zip(uploads, expected, strict=True):
                loaded = await uow.uploads.get(str(row[0]))
                assert loaded is not None
                assert loaded.updated_at == T0 + minutes * MINUTE, loaded.status
    finally:
        await database.dispose()


async def test_sqlite_existing_uploads_get_their_latest_time(tmp_path: Path) -> None:
    path = tmp_path / "v6.db"
    user, uploads, expected = _v6_rows()
    with sqlite3.connect(path) as connection:
        for migration in migrations("sqlite")[:6]:
            for statement in migration.statements:
                connection.execute(statement)
        connection.execute(
            "INSERT INTO users (public_id, sub, email, created_at) VALUES (?, ?, ?, ?)",
            (*user[:3], str(user[3])),
        )
        connection.executemany(
            _INSERT_UPLOAD.format(", ".join("?" * 11)),
            [tuple(str(v) if isinstance(v, datetime) else v for v in row) for row in uploads],
        )
    url = sqlite_url(path)
    # (the steps run by hand above were not recorded: the runner takes them as done)
    assert await upgrade_database(url) == [m.version for m in migrations("sqlite")]
    await _check(url, uploads, expected)
    with sqlite3.connect(path) as connection:
        connection.execute("DELETE FROM schema_migrations WHERE version = 7")
    assert await upgrade_database(url) == [7]  # again: nothing left to fill
    await _check(url, uploads, expected)


@pytest.fixture
def v6_mysql(mysql_database: MySQLDatabase) -> Iterator[MySQLDatabase]:
    from tests.support.mysql import scratch_database

    with scratch_database(replace(mysql_database, database="")) as database:
        yield database


async def test_mysql_existing_uploads_get_their_latest_time_and_it_is_required(
    v6_mysql: MySQLDatabase,
) -> None:
    user, uploads, expected = _v6_rows()
    with (
        pymysql.connect(**v6_mysql.pymysql_kwargs()) as connection,
        connection.cursor() as cursor,
    ):
        apply_mysql_migrations(cursor, 6)
        cursor.execute(
            "INSERT INTO users (public_id, sub, email, created_at) VALUES (%s, %s, %s, %s)", user
        )
        cursor.executemany(_INSERT_UPLOAD.format(", ".join(["%s"] * 11)), uploads)
        connection.commit()
    assert await upgrade_database(v6_mysql.url) == [m.version for m in migrations("mysql")]
    await _check(v6_mysql.url, uploads, expected)
    with pymysql.connect(**v6_mysql.pymysql_kwargs()) as connection, connection.cursor() as cursor:
        cursor.execute(
            "SELECT is_nullable FROM information_schema.columns WHERE table_schema = DATABASE()"
            " AND table_name = 'uploads' AND column_name = 'updated_at'"
        )
        assert cursor.fetchone() == ("NO",)
        cursor.execute("DELETE FROM schema_migrations WHERE version = 7")
        connection.commit()
    assert await upgrade_database(v6_mysql.url) == [7]
    await _check(v6_mysql.url, uploads, expected)
