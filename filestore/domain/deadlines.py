"""When the command being handled started: the start of its time budget for dependencies.

The message bus starts a command's clock as it starts handling the command. An adapter that
retries a dependency while it is unavailable (the Data API while Aurora resumes from a pause)
counts its retry budget from that moment, so the calls of one request share one budget: a
request that made three slow calls does not then get the whole budget again for a fourth.
A context variable, so concurrent commands (the messages of one batch) each have their own.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_started: ContextVar[float | None] = ContextVar("filestore_command_started", default=None)


@contextmanager
def command_clock() -> Iterator[float]:
    """Start the clock of a command (`time.monotonic()`), unless one is running already: a
    command run for the events of another (in-process notifications) shares the outer one's."""
    started = _started.get()
    if started is not None:
        yield started
        return
    started = time.monotonic()
    token = _started.set(started)
    try:
        yield started
    finally:
        _started.reset(token)


def command_started() -> float | None:
    """When (`time.monotonic()`) the command being handled started; None outside any."""
    return _started.get()
