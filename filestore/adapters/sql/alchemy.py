"""The SQL repositories on SQLAlchemy 2's asyncio engine: MySQL via aiomysql, SQLite via aiosqlite.

`SqlDatabase.from_url(url)` makes the engine and its pool once per process; units of work take
a connection from the pool for one transaction and give it back when they end, so nothing
leaks and warm Lambda invocations reuse connections. `upgrade_database(url)` runs the
migrations. Only SQLAlchemy Core is used (text statements); the domain has no ORM mapping.
`open_database(url)`, what the composition root uses, opens a SQLite file on the standard
library's `sqlite3` instead (`filestore.adapters.sql.sqlite`: one hop per statement).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import event, exc, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.sql.elements import TextClause

from filestore.adapters.sql.executor import (
    ER_DUP_ENTRY,
    ER_LOCK_DEADLOCK,
    Dialect,
    Isolation,
    Params,
    Row,
    SqlError,
    format_db_time,
)
from filestore.adapters.sql.migrations import run_migrations
from filestore.adapters.sql.sqlite_writers import SqliteWriters
from filestore.adapters.sql.unit_of_work import SqlUnitOfWorkFactory
from filestore.domain.errors import AlreadyExists, ConcurrencyConflict

if TYPE_CHECKING:
    from filestore.adapters.sql.sqlite import SqliteDatabase

# SQLite's extended result codes (sqlite3.Error.sqlite_errorcode).
_SQLITE_CONSTRAINT_PRIMARYKEY = 1555
_SQLITE_CONSTRAINT_UNIQUE = 2067
_SQLITE_BUSY = 5  # and BUSY_SNAPSHOT (517): low byte 5


def _dialect_of(url: URL) -> Dialect:
    backend = url.get_backend_name()
    if backend in ("mysql", "mariadb"):
        return "mysql"
    if backend == "sqlite":
        return "sqlite"
    raise ValueError(f"unsupported database {backend!r}: use mysql+aiomysql or sqlite+aiosqlite")


def _translate(error: exc.DBAPIError) -> Exception:
    """The domain's name for a driver error, or a `SqlError`."""
    orig = error.orig
    sqlite_code = getattr(orig, "sqlite_errorcode", None)
    if isinstance(orig, sqlite3.Error) and sqlite_code is not None:
        if sqlite_code in (_SQLITE_CONSTRAINT_UNIQUE, _SQLITE_CONSTRAINT_PRIMARYKEY):
            return AlreadyExists("That value is taken.")
        if sqlite_code & 0xFF == _SQLITE_BUSY:
            # A writer whose snapshot is stale, or who waited too long for the write lock.
            return ConcurrencyConflict("The data was changed concurrently; try again.")
        return SqlError(str(orig))
    args = getattr(orig, "args", ())
    code = args[0] if args and isinstance(args[0], int) else None
    if code == ER_DUP_ENTRY:
        return AlreadyExists("That value is taken.")
    if code == ER_LOCK_DEADLOCK:
        return ConcurrencyConflict("The data was changed concurrently; try again.")
    return SqlError(str(orig), code)


class AlchemyExecutor:
    """Runs SQL text on one `AsyncConnection`."""

    def __init__(self, connection: AsyncConnection, dialect: Dialect) -> None:
        self._connection = connection
        self._dialect = dialect

    @property
    def dialect(self) -> Dialect:
        return self._dialect

    def _bind(self, params: Params | None) -> dict[str, Any]:
        if not params:
            return {}
        if self._dialect == "sqlite":
            # Python's sqlite3 datetime adapter is deprecated and drops the fixed width.
            return {
                k: format_db_time(v) if isinstance(v, datetime) else v for k, v in params.items()
            }
        return dict(params)

    async def fetch(self, sql: str, params: Params | None = None) -> list[Row]:
        try:
            result = await self._connection.execute(_text(sql), self._bind(params))
            return [tuple(row) for row in result]
        except exc.DBAPIError as error:
            raise _translate(error) from error

    async def execute(self, sql: str, params: Params | None = None) -> int:
        try:
            result = await self._connection.execute(_text(sql), self._bind(params))
            return int(result.rowcount)
        except exc.DBAPIError as error:
            raise _translate(error) from error

    async def execute_many(self, sql: str, param_sets: Sequence[Params]) -> None:
        if not param_sets:
            return
        try:
            await self._connection.execute(_text(sql), [self._bind(p) for p in param_sets])
        except exc.DBAPIError as error:
            raise _translate(error) from error


class AlchemyTransaction(AlchemyExecutor):
    """A pooled connection inside a transaction; returned to the pool when it ends."""

    def __init__(
        self, connection: AsyncConnection, dialect: Dialect, on_end: Callable[[], None]
    ) -> None:
        super().__init__(connection, dialect)
        self._on_end = on_end

    async def _close(self) -> None:
        try:
            await self._connection.close()
        finally:
            on_end, self._on_end = self._on_end, _nothing
            on_end()

    async def commit(self) -> None:
        try:
            await self._connection.commit()
        except exc.DBAPIError as error:
            raise _translate(error) from error
        finally:
            await self._close()

    async def rollback(self) -> None:
        try:
            await self._connection.rollback()
        finally:
            await self._close()


def _nothing() -> None:
    return None


_texts: dict[str, TextClause] = {}


def _text(sql: str) -> TextClause:
    # The statements are a small fixed set: parse each once.
    clause = _texts.get(sql)
    if clause is None:
        clause = _texts[sql] = text(sql)
    return clause


class SqlDatabase:
    """One engine (and its connection pool) for a process, and the units of work on it.

    A second engine runs the statements that stand on their own (`fetch`, `execute`: a unit of
    work's reads before it writes, and its lone writes) on connections in autocommit mode, which
    need no BEGIN, COMMIT or ROLLBACK after them: round trips on MySQL, and on SQLite hops to
    the driver's thread (a statement on its own is a transaction of its own there).
    """

    def __init__(self, engine: AsyncEngine, autocommit_engine: AsyncEngine | None = None) -> None:
        # Without an autocommit engine, lone statements run in a transaction of their own.
        self.engine = engine
        self.autocommit_engine = autocommit_engine
        self._dialect = _dialect_of(engine.url)
        self._writers = SqliteWriters() if self._dialect == "sqlite" else None

    @classmethod
    def from_url(cls, url: str, **engine_options: Any) -> SqlDatabase:
        """An engine for `mysql+aiomysql://…` or `sqlite+aiosqlite:///path`, pooled to suit
        the process: small in a Lambda execution environment, larger in a server."""
        parsed = make_url(url)
        dialect = _dialect_of(parsed)
        options: dict[str, Any] = {}
        if dialect == "mysql":
            if "charset" not in parsed.query:
                parsed = parsed.update_query_dict({"charset": "utf8mb4"})
            in_lambda = "AWS_LAMBDA_FUNCTION_NAME" in os.environ
            options |= {
                # A Lambda environment serves one request at a time: a couple of connections
                # survive warm invocations; a server shares a larger pool among its requests.
                # A connection to a server may have been closed by it meanwhile; a SQLite file
                # cannot, so nothing there pays a ping per checkout.
                "pool_pre_ping": True,
                "pool_size": 2 if in_lambda else 5,
                "max_overflow": 2 if in_lambda else 10,
                # Below the server's wait_timeout, so a frozen environment wakes to fresh
                # connections (pre-ping catches the rest).
                "pool_recycle": 280,
                # No gap locks: the outbox relay's SKIP LOCKED read must not block writers
                # appending events while it publishes.
                "isolation_level": "READ COMMITTED",
            }
        options |= engine_options
        if dialect == "sqlite":
            # Every transaction ends in COMMIT or ROLLBACK before its connection goes back to
            # the pool: a rollback on return would be one more hop to the driver's thread.
            options.setdefault("pool_reset_on_return", None)
        engine = create_async_engine(parsed, **options)
        if dialect == "sqlite":
            _configure_sqlite(engine)
            autocommit_engine = create_async_engine(
                parsed,
                **(options | {"isolation_level": "AUTOCOMMIT", "skip_autocommit_rollback": True}),
            )
            _configure_sqlite(autocommit_engine, transactions=False)
            return cls(engine, autocommit_engine)
        autocommit = options | {
            "isolation_level": "AUTOCOMMIT",
            # Nothing to roll back on a connection in autocommit mode: no ROLLBACK sent when a
            # statement is done or the connection goes back to the pool.
            "skip_autocommit_rollback": True,
        }
        return cls(engine, create_async_engine(parsed, **autocommit))

    @property
    def dialect(self) -> Dialect:
        return self._dialect

    @property
    def isolation(self) -> Isolation:
        # MySQL transactions are READ COMMITTED (the engine below); SQLite has one writer.
        return "read committed" if self._dialect == "mysql" else "serializable"

    async def _turn_to_write(self) -> Callable[[], None]:
        return _nothing if self._writers is None else await self._writers.turn()

    async def begin(self) -> AlchemyTransaction:
        end_turn = await self._turn_to_write()
        try:
            connection = await self.engine.connect()
            try:
                await connection.begin()
            except BaseException:
                await connection.close()
                raise
        except BaseException:
            end_turn()
            raise
        return AlchemyTransaction(connection, self._dialect, end_turn)

    async def fetch(self, sql: str, params: Params | None = None) -> list[Row]:
        """One query outside any transaction (see the class doc)."""
        if self.autocommit_engine is None:
            transaction = await self.begin()
            try:
                return await transaction.fetch(sql, params)
            finally:
                await transaction.rollback()
        async with self.autocommit_engine.connect() as connection:
            return await AlchemyExecutor(connection, self._dialect).fetch(sql, params)

    async def execute(self, sql: str, params: Params | None = None) -> int:
        """One statement that commits on its own (see the class doc)."""
        if self.autocommit_engine is None:
            transaction = await self.begin()
            try:
                count = await transaction.execute(sql, params)
            except BaseException:
                await transaction.rollback()
                raise
            await transaction.commit()
            return count
        end_turn = await self._turn_to_write()
        try:
            async with self.autocommit_engine.connect() as connection:
                return await AlchemyExecutor(connection, self._dialect).execute(sql, params)
        finally:
            end_turn()

    def uow_factory(self) -> SqlUnitOfWorkFactory:
        return SqlUnitOfWorkFactory(self)

    async def migrate(self) -> list[int]:
        """Apply the migrations not yet applied; returns their versions."""
        if self._dialect == "sqlite":
            # SQLite's DDL is transactional: all of it or none of it, in one transaction.
            transaction = await self.begin()
            try:
                applied = await run_migrations(transaction)
            except BaseException:
                await transaction.rollback()
                raise
            await transaction.commit()
            return applied
        async with self.engine.connect() as connection:
            autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
            return await run_migrations(AlchemyExecutor(autocommit, self._dialect))

    async def dispose(self) -> None:
        """Close every pooled connection (at shutdown, or at the end of a test)."""
        await self.engine.dispose()
        if self.autocommit_engine is not None:
            await self.autocommit_engine.dispose()


def _configure_sqlite(engine: AsyncEngine, *, transactions: bool = True) -> None:
    """Real transactions on SQLite: BEGIN before the first statement (pysqlite's own handling
    would not begin one for a SELECT), foreign keys on, WAL so readers never wait for the writer,
    and a wait for the write lock instead of failing at once. Without `transactions` (the
    autocommit engine) each statement is a transaction of its own."""

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in ("foreign_keys = ON", "journal_mode = WAL", "busy_timeout = 5000"):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    if not transactions:
        return

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN")


def open_database(url: str) -> SqlDatabase | SqliteDatabase:
    """The database at `url`: MySQL through SQLAlchemy and aiomysql; a SQLite file through the
    standard library's `sqlite3`, one hop per statement (`filestore.adapters.sql.sqlite`)."""
    if make_url(url).get_backend_name() == "sqlite":
        from filestore.adapters.sql.sqlite import SqliteDatabase

        return SqliteDatabase.from_url(url)
    return SqlDatabase.from_url(url)


async def upgrade_database(url: str) -> list[int]:
    """`filestore db upgrade`: migrate the database at `url`; returns the versions applied."""
    database = open_database(url)
    try:
        return await database.migrate()
    finally:
        await database.dispose()


def sql_uow_factory(url: str | None) -> SqlUnitOfWorkFactory:
    """The composition root's provider for `database = "sql"`."""
    if not url:
        raise ValueError("FILESTORE_DATABASE_URL is required when FILESTORE_DATABASE=sql")
    return open_database(url).uow_factory()
