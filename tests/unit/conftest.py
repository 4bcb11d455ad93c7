"""Unit tests run on in-memory adapters with sockets blocked: nothing here reaches a network."""

import pytest
from pytest_socket import disable_socket


@pytest.fixture(autouse=True)
def _no_sockets() -> None:
    disable_socket(allow_unix_socket=True)  # asyncio's loop uses a unix socketpair
