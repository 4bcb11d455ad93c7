"""A clock for tests: it moves only when told to, so expiries and schedules are instant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class FakeClock:
    """A `Clock` that moves only when told to."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 1, tzinfo=UTC)

    def now(self) -> datetime:
        """The moment the clock was last set to or advanced to."""
        return self._now

    def advance(self, delta: timedelta) -> None:
        """Move the clock forward (or back, with a negative `delta`)."""
        self._now += delta

    def set(self, moment: datetime) -> None:
        """Put the clock at `moment`."""
        self._now = moment
