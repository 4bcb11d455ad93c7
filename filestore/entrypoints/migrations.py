"""The CloudFormation custom resource that migrates the database at deploy time.

Create and Update run the migrations not yet applied (through the Data API in production), then
make the database's application user match its secret (`database_users.provision_app_user`);
Delete does nothing and succeeds (a stack delete must never be blocked by its database). Whatever
happens, a response is PUT to the request's pre-signed `ResponseURL` (else CloudFormation waits
an hour): SUCCESS, or FAILED with a reason, always with the same PhysicalResourceId (a new one
would make CloudFormation delete the "old" resource), and in time: the migrations get the
invocation's remaining time minus a reserve for the PUT.

That holds even when the function cannot run at all: the module imports the standard library
only, and the handler imports the rest as it starts, so a dependency missing from the layer is
answered FAILED, with the import error as the reason, instead of an import error that leaves
CloudFormation waiting out the resource's ServiceTimeout.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import urllib.request
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from filestore.settings import Settings

PHYSICAL_RESOURCE_ID = "filestore-database-schema"
# Kept back from the invocation's time for answering CloudFormation.
RESPONSE_RESERVE_MS = 5_000
RESPONSE_TIMEOUT_SECONDS = 10
MAX_REASON = 1_000  # CloudFormation truncates long reasons; keep the useful start

Migrate = Callable[["Settings"], Awaitable[list[int]]]
Handler = Callable[[dict[str, Any], Any], dict[str, Any]]

# Only for when Powertools' logger cannot be imported (the Lambda runtime sends it to the logs).
_startup_log = logging.getLogger(__name__)


async def migrate_database(settings: Settings) -> list[int]:
    """Apply the migrations the configured database lacks (the composition root knows how),
    then set up the application user the other functions sign in as."""
    from filestore.bootstrap import upgrade_database
    from filestore.entrypoints.database_users import provision_app_user

    applied = await upgrade_database(settings)
    await provision_app_user(settings)
    return applied


def put_response(url: str, response: dict[str, Any]) -> None:
    """PUT the custom resource's response to CloudFormation's pre-signed URL."""
    body = json.dumps(response).encode()
    # The URL is signed for an empty Content-Type: send exactly that.
    request = urllib.request.Request(  # noqa: S310 - the URL is CloudFormation's
        url, data=body, method="PUT", headers={"Content-Type": ""}
    )
    with urllib.request.urlopen(request, timeout=RESPONSE_TIMEOUT_SECONDS) as answer:  # noqa: S310 - CloudFormation's https URL  # nosec B310
        answer.read()


def _time_left_s(context: Any) -> float | None:
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if not callable(remaining):
        return None
    return max(0.0, (float(remaining()) - RESPONSE_RESERVE_MS) / 1000)


def _response(
    event: dict[str, Any], status: str, reason: str, data: dict[str, str]
) -> dict[str, Any]:
    return {
        "Status": status,
        "Reason": (reason or status)[:MAX_REASON],
        "PhysicalResourceId": event.get("PhysicalResourceId") or PHYSICAL_RESOURCE_ID,
        "StackId": event.get("StackId"),
        "RequestId": event.get("RequestId"),
        "LogicalResourceId": event.get("LogicalResourceId"),
        "NoEcho": False,
        "Data": data,
    }


async def handle(
    event: dict[str, Any], context: Any, *, migrate: Migrate | None = None
) -> dict[str, Any]:
    """The async core: do the request, then PUT (and return) the response."""
    from filestore.entrypoints.observability import logger
    from filestore.entrypoints.runtime import runtime

    request_type = event.get("RequestType")
    status, reason, data = "SUCCESS", "", {}
    try:
        if request_type in ("Create", "Update"):
            budget = _time_left_s(context)
            run = (migrate or migrate_database)(runtime.settings())
            applied = await asyncio.wait_for(run, budget)
            data = {"Applied": ",".join(str(v) for v in applied)}
            reason = f"applied migrations: {data['Applied'] or 'none needed'}"
        elif request_type == "Delete":
            reason = "nothing to do: the database is kept"
        else:
            status, reason = "FAILED", f"unknown RequestType {request_type!r}"
    except TimeoutError:
        status, reason = "FAILED", "the migrations did not finish before the function's time-out"
        logger.error(reason)
    except Exception as error:
        status, reason = "FAILED", f"migrations failed: {type(error).__name__}: {error}"
        logger.exception("migrations failed")
    response = _response(event, status, reason, data)
    try:
        await asyncio.to_thread(put_response, event["ResponseURL"], response)
    except Exception:
        logger.exception("could not send the response to CloudFormation")
        raise
    return response


@functools.cache
def _instrumented() -> Handler:
    """`handle` on the execution environment's loop, under Powertools' logger and tracer."""
    from filestore.entrypoints.observability import logger, tracer
    from filestore.entrypoints.runtime import runtime

    def run(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        return runtime.run(handle(event, context))

    instrumented: Handler = logger.inject_lambda_context(
        tracer.capture_lambda_handler(run, capture_response=False)
    )
    return instrumented


def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """The Lambda handler (`filestore.entrypoints.migrations.handler`): `handle`, or, when what
    it needs cannot be imported, a FAILED answer that says why."""
    try:
        run = _instrumented()
    except Exception as error:
        _startup_log.exception("the migrations function cannot start")
        reason = f"the migrations function cannot start: {type(error).__name__}: {error}"
        response = _response(event, "FAILED", reason, {})
        put_response(event["ResponseURL"], response)
        return response
    return run(event, context)
