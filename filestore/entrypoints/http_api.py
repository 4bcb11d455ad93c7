"""The HTTP API (API Gateway HTTP API, payload v2): its routes and its Lambda handler.

Each route translates: request → one command → `bus.handle` → response model. The resolver is
set up in `http_resolver`, errors are mapped to statuses once in `http_errors` (the body
`{"message", "details"?}`), and the OpenAPI document is described and served by `http_openapi`.

How a synchronous route awaits the async bus: `resolve` is synchronous, and the bus must run on
the execution environment's kept loop (its pooled connections live there). The async core runs
`app.resolve` under `runtime.run_sync`, in a greenlet on the loop's own thread; a route's
`await_sync(bus.handle(...))` switches back to the core, which awaits the command on the loop and
switches back with the result (or raises the domain error inside the route, where the exception
handlers see it). No thread hop and no second loop per request (a thread hop cost ~40 times more
per request here), and the loop stays free for other tasks while a command waits on I/O. We do
not use `resolve_async`: it runs each synchronous middleware (the validation ones) in a new
thread per request and joins it on the loop.
"""

from __future__ import annotations

import contextlib
import functools
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from filestore.domain import commands
from filestore.domain.errors import InvalidInput
from filestore.domain.handlers import LIST_LIMIT_MAX
from filestore.domain.messagebus import MessageBus
from filestore.domain.model import OnConflict
from filestore.domain.ports import ANY_FOLDER, CompletedPart, SortField
from filestore.entrypoints import http_folders  # noqa: F401 - registers its routes
from filestore.entrypoints.folder_schemas import UploadPatchIn
from filestore.entrypoints.http_calls import actor, call
from filestore.entrypoints.http_folders import Cursor, FolderParam, folder_param
from filestore.entrypoints.http_openapi import BEARER, SHARE_LINKS, UPLOAD_LINKS, answers
from filestore.entrypoints.http_resolver import app
from filestore.entrypoints.observability import log_keys, logger, metrics, tracer
from filestore.entrypoints.runtime import run_sync, runtime
from filestore.entrypoints.schemas import (
    CompleteIn,
    DownloadOut,
    MultipartUploadOut,
    PartNumbersIn,
    PartUrlsOut,
    PreferencesIn,
    SharedFileOut,
    ShareIn,
    ShareOut,
    SharesOut,
    SingleUploadOut,
    StoredPartsOut,
    UploadIn,
    UploadOut,
    UploadPageOut,
    UserOut,
    ticket_out,
)

# `app` lives in `http_resolver`; callers keep reaching it here, with its routes.
__all__ = ["app", "handle", "handler"]


_actor = actor
_call = call


def _public_url() -> str:
    url: str = app.context["public_url"]
    return url


# --- routes ------------------------------------------------------------------------------------


@app.get("/me", operation_id="get_me", security=BEARER, tags=["me"], responses=answers(200, "Me."))
def get_me() -> UserOut:
    """Who I am, my quota and my preferences."""
    return UserOut.of(_call(commands.GetMe(_actor())))


@app.patch(
    "/me",
    operation_id="patch_me",
    security=BEARER,
    tags=["me"],
    responses=answers(200, "Me, changed.", 400),
)
def patch_me(body: PreferencesIn) -> UserOut:
    """Change my preferences (e-mail notifications)."""
    return UserOut.of(_call(commands.UpdatePreferences(_actor(), body.notify_email)))


@app.post(
    "/uploads",
    status_code=201,
    operation_id="post_upload",
    security=BEARER,
    tags=["uploads"],
    responses=answers(
        201, "Declared; send the bytes where the answer says.", 400, 404, 413, links=UPLOAD_LINKS
    ),
)
def post_upload(body: UploadIn) -> SingleUploadOut | MultipartUploadOut:
    """Declare an upload: a presigned POST, or (large files) a multipart plan."""
    command = commands.RequestUpload(
        _actor(),
        body.name,
        body.size,
        body.content_type,
        body.sha256,
        folder_id=body.folder_id,
        on_conflict=OnConflict(body.on_conflict),
        part_checksums=body.checksum_algorithm == "sha256",
    )
    return ticket_out(_call(command))


@app.post(
    "/uploads/<upload_id>/parts",
    operation_id="sign_parts",
    security=BEARER,
    tags=["uploads"],
    responses=answers(200, "One URL per part asked for.", 400, 404),
)
def sign_parts(upload_id: str, body: PartNumbersIn) -> PartUrlsOut:
    """Presigned PUT URLs for parts of a multipart upload."""
    sha256s = None if body.sha256 is None else tuple(body.sha256)
    command = commands.SignParts(_actor(), upload_id, tuple(body.part_numbers), sha256s)
    return PartUrlsOut.of(_call(command))


@app.get(
    "/uploads/<upload_id>/parts",
    operation_id="list_parts",
    security=BEARER,
    tags=["uploads"],
    responses=answers(200, "The parts stored so far.", 404),
)
def list_parts(upload_id: str) -> StoredPartsOut:
    """The parts that have arrived, to resume an interrupted upload."""
    return StoredPartsOut.of(_call(commands.ListParts(_actor(), upload_id)))


@app.post(
    "/uploads/<upload_id>/complete",
    operation_id="complete",
    security=BEARER,
    tags=["uploads"],
    responses=answers(200, "The stored file (again, if completed before).", 400, 404),
)
def complete(upload_id: str, body: CompleteIn) -> UploadOut:
    """Assemble a multipart upload from its parts; completing it again answers the same."""
    parts = tuple(CompletedPart(p.part_number, p.etag, p.sha256) for p in body.parts)
    return UploadOut.of(_call(commands.CompleteMultipart(_actor(), upload_id, parts)))


@app.get(
    "/uploads",
    operation_id="list_uploads",
    security=BEARER,
    tags=["uploads"],
    responses=answers(200, "A page of my files.", 404),
)
def list_uploads(
    limit: Annotated[int, Query(ge=1, le=LIST_LIMIT_MAX)] = 50,
    cursor: Cursor = None,
    folder_id: FolderParam = None,
    sort: Annotated[Literal["created_at", "name", "size"] | None, Query()] = None,
    order: Annotated[Literal["asc", "desc"] | None, Query()] = None,
    q: Annotated[str | None, Query(min_length=1, max_length=255)] = None,
    status: Annotated[Literal["stored", "pending"], Query()] = "stored",
) -> UploadPageOut:
    """My stored files: all of them, or those in one folder (`folder_id`, or `root`), newest
    first or sorted by `sort` and `order`; with `q`, only those whose names contain it
    (ignoring case and accents). `status=pending`: my unfinished uploads, newest first
    (with no other filter)."""
    pending = status == "pending"
    if pending and (folder_id, sort, order, q) != (None, None, None, None):
        raise InvalidInput("status=pending combines with no folder_id, sort, order or q.")
    command = commands.ListUploads(
        _actor(),
        limit,
        cursor,
        folder=ANY_FOLDER if folder_id is None else folder_param(folder_id),
        sort=SortField(sort or "created_at"),
        descending=order != "asc",
        q=q,
        pending=pending,
    )
    return UploadPageOut.of(_call(command))


@app.get(
    "/uploads/<upload_id>",
    operation_id="get_upload",
    security=BEARER,
    tags=["uploads"],
    responses=answers(200, "The upload.", 404),
)
def get_upload(upload_id: str) -> UploadOut:
    """One of my uploads."""
    return UploadOut.of(_call(commands.GetUpload(_actor(), upload_id)))


@app.get(
    "/uploads/<upload_id>/download",
    operation_id="download",
    security=BEARER,
    tags=["uploads"],
    responses=answers(200, "A presigned download link.", 404),
)
def download(upload_id: str) -> DownloadOut:
    """A short-lived link that downloads the file under its name."""
    return DownloadOut.of(_call(commands.GetDownload(_actor(), upload_id)))


@app.patch(
    "/uploads/<upload_id>",
    operation_id="rename",
    security=BEARER,
    tags=["uploads"],
    responses=answers(200, "The renamed and/or moved upload.", 400, 404, 409),
)
def rename(upload_id: str, body: UploadPatchIn) -> UploadOut:
    """Rename and/or move a file (metadata only; `"folder_id": null`: to the root); a name
    taken where it goes is 409, naming what holds it."""
    command = commands.UpdateUpload(_actor(), upload_id, body.name, body.folder())
    return UploadOut.of(_call(command))


@app.delete(
    "/uploads/<upload_id>",
    status_code=204,
    operation_id="delete_upload",
    security=BEARER,
    tags=["uploads"],
    responses=answers(204, "In the trash, or aborted (or it already was).", 404),
)
def delete_upload(upload_id: str) -> Response[None]:
    """Put a file in the trash, or abort a pending upload. Again is fine."""
    _call(commands.DeleteUpload(_actor(), upload_id))
    return Response(status_code=204)


@app.post(
    "/uploads/<upload_id>/shares",
    status_code=201,
    operation_id="create_share",
    security=BEARER,
    tags=["shares"],
    responses=answers(201, "The new share link.", 400, 404, links=SHARE_LINKS),
)
def create_share(upload_id: str, body: ShareIn) -> ShareOut:
    """A link anyone can use to download the file until it expires."""
    share = _call(commands.CreateShare(_actor(), upload_id, body.expires_in))
    return ShareOut.of(share, _public_url())


@app.get(
    "/uploads/<upload_id>/shares",
    operation_id="list_shares",
    security=BEARER,
    tags=["shares"],
    responses=answers(200, "The live share links.", 404),
)
def list_shares(upload_id: str) -> SharesOut:
    """The file's live share links."""
    shares = _call(commands.ListShares(_actor(), upload_id))
    return SharesOut(items=[ShareOut.of(s, _public_url()) for s in shares])


@app.delete(
    "/shares/<token>",
    status_code=204,
    operation_id="revoke_share",
    security=BEARER,
    tags=["shares"],
    responses=answers(204, "Revoked.", 404),
)
def revoke_share(token: str) -> Response[None]:
    """Revoke one of my share links."""
    _call(commands.RevokeShare(_actor(), token))
    return Response(status_code=204)


@app.get(
    "/shares/<token>",
    operation_id="resolve_share",
    tags=["shares"],
    responses=answers(200, "The shared file and a short-lived link.", 404, public=True),
)
def resolve_share(token: str) -> SharedFileOut:
    """Public: what a share link gives (no sign-in)."""
    return SharedFileOut.of(_call(commands.ResolveShare(token)))


# --- entrypoints -------------------------------------------------------------------------------


async def handle(
    event: dict[str, Any],
    context: Any,
    *,
    bus: MessageBus | None = None,
    public_url: str | None = None,
) -> dict[str, Any]:
    """The async core: one HTTP API v2 event in, one API Gateway response out."""
    request_id = (event.get("requestContext") or {}).get("requestId")
    bus = bus or runtime.bus()
    url = public_url or runtime.settings().public_url
    # The resolver keeps each request's state apart (`http_resolver`), and the correlation id
    # goes on this task's log keys, not on the logger every request shares: requests resolved
    # at the same time on one loop never see each other's.
    with log_keys(correlation_id=request_id) if request_id else contextlib.nullcontext():
        resolve = functools.partial(app.resolve_with, bus=bus, public_url=url)
        response: dict[str, Any] = await run_sync(resolve, event, context)
    return response


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """The Lambda handler (`filestore.entrypoints.http_api.handler`)."""
    return runtime.run(handle(event, context))
