"""The local JWT authorizer's 401, saying why: no token, an expired one, or one that is not
valid, each with what to do. On AWS, API Gateway's JWT authorizer answers these itself, with
the body `{"message": "Unauthorized"}` and the reason in its `WWW-Authenticate` header
(`error_description`); the HTTP API never sees such a request (docs/deploy.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from filestore.entrypoints.local.verified_tokens import Refusal

if TYPE_CHECKING:
    from starlette.responses import JSONResponse

    from filestore.entrypoints.local.verified_tokens import VerifiedTokens

MESSAGES = {
    Refusal.MISSING: "Sign in: no token was sent. Send 'Authorization: Bearer <ID token>' "
    "(filestore login, or filestore token for scripts).",
    Refusal.EXPIRED: "The token has expired: sign in again.",
    Refusal.WRONG_KIND: "This is an access token: use the ID token instead, as "
    "'Authorization: Bearer <ID token>'.",
    Refusal.INVALID: "The token is not valid: sign in again to get a new one.",
}
"""The 401's message for each reason."""

# RFC 6750: no `error` when no credentials were sent; `invalid_token` for a bad one.
_CHALLENGES = {
    Refusal.MISSING: "Bearer",
    Refusal.EXPIRED: 'Bearer error="invalid_token", error_description="The token has expired"',
    Refusal.WRONG_KIND: 'Bearer error="invalid_token", '
    'error_description="use the ID token, not the access token"',
    Refusal.INVALID: 'Bearer error="invalid_token", error_description="The token is not valid"',
}


def unauthorized(tokens: VerifiedTokens, authorization: str) -> JSONResponse:
    """The 401 for a request whose `Authorization` header (`""` if none) was refused."""
    from starlette.responses import JSONResponse

    reason = tokens.refusal(authorization)
    return JSONResponse(
        {"message": MESSAGES[reason]},
        status_code=401,
        headers={"www-authenticate": _CHALLENGES[reason]},
    )
