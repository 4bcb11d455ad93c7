"""The message bus's guarantees and the composition root's choices."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
from dataclasses import dataclass

import pytest

from filestore.adapters.memory import (
    MemoryBlobStore,
    MemoryEventPublisher,
    MemoryUnitOfWorkFactory,
)
from filestore.app import FileStore
from filestore.bootstrap import build, upgrade_database
from filestore.domain import commands
from filestore.domain.commands import Actor
from filestore.domain.deadlines import command_started
from filestore.domain.errors import ConcurrencyConflict, NotFound
from filestore.domain.events import UserRegistered
from filestore.domain.handlers import Services, register_user
from filestore.domain.messagebus import MessageBus
from filestore.settings import Settings


@dataclass(frozen=True)
class Flaky(commands.Command):
    failures: int


class TestMessageBus:
    async def test_command_errors_reach_the_caller(self, store: FileStore, alice: Actor) -> None:
        with pytest.raises(NotFound):
            await store.get_upload(alice, "01890000-0000-7000-8000-000000000000")

    async def test_unknown_commands_are_a_programming_error(self, store: FileStore) -> None:
        with pytest.raises(TypeError, match="no handler for Flaky"):
            await store.bus.handle(Flaky(0))

    async def test_concurrency_conflicts_are_retried_then_raised(self, store: FileStore) -> None:
        calls = []

        async def flaky(command: Flaky, services: Services) -> str:
            calls.append(1)
            if len(calls) <= command.failures:
                raise ConcurrencyConflict("lost a race")
            return "done"

        bus = MessageBus(store.services, command_handlers={Flaky: flaky}, attempts=3)
        assert await bus.handle(Flaky(2)) == "done"
        assert len(calls) == 3
        calls.clear()
        with pytest.raises(ConcurrencyConflict):
            await bus.handle(Flaky(3))
        assert len(calls) == 3

    async def test_each_command_has_one_clock_for_its_retries_and_its_own_commands(
        self, store: FileStore
    ) -> None:
        """Adapters count a request's budget from `command_started()`: once per command, not
        again for a retry, and separately for commands handled at the same time."""
        seen: list[float | None] = []

        async def flaky(command: Flaky, services: Services) -> None:
            seen.append(command_started())
            await asyncio.sleep(0.01)
            if len(seen) <= command.failures:
                raise ConcurrencyConflict("lost a race")

        bus = MessageBus(store.services, command_handlers={Flaky: flaky})
        assert command_started() is None
        await bus.handle(Flaky(2))
        assert len(seen) == 3 and len(set(seen)) == 1 and seen[0] is not None
        seen.clear()
        await asyncio.gather(bus.handle(Flaky(0)), bus.handle(Flaky(0)))
        assert len(set(seen)) == 2
        assert command_started() is None

    async def test_what_was_committed_goes_on_even_when_the_command_then_fails(
        self, store: FileStore, alice: Actor
    ) -> None:
        async def register_then_lose(command: Flaky, services: Services) -> None:
            await register_user(commands.RegisterUser(alice), services)
            raise ConcurrencyConflict("lost a race")  # after the commit, on every attempt

        bus = MessageBus(store.services, command_handlers={Flaky: register_then_lose}, attempts=2)
        with pytest.raises(ConcurrencyConflict):
            await bus.handle(Flaky(0))
        # Committed by the first attempt (the second found the user), published all the same.
        assert [e.type for e in store.memory_publisher.published] == ["user.registered"]

    async def test_a_failing_event_handler_is_logged_and_does_not_undo_the_command(
        self, store: FileStore, alice: Actor, caplog: pytest.LogCaptureFixture
    ) -> None:
        def explode(event: object) -> commands.Command:
            raise RuntimeError("notifier down")

        store.bus.event_handlers = {UserRegistered: (explode,)}
        with caplog.at_level(logging.ERROR):
            user = await store.me(alice)
        assert user.sub == alice.sub
        assert "handling event" in caplog.text
        assert "notifier down" in caplog.text
        assert (await store.me(alice)).id == user.id

    async def test_concurrent_first_sight_registers_one_user(
        self, store: FileStore, alice: Actor
    ) -> None:
        import asyncio

        users = await asyncio.gather(*(store.me(alice) for _ in range(5)))
        assert len({u.id for u in users}) == 1


class TestBootstrap:
    def test_no_configuration_builds_the_in_memory_system(self) -> None:
        container = build(Settings())
        services = container.services()
        assert isinstance(services.uow_factory, MemoryUnitOfWorkFactory)
        assert isinstance(services.blobs, MemoryBlobStore)
        assert isinstance(services.publisher, MemoryEventPublisher)
        assert container.bus().event_handlers  # notifications run in-process

    def test_settings_come_from_filestore_environment_variables(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("FILESTORE_MULTIPART_THRESHOLD", "1048576")
        monkeypatch.setenv("FILESTORE_ALLOWED_CONTENT_TYPES", "image/*, application/pdf")
        monkeypatch.setenv("FILESTORE_PUBLIC_URL", "https://files.example.com/")
        settings = Settings()
        policy = settings.upload_policy()
        assert policy.multipart_threshold == 1048576
        assert policy.allowed_content_types == frozenset({"image/*", "application/pdf"})
        assert settings.public_url == "https://files.example.com"

    def test_queue_consumers_mean_no_in_process_notifications(self) -> None:
        assert not Settings(events="memory", notify_in_process=False).in_process_notifications
        assert not build(Settings(notify_in_process=False)).bus().event_handlers

    def test_a_bad_setting_is_a_clear_error(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("FILESTORE_DATABASE", "oracle")
        with pytest.raises(ValueError, match="database"):
            Settings()

    def test_one_bus_per_container(self) -> None:
        container = build(Settings())
        assert container.bus() is container.bus()
        assert container.services().uow_factory is container.uow_factory()

    async def test_the_in_memory_database_has_nothing_to_migrate(self) -> None:
        assert await upgrade_database(Settings()) == []

    async def test_a_sql_database_cannot_be_migrated_without_its_url(self) -> None:
        with pytest.raises(RuntimeError, match="FILESTORE_DATABASE_URL is unset"):
            await upgrade_database(Settings(database="sql"))


class TestInMemoryOnLambda:
    """On Lambda, what is kept in memory is lost with the execution environment: refused."""

    @pytest.fixture(autouse=True)
    def _on_lambda(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "filestore-HttpApiFunction")

    def test_is_refused_naming_the_variables_to_set(self) -> None:
        with pytest.raises(RuntimeError) as refused:
            build(Settings())
        message = str(refused.value)
        assert message.startswith(
            "FILESTORE_DATABASE (memory), FILESTORE_BLOB_STORE (memory), FILESTORE_EVENTS (memory)"
            " on Lambda would keep nothing: set FILESTORE_DATABASE=dataapi"
        )
        for remedy in ("FILESTORE_BUCKET", "FILESTORE_TOPIC_ARN", "ALLOW_MEMORY_ON_LAMBDA=1"):
            assert remedy in message

    def test_names_only_what_is_in_memory(self) -> None:
        settings = Settings(database="sql", events="sns")
        with pytest.raises(
            RuntimeError, match=r"^FILESTORE_BLOB_STORE \(memory\) on Lambda"
        ) as refused:
            build(settings)
        assert "FILESTORE_DATABASE" not in str(refused.value)
        assert "FILESTORE_EVENTS" not in str(refused.value)

    def test_a_lambda_function_that_lost_its_environment_fails_at_start(self) -> None:
        from filestore.entrypoints.runtime import Runtime

        with pytest.raises(RuntimeError, match="would keep nothing"):
            Runtime().bus()

    def test_memory_e_mail_and_realtime_are_not_refused(self) -> None:
        settings = Settings(database="sql", blob_store="s3", events="sns")
        # Nothing is built yet (the SQL, S3 and SNS adapters would need more settings).
        assert build(settings).settings() == settings

    def test_is_allowed_when_the_environment_says_so(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("FILESTORE_ALLOW_MEMORY_ON_LAMBDA", "1")
        services = build().services()
        assert isinstance(services.uow_factory, MemoryUnitOfWorkFactory)
        assert isinstance(services.blobs, MemoryBlobStore)
        assert isinstance(services.publisher, MemoryEventPublisher)

    def test_an_adapter_given_ready_made_is_not_refused(self) -> None:
        settings = Settings(blob_store="s3", events="sns")
        database = MemoryUnitOfWorkFactory()
        assert build(settings, uow_factory=database).uow_factory() is database

    async def test_the_library_store_in_memory_is_asked_for_by_name(self, alice: Actor) -> None:
        assert (await FileStore.in_memory().me(alice)).email == alice.email


def test_importing_filestore_is_light() -> None:
    code = (
        "import filestore, sys; print(sorted(m for m in sys.modules "
        "if m.split('.')[0] in {'pydantic', 'dependency_injector', 'boto3'}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


class TestMemoryAdapter:
    async def test_a_sub_registered_by_two_open_units_of_work_commits_once(self) -> None:
        from filestore.adapters.memory import MemoryUnitOfWorkFactory
        from tests.factories import make_user

        factory = MemoryUnitOfWorkFactory()
        async with factory() as first, factory() as second:
            await first.users.add(make_user(sub="same"))
            await second.users.add(make_user(sub="same"))  # neither sees the other yet
            await first.commit()
            with pytest.raises(ConcurrencyConflict):
                await second.commit()
        async with factory() as uow:
            assert (await uow.users.get_by_sub("same")) is not None

    async def test_lookups_by_secondary_key_see_this_units_own_writes(self) -> None:
        from filestore.adapters.memory import MemoryUnitOfWorkFactory
        from tests.factories import make_upload, make_user

        factory = MemoryUnitOfWorkFactory()
        async with factory() as uow:
            user = make_user()
            upload = make_upload(user)
            await uow.users.add(user)
            await uow.uploads.add(upload)
            found_user = await uow.users.get_by_sub(user.sub)
            found_upload = await uow.uploads.get_by_object_key(upload.object_key)
        assert found_user is not None and found_user.id == user.id
        assert found_upload is not None and found_upload.id == upload.id
