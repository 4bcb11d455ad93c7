"""`filestore serve`'s API Gateway: HTTP requests and WebSocket frames in, Lambda events out, and
a handler's answer back to HTTP. Checked against the events AWS sends (tests/events) and against
what Powertools and the production handlers read from them."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

from filestore.app import FileStore
from filestore.entrypoints import http_api
from filestore.entrypoints.local import gateway
from filestore.entrypoints.local.gateway import LambdaContext
from filestore.entrypoints.local.server import LocalServer, ServeOptions

EVENTS = Path(__file__).parents[2] / "events"


def real(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text())
    return event


def request(
    *,
    method: str = "GET",
    path: str = "/me",
    query: str = "",
    headers: list[tuple[str, str]] | None = None,
    body: bytes = b"",
    claims: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return gateway.http_event(
        method=method,
        path=path,
        raw_query=query,
        headers=headers or [("host", "127.0.0.1:8000")],
        body=body,
        source_ip="10.0.0.7",
        claims=claims,
    )


class TestHttpEvent:
    def test_has_the_shape_of_an_http_api_v2_event(self) -> None:
        event = request(claims={"sub": "s", "email": "e@example.com"}, body=b"{}", query="a=1")
        sample = real("http_api_v2")
        assert event["version"] == sample["version"] == "2.0"
        assert set(event) <= set(sample)
        assert set(event["requestContext"]) <= set(sample["requestContext"])
        assert event["requestContext"]["http"]["sourceIp"] == "10.0.0.7"
        assert (event["rawPath"], event["requestContext"]["http"]["method"]) == ("/me", "GET")

    def test_headers_are_lower_case_and_repeats_joined_with_commas(self) -> None:
        event = request(headers=[("X-Trace", "a"), ("x-trace", "b"), ("Accept", "text/plain")])
        assert event["headers"] == {"x-trace": "a,b", "accept": "text/plain"}

    def test_cookies_leave_the_headers_for_the_cookies_list(self) -> None:
        event = request(headers=[("cookie", "a=1; b=2"), ("Cookie", "c=3")])
        assert "cookie" not in event["headers"]
        assert event["cookies"] == ["a=1", "b=2", "c=3"]
        assert APIGatewayProxyEventV2(event).cookies == ["a=1", "b=2", "c=3"]

    def test_query_strings_keep_the_raw_string_and_join_repeats(self) -> None:
        event = request(query="limit=5&tag=a&tag=b&empty=&cursor=x%2By")
        assert event["rawQueryString"] == "limit=5&tag=a&tag=b&empty=&cursor=x%2By"
        assert event["queryStringParameters"] == {
            "limit": "5", "tag": "a,b", "empty": "", "cursor": "x+y",
        }  # fmt: skip
        assert "queryStringParameters" not in request(query="")

    def test_text_bodies_stay_text(self) -> None:
        body = '{"name": "ünïcode.txt"}'.encode()
        event = request(method="POST", headers=[("content-type", "application/json")], body=body)
        assert event["isBase64Encoded"] is False
        assert event["body"] == body.decode()
        assert APIGatewayProxyEventV2(event).json_body == {"name": "ünïcode.txt"}

    @pytest.mark.parametrize(
        ("content_type", "body"),
        [
            ("application/octet-stream", bytes(range(256))),
            ("application/json", b"\xff\xfe not utf-8"),  # declared text, but is not
        ],
    )
    def test_binary_bodies_are_base64(self, content_type: str, body: bytes) -> None:
        event = request(method="POST", headers=[("content-type", content_type)], body=body)
        assert event["isBase64Encoded"] is True
        assert base64.b64decode(event["body"]) == body
        assert base64.b64decode(APIGatewayProxyEventV2(event).body or "") == body

    def test_no_body_no_body_key(self) -> None:
        event = request()
        assert "body" not in event
        assert event["isBase64Encoded"] is False

    def test_claims_go_where_the_jwt_authorizer_puts_them_as_strings(self) -> None:
        claims = {"sub": "alice", "email": "a@example.com", "email_verified": True,
                  "cognito:groups": ["admins", "staff"], "auth_time": 1700000000}  # fmt: skip
        event = request(claims=claims)
        placed = event["requestContext"]["authorizer"]["jwt"]["claims"]
        assert placed == {
            "sub": "alice",
            "email": "a@example.com",
            "email_verified": "true",
            "cognito:groups": "[admins staff]",
            "auth_time": "1700000000",
        }
        sample = real("http_api_v2")["requestContext"]["authorizer"]["jwt"]
        assert set(event["requestContext"]["authorizer"]["jwt"]) == set(sample)
        assert APIGatewayProxyEventV2(event).request_context.authorizer.jwt_claim["sub"] == "alice"

    def test_public_routes_carry_no_authorizer(self) -> None:
        assert "authorizer" not in request(path="/shares/abc")["requestContext"]

    async def test_the_http_api_function_reads_the_claims_and_the_query(self) -> None:
        store = FileStore.in_memory()
        claims = {"sub": "alice", "email": "alice@example.com"}
        me = await http_api.handle(
            request(claims=claims), LambdaContext("http-api"), bus=store.bus,
            public_url="http://127.0.0.1:8000",
        )  # fmt: skip
        answer = gateway.http_answer(me)
        assert answer.status == 200
        assert json.loads(answer.body)["email"] == "alice@example.com"
        listed = await http_api.handle(
            request(path="/uploads", query="limit=0", claims=claims), LambdaContext("http-api"),
            bus=store.bus, public_url="http://127.0.0.1:8000",
        )  # fmt: skip
        assert gateway.http_answer(listed).status in (400, 422)  # the query reached validation


class TestHttpAnswer:
    def test_headers_multi_value_headers_and_cookies(self) -> None:
        answer = gateway.http_answer(
            {
                "statusCode": 201,
                "headers": {"content-type": "application/json", "x-n": 1},
                "multiValueHeaders": {"vary": ["origin", "accept"]},
                "cookies": ["a=1; Path=/", "b=2"],
                "body": '{"ok": true}',
            }
        )
        assert answer.status == 201
        assert answer.headers == [
            ("content-type", "application/json"), ("x-n", "1"), ("vary", "origin"),
            ("vary", "accept"), ("set-cookie", "a=1; Path=/"), ("set-cookie", "b=2"),
        ]  # fmt: skip
        assert answer.body == b'{"ok": true}'

    def test_base64_bodies_are_decoded(self) -> None:
        data = bytes(range(256))
        result = {"statusCode": 200, "isBase64Encoded": True,
                  "body": base64.b64encode(data).decode()}  # fmt: skip
        assert gateway.http_answer(result).body == data

    def test_a_bare_value_is_200_json_as_api_gateway_makes_it(self) -> None:
        answer = gateway.http_answer({"hello": "world"})
        assert (answer.status, json.loads(answer.body)) == (200, {"hello": "world"})
        assert ("content-type", "application/json") in answer.headers


class TestWebSocketEvents:
    def test_connect_carries_headers_query_and_the_authorizer_context(self) -> None:
        event = gateway.websocket_event(
            "$connect", "abc=", source_ip="10.0.0.7", host="localhost:8000",
            query={"token": "t"}, headers={"host": "localhost:8000"},
            authorizer={"principalId": "alice", "sub": "alice", "email": "a@example.com"},
        )  # fmt: skip
        sample = real("websocket_connect")
        assert set(event["requestContext"]) <= set(sample["requestContext"])
        context = event["requestContext"]
        assert (context["routeKey"], context["eventType"]) == ("$connect", "CONNECT")
        assert context["connectionId"] == "abc="
        assert context["identity"]["sourceIp"] == "10.0.0.7"
        assert context["authorizer"] == {
            "principalId": "alice", "sub": "alice", "email": "a@example.com",
        }  # fmt: skip
        assert event["queryStringParameters"] == {"token": "t"}
        assert event["headers"] == {"host": "localhost:8000"}

    def test_a_message_carries_its_body_and_no_headers(self) -> None:
        event = gateway.websocket_event(
            "$default", "abc=", source_ip="10.0.0.7", host="h", body='{"action": "ping"}'
        )
        sample = real("websocket_message")
        assert set(event) <= set(sample)
        assert set(event["requestContext"]) <= set(sample["requestContext"])
        assert (event["requestContext"]["eventType"], event["body"]) == (
            "MESSAGE", '{"action": "ping"}',
        )  # fmt: skip
        assert "headers" not in event
        assert "authorizer" not in event["requestContext"]

    def test_disconnect(self) -> None:
        event = gateway.websocket_event("$disconnect", "abc=", source_ip="1.2.3.4", host="h")
        assert event["requestContext"]["eventType"] == "DISCONNECT"
        assert "body" not in event

    def test_the_authorizer_request(self) -> None:
        event = gateway.authorizer_request(
            "the-token", connection_id="abc=", source_ip="1.2.3.4", host="h"
        )
        sample = real("websocket_authorizer")
        assert event["type"] == sample["type"] == "REQUEST"
        assert event["methodArn"].endswith("/$connect")
        assert event["queryStringParameters"] == {"token": "the-token"}


@pytest.mark.parametrize(
    ("method", "path", "public"),
    [
        ("GET", "/shares/tok", True),
        ("GET", "/shares/tok/more", False),
        ("DELETE", "/shares/tok", False),
        ("GET", "/openapi.json", True),
        ("GET", "/docs", True),
        ("GET", "/docs/x", False),
        ("GET", "/uploads", False),
    ],
)
def test_which_routes_skip_the_jwt_authorizer(method: str, path: str, public: bool) -> None:
    assert gateway.is_public(method, path) is public


@pytest.mark.parametrize("path", ["/uploads/a%0Ab", "/shares/%C2%A3%0A%C3%AF"])
async def test_a_path_no_route_takes_is_a_json_404(tmp_path: Path, path: str) -> None:
    """A path Starlette's router cannot match (a newline in it) gets the error body, as API
    Gateway answers, not Starlette's plain-text 404."""
    server = LocalServer(ServeOptions(data_dir=tmp_path / "data"))
    transport = httpx.ASGITransport(app=server.app())
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        answer = await client.delete(path)
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/json"
    assert answer.json() == {"message": "Not Found"}
