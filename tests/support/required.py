"""What a test does when the service it needs is missing: fail in CI, skip elsewhere."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest

REQUIRE_VARIABLE = "FILESTORE_REQUIRE_SERVICES"


def unavailable(reason: str) -> NoReturn:
    """Fail (with FILESTORE_REQUIRE_SERVICES=1, as CI sets it) or skip, always saying why."""
    if os.environ.get(REQUIRE_VARIABLE) == "1":
        pytest.fail(f"required service unavailable: {reason}", pytrace=False)
    pytest.skip(f"service unavailable: {reason}")
