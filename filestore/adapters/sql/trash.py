"""The trash, written once as SQL text over a `UnitExecutor` (MySQL and SQLite).

What was trashed directly is what has `trash_entry` (its `trashed_at` while its
`trashed_with` is its own id; migration 0005): files and folders each have an index of it per
owner and one across owners for the purge sweep. A page of the trash is one statement: the
newest page of each table (each a range of its index), merged and cut to the page.

What went to the trash with a folder is found through the folders that went with it
(`folders_trashed_with`), then the files in each (an index by folder): the path the purge's
write takes. A purge reads of those files only what it needs and a bounded amount of it, their
count, their size and a page of object keys (the Data API answers at most 1 MiB a call).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from filestore.adapters.sql.executor import Dialect, Row, UnitExecutor, to_db_time
from filestore.adapters.sql.rows import FOLDER_COLUMNS, UPLOAD_COLUMNS, folder_from, upload_from
from filestore.domain.model import Folder, Upload, UploadStatus
from filestore.domain.ports import TrashedFiles, TrashPosition

_UPLOADS = [column.strip() for column in UPLOAD_COLUMNS.split(",")]
_FOLDERS = [column.strip() for column in FOLDER_COLUMNS.split(",")]
_UPLOAD_WIDTH = len(_UPLOADS)
_TRASHED = UploadStatus.TRASHED.value


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


# The files that went to the trash with the folder `:id` (or were deleted forever with it),
# through the folders that went with it; `{owner}` says whose, on the users row `o`.
_WENT_WITH = (
    "FROM folders d JOIN users o ON o.id = d.user_id"
    " JOIN uploads u ON u.user_id = d.user_id AND u.folder_id = d.public_id"
    " AND u.trashed_with = :id WHERE d.trashed_with = :id AND {owner}"
)
_OWNER_BY_ID = "o.public_id = :owner_id"
_OWNER_BY_SUB = "o.sub = :sub"


def _went_with_totals(owner: str) -> str:
    """How many files are in the trash with `:id`, and their bytes: one row."""
    where = _WENT_WITH.format(owner=owner)
    return f"SELECT COUNT(*), COALESCE(SUM(u.size), 0) {where} AND u.status = :trashed"


def _went_with_keys(owner: str, *, trashed: bool, after: bool) -> str:
    """A page of the object keys of the files trashed (or deleted) with `:id`, in key order."""
    where = _WENT_WITH.format(owner=owner)
    if trashed:
        where += " AND u.status = :trashed"
    if after:
        where += " AND u.object_key > :after"
    return f"SELECT u.object_key {where} ORDER BY u.object_key LIMIT :limit"


async def files_trashed_with(
    db: UnitExecutor, owner_id: str, item_id: str, limit: int
) -> TrashedFiles:
    """`UploadRepository.files_trashed_with`: the totals and the first keys, one statement."""
    totals = _went_with_totals(_OWNER_BY_ID)
    keys = _went_with_keys(_OWNER_BY_ID, trashed=True, after=False)
    rows = await db.fetch(
        f"SELECT 'totals', t.* FROM ({totals}) t"  # noqa: S608 - constant fragments; values are bound  # nosec B608
        f" UNION ALL SELECT 'key', k.*, NULL FROM ({keys}) k",
        {"id": item_id, "owner_id": owner_id, "trashed": _TRASHED, "limit": limit},
    )
    count, size = next((row[1], row[2]) for row in rows if row[0] == "totals")
    return TrashedFiles(int(count), int(size), [row[1] for row in rows if row[0] == "key"])


async def object_keys_trashed_with(
    db: UnitExecutor, owner_id: str, item_id: str, limit: int, after: str
) -> list[str]:
    """`UploadRepository.object_keys_trashed_with`: one page, one statement."""
    rows = await db.fetch(
        _went_with_keys(_OWNER_BY_ID, trashed=False, after=True),
        {"id": item_id, "owner_id": owner_id, "after": after, "limit": limit},
    )
    return [row[0] for row in rows]


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
        self, item_id: str, sub: str, limit: int
    ) -> tuple[Upload | Folder, TrashedFiles] | None:
        # The item's two branches, then the files that went with it: a row of totals and a
        # page of keys, each in the third column (`item_id`) and the fourth, the rest NULL (a
        # key row is about 600 bytes as the Data API answers it: 1,000 of them fit its 1 MiB).
        uploads, folders = _branches("AND {t}.public_id = :id AND o.sub = :sub")
        padding = ", NULL" * (len(_UPLOADS) + len(_FOLDERS) - 1)
        totals = _went_with_totals(_OWNER_BY_SUB)
        keys = _went_with_keys(_OWNER_BY_SUB, trashed=True, after=False)
        rows = await self._db.fetch(
            f"{uploads} UNION ALL {folders}"  # noqa: S608 - constant fragments; values are bound  # nosec B608
            f" UNION ALL SELECT 'totals', NULL, t.*{padding} FROM ({totals}) t"
            f" UNION ALL SELECT 'key', NULL, k.*, NULL{padding} FROM ({keys}) k",
            {"id": item_id, "sub": sub, "trashed": _TRASHED, "limit": limit},
        )
        items = [_item(row) for row in rows if row[0] in ("upload", "folder")]
        if not items:
            return None
        count, size = next((row[2], row[3]) for row in rows if row[0] == "totals")
        keys_found = [row[2] for row in rows if row[0] == "key"]
        return items[0], TrashedFiles(int(count), int(size), keys_found)

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
