"""Folders and the trash through the local server (SQLite, files on disk, moto): real HTTP and
a real WebSocket that hears every change."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
import websockets

from tests.e2e.journeys import DEADLINE, api, stored, upload_bytes
from tests.support.local_server import LocalServerProcess

pytestmark = pytest.mark.e2e

# What the socket must hear; messages of different events may arrive in any order.
EXPECTED = {
    "folder.created",
    "upload.moved",
    "folder.trashed",
    "folder.restored",
    "upload.trashed",
    "upload.deleted",
}


def _upload_into(client: httpx.Client, name: str, folder_id: str | None) -> dict[str, Any]:
    upload = upload_bytes(client, name, b"some bytes")
    got = stored(client, upload["id"])
    if folder_id is not None:
        answer = client.patch(f"/uploads/{upload['id']}", json={"folder_id": folder_id})
        assert answer.status_code == 200, answer.text
        got = answer.json()
    return got


async def _organize(server: LocalServerProcess) -> list[dict[str, Any]]:
    token = server.token("folders@example.com")
    client = api(server, token)
    ws_url = server.url.replace("http", "ws") + f"/ws?token={token}"
    async with websockets.connect(ws_url) as socket:
        docs = client.post("/folders", json={"name": "Docs"}).json()
        year = client.post("/folders", json={"name": "2026", "parent_id": docs["id"]}).json()
        assert client.post("/folders", json={"name": "docs"}).status_code == 409
        file = await asyncio.to_thread(_upload_into, client, "Résumé.txt", year["id"])
        again = await asyncio.to_thread(upload_bytes, client, "résumé.TXT", b"other bytes")
        await asyncio.to_thread(stored, client, again["id"])
        assert (
            client.patch(f"/uploads/{again['id']}", json={"folder_id": year["id"]}).status_code
            == 409
        )

        found = client.get("/uploads", params={"q": "resume", "sort": "name"}).json()["items"]
        assert {u["id"] for u in found} == {file["id"], again["id"]}
        path = client.get(f"/folders/{year['id']}").json()["path"]
        assert [p["name"] for p in path] == ["Docs", "2026"]

        assert client.delete(f"/folders/{docs['id']}").status_code == 204
        assert client.get(f"/uploads/{file['id']}").status_code == 404
        trash = client.get("/trash").json()["items"]
        assert [(i["kind"], i["id"]) for i in trash] == [("folder", docs["id"])]
        restored = client.post(f"/trash/{docs['id']}/restore").json()
        assert restored["id"] == docs["id"]
        assert client.get(f"/uploads/{file['id']}").json()["folder_id"] == year["id"]

        assert client.delete(f"/uploads/{again['id']}").status_code == 204
        assert client.delete("/trash").status_code == 204
        assert client.get("/me").json()["used_bytes"] == len(b"some bytes")

        messages: list[dict[str, Any]] = []
        while not {m["type"] for m in messages} >= EXPECTED:
            messages.append(json.loads(await asyncio.wait_for(socket.recv(), DEADLINE)))
    return messages


def test_folders_and_the_trash_reach_the_websocket(local_server: LocalServerProcess) -> None:
    messages = asyncio.run(_organize(local_server))
    assert {m["type"] for m in messages} >= EXPECTED
    folder_message = next(m for m in messages if m["type"] == "folder.trashed")
    assert set(folder_message) == {"type", "folder"}
    assert folder_message["folder"]["name"] == "Docs"
