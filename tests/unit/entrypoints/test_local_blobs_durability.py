"""`filestore serve`'s S3 front answers a part once written and makes it durable in the
background; a multipart upload completes only once every part is on the disk
(docs/durability.md). As in test_local_blobs: the app in process over a store in a temp dir."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from filestore.adapters import filesystem
from filestore.adapters.filesystem import FilesystemBlobStore
from filestore.domain.ports import CompletedPart
from tests.support.blob_front import blob_client, blob_store

KEY = "u/alice/upload-1"
PARTS = [b"first" * 1000, b"second" * 1000, b"third"]


@pytest.fixture
def store(tmp_path: Path) -> FilesystemBlobStore:
    return blob_store(tmp_path)


@pytest.fixture
async def http(store: FilesystemBlobStore) -> AsyncIterator[httpx.AsyncClient]:
    async with blob_client(store) as client:
        yield client


async def _send_parts(
    http: httpx.AsyncClient, store: FilesystemBlobStore
) -> tuple[str, list[CompletedPart]]:
    multipart_id = await store.create_multipart(KEY, content_type="application/octet-stream")
    completed = []
    for number, data in enumerate(PARTS, start=1):
        url = store.presign_part(KEY, multipart_id, number, len(data), timedelta(minutes=5))
        answer = await http.put(url, content=data)
        assert answer.status_code == 200
        completed.append(CompletedPart(number, answer.headers["etag"]))
    return multipart_id, completed


async def test_parts_are_answered_before_synced_and_completion_waits_for_every_sync(
    http: httpx.AsyncClient, store: FilesystemBlobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = threading.Event()
    synced: list[int] = []
    sync_part = filesystem._sync_part

    def slow_sync(directory: Path, number: int) -> None:
        release.wait(10)
        sync_part(directory, number)
        synced.append(number)

    monkeypatch.setattr(filesystem, "_sync_part", slow_sync)
    # Every part is answered while no sync has finished.
    multipart_id, completed = await _send_parts(http, store)
    assert synced == []
    completing = asyncio.create_task(store.complete_multipart(KEY, multipart_id, completed))
    await asyncio.sleep(0.2)
    assert not completing.done()  # waiting for the parts to be on the disk
    assert await store.head(KEY) is None
    release.set()
    await asyncio.wait_for(completing, 10)
    assert sorted(synced) == [1, 2, 3]
    url = store.presign_get(KEY, filename="x", expires_in=timedelta(minutes=5))
    assert (await http.get(url)).content == b"".join(PARTS)


async def test_completion_syncs_every_part_before_the_object_is_published(
    http: httpx.AsyncClient, store: FilesystemBlobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Also a part whose background sync never ran (received before a restart)."""
    monkeypatch.setattr(store, "_sync_later", lambda *args: None)
    multipart_id, completed = await _send_parts(http, store)
    synced: list[str] = []
    fsync_path, publish = filesystem._fsync_path, store._publish

    def recorded_fsync(path: Path) -> None:
        fsync_path(path)
        synced.append(path.name)

    def checked_publish(*args: object, **kwargs: object) -> None:
        assert sorted(n for n in synced if n.endswith(".part")) == ["1.part", "2.part", "3.part"]
        publish(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(filesystem, "_fsync_path", recorded_fsync)
    monkeypatch.setattr(store, "_publish", checked_publish)
    await store.complete_multipart(KEY, multipart_id, completed)
    assert await store.head(KEY) is not None


async def test_a_part_whose_etag_was_lost_is_not_listed_so_the_client_sends_it_again(
    http: httpx.AsyncClient, store: FilesystemBlobStore, tmp_path: Path
) -> None:
    """What a power cut before a part's sync can leave: its bytes' name without its ETag's."""
    multipart_id, _ = await _send_parts(http, store)
    (tmp_path / "multipart" / multipart_id / "2.etag").unlink()
    listed = await store.list_parts(KEY, multipart_id)
    assert [p.part_number for p in listed] == [1, 3]
