"""The HTTP API's errors, mapped once: what a request can raise → a status and the body
`{"message", "details"?}` (`ErrorOut` in the OpenAPI document). No input a client can send
gives a 500.

Importing this module registers the mapping on the resolver (`@app.exception_handler`).
"""

from __future__ import annotations

import binascii
from collections.abc import Callable, Mapping, Sequence
from typing import NotRequired, TypedDict, TypeVar, cast

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)

from filestore.domain.errors import (
    AlreadyExists,
    ConcurrencyConflict,
    Conflict,
    FilestoreError,
    InvalidInput,
    NameTaken,
    NotFound,
    ServiceUnavailable,
    TooLarge,
)
from filestore.entrypoints.http_resolver import (
    MAX_BODY_VALUES,
    app,
    caller,
    sent_an_access_token,
)
from filestore.entrypoints.observability import logger


class Unauthenticated(Exception):
    """The request carries no verified identity."""


class ErrorBody(TypedDict):
    """Every error answer's body (`ErrorOut`)."""

    message: str
    details: NotRequired[list[Mapping[str, object]]]


ErrorResponse = Response[ErrorBody]

# A 422 lists at most this many problems and says how many there were: the answer stays small
# (Lambda's payload limit is 6 MB) however many a hostile body holds.
MAX_ERROR_DETAILS = 20
MAX_NAME_IN_DETAILS = 100

# Bodies refused before validation (`JsonBodiesOnly`), by the error kind it raises.
_REFUSED_BODIES = {
    "json_invalid": "The request body is not valid JSON.",
    "json_number_too_long": (
        "A number in the request body has too many digits (at most 4300); send it as a string "
        "if it is an identifier."
    ),
    "json_too_many_values": (
        f"The request body holds too many values (at most {MAX_BODY_VALUES} object members "
        "and array items)."
    ),
}
Handler = TypeVar("Handler", bound=Callable[..., ErrorResponse])


def _on(*kinds: type[Exception]) -> Callable[[Handler], Handler]:
    """`app.exception_handler`, typed."""
    return cast(Callable[[Handler], Handler], app.exception_handler(list(kinds)))


def _error(
    status: int,
    message: str,
    details: Sequence[Mapping[str, object]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> ErrorResponse:
    """An answer with `status` and the body `{"message", "details"?}`."""
    body: ErrorBody = {"message": message}
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


def _anonymous_on_a_protected_route() -> bool:
    """Validation runs before the route: an anonymous caller must get 401, not a 4xx about a
    body they may not send at all (API Gateway's authorizer would have stopped them first)."""
    route = app.context.get("_route")
    return bool(route is not None and route.security) and caller() is None


@_on(FilestoreError)
def _domain_error(error: FilestoreError) -> ErrorResponse:
    if isinstance(error, ServiceUnavailable):
        logger.warning("service unavailable: %s", error.message)
        return _error(
            503,
            "The service is waking up; try again shortly.",
            headers={"Retry-After": str(error.retry_after)},
        )
    for kind, status in _STATUS:
        if isinstance(error, kind):
            details = error.details if isinstance(error, InvalidInput | NameTaken) else None
            return _error(status, error.message, details)
    logger.exception("unmapped domain error")
    return _error(500, "Something went wrong on our side.")


@_on(Unauthenticated)
def _unauthenticated(_: Unauthenticated) -> ErrorResponse:
    if sent_an_access_token():
        return _error(
            401,
            "This is an access token: use the ID token instead, as "
            "'Authorization: Bearer <ID token>' (the access token does not say who you are).",
            headers={
                "WWW-Authenticate": 'Bearer error="invalid_token", '
                'error_description="use the ID token, not the access token"'
            },
        )
    return _error(
        401,
        "Sign in: send a valid ID token as 'Authorization: Bearer <token>'.",
        headers={"WWW-Authenticate": "Bearer"},
    )


@_on(RequestValidationError)
def _invalid_request(error: RequestValidationError) -> ErrorResponse:
    if _anonymous_on_a_protected_route():
        return _unauthenticated(Unauthenticated())
    errors = error.errors()
    for e in errors:
        if e.get("type") in _REFUSED_BODIES:
            return _error(400, _REFUSED_BODIES[e["type"]])
    if any(tuple(e.get("loc", ())) == ("body",) for e in errors):
        # The body as a whole is missing or not an object (`[1]`, `"x"`, `null`).
        return _error(400, "The request body must be a JSON object.")
    details = [
        {
            "loc": [_short(part) for part in e.get("loc", ())],
            "msg": e.get("msg", ""),
            "type": e.get("type", ""),
        }
        for e in errors[:MAX_ERROR_DETAILS]
    ]
    message = "The request is not valid; see details."
    if len(errors) > MAX_ERROR_DETAILS:
        message = (
            f"The request is not valid: {len(errors)} problems, the first "
            f"{MAX_ERROR_DETAILS} in details ({len(errors) - MAX_ERROR_DETAILS} more not listed)."
        )
    return _error(422, message, details)


def _short(part: object) -> object:
    """A location's part as the client sent it, but an unknown field's name cut to a length
    fit to read (a name can be megabytes long)."""
    if isinstance(part, str) and len(part) > MAX_NAME_IN_DETAILS:
        return part[:MAX_NAME_IN_DETAILS] + "…"
    return part


@_on(RequestUnsupportedContentType)
def _unsupported_content_type(_: RequestUnsupportedContentType) -> ErrorResponse:
    if _anonymous_on_a_protected_route():
        return _unauthenticated(Unauthenticated())
    return _error(400, "Send a JSON body with 'Content-Type: application/json'.")


# Last resort for bodies the JSON decoder cannot take: invalid UTF-8 (after base64), invalid
# base64, nesting deeper than the interpreter's recursion limit. Raised while the request is
# decoded, before any route runs, so they are the client's doing, never a 500.
@_on(UnicodeDecodeError, binascii.Error, RecursionError)
def _undecodable(_: Exception) -> ErrorResponse:
    if _anonymous_on_a_protected_route():
        return _unauthenticated(Unauthenticated())
    return _error(400, "The request body could not be decoded; send UTF-8 JSON.")


@_on(NotFoundError)  # what `app.not_found` registers
def _no_route(_: NotFoundError) -> ErrorResponse:
    return _error(404, "No such route.")
