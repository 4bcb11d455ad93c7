"""The migrations custom resource answers CloudFormation over real HTTP, whatever happens.

A tiny local HTTP server plays CloudFormation's pre-signed response URL and captures the PUT.
Loopback only; the database side is the in-memory one (nothing to migrate) or a stand-in
migration runner that fails or hangs (the real runners are tested with the SQL adapters).
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from filestore.entrypoints import migrations
from filestore.entrypoints.runtime import runtime
from filestore.settings import Settings
from tests.support.lambda_events import LambdaContext, load_event


class _Capture(BaseHTTPRequestHandler):
    received: list[dict[str, Any]]

    def do_PUT(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append(
            {
                "path": self.path,
                "content_type": self.headers.get("Content-Type"),
                "body": json.loads(body),
            }
        )
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def cloudformation() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    received: list[dict[str, Any]] = []
    handler = type("Capture", (_Capture,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/cfn-response?X-Amz-Signature=abc", received
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def _in_memory_settings() -> Iterator[None]:
    runtime.set_settings(Settings(database="memory"))
    yield
    runtime.set_settings(None)


def _event(kind: str, url: str) -> dict[str, Any]:
    event = load_event(kind)
    event["ResponseURL"] = url
    return event


@pytest.mark.parametrize("kind", ["cfn_create", "cfn_update"])
def test_create_and_update_migrate_and_answer_success(
    cloudformation: tuple[str, list[dict[str, Any]]], kind: str
) -> None:
    url, received = cloudformation
    migrations.handler(_event(kind, url), LambdaContext())
    [put] = received
    assert put["path"].startswith("/cfn-response?")
    assert put["content_type"] == ""
    body = put["body"]
    assert body["Status"] == "SUCCESS"
    assert body["PhysicalResourceId"] == migrations.PHYSICAL_RESOURCE_ID
    assert body["RequestId"] == load_event(kind)["RequestId"]
    assert body["StackId"] == load_event(kind)["StackId"]
    assert body["LogicalResourceId"] == "MyTestResource"


def test_delete_does_nothing_and_succeeds(cloudformation: tuple[str, list[dict[str, Any]]]) -> None:
    url, received = cloudformation

    async def must_not_run(settings: Settings) -> list[int]:
        raise AssertionError("Delete must not migrate")

    runtime.run(migrations.handle(_event("cfn_delete", url), LambdaContext(), migrate=must_not_run))
    assert received[0]["body"]["Status"] == "SUCCESS"
    assert received[0]["body"]["PhysicalResourceId"] == migrations.PHYSICAL_RESOURCE_ID


def test_a_failing_migration_answers_failed_with_the_reason(
    cloudformation: tuple[str, list[dict[str, Any]]],
) -> None:
    url, received = cloudformation

    async def broken(settings: Settings) -> list[int]:
        raise RuntimeError("Table 'uploads' already exists with another shape")

    response = runtime.run(
        migrations.handle(_event("cfn_create", url), LambdaContext(), migrate=broken)
    )
    [put] = received
    assert put["body"] == response
    assert response["Status"] == "FAILED"
    assert "another shape" in response["Reason"]
    assert response["PhysicalResourceId"] == migrations.PHYSICAL_RESOURCE_ID


def test_a_migration_that_would_outlive_the_function_answers_failed_in_time(
    cloudformation: tuple[str, list[dict[str, Any]]],
) -> None:
    url, received = cloudformation

    async def hangs(settings: Settings) -> list[int]:
        await asyncio.Event().wait()
        return []

    nearly_out = LambdaContext(remaining_ms=migrations.RESPONSE_RESERVE_MS + 50)
    runtime.run(migrations.handle(_event("cfn_update", url), nearly_out, migrate=hangs))
    assert received[0]["body"]["Status"] == "FAILED"
    assert "time-out" in received[0]["body"]["Reason"]
