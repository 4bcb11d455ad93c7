"""What every route does: name its caller and run one command on the bus (see `http_api`)."""

from __future__ import annotations

from typing import Any

from filestore.domain import commands
from filestore.domain.commands import Actor
from filestore.domain.messagebus import MessageBus
from filestore.entrypoints.http_errors import Unauthenticated
from filestore.entrypoints.http_resolver import app, caller
from filestore.entrypoints.runtime import await_sync


def actor() -> Actor:
    """The signed-in caller; 401 if there is none."""
    found = caller()
    if found is None:
        raise Unauthenticated
    return found


def call(command: commands.Command) -> Any:
    """Run one command on the bus, waiting on the core's event loop (see `http_api`)."""
    bus: MessageBus = app.context["bus"]
    return await_sync(bus.handle(command))
