"""The unit of work over any `Database` (SQLAlchemy's connections or the Data API).

On the Data API every statement, `BeginTransaction` and `CommitTransaction` is a call of its
own (~100 ms on Aurora Serverless v2), so a unit of work makes as few as its use case allows:

- Reads before the first write run on their own (`Database.fetch`), outside any transaction:
  a use case that only reads costs one call per query, with no Begin and no Commit/Rollback.
  The writes that follow are conditional on what was read (versions), so nothing written in
  between is lost (the port's contract, `filestore.domain.ports.UnitOfWork`).
- The transaction begins with the first write (or locking read) and ends with the commit,
  which writes the outbox rows of the collected events first, or with a rollback.
- Writes that answer nothing (`UnitExecutor.defer`) wait for the next statement or the commit;
  when one of them is all a unit of work writes, it is sent on its own, outside any
  transaction: one call instead of three.
- The id of a user by sub, once read from a committed row, is kept by the factory (one per
  execution environment): a sub's user never changes, so a write that needs only the id of its
  caller needs no query for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import TracebackType
from typing import Self

from filestore.adapters.sql.executor import (
    Database,
    Dialect,
    Isolation,
    Params,
    Row,
    Transaction,
)
from filestore.adapters.sql.folders import SqlFolderRepository
from filestore.adapters.sql.repositories import (
    SqlConnectionRepository,
    SqlOutbox,
    SqlProcessedEvents,
    SqlShareRepository,
    SqlUploadRepository,
    SqlUserRepository,
    UserIds,
)
from filestore.adapters.sql.trash import SqlTrashRepository
from filestore.domain.events import Event
from filestore.domain.model import Aggregate, drain_events


class _UnitStatements:
    """The repositories' `UnitExecutor`: routes each statement as the module doc says."""

    def __init__(self, uow: SqlUnitOfWork) -> None:
        self._uow = uow

    @property
    def dialect(self) -> Dialect:
        return self._uow.database.dialect

    @property
    def isolation(self) -> Isolation:
        return self._uow.database.isolation

    @property
    def in_transaction(self) -> bool:
        """Whether the next `fetch` runs inside the unit's transaction (it has written)."""
        return self._uow.writing

    async def fetch(self, sql: str, params: Params | None = None) -> list[Row]:
        if self._uow.writing:
            return await (await self._uow.transaction()).fetch(sql, params)
        return await self._uow.database.fetch(sql, params)

    async def fetch_locking(self, sql: str, params: Params | None = None) -> list[Row]:
        return await (await self._uow.transaction()).fetch(sql, params)

    async def execute(self, sql: str, params: Params | None = None) -> int:
        return await (await self._uow.transaction()).execute(sql, params)

    async def execute_many(self, sql: str, param_sets: Sequence[Params]) -> None:
        await (await self._uow.transaction()).execute_many(sql, param_sets)

    def defer(self, sql: str, params: Params | None = None) -> None:
        self._uow.deferred.append((sql, params))


class SqlUnitOfWork:
    """One database transaction over every repository; leaving without `commit()` rolls back."""

    def __init__(self, database: Database, user_ids: UserIds | None = None) -> None:
        self.database = database
        self.committed_events: list[Event] = []
        self.deferred: list[tuple[str, Params | None]] = []
        self._transaction: Transaction | None = None
        self._seen: list[Aggregate] = []
        self._user_ids = user_ids if user_ids is not None else UserIds()
        # Ids read or written inside the transaction: kept by the factory once it commits.
        self._learned: dict[str, str] = {}
        statements = _UnitStatements(self)
        self.users = SqlUserRepository(statements, self._seen, self._user_ids, self._learned)
        self.uploads = SqlUploadRepository(statements, self._seen)
        self.folders = SqlFolderRepository(statements, self._seen)
        self.trash = SqlTrashRepository(statements)
        self.shares = SqlShareRepository(statements, self._seen)
        self.connections = SqlConnectionRepository(statements)
        self.outbox = SqlOutbox(statements)
        self.processed = SqlProcessedEvents(statements)

    @property
    def writing(self) -> bool:
        """Whether this unit has begun writing (a transaction, or writes held back)."""
        return self._transaction is not None or bool(self.deferred)

    async def transaction(self) -> Transaction:
        """The open transaction (begun now if there is none), with the held writes sent."""
        if self._transaction is None:
            self._transaction = await self.database.begin()
        while self.deferred:
            sql, params = self.deferred.pop(0)
            await self._transaction.execute(sql, params)
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
        await self.outbox.add(events)  # begins the transaction if there are events
        if self._transaction is None and len(self.deferred) == 1:
            # One write and nothing else: it needs no transaction of its own.
            sql, params = self.deferred.pop()
            await self.database.execute(sql, params)
        elif self.writing:
            transaction = await self.transaction()
            self._transaction = None
            await transaction.commit()
        for sub, user_id in self._learned.items():
            self._user_ids.learn(sub, user_id)
        self._learned.clear()
        self.committed_events.extend(events)

    async def rollback(self) -> None:
        self._seen.clear()
        self.deferred.clear()
        self._learned.clear()
        transaction, self._transaction = self._transaction, None
        if transaction is not None:
            await transaction.rollback()


class SqlUnitOfWorkFactory:
    """Makes units of work over one `Database` (the port's `UnitOfWorkFactory`), and keeps
    what they learn of users' ids for the life of the process."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.user_ids = UserIds()

    def __call__(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.database, self.user_ids)

    async def aclose(self) -> None:
        await self.database.dispose()
