"""Opaque, time-ordered public ids (UUIDv7) and unguessable tokens."""

from __future__ import annotations

import os
import secrets
import threading
import time
import uuid

_lock = threading.Lock()
_last_ms = 0
_counter = 0


def uuid7() -> str:
    """A UUIDv7 string (RFC 9562): 48-bit milliseconds, then a 12-bit counter and random bits.

    The counter keeps ids made in the same millisecond in creation order, so ids sort like the
    time they were made in (the listing's tie-breaker relies on it).
    """
    global _last_ms, _counter
    with _lock:
        now_ms = time.time_ns() // 1_000_000
        if now_ms > _last_ms:
            _last_ms, _counter = now_ms, int.from_bytes(os.urandom(2), "big") & 0x3FF
        else:
            _counter += 1
            if _counter > 0xFFF:  # counter exhausted: borrow the next millisecond
                _last_ms, _counter = _last_ms + 1, 0
        ms, counter = _last_ms, _counter
    rand_b = int.from_bytes(os.urandom(8), "big") & ((1 << 62) - 1)
    value = (ms << 80) | (0x7 << 76) | (counter << 64) | (0b10 << 62) | rand_b
    return str(uuid.UUID(int=value))


def is_public_id(value: str) -> bool:
    """True when `value` is a canonical lower-case UUID string, the shape of our public ids."""
    if len(value) != 36:
        return False
    try:
        return str(uuid.UUID(value)) == value
    except ValueError:
        return False


def new_token() -> str:
    """A share token: 256 bits from the OS's CSPRNG, URL-safe."""
    return secrets.token_urlsafe(32)


def is_token(value: str) -> bool:
    """True when `value` could be a token we issued (cheap check before any lookup)."""
    return 16 <= len(value) <= 64 and all(c.isalnum() or c in "-_" for c in value)
