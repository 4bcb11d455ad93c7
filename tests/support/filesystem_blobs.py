"""The filesystem blob store in the blob-store contract, its URLs used over real HTTP.

One store and one uvicorn server (on a free loopback port, in a thread) serve the whole session;
each test uses fresh random keys. Its clock is a `FakeClock`, so `expire_all` is instant.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator, Mapping
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from filestore.adapters.filesystem import FilesystemBlobStore
from filestore.domain.checksums import to_base64
from filestore.domain.ports import PresignedPost
from filestore.entrypoints.local.blobs import blob_app
from tests.contracts.harness import Refused
from tests.support.clock import FakeClock


class BlobServer:
    """uvicorn serving `blob_app(store)` in a background thread."""

    def __init__(self, root: Path) -> None:
        import uvicorn

        self.clock = FakeClock()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        port = self.sock.getsockname()[1]
        self.store = FilesystemBlobStore(
            root, base_url=f"http://127.0.0.1:{port}", signing_key=b"k" * 32, clock=self.clock
        )
        config = uvicorn.Config(blob_app(self.store), log_level="warning", lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )

    def __enter__(self) -> BlobServer:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the blob server did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()


class FilesystemBlobHarness:
    """Plays S3's client against the filesystem store's presigned URLs, over HTTP."""

    def __init__(self, server: BlobServer) -> None:
        self.server = server
        self.store = server.store
        self.http = httpx.Client(timeout=30)

    @staticmethod
    def _check(response: httpx.Response) -> None:
        if response.status_code >= 400:
            raise Refused(f"{response.status_code}: {response.text}")

    def post(
        self, post: PresignedPost, data: bytes, fields: Mapping[str, str] | None = None
    ) -> None:
        sent = dict(post.fields if fields is None else fields)
        response = self.http.post(post.url, data=sent, files={"file": ("blob", data)})
        self._check(response)

    def put_part(self, url: str, data: bytes, sha256: str | None = None) -> str:
        headers = {} if sha256 is None else {"x-amz-checksum-sha256": to_base64(sha256)}
        response = self.http.put(url, content=data, headers=headers)
        self._check(response)
        return response.headers["etag"]

    def get(self, url: str) -> tuple[bytes, Mapping[str, str]]:
        response = self.http.get(url)
        self._check(response)
        return response.content, {k.lower(): v for k, v in response.headers.items()}

    def put_object(self, key: str, data: bytes) -> None:
        self.store.put_object(key, data)

    def expire_all(self) -> None:
        self.server.clock.advance(timedelta(hours=1))


@pytest.fixture(scope="session")
def filesystem_blob_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BlobServer]:
    with BlobServer(tmp_path_factory.mktemp("blobs")) as server:
        yield server


@pytest.fixture
def blobs_filesystem(filesystem_blob_server: BlobServer) -> Iterator[FilesystemBlobHarness]:
    harness = FilesystemBlobHarness(filesystem_blob_server)
    yield harness
    harness.http.close()
