"""Shared test configuration. Service fixtures live in `tests/support/`."""

pytest_plugins: list[str] = ["tests.support.mysql", "tests.support.sql"]
pytest_plugins += ["tests.support.aws", "tests.support.aws_contracts"]
pytest_plugins += ["tests.support.filesystem_blobs", "tests.support.local_server"]
