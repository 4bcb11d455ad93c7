"""What API Gateway and Lambda do around a handler, done locally: events in, responses out.

HTTP requests become HTTP API payload-v2 events (with the JWT authorizer's claims where API
Gateway puts them), WebSocket frames become WebSocket API events, and a handler's answer becomes
the HTTP response. No business logic lives here: only the translation.
"""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

ACCOUNT_ID = "000000000000"
API_ID = "local"

# The routes of template.yaml without the JWT authorizer (`AuthorizationType: NONE`), written as
# its route keys write them; a test compares them with the template's.
PUBLIC_ROUTES: tuple[tuple[str, str], ...] = (
    ("GET", "/shares/{token}"),
    ("GET", "/openapi.json"),
    ("GET", "/docs"),
    ("GET", "/auth/config"),
)


def is_public(method: str, path: str) -> bool:
    """Whether API Gateway would route `method path` to a route without the JWT authorizer."""
    return any(
        method == public_method and _matches(route, path) for public_method, route in PUBLIC_ROUTES
    )


def _matches(route: str, path: str) -> bool:
    """A route key's path against a request's: `{name}` takes one path segment."""
    wanted, given = route.split("/"), path.split("/")
    return len(wanted) == len(given) and all(
        w == g or (w.startswith("{") and w.endswith("}"))
        for w, g in zip(wanted, given, strict=True)
    )


@dataclass
class LambdaContext:
    """The context object Lambda passes a handler (the attributes Powertools reads)."""

    function_name: str
    timeout_ms: int = 30_000
    memory_limit_in_mb: int = 512
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    log_group_name: str = "/aws/lambda/local"
    log_stream_name: str = "local"
    _deadline: float = field(default=0.0, repr=False)

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_ms / 1000

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:{ACCOUNT_ID}:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def _now_strings() -> tuple[str, int]:
    now = datetime.now(UTC)
    return now.strftime("%d/%b/%Y:%H:%M:%S +0000"), int(now.timestamp() * 1000)


def authorizer_claims(claims: Mapping[str, Any]) -> dict[str, str]:
    """Claims as the HTTP API JWT authorizer passes them on: every value a string."""
    out = {}
    for name, value in claims.items():
        if isinstance(value, bool):
            out[name] = "true" if value else "false"
        elif isinstance(value, list):
            out[name] = "[" + " ".join(str(v) for v in value) + "]"
        else:
            out[name] = str(value)
    return out


def http_event(
    *,
    method: str,
    path: str,
    raw_query: str,
    headers: list[tuple[str, str]],
    body: bytes,
    source_ip: str,
    claims: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """An API Gateway HTTP API (payload format 2.0) event for one request."""
    joined: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in headers:
        lower = name.lower()
        if lower == "cookie":
            cookies.extend(c.strip() for c in value.split(";") if c.strip())
            continue
        joined[lower] = f"{joined[lower]},{value}" if lower in joined else value
    query: dict[str, str] = {}
    for name, value in parse_qsl(raw_query, keep_blank_values=True):
        query[name] = f"{query[name]},{value}" if name in query else value
    text_types = ("application/json", "text/", "application/x-www-form-urlencoded")
    content_type = joined.get("content-type", "")
    is_text = not body or content_type.startswith(text_types)
    if is_text:
        try:
            payload = body.decode("utf-8")
        except UnicodeDecodeError:
            is_text = False
    if not is_text:
        payload = base64.b64encode(body).decode()
    when, epoch = _now_strings()
    request_context: dict[str, Any] = {
        "accountId": ACCOUNT_ID,
        "apiId": API_ID,
        "domainName": joined.get("host", "localhost"),
        "domainPrefix": joined.get("host", "localhost").split(".")[0],
        "http": {
            "method": method,
            "path": path,
            "protocol": "HTTP/1.1",
            "sourceIp": source_ip,
            "userAgent": joined.get("user-agent", ""),
        },
        "requestId": str(uuid.uuid4()),
        "routeKey": "$default",
        "stage": "$default",
        "time": when,
        "timeEpoch": epoch,
    }
    if claims is not None:
        request_context["authorizer"] = {
            "jwt": {"claims": authorizer_claims(claims), "scopes": None}
        }
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": raw_query,
        "headers": joined,
        "requestContext": request_context,
        "isBase64Encoded": not is_text,
    }
    if cookies:
        event["cookies"] = cookies
    if query:
        event["queryStringParameters"] = query
    if body:
        event["body"] = payload
    return event


@dataclass
class HttpAnswer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def http_answer(result: Any) -> HttpAnswer:
    """The HTTP response API Gateway makes of a payload-v2 handler's return value."""
    if not isinstance(result, dict) or "statusCode" not in result:
        # Payload v2 lets a handler return just a body: API Gateway answers 200 JSON.
        import json

        return HttpAnswer(200, [("content-type", "application/json")], json.dumps(result).encode())
    headers = [(k, str(v)) for k, v in (result.get("headers") or {}).items()]
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers.extend((name, str(v)) for v in values)
    headers.extend(("set-cookie", c) for c in result.get("cookies") or [])
    raw = result.get("body") or ""
    body = base64.b64decode(raw) if result.get("isBase64Encoded") else str(raw).encode()
    return HttpAnswer(int(result["statusCode"]), headers, body)


def websocket_event(
    route: str,
    connection_id: str,
    *,
    source_ip: str,
    host: str,
    body: str | None = None,
    query: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    authorizer: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """An API Gateway WebSocket API event for `$connect`, `$disconnect` or `$default`."""
    event_type = {"$connect": "CONNECT", "$disconnect": "DISCONNECT"}.get(route, "MESSAGE")
    when, epoch = _now_strings()
    context: dict[str, Any] = {
        "routeKey": route,
        "eventType": event_type,
        "extendedRequestId": str(uuid.uuid4()),
        "requestTime": when,
        "messageDirection": "IN",
        "stage": "local",
        "connectedAt": epoch,
        "requestTimeEpoch": epoch,
        "identity": {"sourceIp": source_ip},
        "requestId": str(uuid.uuid4()),
        "domainName": host,
        "connectionId": connection_id,
        "apiId": API_ID,
    }
    if authorizer is not None:
        context["authorizer"] = dict(authorizer)
    event: dict[str, Any] = {"requestContext": context, "isBase64Encoded": False}
    if route == "$connect":
        event["headers"] = dict(headers or {})
        event["queryStringParameters"] = dict(query or {})
    if body is not None:
        event["body"] = body
    return event


def authorizer_request(
    token: str | None, *, connection_id: str, source_ip: str, host: str
) -> dict[str, Any]:
    """The REQUEST authorizer event API Gateway sends for a WebSocket `$connect`."""
    event = websocket_event(
        "$connect",
        connection_id,
        source_ip=source_ip,
        host=host,
        query={"token": token} if token is not None else {},
    )
    event["type"] = "REQUEST"
    event["methodArn"] = f"arn:aws:execute-api:us-east-1:{ACCOUNT_ID}:{API_ID}/local/$connect"
    return event


def sqs_event(messages: list[dict[str, Any]], queue_arn: str, region: str) -> dict[str, Any]:
    """The event Lambda's SQS event source mapping builds from a received batch."""
    records = []
    for message in messages:
        attributes = {
            name: {
                "stringValue": value.get("StringValue"),
                "binaryValue": value.get("BinaryValue"),
                "stringListValues": [],
                "binaryListValues": [],
                "dataType": value.get("DataType", "String"),
            }
            for name, value in (message.get("MessageAttributes") or {}).items()
        }
        records.append(
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": message.get("Attributes", {}),
                "messageAttributes": attributes,
                "md5OfBody": message.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
        )
    return {"Records": records}


def scheduled_event(rule: str) -> dict[str, Any]:
    """An EventBridge scheduled event, as a schedule rule sends it."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT_ID,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": "us-east-1",
        "resources": [f"arn:aws:events:us-east-1:{ACCOUNT_ID}:rule/{rule}"],
        "detail": {},
    }
