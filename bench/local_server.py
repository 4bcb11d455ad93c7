"""Benchmark `filestore serve` on loopback: API throughput and upload-to-notification latency.

Starts the real server (temp data dir, free port), then, with a bounded number of concurrent
clients for a bounded time each:
  - GET /uploads and POST /uploads: requests/s, p50 and p99 latency;
  - the time from an upload's last byte (the storage POST answered) to its `upload.stored`
    message on an open WebSocket: median and p99.
Prints the numbers with the machine and the date. Not a test: nothing is asserted.

    .venv/bin/python bench/local_server.py [--clients 8] [--seconds 10] [--uploads 30]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
import websockets

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from host import describe  # bench/ is the script's directory

from tests.support.local_server import LocalServerProcess


def machine() -> str:
    return describe()


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def load(client: httpx.AsyncClient, method: str, clients: int, seconds: float) -> str:
    latencies: list[float] = []
    errors: dict[int, int] = {}
    end = time.monotonic() + seconds
    body = {"name": "bench.bin", "size": 1024, "content_type": "application/octet-stream"}

    async def worker() -> None:
        while time.monotonic() < end:
            start = time.perf_counter()
            if method == "GET":
                answer = await client.get("/uploads", params={"limit": 50})
            else:
                answer = await client.post("/uploads", json=body)
            latencies.append(time.perf_counter() - start)
            if answer.status_code >= 400:
                errors[answer.status_code] = errors.get(answer.status_code, 0) + 1

    began = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(clients)))
    elapsed = time.monotonic() - began
    rate = len(latencies) / elapsed
    p50, p99 = pct(latencies, 0.5), pct(latencies, 0.99)
    return (
        f"{method} /uploads: {rate:7.1f} req/s   p50 {p50:6.1f} ms   p99 {p99:6.1f} ms"
        f"   ({len(latencies)} requests, errors by status: {errors or 'none'})"
    )


async def notification_latency(server: LocalServerProcess, token: str, uploads: int) -> str:
    delays: list[float] = []
    retries = 0
    headers = {"authorization": f"Bearer {token}"}
    async with (
        httpx.AsyncClient(base_url=server.url, headers=headers, timeout=60) as api,
        httpx.AsyncClient(timeout=60) as storage,
        websockets.connect(server.url.replace("http", "ws") + f"/ws?token={token}") as socket,
    ):
        for n in range(uploads):
            data = os.urandom(64 * 1024)
            body = {
                "name": f"n{n}.bin",
                "size": len(data),
                "content_type": "application/octet-stream",
            }
            for _ in range(5):  # a 409 says "try again": a client does
                answer = await api.post("/uploads", json=body)
                if answer.status_code != 409:
                    break
                retries += 1
            if answer.status_code != 201:
                raise SystemExit(f"POST /uploads answered {answer.status_code}: {answer.text}")
            ticket = answer.json()
            form = ticket["upload_url"]
            await storage.post(form["url"], data=form["fields"], files={"file": ("f", data)})
            last_byte = time.perf_counter()
            while True:
                message = json.loads(await asyncio.wait_for(socket.recv(), 60))
                if message.get("upload", {}).get("id") == ticket["upload"]["id"]:
                    break
            delays.append(time.perf_counter() - last_byte)
    median = statistics.median(delays) * 1000
    return (
        f"last byte -> WebSocket upload.stored: median {median:6.1f} ms"
        f"   p99 {pct(delays, 0.99):6.1f} ms   ({len(delays)} uploads of 64 KiB, {retries} 409s)"
    )


async def run(server: LocalServerProcess, args: argparse.Namespace) -> list[str]:
    token = server.token("bench@example.com")
    headers = {"authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=args.clients)
    async with httpx.AsyncClient(base_url=server.url, headers=headers, limits=limits) as client:
        lines = [await load(client, "POST", args.clients, args.seconds)]
        lines.append(await load(client, "GET", args.clients, args.seconds))
    lines.append(await notification_latency(server, token, args.uploads))
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients (max 64)")
    parser.add_argument("--seconds", type=float, default=10, help="per endpoint (max 60)")
    parser.add_argument("--uploads", type=int, default=30, help="for the notification delay")
    args = parser.parse_args()
    args.clients, args.seconds = min(args.clients, 64), min(args.seconds, 60)
    with tempfile.TemporaryDirectory() as scratch:
        server = LocalServerProcess(Path(scratch) / "data")
        server.start()
        try:
            lines = asyncio.run(run(server, args))
        finally:
            server.stop()
    print(f"filestore serve benchmark, {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC")
    print(f"machine: {machine()}")
    print(f"{args.clients} concurrent clients, {args.seconds:g} s per endpoint, loopback, SQLite")
    for line in lines:
        print(line)


if __name__ == "__main__":
    main()
