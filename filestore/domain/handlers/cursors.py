"""Listing cursors: a position in a listing's order, opaque to clients.

A cursor is URL-safe base64 of a small JSON object: the last row's sort key (`t`) and id
(`i`), and a tag (`k`) naming the listing it belongs to (the sort, the direction, and a digest
of the folder and search), so a cursor given to another listing, or crafted, is refused as
invalid input rather than misread. The newest-first listing of every file has no tag, so its
cursors are those of v1.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from filestore.domain.errors import InvalidInput
from filestore.domain.ids import is_public_id
from filestore.domain.ports import FileQuery, ListPosition, SortField, SortPosition, TrashPosition

_MAX_CURSOR_LENGTH = 4096
_INVALID = "cursor is not valid; use next_cursor from the previous page."
_DEFAULT_QUERY = FileQuery()

# The times a stored row can have (MySQL's DATETIME range, in UTC).
EARLIEST = datetime(1000, 1, 1, tzinfo=UTC)
LATEST = datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)


def _encode(data: dict[str, Any]) -> str:
    raw = json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _decode(cursor: str, tag: str | None) -> tuple[Any, str]:
    """The key and id a cursor carries, if it was made for the listing with `tag`."""
    if len(cursor) > _MAX_CURSOR_LENGTH:
        raise InvalidInput(_INVALID)
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
        key, row_id, found = data["t"], data["i"], data.get("k")
    except (
        binascii.Error,
        ValueError,
        KeyError,
        TypeError,
        AttributeError,
        RecursionError,
    ) as error:
        raise InvalidInput(_INVALID) from error
    if found != tag or not isinstance(row_id, str) or not is_public_id(row_id):
        raise InvalidInput(_INVALID)
    return key, row_id


def _time(value: Any) -> datetime:
    """A cursor's time in UTC; a time out of any row's range is invalid input."""
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
        # A time near the ends of the calendar with an offset overflows on the way to UTC.
        utc = moment.astimezone(UTC) if moment is not None and moment.tzinfo else None
    except (ValueError, OverflowError):
        utc = None
    if utc is None or not EARLIEST <= utc <= LATEST:
        raise InvalidInput(_INVALID)
    return utc


def _tag(kind: str, *parts: str | None) -> str:
    digest = hashlib.sha256(json.dumps([kind, *parts]).encode()).hexdigest()[:12]
    return f"{kind}.{digest}"


def _file_tag(query: FileQuery) -> str | None:
    if query == _DEFAULT_QUERY:
        return None
    direction = "desc" if query.descending else "asc"
    return _tag(f"{query.sort.value}-{direction}", query.folder, query.contains)


def encode_cursor(position: ListPosition) -> str:
    """The cursor that continues the newest-first listing of every file after `position`."""
    return _encode({"t": position.created_at.isoformat(), "i": position.id})


def decode_cursor(cursor: str) -> ListPosition:
    """The position a cursor from `encode_cursor` stands for; anything else is invalid input."""
    key, row_id = _decode(cursor, None)
    return ListPosition(_time(key), row_id)


def encode_file_cursor(query: FileQuery, position: SortPosition) -> str:
    """The cursor that continues the file listing `query` after `position`."""
    key = position.key.isoformat() if isinstance(position.key, datetime) else position.key
    data: dict[str, Any] = {"t": key, "i": position.id}
    tag = _file_tag(query)
    if tag is not None:
        data["k"] = tag
    return _encode(data)


def decode_file_cursor(query: FileQuery, cursor: str) -> SortPosition:
    """The position a cursor of the listing `query` stands for; a cursor of another listing,
    or anything else, is invalid input."""
    key, row_id = _decode(cursor, _file_tag(query))
    if query.sort is SortField.CREATED_AT:
        return SortPosition(_time(key), row_id)
    if query.sort is SortField.SIZE:
        if not isinstance(key, int) or isinstance(key, bool) or not 0 <= key < 2**63:
            raise InvalidInput(_INVALID)
        return SortPosition(key, row_id)
    if not isinstance(key, str) or len(key) > 3 * 255:
        raise InvalidInput(_INVALID)
    return SortPosition(key, row_id)


def encode_folder_cursor(parent_id: str | None, position: SortPosition) -> str:
    """The cursor that continues the listing of folders in `parent_id` after `position`."""
    return _encode({"t": position.key, "i": position.id, "k": _tag("folders", parent_id)})


def decode_folder_cursor(parent_id: str | None, cursor: str) -> SortPosition:
    key, row_id = _decode(cursor, _tag("folders", parent_id))
    if not isinstance(key, str) or len(key) > 3 * 255:
        raise InvalidInput(_INVALID)
    return SortPosition(key, row_id)


def encode_trash_cursor(position: TrashPosition) -> str:
    """The cursor that continues the trash listing after `position`."""
    return _encode({"t": position.trashed_at.isoformat(), "i": position.id, "k": "trash"})


def decode_trash_cursor(cursor: str) -> TrashPosition:
    key, row_id = _decode(cursor, "trash")
    return TrashPosition(_time(key), row_id)


def encode_pending_cursor(position: ListPosition) -> str:
    """The cursor that continues the listing of pending uploads after `position`."""
    return _encode({"t": position.created_at.isoformat(), "i": position.id, "k": "pending"})


def decode_pending_cursor(cursor: str) -> ListPosition:
    key, row_id = _decode(cursor, "pending")
    return ListPosition(_time(key), row_id)
