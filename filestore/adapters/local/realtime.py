"""The realtime port over the local server's own WebSocket connections."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Coroutine, Mapping
from typing import Any

from filestore.domain.errors import ConnectionGone

Send = Callable[[str], Coroutine[Any, Any, None]]


class LocalRealtimeNotifier:
    """Pushes messages to the sockets the local server holds open, by connection id.

    The server `attach`es a socket's send function when API Gateway would have connected it and
    `detach`es it when it closes. `post` may be called from any thread: the message is sent on
    the loop that owns the socket.
    """

    def __init__(self) -> None:
        self._sockets: dict[str, tuple[Send, asyncio.AbstractEventLoop]] = {}

    def attach(self, connection_id: str, send: Send) -> None:
        self._sockets[connection_id] = (send, asyncio.get_running_loop())

    def detach(self, connection_id: str) -> None:
        self._sockets.pop(connection_id, None)

    async def post(self, connection_id: str, message: Mapping[str, Any]) -> None:
        found = self._sockets.get(connection_id)
        if found is None:
            raise ConnectionGone(f"connection {connection_id} is gone")
        send, loop = found
        text = json.dumps(message, default=str)
        try:
            if loop is asyncio.get_running_loop():
                await send(text)
            else:
                await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(send(text), loop))
        except Exception as error:
            # The socket closed under us: to the domain that is a gone connection (410 on AWS).
            self.detach(connection_id)
            raise ConnectionGone(f"connection {connection_id} is gone") from error
