"""The WebSocket authorizer with its keys fetched over HTTP, as on AWS (no static keys).

A local HTTP server plays the Cognito user pool: its issuer URL is `FILESTORE_COGNITO_ISSUER`
and it publishes a locally generated key set at `{issuer}/.well-known/jwks.json`, counting the
requests. The authorizer builds its verifier from the settings, as the Lambda function does,
so PyJWT's `PyJWKClient` really fetches (urllib, loopback; PyJWT accepts `http://`).
"""

from __future__ import annotations

import json
import time
import types
from collections.abc import Iterator
from typing import Any

import jwt
import jwt.jwks_client
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from filestore.entrypoints import websocket_api
from filestore.entrypoints.auth import InvalidToken, TokenVerifier, jwks_url
from filestore.entrypoints.runtime import runtime
from tests.support.lambda_events import LambdaContext, load_event
from tests.support.local_http import LocalHttpServer

pytestmark = pytest.mark.integration

POOL_PATH = "/us-east-1_LOCALPOOL"
JWKS_PATH = f"{POOL_PATH}/.well-known/jwks.json"
CLIENT_ID = "4example1clientid2abc3def4"
SUB = "7d8ca528-4931-4254-9273-ea5ee853f271"
ROUTE_ARN = load_event("websocket_authorizer")["methodArn"]


@pytest.fixture(scope="module")
def keys() -> dict[str, rsa.RSAPrivateKey]:
    """The pool's signing keys (and one it never publishes)."""
    return {
        kid: rsa.generate_private_key(public_exponent=65537, key_size=2048)
        for kid in ("key-1", "key-2", "stranger")
    }


def jwks(keys: dict[str, rsa.RSAPrivateKey], *kids: str) -> dict[str, Any]:
    published = []
    for kid in kids:
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(keys[kid].public_key()))
        published.append({**jwk, "kid": kid, "alg": "RS256", "use": "sig"})
    return {"keys": published}


@pytest.fixture
def pool(
    keys: dict[str, rsa.RSAPrivateKey], monkeypatch: pytest.MonkeyPatch
) -> Iterator[LocalHttpServer]:
    """The user pool's key endpoint, and the authorizer's settings pointing at it."""
    with LocalHttpServer() as server:
        server.answer(JWKS_PATH, jwks(keys, "key-1"))
        monkeypatch.setenv("FILESTORE_COGNITO_ISSUER", issuer(server))
        monkeypatch.setenv("FILESTORE_COGNITO_CLIENT_ID", CLIENT_ID)
        # As in a new execution environment: settings and verifier built on first use.
        runtime.set_settings(None)
        yield server
        runtime.set_settings(None)


def issuer(server: LocalHttpServer) -> str:
    return f"{server.base_url}{POOL_PATH}"


def id_token(server: LocalHttpServer, key: rsa.RSAPrivateKey, kid: str, **overrides: Any) -> str:
    now = int(time.time())
    claims = {
        "sub": SUB, "email": "alice@example.com", "iss": issuer(server), "aud": CLIENT_ID,
        "token_use": "id", "iat": now, "auth_time": now, "exp": now + 3600,
    }  # fmt: skip
    claims.update(overrides)
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})


def authorize(token: str) -> dict[str, Any]:
    event = load_event("websocket_authorizer")
    event["queryStringParameters"]["token"] = token
    event["multiValueQueryStringParameters"]["token"] = [token]
    return websocket_api.authorizer(event, LambdaContext())


def effect(policy: dict[str, Any]) -> str:
    [statement] = policy["policyDocument"]["Statement"]
    assert statement["Resource"] == ROUTE_ARN
    return str(statement["Effect"])


class Clock:
    """PyJWT's monotonic clock for its refresh cooldown, moved by the test instead of waited."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def jwks_clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    # Only the JWKS client's module sees it: nothing else in the process is affected.
    monkeypatch.setattr(jwt.jwks_client, "time", types.SimpleNamespace(monotonic=clock.monotonic))
    return clock


def test_the_key_set_url_is_the_issuers_well_known_jwks() -> None:
    pool = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123"
    assert jwks_url(pool) == f"{pool}/.well-known/jwks.json"
    assert jwks_url(pool + "/") == f"{pool}/.well-known/jwks.json"


def test_a_valid_token_is_allowed_and_the_keys_are_fetched_once_for_many_invocations(
    pool: LocalHttpServer, keys: dict[str, rsa.RSAPrivateKey]
) -> None:
    for _ in range(3):  # warm invocations of one execution environment
        policy = authorize(id_token(pool, keys["key-1"], "key-1"))
        assert effect(policy) == "Allow"
        assert policy["principalId"] == SUB
        assert policy["context"] == {"sub": SUB, "email": "alice@example.com"}
    [fetch] = pool.requests_for(JWKS_PATH)
    assert fetch.method == "GET"


def test_a_token_of_another_issuer_or_audience_is_denied(
    pool: LocalHttpServer, keys: dict[str, rsa.RSAPrivateKey]
) -> None:
    key = keys["key-1"]
    assert effect(authorize(id_token(pool, key, "key-1", aud="another-client"))) == "Deny"
    assert effect(authorize(id_token(pool, key, "key-1", iss="https://elsewhere"))) == "Deny"
    assert effect(authorize(id_token(pool, key, "key-1", token_use="access"))) == "Deny"


def test_a_rotated_key_is_fetched_once_and_an_unknown_one_denied(
    pool: LocalHttpServer, keys: dict[str, rsa.RSAPrivateKey], jwks_clock: Clock
) -> None:
    assert effect(authorize(id_token(pool, keys["key-1"], "key-1"))) == "Allow"
    assert len(pool.requests_for(JWKS_PATH)) == 1

    # The pool rotates: key-2 is published, and a token signed with it arrives later on.
    pool.answer(JWKS_PATH, jwks(keys, "key-1", "key-2"))
    jwks_clock.now += 31  # past PyJWT's refresh cooldown (30 s)
    assert effect(authorize(id_token(pool, keys["key-2"], "key-2"))) == "Allow"
    assert len(pool.requests_for(JWKS_PATH)) == 2

    # A key nobody published: one refetch, and still unknown.
    jwks_clock.now += 31
    assert effect(authorize(id_token(pool, keys["stranger"], "stranger"))) == "Deny"
    assert len(pool.requests_for(JWKS_PATH)) == 3
    # Right after, more of them cost nothing: within the cooldown, no refetch at all.
    for _ in range(5):
        assert effect(authorize(id_token(pool, keys["stranger"], "stranger"))) == "Deny"
    assert len(pool.requests_for(JWKS_PATH)) == 3
    # The known keys still work from the cache.
    assert effect(authorize(id_token(pool, keys["key-2"], "key-2"))) == "Allow"
    assert len(pool.requests_for(JWKS_PATH)) == 3


def test_a_token_naming_a_key_signed_by_another_is_denied(
    pool: LocalHttpServer, keys: dict[str, rsa.RSAPrivateKey]
) -> None:
    assert effect(authorize(id_token(pool, keys["stranger"], "key-1"))) == "Deny"


def test_the_key_server_down_denies_and_never_crashes(
    pool: LocalHttpServer, keys: dict[str, rsa.RSAPrivateKey]
) -> None:
    token = id_token(pool, keys["key-1"], "key-1")
    pool.stop()  # nothing listens on the issuer's port any more
    policy = authorize(token)
    assert effect(policy) == "Deny"
    assert "context" not in policy
    # Denied for the right reason: the keys could not be fetched.
    verifier = TokenVerifier.for_issuer(issuer(pool), CLIENT_ID)
    with pytest.raises(InvalidToken, match="unknown key") as refused:
        verifier.verify(token)
    assert isinstance(refused.value.__cause__, jwt.PyJWKClientConnectionError)


def test_the_key_server_answering_an_error_denies(
    pool: LocalHttpServer, keys: dict[str, rsa.RSAPrivateKey]
) -> None:
    pool.answer(JWKS_PATH, b"<html>Bad Gateway</html>", status=502, content_type="text/html")
    assert effect(authorize(id_token(pool, keys["key-1"], "key-1"))) == "Deny"
    pool.answer(JWKS_PATH, b"not json", status=200, content_type="text/plain")
    assert effect(authorize(id_token(pool, keys["key-1"], "key-1"))) == "Deny"


def test_keys_fetched_before_the_key_server_went_down_keep_working(
    pool: LocalHttpServer, keys: dict[str, rsa.RSAPrivateKey], jwks_clock: Clock
) -> None:
    assert effect(authorize(id_token(pool, keys["key-1"], "key-1"))) == "Allow"
    pool.stop()
    assert effect(authorize(id_token(pool, keys["key-1"], "key-1"))) == "Allow"
    jwks_clock.now += 31  # an unknown key now tries a refetch, which fails: denied
    assert effect(authorize(id_token(pool, keys["stranger"], "stranger"))) == "Deny"
    assert effect(authorize(id_token(pool, keys["key-1"], "key-1"))) == "Allow"
