"""Unit tests run on in-memory adapters with sockets blocked: nothing here reaches a network."""

from __future__ import annotations

import pytest
from pytest_socket import disable_socket

from filestore.app import FileStore
from filestore.domain.commands import Actor
from filestore.domain.rules import MiB, UploadPolicy
from tests.support.clock import FakeClock


@pytest.fixture(autouse=True)
def _no_sockets() -> None:
    disable_socket(allow_unix_socket=True)  # asyncio's loop uses a unix socketpair


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def policy() -> UploadPolicy:
    """Small limits so tests can cross them with small numbers."""
    return UploadPolicy(
        multipart_threshold=20 * MiB,
        single_request_limit=20 * MiB,
        max_upload_size=1024 * MiB,
        default_quota_bytes=100 * MiB,
    )


@pytest.fixture
def store(clock: FakeClock, policy: UploadPolicy) -> FileStore:
    return FileStore.in_memory(policy=policy, clock=clock)


@pytest.fixture
def alice() -> Actor:
    return Actor(sub="alice-sub", email="alice@example.com")


@pytest.fixture
def bob() -> Actor:
    return Actor(sub="bob-sub", email="bob@example.com")
