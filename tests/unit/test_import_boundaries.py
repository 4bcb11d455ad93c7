"""What imports what: a Lambda on the Data API must not pay for SQLAlchemy, and no entrypoint
chooses an adapter (only the composition root does)."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

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


def test_the_command_line_needs_no_http_library_until_it_calls_an_api() -> None:
    """`filestore serve`, `token` and `db upgrade` run where only their extras are installed."""
    statement = "from filestore.entrypoints import cli; cli.parser().parse_args(['ls'])"
    assert _loaded_after(statement, ["httpx"]) == []
    assert _loaded_after("import filestore.entrypoints.client", ["httpx"]) == ["httpx"]


# --- entrypoints choose no adapter ------------------------------------------------------------

PACKAGE = Path(__file__).resolve().parents[2] / "filestore"


def _imports(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """(line, module) of every import, wherever it stands (type-checking blocks included)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module
            yield from ((node.lineno, f"{node.module}.{alias.name}") for alias in node.names)


def _adapter_imports(source: str) -> list[tuple[int, str]]:
    return sorted(
        {
            (line, module)
            for line, module in _imports(ast.parse(source))
            if module == "filestore.adapters" or module.startswith("filestore.adapters.")
        }
    )


def test_entrypoints_import_no_adapter() -> None:
    """Only the composition root chooses adapters; entrypoints name ports and protocols, even
    for type checking."""
    found = {
        str(path.relative_to(PACKAGE.parent)): imports
        for path in sorted((PACKAGE / "entrypoints").rglob("*.py"))
        if (imports := _adapter_imports(path.read_text()))
    }
    assert found == {}


def test_the_entrypoint_scan_sees_imports_wherever_they_run() -> None:
    source = (
        "from typing import TYPE_CHECKING\n"
        "import filestore.adapters.s3\n"
        "if TYPE_CHECKING:\n"
        "    from filestore.adapters.memory import FakeClock\n"
        "else:\n"
        "    from filestore.adapters import memory\n"
        "def f():\n"
        "    from filestore.adapters.sql.alchemy import upgrade_database\n"
        "class C:\n"
        "    def g(self):\n"
        "        if True:\n"
        "            from filestore import adapters\n"
    )
    assert _adapter_imports(source) == [
        (2, "filestore.adapters.s3"),
        (4, "filestore.adapters.memory"),
        (4, "filestore.adapters.memory.FakeClock"),
        (6, "filestore.adapters"),
        (6, "filestore.adapters.memory"),
        (8, "filestore.adapters.sql.alchemy"),
        (8, "filestore.adapters.sql.alchemy.upgrade_database"),
        (12, "filestore.adapters"),
    ]
