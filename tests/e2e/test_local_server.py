"""The local server end to end: real HTTP, real WebSocket, the real `filestore` command.

Waits poll with a deadline (how long things take is the benchmark's business, not a test's).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets

from tests.support.local_server import LocalServerProcess, filestore

pytestmark = pytest.mark.e2e

DEADLINE = 30.0


def wait_for(check: Callable[[], Any], what: str, deadline: float = DEADLINE) -> Any:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        result = check()
        if result:
            return result
        time.sleep(0.2)
    pytest.fail(f"gave up waiting for {what}")


def api(server: LocalServerProcess, token: str) -> httpx.Client:
    return httpx.Client(
        base_url=server.url, headers={"authorization": f"Bearer {token}"}, timeout=30
    )


def upload_bytes(client: httpx.Client, name: str, data: bytes) -> dict[str, Any]:
    body = {"name": name, "size": len(data), "content_type": "text/plain",
            "sha256": hashlib.sha256(data).hexdigest()}  # fmt: skip
    answer = client.post("/uploads", json=body)
    assert answer.status_code == 201, answer.text
    ticket = answer.json()
    form = ticket["upload_url"]
    sent = httpx.post(form["url"], data=form["fields"], files={"file": (name, data)})
    assert sent.status_code == 204, sent.text
    upload: dict[str, Any] = ticket["upload"]
    return upload


def stored(client: httpx.Client, upload_id: str) -> dict[str, Any]:
    def check() -> dict[str, Any] | None:
        found: dict[str, Any] = client.get(f"/uploads/{upload_id}").json()
        return found if found["status"] == "stored" else None

    result: dict[str, Any] = wait_for(check, f"upload {upload_id} to be stored")
    return result


async def _upload_watching_the_socket(
    server: LocalServerProcess, token: str, alice: httpx.Client, data: bytes
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Upload with a WebSocket open; the upload and the first notification it received."""
    ws_url = server.url.replace("http", "ws") + f"/ws?token={token}"
    async with websockets.connect(ws_url) as socket:
        await socket.send(json.dumps({"action": "ping"}))
        assert json.loads(await asyncio.wait_for(socket.recv(), DEADLINE)) == {"type": "pong"}
        upload = await asyncio.to_thread(upload_bytes, alice, "notes.txt", data)
        got = await asyncio.to_thread(stored, alice, upload["id"])
        assert got["size"] == len(data)
        message = json.loads(await asyncio.wait_for(socket.recv(), DEADLINE))
    return upload, message


def test_the_round_trip(local_server: LocalServerProcess) -> None:
    token = local_server.token("alice@example.com")
    alice = api(local_server, token)
    assert alice.patch("/me", json={"notify_email": True}).json()["notify_email"] is True
    data = os.urandom(64 * 1024)

    upload, message = asyncio.run(_upload_watching_the_socket(local_server, token, alice, data))
    assert message["type"] == "upload.stored"
    assert message["upload"]["id"] == upload["id"]

    def mail() -> list[Any]:
        items = httpx.get(f"{local_server.url}/_local/emails").json()["items"]
        return [m for m in items if "alice@example.com" in m["to"] and upload["id"] in m["text"]]

    assert wait_for(mail, "the upload.stored e-mail")

    listed = alice.get("/uploads").json()["items"]
    assert upload["id"] in [item["id"] for item in listed]
    renamed = alice.patch(f"/uploads/{upload['id']}", json={"name": "renamed.txt"}).json()
    assert renamed["name"] == "renamed.txt"
    link = alice.get(f"/uploads/{upload['id']}/download").json()
    download = httpx.get(link["url"])
    assert download.content == data
    assert "renamed.txt" in download.headers["content-disposition"]

    share = alice.post(f"/uploads/{upload['id']}/shares", json={"expires_in": 2}).json()
    public = httpx.get(f"{local_server.url}/shares/{share['token']}")
    assert public.status_code == 200, public.text
    assert httpx.get(public.json()["url"]).content == data
    wait_for(
        lambda: httpx.get(f"{local_server.url}/shares/{share['token']}").status_code == 404,
        "the share to expire",
    )

    bob = api(local_server, local_server.token("bob@example.com"))
    assert bob.get(f"/uploads/{upload['id']}").status_code == 404
    assert bob.get(f"/uploads/{upload['id']}/download").status_code == 404
    assert bob.delete(f"/uploads/{upload['id']}").status_code == 404
    assert bob.get("/uploads").json()["items"] == []

    assert alice.delete(f"/uploads/{upload['id']}").status_code == 204
    assert alice.get(f"/uploads/{upload['id']}").status_code == 404
    assert upload["id"] not in [i["id"] for i in alice.get("/uploads").json()["items"]]


def test_without_a_valid_token_the_api_answers_401(local_server: LocalServerProcess) -> None:
    assert httpx.get(f"{local_server.url}/uploads").status_code == 401
    forged = local_server.token("eve@example.com")[:-4] + "AAAA"
    answer = httpx.get(f"{local_server.url}/me", headers={"authorization": f"Bearer {forged}"})
    assert answer.status_code == 401
    assert answer.json() == {"message": "Unauthorized"}


async def test_a_websocket_without_a_valid_token_is_refused(
    local_server: LocalServerProcess,
) -> None:
    url = local_server.url.replace("http", "ws") + "/ws?token=not-a-token"
    with pytest.raises(websockets.InvalidStatus):
        async with websockets.connect(url):
            pass


def test_storage_refuses_what_the_url_does_not_allow(local_server: LocalServerProcess) -> None:
    alice = api(local_server, local_server.token("carol@example.com"))
    ticket = alice.post(
        "/uploads", json={"name": "a.txt", "size": 5, "content_type": "text/plain"}
    ).json()
    form = ticket["upload_url"]
    larger = httpx.post(form["url"], data=form["fields"], files={"file": ("a", b"123456")})
    assert larger.status_code == 400
    assert "<Code>EntityTooLarge</Code>" in larger.text
    tampered = {**form["fields"], "key": form["fields"]["key"] + "x"}
    forged = httpx.post(form["url"], data=tampered, files={"file": ("a", b"12345")})
    assert forged.status_code == 403
    assert alice.get(f"/uploads/{ticket['upload']['id']}").json()["status"] == "pending"


def test_the_cli_round_trip(local_server: LocalServerProcess, tmp_path: Path) -> None:
    env = {"FILESTORE_ENDPOINT": local_server.url,
           "FILESTORE_TOKEN": local_server.token("dave@example.com")}  # fmt: skip
    source = tmp_path / "report.txt"
    source.write_bytes(os.urandom(10_000))
    up = filestore("--json", "upload", str(source), env=env)
    assert up.returncode == 0, up.stderr
    upload_id = json.loads(up.stdout)[0]["id"]

    def listed() -> list[Any]:
        answer = filestore("ls", "--json", env=env)
        assert answer.returncode == 0, answer.stderr
        return [i for i in json.loads(answer.stdout) if i["id"] == upload_id]

    wait_for(listed, "the CLI's upload to be listed")
    moved = filestore("mv", upload_id, "final.txt", env=env)
    assert moved.returncode == 0, moved.stderr
    assert "final.txt" in moved.stdout
    target = tmp_path / "copy.txt"
    down = filestore("download", upload_id, "-o", str(target), env=env)
    assert down.returncode == 0, down.stderr
    assert target.read_bytes() == source.read_bytes()
    shared = filestore("--json", "share", upload_id, "--expires", "1h", env=env)
    assert shared.returncode == 0, shared.stderr
    assert httpx.get(json.loads(shared.stdout)["url"]).status_code == 200
    me = filestore("whoami", env=env)
    assert "dave@example.com" in me.stdout
    assert filestore("rm", upload_id, env=env).returncode == 0
    missing = filestore("download", "not-an-id", env=env)
    assert missing.returncode != 0
    assert "No such upload" in missing.stderr
    assert "Traceback" not in missing.stderr


def test_a_restart_keeps_the_files(local_server: LocalServerProcess) -> None:
    alice = api(local_server, local_server.token("erin@example.com"))
    data = b"kept across restarts"
    upload = upload_bytes(alice, "kept.txt", data)
    stored(alice, upload["id"])
    assert local_server.stop() == 0
    local_server.start()
    alice = api(local_server, local_server.token("erin@example.com"))
    link = alice.get(f"/uploads/{upload['id']}/download").json()
    assert httpx.get(link["url"]).content == data


def test_an_upload_whose_event_was_lost_is_stored_right_after_a_restart(
    local_server: LocalServerProcess,
) -> None:
    """The S3 event of an upload that arrived just before a stop is gone with the in-memory
    queues: the start-up sweep completes it, however young it is."""
    from filestore.adapters.filesystem import FilesystemBlobStore

    alice = api(local_server, local_server.token("fay@example.com"))
    data = b"arrived just before the stop"
    ticket = alice.post(
        "/uploads", json={"name": "late.txt", "size": len(data), "content_type": "text/plain"}
    ).json()
    upload_id = ticket["upload"]["id"]
    key = ticket["upload_url"]["fields"]["key"]
    assert local_server.stop() == 0
    # The bytes land as a POST to the server's storage would write them, but no S3 event is
    # queued: exactly what is left when the process stops before its poller delivers the event.
    store = FilesystemBlobStore.in_data_dir(local_server.data_dir, base_url=local_server.url)
    store.put_object_now(key, data, "text/plain")
    local_server.start()
    alice = api(local_server, local_server.token("fay@example.com"))
    # Right after start (no polling): the catch-up ran before the server answered anything.
    upload = alice.get(f"/uploads/{upload_id}").json()
    assert upload["status"] == "stored", upload
    link = alice.get(f"/uploads/{upload_id}/download").json()
    assert httpx.get(link["url"]).content == data


def test_a_taken_port_is_one_clear_line(local_server: LocalServerProcess, tmp_path: Path) -> None:
    answer = filestore("serve", "--port", str(local_server.port), "--data-dir", str(tmp_path / "d"))
    assert answer.returncode != 0
    assert "in use" in answer.stderr
    assert "Traceback" not in answer.stderr


def test_an_unwritable_data_dir_is_one_clear_line(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    answer = filestore("serve", "--port", "0", "--data-dir", str(blocker / "data"))
    assert answer.returncode != 0
    assert "cannot write to the data dir" in answer.stderr
    assert "Traceback" not in answer.stderr


def test_an_unreachable_database_is_one_clear_line(tmp_path: Path) -> None:
    from tests.support.local_server import free_port

    url = f"mysql+aiomysql://nobody@127.0.0.1:{free_port()}/nothing"
    answer = filestore(
        "serve", "--port", str(free_port()), "--data-dir", str(tmp_path / "d"),
        "--database-url", url,
    )  # fmt: skip
    assert answer.returncode != 0
    assert "cannot reach the database" in answer.stderr
    assert "Traceback" not in answer.stderr
