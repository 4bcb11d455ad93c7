"""`filestore serve`'s S3 front keeps what it stored: a stored object is never replaced (also
without a declared checksum), and bytes damaged or lost on the disk are never served as a file.

As in test_local_blobs: the app in process over a filesystem store in a temp dir.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from filestore.adapters.filesystem import FilesystemBlobStore
from filestore.entrypoints.local.blobs import CHUNK, ObjectDamaged
from tests.support.blob_front import BASE_URL, blob_client, blob_store

KEY = "u/alice/upload-1"


@pytest.fixture
def store(tmp_path: Path) -> FilesystemBlobStore:
    return blob_store(tmp_path)


@pytest.fixture
async def http(store: FilesystemBlobStore) -> AsyncIterator[httpx.AsyncClient]:
    async with blob_client(store) as client:
        yield client


def _s3_error(answer: httpx.Response) -> tuple[int, str, str]:
    code = answer.text.split("<Code>", 1)[1].split("</Code>", 1)[0]
    message = answer.text.split("<Message>", 1)[1].split("</Message>", 1)[0]
    return answer.status_code, code, message


async def _post(
    http: httpx.AsyncClient, store: FilesystemBlobStore, data: bytes, sha256: str | None = None
) -> httpx.Response:
    post = store.presign_post(
        KEY, size=len(data), content_type="text/plain", sha256=sha256,
        expires_in=timedelta(minutes=5),
    )  # fmt: skip
    return await http.post(post.url, data=post.fields, files={"file": ("x", data)})


def _get_url(store: FilesystemBlobStore) -> str:
    return store.presign_get(KEY, filename="x.txt", expires_in=timedelta(minutes=5))


async def test_a_form_posted_again_with_other_bytes_replaces_nothing(
    http: httpx.AsyncClient, store: FilesystemBlobStore
) -> None:
    post = store.presign_post(
        KEY, size=5, content_type="text/plain", sha256=None, expires_in=timedelta(minutes=5)
    )
    first = await http.post(post.url, data=post.fields, files={"file": ("x", b"first")})
    assert first.status_code == 204
    # The same form, within its expiry, with other bytes of the same size: S3's policy allows
    # it, and no checksum was declared to stop it.
    again = await http.post(post.url, data=post.fields, files={"file": ("x", b"other")})
    status, code, message = _s3_error(again)
    assert (status, code) == (412, "PreconditionFailed")
    assert "never replaced" in message
    assert (await http.get(_get_url(store))).content == b"first"


async def test_two_posts_of_one_form_at_once_store_one_object(
    http: httpx.AsyncClient, store: FilesystemBlobStore
) -> None:
    size = 4 * CHUNK
    a, b = b"a" * size, b"b" * size
    post = store.presign_post(
        KEY, size=size, content_type="text/plain", sha256=None, expires_in=timedelta(minutes=5)
    )
    answers = await asyncio.gather(
        *(http.post(post.url, data=post.fields, files={"file": ("x", d)}) for d in (a, b))
    )
    assert sorted(r.status_code for r in answers) == [204, 412]
    winner = a if answers[0].status_code == 204 else b
    info = await store.head(KEY)
    assert info is not None and info.sha256 == hashlib.sha256(winner).hexdigest()
    assert (await http.get(_get_url(store))).content == winner


def _object_file(tmp_path: Path) -> Path:
    return tmp_path / "objects" / Path(*KEY.split("/"))


def _segment_file(tmp_path: Path, number: int) -> Path:
    """Where part `number` (>= 2) of a multipart object is kept: the parts are its segments."""
    [path] = (tmp_path / "segments" / Path(*KEY.split("/"))).glob(f"*/{number}")
    return path


def _flip_a_byte(path: Path, at: int) -> None:
    data = bytearray(path.read_bytes())
    data[at] ^= 0x01
    path.write_bytes(bytes(data))


async def test_a_small_object_with_a_flipped_byte_is_refused_with_a_reason(
    http: httpx.AsyncClient, store: FilesystemBlobStore, tmp_path: Path
) -> None:
    assert (await _post(http, store, b"hello, world")).status_code == 204
    _flip_a_byte(_object_file(tmp_path), 3)
    status, code, message = _s3_error(await http.get(_get_url(store)))
    assert (status, code) == (410, "ObjectDamaged")
    assert "damaged" in message


async def test_a_large_object_with_a_flipped_byte_is_never_served_whole(
    http: httpx.AsyncClient, store: FilesystemBlobStore, tmp_path: Path
) -> None:
    data = bytes(range(256)) * (3 * CHUNK // 256 + 7)
    assert (await _post(http, store, data)).status_code == 204
    _flip_a_byte(_object_file(tmp_path), CHUNK + 5)  # past the first chunk: the answer started
    received = b""
    with pytest.raises(ObjectDamaged):
        async with http.stream("GET", _get_url(store)) as answer:
            assert answer.status_code == 200
            async for chunk in answer.aiter_bytes():
                received += chunk
    assert len(received) < len(data)


async def test_an_intact_large_object_is_served_whole(
    http: httpx.AsyncClient, store: FilesystemBlobStore
) -> None:
    data = bytes(range(256)) * (3 * CHUNK // 256 + 7)
    assert (await _post(http, store, data)).status_code == 204
    assert (await http.get(_get_url(store))).content == data


async def test_an_object_whose_file_is_gone_answers_410_saying_so(
    http: httpx.AsyncClient, store: FilesystemBlobStore, tmp_path: Path
) -> None:
    assert (await _post(http, store, b"soon gone")).status_code == 204
    _object_file(tmp_path).unlink()
    status, code, message = _s3_error(await http.get(_get_url(store)))
    assert (status, code) == (410, "NoSuchKey")
    assert "missing from the server's storage" in message


async def test_multipart_uploads_older_than_the_lifecycle_rule_are_removed(
    store: FilesystemBlobStore, tmp_path: Path
) -> None:
    import os
    import time

    from filestore.adapters.filesystem import MULTIPART_MAX_AGE

    old = await store.create_multipart("u/alice/old", content_type="text/plain")
    young = await store.create_multipart("u/alice/young", content_type="text/plain")
    begun = time.time() - MULTIPART_MAX_AGE.total_seconds() - 60
    os.utime(tmp_path / "multipart" / old / "meta.json", (begun, begun))
    # As on the next start (or the next multipart upload an hour later).
    FilesystemBlobStore(tmp_path, base_url=BASE_URL, signing_key=b"k" * 32)
    assert not (tmp_path / "multipart" / old).exists()
    assert (tmp_path / "multipart" / young).exists()


async def _multipart(
    http: httpx.AsyncClient, store: FilesystemBlobStore, parts: list[bytes]
) -> None:
    from filestore.domain.ports import CompletedPart

    multipart_id = await store.create_multipart(KEY, content_type="application/octet-stream")
    completed = []
    for number, data in enumerate(parts, start=1):
        url = store.presign_part(KEY, multipart_id, number, len(data), timedelta(minutes=5))
        answer = await http.put(url, content=data)
        assert answer.status_code == 200
        completed.append(CompletedPart(number, answer.headers["etag"]))
    await store.complete_multipart(KEY, multipart_id, completed)


# Parts whose ends fall inside a read chunk: a part is checked at its own end.
PARTS = [bytes(range(256)) * (3 * CHUNK // 256) + b"first", b"second" * (CHUNK // 3)]


async def test_an_intact_multipart_object_is_served_whole(
    http: httpx.AsyncClient, store: FilesystemBlobStore
) -> None:
    await _multipart(http, store, PARTS)
    assert (await http.get(_get_url(store))).content == b"".join(PARTS)


async def test_a_multipart_object_with_a_flipped_byte_is_never_served_whole(
    http: httpx.AsyncClient, store: FilesystemBlobStore, tmp_path: Path
) -> None:
    """A multipart object has no SHA-256 of the whole (its parts are joined without reading
    them again): each part is checked against the SHA-256 it had when it arrived."""
    await _multipart(http, store, PARTS)
    _flip_a_byte(_segment_file(tmp_path, 2), 7)  # in the second part
    received = b""
    with pytest.raises(ObjectDamaged):
        async with http.stream("GET", _get_url(store)) as answer:
            assert answer.status_code == 200
            async for chunk in answer.aiter_bytes():
                received += chunk
    assert len(received) < len(b"".join(PARTS))


async def test_a_multipart_object_is_its_parts_kept_not_copied(
    http: httpx.AsyncClient, store: FilesystemBlobStore, tmp_path: Path
) -> None:
    """Completion keeps the parts' files as the object's segments: the first under the key, the
    others under `segments/`, each the very file that arrived (no copy), and the size is theirs."""
    three = [*PARTS, b"third" * 100]
    await _multipart(http, store, three)
    assert _object_file(tmp_path).read_bytes() == three[0]
    assert [_segment_file(tmp_path, n).read_bytes() for n in (2, 3)] == three[1:]
    assert _segment_file(tmp_path, 2).stat().st_nlink == 1  # the part's own name is gone
    info = await store.head(KEY)
    assert info is not None and info.size == len(b"".join(three))
    assert (await http.get(_get_url(store))).content == b"".join(three)


async def test_a_multipart_object_missing_a_segment_is_lost_and_never_served(
    http: httpx.AsyncClient, store: FilesystemBlobStore, tmp_path: Path
) -> None:
    await _multipart(http, store, PARTS)
    _segment_file(tmp_path, 2).unlink()
    assert store.lost_objects() == [(KEY, "its stored bytes are missing from the server's storage")]
    status, code, _ = _s3_error(await http.get(_get_url(store)))
    assert (status, code) == (410, "NoSuchKey")


async def test_deleting_a_multipart_object_removes_its_segments(
    http: httpx.AsyncClient, store: FilesystemBlobStore, tmp_path: Path
) -> None:
    await _multipart(http, store, PARTS)
    await store.delete(KEY)
    assert await store.head(KEY) is None
    assert not (tmp_path / "segments" / Path(*KEY.split("/"))).exists()
