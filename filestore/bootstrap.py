"""The composition root: the only place that chooses adapters.

`Container` is a dependency-injector container configured by one `Settings`; `build(settings)`
makes one for a Lambda function, a library user or a test. `build_local(...)` is its local
profile, what `filestore serve` runs on: SQLite (or MySQL), files on disk behind the server's own
S3 front, SNS, SQS and SES on an emulator, the server's own WebSocket connections and token
issuer. `upgrade_database(settings)` migrates the configured database (the deploy's custom
resource, `filestore db upgrade`, the local server's start); `provision_database_user` and
`rotate_database_secret` keep the database's application user in step with its secret (the
same custom resource, and the rotation function).

Adapters of other technologies are imported lazily, by the provider that builds them, so a process
loads only the libraries its configuration uses.
"""

from __future__ import annotations

import os
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from dependency_injector import containers, providers

from filestore.adapters import memory
from filestore.adapters.system import RandomIds, SystemClock
from filestore.domain.handlers import Services
from filestore.domain.messagebus import NOTIFY_IN_PROCESS, EventHandlers, MessageBus
from filestore.settings import Settings

if TYPE_CHECKING:
    from filestore.adapters.dataapi.credentials import DatabaseSecret
    from filestore.adapters.dataapi.database import DataApiDatabase
    from filestore.adapters.dataapi.users import DatabaseUsers
    from filestore.adapters.filesystem import FilesystemBlobStore, ObjectCreatedSink
    from filestore.adapters.local.emulator import LocalAws
    from filestore.adapters.local.realtime import LocalRealtimeNotifier
    from filestore.adapters.local.tokens import LocalTokenIssuer
    from filestore.domain.ports import (
        BlobStore,
        Clock,
        EmailSender,
        EventPublisher,
        RealtimeNotifier,
        UnitOfWorkFactory,
    )
    from filestore.entrypoints.auth import TokenVerifier


def _filesystem_blobs(
    settings: Settings, clock: Clock, on_created: ObjectCreatedSink | None
) -> FilesystemBlobStore:
    from filestore.adapters.filesystem import FilesystemBlobStore

    return FilesystemBlobStore.in_data_dir(
        settings.data_dir,
        base_url=f"{settings.public_url}/_blobs",
        clock=clock,
        on_created=on_created,
    )


# The SQL unit of work names its repositories' concrete classes, and a protocol's attributes are
# invariant to mypy, so its factory passes for the port only by a cast (the contract suite is what
# proves it is one).


def _sql_uow_factory(settings: Settings) -> UnitOfWorkFactory:
    from filestore.adapters.sql.alchemy import sql_uow_factory

    return cast("UnitOfWorkFactory", sql_uow_factory(settings.database_url))


def _dataapi_uow_factory(settings: Settings) -> UnitOfWorkFactory:
    from filestore.adapters.dataapi.database import dataapi_uow_factory

    return cast("UnitOfWorkFactory", dataapi_uow_factory(settings))


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


def _s3_blob_store(settings: Settings) -> BlobStore:
    from filestore.adapters.s3 import S3BlobStore

    bucket = _required(settings.bucket, "FILESTORE_BUCKET", "blob_store=s3")
    return S3BlobStore(_aws_client(settings, "s3"), bucket)


def _sns_publisher(settings: Settings) -> EventPublisher:
    from filestore.adapters.sns import SnsEventPublisher

    topic_arn = _required(settings.topic_arn, "FILESTORE_TOPIC_ARN", "events=sns")
    return SnsEventPublisher(_aws_client(settings, "sns"), topic_arn)


def _ses_sender(settings: Settings) -> EmailSender:
    from filestore.adapters.ses import SesEmailSender

    sender = _required(settings.email_sender, "FILESTORE_EMAIL_SENDER", "email=ses")
    return SesEmailSender(_aws_client(settings, "ses"), sender, settings.ses_configuration_set)


def _apigateway_notifier(settings: Settings) -> RealtimeNotifier:
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
    # Where the filesystem blob store reports the objects that land (S3's bucket notification).
    object_created: providers.Provider[ObjectCreatedSink | None] = providers.Object(None)
    filesystem_blobs = providers.Singleton(_filesystem_blobs, settings, clock, object_created)

    uow_factory: providers.Provider[UnitOfWorkFactory] = providers.Selector(
        providers.Callable(lambda s: s.database, settings),
        memory=providers.Singleton(memory.MemoryUnitOfWorkFactory, memory_database),
        sql=providers.Singleton(_sql_uow_factory, settings),
        dataapi=providers.Singleton(_dataapi_uow_factory, settings),
    )
    blobs: providers.Provider[BlobStore] = providers.Selector(
        providers.Callable(lambda s: s.blob_store, settings),
        memory=providers.Singleton(memory.MemoryBlobStore, clock),
        s3=providers.Singleton(_s3_blob_store, settings),
        filesystem=filesystem_blobs,
    )
    publisher: providers.Provider[EventPublisher] = providers.Selector(
        providers.Callable(lambda s: s.events, settings),
        memory=providers.Singleton(memory.MemoryEventPublisher),
        sns=providers.Singleton(_sns_publisher, settings),
    )
    email: providers.Provider[EmailSender] = providers.Selector(
        providers.Callable(lambda s: s.email, settings),
        memory=providers.Singleton(memory.MemoryEmailSender),
        ses=providers.Singleton(_ses_sender, settings),
    )
    realtime: providers.Provider[RealtimeNotifier] = providers.Selector(
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

    `overrides` replace providers by name with ready-made objects, e.g. `clock=test_clock`.
    On Lambda, an in-memory database, blob store or event bus that no override replaces is
    refused here (`RuntimeError` naming the variables to set), unless the settings allow it.
    """
    container = Container()
    if settings is not None:
        container.settings.override(providers.Object(settings))
    for name, value in overrides.items():
        getattr(container, name).override(providers.Object(value))
    _refuse_memory_on_lambda(container.settings(), overridden=overrides.keys())
    return container


# What an in-memory choice would lose on Lambda, by setting: its provider and what to set instead.
_KEPT_ON_LAMBDA = {
    "database": (
        "uow_factory",
        "FILESTORE_DATABASE=dataapi (with FILESTORE_DATAAPI_RESOURCE_ARN, "
        "FILESTORE_DATAAPI_SECRET_ARN and FILESTORE_DATAAPI_DATABASE) or "
        "FILESTORE_DATABASE=sql (with FILESTORE_DATABASE_URL)",
    ),
    "blob_store": ("blobs", "FILESTORE_BLOB_STORE=s3 (with FILESTORE_BUCKET)"),
    "events": ("publisher", "FILESTORE_EVENTS=sns (with FILESTORE_TOPIC_ARN)"),
}


def _refuse_memory_on_lambda(settings: Settings, overridden: Collection[str]) -> None:
    """A function that lost its environment would answer 200s and keep nothing: refuse it."""
    if not os.environ.get("AWS_LAMBDA_FUNCTION_NAME") or settings.allow_memory_on_lambda:
        return
    in_memory = [
        (field, remedy)
        for field, (provider, remedy) in _KEPT_ON_LAMBDA.items()
        if getattr(settings, field) == "memory" and provider not in overridden
    ]
    if in_memory:
        chosen = ", ".join(f"FILESTORE_{field.upper()} (memory)" for field, _ in in_memory)
        remedies = " and ".join(remedy for _, remedy in in_memory)
        raise RuntimeError(
            f"{chosen} on Lambda would keep nothing: set {remedies}; "
            "or set FILESTORE_ALLOW_MEMORY_ON_LAMBDA=1 if keeping nothing is meant"
        )


async def upgrade_database(settings: Settings) -> list[int]:
    """Apply the migrations the configured database lacks; the versions applied now (none for
    the in-memory database, which has no schema)."""
    if settings.database == "dataapi":
        from filestore.adapters.dataapi.database import DataApiDatabase

        applied: list[int] = await DataApiDatabase.from_settings(settings).migrate()
        return applied
    if settings.database == "sql":
        from filestore.adapters.sql.alchemy import upgrade_database as upgrade_sql

        if not settings.database_url:
            raise RuntimeError("FILESTORE_DATABASE_URL is unset (FILESTORE_DATABASE=sql needs it)")
        return await upgrade_sql(settings.database_url)
    return []


# --- the database's application user (deploy and rotation) ---------------------------------------


def _app_user_admin(
    settings: Settings,
) -> tuple[DatabaseSecret, DatabaseUsers, DataApiDatabase] | None:
    """The application user's secret and the database's users, administered as the master user
    (`FILESTORE_DATAAPI_SECRET_ARN` of the migrations and rotation functions), or None when the
    settings name no application user (no Data API, or no FILESTORE_DATAAPI_APP_SECRET_ARN)."""
    if settings.database != "dataapi" or not settings.dataapi_app_secret_arn:
        return None
    from filestore.adapters.dataapi.credentials import DatabaseSecret
    from filestore.adapters.dataapi.database import DataApiDatabase
    from filestore.adapters.dataapi.users import DatabaseUsers

    schema = _required(settings.dataapi_database, "FILESTORE_DATAAPI_DATABASE", "an app user")
    admin = DataApiDatabase.from_settings(settings)
    # The same cluster, signing in with the application user's secret.
    app = DataApiDatabase(
        admin.client,
        resource_arn=admin.resource_arn,
        secret_arn=settings.dataapi_app_secret_arn,
        database=schema,
        retry=admin.retry,
    )
    secret = DatabaseSecret(
        _aws_client(settings, "secretsmanager"), settings.dataapi_app_secret_arn
    )
    return secret, DatabaseUsers(admin.autocommit(), schema), app


async def provision_database_user(settings: Settings) -> str | None:
    """Make the application user match its secret's current version (create it, set the
    password, grant DML on the schema), then sign in with the secret through the Data API;
    the user's name, or None when the settings name no application user."""
    admin = _app_user_admin(settings)
    if admin is None:
        return None
    from filestore.adapters.dataapi.rotation import provision_app_user

    secret, users, app = admin
    return await provision_app_user(
        secret,
        users,
        base_username=settings.dataapi_app_username,
        sign_in=lambda: app.autocommit().fetch("SELECT 1"),
    )


async def rotate_database_secret(settings: Settings, *, step: str, token: str) -> None:
    """Run one of Secrets Manager's rotation steps on the application user's secret."""
    admin = _app_user_admin(settings)
    if admin is None:
        raise RuntimeError(
            "rotation needs FILESTORE_DATABASE=dataapi and FILESTORE_DATAAPI_APP_SECRET_ARN"
        )
    from filestore.adapters.dataapi.rotation import AppUserRotation

    secret, users, _ = admin
    rotation = AppUserRotation(secret, users, base_username=settings.dataapi_app_username)
    await rotation.run(step, token)


# --- the local profile: `filestore serve` ---------------------------------------------------------


def local_token_issuer(data_dir: Path) -> LocalTokenIssuer:
    """The issuer of the tokens `filestore serve` accepts, with its keys in `data_dir`."""
    from filestore.adapters.local.tokens import LocalTokenIssuer

    return LocalTokenIssuer(data_dir)


def local_aws(data_dir: Path, endpoint_url: str | None = None) -> LocalAws:
    """SNS, SQS and SES for `filestore serve`, as template.yaml provisions them: durable queues
    and inbox in a SQLite file under `data_dir`, or the emulator at `endpoint_url` (LocalStack),
    which serves S3 as well."""
    from filestore.adapters.local import emulator

    emulator.use_local_credentials()
    if endpoint_url is None:
        return emulator.durable(data_dir)
    # Names of their own per data dir: a server deletes objects no upload of its database
    # claims, so two servers must never share a bucket or queues.
    return emulator.provision(endpoint_url, with_bucket=True, prefix=emulator.prefix_for(data_dir))


@dataclass
class LocalSystem:
    """What `filestore serve` runs on: the container on the local profile's adapters, and the
    pieces the server drives itself, as API Gateway and S3 would."""

    container: Container
    aws: LocalAws
    tokens: LocalTokenIssuer
    # The realtime port over the server's WebSocket connections (it attaches and detaches them).
    notifier: LocalRealtimeNotifier
    # The production verifier (signature, expiry, issuer, audience, token use) with the local
    # issuer's public key in place of Cognito's JWKS.
    token_verifier: TokenVerifier
    # Served by the server at `/_blobs`; None when the emulator is S3 as well.
    blobs: FilesystemBlobStore | None
    # Whether this run marked the SQLite database in use (`database_running`).
    _marked: bool = False

    @property
    def settings(self) -> Settings:
        return self.container.settings()

    def bus(self) -> MessageBus:
        return self.container.bus()

    async def migrate(self) -> list[int]:
        """Bring the database schema up to date (idempotent); the versions applied now."""
        return await upgrade_database(self.settings)

    @property
    def sqlite_file(self) -> Path | None:
        """The SQLite database file, if the database is one."""
        prefix = "sqlite+aiosqlite:///"
        url = self.settings.database_url or ""
        return Path(url.removeprefix(prefix)) if url.startswith(prefix) else None

    def check_database_log(self) -> None:
        """Before the database is opened: `RuntimeError` if the last run crashed and the
        SQLite write-ahead log that held its latest commits is gone."""
        from filestore.adapters.local import wal_guard

        if self.sqlite_file is not None:
            try:
                wal_guard.check(self.sqlite_file)
            except wal_guard.WriteAheadLogLost as error:
                raise RuntimeError(str(error)) from error

    def database_running(self) -> None:
        """Once the database is open: mark it in use, so a crash that loses its log is seen."""
        from filestore.adapters.local import wal_guard

        if self.sqlite_file is not None:
            self._marked = wal_guard.mark_running(self.sqlite_file)

    async def aclose(self) -> None:
        """Publish what is still being published, then release the database's pooled
        connections (on the loop that opened them)."""
        await self.bus().drain()
        await self.container.uow_factory().aclose()

    def close(self) -> None:
        """Close the durable queues, if they are the local ones; after a clean stop, clear the
        database's in-use mark."""
        from filestore.adapters.local import wal_guard

        self.aws.stop()
        # Only a run that marked it clears it: one refused at start leaves the mark it found.
        if self.sqlite_file is not None and self._marked:
            wal_guard.mark_stopped(self.sqlite_file)


def build_local(
    aws: LocalAws,
    *,
    data_dir: Path,
    public_url: str,
    database_url: str | None = None,
    offer_sign_in: bool = True,
) -> LocalSystem:
    """The local profile on `aws` (see `local_aws`), with its state under `data_dir`: the
    database at `database_url` (default: SQLite in the data dir), served at `public_url` with
    the web app; `offer_sign_in`: the password-free e-mail sign-in is offered."""
    from filestore.adapters.local.email import LoggedEmailSender
    from filestore.adapters.local.emulator import subscribed_types
    from filestore.adapters.local.realtime import LocalRealtimeNotifier
    from filestore.adapters.local.subscribed import SubscribedTypesPublisher
    from filestore.adapters.local.tokens import AUDIENCE, ISSUER
    from filestore.entrypoints.auth import StaticKeys, TokenVerifier

    settings = Settings(
        database="sql",
        database_url=database_url or f"sqlite+aiosqlite:///{data_dir / 'filestore.db'}",
        # With no S3 in the emulator (moto's checks no presigned policy), blobs are files behind
        # the server's own S3 front.
        blob_store="filesystem" if aws.bucket is None else "s3",
        bucket=aws.bucket,
        data_dir=data_dir,
        events="sns",
        topic_arn=aws.topic_arn,
        email="ses",
        email_sender=aws.sender,
        realtime="memory",  # replaced below by the notifier over the server's sockets
        notify_in_process=False,  # the queues deliver notifications, as on AWS
        aws_endpoint_url=aws.endpoint_url,
        aws_region=aws.region,
        public_url=public_url,
        cognito_issuer=ISSUER,
        cognito_client_id=AUDIENCE,
        sign_in="local",
        local_sign_in_url=f"{public_url}/_local/sign-in" if offer_sign_in else None,
        web_url=public_url,
    )
    from filestore.adapters.ses import SesEmailSender
    from filestore.adapters.sns import SnsEventPublisher

    notifier = LocalRealtimeNotifier()
    container = build(
        settings,
        realtime=notifier,
        # The outbox marks an event published once the topic's queues hold it (durably, locally).
        # The topic's subscriptions are the emulator's own: what none takes is not sent.
        publisher=SubscribedTypesPublisher(
            SnsEventPublisher(aws.sns, aws.topic_arn), subscribed_types()
        ),
        # Mail goes to SES (the local inbox, or the emulator's), and to the log, where a person
        # running it looks.
        email=LoggedEmailSender(SesEmailSender(aws.ses, aws.sender)),
        object_created=aws.notify_object_created,
    )
    # A server keeps running after it answered: a write answers once it committed, and its
    # events are published (and marked) meanwhile; the relay covers a crash in between.
    container.bus.add_kwargs(publish_in_background=True)
    tokens = local_token_issuer(data_dir)
    return LocalSystem(
        container=container,
        aws=aws,
        tokens=tokens,
        notifier=notifier,
        token_verifier=TokenVerifier(
            issuer=ISSUER, audience=AUDIENCE, keys=StaticKeys(tokens.jwks())
        ),
        blobs=container.filesystem_blobs() if settings.blob_store == "filesystem" else None,
    )
