"""In-memory folders, the trash and sorted, searched file listings (part of `memory`).

The conditions the ports put on writes (no clash, no cycle, an active parent) are checked
against what the unit of work sees; a concurrent unit that changed the same user's tree is
caught at commit, since every write that depends on the tree stages a new version of it
(`MemoryTree`), as a SQL adapter locks the rows it checks.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, TypeVar

from filestore.domain.errors import AlreadyExists, ConcurrencyConflict, NotFound
from filestore.domain.model import Aggregate, Folder, FolderStatus, Upload, UploadStatus
from filestore.domain.names import name_key, split_extension
from filestore.domain.ports import (
    ANY_FOLDER,
    FileQuery,
    ListPosition,
    NameClash,
    SortPosition,
    TrashedFiles,
    TrashPosition,
)

if TYPE_CHECKING:
    from filestore.adapters.memory import MemoryUserRepository, _Staged


@dataclass
class MemoryTree:
    """A version of one user's tree of names: bumped by every write that depends on it."""

    version: int = 0


R = TypeVar("R")


def clone(row: R) -> R:
    """A copy that shares nothing mutable: every field of our entities is an immutable value
    (str, int, datetime, enum) except an aggregate's event list, which the copy gets empty
    (events travel through the outbox, not with the row)."""
    copied = copy.copy(row)
    if isinstance(copied, Aggregate):
        copied.events = []
    return copied


class TreeGuard:
    """Stages a new version of a user's tree, so that two units that both checked it cannot
    both commit."""

    def __init__(self, trees: _Staged[MemoryTree]) -> None:
        self._trees = trees

    def touch(self, owner_id: str) -> None:
        tree = self._trees.get(owner_id)
        if tree is None:
            self._trees.insert(owner_id, MemoryTree())
        else:
            self._trees.update(owner_id, tree)


class MemoryFileListing:
    """The uploads' side: listings, placement, what a purge takes."""

    def __init__(
        self,
        owned: Callable[[str], list[Upload]],
        save: Callable[[Upload], None],
        users: MemoryUserRepository,
        folders: _Staged[Folder],
        guard: TreeGuard,
    ) -> None:
        self._owned, self._save, self._users = owned, save, users
        self._folders, self._guard = folders, guard

    def active_folder(self, owner_id: str, folder_id: str | None) -> bool:
        if folder_id is None:
            return True
        folder = self._folders.get(folder_id)
        return folder is not None and folder.owner_id == owner_id and folder.is_active

    def clash(
        self, owner_id: str, parent_id: str | None, key: str, excluding: str | None
    ) -> NameClash | None:
        for folder in self._folders.values():
            if (
                folder.owner_id == owner_id
                and folder.parent_id == parent_id
                and folder.is_active
                and folder.id != excluding
                and folder.name_key == key
            ):
                return NameClash("folder", folder.id, folder.name)
        for upload in self._owned(owner_id):
            if (
                upload.folder_id == parent_id
                and upload.status is UploadStatus.STORED
                and upload.id != excluding
                and upload.name_key == key
            ):
                return NameClash("upload", upload.id, upload.name)
        return None

    async def list_files_for_sub(
        self, sub: str, query: FileQuery, limit: int, after: SortPosition | None = None
    ) -> list[Upload] | None:
        owner_id = self._users.id_of(sub)
        in_folder = query.folder != ANY_FOLDER
        if owner_id is None:
            return None if in_folder and query.folder is not None else []
        if in_folder and not self.active_folder(owner_id, query.folder):
            return None
        rows = [
            u
            for u in self._owned(owner_id)
            if u.status is UploadStatus.STORED
            and (not in_folder or u.folder_id == query.folder)
            and (query.contains is None or query.contains in u.search_key)
        ]

        def position(upload: Upload) -> tuple[datetime | str | int, str]:
            return (query.key_of(upload), upload.id)

        rows.sort(key=position, reverse=query.descending)
        if after is not None:
            mark = (after.key, after.id)
            rows = [
                u for u in rows if (position(u) < mark if query.descending else position(u) > mark)
            ]
        return [clone(u) for u in rows[:limit]]

    async def list_pending_for_sub(
        self, sub: str, limit: int, after: ListPosition | None = None
    ) -> list[Upload]:
        return self.newest_for_sub(sub, UploadStatus.PENDING, limit, after)

    def newest_for_sub(
        self, sub: str, status: UploadStatus, limit: int, after: ListPosition | None
    ) -> list[Upload]:
        """The uploads in `status` of the user with this sub, newest first, after `after`."""
        owner_id = self._users.id_of(sub)
        if owner_id is None:
            return []
        rows = [
            u
            for u in self._owned(owner_id)
            if u.status is status and (after is None or ListPosition(u.created_at, u.id) < after)
        ]
        rows.sort(key=lambda u: (u.created_at, u.id), reverse=True)
        return [clone(u) for u in rows[:limit]]

    async def place(self, upload: Upload) -> bool:
        if not self.active_folder(upload.owner_id, upload.folder_id):
            return False
        if upload.status is UploadStatus.STORED and self.clash(
            upload.owner_id, upload.folder_id, upload.name_key, upload.id
        ):
            return False
        try:
            self._save(upload)
        except ConcurrencyConflict:
            return False
        self._guard.touch(upload.owner_id)
        return True

    async def files_trashed_with(self, owner_id: str, item_id: str, limit: int) -> TrashedFiles:
        return _trashed_files(self._owned(owner_id), item_id, limit)

    async def object_keys_trashed_with(
        self, owner_id: str, item_id: str, limit: int, after: str
    ) -> list[str]:
        keys = sorted(
            u.object_key
            for u in self._owned(owner_id)
            if u.trashed_with == item_id and u.id != item_id and u.object_key > after
        )
        return keys[:limit]


def _trashed_files(owned: Iterable[Upload], item_id: str, limit: int) -> TrashedFiles:
    """What `files_trashed_with` answers, from one owner's uploads."""
    files = [
        u
        for u in owned
        if u.status is UploadStatus.TRASHED and u.trashed_with == item_id and u.id != item_id
    ]
    keys = sorted(u.object_key for u in files)[:limit]
    return TrashedFiles(len(files), sum(u.size for u in files), keys)


class MemoryFolderRepository:
    def __init__(
        self,
        table: _Staged[Folder],
        seen: list[Aggregate],
        users: MemoryUserRepository,
        files: MemoryFileListing,
        uploads: _Staged[Upload],
        guard: TreeGuard,
    ) -> None:
        self._table, self._seen, self._users = table, seen, users
        self._files, self._uploads, self._guard = files, uploads, guard

    def _owned(self, owner_id: str) -> Iterator[Folder]:
        return (f for f in self._table.values() if f.owner_id == owner_id)

    def _below(self, folder: Folder) -> list[Folder]:
        """Every folder under `folder`, at any depth, in whatever state."""
        children: dict[str | None, list[Folder]] = {}
        for row in self._owned(folder.owner_id):
            children.setdefault(row.parent_id, []).append(row)
        found, todo = [], [folder.id]
        while todo:
            for child in children.get(todo.pop(), []):
                found.append(child)
                todo.append(child.id)
        return found

    def _uploads_in(self, owner_id: str, folder_ids: set[str]) -> list[Upload]:
        return [
            u
            for u in self._uploads.values()
            if u.owner_id == owner_id and u.folder_id is not None and u.folder_id in folder_ids
        ]

    def _fits(self, folder: Folder) -> bool:
        """The conditions of a folder's place: an active parent of the owner, no clash."""
        return self._files.active_folder(
            folder.owner_id, folder.parent_id
        ) and not self._files.clash(folder.owner_id, folder.parent_id, folder.name_key, folder.id)

    def _stale(self, folder: Folder) -> bool:
        current = self._table.get(folder.id)
        return current is None or current.version != folder.version

    def _save(self, folder: Folder) -> None:
        self._table.update(folder.id, folder)
        self._guard.touch(folder.owner_id)
        self._seen.append(folder)

    async def get(self, folder_id: str) -> Folder | None:
        return self._table.get(folder_id)

    async def get_for_sub(self, folder_id: str, sub: str) -> Folder | None:
        folder = self._table.get(folder_id)
        owner_id = self._users.id_of(sub)
        return folder if folder is not None and folder.owner_id == owner_id else None

    async def get_path_for_sub(self, folder_id: str, sub: str) -> list[Folder]:
        path: list[Folder] = []
        folder = await self.get_for_sub(folder_id, sub)
        while folder is not None:
            path.append(folder)
            folder = self._table.get(folder.parent_id) if folder.parent_id else None
        return path[::-1]

    async def list_for_sub(
        self, sub: str, parent_id: str | None, limit: int, after: SortPosition | None = None
    ) -> list[Folder] | None:
        owner_id = self._users.id_of(sub)
        if owner_id is None:
            return [] if parent_id is None else None
        if not self._files.active_folder(owner_id, parent_id):
            return None
        rows = sorted(
            (
                f
                for f in self._owned(owner_id)
                if f.parent_id == parent_id
                and f.is_active
                and (after is None or (f.name_key, f.id) > (after.key, after.id))
            ),
            key=lambda f: (f.name_key, f.id),
        )
        return [clone(f) for f in rows[:limit]]

    async def add(self, folder: Folder) -> bool:
        if self._table.get(folder.id) is not None:
            raise AlreadyExists("A folder with this id exists.")
        if await self._users.get(folder.owner_id) is None:
            raise NotFound("The owner of this folder does not exist.")
        if not self._fits(folder):
            return False
        self._table.insert(folder.id, folder)
        self._guard.touch(folder.owner_id)
        self._seen.append(folder)
        return True

    async def update(self, folder: Folder) -> bool:
        if self._stale(folder) or not self._fits(folder):
            return False
        if folder.parent_id is not None:
            stored = self._table.get(folder.id)
            assert stored is not None  # not stale  # nosec B101
            if folder.parent_id in {f.id for f in self._below(stored)}:
                return False
        self._save(folder)
        return True

    async def trash(self, folder: Folder) -> None:
        stored = self._table.get(folder.id)
        if stored is None or stored.version != folder.version:
            raise ConcurrencyConflict("The folder was changed by someone else.")
        taken = [clone(f) for f in self._below(stored) if f.is_active]
        for row in taken:
            row.status, row.trashed_at, row.trashed_with = (
                FolderStatus.TRASHED,
                folder.trashed_at,
                folder.id,
            )
            self._table.update(row.id, row)
        for upload in self._uploads_in(folder.owner_id, {f.id for f in taken} | {folder.id}):
            if upload.status is UploadStatus.STORED:
                upload = clone(upload)
                upload.status, upload.trashed_at, upload.trashed_with = (
                    UploadStatus.TRASHED,
                    folder.trashed_at,
                    folder.id,
                )
                upload.updated_at = folder.trashed_at or upload.updated_at
                self._uploads.update(upload.id, upload)
        self._save(folder)

    async def restore(self, folder: Folder, *, now: datetime) -> bool:
        if self._stale(folder) or not self._fits(folder):
            return False
        for row in [clone(f) for f in self._owned(folder.owner_id)]:
            if row.id != folder.id and row.trashed_with == folder.id:
                row.status, row.trashed_at, row.trashed_with = FolderStatus.ACTIVE, None, None
                self._table.update(row.id, row)
        for upload in list(self._uploads.values()):
            if upload.owner_id == folder.owner_id and upload.trashed_with == folder.id:
                upload = clone(upload)
                upload.status, upload.trashed_at, upload.trashed_with = (
                    UploadStatus.STORED,
                    None,
                    None,
                )
                upload.restored_at = upload.updated_at = now
                self._uploads.update(upload.id, upload)
        self._save(folder)
        return True

    async def purge(self, folder: Folder, *, release_bytes: int, now: datetime) -> None:
        if self._stale(folder):
            raise ConcurrencyConflict("The folder was changed by someone else.")
        for row in [clone(f) for f in self._owned(folder.owner_id)]:
            if row.id != folder.id and row.trashed_with == folder.id:
                row.status = FolderStatus.DELETED
                self._table.update(row.id, row)
        for upload in list(self._uploads.values()):
            if upload.owner_id == folder.owner_id and upload.trashed_with == folder.id:
                upload = clone(upload)
                upload.status, upload.updated_at = UploadStatus.DELETED, now
                self._uploads.update(upload.id, upload)
        if release_bytes:
            self._users.release(folder.owner_id, release_bytes)
        self._save(folder)

    async def find_clash(
        self, owner_id: str, parent_id: str | None, name: str, *, excluding: str | None = None
    ) -> NameClash | None:
        return self._files.clash(owner_id, parent_id, name_key(name), excluding)

    async def names_like(self, owner_id: str, parent_id: str | None, name: str) -> set[str]:
        stem_key = name_key(split_extension(name)[0])
        keys = {
            f.name_key for f in self._owned(owner_id) if f.parent_id == parent_id and f.is_active
        }
        keys |= {
            u.name_key
            for u in self._uploads.values()
            if u.owner_id == owner_id
            and u.folder_id == parent_id
            and u.status is UploadStatus.STORED
        }
        return {k for k in keys if k.startswith(stem_key)}


class MemoryTrashRepository:
    def __init__(
        self, folders: _Staged[Folder], uploads: _Staged[Upload], users: MemoryUserRepository
    ) -> None:
        self._folders, self._uploads, self._users = folders, uploads, users

    def _entries(self) -> Iterator[Upload | Folder]:
        for upload in self._uploads.values():
            if upload.status is UploadStatus.TRASHED and upload.trashed_with == upload.id:
                yield upload
        for folder in self._folders.values():
            if folder.status is FolderStatus.TRASHED and folder.trashed_with == folder.id:
                yield folder

    @staticmethod
    def _position(item: Upload | Folder) -> tuple[datetime, str]:
        assert item.trashed_at is not None  # in the trash  # nosec B101
        return (item.trashed_at, item.id)

    async def list_for_sub(
        self, sub: str, limit: int, after: TrashPosition | None = None
    ) -> list[Upload | Folder]:
        owner_id = self._users.id_of(sub)
        rows = [
            item
            for item in self._entries()
            if item.owner_id == owner_id
            and (after is None or self._position(item) < (after.trashed_at, after.id))
        ]
        rows.sort(key=self._position, reverse=True)
        return [clone(item) for item in rows[:limit]]

    async def get_for_sub(self, item_id: str, sub: str) -> Upload | Folder | None:
        owner_id = self._users.id_of(sub)
        for item in self._entries():
            if item.id == item_id and item.owner_id == owner_id:
                return clone(item)
        return None

    async def get_with_files_for_sub(
        self, item_id: str, sub: str, limit: int
    ) -> tuple[Upload | Folder, TrashedFiles] | None:
        item = await self.get_for_sub(item_id, sub)
        if item is None:
            return None
        owned = (u for u in self._uploads.values() if u.owner_id == item.owner_id)
        return item, _trashed_files(owned, item.id, limit)

    async def list_expired(
        self, trashed_before: datetime, limit: int, after: TrashPosition | None = None
    ) -> list[Upload | Folder]:
        rows = [
            item
            for item in self._entries()
            if self._position(item)[0] < trashed_before
            and (after is None or self._position(item) > (after.trashed_at, after.id))
        ]
        rows.sort(key=self._position)
        return [clone(item) for item in rows[:limit]]
