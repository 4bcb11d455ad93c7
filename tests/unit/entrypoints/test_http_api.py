"""The HTTP API handler, driven with HTTP API v2 events over in-memory adapters."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import pytest

from filestore.app import FileStore
from filestore.domain.commands import Actor, GetMe, MarkEmailUndeliverable
from filestore.domain.errors import ServiceUnavailable
from filestore.domain.model import EmailStatus
from filestore.domain.ports import PresignedPost
from filestore.domain.rules import MiB, UploadPolicy
from filestore.entrypoints import http_api
from filestore.entrypoints.runtime import runtime
from filestore.entrypoints.site import Site
from filestore.settings import Settings
from tests.support.lambda_events import LambdaContext, http_event
from tests.unit.entrypoints.conftest import ALICE, BOB


def call(event: dict[str, Any]) -> tuple[int, Any, dict[str, str]]:
    """Invoke the Lambda handler; the status, the decoded JSON body (or None) and headers."""
    response = http_api.handler(event, LambdaContext())
    body = response.get("body")
    if response.get("isBase64Encoded"):
        body = base64.b64decode(body)
    decoded = json.loads(body) if body else None
    return response["statusCode"], decoded, response.get("headers", {})


def request(method: str, path: str, claims: dict[str, str] | None = ALICE, **kw: Any) -> Any:
    return call(http_event(method, path, claims=claims, **kw))


def declare(name: str = "notes.txt", size: int = 5, claims: dict[str, str] = ALICE) -> Any:
    status, body, _ = request(
        "POST",
        "/uploads",
        claims,
        json_body={"name": name, "size": size, "content_type": "text/plain"},
    )
    assert status == 201, body
    return body


def stored_upload(store: FileStore, data: bytes = b"hello", name: str = "notes.txt") -> str:
    """An upload of Alice's that has been sent and recorded, as the S3 path would."""
    status, body, _ = request(
        "POST",
        "/uploads",
        json_body={"name": name, "size": len(data), "content_type": "text/plain"},
    )
    assert status == 201
    upload = runtime.run(store.get_upload(Actor(**ALICE), body["upload"]["id"]))
    post = PresignedPost(body["upload_url"]["url"], body["upload_url"]["fields"], upload.expires_at)
    store.memory_blobs.post(post, data)
    runtime.run(store.record_stored(upload.object_key))
    return upload.id


# --- users ---------------------------------------------------------------------------------------


def test_me_registers_on_first_sight_and_updates_preferences(store: FileStore) -> None:
    status, me, headers = request("GET", "/me")
    assert status == 200
    assert me["email"] == "alice@example.com"
    assert me["notify_email"] is False
    assert set(me) == {
        "id",
        "email",
        "notify_email",
        "email_status",
        "quota_bytes",
        "used_bytes",
        "created_at",
    }
    assert me["email_status"] == "ok"
    assert headers["Content-Type"] == "application/json"

    status, me2, _ = request("PATCH", "/me", json_body={"notify_email": True})
    assert status == 200
    assert me2["id"] == me["id"]
    assert me2["notify_email"] is True


def test_me_says_when_mail_bounced_until_the_token_brings_another_address(
    store: FileStore,
) -> None:
    request("PATCH", "/me", json_body={"notify_email": True})
    bounce = MarkEmailUndeliverable("feedback-1", ("ALICE@example.com",), EmailStatus.BOUNCED)
    runtime.run(store.bus.handle(bounce))

    status, me, _ = request("GET", "/me")
    assert status == 200
    assert (me["email"], me["email_status"], me["notify_email"]) == (
        "alice@example.com",
        "bounced",
        True,
    )

    # The user changed their address at the identity provider: the next token carries it.
    status, me, _ = request("GET", "/me", claims={**ALICE, "email": "alice@example.org"})
    assert status == 200
    assert (me["email"], me["email_status"]) == ("alice@example.org", "ok")
    status, me, _ = request("GET", "/me")  # an older token, still valid, changes it back
    assert (me["email"], me["email_status"]) == ("alice@example.com", "ok")


def test_missing_or_incomplete_claims_are_401(store: FileStore) -> None:
    status, body, headers = request("GET", "/me", claims=None)
    assert status == 401
    assert "token" in body["message"]
    assert headers["WWW-Authenticate"] == "Bearer"
    status, _, _ = request("GET", "/uploads", claims={"sub": "x"})  # no email
    assert status == 401
    status, _, _ = request("POST", "/uploads", claims=None, json_body={"name": "a"})
    assert status == 401


# --- uploads ------------------------------------------------------------------------------------


def test_declare_upload_answers_a_presigned_post(store: FileStore) -> None:
    body = declare()
    assert body["upload"]["status"] == "pending"
    assert body["upload"]["size"] == 5
    assert set(body) == {"upload", "upload_url"}
    assert body["upload_url"]["method"] == "POST"
    assert body["upload_url"]["fields"]["key"].startswith("u/")


def test_large_upload_is_multipart_then_parts_are_signed_listed_and_completed() -> None:
    store = FileStore.in_memory(policy=UploadPolicy(multipart_threshold=8 * MiB))
    runtime.set_bus(store.bus)
    try:
        size = 9 * MiB
        body = declare("big.bin", size)
        assert set(body) == {"upload", "multipart"}
        assert body["multipart"] == {"part_size": 8 * MiB, "part_count": 2}
        upload_id = body["upload"]["id"]

        status, parts, _ = request(
            "POST", f"/uploads/{upload_id}/parts", json_body={"part_numbers": [2, 1]}
        )
        assert status == 200
        assert [p["part_number"] for p in parts["parts"]] == [1, 2]
        etags = [
            store.memory_blobs.put_part(p["url"], b"x" * (8 * MiB if n == 1 else MiB))
            for n, p in enumerate(parts["parts"], 1)
        ]
        status, arrived, _ = request("GET", f"/uploads/{upload_id}/parts")
        assert status == 200
        assert [(p["part_number"], p["size"]) for p in arrived["parts"]] == [(1, 8 * MiB), (2, MiB)]

        status, bad, _ = request(
            "POST", f"/uploads/{upload_id}/parts", json_body={"part_numbers": [3]}
        )
        assert status == 422
        assert "between 1 and 2" in bad["message"]

        status, done, _ = request(
            "POST",
            f"/uploads/{upload_id}/complete",
            json_body={"parts": [{"part_number": i, "etag": e} for i, e in enumerate(etags, 1)]},
        )
        assert status == 200, done
        assert done["status"] == "stored"
    finally:
        runtime.set_bus(None)


def test_list_get_download_rename_and_delete(store: FileStore) -> None:
    first = stored_upload(store, name="a.txt")
    second = stored_upload(store, name="b.txt")

    status, page, _ = request("GET", "/uploads", query={"limit": "1"})
    assert status == 200
    assert [u["id"] for u in page["items"]] == [second]
    status, page2, _ = request(
        "GET", "/uploads", query={"limit": "1", "cursor": page["next_cursor"]}
    )
    assert [u["id"] for u in page2["items"]] == [first]
    assert page2["next_cursor"] is None

    status, one, _ = request("GET", f"/uploads/{first}")
    assert status == 200
    assert one["name"] == "a.txt"
    assert one["stored_at"] is not None

    status, link, _ = request("GET", f"/uploads/{first}/download")
    assert status == 200
    data, headers = store.memory_blobs.get(link["url"])
    assert data == b"hello"
    assert "a.txt" in headers["Content-Disposition"]

    status, renamed, _ = request("PATCH", f"/uploads/{first}", json_body={"name": "c.txt"})
    assert status == 200
    assert renamed["name"] == "c.txt"

    status, body, _ = request("DELETE", f"/uploads/{first}")
    assert (status, body) == (204, None)
    status, body, _ = request("DELETE", f"/uploads/{first}")  # again: still fine for its owner
    assert status == 204
    status, _, _ = request("GET", f"/uploads/{first}")
    assert status == 404


def test_list_limit_out_of_range_and_bad_cursor_are_422(store: FileStore) -> None:
    status, body, _ = request("GET", "/uploads", query={"limit": "101"})
    assert status == 422
    assert body["details"][0]["loc"] == ["query", "limit"]
    status, body, _ = request("GET", "/uploads", query={"limit": "many"})
    assert status == 422
    status, body, _ = request("GET", "/uploads", query={"cursor": "not-a-cursor"})
    assert status == 422
    assert "cursor" in body["message"]
    for cursor in ("", "a b", "x" * 4097):
        status, body, _ = request("GET", "/uploads", query={"cursor": cursor})
        assert status == 422
        assert body["details"][0]["loc"] == ["query", "cursor"]


def test_download_of_a_pending_upload_is_409(store: FileStore) -> None:
    upload_id = declare()["upload"]["id"]
    status, body, _ = request("GET", f"/uploads/{upload_id}/download")
    assert status == 409
    assert "pending" in body["message"]


def test_another_users_upload_does_not_exist_for_them(store: FileStore) -> None:
    upload_id = declare()["upload"]["id"]
    for method, path, kw in [
        ("GET", f"/uploads/{upload_id}", {}),
        ("GET", f"/uploads/{upload_id}/download", {}),
        ("PATCH", f"/uploads/{upload_id}", {"json_body": {"name": "mine.txt"}}),
        ("DELETE", f"/uploads/{upload_id}", {}),
        ("POST", f"/uploads/{upload_id}/shares", {"json_body": {"expires_in": 60}}),
        ("GET", f"/uploads/{upload_id}/shares", {}),
    ]:
        status, body, _ = request(method, path, BOB, **kw)
        assert status == 404, (method, path)
        assert body == {"message": "No such upload."}
    status, _, _ = request("GET", f"/uploads/{upload_id}")
    assert status == 200  # still Alice's, untouched


def test_malformed_upload_id_is_404(store: FileStore) -> None:
    status, body, _ = request("GET", "/uploads/../../etc")
    assert status == 404
    status, body, _ = request("GET", "/uploads/not-an-id")
    assert (status, body) == (404, {"message": "No such upload."})


# --- bad input ----------------------------------------------------------------------------------


def test_malformed_json_is_400(store: FileStore) -> None:
    status, body, _ = request("POST", "/uploads", body='{"name": "a.txt", ')
    assert status == 400
    assert body == {"message": "The request body is not valid JSON."}


@pytest.mark.parametrize("raw", ["[1, 2]", '"text"', "null", "42"])
def test_a_body_that_is_not_an_object_is_400(store: FileStore, raw: str) -> None:
    status, body, _ = request("POST", "/uploads", body=raw)
    assert status == 400
    assert "JSON object" in body["message"]


def test_invalid_utf8_in_a_base64_body_is_400(store: FileStore) -> None:
    status, body, _ = request("POST", "/uploads", body=b'{"name": "\xff\xfe.txt"}')
    assert status == 400
    assert "UTF-8" in body["message"]


def test_absurdly_nested_json_is_400_not_500(store: FileStore) -> None:
    status, body, _ = request("POST", "/uploads", body="[" * 100_000 + "]" * 100_000)
    assert "decoded" in body["message"]
    assert status == 400
    status, _body, _ = request("PATCH", "/me", body='{"a":' * 100_000 + "1" + "}" * 100_000)
    assert status == 400


def test_wrong_types_and_unknown_fields_are_422_with_details(store: FileStore) -> None:
    status, body, _ = request(
        "POST", "/uploads", json_body={"name": "a.txt", "size": "5", "content_type": "text/plain"}
    )
    assert status == 422
    assert body["details"] == [
        {"loc": ["body", "size"], "msg": "Input should be a valid integer", "type": "int_type"}
    ]
    status, body, _ = request("PATCH", "/me", json_body={"notify_email": "yes"})
    assert status == 422
    status, body, _ = request("PATCH", "/me", json_body={"notify_email": True, "admin": True})
    assert status == 422
    assert body["details"][0]["loc"] == ["body", "admin"]


def test_integers_written_with_a_zero_fraction_are_integers(store: FileStore) -> None:
    """JSON Schema's `integer` includes 5.0; the OpenAPI document promises no more than that."""
    status, body, _ = request(
        "POST", "/uploads", json_body={"name": "a.txt", "size": 5.0, "content_type": "text/plain"}
    )
    assert status == 201, body
    assert body["upload"]["size"] == 5
    upload_id = stored_upload(store)
    status, body, _ = request(
        "POST", f"/uploads/{upload_id}/shares", json_body={"expires_in": 60.0}
    )
    assert status == 201, body
    for size in (5.5, True, "5", float("inf")):
        status, body, _ = request(
            "POST", "/uploads", json_body={"name": "a", "size": size, "content_type": "text/plain"}
        )
        assert status == 422, size
        assert body["details"][0]["loc"] == ["body", "size"]


def test_rule_violations_are_422(store: FileStore) -> None:
    status, body, _ = request(
        "POST", "/uploads", json_body={"name": "a/b", "size": 5, "content_type": "text/plain"}
    )
    assert status == 422
    assert "/" in body["message"]
    status, body, _ = request(
        "POST", "/uploads", json_body={"name": "a", "size": 5, "content_type": "nonsense"}
    )
    assert status == 422


def test_wrong_content_type_is_400(store: FileStore) -> None:
    status, body, _ = request(
        "PATCH", "/me", body="notify_email=true", headers={"content-type": "text/plain"}
    )
    assert status == 400
    assert "application/json" in body["message"]


@pytest.mark.parametrize(
    ("content_type", "raw"),
    [
        # Powertools' own multipart parser raised a bare ValueError on this: a 500.
        ("multipart/form-data", '{"notify_email": true}'),
        (
            "multipart/form-data; boundary=x",
            '--x\r\nContent-Disposition: form-data; name="notify_email"\r\n\r\ntrue\r\n--x--\r\n',
        ),
        ("application/x-www-form-urlencoded", "notify_email=true"),
        ("application/jsonish", '{"notify_email": true}'),
    ],
)
def test_only_json_bodies_are_read(store: FileStore, content_type: str, raw: str) -> None:
    status, body, _ = request("PATCH", "/me", body=raw, headers={"content-type": content_type})
    assert (status, body) == (
        400,
        {"message": "Send a JSON body with 'Content-Type: application/json'."},
    )
    status, _, _ = request(
        "PATCH", "/me", claims=None, body=raw, headers={"content-type": content_type}
    )
    assert status == 401


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "Application/JSON; charset=UTF-8", "application/merge-patch+json"],
)
def test_json_media_types_are_read_whatever_their_case(store: FileStore, content_type: str) -> None:
    status, body, _ = request(
        "PATCH", "/me", body='{"notify_email": true}', headers={"content-type": content_type}
    )
    assert status == 200, body
    assert body["notify_email"] is True


def test_powertools_runs_the_json_only_body_reader(store: FileStore) -> None:
    """Pins the private hook `http_resolver` installs its body reader through (Powertools has no
    public one that runs before its own request validation). If an upgrade stops reading it,
    Powertools' own reader is back: a multipart header without a boundary is a 500 again, and
    a JSON media type written in capitals is refused."""
    for content_type, expected in [("Application/JSON", 200), ("multipart/form-data", 400)]:
        status, body, _ = request(
            "PATCH", "/me", body='{"notify_email": true}', headers={"content-type": content_type}
        )
        assert status == expected, (
            f"Powertools no longer runs http_resolver.JsonBodiesOnly, installed as "
            f"`app._request_validation_middleware` ({content_type!r}: {status} {body})"
        )


def test_oversized_and_over_quota_are_413(store: FileStore) -> None:
    status, body, _ = request(
        "POST",
        "/uploads",
        json_body={"name": "huge", "size": 6 * 1024**4, "content_type": "text/plain"},
    )
    assert status == 413
    assert "largest upload" in body["message"]
    status, body, _ = request(
        "POST",
        "/uploads",
        json_body={"name": "big", "size": 11 * 1024**3, "content_type": "text/plain"},
    )
    assert status == 413
    assert "free" in body["message"]


def test_service_unavailable_is_503_with_retry_after(store: FileStore) -> None:
    async def resuming(command: Any, services: Any) -> Any:
        raise ServiceUnavailable("database resuming", retry_after=15)

    store.bus.command_handlers[GetMe] = resuming
    status, body, headers = request("GET", "/me")
    assert status == 503
    assert headers["Retry-After"] == "15"
    assert "try again" in body["message"]


def test_unknown_route_is_404(store: FileStore) -> None:
    status, body, _ = request("GET", "/nothing-here")
    assert (status, body) == (404, {"message": "No such route."})


# --- shares -------------------------------------------------------------------------------------


def test_share_lifecycle(store: FileStore) -> None:
    upload_id = stored_upload(store)
    status, share, _ = request(
        "POST", f"/uploads/{upload_id}/shares", json_body={"expires_in": 3600}
    )
    assert status == 201
    assert share["url"] == f"http://127.0.0.1:8000/shares/{share['token']}"

    status, shares, _ = request("GET", f"/uploads/{upload_id}/shares")
    assert [s["token"] for s in shares["items"]] == [share["token"]]

    status, public, _ = request("GET", f"/shares/{share['token']}", claims=None)
    assert status == 200
    assert (public["name"], public["size"]) == ("notes.txt", 5)
    assert store.memory_blobs.get(public["url"])[0] == b"hello"
    # The page of the link says when the link ends, not only its download URL (minutes).
    assert public["share_expires_at"] == share["expires_at"]
    assert public["expires_at"] < public["share_expires_at"]

    status, _, _ = request("DELETE", f"/shares/{share['token']}", BOB)
    assert status == 404  # not Bob's to revoke
    status, _, _ = request("DELETE", f"/shares/{share['token']}")
    assert status == 204
    status, _body, _ = request("GET", f"/shares/{share['token']}", claims=None)
    assert status == 404


def test_share_lifetime_out_of_range_is_422(store: FileStore) -> None:
    upload_id = stored_upload(store)
    status, body, _ = request(
        "POST", f"/uploads/{upload_id}/shares", json_body={"expires_in": 8 * 24 * 3600}
    )
    assert status == 422
    assert body["details"][0]["loc"] == ["body", "expires_in"]
    assert "604800" in body["details"][0]["msg"]


@pytest.mark.parametrize("expires_in", [10**20, -(10**20)])
def test_share_lifetime_past_what_a_timedelta_holds_is_422_not_500(
    store: FileStore, expires_in: int
) -> None:
    upload_id = stored_upload(store)
    status, body, _ = request(
        "POST", f"/uploads/{upload_id}/shares", json_body={"expires_in": expires_in}
    )
    assert status == 422, body


def test_share_url_uses_the_public_url(store: FileStore) -> None:
    upload_id = stored_upload(store)
    event = http_event(
        "POST", f"/uploads/{upload_id}/shares", json_body={"expires_in": 60}, claims=ALICE
    )
    core = http_api.handle(
        event, LambdaContext(), bus=store.bus, public_url="https://files.example.com"
    )
    response = runtime.run(core)
    assert response["statusCode"] == 201
    body = json.loads(response["body"])
    assert body["url"] == f"https://files.example.com/shares/{body['token']}"


def test_share_url_leads_to_the_web_apps_page_where_there_is_one(store: FileStore) -> None:
    upload_id = stored_upload(store)
    event = http_event(
        "POST", f"/uploads/{upload_id}/shares", json_body={"expires_in": 60}, claims=ALICE
    )
    site = Site.of(Settings(web_url="https://app.example.com/"), "https://api.example.com")
    response = runtime.run(http_api.handle(event, LambdaContext(), bus=store.bus, site=site))
    assert response["statusCode"] == 201
    token = json.loads(response["body"])["token"]
    assert json.loads(response["body"])["url"] == f"https://app.example.com/s/{token}"
    listed = runtime.run(
        http_api.handle(
            http_event("GET", f"/uploads/{upload_id}/shares", claims=ALICE),
            LambdaContext(),
            bus=store.bus,
            site=site,
        )
    )
    assert [i["url"] for i in json.loads(listed["body"])["items"]] == [
        f"https://app.example.com/s/{token}"
    ]


def _auth_config(settings: Settings) -> tuple[int, dict[str, Any]]:
    event = http_event("GET", "/auth/config")
    site = Site.of(settings, "https://api.example.com")
    response = runtime.run(http_api.handle(event, LambdaContext(), site=site))
    return response["statusCode"], json.loads(response["body"])


def test_auth_config_tells_how_to_sign_in_with_cognitos_managed_login() -> None:
    status, body = _auth_config(
        Settings(
            cognito_domain="https://files.auth.eu-west-1.amazoncognito.com/",
            cognito_client_id="webclient,otherclient",
        )
    )
    assert status == 200
    assert body == {
        "kind": "cognito",
        "client_id": "webclient",
        "authorize_url": "https://files.auth.eu-west-1.amazoncognito.com/oauth2/authorize",
        "token_url": "https://files.auth.eu-west-1.amazoncognito.com/oauth2/token",
        "logout_url": "https://files.auth.eu-west-1.amazoncognito.com/logout",
        "scopes": ["openid", "email", "profile"],
        "cli_redirect_uri": "http://localhost:53682/callback",
    }


def test_auth_config_without_a_user_pool_domain_offers_no_browser_sign_in() -> None:
    status, body = _auth_config(Settings(cognito_client_id="webclient"))
    assert status == 200
    assert body["kind"] == "cognito"
    assert body["client_id"] == "webclient"
    assert body["authorize_url"] is None and body["token_url"] is None


def test_auth_config_of_the_local_server() -> None:
    offered = Settings(sign_in="local", local_sign_in_url="http://127.0.0.1:8000/_local/sign-in")
    assert _auth_config(offered) == (
        200,
        {"kind": "local", "sign_in_url": "http://127.0.0.1:8000/_local/sign-in"},
    )
    assert _auth_config(Settings(sign_in="local")) == (200, {"kind": "local", "sign_in_url": None})


# --- documentation and CORS ---------------------------------------------------------------------


def test_openapi_document_lists_every_route_and_the_security_scheme(store: FileStore) -> None:
    status, doc, headers = request("GET", "/openapi.json", claims=None)
    assert status == 200
    assert headers["Content-Type"] == "application/json"
    operations = {(method.upper(), path) for path, item in doc["paths"].items() for method in item}
    assert operations == {
        ("GET", "/auth/config"),
        ("GET", "/me"),
        ("PATCH", "/me"),
        ("POST", "/uploads"),
        ("GET", "/uploads"),
        ("POST", "/uploads/{upload_id}/parts"),
        ("GET", "/uploads/{upload_id}/parts"),
        ("POST", "/uploads/{upload_id}/complete"),
        ("GET", "/uploads/{upload_id}"),
        ("GET", "/uploads/{upload_id}/download"),
        ("PATCH", "/uploads/{upload_id}"),
        ("DELETE", "/uploads/{upload_id}"),
        ("POST", "/uploads/{upload_id}/shares"),
        ("GET", "/uploads/{upload_id}/shares"),
        ("DELETE", "/shares/{token}"),
        ("GET", "/shares/{token}"),
        ("POST", "/folders"),
        ("GET", "/folders"),
        ("GET", "/folders/{folder_id}"),
        ("PATCH", "/folders/{folder_id}"),
        ("DELETE", "/folders/{folder_id}"),
        ("GET", "/trash"),
        ("POST", "/trash/{item_id}/restore"),
        ("DELETE", "/trash/{item_id}"),
        ("DELETE", "/trash"),
    }
    assert doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert doc["paths"]["/me"]["get"]["security"] == [{"bearer": []}]
    assert "security" not in doc["paths"]["/shares/{token}"]["get"]


def test_openapi_document_is_valid_and_describes_every_answer(store: FileStore) -> None:
    """What a client (or a fuzzer) checks answers against: each operation's success with its
    schema, and each error it can give with the one error body."""
    from openapi_spec_validator import validate

    _, doc, _ = request("GET", "/openapi.json", claims=None)
    validate(doc)
    error_body = {"$ref": "#/components/schemas/ErrorOut"}
    assert doc["components"]["schemas"]["ErrorOut"]["required"] == ["message"]
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            answers = operation["responses"]
            successes = [code for code in answers if code.startswith("2")]
            assert len(successes) == 1, (method, path)
            ok = answers[successes[0]]
            assert ("schema" in ok.get("content", {}).get("application/json", {})) == (
                successes[0] != "204"
            ), (method, path)
            errors = {code: a for code, a in answers.items() if not code.startswith("2")}
            assert {"422", "503"} <= set(errors), (method, path)
            assert ("401" in errors) == ("security" in operation), (method, path)
            for code, answer in errors.items():
                schema = answer["content"]["application/json"]["schema"]
                assert schema == error_body, (method, path, code)
    assert "413" in doc["paths"]["/uploads"]["post"]["responses"]
    # Bounds are written in JSON Schema's words (pydantic can leave its own, "ge", behind).
    item = doc["components"]["schemas"]["PartNumbersIn"]["properties"]["part_numbers"]["items"]
    assert (item["minimum"], item["maximum"]) == (1, 10_000)
    assert not re.search(r'"(ge|gt|le|lt)":', json.dumps(doc))
    # Links (what a client, or a stateful fuzzer, does next with an id) name real operations.
    operations = {
        op["operationId"]: path for path, item in doc["paths"].items() for op in item.values()
    }
    links = doc["paths"]["/uploads"]["post"]["responses"]["201"]["links"]
    assert {"get_upload", "complete", "create_share"} <= set(links)
    share_links = doc["paths"]["/uploads/{upload_id}/shares"]["post"]["responses"]["201"]["links"]
    for link in [*links.values(), *share_links.values()]:
        (parameter,) = link["parameters"]
        assert f"{{{parameter}}}" in operations[link["operationId"]]
    assert "409" in doc["paths"]["/uploads/{upload_id}/download"]["get"]["responses"]
    assert "404" in doc["paths"]["/shares/{token}"]["get"]["responses"]
    # A user says whether mail reaches them, in the words GET /me uses.
    user = doc["components"]["schemas"]["UserOut"]
    assert user["properties"]["email_status"]["enum"] == ["ok", "bounced", "complained"]
    assert "email_status" in user["required"]


def test_swagger_ui_is_public(store: FileStore) -> None:
    response = http_api.handler(http_event("GET", "/docs", claims=None), LambdaContext())
    assert response["statusCode"] == 200
    assert response["headers"]["Content-Type"] == "text/html"
    body = response["body"]
    if response.get("isBase64Encoded"):
        import gzip

        body = gzip.decompress(base64.b64decode(body)).decode()
    assert "swagger" in body.lower()


def test_cors_headers_for_a_browser(store: FileStore) -> None:
    event = http_event("GET", "/me", claims=ALICE, headers={"origin": "https://app.example.com"})
    response = http_api.handler(event, LambdaContext())
    assert response["headers"]["Access-Control-Allow-Origin"] == "*"
    preflight = http_event(
        "OPTIONS", "/uploads", claims=None, headers={"origin": "https://app.example.com"}
    )
    response = http_api.handler(preflight, LambdaContext())
    assert response["statusCode"] == 204
    assert "Authorization" in response["headers"]["Access-Control-Allow-Headers"]


def test_an_access_token_is_refused_with_the_token_to_send_instead(store: FileStore) -> None:
    # API Gateway's JWT authorizer lets Cognito's access token through (its `client_id` is the
    # audience); the token says nothing of who the user is. Even with an `email` claim added
    # it must not pass for an ID token.
    access = {
        "sub": ALICE["sub"],
        "token_use": "access",
        "client_id": "app-client",
        "scope": "aws.cognito.signin.user.admin",
    }
    for claims in (access, {**access, "email": ALICE["email"]}):
        status, body, headers = request("GET", "/me", claims=claims)
        assert status == 401
        assert "ID token" in body["message"]
        assert "access token" in body["message"]
        assert headers["WWW-Authenticate"].startswith('Bearer error="invalid_token"')
    # Validation runs before the route: an access token with a bad body is still a 401.
    status, body, _ = request("POST", "/uploads", claims=access, json_body={"name": "a"})
    assert status == 401
    assert "ID token" in body["message"]
    # The ID token passes.
    status, _, _ = request("GET", "/me", claims={**ALICE, "token_use": "id"})
    assert status == 200


def test_a_browser_may_read_retry_after_and_www_authenticate(store: FileStore) -> None:
    event = http_event("GET", "/me", claims=None, headers={"origin": "https://app.example.com"})
    response = http_api.handler(event, LambdaContext())
    assert response["statusCode"] == 401
    exposed = {
        h.strip().lower() for h in response["headers"]["Access-Control-Expose-Headers"].split(",")
    }
    assert {"retry-after", "www-authenticate"} <= exposed
