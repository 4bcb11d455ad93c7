"""Bounds on what one client can make `filestore serve` hold: request bodies checked as they
arrive, and time-outs for clients too slow to send their headers or their body.

API Gateway refuses a payload over 10 MB before any function runs, and drops slow clients; the
local server does the same here, so a client never grows the server by more than the limit nor
keeps a connection for long without sending it:

- `BoundedBodies` (ASGI middleware): an API request's body is refused with 413 as soon as its
  `Content-Length` or, chunked, the bytes received so far pass `MAX_PAYLOAD`; it must arrive
  whole within `BODY_TIMEOUT` (else 408). The S3-style blob routes take bodies of any size (the
  presigned policy bounds them) but refuse one that stalls for `BODY_IDLE_TIMEOUT` (S3's
  `RequestTimeout`).
- `header_deadline(seconds)`: uvicorn's HTTP/1.1 protocol, closing (with 408) a connection
  whose request line and headers have not all arrived within `HEADER_TIMEOUT` of its opening
  or of its first byte after a response. uvicorn has no such time-out of its own; its
  keep-alive time-out only covers idle connections between requests.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

# API Gateway refuses larger request payloads (10 MB) before any handler runs.
MAX_PAYLOAD = 10 * 1024 * 1024
HEADER_TIMEOUT = 10.0
BODY_TIMEOUT = 30.0
BODY_IDLE_TIMEOUT = 20.0
# Paths whose bodies are objects, bounded by their presigned policy rather than by MAX_PAYLOAD.
OBJECT_PATHS = ("/_blobs/",)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class _TooLarge(Exception):
    pass


class _Disconnected(Exception):
    pass


class BodyTimeout(Exception):
    """An object's body stalled: S3's `RequestTimeout`, in the shape the blob front answers
    with an XML error (status, code, message)."""

    status = 400
    code = "RequestTimeout"
    message = (
        "Your socket connection to the server was not read from or written to within the "
        "timeout period."
    )


class BoundedBodies:
    """ASGI middleware: every HTTP request's body within its bounds (see the module doc)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_payload: int = MAX_PAYLOAD,
        body_timeout: float = BODY_TIMEOUT,
        idle_timeout: float = BODY_IDLE_TIMEOUT,
    ) -> None:
        self.app = app
        self.max_payload = max_payload
        self.body_timeout = body_timeout
        self.idle_timeout = idle_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if str(scope["path"]).startswith(OBJECT_PATHS):
            await self.app(scope, self._stall_checked(receive), send)
            return
        if _declared_length(scope) > self.max_payload:
            await _answer(send, 413, "Request Entity Too Large")
            return
        try:
            async with asyncio.timeout(self.body_timeout):
                body = await self._read(receive)
        except _TooLarge:
            await _answer(send, 413, "Request Entity Too Large")
            return
        except TimeoutError:
            await _answer(send, 408, "Request Timeout")
            return
        except _Disconnected:
            return
        await self.app(scope, _replay(body, receive), send)

    async def _read(self, receive: Receive) -> bytes:
        """The whole body, refused as soon as it passes the limit."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise _Disconnected
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_payload:
                raise _TooLarge
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    def _stall_checked(self, receive: Receive) -> Receive:
        """`receive`, raising `BodyTimeout` when a body's next bytes take too long; once the
        body is whole, waiting (for a disconnect) has no limit."""
        whole = False

        async def checked() -> Message:
            nonlocal whole
            if whole:
                return await receive()
            try:
                async with asyncio.timeout(self.idle_timeout):
                    message = await receive()
            except TimeoutError as error:
                raise BodyTimeout(BodyTimeout.message) from error
            whole = message["type"] != "http.request" or not message.get("more_body", False)
            return message

        return checked


def _declared_length(scope: Scope) -> int:
    for name, value in scope.get("headers") or ():
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return 0  # h11 refuses a malformed Content-Length before the app is called
    return 0


def _replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that hands over the body already read, then waits as the original does."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _answer(send: Send, status: int, message: str) -> None:
    """A JSON error as API Gateway words it; the connection closes, the rest unread."""
    body = json.dumps({"message": message}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def header_deadline(seconds: float = HEADER_TIMEOUT) -> type[Any]:
    """uvicorn's h11 protocol class, with a time limit on each request's line and headers
    (pass it as `uvicorn.Config(http=...)`)."""
    import h11
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class H11WithHeaderDeadline(H11Protocol):
        _deadline: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._start_deadline()

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            if self._awaiting_headers():
                self._start_deadline()
            else:
                self._stop_deadline()

        def connection_lost(self, exc: Exception | None) -> None:
            self._stop_deadline()
            super().connection_lost(exc)

        def _awaiting_headers(self) -> bool:
            # h11 leaves IDLE once a request's line and headers are in.
            return bool(self.conn.their_state is h11.IDLE and not self.transport.is_closing())

        def _start_deadline(self) -> None:
            if self._deadline is None:
                self._deadline = self.loop.call_later(seconds, self._too_slow)

        def _stop_deadline(self) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None

        def _too_slow(self) -> None:
            self._deadline = None
            if self._awaiting_headers():
                self.transport.write(
                    b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\n"
                    b"connection: close\r\n\r\n"
                )
                self.transport.close()

    return H11WithHeaderDeadline
