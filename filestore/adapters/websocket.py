"""Realtime messages through the API Gateway WebSocket management API (`post_to_connection`)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from botocore.exceptions import ClientError

from filestore.domain.errors import ConnectionGone


def management_endpoint(websocket_endpoint: str) -> str:
    """The management API's https URL for a WebSocket API's `wss://…/stage` URL (or itself)."""
    parts = urlsplit(websocket_endpoint)
    scheme = {"wss": "https", "ws": "http"}.get(parts.scheme, parts.scheme)
    if scheme not in ("https", "http") or not parts.netloc:
        raise ValueError(f"not a WebSocket API endpoint: {websocket_endpoint!r}")
    return urlunsplit((scheme, parts.netloc, parts.path.rstrip("/"), "", ""))


class ApiGatewayRealtimeNotifier:
    """`RealtimeNotifier` on one deployed WebSocket API stage.

    The client is an `apigatewaymanagementapi` client whose endpoint is the stage's URL, built
    with bounded retries (botocore's standard mode retries throttling and 5xx answers with
    back-off). What is still an error after those is raised, never swallowed; a gone connection
    (410) is `ConnectionGone` straight away, since retrying cannot bring it back.
    """

    def __init__(self, client: Any) -> None:
        self._api = client

    async def post(self, connection_id: str, message: Mapping[str, Any]) -> None:
        data = json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode()
        try:
            await asyncio.to_thread(
                self._api.post_to_connection, ConnectionId=connection_id, Data=data
            )
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if code == "GoneException" or status == 410:
                raise ConnectionGone(f"connection {connection_id} is gone") from error
            raise
