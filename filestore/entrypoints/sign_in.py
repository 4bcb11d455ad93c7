"""The client's side of signing in: asking a deployment how (`GET /auth/config`), the local
server's password-free sign-in, and the OAuth 2.0 token endpoint of Cognito's managed login
(code exchange, refresh, revocation). What comes back becomes a profile's settings
(`user_config.Profile`); `credentials` decides when to call these.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from filestore.entrypoints.client_errors import ClientError
from filestore.entrypoints.user_config import Profile

NOT_SIGNED_IN = 401  # the status a ClientError carries when signing in (again) is the remedy


def auth_config(http: httpx.Client, endpoint: str) -> dict[str, Any]:
    """How `endpoint` signs people in: `{"kind": "local", "sign_in_url"}` or
    `{"kind": "cognito", "client_id", "authorize_url", "token_url", …}`."""
    url = f"{endpoint.rstrip('/')}/auth/config"
    answer = _json(http, "GET", url, what=f"{endpoint} (is it a filestore endpoint?)")
    if not isinstance(answer, dict) or answer.get("kind") not in ("local", "cognito"):
        raise ClientError(f"{url} did not say how to sign in; is {endpoint} a filestore endpoint?")
    return answer


def local_sign_in(http: httpx.Client, sign_in_url: str, email: str) -> Profile:
    """Sign in to a local server as `email` (no password: it only offers this on loopback)."""
    answer = _json(http, "POST", sign_in_url, json={"email": email}, what="the local sign-in")
    return {
        "kind": "local",
        "sign_in_url": sign_in_url,
        "email": str(answer.get("email") or email),
        "sub": str(answer.get("sub") or ""),
        "id_token": str(answer["id_token"]),
        "expires_at": _expiry(answer, str(answer["id_token"])),
    }


def exchange_code(
    http: httpx.Client, config: dict[str, Any], code: str, verifier: str, redirect_uri: str
) -> Profile:
    """The tokens for an authorization code (a public client: PKCE's verifier, no secret)."""
    answer = _token_request(http, str(config["token_url"]), {
        "grant_type": "authorization_code", "client_id": config["client_id"], "code": code,
        "redirect_uri": redirect_uri, "code_verifier": verifier,
    })  # fmt: skip
    if not answer.get("refresh_token"):
        raise ClientError("the sign-in answered no refresh token")
    return {
        "kind": "cognito",
        "client_id": str(config["client_id"]),
        "token_url": str(config["token_url"]),
        **_tokens(answer),
    }


def refresh(http: httpx.Client, profile: Profile) -> Profile:
    """The profile with fresh tokens: Cognito's refresh grant (keeping a rotated refresh token),
    or the local sign-in again with the same e-mail. A refusal is a ClientError with status 401."""
    if profile.get("kind") == "local" and profile.get("sign_in_url") and profile.get("email"):
        return {**profile, **local_sign_in(http, profile["sign_in_url"], profile["email"])}
    if profile.get("kind") == "cognito" and profile.get("refresh_token"):
        answer = _token_request(http, profile["token_url"], {
            "grant_type": "refresh_token", "client_id": profile["client_id"],
            "refresh_token": profile["refresh_token"],
        })  # fmt: skip
        # Without rotation the answer has no refresh token: the one we hold stays good.
        return {**profile, **_tokens(answer)}
    raise ClientError("this sign-in cannot be renewed", status=NOT_SIGNED_IN)


def revoke(http: httpx.Client, profile: Profile) -> bool:
    """Revoke the profile's refresh token at Cognito (`/oauth2/revoke`, beside the token
    endpoint); whether that worked. Local tokens cannot be revoked; they just expire."""
    if profile.get("kind") != "cognito" or not profile.get("refresh_token"):
        return False
    url = profile["token_url"].rsplit("/oauth2/token", 1)[0] + "/oauth2/revoke"
    try:
        response = http.post(
            url, data={"token": profile["refresh_token"], "client_id": profile["client_id"]}
        )
    except httpx.HTTPError:
        return False
    return response.status_code == 200


def jwt_claims(token: str) -> dict[str, Any]:
    """A JWT's claims, NOT verified (the API verifies tokens; the client only reads who and
    until when); {} for something that is not a JWT."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return {}
    return claims if isinstance(claims, dict) else {}


def expires_at(token: str) -> datetime | None:
    """When a JWT expires (its `exp`), if it says."""
    exp = jwt_claims(token).get("exp")
    return datetime.fromtimestamp(exp, UTC) if isinstance(exp, int | float) else None


def _tokens(answer: dict[str, Any]) -> Profile:
    id_token = str(answer.get("id_token") or "")
    if not id_token:
        raise ClientError("the sign-in answered no ID token")
    claims = jwt_claims(id_token)
    tokens = {
        "id_token": id_token,
        "access_token": str(answer.get("access_token") or ""),
        "expires_at": _expiry(answer, id_token),
        "email": str(claims.get("email") or ""),
        "sub": str(claims.get("sub") or ""),
    }
    if answer.get("refresh_token"):
        tokens["refresh_token"] = str(answer["refresh_token"])
    return tokens


def _expiry(answer: dict[str, Any], token: str) -> str:
    """The token's own `exp`, else now + the answer's `expires_in`, as ISO-8601 UTC."""
    when = expires_at(token)
    if when is None:
        seconds = int(answer.get("expires_in") or 3600)
        when = datetime.now(UTC) + timedelta(seconds=seconds)
    return when.isoformat(timespec="seconds")


def _token_request(http: httpx.Client, url: str, form: dict[str, Any]) -> dict[str, Any]:
    try:
        response = http.post(url, data=form)
    except httpx.HTTPError as error:
        raise ClientError(f"cannot reach {url}: {error}") from error
    body = _body(response)
    if response.status_code >= 400:
        # OAuth's `{"error": "invalid_grant", …}`: the code or refresh token was refused.
        reason = body.get("error_description") or body.get("error") or response.reason_phrase
        status = NOT_SIGNED_IN if response.status_code in (400, 401) else None
        raise ClientError(f"the sign-in was refused: {reason}", status=status)
    return body


def _json(http: httpx.Client, method: str, url: str, *, what: str, **kwargs: Any) -> Any:
    try:
        response = http.request(method, url, **kwargs)
    except httpx.HTTPError as error:
        raise ClientError(f"cannot reach {url}: {error}") from error
    body = _body(response)
    if response.status_code >= 400:
        message = body.get("message") or response.reason_phrase
        raise ClientError(f"{what}: {message} (HTTP {response.status_code})")
    if not body:
        raise ClientError(f"{what}: the answer from {url} is not JSON")
    return body


def _body(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
