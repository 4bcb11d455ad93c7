"""The Cognito triggers: pre-sign-up (who may sign up) and post-confirmation (register them).

Pre-sign-up is attached only when the stack restricts sign-up to a list of e-mail domains
(`SignUpPolicy=email-domains`): it refuses a self-service sign-up (or a first sign-in through
another identity provider) whose e-mail domain is not on the list, and Cognito shows the
person the message of the refusal. An administrator's `AdminCreateUser` is an invitation and
passes whatever the domain.

Post-confirmation runs when a sign-up is confirmed and when a forgotten password is reset with
the code Cognito e-mailed. Either way the person just read mail sent to their address, so a reset
also lifts a bounce recorded against it (`ConfirmEmailDeliverable`, which registers the user too).
Cognito gives a trigger 5 seconds and fails the sign-up if it raises or times
out. Registering there is only an optimisation (every command registers its user on first
sight), so that trigger ALWAYS returns the event: the database gets a short budget, and a
failure is logged, not raised.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aws_lambda_powertools.utilities.data_classes import event_source
from aws_lambda_powertools.utilities.data_classes.cognito_user_pool_event import (
    PreSignUpTriggerEvent,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from filestore.domain.commands import Actor, Command, ConfirmEmailDeliverable, RegisterUser
from filestore.domain.messagebus import MessageBus
from filestore.entrypoints.observability import count, logger, metrics, tracer
from filestore.entrypoints.runtime import runtime
from filestore.entrypoints.sign_up import EmailDomains, email_domain

# --- post-confirmation ----------------------------------------------------------------------------

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


# --- pre-sign-up --------------------------------------------------------------------------------

# The trigger sources the allow-list judges: a person signing themselves up, and the first
# sign-in through an external identity provider. `PreSignUp_AdminCreateUser` is an invitation.
SELF_SERVICE = frozenset({"PreSignUp_SignUp", "PreSignUp_ExternalProvider"})


class SignUpRefused(Exception):
    """The sign-up is refused; Cognito shows the message to the person signing up."""


def check_sign_up(event: PreSignUpTriggerEvent, allowed: EmailDomains) -> None:
    """Raise `SignUpRefused` if the allow-list does not admit this sign-up."""
    if event.trigger_source not in SELF_SERVICE:
        return
    email = str(event.request.user_attributes.get("email") or "").strip()
    if email_domain(email) is None:
        raise SignUpRefused("Sign up with your e-mail address.")
    if not allowed.admits(email):
        # The domain the person typed is theirs to see; the list itself is not shown.
        typed = email.rpartition("@")[2].lower()
        raise SignUpRefused(
            f"Sign-up with an address at {typed} is not open here. Use your organisation's "
            "address, or ask an administrator for an invitation."
        )


@logger.inject_lambda_context
@metrics.log_metrics
@event_source(data_class=PreSignUpTriggerEvent)
def pre_sign_up(event: PreSignUpTriggerEvent, context: LambdaContext) -> dict[str, Any]:
    """The Lambda handler (`filestore.entrypoints.cognito.pre_sign_up`): the event back unchanged
    (no auto-confirmation), or `SignUpRefused`, which refuses the sign-up."""
    try:
        allowed = EmailDomains.parse(runtime.settings().signup_email_domains)
    except ValueError:
        logger.exception("FILESTORE_SIGNUP_EMAIL_DOMAINS is not a list of domain names")
        allowed = EmailDomains(())
    if not allowed.domains:
        # Fail closed: the trigger is attached only to restrict sign-up.
        logger.error("no allowed e-mail domain is configured: every sign-up is refused")
    try:
        check_sign_up(event, allowed)
    except SignUpRefused:
        logger.info("sign-up refused", extra={"trigger_source": event.trigger_source})
        count("SignUpsRefused")
        raise
    count("SignUpsAdmitted")
    return event.raw_event
