"""Verifying the identity tokens people sign in with (Cognito ID tokens, or a local issuer's).

`TokenVerifier` checks a JWT's signature (RS256) against a key set, its issuer, audience, expiry
and `token_use`, and returns the verified identity. The key set comes from a `KeySource`:
`JwksUrl` fetches `{issuer}/.well-known/jwks.json` once per process (PyJWT's `PyJWKClient`,
urllib underneath, refetching when a token names a key it has not seen: keys rotate);
`StaticKeys` holds a key set the caller already has (the local server's own issuer, tests).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import jwt

if TYPE_CHECKING:
    from filestore.settings import Settings

# A JWKS fetch that hangs would eat the authorizer's whole budget: fail fast instead.
JWKS_TIMEOUT_SECONDS = 3.0
JWKS_CACHE_SECONDS = 3600


# Cognito hands out an ID token and an access token together; only the ID token carries `email`.
ACCESS_REFUSED = "an access token: use the ID token"


class InvalidToken(Exception):
    """The token is missing, malformed, expired, or not one of ours. The message says which."""


class ExpiredToken(InvalidToken):
    """The token was good but its `exp` has passed: its holder signs in again."""


def _unverified_token_use(token: str) -> object:
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.InvalidTokenError:
        return None
    return claims.get("token_use") if isinstance(claims, dict) else None


class KeySource(Protocol):
    def get_signing_key(self, kid: str) -> jwt.PyJWK:
        """The public key with id `kid`; raises `jwt.PyJWKError`/`PyJWKClientError` if unknown."""


class StaticKeys:
    """A key set given as a JWKS document (`{"keys": [...]}`)."""

    def __init__(self, jwks: Mapping[str, Any]) -> None:
        self._keys = jwt.PyJWKSet.from_dict(dict(jwks))

    def get_signing_key(self, kid: str) -> jwt.PyJWK:
        for key in self._keys.keys:
            if key.key_id == kid:
                return key
        raise jwt.PyJWKClientError(f"no key with id {kid!r}")


def jwks_url(issuer: str) -> str:
    """Where an OpenID issuer (a Cognito user pool) publishes its keys."""
    return f"{issuer.rstrip('/')}/.well-known/jwks.json"


class JwksUrl(jwt.PyJWKClient):
    """An issuer's published key set, fetched on first use and cached for the process."""

    def __init__(self, url: str) -> None:
        super().__init__(
            url, cache_jwk_set=True, lifespan=JWKS_CACHE_SECONDS, timeout=JWKS_TIMEOUT_SECONDS
        )


@dataclass(frozen=True)
class Identity:
    """Who a verified token says its bearer is."""

    sub: str
    email: str
    claims: Mapping[str, Any]


class TokenVerifier:
    """Verifies ID tokens of one issuer for its audience: one app client id, or several (a
    token of any of them passes)."""

    def __init__(
        self,
        *,
        issuer: str,
        audience: str | Sequence[str],
        keys: KeySource,
        token_use: str | None = "id",  # noqa: S107 - a claim value, not a secret
        algorithms: Sequence[str] = ("RS256",),
        leeway_seconds: int = 0,
    ) -> None:
        self.issuer = issuer
        self.audience: tuple[str, ...] = (
            (audience,) if isinstance(audience, str) else tuple(audience)
        )
        if not self.audience or not all(self.audience):
            raise ValueError("a token verifier needs at least one audience, and no blank one")
        self.keys = keys
        self.token_use = token_use
        self.algorithms = list(algorithms)
        self.leeway_seconds = leeway_seconds

    @classmethod
    def for_issuer(cls, issuer: str, audience: str | Sequence[str]) -> TokenVerifier:
        """A verifier fetching the issuer's keys from its JWKS URL."""
        return cls(issuer=issuer, audience=audience, keys=JwksUrl(jwks_url(issuer)))

    @classmethod
    def for_cognito(cls, settings: Settings) -> TokenVerifier:
        """The verifier of the user pool and app clients the settings name."""
        if not settings.cognito_issuer or not settings.cognito_client_ids:
            raise RuntimeError("FILESTORE_COGNITO_ISSUER and FILESTORE_COGNITO_CLIENT_ID are unset")
        return cls.for_issuer(settings.cognito_issuer, settings.cognito_client_ids)

    def _access_instead_of_id(self, used: object) -> bool:
        return (used, self.token_use) == ("access", "id")

    def verify(self, token: str) -> Identity:
        """The identity in `token`, or `InvalidToken` saying what is wrong with it."""
        if not token:
            raise InvalidToken("no token")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError as error:
            raise InvalidToken("malformed token") from error
        # Refuse before looking up keys: an attacker picks `alg` (e.g. "none" or HS256).
        if header.get("alg") not in self.algorithms:
            raise InvalidToken(f"unexpected signing algorithm {header.get('alg')!r}")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise InvalidToken("token names no signing key")
        try:
            key = self.keys.get_signing_key(kid)
        except (jwt.PyJWKClientError, jwt.PyJWKError) as error:
            raise InvalidToken("token signed by an unknown key") from error
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key=key,
                algorithms=self.algorithms,
                # Any of them: PyJWT accepts a token whose `aud` is one of the list.
                audience=list(self.audience),
                issuer=self.issuer,
                leeway=self.leeway_seconds,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError as error:
            raise ExpiredToken("token expired") from error
        except jwt.InvalidTokenError as error:
            # A Cognito access token has no `aud` (its `client_id` names the app client), so
            # PyJWT refuses it for that; say what to send instead. The claim read unverified
            # only chooses the message: the token is refused either way.
            if self._access_instead_of_id(_unverified_token_use(token)):
                raise InvalidToken(ACCESS_REFUSED) from error
            raise InvalidToken(f"token rejected: {error}") from error
        used = claims.get("token_use")
        if self.token_use is not None and used != self.token_use:
            if self._access_instead_of_id(used):
                raise InvalidToken(ACCESS_REFUSED)
            raise InvalidToken(f"not an {self.token_use} token")
        sub, email = claims.get("sub"), claims.get("email")
        if not isinstance(sub, str) or not sub or not isinstance(email, str) or not email:
            raise InvalidToken("token lacks sub or email")
        return Identity(sub=sub, email=email, claims=claims)
