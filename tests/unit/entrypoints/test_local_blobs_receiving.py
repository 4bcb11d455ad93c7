"""The filesystem blob store receiving a body of many write batches: each batch is hashed and
written in a worker thread while the next arrives, and whatever stops a body (too large, a
client gone) leaves no file behind, even with a batch still being written."""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from filestore.adapters.filesystem import (
    WRITE_BATCH,
    BlobRequestRefused,
    FilesystemBlobStore,
    PostPolicy,
)

KEY = "u/alice/upload-1"
CHUNK = 64 * 1024
BODY = os.urandom(3 * WRITE_BATCH + 12345)  # three whole batches and a part of one


@pytest.fixture
def store(tmp_path: Path) -> FilesystemBlobStore:
    return FilesystemBlobStore(tmp_path, base_url="http://blobs.test", signing_key=b"k" * 32)


async def _chunks(data: bytes, then: BaseException | None = None) -> AsyncIterator[bytes]:
    for start in range(0, len(data), CHUNK):
        yield data[start : start + CHUNK]
        await asyncio.sleep(0)  # as a socket's chunks do: the loop runs between them
    if then is not None:
        raise then


def _policy(store: FilesystemBlobStore, size: int, sha256: str | None = None) -> PostPolicy:
    post = store.presign_post(
        KEY, size=size, content_type="application/octet-stream", sha256=sha256,
        expires_in=timedelta(minutes=5),
    )  # fmt: skip
    return store.check_post(post.fields)


def _left_in_tmp(store: FilesystemBlobStore) -> list[Path]:
    return [path for path in (store.root / "tmp").glob("*") if path.is_file()]


async def test_a_body_of_many_batches_is_stored_whole_with_its_digests(
    store: FilesystemBlobStore,
) -> None:
    sha256 = hashlib.sha256(BODY).hexdigest()
    info = await store.receive_post(_policy(store, len(BODY), sha256), _chunks(BODY))
    assert info.size == len(BODY)
    assert info.etag == f'"{hashlib.md5(BODY, usedforsecurity=False).hexdigest()}"'
    files, size, _, _, _ = store.open_object(KEY)
    assert size == len(BODY)
    assert b"".join(path.read_bytes() for path in files) == BODY
    assert _left_in_tmp(store) == []


async def test_a_body_past_its_size_is_refused_and_leaves_no_file(
    store: FilesystemBlobStore,
) -> None:
    policy = _policy(store, 2 * WRITE_BATCH)
    with pytest.raises(BlobRequestRefused) as refused:
        await store.receive_post(policy, _chunks(BODY))
    assert refused.value.code == "EntityTooLarge"
    await asyncio.sleep(0.2)  # a batch still in the worker thread closes the file when done
    assert _left_in_tmp(store) == []
    assert await store.head(KEY) is None


async def test_a_body_cut_off_midway_leaves_no_file(store: FilesystemBlobStore) -> None:
    policy = _policy(store, 2 * len(BODY))
    with pytest.raises(ConnectionResetError):
        await store.receive_post(policy, _chunks(BODY, then=ConnectionResetError()))
    await asyncio.sleep(0.2)
    assert _left_in_tmp(store) == []
