"""What the HTTP API tells clients about the deployment it belongs to: how to sign in
(`GET /auth/config`) and where a share's link points. Read from the settings once."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel

from filestore.settings import Settings

SCOPES = ("openid", "email", "profile")


class LocalSignIn(BaseModel):
    """`filestore serve`'s password-free sign-in: POST `{"email"}` to `sign_in_url` for a
    token. `sign_in_url` is null where the server does not offer it (it listens beyond
    loopback): a token comes from `filestore token` then."""

    kind: Literal["local"] = "local"
    sign_in_url: str | None


class CognitoSignIn(BaseModel):
    """Cognito's managed login: OAuth 2.0 authorization code with PKCE (S256) for the public
    app client `client_id`; the CLI redirects to `cli_redirect_uri` on loopback. The URLs are
    null where the deployment has no user pool domain."""

    kind: Literal["cognito"] = "cognito"
    client_id: str | None
    authorize_url: str | None
    token_url: str | None
    logout_url: str | None
    scopes: list[str]
    cli_redirect_uri: str


SignIn = LocalSignIn | CognitoSignIn


@dataclass(frozen=True)
class Site:
    """How this deployment's clients sign in and where share links lead."""

    sign_in: SignIn
    # A share's link is this prefix followed by its token.
    share_url_prefix: str

    @classmethod
    def of(cls, settings: Settings, public_url: str | None = None) -> Site:
        api = (public_url or settings.public_url).rstrip("/")
        prefix = f"{settings.web_url}/s/" if settings.web_url else f"{api}/shares/"
        return cls(sign_in=sign_in_of(settings), share_url_prefix=prefix)

    def share_url(self, token: str) -> str:
        return self.share_url_prefix + token


def sign_in_of(settings: Settings) -> SignIn:
    """How to sign in, as the settings say."""
    if settings.sign_in == "local":
        return LocalSignIn(sign_in_url=settings.local_sign_in_url)
    domain = settings.cognito_domain
    clients = settings.cognito_client_ids
    return CognitoSignIn(
        client_id=clients[0] if clients else None,
        authorize_url=f"{domain}/oauth2/authorize" if domain else None,
        token_url=f"{domain}/oauth2/token" if domain else None,
        logout_url=f"{domain}/logout" if domain else None,
        scopes=list(SCOPES),
        cli_redirect_uri=settings.cognito_cli_redirect_uri,
    )


@functools.lru_cache(maxsize=8)
def site_of(settings: Settings, public_url: str | None = None) -> Site:
    """`Site.of`, once per settings (a Lambda's settings do not change while it lives)."""
    return Site.of(settings, public_url)
