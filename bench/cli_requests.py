"""Benchmark: API requests per `filestore` command that names things by path.

The API knows files and folders by id; the command line resolves paths itself, walking folders
from the root (`GET /folders?parent_id=…`, each folder once per command) and finding a file by a
search in its folder. On AWS every request is a round trip through API Gateway and a Lambda (and
one Data API call per read), so the count per command is its latency. This runs each command
through `filestore`'s main against the real HTTP API handler on in-memory adapters (in-process,
as the CLI's unit tests do) and prints the requests it made, for paths `--depth` folders deep
in a tree of `--width` folders per level.

    python bench/cli_requests.py [--depth 3] [--width 20]
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import io
import os
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "filestore-bench")

import httpx

from bench.host import describe
from filestore.app import FileStore
from filestore.entrypoints import cli, client
from filestore.entrypoints.runtime import runtime
from tests.support.api_transport import InProcessApi

USER = {"sub": "bench-sub", "email": "bench@example.com"}


class Counting(httpx.BaseTransport):
    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner, self.requests = inner, list[str]()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.scheme != "memory":  # storage is not the API
            self.requests.append(f"{request.method} {request.url.path}")
        return self.inner.handle_request(request)


@contextlib.contextmanager
def counted(transport: Counting) -> Iterator[list[str]]:
    transport.requests.clear()
    yield transport.requests


def run(*argv: str) -> None:
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        code = cli.main(["--token", "t", *argv])
    if code != 0:
        raise SystemExit(f"filestore {' '.join(argv)} failed")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--depth", type=int, default=3)
    parser.add_argument("--width", type=int, default=20)
    options = parser.parse_args()

    store = FileStore.in_memory()
    runtime.set_bus(store.bus)
    transport = Counting(InProcessApi(store, USER).transport())
    client.Client = functools.partial(  # type: ignore[misc]
        client.Client, progress=False, transport=transport
    )
    levels = [f"level{n}" for n in range(options.depth)]
    deep = "/".join(levels)
    run("mkdir", "-p", deep)
    for depth in range(options.depth):  # siblings at every level: listings of some size
        parent = "/".join(levels[:depth])
        siblings = [f"{parent}/sibling{n}".lstrip("/") for n in range(options.width - 1)]
        run("mkdir", *siblings)
    with tempfile.TemporaryDirectory() as scratch:
        source = Path(scratch) / "report.pdf"
        source.write_bytes(b"%PDF-1.7")
        tree = Path(scratch) / "photos"
        for sub in ("a", "a/b", "c"):
            (tree / sub).mkdir(parents=True)
            (tree / sub / "x.jpg").write_bytes(b"x")
        commands: list[tuple[str, ...]] = [
            ("upload", str(source), "--to", deep),
            ("ls",),
            ("ls", deep),
            ("ls", deep, "--sort", "name"),
            ("find", "report"),
            ("mkdir", "-p", f"{deep}/new/newer"),
            ("mv", f"{deep}/report.pdf", f"{deep}/final.pdf"),
            ("mv", f"{deep}/final.pdf", deep.split("/")[0]),
            ("upload", "-r", str(tree), "--to", deep),
            ("rm", f"{deep}/new"),
            ("trash", "restore", "new"),
        ]
        print(describe())
        print(f"paths {options.depth} folders deep, {options.width} folders beside each\n")
        print(f"{'requests':>8}  command")
        for argv in commands:
            with counted(transport) as requests:
                run(*argv)
            shown = " ".join(a if not a.startswith(scratch) else Path(a).name for a in argv)
            print(f"{len(requests):>8}  filestore {shown}")
            routes = Counter(_route(request) for request in requests)
            print("          " + ", ".join(f"{r} x{n}" if n > 1 else r for r, n in routes.items()))


def _route(request: str) -> str:
    """`GET /folders/{id}` for `GET /folders/0190…`."""
    method, path = request.split(" ", 1)
    parts = ["{id}" if len(part) == 36 else part for part in path.strip("/").split("/")]
    return f"{method} /{'/'.join(parts)}"


if __name__ == "__main__":
    main()
