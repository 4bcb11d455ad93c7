"""pytest fixtures finding a MySQL (or MariaDB) for integration tests, and a Data API on it.

A server is looked for in this order (DESIGN.md, "Test services"):

1. ``FILESTORE_TEST_MYSQL_URL``, a SQLAlchemy-style URL such as
   ``mysql+aiomysql://root:@127.0.0.1:3306/test`` (its user must be allowed to create databases);
2. a MySQL 8 container from testcontainers, when a Docker daemon answers;
3. a server on 127.0.0.1:3306 (user root, empty password).

Every test session gets a throw-away database of its own, dropped at the end. When no server is
found the tests that need one are skipped, unless ``FILESTORE_REQUIRE_SERVICES=1`` (as in CI):
then they fail, so that a missing service never passes for a green run.

Load with ``pytest_plugins = ["tests.support.mysql"]``.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import quote

import pymysql
import pytest

from tests.support.dataapi_emulator import DataApiEmulator
from tests.support.mysql_url import mysql_server
from tests.support.required import unavailable

__all__ = [
    "MySQLDatabase",
    "dataapi_emulator",
    "fresh_mysql_database",
    "mysql_database",
    "scratch_database",
]

URL_VARIABLE = "FILESTORE_TEST_MYSQL_URL"
LOCAL_SERVER = ("127.0.0.1", 3306)
MYSQL_IMAGE = "mysql:8.0"


@dataclass(frozen=True)
class MySQLDatabase:
    """Where a test database lives, and how each driver reaches it."""

    host: str
    port: int
    user: str
    password: str
    database: str

    @property
    def url(self) -> str:
        """The SQLAlchemy URL for the asyncio driver, ``mysql+aiomysql://…``."""
        credentials = f"{quote(self.user, safe='')}:{quote(self.password, safe='')}"
        return (
            f"mysql+aiomysql://{credentials}@{self.host}:{self.port}/"
            f"{quote(self.database, safe='')}?charset=utf8mb4"
        )

    def pymysql_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``pymysql.connect``."""
        kwargs: dict[str, Any] = {
            "host": self.host,
            "port": self.port,
            "user": self.user,
            "password": self.password,
            "charset": "utf8mb4",
            "autocommit": True,
            "connect_timeout": 5,
        }
        if self.database:
            kwargs["database"] = self.database
        return kwargs


def _parse_url(url: str) -> MySQLDatabase:
    try:
        return MySQLDatabase(**mysql_server(url))
    except ValueError as error:
        raise ValueError(f"{URL_VARIABLE}: {error}") from error


def _answers(server: MySQLDatabase) -> str | None:
    """None if the server accepts a connection, else why not."""
    try:
        pymysql.connect(**server.pymysql_kwargs()).close()
    except pymysql.MySQLError as error:
        return str(error)
    return None


def _docker_answers() -> bool:
    try:
        import docker  # testcontainers depends on it.
    except ImportError:
        return False
    try:
        client = docker.from_env(timeout=3)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:  # Any failure to reach the daemon means: no Docker here.
        return False


def _mysql_container(stack: ExitStack) -> MySQLDatabase:
    try:
        from testcontainers.community.mysql import MySqlContainer
    except ImportError:
        try:  # testcontainers before its "community" split.
            from testcontainers.mysql import MySqlContainer
        except ImportError:
            unavailable("a Docker daemon answers but testcontainers is not installed")
    password = secrets.token_hex(8)
    # As root, so that the fixture may create and drop its database.
    container = MySqlContainer(MYSQL_IMAGE, username="root", password=password)
    stack.enter_context(container)
    return MySQLDatabase(
        host=container.get_container_host_ip(),
        port=int(container.get_exposed_port(3306)),
        user="root",
        password=password,
        database="",
    )


def _find_server(stack: ExitStack) -> MySQLDatabase:
    if url := os.environ.get(URL_VARIABLE):
        server = _parse_url(url)
        # An address given on purpose that does not answer is a mistake to show, not to skip.
        if (problem := _answers(server)) is not None:
            pytest.fail(f"{URL_VARIABLE} does not answer: {problem}", pytrace=False)
        return server
    if _docker_answers():
        return _mysql_container(stack)
    host, port = LOCAL_SERVER
    server = MySQLDatabase(host=host, port=port, user="root", password="", database="")
    if (problem := _answers(server)) is not None:
        unavailable(
            f"no MySQL for integration tests: {URL_VARIABLE} is not set, no Docker daemon "
            f"answers, and {host}:{port} does not accept root without a password ({problem})"
        )
    return server


def _administer(server: MySQLDatabase, statement: str) -> None:
    # A connection of its own each time: one kept for the whole session might have timed out.
    with (
        pymysql.connect(**replace(server, database="").pymysql_kwargs()) as connection,
        connection.cursor() as cursor,
    ):
        cursor.execute(statement)


@pytest.fixture(scope="session")
def mysql_database() -> Iterator[MySQLDatabase]:
    """A database of its own for this test session, on the first MySQL found; dropped after."""
    with ExitStack() as stack:
        server = _find_server(stack)
        name = f"filestore_test_{secrets.token_hex(6)}"
        _administer(server, f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
        try:
            yield replace(server, database=name)
        finally:
            _administer(server, f"DROP DATABASE IF EXISTS `{name}`")


@contextmanager
def scratch_database(server: MySQLDatabase) -> Iterator[MySQLDatabase]:
    """Another empty database on the same server, for a test that must start from nothing
    (the session's one is migrated and shared); dropped after."""
    name = f"filestore_scratch_{secrets.token_hex(6)}"
    _administer(server, f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    try:
        yield replace(server, database=name)
    finally:
        _administer(server, f"DROP DATABASE IF EXISTS `{name}`")


@pytest.fixture
def fresh_mysql_database(mysql_database: MySQLDatabase) -> Iterator[MySQLDatabase]:
    """An empty database of its own for one test (no schema at all); dropped after."""
    with scratch_database(mysql_database) as database:
        yield database


@pytest.fixture(scope="session")
def dataapi_emulator(mysql_database: MySQLDatabase) -> Iterator[DataApiEmulator]:
    """A Data API emulator serving the session's database; its ``endpoint_url`` is for boto3.

    Shared by the session: a test that injects faults should call ``reset_faults()`` after.
    """
    emulator = DataApiEmulator(
        host=mysql_database.host,
        port=mysql_database.port,
        user=mysql_database.user,
        password=mysql_database.password,
        database=mysql_database.database,
    )
    with emulator:
        yield emulator


def apply_mysql_migrations(cursor: Any, count: int) -> None:
    """Apply the first `count` MySQL migrations through `cursor` (pymysql), statement by
    statement, taking the errors the runner takes as "done" as done: an older schema to start a
    migration's test from."""
    from filestore.adapters.sql.migrations import migrations

    for migration in migrations("mysql")[:count]:
        for statement in migration.statements:
            try:
                cursor.execute(statement)
            except pymysql.err.OperationalError as error:
                # Table, column or key there already, or gone already (MariaDB drops the seed's
                # index on user_id itself once the listing index serves the foreign key).
                if error.args[0] not in (1050, 1060, 1061, 1091, 1826):
                    raise
