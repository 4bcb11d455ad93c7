"""The unit of work over any `Database` (SQLAlchemy's connections or the Data API).

A transaction is begun lazily, on the first statement, so a unit of work that touches nothing
costs no round trip (a Data API `BeginTransaction` is one). On commit the events recorded by
every aggregate saved through it go to the outbox in the same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import TracebackType
from typing import Self

from filestore.adapters.sql.executor import Database, Dialect, Params, Row, Transaction
from filestore.adapters.sql.repositories import (
    SqlConnectionRepository,
    SqlOutbox,
    SqlProcessedEvents,
    SqlShareRepository,
    SqlUploadRepository,
    SqlUserRepository,
)
from filestore.domain.events import Event
from filestore.domain.model import Aggregate, drain_events


class _LazyTransaction:
    """An executor that begins its unit of work's transaction on first use."""

    def __init__(self, uow: SqlUnitOfWork) -> None:
        self._uow = uow

    @property
    def dialect(self) -> Dialect:
        return self._uow.database.dialect

    async def fetch(self, sql: str, params: Params | None = None) -> list[Row]:
        return await (await self._uow.transaction()).fetch(sql, params)

    async def execute(self, sql: str, params: Params | None = None) -> int:
        return await (await self._uow.transaction()).execute(sql, params)

    async def execute_many(self, sql: str, param_sets: Sequence[Params]) -> None:
        await (await self._uow.transaction()).execute_many(sql, param_sets)


class SqlUnitOfWork:
    """One database transaction over every repository; leaving without `commit()` rolls back."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.committed_events: list[Event] = []
        self._transaction: Transaction | None = None
        self._seen: list[Aggregate] = []
        executor = _LazyTransaction(self)
        self.users = SqlUserRepository(executor, self._seen)
        self.uploads = SqlUploadRepository(executor, self._seen)
        self.shares = SqlShareRepository(executor, self._seen)
        self.connections = SqlConnectionRepository(executor)
        self.outbox = SqlOutbox(executor)
        self.processed = SqlProcessedEvents(executor)

    async def transaction(self) -> Transaction:
        """The open transaction, begun now if there is none."""
        if self._transaction is None:
            self._transaction = await self.database.begin()
        return self._transaction

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.rollback()

    async def commit(self) -> None:
        """Write the collected events to the outbox and commit, all or nothing."""
        events = drain_events(self._seen)
        self._seen.clear()
        if self._transaction is None and not events:
            return
        await self.outbox.add(events)
        transaction, self._transaction = self._transaction, None
        assert transaction is not None  # the outbox insert began it, if nothing else did  # nosec B101
        await transaction.commit()
        self.committed_events.extend(events)

    async def rollback(self) -> None:
        self._seen.clear()
        transaction, self._transaction = self._transaction, None
        if transaction is not None:
            await transaction.rollback()


class SqlUnitOfWorkFactory:
    """Makes units of work over one `Database` (the port's `UnitOfWorkFactory`)."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def __call__(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.database)

    async def aclose(self) -> None:
        await self.database.dispose()
