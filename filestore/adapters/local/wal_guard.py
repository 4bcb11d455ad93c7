"""Refuse to start on a SQLite database whose write-ahead log went missing after a crash.

In WAL mode SQLite commits into `<db>-wal` and copies the pages into the database file later (a
checkpoint, and on the last clean close, which then deletes the log). After a `kill -9` or a
power cut, the log holds every commit since the last checkpoint; SQLite replays it on the next
open. If the log is lost meanwhile (copied without it, deleted as clutter), SQLite opens the
database file without complaint and those commits (uploads, renames, deletions) are gone, while
their bytes are still on disk, where the sweep would then delete them as objects of no upload.

So the server leaves a marker next to the database while it runs (`<db>.running`, written once
the log exists) and removes it after a clean stop that left no log behind. A start that finds
the marker but no log refuses, saying what was lost and how to go on.
"""

from __future__ import annotations

import os
from pathlib import Path


class WriteAheadLogLost(Exception):
    """The previous run did not stop cleanly and its write-ahead log is missing."""


def _paths(database: Path) -> tuple[Path, Path]:
    return database.with_name(database.name + "-wal"), database.with_name(
        database.name + ".running"
    )


def check(database: Path) -> None:
    """Raise `WriteAheadLogLost` if the last run crashed and its log is gone (before the
    database is opened: opening it makes a new, empty log)."""
    wal, marker = _paths(database)
    if marker.exists() and database.exists() and not wal.exists():
        raise WriteAheadLogLost(
            f"{database} was not closed cleanly and its write-ahead log {wal.name} is missing: "
            "the changes committed since its last checkpoint would be lost without a trace. "
            f"Put {wal.name} back next to it and start again; or, to accept the loss, "
            f"delete {marker} and start again."
        )


def mark_running(database: Path) -> bool:
    """Leave the marker, once SQLite has made the log (a start that crashes before it has
    committed nothing the log could hold); whether it was left."""
    wal, marker = _paths(database)
    if not wal.exists():
        return False
    with marker.open("wb") as file:
        file.write(b"filestore serve is running on this database\n")
        file.flush()
        os.fsync(file.fileno())
    return True


def mark_stopped(database: Path) -> None:
    """Remove the marker after a clean stop: only if the log is gone (checkpointed into the
    database by the last close); a log left behind keeps the marker, harmlessly."""
    wal, marker = _paths(database)
    if not wal.exists():
        marker.unlink(missing_ok=True)
