"""The HTTP API (API Gateway HTTP API, payload v2) on Powertools' `APIGatewayHttpResolver`.

Each route translates: request → one command → `bus.handle` → response model. Errors are mapped
to statuses once, by the exception handlers at the bottom, to the body `{"message", "details"?}`.
The caller's identity is the JWT authorizer's verified claims (`sub`, `email`) in
`requestContext.authorizer.jwt.claims`; the local server puts its own verified claims there.

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

import binascii
from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any, TypeVar, cast

from aws_lambda_powertools.event_handler import (
    APIGatewayHttpResolver,
    CORSConfig,
    Response,
    content_types,
)
from aws_lambda_powertools.event_handler.middlewares.openapi_validation import (
    OpenAPIRequestValidationMiddleware,
)
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.event_handler.types import EventHandlerInstance
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from filestore import __version__
from filestore.domain import commands
from filestore.domain.commands import Actor
from filestore.domain.errors import (
    AlreadyExists,
    ConcurrencyConflict,
    Conflict,
    FilestoreError,
    InvalidInput,
    NotFound,
    ServiceUnavailable,
    TooLarge,
)
from filestore.domain.handlers import LIST_LIMIT_MAX
from filestore.domain.messagebus import MessageBus
from filestore.domain.ports import CompletedPart
from filestore.entrypoints.observability import logger, metrics, tracer
from filestore.entrypoints.runtime import OneAtATime, await_sync, run_sync, runtime
from filestore.entrypoints.schemas import (
    CompleteIn,
    DownloadOut,
    ErrorOut,
    MultipartUploadOut,
    PartNumbersIn,
    PartUrlsOut,
    PreferencesIn,
    RenameIn,
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


def _cors() -> CORSConfig:
    origins = [o.strip() for o in runtime.settings().cors_origins.split(",") if o.strip()]
    origins = origins or ["*"]
    return CORSConfig(
        allow_origin=origins[0],
        extra_origins=origins[1:],
        allow_headers=["Authorization", "Content-Type"],
        max_age=600,
    )


class _JsonBodiesOnly(OpenAPIRequestValidationMiddleware):
    """Powertools' request validation, reading a body as JSON only.

    Powertools also reads forms and multipart bodies (not part of this API: clients would get
    puzzling 422s), and its multipart parser raises a bare `ValueError`, a 500, when the header
    has no boundary. Media types are compared without case, as RFC 9110 says; `+json` types are
    JSON too.
    """

    def _get_body(self, app: EventHandlerInstance) -> dict[str, Any]:
        content_type = app.current_event.headers.get("content-type") or ""
        media_type = content_type.split(";", 1)[0].strip().lower()
        if media_type in ("", content_types.APPLICATION_JSON) or media_type.endswith("+json"):
            body: dict[str, Any] = self._parse_json_data(app)
            return body
        raise RequestUnsupportedContentType(
            "Unsupported content type",
            errors=[{"type": "unsupported_content_type", "loc": ("body",), "msg": media_type}],
        )


app = APIGatewayHttpResolver(enable_validation=True, cors=_cors())
# Powertools builds each route's middleware stack from this attribute, on first use.
app._request_validation_middleware = _JsonBodiesOnly()  # type: ignore[no-untyped-call]

OPENAPI: dict[str, Any] = {
    "title": "filestore",
    "version": __version__,
    "description": (
        "Upload files straight to S3, list, rename, download, share and delete them. "
        "Send `Authorization: Bearer <ID token>` (Cognito, or `filestore token` locally)."
    ),
    "security_schemes": {
        "bearer": HTTPBearer(bearerFormat="JWT", description="An ID token of the user pool.")
    },
}
BEARER: list[dict[str, list[str]]] = [{"bearer": []}]
"""Routes that need a signed-in user; the rest are public."""

app.enable_swagger(path="/docs", compress=True, **OPENAPI)

_ERRORS: dict[int, OpenAPIResponse] = {
    400: {"description": "Bad input: undecodable or malformed body."},
    401: {
        "description": "No valid bearer token.",
        "headers": {"WWW-Authenticate": {"schema": {"type": "string"}}},
    },
    404: {"description": "No such thing (or not yours)."},
    409: {"description": "The thing is in the wrong state for this (e.g. still pending)."},
    413: {"description": "Over the size limit or over the quota."},
    422: {"description": "A value breaks a rule; `details` says which, when it can."},
    503: {
        "description": "The database is waking up; try again after `Retry-After` seconds.",
        "headers": {"Retry-After": {"schema": {"type": "string"}}},
    },
}


def _links(expression: str, parameter: str, *operations: str) -> dict[str, Any]:
    """OpenAPI links: where a value in this answer (`expression`) goes in other operations."""
    return {op: {"operationId": op, "parameters": {parameter: expression}} for op in operations}


_UPLOAD_LINKS = _links(
    "$response.body#/upload/id",
    "upload_id",
    *("get_upload", "rename", "delete_upload", "download", "create_share", "list_shares"),
    *("sign_parts", "list_parts", "complete"),
)
_SHARE_LINKS = _links("$response.body#/token", "token", "resolve_share", "revoke_share")


def _answers(
    status: int,
    description: str,
    *errors: int,
    public: bool = False,
    links: dict[str, Any] | None = None,
) -> dict[int, OpenAPIResponse]:
    """A route's documented answers: its success (the schema is its return type), then the
    errors it can give, each with the body `ErrorOut`. Every route may give 422 (a parameter
    that breaks a rule) and 503; a route that needs a user also 401, and 409 (two first
    requests of a new user racing to register them, or two writes to one row)."""
    answers: dict[int, OpenAPIResponse] = {status: {"description": description}}
    if links:
        answers[status]["links"] = links
    if status == 204:
        answers[status]["content"] = {}
    codes = {*errors, 422, 503} | (set() if public else {401, 409})
    for code in sorted(codes):
        answers[code] = {
            **_ERRORS[code],
            "content": {content_types.APPLICATION_JSON: {"model": ErrorOut}},
        }
    return answers


class Unauthenticated(Exception):
    """The request carries no verified identity."""


def _identity() -> Actor | None:
    """Who is asking: the verified JWT claims the authorizer put in the request context."""
    context = app.current_event.raw_event.get("requestContext") or {}
    claims = ((context.get("authorizer") or {}).get("jwt") or {}).get("claims") or {}
    sub, email = claims.get("sub"), claims.get("email")
    if not isinstance(sub, str) or not sub or not isinstance(email, str) or not email:
        return None
    return Actor(sub=sub, email=email)


def _actor() -> Actor:
    actor = _identity()
    if actor is None:
        raise Unauthenticated
    return actor


def _anonymous_on_a_protected_route() -> bool:
    """Validation runs before the route: an anonymous caller must get 401, not a 4xx about a
    body they may not send at all (API Gateway's authorizer would have stopped them first)."""
    route = app.context.get("_route")
    return bool(route is not None and route.security) and _identity() is None


def _call(command: commands.Command) -> Any:
    """Run one command on the bus, waiting on the core's event loop (see the module doc)."""
    bus: MessageBus = app.context["bus"]
    return await_sync(bus.handle(command))


def _public_url() -> str:
    url: str = app.context["public_url"]
    return url


# --- routes ------------------------------------------------------------------------------------


@app.get("/me", operation_id="get_me", security=BEARER, tags=["me"], responses=_answers(200, "Me."))
def get_me() -> UserOut:
    """Who I am, my quota and my preferences."""
    return UserOut.of(_call(commands.GetMe(_actor())))


@app.patch(
    "/me",
    operation_id="patch_me",
    security=BEARER,
    tags=["me"],
    responses=_answers(200, "Me, changed.", 400),
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
    responses=_answers(
        201, "Declared; send the bytes where the answer says.", 400, 413, links=_UPLOAD_LINKS
    ),
)
def post_upload(body: UploadIn) -> SingleUploadOut | MultipartUploadOut:
    """Declare an upload: a presigned POST, or (large files) a multipart plan."""
    command = commands.RequestUpload(_actor(), body.name, body.size, body.content_type, body.sha256)
    return ticket_out(_call(command))


@app.post(
    "/uploads/<upload_id>/parts",
    operation_id="sign_parts",
    security=BEARER,
    tags=["uploads"],
    responses=_answers(200, "One URL per part asked for.", 400, 404),
)
def sign_parts(upload_id: str, body: PartNumbersIn) -> PartUrlsOut:
    """Presigned PUT URLs for parts of a multipart upload."""
    command = commands.SignParts(_actor(), upload_id, tuple(body.part_numbers))
    return PartUrlsOut.of(_call(command))


@app.get(
    "/uploads/<upload_id>/parts",
    operation_id="list_parts",
    security=BEARER,
    tags=["uploads"],
    responses=_answers(200, "The parts stored so far.", 404),
)
def list_parts(upload_id: str) -> StoredPartsOut:
    """The parts that have arrived, to resume an interrupted upload."""
    return StoredPartsOut.of(_call(commands.ListParts(_actor(), upload_id)))


@app.post(
    "/uploads/<upload_id>/complete",
    operation_id="complete",
    security=BEARER,
    tags=["uploads"],
    responses=_answers(200, "The stored file.", 400, 404),
)
def complete(upload_id: str, body: CompleteIn) -> UploadOut:
    """Assemble a multipart upload from its parts."""
    parts = tuple(CompletedPart(p.part_number, p.etag) for p in body.parts)
    return UploadOut.of(_call(commands.CompleteMultipart(_actor(), upload_id, parts)))


@app.get(
    "/uploads",
    operation_id="list_uploads",
    security=BEARER,
    tags=["uploads"],
    responses=_answers(200, "A page of my stored files."),
)
def list_uploads(
    limit: Annotated[int, Query(ge=1, le=LIST_LIMIT_MAX)] = 50,
    cursor: Annotated[
        str | None, Query(min_length=1, max_length=512, pattern="^[A-Za-z0-9_-]+$")
    ] = None,
) -> UploadPageOut:
    """My stored files, newest first."""
    return UploadPageOut.of(_call(commands.ListUploads(_actor(), limit, cursor)))


@app.get(
    "/uploads/<upload_id>",
    operation_id="get_upload",
    security=BEARER,
    tags=["uploads"],
    responses=_answers(200, "The upload.", 404),
)
def get_upload(upload_id: str) -> UploadOut:
    """One of my uploads."""
    return UploadOut.of(_call(commands.GetUpload(_actor(), upload_id)))


@app.get(
    "/uploads/<upload_id>/download",
    operation_id="download",
    security=BEARER,
    tags=["uploads"],
    responses=_answers(200, "A presigned download link.", 404),
)
def download(upload_id: str) -> DownloadOut:
    """A short-lived link that downloads the file under its name."""
    return DownloadOut.of(_call(commands.GetDownload(_actor(), upload_id)))


@app.patch(
    "/uploads/<upload_id>",
    operation_id="rename",
    security=BEARER,
    tags=["uploads"],
    responses=_answers(200, "The renamed upload.", 400, 404),
)
def rename(upload_id: str, body: RenameIn) -> UploadOut:
    """Rename a file (metadata only)."""
    return UploadOut.of(_call(commands.RenameUpload(_actor(), upload_id, body.name)))


@app.delete(
    "/uploads/<upload_id>",
    status_code=204,
    operation_id="delete_upload",
    security=BEARER,
    tags=["uploads"],
    responses=_answers(204, "Deleted (or it already was).", 404),
)
def delete_upload(upload_id: str) -> Response[None]:
    """Delete a file, or abort a pending upload. Deleting again is fine."""
    _call(commands.DeleteUpload(_actor(), upload_id))
    return Response(status_code=204)


@app.post(
    "/uploads/<upload_id>/shares",
    status_code=201,
    operation_id="create_share",
    security=BEARER,
    tags=["shares"],
    responses=_answers(201, "The new share link.", 400, 404, links=_SHARE_LINKS),
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
    responses=_answers(200, "The live share links.", 404),
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
    responses=_answers(204, "Revoked.", 404),
)
def revoke_share(token: str) -> Response[None]:
    """Revoke one of my share links."""
    _call(commands.RevokeShare(_actor(), token))
    return Response(status_code=204)


@app.get(
    "/shares/<token>",
    operation_id="resolve_share",
    tags=["shares"],
    responses=_answers(200, "The shared file and a short-lived link.", 404, public=True),
)
def resolve_share(token: str) -> SharedFileOut:
    """Public: what a share link gives (no sign-in)."""
    return SharedFileOut.of(_call(commands.ResolveShare(token)))


@app.get("/openapi.json", include_in_schema=False)
def openapi_document() -> Response[str]:
    """The OpenAPI document (also at `/docs?format=json`)."""
    return Response(
        status_code=200,
        content_type=content_types.APPLICATION_JSON,
        body=_openapi_json(),
    )


_openapi_cache: list[str] = []


def _openapi_json() -> str:
    if not _openapi_cache:
        _openapi_cache.append(app.get_openapi_json_schema(**OPENAPI))
    return _openapi_cache[0]


# --- errors, mapped once -----------------------------------------------------------------------

F = TypeVar("F", bound=Callable[..., Any])


def _on(*kinds: type[Exception]) -> Callable[[F], F]:
    """`app.exception_handler`, typed."""
    return cast(Callable[[F], F], app.exception_handler(list(kinds)))


def _error(
    status: int,
    message: str,
    details: Sequence[Mapping[str, Any]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response[dict[str, Any]]:
    body: dict[str, Any] = {"message": message}
    if details:
        body["details"] = list(details)
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=body,
        headers=dict(headers or {}),
    )


_STATUS: tuple[tuple[type[FilestoreError], int], ...] = (
    (NotFound, 404),
    (TooLarge, 413),
    (InvalidInput, 422),
    (Conflict, 409),
    (AlreadyExists, 409),
    (ConcurrencyConflict, 409),
)


@_on(FilestoreError)
def _domain_error(error: FilestoreError) -> Response[dict[str, Any]]:
    if isinstance(error, ServiceUnavailable):
        logger.warning("service unavailable: %s", error.message)
        return _error(
            503,
            "The service is waking up; try again shortly.",
            headers={"Retry-After": str(error.retry_after)},
        )
    for kind, status in _STATUS:
        if isinstance(error, kind):
            details = error.details if isinstance(error, InvalidInput) else None
            return _error(status, error.message, details)
    logger.exception("unmapped domain error")
    return _error(500, "Something went wrong on our side.")


@_on(Unauthenticated)
def _unauthenticated(_: Unauthenticated) -> Response[dict[str, Any]]:
    return _error(
        401,
        "Sign in: send a valid ID token as 'Authorization: Bearer <token>'.",
        headers={"WWW-Authenticate": "Bearer"},
    )


@_on(RequestValidationError)
def _invalid_request(error: RequestValidationError) -> Response[dict[str, Any]]:
    if _anonymous_on_a_protected_route():
        return _unauthenticated(Unauthenticated())
    errors = error.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        return _error(400, "The request body is not valid JSON.")
    if any(tuple(e.get("loc", ())) == ("body",) for e in errors):
        # The body as a whole is missing or not an object (`[1]`, `"x"`, `null`).
        return _error(400, "The request body must be a JSON object.")
    details = [
        {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
        for e in errors
    ]
    return _error(422, "The request is not valid; see details.", details)


@_on(RequestUnsupportedContentType)
def _unsupported_content_type(_: RequestUnsupportedContentType) -> Response[dict[str, Any]]:
    if _anonymous_on_a_protected_route():
        return _unauthenticated(Unauthenticated())
    return _error(400, "Send a JSON body with 'Content-Type: application/json'.")


# Last resort for bodies the JSON decoder cannot take: invalid UTF-8 (after base64), invalid
# base64, nesting deeper than the interpreter's recursion limit. Raised while the request is
# decoded, before any route runs, so they are the client's doing, never a 500.
@_on(UnicodeDecodeError, binascii.Error, RecursionError)
def _undecodable(_: Exception) -> Response[dict[str, Any]]:
    if _anonymous_on_a_protected_route():
        return _unauthenticated(Unauthenticated())
    return _error(400, "The request body could not be decoded; send UTF-8 JSON.")


@app.not_found
def _no_route(_: Exception) -> Response[dict[str, Any]]:
    return _error(404, "No such route.")


# --- entrypoints -------------------------------------------------------------------------------

_one_at_a_time = OneAtATime()


async def handle(
    event: dict[str, Any],
    context: Any,
    *,
    bus: MessageBus | None = None,
    public_url: str | None = None,
) -> dict[str, Any]:
    """The async core: one HTTP API v2 event in, one API Gateway response out."""
    request_id = (event.get("requestContext") or {}).get("requestId")
    if request_id:
        logger.set_correlation_id(request_id)
    bus = bus or runtime.bus()
    # Powertools keeps the request in class attributes: one request in the resolver at a time.
    async with _one_at_a_time():
        app.context.update(bus=bus, public_url=public_url or runtime.settings().public_url)
        response: dict[str, Any] = await run_sync(app.resolve, event, context)
    return response


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """The Lambda handler (`filestore.entrypoints.http_api.handler`)."""
    return runtime.run(handle(event, context))
