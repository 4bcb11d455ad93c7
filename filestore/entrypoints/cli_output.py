"""How `filestore` shows things to people: sizes in KiB/MiB/GiB, times in the local zone or
relative to now, and aligned columns. `--json` prints the API's answers untouched instead."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")


def human_size(count: int | float | None) -> str:
    """`0 B`, `900 B`, `1.5 KiB`, `150.0 MiB` (powers of 1024, as file managers show them)."""
    if count is None:
        return "-"
    value = float(count)
    for unit in UNITS:
        if abs(value) < 1024 or unit == UNITS[-1]:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


def parse_time(text: str | None) -> datetime | None:
    """An API timestamp (ISO 8601, `Z` or an offset) as an aware datetime; None if absent."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def local_time(moment: datetime) -> str:
    """`2026-03-01 14:05 CET`: in this machine's zone, with the zone said."""
    here = moment.astimezone()
    return f"{here:%Y-%m-%d %H:%M} {here.tzname() or format(here, '%z')}"


def when(text: str | None, now: datetime | None = None) -> str:
    """A moment for people: `just now`, `5 min ago`, `in 2 h` within a day of now, else the
    local date and time with its zone."""
    moment = parse_time(text)
    if moment is None:
        return "-"
    now = now or datetime.now(UTC)
    delta = moment - now
    seconds = abs(delta.total_seconds())
    if seconds >= timedelta(days=1).total_seconds():
        return local_time(moment)
    if seconds < 45:
        return "just now" if delta.total_seconds() <= 0 else "in a few seconds"
    amount = f"{round(seconds / 60)} min" if seconds < 3600 else f"{round(seconds / 3600)} h"
    return f"{amount} ago" if delta.total_seconds() < 0 else f"in {amount}"


def table(rows: Sequence[Sequence[str]], *, right: Sequence[int] = ()) -> list[str]:
    """Rows as aligned lines, two spaces between columns; columns in `right` align right; the
    last column is not padded (names there may be long)."""
    if not rows:
        return []
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for row in rows:
        cells = [
            cell if i == len(row) - 1 else (cell.rjust if i in right else cell.ljust)(widths[i])
            for i, cell in enumerate(row)
        ]
        lines.append("  ".join(cells).rstrip())
    return lines


def quiet_lines(result: Any) -> list[str]:
    """What `--quiet` prints of a result: the link of a share, else the id of each thing made
    or found (for `xargs`), else nothing."""
    items = result if isinstance(result, list) else [result]
    lines = []
    for item in items:
        if not isinstance(item, dict):
            continue
        for key in ("url", "id"):
            if item.get(key):
                lines.append(str(item[key]))
                break
    return lines
