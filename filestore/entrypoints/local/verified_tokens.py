"""The local server's JWT authorizer: a token's verified claims, kept until the token expires.

API Gateway checks a bearer token before every request; an RS256 signature check costs about
0.4 ms of CPU here, a good part of a request the server answers in a couple. A client sends the
same token for many requests, so the claims of a token that passed are kept (a bounded number,
the oldest dropped first) and given again while the token's `exp` has not passed. A token that
failed is checked again each time: nothing is learnt from an invalid one. `refusal` says why a
token was refused (none, expired, not valid), for the 401's message.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from enum import Enum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from filestore.entrypoints.auth import TokenVerifier

KEPT = 1024


class Refusal(Enum):
    """Why a request's token was refused."""

    MISSING = "missing"  # no Authorization header, or not a bearer token
    EXPIRED = "expired"
    WRONG_KIND = "wrong_kind"  # a Cognito access token where the ID token belongs
    INVALID = "invalid"  # anything else: malformed, a wrong signature, issuer or audience


class VerifiedTokens:
    """`claims(authorization)` as the JWT authorizer answers it, with passed tokens kept."""

    def __init__(
        self, verifier: TokenVerifier, *, kept: int = KEPT, now: Callable[[], float] = time.time
    ) -> None:
        self._verifier = verifier
        self._kept = kept
        self._now = now
        self._claims: OrderedDict[str, tuple[float, dict[str, Any]]] = OrderedDict()

    def claims(self, authorization: str) -> dict[str, Any] | None:
        """The claims of a valid bearer token in an `Authorization` header, else None."""
        from filestore.entrypoints.auth import InvalidToken

        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return None
        kept = self._claims.get(token)
        if kept is not None:
            expires, claims = kept
            if self._now() < expires:
                return dict(claims)
            del self._claims[token]
        try:
            claims = dict(self._verifier.verify(token).claims)
        except InvalidToken:
            return None
        expires_at = claims.get("exp")
        if isinstance(expires_at, int | float):
            self._claims[token] = (float(expires_at), claims)
            while len(self._claims) > self._kept:
                self._claims.popitem(last=False)
        return dict(claims)

    def refusal(self, authorization: str) -> Refusal:
        """Why `claims(authorization)` gave None (checked again: the refused path only)."""
        from filestore.entrypoints.auth import ACCESS_REFUSED, ExpiredToken, InvalidToken

        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return Refusal.MISSING
        try:
            self._verifier.verify(token.strip())
        except ExpiredToken:
            return Refusal.EXPIRED
        except InvalidToken as error:
            return Refusal.WRONG_KIND if str(error) == ACCESS_REFUSED else Refusal.INVALID
        return Refusal.INVALID  # it passed just now: it expired between the two checks
