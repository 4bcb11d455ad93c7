"""The CloudFormation custom resource that publishes the web app at deploy time.

Create and Update build a release of the packaged app (`filestore/web/`) for this deployment,
write it to the app's bucket, delete releases older than the one it replaces and invalidate
CloudFront (`filestore.web_release.publish`). Delete empties the bucket, so that CloudFormation
can delete it (a bucket already gone is no error). The request's `ResourceProperties` say where
(`Bucket`, `DistributionId`) and for what (`WebUrl`, `ApiUrl`, `WebSocketUrl`, `UploadsOrigins`,
`CognitoDomain`, `ClientId`, `CliRedirectUri`); `AppVersion`, the function's published version,
changes with the code, and so with the app's files, which makes CloudFormation send an Update.

Whatever happens, CloudFormation gets an answer at the request's pre-signed `ResponseURL` (as
the migrations custom resource answers it): SUCCESS, or FAILED with the reason, in time (the work
gets the invocation's remaining time minus a reserve for the answer), even when a dependency
cannot be imported (the module imports the standard library only). The PhysicalResourceId is the
bucket's name: should the bucket ever be replaced, CloudFormation then sends a Delete for the
old one, which empties it before CloudFormation deletes it.
"""

from __future__ import annotations

import concurrent.futures
import logging
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from filestore.entrypoints.migrations import MAX_REASON, RESPONSE_RESERVE_MS, put_response

if TYPE_CHECKING:
    from filestore.bootstrap import WebSite
    from filestore.settings import Settings
    from filestore.web_release import Deployment

REQUIRED = (
    "Bucket",
    "DistributionId",
    "WebUrl",
    "ApiUrl",
    "WebSocketUrl",
    "CognitoDomain",
    "ClientId",
)

# Builds the bucket and CDN ports for a request (tests give their own).
SiteFactory = Callable[[Mapping[str, Any]], "WebSite"]

_log = logging.getLogger(__name__)


class BadRequest(ValueError):
    """The request lacks what publishing needs (a template error)."""


def deployment_of(properties: Mapping[str, Any]) -> Deployment:
    """The `Deployment` the request's properties describe (CloudFormation sends strings)."""
    from filestore.web_release import Deployment

    missing = [name for name in REQUIRED if not str(properties.get(name) or "").strip()]
    if missing:
        raise BadRequest(f"missing properties: {', '.join(missing)}")
    uploads = properties.get("UploadsOrigins") or []
    if isinstance(uploads, str):
        uploads = [u for u in uploads.split(",") if u.strip()]
    deployment = Deployment(
        web_url=str(properties["WebUrl"]),
        api_url=str(properties["ApiUrl"]),
        websocket_url=str(properties["WebSocketUrl"]),
        uploads_origins=tuple(str(u).strip() for u in uploads),
        cognito_domain=str(properties["CognitoDomain"]),
        client_id=str(properties["ClientId"]),
    )
    if properties.get("CliRedirectUri"):
        deployment = replace(deployment, cli_redirect_uri=str(properties["CliRedirectUri"]))
    return deployment


def aws_site(properties: Mapping[str, Any]) -> WebSite:
    """The request's bucket and distribution, through the composition root."""
    from filestore.bootstrap import web_site
    from filestore.settings import Settings

    settings: Settings = Settings()
    return web_site(
        settings,
        bucket=str(properties["Bucket"]),
        distribution_id=str(properties["DistributionId"]),
    )


def _missing_bucket(error: BaseException) -> bool:
    """Whether S3 said the bucket does not exist (botocore's ClientError, by its code)."""
    response = getattr(error, "response", None)
    code = response.get("Error", {}).get("Code") if isinstance(response, dict) else None
    return code == "NoSuchBucket"


def _work(event: Mapping[str, Any], site_factory: SiteFactory) -> tuple[str, dict[str, str]]:
    """Do the request; (reason, data) for a SUCCESS answer, or raise."""
    from filestore.web_release import build_release, empty, publish

    request_type = event.get("RequestType")
    properties = event.get("ResourceProperties") or {}
    if request_type in ("Create", "Update"):
        release = build_release(deployment_of(properties))
        site = site_factory(properties)
        published = publish(release, site.bucket, site.cdn, str(event.get("RequestId") or ""))
        reason = (
            f"published release {published.release}; kept {', '.join(published.kept)}; "
            f"deleted {', '.join(published.deleted) or 'none'}; "
            f"invalidation {published.invalidation}"
        )
        return reason, {"Release": published.release, "WebUrl": str(properties["WebUrl"])}
    if request_type == "Delete":
        if not properties.get("Bucket"):
            return "nothing to empty: no bucket was named", {}
        try:
            count = empty(site_factory(properties).bucket)
        except Exception as error:
            if _missing_bucket(error):
                return f"nothing to empty: bucket {properties['Bucket']} is gone", {}
            raise
        return f"emptied bucket {properties['Bucket']} ({count} objects)", {}
    raise BadRequest(f"unknown RequestType {request_type!r}")


def _response(
    event: Mapping[str, Any], status: str, reason: str, data: dict[str, str]
) -> dict[str, Any]:
    properties = event.get("ResourceProperties") or {}
    # The bucket names the resource: the same bucket keeps the id (a new id would make
    # CloudFormation delete, and so empty, what was just published); a new bucket gets a new
    # id, and CloudFormation's Delete of the old one empties the old bucket.
    if event.get("RequestType") in ("Create", "Update") and properties.get("Bucket"):
        physical = str(properties["Bucket"])
    else:
        physical = str(event.get("PhysicalResourceId") or f"web-app-{event.get('RequestId')}")
    return {
        "Status": status,
        "Reason": (reason or status)[:MAX_REASON],
        "PhysicalResourceId": physical,
        "StackId": event.get("StackId"),
        "RequestId": event.get("RequestId"),
        "LogicalResourceId": event.get("LogicalResourceId"),
        "NoEcho": False,
        "Data": data,
    }


def _time_left_s(context: Any) -> float | None:
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if not callable(remaining):
        return None
    return max(0.0, (float(remaining()) - RESPONSE_RESERVE_MS) / 1000)


def _logger() -> Any:
    try:
        from filestore.entrypoints.observability import logger
    except Exception:  # an unimportable Powertools must not keep the answer from CloudFormation
        return _log
    return logger


def handle(
    event: dict[str, Any], context: Any, *, site_factory: SiteFactory | None = None
) -> dict[str, Any]:
    """Do the request in the time there is, then PUT (and return) the answer."""
    log = _logger()
    status, reason = "SUCCESS", ""
    data: dict[str, str] = {}
    # A worker thread, so that the answer goes out in time even if S3 or CloudFront hangs.
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1)
    try:
        future = pool.submit(_work, event, site_factory or aws_site)
        reason, data = future.result(timeout=_time_left_s(context))
    except concurrent.futures.TimeoutError:
        status, reason = "FAILED", "publishing did not finish before the function's time-out"
        log.error(reason)
    except Exception as error:
        status, reason = "FAILED", f"web publishing failed: {type(error).__name__}: {error}"
        log.exception("web publishing failed")
    finally:
        pool.shutdown(wait=False)
    response = _response(event, status, reason, data)
    put_response(event["ResponseURL"], response)
    log.info(reason)
    return response


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The Lambda handler (`filestore.entrypoints.web_publisher.handler`)."""
    return handle(event, context)
