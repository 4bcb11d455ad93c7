"""`filestore serve`: the production Lambda handlers behind one local HTTP and WebSocket server.

The server is a translator, as API Gateway, S3 notifications, SQS event source mappings and
EventBridge schedules are on AWS: requests become API Gateway events, the handlers' async cores
are awaited on the server's one event loop with one message bus (as in one warm execution
environment), and their answers become responses. What it runs on is wired by the composition
root's local profile (`filestore.bootstrap.build_local`), all under the data dir: SQLite (migrated
on start), the filesystem blob store (its presigned URLs served at `/_blobs`, by
`filestore.entrypoints.local.blobs`), and durable SNS, SQS and SES in a SQLite file (what was
published or queued survives a killed server), or an external emulator with `--aws-endpoint-url`.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import errno
import logging
import os
import secrets
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from http import HTTPStatus
from pathlib import Path
from typing import TYPE_CHECKING, Any

from filestore.entrypoints.local import gateway
from filestore.entrypoints.local.gateway import LambdaContext
from filestore.entrypoints.local.limits import MAX_PAYLOAD, BoundedBodies, header_deadline
from filestore.entrypoints.local.logs import uvicorn_log_config
from filestore.entrypoints.local.queues import QueuePoller
from filestore.entrypoints.local.redaction import redact_uvicorn_logs
from filestore.entrypoints.local.sign_in import LocalSignIn
from filestore.entrypoints.local.unauthorized import unauthorized
from filestore.entrypoints.local.verified_tokens import VerifiedTokens
from filestore.entrypoints.site import Site

if TYPE_CHECKING:
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import BaseRoute
    from starlette.websockets import WebSocket

    from filestore.bootstrap import LocalSystem
    from filestore.domain.messagebus import MessageBus
    from filestore.entrypoints.auth import TokenVerifier

log = logging.getLogger("filestore.serve")

Function = Callable[[dict[str, Any], LambdaContext], Awaitable[Mapping[str, Any]]]
# How often the scheduled functions run locally (the template's schedules, sped up).
RELAY_EVERY = 30.0
SWEEP_EVERY = 60.0
# Their time limits, as template.yaml sets them: the relay and the sweep stop starting new
# batches by the time left.
SCHEDULED_TIMEOUT_MS = {"relay": 60_000, "sweep": 300_000}
# A restart drops every WebSocket; realtime messages queued meanwhile (the durable queue keeps
# them) wait this long after start, so clients that reconnect at once receive them.
REALTIME_START_AFTER = 3.0


class StartupError(Exception):
    """Why the server cannot start, in one line a person can act on."""


@dataclass(frozen=True)
class ServeOptions:
    host: str = "127.0.0.1"
    port: int = 8000
    data_dir: Path = Path(".filestore")
    database_url: str | None = None
    aws_endpoint_url: str | None = None
    # Offer the password-free sign-in beyond a loopback address (anyone reaching the server can
    # then sign in as anyone: for a trusted network only).
    open_sign_in: bool = False

    @property
    def offers_sign_in(self) -> bool:
        return self.open_sign_in or _loopback(self.host)

    @property
    def public_url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host  # noqa: S104 - maps a wildcard bind to loopback  # nosec B104
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
    email_feedback: Function
    relay: Function
    sweep: Function
    # The sweep once more, on start: with no grace for young uploads, whose S3 events may never
    # have been queued (the server died between writing the bytes and queueing their event),
    # and through every pending upload however long it takes (the server serves nothing before).
    catch_up: Function


def lambda_functions(
    bus: MessageBus, *, public_url: str, verifier: TokenVerifier, site: Site | None = None
) -> Functions:
    """The production handlers' async cores, all on `bus`; tokens checked by `verifier`; the
    HTTP API tells clients what `site` says (default: served at `public_url`)."""
    from functools import partial

    from filestore.entrypoints import (
        email_feedback,
        http_api,
        notifications,
        s3_events,
        schedules,
        websocket_api,
    )

    async def websocket_authorizer(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        # Synchronous, and no I/O with static keys: called in place. Its Lambda handler's
        # Logger decorator would put this invocation's keys on every function's log lines.
        return websocket_api.authorize(event, verifier=verifier)

    return Functions(
        http_api=_invocation(partial(http_api.handle, bus=bus, public_url=public_url, site=site)),
        websocket=_invocation(partial(websocket_api.handle, bus=bus)),
        websocket_authorizer=_invocation(websocket_authorizer),
        s3_events=_invocation(partial(s3_events.handle, bus=bus)),
        email=_invocation(partial(notifications.handle_email, bus=bus)),
        realtime=_invocation(partial(notifications.handle_realtime, bus=bus)),
        email_feedback=_invocation(partial(email_feedback.handle, bus=bus)),
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

    async def invoke(event: dict[str, Any], context: LambdaContext) -> Mapping[str, Any]:
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
    # IPPROTO_TCP named explicitly: asyncio turns Nagle's algorithm off (TCP_NODELAY) only on
    # sockets whose protocol says TCP, and an answer written in two pieces (head, body) would
    # otherwise wait for the client's delayed ACK, ~40 ms per request on a kept-alive connection.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
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


# --- the server --------------------------------------------------------------------------------


@dataclass
class LocalServer:
    """Everything `filestore serve` runs; `app` is its ASGI application."""

    options: ServeOptions
    data_dir: Path = field(init=False)
    system: LocalSystem | None = field(init=False, default=None)
    functions: Functions | None = field(init=False, default=None)
    _stop: asyncio.Event = field(init=False, default_factory=asyncio.Event)
    _tokens: VerifiedTokens | None = field(init=False, default=None)
    _signing_in: LocalSignIn | None = field(init=False, default=None)
    _tasks: list[asyncio.Task[None]] = field(init=False, default_factory=list)

    def __post_init__(self) -> None:
        self.data_dir = check_data_dir(Path(self.options.data_dir))

    def _ready(self) -> tuple[LocalSystem, Functions]:
        if self.system is None or self.functions is None:
            raise RuntimeError("the server was not prepared: call prepare() first")
        return self.system, self.functions

    # startup, before the loop: AWS emulator and the composition root's local profile

    def prepare(self) -> None:
        """Start (or reach) the AWS emulator and wire the system; raises `StartupError`."""
        from filestore import bootstrap

        endpoint = self.options.aws_endpoint_url
        try:
            aws = bootstrap.local_aws(self.data_dir, endpoint)
        except Exception as error:
            where = endpoint or "the in-process AWS emulator"
            raise StartupError(f"cannot set up SNS/SQS/SES at {where}: {error}") from error
        try:
            self.system = bootstrap.build_local(
                aws,
                data_dir=self.data_dir,
                public_url=self.options.public_url,
                database_url=self.options.database_url,
                offer_sign_in=self.options.offers_sign_in,
            )
        except BaseException:
            aws.stop()
            raise
        self._tokens = VerifiedTokens(self.system.token_verifier)
        try:
            self.system.check_database_log()
        except RuntimeError as error:
            aws.stop()
            raise StartupError(str(error)) from error
        # What the HTTP API and the web app's config.json tell clients: one for both.
        site = Site.of(self.system.settings)
        try:
            self.functions = lambda_functions(
                self.system.bus(),
                public_url=self.options.public_url,
                verifier=self.system.token_verifier,
                site=site,
            )
        except ImportError as error:
            raise StartupError(f"this build lacks the Lambda handlers: {error}") from error
        url = self.options.public_url
        self._signing_in = LocalSignIn(
            self.system.tokens,
            site,
            offered=self.options.offers_sign_in,
            ws_url="ws" + url.removeprefix("http") + "/ws",
        )

    # startup and shutdown, on the server's loop

    async def migrate(self) -> None:
        """Bring the database schema up to date (before serving; idempotent)."""
        system, _ = self._ready()
        try:
            applied = await system.migrate()
        except Exception as error:
            url = _redact(system.settings.database_url or "")
            raise StartupError(f"cannot reach the database {url}: {error}") from error
        if applied:
            log.info("database migrated: applied %s", applied)

    async def start(self) -> None:
        """Catch up (relay the outbox, reconcile), then start the queue pollers and schedules."""
        system, functions = self._ready()
        aws = system.aws
        # What a previous run committed but did not publish, and uploads whose S3 event was
        # never queued (however young), are caught up before the first request; what was
        # queued is still in the durable queues, and the pollers take it from there.
        await self._scheduled(functions.relay, "relay")
        system.database_running()  # the database is open now: a crash from here on is seen
        await self._scheduled(functions.catch_up, "sweep")
        await self._scrub()
        consumers = {
            "s3-events": functions.s3_events,
            "email": functions.email,
            "realtime": functions.realtime,
            "email-feedback": functions.email_feedback,
        }
        for name, function in consumers.items():
            queue = aws.queues[name]
            poller = QueuePoller(
                name, aws.sqs, queue.url, queue.arn, function, region=aws.region,
                start_after=REALTIME_START_AFTER if name == "realtime" else 0.0,
            )  # fmt: skip
            self._tasks.append(asyncio.create_task(poller.run(self._stop), name=f"poll-{name}"))
        self._tasks.append(asyncio.create_task(self._every(RELAY_EVERY, functions.relay, "relay")))
        self._tasks.append(asyncio.create_task(self._every(SWEEP_EVERY, functions.sweep, "sweep")))
        self._tasks.append(asyncio.create_task(self._scrub_every(SWEEP_EVERY)))

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

    async def _scrub(self) -> None:
        """What S3 never does and a disk may: objects whose files went missing or changed
        behind the store's back make their uploads failed, saying why (see docs/durability.md)."""
        from filestore.domain.commands import RecordLostObject

        system, _ = self._ready()
        if system.blobs is None:
            return
        try:
            lost = await asyncio.to_thread(system.blobs.lost_objects)
            for key, reason in lost:
                await system.bus().handle(RecordLostObject(key, reason))
        except Exception:
            log.exception("checking the stored files failed; it runs again later")

    async def _scrub_every(self, seconds: float) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), seconds)
            if not self._stop.is_set():
                await self._scrub()

    async def stop(self) -> None:
        """Stop pollers and schedules after the batch in flight, then release everything."""
        self._stop.set()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.system is not None:
            # Left open, the driver's pooled connections are collected after the loop has
            # closed, and every stop on MySQL ends in tracebacks.
            with contextlib.suppress(Exception):
                await self.system.aclose()

    def close(self) -> None:
        if self.system is not None:
            self.system.close()

    # the ASGI app

    def app(self) -> Starlette:
        from starlette.applications import Starlette
        from starlette.exceptions import HTTPException
        from starlette.routing import Mount, Route, WebSocketRoute

        @contextlib.asynccontextmanager
        async def lifespan(_: Starlette) -> AsyncIterator[None]:
            await self.start()
            url = self.options.public_url
            log.info("filestore is serving at %s/  (API docs: %s/docs)", url, url)
            try:
                yield
            finally:
                await self.stop()

        routes: list[BaseRoute] = [
            Route("/_local/sign-in", self._sign_in, methods=["POST"]),
            Route("/config.json", self._config, methods=["GET"]),
            Route("/_local/emails", self._emails, methods=["GET"]),
            Route("/_local/email-feedback", self._email_feedback, methods=["POST"]),
            Route("/_local/.well-known/jwks.json", self._jwks, methods=["GET"]),
            WebSocketRoute("/ws", self._websocket),
        ]
        if self.system is not None and self.system.blobs is not None:
            from filestore.entrypoints.local.blobs import blob_app

            routes.append(Mount("/_blobs", app=blob_app(self.system.blobs)))
        from filestore.entrypoints.local.web import web_routes

        routes.extend(web_routes())  # the browser app: `/`, `/s/{token}`, `/assets/...`
        methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
        routes.append(Route("/{path:path}", self._http, methods=methods))
        from starlette.middleware import Middleware

        return Starlette(
            routes=routes,
            lifespan=lifespan,
            exception_handlers={HTTPException: self._gateway_error},
            # Bodies bounded as they arrive (`limits`), before any route reads them.
            middleware=[Middleware(BoundedBodies)],
        )

    def _local_sign_in(self) -> LocalSignIn:
        if self._signing_in is None:
            raise RuntimeError("the server was not prepared: call prepare() first")
        return self._signing_in

    async def _sign_in(self, request: Request) -> Response:
        return await self._local_sign_in().sign_in(request)

    async def _config(self, request: Request) -> Response:
        return await self._local_sign_in().config(request)

    async def _gateway_error(self, request: Request, error: Exception) -> Response:
        """What the router itself refuses (a path with a newline, an unknown method), answered
        in JSON as API Gateway does, not in Starlette's plain text."""
        from starlette.exceptions import HTTPException
        from starlette.responses import JSONResponse

        if not isinstance(error, HTTPException):  # the only kind it is registered for
            raise error
        message = HTTPStatus(error.status_code).phrase
        return JSONResponse({"message": message}, error.status_code, headers=error.headers)

    async def _emails(self, request: Request) -> Response:
        """The mail sent (`inbox`): all of it on a loopback address without a token; the
        caller's only with a token, which is required on any other address."""

        from filestore.entrypoints.local.inbox import inbox

        system, _ = self._ready()
        recipient = None
        authorization = request.headers.get("authorization")
        if authorization is not None or not _loopback(self.options.host):
            if self._tokens is None:
                raise RuntimeError("the server was not prepared: call prepare() first")
            claims = self._tokens.claims(authorization or "")
            recipient = str((claims or {}).get("email") or "")
            if not recipient:
                return unauthorized(self._tokens, authorization or "")
        messages = await asyncio.to_thread(system.aws.sent_emails)
        return inbox(messages, accept=request.headers.get("accept", ""), recipient=recipient)

    async def _email_feedback(self, request: Request) -> Response:
        """Play SES's configuration set, which no emulator does: publish a bounce or complaint of
        mail to an address (`{"email", "type": "bounce"|"complaint", "bounce_type"?:
        "Permanent"|"Transient"}`) to the feedback topic, whence the feedback consumer marks
        its users as on AWS. Only while serving on a loopback address: anyone who can reach it
        can stop anyone's mail."""
        import json

        from starlette.responses import JSONResponse

        system, _ = self._ready()
        if not _loopback(self.options.host):
            return JSONResponse({"message": "Not Found"}, status_code=404)
        try:
            body = json.loads(await request.body())
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return JSONResponse({"message": "The body must be a JSON object."}, status_code=400)
        address, kind = body.get("email"), body.get("type")
        bounce_type = body.get("bounce_type", "Permanent")
        if not isinstance(address, str) or "@" not in address:
            return JSONResponse({"message": "email must be an e-mail address."}, status_code=400)
        if kind not in ("bounce", "complaint") or bounce_type not in ("Permanent", "Transient"):
            return JSONResponse(
                {
                    "message": 'type must be "bounce" or "complaint"; bounce_type, if given, '
                    '"Permanent" or "Transient".'
                },
                status_code=400,
            )
        feedback_id = await system.aws.report_email_feedback(address, kind, bounce_type=bounce_type)
        return JSONResponse({"feedback_id": feedback_id}, status_code=202)

    async def _jwks(self, request: Request) -> Response:
        from starlette.responses import JSONResponse

        system, _ = self._ready()
        return JSONResponse(system.tokens.jwks())

    async def _http(self, request: Request) -> Response:
        """API Gateway's HTTP API: JWT authorizer on private routes, then the function."""
        from starlette.responses import JSONResponse, Response

        _, functions = self._ready()
        method, path = request.method, request.url.path
        claims = None
        if not gateway.is_public(method, path):
            if self._tokens is None:
                raise RuntimeError("the server was not prepared: call prepare() first")
            claims = self._tokens.claims(request.headers.get("authorization", ""))
            if claims is None:
                return unauthorized(self._tokens, request.headers.get("authorization", ""))
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
            result = await functions.http_api(event, LambdaContext(function_name="http-api"))
        except Exception:
            log.exception("the HTTP API function failed")
            return JSONResponse({"message": "Internal Server Error"}, status_code=500)
        answer = gateway.http_answer(result)
        response = Response(answer.body, status_code=answer.status)
        for name, value in answer.headers:
            if name.lower() != "content-length":
                response.headers.append(name, value)
        return response

    async def _websocket(self, websocket: WebSocket) -> None:
        """API Gateway's WebSocket API: authorizer and `$connect`, `$default`, `$disconnect`."""
        system, functions = self._ready()
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
            policy: Mapping[str, Any] | None = await functions.websocket_authorizer(
                request, context
            )
        except Exception:
            policy = None
        if policy is None or not _allows(policy):
            await websocket.close(code=1008)
            return
        authorizer = {**(policy.get("context") or {}), "principalId": policy.get("principalId")}
        accepted = asyncio.Event()

        async def send(text: str) -> None:
            # A notification may come while `$connect` runs: it waits for the handshake.
            await accepted.wait()
            await websocket.send_text(text)

        system.notifier.attach(connection_id, send)

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
            system.notifier.detach(connection_id)
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
                if answer.get("body"):
                    await websocket.send_text(str(answer["body"]))
        finally:
            system.notifier.detach(connection_id)
            try:
                await functions.websocket(event("$disconnect"), LambdaContext("websocket"))
            except Exception:
                log.exception("$disconnect failed")


def _loopback(host: str) -> bool:
    """Whether the server listens on a loopback address only."""
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _allows(policy: Mapping[str, Any]) -> bool:
    statements = (policy.get("policyDocument") or {}).get("Statement") or []
    return bool(statements) and all(s.get("Effect") == "Allow" for s in statements)


def _status(result: Mapping[str, Any]) -> int:
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


def uvicorn_config(app: Any) -> uvicorn.Config:
    """How `filestore serve` runs uvicorn (an `uvicorn.Config` for `app`): access log on, with
    credentials redacted, and a deadline on each request's headers. `bench/floor_app.py` runs
    the floor of the stack with the same settings, so that their ratio compares the apps."""
    import uvicorn

    config = uvicorn.Config(
        app,
        log_level="info",
        lifespan="on",
        timeout_graceful_shutdown=30,
        http=header_deadline(),
        log_config=uvicorn_log_config(),
    )
    redact_uvicorn_logs()  # after the Config, which sets up uvicorn's loggers
    return config


def serve(options: ServeOptions) -> None:
    """Run the server until Ctrl-C; raises `StartupError` (one line) if it cannot start."""
    import uvicorn

    server = LocalServer(options)
    if options.open_sign_in and not _loopback(options.host):
        log.warning(
            "--open-sign-in: anyone who can reach %s can sign in as anyone, with no password",
            options.public_url,
        )
    sock = bind(options.host, options.port)
    try:
        server.prepare()
        asyncio.run(server.migrate())
        config = uvicorn_config(server.app())
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
        server.close()
