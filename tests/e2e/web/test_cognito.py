"""Signing in as on AWS, against a stand-in for Cognito's managed login (the browser's requests
to it answered by the test): authorization code with PKCE, the code exchanged once, the token
refreshed before it expires, and sign-out through Cognito's logout endpoint."""

from __future__ import annotations

import base64
import hashlib
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Browser, Route, expect

from tests.support.local_server import LocalServerProcess

pytestmark = pytest.mark.e2e

LOGIN = "https://login.example.test"
CLIENT_ID = "web-client-id"


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def test_authorization_code_with_pkce_refresh_and_sign_out(
    browser: Browser, local_server: LocalServerProcess
) -> None:
    app_url = f"{local_server.url}/"
    # Cognito would issue its own ID token; the local server's API accepts the local issuer's.
    token = local_server.token("web-cognito@example.com")
    config = {
        "api_url": "",
        "ws_url": local_server.url.replace("http", "ws") + "/ws",
        "auth": {
            "kind": "cognito",
            "client_id": CLIENT_ID,
            "authorize_url": f"{LOGIN}/oauth2/authorize",
            "token_url": f"{LOGIN}/oauth2/token",
            "logout_url": f"{LOGIN}/logout",
            "scopes": ["openid", "email", "profile"],
            "redirect_uri": app_url,
            "logout_redirect_uri": app_url,
        },
    }
    seen: dict[str, Any] = {"grants": []}

    def authorize(route: Route) -> None:
        query = parse_qs(urlsplit(route.request.url).query)
        seen["authorize"] = {k: v[0] for k, v in query.items()}
        state = query["state"][0]
        route.fulfill(status=302, headers={"location": f"{app_url}?code=the-code&state={state}"})

    def token_endpoint(route: Route) -> None:
        form = {k: v[0] for k, v in parse_qs(route.request.post_data or "").items()}
        seen["grants"].append(form)
        # A short-lived first token (60 s, under the app's renewal margin) makes it refresh.
        lifetime = 60 if form["grant_type"] == "authorization_code" else 3600
        route.fulfill(
            json={"id_token": token, "refresh_token": "refresh-1", "expires_in": lifetime},
            headers={"access-control-allow-origin": "*"},
        )

    # The published app's policy names the Cognito domain; the local server's names only itself.
    context = browser.new_context(bypass_csp=True)
    try:
        page = context.new_page()
        page.route("**/config.json", lambda route: route.fulfill(json=config))
        page.route(f"{LOGIN}/oauth2/authorize*", authorize)
        page.route(f"{LOGIN}/oauth2/token", token_endpoint)
        page.route(f"{LOGIN}/logout*", lambda route: route.fulfill(body="signed out of Cognito"))
        page.goto(f"{app_url}#/trash")

        expect(page.get_by_text("The trash is empty.")).to_be_visible()  # back where it was
        assert page.url == f"{app_url}#/trash"  # the code is gone from the address
        asked = seen["authorize"]
        assert asked["response_type"] == "code"
        assert asked["client_id"] == CLIENT_ID
        assert asked["redirect_uri"] == app_url
        assert asked["code_challenge_method"] == "S256"
        assert asked["scope"] == "openid email profile"
        first = seen["grants"][0]
        assert first["grant_type"] == "authorization_code"
        assert first["code"] == "the-code"
        assert s256(first["code_verifier"]) == asked["code_challenge"]
        assert first["redirect_uri"] == app_url
        page.wait_for_function("() => document.body.dataset.live === 'open'")
        refreshes = [g for g in seen["grants"] if g["grant_type"] == "refresh_token"]
        assert refreshes and refreshes[0]["refresh_token"] == "refresh-1"
        assert refreshes[0]["client_id"] == CLIENT_ID

        page.get_by_role("button", name="Sign out").click()
        page.wait_for_url(f"{LOGIN}/logout*")
        logout = parse_qs(urlsplit(page.url).query)
        assert logout == {"client_id": [CLIENT_ID], "logout_uri": [app_url]}
    finally:
        context.close()
