"""The local server's functions log as Lambda invocations do: each with its own keys only.

`filestore serve` awaits the async cores, without the Lambda handlers' Logger decorators, and
runs many of them at once on one loop; the Logger is one per process.
"""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path
from typing import Any

import pytest

from filestore.adapters.local.tokens import AUDIENCE, ISSUER, LocalTokenIssuer
from filestore.app import FileStore
from filestore.entrypoints.auth import StaticKeys, TokenVerifier
from filestore.entrypoints.local import gateway
from filestore.entrypoints.local.server import lambda_functions
from filestore.entrypoints.observability import lambda_invocation, log_keys, logger
from filestore.entrypoints.runtime import runtime
from tests.support.lambda_events import load_event

CONNECTION = "TWegAdtZhvcCEBQ="


@pytest.fixture
def log_output(monkeypatch: pytest.MonkeyPatch) -> io.StringIO:
    """Where the Logger writes during the test."""
    buffer = io.StringIO()
    monkeypatch.setattr(logger.registered_handler, "stream", buffer)
    return buffer


def _lines(output: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in output.getvalue().splitlines()]


def _one(lines: list[dict[str, Any]], start: str) -> dict[str, Any]:
    [line] = [line for line in lines if str(line.get("message", "")).startswith(start)]
    return line


def test_keys_of_one_function_never_reach_the_next(
    store: FileStore, log_output: io.StringIO, tmp_path: Path
) -> None:
    """The WebSocket authorizer's and `$connect`'s keys stay off the S3 consumer's lines."""
    keys = StaticKeys(LocalTokenIssuer(tmp_path).jwks())
    verifier = TokenVerifier(issuer=ISSUER, audience=AUDIENCE, keys=keys)
    functions = lambda_functions(store.bus, public_url="http://127.0.0.1:8000", verifier=verifier)
    where = {"source_ip": "127.0.0.1", "host": "127.0.0.1:8000"}
    s3_test_event = load_event("sqs_receive")
    s3_test_event["Records"][0]["body"] = json.dumps({"Event": "s3:TestEvent"})

    async def invocations() -> None:
        request = gateway.authorizer_request("not-a-token", connection_id=CONNECTION, **where)
        await functions.websocket_authorizer(request, gateway.LambdaContext("websocket-authorizer"))
        # No authorizer context: refused, and logged with the connection's keys.
        connect = gateway.websocket_event("$connect", CONNECTION, **where)
        await functions.websocket(connect, gateway.LambdaContext("websocket"))
        await functions.s3_events(s3_test_event, gateway.LambdaContext("s3-events"))

    runtime.run(invocations())
    lines = _lines(log_output)
    refused = _one(lines, "WebSocket connection refused")
    assert refused["function_name"] == "websocket-authorizer"
    connect = _one(lines, "$connect without an authorized identity")
    assert connect["function_name"] == "websocket"
    assert (connect["connection_id"], connect["route"]) == (CONNECTION, "$connect")
    consumer = _one(lines, "record acknowledged without action")
    assert consumer["function_name"] == "s3-events"
    assert consumer["message_id"] == "19dd0b57-b21e-4ac1-bd88-01bbb068cb78"
    assert "connection_id" not in consumer
    assert "route" not in consumer


def test_invocations_running_at_once_keep_their_own_keys(
    log_output: io.StringIO,
) -> None:
    both_started = asyncio.Barrier(2)

    async def invocation(name: str) -> None:
        with lambda_invocation(gateway.LambdaContext(name)), log_keys(message_id=f"m-{name}"):
            await both_started.wait()  # the other one has set its keys by now
            logger.info("working on %s", name)
        logger.info("after %s", name)

    async def together() -> None:
        await asyncio.gather(invocation("email"), invocation("realtime"))

    runtime.run(together())
    lines = _lines(log_output)
    for name in ("email", "realtime"):
        line = _one(lines, f"working on {name}")
        assert (line["function_name"], line["message_id"]) == (name, f"m-{name}")
        after = _one(lines, f"after {name}")
        assert "message_id" not in after
        assert after.get("function_name") != name
