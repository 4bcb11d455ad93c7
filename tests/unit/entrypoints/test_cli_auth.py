"""`filestore auth status|token`, `logout`, and what any command says and exits with when it is
not signed in or the API refuses its token (exit 3). Sign-in itself, over HTTP, is in
tests/e2e/test_cli_sign_in.py."""

from __future__ import annotations

import functools
import json
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from filestore.entrypoints import cli, client
from filestore.entrypoints.user_config import config_path, load_profiles, update_profile
from tests.support.fake_oauth import unsigned_jwt


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli.main(list(args))
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def _sign_in(endpoint: str = "http://127.0.0.1:8000", profile: str = "default") -> Path:
    path = config_path()
    expires = (datetime.now(UTC) + timedelta(hours=2)).isoformat(timespec="seconds")
    update_profile(path, profile, lambda old: {
        "endpoint": endpoint, "kind": "local", "email": "ada@example.com",
        "sign_in_url": f"{endpoint}/_local/sign-in", "id_token": "stored-token",
        "expires_at": expires,
    })  # fmt: skip
    return path


def test_a_command_with_no_sign_in_says_how_and_exits_3(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "ls")
    assert code == 3
    assert "not signed in to http://127.0.0.1:8000: run `filestore login`" in err
    code, _, err = _run(capsys, "--profile", "work", "whoami")
    assert code == 3
    assert "run `filestore login --profile work`" in err


def test_a_refused_token_says_how_to_sign_in_and_exits_3(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    unauthorized = httpx.Response(401, json={"message": "Unauthorized"})
    refusing = httpx.MockTransport(lambda request: unauthorized)
    monkeypatch.setattr(client, "Client", functools.partial(client.Client, transport=refusing))
    code, _, err = _run(capsys, "--token", "garbage", "whoami")
    assert code == 3
    assert "Unauthorized (HTTP 401); the token from --token was refused" in err
    assert "garbage" not in err

    _sign_in()
    code, _, err = _run(capsys, "ls")
    assert code == 3
    assert "the server refused your sign-in; sign in again with `filestore login`" in err


def test_an_expired_token_says_it_expired(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FILESTORE_TOKEN", unsigned_jwt({"exp": int(time.time()) - 600}))
    code, _, err = _run(capsys, "ls")
    assert code == 3
    assert "the token from FILESTORE_TOKEN expired at" in err
    assert "min ago" in err


def test_auth_status_says_who_until_when_and_where_each_value_came_from(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = _run(capsys, "auth", "status")
    assert code == 3
    assert "not signed in: run `filestore login`" in out

    path = _sign_in()
    code, out, _ = _run(capsys, "auth", "status")
    assert code == 0
    assert "profile:  default (the default)" in out
    assert f"endpoint: http://127.0.0.1:8000 (from profile default in {path})" in out
    assert "user:     ada@example.com (local sign-in)" in out
    assert "token:    from profile default" in out and "expires at" in out
    assert "renewed by itself" in out
    assert "stored-token" not in out

    monkeypatch.setenv("FILESTORE_ENDPOINT", "http://127.0.0.1:8000")
    code, out, _ = _run(capsys, "auth", "status", "--json")
    status = json.loads(out)
    assert code == 0
    assert status["endpoint_from"] == "FILESTORE_ENDPOINT"
    assert (status["token_from"], status["email"], status["signed_in"]) == (
        "profile", "ada@example.com", True)  # fmt: skip


def test_auth_token_prints_the_token_for_scripts(capsys: pytest.CaptureFixture[str]) -> None:
    _sign_in()
    assert _run(capsys, "auth", "token") == (0, "stored-token\n", "")
    code, out, err = _run(capsys, "--profile", "other", "auth", "token")
    assert (code, out) == (3, "")
    assert "not signed in" in err


def test_logout_forgets_the_tokens_keeps_the_endpoint_and_leaves_others(
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = _sign_in("http://127.0.0.1:9999")
    _sign_in("http://127.0.0.1:7777", profile="work")
    code, out, _ = _run(capsys, "logout")
    assert code == 0
    assert "Signed out of http://127.0.0.1:9999 (profile default)" in out
    profiles = load_profiles(path)
    assert profiles["default"] == {"endpoint": "http://127.0.0.1:9999"}
    assert profiles["work"]["id_token"] == "stored-token"
    assert oct(os.stat(path).st_mode & 0o777) == "0o600"
    assert _run(capsys, "logout")[:2] == (0, "profile default is not signed in\n")
    assert _run(capsys, "auth", "status")[0] == 3
