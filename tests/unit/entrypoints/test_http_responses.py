"""What the HTTP API answers stays what its OpenAPI document says, however it is built.

A listing builds one `UploadOut` per row straight from the upload (not through its view) and the
resolver encodes bodies with `pydantic_core`: these tests hold both to the shapes they replaced.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import jsonschema
import pytest

from filestore.adapters.sql.executor import to_datetime
from filestore.app import FileStore
from filestore.domain.checksums import Checksum
from filestore.domain.handlers.results import UploadPage
from filestore.domain.model import Upload, UploadStatus
from filestore.entrypoints.http_resolver import to_json
from filestore.entrypoints.schemas import UploadOut, UploadPageOut
from tests.unit.entrypoints.test_http_api import request, stored_upload

SHA = "ab" * 32
WHEN = datetime(2026, 12, 2, 10, 51, 3, 123456, tzinfo=UTC)


def upload(**fields: Any) -> Upload:
    values: dict[str, Any] = {
        "id": "0190c0de-0000-7000-8000-000000000001",
        "owner_id": "u1",
        "name": "notes.txt",
        "size": 5,
        "content_type": "text/plain",
        "object_key": "u/u1/x",
        "created_at": WHEN,
        "updated_at": WHEN,
        "expires_at": WHEN + timedelta(days=1),
    }
    return Upload(**{**values, **fields})


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"status": UploadStatus.STORED, "stored_at": WHEN, "checksum": Checksum.full_object(SHA)},
        {
            "status": UploadStatus.STORED,
            "stored_at": WHEN,
            "folder_id": "0190c0de-0000-7000-8000-0000000000f0",
            "checksum": Checksum.composite([SHA, SHA], 8 * 1024 * 1024),
        },
        {"status": UploadStatus.TRASHED, "trashed_at": WHEN, "name": "é ü 文件.txt"},
    ],
)
def test_an_upload_answers_the_fields_of_its_view(fields: dict[str, Any]) -> None:
    one = upload(**fields)
    assert UploadOut.of(one).model_dump() == one.view().model_dump()
    # A listing's items are read from the uploads' attributes: the same fields, the same JSON.
    page = UploadPageOut.of(UploadPage([one, one], "next"))
    assert [item.model_dump() for item in page.items] == [one.view().model_dump()] * 2
    assert (
        page.model_dump_json()
        == UploadPageOut(items=[UploadOut.of(one)] * 2, next_cursor="next").model_dump_json()
    )


def openapi_validator(schema_name: str) -> jsonschema.Draft202012Validator:
    status, doc, _ = request("GET", "/openapi.json", claims=None)
    assert status == 200
    schema = {"$ref": f"#/components/schemas/{schema_name}", "components": doc["components"]}
    return jsonschema.Draft202012Validator(schema)


def test_a_listing_matches_its_openapi_schema(store: FileStore) -> None:
    stored_upload(store, name="plain.txt")
    stored_upload(store, name="é ü 文件.txt")
    status, page, _ = request("GET", "/uploads")
    assert status == 200
    assert [u["name"] for u in page["items"]] == ["é ü 文件.txt", "plain.txt"]
    openapi_validator("UploadPageOut").validate(page)
    # What the schema cannot say: times keep their UTC offset and microseconds.
    created = datetime.fromisoformat(page["items"][0]["created_at"])
    assert created.utcoffset() == timedelta(0)


def test_an_upload_declared_matches_its_openapi_schema(store: FileStore) -> None:
    status, body, _ = request(
        "POST", "/uploads", json_body={"name": "a.txt", "size": 5, "content_type": "text/plain"}
    )
    assert status == 201
    openapi_validator("SingleUploadOut").validate(body)


def test_bodies_are_json_with_text_as_utf8() -> None:
    value = {"name": "é ü 文件", "n": [1, 2.5, None, True], "at": WHEN.isoformat()}
    encoded = to_json(value)
    assert json.loads(encoded) == value
    assert "文件" in encoded  # written as UTF-8, not as \u escapes


@pytest.mark.parametrize(
    ("column", "expected"),
    [
        ("2026-12-02 10:51:03.123456", WHEN),
        ("2026-12-02 10:51:03", WHEN.replace(microsecond=0)),
        ("2026-12-02T10:51:03.123456Z", WHEN),
        ("2026-12-02 11:51:03.123456+01:00", WHEN),
        (datetime(2026, 12, 2, 10, 51, 3, 123456), WHEN),
        (WHEN.astimezone(timezone(timedelta(hours=-5))), WHEN),
    ],
)
def test_a_column_time_is_read_as_aware_utc(column: object, expected: datetime) -> None:
    read = to_datetime(column)
    assert read == expected
    assert read.tzinfo is UTC
