"""One writer at a time on a SQLite database, queued in the process instead of in SQLite.

SQLite lets one connection write at a time. A second writer is made to wait by SQLite's busy
handler, which sleeps and retries (1, 2, 5, 10, … 100 ms): under a few concurrent writes a
request waits tens or hundreds of milliseconds for a lock freed long before, or fails with
SQLITE_BUSY. Write transactions of one process therefore queue here, on the event loop, and
each starts the moment the previous one ends. Other processes on the same file still meet the
busy handler, as before.

A task that already holds the turn (a unit of work that opens another while its own transaction
is open) is not made to wait for itself.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable


class SqliteWriters:
    """The turn to write, per event loop (a Lambda-style runtime may run one loop per thread)."""

    def __init__(self) -> None:
        self._locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )
        self._holders: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, asyncio.Task[object]
        ] = weakref.WeakKeyDictionary()

    async def turn(self) -> Callable[[], None]:
        """Wait for the turn to write; returns what ends it (call it exactly once)."""
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        if task is None or self._holders.get(loop) is task:
            return _nothing
        lock = self._locks.get(loop)
        if lock is None:
            lock = self._locks.setdefault(loop, asyncio.Lock())
        await lock.acquire()
        self._holders[loop] = task

        def release() -> None:
            self._holders.pop(loop, None)
            lock.release()

        return release


def _nothing() -> None:
    return None
