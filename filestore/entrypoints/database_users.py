"""The database's application user: set up at deploy, rotated by Secrets Manager.

Every function but two signs in as the application user, which may only read and write rows
(SELECT, INSERT, UPDATE, DELETE on the schema). `provision_app_user` is a step of the migrations
custom resource: it makes the user match the current version of its secret. `rotation_handler`
is the rotation function Secrets Manager calls for each of its four steps (createSecret,
setSecret, testSecret, finishSecret). Both run as the master user through the Data API; the
composition root chooses how (`filestore.bootstrap.provision_database_user`,
`rotate_database_secret`), and `filestore.adapters.dataapi.rotation` explains the rotation.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.data_classes import SecretsManagerEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from filestore.entrypoints.observability import log_keys, logger, tracer
from filestore.entrypoints.runtime import runtime

if TYPE_CHECKING:
    from filestore.settings import Settings

STEPS = frozenset({"createSecret", "setSecret", "testSecret", "finishSecret"})
# Kept back from the invocation's time, so that a step that runs out fails with a clear error.
RESERVE_MS = 2_000

Rotate = Callable[..., Awaitable[None]]


class RotationRefused(Exception):
    """The event asks for something this function does not do."""


async def provision_app_user(settings: Settings) -> str | None:
    """Set up the application user from its secret (the migrations custom resource calls it);
    its name, or None when the settings name no application user."""
    from filestore.bootstrap import provision_database_user

    return await provision_database_user(settings)


async def rotate(settings: Settings, *, step: str, token: str) -> None:
    """Run one rotation step (the composition root knows how)."""
    from filestore.bootstrap import rotate_database_secret

    await rotate_database_secret(settings, step=step, token=token)


def _time_left_s(context: Any) -> float | None:
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if not callable(remaining):
        return None
    return max(0.0, (float(remaining()) - RESERVE_MS) / 1000)


async def handle_rotation(
    event: Mapping[str, Any], context: Any, *, run: Rotate | None = None
) -> None:
    """The async core: check that the event (`{"Step", "SecretId", "ClientRequestToken"}`)
    rotates this function's secret, then run its step; `RotationRefused` if it does not."""
    settings = runtime.settings()
    step, secret_id = event.get("Step"), event.get("SecretId")
    token = event.get("ClientRequestToken")
    if step not in STEPS:
        raise RotationRefused(f"unknown rotation step {step!r}")
    if not isinstance(token, str) or not token:
        raise RotationRefused("the event has no ClientRequestToken")
    if not settings.dataapi_app_secret_arn or secret_id != settings.dataapi_app_secret_arn:
        # One function, one secret: its role may touch no other, and should not try.
        raise RotationRefused(f"this function rotates only its own secret, not {secret_id!r}")
    with log_keys(rotation_step=step, version=token):
        await asyncio.wait_for(
            (run or rotate)(settings, step=step, token=token), _time_left_s(context)
        )
        logger.info("rotation step done")


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@event_source(data_class=SecretsManagerEvent)
def rotation_handler(event: SecretsManagerEvent, context: LambdaContext) -> None:
    """The Lambda handler (`filestore.entrypoints.database_users.rotation_handler`); raises to
    tell Secrets Manager the step failed (it then retries the rotation)."""
    runtime.run(handle_rotation(event, context))
