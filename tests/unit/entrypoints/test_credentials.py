"""Which endpoint and token a command uses: flags, then the environment, then the profile, then
the defaults; a profile's sign-in renewed by itself near its expiry (no sockets: the sign-in
endpoints are an httpx mock)."""

from __future__ import annotations

import argparse
import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from filestore.entrypoints.client_errors import ClientError
from filestore.entrypoints.credentials import (
    GivenToken,
    NoSignIn,
    StoredSignIn,
    resolve,
    token_provider,
)
from filestore.entrypoints.user_config import load_profiles, update_profile
from tests.support.fake_oauth import unsigned_jwt

LOCAL = "http://127.0.0.1:8000"


def _args(**given: str) -> argparse.Namespace:
    return argparse.Namespace(**{"endpoint": None, "token": None, "profile": None, **given})


def _token(seconds: int, email: str = "ada@example.com") -> str:
    return unsigned_jwt({"sub": "s", "email": email, "exp": int(time.time()) + seconds})


def _iso(seconds: int) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat(timespec="seconds")


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"XDG_CONFIG_HOME": str(tmp_path)}


def _store(env: dict[str, str], name: str, **profile: str) -> Path:
    path = Path(env["XDG_CONFIG_HOME"]) / "filestore" / "config.toml"
    update_profile(path, name, lambda old: dict(profile))
    return path


def test_nothing_anywhere_is_the_local_server_and_no_sign_in(env: dict[str, str]) -> None:
    resolved = resolve(_args(), env)
    assert (resolved.profile, resolved.profile_from) == ("default", "default")
    assert (resolved.endpoint, resolved.endpoint_from) == (LOCAL, "default")
    assert resolved.bearer_from is None
    with pytest.raises(ClientError, match=r"not signed in to .*run `filestore login`") as error:
        token_provider(resolved)()
    assert error.value.status == 401


def test_flags_win_over_the_environment_which_wins_over_the_profile(env: dict[str, str]) -> None:
    _store(env, "default", endpoint="http://stored", id_token="stored-token",
           expires_at=_iso(3600))  # fmt: skip
    _store(env, "work", endpoint="http://work", id_token="work-token", expires_at=_iso(3600))

    stored = resolve(_args(), env)
    assert (stored.endpoint, stored.endpoint_from, stored.bearer_from) == (
        "http://stored", "profile", "profile")  # fmt: skip
    assert token_provider(stored)() == "stored-token"

    env |= {"FILESTORE_ENDPOINT": "http://env/", "FILESTORE_TOKEN": "env-token",
            "FILESTORE_PROFILE": "work"}  # fmt: skip
    from_env = resolve(_args(), env)
    assert (from_env.profile, from_env.profile_from) == ("work", "FILESTORE_PROFILE")
    assert (from_env.endpoint, from_env.endpoint_from) == ("http://env", "FILESTORE_ENDPOINT")
    assert (from_env.given_token, from_env.bearer_from) == ("env-token", "FILESTORE_TOKEN")

    flags = resolve(_args(endpoint="http://flag", token="flag-token", profile="default"), env)
    assert (flags.profile, flags.profile_from) == ("default", "--profile")
    assert (flags.endpoint, flags.endpoint_from) == ("http://flag", "--endpoint")
    assert (flags.given_token, flags.bearer_from) == ("flag-token", "--token")
    assert token_provider(flags)() == "flag-token"


def test_a_profiles_token_is_never_sent_to_another_endpoint(env: dict[str, str]) -> None:
    _store(env, "default", endpoint="http://mine", id_token="secret", expires_at=_iso(3600))
    elsewhere = resolve(_args(endpoint="http://someone-else"), env)
    assert elsewhere.bearer_from is None
    provider = token_provider(elsewhere)
    assert isinstance(provider, NoSignIn)
    with pytest.raises(ClientError, match=r"signed in to http://mine, not http://someone-else"):
        provider()
    assert "--endpoint http://someone-else" in elsewhere.login_command()


def test_the_login_command_names_the_profile() -> None:
    resolved = resolve(_args(profile="work"), {"XDG_CONFIG_HOME": "/nonexistent-config"})
    assert resolved.login_command() == "filestore login --profile work"


def test_an_expired_token_from_the_environment_says_it_expired(env: dict[str, str]) -> None:
    env["FILESTORE_TOKEN"] = _token(-120)
    provider = token_provider(resolve(_args(), env))
    assert isinstance(provider, GivenToken)
    with pytest.raises(ClientError, match=r"token from FILESTORE_TOKEN expired at .*ago") as error:
        provider()
    assert error.value.status == 401
    # A token that is not a JWT has no expiry to check: the API judges it.
    assert token_provider(resolve(_args(token="opaque"), env))() == "opaque"


class SignInEndpoints:
    """The local sign-in and a Cognito token endpoint, as an httpx transport."""

    def __init__(self, *, refuse: bool = False, rotate: bool = True) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.refuse, self.rotate = refuse, rotate

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/_local/sign-in":
            body = json.loads(request.content)
            self.calls.append(("sign-in", body))
            if self.refuse:
                return httpx.Response(404, json={"message": "Not Found"})
            return httpx.Response(200, json={"id_token": _token(3600, body["email"]),
                                             "email": body["email"], "sub": "s"})  # fmt: skip
        form = dict(httpx.QueryParams(request.content.decode()))
        self.calls.append(("token", form))
        if self.refuse:
            return httpx.Response(400, json={"error": "invalid_grant"})
        answer = {"id_token": _token(3600), "access_token": "a", "expires_in": 3600}
        return httpx.Response(200, json=answer | ({"refresh_token": "r2"} if self.rotate else {}))


def _stored_sign_in(env: dict[str, str], endpoints: SignInEndpoints) -> StoredSignIn:
    provider = token_provider(resolve(_args(), env))
    assert isinstance(provider, StoredSignIn)
    provider.transport = httpx.MockTransport(endpoints)
    return provider


def test_a_local_sign_in_near_expiry_signs_in_again_with_the_same_email(
    env: dict[str, str],
) -> None:
    path = _store(env, "default", endpoint=LOCAL, kind="local", email="ada@example.com",
                  sign_in_url=f"{LOCAL}/_local/sign-in", id_token="old",
                  expires_at=_iso(120))  # fmt: skip
    endpoints = SignInEndpoints()
    provider = _stored_sign_in(env, endpoints)

    token = provider()
    assert token != "old"
    assert endpoints.calls == [("sign-in", {"email": "ada@example.com"})]
    assert load_profiles(path)["default"]["id_token"] == token  # saved for the next command
    assert provider() == token  # and not renewed again while it is fresh
    assert len(endpoints.calls) == 1


def test_a_fresh_token_is_used_without_asking_anyone(env: dict[str, str]) -> None:
    _store(env, "default", endpoint=LOCAL, kind="local", email="a@b.c",
           sign_in_url=f"{LOCAL}/_local/sign-in", id_token="fresh",
           expires_at=_iso(3600))  # fmt: skip
    endpoints = SignInEndpoints()
    assert _stored_sign_in(env, endpoints)() == "fresh"
    assert endpoints.calls == []


@pytest.mark.parametrize("rotate", [True, False])
def test_cognito_refreshes_and_keeps_a_rotated_refresh_token(
    env: dict[str, str], rotate: bool
) -> None:
    path = _store(env, "default", endpoint="https://api", kind="cognito", client_id="c",
                  token_url="https://login/oauth2/token", id_token="old", refresh_token="r1",
                  expires_at=_iso(60))  # fmt: skip
    endpoints = SignInEndpoints(rotate=rotate)
    token = _stored_sign_in(env, endpoints)()
    assert token != "old"
    assert endpoints.calls == [("token", {"grant_type": "refresh_token", "client_id": "c",
                                          "refresh_token": "r1"})]  # fmt: skip
    saved = load_profiles(path)["default"]
    assert saved["id_token"] == token
    assert saved["refresh_token"] == ("r2" if rotate else "r1")
    assert saved["email"] == "ada@example.com"


def test_a_refused_renewal_uses_the_token_while_it_lasts_then_says_it_expired(
    env: dict[str, str],
) -> None:
    _store(env, "default", endpoint="https://api", kind="cognito", client_id="c",
           token_url="https://login/oauth2/token", id_token="still-good", refresh_token="r1",
           expires_at=_iso(60))  # fmt: skip
    assert _stored_sign_in(env, SignInEndpoints(refuse=True))() == "still-good"

    _store(env, "default", endpoint="https://api", kind="cognito", client_id="c",
           token_url="https://login/oauth2/token", id_token="gone", refresh_token="r1",
           expires_at=_iso(-60))  # fmt: skip
    with pytest.raises(ClientError, match=r"sign-in to https://api expired at .* sign in again "
                       r"with `filestore login`") as error:  # fmt: skip
        _stored_sign_in(env, SignInEndpoints(refuse=True))()
    assert error.value.status == 401


def test_a_renewal_done_by_another_command_meanwhile_is_used(env: dict[str, str]) -> None:
    path = _store(env, "default", endpoint="https://api", kind="cognito", client_id="c",
                  token_url="https://login/oauth2/token", id_token="old", refresh_token="r1",
                  expires_at=_iso(60))  # fmt: skip
    endpoints = SignInEndpoints()
    provider = _stored_sign_in(env, endpoints)
    update_profile(path, "default", lambda old: {**(old or {}), "id_token": "theirs",
                                                 "expires_at": _iso(3600)})  # fmt: skip
    assert provider() == "theirs"
    assert endpoints.calls == []
