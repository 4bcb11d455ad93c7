"""The web publishing custom resource's translation: CloudFormation's request to a release and
a publish on in-memory ports, and the answer (status, reason, physical id) it PUTs back.
The same over real HTTP, S3 and CloudFront: tests/integration/test_web_publisher_custom_resource.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

# Loaded before the sockets are blocked: Powertools' tracer and urllib3 open sockets at import.
import filestore.entrypoints.observability  # noqa: F401
from filestore import web_release
from filestore.bootstrap import WebSite
from filestore.entrypoints import web_publisher
from tests.support.lambda_events import LambdaContext, load_event
from tests.unit.test_web_release import INDEX, MemoryBucket, MemoryCdn

PROPERTIES = {
    "Bucket": "filestore-dev-web",
    "DistributionId": "E2EXAMPLE",
    "WebUrl": "https://d111111abcdef8.cloudfront.net",
    "ApiUrl": "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com",
    "WebSocketUrl": "wss://f6g7h8i9j0.execute-api.us-east-1.amazonaws.com/dev",
    "UploadsOrigins": ["https://u.s3.us-east-1.amazonaws.com", "https://u.s3.amazonaws.com"],
    "CognitoDomain": "https://filestore-dev.auth.us-east-1.amazoncognito.com",
    "ClientId": "client",
    "CliRedirectUri": "http://localhost:53682/callback",
}


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict[str, Any]]]:
    """What the handler PUTs to CloudFormation's URL."""
    answers: list[tuple[str, dict[str, Any]]] = []
    monkeypatch.setattr(web_publisher, "put_response", lambda url, r: answers.append((url, r)))
    return answers


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> WebSite:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_bytes(INDEX)
    (tmp_path / "assets" / "app.js").write_bytes(b"export {};\n")
    monkeypatch.setattr(web_release, "WEB_ROOT", tmp_path)
    return WebSite(bucket=MemoryBucket(), cdn=MemoryCdn())


def request(
    kind: str, properties: Mapping[str, Any], physical: str | None = None
) -> dict[str, Any]:
    event = load_event(f"cfn_{kind}")
    event.update(ResponseURL="https://cloudformation.example/response", RequestId=f"{kind}-1")
    event["ResourceProperties"] = dict(properties)
    event.pop("PhysicalResourceId", None)
    if physical is not None:
        event["PhysicalResourceId"] = physical
    return event


def run(event: dict[str, Any], site: WebSite) -> dict[str, Any]:
    def factory(properties: Mapping[str, Any]) -> WebSite:
        assert properties["Bucket"] == event["ResourceProperties"]["Bucket"]
        return site

    return web_publisher.handle(event, LambdaContext(), site_factory=factory)


def test_create_publishes_and_names_the_resource_after_the_bucket(
    site: WebSite, sent: list[tuple[str, dict[str, Any]]]
) -> None:
    answer = run(request("create", PROPERTIES), site)
    assert sent == [("https://cloudformation.example/response", answer)]
    assert answer["Status"] == "SUCCESS", answer["Reason"]
    assert answer["PhysicalResourceId"] == "filestore-dev-web"
    assert answer["RequestId"] == "create-1"
    assert answer["Data"]["WebUrl"] == PROPERTIES["WebUrl"]
    assert f"assets/{answer['Data']['Release']}/app.js" in site.bucket.objects  # type: ignore[attr-defined]
    assert site.cdn.invalidations == [(("/index.html", "/config.json", "/"), "create-1")]  # type: ignore[attr-defined]


def test_an_update_to_another_bucket_takes_a_new_id_so_the_old_one_is_emptied(
    site: WebSite, sent: list[tuple[str, dict[str, Any]]]
) -> None:
    same = run(request("update", PROPERTIES, physical="filestore-dev-web"), site)
    assert same["PhysicalResourceId"] == "filestore-dev-web"
    moved = run(
        request("update", {**PROPERTIES, "Bucket": "another"}, physical="filestore-dev-web"), site
    )
    assert moved["PhysicalResourceId"] == "another"


def test_delete_empties_the_bucket_and_keeps_the_id(
    site: WebSite, sent: list[tuple[str, dict[str, Any]]]
) -> None:
    run(request("create", PROPERTIES), site)
    answer = run(request("delete", PROPERTIES, physical="filestore-dev-web"), site)
    assert answer["Status"] == "SUCCESS"
    assert answer["PhysicalResourceId"] == "filestore-dev-web"
    assert site.bucket.objects == {}  # type: ignore[attr-defined]


def test_a_request_without_what_publishing_needs_fails_and_says_what(
    site: WebSite, sent: list[tuple[str, dict[str, Any]]]
) -> None:
    incomplete = {k: v for k, v in PROPERTIES.items() if k not in ("Bucket", "ClientId")}
    answer = run(request("create", incomplete), site)
    assert answer["Status"] == "FAILED"
    assert (
        answer["Reason"]
        == "web publishing failed: BadRequest: missing properties: Bucket, ClientId"
    )
    # Some id all the same: the rollback's Delete then finds no bucket to empty, and succeeds.
    assert answer["PhysicalResourceId"] == "web-app-create-1"
    deleted = run(request("delete", incomplete, physical=answer["PhysicalResourceId"]), site)
    assert deleted["Status"] == "SUCCESS"


def test_an_unknown_request_type_fails(
    site: WebSite, sent: list[tuple[str, dict[str, Any]]]
) -> None:
    event = request("create", PROPERTIES)
    event["RequestType"] = "Replace"
    assert run(event, site)["Status"] == "FAILED"


def test_properties_become_the_deployment() -> None:
    deployment = web_publisher.deployment_of(PROPERTIES)
    assert deployment.uploads_origins == tuple(PROPERTIES["UploadsOrigins"])
    assert deployment.cli_redirect_uri == "http://localhost:53682/callback"
    # A comma-separated string is a list too; the CLI redirect has a default.
    as_string = {**PROPERTIES, "UploadsOrigins": "https://a.example, https://b.example"}
    del as_string["CliRedirectUri"]
    deployment = web_publisher.deployment_of(as_string)
    assert deployment.uploads_origins == ("https://a.example", "https://b.example")
    assert deployment.cli_redirect_uri == "http://localhost:53682/callback"
