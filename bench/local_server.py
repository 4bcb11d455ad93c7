"""Benchmark `filestore serve` on loopback against the floor of its stack, in one run.

Starts the real server (temp data dir, free port) and, on a copy of its SQLite database, the
floor app (`bench/floor_app.py`: Starlette + uvicorn + aiosqlite doing the same SQL, with and
without the RS256 token check). Then:
  - the time from an upload's last byte (the storage POST answered) to its `upload.stored`
    message on an open WebSocket: median and p99 (its uploads are the listing's rows);
  - GET /uploads and POST /uploads on each, in alternating rounds, with a number of keep-alive
    connections for a bounded time each: requests/s, p50 and p99, and filestore's ratios to the
    floor (throughput: filestore / floor; p99: filestore / floor).
Prints the numbers with the machine and the date. Not a test: nothing is asserted.

    .venv/bin/python bench/local_server.py [--connections 8] [--seconds 5] [--rounds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import websockets

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from host import describe  # bench/ is the script's directory
from http_load import LoadResult, request_bytes, run_load

from tests.support.local_server import LocalServerProcess, free_port

ROUTES = ("GET", "POST")
POST_BODY = json.dumps(
    {"name": "bench.bin", "size": 1024, "content_type": "application/octet-stream"}
).encode()


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


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


def request_maker(port: int, method: str, prefix: str, token: str) -> bytes:
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    if method == "GET":
        return request_bytes("GET", f"127.0.0.1:{port}", f"{prefix}/uploads?limit=50", headers)
    headers["Content-Type"] = "application/json"
    return request_bytes("POST", f"127.0.0.1:{port}", f"{prefix}/uploads", headers, POST_BODY)


def start_floor(server: LocalServerProcess, scratch: Path) -> tuple[subprocess.Popen[bytes], int]:
    """The floor app on a copy of the server's database (SQLite's online backup)."""
    copy = scratch / "floor.db"
    with (
        sqlite3.connect(server.data_dir / "filestore.db") as source,
        sqlite3.connect(copy) as target,
    ):
        source.backup(target)
    port = free_port()
    floor = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("floor_app.py")), "--database", str(copy),
         "--key", str(server.data_dir / "keys" / "token-signing.pem"), "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=(scratch / "floor.log").open("wb"),
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/uploads", timeout=1)
            return floor, port
        except httpx.HTTPError:
            time.sleep(0.1)
    floor.kill()
    raise SystemExit(f"the floor app did not start: {(scratch / 'floor.log').read_text()}")


def merge(results: list[LoadResult]) -> LoadResult:
    merged = LoadResult(seconds=sum(r.seconds for r in results))
    for r in results:
        merged.latencies += r.latencies
        for status, n in r.statuses.items():
            merged.statuses[status] = merged.statuses.get(status, 0) + n
    return merged


def line(name: str, result: LoadResult) -> str:
    return (
        f"  {name:<24} {result.rate:8.1f} req/s   p50 {result.percentile(0.5):7.2f} ms"
        f"   p99 {result.percentile(0.99):7.2f} ms   ({len(result.latencies)} requests,"
        f" errors by status: {result.errors or 'none'})"
    )


async def measure(
    server_port: int, floor_port: int, token: str, args: argparse.Namespace
) -> list[str]:
    targets = {
        "filestore serve": (server_port, ""),
        "floor": (floor_port, ""),
        "floor + token check": (floor_port, "/checked"),
    }
    results: dict[tuple[str, str], list[LoadResult]] = {}
    for _ in range(args.rounds):
        for method in ROUTES:
            for name, (port, prefix) in targets.items():
                prepared = request_maker(port, method, prefix, token)
                result = await run_load(
                    "127.0.0.1",
                    port,
                    lambda prepared=prepared: prepared,
                    connections=args.connections,
                    seconds=args.seconds,
                )
                results.setdefault((method, name), []).append(result)
    lines = []
    for method in ROUTES:
        lines.append(f"{method} /uploads:")
        merged = {name: merge(results[method, name]) for name in targets}
        for name, result in merged.items():
            lines.append(line(name, result))
        ours = merged["filestore serve"]
        for floor in ("floor", "floor + token check"):
            rounds = [
                f"{a.rate / b.rate:.2f}"
                for a, b in zip(
                    results[method, "filestore serve"], results[method, floor], strict=True
                )
            ]
            lines.append(
                f"  ratio to the {floor}: throughput {ours.rate / merged[floor].rate:.2f}x"
                f" (rounds: {', '.join(rounds)}),"
                f" p99 {ours.percentile(0.99) / merged[floor].percentile(0.99):.2f}x"
            )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=8, help="keep-alive connections")
    parser.add_argument("--seconds", type=float, default=5, help="per route and target")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds")
    parser.add_argument("--uploads", type=int, default=30, help="stored files (the listing)")
    args = parser.parse_args()
    args.connections, args.seconds = min(args.connections, 64), min(args.seconds, 60)
    with tempfile.TemporaryDirectory() as scratch:
        server = LocalServerProcess(Path(scratch) / "data")
        server.start()
        floor: subprocess.Popen[bytes] | None = None
        try:
            token = server.token("bench@example.com")
            lines = [asyncio.run(notification_latency(server, token, args.uploads))]
            floor, floor_port = start_floor(server, Path(scratch))
            lines += asyncio.run(measure(server.port, floor_port, token, args))
        finally:
            if floor is not None:
                floor.terminate()
                floor.wait(10)
            server.stop()
    print("filestore serve benchmark")
    print(f"machine: {describe()}")
    print(
        f"{args.connections} keep-alive connections, {args.seconds:g} s per route and target,"
        f" {args.rounds} alternating rounds, loopback, SQLite, {args.uploads} stored files"
    )
    for text in lines:
        print(text)


if __name__ == "__main__":
    main()
