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
from filestore.entrypoints.http_openapi import (
    ACCOUNT,
    BEARER,
    FILES,
    MULTIPART,
    SHARE_LINKS,
    SHARING,
    UPLOAD_LINKS,
    answers,
)
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
from filestore.entrypoints.site import CognitoSignIn, LocalSignIn, Site, site_of

# `app` lives in `http_resolver`; callers keep reaching it here, with its routes.
__all__ = ["app", "handle", "handler"]


_actor = actor
_call = call


def _site() -> Site:
    site: Site = app.context["site"]
    return site


# --- routes ------------------------------------------------------------------------------------


@app.get(
    "/me",
    operation_id="get_me",
    security=BEARER,
    tags=[ACCOUNT],
    responses=answers(200, "My account."),
)
def get_me() -> UserOut:
    """Show my account.

    Who I am (my e-mail), how much of my quota my files use (trashed and pending uploads count
    until they are gone), and whether I am told by e-mail when a file of mine is stored.
    """
    return UserOut.of(_call(commands.GetMe(_actor())))


@app.patch(
    "/me",
    operation_id="patch_me",
    security=BEARER,
    tags=[ACCOUNT],
    responses=answers(200, "My account, changed.", 400),
)
def patch_me(body: PreferencesIn) -> UserOut:
    """Change my e-mail notifications.

    Switch e-mail notifications on or off (`notify_email`); the answer is my account as it is
    now. `filestore notify on|off` does the same.
    """
    return UserOut.of(_call(commands.UpdatePreferences(_actor(), body.notify_email)))


@app.post(
    "/uploads",
    status_code=201,
    operation_id="post_upload",
    security=BEARER,
    tags=[FILES],
    responses=answers(
        201, "Declared; send the bytes where the answer says.", 400, 404, 413, links=UPLOAD_LINKS
    ),
)
def post_upload(body: UploadIn) -> SingleUploadOut | MultipartUploadOut:
    """Upload a file.

    Declare a file (name, exact size, content type and, preferably, its SHA-256) and get where
    to send its bytes: a presigned POST (`upload_url`: send its `fields`, then the file, as a
    form), or, above the multipart threshold, a plan of parts (`multipart`: go on with the
    **multipart** routes). The upload stays `pending` until storage has the bytes; then it is
    `stored` (and the WebSocket says `upload.stored`). With `on_conflict: rename` (the default)
    a name taken in the folder becomes `name (2).ext`; with `fail` it is 409 at once.
    """
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
    tags=[MULTIPART],
    responses=answers(200, "One URL per part asked for.", 400, 404),
)
def sign_parts(upload_id: str, body: PartNumbersIn) -> PartUrlsOut:
    """Get URLs for parts of a large file.

    Presigned PUT URLs, one per part number asked for, of a multipart upload. Send each part's
    hex SHA-256 (in `sha256`, in the same order) and storage checks it; each URL is signed
    for that part's exact size.
    """
    sha256s = None if body.sha256 is None else tuple(body.sha256)
    command = commands.SignParts(_actor(), upload_id, tuple(body.part_numbers), sha256s)
    return PartUrlsOut.of(_call(command))


@app.get(
    "/uploads/<upload_id>/parts",
    operation_id="list_parts",
    security=BEARER,
    tags=[MULTIPART],
    responses=answers(200, "The parts stored so far.", 404),
)
def list_parts(upload_id: str) -> StoredPartsOut:
    """List the parts already sent.

    The parts of a multipart upload that storage has, with their ETags and sizes: what a client
    skips when it resumes an interrupted upload.
    """
    return StoredPartsOut.of(_call(commands.ListParts(_actor(), upload_id)))


@app.post(
    "/uploads/<upload_id>/complete",
    operation_id="complete",
    security=BEARER,
    tags=[MULTIPART],
    responses=answers(200, "The stored file (again, if completed before).", 400, 404),
)
def complete(upload_id: str, body: CompleteIn) -> UploadOut:
    """Finish a large file.

    Assemble a multipart upload from its parts (every part, in order, with the ETag each PUT
    answered). Completing it again answers the same file.
    """
    parts = tuple(CompletedPart(p.part_number, p.etag, p.sha256) for p in body.parts)
    return UploadOut.of(_call(commands.CompleteMultipart(_actor(), upload_id, parts)))


@app.get(
    "/uploads",
    operation_id="list_uploads",
    security=BEARER,
    tags=[FILES],
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
    """List my files.

    My stored files: all of them, or those in one folder (`folder_id`, or `root`), newest first
    or sorted by `sort` and `order`; with `q`, only those whose names contain it (ignoring case
    and accents). Pages of `limit`: pass `next_cursor` back as `cursor` for the next.
    `status=pending`: my unfinished uploads, newest first (with no other filter), to resume or
    abort them.
    """
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
    tags=[FILES],
    responses=answers(200, "The upload.", 404),
)
def get_upload(upload_id: str) -> UploadOut:
    """Show a file.

    One of my files (or a pending upload): name, size, type, status, folder and verified
    checksum.
    """
    return UploadOut.of(_call(commands.GetUpload(_actor(), upload_id)))


@app.get(
    "/uploads/<upload_id>/download",
    operation_id="download",
    security=BEARER,
    tags=[FILES],
    responses=answers(200, "A presigned download link.", 404),
)
def download(upload_id: str) -> DownloadOut:
    """Download a file.

    A short-lived presigned link (see `expires_at`) that downloads the file under its name. A
    file still pending is 409.
    """
    return DownloadOut.of(_call(commands.GetDownload(_actor(), upload_id)))


@app.patch(
    "/uploads/<upload_id>",
    operation_id="rename",
    security=BEARER,
    tags=[FILES],
    responses=answers(200, "The renamed and/or moved upload.", 400, 404, 409),
)
def rename(upload_id: str, body: UploadPatchIn) -> UploadOut:
    """Rename or move a file.

    Change a file's name and/or folder (`"folder_id": null`: to the root; an absent field stays
    as it is). Metadata only: the bytes do not move. A name taken where it goes is 409, naming
    what holds it in `details`.
    """
    command = commands.UpdateUpload(_actor(), upload_id, body.name, body.folder())
    return UploadOut.of(_call(command))


@app.delete(
    "/uploads/<upload_id>",
    status_code=204,
    operation_id="delete_upload",
    security=BEARER,
    tags=[FILES],
    responses=answers(204, "In the trash, or aborted (or it already was).", 404),
)
def delete_upload(upload_id: str) -> Response[None]:
    """Delete a file.

    Put a stored file in the trash (restore it from **trash** until it is purged), or abort a
    pending upload. Deleting it again is fine (204).
    """
    _call(commands.DeleteUpload(_actor(), upload_id))
    return Response(status_code=204)


@app.post(
    "/uploads/<upload_id>/shares",
    status_code=201,
    operation_id="create_share",
    security=BEARER,
    tags=[SHARING],
    responses=answers(201, "The new share link.", 400, 404, links=SHARE_LINKS),
)
def create_share(upload_id: str, body: ShareIn) -> ShareOut:
    """Share a file.

    A link anyone can open, without signing in, until it expires (`expires_in` seconds, at most
    7 days) or is revoked. `url` is the page to hand out; programs resolve `token` with the
    public share route.
    """
    share = _call(commands.CreateShare(_actor(), upload_id, body.expires_in))
    return ShareOut.of(share, _site().share_url(share.token))


@app.get(
    "/uploads/<upload_id>/shares",
    operation_id="list_shares",
    security=BEARER,
    tags=[SHARING],
    responses=answers(200, "The live share links.", 404),
)
def list_shares(upload_id: str) -> SharesOut:
    """List a file's share links.

    The file's live share links (expired and revoked ones are gone).
    """
    shares = _call(commands.ListShares(_actor(), upload_id))
    site = _site()
    return SharesOut(items=[ShareOut.of(s, site.share_url(s.token)) for s in shares])


@app.delete(
    "/shares/<token>",
    status_code=204,
    operation_id="revoke_share",
    security=BEARER,
    tags=[SHARING],
    responses=answers(204, "Revoked.", 404),
)
def revoke_share(token: str) -> Response[None]:
    """Revoke a share link.

    The link stops working at once, for everyone.
    """
    _call(commands.RevokeShare(_actor(), token))
    return Response(status_code=204)


@app.get(
    "/shares/<token>",
    operation_id="resolve_share",
    tags=[SHARING],
    responses=answers(200, "The shared file and a short-lived link.", 404, public=True),
)
def resolve_share(token: str) -> SharedFileOut:
    """Open a share link.

    Public (no sign-in): the shared file's name and size, and a presigned download link that
    lives at most 5 minutes (and never past the share's expiry). 404 once the share expired,
    was revoked, or the file was deleted.
    """
    return SharedFileOut.of(_call(commands.ResolveShare(token)))


@app.get(
    "/auth/config",
    operation_id="auth_config",
    tags=[ACCOUNT],
    responses=answers(200, "How to sign in.", public=True),
)
def auth_config() -> LocalSignIn | CognitoSignIn:
    """How to sign in.

    Public (no sign-in): how a client signs in to this deployment: Cognito's managed login
    (authorization code with PKCE; `cli_redirect_uri` is the command line's loopback redirect),
    or the local server's e-mail form (`sign_in_url`; null where the server offers none: then
    use `filestore token`).
    """
    return _site().sign_in


# --- entrypoints -------------------------------------------------------------------------------


async def handle(
    event: dict[str, Any],
    context: Any,
    *,
    bus: MessageBus | None = None,
    public_url: str | None = None,
    site: Site | None = None,
) -> dict[str, Any]:
    """The async core: one HTTP API v2 event in, one API Gateway response out. `site` says how
    clients sign in and where share links lead (default: from the settings, served at
    `public_url`)."""
    request_id = (event.get("requestContext") or {}).get("requestId")
    bus = bus or runtime.bus()
    site = site or site_of(runtime.settings(), public_url)
    # The resolver keeps each request's state apart (`http_resolver`), and the correlation id
    # goes on this task's log keys, not on the logger every request shares: requests resolved
    # at the same time on one loop never see each other's.
    with log_keys(correlation_id=request_id) if request_id else contextlib.nullcontext():
        resolve = functools.partial(app.resolve_with, bus=bus, site=site)
        response: dict[str, Any] = await run_sync(resolve, event, context)
    return response


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """The Lambda handler (`filestore.entrypoints.http_api.handler`)."""
    return runtime.run(handle(event, context))
