"""Signing in to `filestore serve` with nothing but an e-mail address, and what it tells clients
about itself (`GET /auth/config`, the web app's `config.json`), over real HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import jwt
import pytest

from filestore.entrypoints.local.server import LocalServer, ServeOptions
from tests.e2e.journeys import api, stored, upload_bytes
from tests.support.local_server import LocalServerProcess

pytestmark = pytest.mark.e2e


def test_signing_in_with_an_email_is_the_account_filestore_token_gives(
    local_server: LocalServerProcess,
) -> None:
    answer = httpx.post(f"{local_server.url}/_local/sign-in", json={"email": "Signin@Example.com"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["token_type"] == "Bearer"
    assert body["email"] == "Signin@Example.com"
    assert 0 < body["expires_in"] <= 24 * 3600
    me = httpx.get(
        f"{local_server.url}/me", headers={"authorization": f"Bearer {body['id_token']}"}
    )
    assert me.status_code == 200, me.text
    assert me.json()["email"] == "Signin@Example.com"
    issued = local_server.token("signin@example.com")
    assert jwt.decode(issued, options={"verify_signature": False})["sub"] == body["sub"]
    claims = jwt.decode(body["id_token"], options={"verify_signature": False})
    assert claims["sub"] == body["sub"]


@pytest.mark.parametrize(
    "body", [b"", b"{}", b'{"email": "no-at-sign"}', b'{"email": 5}', b"[", b'{"email": "a@b"}']
)
def test_a_sign_in_without_a_valid_email_is_a_400_that_says_what_to_send(
    local_server: LocalServerProcess, body: bytes
) -> None:
    answer = httpx.post(f"{local_server.url}/_local/sign-in", content=body)
    assert answer.status_code == 400
    assert "e-mail" in answer.json()["message"]


def test_auth_config_points_at_the_sign_in_form(local_server: LocalServerProcess) -> None:
    answer = httpx.get(f"{local_server.url}/auth/config")
    assert answer.status_code == 200
    assert answer.json() == {"kind": "local", "sign_in_url": f"{local_server.url}/_local/sign-in"}


def test_the_web_apps_config_names_this_server(local_server: LocalServerProcess) -> None:
    answer = httpx.get(f"{local_server.url}/config.json")
    assert answer.status_code == 200
    assert answer.headers["cache-control"] == "no-cache"
    ws_url = "ws" + local_server.url.removeprefix("http") + "/ws"
    assert answer.json() == {
        "api_url": "",
        "ws_url": ws_url,
        "auth": {"kind": "local", "sign_in_url": f"{local_server.url}/_local/sign-in"},
    }


def test_a_share_link_leads_to_the_web_apps_share_page(local_server: LocalServerProcess) -> None:
    with api(local_server, local_server.token("sharer@example.com")) as client:
        upload = stored(client, upload_bytes(client, "shared.txt", b"shared bytes")["id"])
        answer = client.post(f"/uploads/{upload['id']}/shares", json={"expires_in": 60})
    assert answer.status_code == 201, answer.text
    share = answer.json()
    assert share["url"] == f"{local_server.url}/s/{share['token']}"


@pytest.fixture
async def beyond_loopback(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    # Listening on every address (the socket is never opened here: requests go in-process,
    # through the server's own ASGI app after its real start-up).
    server = LocalServer(ServeOptions(host="0.0.0.0", data_dir=tmp_path / "data"))
    server.prepare()
    try:
        transport = httpx.ASGITransport(app=server.app())
        async with httpx.AsyncClient(transport=transport, base_url="http://10.0.0.5") as client:
            yield client
    finally:
        server.close()


async def test_beyond_loopback_there_is_no_password_free_sign_in(
    beyond_loopback: httpx.AsyncClient,
) -> None:
    answer = await beyond_loopback.post("/_local/sign-in", json={"email": "eve@example.com"})
    assert answer.status_code == 404
    assert "id_token" not in answer.text
    config = await beyond_loopback.get("/config.json")
    assert config.json()["auth"] == {"kind": "local", "sign_in_url": None}


def test_open_sign_in_offers_it_anywhere() -> None:
    assert not ServeOptions(host="0.0.0.0").offers_sign_in
    assert ServeOptions(host="0.0.0.0", open_sign_in=True).offers_sign_in
    assert ServeOptions(host="127.0.0.1").offers_sign_in
    assert ServeOptions(host="::1").offers_sign_in
