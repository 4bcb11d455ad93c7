"""Database credentials kept in Secrets Manager, as the Data API reads them.

A database secret's value is a JSON object with at least `username` and `password` (the Data API
reads those two), and usually `engine`, `host`, `port` and `dbname`, which are kept as they are.
Its versions carry staging labels: the Data API signs in with `AWSCURRENT`; a rotation writes its
new credentials as `AWSPENDING`, then moves `AWSCURRENT` onto them. `DatabaseSecret` reads and
writes one such secret with boto3, off the event loop.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import string
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from botocore.exceptions import ClientError

CURRENT = "AWSCURRENT"
PENDING = "AWSPENDING"

# Never in a generated password: quotes and the backslash (SQL literals), `/`, `@` and the back
# quote. The template's GenerateSecretString excludes the same characters.
EXCLUDED_CHARACTERS = "\"'\\/@`"
PASSWORD_ALPHABET = "".join(
    c
    for c in string.ascii_letters + string.digits + string.punctuation
    if c not in EXCLUDED_CHARACTERS
)
PASSWORD_LENGTH = 32


def generate_password(length: int = PASSWORD_LENGTH) -> str:
    """A random password from `PASSWORD_ALPHABET` (about 6.4 bits a character)."""
    return "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(length))


class SecretFormatError(Exception):
    """A secret's value is not database credentials."""


@dataclass(frozen=True)
class DatabaseCredentials:
    """A user name and password, with whatever else the secret holds (host, port, ...)."""

    username: str
    password: str = field(repr=False)
    other: Mapping[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_json(cls, text: str) -> DatabaseCredentials:
        try:
            value = json.loads(text)
        except ValueError as error:
            raise SecretFormatError("the secret's value is not JSON") from error
        if not isinstance(value, dict):
            raise SecretFormatError("the secret's value is not a JSON object")
        username, password = value.pop("username", None), value.pop("password", None)
        if not isinstance(username, str) or not isinstance(password, str):
            raise SecretFormatError("the secret has no string `username` and `password`")
        return cls(username=username, password=password, other=value)

    def to_json(self) -> str:
        return json.dumps({**self.other, "username": self.username, "password": self.password})

    def with_login(self, username: str, password: str) -> DatabaseCredentials:
        """The same secret for another user name and password."""
        return replace(self, username=username, password=password)


@dataclass(frozen=True)
class SecretDescription:
    """What DescribeSecret says: whether rotation is on, and each version's staging labels."""

    rotation_enabled: bool
    versions: Mapping[str, tuple[str, ...]]

    def version_labelled(self, stage: str) -> str | None:
        """The version that carries `stage`, if any."""
        return next((v for v, stages in self.versions.items() if stage in stages), None)


class DatabaseSecret:
    """One Secrets Manager secret holding database credentials."""

    def __init__(self, client: Any, secret_id: str) -> None:
        self._client = client
        self.secret_id = secret_id

    async def describe(self) -> SecretDescription:
        answer = await asyncio.to_thread(self._client.describe_secret, SecretId=self.secret_id)
        versions = answer.get("VersionIdsToStages") or {}
        return SecretDescription(
            rotation_enabled=bool(answer.get("RotationEnabled")),
            versions={version: tuple(stages) for version, stages in versions.items()},
        )

    async def read(
        self, stage: str = CURRENT, version_id: str | None = None
    ) -> DatabaseCredentials | None:
        """The credentials of the version with `stage` (and id `version_id`, if given); None
        if there is no such version, or it has no value yet."""
        request: dict[str, str] = {"SecretId": self.secret_id, "VersionStage": stage}
        if version_id is not None:
            request["VersionId"] = version_id
        try:
            answer = await asyncio.to_thread(self._client.get_secret_value, **request)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                return None
            raise
        text = answer.get("SecretString")
        if not isinstance(text, str):
            raise SecretFormatError("the secret holds binary data, not database credentials")
        return DatabaseCredentials.from_json(text)

    async def put(self, version_id: str, credentials: DatabaseCredentials, stage: str) -> None:
        """Store `credentials` as version `version_id`, labelled `stage`."""
        await asyncio.to_thread(
            self._client.put_secret_value,
            SecretId=self.secret_id,
            ClientRequestToken=version_id,
            SecretString=credentials.to_json(),
            VersionStages=[stage],
        )

    async def move_current(self, to_version: str, from_version: str | None) -> None:
        """Label `to_version` AWSCURRENT (Secrets Manager labels the one before AWSPREVIOUS)."""
        request: dict[str, str] = {
            "SecretId": self.secret_id,
            "VersionStage": CURRENT,
            "MoveToVersionId": to_version,
        }
        if from_version is not None:
            request["RemoveFromVersionId"] = from_version
        await asyncio.to_thread(self._client.update_secret_version_stage, **request)
