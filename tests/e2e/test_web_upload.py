"""The web app's upload engine in a real headless Chromium against the real `filestore serve`:
single-request and multipart uploads arrive verified (the checksums the CLI would declare: the
file's SHA-256 for one request, only its parts' for a multipart upload, declared again with the
file's when the API takes a big file in one request), cancel deletes the upload, a reload
resumes without sending stored parts again, a part damaged on the way is refused with a clear
message, and a busy API or storage is waited out.

The engine is told the test server's multipart threshold (`multipartThreshold`), as the app is
meant to run against a deployment whose threshold it knows (the API's default)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from filestore.domain.checksums import composite_value
from tests.e2e.journeys import api, wait_for
from tests.support.local_server import MULTIPART_THRESHOLD, LocalServerProcess
from tests.support.upload_harness import open_harness, sign_in

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Request, Route

pytestmark = pytest.mark.e2e

MiB = 1024 * 1024
# Multipart on the test server (threshold 1 MiB); parts are 8 MiB: three parts, the last short.
MULTIPART_SIZE = 20 * MiB
assert MULTIPART_SIZE > MULTIPART_THRESHOLD


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()
    opened = context.new_page()
    yield opened
    context.close()


def _file(tmp_path: Path, name: str, size: int) -> tuple[Path, bytes]:
    data = os.urandom(size)
    path = tmp_path / name
    path.write_bytes(data)
    return path, data


def _choose_and_upload(page: Page, path: Path, **options: Any) -> dict[str, Any]:
    page.set_input_files("#file", str(path))
    options = {"multipartThreshold": MULTIPART_THRESHOLD, **options}
    result: dict[str, Any] = page.evaluate("options => window.upload(options)", options)
    return result


def _declarations(page: Page) -> list[dict[str, Any]]:
    """The body of every `POST /uploads` the page sends from now on."""
    declared: list[dict[str, Any]] = []

    def record(request: Request) -> None:
        if request.method == "POST" and urlparse(request.url).path == "/uploads":
            declared.append(request.post_data_json)

    page.on("request", record)
    return declared


def _phases(result: dict[str, Any]) -> list[str]:
    """The progress reports' phases, in order, each once."""
    phases: list[str] = []
    for report in result["reports"]:
        if not phases or phases[-1] != report["phase"]:
            phases.append(report["phase"])
    return phases


def _stored(client: httpx.Client, upload_id: str) -> dict[str, Any]:
    def check() -> dict[str, Any] | None:
        upload: dict[str, Any] = client.get(f"/uploads/{upload_id}").json()
        return upload if upload.get("status") == "stored" else None

    stored: dict[str, Any] = wait_for(check, "the upload to be stored")
    return stored


def _downloaded(client: httpx.Client, upload_id: str) -> bytes:
    link = client.get(f"/uploads/{upload_id}/download").json()
    return httpx.get(link["url"], timeout=60).content


def _composite(data: bytes, part_size: int) -> str:
    parts = [data[i : i + part_size] for i in range(0, len(data), part_size)]
    return composite_value([hashlib.sha256(part).hexdigest() for part in parts])


def _part_number(url: str) -> int | None:
    """The part a storage request's URL is for (None: not a part)."""
    numbers = parse_qs(urlparse(url).query).get("partNumber")
    return int(numbers[0]) if numbers else None


def _part_puts(page: Page) -> list[int]:
    """The part numbers of every part PUT the page sends from now on."""
    sent: list[int] = []

    def record(request: Request) -> None:
        number = _part_number(request.url)
        if request.method == "PUT" and "/_blobs/" in request.url and number is not None:
            sent.append(number)

    page.on("request", record)
    return sent


def test_a_small_file_goes_up_in_one_request_with_its_sha256(
    local_server: LocalServerProcess, page: Page, tmp_path: Path
) -> None:
    token = sign_in(local_server.url, "wu-small@example.com")
    open_harness(page, local_server.url, token)
    path, data = _file(tmp_path, "notes.txt", 100_000)
    declared = _declarations(page)
    result = _choose_and_upload(page, path)
    assert "error" not in result, result
    assert result["upload"]["name"] == "notes.txt"
    assert [(d["sha256"], d["checksum_algorithm"]) for d in declared] == [
        (hashlib.sha256(data).hexdigest(), "sha256")
    ]
    assert _phases(result) == ["checksum", "upload"]
    last = result["reports"][-1]
    assert (last["phase"], last["loaded"], last["total"]) == ("upload", len(data), len(data))
    client = api(local_server, token)
    stored = _stored(client, result["upload"]["id"])
    assert stored["checksum"] == {
        "algorithm": "sha256",
        "type": "full_object",
        "value": hashlib.sha256(data).hexdigest(),
        "part_size": None,
    }
    assert _downloaded(client, stored["id"]) == data


def test_a_large_file_goes_up_in_checksummed_parts_without_hashing_it_whole(
    local_server: LocalServerProcess, page: Page, tmp_path: Path
) -> None:
    token = sign_in(local_server.url, "wu-multi@example.com")
    open_harness(page, local_server.url, token)
    folder = api(local_server, token).post("/folders", json={"name": "big"}).json()
    path, data = _file(tmp_path, "big.bin", MULTIPART_SIZE)
    puts = _part_puts(page)
    declared = _declarations(page)
    result = _choose_and_upload(page, path, folderId=folder["id"])
    assert "error" not in result, result
    upload = result["upload"]
    assert (upload["status"], upload["folder_id"]) == ("stored", folder["id"])
    assert sorted(puts) == [1, 2, 3]
    # Per-part SHA-256s declared, the whole file's not (nor hashed: no checksum phase).
    assert [(d.get("sha256"), d["checksum_algorithm"]) for d in declared] == [(None, "sha256")]
    assert _phases(result) == ["upload"]
    checksum = upload["checksum"]
    assert checksum["type"] == "composite"
    assert checksum["value"] == _composite(data, int(checksum["part_size"]))
    assert _downloaded(api(local_server, token), upload["id"]) == data
    speeds = [r["bytesPerSecond"] for r in result["reports"] if r["phase"] == "upload"]
    assert max(speeds) > 0
    assert page.evaluate("engine.resumableUploads()") == []


def test_a_big_file_the_api_takes_in_one_request_is_declared_again_with_its_sha256(
    local_server: LocalServerProcess, page: Page, tmp_path: Path
) -> None:
    # The engine expects parts above 50 KB; the server sends up to 1 MiB in one request.
    token = sign_in(local_server.url, "wu-fallback@example.com")
    open_harness(page, local_server.url, token)
    path, data = _file(tmp_path, "middling.bin", 100_000)
    declared = _declarations(page)
    deleted: list[str] = []
    page.on(
        "request",
        lambda r: deleted.append(urlparse(r.url).path) if r.method == "DELETE" else None,
    )
    result = _choose_and_upload(page, path, multipartThreshold=50_000)
    assert "error" not in result, result
    sha256 = hashlib.sha256(data).hexdigest()
    assert [(d.get("sha256"), d["checksum_algorithm"]) for d in declared] == [
        (None, "sha256"),
        (sha256, "sha256"),
    ]
    client = api(local_server, token)
    stored = _stored(client, result["upload"]["id"])
    assert stored["checksum"]["value"] == sha256
    assert stored["checksum"]["type"] == "full_object"
    assert _downloaded(client, stored["id"]) == data
    # The first declaration, answered with a form signed without the SHA-256, is deleted.
    assert len(deleted) == 1 and deleted[0] != f"/uploads/{stored['id']}"
    assert [u["id"] for u in client.get("/uploads").json()["items"]] == [stored["id"]]


def test_cancelling_a_multipart_upload_deletes_it(
    local_server: LocalServerProcess, page: Page, tmp_path: Path
) -> None:
    token = sign_in(local_server.url, "wu-cancel@example.com")
    open_harness(page, local_server.url, token)
    path, _ = _file(tmp_path, "cancelled.bin", MULTIPART_SIZE)
    result = _choose_and_upload(page, path, cancelAt=1)
    assert result["error"]["name"] == "AbortError", result
    client = api(local_server, token)
    assert client.get("/uploads", params={"status": "pending"}).json()["items"] == []
    assert client.get("/uploads").json()["items"] == []
    assert page.evaluate("engine.resumableUploads()") == []


def test_a_reload_resumes_without_sending_the_stored_parts_again(
    local_server: LocalServerProcess, page: Page, tmp_path: Path
) -> None:
    token = sign_in(local_server.url, "wu-resume@example.com")
    open_harness(page, local_server.url, token)
    path, data = _file(tmp_path, "resumed.bin", MULTIPART_SIZE)
    # Parts 2 and 3 hang on the way (a connection that died); part 1 arrives. Then the page
    # is reloaded, as a person would after the browser lost its connection.
    held: list[Route] = []

    def hold_all_but_the_first(route: Route) -> None:
        if _part_number(route.request.url) == 1:
            route.continue_()
        else:
            held.append(route)

    page.route("**/_blobs/**", hold_all_but_the_first)
    page.set_input_files("#file", str(path))
    with page.expect_response(lambda r: r.request.method == "PUT" and r.status == 200):
        page.evaluate("t => { window.upload({ multipartThreshold: t }); }", MULTIPART_THRESHOLD)
    wait_for(lambda: len(held) == 2, "parts 2 and 3 to be on their way")
    page.unroute("**/_blobs/**")
    page.reload()
    page.wait_for_selector("body[data-ready=yes]", state="attached")

    remembered = page.evaluate("engine.resumableUploads()")
    assert [(r["name"], r["size"], r["partCount"]) for r in remembered] == [
        ("resumed.bin", MULTIPART_SIZE, 3)
    ]
    puts = _part_puts(page)
    result = _choose_and_upload(page, path)  # the person chooses the same file again
    assert "error" not in result, result
    assert sorted(puts) == [2, 3]
    upload = result["upload"]
    assert (upload["id"], upload["status"]) == (remembered[0]["id"], "stored")
    assert upload["checksum"]["value"] == _composite(data, int(upload["checksum"]["part_size"]))
    assert _downloaded(api(local_server, token), upload["id"]) == data
    assert page.evaluate("engine.resumableUploads()") == []


def test_a_part_damaged_on_the_way_is_refused_with_a_clear_message(
    local_server: LocalServerProcess, page: Page, tmp_path: Path
) -> None:
    token = sign_in(local_server.url, "wu-corrupt@example.com")
    open_harness(page, local_server.url, token)
    path, _ = _file(tmp_path, "damaged.bin", MULTIPART_SIZE)

    def flip_a_bit_of_part_2(route: Route) -> None:
        body = route.request.post_data_buffer
        if _part_number(route.request.url) == 2 and body:
            route.continue_(post_data=bytes([body[0] ^ 1]) + body[1:])
        else:
            route.continue_()

    page.route("**/_blobs/**", flip_a_bit_of_part_2)
    result = _choose_and_upload(page, path)
    assert result["error"]["name"] == "UploadError", result
    message = result["error"]["message"]
    assert "Part 2 of damaged.bin arrived corrupted" in message
    assert "did not match the calculated checksum" in message  # storage's own words


def test_a_busy_api_and_busy_storage_are_waited_out(
    local_server: LocalServerProcess, page: Page, tmp_path: Path
) -> None:
    token = sign_in(local_server.url, "wu-busy@example.com")
    open_harness(page, local_server.url, token)
    path, data = _file(tmp_path, "patient.bin", MULTIPART_SIZE)
    refused: list[str] = []

    def once_busy(route: Route) -> None:
        request = route.request
        what = f"{request.method} {urlparse(request.url).path}"
        if (
            request.method == "POST"
            and urlparse(request.url).path == "/uploads"
            and not any(r.startswith("POST") for r in refused)
        ):
            refused.append(what)  # the service waking up
            route.fulfill(
                status=503,
                headers={"Retry-After": "1", "content-type": "application/json"},
                body='{"message": "The service is starting; try again shortly."}',
            )
        elif request.method == "PUT" and not any(r.startswith("PUT") for r in refused):
            refused.append(what)  # S3 asking to slow down
            route.fulfill(
                status=503,
                headers={"Retry-After": "1", "content-type": "application/xml"},
                body="<Error><Code>SlowDown</Code><Message>Please reduce your request rate."
                "</Message></Error>",
            )
        else:
            route.continue_()

    page.route("**/uploads", once_busy)
    page.route("**/_blobs/**", once_busy)
    result = _choose_and_upload(page, path)
    assert "error" not in result, result
    assert [r.split()[0] for r in refused] == ["POST", "PUT"]
    assert "retry" in [r["waiting"] for r in result["reports"]]
    assert result["upload"]["status"] == "stored"
    assert _downloaded(api(local_server, token), result["upload"]["id"]) == data


def test_a_file_too_large_to_hash_at_once_is_hashed_in_a_worker(
    local_server: LocalServerProcess, page: Page, tmp_path: Path
) -> None:
    # The worker (incremental WebAssembly SHA-256) takes files over 256 MiB; a lower limit sends
    # a smaller one there, with a last chunk shorter than the others.
    open_harness(page, local_server.url, sign_in(local_server.url, "wu-hash@example.com"))
    path, data = _file(tmp_path, "hashed.bin", 9 * MiB + 123)
    page.set_input_files("#file", str(path))
    found = page.evaluate(
        """async () => {
            const { fileSha256 } = await import("/assets/checksums.js");
            const file = document.getElementById("file").files[0];
            const progress = [];
            const sha256 = await fileSha256(file, {
                oneShotLimit: 0, onProgress: (hashed) => progress.push(hashed),
            });
            const stopped = new AbortController();  // cancelled after its first chunk
            const cancelled = await fileSha256(file, {
                oneShotLimit: 0,
                signal: stopped.signal,
                onProgress: () => stopped.abort(new Error("stopped")),
            }).then(() => "hashed", (error) => error.message);
            return { sha256, progress, cancelled };
        }"""
    )
    assert found["sha256"] == hashlib.sha256(data).hexdigest()
    assert found["progress"][-1] == len(data) and len(found["progress"]) == 2
    assert found["cancelled"] == "stopped"


def test_a_cancelled_upload_kept_resumable_can_be_abandoned_later(
    local_server: LocalServerProcess, page: Page, tmp_path: Path
) -> None:
    token = sign_in(local_server.url, "wu-keep@example.com")
    open_harness(page, local_server.url, token)
    path, _ = _file(tmp_path, "kept.bin", MULTIPART_SIZE)
    result = _choose_and_upload(page, path, cancelAt=1, keepOnCancel=True)
    assert result["error"]["name"] == "AbortError", result
    client = api(local_server, token)
    pending = client.get("/uploads", params={"status": "pending"}).json()["items"]
    remembered = page.evaluate("engine.resumableUploads()")
    assert [(u["id"], u["name"]) for u in pending] == [(r["id"], r["name"]) for r in remembered]
    assert [r["name"] for r in remembered] == ["kept.bin"]
    page.evaluate("upload => engine.abandonUpload(api, upload)", remembered[0])
    assert client.get("/uploads", params={"status": "pending"}).json()["items"] == []
    assert page.evaluate("engine.resumableUploads()") == []
