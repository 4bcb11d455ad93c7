"""The HTTP API's v2 routes (folders, the trash, moving, sorting, searching), driven with HTTP
API v2 events over in-memory adapters."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from filestore.app import FileStore
from tests.unit.entrypoints.conftest import BOB
from tests.unit.entrypoints.test_http_api import request, stored_upload

NO_DESTINATION = (
    "The folder to put it in does not exist (it may have been deleted or put in the trash)."
)


def folder(name: str, parent_id: str | None = None) -> dict[str, Any]:
    status, body, _ = request("POST", "/folders", json_body={"name": name, "parent_id": parent_id})
    assert status == 201, body
    assert set(body) == {"id", "name", "parent_id", "created_at"}
    return body


def test_folders_are_created_read_listed_renamed_moved_and_trashed(store: FileStore) -> None:
    docs = folder("Docs")
    year = folder("2026", docs["id"])
    status, found, _ = request("GET", f"/folders/{year['id']}")
    assert status == 200
    assert found["path"] == [{"id": docs["id"], "name": "Docs"}, {"id": year["id"], "name": "2026"}]
    for query in ({}, {"parent_id": "root"}):
        status, page, _ = request("GET", "/folders", query=query)
        assert (status, [f["id"] for f in page["items"]]) == (200, [docs["id"]])
    status, moved, _ = request(
        "PATCH", f"/folders/{year['id']}", json_body={"name": "Y", "parent_id": None}
    )
    assert (status, moved["name"], moved["parent_id"]) == (200, "Y", None)
    status, same, _ = request("PATCH", f"/folders/{year['id']}", json_body={"name": "Y2"})
    assert (status, same["parent_id"]) == (200, None)  # an absent parent_id changes nothing
    assert request("DELETE", f"/folders/{docs['id']}")[0] == 204
    assert request("DELETE", f"/folders/{docs['id']}")[0] == 204
    assert request("GET", f"/folders/{docs['id']}")[0] == 404


def test_clashes_and_cycles_are_409_and_name_the_clash(store: FileStore) -> None:
    a = folder("a")
    b = folder("b", a["id"])
    status, body, _ = request("POST", "/folders", json_body={"name": "A"})
    assert status == 409
    assert body["details"] == [{"kind": "folder", "id": a["id"], "name": "a"}]
    assert '"a"' in body["message"]
    status, body, _ = request("PATCH", f"/folders/{a['id']}", json_body={"parent_id": b["id"]})
    assert status == 409 and "itself" in body["message"]


def test_someone_elses_folder_is_404_everywhere(store: FileStore) -> None:
    a = folder("a")
    for method, path, body in (
        ("GET", f"/folders/{a['id']}", None),
        ("PATCH", f"/folders/{a['id']}", {"name": "x"}),
        ("DELETE", f"/folders/{a['id']}", None),
        ("POST", f"/trash/{a['id']}/restore", None),
        ("DELETE", f"/trash/{a['id']}", None),
    ):
        assert request(method, path, BOB, json_body=body)[0] == 404, (method, path)
    assert request("GET", "/folders", BOB, query={"parent_id": a["id"]})[0] == 404
    assert request("GET", "/uploads", BOB, query={"folder_id": a["id"]})[0] == 404
    # Named in a body, someone else's folder is no destination, as one that never existed:
    # invalid input, so that a 404 always means the thing in the path.
    status, mine, _ = request("POST", "/folders", BOB, json_body={"name": "mine"})
    assert status == 201
    for method, path, body in (
        ("POST", "/folders", {"name": "x", "parent_id": a["id"]}),
        ("PATCH", f"/folders/{mine['id']}", {"parent_id": a["id"]}),
        ("POST", "/uploads", {"name": "x", "size": 1, "content_type": "text/plain",
                              "folder_id": a["id"]}),
        ("POST", "/folders", {"name": "y", "parent_id": "not-an-id"}),
    ):  # fmt: skip
        status, answer, _ = request(method, path, BOB, json_body=body)
        assert (status, answer["message"]) == (422, NO_DESTINATION), (method, body)


def test_a_file_is_uploaded_into_a_folder_moved_and_renamed(store: FileStore) -> None:
    docs = folder("Docs")
    status, body, _ = request(
        "POST",
        "/uploads",
        json_body={
            "name": "a.txt", "size": 1, "content_type": "text/plain", "folder_id": docs["id"],
        },
    )  # fmt: skip
    assert status == 201 and body["upload"]["folder_id"] == docs["id"]
    file_id = stored_upload(store, name="b.txt")
    status, moved, _ = request(
        "PATCH", f"/uploads/{file_id}", json_body={"folder_id": docs["id"], "name": "c.txt"}
    )
    assert (status, moved["folder_id"], moved["name"]) == (200, docs["id"], "c.txt")
    status, page, _ = request("GET", "/uploads", query={"folder_id": docs["id"]})
    assert [u["id"] for u in page["items"]] == [file_id]
    status, page, _ = request("GET", "/uploads", query={"folder_id": "root"})
    assert page["items"] == []
    status, page, _ = request("GET", "/uploads")  # v1: every stored file
    assert [u["id"] for u in page["items"]] == [file_id]
    status, back, _ = request("PATCH", f"/uploads/{file_id}", json_body={"folder_id": None})
    assert (status, back["folder_id"], back["name"]) == (200, None, "c.txt")


@pytest.mark.parametrize(
    "body", [{}, {"name": None}, {"name": 3}, {"folder_id": 3}, {"name": "x", "other": 1}]
)
def test_a_patch_that_says_nothing_valid_is_refused(store: FileStore, body: dict[str, Any]) -> None:
    file_id = stored_upload(store)
    # (An empty object goes as no body at all: 400.)
    assert request("PATCH", f"/uploads/{file_id}", json_body=body)[0] in (400, 422)
    docs = folder("Docs")
    assert request("PATCH", f"/folders/{docs['id']}", json_body=body)[0] in (400, 422)


def test_on_conflict_fail_is_409_at_once(store: FileStore) -> None:
    stored_upload(store, name="a.txt")
    status, body, _ = request(
        "POST",
        "/uploads",
        json_body={"name": "A.txt", "size": 1, "content_type": "text/plain", "on_conflict": "fail"},
    )
    assert status == 409 and body["details"][0]["kind"] == "upload"
    status, _, _ = request(
        "POST",
        "/uploads",
        json_body={"name": "b", "size": 1, "content_type": "text/plain", "on_conflict": "maybe"},
    )
    assert status == 422


def test_every_sort_pages_with_its_cursor(store: FileStore) -> None:
    ids = {name: stored_upload(store, data=b"x" * size, name=name) for name, size in
           (("b.txt", 3), ("A.txt", 1), ("c.txt", 2))}  # fmt: skip
    expected = {
        ("name", "asc"): ["A.txt", "b.txt", "c.txt"],
        ("name", "desc"): ["c.txt", "b.txt", "A.txt"],
        ("size", "asc"): ["A.txt", "c.txt", "b.txt"],
        ("size", "desc"): ["b.txt", "c.txt", "A.txt"],
        ("created_at", "asc"): ["b.txt", "A.txt", "c.txt"],
        ("created_at", "desc"): ["c.txt", "A.txt", "b.txt"],
    }
    for (sort, order), names in expected.items():
        seen, cursor = [], None
        for _ in range(5):
            query = {"sort": sort, "order": order, "limit": "2"}
            if cursor:
                query["cursor"] = cursor
            status, page, _ = request("GET", "/uploads", query=query)
            assert status == 200, page
            seen += [u["id"] for u in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == [ids[n] for n in names], (sort, order)


def test_a_cursor_of_another_listing_or_a_crafted_one_is_422(store: FileStore) -> None:
    for name in ("a", "b", "c"):
        stored_upload(store, name=name)
    _, page, _ = request("GET", "/uploads", query={"sort": "name", "limit": "1"})
    by_name = page["next_cursor"]
    status, _, _ = request("GET", "/uploads", query={"sort": "size", "cursor": by_name})
    assert status == 422
    status, _, _ = request(
        "GET", "/uploads", query={"sort": "name", "order": "asc", "cursor": by_name}
    )
    assert status == 422

    def crafted(data: object) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    decoded = json.loads(base64.urlsafe_b64decode(by_name + "=" * (-len(by_name) % 4)))
    for forged in (
        {**decoded, "t": 5},
        {**decoded, "t": ["x"]},
        {**decoded, "i": "not-an-id"},
        {**decoded, "k": "size-desc.000000000000"},
        [1, 2],
        "text",
        {"t": "2026-01-01T00:00:00", "i": decoded["i"]},  # no time zone
    ):
        query = {"sort": "name", "cursor": crafted(forged)}
        status, body, _ = request("GET", "/uploads", query=query)
        assert status == 422, (forged, body)
    deep = crafted({"t": [[[[[]]]]] * 1, "i": decoded["i"]})
    assert request("GET", "/uploads", query={"cursor": deep})[0] == 422
    nested = base64.urlsafe_b64encode(b"[" * 3000).rstrip(b"=").decode()
    assert request("GET", "/uploads", query={"cursor": nested})[0] == 422


def test_search_ignores_case_and_accents(store: FileStore) -> None:
    wanted = stored_upload(store, name="Résumé.pdf")
    stored_upload(store, name="notes.txt")
    status, page, _ = request("GET", "/uploads", query={"q": "resume"})
    assert (status, [u["id"] for u in page["items"]]) == (200, [wanted])


def test_pending_uploads_are_listed_alone(store: FileStore) -> None:
    status, body, _ = request(
        "POST", "/uploads", json_body={"name": "p", "size": 1, "content_type": "text/plain"}
    )
    stored_upload(store)
    status, page, _ = request("GET", "/uploads", query={"status": "pending"})
    assert status == 200
    assert [u["id"] for u in page["items"]] == [body["upload"]["id"]]
    assert page["items"][0]["status"] == "pending"
    for extra in ({"q": "p"}, {"sort": "name"}, {"folder_id": "root"}, {"order": "asc"}):
        assert request("GET", "/uploads", query={"status": "pending", **extra})[0] == 422


def test_the_trash_lists_restores_deletes_and_empties(store: FileStore) -> None:
    docs = folder("Docs")
    file_id = stored_upload(store, name="a.txt")
    assert request("DELETE", f"/uploads/{file_id}")[0] == 204
    assert request("DELETE", f"/uploads/{file_id}")[0] == 204
    assert request("GET", f"/uploads/{file_id}")[0] == 404
    assert request("DELETE", f"/folders/{docs['id']}")[0] == 204
    status, page, _ = request("GET", "/trash")
    assert status == 200
    assert [(i["kind"], i["id"]) for i in page["items"]] == [
        ("folder", docs["id"]), ("upload", file_id),
    ]  # fmt: skip
    item = page["items"][1]
    assert set(item) == {"kind", "id", "name", "size", "trashed_at", "purge_at"}
    assert item["size"] == 5 and page["items"][0]["size"] is None
    status, restored, _ = request("POST", f"/trash/{file_id}/restore")
    assert (status, restored["id"], restored["status"]) == (200, file_id, "stored")
    status, restored, _ = request("POST", f"/trash/{docs['id']}/restore")
    assert (status, restored["id"], restored["parent_id"]) == (200, docs["id"], None)
    assert request("DELETE", f"/uploads/{file_id}")[0] == 204
    assert request("DELETE", f"/trash/{file_id}")[0] == 204
    assert request("DELETE", f"/trash/{file_id}")[0] == 404  # gone for good
    assert request("DELETE", f"/folders/{docs['id']}")[0] == 204
    assert request("DELETE", "/trash")[0] == 204
    assert request("GET", "/trash")[1]["items"] == []
    assert request("GET", "/me")[1]["used_bytes"] == 0
