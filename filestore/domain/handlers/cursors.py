"""Listing cursors: a position in the newest-first order, opaque to clients."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime

from filestore.domain.errors import InvalidInput
from filestore.domain.ids import is_public_id
from filestore.domain.ports import ListPosition


def encode_cursor(position: ListPosition) -> str:
    """The cursor that continues a listing after `position`."""
    raw = json.dumps({"t": position.created_at.isoformat(), "i": position.id}).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


# The times a stored row can have (MySQL's DATETIME range, in UTC).
EARLIEST = datetime(1000, 1, 1, tzinfo=UTC)
LATEST = datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
_INVALID = "cursor is not valid; use next_cursor from the previous page."


def decode_cursor(cursor: str) -> ListPosition:
    """The position a cursor from `encode_cursor` stands for, its time in UTC; anything else,
    a time out of any row's range included, is invalid input."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
        created_at = datetime.fromisoformat(data["t"])
        # A time near the ends of the calendar with an offset overflows on the way to UTC.
        position = ListPosition(created_at.astimezone(UTC), str(data["i"]))
    except (
        binascii.Error,
        ValueError,
        KeyError,
        TypeError,
        UnicodeDecodeError,
        OverflowError,
    ) as error:
        raise InvalidInput(_INVALID) from error
    if created_at.tzinfo is None or not EARLIEST <= position.created_at <= LATEST:
        raise InvalidInput(_INVALID)
    if not is_public_id(position.id):
        raise InvalidInput(_INVALID)
    return position
