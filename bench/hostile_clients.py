"""What hostile clients cost `filestore serve`: a 300 MB body, slow connections, and a body of
700,000 unknown keys. Prints the numbers with the machine; nothing is asserted.

Starts the real server on a free loopback port with a temp data dir, then:
  - sends a body of `--body-mib` MiB to a public route (`GET /shares/abc`): how much was sent
    before the answer, the answer, and the server's peak RSS before and after;
  - opens `--connections` connections that send half a request line and then nothing: how long
    the server holds them (the client gives up after `--patience` seconds);
  - times the HTTP API's Lambda handler on a 9.7 MB body of 700,000 unknown keys: status,
    answer size and seconds.

    .venv/bin/python bench/hostile_clients.py [--body-mib 300] [--connections 300]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from host import describe  # bench/ is the script's directory

from tests.support.local_server import LocalServerProcess

MiB = 1024 * 1024


def peak_rss_mib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM"):
            return int(line.split()[1]) // 1024
    return -1


def large_body(server: LocalServerProcess, pid: int, size_mib: int) -> str:
    before = peak_rss_mib(pid)
    sent = 0
    with socket.create_connection(("127.0.0.1", server.port), timeout=60) as sock:
        head = f"GET /shares/abc HTTP/1.1\r\nhost: x\r\ncontent-length: {size_mib * MiB}\r\n\r\n"
        sock.sendall(head.encode())
        chunk = b" " * MiB
        try:
            while sent < size_mib * MiB:
                sock.sendall(chunk)
                sent += MiB
        except OSError:
            pass  # the server answered and closed
        try:
            answer = sock.recv(64).split(b"\r\n", 1)[0].decode()
        except OSError as error:
            answer = repr(error)
    return (
        f"{size_mib} MiB body to a public route: {sent // MiB} MiB sent before the answer "
        f"({answer}); server peak RSS {before} -> {peak_rss_mib(pid)} MiB"
    )


def slow_connections(server: LocalServerProcess, count: int, patience: float) -> str:
    sockets = []
    for _ in range(count):
        sock = socket.create_connection(("127.0.0.1", server.port))
        sock.sendall(b"GET / HTTP/1.1\r\nhost")
        sockets.append(sock)
    started = time.monotonic()
    held: list[float] = []

    def wait(sock: socket.socket) -> None:
        sock.settimeout(patience)
        with contextlib.suppress(OSError):
            sock.recv(100)
        held.append(time.monotonic() - started)
        sock.close()

    threads = [threading.Thread(target=wait, args=(s,)) for s in sockets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return (
        f"{count} connections sending half a request line: held {min(held):.1f}-"
        f"{max(held):.1f} s (the client gives up at {patience:.0f} s)"
    )


def unknown_keys(count: int) -> str:
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
    from filestore.app import FileStore
    from filestore.entrypoints import http_api
    from filestore.entrypoints.runtime import runtime
    from tests.support.lambda_events import LambdaContext, http_event

    runtime.set_bus(FileStore.in_memory().bus)
    body = json.dumps({f"k{i}": 1 for i in range(count)})
    event = http_event("POST", "/uploads", claims={"sub": "a", "email": "a@x.test"}, body=body)
    start = time.perf_counter()
    answer = http_api.handler(event, LambdaContext())
    seconds = time.perf_counter() - start
    return (
        f"POST /uploads with {count} unknown keys ({len(body) / 1e6:.1f} MB), Lambda handler: "
        f"{answer['statusCode']}, answer {len(answer['body']) / 1e6:.3f} MB, {seconds:.2f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--body-mib", type=int, default=300)
    parser.add_argument("--connections", type=int, default=300)
    parser.add_argument("--patience", type=float, default=60.0)
    parser.add_argument("--keys", type=int, default=700_000)
    args = parser.parse_args()
    print(describe())
    with tempfile.TemporaryDirectory() as temp:
        server = LocalServerProcess(Path(temp) / "data")
        server.start()
        try:
            assert server.process is not None
            print(large_body(server, server.process.pid, args.body_mib))
            print(slow_connections(server, args.connections, args.patience))
        finally:
            server.stop()
    print(unknown_keys(args.keys))


if __name__ == "__main__":
    main()
