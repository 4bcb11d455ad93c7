"""Contract suites: one set of tests per port, run against every adapter of that port.

To add an adapter, add its name to the list of its port and a fixture named
`<port>_<name>` (e.g. `uow_factory_sqlite`) that builds it, in this file or a plugin module.
A fixture for a real service fails when the service is missing and FILESTORE_REQUIRE_SERVICES=1.
"""

from __future__ import annotations

import pytest

from filestore.adapters.memory import MemoryDatabase, MemoryUnitOfWorkFactory
from filestore.domain.ports import UnitOfWorkFactory
from tests.contracts.harness import (
    BlobHarness,
    EmailHarness,
    MemoryBlobHarness,
    MemoryEmailHarness,
    MemoryPublisherHarness,
    MemoryRealtimeHarness,
    PublisherHarness,
    RealtimeHarness,
)

UOW_ADAPTERS = ["memory", "sqlite", "mysql", "dataapi"]
BLOB_ADAPTERS = ["memory", "filesystem"]
PUBLISHER_ADAPTERS = ["memory"]
EMAIL_ADAPTERS = ["memory"]
REALTIME_ADAPTERS = ["memory"]

# AWS adapters (fixtures in tests/support/aws_contracts.py)
BLOB_ADAPTERS += ["s3"]
PUBLISHER_ADAPTERS += ["sns"]
EMAIL_ADAPTERS += ["ses"]
REALTIME_ADAPTERS += ["apigateway"]


@pytest.fixture(params=UOW_ADAPTERS)
def uow_factory(request: pytest.FixtureRequest) -> UnitOfWorkFactory:
    """A unit-of-work factory over an empty database."""
    factory: UnitOfWorkFactory = request.getfixturevalue(f"uow_factory_{request.param}")
    return factory


@pytest.fixture
def uow_factory_memory() -> UnitOfWorkFactory:
    return MemoryUnitOfWorkFactory(MemoryDatabase())


@pytest.fixture(params=BLOB_ADAPTERS)
def blobs(request: pytest.FixtureRequest) -> BlobHarness:
    harness: BlobHarness = request.getfixturevalue(f"blobs_{request.param}")
    return harness


@pytest.fixture
def blobs_memory() -> BlobHarness:
    return MemoryBlobHarness()


@pytest.fixture(params=PUBLISHER_ADAPTERS)
def publisher(request: pytest.FixtureRequest) -> PublisherHarness:
    harness: PublisherHarness = request.getfixturevalue(f"publisher_{request.param}")
    return harness


@pytest.fixture
def publisher_memory() -> PublisherHarness:
    return MemoryPublisherHarness()


@pytest.fixture(params=EMAIL_ADAPTERS)
def email(request: pytest.FixtureRequest) -> EmailHarness:
    harness: EmailHarness = request.getfixturevalue(f"email_{request.param}")
    return harness


@pytest.fixture
def email_memory() -> EmailHarness:
    return MemoryEmailHarness()


@pytest.fixture(params=REALTIME_ADAPTERS)
def realtime(request: pytest.FixtureRequest) -> RealtimeHarness:
    harness: RealtimeHarness = request.getfixturevalue(f"realtime_{request.param}")
    return harness


@pytest.fixture
def realtime_memory() -> RealtimeHarness:
    return MemoryRealtimeHarness()
