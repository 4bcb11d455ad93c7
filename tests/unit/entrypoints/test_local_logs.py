"""`filestore serve`'s log: short lines for people on a terminal, JSON elsewhere, never a
credential, quiet when idle; and the local authorizer's 401 says why it refused."""

from __future__ import annotations

import io
import json
import logging
import logging.config
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from filestore.adapters.local.tokens import AUDIENCE, ISSUER, LocalTokenIssuer
from filestore.app import FileStore
from filestore.entrypoints import schedules
from filestore.entrypoints.auth import StaticKeys, TokenVerifier
from filestore.entrypoints.local import logs
from filestore.entrypoints.local.gateway import LambdaContext
from filestore.entrypoints.local.redaction import redact_uvicorn_logs
from filestore.entrypoints.local.unauthorized import MESSAGES, unauthorized
from filestore.entrypoints.local.verified_tokens import Refusal, VerifiedTokens
from filestore.entrypoints.observability import lambda_invocation, logger

SIGNED = "/_blobs/u/1/2?X-Amz-Signature=deadbeef&X-Signature=cafe&token=eyJhbGciOi"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def restored_logging() -> Iterator[None]:
    """`configure` changes process-wide logging: put everything back afterwards."""
    root = logging.getLogger()
    saved_root = (root.handlers[:], root.level)
    handler = logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    saved_handler = (handler.formatter, handler.stream, handler.filters[:])
    package = logging.getLogger(logger.name)
    saved_propagate = package.propagate
    credentials = logging.getLogger("botocore.credentials")
    saved_level = credentials.level
    uvicorn_loggers = [logging.getLogger(n) for n in ("uvicorn", "uvicorn.error", "uvicorn.access")]
    saved_uvicorn = [(u.handlers[:], u.level, u.propagate, u.filters[:]) for u in uvicorn_loggers]
    saved_human = logs._human
    yield
    root.handlers[:], root.level = saved_root
    handler.setFormatter(saved_handler[0])
    handler.setStream(saved_handler[1])
    handler.filters[:] = saved_handler[2]
    package.propagate = saved_propagate
    credentials.setLevel(saved_level)
    for u, (handlers, level, propagate, filters) in zip(
        uvicorn_loggers, saved_uvicorn, strict=True
    ):
        u.handlers[:], u.level, u.propagate, u.filters[:] = handlers, level, propagate, filters
    logs._human = saved_human


def _serve_logging(log_format: logs.LogFormat, stream: io.StringIO) -> None:
    """What `filestore serve` does: `configure`, then uvicorn's config, then the redaction."""
    logs.configure(log_format, stream)
    config = logs.uvicorn_log_config()
    for handler in config["handlers"].values():
        handler["stream"] = stream
    logging.config.dictConfig(config)
    redact_uvicorn_logs()


def _access(path: str, status: int = 200) -> None:
    # As uvicorn's access log calls it.
    logging.getLogger("uvicorn.access").info(
        '%s - "%s %s HTTP/%s" %d', "127.0.0.1:50000", "GET", path, "1.1", status
    )


def test_auto_means_text_on_a_terminal_and_json_elsewhere() -> None:
    assert logs.for_people("auto", Terminal()) is True
    assert logs.for_people("auto", io.StringIO()) is False
    assert logs.for_people("text", io.StringIO()) is True
    assert logs.for_people("json", Terminal()) is False


@pytest.mark.usefixtures("restored_logging")
def test_on_a_terminal_one_short_line_per_request_and_event() -> None:
    out = Terminal()
    _serve_logging("auto", out)
    _access(SIGNED, 403)
    with lambda_invocation(LambdaContext(function_name="s3-events")):
        logger.info("object u/1/2: stored", extra={"message_id": "m-1"})
    logging.getLogger("filestore.serve").warning("the scheduled relay failed")
    lines = out.getvalue().splitlines()
    assert len(lines) == 3, lines
    assert lines[0].endswith(
        "GET /_blobs/u/1/2?X-Amz-Signature=***&X-Signature=***&token=*** 403 Forbidden"
    )
    assert lines[1].endswith("s3-events: object u/1/2: stored message_id=m-1")
    assert "function_arn" not in lines[1] and "{" not in lines[1]
    assert lines[2].endswith("WARNING the scheduled relay failed")
    assert not any(line.lstrip().startswith("{") for line in lines)


@pytest.mark.usefixtures("restored_logging")
def test_without_a_terminal_every_line_is_json_and_still_redacted() -> None:
    out = io.StringIO()
    _serve_logging("auto", out)
    _access(SIGNED)
    logging.getLogger("uvicorn.error").info("Application startup complete.")
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    access = next(line for line in lines if line["logger"] == "uvicorn.access")
    assert access["path"] == "/_blobs/u/1/2?X-Amz-Signature=***&X-Signature=***&token=***"
    assert (access["method"], access["status"], access["level"]) == ("GET", 200, "INFO")
    assert "deadbeef" not in out.getvalue() and "cafe" not in out.getvalue()


@pytest.mark.usefixtures("restored_logging")
def test_botocore_does_not_announce_the_fake_credentials() -> None:
    out = Terminal()
    _serve_logging("text", out)
    logging.getLogger("botocore.credentials").info("Found credentials in environment variables.")
    assert out.getvalue() == ""


async def test_an_idle_relay_and_sweep_log_nothing(
    store: FileStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing to relay, nothing to sweep: no line every 30 s (a debug line at most)."""
    buffer = io.StringIO()
    monkeypatch.setattr(logger.registered_handler, "stream", buffer)
    context = LambdaContext(function_name="relay")
    assert await schedules.handle_relay({}, context, bus=store.bus) == {"published": 0}
    await schedules.handle_sweep({}, LambdaContext(function_name="sweep"), bus=store.bus)
    assert buffer.getvalue() == ""


@pytest.fixture
def tokens(tmp_path: Path) -> tuple[LocalTokenIssuer, VerifiedTokens]:
    issuer = LocalTokenIssuer(tmp_path)
    verifier = TokenVerifier(issuer=ISSUER, audience=AUDIENCE, keys=StaticKeys(issuer.jwks()))
    return issuer, VerifiedTokens(verifier)


def test_the_401_says_whether_the_token_was_missing_expired_or_not_valid(
    tokens: tuple[LocalTokenIssuer, VerifiedTokens],
) -> None:
    issuer, verified = tokens
    expired = issuer.issue(email="a@example.com", lifetime=-60)
    good = issuer.issue(email="a@example.com")
    cases: dict[str, Refusal] = {
        "": Refusal.MISSING,
        "Basic dXNlcjpwYXNz": Refusal.MISSING,
        "Bearer ": Refusal.MISSING,
        f"Bearer {expired}": Refusal.EXPIRED,
        "Bearer not.a.token": Refusal.INVALID,
        f"Bearer {good[:-4]}AAAA": Refusal.INVALID,
    }
    for header, reason in cases.items():
        assert verified.claims(header) is None, header
        assert verified.refusal(header) is reason, header
        answer = unauthorized(verified, header)
        body: dict[str, Any] = json.loads(bytes(answer.body))
        assert (answer.status_code, body) == (401, {"message": MESSAGES[reason]})
    assert len(set(MESSAGES.values())) == len(MESSAGES)
    assert verified.claims(f"Bearer {good}") is not None
    assert unauthorized(verified, "").headers["www-authenticate"] == "Bearer"
    challenge = unauthorized(verified, f"Bearer {expired}").headers["www-authenticate"]
    assert challenge.startswith('Bearer error="invalid_token"')
