"""No credentials in `filestore serve`'s log: what a request line carries that lets someone in
is replaced by `***` before uvicorn writes it.

uvicorn logs each request's path with its query string (its access log, and its WebSocket
lines `"WebSocket /ws?token=…" [accepted]`). Credentials travel there: the WebSocket's ID token,
presigned URLs' signatures (ours, `X-Signature`, and S3's, `X-Amz-Signature` and its security
token), and share tokens, which are the path itself (`/shares/<token>`, `/s/<token>`).
"""

from __future__ import annotations

import logging
import re

REDACTED = "***"
# Query parameters whose value is a credential (compared without case).
SECRET_PARAMETERS = (
    "token",
    "access_token",
    "id_token",
    "x-signature",
    "x-amz-signature",
    "x-amz-security-token",
    "x-amz-credential",
    "signature",
)
_PARAMETER = re.compile(
    r"(?i)([?&;](?:" + "|".join(re.escape(p) for p in SECRET_PARAMETERS) + r")=)[^&;\s\"']*"
)
# A share token is a path segment after `/shares/` or the web app's `/s/`.
_SHARE_PATH = re.compile(r"(/(?:shares|s)/)[^/?#\s\"']+")
_BEARER = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+")

UVICORN_LOGGERS = ("uvicorn.access", "uvicorn.error")


def redact(text: str) -> str:
    """`text` with every credential it carries replaced by `***`."""
    text = _PARAMETER.sub(rf"\g<1>{REDACTED}", text)
    text = _SHARE_PATH.sub(rf"\g<1>{REDACTED}", text)
    return _BEARER.sub(rf"\g<1>{REDACTED}", text)


class RedactCredentials(logging.Filter):
    """A logging filter that redacts a record's message and its string arguments (keeping their
    places: uvicorn's access formatter reads its arguments by position)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            args = record.args.items()
            record.args = {k: redact(v) if isinstance(v, str) else v for k, v in args}
        return True


def redact_uvicorn_logs() -> None:
    """Put the filter on uvicorn's loggers (after uvicorn configured its logging)."""
    for name in UVICORN_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactCredentials) for f in logger.filters):
            logger.addFilter(RedactCredentials())
