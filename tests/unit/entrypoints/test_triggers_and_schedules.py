"""The Cognito trigger, the schedules, and the runtime that runs every handler."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from filestore.app import FileStore
from filestore.domain.commands import Actor, RegisterUser
from filestore.domain.errors import ServiceUnavailable
from filestore.entrypoints import cognito, schedules, websocket_api
from filestore.entrypoints.observability import logger, metrics
from filestore.entrypoints.runtime import Runtime, await_sync, run_sync, runtime
from tests.support.lambda_events import LambdaContext, load_event

NEW_USER = Actor(sub="7d8ca528-4931-4254-9273-ea5ee853f271", email="alice@example.com")
NO_GRACE = timedelta(0)
DEFERRED = "could not register the user now"


@pytest.fixture
def log_output(monkeypatch: pytest.MonkeyPatch) -> io.StringIO:
    """Where the Powertools Logger writes during the test (one JSON object a line)."""
    buffer = io.StringIO()
    monkeypatch.setattr(logger.registered_handler, "stream", buffer)
    return buffer


@pytest.fixture
def no_pending_metrics() -> Iterator[None]:
    """Metrics that another test added but never flushed must not be counted as this test's."""
    metrics.clear_metrics()
    yield
    metrics.clear_metrics()


def logged(output: io.StringIO, start: str) -> list[dict[str, Any]]:
    """The log lines whose message starts with `start`."""
    lines = [json.loads(line) for line in output.getvalue().splitlines()]
    return [line for line in lines if str(line.get("message", "")).startswith(start)]


def emitted_metrics(stdout: str) -> dict[str, float]:
    """The metrics Powertools printed (CloudWatch embedded metric format), summed by name."""
    totals: dict[str, float] = {}
    for line in stdout.splitlines():
        try:
            blob = json.loads(line)
        except ValueError:
            continue
        if not isinstance(blob, dict) or "_aws" not in blob:
            continue
        for directive in blob["_aws"]["CloudWatchMetrics"]:
            for metric in directive["Metrics"]:
                value = blob[metric["Name"]]
                values = value if isinstance(value, list) else [value]
                totals[metric["Name"]] = totals.get(metric["Name"], 0) + sum(values)
    return totals


def assert_deferred(
    output: io.StringIO, stdout: str, exception: type[BaseException], text: str = ""
) -> None:
    """The trigger said why it did not register the user, and counted it."""
    [line] = logged(output, DEFERRED)
    assert line["level"] == "ERROR"
    assert line["exception_name"] == exception.__name__
    assert text in line["exception"]
    counted = emitted_metrics(stdout)
    assert counted.get("RegistrationsDeferred") == 1
    assert "UsersRegistered" not in counted


def test_post_confirmation_registers_the_user_and_returns_the_event(store: FileStore) -> None:
    event = load_event("cognito_post_confirmation")
    assert cognito.post_confirmation(event, LambdaContext()) == load_event(
        "cognito_post_confirmation"
    )
    assert cognito.post_confirmation(event, LambdaContext()) == event  # idempotent
    user = runtime.run(store.me(NEW_USER))
    assert [e.type for e in store.memory_publisher.published].count("user.registered") == 1
    assert user.email == "alice@example.com"


@pytest.mark.usefixtures("no_pending_metrics")
def test_post_confirmation_returns_the_event_when_the_database_fails(
    store: FileStore, log_output: io.StringIO, capsys: pytest.CaptureFixture[str]
) -> None:
    async def resuming(command: Any, services: Any) -> Any:
        raise ServiceUnavailable("database resuming")

    store.bus.command_handlers[RegisterUser] = resuming
    event = load_event("cognito_post_confirmation")
    assert cognito.post_confirmation(event, LambdaContext()) == event
    assert_deferred(log_output, capsys.readouterr().out, ServiceUnavailable, "database resuming")


@pytest.mark.usefixtures("no_pending_metrics")
def test_post_confirmation_gives_up_within_its_budget(
    store: FileStore, log_output: io.StringIO, capsys: pytest.CaptureFixture[str]
) -> None:
    async def hanging(command: Any, services: Any) -> Any:
        await asyncio.Event().wait()  # never answers

    store.bus.command_handlers[RegisterUser] = hanging
    event = load_event("cognito_post_confirmation")
    result = runtime.run(cognito.handle(event, LambdaContext(), budget_seconds=0.01))
    assert result == event
    metrics.flush_metrics()  # what the Lambda handler's decorator does when it returns
    assert_deferred(log_output, capsys.readouterr().out, TimeoutError)


@pytest.mark.usefixtures("no_pending_metrics")
def test_post_confirmation_survives_a_broken_configuration(
    monkeypatch: pytest.MonkeyPatch, log_output: io.StringIO, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(settings: Any) -> Any:
        raise RuntimeError("database adapter 'dataapi' is not available")

    monkeypatch.setattr(runtime, "_factory", broken)
    runtime.set_bus(None)
    event = load_event("cognito_post_confirmation")
    assert cognito.post_confirmation(event, LambdaContext()) == event
    assert_deferred(log_output, capsys.readouterr().out, RuntimeError, "'dataapi' is not available")


@pytest.mark.usefixtures("no_pending_metrics")
def test_post_confirmation_without_an_email_registers_no_one(
    store: FileStore, log_output: io.StringIO, capsys: pytest.CaptureFixture[str]
) -> None:
    event = load_event("cognito_post_confirmation")
    del event["request"]["userAttributes"]["email"]
    assert cognito.post_confirmation(event, LambdaContext()) == event
    [line] = logged(log_output, "post-confirmation without sub or email")
    assert line["level"] == "WARNING"
    assert store.memory_publisher.published == []
    assert "UsersRegistered" not in emitted_metrics(capsys.readouterr().out)


def test_relay_publishes_until_the_outbox_is_empty(store: FileStore) -> None:
    store.services.publisher.fail_next = 5  # type: ignore[union-attr]
    for i in range(5):
        runtime.run(store.me(Actor(sub=f"s{i}", email=f"{i}@example.com")))
    assert store.memory_publisher.published == []
    result = runtime.run(schedules.handle_relay({}, LambdaContext(), batch_size=2))
    assert result == {"published": 5}
    assert len(store.memory_publisher.published) == 5
    assert schedules.relay_handler(load_event("scheduled_event"), LambdaContext()) == {
        "published": 0
    }


def test_relay_stops_when_time_is_nearly_up(store: FileStore) -> None:
    store.services.publisher.fail_next = 5  # type: ignore[union-attr]
    for i in range(5):
        runtime.run(store.me(Actor(sub=f"s{i}", email=f"{i}@example.com")))
    short = LambdaContext(remaining_ms=schedules.RELAY_RESERVE_MS - 1)
    assert runtime.run(schedules.handle_relay({}, short, batch_size=2)) == {"published": 2}


def test_sweep_reports(store: FileStore) -> None:
    result = schedules.sweep_handler(load_event("scheduled_event"), LambdaContext())
    assert result == {
        "completed": 0,
        "failed": 0,
        "expired": 0,
        "connections_removed": 0,
        "stopped_early": 0,
        "purged": 0,
    }


def _late_uploads(store: FileStore, count: int) -> None:
    """Uploads whose bytes arrived but whose S3 events were lost (swept with no grace)."""
    for i in range(count):
        ticket = runtime.run(store.request_upload(NEW_USER, f"f{i}", size=1, content_type="a/b"))
        assert ticket.post is not None
        store.memory_blobs.post(ticket.post, b"x")


def test_sweep_pages_through_everything_in_time(store: FileStore) -> None:
    _late_uploads(store, 5)
    context = LambdaContext(remaining_ms=300_000)
    result = runtime.run(schedules.handle_sweep({}, context, grace=NO_GRACE, batch_size=2))
    assert (result["completed"], result["stopped_early"]) == (5, 0)


def test_sweep_starts_no_new_page_when_time_is_nearly_up(store: FileStore) -> None:
    _late_uploads(store, 5)
    short = LambdaContext(remaining_ms=schedules.SWEEP_RESERVE_MS - 1)
    result = runtime.run(schedules.handle_sweep({}, short, grace=NO_GRACE, batch_size=2))
    assert (result["completed"], result["stopped_early"]) == (2, 1)
    # Unless told to finish whatever the time (the local server's catch-up on start).
    result = runtime.run(
        schedules.handle_sweep({}, short, grace=NO_GRACE, batch_size=2, until_done=True)
    )
    assert (result["completed"], result["stopped_early"]) == (3, 0)


# --- the runtime ---------------------------------------------------------------------------------


def test_sync_handlers_reuse_one_loop_across_invocations(store: FileStore) -> None:
    loops = []

    async def record_loop(command: Any, services: Any) -> None:
        loops.append(asyncio.get_running_loop())

    store.bus.command_handlers[RegisterUser] = record_loop
    for _ in range(3):
        cognito.post_confirmation(load_event("cognito_post_confirmation"), LambdaContext())
        websocket_api.handler(load_event("websocket_message"), LambdaContext())
    assert len(loops) == 3
    assert len(set(map(id, loops))) == 1
    assert loops[0] is runtime.loop()
    assert not loops[0].is_closed()


def test_bus_is_built_once_per_environment() -> None:
    built: list[object] = []

    def factory(settings: Any) -> Any:
        bus = FileStore.in_memory().bus
        built.append(bus)
        return bus

    env = Runtime(factory)
    assert env.bus() is env.bus()
    assert len(built) == 1


async def test_sync_handler_refuses_to_block_a_running_loop(store: FileStore) -> None:
    with pytest.raises(RuntimeError, match="await its async core"):
        websocket_api.handler(load_event("websocket_message"), LambdaContext())


async def test_run_sync_lets_sync_code_await_on_the_running_loop() -> None:
    loop = asyncio.get_running_loop()

    async def double(x: int) -> int:
        await asyncio.sleep(0)
        assert asyncio.get_running_loop() is loop
        return 2 * x

    async def fail() -> None:
        raise ValueError("boom")

    def sync_code(x: int) -> int:
        with pytest.raises(ValueError, match="boom"):  # raised inside the sync code
            await_sync(fail())
        return await_sync(double(x)) + 1

    assert await run_sync(sync_code, 20) == 41
    with pytest.raises(RuntimeError, match="outside run_sync"):
        await_sync(double(1))
