"""The folders repository, written once as SQL text over a `UnitExecutor` (MySQL and SQLite).

Each folder row keeps `path`, the internal ids of its ancestors (`/12/40/`; `/` in the root,
migration 0005): a folder's subtree is every row of its owner whose path contains `/<id>/`,
and a move makes a cycle exactly when the new parent is the folder or has it in its path.

Every write that could break a rule is conditional, so that the check and the write are one
step with no read-check-write race: the parent must be an active folder of the owner, not the
folder nor below it; no stored file in the parent may hold the name; no active folder may
(the unique key `folders_live_name`). How the check sees what a concurrent transaction does
depends on the isolation (`UnitExecutor.isolation`):

- REPEATABLE READ (the Data API, Aurora's default): the rows a write reads in its joins and
  subqueries are locked (shared) until the transaction ends, so each write is one statement:
  a move or restore (the folder, its subtree's paths, for a restore everything trashed with
  it), a trash (with its subtree and their files), a purge (with the quota). Two writes that
  would together break a rule wait for each other or deadlock, and one fails. This keeps every
  folder write within the Data API budget (3 statements, the outbox row included).
- READ COMMITTED (our aiomysql engine): reads in a write lock nothing, so a write first locks
  what it depends on (`lock_names`; a move or restore reads its destination `FOR UPDATE`),
  then writes, seeing whatever committed while it waited.
- SQLite has one writer at a time; it updates one table per statement, so it spells the same
  out in simpler statements.

Two folders moved into each other's subtree at once cannot make a cycle: the second sees the
first's paths, or deadlocks on the rows the first moved.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from filestore.adapters.sql.executor import Dialect, UnitExecutor, to_db_time, to_db_time_or_none
from filestore.adapters.sql.keys import stored_name_key
from filestore.adapters.sql.rows import (
    FOLDER_COLUMNS,
    FOLDER_SELECT,
    LIVE_NAME,
    NAME_ORDER_KEY,
    concat,
    folder_column,
    folder_from,
    folder_values,
    release_set,
)
from filestore.domain import events
from filestore.domain.errors import AlreadyExists, ConcurrencyConflict, NotFound
from filestore.domain.model import Aggregate, Folder, FolderStatus, UploadStatus
from filestore.domain.names import name_key, split_extension
from filestore.domain.ports import NameClash, SortPosition

_ACTIVE = FolderStatus.ACTIVE.value
_TRASHED = FolderStatus.TRASHED.value
_DELETED = FolderStatus.DELETED.value
_STORED = UploadStatus.STORED.value
# Columns an added folder does not take from the parameters (it is active, not in the trash);
# the Data API refuses parameters a statement does not use.
_TRASH_MARKS = frozenset({"status", "trashed_at", "trashed_with"})


_FOR_UPDATE: dict[Dialect, str] = {"mysql": " FOR UPDATE", "sqlite": ""}

# Where a folder goes, in one multi-table UPDATE on MySQL under REPEATABLE READ (the Data API):
# `f` is the folder as stored, `p` its new parent, `c` a stored file there with its name, `d`
# the rows written (the folder and, as the statement says, the folders below it). `f`, `p`
# and `c` are constants (unique keys), read once with shared locks before anything is written,
# so the conditions hold for the rows as they are, and a concurrent write to them (or into the
# gap where `c` would be) waits or deadlocks: one of the two fails.
_LOCKING_PARENT = (
    " LEFT JOIN folders p ON p.public_id = :parent_id AND p.user_id = f.user_id"
    " AND p.status = :active"
    # A stored file there with the name (joined, not a subquery: MySQL 8 refuses a subquery
    # on a table the statement updates, as a restore does).
    " LEFT JOIN uploads c ON c.user_id = f.user_id AND c.folder_id = :parent_id"
    f" AND c.live_name = {LIVE_NAME['mysql']}"
)
_LOCKING_PATH = "COALESCE(CONCAT(p.path, p.id, '/'), '/')"
_LOCKING_PLACE = (
    "d.parent_id = IF(d.id = f.id, :parent_id, d.parent_id),"
    " d.name = IF(d.id = f.id, :name, d.name),"
    " d.name_key = IF(d.id = f.id, :name_key, d.name_key),"
    f" d.path = IF(d.id = f.id, {_LOCKING_PATH}, CONCAT({_LOCKING_PATH}, f.id, '/',"
    " SUBSTRING(d.path, LENGTH(f.path) + LENGTH(f.id) + 2)))"
)
_LOCKING_CONDITIONS = (
    "f.public_id = :id AND f.version = :version"
    " AND (:parent_id = '' OR (p.id IS NOT NULL AND p.id <> f.id"
    " AND LOCATE(CONCAT('/', f.id, '/'), p.path) = 0)) AND c.id IS NULL"
)


@dataclass(frozen=True)
class _Destination:
    """A folder's row (internal id, owner's internal id, path) and the path it goes to."""

    row: int
    user: int
    old_path: str
    new_path: str

    @property
    def moved(self) -> bool:
        return self.new_path != self.old_path


async def lock_names(db: UnitExecutor, owner_id: str, folder_id: str | None) -> None:
    """Lock what holds the names of a folder (its row; the owner's row for the root) until
    the transaction ends, before a write gives a name there.

    A write checks the other kind of thing for a clash with a subquery (a file placed checks
    the folders, a folder the files), and a unique key catches a clash with its own kind.
    The subquery reads committed rows only (READ COMMITTED: no gap locks), so two writes
    giving one name in one folder, a file's and a folder's, would both see no clash. Each
    first locks the folder's row: the second waits for the first to commit, then reads
    afresh and sees it. It also keeps a folder from going to the trash while a file is being
    put in it. Under REPEATABLE READ (the Data API) the write's own reads take those locks,
    and SQLite has one writer at a time: neither needs this statement."""
    if db.isolation != "read committed":
        return  # REPEATABLE READ locks what the write reads; SQLite has one writer
    if folder_id is None:
        await db.fetch_locking(
            "SELECT id FROM users WHERE public_id = :owner_id FOR UPDATE", {"owner_id": owner_id}
        )
    else:
        await db.fetch_locking(
            "SELECT id FROM folders WHERE public_id = :folder_id FOR UPDATE",
            {"folder_id": folder_id},
        )


def _no_file_named(dialect: Dialect, owner: str, folder: str) -> str:
    """No stored file of `owner` (a column) in `folder` (a column or parameter) holds the
    name whose key is `:name_key`."""
    return (
        f"NOT EXISTS (SELECT 1 FROM uploads u WHERE u.user_id = {owner}"  # noqa: S608 - constant fragments  # nosec B608
        f" AND u.folder_id = {folder} AND u.live_name = {LIVE_NAME[dialect]})"
    )


def _below(dialect: Dialect, top: str, row: str) -> str:
    """Whether `row` (an alias) is below `top` (an alias): `top`'s id is in its path."""
    marker = concat(dialect, "'/'", f"{top}.id", "'/'")
    if dialect == "mysql":
        return f"LOCATE({marker}, {row}.path) > 0"
    return f"instr({row}.path, {marker}) > 0"


def list_folders_query(
    sub: str,
    parent_id: str | None,
    limit: int,
    after: SortPosition | None = None,
    dialect: Dialect = "mysql",
) -> tuple[str, dict[str, Any]]:
    """One page of a folder's active folders by `(name_key, id)` as SQL and parameters (also
    EXPLAINed by the tests): a range of `folders_listing` read forwards. Under a folder, the
    children are LEFT JOINed to it, so that a folder that is not theirs (no row) is told apart
    from one with no folders (a row of NULLs)."""
    hint = " FORCE INDEX (folders_listing)" if dialect == "mysql" else ""
    params: dict[str, Any] = {"sub": sub, "active": _ACTIVE, "limit": limit}
    conditions = "f.status = :active"
    if after is not None:
        key = NAME_ORDER_KEY[dialect]
        conditions += (
            f" AND f.name_order >= {key} AND (f.name_order > {key} OR f.public_id > :after_id)"
        )
        params |= {"after_key": after.key, "after_id": after.id}
    order = " ORDER BY f.name_order, f.public_id LIMIT :limit"
    if parent_id is None:
        select = FOLDER_SELECT.replace(" FROM folders f ", f" FROM folders f{hint} ")
        params["parent_id"] = folder_column(None)
        return (
            f"{select} WHERE o.sub = :sub AND f.parent_id = :parent_id AND {conditions}{order}",
            params,
        )
    params["parent_id"] = parent_id
    sql = (
        f"SELECT {FOLDER_COLUMNS} FROM folders p JOIN users o ON o.id = p.user_id"  # noqa: S608 - constant fragments; values are bound  # nosec B608
        f" LEFT JOIN folders f{hint} ON f.user_id = p.user_id AND f.parent_id = p.public_id"
        f" AND {conditions}"
        f" WHERE p.public_id = :parent_id AND o.sub = :sub AND p.status = :active{order}"
    )
    return sql, params


class SqlFolderRepository:
    def __init__(self, executor: UnitExecutor, seen: list[Aggregate]) -> None:
        self._db, self._seen = executor, seen

    @property
    def _dialect(self) -> Dialect:
        return self._db.dialect

    def _saved(self, folder: Folder) -> None:
        folder.version += 1
        self._seen.append(folder)

    # --- reads ---------------------------------------------------------------------------------

    async def get(self, folder_id: str) -> Folder | None:
        rows = await self._db.fetch(f"{FOLDER_SELECT} WHERE f.public_id = :id", {"id": folder_id})
        return folder_from(rows[0]) if rows else None

    async def get_for_sub(self, folder_id: str, sub: str) -> Folder | None:
        rows = await self._db.fetch(
            f"{FOLDER_SELECT} WHERE f.public_id = :id AND o.sub = :sub",
            {"id": folder_id, "sub": sub},
        )
        return folder_from(rows[0]) if rows else None

    async def get_path_for_sub(self, folder_id: str, sub: str) -> list[Folder]:
        # Up the parents from the folder, each found by its unique public id.
        rows = await self._db.fetch(
            "WITH RECURSIVE chain (id, depth) AS ("  # noqa: S608 - constant columns; values are bound  # nosec B608
            " SELECT f.id, 0 FROM folders f JOIN users o ON o.id = f.user_id"
            " WHERE f.public_id = :id AND o.sub = :sub"
            " UNION ALL"
            " SELECT p.id, c.depth + 1 FROM chain c JOIN folders f ON f.id = c.id"
            " JOIN folders p ON p.public_id = f.parent_id AND p.user_id = f.user_id"
            f") SELECT {FOLDER_COLUMNS} FROM chain c JOIN folders f ON f.id = c.id"
            " JOIN users o ON o.id = f.user_id ORDER BY c.depth DESC",
            {"id": folder_id, "sub": sub},
        )
        return [folder_from(row) for row in rows]

    async def list_for_sub(
        self, sub: str, parent_id: str | None, limit: int, after: SortPosition | None = None
    ) -> list[Folder] | None:
        sql, params = list_folders_query(sub, parent_id, limit, after, self._dialect)
        rows = await self._db.fetch(sql, params)
        if parent_id is not None and not rows:
            return None  # no such active folder of theirs
        return [folder_from(row) for row in rows if row[0] is not None]

    async def find_clash(
        self, owner_id: str, parent_id: str | None, name: str, *, excluding: str | None = None
    ) -> NameClash | None:
        live = LIVE_NAME[self._dialect]
        rows = await self._db.fetch(
            "SELECT 'folder', f.public_id, f.name FROM folders f JOIN users o ON o.id = f.user_id"  # noqa: S608 - constant fragments; values are bound  # nosec B608
            " WHERE o.public_id = :owner_id AND f.parent_id = :parent_id"
            f" AND f.live_name = {live} AND f.public_id <> :excluding"
            " UNION ALL"
            " SELECT 'upload', u.public_id, u.name FROM uploads u JOIN users o ON o.id = u.user_id"
            " WHERE o.public_id = :owner_id AND u.folder_id = :parent_id"
            f" AND u.live_name = {live} AND u.public_id <> :excluding"
            " LIMIT 1",
            {
                "owner_id": owner_id,
                "parent_id": folder_column(parent_id),
                "name_key": stored_name_key(name),
                "excluding": excluding or "",
            },
        )
        if not rows:
            return None
        kind, item_id, held = rows[0]
        return NameClash(kind="folder" if kind == "folder" else "upload", id=item_id, name=held)

    async def names_like(self, owner_id: str, parent_id: str | None, name: str) -> set[str]:
        stem, _ = split_extension(name)
        # INSTR(…) = 1: the key begins with the stem's (a plain prefix, whatever it holds).
        rows = await self._db.fetch(
            "SELECT f.name FROM folders f JOIN users o ON o.id = f.user_id"
            " WHERE o.public_id = :owner_id AND f.parent_id = :parent_id"
            " AND f.status = :active AND INSTR(f.name_key, :stem) = 1"
            " UNION ALL"
            " SELECT u.name FROM uploads u JOIN users o ON o.id = u.user_id"
            " WHERE o.public_id = :owner_id AND u.folder_id = :parent_id"
            " AND u.status = :stored AND INSTR(u.name_key, :stem) = 1",
            {
                "owner_id": owner_id,
                "parent_id": folder_column(parent_id),
                "active": _ACTIVE,
                "stored": _STORED,
                "stem": name_key(stem),
            },
        )
        return {name_key(str(row[0])) for row in rows}

    # --- writes --------------------------------------------------------------------------------

    async def add(self, folder: Folder) -> bool:
        dialect = self._dialect
        values = folder_values(folder)
        path = concat(dialect, "p.path", "p.id", "'/'")
        await lock_names(self._db, folder.owner_id, folder.parent_id)
        try:
            count = await self._db.execute(
                "INSERT INTO folders (public_id, user_id, parent_id, path, name, name_key,"  # noqa: S608 - constant fragments; values are bound  # nosec B608
                " status, created_at, version)"
                f" SELECT :id, o.id, :parent_id, COALESCE({path}, '/'), :name, :name_key,"
                " :active, :created_at, 1"
                " FROM users o LEFT JOIN folders p ON p.public_id = :parent_id"
                " AND p.user_id = o.id AND p.status = :active"
                " WHERE o.public_id = :owner_id AND (:parent_id = '' OR p.id IS NOT NULL)"
                f" AND {_no_file_named(dialect, 'o.id', ':parent_id')}",
                {
                    **{k: v for k, v in values.items() if k not in _TRASH_MARKS},
                    "owner_id": folder.owner_id,
                    "active": _ACTIVE,
                    "created_at": to_db_time(folder.created_at),
                },
            )
        except AlreadyExists:
            if await self._db.fetch(
                "SELECT 1 FROM folders WHERE public_id = :id", {"id": folder.id}
            ):
                raise
            return False  # an active folder there holds the name
        if count != 1:
            if not await self._db.fetch(
                "SELECT 1 FROM users WHERE public_id = :id", {"id": folder.owner_id}
            ):
                raise NotFound("The owner of this folder does not exist.")
            return False
        folder.version = 1
        self._seen.append(folder)
        return True

    async def _destination(self, folder: Folder) -> _Destination | None:
        """Where a folder goes (its new parent, with its name), read with the rows it depends
        on locked (see `lock_names`): the folder, the new parent (the owner's row for the
        root) and a stored file there holding the name. None if the folder cannot go there:
        its version is stale, the parent is no active folder of the owner, or is the folder
        itself or below it (a cycle), or a stored file there holds the name."""
        parent_id = folder_column(folder.parent_id)
        rows = await self._db.fetch_locking(
            "SELECT f.id, f.version, f.path, f.user_id, p.id, p.path, p.status, c.public_id"  # noqa: S608 - constant fragments; values are bound  # nosec B608
            " FROM folders f"
            " LEFT JOIN folders p ON p.public_id = :parent_id AND p.user_id = f.user_id"
            " LEFT JOIN users h ON h.id = f.user_id AND :parent_id = ''"
            " LEFT JOIN uploads c ON c.user_id = f.user_id AND c.folder_id = :parent_id"
            f" AND c.live_name = {LIVE_NAME[self._dialect]}"
            f" WHERE f.public_id = :id{_FOR_UPDATE[self._dialect]}",
            {"id": folder.id, "parent_id": parent_id, "name_key": stored_name_key(folder.name)},
        )
        if not rows:
            return None
        row_id, version, path, user_id, parent_row, parent_path, parent_status, clash = rows[0]
        if int(version) != folder.version or clash is not None:
            return None
        if parent_id:
            below = f"/{row_id}/" in str(parent_path or "")
            if parent_row is None or parent_status != _ACTIVE or parent_row == row_id or below:
                return None
            new_path = f"{parent_path}{parent_row}/"
        else:
            new_path = "/"
        return _Destination(int(row_id), int(user_id), str(path), new_path)

    def _placed(self, folder: Folder, where: _Destination) -> tuple[str, dict[str, Any]]:
        """`SET` assignments and parameters that put the folder where it goes (`:fid` its row)
        and rewrite the paths below it, for the rows `WHERE` `where.rows` selects."""
        dialect = self._dialect
        rest = "SUBSTRING({t}path, :cut)" if dialect == "mysql" else "substr({t}path, :cut)"
        assignments = (
            "{t}parent_id = CASE WHEN {t}id = :fid THEN :parent_id ELSE {t}parent_id END,"
            " {t}name = CASE WHEN {t}id = :fid THEN :name ELSE {t}name END,"
            " {t}name_key = CASE WHEN {t}id = :fid THEN :name_key ELSE {t}name_key END,"
            " {t}path = CASE WHEN {t}id = :fid THEN :new_path"
            f" ELSE {concat(dialect, ':new_prefix', rest)} END"
        )
        params: dict[str, Any] = {
            "fid": where.row,
            "uid": where.user,
            "parent_id": folder_column(folder.parent_id),
            "name": folder.name,
            "name_key": stored_name_key(folder.name),
            "new_path": where.new_path,
            "new_prefix": f"{where.new_path}{where.row}/",
            "cut": len(f"{where.old_path}{where.row}/") + 1,
            "below": f"{where.old_path}{where.row}/%",  # ids and slashes: no LIKE wildcard
        }
        return assignments, params

    async def update(self, folder: Folder) -> bool:
        if self._db.isolation == "repeatable read":
            return await self._update_locking(folder)
        where = await self._destination(folder)
        if where is None:
            return False
        assignments, params = self._placed(folder, where)
        # The folder and, if it moved, every folder below it: one range of `folders_subtree`.
        below = " OR path LIKE :below" if where.moved else ""
        if not where.moved:
            params = {k: v for k, v in params.items() if k not in ("below",)}
        try:
            await self._db.execute(
                f"UPDATE folders SET {assignments.format(t='')},"  # noqa: S608 - constant fragments; values are bound  # nosec B608
                " version = CASE WHEN id = :fid THEN version + 1 ELSE version END"
                f" WHERE user_id = :uid AND (id = :fid{below})",
                params,
            )
        except AlreadyExists:
            return False  # an active folder there holds the name
        self._saved(folder)
        return True

    async def _update_locking(self, folder: Folder) -> bool:
        """`update` in one statement, where its reads lock (see `_LOCKING_PLACE`)."""
        moved = any(isinstance(event, events.FolderMoved) for event in folder.events)
        below = " OR d.path LIKE CONCAT(f.path, f.id, '/%')" if moved else ""
        try:
            count = await self._db.execute(
                f"UPDATE folders f{_LOCKING_PARENT} JOIN folders d ON d.user_id = f.user_id"  # noqa: S608 - constant fragments; values are bound  # nosec B608
                f" AND (d.id = f.id{below}) SET {_LOCKING_PLACE},"
                " d.version = IF(d.id = f.id, d.version + 1, d.version)"
                f" WHERE {_LOCKING_CONDITIONS}",
                self._locking_params(folder),
            )
        except AlreadyExists:
            return False  # an active folder there holds the name
        if count == 0:
            return False
        self._saved(folder)
        return True

    def _locking_params(self, folder: Folder) -> dict[str, Any]:
        return {
            "id": folder.id,
            "version": folder.version,
            "parent_id": folder_column(folder.parent_id),
            "name": folder.name,
            "name_key": stored_name_key(folder.name),
            "active": _ACTIVE,
        }

    async def _mark(self, folder: Folder) -> None:
        """Save the folder's own status and trash marks, if its version is the stored one."""
        count = await self._db.execute(
            "UPDATE folders SET status = :status, trashed_at = :trashed_at,"
            " trashed_with = :trashed_with, version = version + 1"
            " WHERE public_id = :id AND version = :version",
            {
                "id": folder.id,
                "status": folder.status.value,
                "trashed_at": to_db_time_or_none(folder.trashed_at),
                "trashed_with": folder.trashed_with,
                "version": folder.version,
            },
        )
        if count != 1:
            raise ConcurrencyConflict("The folder was changed by someone else; try again.")
        self._saved(folder)

    async def trash(self, folder: Folder) -> None:
        params: dict[str, Any] = {
            "id": folder.id,
            "active": _ACTIVE,
            "stored": _STORED,
            "trashed": _TRASHED,
            "trashed_at": _trashed_at(folder),
        }
        if self._db.isolation == "repeatable read":
            # The folder (if its version is still the one read: `f` is read locked), the
            # active folders below it, and the stored files in them and in it, in one
            # statement.
            count = await self._db.execute(
                "UPDATE folders f JOIN folders d ON d.user_id = f.user_id"  # noqa: S608 - constant fragments; values are bound  # nosec B608
                f" AND (d.id = f.id OR (d.status = :active AND {_below('mysql', 'f', 'd')}))"
                " LEFT JOIN uploads u ON u.user_id = d.user_id AND u.folder_id = d.public_id"
                " AND u.status = :stored"
                " SET d.status = :trashed, d.trashed_at = :trashed_at, d.trashed_with = :id,"
                " d.version = d.version + 1,"
                " u.status = :trashed, u.trashed_at = :trashed_at, u.trashed_with = :id,"
                " u.updated_at = :trashed_at, u.version = u.version + 1"
                " WHERE f.public_id = :id AND f.version = :version",
                params | {"version": folder.version},
            )
            if count == 0:
                raise ConcurrencyConflict("The folder was changed by someone else; try again.")
            self._saved(folder)
            return
        await self._mark(folder)
        if self._dialect == "mysql":
            # The folders below that are active, and the stored files in them and in the
            # folder itself, in one statement. (`f` is only read: its row, also one of `d`'s,
            # is set to what it already holds.)
            await self._db.execute(
                "UPDATE folders f JOIN folders d ON d.user_id = f.user_id"  # noqa: S608 - constant fragments; values are bound  # nosec B608
                f" AND (d.id = f.id OR (d.status = :active AND {_below('mysql', 'f', 'd')}))"
                " LEFT JOIN uploads u ON u.user_id = d.user_id AND u.folder_id = d.public_id"
                " AND u.status = :stored"
                " SET d.status = :trashed, d.trashed_at = :trashed_at, d.trashed_with = :id,"
                " d.version = IF(d.id = f.id, d.version, d.version + 1),"
                " u.status = :trashed, u.trashed_at = :trashed_at, u.trashed_with = :id,"
                " u.updated_at = :trashed_at, u.version = u.version + 1"
                " WHERE f.public_id = :id",
                params,
            )
            return
        await self._db.execute(
            "UPDATE folders AS d SET status = :trashed, trashed_at = :trashed_at,"  # noqa: S608 - constant fragments; values are bound  # nosec B608
            " trashed_with = :id, version = d.version + 1"
            " FROM folders AS f WHERE f.public_id = :id AND d.user_id = f.user_id"
            f" AND d.status = :active AND {_below('sqlite', 'f', 'd')}",
            params,
        )
        await self._db.execute(
            "UPDATE uploads SET status = :trashed, trashed_at = :trashed_at,"
            " trashed_with = :id, updated_at = :trashed_at, version = version + 1"
            " WHERE status = :stored AND folder_id IN"
            " (SELECT public_id FROM folders WHERE trashed_with = :id)",
            params,
        )

    async def restore(self, folder: Folder, *, now: datetime) -> bool:
        if self._db.isolation == "repeatable read":
            return await self._restore_locking(folder, now)
        where = await self._destination(folder)
        if where is None:
            return False
        assignments, params = self._placed(folder, where)
        params |= {
            "id": folder.id,
            "active": _ACTIVE,
            "stored": _STORED,
            "trashed": _TRASHED,
            "restored_at": to_db_time(now),
        }
        del params["below"]
        restored = (
            "{t}status = :active, {t}trashed_at = NULL, {t}trashed_with = NULL,"
            " {t}version = {t}version + 1"
        )
        try:
            if self._dialect == "mysql":
                # The folder, where it goes, and everything trashed with it (its folders, and
                # the files in them and in itself), in one statement.
                await self._db.execute(
                    "UPDATE folders d LEFT JOIN uploads u ON u.user_id = d.user_id"  # noqa: S608 - constant fragments; values are bound  # nosec B608
                    " AND u.folder_id = d.public_id AND u.trashed_with = :id"
                    " AND u.status = :trashed"
                    f" SET {assignments.format(t='d.')}, {restored.format(t='d.')},"
                    " u.status = :stored, u.trashed_at = NULL, u.trashed_with = NULL,"
                    " u.restored_at = :restored_at, u.updated_at = :restored_at,"
                    " u.version = u.version + 1"
                    " WHERE d.user_id = :uid AND (d.id = :fid OR d.trashed_with = :id)",
                    params,
                )
            else:
                await self._db.execute(
                    f"UPDATE folders SET {assignments.format(t='')}, {restored.format(t='')}"  # noqa: S608 - constant fragments; values are bound  # nosec B608
                    " WHERE user_id = :uid AND (id = :fid OR trashed_with = :id)",
                    {k: v for k, v in params.items() if k not in ("stored", "restored_at")},
                )
                await self._db.execute(
                    "UPDATE uploads SET status = :stored, trashed_at = NULL, trashed_with = NULL,"
                    " restored_at = :restored_at, updated_at = :restored_at, version = version + 1"
                    " WHERE trashed_with = :id AND status = :trashed",
                    {
                        "id": folder.id,
                        "stored": _STORED,
                        "trashed": _TRASHED,
                        "restored_at": params["restored_at"],
                    },
                )
        except AlreadyExists:
            return False  # an active folder there holds the name
        self._saved(folder)
        return True

    async def _restore_locking(self, folder: Folder, now: datetime) -> bool:
        """`restore` in one statement, where its reads lock (see `_LOCKING_PLACE`): the
        folder where it goes, and everything trashed with it."""
        try:
            count = await self._db.execute(
                f"UPDATE folders f{_LOCKING_PARENT} JOIN folders d ON d.user_id = f.user_id"  # noqa: S608 - constant fragments; values are bound  # nosec B608
                " AND (d.id = f.id OR d.trashed_with = :id)"
                " LEFT JOIN uploads u ON u.user_id = d.user_id AND u.folder_id = d.public_id"
                " AND u.trashed_with = :id AND u.status = :trashed"
                f" SET {_LOCKING_PLACE}, d.status = :active, d.trashed_at = NULL,"
                " d.trashed_with = NULL, d.version = d.version + 1,"
                " u.status = :stored, u.trashed_at = NULL, u.trashed_with = NULL,"
                " u.restored_at = :restored_at, u.updated_at = :restored_at,"
                " u.version = u.version + 1"
                f" WHERE {_LOCKING_CONDITIONS}",
                self._locking_params(folder)
                | {"stored": _STORED, "trashed": _TRASHED, "restored_at": to_db_time(now)},
            )
        except AlreadyExists:
            return False  # an active folder there holds the name
        if count == 0:
            return False
        self._saved(folder)
        return True

    async def purge(self, folder: Folder, *, release_bytes: int, now: datetime) -> None:
        params: dict[str, Any] = {
            "id": folder.id,
            "deleted": _DELETED,
            "trashed": _TRASHED,
            "now": to_db_time(now),
        }
        if self._db.isolation == "repeatable read":
            # The folder (if its version is still the one read), everything trashed with it,
            # and its owner's quota, in one statement.
            count = await self._db.execute(
                "UPDATE folders f JOIN users o ON o.id = f.user_id"  # noqa: S608 - constant fragments; values are bound  # nosec B608
                " JOIN folders d ON d.user_id = f.user_id AND (d.id = f.id OR d.trashed_with = :id)"
                " LEFT JOIN uploads u ON u.user_id = d.user_id AND u.folder_id = d.public_id"
                " AND u.trashed_with = :id AND u.status = :trashed"
                " SET d.status = :deleted, d.version = d.version + 1,"
                " u.status = :deleted, u.updated_at = :now, u.version = u.version + 1,"
                f" {release_set('o.')}"
                " WHERE f.public_id = :id AND f.version = :version",
                params | {"version": folder.version, "release": release_bytes},
            )
            if count == 0:
                raise ConcurrencyConflict("The folder was changed by someone else; try again.")
            self._saved(folder)
            return
        if self._dialect == "mysql":
            count = await self._db.execute(
                "UPDATE folders f JOIN users o ON o.id = f.user_id"  # noqa: S608 - constant fragments; values are bound  # nosec B608
                f" SET f.status = :deleted, f.version = f.version + 1, {release_set('o.')}"
                " WHERE f.public_id = :id AND f.version = :version",
                {
                    "id": folder.id,
                    "deleted": folder.status.value,
                    "version": folder.version,
                    "release": release_bytes,
                },
            )
            if count == 0:
                raise ConcurrencyConflict("The folder was changed by someone else; try again.")
            self._saved(folder)
            # Everything trashed with it (the folder's own row, which is one of them, is set
            # to what it already holds).
            await self._db.execute(
                "UPDATE folders d LEFT JOIN uploads u ON u.user_id = d.user_id"
                " AND u.folder_id = d.public_id AND u.trashed_with = :id AND u.status = :trashed"
                " SET d.status = :deleted,"
                " d.version = IF(d.public_id = :id, d.version, d.version + 1),"
                " u.status = :deleted, u.updated_at = :now, u.version = u.version + 1"
                " WHERE d.trashed_with = :id",
                params,
            )
            return
        await self._mark(folder)
        if release_bytes:
            await self._db.execute(
                f"UPDATE users SET {release_set()}"  # noqa: S608 - constant fragments; values are bound  # nosec B608
                " WHERE id = (SELECT user_id FROM folders WHERE public_id = :id)",
                {"id": folder.id, "release": release_bytes},
            )
        await self._db.execute(
            "UPDATE folders SET status = :deleted, version = version + 1"
            " WHERE trashed_with = :id AND public_id <> :id",
            {"id": folder.id, "deleted": _DELETED},
        )
        await self._db.execute(
            "UPDATE uploads SET status = :deleted, updated_at = :now, version = version + 1"
            " WHERE trashed_with = :id AND status = :trashed",
            params,
        )


def _trashed_at(folder: Folder) -> Any:
    if folder.trashed_at is None:
        raise ValueError("a folder put in the trash has trashed_at")
    return to_db_time(folder.trashed_at)
