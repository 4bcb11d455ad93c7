"""The SQL repositories on SQLite through the standard library's `sqlite3`, for `filestore serve`.

SQLAlchemy over aiosqlite makes three or four hops to the driver's thread per statement (cursor,
execute, fetch, close), each a future, a queue and a wake-up of the event loop, plus its own
layers: about 0.7 ms of a listing that SQLite answers in 0.1 ms. Here each statement is one hop:
every connection has a thread of its own (so a connection's statements run in order, even when
a task that sent one was cancelled meanwhile), and a hop runs the statement and reads its rows.
Transactions begin with their first statement, in the same hop. Write transactions of the
process queue on the loop (`sqlite_writers`), one at a time, as in the SQLAlchemy adapter.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy.engine import make_url

from filestore.adapters.sql.executor import (
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

T = TypeVar("T")

_SQLITE_CONSTRAINT_PRIMARYKEY = 1555
_SQLITE_CONSTRAINT_UNIQUE = 2067
_SQLITE_BUSY = 5  # and BUSY_SNAPSHOT (517): low byte 5
_PRAGMAS = ("foreign_keys = ON", "journal_mode = WAL", "busy_timeout = 5000")


def _translate(error: sqlite3.Error) -> Exception:
    code = getattr(error, "sqlite_errorcode", None) or 0
    if code in (_SQLITE_CONSTRAINT_UNIQUE, _SQLITE_CONSTRAINT_PRIMARYKEY):
        return AlreadyExists("That value is taken.")
    if code & 0xFF == _SQLITE_BUSY:
        return ConcurrencyConflict("The data was changed concurrently; try again.")
    return SqlError(str(error))


def _bind(params: Params | None) -> dict[str, Any]:
    # Python's sqlite3 datetime adapter is deprecated and drops the fixed width.
    if not params:
        return {}
    return {k: format_db_time(v) if isinstance(v, datetime) else v for k, v in params.items()}


class _Connection:
    """One sqlite3 connection and the one thread that uses it."""

    def __init__(self, path: str) -> None:
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite")
        self.raw: sqlite3.Connection | None = None
        self._path = path

    def _open(self) -> sqlite3.Connection:
        if self.raw is None:
            # isolation_level=None: no implicit transactions; BEGIN is sent explicitly.
            raw = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
            for pragma in _PRAGMAS:
                raw.execute(f"PRAGMA {pragma}")
            self.raw = raw
        return self.raw

    async def run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        loop = asyncio.get_running_loop()

        def call() -> T:
            try:
                return work(self._open())
            except sqlite3.Error as error:
                raise _translate(error) from error

        # Shielded: a cancelled caller does not stop the statement, and the next statement on
        # this connection waits for it (one thread per connection).
        return await asyncio.shield(loop.run_in_executor(self._thread, call))

    async def close(self) -> None:
        def close(raw: sqlite3.Connection) -> None:
            raw.close()

        if self.raw is not None:
            await self.run(close)
            self.raw = None
        self._thread.shutdown(wait=False)


def _statement(sql: str, params: Params | None, begin: bool) -> Callable[[sqlite3.Connection], Any]:
    bound = _bind(params)

    def work(raw: sqlite3.Connection) -> tuple[list[Row], int]:
        if begin:
            raw.execute("BEGIN")
        cursor = raw.execute(sql, bound)
        rows = cursor.fetchall()
        return rows, cursor.rowcount

    return work


def _many(
    sql: str, param_sets: Sequence[Params], begin: bool
) -> Callable[[sqlite3.Connection], Any]:
    bound = [_bind(p) for p in param_sets]

    def work(raw: sqlite3.Connection) -> None:
        if begin:
            raw.execute("BEGIN")
        raw.executemany(sql, bound)

    return work


class SqliteTransaction:
    """A connection inside a transaction (begun with its first statement); given back at the
    end, with the turn to write."""

    def __init__(
        self, database: SqliteDatabase, connection: _Connection, end_turn: Callable[[], None]
    ) -> None:
        self._database = database
        self._connection = connection
        self._end_turn = end_turn
        self._begun = False
        self._ended = False

    @property
    def dialect(self) -> Dialect:
        return "sqlite"

    def _begin_now(self) -> bool:
        begin, self._begun = not self._begun, True
        return begin

    async def fetch(self, sql: str, params: Params | None = None) -> list[Row]:
        rows, _ = await self._connection.run(_statement(sql, params, self._begin_now()))
        return [tuple(row) for row in rows]

    async def execute(self, sql: str, params: Params | None = None) -> int:
        _, count = await self._connection.run(_statement(sql, params, self._begin_now()))
        return int(count)

    async def execute_many(self, sql: str, param_sets: Sequence[Params]) -> None:
        if param_sets:
            await self._connection.run(_many(sql, param_sets, self._begin_now()))

    async def _end(self, statement: str) -> None:
        if self._ended:
            return
        self._ended = True
        try:
            if self._begun:

                def end(raw: sqlite3.Connection) -> None:
                    if raw.in_transaction:
                        raw.execute(statement)

                await self._connection.run(end)
        finally:
            self._database._give_back(self._connection)
            self._end_turn()

    async def commit(self) -> None:
        await self._end("COMMIT")

    async def rollback(self) -> None:
        await self._end("ROLLBACK")


class SqliteDatabase:
    """The `Database` of the SQL unit of work on one SQLite file."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._free: list[_Connection] = []
        self._lock = threading.Lock()
        self._writers = SqliteWriters()

    @classmethod
    def from_url(cls, url: str) -> SqliteDatabase:
        """`sqlite+aiosqlite:///path` (or `sqlite:///path`)."""
        parsed = make_url(url)
        if parsed.get_backend_name() != "sqlite" or not parsed.database:
            raise ValueError(f"not a SQLite file URL: {url!r}")
        return cls(parsed.database)

    @property
    def dialect(self) -> Dialect:
        return "sqlite"

    @property
    def isolation(self) -> Isolation:
        # One write transaction at a time (`sqlite_writers`), as in the SQLAlchemy adapter.
        return "serializable"

    def _take(self) -> _Connection:
        with self._lock:
            if self._free:
                return self._free.pop()
            return _Connection(self.path)

    def _give_back(self, connection: _Connection) -> None:
        with self._lock:
            self._free.append(connection)

    async def begin(self) -> SqliteTransaction:
        end_turn = await self._writers.turn()
        return SqliteTransaction(self, self._take(), end_turn)

    async def fetch(self, sql: str, params: Params | None = None) -> list[Row]:
        """One query on its own (a statement is a transaction of its own on SQLite)."""
        connection = self._take()
        try:
            rows, _ = await connection.run(_statement(sql, params, begin=False))
        finally:
            self._give_back(connection)
        return [tuple(row) for row in rows]

    async def execute(self, sql: str, params: Params | None = None) -> int:
        """One statement that commits on its own."""
        end_turn = await self._writers.turn()
        connection = self._take()
        try:
            _, count = await connection.run(_statement(sql, params, begin=False))
        finally:
            self._give_back(connection)
            end_turn()
        return int(count)

    def uow_factory(self) -> SqlUnitOfWorkFactory:
        return SqlUnitOfWorkFactory(self)

    async def migrate(self) -> list[int]:
        """Apply the migrations not yet applied, all in one transaction (SQLite's DDL is
        transactional); returns their versions."""
        transaction = await self.begin()
        try:
            applied = await run_migrations(transaction)
        except BaseException:
            await transaction.rollback()
            raise
        await transaction.commit()
        return applied

    async def dispose(self) -> None:
        """Close the connections not in use (at shutdown, or at the end of a test)."""
        with self._lock:
            free, self._free = self._free, []
        for connection in free:
            await connection.close()
