"""The state of one execution environment: its event loop, its message bus, its token verifier.

A Lambda execution environment handles one invocation at a time and lives for many. Everything
expensive is built once per environment, lazily, on first use: the container (adapters, pooled
connections, SDK clients) and ONE asyncio event loop, kept for the environment's life, so that
connections pooled on that loop survive warm invocations (`asyncio.run` would close the loop, and
with it every pooled connection, after each invocation).

The state is kept per thread: each thread is an execution environment of its own (its own loop,
its own container). Lambda runs handlers in one thread; the local server may run sync handlers in
worker threads, or `await` the async cores (`handle(event, context, bus=...)`) on its own loop.

`await_sync(awaitable)` lets synchronous code that runs under `run_sync(fn)` wait for a
coroutine on the caller's loop without blocking it (a greenlet switch, the technique SQLAlchemy's
asyncio extension uses): the HTTP handler runs Powertools' synchronous resolver this way.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

import greenlet

if TYPE_CHECKING:
    from filestore.domain.messagebus import MessageBus
    from filestore.entrypoints.auth import TokenVerifier
    from filestore.settings import Settings

T = TypeVar("T")

BusFactory = Callable[["Settings"], "MessageBus"]


def default_bus(settings: Settings) -> MessageBus:
    """The bus the composition root builds for `settings`."""
    from filestore.bootstrap import build

    return build(settings).bus()


class Runtime:
    """Per-thread loop and bus, built lazily; `run(coro)` for the synchronous Lambda handlers."""

    def __init__(self, factory: BusFactory = default_bus) -> None:
        self._factory = factory
        self._settings: Settings | None = None
        self._verifier: TokenVerifier | None = None
        self._local = threading.local()

    def use(self, factory: BusFactory) -> None:
        """Build buses with `factory` from now on (in threads that have none yet)."""
        self._factory = factory

    def settings(self) -> Settings:
        """The process's settings, read from the environment (`FILESTORE_*`) on first use."""
        if self._settings is None:
            from filestore.settings import Settings

            self._settings = Settings()
        return self._settings

    def set_settings(self, settings: Settings | None) -> None:
        """Use `settings` from now on (None: read the environment again on next use); the token
        verifier built from the previous ones goes with them."""
        self._settings = settings
        self._verifier = None

    def token_verifier(self) -> TokenVerifier:
        """The WebSocket authorizer's verifier of ID tokens (the Cognito user pool the settings
        name), built on first use and kept for the process, with the keys it fetches.

        It needs no adapter, so it is built here rather than by the composition root, whose
        import the authorizer would otherwise pay for at cold start.
        """
        if self._verifier is None:
            from filestore.entrypoints.auth import TokenVerifier

            self._verifier = TokenVerifier.for_cognito(self.settings())
        return self._verifier

    def set_token_verifier(self, verifier: TokenVerifier | None) -> None:
        """Use `verifier` (tests); None: build it from the settings on next use."""
        self._verifier = verifier

    def bus(self) -> MessageBus:
        """This environment's bus, built on first use."""
        bus: MessageBus | None = getattr(self._local, "bus", None)
        if bus is None:
            bus = self._factory(self.settings())
            self._local.bus = bus
        return bus

    def set_bus(self, bus: MessageBus | None) -> None:
        """Use `bus` in this thread (None: build a fresh one on next use)."""
        self._local.bus = bus

    def loop(self) -> asyncio.AbstractEventLoop:
        """This environment's event loop, created once and never closed."""
        loop: asyncio.AbstractEventLoop | None = getattr(self._local, "loop", None)
        if loop is None or loop.is_closed():
            loop = asyncio.new_event_loop()
            self._local.loop = loop
        return loop

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run `coro` to completion on the kept loop (for synchronous entrypoints only)."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass
        else:
            coro.close()
            raise RuntimeError(
                "a synchronous filestore handler was called from a running event loop; "
                "await its async core `handle(event, context)` instead"
            )
        loop = self.loop()
        asyncio.set_event_loop(loop)
        return loop.run_until_complete(coro)


runtime = Runtime()
"""The process's runtime: Lambda handlers use it; tests and the local server may `set_bus`."""


# --- synchronous code that awaits ----------------------------------------------------------------


async def run_sync(fn: Callable[..., T], *args: Any) -> T:
    """Run synchronous `fn(*args)`; inside it, `await_sync` waits on this loop for a coroutine.

    `fn` runs in a greenlet on this thread; whenever it calls `await_sync(aw)`, control comes
    back here, `aw` is awaited on the running loop (other tasks go on meanwhile), and its result
    (or exception) is handed back into `fn`. No thread and no second loop is involved.
    """
    child = greenlet.greenlet(fn)
    # Let `fn` see this task's context variables (a new greenlet starts with an empty context).
    child.gr_context = contextvars.copy_context()
    request = child.switch(*args)
    while not child.dead:
        try:
            value = await request
        except BaseException as error:
            request = child.throw(error)
        else:
            request = child.switch(value)
    return request  # type: ignore[no-any-return]


def await_sync(awaitable: Awaitable[T]) -> T:
    """Wait for `awaitable` from synchronous code running under `run_sync`."""
    current = greenlet.getcurrent()
    parent = current.parent
    if parent is None:
        if asyncio.iscoroutine(awaitable):
            awaitable.close()
        raise RuntimeError("await_sync() called outside run_sync()")
    result: T = parent.switch(awaitable)
    return result
