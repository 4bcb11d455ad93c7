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
- `header_deadline(seconds)`: uvicorn's HTTP/1.1 protocol (on httptools where it is installed,
  else h11), closing (with 408) a connection whose request line and headers have not all
  arrived within `HEADER_TIMEOUT` of its opening or of its first byte after a response. uvicorn
  has no such time-out of its own; its keep-alive time-out only covers idle connections
  between requests. A request line and headers over `MAX_HEAD` are refused with 400 (h11's
  own bound; on httptools, which has none, this protocol's).
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, Literal

# API Gateway refuses larger request payloads (10 MB) before any handler runs.
MAX_PAYLOAD = 10 * 1024 * 1024
HEADER_TIMEOUT = 10.0
# A request's line and headers at most (uvicorn's h11 default, kept on httptools).
MAX_HEAD = 16 * 1024
BODY_TIMEOUT = 30.0
BODY_IDLE_TIMEOUT = 20.0
# Paths whose bodies are objects, bounded by their presigned policy rather than by MAX_PAYLOAD.
OBJECT_PATHS = ("/_blobs/",)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
HttpParser = Literal["auto", "httptools", "h11"]


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
                return 0  # uvicorn refuses a malformed Content-Length before the app is called
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


def header_deadline(seconds: float = HEADER_TIMEOUT, parser: HttpParser = "auto") -> type[Any]:
    """uvicorn's HTTP/1.1 protocol class, with a time limit on each request's line and headers
    (pass it as `uvicorn.Config(http=...)`).

    `parser`: "httptools" (uvicorn's protocol on the C parser, several times faster at reading
    bodies than h11's pure Python), "h11", or "auto": httptools where it is installed (the
    `local` extra brings it), else h11."""
    if parser == "auto":
        parser = "httptools" if importlib.util.find_spec("httptools") is not None else "h11"
    if parser == "httptools":
        return _httptools_with_deadline(seconds)
    return _h11_with_deadline(seconds)


class _HeaderTimer:
    """A connection's header deadline: runs while `awaiting()` says its request line and
    headers are not all in, and on expiry answers 408 and closes the connection."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        transport: asyncio.Transport,
        seconds: float,
        awaiting: Callable[[], bool],
    ) -> None:
        self._loop, self._transport, self._seconds = loop, transport, seconds
        self._awaiting = awaiting
        self._handle: asyncio.TimerHandle | None = None

    def update(self) -> None:
        """Start the timer if the connection awaits headers (it keeps running, not restarted,
        while they trickle in), else stop it."""
        if not self._awaiting() or self._transport.is_closing():
            self.stop()
        elif self._handle is None:
            self._handle = self._loop.call_later(self._seconds, self._expired)

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def _expired(self) -> None:
        self._handle = None
        if self._awaiting() and not self._transport.is_closing():
            self._transport.write(
                b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            )
            self._transport.close()


def _h11_with_deadline(seconds: float) -> type[Any]:
    import h11
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class H11WithHeaderDeadline(H11Protocol):
        _timer: _HeaderTimer | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            # h11 leaves IDLE once a request's line and headers are in.
            self._timer = _HeaderTimer(
                self.loop, transport, seconds, lambda: self.conn.their_state is h11.IDLE
            )
            self._timer.update()

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            if self._timer is not None:
                self._timer.update()

        def connection_lost(self, exc: Exception | None) -> None:
            if self._timer is not None:
                self._timer.stop()
            super().connection_lost(exc)

    return H11WithHeaderDeadline


def _httptools_with_deadline(seconds: float) -> type[Any]:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    class HttpToolsWithHeaderDeadline(HttpToolsProtocol):
        """uvicorn's httptools protocol with the header deadline, and a bound on a request's
        line and headers (httptools has none of its own; h11's is `MAX_HEAD`)."""

        _timer: _HeaderTimer | None = None
        # Between a request's first byte and the end of its headers, and on a new connection
        # before its first byte; not while a body arrives nor while a response is made, nor
        # between requests (uvicorn's keep-alive time-out closes an idle connection).
        _in_head = True
        _head_size = 0
        _body_in_chunk = 0

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._timer = _HeaderTimer(self.loop, transport, seconds, lambda: self._in_head)
            self._timer.update()

        def data_received(self, data: bytes) -> None:
            self._body_in_chunk = 0
            super().data_received(data)
            if self._in_head and not self.transport.is_closing():
                # A head still unfinished (httptools keeps its pieces): what of the chunk was
                # no body is its (and, were requests pipelined, a head that ended in it).
                self._head_size += len(data) - self._body_in_chunk
                if self._head_size > MAX_HEAD:
                    self.logger.warning("Request line and headers too large.")
                    self.send_400_response("Request line and headers too large.")
            if self._timer is not None:
                self._timer.update()

        def connection_lost(self, exc: Exception | None) -> None:
            if self._timer is not None:
                self._timer.stop()
            super().connection_lost(exc)

        def on_message_begin(self) -> None:
            self._in_head, self._head_size = True, 0
            super().on_message_begin()

        def on_headers_complete(self) -> None:
            self._in_head = False
            # A head that came whole in one chunk: measured here. Raised, this is httptools'
            # callback error, which uvicorn answers as any malformed request (400, closed).
            size = len(self.url) + sum(len(name) + len(value) + 4 for name, value in self.headers)
            if size > MAX_HEAD:
                raise ValueError("request line and headers too large")
            super().on_headers_complete()

        def on_body(self, body: bytes) -> None:
            self._body_in_chunk += len(body)
            super().on_body(body)

    return HttpToolsWithHeaderDeadline
