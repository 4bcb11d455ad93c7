"""The Data API adapter riding out an Aurora resume, and giving up when its budget is spent.

Against the Data API emulator on the session's MariaDB/MySQL, which answers the next N calls
with `DatabaseResumingException` (or `StatementTimeoutException`) as a waking cluster does.
"""

from __future__ import annotations

import logging

import pytest

from filestore.adapters.dataapi.database import DataApiDatabase, RetryBudget
from filestore.domain.deadlines import command_clock
from filestore.domain.errors import ServiceUnavailable
from tests.factories import make_user
from tests.support.dataapi_emulator import DataApiEmulator

pytestmark = pytest.mark.integration

QUICK = RetryBudget(seconds=5.0, first_delay=0.01, max_delay=0.05)


def _retries(caplog: pytest.LogCaptureFixture, code: str) -> int:
    return sum(code in r.getMessage() and "retrying" in r.getMessage() for r in caplog.records)


async def test_a_unit_of_work_rides_out_a_resume(
    dataapi_database: DataApiDatabase,
    dataapi_emulator: DataApiEmulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    database = dataapi_database.with_retry(QUICK)
    user = make_user()
    dataapi_emulator.inject_resuming(3)
    with caplog.at_level(logging.WARNING, logger="filestore.adapters.dataapi.database"):
        async with database.uow_factory()() as uow:
            await uow.users.add(user)
            await uow.commit()
    assert _retries(caplog, "DatabaseResumingException") == 3
    async with database.uow_factory()() as uow:
        assert await uow.users.get(user.id) is not None


async def test_statement_timeouts_while_resuming_are_retried(
    dataapi_database: DataApiDatabase,
    dataapi_emulator: DataApiEmulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    database = dataapi_database.with_retry(QUICK)
    user = make_user()
    async with database.uow_factory()() as uow:
        await uow.users.add(user)
        await uow.commit()
    dataapi_emulator.inject_statement_timeout(2)
    with caplog.at_level(logging.WARNING, logger="filestore.adapters.dataapi.database"):
        async with database.uow_factory()() as uow:
            loaded = await uow.users.get(user.id)
    assert loaded is not None and loaded.sub == user.sub
    assert _retries(caplog, "StatementTimeoutException") == 2


async def test_an_exhausted_budget_is_service_unavailable_and_writes_nothing(
    dataapi_database: DataApiDatabase, dataapi_emulator: DataApiEmulator
) -> None:
    tiny = dataapi_database.with_retry(RetryBudget(seconds=0.2, first_delay=0.02, max_delay=0.05))
    user = make_user()
    dataapi_emulator.inject_resuming(10_000)  # asleep for longer than anyone waits
    with pytest.raises(ServiceUnavailable) as raised:
        async with tiny.uow_factory()() as uow:
            await uow.users.add(user)
            await uow.commit()
    assert raised.value.retry_after > 0
    dataapi_emulator.reset_faults()  # awake again
    async with dataapi_database.uow_factory()() as uow:
        assert await uow.users.get(user.id) is None
    assert dataapi_emulator.open_transactions == 0


async def test_a_zero_budget_gives_up_at_the_first_resume(
    dataapi_database: DataApiDatabase, dataapi_emulator: DataApiEmulator
) -> None:
    """The Cognito trigger's budget may be tiny: it must give up, never hang."""
    none = dataapi_database.with_retry(RetryBudget(seconds=0.0))
    dataapi_emulator.inject_resuming(1)
    with pytest.raises(ServiceUnavailable):
        async with none.uow_factory()() as uow:
            await uow.users.get("01890000-0000-7000-8000-000000000000")
    dataapi_emulator.reset_faults()


async def test_migrations_over_the_data_api_are_a_no_op_on_a_migrated_database(
    dataapi_database: DataApiDatabase,
) -> None:
    """The deploy's custom resource runs the same runner over the Data API."""
    assert await dataapi_database.migrate() == []


class SteadyBudget(RetryBudget):
    """Waits without jitter, so that the test knows how long each retry takes."""

    def delay(self, attempt: int) -> float:
        return self.first_delay


async def test_the_calls_of_one_command_share_one_budget(
    dataapi_database: DataApiDatabase, dataapi_emulator: DataApiEmulator
) -> None:
    """Three waits of 0.2 s fit a 1 s budget, twice over when each call has its own; within one
    command the second call finds the first one's waits already spent, and gives up."""
    database = dataapi_database.with_retry(SteadyBudget(seconds=1.0, first_delay=0.2))
    unknown = "01890000-0000-7000-8000-000000000000"
    for _ in range(2):  # outside any command: each call has the whole budget
        dataapi_emulator.inject_resuming(3)
        async with database.uow_factory()() as uow:
            assert await uow.users.get(unknown) is None
    with command_clock():
        dataapi_emulator.inject_resuming(3)
        async with database.uow_factory()() as uow:
            assert await uow.users.get(unknown) is None
        dataapi_emulator.inject_resuming(3)
        with pytest.raises(ServiceUnavailable):
            async with database.uow_factory()() as uow:
                await uow.users.get(unknown)
    dataapi_emulator.reset_faults()
