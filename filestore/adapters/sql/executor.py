"""The seam between SQL text and a database driver: run a statement, get rows or a row count.

Statements are written once with `:name` parameters (the Data API's syntax, and SQLAlchemy's
`text()`); an executor binds the values as its driver wants them, never by string formatting.
Parameter values are plain Python: `str`, `int`, `bool`, `float`, `None` and naive UTC
`datetime`. Row values come back as the driver gives them; `to_datetime` and friends read them.

Executors turn driver errors into: `AlreadyExists` (a unique key is taken),
`ConcurrencyConflict` (a deadlock or a write lost to a concurrent one; the command may be
retried) and `SqlError` (anything else, with MySQL's error number when there is one).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

Dialect = Literal["mysql", "sqlite"]
# How a unit of work's transaction isolates it: on MySQL, whether the rows a write reads in
# its subqueries and joins are locked (REPEATABLE READ: the Data API's, Aurora's default) or
# read as committed, unlocked (READ COMMITTED: our aiomysql engine's); SQLite has one writer.
Isolation = Literal["read committed", "repeatable read", "serializable"]
Param = str | int | float | bool | datetime | None
Params = Mapping[str, Param]
Row = Sequence[Any]

# MySQL error numbers the adapters act on.
ER_DUP_ENTRY = 1062
ER_LOCK_DEADLOCK = 1213


class SqlError(Exception):
    """A statement failed for a reason the domain has no name for."""

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class Executor(Protocol):
    """Runs SQL text with `:name` parameters on one connection (or transaction)."""

    @property
    def dialect(self) -> Dialect: ...

    async def fetch(self, sql: str, params: Params | None = None) -> list[Row]:
        """The rows a query returns, each a sequence in the order of the select list."""

    async def execute(self, sql: str, params: Params | None = None) -> int:
        """Run one statement; returns the number of rows it changed."""

    async def execute_many(self, sql: str, param_sets: Sequence[Params]) -> None:
        """Run one statement once per parameter set, in order."""


class Transaction(Executor, Protocol):
    """An executor inside a database transaction, ended by exactly one commit or rollback."""

    async def commit(self) -> None: ...
    async def rollback(self) -> None: ...


class UnitExecutor(Executor, Protocol):
    """What the repositories run on: the statements of one unit of work.

    `fetch` outside the transaction while the unit has written nothing (it has none yet), inside
    it afterwards; `execute` and `execute_many` begin it. See `unit_of_work`.
    """

    @property
    def isolation(self) -> Isolation:
        """How the unit's transaction is isolated (see `Isolation`)."""

    @property
    def in_transaction(self) -> bool:
        """Whether the next `fetch` runs inside the unit's transaction (it sees uncommitted
        writes of this unit), rather than on its own (it sees only committed rows)."""

    async def fetch_locking(self, sql: str, params: Params | None = None) -> list[Row]:
        """A query whose rows stay locked until the transaction ends (`… FOR UPDATE`): it
        begins the transaction if need be, and runs inside it."""

    def defer(self, sql: str, params: Params | None = None) -> None:
        """A write whose outcome nobody waits for: sent before the next statement, or at commit
        (on its own, outside any transaction, if it is the unit's only statement)."""


class Database(Protocol):
    """Where units of work get their transactions from, and run statements on their own."""

    @property
    def dialect(self) -> Dialect: ...

    @property
    def isolation(self) -> Isolation:
        """How the transactions of `begin` are isolated."""

    async def begin(self) -> Transaction:
        """A new transaction on a connection of its own."""

    async def fetch(self, sql: str, params: Params | None = None) -> list[Row]:
        """One query outside any transaction: it sees what is committed when it runs."""

    async def execute(self, sql: str, params: Params | None = None) -> int:
        """One statement outside any transaction: it commits on its own; returns the number of
        rows it changed."""

    async def dispose(self) -> None:
        """Close pooled connections (those lent out close when they come back)."""


# --- values ------------------------------------------------------------------------------------


def to_db_time(value: datetime) -> datetime:
    """Naive UTC, as `DATETIME(6)` stores it; the domain's datetimes are aware."""
    if value.tzinfo is None:
        raise ValueError("the domain's datetimes are timezone-aware")
    return value.astimezone(UTC).replace(tzinfo=None)


def to_db_time_or_none(value: datetime | None) -> datetime | None:
    return None if value is None else to_db_time(value)


def to_datetime(value: Any) -> datetime:
    """An aware UTC datetime from a column: drivers give datetimes, SQLite and the Data API
    give text such as `2026-01-01 12:00:00.123456`."""
    if isinstance(value, str):
        try:
            # Naive text is UTC: parsed with its offset, the datetime comes out aware at once
            # (a listing reads three per row; `replace` afterwards cost seven times as much).
            return datetime.fromisoformat(value + "+00:00")
        except ValueError:  # text with an offset of its own
            value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):
        raise TypeError(f"not a datetime column value: {value!r}")
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def to_datetime_or_none(value: Any) -> datetime | None:
    return None if value is None else to_datetime(value)


def format_db_time(value: datetime) -> str:
    """Fixed-width text for a naive UTC datetime: sorts like the time (SQLite compares text)."""
    return value.isoformat(sep=" ", timespec="microseconds")


def in_list(prefix: str, values: Sequence[Param]) -> tuple[str, dict[str, Param]]:
    """`:p0, :p1, …` and their values, for `IN (…)` over a list (each one still bound)."""
    params = {f"{prefix}{i}": value for i, value in enumerate(values)}
    return ", ".join(f":{name}" for name in params), params
