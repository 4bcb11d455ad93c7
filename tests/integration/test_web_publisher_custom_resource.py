"""The web app's publishing custom resource, end to end: LocalStack's S3 holds the app's bucket,
moto's CloudFront (LocalStack's free edition has none) takes the invalidations, and a loopback
HTTP server (`tests.support.local_http`) plays CloudFormation's pre-signed response URL.

Create publishes a release and answers SUCCESS; Updates with changed app files keep the release
they replace and delete older ones; Delete empties the bucket, and succeeds when the bucket is
already gone; whatever fails is answered FAILED with the reason, in time, even when the
function's dependencies cannot be imported.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import boto3
import pytest

from filestore import web_release
from filestore.adapters import aws
from filestore.adapters.web_site import CloudFrontInvalidator, S3SiteBucket
from filestore.bootstrap import WebSite
from filestore.entrypoints import web_publisher
from tests.support.aws import REGION
from tests.support.lambda_events import LambdaContext, load_event
from tests.support.local_http import LocalHttpServer

pytestmark = pytest.mark.integration

RESPONSE_PATH = "/cfn-response"
INDEX = b"""<!doctype html>
<html><head><meta charset="utf-8">
<script type="module" src="/assets/app.js"></script>
</head><body></body></html>
"""


def properties(bucket: str, distribution_id: str) -> dict[str, Any]:
    """What the template's WebPublication sends (CloudFormation sends strings)."""
    return {
        "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:filestore-web",
        "AppVersion": "arn:aws:lambda:us-east-1:123456789012:function:filestore-web:3",
        "Bucket": bucket,
        "DistributionId": distribution_id,
        "WebUrl": "https://d111111abcdef8.cloudfront.net",
        "ApiUrl": "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com",
        "WebSocketUrl": "wss://f6g7h8i9j0.execute-api.us-east-1.amazonaws.com/dev",
        "UploadsOrigins": [
            "https://filestore-dev-uploads-0123456789ab.s3.us-east-1.amazonaws.com",
            "https://filestore-dev-uploads-0123456789ab.s3.amazonaws.com",
        ],
        "CognitoDomain": "https://filestore-dev-0123456789ab.auth.us-east-1.amazoncognito.com",
        "ClientId": "1a2b3c4d5e6f7g8h9i0j1k2l3m",
        "CliRedirectUri": "http://localhost:53682/callback",
    }


@pytest.fixture
def cloudformation() -> Iterator[tuple[str, LocalHttpServer]]:
    with LocalHttpServer() as server:
        yield f"{server.base_url}{RESPONSE_PATH}?X-Amz-Signature=abc", server


def answers(server: LocalHttpServer) -> list[dict[str, Any]]:
    puts = [r for r in server.requests_for(RESPONSE_PATH) if r.method == "PUT"]
    assert all(r.headers.get("content-type") == "" for r in puts)
    return [r.json() for r in puts]


@pytest.fixture
def cloudfront(moto_endpoint: str) -> Any:
    return aws.client("cloudfront", region=REGION, endpoint_url=moto_endpoint)


@pytest.fixture
def distribution_id(cloudfront: Any) -> str:
    created = cloudfront.create_distribution(
        DistributionConfig={
            "CallerReference": os.urandom(6).hex(),
            "Comment": "filestore web app (test)",
            "Enabled": True,
            "Origins": {
                "Quantity": 1,
                "Items": [
                    {
                        "Id": "app",
                        "DomainName": "web.s3.us-east-1.amazonaws.com",
                        "S3OriginConfig": {"OriginAccessIdentity": ""},
                    }
                ],
            },
            "DefaultCacheBehavior": {
                "TargetOriginId": "app",
                "ViewerProtocolPolicy": "redirect-to-https",
                "CachePolicyId": "4135ea2d-6df8-44a3-9df3-4b5a84be39ad",
            },
        }
    )
    return str(created["Distribution"]["Id"])


@pytest.fixture
def web_bucket(aws_client: Callable[[str], Any]) -> str:
    """A fresh, unversioned bucket, as the template's WebBucket."""
    name = f"filestore-test-web-{os.urandom(4).hex()}"
    aws_client("s3").create_bucket(Bucket=name)
    return name


@pytest.fixture
def site_factory(
    aws_client: Callable[[str], Any], cloudfront: Any
) -> Callable[[Mapping[str, Any]], WebSite]:
    """The production adapters, S3 at LocalStack and CloudFront at moto."""

    def make(props: Mapping[str, Any]) -> WebSite:
        return WebSite(
            bucket=S3SiteBucket(aws_client("s3"), str(props["Bucket"])),
            cdn=CloudFrontInvalidator(cloudfront, str(props["DistributionId"])),
        )

    return make


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[int], None]:
    """Sets the packaged app to version `n` of a small app (the function reads its package)."""
    root = tmp_path / "web"
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_bytes(INDEX)
    monkeypatch.setattr(web_release, "WEB_ROOT", root)

    def version(n: int) -> None:
        (root / "assets" / "app.js").write_text(f"import './lib.js';\n// version {n}\n")
        (root / "assets" / "lib.js").write_text("export {};\n")

    version(1)
    return version


def event(
    kind: str, url: str, props: dict[str, Any], physical: str | None = None
) -> dict[str, Any]:
    request = load_event(f"cfn_{kind}")
    request.update(
        ResponseURL=url,
        ResourceType="Custom::WebPublication",
        LogicalResourceId="WebPublication",
        RequestId=os.urandom(8).hex(),
        ResourceProperties=props,
    )
    if physical is not None:
        request["PhysicalResourceId"] = physical
    else:
        request.pop("PhysicalResourceId", None)
    return request


def releases(s3: Any, bucket: str) -> set[str]:
    listed = s3.list_objects_v2(Bucket=bucket, Prefix="assets/").get("Contents", [])
    return {o["Key"].split("/")[1] for o in listed}


def test_create_update_and_delete_publish_keep_and_empty(
    cloudformation: tuple[str, LocalHttpServer],
    aws_client: Callable[[str], Any],
    cloudfront: Any,
    distribution_id: str,
    web_bucket: str,
    site_factory: Callable[[Mapping[str, Any]], WebSite],
    app: Callable[[int], None],
) -> None:
    url, server = cloudformation
    s3 = aws_client("s3")
    props = properties(web_bucket, distribution_id)

    created = web_publisher.handle(
        event("create", url, props), LambdaContext(), site_factory=site_factory
    )
    [answer] = answers(server)
    assert answer == created
    assert answer["Status"] == "SUCCESS", answer["Reason"]
    assert answer["PhysicalResourceId"] == web_bucket
    assert answer["LogicalResourceId"] == "WebPublication"
    first = answer["Data"]["Release"]
    assert re.fullmatch(r"[0-9a-f]{16}", first)

    # What a browser gets from the bucket, headers included.
    page = s3.get_object(Bucket=web_bucket, Key="index.html")
    assert page["CacheControl"] == "no-cache"
    assert page["ContentType"] == "text/html; charset=utf-8"
    body = page["Body"].read()
    assert f'src="/assets/{first}/app.js"'.encode() in body
    policy = re.search(rb'http-equiv="Content-Security-Policy" content="([^"]+)"', body)
    assert policy is not None
    assert (
        b"connect-src 'self' https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com "
        b"wss://f6g7h8i9j0.execute-api.us-east-1.amazonaws.com "
        b"https://filestore-dev-uploads-0123456789ab.s3.us-east-1.amazonaws.com "
        b"https://filestore-dev-uploads-0123456789ab.s3.amazonaws.com "
        b"https://filestore-dev-0123456789ab.auth.us-east-1.amazoncognito.com;"
    ) in policy[1] + b";"
    asset = s3.get_object(Bucket=web_bucket, Key=f"assets/{first}/app.js")
    assert asset["CacheControl"] == "public, max-age=31536000, immutable"
    assert asset["ContentType"] == "text/javascript; charset=utf-8"
    config = s3.get_object(Bucket=web_bucket, Key="config.json")
    assert config["CacheControl"] == "no-cache"
    assert config["ContentType"] == "application/json"
    settings = json.loads(config["Body"].read())
    assert settings["api_url"] == props["ApiUrl"]
    assert settings["ws_url"] == props["WebSocketUrl"]
    assert settings["auth"]["client_id"] == props["ClientId"]
    assert settings["auth"]["redirect_uri"] == "https://d111111abcdef8.cloudfront.net/"

    # CloudFront was told to forget the page, the config and the root, once per request.
    invalidations = cloudfront.list_invalidations(DistributionId=distribution_id)
    [made] = invalidations["InvalidationList"]["Items"]
    batch = cloudfront.get_invalidation(DistributionId=distribution_id, Id=made["Id"])
    assert batch["Invalidation"]["InvalidationBatch"]["Paths"]["Items"] == [
        "/index.html",
        "/config.json",
        "/",
    ]

    # New app files: new releases; the one replaced stays, older ones go.
    seen = [first]
    for n in (2, 3):
        app(n)
        time.sleep(1.1)  # S3 keeps LastModified to the second: the releases' order must show
        web_publisher.handle(
            event("update", url, props, physical=web_bucket),
            LambdaContext(),
            site_factory=site_factory,
        )
        answer = answers(server)[-1]
        assert answer["Status"] == "SUCCESS", answer["Reason"]
        assert answer["PhysicalResourceId"] == web_bucket
        seen.append(answer["Data"]["Release"])
    assert len(set(seen)) == 3
    assert releases(s3, web_bucket) == {seen[1], seen[2]}
    assert (
        f"/assets/{seen[2]}/".encode()
        in s3.get_object(Bucket=web_bucket, Key="index.html")["Body"].read()
    )

    # The stack goes: the bucket is emptied, so that CloudFormation can delete it.
    web_publisher.handle(
        event("delete", url, props, physical=web_bucket), LambdaContext(), site_factory=site_factory
    )
    answer = answers(server)[-1]
    assert answer["Status"] == "SUCCESS", answer["Reason"]
    assert answer["PhysicalResourceId"] == web_bucket
    assert s3.list_objects_v2(Bucket=web_bucket).get("KeyCount", 0) == 0
    s3.delete_bucket(Bucket=web_bucket)

    # A Delete that finds the bucket gone (a retried request, a rollback) succeeds too.
    web_publisher.handle(
        event("delete", url, props, physical=web_bucket), LambdaContext(), site_factory=site_factory
    )
    assert answers(server)[-1]["Status"] == "SUCCESS"


def test_the_composition_root_reaches_s3_and_cloudfront_at_the_configured_endpoint(
    cloudformation: tuple[str, LocalHttpServer],
    moto_endpoint: str,
    cloudfront: Any,
    distribution_id: str,
    app: Callable[[int], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without a test's site factory: `bootstrap.web_site` from the settings, as on Lambda
    (moto plays both services here)."""
    url, server = cloudformation
    monkeypatch.setenv("FILESTORE_AWS_ENDPOINT_URL", moto_endpoint)
    monkeypatch.setenv("FILESTORE_AWS_REGION", REGION)
    s3 = boto3.client(
        "s3",
        endpoint_url=moto_endpoint,
        region_name=REGION,
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    bucket = f"filestore-test-web-{os.urandom(4).hex()}"
    s3.create_bucket(Bucket=bucket)
    web_publisher.handler(
        event("create", url, properties(bucket, distribution_id)), LambdaContext()
    )
    [answer] = answers(server)
    assert answer["Status"] == "SUCCESS", answer["Reason"]
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]}
    assert {"index.html", "config.json"} <= keys


def test_a_failed_publish_answers_failed_with_the_reason(
    cloudformation: tuple[str, LocalHttpServer],
    distribution_id: str,
    web_bucket: str,
    site_factory: Callable[[Mapping[str, Any]], WebSite],
    app: Callable[[int], None],
) -> None:
    url, server = cloudformation
    props = properties(web_bucket, "E2NOSUCHDIST")
    web_publisher.handle(event("create", url, props), LambdaContext(), site_factory=site_factory)
    [answer] = answers(server)
    assert answer["Status"] == "FAILED"
    assert "NoSuchDistribution" in answer["Reason"]
    # The id names the bucket, so the rollback's Delete empties what was written.
    assert answer["PhysicalResourceId"] == web_bucket

    incomplete = {k: v for k, v in properties(web_bucket, distribution_id).items() if k != "ApiUrl"}
    web_publisher.handle(
        event("update", url, incomplete, physical=web_bucket),
        LambdaContext(),
        site_factory=site_factory,
    )
    answer = answers(server)[-1]
    assert answer["Status"] == "FAILED"
    assert "missing properties: ApiUrl" in answer["Reason"]
    assert answer["PhysicalResourceId"] == web_bucket


def test_a_publish_that_would_outlive_the_function_answers_failed_in_time(
    cloudformation: tuple[str, LocalHttpServer], app: Callable[[int], None]
) -> None:
    url, server = cloudformation

    def hangs(props: Mapping[str, Any]) -> WebSite:
        time.sleep(3)
        raise AssertionError("answered too late")

    nearly_out = LambdaContext(remaining_ms=web_publisher.RESPONSE_RESERVE_MS + 100)
    started = time.monotonic()
    web_publisher.handle(event("create", url, properties("b", "d")), nearly_out, site_factory=hangs)
    assert time.monotonic() - started < 2
    [answer] = answers(server)
    assert answer["Status"] == "FAILED"
    assert "time-out" in answer["Reason"]


# What Lambda would run with nothing but the `filestore` package on the path.
_WITHOUT_DEPENDENCIES = """
import json, sys
sys.path[:0] = [sys.argv[1]]
from filestore.entrypoints import web_publisher

class Context:
    def get_remaining_time_in_millis(self):
        return 60_000

print(json.dumps(web_publisher.handler(json.loads(sys.argv[2]), Context())))
"""


def test_a_function_that_cannot_import_its_dependencies_still_answers_failed(
    cloudformation: tuple[str, LocalHttpServer],
) -> None:
    url, server = cloudformation
    root = Path(__file__).resolve().parents[2]
    request = event("create", url, properties("some-bucket", "E2DIST"))
    run = subprocess.run(
        [sys.executable, "-I", "-S", "-c", _WITHOUT_DEPENDENCIES, str(root), json.dumps(request)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    [answer] = answers(server)
    assert answer["Status"] == "FAILED"
    assert "ModuleNotFoundError" in answer["Reason"]
    assert answer["PhysicalResourceId"] == "some-bucket"
