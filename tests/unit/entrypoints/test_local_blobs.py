"""`filestore serve`'s S3 front (`/_blobs`): presigned requests in, S3's answers out.

The app runs in process (httpx's ASGI transport, no sockets) over a filesystem store in a temp
dir, on a clock the test moves. What S3 refuses comes back as S3's XML error with its status.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from filestore.adapters.filesystem import FilesystemBlobStore
from filestore.domain.ports import CompletedPart, PresignedPost
from filestore.entrypoints.local.blobs import MAX_FORM_FIELDS, MAX_FORM_FIELDS_BYTES
from tests.support.blob_front import BASE_URL, blob_client, blob_store

KEY = "u/alice/upload-1"
DATA = b"hello, blobs"


class Clock:
    def __init__(self) -> None:
        self.moment = datetime(2026, 1, 1, tzinfo=UTC)

    def now(self) -> datetime:
        return self.moment


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(tmp_path: Path, clock: Clock) -> FilesystemBlobStore:
    return blob_store(tmp_path, clock)


@pytest.fixture
async def http(store: FilesystemBlobStore) -> AsyncIterator[httpx.AsyncClient]:
    async with blob_client(store) as client:
        yield client


def _post(
    store: FilesystemBlobStore, *, size: int = len(DATA), sha256: str | None = None
) -> PresignedPost:
    return store.presign_post(
        KEY, size=size, content_type="text/plain", sha256=sha256, expires_in=timedelta(minutes=5)
    )


def _s3_error(answer: httpx.Response) -> tuple[int, str]:
    assert answer.headers["content-type"] == "application/xml"
    code = answer.text.split("<Code>", 1)[1].split("</Code>", 1)[0]
    return answer.status_code, code


async def test_a_posted_file_is_stored_and_served_by_its_signed_url(
    http: httpx.AsyncClient, store: FilesystemBlobStore
) -> None:
    post = _post(store, sha256=hashlib.sha256(DATA).hexdigest())
    answer = await http.post(post.url, data=post.fields, files={"file": ("x", DATA)})
    assert answer.status_code == 204
    etag = answer.headers["etag"]
    assert answer.headers["location"] == f"{BASE_URL}/{KEY}"
    url = store.presign_get(KEY, filename="notes.txt", expires_in=timedelta(minutes=5))
    got = await http.get(url)
    assert (got.status_code, got.content) == (200, DATA)
    assert (got.headers["etag"], got.headers["content-type"]) == (etag, "text/plain; charset=utf-8")
    assert "notes.txt" in got.headers["content-disposition"]


async def test_parts_put_to_their_signed_urls_make_the_object(
    http: httpx.AsyncClient, store: FilesystemBlobStore
) -> None:
    multipart = await store.create_multipart(KEY, content_type="application/octet-stream")
    url = store.presign_part(KEY, multipart, 1, len(DATA), timedelta(minutes=5))
    put = await http.put(url, content=DATA)
    assert put.status_code == 200
    await store.complete_multipart(KEY, multipart, [CompletedPart(1, put.headers["etag"])])
    got = await http.get(store.presign_get(KEY, filename="x", expires_in=timedelta(minutes=5)))
    assert got.content == DATA


@pytest.mark.parametrize(
    ("change", "refusal"),
    [
        pytest.param(lambda f: {**f, "key": f["key"] + "x"}, (403, "AccessDenied"), id="other-key"),
        pytest.param(
            lambda f: {**f, "Content-Type": "image/png"}, (403, "AccessDenied"), id="other-type"
        ),
        pytest.param(
            lambda f: {**f, "x-signature": "0" * 64}, (403, "SignatureDoesNotMatch"), id="forged"
        ),
        pytest.param(
            lambda f: {**f, "x-amz-meta": "x" * (MAX_FORM_FIELDS_BYTES + 1)},
            (400, "MalformedPOSTRequest"),
            id="huge-field",
        ),
    ],
)
async def test_a_form_that_breaks_its_policy_is_refused(
    http: httpx.AsyncClient, store: FilesystemBlobStore, change: object, refusal: tuple[int, str]
) -> None:
    post = _post(store)
    fields = change(dict(post.fields))  # type: ignore[operator]
    answer = await http.post(post.url, data=fields, files={"file": ("x", DATA)})
    assert _s3_error(answer) == refusal
    assert await store.head(KEY) is None


@pytest.mark.parametrize(
    ("data", "code"),
    [(DATA + b"!", "EntityTooLarge"), (DATA[:-1], "EntityTooSmall"), (DATA.upper(), "BadDigest")],
)
async def test_a_file_that_is_not_what_was_signed_is_refused(
    http: httpx.AsyncClient, store: FilesystemBlobStore, data: bytes, code: str
) -> None:
    post = _post(store, sha256=hashlib.sha256(DATA).hexdigest())
    answer = await http.post(post.url, data=post.fields, files={"file": ("x", data)})
    assert _s3_error(answer) == (400, code)
    assert await store.head(KEY) is None


async def test_a_post_that_is_no_upload_form_is_refused(
    http: httpx.AsyncClient, store: FilesystemBlobStore
) -> None:
    post = _post(store)
    not_multipart = await http.post(post.url, data=post.fields)
    assert _s3_error(not_multipart) == (400, "MalformedPOSTRequest")
    no_file = await http.post(post.url, files={"key": (None, KEY)})
    assert _s3_error(no_file) == (400, "InvalidArgument")


async def test_an_expired_url_is_refused(
    http: httpx.AsyncClient, store: FilesystemBlobStore, clock: Clock
) -> None:
    store.put_object(KEY, DATA)
    url = store.presign_get(KEY, filename="x", expires_in=timedelta(minutes=5))
    post = _post(store)
    clock.moment += timedelta(minutes=5)
    assert _s3_error(await http.get(url)) == (403, "AccessDenied")
    answer = await http.post(post.url, data=post.fields, files={"file": ("x", DATA)})
    assert _s3_error(answer) == (403, "AccessDenied")


async def test_urls_that_do_not_hold_are_refused(
    http: httpx.AsyncClient, store: FilesystemBlobStore
) -> None:
    missing = store.presign_get(KEY, filename="x", expires_in=timedelta(minutes=5))
    # Signed, so an object's key: its bytes are gone, which 410 says (see blob integrity).
    assert _s3_error(await http.get(missing)) == (410, "NoSuchKey")
    store.put_object(KEY, DATA)
    tampered = missing.replace("X-Signature=", "X-Signature=0")
    assert _s3_error(await http.get(tampered)) == (403, "SignatureDoesNotMatch")
    query = urlsplit(missing).query
    assert _s3_error(await http.get(f"/u/%2E%2E/x?{query}")) == (400, "InvalidURI")


async def test_a_part_must_be_its_signed_size_for_a_live_upload(
    http: httpx.AsyncClient, store: FilesystemBlobStore
) -> None:
    multipart = await store.create_multipart(KEY, content_type="application/octet-stream")
    url = store.presign_part(KEY, multipart, 1, len(DATA), timedelta(minutes=5))
    assert _s3_error(await http.put(url, content=DATA + b"!")) == (403, "SignatureDoesNotMatch")
    await store.abort_multipart(KEY, multipart)
    assert _s3_error(await http.put(url, content=DATA)) == (404, "NoSuchUpload")


# --- hostile forms: S3's 400 with its XML error, never a 500 -----------------------------------


def _form(boundary: bytes, parts: list[bytes], file: bytes = DATA) -> bytes:
    body = b"".join(b"--" + boundary + b"\r\n" + part + b"\r\n" for part in parts)
    file_part = b'Content-Disposition: form-data; name="file"; filename="x"\r\n\r\n' + file
    return body + b"--" + boundary + b"\r\n" + file_part + b"\r\n--" + boundary + b"--\r\n"


def _field(name: bytes, value: bytes) -> bytes:
    return b'Content-Disposition: form-data; name="' + name + b'"\r\n\r\n' + value


async def _post_raw(http: httpx.AsyncClient, url: str, body: bytes) -> httpx.Response:
    headers = {"content-type": "multipart/form-data; boundary=XyZ"}
    return await http.post(url, content=body, headers=headers)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"--XyZ\r\nno colon in this header\r\n\r\nvalue\r\n--XyZ--\r\n", id="header"),
        pytest.param(b"--XyZ\r\n\x00\x01\x02\r\n\r\n", id="binary-header"),
        pytest.param(b"--XyZ" + b"\xff" * 100, id="after-boundary"),
    ],
)
async def test_a_malformed_multipart_body_is_400(
    http: httpx.AsyncClient, store: FilesystemBlobStore, body: bytes
) -> None:
    answer = await _post_raw(http, _post(store).url, body)
    assert _s3_error(answer) == (400, "MalformedPOSTRequest")


async def test_a_field_name_that_is_not_utf8_is_400(
    http: httpx.AsyncClient, store: FilesystemBlobStore
) -> None:
    body = _form(b"XyZ", [_field(b"\xff\xfekey", KEY.encode())])
    answer = await _post_raw(http, _post(store).url, body)
    assert _s3_error(answer) == (400, "MalformedPOSTRequest")
    assert "UTF-8" in answer.text


async def test_a_form_of_too_many_fields_is_refused_before_its_file(
    http: httpx.AsyncClient, store: FilesystemBlobStore
) -> None:
    post = _post(store)
    signed = [_field(name.encode(), value.encode()) for name, value in post.fields.items()]
    extra = [_field(f"x-amz-meta-{i}".encode(), b"") for i in range(MAX_FORM_FIELDS)]
    answer = await _post_raw(http, post.url, _form(b"XyZ", extra + signed))
    assert _s3_error(answer) == (400, "MalformedPOSTRequest")
    assert "fields" in answer.text
    assert await store.head(KEY) is None


async def test_fields_before_the_file_are_bounded_in_bytes(
    http: httpx.AsyncClient, store: FilesystemBlobStore
) -> None:
    post = _post(store)
    # Many small fields, each under the per-field bound, together far over it.
    extra = [_field(f"f{i}".encode(), b"v" * 30_000) for i in range(40)]
    chunks_read = 0

    async def body() -> AsyncIterator[bytes]:
        nonlocal chunks_read
        form = _form(
            b"XyZ", extra + [_field(k.encode(), v.encode()) for k, v in post.fields.items()]
        )
        for start in range(0, len(form), 16 * 1024):
            chunks_read += 1
            yield form[start : start + 16 * 1024]

    headers = {"content-type": "multipart/form-data; boundary=XyZ"}
    answer = await http.post(post.url, content=body(), headers=headers)
    assert _s3_error(answer) == (400, "MaxPostPreDataLengthExceeded")
    assert chunks_read * 16 * 1024 <= 2 * MAX_FORM_FIELDS_BYTES  # refused as it arrived
