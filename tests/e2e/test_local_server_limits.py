"""`filestore serve` against clients that send too much, too slowly, or credentials it must not
log: real sockets, the real server (or, for time-outs, its HTTP protocol with short ones)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import httpx
import pytest
import uvicorn
import websockets

from filestore.entrypoints.local.limits import (
    HEADER_TIMEOUT,
    MAX_HEAD,
    MAX_PAYLOAD,
    header_deadline,
)
from tests.e2e.journeys import api, stored, upload_bytes, wait_for
from tests.support.local_server import LocalServerProcess, free_port

pytestmark = pytest.mark.e2e

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

MiB = 1024 * 1024


def _connect(url: str) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=30)


def _answer(sock: socket.socket) -> bytes:
    """What the server sends until it closes the connection (or a blank line ends its head)."""
    received = b""
    with contextlib.suppress(ConnectionError, TimeoutError):
        while chunk := sock.recv(65536):
            received += chunk
            if b"\r\n\r\n" in received and b'"message"' in received:
                break
    return received


def test_a_declared_body_over_the_limit_is_refused_before_it_is_sent(
    local_server: LocalServerProcess,
) -> None:
    with _connect(local_server.url) as sock:
        sock.sendall(
            b"GET /shares/abc HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
            + f"content-length: {300 * MiB}\r\n\r\n".encode()
        )
        answer = _answer(sock)  # no byte of the body sent
    assert answer.startswith(b"HTTP/1.1 413 "), answer
    assert b'{"message": "Request Entity Too Large"}' in answer


def test_a_chunked_body_is_refused_as_soon_as_it_passes_the_limit(
    local_server: LocalServerProcess,
) -> None:
    token = local_server.token("chunks@example.com")
    sent = 0
    answer = b""
    with _connect(local_server.url) as sock:
        sock.sendall(
            b"POST /uploads HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
            + f"authorization: Bearer {token}\r\ntransfer-encoding: chunked\r\n\r\n".encode()
        )
        chunk = b"%x\r\n%s\r\n" % (MiB, b" " * MiB)
        with contextlib.suppress(ConnectionError):
            while sent < 300 * MiB:
                sock.sendall(chunk)
                sent += MiB
                sock.setblocking(False)
                with contextlib.suppress(BlockingIOError):
                    answer += sock.recv(65536)
                sock.setblocking(True)
                if answer:
                    break
        sock.settimeout(30)
        answer += _answer(sock)
    assert answer.startswith(b"HTTP/1.1 413 "), answer
    assert sent <= MAX_PAYLOAD + 8 * MiB  # socket buffers: a few MiB in flight


def test_no_credential_reaches_the_log(local_server: LocalServerProcess) -> None:
    token = local_server.token("logs@example.com")
    client = api(local_server, token)
    upload = upload_bytes(client, "secret.txt", b"secret")
    stored(client, upload["id"])
    download = client.get(f"/uploads/{upload['id']}/download").json()["url"]
    assert httpx.get(download).status_code == 200
    share = client.post(f"/uploads/{upload['id']}/shares", json={"expires_in": 60}).json()
    assert httpx.get(f"{local_server.url}/shares/{share['token']}").status_code == 200

    async def websocket() -> None:
        url = local_server.url.replace("http", "ws") + f"/ws?token={token}"
        async with websockets.connect(url) as ws:
            await ws.send('{"action": "ping"}')
            await asyncio.wait_for(ws.recv(), 10)

    asyncio.run(websocket())
    signature = download.split("X-Signature=", 1)[1].split("&", 1)[0]
    wait_for(lambda: "WebSocket /ws?token=***" in local_server.log.read_text(), "the ws line")
    log = local_server.log.read_text()
    assert token not in log
    assert token.split(".")[2] not in log  # not even the JWT's signature part
    assert signature not in log
    assert share["token"] not in log
    assert "/shares/***" in log


# --- time-outs: uvicorn's protocol with the server's header deadline, shortened -------------------


def test_the_server_reads_http_with_httptools_where_it_is_installed() -> None:
    from uvicorn.protocols.http.h11_impl import H11Protocol
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    assert issubclass(header_deadline(), HttpToolsProtocol)  # the `local` extra brings it
    assert issubclass(header_deadline(parser="h11"), H11Protocol)


@pytest.fixture(params=["httptools", "h11"])
def slow_server(request: pytest.FixtureRequest) -> Iterator[str]:
    """uvicorn with the header deadline at 0.5 s, on either parser: `/slow` answers after 1 s,
    once it has read the whole body; any other path at once; `/ws` is a WebSocket echo."""

    async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":  # an echo
            await receive()  # websocket.connect
            await send({"type": "websocket.accept"})
            while (message := await receive())["type"] == "websocket.receive":
                await send({"type": "websocket.send", "text": message.get("text") or ""})
            return
        if scope["type"] != "http":
            return
        body = b""
        if scope["path"] == "/slow":
            while (message := await receive()).get("more_body"):
                body += message.get("body", b"")
            body += message.get("body", b"")
            await asyncio.sleep(1.0)
        body = b"ok" + body
        length = [(b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": length})
        await send({"type": "http.response.body", "body": body})

    port = free_port()
    protocol = header_deadline(0.5, request.param)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", http=protocol,
                            log_level="warning")  # fmt: skip
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for(lambda: server.started, "the server to start")
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def _closed_within(sock: socket.socket, seconds: float) -> bytes:
    sock.settimeout(seconds)
    received = b""
    with contextlib.suppress(ConnectionError):
        while chunk := sock.recv(4096):
            received += chunk
    return received


def test_the_server_closes_a_connection_whose_headers_never_end(
    local_server: LocalServerProcess,
) -> None:
    """`filestore serve` runs with the header deadline (10 s): waits that long, once."""
    with _connect(local_server.url) as sock:
        sock.sendall(b"GET /openapi.json HTTP/1.1\r\nhost")
        answer = _closed_within(sock, HEADER_TIMEOUT + 20)
    assert answer.startswith(b"HTTP/1.1 408 "), answer


def test_a_connection_that_sends_nothing_is_closed(slow_server: str) -> None:
    with _connect(slow_server) as sock:
        started = time.monotonic()
        answer = _closed_within(sock, 10)
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert time.monotonic() - started < 10


def test_headers_sent_a_byte_at_a_time_are_cut_off(slow_server: str) -> None:
    head = b"GET / HTTP/1.1\r\nhost: x\r\nx-slow: " + b"a" * 200
    answer = b""
    with _connect(slow_server) as sock:
        with contextlib.suppress(ConnectionError):
            for byte in head:
                sock.sendall(bytes([byte]))
                time.sleep(0.05)
        answer = _closed_within(sock, 10)
    assert answer.startswith(b"HTTP/1.1 408 ")


def test_the_deadline_is_on_the_headers_not_on_the_body_nor_the_answer(slow_server: str) -> None:
    """A body that takes longer than the deadline, and an answer that does, are not cut off
    (bodies have time-outs of their own, in the app: `BoundedBodies`)."""
    with _connect(slow_server) as sock:
        for _ in range(2):  # and again on the kept-alive connection
            sock.sendall(b"POST /slow HTTP/1.1\r\nhost: x\r\ncontent-length: 6\r\n\r\n")
            for byte in b"abcdef":
                time.sleep(0.15)  # 0.9 s in all
                sock.sendall(bytes([byte]))
            sock.settimeout(10)
            answer = b""
            while not answer.endswith(b"okabcdef"):
                chunk = sock.recv(4096)
                assert chunk, answer
                answer += chunk
            assert answer.startswith(b"HTTP/1.1 200 "), answer


def test_headers_over_the_bound_are_refused(
    slow_server: str, request: pytest.FixtureRequest
) -> None:
    """Arriving in pieces, refused once more than `MAX_HEAD` is held unfinished, on either
    parser; on httptools also a head over it that arrives whole (h11 bounds only what it holds
    of an unfinished head)."""

    def answer_to(size: int, piece: int, end: bytes = b"\r\n\r\n") -> bytes:
        head = b"GET / HTTP/1.1\r\nhost: x\r\nx-big: " + b"a" * size + end
        with _connect(slow_server) as sock:
            with contextlib.suppress(ConnectionError):
                for start in range(0, len(head), piece):
                    sock.sendall(head[start : start + piece])
                    time.sleep(0.01)
            sock.settimeout(5)
            with contextlib.suppress(ConnectionError):
                return sock.recv(4096)
        return b""

    assert answer_to(MAX_HEAD // 2, 4096).startswith(b"HTTP/1.1 200 ")
    assert answer_to(2 * MAX_HEAD, 4096).startswith(b"HTTP/1.1 400 ")
    # Never finished: refused as it grows, not only after the deadline (a 408).
    assert answer_to(2 * MAX_HEAD, 4096, end=b"").startswith(b"HTTP/1.1 400 ")
    if request.node.callspec.params["slow_server"] == "httptools":
        assert answer_to(MAX_HEAD // 2, MAX_HEAD).startswith(b"HTTP/1.1 200 ")
        assert answer_to(MAX_HEAD + 1, 2 * MAX_HEAD).startswith(b"HTTP/1.1 400 ")


def test_a_websocket_outlives_the_header_deadline(slow_server: str) -> None:
    async def chat() -> list[str]:
        async with websockets.connect(slow_server.replace("http", "ws") + "/ws") as ws:
            answers = []
            for word in ("one", "two", "three"):
                await asyncio.sleep(0.4)  # 1.2 s in all, past the 0.5 s deadline
                await ws.send(word)
                answers.append(str(await asyncio.wait_for(ws.recv(), 5)))
            return answers

    assert asyncio.run(chat()) == ["one", "two", "three"]


def test_requests_in_time_are_served_and_kept_alive(slow_server: str) -> None:
    with httpx.Client(base_url=slow_server) as client:
        for _ in range(3):
            assert client.get("/").text == "ok"
            time.sleep(0.3)  # less than the deadline between requests: still one connection


# --- /_local/emails on a server that listens beyond loopback -----------------------------------


@pytest.fixture(scope="module")
def exposed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServerProcess]:
    """`filestore serve --host 0.0.0.0` (the tests reach it on loopback only)."""
    server = LocalServerProcess(tmp_path_factory.mktemp("exposed") / "data", ["--host", "0.0.0.0"])
    server.start()
    yield server
    if server.process is not None and server.process.poll() is None:
        server.stop()


def test_beyond_loopback_the_inbox_needs_a_token_and_shows_the_callers_mail(
    exposed_server: LocalServerProcess,
) -> None:
    inbox = f"{exposed_server.url}/_local/emails"
    json_only = {"accept": "application/json"}
    assert httpx.get(inbox, headers=json_only).status_code == 401
    forged = {**json_only, "authorization": "Bearer not-a-token"}
    assert httpx.get(inbox, headers=forged).status_code == 401

    tokens = {who: exposed_server.token(f"{who}@example.com") for who in ("ann", "ben")}
    for who, token in tokens.items():
        client = api(exposed_server, token)
        assert client.patch("/me", json={"notify_email": True}).status_code == 200
        stored(client, upload_bytes(client, f"{who}.txt", b"hello")["id"])

    def mail_of(who: str) -> list[dict[str, object]]:
        headers = {**json_only, "authorization": f"Bearer {tokens[who]}"}
        answer = httpx.get(inbox, headers=headers)
        assert answer.status_code == 200
        items: list[dict[str, object]] = answer.json()["items"]
        return items

    wait_for(lambda: mail_of("ann") and mail_of("ben"), "both e-mails")
    assert {tuple(m["to"]) for m in mail_of("ann")} == {("ann@example.com",)}  # type: ignore[arg-type]
    assert all("ben.txt" not in str(m["text"]) for m in mail_of("ann"))
    page = httpx.get(inbox, headers={"authorization": f"Bearer {tokens['ben']}"})
    assert page.headers["content-type"].startswith("text/html")
    assert "ben.txt" in page.text and "ann.txt" not in page.text


def test_on_loopback_the_inbox_answers_without_a_token(local_server: LocalServerProcess) -> None:
    answer = httpx.get(f"{local_server.url}/_local/emails", headers={"accept": "application/json"})
    assert answer.status_code == 200
    assert "items" in answer.json()
