"""The trash, written once as SQL text over a `UnitExecutor` (MySQL and SQLite).

What was trashed directly is what has `trash_entry` (its `trashed_at` while its
`trashed_with` is its own id; migration 0005): files and folders each have an index of it per
owner and one across owners for the purge sweep. A page of the trash is one statement: the
newest page of each table (each a range of its index), merged and cut to the page.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from filestore.adapters.sql.executor import Dialect, Row, UnitExecutor, to_db_time
from filestore.adapters.sql.rows import FOLDER_COLUMNS, UPLOAD_COLUMNS, folder_from, upload_from
from filestore.domain.model import Folder, Upload, UploadStatus
from filestore.domain.ports import TrashPosition

_UPLOADS = [column.strip() for column in UPLOAD_COLUMNS.split(",")]
_FOLDERS = [column.strip() for column in FOLDER_COLUMNS.split(",")]
_UPLOAD_WIDTH = len(_UPLOADS)


def _aliased(columns: list[str]) -> str:
    """The select list of one branch: every column named by its place (a derived table's
    columns need distinct names; `u.public_id` and `o.public_id` are both `public_id`)."""
    return ", ".join(f"{column} AS c{n}" for n, column in enumerate(columns))


# Each branch's columns: an upload's, then a folder's, NULL where the row is the other kind.
_UPLOAD_ITEM = _aliased(_UPLOADS + ["NULL"] * len(_FOLDERS))
_FOLDER_ITEM = _aliased(["NULL"] * len(_UPLOADS) + _FOLDERS)


def _branches(where: str, order: str = "", index: str | None = None) -> tuple[str, str]:
    """The files' and the folders' part of a trash query: `kind, trash_at, item_id`, then an
    upload's columns and a folder's (NULL where the row is the other kind). `where` and
    `order` name the table `{t}`; `index` is the suffix of the index to read on MySQL."""
    uploads_hint = f" FORCE INDEX (uploads_{index})" if index else ""
    folders_hint = f" FORCE INDEX (folders_{index})" if index else ""
    if order:
        order = f" ORDER BY {order}"
    uploads = (
        f"SELECT 'upload' AS kind, u.trash_entry AS trash_at, u.public_id AS item_id,"  # noqa: S608 - constant fragments; values are bound  # nosec B608
        f" {_UPLOAD_ITEM} FROM uploads u{uploads_hint}"
        f" JOIN users o ON o.id = u.user_id WHERE u.trash_entry IS NOT NULL"
        f" {where.format(t='u')}{order.format(t='u')}"
    )
    folders = (
        f"SELECT 'folder' AS kind, f.trash_entry AS trash_at, f.public_id AS item_id,"  # noqa: S608 - constant fragments; values are bound  # nosec B608
        f" {_FOLDER_ITEM} FROM folders f{folders_hint}"
        f" JOIN users o ON o.id = f.user_id WHERE f.trash_entry IS NOT NULL"
        f" {where.format(t='f')}{order.format(t='f')}"
    )
    return uploads, folders


def _page(uploads: str, folders: str, order: str) -> str:
    return (
        f"SELECT * FROM (SELECT * FROM ({uploads} LIMIT :limit) a"  # noqa: S608 - constant fragments; values are bound  # nosec B608
        f" UNION ALL SELECT * FROM ({folders} LIMIT :limit) b) t ORDER BY {order} LIMIT :limit"
    )


def list_trash_query(
    sub: str, limit: int, after: TrashPosition | None = None, dialect: Dialect = "mysql"
) -> tuple[str, dict[str, Any]]:
    """One page of a user's trash, most recent first, as SQL and parameters."""
    params: dict[str, Any] = {"sub": sub, "limit": limit}
    where = "AND o.sub = :sub"
    if after is not None:
        where += (
            " AND {t}.trash_entry <= :at AND ({t}.trash_entry < :at OR {t}.public_id < :after_id)"
        )
        params |= {"at": to_db_time(after.trashed_at), "after_id": after.id}
    index = "trash" if dialect == "mysql" else None
    uploads, folders = _branches(where, "{t}.trash_entry DESC, {t}.public_id DESC", index)
    return _page(uploads, folders, "trash_at DESC, item_id DESC"), params


def _item(row: Row) -> Upload | Folder:
    if row[0] == "upload":
        return upload_from(row[3 : 3 + _UPLOAD_WIDTH])
    return folder_from(row[3 + _UPLOAD_WIDTH :])


class SqlTrashRepository:
    def __init__(self, executor: UnitExecutor) -> None:
        self._db = executor

    async def list_for_sub(
        self, sub: str, limit: int, after: TrashPosition | None = None
    ) -> list[Upload | Folder]:
        sql, params = list_trash_query(sub, limit, after, self._db.dialect)
        return [_item(row) for row in await self._db.fetch(sql, params)]

    async def get_for_sub(self, item_id: str, sub: str) -> Upload | Folder | None:
        uploads, folders = _branches("AND {t}.public_id = :id AND o.sub = :sub")
        rows = await self._db.fetch(f"{uploads} UNION ALL {folders}", {"id": item_id, "sub": sub})
        return _item(rows[0]) if rows else None

    async def get_with_files_for_sub(
        self, item_id: str, sub: str
    ) -> tuple[Upload | Folder, list[Upload]] | None:
        # The item's two branches, and a third for the files that went with it: the owner's
        # trashed files (the access path of `list_trashed_with`) whose `trashed_with` is its id.
        uploads, folders = _branches("AND {t}.public_id = :id AND o.sub = :sub")
        went_with = (
            f"SELECT 'file' AS kind, NULL AS trash_at, u.public_id AS item_id, {_UPLOAD_ITEM}"  # noqa: S608 - constant fragments; values are bound  # nosec B608
            " FROM uploads u JOIN users o ON o.id = u.user_id WHERE o.sub = :sub"
            " AND u.status = :trashed AND u.trashed_with = :id AND u.public_id <> :id"
        )
        rows = await self._db.fetch(
            f"{uploads} UNION ALL {folders} UNION ALL {went_with}",
            {"id": item_id, "sub": sub, "trashed": UploadStatus.TRASHED.value},
        )
        items = [_item(row) for row in rows if row[0] != "file"]
        if not items:
            return None
        files = [upload_from(row[3 : 3 + _UPLOAD_WIDTH]) for row in rows if row[0] == "file"]
        return items[0], files

    async def list_expired(
        self, trashed_before: datetime, limit: int, after: TrashPosition | None = None
    ) -> list[Upload | Folder]:
        params: dict[str, Any] = {"before": to_db_time(trashed_before), "limit": limit}
        where = "AND {t}.trash_entry < :before"
        if after is not None:
            where += (
                " AND {t}.trash_entry >= :at"
                " AND ({t}.trash_entry > :at OR {t}.public_id > :after_id)"
            )
            params |= {"at": to_db_time(after.trashed_at), "after_id": after.id}
        index = "trash_sweep" if self._db.dialect == "mysql" else None
        uploads, folders = _branches(where, "{t}.trash_entry, {t}.public_id", index)
        rows = await self._db.fetch(_page(uploads, folders, "trash_at, item_id"), params)
        return [_item(row) for row in rows]
