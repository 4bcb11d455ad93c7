"""`http_resolver` keeps Powertools' answer to "is this query parameter a scalar?" per route
parameter instead of working it out on every request: the answers, and so every validation
answer, are Powertools' own."""

from __future__ import annotations

from typing import Any

import pytest
from aws_lambda_powertools.event_handler.middlewares import openapi_validation

from filestore.app import FileStore
from filestore.entrypoints import http_resolver
from tests.unit.entrypoints.test_http_api import request

QUERIES: list[dict[str, str]] = [
    {},
    {"limit": "30"},
    {"limit": "0"},
    {"limit": "101"},
    {"limit": "many"},
    {"limit": "1.5"},
    {"cursor": ""},
    {"cursor": "not-a-cursor"},
    {"sort": "name", "order": "asc"},
    {"sort": "colour"},
    {"sort": "name,size"},
    {"order": "sideways"},
    {"q": ""},
    {"q": "x" * 256},
    {"q": "résumé"},
    {"status": "pending"},
    {"status": "pending", "sort": "name"},
    {"status": "lost"},
    {"folder_id": "root"},
    {"folder_id": ""},
]


def test_powertools_looks_the_function_up_where_the_cache_is_installed() -> None:
    """If an upgrade stops calling `is_scalar_field` through the validation module's globals,
    the cache is bypassed (slower, still right): this says so."""
    assert openapi_validation.is_scalar_field is http_resolver.is_scalar_param
    assert "is_scalar_field" in openapi_validation._normalize_multi_params.__code__.co_names


def test_each_route_parameter_gets_powertools_own_answer() -> None:
    fields = [
        field
        for route in http_resolver.app._static_routes + http_resolver.app._dynamic_routes
        for field in (*route.dependant.query_params, *route.dependant.header_params)
    ]
    assert fields, "no route declares a query parameter"
    for field in fields:
        expected = http_resolver._is_scalar_field(field)
        assert http_resolver.is_scalar_param(field) is expected
        assert http_resolver.is_scalar_param(field) is expected  # the kept answer


def _answers(queries: list[dict[str, str]]) -> list[tuple[int, Any]]:
    return [request("GET", "/uploads", query=query)[:2] for query in queries]


def test_listing_queries_get_the_same_answers_as_without_the_cache(
    store: FileStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    cached = _answers(QUERIES)
    monkeypatch.setattr(openapi_validation, "is_scalar_field", http_resolver._is_scalar_field)
    assert _answers(QUERIES) == cached
    assert {status for status, _ in cached} >= {200, 422}
