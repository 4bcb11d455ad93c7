"""The Cognito post-confirmation trigger: register the new user (best-effort).

Cognito runs it when a sign-up is confirmed and when a forgotten password is reset with the code
it e-mailed. Either way the person just read mail sent to their address, so a reset also lifts
a bounce recorded against it (`ConfirmEmailDeliverable`, which registers the user too).

Cognito gives a trigger 5 seconds and fails the sign-up if it raises or times out. Registering
here is only an optimisation (every command registers its user on first sight), so this trigger
ALWAYS returns the event: the database gets a short budget, and a failure is logged, not raised.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from filestore.domain.commands import Actor, Command, ConfirmEmailDeliverable, RegisterUser
from filestore.domain.messagebus import MessageBus
from filestore.entrypoints.observability import count, logger, metrics, tracer
from filestore.entrypoints.runtime import runtime

# Well inside Cognito's 5 s, leaving time for a cold start.
DATABASE_BUDGET_SECONDS = 2.5
# A password reset with a code Cognito mailed: the address receives mail.
ACCOUNT_RECOVERED = "PostConfirmation_ConfirmForgotPassword"


async def handle(
    event: dict[str, Any],
    context: Any,
    *,
    bus: MessageBus | None = None,
    budget_seconds: float = DATABASE_BUDGET_SECONDS,
) -> dict[str, Any]:
    """The async core: register `request.userAttributes` `sub`/`email`; return the event."""
    try:
        attributes = (event.get("request") or {}).get("userAttributes") or {}
        sub, email = attributes.get("sub"), attributes.get("email")
        if not sub or not email:
            logger.warning("post-confirmation without sub or email; not registering")
            return event
        actor = Actor(sub=str(sub), email=str(email))
        reset = event.get("triggerSource") == ACCOUNT_RECOVERED
        command: Command = ConfirmEmailDeliverable(actor) if reset else RegisterUser(actor)
        await asyncio.wait_for((bus or runtime.bus()).handle(command), budget_seconds)
        count("EmailsProvenDeliverable" if reset else "UsersRegistered")
    except Exception:
        # Includes TimeoutError (Aurora resuming) and ServiceUnavailable: first sight will do it.
        logger.exception("could not register the user now; they will be on first request")
        count("RegistrationsDeferred")
    return event


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def post_confirmation(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """The Lambda handler (`filestore.entrypoints.cognito.post_confirmation`)."""
    try:
        return runtime.run(handle(event, context))
    except Exception:
        # Even building the container failed (bad configuration): never fail the sign-up.
        logger.exception("post-confirmation trigger failed")
        return event
