"""The real clock and id generator, shared by every runtime."""

from __future__ import annotations

from datetime import UTC, datetime

from filestore.domain import ids


class SystemClock:
    """The machine's clock, in UTC, with microseconds (the database keeps them too)."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class RandomIds:
    """UUIDv7 public ids and 256-bit share tokens."""

    def new_id(self) -> str:
        return ids.uuid7()

    def new_token(self) -> str:
        return ids.new_token()
