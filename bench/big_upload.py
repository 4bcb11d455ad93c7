"""Benchmark a big file's upload to `filestore serve` against a sink that hashes what it receives.

Starts the real server (temp data dir, free port) and, beside it, a sink: an HTTP server that
reads a PUT body and computes its MD5 and SHA-256 as it arrives (what a store that checks what it
is sent must at least do), and answers. Then, for a file of `--mib` MiB of random bytes:
  - `filestore upload FILE` (the CLI, a process of its own, as a person runs it): from start to
    the stored upload, in MiB/s;
  - `curl -T FILE` to the hashing sink, and to a plain sink that only reads, in MiB/s;
  - `curl -T FILE` to a durable hashing sink: it also writes what it receives to a file in the
    same temp dir as the server's data and fsyncs it before it answers (what a store that keeps
    what it acknowledged must also do: `filestore serve` fsyncs every part before its 200);
and filestore's ratio to the hashing sink and to the durable one. Each is run `--runs` times; the
best run counts (the machine is shared: the best run is the one least disturbed). Not a test:
nothing is asserted.

    .venv/bin/python bench/big_upload.py [--mib 200] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from host import describe  # bench/ is the script's directory

from tests.support.local_server import LocalServerProcess, free_port

CHUNK = 1024 * 1024


async def _sink(port: int, hashing: bool, keep_in: Path | None = None) -> None:
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, ConnectionError):
                break
            length = 0
            for line in head.split(b"\r\n"):
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
                elif name.strip().lower() == b"expect":
                    writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            md5, sha = hashlib.md5(usedforsecurity=False), hashlib.sha256()
            kept = None if keep_in is None else (keep_in / "received").open("wb")
            while length:
                chunk = await reader.read(min(CHUNK, length))
                if not chunk:
                    break
                length -= len(chunk)
                if hashing:
                    md5.update(chunk)
                    sha.update(chunk)
                if kept is not None:
                    kept.write(chunk)
            if kept is not None:
                kept.flush()
                os.fsync(kept.fileno())
                kept.close()
            body = sha.hexdigest().encode()
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", port)
    async with server:
        await server.serve_forever()


def start_sink(hashing: bool, keep_in: Path | None = None) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    mode = "--hashing-sink" if hashing else "--plain-sink"
    keep = [] if keep_in is None else ["--keep-in", str(keep_in)]
    sink = subprocess.Popen([sys.executable, __file__, mode, str(port), *keep])
    time.sleep(1.0)
    return sink, port


def timed(command: list[str], env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, env=env, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{command[:4]} failed: {done.stderr.decode()[-2000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--hashing-sink", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--plain-sink", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--keep-in", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.hashing_sink or args.plain_sink:
        port = args.hashing_sink or args.plain_sink
        asyncio.run(_sink(port, bool(args.hashing_sink), args.keep_in))
        return
    with tempfile.TemporaryDirectory() as scratch:
        big = Path(scratch) / "big.bin"
        with big.open("wb") as out:
            for _ in range(args.mib):
                out.write(os.urandom(CHUNK))
        server = LocalServerProcess(Path(scratch) / "data")
        server.start()
        sinks = [start_sink(True), start_sink(False), start_sink(True, Path(scratch))]
        results: dict[str, float] = {}
        try:
            env = {**os.environ, "FILESTORE_ENDPOINT": server.url}
            env["FILESTORE_TOKEN"] = server.token("bench@example.com")
            cli = [sys.executable, "-m", "filestore.entrypoints.cli", "upload", str(big)]
            curl = ["curl", "-sS", "-o", "/dev/null", "-T", str(big)]
            for _ in range(args.runs):
                for name, command in (
                    ("filestore upload", cli),
                    ("curl -T to the hashing sink", [*curl, f"http://127.0.0.1:{sinks[0][1]}/x"]),
                    ("curl -T to a plain sink", [*curl, f"http://127.0.0.1:{sinks[1][1]}/x"]),
                    ("curl -T to a durable sink", [*curl, f"http://127.0.0.1:{sinks[2][1]}/x"]),
                ):
                    rate = args.mib / timed(command, env)
                    results[name] = max(results.get(name, 0.0), rate)
        finally:
            for sink, _ in sinks:
                sink.terminate()
            server.stop()
    print("big file upload benchmark")
    print(f"machine: {describe()}")
    print(f"a file of {args.mib} MiB, best of {args.runs} runs, loopback")
    for name, rate in results.items():
        print(f"  {name:<30} {rate:7.1f} MiB/s")
    ratio = results["filestore upload"] / results["curl -T to the hashing sink"]
    print(f"  ratio of filestore upload to the hashing sink: {ratio:.2f}x")
    durable = results["filestore upload"] / results["curl -T to a durable sink"]
    print(f"  ratio of filestore upload to the durable sink: {durable:.2f}x")


if __name__ == "__main__":
    main()
