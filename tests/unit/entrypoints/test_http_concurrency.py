"""Requests resolved at the same time on one loop keep their own request state.

`filestore serve` awaits the HTTP API's async core for every request on one loop: while one
request waits on I/O inside a route, others are resolved. Powertools keeps the request in
attributes of the resolver, so each must see its own event, caller and route arguments.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from filestore.app import FileStore
from filestore.domain import commands
from filestore.entrypoints import http_api
from tests.support.lambda_events import LambdaContext, http_event
from tests.unit.entrypoints.conftest import ALICE, BOB


def _body(response: dict[str, Any]) -> Any:
    return json.loads(response["body"]) if response.get("body") else None


def test_a_request_waiting_in_its_route_keeps_its_caller_while_others_are_resolved(
    store: FileStore,
) -> None:
    async def scenario() -> list[dict[str, Any]]:
        bus = store.bus
        held = asyncio.Event()
        entered = asyncio.Event()
        handle = bus.handle

        async def slow_for_alice(command: commands.Command) -> Any:
            # Alice's request stops inside its route, after validation and routing, until the
            # other requests have been resolved from start to end.
            if getattr(command, "actor", None) is not None and command.actor.sub == ALICE["sub"]:
                entered.set()
                await held.wait()
            return await handle(command)

        bus.handle = slow_for_alice  # type: ignore[method-assign]
        try:
            alice = asyncio.create_task(
                http_api.handle(
                    http_event("POST", "/uploads", claims=ALICE, json_body=_declared("a.txt")),
                    LambdaContext(),
                    bus=bus,
                )
            )
            await asyncio.wait_for(entered.wait(), 10)
            others = [
                await http_api.handle(
                    http_event("POST", "/uploads", claims=BOB, json_body=_declared("b.txt")),
                    LambdaContext(),
                    bus=bus,
                ),
                await http_api.handle(
                    http_event("GET", "/uploads/not-an-id", claims=BOB), LambdaContext(), bus=bus
                ),
            ]
            held.set()
            return [await alice, *others]
        finally:
            bus.handle = handle  # type: ignore[method-assign]

    alice, bob, missing = asyncio.run(scenario())
    assert alice["statusCode"] == 201 and bob["statusCode"] == 201
    assert _body(alice)["upload"]["name"] == "a.txt"
    assert _body(bob)["upload"]["name"] == "b.txt"
    assert missing["statusCode"] == 404
    owners = {upload.name: upload.owner_id for upload in asyncio.run(_pending(store))}
    assert owners["a.txt"] != owners["b.txt"]


def _declared(name: str) -> dict[str, Any]:
    return {"name": name, "size": 5, "content_type": "text/plain"}


async def _pending(store: FileStore) -> list[Any]:
    from datetime import UTC, datetime, timedelta

    async with store.bus.services.uow() as uow:
        return await uow.uploads.list_pending(datetime.now(UTC) + timedelta(days=1), 10)
