"""A function artifact, built the way `sam build` builds it, holds product code only.

`template.yaml` builds every function with `deploy/function/Makefile`, from a copy of the
`filestore` package directory. Whatever that package holds ships in every Lambda: a test tool
there (the rds-data emulator, a fake clock) is dead weight at best, and a module importing a
dev-only dependency is an `ImportError` waiting for the first code path that loads it.
"""

from __future__ import annotations

import ast
import importlib.metadata
import re
import shutil
import subprocess
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MAKEFILE = ROOT / "deploy" / "function" / "Makefile"

# Classes that exist only to drive tests; none belongs in a function.
TEST_TOOLS = {"DataApiEmulator", "FakeClock"}


def _normalized(distribution: str) -> str:
    """A distribution name as PEP 503 compares them (`PyMySQL` and `pymysql` are one)."""
    return re.sub(r"[-_.]+", "-", distribution).lower()


def dev_only_modules() -> set[str]:
    """The top-level modules of the `dev` extra in pyproject.toml.

    A distribution's import names come from its installed metadata (`pytest` also installs
    `_pytest`), else from its name (`pytest-asyncio` is imported as `pytest_asyncio`).
    """
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    requirements = pyproject["project"]["optional-dependencies"]["dev"]
    provided: dict[str, set[str]] = {}
    for module, distributions in importlib.metadata.packages_distributions().items():
        for distribution in distributions:
            provided.setdefault(_normalized(distribution), set()).add(module)
    modules: set[str] = set()
    for requirement in requirements:
        match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement)
        assert match, f"not a requirement: {requirement!r}"
        name = _normalized(match.group())
        modules |= provided.get(name, set()) | {name.replace("-", "_")}
    return modules


@pytest.fixture(scope="module")
def artifact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The HttpApiFunction's artifact: `make build-HttpApiFunction` in a copy of the package."""
    source = tmp_path_factory.mktemp("source") / "filestore"
    shutil.copytree(ROOT / "filestore", source)
    artifacts = tmp_path_factory.mktemp("artifacts")
    subprocess.run(
        ["make", "-f", str(MAKEFILE), "build-HttpApiFunction", f"ARTIFACTS_DIR={artifacts}"],
        cwd=source,
        check=True,
        capture_output=True,
        timeout=120,
    )
    return artifacts / "filestore"


def modules_of(artifact: Path) -> Iterator[tuple[Path, ast.Module]]:
    for path in sorted(artifact.rglob("*.py")):
        yield path.relative_to(artifact.parent), ast.parse(path.read_bytes(), str(path))


def absolute_imports(tree: ast.Module) -> Iterator[tuple[str, int]]:
    """The top-level module of every absolute import in `tree`, with its line."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name.split(".")[0], node.lineno
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module.split(".")[0], node.lineno


def test_the_dev_extra_is_read_whole() -> None:
    """The list below is pyproject.toml's, mapped to import names (not a second copy)."""
    assert {"pytest", "pytest_asyncio", "pytest_socket", "pymysql", "mypy"} <= dev_only_modules()


def test_the_artifact_is_the_package(artifact: Path) -> None:
    assert (artifact / "entrypoints" / "http_api.py").is_file()
    assert not list(artifact.rglob("__pycache__"))


def test_the_artifact_holds_the_web_app(artifact: Path) -> None:
    """The deploy's publisher (a function like the others) publishes the app from its own
    package: the files under filestore/web ship in it, byte for byte."""
    source = ROOT / "filestore" / "web"
    shipped = {
        p.relative_to(artifact / "web") for p in (artifact / "web").rglob("*") if p.is_file()
    }
    assert Path("index.html") in shipped
    for relative in shipped:
        assert (artifact / "web" / relative).read_bytes() == (source / relative).read_bytes()


def test_the_artifact_holds_no_test_tool(artifact: Path) -> None:
    emulators = [
        str(path.relative_to(artifact.parent))
        for path in (artifact / "adapters" / "dataapi").rglob("*emulator*")
    ]
    classes = [
        f"{path}:{node.lineno} {node.name}"
        for path, tree in modules_of(artifact)
        for node in ast.walk(tree)
        if isinstance(node, ast.ClassDef) and node.name in TEST_TOOLS
    ]
    assert emulators + classes == []


def test_no_module_in_the_artifact_imports_a_dev_dependency(artifact: Path) -> None:
    dev_only = dev_only_modules()
    imported: set[str] = set()
    offending: list[str] = []
    for path, tree in modules_of(artifact):
        for module, line in absolute_imports(tree):
            imported.add(module)
            if module in dev_only:
                offending.append(f"{path}:{line} imports {module}")
    assert {"pydantic", "boto3"} <= imported  # the scan sees imports: it is not vacuous
    assert offending == []
