"""Shared test configuration. Service fixtures live in `tests/support/`."""

pytest_plugins = ["tests.support.mysql"]
pytest_plugins += ["tests.support.aws", "tests.support.aws_contracts"]
