"""The application user's secret: provisioned at deploy, rotated by Secrets Manager.

Every function but two signs in to the database as the application user (DML only), through
the Data API with that user's secret. The deploy's custom resource (`provision_app_user`) makes
the database match the secret's current version; the rotation function (`AppUserRotation`)
implements Secrets Manager's four rotation steps. Both run SQL as the master user, through the
Data API, so neither needs a network path into the VPC.

Rotation alternates between two users, `<name>` and `<name>_clone`: each rotation sets a new
password on the user the secret does NOT name now, then points the secret at it. The user in
use keeps working until every caller has read the new version, so no request fails during a
rotation, and a deploy during one (which re-applies the current version) never undoes it.
The Data API reads only a secret's AWSCURRENT version, so `testSecret` cannot sign in with the
pending one: it checks, as the master user, that the pending user exists, holds the pending
password (its `mysql_native_password` hash) and exactly DML on the schema.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from filestore.adapters.dataapi.credentials import (
    CURRENT,
    PENDING,
    DatabaseCredentials,
    DatabaseSecret,
    SecretDescription,
    generate_password,
)
from filestore.adapters.dataapi.users import DatabaseUserError, DatabaseUsers, user_literal

log = logging.getLogger(__name__)

CLONE_SUFFIX = "_clone"
STEPS = ("createSecret", "setSecret", "testSecret", "finishSecret")


class RotationError(Exception):
    """A rotation step cannot go on; Secrets Manager marks the rotation failed and retries."""


def app_usernames(base: str) -> frozenset[str]:
    """The two names the application user alternates between."""
    names = frozenset({base, base + CLONE_SUFFIX})
    for name in names:
        user_literal(name)  # both must be valid names
    return names


def _expect_app_user(credentials: DatabaseCredentials, allowed: frozenset[str]) -> None:
    # Whoever may write the secret must not thereby reset another user's password (the master).
    if credentials.username not in allowed:
        raise DatabaseUserError(
            f"the secret names database user {credentials.username!r}, which is not the "
            f"application user ({' or '.join(sorted(allowed))})"
        )


async def provision_app_user(
    secret: DatabaseSecret,
    users: DatabaseUsers,
    *,
    base_username: str,
    sign_in: Callable[[], Awaitable[object]],
) -> str:
    """Make the database match the secret's current version; the user's name.

    Creates the user if it is missing, sets the secret's password on it, grants it DML on the
    schema and checks all that, then `sign_in` proves the Data API accepts the secret.
    """
    current = await secret.read(CURRENT)
    if current is None:
        raise DatabaseUserError(f"the secret {secret.secret_id} has no current value")
    _expect_app_user(current, app_usernames(base_username))
    await users.ensure(current.username, current.password)
    await users.check(current.username, current.password)
    await sign_in()
    return current.username


class AppUserRotation:
    """Secrets Manager's rotation steps for the application user's secret."""

    def __init__(self, secret: DatabaseSecret, users: DatabaseUsers, *, base_username: str):
        self.secret = secret
        self.users = users
        self.allowed = app_usernames(base_username)

    async def run(self, step: str, token: str) -> None:
        """Run one step for the version `token` (Secrets Manager's ClientRequestToken)."""
        if step not in STEPS:
            raise RotationError(f"unknown rotation step {step!r}")
        description = await self.secret.describe()
        if not description.rotation_enabled:
            raise RotationError(f"rotation is not enabled on {self.secret.secret_id}")
        stages = description.versions.get(token)
        if stages is None:
            raise RotationError(f"the secret has no version {token}")
        if CURRENT in stages:
            log.info("version %s is already current: nothing to do in %s", token, step)
            return
        if PENDING not in stages:
            raise RotationError(f"version {token} is not pending rotation")
        log.info("rotation step %s for version %s", step, token)
        if step == "createSecret":
            await self._create(token)
        elif step == "setSecret":
            await self._set(token)
        elif step == "testSecret":
            await self._test(token)
        else:
            await self._finish(token, description)

    async def _current(self) -> DatabaseCredentials:
        current = await self.secret.read(CURRENT)
        if current is None:
            raise RotationError(f"the secret {self.secret.secret_id} has no current value")
        _expect_app_user(current, self.allowed)
        return current

    async def _pending(self, token: str) -> DatabaseCredentials:
        pending = await self.secret.read(PENDING, version_id=token)
        if pending is None:
            raise RotationError(f"version {token} has no value: createSecret has not run")
        _expect_app_user(pending, self.allowed)
        return pending

    async def _create(self, token: str) -> None:
        """New credentials for the other user, stored as the pending version (once)."""
        if await self.secret.read(PENDING, version_id=token) is not None:
            log.info("version %s already holds its credentials", token)
            return
        current = await self._current()
        (other,) = self.allowed - {current.username}
        await self.secret.put(token, current.with_login(other, generate_password()), PENDING)

    async def _set(self, token: str) -> None:
        """The pending user gets the pending password (and DML on the schema)."""
        pending = await self._pending(token)
        await self.users.ensure(pending.username, pending.password)

    async def _test(self, token: str) -> None:
        """The pending user exists, has the pending password and exactly DML on the schema."""
        pending = await self.secret.read(PENDING, version_id=token)
        if pending is None:
            # Secrets Manager tests a new rotation configuration (RotateImmediately off) with
            # this step alone: then the credentials to check are the current ones.
            log.info("version %s has no value: checking the current credentials", token)
            pending = await self._current()
        _expect_app_user(pending, self.allowed)
        await self.users.check(pending.username, pending.password)

    async def _finish(self, token: str, description: SecretDescription) -> None:
        """Make the pending version current; the previous one becomes AWSPREVIOUS."""
        current = description.version_labelled(CURRENT)
        await self.secret.move_current(token, current)
        log.info("version %s is current (was %s)", token, current)
