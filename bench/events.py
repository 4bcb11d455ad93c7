"""Real-shaped events for the benchmark (built from `tests/events/`)."""

from __future__ import annotations

import json
from typing import Any

from tests.support.lambda_events import http_event, load_event, s3_body, sns_body, sqs_event

CLAIMS = {"sub": "bench-sub", "email": "bench@example.com"}


def get_me() -> dict[str, Any]:
    return http_event("GET", "/me", claims=CLAIMS)


def post_upload() -> dict[str, Any]:
    body = {"name": "notes.txt", "size": 1234, "content_type": "text/plain"}
    return http_event("POST", "/uploads", claims=CLAIMS, json_body=body)


def ws_connect() -> dict[str, Any]:
    return load_event("websocket_connect")


def s3_batch() -> dict[str, Any]:
    return sqs_event(s3_body("u/nobody/stray"))


def notification_batch() -> dict[str, Any]:
    envelope = {
        "id": "01890000-0000-7000-8000-000000000000",
        "type": "share.revoked",
        "occurred_at": "2026-01-01T12:00:00+00:00",
        "user_id": "01890000-0000-7000-8000-000000000001",
        "data": {"upload_id": "01890000-0000-7000-8000-000000000002"},
    }
    return sqs_event(sns_body(json.dumps(envelope)))


def post_confirmation() -> dict[str, Any]:
    return load_event("cognito_post_confirmation")


def scheduled() -> dict[str, Any]:
    return load_event("scheduled_event")
