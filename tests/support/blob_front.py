"""`filestore serve`'s S3 front (`blob_app`) in process, over a filesystem store in a temp dir:
what the local-blob unit tests drive, without sockets."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx

from filestore.adapters.filesystem import FilesystemBlobStore
from filestore.domain.ports import Clock
from filestore.entrypoints.local.blobs import blob_app

BASE_URL = "http://blobs.test"


def blob_store(root: Path, clock: Clock | None = None) -> FilesystemBlobStore:
    """A store under `root` whose URLs name `BASE_URL`."""
    extra = {"clock": clock} if clock is not None else {}
    return FilesystemBlobStore(root, base_url=BASE_URL, signing_key=b"k" * 32, **extra)


@asynccontextmanager
async def blob_client(store: FilesystemBlobStore) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client whose requests to `BASE_URL` reach `blob_app(store)` in process."""
    transport = httpx.ASGITransport(app=blob_app(store))
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
        yield client
