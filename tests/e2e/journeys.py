"""What a person does with the local server, over real HTTP and WebSocket, for every back-end.

Waits poll with a deadline (how long things take is the benchmark's business, not a test's).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import websockets

from tests.support.local_server import LocalServerProcess

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


def emails_to(server: LocalServerProcess, address: str, mentioning: str) -> list[Any]:
    inbox = f"{server.url}/_local/emails"
    items = httpx.get(inbox, headers={"accept": "application/json"}, timeout=30).json()["items"]
    return [m for m in items if address in m["to"] and mentioning in (m["text"] or "")]


async def _upload_watching_the_socket(
    server: LocalServerProcess, token: str, client: httpx.Client, data: bytes
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Upload with a WebSocket open; the upload and the first notification it received."""
    ws_url = server.url.replace("http", "ws") + f"/ws?token={token}"
    async with websockets.connect(ws_url) as socket:
        await socket.send(json.dumps({"action": "ping"}))
        assert json.loads(await asyncio.wait_for(socket.recv(), DEADLINE)) == {"type": "pong"}
        upload = await asyncio.to_thread(upload_bytes, client, "notes.txt", data)
        got = await asyncio.to_thread(stored, client, upload["id"])
        assert got["size"] == len(data)
        message = json.loads(await asyncio.wait_for(socket.recv(), DEADLINE))
    return upload, message


def the_round_trip(server: LocalServerProcess, who: str) -> None:
    """Token, upload (stored through the S3 event), WebSocket message, e-mail, list, rename,
    download, share, someone else sees nothing, delete. `who` makes the users' e-mails unique."""
    address = f"{who}@example.com"
    token = server.token(address)
    owner = api(server, token)
    assert owner.patch("/me", json={"notify_email": True}).json()["notify_email"] is True
    data = os.urandom(64 * 1024)

    upload, message = asyncio.run(_upload_watching_the_socket(server, token, owner, data))
    assert message["type"] == "upload.stored"
    assert message["upload"]["id"] == upload["id"]
    wait_for(lambda: emails_to(server, address, upload["id"]), "the upload.stored e-mail")

    listed = owner.get("/uploads").json()["items"]
    assert upload["id"] in [item["id"] for item in listed]
    renamed = owner.patch(f"/uploads/{upload['id']}", json={"name": "renamed.txt"}).json()
    assert renamed["name"] == "renamed.txt"
    link = owner.get(f"/uploads/{upload['id']}/download").json()
    download = httpx.get(link["url"])
    assert download.content == data
    assert "renamed.txt" in download.headers["content-disposition"]

    # Long enough for the link to be used on a busy machine (its URL lives no longer than the
    # share), short enough to see it expire within DEADLINE.
    share = owner.post(f"/uploads/{upload['id']}/shares", json={"expires_in": 10}).json()
    public = httpx.get(f"{server.url}/shares/{share['token']}")
    assert public.status_code == 200, public.text
    assert httpx.get(public.json()["url"]).content == data
    wait_for(
        lambda: httpx.get(f"{server.url}/shares/{share['token']}").status_code == 404,
        "the share to expire",
    )

    other = api(server, server.token(f"{who}-other@example.com"))
    assert other.get(f"/uploads/{upload['id']}").status_code == 404
    assert other.get(f"/uploads/{upload['id']}/download").status_code == 404
    assert other.delete(f"/uploads/{upload['id']}").status_code == 404
    assert other.get("/uploads").json()["items"] == []

    assert owner.delete(f"/uploads/{upload['id']}").status_code == 204
    assert owner.get(f"/uploads/{upload['id']}").status_code == 404
    assert upload["id"] not in [i["id"] for i in owner.get("/uploads").json()["items"]]
    # Seconds after it came, still one e-mail: a consumer's retry did not send it again.
    assert len(emails_to(server, address, upload["id"])) == 1
