"""The WebSocket API: `$connect`, `$disconnect`, `$default`, and its Lambda REQUEST authorizer.

`handler` serves the three routes. On `$connect` the user comes from the authorizer's context
(`requestContext.authorizer.sub`/`email`), put there by `authorizer`, which verifies the Cognito
ID token the client sent as `?token=` (the identity source). `$default` answers a client's
`{"action": "ping"}` with `{"type": "pong"}` as the route response body.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from filestore.domain.commands import Actor, Connect, Disconnect
from filestore.domain.messagebus import MessageBus
from filestore.entrypoints.observability import log_keys, logger, metrics, tracer
from filestore.entrypoints.runtime import runtime

if TYPE_CHECKING:
    from filestore.entrypoints.auth import TokenVerifier


def _reply(status: int, body: dict[str, Any] | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {"statusCode": status}
    if body is not None:
        response["body"] = json.dumps(body)
    return response


def _message(body: str | None) -> dict[str, Any]:
    """What a client's message asks for: `{"type": "pong"}` for a ping, else an error."""
    try:
        data = json.loads(body or "")
    except (ValueError, RecursionError):
        return {"type": "error", "message": 'Messages are JSON, e.g. {"action": "ping"}.'}
    if isinstance(data, dict) and data.get("action") == "ping":
        return {"type": "pong"}
    return {
        "type": "error",
        "message": 'Unknown action; the only one is {"action": "ping"}. '
        "Updates about your files arrive without asking.",
    }


async def handle(
    event: dict[str, Any], context: Any, *, bus: MessageBus | None = None
) -> dict[str, Any]:
    """The async core for the three routes."""
    request = event.get("requestContext") or {}
    route, connection_id = request.get("routeKey"), str(request.get("connectionId") or "")
    with log_keys(connection_id=connection_id, route=route):
        return await _route(event, request, route, connection_id, bus)


async def _route(
    event: dict[str, Any],
    request: dict[str, Any],
    route: str | None,
    connection_id: str,
    bus: MessageBus | None,
) -> dict[str, Any]:
    if route == "$connect":
        authorizer = request.get("authorizer") or {}
        sub, email = authorizer.get("sub"), authorizer.get("email")
        if not isinstance(sub, str) or not sub or not isinstance(email, str) or not email:
            # Only reachable without the authorizer (misconfiguration): refuse the connection.
            logger.error("$connect without an authorized identity")
            return _reply(401)
        await (bus or runtime.bus()).handle(Connect(connection_id, Actor(sub=sub, email=email)))
        return _reply(200)
    if route == "$disconnect":
        await (bus or runtime.bus()).handle(Disconnect(connection_id))
        return _reply(200)
    return _reply(200, _message(event.get("body")))


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """The Lambda handler (`filestore.entrypoints.websocket_api.handler`)."""
    return runtime.run(handle(event, context))


# --- the authorizer ------------------------------------------------------------------------------


def _policy(effect: str, resource: str, principal: str) -> dict[str, Any]:
    return {
        "principalId": principal,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource}],
        },
    }


@logger.inject_lambda_context
def authorizer(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """The REQUEST authorizer (`filestore.entrypoints.websocket_api.authorizer`): `authorize`
    under the Logger's decorator."""
    return authorize(event)


def authorize(event: dict[str, Any], *, verifier: TokenVerifier | None = None) -> dict[str, Any]:
    """The authorizer's core, checking tokens with `verifier` (default: the runtime's, for the
    Cognito user pool the settings name). The local server calls it in place with its own
    issuer's verifier; with static keys it does no I/O.

    Allows `$connect` (the route ARN) to the holder of a valid ID token, passing `sub` and
    `email` on as context; denies anything else. A missing token is 401 (`Unauthorized`).
    """
    from filestore.entrypoints.auth import InvalidToken

    route_arn = event.get("methodArn", "")
    token = (event.get("queryStringParameters") or {}).get("token")
    if not token:
        raise Exception("Unauthorized")  # API Gateway's spelling for a 401
    try:
        identity = (verifier or runtime.token_verifier()).verify(token)
    except InvalidToken as error:
        logger.info("WebSocket connection refused: %s", error)
        return _policy("Deny", route_arn, "anonymous")
    except Exception:
        # Keys unreachable or misconfigured: refuse, loudly, rather than let anyone in.
        logger.exception("could not verify a WebSocket token")
        return _policy("Deny", route_arn, "anonymous")
    policy = _policy("Allow", route_arn, identity.sub)
    policy["context"] = {"sub": identity.sub, "email": identity.email}
    return policy
