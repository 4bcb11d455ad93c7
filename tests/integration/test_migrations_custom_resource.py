"""The migrations custom resource answers CloudFormation over real HTTP, whatever happens.

A loopback HTTP server (`tests.support.local_http`) plays CloudFormation's pre-signed response
URL and records the PUT. The database side is the in-memory one (nothing to migrate) or a stand-in
migration runner that fails or hangs (the real runners are tested with the SQL adapters), or
there is no database side at all: a function whose dependencies cannot be imported.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
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


# What Lambda would run with nothing but the `filestore` package on the path: the standard
# library, and no third-party package at all (as with a layer that lost its packages).
_WITHOUT_DEPENDENCIES = """
import json, sys
sys.path[:0] = [sys.argv[1]]
from filestore.entrypoints import migrations

class Context:
    def get_remaining_time_in_millis(self):
        return 60_000

print(json.dumps(migrations.handler(json.loads(sys.argv[2]), Context())))
"""


def test_a_function_that_cannot_import_its_dependencies_still_answers_failed(
    cloudformation: tuple[str, LocalHttpServer],
) -> None:
    url, server = cloudformation
    root = Path(__file__).resolve().parents[2]
    event = _event("cfn_create", url)
    # -I -S: no PYTHONPATH, no site-packages: only the standard library and the package.
    run = subprocess.run(
        [sys.executable, "-I", "-S", "-c", _WITHOUT_DEPENDENCIES, str(root), json.dumps(event)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    [put] = _puts(server)
    body = put["body"]
    assert body["Status"] == "FAILED"
    assert "cannot start" in body["Reason"]
    assert "No module named" in body["Reason"]
    assert body["PhysicalResourceId"] == migrations.PHYSICAL_RESOURCE_ID
    assert body["RequestId"] == event["RequestId"]
