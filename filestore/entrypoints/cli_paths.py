"""Paths such as `docs/2026/report.pdf`, resolved against the API the way its server names things.

The API knows files and folders by id. A path is walked from the root one folder at a time
(`GET /folders?parent_id=…`, every page, each listing asked for once per command); its last part
may also name a file, looked up with a search in its folder (`GET /uploads?folder_id=…&q=…`) and
then matched exactly. Names compare as the server compares them, NFC-normalized and case-folded,
so `Docs/REPORT.pdf` finds `docs/report.pdf`. Wherever an existing file or folder is expected, its
id is accepted too, and so is the start of a file's id (at least 4 characters) that no path
matches and that one file's id alone begins with. A leading `/` changes nothing (every path
starts at the root); a trailing `/` says the path names a folder.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from filestore.domain import names
from filestore.entrypoints.client_errors import ClientError, UsageError

ROOT = "root"  # the API's name of the root where a folder id is expected in a query


class NotFound(ClientError):
    """No file or folder at that path (or with that id): as the API's 404."""

    def __init__(self, message: str, *, status: int | None = 404) -> None:
        super().__init__(message, status=status)


class FolderApi(Protocol):
    """What resolving paths needs of the API (`filestore.entrypoints.client.Client` has it)."""

    def folders(self, parent_id: str = ROOT) -> list[Any]: ...

    def folder(self, folder_id: str) -> Any: ...

    def get(self, upload_id: str) -> Any: ...

    def list(
        self,
        *,
        folder_id: str | None = None,
        sort: str | None = None,
        order: str | None = None,
        query: str | None = None,
    ) -> list[Any]: ...

    def create_folder(self, name: str, parent_id: str | None = None) -> Any: ...


@dataclass(frozen=True)
class Entry:
    """A file (`upload`) or folder, as the API gave it; the root is a folder without an id."""

    kind: Literal["folder", "upload"]
    id: str | None
    name: str
    parent_id: str | None  # the folder it is in; None: the root
    data: Mapping[str, Any] = field(default_factory=dict, compare=False)

    @property
    def is_folder(self) -> bool:
        return self.kind == "folder"

    @property
    def listing_id(self) -> str:
        """This folder as a `parent_id` / `folder_id` query value."""
        return self.id or ROOT

    def as_json(self) -> dict[str, Any]:
        """The API's object, with `"kind"` (`folder` or `upload`) for lists that mix them."""
        return {"kind": self.kind, **self.data}

    @classmethod
    def of_folder(cls, folder: Mapping[str, Any]) -> Entry:
        return cls("folder", folder["id"], folder["name"], folder.get("parent_id"), folder)

    @classmethod
    def of_upload(cls, upload: Mapping[str, Any]) -> Entry:
        return cls("upload", upload["id"], upload["name"], upload.get("folder_id"), upload)


ROOT_FOLDER = Entry("folder", None, "", None)


def name_key(name: str) -> str:
    """A name as the server compares it (`filestore.domain.names`), of what a user typed: the
    server drops the space around a name before it keeps it."""
    return names.name_key(name.strip())


def split_path(path: str) -> list[str]:
    """The names along `path`, outermost first; `""` and `/` are the root."""
    parts = path.strip("/").split("/")
    if parts == [""]:
        return []
    if any(not part.strip() for part in parts):
        raise ClientError(f"{path!r}: a path has a name between each '/'")
    return parts


MIN_PREFIX = 4


def looks_like_id_prefix(text: str) -> bool:
    """True for the start of an id: hex digits (and the id's dashes), at least `MIN_PREFIX`."""
    return len(text) >= MIN_PREFIX and re.fullmatch(r"[0-9a-fA-F][0-9a-fA-F-]*", text) is not None


def looks_like_id(text: str) -> bool:
    """True for the shape of the API's ids (a UUID, as `8-4-4-4-12` hex digits)."""
    try:
        return len(text) == 36 and str(uuid.UUID(text)) == text.lower()
    except ValueError:
        return False


class PathResolver:
    """Finds files and folders by path or id, for one command: folder listings are cached."""

    def __init__(self, api: FolderApi) -> None:
        self.api = api
        self._children: dict[str, list[Entry]] = {}
        self._paths: dict[str, str] = {}  # folder id -> `docs/2026`, as learnt on the way

    def _learn(self, parent: Entry, children: list[Entry]) -> list[Entry]:
        """Caches `parent`'s subfolders, and their paths where the parent's is known."""
        self._children[parent.listing_id] = children
        where = "" if parent.id is None else self._paths.get(parent.id)
        if where is not None:
            for child in children:
                self._paths[str(child.id)] = f"{where}/{child.name}" if where else child.name
        return children

    # folders

    def subfolders(self, folder: Entry) -> list[Entry]:
        """The folders in `folder` (cached for the life of the resolver)."""
        key = folder.listing_id
        if key not in self._children:
            return self._learn(folder, [Entry.of_folder(f) for f in self.api.folders(key)])
        return self._children[key]

    def subfolder(self, folder: Entry, name: str) -> Entry | None:
        wanted = name_key(name)
        return next((f for f in self.subfolders(folder) if name_key(f.name) == wanted), None)

    def folder(self, path: str) -> Entry:
        """The folder at `path` (or with that id); NotFound names the first part missing."""
        found = self.find_folder(path)
        if found is None:
            raise NotFound(f"no folder {path!r}{self._missing_part(path)}")
        return found

    def find_folder(self, path: str) -> Entry | None:
        """The folder at `path` (or with that id), or None."""
        if looks_like_id(path.strip("/")):
            by_id = self._folder_by_id(path.strip("/"))
            if by_id is not None:
                return by_id
        current: Entry | None = ROOT_FOLDER
        for name in split_path(path):
            if current is None:
                return None
            current = self.subfolder(current, name)
        return current

    def _missing_part(self, path: str) -> str:
        """` (there is no folder 'x' in docs)`: the first folder of `path` that is missing."""
        current, walked = ROOT_FOLDER, list[str]()
        for name in split_path(path):
            found = self.subfolder(current, name)
            if found is None:
                return f" (there is no folder {name!r} in {'/'.join(walked) or 'the root'})"
            current = found
            walked.append(found.name)
        return ""

    def ensure_folder(self, path: str) -> Entry:
        """The folder at `path`, created with its missing parents (`mkdir -p`)."""
        if looks_like_id(path.strip("/")):
            by_id = self._folder_by_id(path.strip("/"))
            if by_id is not None:
                return by_id
        current = ROOT_FOLDER
        for name in split_path(path):
            current = self.ensure_subfolder(current, name)
        return current

    def ensure_subfolder(self, parent: Entry, name: str) -> Entry:
        """The folder `name` in `parent`: the one there, else a new one."""
        existing = self.subfolder(parent, name)
        if existing is not None:
            return existing
        try:
            return self.create_folder(parent, name)
        except ClientError as error:
            if error.status != 409:
                raise
            # Created meanwhile by someone else? Then it is the one we want; a file of that name
            # is a real clash, which the server's message names.
            self._children.pop(parent.listing_id, None)
            existing = self.subfolder(parent, name)
            if existing is None:
                raise
            return existing

    def create_folder(self, parent: Entry, name: str) -> Entry:
        created = Entry.of_folder(self.api.create_folder(name, parent.id))
        self._learn(parent, [*self._children.get(parent.listing_id, []), created])
        self._children[created.listing_id] = []  # new: nothing in it to ask for
        return created

    def _folder_by_id(self, folder_id: str) -> Entry | None:
        try:
            return Entry.of_folder(self._fetch_folder(folder_id))
        except ClientError as error:
            if error.status == 404:
                return None
            raise

    # files and folders

    def file(self, folder: Entry, name: str) -> Entry | None:
        """The stored file `name` in `folder`: a search for the name, then an exact match."""
        wanted = name_key(name)
        matches = self.api.list(folder_id=folder.listing_id, query=name.strip())
        return next((Entry.of_upload(u) for u in matches if name_key(u["name"]) == wanted), None)

    def find(self, path: str) -> Entry | None:
        """The file or folder at `path` (or with that id), or None.

        The last name is looked for among folders (the listing a walk into it needs anyway), then
        among files (a file and a folder never share a name in a folder); after a trailing `/`,
        among folders only.
        """
        text = path.strip("/")
        if looks_like_id(text):
            by_id = self._upload_by_id(text) or self._folder_by_id(text)
            if by_id is not None:
                return by_id
        *parents, last = split_path(path) or [""]
        if not last:
            return ROOT_FOLDER
        parent = self.find_folder("/".join(parents))
        if parent is None:
            return None
        folder = self.subfolder(parent, last)
        if folder is not None or path.endswith("/"):
            return folder
        found = self.file(parent, last)
        if found is None and looks_like_id_prefix(text):
            return self.file_by_prefix(text)
        return found

    def file_by_prefix(self, prefix: str) -> Entry | None:
        """The one file whose id starts with `prefix` (every file is listed to find it); None if
        none does; several: UsageError naming them, so that a longer prefix can be given."""
        wanted = prefix.lower()
        found = (Entry.of_upload(u) for u in self.api.list() if str(u["id"]).startswith(wanted))
        matches = sorted(found, key=lambda entry: str(entry.id))
        if len(matches) > 1:
            shown = "; ".join(f"{m.id} {self.path_of(m)}" for m in matches[:10])
            more = f"; and {len(matches) - 10} more" if len(matches) > 10 else ""
            raise UsageError(
                f"{prefix!r} is the start of {len(matches)} files' ids: {shown}{more} "
                "(give more of the id, or the path)"
            )
        return matches[0] if matches else None

    def entry(self, path: str) -> Entry:
        """The file or folder at `path` (or with that id); NotFound says what is missing."""
        found = self.find(path)
        if found is None:
            parents = "/".join(split_path(path)[:-1])
            missing = self._missing_part(parents) if parents else ""
            raise NotFound(f"no file or folder {path!r}{missing}")
        return found

    def _upload_by_id(self, upload_id: str) -> Entry | None:
        try:
            return Entry.of_upload(self.api.get(upload_id))
        except ClientError as error:
            if error.status == 404:
                return None
            raise

    def moved(self, entry: Entry) -> None:
        """Forgets what moving `entry` (as it is now) made stale: listings and paths below it."""
        where = self.folder_path(entry.parent_id)
        self._children.clear()
        self._paths.clear()
        if entry.parent_id is not None:
            self._paths[entry.parent_id] = where
        if entry.is_folder:
            self._paths[str(entry.id)] = f"{where}/{entry.name}" if where else entry.name

    # showing where things are

    def folder_path(self, folder_id: str | None) -> str:
        """`docs/2026` for a folder id (`""` for the root): one `GET /folders/{id}` per folder."""
        if folder_id is None:
            return ""
        if folder_id not in self._paths:
            self._fetch_folder(folder_id)
        return self._paths[folder_id]

    def _fetch_folder(self, folder_id: str) -> Any:
        """`GET /folders/{id}`, whose `path` says where the folder is."""
        folder = self.api.folder(folder_id)
        self._paths[folder_id] = "/".join(step["name"] for step in folder.get("path") or [folder])
        return folder

    def with_path(self, entry: Entry) -> dict[str, Any]:
        """`entry.as_json()` with the `"path"` where it is."""
        return {**entry.as_json(), "path": self.path_of(entry)}

    def path_of(self, entry: Entry) -> str:
        """Where `entry` is, from the root: `docs/2026/report.pdf`."""
        if entry.id is None:
            return "/"
        if entry.is_folder:
            return self.folder_path(entry.id)
        return "/".join(p for p in (self.folder_path(entry.parent_id), entry.name) if p)


@contextmanager
def explained(action: str) -> Iterator[None]:
    """An API error says what was being done: `cannot move 'a' to 'b': "b" exists (HTTP 409)`
    (of the same class, so its exit status stays that of its kind of failure)."""
    try:
        yield
    except NotFound:
        raise
    except ClientError as error:
        raise type(error)(f"{action}: {error}", status=error.status) from error
