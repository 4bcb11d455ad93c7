"""The HTTP API's OpenAPI document: what it says of the API, its tags (in the order a user
needs them), the answers a route documents (`answers`), and where it is served: `/openapi.json`,
and Swagger UI at `/docs` (both public; Swagger UI keeps the token across reloads). The
document is finished for people by `openapi_polish` (summaries and descriptions from the
routes' docstrings, examples from `http_examples`).

Importing this module configures the document and adds those two routes to the resolver.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import TypedDict

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

from filestore import __version__
from filestore.entrypoints.http_resolver import app
from filestore.entrypoints.openapi_polish import polish
from filestore.entrypoints.schemas import ErrorOut

# The tags, in the order a user needs them: the advanced multipart routes last.
FILES, FOLDERS, SHARING, TRASH, ACCOUNT, MULTIPART = (
    "files",
    "folders",
    "sharing",
    "trash",
    "account",
    "multipart",
)
TAGS: tuple[dict[str, str], ...] = (
    {"name": FILES, "description": "Upload, list, find, download, rename, move and delete files."},
    {"name": FOLDERS, "description": "Folders, nested as deep as you like."},
    {"name": SHARING, "description": "Links that let anyone download a file until they expire."},
    {"name": TRASH, "description": "What was deleted, until it is restored or purged."},
    {"name": ACCOUNT, "description": "Who I am, my quota and my e-mail notifications."},
    {
        "name": MULTIPART,
        "description": "Large files in parts, resumable: what a client does after `POST /uploads` "
        "answers with a `multipart` plan. The CLI and the web app do it for you.",
    },
)

app.configure_openapi(
    title="filestore",
    version=__version__,
    description=(
        "Upload files straight to S3, organize them in folders, find, sort, rename, move, "
        "download and share them, and delete them to a trash they can be restored from. "
        "Send `Authorization: Bearer <ID token>` (Cognito, or `filestore login` / "
        "`filestore token` locally): press **Authorize** and paste the token; it is kept "
        "across reloads.\n\n"
        'Every error has the body `{"message": str, "details"?: [...]}`. Without a '
        "token, or with an expired or invalid one, the answer is 401 (on AWS, API Gateway's "
        'authorizer answers it itself, with `{"message": "Unauthorized"}`).\n\n'
        "Live updates come over a WebSocket (`/ws?token=<ID token>` locally): its messages "
        "are described in docs/websocket.md."
    ),
    security_schemes={
        "bearer": HTTPBearer(bearerFormat="JWT", description="An ID token of the user pool.")
    },
)

BEARER: list[dict[str, list[str]]] = [{"bearer": []}]
"""Routes that need a signed-in user; the rest are public."""

_ERRORS: dict[int, OpenAPIResponse] = {
    400: {"description": "Bad input: undecodable or malformed body."},
    401: {
        "description": "No token, an expired one, or one that is not valid: the message says "
        "which, and what to do (sign in again).",
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


class Link(TypedDict):
    """An OpenAPI link: the operation a value goes to, and as which of its parameters."""

    operationId: str
    parameters: dict[str, str]


def _links(expression: str, parameter: str, *operations: str) -> dict[str, Link]:
    """OpenAPI links: where a value in this answer (`expression`) goes in other operations."""
    return {op: {"operationId": op, "parameters": {parameter: expression}} for op in operations}


UPLOAD_LINKS = _links(
    "$response.body#/upload/id",
    "upload_id",
    *("get_upload", "rename", "delete_upload", "download", "create_share", "list_shares"),
    *("sign_parts", "list_parts", "complete"),
)
"""Where a new upload's id goes next."""

SHARE_LINKS = _links("$response.body#/token", "token", "resolve_share", "revoke_share")
"""Where a new share's token goes next."""


def answers(
    status: int,
    description: str,
    *errors: int,
    public: bool = False,
    links: dict[str, Link] | None = None,
) -> dict[int, OpenAPIResponse]:
    """A route's documented answers: its success (the schema is its return type), then the
    errors it can give, each with the body `ErrorOut`. Every route may give 422 (a parameter
    that breaks a rule) and 503; a route that needs a user also 401, and 409 (two first
    requests of a new user racing to register them, or two writes to one row)."""
    documented: dict[int, OpenAPIResponse] = {status: {"description": description}}
    if links:
        documented[status]["links"] = links
    if status == 204:
        documented[status]["content"] = {}
    codes = {*errors, 422, 503} | (set() if public else {401, 409})
    for code in sorted(codes):
        documented[code] = {
            **_ERRORS[code],
            "content": {content_types.APPLICATION_JSON: {"model": ErrorOut}},
        }
    return documented


@app.get("/openapi.json", include_in_schema=False)
def openapi_document() -> Response[str]:
    """The OpenAPI document (also at `/docs?format=json`)."""
    return Response(
        status_code=200,
        content_type=content_types.APPLICATION_JSON,
        body=_document(),
    )


@app.get("/docs", include_in_schema=False, compress=True)
def swagger_ui() -> Response[str]:
    """Swagger UI on the document, keeping the token it was given across reloads
    (`persistAuthorization`); `?format=json`: the document."""
    if (app.current_event.query_string_parameters or {}).get("format") == "json":
        return openapi_document()
    return Response(status_code=200, content_type="text/html", body=_swagger_page())


@cache
def _document() -> str:
    # Every route is registered by the time the first request asks for it.
    # Powertools keeps its routes in two private lists and offers no public one.
    routes = [*app._static_routes, *app._dynamic_routes]
    docstrings = {route.operation_id: route.func.__doc__ for route in routes}
    generated = json.loads(app.get_openapi_json_schema())
    return json.dumps(polish(generated, docstrings, TAGS), indent=2)


@cache
def _swagger_page() -> str:
    from aws_lambda_powertools.event_handler.openapi import swagger_ui as assets
    from aws_lambda_powertools.event_handler.openapi.swagger_ui.html import (
        generate_swagger_html,
    )

    folder = Path(assets.__file__).parent
    js = (folder / "swagger-ui-bundle.min.js").read_text(encoding="utf-8")
    css = (folder / "swagger-ui.min.css").read_text(encoding="utf-8")
    # `</` escaped: the document is written into a <script> element.
    spec = _document().replace("</", "<\\/")
    return generate_swagger_html(spec, js, css, "", None, persist_authorization=True)
