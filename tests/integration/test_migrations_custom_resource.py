"""The migrations custom resource answers CloudFormation over real HTTP, whatever happens.

A loopback HTTP server (`tests.support.local_http`) plays CloudFormation's pre-signed response
URL and records the PUT. The database side is the in-memory one (nothing to migrate) or a stand-in
migration runner that fails or hangs (the real runners are tested with the SQL adapters).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from filestore.entrypoints import migrations
from filestore.entrypoints.runtime import runtime
from filestore.settings import Settings
from tests.support.lambda_events import LambdaContext, load_event
from tests.support.local_http import LocalHttpServer

RESPONSE_PATH = "/cfn-response"


@pytest.fixture
def cloudformation() -> Iterator[tuple[str, LocalHttpServer]]:
    """CloudFormation's pre-signed response URL, and the server that records the PUT."""
    with LocalHttpServer() as server:
        yield f"{server.base_url}{RESPONSE_PATH}?X-Amz-Signature=abc", server


def _puts(server: LocalHttpServer) -> list[dict[str, Any]]:
    return [
        {"path": r.path, "content_type": r.headers.get("content-type"), "body": r.json()}
        for r in server.requests_for(RESPONSE_PATH)
        if r.method == "PUT"
    ]


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
    cloudformation: tuple[str, LocalHttpServer], kind: str
) -> None:
    url, server = cloudformation
    migrations.handler(_event(kind, url), LambdaContext())
    [put] = _puts(server)
    assert put["path"].startswith("/cfn-response?")
    assert put["content_type"] == ""
    body = put["body"]
    assert body["Status"] == "SUCCESS"
    assert body["PhysicalResourceId"] == migrations.PHYSICAL_RESOURCE_ID
    assert body["RequestId"] == load_event(kind)["RequestId"]
    assert body["StackId"] == load_event(kind)["StackId"]
    assert body["LogicalResourceId"] == "MyTestResource"


def test_delete_does_nothing_and_succeeds(cloudformation: tuple[str, LocalHttpServer]) -> None:
    url, server = cloudformation

    async def must_not_run(settings: Settings) -> list[int]:
        raise AssertionError("Delete must not migrate")

    runtime.run(migrations.handle(_event("cfn_delete", url), LambdaContext(), migrate=must_not_run))
    assert _puts(server)[0]["body"]["Status"] == "SUCCESS"
    assert _puts(server)[0]["body"]["PhysicalResourceId"] == migrations.PHYSICAL_RESOURCE_ID


def test_a_failing_migration_answers_failed_with_the_reason(
    cloudformation: tuple[str, LocalHttpServer],
) -> None:
    url, server = cloudformation

    async def broken(settings: Settings) -> list[int]:
        raise RuntimeError("Table 'uploads' already exists with another shape")

    response = runtime.run(
        migrations.handle(_event("cfn_create", url), LambdaContext(), migrate=broken)
    )
    [put] = _puts(server)
    assert put["body"] == response
    assert response["Status"] == "FAILED"
    assert "another shape" in response["Reason"]
    assert response["PhysicalResourceId"] == migrations.PHYSICAL_RESOURCE_ID


def test_a_migration_that_would_outlive_the_function_answers_failed_in_time(
    cloudformation: tuple[str, LocalHttpServer],
) -> None:
    url, server = cloudformation

    async def hangs(settings: Settings) -> list[int]:
        await asyncio.Event().wait()
        return []

    nearly_out = LambdaContext(remaining_ms=migrations.RESPONSE_RESERVE_MS + 50)
    runtime.run(migrations.handle(_event("cfn_update", url), nearly_out, migrate=hangs))
    assert _puts(server)[0]["body"]["Status"] == "FAILED"
    assert "time-out" in _puts(server)[0]["body"]["Reason"]
