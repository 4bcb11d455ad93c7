"""The CLI's uploads against a fake deployment (API and storage over `httpx.MockTransport`): a
multipart upload's parts are each read, hashed and sent once, in parallel, and completed with
their SHA-256s; a resumed one sends only what is missing; a corrupted part fails naming it."""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from filestore.entrypoints import client as client_module
from filestore.entrypoints.client import Client, ClientError

STORAGE = "http://storage.test"
PART_SIZE = 1000


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class FakeDeployment:
    """The API's upload routes and storage's part PUTs, recording what the client sent."""

    def __init__(self, *, single_request: bool = False, arrived: tuple[int, ...] = ()) -> None:
        self.single_request = single_request
        self.declared: list[dict[str, Any]] = []
        self.deleted: list[str] = []
        self.signed: dict[int, str] = {}
        self.puts: list[int] = []
        self.arrived = {n: f'"etag-{n}"' for n in arrived}
        self.completed: list[dict[str, Any]] | None = None
        self.posted_forms = 0
        self.corrupt: set[int] = set()
        self.pending = 0  # the size of the pending upload `up-1` (a resumed one)
        self.on_the_wire = self.most_on_the_wire = 0
        self._lock = threading.Lock()

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        path, method = request.url.path, request.method
        if str(request.url).startswith(STORAGE):
            return self._storage(request)
        if method == "POST" and path == "/uploads":
            body = json.loads(request.content)
            self.declared.append(body)
            upload = {"id": f"up-{len(self.declared)}", "name": body["name"], "size": body["size"]}
            if self.single_request:
                form = {"url": f"{STORAGE}/", "fields": {"key": "k"}}
                return httpx.Response(201, json={"upload": upload, "upload_url": form})
            count = -(-body["size"] // PART_SIZE)
            plan = {"part_size": PART_SIZE, "part_count": count}
            return httpx.Response(201, json={"upload": upload, "multipart": plan})
        if method == "GET" and path == "/uploads/up-1":
            return httpx.Response(200, json={"status": "pending", "size": self.pending})
        if method == "DELETE":
            self.deleted.append(path.rsplit("/", 1)[1])
            return httpx.Response(204)
        if method == "GET" and path.endswith("/parts"):
            parts = [{"part_number": n, "etag": e} for n, e in self.arrived.items()]
            return httpx.Response(200, json={"parts": parts})
        if method == "POST" and path.endswith("/parts"):
            body = json.loads(request.content)
            with self._lock:
                self.signed.update(zip(body["part_numbers"], body["sha256"], strict=True))
            urls = [{"part_number": n, "url": f"{STORAGE}/k?partNumber={n}"}
                    for n in body["part_numbers"]]  # fmt: skip
            return httpx.Response(200, json={"parts": urls})
        if method == "POST" and path.endswith("/complete"):
            self.completed = json.loads(request.content)["parts"]
            upload_id = path.split("/")[2]
            named = {f"up-{n}": body["name"] for n, body in enumerate(self.declared, start=1)}
            answer = {"id": upload_id, "name": named.get(upload_id, "resumed"), "status": "pending"}
            return httpx.Response(200, json=answer)
        return httpx.Response(404, json={"message": f"no route {method} {path}"})

    def _storage(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            self.posted_forms += 1
            return httpx.Response(204)
        number = int(request.url.params["partNumber"])
        sent = base64.b64decode(request.headers["x-amz-checksum-sha256"]).hex()
        with self._lock:
            self.puts.append(number)
            self.on_the_wire += 1
            self.most_on_the_wire = max(self.most_on_the_wire, self.on_the_wire)
        time.sleep(0.005)  # long enough for the other workers to try to send meanwhile
        with self._lock:
            self.on_the_wire -= 1
        if sent != self.signed.get(number) or number in self.corrupt:
            return httpx.Response(400, text="<Error><Code>BadDigest</Code></Error>")
        if sent != _sha256(request.content):
            return httpx.Response(400, text="<Error><Code>BadDigest</Code></Error>")
        return httpx.Response(200, headers={"etag": f'"etag-{number}"'})


@pytest.fixture
def data(tmp_path: Path) -> tuple[Path, bytes]:
    content = bytes(range(256)) * 39  # 9,984 bytes: ten parts, the last one short
    path = tmp_path / "big.bin"
    path.write_bytes(content)
    return path, content


def _client(deployment: FakeDeployment) -> Client:
    return Client(
        "http://api.test",
        "t",
        progress=False,
        transport=deployment.transport(),
        multipart_threshold=100,
    )


def _parts(content: bytes) -> list[bytes]:
    return [content[i : i + PART_SIZE] for i in range(0, len(content), PART_SIZE)]


def test_a_multipart_upload_sends_each_part_once_and_completes_with_their_sha256s(
    data: tuple[Path, bytes],
) -> None:
    path, content = data
    deployment = FakeDeployment()
    _client(deployment).upload(path)
    # No SHA-256 of the whole file (a multipart upload has none to check it against): the
    # client says it sends SHA-256s, and each part's is signed into its URL and sent with it.
    assert deployment.declared[0]["checksum_algorithm"] == "sha256"
    assert "sha256" not in deployment.declared[0]
    assert sorted(deployment.puts) == list(range(1, 11))
    # Parts are read and hashed ahead, but no more than PARALLEL_PARTS are sent at once.
    assert 1 <= deployment.most_on_the_wire <= client_module.PARALLEL_PARTS
    expected = [_sha256(part) for part in _parts(content)]
    assert deployment.signed == dict(enumerate(expected, start=1))
    assert deployment.completed == [
        {"part_number": n, "etag": f'"etag-{n}"', "sha256": sha}
        for n, sha in enumerate(expected, start=1)
    ]


def test_a_resumed_upload_sends_only_the_missing_parts_and_checks_the_others(
    data: tuple[Path, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    path, content = data
    deployment = FakeDeployment(arrived=(1, 2, 7))
    deployment.pending = len(content)
    # The part size the API planned (its rule would make one part of so small a file).
    monkeypatch.setattr(client_module, "_part_size_of", lambda client, upload_id: PART_SIZE)
    _client(deployment).resume(path, "up-1")
    assert sorted(deployment.puts) == [3, 4, 5, 6, 8, 9, 10]
    # The parts that had arrived are completed with the file's SHA-256s too: storage checks
    # them against what it received.
    assert deployment.completed is not None
    assert [p["sha256"] for p in deployment.completed] == [_sha256(p) for p in _parts(content)]


def test_a_corrupted_part_fails_the_upload_naming_the_part_and_how_to_resume(
    data: tuple[Path, bytes],
) -> None:
    path, _ = data
    deployment = FakeDeployment()
    deployment.corrupt = {4}
    with pytest.raises(ClientError) as failed:
        _client(deployment).upload(path)
    assert "part 4 arrived corrupted" in str(failed.value)
    assert "--resume up-1" in str(failed.value)
    assert deployment.completed is None


def test_a_small_file_is_declared_and_posted_with_its_sha256(tmp_path: Path) -> None:
    path = tmp_path / "small.txt"
    path.write_bytes(b"x" * 100)  # the client's threshold: one request expected
    deployment = FakeDeployment(single_request=True)
    _client(deployment).upload(path)
    assert [(d["sha256"], d["checksum_algorithm"]) for d in deployment.declared] == [
        (_sha256(b"x" * 100), "sha256")
    ]
    assert (deployment.posted_forms, deployment.puts, deployment.deleted) == (1, [], [])


def test_a_deployment_that_takes_the_file_in_one_request_gets_it_declared_with_its_sha256(
    data: tuple[Path, bytes],
) -> None:
    path, content = data
    deployment = FakeDeployment(single_request=True)
    _client(deployment).upload(path)
    # Expected in parts, it was offered one request: declared again, with the SHA-256 the form
    # is signed with, and the first declaration dropped.
    assert [d.get("sha256") for d in deployment.declared] == [None, _sha256(content)]
    assert deployment.deleted == ["up-1"]
    assert (deployment.posted_forms, deployment.puts) == (1, [])
