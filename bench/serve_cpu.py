"""CPU time of one `GET /uploads` in `filestore serve`'s application, in process, without sockets.

`bench/local_server.py` measures throughput over loopback against a floor, which on a shared
machine moves with everything else running on it. This measures what one listing costs the
server itself: the real `filestore serve` application (`LocalServer.app()`: Starlette, the local
API Gateway, the HTTP function with Powertools' validation, the bus, SQLite on its thread), on a
temp data dir with `--uploads` pending uploads, called as uvicorn calls it (an ASGI call) with
`GET /uploads?status=pending&limit=50`. CPU time (`time.process_time`: every thread of the
process, the SQLite thread's included) per request, in blocks of `--requests`; the median and
the least of `--blocks` blocks are printed. What it leaves out, HTTP parsing and the socket, is
uvicorn's and the same for any application. Not a test: nothing is asserted.

    .venv/bin/python bench/serve_cpu.py [--uploads 30] [--blocks 15] [--requests 200]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from host import describe  # bench/ is the script's directory

from tests.support.local_server import filestore

QUERY = b"status=pending&limit=50"


def _scope(token: str, method: str, query: bytes = b"") -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": "/uploads",
        "raw_path": b"/uploads",
        "query_string": query,
        "root_path": "",
        "headers": [
            (b"host", b"127.0.0.1:8000"),
            (b"authorization", f"Bearer {token}".encode()),
            (b"accept", b"application/json"),
            (b"content-type", b"application/json"),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }


async def _call(app: Any, scope: dict[str, Any], body: bytes = b"") -> int:
    answers: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        answers.append(message)

    await app(scope, receive, send)
    return int(answers[0]["status"])


async def _measure(app: Any, token: str, args: argparse.Namespace) -> list[float]:
    for n in range(args.uploads):
        body = b'{"name": "file-%d.txt", "size": 5, "content_type": "text/plain"}' % n
        status = await _call(app, _scope(token, "POST"), body)
        if status != 201:
            raise SystemExit(f"POST /uploads answered {status}")
    if (status := await _call(app, _scope(token, "GET", QUERY))) != 200:
        raise SystemExit(f"GET /uploads answered {status}")
    for _ in range(args.requests):  # warm-up
        await _call(app, _scope(token, "GET", QUERY))
    blocks = []
    for _ in range(args.blocks):
        scopes = [_scope(token, "GET", QUERY) for _ in range(args.requests)]
        start = time.process_time()
        for scope in scopes:
            await _call(app, scope)
        blocks.append((time.process_time() - start) / args.requests * 1e6)
    return blocks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uploads", type=int, default=30, help="pending uploads listed")
    parser.add_argument("--blocks", type=int, default=15)
    parser.add_argument("--requests", type=int, default=200, help="per block")
    args = parser.parse_args()
    warnings.simplefilter("ignore")  # Powertools: "No application metrics to publish"
    from filestore.entrypoints.local.server import LocalServer, ServeOptions

    with tempfile.TemporaryDirectory() as scratch:
        data_dir = Path(scratch) / "data"
        server = LocalServer(ServeOptions(data_dir=data_dir))
        server.prepare()
        answer = filestore("token", "--data-dir", str(data_dir), "--email", "bench@example.com")
        token = answer.stdout.strip().splitlines()[-1]
        loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(server.migrate())
            blocks = loop.run_until_complete(_measure(server.app(), token, args))
        finally:
            loop.run_until_complete(server.stop())
            server.close()
            loop.close()
    print("filestore serve: CPU time of one GET /uploads in process (no sockets)")
    print(f"machine: {describe()}")
    print(
        f"{args.uploads} uploads listed, {args.blocks} blocks of {args.requests} requests:"
        f" median {statistics.median(blocks):.0f} us, least {min(blocks):.0f} us a request"
    )


if __name__ == "__main__":
    main()
