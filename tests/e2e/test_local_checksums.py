"""End-to-end checksums on the local server: the CLI's uploads come out verified, a corrupted part
is refused by storage with S3's answer, and a completion with another part SHA-256 fails clearly."""

from __future__ import annotations

import base64
import hashlib
import json
import os
from pathlib import Path

import httpx
import pytest

from filestore.domain.checksums import composite_value
from tests.e2e.journeys import api, wait_for
from tests.support.local_server import MULTIPART_THRESHOLD, LocalServerProcess, filestore

pytestmark = pytest.mark.e2e


def _b64(digest_hex: str) -> str:
    return base64.b64encode(bytes.fromhex(digest_hex)).decode()


def test_the_cli_uploads_arrive_verified(local_server: LocalServerProcess, tmp_path: Path) -> None:
    token = local_server.token("erin@example.com")
    env = {"FILESTORE_ENDPOINT": local_server.url, "FILESTORE_TOKEN": token}
    small, big = tmp_path / "small.bin", tmp_path / "big.bin"
    small.write_bytes(os.urandom(10_000))
    big.write_bytes(os.urandom(MULTIPART_THRESHOLD * 9))  # multipart on this server
    client = api(local_server, token)
    for source, kind in ((small, "full_object"), (big, "composite")):
        up = filestore("--json", "upload", str(source), env=env)
        assert up.returncode == 0, up.stderr
        upload_id = json.loads(up.stdout)[0]["id"]

        def verified(upload_id: str = upload_id) -> dict[str, object] | None:
            upload: dict[str, object] = client.get(f"/uploads/{upload_id}").json()
            return upload if upload["status"] == "stored" else None

        checksum = wait_for(verified, "the upload to be stored")["checksum"]
        assert checksum["type"] == kind
        if kind == "full_object":
            assert checksum["value"] == hashlib.sha256(source.read_bytes()).hexdigest()
        else:
            data, size = source.read_bytes(), int(checksum["part_size"])
            parts = [data[i : i + size] for i in range(0, len(data), size)]
            assert len(parts) > 1
            assert checksum["value"] == composite_value(
                [hashlib.sha256(p).hexdigest() for p in parts]
            )
        target = tmp_path / f"copy-{source.name}"
        down = filestore("download", upload_id, "-o", str(target), env=env)
        assert down.returncode == 0, down.stderr
        assert target.read_bytes() == source.read_bytes()


def test_a_corrupted_part_is_refused_and_named(local_server: LocalServerProcess) -> None:
    client = api(local_server, local_server.token("frank@example.com"))
    data = os.urandom(MULTIPART_THRESHOLD * 9)  # two parts: 8 MiB and 1 MiB
    body = {"name": "p.bin", "size": len(data), "content_type": "application/octet-stream",
            "sha256": hashlib.sha256(data).hexdigest()}  # fmt: skip
    ticket = client.post("/uploads", json=body).json()
    upload_id, part_size = ticket["upload"]["id"], ticket["multipart"]["part_size"]
    first = data[:part_size]
    digest = hashlib.sha256(first).hexdigest()
    signed = client.post(
        f"/uploads/{upload_id}/parts", json={"part_numbers": [1], "sha256": [digest]}
    )
    assert signed.status_code == 200, signed.text
    url = signed.json()["parts"][0]["url"]
    corrupted = bytes([first[0] ^ 1]) + first[1:]
    refused = httpx.put(url, content=corrupted, headers={"x-amz-checksum-sha256": _b64(digest)})
    assert refused.status_code == 400 and "BadDigest" in refused.text
    unsigned = httpx.put(url, content=first)  # the signed checksum cannot be left out
    assert unsigned.status_code == 403
    sent = httpx.put(url, content=first, headers={"x-amz-checksum-sha256": _b64(digest)})
    assert sent.status_code == 200
    # Completing with another SHA-256 for the part (a client that hashed other bytes) fails.
    rest = data[part_size:]
    rest_digest = hashlib.sha256(rest).hexdigest()
    url2 = client.post(
        f"/uploads/{upload_id}/parts", json={"part_numbers": [2], "sha256": [rest_digest]}
    ).json()["parts"][0]["url"]
    etag2 = httpx.put(url2, content=rest, headers={"x-amz-checksum-sha256": _b64(rest_digest)})
    parts = [
        {"part_number": 1, "etag": sent.headers["etag"], "sha256": rest_digest},
        {"part_number": 2, "etag": etag2.headers["etag"], "sha256": rest_digest},
    ]
    done = client.post(f"/uploads/{upload_id}/complete", json={"parts": parts})
    assert done.status_code == 422
    assert "Part 1 is not what was sent" in done.json()["message"]
