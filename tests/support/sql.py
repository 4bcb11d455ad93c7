"""Fixtures for the SQL persistence adapters: SQLite files, MariaDB/MySQL, the Data API emulator.

Each `uow_factory_<adapter>` gives a unit-of-work factory over an empty, migrated schema:
SQLite gets a new file per test; MySQL and the Data API share the session's throw-away
database (`tests.support.mysql`), migrated once and emptied before each test.

Load with `pytest_plugins = ["tests.support.sql"]` (after `tests.support.mysql`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import boto3
import pymysql
import pytest
from botocore.config import Config
from pymysql.cursors import Cursor

from filestore.adapters.dataapi.database import DataApiDatabase, RetryBudget
from filestore.adapters.sql.alchemy import SqlDatabase, upgrade_database
from filestore.adapters.sql.sqlite import SqliteDatabase
from filestore.adapters.sql.unit_of_work import SqlUnitOfWorkFactory
from filestore.domain.model import User
from tests.factories import T0, make_user
from tests.support.dataapi_emulator import DataApiEmulator
from tests.support.mysql import MySQLDatabase

# Children before parents: emptied in this order, foreign keys hold throughout.
TABLES = ("processed_events", "outbox", "connections", "shares", "uploads", "folders", "users")

RESOURCE_ARN = "arn:aws:rds:eu-west-1:123456789012:cluster:filestore-test"
SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:filestore-test-abc123"


def insert_owners(cursor: Cursor, count: int) -> tuple[list[User], dict[str, int]]:
    """`count` new users inserted on a PyMySQL cursor, and each one's row id by public id (for
    tests that load rows in bulk, beneath the repositories)."""
    owners = [make_user() for _ in range(count)]
    cursor.executemany(
        "INSERT INTO users (public_id, sub, email, quota_bytes, created_at)"
        " VALUES (%s, %s, %s, %s, %s)",
        [(u.id, u.sub, u.email, u.quota_bytes, T0.replace(tzinfo=None)) for u in owners],
    )
    cursor.execute(
        "SELECT id, public_id FROM users WHERE public_id IN %s", ([u.id for u in owners],)
    )
    return owners, {public: row_id for row_id, public in cursor.fetchall()}


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture
async def sqlite_database(tmp_path: Path) -> AsyncIterator[SqliteDatabase]:
    """A migrated SQLite database in a new file (on `sqlite3`, as `filestore serve` opens one)."""
    database = SqliteDatabase.from_url(sqlite_url(tmp_path / "filestore.db"))
    await database.migrate()
    yield database
    await database.dispose()


@pytest.fixture(scope="session")
def migrated_mysql(mysql_database: MySQLDatabase) -> MySQLDatabase:
    """The session's MySQL database with the schema migrated (once)."""
    asyncio.run(upgrade_database(mysql_database.url))
    return mysql_database


def empty_tables(database: MySQLDatabase) -> None:
    """Delete every row (DELETE, not TRUNCATE: a few rows go faster than a table rebuild)."""
    with (
        pymysql.connect(**database.pymysql_kwargs()) as connection,
        connection.cursor() as cursor,
    ):
        for table in TABLES:
            cursor.execute(f"DELETE FROM {table}")


@pytest.fixture
def empty_mysql(migrated_mysql: MySQLDatabase) -> MySQLDatabase:
    """The migrated session database, emptied for this test."""
    empty_tables(migrated_mysql)
    return migrated_mysql


@pytest.fixture
async def mysql_sql_database(empty_mysql: MySQLDatabase) -> AsyncIterator[SqlDatabase]:
    database = SqlDatabase.from_url(empty_mysql.url)
    yield database
    await database.dispose()


def emulator_client(emulator: DataApiEmulator) -> object:
    """An `rds-data` client for the emulator (dummy credentials: it checks no signature)."""
    return boto3.client(
        "rds-data",
        endpoint_url=emulator.endpoint_url,
        region_name="eu-west-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"mode": "standard", "max_attempts": 1}),
    )


@pytest.fixture(scope="session")
def dataapi_client(dataapi_emulator: DataApiEmulator) -> object:
    return emulator_client(dataapi_emulator)


@pytest.fixture
def dataapi_database(
    empty_mysql: MySQLDatabase, dataapi_emulator: DataApiEmulator, dataapi_client: object
) -> Iterator[DataApiDatabase]:
    """The Data API adapter on the emulator, over the emptied session database."""
    yield DataApiDatabase(
        dataapi_client,
        resource_arn=RESOURCE_ARN,
        secret_arn=SECRET_ARN,
        database=empty_mysql.database,
        retry=RetryBudget(seconds=5.0, first_delay=0.01, max_delay=0.1),
    )
    dataapi_emulator.reset_faults()  # a failed test must leave no faults to the next one


@pytest.fixture
def uow_factory_sqlite(sqlite_database: SqliteDatabase) -> SqlUnitOfWorkFactory:
    return sqlite_database.uow_factory()


@pytest.fixture
def uow_factory_mysql(mysql_sql_database: SqlDatabase) -> SqlUnitOfWorkFactory:
    return mysql_sql_database.uow_factory()


@pytest.fixture
def uow_factory_dataapi(dataapi_database: DataApiDatabase) -> SqlUnitOfWorkFactory:
    return dataapi_database.uow_factory()
