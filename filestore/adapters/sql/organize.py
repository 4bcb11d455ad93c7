"""Folders, the trash, sorted listings and search over SQL: not written yet.

Placeholders that keep the SQL unit of work a complete `UnitOfWork` until the SQL
repositories of folders and the trash land; every method raises `NotImplementedError`.
"""

from __future__ import annotations

from datetime import datetime

from filestore.domain.model import Folder, Upload
from filestore.domain.ports import (
    FileQuery,
    ListPosition,
    NameClash,
    SortPosition,
    TrashPosition,
)

_TODO = "folders and the trash are not implemented on SQL databases yet"


class SqlUploadOrganizing:
    """The `UploadRepository` methods of folders, sorting, search and the trash."""

    async def list_files_for_sub(
        self, sub: str, query: FileQuery, limit: int, after: SortPosition | None = None
    ) -> list[Upload] | None:
        raise NotImplementedError(_TODO)

    async def list_pending_for_sub(
        self, sub: str, limit: int, after: ListPosition | None = None
    ) -> list[Upload]:
        raise NotImplementedError(_TODO)

    async def place(self, upload: Upload) -> bool:
        raise NotImplementedError(_TODO)

    async def list_trashed_with(self, owner_id: str, item_id: str) -> list[Upload]:
        raise NotImplementedError(_TODO)


class SqlFolderRepository:
    async def get(self, folder_id: str) -> Folder | None:
        raise NotImplementedError(_TODO)

    async def get_for_sub(self, folder_id: str, sub: str) -> Folder | None:
        raise NotImplementedError(_TODO)

    async def get_path_for_sub(self, folder_id: str, sub: str) -> list[Folder]:
        raise NotImplementedError(_TODO)

    async def list_for_sub(
        self, sub: str, parent_id: str | None, limit: int, after: SortPosition | None = None
    ) -> list[Folder] | None:
        raise NotImplementedError(_TODO)

    async def add(self, folder: Folder) -> bool:
        raise NotImplementedError(_TODO)

    async def update(self, folder: Folder) -> bool:
        raise NotImplementedError(_TODO)

    async def trash(self, folder: Folder) -> None:
        raise NotImplementedError(_TODO)

    async def restore(self, folder: Folder, *, now: datetime) -> bool:
        raise NotImplementedError(_TODO)

    async def purge(self, folder: Folder, *, release_bytes: int) -> None:
        raise NotImplementedError(_TODO)

    async def find_clash(
        self, owner_id: str, parent_id: str | None, name: str, *, excluding: str | None = None
    ) -> NameClash | None:
        raise NotImplementedError(_TODO)

    async def names_like(self, owner_id: str, parent_id: str | None, name: str) -> set[str]:
        raise NotImplementedError(_TODO)


class SqlTrashRepository:
    async def list_for_sub(
        self, sub: str, limit: int, after: TrashPosition | None = None
    ) -> list[Upload | Folder]:
        raise NotImplementedError(_TODO)

    async def get_for_sub(self, item_id: str, sub: str) -> Upload | Folder | None:
        raise NotImplementedError(_TODO)

    async def list_expired(
        self, trashed_before: datetime, limit: int, after: TrashPosition | None = None
    ) -> list[Upload | Folder]:
        raise NotImplementedError(_TODO)
