"""The SQL repositories over Aurora's Data API (boto3 `rds-data`), without SQLAlchemy.

Statements are the same SQL text as on aiomysql, sent with typed parameters (never formatted
into the SQL). Transactions are `BeginTransaction` … `CommitTransaction`/`RollbackTransaction`.

Aurora Serverless v2 pauses when idle and answers `DatabaseResumingException` while it wakes
(tens of seconds); statements may also time out during the resume. Those calls are retried
with bounded exponential back-off and jitter within a budget chosen by the caller (about 20 s
on the HTTP path, which API Gateway cuts at 30 s; less for the Cognito trigger, which has 5 s);
then `ServiceUnavailable` is raised, which the HTTP API answers with 503 and Retry-After.

The budget is per request, not per call: it is counted from the start of the command being
handled (`filestore.domain.deadlines`, started by the message bus), and every call of that
command draws on what is left. A call whose next wait would end past the command's deadline
gives up at once; a request that made three slow calls does not wait another whole budget for
a fourth. Outside any command (the migrations), each call has the budget to itself.

boto3 blocks: every call runs on a small thread pool of this module, off the event loop (large
enough for a batch's records handled at once). The client is made once per process and shared
(botocore clients are thread-safe).
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache, partial
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

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
from filestore.adapters.sql.unit_of_work import SqlUnitOfWorkFactory
from filestore.domain.deadlines import command_started
from filestore.domain.errors import AlreadyExists, ConcurrencyConflict, ServiceUnavailable

log = logging.getLogger(__name__)

# Enough threads for a server's concurrent requests, and for a queue consumer's batch (its
# records are handled at once: `filestore.entrypoints.batch`).
_POOL_SIZE = 16
_POOL = ThreadPoolExecutor(max_workers=_POOL_SIZE, thread_name_prefix="filestore-dataapi")

_RESUMING = "DatabaseResumingException"
# The statement stops running when the call times out (unless continueAfterTimeout), so it
# is safe to send again; during a resume the first statements are known to time out.
_STATEMENT_TIMEOUT = "StatementTimeoutException"
_ERROR_CODE = re.compile(r"error code:? (\d+)", re.IGNORECASE)


@dataclass(frozen=True)
class RetryBudget:
    """How long one request may keep retrying while the database resumes, and how it backs off.

    `seconds` counts from the start of the command being handled (of the call, outside any
    command); every call of the command shares it. The n-th wait of a call is drawn from
    [d/2, d] with d = min(max_delay, first_delay * 2**n) (jitter spreads the callers that all
    woke the same cluster). A wait that would end past the deadline is not taken: the call
    gives up with `ServiceUnavailable` instead.
    """

    seconds: float = 20.0
    first_delay: float = 0.5
    max_delay: float = 5.0

    def delay(self, attempt: int) -> float:
        ceiling = min(self.max_delay, self.first_delay * 2**attempt)
        return random.uniform(ceiling / 2, ceiling)  # noqa: S311  (jitter, not a secret)  # nosec B311


@lru_cache(maxsize=8)
def data_api_client(endpoint_url: str | None = None, region: str | None = None) -> Any:
    """The process's `rds-data` client (one per endpoint and region)."""
    return boto3.client(
        "rds-data",
        endpoint_url=endpoint_url,
        region_name=region,
        # botocore retries throttling and dropped connections; resumes are ours to retry.
        config=Config(
            retries={"mode": "standard", "max_attempts": 3},
            max_pool_connections=_POOL_SIZE,
            connect_timeout=5,
            read_timeout=60,  # a statement may run up to 45 s
        ),
    )


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _message(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Message", "") or error)


def _translate(error: ClientError) -> Exception:
    """The domain's name for a database error the Data API reports, or a `SqlError`."""
    message = _message(error)
    match = _ERROR_CODE.search(message)
    code = int(match.group(1)) if match else None
    if code == ER_DUP_ENTRY or "Duplicate entry" in message:
        return AlreadyExists("That value is taken.")
    if code == ER_LOCK_DEADLOCK or "Deadlock found" in message:
        return ConcurrencyConflict("The data was changed concurrently; try again.")
    return SqlError(f"{_code(error)}: {message}", code)


def _parameter(name: str, value: Any) -> dict[str, Any]:
    """One typed `SqlParameter` (bool before int: a bool is an int in Python)."""
    if value is None:
        return {"name": name, "value": {"isNull": True}}
    if isinstance(value, bool):
        return {"name": name, "value": {"booleanValue": value}}
    if isinstance(value, int):
        return {"name": name, "value": {"longValue": value}}
    if isinstance(value, float):
        return {"name": name, "value": {"doubleValue": value}}
    if isinstance(value, datetime):
        return {
            "name": name,
            "value": {"stringValue": format_db_time(value)},
            "typeHint": "TIMESTAMP",
        }
    if isinstance(value, str):
        return {"name": name, "value": {"stringValue": value}}
    raise TypeError(f"cannot send {type(value).__name__} as parameter {name}")


def _parameters(params: Params | None) -> list[dict[str, Any]]:
    return [_parameter(name, value) for name, value in (params or {}).items()]


def _value(field: dict[str, Any]) -> Any:
    if field.get("isNull"):
        return None
    ((_kind, value),) = field.items()
    return value


class DataApiExecutor:
    """Runs SQL text through the Data API, inside a transaction if `transaction_id` is set."""

    def __init__(self, database: DataApiDatabase, transaction_id: str | None = None) -> None:
        self._database = database
        self.transaction_id = transaction_id

    @property
    def dialect(self) -> Dialect:
        return "mysql"

    def _request(self, sql: str) -> dict[str, Any]:
        request = {**self._database.target, "sql": sql}
        if self.transaction_id is not None:
            request["transactionId"] = self.transaction_id
        return request

    async def fetch(self, sql: str, params: Params | None = None) -> list[Row]:
        response = await self._database.call(
            "execute_statement", **self._request(sql), parameters=_parameters(params)
        )
        return [[_value(field) for field in record] for record in response.get("records", [])]

    async def execute(self, sql: str, params: Params | None = None) -> int:
        response = await self._database.call(
            "execute_statement", **self._request(sql), parameters=_parameters(params)
        )
        return int(response.get("numberOfRecordsUpdated", 0))

    async def execute_many(self, sql: str, param_sets: Sequence[Params]) -> None:
        if not param_sets:
            return
        await self._database.call(
            "batch_execute_statement",
            **self._request(sql),
            parameterSets=[_parameters(p) for p in param_sets],
        )


class DataApiTransaction(DataApiExecutor):
    """A Data API transaction; ended by `CommitTransaction` or `RollbackTransaction`."""

    async def commit(self) -> None:
        transaction_id, self.transaction_id = self.transaction_id, None
        await self._database.call(
            "commit_transaction",
            resourceArn=self._database.resource_arn,
            secretArn=self._database.secret_arn,
            transactionId=transaction_id,
        )

    async def rollback(self) -> None:
        transaction_id, self.transaction_id = self.transaction_id, None
        try:
            await self._database.call(
                "rollback_transaction",
                resourceArn=self._database.resource_arn,
                secretArn=self._database.secret_arn,
                transactionId=transaction_id,
            )
        except (SqlError, ServiceUnavailable) as error:
            # The service rolls back a transaction nobody uses within 3 minutes: nothing stays
            # half-written, and the error that led here is the one worth raising.
            log.warning("rollback of a Data API transaction failed: %s", error)


class DataApiDatabase:
    """An Aurora database reached through the Data API (the units of work's `Database`)."""

    def __init__(
        self,
        client: Any,
        *,
        resource_arn: str,
        secret_arn: str,
        database: str | None = None,
        retry: RetryBudget | None = None,
        sleep: Callable[[float], Any] = asyncio.sleep,
    ) -> None:
        self.client = client
        self.resource_arn = resource_arn
        self.secret_arn = secret_arn
        self.database = database
        self.retry = retry or RetryBudget()
        self._sleep = sleep

    @classmethod
    def from_settings(cls, settings: Any, retry: RetryBudget | None = None) -> DataApiDatabase:
        """From `Settings`: `dataapi_resource_arn`, `dataapi_secret_arn`, `dataapi_database`,
        `dataapi_endpoint_url` (else `aws_endpoint_url`), `aws_region` and
        `dataapi_retry_seconds`."""
        if not settings.dataapi_resource_arn or not settings.dataapi_secret_arn:
            raise ValueError(
                "FILESTORE_DATAAPI_RESOURCE_ARN and FILESTORE_DATAAPI_SECRET_ARN are required "
                "when FILESTORE_DATABASE=dataapi"
            )
        budget = retry or RetryBudget(seconds=settings.dataapi_retry_seconds)
        return cls(
            data_api_client(
                settings.dataapi_endpoint_url or settings.aws_endpoint_url, settings.aws_region
            ),
            resource_arn=settings.dataapi_resource_arn,
            secret_arn=settings.dataapi_secret_arn,
            database=settings.dataapi_database,
            retry=budget,
        )

    def with_retry(self, retry: RetryBudget) -> DataApiDatabase:
        """The same database and client with another retry budget (e.g. a 4 s one for the
        Cognito trigger)."""
        return DataApiDatabase(
            self.client,
            resource_arn=self.resource_arn,
            secret_arn=self.secret_arn,
            database=self.database,
            retry=retry,
            sleep=self._sleep,
        )

    @property
    def dialect(self) -> Dialect:
        return "mysql"

    @property
    def isolation(self) -> Isolation:
        # The Data API's transactions keep the cluster's default, REPEATABLE READ.
        return "repeatable read"

    @property
    def target(self) -> dict[str, str]:
        """The members every statement names: which cluster, which secret, which schema."""
        target = {"resourceArn": self.resource_arn, "secretArn": self.secret_arn}
        if self.database:
            target["database"] = self.database
        return target

    async def call(self, operation: str, **request: Any) -> dict[str, Any]:
        """One Data API call off the event loop, retried while the database resumes, within
        what is left of the command's budget (see the module doc)."""
        loop = asyncio.get_running_loop()
        method = getattr(self.client, operation)
        started = command_started()
        deadline = (time.monotonic() if started is None else started) + self.retry.seconds
        attempt = 0
        while True:
            try:
                response: dict[str, Any] = await loop.run_in_executor(
                    _POOL, partial(method, **request)
                )
                return response
            except ClientError as error:
                code = _code(error)
                if code not in (_RESUMING, _STATEMENT_TIMEOUT):
                    raise _translate(error) from error
                delay = self.retry.delay(attempt)
                if time.monotonic() + delay > deadline:
                    raise ServiceUnavailable(
                        "The database is waking up; try again in a few seconds.",
                        retry_after=10,
                    ) from error
                attempt += 1
                log.warning(
                    "Data API %s answered %s; retrying in %.2f s (attempt %d)",
                    operation,
                    code,
                    delay,
                    attempt,
                )
                await self._sleep(delay)

    async def begin(self) -> DataApiTransaction:
        request: dict[str, Any] = dict(self.target)
        response = await self.call("begin_transaction", **request)
        return DataApiTransaction(self, response["transactionId"])

    def autocommit(self) -> DataApiExecutor:
        """An executor outside any transaction: each statement commits on its own."""
        return DataApiExecutor(self)

    async def fetch(self, sql: str, params: Params | None = None) -> list[Row]:
        """One query outside any transaction: one call."""
        return await DataApiExecutor(self).fetch(sql, params)

    async def execute(self, sql: str, params: Params | None = None) -> int:
        """One statement that commits on its own: one call."""
        return await DataApiExecutor(self).execute(sql, params)

    def uow_factory(self) -> SqlUnitOfWorkFactory:
        return SqlUnitOfWorkFactory(self)

    async def dispose(self) -> None:
        """Nothing pooled here: the Data API holds no connection between calls, and the
        client is shared by the process."""

    async def migrate(self) -> list[int]:
        """Apply the migrations not yet applied (the deploy's custom resource calls this)."""
        return await run_migrations(self.autocommit())


def dataapi_uow_factory(settings: Any) -> SqlUnitOfWorkFactory:
    """The composition root's provider for `database = "dataapi"`."""
    return DataApiDatabase.from_settings(settings).uow_factory()


__all__ = [
    "DataApiDatabase",
    "DataApiExecutor",
    "DataApiTransaction",
    "RetryBudget",
    "data_api_client",
    "dataapi_uow_factory",
]
