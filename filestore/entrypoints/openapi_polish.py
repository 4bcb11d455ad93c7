"""The OpenAPI document as people read it: what Powertools generates, finished.

Powertools writes every summary as "METHOD /path", no description, no examples, and the
schemas of FastAPI-style validation errors this API never sends. `polish` fills each
operation's summary and description from its route's docstring (first paragraph, rest), puts
an example on every request body, answer and parameter (saying what the parameter is), lists
the tags in the order a user needs them (operations ordered to match), and drops schemas
nothing refers to. A pure function of dicts, so that a test can drive it with any document.
"""

from __future__ import annotations

import copy
import inspect
import json
from collections.abc import Mapping, Sequence
from typing import Any

from filestore.entrypoints.http_examples import (
    ERROR_EXAMPLES,
    PARAMETER_EXAMPLES,
    SCHEMA_EXAMPLES,
)

_REF = "#/components/schemas/"
_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def summary_and_description(docstring: str | None) -> tuple[str, str] | None:
    """A docstring's first paragraph (without its final full stop) and the rest, or None
    when there is no docstring."""
    if not docstring or not docstring.strip():
        return None
    first, _, rest = inspect.cleandoc(docstring).partition("\n\n")
    summary = " ".join(first.split()).rstrip(".")
    description = rest.strip() or summary + "."
    return summary, description


def polish(
    document: Mapping[str, Any],
    docstrings: Mapping[str, str | None],
    tags: Sequence[Mapping[str, str]],
) -> dict[str, Any]:
    """`document` finished for people (a copy): `docstrings` by operation id, `tags` in the
    order they are to appear."""
    doc = copy.deepcopy(dict(document))
    order = {tag["name"]: i for i, tag in enumerate(tags)}
    doc["tags"] = [dict(tag) for tag in tags]
    for operation in _operations(doc):
        found = summary_and_description(docstrings.get(operation.get("operationId", "")))
        if found is not None:
            operation["summary"], operation["description"] = found
        _add_examples(operation)
    paths = doc.get("paths", {}).items()
    doc["paths"] = dict(sorted(paths, key=lambda p: (_rank(p[1], order), p[0].count("/"))))
    _drop_unused_schemas(doc)
    return doc


def _operations(doc: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [
        operation
        for item in doc.get("paths", {}).values()
        for method, operation in item.items()
        if method in _METHODS
    ]


def _rank(item: Mapping[str, Any], order: Mapping[str, int]) -> int:
    """Where a path goes: with the earliest tag among its operations (Swagger UI lists each
    tag's operations in the document's order; within a tag, shorter paths go first: the list
    before the item, the item before what hangs off it)."""
    ranks = [
        order.get(tag, len(order))
        for method, operation in item.items()
        if method in _METHODS
        for tag in operation.get("tags", ())
    ]
    return min(ranks, default=len(order))


def _add_examples(operation: dict[str, Any]) -> None:
    for parameter in operation.get("parameters", ()):
        known = PARAMETER_EXAMPLES.get((parameter.get("in", ""), parameter.get("name", "")))
        if known is not None:
            parameter.setdefault("description", known[0])
            parameter["example"] = known[1]
    body = operation.get("requestBody", {}).get("content", {})
    for media in body.values():
        _example_of_schema(media)
    for code, answer in operation.get("responses", {}).items():
        for media in answer.get("content", {}).values():
            if code.isdigit() and int(code) >= 400:
                media["example"] = ERROR_EXAMPLES[int(code)]
            else:
                _example_of_schema(media)


def _example_of_schema(media: dict[str, Any]) -> None:
    """The example of the model a media type's schema names; for a choice of models
    (`anyOf`), one named example of each."""
    schema = media.get("schema", {})
    names = [_name(schema)] if "$ref" in schema else [_name(s) for s in schema.get("anyOf", ())]
    known = [name for name in names if name in SCHEMA_EXAMPLES]
    if len(known) == 1:
        media["example"] = SCHEMA_EXAMPLES[known[0]]
    elif known:
        media["examples"] = {name: {"value": SCHEMA_EXAMPLES[name]} for name in known}


def _name(schema: Mapping[str, Any]) -> str:
    ref = str(schema.get("$ref", ""))
    return ref.removeprefix(_REF) if ref.startswith(_REF) else ""


def _drop_unused_schemas(doc: dict[str, Any]) -> None:
    """Remove component schemas that nothing outside themselves refers to (Powertools adds its
    validation-error schemas whether or not any answer uses them)."""
    schemas: dict[str, Any] = doc.get("components", {}).get("schemas", {})
    while True:
        rest = {k: v for k, v in doc.items() if k != "components"}
        text = json.dumps([rest, {k: v for k, v in doc.get("components", {}).items()}])
        unused = [
            name
            for name, schema in schemas.items()
            if text.count(f'"{_REF}{name}"') == json.dumps(schema).count(f'"{_REF}{name}"')
        ]
        if not unused:
            return
        for name in unused:
            del schemas[name]
