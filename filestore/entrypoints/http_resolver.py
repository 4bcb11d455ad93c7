"""The HTTP API's resolver: Powertools' `APIGatewayHttpResolver`, set up once for every route.

Requests are validated against each route's parameters and body model before the route runs
(`http_errors` maps what fails), CORS follows `FILESTORE_CORS_ORIGINS`, and a body is read as
JSON only. `caller()` says who is asking.
"""

from __future__ import annotations

import binascii
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import pydantic_core
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, CORSConfig, content_types
from aws_lambda_powertools.event_handler.api_gateway import BaseRouter
from aws_lambda_powertools.event_handler.middlewares import openapi_validation
from aws_lambda_powertools.event_handler.middlewares.openapi_validation import (
    OpenAPIRequestValidationMiddleware,
)
from aws_lambda_powertools.event_handler.openapi.compat import ModelField
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.event_handler.types import EventHandlerInstance
from aws_lambda_powertools.utilities.data_classes.common import BaseProxyEvent

from filestore.domain.commands import Actor
from filestore.entrypoints.runtime import runtime

# The most values (object members and array items, all levels) a request body may hold. The
# largest valid body, completing a multipart upload of 10,000 parts, holds about 30,000; a
# bound keeps the validation of a hostile body (and its list of errors) small and fast.
MAX_BODY_VALUES = 50_000

# Response headers a browser app may read beyond the CORS-safelisted ones (template.yaml's
# HttpApi CorsConfiguration exposes the same on AWS).
EXPOSED_HEADERS = ["Retry-After", "WWW-Authenticate"]


def _cors() -> CORSConfig:
    origins = [o.strip() for o in runtime.settings().cors_origins.split(",") if o.strip()]
    origins = origins or ["*"]
    return CORSConfig(
        allow_origin=origins[0],
        extra_origins=origins[1:],
        allow_headers=["Authorization", "Content-Type"],
        # A browser app reads these only if exposed: when to retry a 503, why a 401.
        expose_headers=EXPOSED_HEADERS,
        max_age=600,
    )


class JsonBodiesOnly(OpenAPIRequestValidationMiddleware):
    """Powertools' request validation, reading a body as JSON only.

    Powertools also reads forms and multipart bodies (not part of this API: clients would get
    puzzling 422s), and its multipart parser raises a bare `ValueError`, a 500, when the header
    has no boundary. Media types are compared without case, as RFC 9110 says; `+json` types are
    JSON too.

    A number too long for Python's integers (more than 4,300 digits) and a body of more than
    `MAX_BODY_VALUES` values are refused here, before any model sees them (`http_errors` says
    why, with a 400).
    """

    # The signature is Powertools' (`Any`: a JSON body is whatever the client sent).
    def _get_body(self, app: EventHandlerInstance) -> dict[str, Any]:
        content_type = app.current_event.headers.get("content-type") or ""
        media_type = content_type.split(";", 1)[0].strip().lower()
        if media_type in ("", content_types.APPLICATION_JSON) or media_type.endswith("+json"):
            try:
                body: dict[str, Any] = self._parse_json_data(app)
            except (UnicodeDecodeError, binascii.Error):
                raise  # ValueErrors too, but of the body's encoding (`http_errors` maps them)
            except ValueError as error:
                # Not a `JSONDecodeError` (Powertools maps those): the interpreter's limit on
                # the digits of an integer (`sys.get_int_max_str_digits`).
                raise _refused("json_number_too_long", str(error)) from error
            if count_values(body, MAX_BODY_VALUES) > MAX_BODY_VALUES:
                raise _refused("json_too_many_values", f"more than {MAX_BODY_VALUES} values")
            return body
        raise RequestUnsupportedContentType(
            "Unsupported content type",
            errors=[{"type": "unsupported_content_type", "loc": ("body",), "msg": media_type}],
        )


# Powertools' request validation asks, on every request and for each of the route's query and
# header parameters, whether the parameter is a scalar (`is_scalar_field`): a walk over its type
# annotation through `typing` and pydantic (~110 µs a request for `GET /uploads`'s seven query
# parameters, a third of its request validation). The answer is a property of the route's
# parameter, made once when the route is built and never changed: it is kept per parameter here.
# Everything else in the validation is unchanged. `test_http_validation_cache` fails if a
# Powertools upgrade stops looking the function up where this puts it.
_scalar_answers: dict[int, tuple[ModelField, bool]] = {}
_SCALAR_ANSWERS_MAX = 4096  # routes' parameters are a few dozen: a bound against surprises
_is_scalar_field = openapi_validation.is_scalar_field


def is_scalar_param(field: ModelField) -> bool:
    """Powertools' `is_scalar_field`, answered once per route parameter."""
    known = _scalar_answers.get(id(field))
    if known is not None and known[0] is field:  # the id of this very object, not a reused one
        return known[1]
    answer: bool = _is_scalar_field(field)
    if len(_scalar_answers) < _SCALAR_ANSWERS_MAX:
        _scalar_answers[id(field)] = (field, answer)  # the field is kept: its id stays its own
    return answer


openapi_validation.is_scalar_field = is_scalar_param  # type: ignore[assignment]


@dataclass
class _RequestState:
    event: BaseProxyEvent | None = None
    lambda_context: Any = None
    context: dict[str, Any] = field(default_factory=dict)
    processed_stack_frames: list[str] = field(default_factory=list)


class PerRequestHttpResolver(APIGatewayHttpResolver):
    """`APIGatewayHttpResolver` whose per-request attributes belong to the request being resolved.

    `resolve_with(event, context, **values)` resolves one request with its own state, `values`
    in its `context`; requests resolved at the same time (tasks on one loop, greenlets, threads)
    each see their own. Outside a request the attributes behave as Powertools' do.
    """

    def __init__(self, **options: Any) -> None:
        self._startup_state = _RequestState()
        self._request_state: ContextVar[_RequestState | None] = ContextVar(
            "filestore_http_request", default=None
        )
        super().__init__(**options)

    @property
    def _state(self) -> _RequestState:
        return self._request_state.get() or self._startup_state

    @property  # type: ignore[override]
    def current_event(self) -> BaseProxyEvent:
        return self._state.event or BaseRouter.current_event

    @current_event.setter
    def current_event(self, value: BaseProxyEvent) -> None:
        self._state.event = value

    @property
    def lambda_context(self) -> Any:
        return self._state.lambda_context or BaseRouter.lambda_context

    @lambda_context.setter
    def lambda_context(self, value: Any) -> None:
        self._state.lambda_context = value

    @property
    def context(self) -> dict[str, Any]:
        return self._state.context

    @context.setter
    def context(self, value: dict[str, Any]) -> None:
        self._state.context = value

    @property
    def processed_stack_frames(self) -> list[str]:
        return self._state.processed_stack_frames

    @processed_stack_frames.setter
    def processed_stack_frames(self, value: list[str]) -> None:
        self._state.processed_stack_frames = value

    def resolve(self, event: Any, context: Any) -> dict[str, Any]:
        return self.resolve_with(event, context)

    def resolve_with(self, event: Any, context: Any, **values: Any) -> dict[str, Any]:
        """Resolve one request with state of its own, seeded with `values` (and whatever was
        appended to the context outside any request)."""
        raw = event.raw_event if isinstance(event, BaseProxyEvent) else event
        state = _RequestState(
            event=self._to_proxy_event(raw),
            lambda_context=context,
            context={**self._startup_state.context, **values},
        )
        token = self._request_state.set(state)
        try:
            response: dict[str, Any] = super().resolve(raw, context)
        finally:
            self._request_state.reset(token)
        return response


def _refused(kind: str, why: str) -> RequestValidationError:
    return RequestValidationError([{"type": kind, "loc": ("body",), "msg": why}])


def count_values(document: object, stop_above: int) -> int:
    """How many values a decoded JSON document holds below its top (object members and array
    items, at every level), counting no further than just past `stop_above`."""
    pending: list[Any] = [document] if isinstance(document, dict | list) else []
    count = 0
    while pending and count <= stop_above:
        value = pending.pop()
        children = value.values() if isinstance(value, dict) else value
        count += len(children)
        if count <= stop_above:
            pending.extend(c for c in children if isinstance(c, dict | list))
    return count


def to_json(value: Any) -> str:
    """A response body as JSON: pydantic's encoder, in Rust, where Powertools' default is
    `json.dumps` (a listing of 30 files: 12 µs against 42 µs). Non-ASCII text is written as
    UTF-8, not escaped."""
    return pydantic_core.to_json(value).decode()


app = PerRequestHttpResolver(enable_validation=True, cors=_cors(), serializer=to_json)
# Powertools has no public hook that runs before its request validation (`app.use` and route
# middlewares run after it, too late to refuse a body it cannot parse), so the reader is put
# where Powertools builds each route's middleware stack from, on first use. A Powertools upgrade
# that stops reading this attribute fails `test_powertools_runs_the_json_only_body_reader`.
app._request_validation_middleware = JsonBodiesOnly()  # type: ignore[no-untyped-call]


def _claims() -> dict[str, Any]:
    """The verified JWT claims API Gateway's authorizer (or the local server) put in the event."""
    context = app.current_event.raw_event.get("requestContext") or {}
    claims: dict[str, Any] = ((context.get("authorizer") or {}).get("jwt") or {}).get(
        "claims"
    ) or {}
    return claims


def caller() -> Actor | None:
    """Who is asking: the verified JWT claims (`sub`, `email`) that API Gateway's authorizer put
    in `requestContext.authorizer.jwt.claims` (the local server puts its own verified claims
    there); None for an anonymous request, and for an access token (see
    `sent_an_access_token`)."""
    claims = _claims()
    if claims.get("token_use") == "access":
        return None
    sub, email = claims.get("sub"), claims.get("email")
    if not isinstance(sub, str) or not sub or not isinstance(email, str) or not email:
        return None
    return Actor(sub=sub, email=email)


def sent_an_access_token() -> bool:
    """Whether the caller signed in but sent Cognito's access token instead of the ID token.

    API Gateway's JWT authorizer takes both (it matches an access token's `client_id` against
    the audience), but only the ID token says who the user is (`email`): the API refuses the
    access token, telling the client which one to send.
    """
    return _claims().get("token_use") == "access"
