"""`filestore serve`'s bounds on request bodies (`limits.BoundedBodies`), in process: a body
over the limit is refused as it arrives, a slow one in time, and nothing else changes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from filestore.entrypoints.local.blobs import Refusal
from filestore.entrypoints.local.limits import BodyTimeout, BoundedBodies

LIMIT = 1000


async def _echo(request: Request) -> Response:
    body = await request.body()
    return JSONResponse({"size": len(body)})


async def _blob(request: Request) -> Response:
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
    except Exception as error:
        if not isinstance(error, Refusal):
            raise
        return JSONResponse({"code": error.code}, status_code=error.status)
    return JSONResponse({"size": size})


def _client(**bounds: float) -> httpx.AsyncClient:
    app = Starlette(routes=[Route("/_blobs/{key:path}", _blob, methods=["PUT"]),
                            Route("/{path:path}", _echo, methods=["POST"])])  # fmt: skip
    bounded = BoundedBodies(app, max_payload=LIMIT, **bounds)  # type: ignore[arg-type]
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=bounded), base_url="http://t")


class Chunks:
    """A chunked request body that counts what the server read."""

    def __init__(self, size: int, count: int, pause: float = 0.0) -> None:
        self.size, self.count, self.pause, self.read = size, count, pause, 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for _ in range(self.count):
            if self.pause:
                await asyncio.sleep(self.pause)
            self.read += 1
            yield b"x" * self.size


async def test_a_body_within_the_limit_reaches_the_app() -> None:
    async with _client() as http:
        answer = await http.post("/uploads", content=b"x" * LIMIT)
        assert (answer.status_code, answer.json()) == (200, {"size": LIMIT})
        chunks = Chunks(100, 10)
        answer = await http.post("/uploads", content=chunks)
        assert (answer.status_code, answer.json()) == (200, {"size": LIMIT})


async def test_a_declared_length_over_the_limit_is_413_before_any_byte_is_read() -> None:
    chunks = Chunks(100, 300)
    async with _client() as http:
        answer = await http.post(
            "/shares/x", content=chunks, headers={"content-length": str(300 * 100)}
        )
    assert answer.status_code == 413
    assert answer.json() == {"message": "Request Entity Too Large"}
    assert chunks.read <= 1  # the transport may hand over its first chunk with the headers


async def test_a_chunked_body_is_refused_once_it_passes_the_limit() -> None:
    chunks = Chunks(100, 10_000)
    async with _client() as http:
        answer = await http.post("/uploads", content=chunks)
    assert answer.status_code == 413
    assert chunks.read <= LIMIT // 100 + 2


async def test_a_body_that_takes_too_long_is_408() -> None:
    chunks = Chunks(10, 50, pause=0.05)
    async with _client(body_timeout=0.2) as http:
        answer = await http.post("/uploads", content=chunks)
    assert answer.status_code == 408
    assert chunks.read < 50


async def test_object_bodies_are_not_bounded_in_size_but_must_not_stall() -> None:
    async with _client(idle_timeout=0.2) as http:
        answer = await http.put("/_blobs/u/key", content=Chunks(1000, 20))
        assert (answer.status_code, answer.json()) == (200, {"size": 20_000})
        answer = await http.put("/_blobs/u/key", content=Chunks(10, 3, pause=0.5))
        assert (answer.status_code, answer.json()["code"]) == (400, BodyTimeout.code)
