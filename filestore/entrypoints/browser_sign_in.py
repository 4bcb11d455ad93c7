"""Signing in through a browser, as `gh auth login --web` does: OAuth 2.0 authorization code
with PKCE (S256) against Cognito's managed login, the answer caught by a listener on the
loopback redirect URI (`http://localhost:53682/callback`), or pasted at a prompt where no
browser can be opened here (`--no-browser`, or no display).

The `state` sent with the request must come back unchanged, so an answer meant for another
sign-in (or forged by a web page) is refused; the code is useless without the verifier, which
never leaves this process until it is exchanged at the token endpoint.
"""

from __future__ import annotations

import base64
import hashlib
import html
import os
import secrets
import sys
import threading
import webbrowser
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any, TextIO
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from filestore.entrypoints.client_errors import ClientError
from filestore.entrypoints.sign_in import NOT_SIGNED_IN, exchange_code
from filestore.entrypoints.user_config import Profile

DEFAULT_REDIRECT_URI = "http://localhost:53682/callback"
WAIT_SECONDS = 300.0  # how long the listener waits for the browser to come back


@dataclass(frozen=True)
class Pkce:
    """A PKCE pair: the secret verifier and its S256 challenge (RFC 7636)."""

    verifier: str
    challenge: str

    @classmethod
    def new(cls) -> Pkce:
        verifier = secrets.token_urlsafe(64)  # 86 unreserved characters (43 to 128 allowed)
        digest = hashlib.sha256(verifier.encode("ascii")).digest()
        return cls(verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii"))


def sign_in_with_browser(
    http: httpx.Client,
    config: dict[str, Any],
    *,
    use_browser: bool,
    prompt: Callable[[str], str] | None = None,
    out: TextIO | None = None,
    wait_seconds: float = WAIT_SECONDS,
) -> Profile:
    """Run the whole flow against the deployment's `config` (from `GET /auth/config`); the
    profile's tokens. `prompt` reads a pasted answer (default `input`); messages go to `out`
    (default stderr)."""
    out = out or sys.stderr
    if not all(config.get(key) for key in ("authorize_url", "token_url", "client_id")):
        raise ClientError(
            "this deployment has no sign-in page (its Cognito domain is not configured); "
            "ask its operator, or pass a token with --token or FILESTORE_TOKEN"
        )
    redirect_uri = str(config.get("cli_redirect_uri") or DEFAULT_REDIRECT_URI)
    pkce, state = Pkce.new(), secrets.token_urlsafe(24)
    url = authorize_url(config, redirect_uri, pkce, state)
    listener = _listen(redirect_uri, state, out) if use_browser and browser_available() else None
    if listener is None:
        code = _pasted_code(url, redirect_uri, state, prompt or input, out)
    else:
        with listener:
            print(f"Opening your browser to sign in. If it does not open, visit:\n  {url}",
                  file=out)  # fmt: skip
            if not webbrowser.open(url):
                print("(no browser could be started: open the address above yourself)", file=out)
            print(f"Waiting for the browser to come back to {redirect_uri} …", file=out)
            code = listener.wait(wait_seconds)
    return exchange_code(http, config, code, pkce.verifier, redirect_uri)


def authorize_url(config: dict[str, Any], redirect_uri: str, pkce: Pkce, state: str) -> str:
    """The managed login page's address for this sign-in."""
    query = urlencode({
        "response_type": "code", "client_id": config["client_id"], "redirect_uri": redirect_uri,
        "scope": " ".join(config.get("scopes") or ["openid", "email", "profile"]),
        "state": state, "code_challenge": pkce.challenge, "code_challenge_method": "S256",
    })  # fmt: skip
    separator = "&" if "?" in str(config["authorize_url"]) else "?"
    return f"{config['authorize_url']}{separator}{query}"


def browser_available() -> bool:
    """Whether a browser can be opened here: one named in `BROWSER`, a desktop (macOS,
    Windows), or a graphical desktop on Linux (not, say, ssh into a server)."""
    if os.environ.get("BROWSER"):
        return True
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def code_from_answer(answer: dict[str, list[str]], state: str) -> str:
    """The code in the redirect's query, once its `state` is checked; else a ClientError."""
    if answer.get("state", [""])[0] != state:
        raise ClientError(
            "the sign-in answer is not for this sign-in (its state does not match); "
            "run `filestore login` again",
            status=NOT_SIGNED_IN,
        )
    if answer.get("error"):
        reason = answer.get("error_description", answer["error"])[0]
        raise ClientError(f"the sign-in was refused: {reason}", status=NOT_SIGNED_IN)
    code = answer.get("code", [""])[0]
    if not code:
        raise ClientError("the sign-in answer has no code", status=NOT_SIGNED_IN)
    return code


def _pasted_code(
    url: str, redirect_uri: str, state: str, prompt: Callable[[str], str], out: TextIO
) -> str:
    print(f"Open this address in a browser (on any machine) and sign in:\n  {url}\n"
          f"The browser then goes to {redirect_uri}?code=…, which may not load here: copy "
          "that whole address from its address bar and paste it below.", file=out)  # fmt: skip
    try:
        pasted = prompt("Address (or code): ").strip()
    except EOFError:
        pasted = ""
    if not pasted:
        raise ClientError("nothing was pasted; run `filestore login` again", status=NOT_SIGNED_IN)
    if "?" in pasted or "=" in pasted:
        query = urlsplit(pasted).query if "?" in pasted else pasted
        return code_from_answer(parse_qs(query), state)
    # A bare code: there is no state to check, but it is worthless without our verifier.
    return pasted


@dataclass
class _Outcome:
    code: str = ""
    error: ClientError | None = None
    done: threading.Event = field(default_factory=threading.Event)


class _Listener:
    """One-shot HTTP listeners on the redirect URI's loopback port (IPv4 and, where there is
    one, IPv6: browsers may resolve `localhost` to either)."""

    def __init__(self, servers: list[HTTPServer], outcome: _Outcome) -> None:
        self.servers, self.outcome = servers, outcome
        self.threads = [
            threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                             daemon=True)
            for server in servers
        ]  # fmt: skip

    def __enter__(self) -> _Listener:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        for server in self.servers:
            server.shutdown()
            server.server_close()

    def wait(self, seconds: float) -> str:
        if not self.outcome.done.wait(seconds):
            raise ClientError(
                f"no answer from the browser in {seconds:.0f} s; run `filestore login` again "
                "(or `filestore login --no-browser` to paste the answer)",
                status=NOT_SIGNED_IN,
            )
        if self.outcome.error is not None:
            raise self.outcome.error
        return self.outcome.code


def _listen(redirect_uri: str, state: str, out: TextIO) -> _Listener | None:
    parts = urlsplit(redirect_uri)
    if parts.scheme != "http" or parts.hostname not in ("localhost", "127.0.0.1", "::1"):
        print(f"the redirect URI {redirect_uri} is not on this machine: paste the answer instead",
              file=out)  # fmt: skip
        return None
    outcome = _Outcome()
    handler = _handler(parts.path or "/", state, outcome)
    hosts = ["::1", "127.0.0.1"] if parts.hostname == "localhost" else [parts.hostname]
    servers: list[HTTPServer] = []
    for host in hosts:
        try:
            servers.append(_server(host, parts.port or 80, handler))
        except OSError:
            continue
    if not servers:
        print(f"cannot listen on {redirect_uri} (is another sign-in running?): paste the "
              "answer instead", file=out)  # fmt: skip
        return None
    return _Listener(servers, outcome)


def _server(host: str, port: int, handler: type[BaseHTTPRequestHandler]) -> HTTPServer:
    import socket

    class Server(HTTPServer):
        address_family = socket.AF_INET6 if ":" in host else socket.AF_INET

    return Server((host, port), handler)


def _handler(path: str, state: str, outcome: _Outcome) -> type[BaseHTTPRequestHandler]:
    class Callback(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            request = urlsplit(self.path)
            if request.path != path or outcome.done.is_set():
                self._page(404, "Not found", "This is not a sign-in answer.")
                return
            try:
                outcome.code = code_from_answer(parse_qs(request.query), state)
            except ClientError as error:
                outcome.error = error
                self._page(400, "Sign-in failed", f"{error}.")
            else:
                self._page(200, "Signed in", "You are signed in to filestore. You can close "
                           "this tab and go back to the terminal.")  # fmt: skip
            outcome.done.set()

        def _page(self, status: int, title: str, text: str) -> None:
            body = (
                f"<!doctype html><html lang=en><meta charset=utf-8><title>{title}</title>"
                f"<body style='font-family:sans-serif;margin:3em'><h1>{title}</h1>"
                f"<p>{html.escape(text)}</p></body></html>"
            ).encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # the code is in the request line: keep it out of the terminal

    return Callback
