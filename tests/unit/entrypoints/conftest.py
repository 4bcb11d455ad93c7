"""Entrypoints on in-memory adapters: real event shapes in, real responses out, no sockets."""

from __future__ import annotations

import functools
import os
import warnings
from collections.abc import Iterator

import pytest

# Outside Lambda the Tracer disables itself; say so explicitly so no X-Ray SDK is involved.
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "filestore-tests")

from filestore.app import FileStore
from filestore.entrypoints import client
from filestore.entrypoints.runtime import runtime
from tests.support.fake_api import FakeApi

ALICE = {"sub": "alice-sub", "email": "alice@example.com"}
BOB = {"sub": "bob-sub", "email": "bob@example.com"}


@pytest.fixture
def store() -> Iterator[FileStore]:
    """A fresh in-memory filestore, which the Lambda handlers of this thread use."""
    store = FileStore.in_memory()
    runtime.set_bus(store.bus)
    yield store
    runtime.set_bus(None)


@pytest.fixture(autouse=True)
def _quiet_metrics() -> Iterator[None]:
    # Powertools warns when an invocation flushed no metric of its own; expected here.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="No application metrics to publish")
        yield


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> FakeApi:
    """A fake of the HTTP API that every `filestore` command of the test talks to (a module
    may define its own `api`, which then wins)."""
    fake = FakeApi()
    with_fake = functools.partial(client.Client, progress=False, transport=fake.transport())
    monkeypatch.setattr(client, "Client", with_fake)
    return fake


@pytest.fixture
def utc_zone() -> Iterator[None]:
    """This process's local time zone is UTC for the test (the CLI shows local times)."""
    import time

    before = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    yield
    if before is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = before
    time.tzset()
