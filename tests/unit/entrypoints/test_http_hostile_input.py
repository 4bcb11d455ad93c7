"""Hostile requests to the HTTP API: each answers a small 4xx quickly, never a 500.

The Lambda handler and `filestore serve` run the same code, so these hold for both.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from filestore.app import FileStore
from filestore.bootstrap import upgrade_database
from filestore.entrypoints.http_errors import MAX_ERROR_DETAILS
from filestore.entrypoints.http_resolver import MAX_BODY_VALUES, count_values
from filestore.entrypoints.runtime import runtime
from filestore.settings import Settings
from tests.unit.entrypoints.test_http_api import declare, request


def _cursor(created_at: str, upload_id: str = "0190c0de-0000-7000-8000-000000000000") -> str:
    raw = json.dumps({"t": created_at, "i": upload_id}).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@pytest.mark.parametrize("field", ["size", "name"])
def test_an_integer_of_more_than_4300_digits_is_400(store: FileStore, field: str) -> None:
    body = {"name": "a.txt", "size": 5, "content_type": "text/plain"}
    raw = json.dumps(body).replace(json.dumps(body[field]), "9" * 5000, 1)
    status, answer, _ = request("POST", "/uploads", body=raw)
    assert status == 400
    assert "digits" in answer["message"]


def test_every_json_route_refuses_an_overlong_integer(store: FileStore) -> None:
    upload_id = declare()["upload"]["id"]
    long_number = "1" * 4301
    for method, path, raw in [
        ("PATCH", "/me", f'{{"notify_email": {long_number}}}'),
        ("PATCH", f"/uploads/{upload_id}", f'{{"name": {long_number}}}'),
        ("POST", f"/uploads/{upload_id}/shares", f'{{"expires_in": {long_number}}}'),
        ("POST", f"/uploads/{upload_id}/parts", f'{{"part_numbers": [{long_number}]}}'),
        ("POST", f"/uploads/{upload_id}/complete", f'{{"parts": [{long_number}]}}'),
    ]:
        status, answer, _ = request(method, path, body=raw)
        assert status == 400, (method, path, answer)


def test_an_overlong_integer_from_an_anonymous_caller_is_401(store: FileStore) -> None:
    status, _, _ = request("PATCH", "/me", claims=None, body='{"notify_email": ' + "1" * 5000 + "}")
    assert status == 401


def test_thousands_of_unknown_fields_answer_a_short_422(store: FileStore) -> None:
    fields = {f"field{i}": i for i in range(5000)}
    body = {"name": "a.txt", "size": 5, "content_type": "text/plain", **fields}
    status, answer, _ = request("POST", "/uploads", json_body=body)
    assert status == 422
    assert len(answer["details"]) == MAX_ERROR_DETAILS
    assert "5000 problems" in answer["message"]
    assert f"{5000 - MAX_ERROR_DETAILS} more" in answer["message"]
    assert len(json.dumps(answer)) < 5000


def test_a_few_problems_are_all_listed(store: FileStore) -> None:
    status, answer, _ = request("POST", "/uploads", json_body={"name": 1, "size": "1"})
    assert status == 422
    assert answer["message"] == "The request is not valid; see details."
    assert len(answer["details"]) == 3  # name, size, and the missing content_type


def test_an_unknown_field_with_a_huge_name_is_listed_shortened(store: FileStore) -> None:
    body = {"notify_email": True, "x" * 1_000_000: 1}
    status, answer, _ = request("PATCH", "/me", json_body=body)
    assert status == 422
    name = answer["details"][0]["loc"][1]
    assert name.startswith("xxx") and len(name) < 200


def test_a_body_of_too_many_values_is_refused_before_validation(store: FileStore) -> None:
    body = {f"k{i}": 1 for i in range(MAX_BODY_VALUES + 1)}
    status, answer, _ = request("POST", "/uploads", json_body=body)
    assert status == 400
    assert "too many values" in answer["message"]
    assert "details" not in answer
    parts = [{"part_number": 1, "etag": "e"}] * (MAX_BODY_VALUES // 2)
    status, answer, _ = request("POST", "/uploads/0190c0de-0000-7000-8000-000000000000/complete",
                                json_body={"parts": parts})  # fmt: skip
    assert status == 400


def test_the_largest_valid_body_is_not_too_many_values() -> None:
    complete_10000_parts = {"parts": [{"part_number": n, "etag": "e"} for n in range(1, 10_001)]}
    assert count_values(complete_10000_parts, MAX_BODY_VALUES) <= MAX_BODY_VALUES
    assert count_values({"a": [1, {"b": [2, 3]}]}, 100) == 6
    assert count_values(5, 100) == 0


# --- cursors --------------------------------------------------------------------------------------

CALENDAR_EDGES = [
    "9999-12-31T23:59:59-23:59",  # overflows past year 9999 on the way to UTC
    "0001-01-01T00:00:00+23:59",  # and before year 1
    "0001-01-01T00:00:00+00:00",  # no row is that old
    "0999-12-31T23:59:59+00:00",
    "2026-01-01T00:00:00",  # no offset
]


@pytest.mark.parametrize("created_at", CALENDAR_EDGES)
def test_a_cursor_out_of_any_rows_range_is_422(store: FileStore, created_at: str) -> None:
    status, answer, _ = request("GET", "/uploads", query={"cursor": _cursor(created_at)})
    assert status == 422
    assert "cursor" in answer["message"]


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[FileStore]:
    """A filestore on SQLite, where the listing's cursor reaches SQL (`to_db_time`)."""
    settings = Settings(database="sql", database_url=f"sqlite+aiosqlite:///{tmp_path}/db")
    runtime.run(upgrade_database(settings))
    store = FileStore.from_settings(settings)
    runtime.set_bus(store.bus)
    yield store
    runtime.set_bus(None)
    runtime.run(store.aclose())


@pytest.mark.parametrize("created_at", CALENDAR_EDGES[:2])
def test_a_cursor_at_the_calendars_edge_is_422_on_sql(
    sqlite_store: FileStore, created_at: str
) -> None:
    status, _, _ = request("GET", "/uploads", query={"cursor": _cursor(created_at)})
    assert status == 422


def test_a_cursor_with_another_offset_still_pages(store: FileStore) -> None:
    first = declare("a.txt")["upload"]
    assert first  # pending uploads are not listed; the cursor only has to decode
    status, page, _ = request(
        "GET", "/uploads", query={"cursor": _cursor("2026-06-01T12:00:00+05:30")}
    )
    assert status == 200
    assert page["items"] == []
