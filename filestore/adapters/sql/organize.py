"""An upload's place among its owner's files: sorted and searched listings, and the
conditional save that keeps names unique within a folder (the `UploadRepository` methods of
folders and the trash, mixed into `SqlUploadRepository`).

Listings are keyset pages, each one statement (one Data API call) over an index that gives
its order, read forwards or backwards from the cursor (migration 0005 lists them). On MySQL
the index is named (`FORCE INDEX`): MariaDB otherwise sometimes prefers a `ref` scan of the
owner's whole part of an index, or reads in sort order and looks at every row to search,
which is O(n) per page (bench/organize.py measures the forced plans; the integration tests
assert them with EXPLAIN).
"""

from __future__ import annotations

from typing import Any

from filestore.adapters.sql.executor import Dialect, UnitExecutor, to_db_time
from filestore.adapters.sql.folders import lock_names
from filestore.adapters.sql.rows import (
    LIVE_NAME,
    NAME_ORDER_KEY,
    UPLOAD_COLUMNS,
    UPLOAD_SELECT,
    UPLOAD_WIDTH,
    folder_column,
    upload_from,
    upload_set,
    upload_values,
)
from filestore.domain.errors import AlreadyExists
from filestore.domain.model import Aggregate, FolderStatus, Upload, UploadStatus
from filestore.domain.ports import ANY_FOLDER, FileQuery, ListPosition, SortField, SortPosition

_SORT_COLUMN = {
    SortField.CREATED_AT: "u.created_at",
    SortField.NAME: "u.name_order",
    SortField.SIZE: "u.size",
}
# The index of each listing: over every folder, or over one (the root included).
_OWNER_INDEX = {
    SortField.CREATED_AT: "uploads_owner_listing",
    SortField.NAME: "uploads_owner_by_name",
    SortField.SIZE: "uploads_owner_by_size",
}
_FOLDER_INDEX = {
    SortField.CREATED_AT: "uploads_folder_by_created",
    SortField.NAME: "uploads_folder_by_name",
    SortField.SIZE: "uploads_folder_by_size",
}
# A search reads the owner's files in the search index alone (search_key and folder_id are in
# it), then the rows of the few that match (their status), and sorts those.
_SEARCH_INDEX = "uploads_search"


# The upload columns named by their place (a derived table's columns need distinct names).
_ALIASED = ", ".join(f"{c.strip()} AS c{n}" for n, c in enumerate(UPLOAD_COLUMNS.split(",")))


def files_index(query: FileQuery) -> str:
    """The index a listing reads (what EXPLAIN shows on MySQL)."""
    if query.contains is not None:
        return _SEARCH_INDEX
    return (_OWNER_INDEX if query.folder == ANY_FOLDER else _FOLDER_INDEX)[query.sort]


def _key_param(query: FileQuery, after: SortPosition) -> Any:
    key = after.key
    if query.sort is SortField.CREATED_AT:
        if not hasattr(key, "tzinfo"):
            raise TypeError("a created_at cursor holds a datetime")
        return to_db_time(key)  # type: ignore[arg-type]
    return key


def list_files_query(
    sub: str,
    query: FileQuery,
    limit: int,
    after: SortPosition | None = None,
    dialect: Dialect = "mysql",
) -> tuple[str, dict[str, Any]]:
    """One page of a user's stored files as SQL and parameters (also EXPLAINed by the tests).

    Over every folder or the root: the owner's row in `users` is a constant (unique key on
    `sub`), then one range of the listing's index. Over one folder: the same, in a derived
    table LEFT JOINed to the folder's row (below).
    The keyset condition repeats the key with `<=` (or `>=`) so that the cursor bounds the
    range; the OR decides ties by id.
    """
    column = _SORT_COLUMN[query.sort]
    direction, before = ("DESC", "<") if query.descending else ("ASC", ">")
    hint = f" FORCE INDEX ({files_index(query)})" if dialect == "mysql" else ""
    params: dict[str, Any] = {"sub": sub, "stored": UploadStatus.STORED.value, "limit": limit}
    conditions = "u.status = :stored"
    if query.contains is not None:
        # INSTR, not LIKE: the text is a plain substring, whatever characters it holds.
        conditions += " AND INSTR(u.search_key, :contains) > 0"
        params["contains"] = query.contains
    if after is not None:
        key = NAME_ORDER_KEY[dialect] if query.sort is SortField.NAME else ":after_key"
        conditions += (
            f" AND {column} {before}= {key}"
            f" AND ({column} {before} {key} OR u.public_id {before} :after_id)"
        )
        params |= {"after_key": _key_param(query, after), "after_id": after.id}
    order = f" ORDER BY {column} {direction}, u.public_id {direction} LIMIT :limit"
    if query.folder == ANY_FOLDER or query.folder is None:
        if query.folder is None:
            conditions += " AND u.folder_id = :folder_id"
            params["folder_id"] = folder_column(None)
        select = UPLOAD_SELECT.replace(" FROM uploads u ", f" FROM uploads u{hint} ")
        return f"{select} WHERE o.sub = :sub AND {conditions}{order}", params
    # In one folder: the page is read in a derived table of its own, then LEFT JOINed to the
    # folder, so that a folder that is not theirs (no row) is told apart from an empty one (a
    # row of NULLs). Joined directly, MariaDB would sort the folder's files in full (the
    # order of an outer join's inner table is not the join's) and check no condition in the
    # index (no index condition pushdown for it), which a search needs.
    params |= {"folder_id": query.folder, "active": FolderStatus.ACTIVE.value}
    select = UPLOAD_SELECT.replace(" FROM uploads u ", f" FROM uploads u{hint} ")
    inner = select.replace(f"SELECT {UPLOAD_COLUMNS} ", f"SELECT {_ALIASED}, {column} AS k ")
    sql = (
        "SELECT page.* FROM folders p JOIN users o ON o.id = p.user_id"  # noqa: S608 - constant fragments; values are bound  # nosec B608
        f" LEFT JOIN ({inner} WHERE o.sub = :sub AND u.folder_id = :folder_id"
        f" AND {conditions}{order}) page ON 1 = 1"
        " WHERE p.public_id = :folder_id AND o.sub = :sub AND p.status = :active"
        f" ORDER BY page.k {direction}, page.c0 {direction}"
    )
    return sql, params


class SqlUploadOrganizing:
    """The `UploadRepository` methods of folders, sorting, search and the trash."""

    _db: UnitExecutor
    _seen: list[Aggregate]

    async def list_files_for_sub(
        self, sub: str, query: FileQuery, limit: int, after: SortPosition | None = None
    ) -> list[Upload] | None:
        sql, params = list_files_query(sub, query, limit, after, self._db.dialect)
        rows = await self._db.fetch(sql, params)
        if query.folder not in (ANY_FOLDER, None) and not rows:
            return None  # no such active folder of theirs
        return [upload_from(row[:UPLOAD_WIDTH]) for row in rows if row[0] is not None]

    async def list_pending_for_sub(
        self, sub: str, limit: int, after: ListPosition | None = None
    ) -> list[Upload]:
        # As the v1 listing of stored files, on the same index (user_id, status, created_at,
        # public_id) read backwards.
        hint = " FORCE INDEX (uploads_owner_listing)" if self._db.dialect == "mysql" else ""
        params: dict[str, Any] = {
            "sub": sub,
            "pending": UploadStatus.PENDING.value,
            "limit": limit,
        }
        keyset = ""
        if after is not None:
            keyset = " AND u.created_at <= :at AND (u.created_at < :at OR u.public_id < :after_id)"
            params |= {"at": to_db_time(after.created_at), "after_id": after.id}
        select = UPLOAD_SELECT.replace(" FROM uploads u ", f" FROM uploads u{hint} ")
        rows = await self._db.fetch(
            f"{select} WHERE o.sub = :sub AND u.status = :pending{keyset}"
            " ORDER BY u.created_at DESC, u.public_id DESC LIMIT :limit",
            params,
        )
        return [upload_from(row) for row in rows]

    async def place(self, upload: Upload) -> bool:
        # One statement: the folder must be active and the owner's, and no active folder may
        # hold the name there; another stored file holding it breaks the unique key
        # `uploads_live_name`. Under REPEATABLE READ the statement's reads lock, so a folder
        # created meanwhile waits for this transaction or deadlocks with it (one fails); under
        # READ COMMITTED the folder is locked first (`lock_names`), to the same effect.
        if upload.status is UploadStatus.STORED:
            await lock_names(self._db, upload.owner_id, upload.folder_id)
        try:
            count = await self._db.execute(
                f"UPDATE uploads SET {upload_set()}"  # noqa: S608 - constant fragments; values are bound  # nosec B608
                " WHERE public_id = :id AND version = :version"
                " AND (:folder_id = '' OR EXISTS (SELECT 1 FROM folders f"
                " WHERE f.public_id = :folder_id AND f.user_id = uploads.user_id"
                " AND f.status = :active))"
                " AND (:status <> :stored OR NOT EXISTS (SELECT 1 FROM folders f"
                " WHERE f.user_id = uploads.user_id AND f.parent_id = :folder_id"
                f" AND f.live_name = {LIVE_NAME[self._db.dialect]}))",
                {
                    "id": upload.id,
                    "version": upload.version,
                    "active": FolderStatus.ACTIVE.value,
                    "stored": UploadStatus.STORED.value,
                    **upload_values(upload),
                },
            )
        except AlreadyExists:
            return False
        if count != 1:
            return False
        upload.version += 1
        self._seen.append(upload)
        return True

    async def list_trashed_with(self, owner_id: str, item_id: str) -> list[Upload]:
        rows = await self._db.fetch(
            f"{UPLOAD_SELECT} WHERE u.trashed_with = :item_id AND o.public_id = :owner_id"
            " AND u.status = :trashed",
            {"item_id": item_id, "owner_id": owner_id, "trashed": UploadStatus.TRASHED.value},
        )
        return [upload_from(row) for row in rows]
