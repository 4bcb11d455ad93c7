"""Migration 0005 on a database that already holds files: everything lands in the root, every
row gets the keys only the application computes, and names that clash in the root now (v1
allowed repeats) are told apart, the oldest keeping its own; running it again changes nothing.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pymysql
import pytest

from filestore.adapters.sql.alchemy import SqlDatabase, upgrade_database
from filestore.adapters.sql.migrations import migrations
from filestore.domain.names import search_key
from filestore.domain.ports import ANY_FOLDER, FileQuery, SortField
from tests.factories import T0, make_upload, make_user
from tests.support.mysql import MySQLDatabase, apply_mysql_migrations
from tests.support.sql import sqlite_url

pytestmark = pytest.mark.integration

# (name, status), oldest first: two clash with the first by their keys, one is pending (holds
# no name), and one is someone else's.
ROWS = [
    ("Report.pdf", "stored"),
    ("report.PDF", "stored"),
    ("Résumé.pdf", "stored"),
    ("REPORT.pdf", "stored"),
    ("report.pdf", "pending"),
]


def _v4_rows() -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    owner, other = make_user(), make_user()
    users = [(u.id, u.sub, u.email, T0.replace(tzinfo=None)) for u in (owner, other)]
    uploads = []
    for n, (name, status) in enumerate([*ROWS, ("Report.pdf", "stored")]):
        upload = make_upload(owner if n < len(ROWS) else other)
        created = T0.replace(tzinfo=None, microsecond=n)
        uploads.append(
            (upload.id, 1 if n < len(ROWS) else 2, upload.object_key, name, status, created)
        )
    return users, uploads


async def _check(url: str) -> None:
    database = SqlDatabase.from_url(url)
    try:
        async with database.uow_factory()() as uow:
            owner = await uow.users.get_by_sub(_SUBS[0])
            assert owner is not None
            listed = await uow.uploads.list_files_for_sub(
                owner.sub, FileQuery(folder=None, sort=SortField.CREATED_AT, descending=False), 10
            )
            assert [u.name for u in listed or []] == [
                "Report.pdf", "report (2).PDF", "Résumé.pdf", "REPORT (3).pdf",
            ]  # fmt: skip
            assert all(u.folder_id is None for u in listed or [])
            found = await uow.uploads.list_files_for_sub(
                owner.sub, FileQuery(folder=ANY_FOLDER, contains=search_key("resume")), 10
            )
            assert [u.name for u in found or []] == ["Résumé.pdf"]
            assert await uow.folders.find_clash(owner.id, None, "report (2).pdf") is not None
    finally:
        await database.dispose()


_SUBS: list[str] = []


async def test_sqlite_existing_files_get_keys_and_distinct_names(tmp_path: Path) -> None:
    path = tmp_path / "v4.db"
    users, uploads = _v4_rows()
    _SUBS[:] = [users[0][1]]
    with sqlite3.connect(path) as connection:
        for migration in migrations("sqlite")[:4]:
            for statement in migration.statements:
                connection.execute(statement)
        connection.executemany(
            "INSERT INTO users (public_id, sub, email, created_at) VALUES (?, ?, ?, ?)",
            [(*u[:3], str(u[3])) for u in users],
        )
        connection.executemany(
            "INSERT INTO uploads (public_id, user_id, object_key, name, status, created_at,"
            " expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(*u[:5], u[5].isoformat(sep=" "), u[5].isoformat(sep=" ")) for u in uploads],
        )
    url = sqlite_url(path)
    assert await upgrade_database(url) == [m.version for m in migrations("sqlite")]
    await _check(url)
    with sqlite3.connect(path) as connection:
        connection.execute("DELETE FROM schema_migrations WHERE version = 5")
    assert await upgrade_database(url) == [5]  # again: nothing left to fill or rename
    await _check(url)


@pytest.fixture
def v4_mysql(mysql_database: MySQLDatabase) -> Iterator[MySQLDatabase]:
    from tests.support.mysql import scratch_database

    with scratch_database(replace(mysql_database, database="")) as database:
        yield database


async def test_mysql_existing_files_get_keys_and_distinct_names(v4_mysql: MySQLDatabase) -> None:
    users, uploads = _v4_rows()
    _SUBS[:] = [users[0][1]]
    with (
        pymysql.connect(**v4_mysql.pymysql_kwargs()) as connection,
        connection.cursor() as cursor,
    ):
        apply_mysql_migrations(cursor, 4)
        cursor.executemany(
            "INSERT INTO users (public_id, sub, email, created_at) VALUES (%s, %s, %s, %s)", users
        )
        cursor.executemany(
            "INSERT INTO uploads (public_id, user_id, object_key, name, status, created_at,"
            " expires_at) VALUES (%s, %s, %s, %s, %s, %s, %s)",
            [(*u, u[5]) for u in uploads],
        )
        connection.commit()
    assert await upgrade_database(v4_mysql.url) == [m.version for m in migrations("mysql")]
    await _check(v4_mysql.url)
    with pymysql.connect(**v4_mysql.pymysql_kwargs()) as connection:
        connection.cursor().execute("DELETE FROM schema_migrations WHERE version = 5")
        connection.commit()
    assert await upgrade_database(v4_mysql.url) == [5]
    await _check(v4_mysql.url)
