"""How uploads and folders are read from rows and written as parameters, and the few SQL
fragments that differ between dialects for them (shared by the repositories of uploads,
folders and the trash).

Folders are referred to by public id; the root is '' in the columns (`parent_id`,
`folder_id`) and None in the domain.
"""

from __future__ import annotations

from typing import Any

from filestore.adapters.sql.executor import (
    Dialect,
    Row,
    to_datetime,
    to_datetime_or_none,
    to_db_time,
    to_db_time_or_none,
)
from filestore.adapters.sql.keys import stored_name_key, stored_search_key
from filestore.domain.checksums import Checksum
from filestore.domain.model import Folder, FolderStatus, OnConflict, Upload, UploadStatus

ROOT = ""


def folder_column(folder_id: str | None) -> str:
    """The column value of a folder reference: '' for the root."""
    return folder_id or ROOT


# `live_name` (see migration 0005) compared with the key of a name given as `:name_key`:
# MySQL indexes the key's SHA-256, SQLite the key itself.
LIVE_NAME: dict[Dialect, str] = {
    "mysql": "UNHEX(SHA2(:name_key, 256))",
    "sqlite": ":name_key",
}
# `name_order` compared with a cursor's name key given as `:after_key`: MySQL keeps the key's
# first 768 bytes, SQLite all of it.
NAME_ORDER_KEY: dict[Dialect, str] = {
    "mysql": "LEFT(CAST(:after_key AS BINARY), 768)",
    "sqlite": ":after_key",
}
# Text concatenation: MySQL's `||` is OR.
CONCAT: dict[Dialect, str] = {"mysql": "CONCAT({})", "sqlite": "({})"}


def concat(dialect: Dialect, *parts: str) -> str:
    """`parts` joined as text in the dialect's syntax."""
    separator = ", " if dialect == "mysql" else " || "
    return CONCAT[dialect].format(separator.join(parts))


# --- uploads -----------------------------------------------------------------------------------

UPLOAD_COLUMNS = (
    "u.public_id, o.public_id, u.name, u.size, u.content_type, u.object_key,"
    " u.created_at, u.expires_at, u.sha256, u.status, u.stored_at, u.multipart_id,"
    " u.part_size, u.version, u.folder_id, u.on_conflict, u.trashed_at, u.trashed_with,"
    " u.restored_at, u.checksum_type, u.checksum_value, u.updated_at"
)
UPLOAD_WIDTH = len(UPLOAD_COLUMNS.split(","))
UPLOAD_SELECT = f"SELECT {UPLOAD_COLUMNS} FROM uploads u JOIN users o ON o.id = u.user_id"  # noqa: S608 - constant  # nosec B608


# Enum members by stored value: a dict lookup is a tenth of an enum call, and a listing reads two
# per row.
_UPLOAD_STATUSES = {status.value: status for status in UploadStatus}
_ON_CONFLICTS = {policy.value: policy for policy in OnConflict}


def upload_from(row: Row) -> Upload:
    return Upload(
        id=row[0],
        owner_id=row[1],
        name=row[2],
        size=int(row[3]),
        content_type=row[4],
        object_key=row[5],
        created_at=to_datetime(row[6]),
        expires_at=to_datetime(row[7]),
        sha256=row[8],
        status=_UPLOAD_STATUSES[row[9]],
        stored_at=to_datetime_or_none(row[10]),
        multipart_id=row[11],
        part_size=None if row[12] is None else int(row[12]),
        version=int(row[13]),
        folder_id=row[14] or None,  # '': the root
        on_conflict=_ON_CONFLICTS[row[15]],
        trashed_at=to_datetime_or_none(row[16]),
        trashed_with=row[17],
        restored_at=to_datetime_or_none(row[18]),
        checksum=_checksum(row[19], row[20], row[12]),
        updated_at=to_datetime(row[21]),
    )


def _checksum(kind: str | None, value: str | None, part_size: Any) -> Checksum | None:
    if kind not in ("full_object", "composite") or not value:
        return None
    if kind == "full_object":
        return Checksum.full_object(value)
    return Checksum("composite", value, None if part_size is None else int(part_size))


# The columns an upload's update sets (each from the parameter of its name).
UPLOAD_UPDATED = (
    "name", "size", "content_type", "expires_at", "sha256", "status", "stored_at",
    "multipart_id", "part_size", "folder_id", "name_key", "search_key", "on_conflict",
    "trashed_at", "trashed_with", "restored_at", "checksum_type", "checksum_value",
    "updated_at",
)  # fmt: skip


def upload_set(table: str = "") -> str:
    """`name = :name, …, version = version + 1`, each column prefixed with `table`."""
    columns = [f"{table}{column} = :{column}" for column in UPLOAD_UPDATED]
    return ", ".join([*columns, f"{table}version = {table}version + 1"])


def release_set(table: str = "") -> str:
    """The owner's quota given back: `:release` bytes, never below zero (the column is unsigned
    on MySQL, so the subtraction must not even be tried past zero); the version bumped."""
    used = f"{table}used_bytes"
    return (
        f"{used} = CASE WHEN {used} > :release THEN {used} - :release ELSE 0 END,"
        f" {table}version = {table}version + 1"
    )


def upload_values(upload: Upload) -> dict[str, Any]:
    return {
        "name": upload.name,
        "size": upload.size,
        "content_type": upload.content_type,
        "expires_at": to_db_time(upload.expires_at),
        "sha256": upload.sha256,
        "status": upload.status.value,
        "stored_at": to_db_time_or_none(upload.stored_at),
        "multipart_id": upload.multipart_id,
        "part_size": upload.part_size,
        "folder_id": folder_column(upload.folder_id),
        "name_key": stored_name_key(upload.name),
        "search_key": stored_search_key(upload.name),
        "on_conflict": upload.on_conflict.value,
        "trashed_at": to_db_time_or_none(upload.trashed_at),
        "trashed_with": upload.trashed_with,
        "restored_at": to_db_time_or_none(upload.restored_at),
        "checksum_type": None if upload.checksum is None else upload.checksum.type,
        "checksum_value": None if upload.checksum is None else upload.checksum.value,
        "updated_at": to_db_time(upload.updated_at),
    }


# --- folders -----------------------------------------------------------------------------------

FOLDER_COLUMNS = (
    "f.public_id, o.public_id, f.name, f.parent_id, f.created_at, f.status, f.trashed_at,"
    " f.trashed_with, f.version"
)
FOLDER_WIDTH = 9
FOLDER_SELECT = f"SELECT {FOLDER_COLUMNS} FROM folders f JOIN users o ON o.id = f.user_id"  # noqa: S608 - constant  # nosec B608


def folder_from(row: Row) -> Folder:
    return Folder(
        id=row[0],
        owner_id=row[1],
        name=row[2],
        parent_id=row[3] or None,
        created_at=to_datetime(row[4]),
        status=FolderStatus(row[5]),
        trashed_at=to_datetime_or_none(row[6]),
        trashed_with=row[7],
        version=int(row[8]),
    )


def folder_values(folder: Folder) -> dict[str, Any]:
    return {
        "id": folder.id,
        "parent_id": folder_column(folder.parent_id),
        "name": folder.name,
        "name_key": stored_name_key(folder.name),
        "status": folder.status.value,
        "trashed_at": to_db_time_or_none(folder.trashed_at),
        "trashed_with": folder.trashed_with,
    }
