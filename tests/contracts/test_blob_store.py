"""The blob-store contract: what a client can and cannot do with the URLs a store presigns."""

from __future__ import annotations

import contextlib
import hashlib
import os
from datetime import timedelta
from urllib.parse import unquote

import pytest

from filestore.domain.checksums import Checksum, composite_value
from filestore.domain.errors import InvalidInput
from filestore.domain.ports import CompletedPart
from tests.contracts.harness import BlobHarness, Refused

TTL = timedelta(minutes=5)
MiB = 1024 * 1024


def key() -> str:
    return f"u/contract/{os.urandom(8).hex()}"


async def test_presigned_post_accepts_exactly_the_declared_file(blobs: BlobHarness) -> None:
    k, data = key(), b"hello, world"
    post = blobs.store.presign_post(
        k, size=len(data), content_type="text/plain", sha256=None, expires_in=TTL
    )
    assert post.expires_at is not None
    blobs.post(post, data)
    info = await blobs.store.head(k)
    assert info is not None and info.size == len(data)
    assert info.etag.strip('"') == hashlib.md5(data).hexdigest()


@pytest.mark.parametrize("data", [b"hello, world!", b"hello"], ids=["larger", "smaller"])
async def test_presigned_post_refuses_another_size(blobs: BlobHarness, data: bytes) -> None:
    k = key()
    post = blobs.store.presign_post(
        k, size=12, content_type="text/plain", sha256=None, expires_in=TTL
    )
    with pytest.raises(Refused):
        blobs.post(post, data)
    assert await blobs.store.head(k) is None


async def test_presigned_post_refuses_another_key(blobs: BlobHarness) -> None:
    k, data = key(), b"hello"
    post = blobs.store.presign_post(
        k, size=5, content_type="text/plain", sha256=None, expires_in=TTL
    )
    other = key()
    with pytest.raises(Refused):
        blobs.post(post, data, fields={**post.fields, "key": other})
    assert await blobs.store.head(other) is None


async def test_presigned_post_refuses_another_content_type(blobs: BlobHarness) -> None:
    k, data = key(), b"hello"
    post = blobs.store.presign_post(
        k, size=5, content_type="text/plain", sha256=None, expires_in=TTL
    )
    with pytest.raises(Refused):
        blobs.post(post, data, fields={**post.fields, "Content-Type": "text/html"})
    assert await blobs.store.head(k) is None


async def test_presigned_post_refuses_after_expiry(blobs: BlobHarness) -> None:
    k, data = key(), b"hello"
    post = blobs.store.presign_post(
        k, size=5, content_type="text/plain", sha256=None, expires_in=timedelta(seconds=1)
    )
    blobs.expire_all()
    with pytest.raises(Refused):
        blobs.post(post, data)
    assert await blobs.store.head(k) is None


async def test_declared_sha256_is_enforced_by_storage_or_reported_by_head(
    blobs: BlobHarness,
) -> None:
    """A wrong checksum never ends as a stored object that looks right.

    Either the store refuses the POST, or it stores the object and `head` reports the real
    SHA-256 so the S3-event path can fail the upload.
    """
    k, data = key(), b"hello"
    wrong = hashlib.sha256(b"something else").hexdigest()
    post = blobs.store.presign_post(
        k, size=5, content_type="text/plain", sha256=wrong, expires_in=TTL
    )
    try:
        blobs.post(post, data)
    except Refused:
        assert await blobs.store.head(k) is None
    else:
        info = await blobs.store.head(k)
        assert info is not None and info.sha256 == hashlib.sha256(data).hexdigest()


async def test_right_sha256_is_accepted_and_reported_by_head(blobs: BlobHarness) -> None:
    """Storage that was told the checksum keeps it: `head` must report it (S3 returns the
    declared full-object SHA-256 with `ChecksumMode=ENABLED`)."""
    k, data = key(), b"hello"
    right = hashlib.sha256(data).hexdigest()
    post = blobs.store.presign_post(
        k, size=5, content_type="text/plain", sha256=right, expires_in=TTL
    )
    blobs.post(post, data)
    info = await blobs.store.head(k)
    assert info is not None and info.sha256 == right


async def test_presigned_get_returns_the_bytes_as_an_attachment(blobs: BlobHarness) -> None:
    k, data = key(), os.urandom(1000)
    blobs.put_object(k, data)
    url = blobs.store.presign_get(k, filename="résumé 2026.pdf", expires_in=TTL)
    body, headers = blobs.get(url)
    assert body == data
    disposition = headers["content-disposition"]
    assert disposition.startswith("attachment")
    assert "filename*=UTF-8''" in disposition
    assert unquote(disposition.split("filename*=UTF-8''")[1]) == "résumé 2026.pdf"


async def test_presigned_get_refuses_after_expiry(blobs: BlobHarness) -> None:
    k = key()
    blobs.put_object(k, b"x")
    url = blobs.store.presign_get(k, filename="x", expires_in=timedelta(seconds=1))
    blobs.expire_all()
    with pytest.raises(Refused):
        blobs.get(url)


async def test_multipart_upload_round_trip(blobs: BlobHarness) -> None:
    k = key()
    part_size = 5 * MiB
    data = os.urandom(2 * part_size + 1234)
    chunks = [data[i : i + part_size] for i in range(0, len(data), part_size)]
    multipart_id = await blobs.store.create_multipart(k, content_type="application/octet-stream")
    etags = {}
    for number, chunk in enumerate(chunks, start=1):
        url = blobs.store.presign_part(k, multipart_id, number, len(chunk), TTL)
        etags[number] = blobs.put_part(url, chunk)
    arrived = await blobs.store.list_parts(k, multipart_id)
    assert [(p.part_number, p.size) for p in arrived] == [
        (n, len(c)) for n, c in enumerate(chunks, 1)
    ]
    assert [p.etag.strip('"') for p in arrived] == [etags[n].strip('"') for n in sorted(etags)]
    await blobs.store.complete_multipart(
        k, multipart_id, [CompletedPart(n, etags[n]) for n in sorted(etags)]
    )
    info = await blobs.store.head(k)
    assert info is not None and info.size == len(data)
    url = blobs.store.presign_get(k, filename="big.bin", expires_in=TTL)
    body, _ = blobs.get(url)
    assert hashlib.sha256(body).digest() == hashlib.sha256(data).digest()


async def test_part_url_refuses_another_length(blobs: BlobHarness) -> None:
    k = key()
    multipart_id = await blobs.store.create_multipart(k, content_type="application/octet-stream")
    url = blobs.store.presign_part(k, multipart_id, 1, 5 * MiB, TTL)
    with pytest.raises(Refused):
        blobs.put_part(url, os.urandom(5 * MiB + 1))
    assert await blobs.store.list_parts(k, multipart_id) == []
    await blobs.store.abort_multipart(k, multipart_id)


async def test_completing_with_a_wrong_etag_is_invalid_input(blobs: BlobHarness) -> None:
    k = key()
    multipart_id = await blobs.store.create_multipart(k, content_type="application/octet-stream")
    url = blobs.store.presign_part(k, multipart_id, 1, 10, TTL)
    blobs.put_part(url, b"0123456789")
    with pytest.raises(InvalidInput):
        await blobs.store.complete_multipart(
            k, multipart_id, [CompletedPart(1, '"' + "0" * 32 + '"')]
        )
    assert await blobs.store.head(k) is None
    await blobs.store.abort_multipart(k, multipart_id)


async def test_abort_discards_the_parts_and_is_idempotent(blobs: BlobHarness) -> None:
    k = key()
    multipart_id = await blobs.store.create_multipart(k, content_type="application/octet-stream")
    blobs.put_part(blobs.store.presign_part(k, multipart_id, 1, 3, TTL), b"abc")
    await blobs.store.abort_multipart(k, multipart_id)
    await blobs.store.abort_multipart(k, multipart_id)
    assert await blobs.store.head(k) is None
    with pytest.raises(Refused):
        blobs.put_part(blobs.store.presign_part(k, multipart_id, 2, 3, TTL), b"def")


async def test_head_and_delete(blobs: BlobHarness) -> None:
    k = key()
    assert await blobs.store.head(k) is None
    blobs.put_object(k, b"abc")
    info = await blobs.store.head(k)
    assert info is not None and info.size == 3
    await blobs.store.delete(k)
    await blobs.store.delete(k)  # absent is fine
    assert await blobs.store.head(k) is None


async def test_a_stored_object_keeps_its_first_bytes_when_its_form_is_sent_again(
    blobs: BlobHarness,
) -> None:
    """A presigned POST stays valid until it expires; sent again with other bytes of the size
    it allows (no checksum declared to stop it), it must not change what the key serves: a
    store refuses the second write, or S3 (versioned) takes it and `keep_first_version`, run by
    the S3-events consumer on the write's event, brings the first bytes back."""
    k, first = key(), b"first"
    post = blobs.store.presign_post(
        k, size=5, content_type="text/plain", sha256=None, expires_in=TTL
    )
    blobs.post(post, first)
    url = blobs.store.presign_get(k, filename="f.txt", expires_in=TTL)
    # Replaced, put back; replaced again (the form lives on), put back again.
    for replacement in (b"other", b"third"):
        with contextlib.suppress(Refused):  # the stores that never replace an object refuse
            blobs.post(post, replacement)
        await blobs.store.keep_first_version(k)
        info = await blobs.store.head(k)
        assert info is not None and info.etag.strip('"') == hashlib.md5(first).hexdigest()
        assert blobs.get(url)[0] == first
        assert await blobs.store.keep_first_version(k) is False  # nothing left to restore


# --- end-to-end checksums --------------------------------------------------------------------


async def test_a_post_with_a_sha256_reports_it_verified(blobs: BlobHarness) -> None:
    k, data = key(), b"checked bytes"
    digest = hashlib.sha256(data).hexdigest()
    post = blobs.store.presign_post(
        k, size=len(data), content_type="text/plain", sha256=digest, expires_in=TTL
    )
    blobs.post(post, data)
    info = await blobs.store.head(k)
    assert info is not None and info.checksum == Checksum.full_object(digest)


async def test_parts_sent_with_their_sha256s_give_the_composite(blobs: BlobHarness) -> None:
    k = key()
    part_size = 5 * MiB
    data = os.urandom(part_size + 4321)
    chunks = [data[:part_size], data[part_size:]]
    shas = [hashlib.sha256(c).hexdigest() for c in chunks]
    multipart_id = await blobs.store.create_multipart(
        k, content_type="application/octet-stream", part_checksums=True
    )
    etags = [
        blobs.put_part(
            blobs.store.presign_part(k, multipart_id, n, len(c), TTL, sha256=shas[n - 1]),
            c,
            sha256=shas[n - 1],
        )
        for n, c in enumerate(chunks, start=1)
    ]
    await blobs.store.complete_multipart(
        k, multipart_id, [CompletedPart(n, etags[n - 1], shas[n - 1]) for n in (1, 2)]
    )
    info = await blobs.store.head(k)
    assert info is not None and info.checksum is not None
    assert info.checksum.type == "composite"
    assert info.checksum.value == composite_value(shas)
    body, _ = blobs.get(blobs.store.presign_get(k, filename="x.bin", expires_in=TTL))
    assert body == data


async def test_a_part_that_does_not_match_its_signed_sha256_is_refused(
    blobs: BlobHarness,
) -> None:
    k = key()
    sent, corrupted = b"0123456789", b"0123456788"
    digest = hashlib.sha256(sent).hexdigest()
    multipart_id = await blobs.store.create_multipart(
        k, content_type="application/octet-stream", part_checksums=True
    )
    url = blobs.store.presign_part(k, multipart_id, 1, len(sent), TTL, sha256=digest)
    with pytest.raises(Refused):
        blobs.put_part(url, corrupted, sha256=digest)
    with pytest.raises(Refused):  # the signed checksum cannot be left out
        blobs.put_part(url, sent)
    assert await blobs.store.list_parts(k, multipart_id) == []
    await blobs.store.abort_multipart(k, multipart_id)


async def test_completing_with_another_part_sha256_is_invalid_input(blobs: BlobHarness) -> None:
    k = key()
    data = b"0123456789"
    digest = hashlib.sha256(data).hexdigest()
    multipart_id = await blobs.store.create_multipart(
        k, content_type="application/octet-stream", part_checksums=True
    )
    url = blobs.store.presign_part(k, multipart_id, 1, len(data), TTL, sha256=digest)
    etag = blobs.put_part(url, data, sha256=digest)
    other = hashlib.sha256(b"something else").hexdigest()
    with pytest.raises(InvalidInput):
        await blobs.store.complete_multipart(k, multipart_id, [CompletedPart(1, etag, other)])
    assert await blobs.store.head(k) is None
    await blobs.store.abort_multipart(k, multipart_id)
