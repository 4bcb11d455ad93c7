"""A small OAuth 2.0 authorization server in the manner of Cognito's managed login, over real
HTTP on loopback, for testing `filestore login` against AWS without AWS; it also plays the
deployment's API for `GET /auth/config` and `GET /me`.

- `GET /oauth2/authorize`: checks the client, the registered redirect URI and the S256
  challenge, then (the user "signs in" at once) redirects to the redirect URI with a code and
  the state it was given;
- `POST /oauth2/token`: `authorization_code` (single use, same client and redirect URI, and
  SHA-256 of the verifier equal to the challenge) and `refresh_token` (rotated: the old one is
  spent); `invalid_grant` otherwise;
- `POST /oauth2/revoke`: revokes a refresh token;
- `GET /me`: 200 for an unexpired ID token it issued, else 401.

ID tokens are unsigned JWTs (the client does not verify them; the API would).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from tests.support.local_server import free_port

CLIENT_ID = "cli-test-client"


def unsigned_jwt(claims: dict[str, Any]) -> str:
    """A JWT with these claims and no valid signature (enough for a client that only reads)."""

    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}.c2ln"


@dataclass
class _Grant:
    challenge: str
    redirect_uri: str
    email: str


@dataclass
class FakeOAuth:
    """The server's state; `url` once started. `id_token_seconds` is how long tokens last."""

    email: str = "ada@example.com"
    id_token_seconds: int = 3600
    rotate_refresh_tokens: bool = True
    redirect_uri: str = field(default_factory=lambda: f"http://localhost:{free_port()}/callback")
    url: str = ""
    config_changes: dict[str, Any] = field(default_factory=dict)  # e.g. no authorize_url
    codes: dict[str, _Grant] = field(default_factory=dict)
    refresh_tokens: dict[str, str] = field(default_factory=dict)  # live token → e-mail
    revoked: list[str] = field(default_factory=list)
    id_tokens: set[str] = field(default_factory=set)
    grants: list[str] = field(default_factory=list)  # every grant_type the token endpoint served
    lock: threading.Lock = field(default_factory=threading.Lock)

    def auth_config(self) -> dict[str, Any]:
        return {
            "kind": "cognito",
            "client_id": CLIENT_ID,
            "authorize_url": f"{self.url}/oauth2/authorize",
            "token_url": f"{self.url}/oauth2/token",
            "logout_url": f"{self.url}/logout",
            "scopes": ["openid", "email", "profile"],
            "cli_redirect_uri": self.redirect_uri,
        } | self.config_changes

    def authorize(self, query: dict[str, str]) -> tuple[int, dict[str, str], Any]:
        if query.get("client_id") != CLIENT_ID or query.get("redirect_uri") != self.redirect_uri:
            return 400, {}, {"error": "invalid_request", "error_description": "client/redirect"}
        if query.get("response_type") != "code" or query.get("code_challenge_method") != "S256":
            return 400, {}, {"error": "invalid_request", "error_description": "PKCE S256 needed"}
        code = secrets.token_urlsafe(16)
        with self.lock:
            self.codes[code] = _Grant(query["code_challenge"], query["redirect_uri"], self.email)
        answer = urlencode({"code": code, "state": query.get("state", "")})
        return 302, {"Location": f"{query['redirect_uri']}?{answer}"}, None

    def token(self, form: dict[str, str]) -> tuple[int, Any]:
        refused = 400, {"error": "invalid_grant"}
        if form.get("client_id") != CLIENT_ID:
            return 400, {"error": "invalid_client"}
        with self.lock:
            self.grants.append(form.get("grant_type", ""))
            if form.get("grant_type") == "authorization_code":
                grant = self.codes.pop(form.get("code", ""), None)  # a code works once
                if grant is None or form.get("redirect_uri") != grant.redirect_uri:
                    return refused
                digest = hashlib.sha256(form.get("code_verifier", "").encode()).digest()
                if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != grant.challenge:
                    return refused
                return 200, self._tokens(grant.email, refresh=True)
            if form.get("grant_type") == "refresh_token":
                email = self.refresh_tokens.get(form.get("refresh_token", ""))
                if email is None:
                    return refused
                if self.rotate_refresh_tokens:
                    del self.refresh_tokens[form["refresh_token"]]
                return 200, self._tokens(email, refresh=self.rotate_refresh_tokens)
        return 400, {"error": "unsupported_grant_type"}

    def revoke(self, form: dict[str, str]) -> int:
        with self.lock:
            if self.refresh_tokens.pop(form.get("token", ""), None) is not None:
                self.revoked.append(form["token"])
        return 200

    def me(self, authorization: str) -> tuple[int, Any]:
        token = authorization.removeprefix("Bearer ")
        claims = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "==")) if (
            token in self.id_tokens) else None  # fmt: skip
        if claims is None or claims["exp"] <= time.time():
            return 401, {"message": "Unauthorized"}
        user = {"id": claims["sub"], "email": claims["email"], "notify_email": False}
        return 200, {**user, "quota_bytes": 1, "used_bytes": 0, "created_at": "2026-01-01"}

    def _tokens(self, email: str, *, refresh: bool) -> dict[str, Any]:
        now = int(time.time())
        id_token = unsigned_jwt({"sub": f"sub-{email}", "email": email, "aud": CLIENT_ID,
                                 "iat": now, "exp": now + self.id_token_seconds,
                                 "jti": secrets.token_hex(4)})  # fmt: skip
        self.id_tokens.add(id_token)
        answer = {"id_token": id_token, "access_token": secrets.token_urlsafe(16),
                  "token_type": "Bearer", "expires_in": self.id_token_seconds}  # fmt: skip
        if refresh:
            answer["refresh_token"] = secrets.token_urlsafe(24)
            self.refresh_tokens[answer["refresh_token"]] = email
        return answer


def _handler(oauth: FakeOAuth) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            if url.path == "/auth/config":
                self._json(200, oauth.auth_config())
            elif url.path == "/oauth2/authorize":
                status, headers, body = oauth.authorize(query)
                self._json(status, body, headers)
            elif url.path == "/me":
                self._json(*oauth.me(self.headers.get("authorization", "")))
            else:
                self._json(404, {"message": "Not Found"})

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            path = urlsplit(self.path).path
            if path == "/oauth2/token":
                self._json(*oauth.token(form))
            elif path == "/oauth2/revoke":
                self._json(oauth.revoke(form), {})
            else:
                self._json(404, {"message": "Not Found"})

        def _json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
            data = b"" if body is None else json.dumps(body).encode()
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@contextlib.contextmanager
def running_fake_oauth() -> Iterator[FakeOAuth]:
    """A running fake authorization server (and API) on a free loopback port."""
    oauth = FakeOAuth()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(oauth))
    oauth.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1})
    thread.start()
    yield oauth
    server.shutdown()
    server.server_close()
    thread.join()
