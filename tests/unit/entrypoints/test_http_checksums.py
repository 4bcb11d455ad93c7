"""`POST /uploads` with `checksum_algorithm`: a client that sends SHA-256s without declaring the
whole file's (a multipart upload has no full-object SHA-256 to check it against)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from filestore.app import FileStore
from filestore.domain.rules import MiB, UploadPolicy
from filestore.entrypoints.runtime import runtime
from tests.unit.entrypoints.test_http_api import request
from tests.unit.test_checksums import RecordingBlobs


@pytest.fixture
def blobs() -> Iterator[RecordingBlobs]:
    blobs = RecordingBlobs()
    store = FileStore.in_memory(policy=UploadPolicy(multipart_threshold=8 * MiB), blobs=blobs)
    runtime.set_bus(store.bus)
    yield blobs
    runtime.set_bus(None)


def declare(size: int, **fields: Any) -> tuple[int, Any]:
    body = {"name": "big.bin", "size": size, "content_type": "application/octet-stream"}
    status, answer, _ = request("POST", "/uploads", json_body=body | fields)
    return status, answer


def test_checksum_algorithm_asks_for_part_checksums_without_the_files_sha256(
    blobs: RecordingBlobs,
) -> None:
    status, answer = declare(9 * MiB, checksum_algorithm="sha256")
    assert status == 201, answer
    assert answer["multipart"] == {"part_size": 8 * MiB, "part_count": 2}
    status, answer = declare(9 * MiB)  # a v1 client: nothing asked
    assert status == 201, answer
    assert blobs.part_checksums == [True, False]


def test_a_single_request_upload_with_checksum_algorithm_alone_is_checked_against_nothing(
    blobs: RecordingBlobs,
) -> None:
    # Only a declared `sha256` is what a single request is checked against: the form signs none.
    status, answer = declare(5, checksum_algorithm="sha256")
    assert status == 201, answer
    assert "upload_url" in answer
    assert not any("sha256" in name for name in answer["upload_url"]["fields"])


@pytest.mark.parametrize("value", ["md5", "SHA256", "", 1, None])
def test_another_checksum_algorithm_is_422(blobs: RecordingBlobs, value: Any) -> None:
    status, answer = declare(9 * MiB, checksum_algorithm=value)
    if value is None:  # null is the field left out
        assert status == 201, answer
        return
    assert status == 422, answer
    assert answer["details"][0]["loc"] == ["body", "checksum_algorithm"]
    assert blobs.part_checksums == []
