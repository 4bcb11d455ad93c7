"""Shared test configuration. Service fixtures live in `tests/support/`."""

pytest_plugins = [
    "tests.support.mysql",
    "tests.support.sql",
    "tests.support.aws",
    "tests.support.aws_contracts",
    "tests.support.lambda_events",
    "tests.support.filesystem_blobs",
    "tests.support.local_server",
    "tests.support.app_user",
    "tests.support.browser",
]
