"""The local server's password-free sign-in and the web app's `config.json`.

`POST /_local/sign-in` `{"email"}` gives the token `filestore token --email` gives (the same
account), so a person signs in with nothing but an e-mail address. Anyone who reaches the
route can sign in as anyone: the server offers it only on a loopback address, or when started
with `--open-sign-in`, and answers 404 otherwise (`GET /auth/config` then says
`"sign_in_url": null`).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import BaseModel, Field, ValidationError

from filestore.entrypoints.site import Site

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response

# Long enough for a day's work; a client signs in again, silently, when it nears its end.
TOKEN_LIFETIME = 12 * 3600
NO_CACHE = {"cache-control": "no-cache"}


class TokenIssuer(Protocol):
    """The local token issuer, as far as signing in needs it."""

    def issue(self, *, email: str, sub: str | None = None, lifetime: int = ...) -> str: ...

    def subject(self, email: str) -> str: ...


class SignInIn(BaseModel):
    # One @, something before it and a dotted domain after it: enough to catch a slip; the
    # address is only ever the account's name here (nothing is sent to prove it).
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)


class SignInOut(BaseModel):
    id_token: str
    token_type: str = "Bearer"  # noqa: S105 - the kind of token OAuth 2.0 names, not a secret
    expires_in: int
    expires_at: datetime
    email: str
    sub: str


class LocalSignIn:
    """The routes' handlers, on the server's token issuer and its `Site`."""

    def __init__(self, issuer: TokenIssuer, site: Site, *, offered: bool, ws_url: str):
        self.issuer = issuer
        self.site = site
        self.offered = offered
        self.ws_url = ws_url

    async def sign_in(self, request: Request) -> Response:
        from starlette.responses import JSONResponse

        if not self.offered:
            return JSONResponse({"message": "Not Found"}, status_code=404)
        try:
            body = SignInIn.model_validate_json(await request.body())
        except ValidationError:
            return JSONResponse(
                {"message": 'Send {"email": "you@example.com"}: a valid e-mail address.'},
                status_code=400,
            )
        email = body.email
        token = self.issuer.issue(email=email, lifetime=TOKEN_LIFETIME)
        answer = SignInOut(
            id_token=token,
            expires_in=TOKEN_LIFETIME,
            expires_at=datetime.now(UTC) + timedelta(seconds=TOKEN_LIFETIME),
            email=email,
            sub=self.issuer.subject(email),
        )
        return JSONResponse(answer.model_dump(mode="json"), headers={"cache-control": "no-store"})

    async def config(self, request: Request) -> Response:
        """The web app's configuration: the API on this origin, the socket, how to sign in."""
        from starlette.responses import Response

        document: dict[str, Any] = {
            "api_url": "",
            "ws_url": self.ws_url,
            "auth": self.site.sign_in.model_dump(mode="json"),
        }
        return Response(json.dumps(document), media_type="application/json", headers=NO_CACHE)
