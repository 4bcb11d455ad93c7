"""Listing cursors: a position in the newest-first order, opaque to clients."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime

from filestore.domain.errors import InvalidInput
from filestore.domain.ids import is_public_id
from filestore.domain.ports import ListPosition


def encode_cursor(position: ListPosition) -> str:
    """The cursor that continues a listing after `position`."""
    raw = json.dumps({"t": position.created_at.isoformat(), "i": position.id}).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(cursor: str) -> ListPosition:
    """The position a cursor from `encode_cursor` stands for; anything else is invalid input."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
        position = ListPosition(datetime.fromisoformat(data["t"]), str(data["i"]))
    except (binascii.Error, ValueError, KeyError, TypeError, UnicodeDecodeError) as error:
        raise InvalidInput(
            "cursor is not valid; use next_cursor from the previous page."
        ) from error
    if position.created_at.tzinfo is None or not is_public_id(position.id):
        raise InvalidInput("cursor is not valid; use next_cursor from the previous page.")
    return position
