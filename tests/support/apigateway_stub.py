"""A small local stand-in for the API Gateway WebSocket management API, for tests.

moto accepts a post to any connection id, so it cannot show what happens when a connection is
gone. This stub answers `POST /@connections/{id}` as API Gateway does: 200 for an open
connection (and records the body), 410 with the `GoneException` shape for any other id. It can
also fail the next requests with 500, to show that the adapter retries (bounded) and then raises.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

_PREFIX = "/@connections/"


class ManagementApiStub:
    """The state behind the stub: open connections, what each received, requests seen."""

    def __init__(self) -> None:
        self.open: set[str] = set()
        self.received: dict[str, list[Any]] = {}
        self.requests = 0
        self.fail_next = 0  # answer this many coming requests with 500
        self.lock = threading.Lock()
        self.url = ""

    def open_connection(self, connection_id: str) -> None:
        with self.lock:
            self.open.add(connection_id)
            self.received.setdefault(connection_id, [])

    def close_connection(self, connection_id: str) -> None:
        with self.lock:
            self.open.discard(connection_id)


def _handler(state: ManagementApiStub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def _answer(self, status: int, body: dict[str, Any] | None, error: str = "") -> None:
            payload = json.dumps(body).encode() if body is not None else b""
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            if error:
                self.send_header("x-amzn-ErrorType", error)
            self.end_headers()
            self.wfile.write(payload)

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with state.lock:
                state.requests += 1
                failing = state.fail_next > 0
                state.fail_next -= failing
            if not self.headers.get("Authorization", "").startswith("AWS4-HMAC-SHA256 "):
                self._answer(403, {"message": "Missing Authentication Token"}, "ForbiddenException")
            elif failing:
                self._answer(500, {"message": "Internal server error"}, "InternalServerError")
            elif _PREFIX not in self.path:
                self._answer(404, {"message": "Not Found"}, "NotFoundException")
            else:
                # /<stage>/@connections/<id>
                connection_id = unquote(self.path.split(_PREFIX, 1)[1])
                with state.lock:
                    if connection_id not in state.open:
                        gone = True
                    else:
                        gone = False
                        state.received[connection_id].append(json.loads(body))
                if gone:
                    self._answer(410, {"message": None}, "GoneException")
                else:
                    self._answer(200, None)

    return Handler


@contextmanager
def management_api_stub() -> Iterator[ManagementApiStub]:
    """Run the stub on a free port of 127.0.0.1 for the duration of the block."""
    state = ManagementApiStub()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.url = f"http://127.0.0.1:{server.server_address[1]}/test"
    # The stage path ("/test") is part of the endpoint on AWS; the stub serves any stage.
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
