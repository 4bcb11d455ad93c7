"""The composition root: the only place that chooses adapters.

`Container` is a dependency-injector container configured by one `Settings`. Adapters of other
technologies are imported lazily, by the provider that builds them, so a process loads only the
libraries its configuration uses.
"""

from __future__ import annotations

from typing import Any

from dependency_injector import containers, providers

from filestore.adapters import memory
from filestore.adapters.system import RandomIds, SystemClock
from filestore.domain.handlers import Services
from filestore.domain.messagebus import NOTIFY_IN_PROCESS, EventHandlers, MessageBus
from filestore.settings import Settings


def _filesystem_blobs(settings: Settings, clock: Any) -> Any:
    from filestore.adapters.filesystem import FilesystemBlobStore

    return FilesystemBlobStore.in_data_dir(
        settings.data_dir, base_url=f"{settings.public_url}/_blobs", clock=clock
    )


def _sql_uow_factory(settings: Settings) -> Any:
    from filestore.adapters.sql.alchemy import sql_uow_factory

    return sql_uow_factory(settings.database_url)


def _dataapi_uow_factory(settings: Settings) -> Any:
    from filestore.adapters.dataapi.database import dataapi_uow_factory

    return dataapi_uow_factory(settings)


def _required(value: str | None, variable: str, choice: str) -> str:
    if not value:
        raise RuntimeError(f"{variable} must be set to use {choice}")
    return value


def _aws_client(settings: Settings, service: str, endpoint_url: str | None = None) -> Any:
    from filestore.adapters import aws

    return aws.client(
        service,
        region=settings.aws_region,
        endpoint_url=endpoint_url or settings.aws_endpoint_url,
    )


def _s3_blob_store(settings: Settings) -> Any:
    from filestore.adapters.s3 import S3BlobStore

    bucket = _required(settings.bucket, "FILESTORE_BUCKET", "blob_store=s3")
    return S3BlobStore(_aws_client(settings, "s3"), bucket)


def _sns_publisher(settings: Settings) -> Any:
    from filestore.adapters.sns import SnsEventPublisher

    topic_arn = _required(settings.topic_arn, "FILESTORE_TOPIC_ARN", "events=sns")
    return SnsEventPublisher(_aws_client(settings, "sns"), topic_arn)


def _ses_sender(settings: Settings) -> Any:
    from filestore.adapters.ses import SesEmailSender

    sender = _required(settings.email_sender, "FILESTORE_EMAIL_SENDER", "email=ses")
    return SesEmailSender(_aws_client(settings, "ses"), sender)


def _apigateway_notifier(settings: Settings) -> Any:
    from filestore.adapters.websocket import ApiGatewayRealtimeNotifier, management_endpoint

    endpoint = _required(
        settings.websocket_endpoint, "FILESTORE_WEBSOCKET_ENDPOINT", "realtime=apigateway"
    )
    # The stage's own URL is the management API's endpoint (FILESTORE_AWS_ENDPOINT_URL, an
    # emulator for the other services, does not serve it).
    client = _aws_client(settings, "apigatewaymanagementapi", management_endpoint(endpoint))
    return ApiGatewayRealtimeNotifier(client)


def _event_handlers(settings: Settings) -> EventHandlers:
    return NOTIFY_IN_PROCESS if settings.in_process_notifications else {}


class Container(containers.DeclarativeContainer):
    """Everything a filestore process needs, built once per process (or Lambda container)."""

    settings = providers.Singleton(Settings)

    clock = providers.Singleton(SystemClock)
    ids = providers.Singleton(RandomIds)
    policy = providers.Singleton(lambda s: s.upload_policy(), settings)

    memory_database = providers.Singleton(memory.MemoryDatabase)

    uow_factory = providers.Selector(
        providers.Callable(lambda s: s.database, settings),
        memory=providers.Singleton(memory.MemoryUnitOfWorkFactory, memory_database),
        sql=providers.Singleton(_sql_uow_factory, settings),
        dataapi=providers.Singleton(_dataapi_uow_factory, settings),
    )
    blobs = providers.Selector(
        providers.Callable(lambda s: s.blob_store, settings),
        memory=providers.Singleton(memory.MemoryBlobStore, clock),
        s3=providers.Singleton(_s3_blob_store, settings),
        filesystem=providers.Singleton(_filesystem_blobs, settings, clock),
    )
    publisher = providers.Selector(
        providers.Callable(lambda s: s.events, settings),
        memory=providers.Singleton(memory.MemoryEventPublisher),
        sns=providers.Singleton(_sns_publisher, settings),
    )
    email = providers.Selector(
        providers.Callable(lambda s: s.email, settings),
        memory=providers.Singleton(memory.MemoryEmailSender),
        ses=providers.Singleton(_ses_sender, settings),
    )
    realtime = providers.Selector(
        providers.Callable(lambda s: s.realtime, settings),
        memory=providers.Singleton(memory.MemoryRealtimeNotifier),
        apigateway=providers.Singleton(_apigateway_notifier, settings),
    )

    services = providers.Singleton(
        Services,
        uow_factory=uow_factory,
        blobs=blobs,
        clock=clock,
        ids=ids,
        policy=policy,
        publisher=publisher,
        email=email,
        realtime=realtime,
    )
    bus = providers.Singleton(
        MessageBus,
        services,
        event_handlers=providers.Callable(_event_handlers, settings),
    )


def build(settings: Settings | None = None, **overrides: Any) -> Container:
    """A container for `settings` (default: read from the environment).

    `overrides` replace providers by name with ready-made objects, e.g. `clock=FakeClock()`.
    """
    container = Container()
    if settings is not None:
        container.settings.override(providers.Object(settings))
    for name, value in overrides.items():
        getattr(container, name).override(providers.Object(value))
    return container
