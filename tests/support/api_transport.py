"""The real HTTP API in-process, for an `httpx` client: each request becomes an HTTP API v2
event for the Lambda handler (with the caller's claims, as the JWT authorizer would put them),
over whatever store `runtime` has; a presigned POST to the in-memory blob store stores the bytes
and records them as the S3 event would. No sockets."""

from __future__ import annotations

import base64
import contextlib
import io
from datetime import UTC, datetime, timedelta
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any

import httpx

from filestore.app import FileStore
from filestore.domain.ports import PresignedPost
from filestore.entrypoints import http_api
from filestore.entrypoints.runtime import runtime
from tests.support.lambda_events import LambdaContext, http_event


class InProcessApi:
    """Call it with a request, as `httpx.MockTransport` does; `claims` say who is calling."""

    def __init__(self, store: FileStore, claims: dict[str, str]) -> None:
        self.store, self.claims = store, claims

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.scheme == "memory":
            return self._storage(request)
        query = {k: v for k, v in request.url.params.items()}
        event = http_event(
            request.method,
            request.url.path,
            body=request.content.decode() if request.content else None,
            claims=self.claims,
            query=query,
        )
        with contextlib.redirect_stdout(
            io.StringIO()
        ):  # its logs and metrics, not the CLI's output
            response = http_api.handler(event, LambdaContext())
        body = response.get("body") or ""
        content = base64.b64decode(body) if response.get("isBase64Encoded") else body.encode()
        return httpx.Response(response["statusCode"], content=content,
                              headers=response.get("headers") or {})  # fmt: skip

    def _storage(self, request: httpx.Request) -> httpx.Response:
        if request.method != "POST":
            return httpx.Response(405)
        head = f"Content-Type: {request.headers['content-type']}\r\n\r\n".encode()
        form = BytesParser(policy=HTTP).parsebytes(head + request.content)
        fields: dict[str, str] = {}
        data = b""
        for part in form.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload: Any = part.get_payload(decode=True)
            if name == "file":
                data = payload
            else:
                fields[str(name)] = payload.decode()
        expires = datetime.now(UTC) + timedelta(minutes=15)
        self.store.memory_blobs.post(PresignedPost(str(request.url), fields, expires), data)
        runtime.run(self.store.record_stored(fields["key"]))
        return httpx.Response(204)
