"""A fake of the filestore HTTP API's folders, files and trash (DESIGN, v2), for the CLI's
unit tests: an `httpx.MockTransport` handler over a few dicts, one user, no sockets.

It keeps the rules the CLI relies on (names unique per folder among folders and stored files by
NFC + case folding, 409 on a clash or a move into itself, 404 for what is absent or trashed,
paginated listings) and records every request, so tests can say which calls a command made.
Storage is the same fake: the presigned POST stores the file at once.
"""

from __future__ import annotations

import itertools
import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import httpx

from filestore.domain.names import name_key as _key
from filestore.domain.names import search_key as _search_key

STORAGE = "https://storage.test"


class _Answer(Exception):
    def __init__(self, status: int, body: Any = None) -> None:
        self.status, self.body = status, body


def _refuse(status: int, message: str) -> _Answer:
    return _Answer(status, {"message": message})


@dataclass
class FakeApi:
    """The API's state; call it with a request (as `httpx.MockTransport` does)."""

    page_size: int = 100
    folders: dict[str, dict[str, Any]] = field(default_factory=dict)
    uploads: dict[str, dict[str, Any]] = field(default_factory=dict)
    trashed: dict[str, str] = field(default_factory=dict)  # id -> trashed_with
    requests: list[str] = field(default_factory=list)  # "GET /folders?parent_id=root"
    bodies: list[Any] = field(default_factory=list)  # the JSON bodies sent, in order
    _ids: Any = field(default_factory=lambda: itertools.count(1))

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)

    # building state directly

    def new_id(self) -> str:
        return f"00000000-0000-7000-8000-{next(self._ids):012d}"

    def add_folder(self, name: str, parent_id: str | None = None) -> dict[str, Any]:
        folder = {"id": self.new_id(), "name": name, "parent_id": parent_id,
                  "created_at": f"2026-01-01T00:00:{len(self.folders):02d}Z"}  # fmt: skip
        self.folders[folder["id"]] = folder
        return folder

    def add_file(self, name: str, folder_id: str | None = None, size: int = 1) -> dict[str, Any]:
        upload = {"id": self.new_id(), "name": name, "size": size, "folder_id": folder_id,
                  "content_type": "text/plain", "status": "stored",
                  "created_at": f"2026-01-02T00:00:{len(self.uploads):02d}Z"}  # fmt: skip
        self.uploads[upload["id"]] = upload
        return upload

    # the transport

    def __call__(self, request: httpx.Request) -> httpx.Response:
        query = {k: v[0] for k, v in parse_qs(request.url.query.decode()).items()}
        shown = "&".join(f"{k}={v}" for k, v in query.items() if k not in {"limit", "cursor"})
        self.requests.append(
            f"{request.method} {request.url.path}" + (f"?{shown}" if shown else "")
        )
        body = (
            json.loads(request.content)
            if request.content and request.url.host != "storage.test"
            else {}
        )
        if request.content and request.url.host != "storage.test":
            self.bodies.append(body)
        try:
            status, answer = 200, self._route(request.method, request.url.path, query, body)
        except _Answer as answer_:
            status, answer = answer_.status, answer_.body
        if (
            request.method == "POST"
            and status == 200
            and request.url.path in {"/folders", "/uploads"}
        ):
            status = 201
        if answer is None:
            return httpx.Response(204 if status == 200 else status)
        return httpx.Response(status, json=answer)

    def _route(self, method: str, path: str, query: dict[str, str], body: Any) -> Any:
        parts = path.strip("/").split("/")
        route = (method, parts[0], len(parts))
        if route == ("GET", "folders", 1):
            parent = None if query.get("parent_id", "root") == "root" else query["parent_id"]
            if parent is not None:
                self._folder(parent)
            items = sorted(self._in(parent, self.folders), key=lambda f: (_key(f["name"]), f["id"]))
            return self._page(items, query)
        if route == ("GET", "folders", 2):
            folder = self._folder(parts[1])
            return {
                **folder,
                "path": [{"id": f["id"], "name": f["name"]} for f in self._path(folder)],
            }
        if route == ("POST", "folders", 1):
            self._place(body["name"], body.get("parent_id"))
            return self.add_folder(body["name"], body.get("parent_id"))
        if route == ("PATCH", "folders", 2):
            return self._patch(self._folder(parts[1]), body, "parent_id")
        if route == ("DELETE", "folders", 2):
            self._trash(self._folder(parts[1])["id"])
            return None
        if route == ("GET", "uploads", 1):
            return self._page(self._files(query), query)
        if route == ("GET", "uploads", 2):
            return self._upload(parts[1])
        if route == ("PATCH", "uploads", 2):
            return self._patch(self._upload(parts[1]), body, "folder_id")
        if route == ("DELETE", "uploads", 2):
            if parts[1] not in self.trashed:
                self._trash(self._upload(parts[1])["id"])
            return None
        if route == ("POST", "uploads", 1):
            return self._declare(body)
        if route == ("POST", "stored", 2):  # the storage POST
            return self._store(self.uploads[parts[1]])
        if route == ("GET", "trash", 1):
            return self._page(
                sorted(self._trash_items(), key=lambda i: i["id"], reverse=True), query
            )
        if route == ("DELETE", "trash", 1):
            for item in self._trash_items():
                self._forget(item["id"])
            return None
        if route == ("DELETE", "trash", 2):
            self._forget(self._trash_item(parts[1])["id"])
            return None
        if route == ("POST", "trash", 3) and parts[2] == "restore":
            return self._restore(self._trash_item(parts[1]))
        raise _refuse(404, "Not found")

    # rules

    def _page(self, items: list[Any], query: dict[str, str]) -> Any:
        start = int(query.get("cursor", 0))
        size = min(int(query.get("limit", 50)), self.page_size)
        end = start + size
        return {"items": items[start:end], "next_cursor": str(end) if end < len(items) else None}

    def _in(self, parent: str | None, table: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
        key = "parent_id" if table is self.folders else "folder_id"
        return [i for i in table.values() if i[key] == parent and self._active(i)]

    def _active(self, item: dict[str, Any]) -> bool:
        return item["id"] not in self.trashed and item.get("status", "stored") == "stored"

    def _folder(self, folder_id: str) -> dict[str, Any]:
        folder = self.folders.get(folder_id)
        if folder is None or folder_id in self.trashed:
            raise _refuse(404, "No such folder.")
        return folder

    def _upload(self, upload_id: str) -> dict[str, Any]:
        upload = self.uploads.get(upload_id)
        if upload is None or upload_id in self.trashed:
            raise _refuse(404, "No such upload.")
        return upload

    def _path(self, folder: dict[str, Any]) -> list[dict[str, Any]]:
        path = [folder]
        while path[0]["parent_id"] is not None:
            path.insert(0, self.folders[path[0]["parent_id"]])
        return path

    def _clash(self, name: str, parent: str | None, *, but: str | None = None) -> Any:
        taken = self._in(parent, self.folders) + self._in(parent, self.uploads)
        return next((i for i in taken if _key(i["name"]) == _key(name) and i["id"] != but), None)

    def _place(self, name: str, parent: str | None, *, but: str | None = None) -> None:
        if parent is not None:
            self._folder(parent)
        clash = self._clash(name, parent, but=but)
        if clash is not None:
            kind = "A folder" if "parent_id" in clash else "A file"
            raise _refuse(
                409, f'{kind} named "{clash["name"]}" is already there; choose another name.'
            )

    def _patch(self, item: dict[str, Any], body: Any, parent_field: str) -> Any:
        name = body.get("name", item["name"])
        parent = body.get(parent_field, item[parent_field])
        inside = parent_field == "parent_id" and parent is not None
        if inside and item["id"] in [f["id"] for f in self._path(self._folder(parent))]:
            raise _refuse(409, "A folder cannot be moved into itself or a folder inside it.")
        self._place(name, parent, but=item["id"])
        item.update(name=name, **{parent_field: parent})
        return item

    def _files(self, query: dict[str, str]) -> list[dict[str, Any]]:
        if "folder_id" in query:
            folder = (
                None if query["folder_id"] == "root" else self._folder(query["folder_id"])["id"]
            )
            files = self._in(folder, self.uploads)
        else:
            files = [u for u in self.uploads.values() if self._active(u)]
        if "q" in query:
            files = [f for f in files if _search_key(query["q"]) in _search_key(f["name"])]
        sort = query.get("sort", "created_at")
        by = {"name": lambda u: (_key(u["name"]), u["id"]), "size": lambda u: (u["size"], u["id"])}
        key = by.get(sort, lambda u: (u["created_at"], u["id"]))
        return sorted(files, key=key, reverse=query.get("order", "desc") == "desc")

    def _declare(self, body: Any) -> Any:
        folder = body.get("folder_id")
        if folder is not None:
            self._folder(folder)
        if body.get("on_conflict") == "fail":
            self._place(body["name"], folder)
        upload = self.add_file(body["name"], folder, body["size"])
        upload["status"] = "pending"
        url = {"method": "POST", "url": f"{STORAGE}/stored/{upload['id']}", "fields": {}}
        return {"upload": dict(upload), "upload_url": url}

    def _store(self, upload: dict[str, Any]) -> None:
        name, number = upload["name"], 2
        while self._clash(name, upload["folder_id"]) is not None:
            stem, dot, ext = upload["name"].rpartition(".")
            name = f"{stem} ({number}).{ext}" if dot and stem else f"{upload['name']} ({number})"
            number += 1
        upload.update(name=name, status="stored")

    def _trash(self, item_id: str) -> None:
        self.trashed[item_id] = item_id
        self._trash_below(item_id, item_id)

    def _trash_below(self, folder_id: str, with_id: str) -> None:
        for table in (self.folders, self.uploads):
            key = "parent_id" if table is self.folders else "folder_id"
            for item in table.values():
                if item[key] == folder_id and item["id"] not in self.trashed:
                    self.trashed[item["id"]] = with_id
                    if table is self.folders:
                        self._trash_below(item["id"], with_id)

    def _trash_items(self) -> list[dict[str, Any]]:
        items = []
        for item_id, with_id in self.trashed.items():
            if item_id == with_id:
                item = self.folders.get(item_id) or self.uploads[item_id]
                kind = "folder" if item_id in self.folders else "upload"
                items.append({"kind": kind, "id": item_id, "name": item["name"],
                              **({"size": item["size"]} if kind == "upload" else {}),
                              "trashed_at": "2026-02-01T00:00:00Z",
                              "purge_at": "2026-03-03T00:00:00Z"})  # fmt: skip
        return items

    def _trash_item(self, item_id: str) -> dict[str, Any]:
        found = [i for i in self._trash_items() if i["id"] == item_id]
        if not found:
            raise _refuse(404, "Not in the trash.")
        return found[0]

    def _forget(self, item_id: str) -> None:
        for member in [i for i, w in self.trashed.items() if w == item_id]:
            del self.trashed[member]
            self.folders.pop(member, None)
            self.uploads.pop(member, None)

    def _restore(self, trash_item: dict[str, Any]) -> Any:
        item_id = trash_item["id"]
        item = self.folders.get(item_id) or self.uploads[item_id]
        parent_field = "parent_id" if item_id in self.folders else "folder_id"
        for member in [i for i, w in self.trashed.items() if w == item_id]:
            del self.trashed[member]
        parent = item[parent_field]
        if parent is not None and (parent not in self.folders or parent in self.trashed):
            item[parent_field] = None
        name, number = item["name"], 2
        while self._clash(name, item[parent_field], but=item_id) is not None:
            name, number = f"{item['name']} ({number})", number + 1
        item["name"] = name
        return item


def matching(requests: list[str], pattern: str) -> list[str]:
    """The requests that match a regular expression, e.g. `^GET /folders`."""
    return [r for r in requests if re.search(pattern, r)]
