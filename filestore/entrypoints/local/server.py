"""`filestore serve`: the production Lambda handlers behind one local HTTP and WebSocket server.

The server is a translator, as API Gateway, S3 notifications, SQS event source mappings and
EventBridge schedules are on AWS: requests become API Gateway events, the handlers' async cores
are awaited on the server's one event loop with one message bus (as in one warm execution
environment), and their answers become responses. What it runs on, all under the data dir:
SQLite (migrated on start), the filesystem blob store (its presigned URLs served at `/_blobs`),
and moto in-process for SNS, SQS and SES, or an external emulator with `--aws-endpoint-url`.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import errno
import json
import logging
import os
import secrets
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from http import HTTPStatus
from pathlib import Path
from typing import Any

from filestore.adapters.local import emulator
from filestore.adapters.local.realtime import LocalRealtimeNotifier
from filestore.adapters.local.tokens import AUDIENCE, ISSUER, LocalTokenIssuer
from filestore.domain.ports import UnitOfWorkFactory
from filestore.entrypoints.local import gateway
from filestore.entrypoints.local.gateway import LambdaContext
from filestore.entrypoints.local.queues import QueuePoller

log = logging.getLogger("filestore.serve")

Function = Callable[[dict[str, Any], Any], Awaitable[Any]]
# API Gateway refuses larger request payloads (10 MB) before any handler runs.
MAX_PAYLOAD = 10 * 1024 * 1024
# How often the scheduled functions run locally (the template's schedules, sped up).
RELAY_EVERY = 30.0
SWEEP_EVERY = 60.0
# Their time limits, as template.yaml sets them: the relay and the sweep stop starting new
# batches by the time left.
SCHEDULED_TIMEOUT_MS = {"relay": 60_000, "sweep": 300_000}


class StartupError(Exception):
    """Why the server cannot start, in one line a person can act on."""


@dataclass(frozen=True)
class ServeOptions:
    host: str = "127.0.0.1"
    port: int = 8000
    data_dir: Path = Path(".filestore")
    database_url: str | None = None
    aws_endpoint_url: str | None = None

    @property
    def public_url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host  # noqa: S104
        return f"http://{host}:{self.port}"


@dataclass
class Functions:
    """The Lambda functions of template.yaml, as async callables `(event, context)`."""

    http_api: Function
    websocket: Function
    websocket_authorizer: Function
    s3_events: Function
    email: Function
    realtime: Function
    relay: Function
    sweep: Function
    # The sweep once more, on start: with no grace for young uploads, whose S3 events (queued in
    # the previous run's in-memory queues) are gone, and through every pending upload however
    # long it takes (the server serves nothing before).
    catch_up: Function


def lambda_functions(bus: Any, *, public_url: str, verifier: Any) -> Functions:
    """The production handlers' async cores, all on `bus`; tokens checked by `verifier`."""
    from functools import partial

    from filestore.entrypoints import (
        http_api,
        notifications,
        s3_events,
        schedules,
        websocket_api,
    )

    websocket_api.set_token_verifier(verifier)

    async def websocket_authorizer(event: dict[str, Any], context: Any) -> Any:
        # Synchronous, and no I/O with static keys: called in place. Its Lambda handler's
        # Logger decorator would put this invocation's keys on every function's log lines.
        return websocket_api.authorize(event)

    return Functions(
        http_api=_invocation(partial(http_api.handle, bus=bus, public_url=public_url)),
        websocket=_invocation(partial(websocket_api.handle, bus=bus)),
        websocket_authorizer=_invocation(websocket_authorizer),
        s3_events=_invocation(partial(s3_events.handle, bus=bus)),
        email=_invocation(partial(notifications.handle_email, bus=bus)),
        realtime=_invocation(partial(notifications.handle_realtime, bus=bus)),
        relay=_invocation(partial(schedules.handle_relay, bus=bus)),
        sweep=_invocation(partial(schedules.handle_sweep, bus=bus)),
        catch_up=_invocation(
            partial(schedules.handle_sweep, bus=bus, grace=timedelta(0), until_done=True)
        ),
    )


def _invocation(function: Function) -> Function:
    """`function` logging as one Lambda invocation: the async cores run without their Lambda
    handlers' Logger decorators, so this sets (and afterwards drops) the context's keys."""
    from filestore.entrypoints.observability import lambda_invocation

    async def invoke(event: dict[str, Any], context: Any) -> Any:
        with lambda_invocation(context):
            return await function(event, context)

    return invoke


# --- checks before anything starts -------------------------------------------------------------


def check_data_dir(data_dir: Path) -> Path:
    """The data dir, created if needed; `StartupError` if it cannot be written."""
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        probe = data_dir / f".write-test-{os.getpid()}"
        probe.write_bytes(b"ok")
        probe.unlink()
    except OSError as error:
        reason = error.strerror or str(error)
        raise StartupError(f"cannot write to the data dir {data_dir}: {reason}") from error
    return data_dir.resolve()


def bind(host: str, port: int) -> socket.socket:
    """The listening socket, bound now so a taken port is a clear error, not a traceback."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        if error.errno == errno.EADDRINUSE:
            raise StartupError(
                f"port {port} on {host} is in use; stop what uses it or pick another with --port"
            ) from error
        raise StartupError(f"cannot listen on {host}:{port}: {error.strerror}") from error
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def sqlite_url(data_dir: Path) -> str:
    return f"sqlite+aiosqlite:///{data_dir / 'filestore.db'}"


# --- the server --------------------------------------------------------------------------------


@dataclass
class LocalServer:
    """Everything `filestore serve` runs; `app` is its ASGI application."""

    options: ServeOptions
    data_dir: Path = field(init=False)
    aws: emulator.LocalAws | None = field(init=False, default=None)
    functions: Functions | None = field(init=False, default=None)
    tokens: LocalTokenIssuer = field(init=False)
    notifier: LocalRealtimeNotifier = field(init=False, default_factory=LocalRealtimeNotifier)
    blobs: Any = field(init=False, default=None)
    container: Any = field(init=False, default=None)
    _stop: asyncio.Event = field(init=False, default_factory=asyncio.Event)
    _tasks: list[asyncio.Task[None]] = field(init=False, default_factory=list)
    _sqs: Any = field(init=False, default=None)
    verifier: Any = field(init=False, default=None)

    def __post_init__(self) -> None:
        self.data_dir = check_data_dir(Path(self.options.data_dir))
        self.tokens = LocalTokenIssuer(self.data_dir)

    # startup, before the loop: AWS emulator and the container

    def prepare(self) -> None:
        """Start (or reach) the AWS emulator and build the container; raises `StartupError`."""
        from filestore.bootstrap import build
        from filestore.settings import Settings

        emulator.use_local_credentials()
        endpoint = self.options.aws_endpoint_url
        try:
            if endpoint is None:
                logging.getLogger("werkzeug").setLevel(logging.WARNING)
                moto, url = emulator.start_moto()
                self.aws = emulator.provision(url, moto=moto)
            else:
                # Names of their own per data dir: a server deletes objects no upload of its
                # database claims, so two servers must never share a bucket or queues.
                self.aws = emulator.provision(
                    endpoint, with_bucket=True, prefix=emulator.prefix_for(self.data_dir)
                )
        except StartupError:
            raise
        except Exception as error:
            where = endpoint or "the in-process AWS emulator"
            raise StartupError(f"cannot set up SNS/SQS/SES at {where}: {error}") from error
        aws = self.aws
        self._sqs = emulator.client("sqs", aws.endpoint_url, aws.region)
        settings = Settings(
            database="sql",
            database_url=self.options.database_url or sqlite_url(self.data_dir),
            blob_store="s3" if endpoint else "filesystem",
            bucket=aws.bucket,
            data_dir=self.data_dir,
            events="sns",
            topic_arn=aws.topic_arn,
            email="ses",
            email_sender=aws.sender,
            realtime="memory",  # replaced below by the notifier over this server's sockets
            notify_in_process=False,  # the queues deliver notifications, as on AWS
            aws_endpoint_url=aws.endpoint_url,
            aws_region=aws.region,
            public_url=self.options.public_url,
            cognito_issuer=ISSUER,
            cognito_client_id=AUDIENCE,
        )
        overrides: dict[str, Any] = {"realtime": self.notifier}
        if endpoint is None:
            from filestore.adapters.filesystem import FilesystemBlobStore

            self.blobs = FilesystemBlobStore.in_data_dir(
                self.data_dir,
                base_url=f"{self.options.public_url}/_blobs",
                on_created=self._object_created,
            )
            overrides["blobs"] = self.blobs
        container = build(settings, **overrides)
        from dependency_injector import providers

        from filestore.adapters.local.email import LoggedEmailSender

        container.email.override(providers.Object(LoggedEmailSender(container.email())))
        self.container = container
        try:
            from filestore.entrypoints.auth import StaticKeys, TokenVerifier

            # The production verifier (signature, expiry, issuer, audience, token use) with
            # the local issuer's public key in place of Cognito's JWKS.
            self.verifier = TokenVerifier(
                issuer=ISSUER, audience=AUDIENCE, keys=StaticKeys(self.tokens.jwks())
            )
            self.functions = lambda_functions(
                container.bus(), public_url=self.options.public_url, verifier=self.verifier
            )
        except ImportError as error:
            raise StartupError(f"this build lacks the Lambda handlers: {error}") from error

    async def _object_created(self, notification: dict[str, Any]) -> None:
        """S3's bucket notification: `ObjectCreated` under `u/` goes to the S3-events queue."""
        assert self.aws is not None
        records = [r for r in notification["Records"] if r["s3"]["object"]["key"].startswith("u/")]
        if records:
            await asyncio.to_thread(
                self._sqs.send_message,
                QueueUrl=self.aws.queues["s3-events"].url,
                MessageBody=json.dumps({"Records": records}),
            )

    # startup and shutdown, on the server's loop

    async def migrate(self) -> None:
        """Bring the database schema up to date (before serving; idempotent)."""
        from filestore.adapters.sql.alchemy import upgrade_database

        url = self.container.settings().database_url
        try:
            applied = await upgrade_database(url)
        except Exception as error:
            raise StartupError(f"cannot reach the database {_redact(url)}: {error}") from error
        if applied:
            log.info("database migrated: applied %s", applied)

    async def start(self) -> None:
        """Migrate, catch up (relay the outbox, reconcile), then start pollers and schedules."""
        assert self.functions is not None
        assert self.aws is not None
        functions = self.functions
        # What a previous run committed but did not publish, and uploads whose S3 event was
        # lost with the in-memory queues (however young), are caught up before the first request.
        await self._scheduled(functions.relay, "relay")
        await self._scheduled(functions.catch_up, "sweep")
        consumers = {
            "s3-events": functions.s3_events,
            "email": functions.email,
            "realtime": functions.realtime,
        }
        for name, function in consumers.items():
            queue = self.aws.queues[name]
            poller = QueuePoller(
                name, self._sqs, queue.url, queue.arn, function, region=self.aws.region
            )
            self._tasks.append(asyncio.create_task(poller.run(self._stop), name=f"poll-{name}"))
        self._tasks.append(asyncio.create_task(self._every(RELAY_EVERY, functions.relay, "relay")))
        self._tasks.append(asyncio.create_task(self._every(SWEEP_EVERY, functions.sweep, "sweep")))

    async def _scheduled(self, function: Function, name: str) -> None:
        try:
            context = LambdaContext(function_name=name, timeout_ms=SCHEDULED_TIMEOUT_MS[name])
            await function(gateway.scheduled_event(name), context)
        except Exception:
            log.exception("the scheduled %s failed; it runs again later", name)

    async def _every(self, seconds: float, function: Function, name: str) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), seconds)
            if not self._stop.is_set():
                await self._scheduled(function, name)

    async def stop(self) -> None:
        """Stop pollers and schedules after the batch in flight, then release everything."""
        self._stop.set()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.container is not None:
            with contextlib.suppress(Exception):
                await _close(self.container.uow_factory())

    def close(self) -> None:
        if self.aws is not None:
            self.aws.stop()

    # the ASGI app

    def app(self) -> Any:
        from starlette.applications import Starlette
        from starlette.exceptions import HTTPException
        from starlette.routing import Mount, Route, WebSocketRoute

        @contextlib.asynccontextmanager
        async def lifespan(_: Any) -> AsyncIterator[None]:
            await self.start()
            url = self.options.public_url
            print(f"filestore is serving at {url}  (API docs: {url}/docs)", flush=True)
            try:
                yield
            finally:
                await self.stop()

        routes: list[Any] = [
            Route("/_local/emails", self._emails, methods=["GET"]),
            Route("/_local/.well-known/jwks.json", self._jwks, methods=["GET"]),
            WebSocketRoute("/ws", self._websocket),
        ]
        if self.blobs is not None:
            from filestore.entrypoints.local.blobs import blob_app

            routes.append(Mount("/_blobs", app=blob_app(self.blobs)))
        methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
        routes.append(Route("/{path:path}", self._http, methods=methods))
        return Starlette(
            routes=routes,
            lifespan=lifespan,
            exception_handlers={HTTPException: self._gateway_error},
        )

    async def _gateway_error(self, request: Any, error: Any) -> Any:
        """What the router itself refuses (a path with a newline, an unknown method), answered
        in JSON as API Gateway does, not in Starlette's plain text."""
        from starlette.responses import JSONResponse

        message = HTTPStatus(error.status_code).phrase
        return JSONResponse({"message": message}, error.status_code, headers=error.headers)

    async def _emails(self, request: Any) -> Any:
        from starlette.responses import JSONResponse

        assert self.aws is not None
        messages = await asyncio.to_thread(emulator.sent_emails, self.aws)
        return JSONResponse({"items": messages})

    async def _jwks(self, request: Any) -> Any:
        from starlette.responses import JSONResponse

        return JSONResponse(self.tokens.jwks())

    async def _http(self, request: Any) -> Any:
        """API Gateway's HTTP API: JWT authorizer on private routes, then the function."""
        from starlette.responses import JSONResponse, Response

        assert self.functions is not None
        method, path = request.method, request.url.path
        claims = None
        if not gateway.is_public(method, path):
            claims = self._claims(request.headers.get("authorization", ""))
            if claims is None:
                return JSONResponse(
                    {"message": "Unauthorized"},
                    status_code=401,
                    headers={"www-authenticate": 'Bearer error="invalid_token"'},
                )
        body = await request.body()
        if len(body) > MAX_PAYLOAD:
            return JSONResponse({"message": "Request Entity Too Large"}, status_code=413)
        client = request.client.host if request.client else "127.0.0.1"
        event = gateway.http_event(
            method=method,
            path=path,
            raw_query=request.url.query,
            headers=list(request.headers.items()),
            body=body,
            source_ip=client,
            claims=claims,
        )
        try:
            result = await self.functions.http_api(event, LambdaContext(function_name="http-api"))
        except Exception:
            log.exception("the HTTP API function failed")
            return JSONResponse({"message": "Internal Server Error"}, status_code=500)
        answer = gateway.http_answer(result)
        response = Response(answer.body, status_code=answer.status)
        for name, value in answer.headers:
            if name.lower() != "content-length":
                response.headers.append(name, value)
        return response

    def _claims(self, authorization: str) -> dict[str, Any] | None:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        from filestore.entrypoints.auth import InvalidToken

        try:
            return dict(self.verifier.verify(token.strip()).claims)
        except InvalidToken:
            return None

    async def _websocket(self, websocket: Any) -> None:
        """API Gateway's WebSocket API: authorizer and `$connect`, `$default`, `$disconnect`."""
        assert self.functions is not None
        functions = self.functions
        # API Gateway's connection ids are 12 random bytes, base64 (ending in '=').
        connection_id = base64.b64encode(secrets.token_bytes(12)).decode()
        client = websocket.client.host if websocket.client else "127.0.0.1"
        host = websocket.headers.get("host", "localhost")
        token = websocket.query_params.get("token")
        if not token:
            await websocket.close(code=1008)  # refused before the authorizer, as on AWS
            return
        context = LambdaContext(function_name="websocket-authorizer")
        request = gateway.authorizer_request(
            token, connection_id=connection_id, source_ip=client, host=host
        )
        try:
            policy = await functions.websocket_authorizer(request, context)
        except Exception:
            policy = None
        if not _allows(policy):
            await websocket.close(code=1008)
            return
        authorizer = {**(policy.get("context") or {}), "principalId": policy.get("principalId")}
        accepted = asyncio.Event()

        async def send(text: str) -> None:
            # A notification may come while `$connect` runs: it waits for the handshake.
            await accepted.wait()
            await websocket.send_text(text)

        self.notifier.attach(connection_id, send)

        def event(route: str, body: str | None = None) -> dict[str, Any]:
            return gateway.websocket_event(
                route,
                connection_id,
                source_ip=client,
                host=host,
                body=body,
                query={"token": token} if route == "$connect" else None,
                headers=dict(websocket.headers) if route == "$connect" else None,
                authorizer=authorizer,
            )

        try:
            result = await functions.websocket(event("$connect"), LambdaContext("websocket"))
        except Exception:
            log.exception("$connect failed")
            result = {"statusCode": 500}
        if _status(result) >= 400:
            self.notifier.detach(connection_id)
            await websocket.close(code=1011)
            return
        await websocket.accept()
        accepted.set()
        try:
            while True:
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    break
                text = message.get("text")
                if text is None and message.get("bytes") is not None:
                    text = message["bytes"].decode("utf-8", "replace")
                try:
                    answer = await functions.websocket(
                        event("$default", text or ""), LambdaContext("websocket")
                    )
                except Exception:
                    log.exception("$default failed")
                    continue
                # With a `$default` route response, the function's body goes back to the client.
                if isinstance(answer, dict) and answer.get("body"):
                    await websocket.send_text(str(answer["body"]))
        finally:
            self.notifier.detach(connection_id)
            try:
                await functions.websocket(event("$disconnect"), LambdaContext("websocket"))
            except Exception:
                log.exception("$disconnect failed")


def _allows(policy: Any) -> bool:
    if not isinstance(policy, dict):
        return False
    statements = (policy.get("policyDocument") or {}).get("Statement") or []
    return bool(statements) and all(s.get("Effect") == "Allow" for s in statements)


def _status(result: Any) -> int:
    if isinstance(result, dict):
        with contextlib.suppress(TypeError, ValueError):
            return int(result.get("statusCode", 200))
    return 200


def _redact(url: str) -> str:
    """A database URL without its password, for messages."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


async def _close(uow_factory: UnitOfWorkFactory) -> None:
    # Left open, the driver's pooled connections are collected after the loop has closed, and
    # every stop on MySQL ends in tracebacks.
    await uow_factory.aclose()


def serve(options: ServeOptions) -> None:
    """Run the server until Ctrl-C; raises `StartupError` (one line) if it cannot start."""
    import uvicorn

    server = LocalServer(options)
    sock = bind(options.host, options.port)
    try:
        server.prepare()
        asyncio.run(server.migrate())
        config = uvicorn.Config(
            server.app(), log_level="info", lifespan="on", timeout_graceful_shutdown=30
        )
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
        server.close()
