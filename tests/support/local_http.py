"""A loopback HTTP server for tests that play the far side of a URL: it records every request
and answers each path with what the test set (CloudFormation's response URL, an issuer's JWKS).

Real HTTP on 127.0.0.1, a free port, a thread of its own; stopped by leaving the `with` block.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlsplit


@dataclass(frozen=True)
class RecordedRequest:
    """One request the server received."""

    method: str
    path: str  # with its query string
    headers: dict[str, str]  # names lower-cased
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    content_type: str


class LocalHttpServer:
    """Answers `GET`/`PUT`/`POST` on 127.0.0.1; 200 and an empty body unless `answer` said
    otherwise for that path (the query string is not part of the match)."""

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self._answers: dict[str, Answer] = {}
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def answer(
        self,
        path: str,
        body: bytes | dict[str, Any],
        *,
        status: int = 200,
        content_type: str = "application/json",
    ) -> None:
        """Answer requests for `path` with `body` (a dict is sent as JSON) from now on."""
        data = json.dumps(body).encode() if isinstance(body, dict) else body
        with self._lock:
            self._answers[path] = Answer(status, data, content_type)

    def requests_for(self, path: str) -> list[RecordedRequest]:
        """The requests received so far for `path` (query strings ignored)."""
        with self._lock:
            return [r for r in self.requests if urlsplit(r.path).path == path]

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the server is not started")
        return f"http://127.0.0.1:{self._server.server_port}"

    def start(self) -> Self:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                request = RecordedRequest(
                    method=self.command,
                    path=self.path,
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=self.rfile.read(length) if length else b"",
                )
                with owner._lock:
                    owner.requests.append(request)
                    answer = owner._answers.get(urlsplit(self.path).path, Answer(200, b"", ""))
                self.send_response(answer.status)
                if answer.content_type:
                    self.send_header("Content-Type", answer.content_type)
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)

            do_GET = do_PUT = do_POST = _serve

            def log_message(self, *args: Any) -> None:
                pass  # keep the test output for the tests

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and free the port (a later connection is refused)."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
