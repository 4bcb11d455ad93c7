"""Shared test configuration. Service fixtures live in `tests/support/`."""

pytest_plugins: list[str] = ["tests.support.filesystem_blobs"]
