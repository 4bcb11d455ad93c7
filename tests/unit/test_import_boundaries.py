"""What importing an adapter loads: a Lambda on the Data API must not pay for SQLAlchemy."""

from __future__ import annotations

import subprocess
import sys

import pytest


def _loaded_after(statement: str, modules: list[str]) -> list[str]:
    code = f"import sys\n{statement}\nprint(','.join(m for m in {modules!r} if m in sys.modules))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    return [m for m in result.stdout.strip().split(",") if m]


@pytest.mark.parametrize(
    "statement",
    [
        "import filestore.adapters.dataapi.database",
        "from filestore.adapters.dataapi.database import DataApiDatabase",
        "import filestore.adapters.sql",
        "import filestore.adapters.sql.unit_of_work, filestore.adapters.sql.migrations",
    ],
)
def test_the_data_api_path_does_not_import_sqlalchemy(statement: str) -> None:
    assert _loaded_after(statement, ["sqlalchemy", "aiomysql", "aiosqlite"]) == []


def test_the_data_api_adapter_does_import_boto3() -> None:
    """The check above can see a module being loaded (it is not vacuous)."""
    assert _loaded_after("import filestore.adapters.dataapi.database", ["boto3"]) == ["boto3"]


def test_the_sqlalchemy_adapter_loads_no_boto3() -> None:
    assert _loaded_after("import filestore.adapters.sql.alchemy", ["boto3", "botocore"]) == []
