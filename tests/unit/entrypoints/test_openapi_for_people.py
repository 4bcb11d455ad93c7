"""The OpenAPI document as people read it at /docs: summaries and descriptions, examples that
hold to their schemas, tags in the order a user needs them, one error schema, and Swagger UI
that keeps its token across reloads."""

from __future__ import annotations

import base64
import gzip
import json
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from filestore.entrypoints import http_api, schemas
from filestore.entrypoints.http_examples import ERROR_EXAMPLES, SCHEMA_EXAMPLES
from filestore.entrypoints.openapi_polish import polish, summary_and_description
from tests.support.lambda_events import LambdaContext, http_event

METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    response = http_api.handler(http_event("GET", "/openapi.json", claims=None), LambdaContext())
    assert response["statusCode"] == 200
    document: dict[str, Any] = json.loads(response["body"])
    return document


def operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, op)
        for path, item in doc["paths"].items()
        for method, op in item.items()
        if method in METHODS
    ]


def test_the_document_is_valid(doc: dict[str, Any]) -> None:
    validate(doc)


def test_every_operation_has_a_summary_of_its_own_and_a_description(doc: dict[str, Any]) -> None:
    summaries = set()
    for method, path, op in operations(doc):
        assert op["summary"] != f"{method} {path}", (method, path)
        assert path not in op["summary"], (method, path)
        assert len(op["description"]) > len(op["summary"]), (method, path)
        summaries.add(op["summary"])
    assert len(summaries) == len(operations(doc))  # each says what it does, none the same
    assert doc["paths"]["/uploads"]["post"]["summary"] == "Upload a file"


def _validator(doc: dict[str, Any], schema: dict[str, Any]) -> Draft202012Validator:
    # `#/components/...` resolves against the schema's root: give it the components.
    return Draft202012Validator({**schema, "components": doc["components"]})


def _examples(media: dict[str, Any]) -> list[Any]:
    if "example" in media:
        return [media["example"]]
    return [e["value"] for e in media.get("examples", {}).values()]


def test_every_parameter_says_what_it_is_with_an_example_that_holds_to_its_schema(
    doc: dict[str, Any],
) -> None:
    for method, path, op in operations(doc):
        for parameter in op.get("parameters", ()):
            where = (method, path, parameter["name"])
            assert parameter["description"], where
            errors = list(_validator(doc, parameter["schema"]).iter_errors(parameter["example"]))
            assert not errors, (where, errors[0].message)


def test_every_body_and_answer_has_an_example_that_holds_to_its_schema(
    doc: dict[str, Any],
) -> None:
    checked = 0
    for method, path, op in operations(doc):
        contents = [("body", op["requestBody"]["content"])] if "requestBody" in op else []
        contents += [(code, a.get("content", {})) for code, a in op["responses"].items()]
        for where, content in contents:
            for media in content.values():
                examples = _examples(media)
                assert examples, (method, path, where)
                for example in examples:
                    errors = list(_validator(doc, media["schema"]).iter_errors(example))
                    assert not errors, (method, path, where, errors[0].message)
                    checked += 1
    assert checked > 100


@pytest.mark.parametrize("name", sorted(SCHEMA_EXAMPLES))
def test_each_example_is_what_its_model_accepts(name: str) -> None:
    from filestore.entrypoints import folder_schemas, site

    model = getattr(schemas, name, None) or getattr(folder_schemas, name, None)
    model = model or getattr(site, name)
    model.model_validate(SCHEMA_EXAMPLES[name])


def test_the_documented_error_is_what_the_api_sends(doc: dict[str, Any]) -> None:
    """The one error schema: `message`, and `details` when there are any; none of the
    validation-error schemas Powertools generates (one required a `msg` it did not define)."""
    components = doc["components"]["schemas"]
    assert not {"HTTPValidationError", "ValidationError", "ResponseValidationError"} & set(
        components
    )
    error = components["ErrorOut"]
    assert error["required"] == ["message"]
    validator = _validator(doc, {"$ref": "#/components/schemas/ErrorOut"})
    for example in ERROR_EXAMPLES.values():
        validator.validate(example)
    # What a 422 really sends validates too.
    response = http_api.handler(
        http_event(
            "POST", "/uploads", claims={"sub": "s", "email": "a@b.c"}, json_body={"size": -1}
        ),
        LambdaContext(),
    )
    assert response["statusCode"] == 422
    sent = json.loads(response["body"])
    assert sent["details"]
    validator.validate(sent)


def test_tags_come_in_the_order_a_user_needs_them(doc: dict[str, Any]) -> None:
    order = ["files", "folders", "sharing", "trash", "account", "multipart"]
    assert [t["name"] for t in doc["tags"]] == order
    assert all(t["description"] for t in doc["tags"])
    used = {tag for _, _, op in operations(doc) for tag in op["tags"]}
    assert used == set(order)
    # Operations appear in tag order (Swagger UI keeps the document's order within a tag).
    ranks = [order.index(op["tags"][0]) for _, _, op in operations(doc)]
    assert ranks == sorted(ranks)
    assert doc["paths"]["/uploads/{upload_id}/parts"]["post"]["tags"] == ["multipart"]


def test_swagger_ui_keeps_its_authorization_and_shows_the_finished_document() -> None:
    response = http_api.handler(http_event("GET", "/docs", claims=None), LambdaContext())
    assert response["statusCode"] == 200
    body = response["body"]
    if response.get("isBase64Encoded"):
        body = gzip.decompress(base64.b64decode(body)).decode()
    assert "persistAuthorization: true" in body
    assert '"summary": "Upload a file"' in body
    as_json = http_api.handler(
        http_event("GET", "/docs", claims=None, query={"format": "json"}), LambdaContext()
    )
    assert json.loads(as_json["body"])["tags"][0]["name"] == "files"


def test_summary_and_description_come_from_the_docstring() -> None:
    assert summary_and_description("Do a thing.\n\n    Then more,\n    and more.\n") == (
        "Do a thing",
        "Then more,\nand more.",
    )
    assert summary_and_description("Only a line.") == ("Only a line", "Only a line.")
    assert summary_and_description(None) is None


def test_polish_drops_only_schemas_nothing_refers_to() -> None:
    ref = {"$ref": "#/components/schemas/Used"}
    document = {
        "openapi": "3.1.0",
        "paths": {"/x": {"get": {"operationId": "x", "responses": {"200": {"content": {}}}}}},
        "components": {
            "schemas": {
                "Used": {
                    "type": "object",
                    "properties": {"inner": {"$ref": "#/components/schemas/Inner"}},
                },
                "Inner": {"type": "string"},
                "Lonely": {
                    "type": "object",
                    "properties": {"me": {"$ref": "#/components/schemas/Lonely"}},
                },
            }
        },
    }
    document["paths"]["/x"]["get"]["responses"]["200"]["content"] = {
        "application/json": {"schema": ref}
    }
    out = polish(document, {"x": "Get x.\n\nAll of it."}, [{"name": "t", "description": "d"}])
    assert set(out["components"]["schemas"]) == {"Used", "Inner"}
    assert out["paths"]["/x"]["get"]["summary"] == "Get x"
    assert "Lonely" in document["components"]["schemas"]  # the input is left as it was
