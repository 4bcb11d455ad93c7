"""The local token issuer: RS256 JWTs shaped like Cognito ID tokens, for `filestore serve`.

The RSA key pair lives in the data dir (created on first use, private key readable by its owner
only), so `filestore token` and the server agree without talking to each other. The server
verifies them with the production `TokenVerifier`, given this issuer's public key (`jwks()`).
"""

from __future__ import annotations

import json
import os
import time
import uuid
from pathlib import Path
from typing import Any

ISSUER = "filestore-local"
AUDIENCE = "filestore-local"
KEY_ID = "filestore-local-1"
DEFAULT_LIFETIME = 12 * 3600


class LocalTokenIssuer:
    """Issues the tokens of one data dir and publishes the key that verifies them."""

    def __init__(self, data_dir: Path) -> None:
        self.key_path = Path(data_dir) / "keys" / "token-signing.pem"
        self._private: Any = None

    def _key(self) -> Any:
        if self._private is None:
            self._private = _load_or_create_rsa(self.key_path)
        return self._private

    def issue(self, *, email: str, sub: str | None = None, lifetime: int = DEFAULT_LIFETIME) -> str:
        """A signed ID token for `email` (`sub` defaults to one derived from the e-mail)."""
        import jwt

        now = int(time.time())
        subject = sub or self.subject(email)
        claims = {
            "sub": subject,
            "email": email,
            "email_verified": True,
            "iss": ISSUER,
            "aud": AUDIENCE,
            "token_use": "id",  # a claim's name and value, not a password  # nosec B105
            "iat": now,
            "exp": now + lifetime,
        }
        return jwt.encode(claims, self._key(), algorithm="RS256", headers={"kid": KEY_ID})

    @staticmethod
    def subject(email: str) -> str:
        """The `sub` of the account of `email`: one account per address, whatever its case."""
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"mailto:{email.lower()}"))

    def jwks(self) -> dict[str, Any]:
        """The public key as a JWKS document (what Cognito serves at `.well-known/jwks.json`)."""
        from jwt.algorithms import RSAAlgorithm

        jwk = json.loads(RSAAlgorithm.to_jwk(self._key().public_key()))
        jwk.update({"kid": KEY_ID, "alg": "RS256", "use": "sig"})
        return {"keys": [jwk]}


def _load_or_create_rsa(path: Path) -> Any:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        try:
            # O_EXCL: of two processes creating it at once, one wins and both use its key.
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "wb") as file:
                file.write(pem)
                file.flush()
                os.fsync(file.fileno())
    return serialization.load_pem_private_key(path.read_bytes(), password=None)
