"""No credentials in `filestore serve`'s log lines (`redaction`)."""

from __future__ import annotations

import logging

import pytest
from uvicorn.logging import AccessFormatter, DefaultFormatter

from filestore.entrypoints.local.redaction import RedactCredentials, redact

JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhIn0.c2lnbmF0dXJl"


@pytest.mark.parametrize(
    ("line", "secret"),
    [
        (f'127.0.0.1:5000 - "WebSocket /ws?token={JWT}" [accepted]', JWT),
        (f"GET /ws?a=1&TOKEN={JWT}&b=2", JWT),
        ("GET /_blobs/u/1/2?X-Expires=17&X-Signature=abcdef0123", "abcdef0123"),
        ("GET /b/k?X-Amz-Signature=deadbeef&X-Amz-Security-Token=IQoJb3", "deadbeef"),
        ("GET /b/k?X-Amz-Signature=deadbeef&X-Amz-Security-Token=IQoJb3", "IQoJb3"),
        ("GET /shares/Zm9vYmFyYmF6cXV4MTIzNDU2 HTTP/1.1", "Zm9vYmFyYmF6cXV4MTIzNDU2"),
        ("DELETE /shares/Zm9vYmFyYmF6cXV4MTIzNDU2", "Zm9vYmFyYmF6cXV4MTIzNDU2"),
        ("GET /s/Zm9vYmFyYmF6cXV4MTIzNDU2", "Zm9vYmFyYmF6cXV4MTIzNDU2"),
        (f"Authorization: Bearer {JWT}", JWT),
    ],
)
def test_credentials_are_redacted(line: str, secret: str) -> None:
    redacted = redact(line)
    assert secret not in redacted
    assert "***" in redacted


def test_the_rest_of_a_line_is_kept() -> None:
    line = "GET /uploads?limit=5&cursor=abc HTTP/1.1"
    assert redact(line) == line
    assert redact("GET /ws?token=x&limit=5") == "GET /ws?token=***&limit=5"


def _record(msg: str, *args: object, name: str = "uvicorn.access") -> logging.LogRecord:
    return logging.LogRecord(name, logging.INFO, __file__, 1, msg, args, None)


def test_uvicorns_access_and_websocket_lines_are_redacted() -> None:
    access = _record(
        '%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET", f"/ws?token={JWT}", "1.1", 101
    )
    assert RedactCredentials().filter(access)
    line = AccessFormatter("%(message)s", use_colors=False).format(access)
    assert JWT not in line
    assert line == '127.0.0.1:5000 - "GET /ws?token=*** HTTP/1.1" 101'
    websocket = _record(
        '%s - "WebSocket %s" [accepted]', "127.0.0.1:5000", f"/ws?token={JWT}", name="uvicorn.error"
    )
    RedactCredentials().filter(websocket)
    line = DefaultFormatter("%(message)s", use_colors=False).format(websocket)
    assert line == '127.0.0.1:5000 - "WebSocket /ws?token=***" [accepted]'
