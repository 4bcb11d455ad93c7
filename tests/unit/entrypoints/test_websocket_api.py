"""The WebSocket routes and the REQUEST authorizer, with hand-written API Gateway events."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from filestore.app import FileStore
from filestore.domain.commands import Actor
from filestore.entrypoints import websocket_api
from filestore.entrypoints.auth import InvalidToken, JwksUrl, StaticKeys, TokenVerifier, jwks_url
from filestore.entrypoints.runtime import runtime
from filestore.settings import Settings
from tests.support.lambda_events import LambdaContext, load_event

ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_EXAMPLE1"
CLIENT_ID = "4example1clientid2abc3def4"


def test_connect_registers_the_connection_and_disconnect_forgets_it(store: FileStore) -> None:
    connect = load_event("websocket_connect")
    assert websocket_api.handler(connect, LambdaContext()) == {"statusCode": 200}
    actor = Actor(sub="7d8ca528-4931-4254-9273-ea5ee853f271", email="alice@example.com")
    user = runtime.run(store.me(actor))

    async def connections() -> list[str]:
        async with store.services.uow() as uow:
            return [c.id for c in await uow.connections.list_for_user(user.id)]

    assert runtime.run(connections()) == ["TWegAdtZhvcCEBQ="]
    disconnect = load_event("websocket_disconnect")
    assert websocket_api.handler(disconnect, LambdaContext()) == {"statusCode": 200}
    assert runtime.run(connections()) == []


def test_connect_without_an_authorized_identity_is_refused(store: FileStore) -> None:
    connect = load_event("websocket_connect")
    del connect["requestContext"]["authorizer"]
    assert websocket_api.handler(connect, LambdaContext()) == {"statusCode": 401}


def test_ping_gets_pong_and_anything_else_a_clear_error(store: FileStore) -> None:
    message = load_event("websocket_message")
    assert websocket_api.handler(message, LambdaContext()) == {
        "statusCode": 200,
        "body": json.dumps({"type": "pong"}),
    }
    for body in ['{"action": "dance"}', "not json", "[" * 100_000]:
        message["body"] = body
        answer = json.loads(websocket_api.handler(message, LambdaContext())["body"])
        assert answer["type"] == "error"
        assert "ping" in answer["message"]


# --- the authorizer -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def signing_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def verifier(signing_key: rsa.RSAPrivateKey) -> Iterator[TokenVerifier]:
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(signing_key.public_key()))
    jwks = {"keys": [{**jwk, "kid": "key-1", "alg": "RS256", "use": "sig"}]}
    verifier = TokenVerifier(issuer=ISSUER, audience=CLIENT_ID, keys=StaticKeys(jwks))
    runtime.set_token_verifier(verifier)
    yield verifier
    runtime.set_token_verifier(None)


def id_token(key: Any, *, kid: str = "key-1", alg: str = "RS256", **overrides: Any) -> str:
    now = int(time.time())
    claims = {
        "sub": "7d8ca528-4931-4254-9273-ea5ee853f271",
        "email": "alice@example.com",
        "iss": ISSUER,
        "aud": CLIENT_ID,
        "token_use": "id",
        "iat": now,
        "auth_time": now,
        "exp": now + 3600,
    }
    claims.update(overrides)
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(claims, key, algorithm=alg, headers={"kid": kid})


def authorize(token: str | None) -> dict[str, Any]:
    event = load_event("websocket_authorizer")
    if token is None:
        del event["queryStringParameters"]
    else:
        event["queryStringParameters"]["token"] = token
    return websocket_api.authorizer(event, LambdaContext())


ROUTE_ARN = "arn:aws:execute-api:us-east-1:123456789012:abcdef123/prod/$connect"


def test_a_valid_token_is_allowed_with_the_identity_as_context(
    verifier: TokenVerifier, signing_key: rsa.RSAPrivateKey
) -> None:
    policy = authorize(id_token(signing_key))
    assert policy["principalId"] == "7d8ca528-4931-4254-9273-ea5ee853f271"
    assert policy["policyDocument"]["Statement"] == [
        {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": ROUTE_ARN}
    ]
    assert policy["context"] == {
        "sub": "7d8ca528-4931-4254-9273-ea5ee853f271",
        "email": "alice@example.com",
    }


def _tampered(token: str) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(jwt.utils.base64url_decode(payload))
    claims["sub"] = "mallory"
    forged = jwt.utils.base64url_encode(json.dumps(claims).encode()).decode()
    return f"{header}.{forged}.{signature}"


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda k: id_token(k, exp=int(time.time()) - 60), id="expired"),
        pytest.param(lambda k: id_token(k, iss="https://evil.example.com"), id="wrong-issuer"),
        pytest.param(lambda k: id_token(k, aud="another-client"), id="wrong-audience"),
        pytest.param(lambda k: id_token(k, token_use="access"), id="access-token"),
        pytest.param(lambda k: id_token(k, email=None), id="no-email"),
        pytest.param(lambda k: _tampered(id_token(k)), id="tampered"),
        pytest.param(lambda k: id_token(k, kid="key-2"), id="unknown-kid"),
        pytest.param(
            lambda k: id_token(rsa.generate_private_key(public_exponent=65537, key_size=2048)),
            id="signed-by-another-key",
        ),
        pytest.param(
            lambda k: id_token("a-shared-secret-of-32-bytes-long!", alg="HS256"), id="hs256"
        ),
        pytest.param(lambda k: "not.a.jwt", id="garbage"),
    ],
)
def test_bad_tokens_are_denied(
    verifier: TokenVerifier, signing_key: rsa.RSAPrivateKey, make: Any
) -> None:
    policy = authorize(make(signing_key))
    assert policy["policyDocument"]["Statement"][0]["Effect"] == "Deny"
    assert "context" not in policy


def test_no_token_is_unauthorized(verifier: TokenVerifier) -> None:
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        authorize(None)


def test_unconfigured_authorizer_denies(monkeypatch: pytest.MonkeyPatch) -> None:
    runtime.set_settings(None)
    monkeypatch.delenv("FILESTORE_COGNITO_ISSUER", raising=False)
    try:
        policy = authorize("some.token.value")
    finally:
        runtime.set_settings(None)
    assert policy["policyDocument"]["Statement"][0]["Effect"] == "Deny"


def test_the_authorizer_verifies_for_the_user_pool_the_settings_name() -> None:
    runtime.set_settings(Settings(cognito_issuer=ISSUER, cognito_client_id=CLIENT_ID))
    try:
        verifier = runtime.token_verifier()
        assert (verifier.issuer, verifier.audience) == (ISSUER, (CLIENT_ID,))
        assert isinstance(verifier.keys, JwksUrl)
        assert verifier.keys.uri == jwks_url(ISSUER)
        assert runtime.token_verifier() is verifier  # one per environment: keys cached with it
        runtime.set_settings(Settings(cognito_issuer=f"{ISSUER}2", cognito_client_id=CLIENT_ID))
        assert runtime.token_verifier().issuer == f"{ISSUER}2"  # built anew from new settings
    finally:
        runtime.set_settings(None)


def cognito_access_token(key: Any) -> str:
    """What Cognito issues with the ID token: no `aud` (the app client is `client_id`), no
    `email`, `token_use: access`."""
    now = int(time.time())
    claims = {
        "sub": "7d8ca528-4931-4254-9273-ea5ee853f271",
        "iss": ISSUER,
        "client_id": CLIENT_ID,
        "token_use": "access",
        "scope": "aws.cognito.signin.user.admin",
        "username": "7d8ca528-4931-4254-9273-ea5ee853f271",
        "iat": now,
        "auth_time": now,
        "exp": now + 3600,
    }
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": "key-1"})


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(cognito_access_token, id="cognito-access-token"),
        pytest.param(lambda k: id_token(k, token_use="access"), id="access-with-an-audience"),
    ],
)
def test_an_access_token_is_refused_saying_to_use_the_id_token(
    verifier: TokenVerifier,
    signing_key: rsa.RSAPrivateKey,
    make: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    token = make(signing_key)
    with pytest.raises(InvalidToken, match="use the ID token"):
        verifier.verify(token)
    policy = authorize(token)
    assert policy["policyDocument"]["Statement"][0]["Effect"] == "Deny"
    assert "context" not in policy
    assert any("use the ID token" in r.getMessage() for r in caplog.records)


def test_a_token_of_another_audience_is_not_called_an_access_token(
    verifier: TokenVerifier, signing_key: rsa.RSAPrivateKey
) -> None:
    with pytest.raises(InvalidToken) as refused:
        verifier.verify(id_token(signing_key, aud="another-client"))
    assert "ID token" not in str(refused.value)


# --- two app clients: the web app's and the CLI's -----------------------------------------------

WEB_CLIENT, CLI_CLIENT = "4webclientid", "5cliclientid"


def test_the_verifier_takes_every_client_the_settings_list(
    signing_key: rsa.RSAPrivateKey,
) -> None:
    runtime.set_settings(
        Settings(cognito_issuer=ISSUER, cognito_client_id=f" {WEB_CLIENT}, {CLI_CLIENT},")
    )
    try:
        assert runtime.token_verifier().audience == (WEB_CLIENT, CLI_CLIENT)
    finally:
        runtime.set_settings(None)


@pytest.mark.parametrize("client", [WEB_CLIENT, CLI_CLIENT])
def test_an_id_token_of_either_client_is_allowed(
    signing_key: rsa.RSAPrivateKey, client: str
) -> None:
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(signing_key.public_key()))
    keys = StaticKeys({"keys": [{**jwk, "kid": "key-1", "alg": "RS256", "use": "sig"}]})
    verifier = TokenVerifier(issuer=ISSUER, audience=[WEB_CLIENT, CLI_CLIENT], keys=keys)
    runtime.set_token_verifier(verifier)
    try:
        assert authorize(id_token(signing_key, aud=client))["principalId"]
        denied = authorize(id_token(signing_key, aud="a-third-client"))
        assert denied["policyDocument"]["Statement"][0]["Effect"] == "Deny"
    finally:
        runtime.set_token_verifier(None)


@pytest.mark.parametrize("audience", [[], [""], ""])
def test_a_verifier_without_an_audience_is_refused(verifier: TokenVerifier, audience: Any) -> None:
    with pytest.raises(ValueError, match="audience"):
        TokenVerifier(issuer=ISSUER, audience=audience, keys=verifier.keys)


def test_no_client_id_in_the_settings_is_named() -> None:
    runtime.set_settings(Settings(cognito_issuer=ISSUER, cognito_client_id=" , "))
    try:
        with pytest.raises(RuntimeError, match="FILESTORE_COGNITO_CLIENT_ID"):
            TokenVerifier.for_cognito(runtime.settings())
    finally:
        runtime.set_settings(None)
