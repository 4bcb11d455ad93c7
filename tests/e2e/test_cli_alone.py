"""`pip install 'filestore[cli]'` is a working client: a venv with only that extra (no server,
no AWS SDK, no test tools) runs `filestore --help` and `filestore ls` against a served
instance.

The venv is built once per pyproject.toml and constraints.txt, under the user's cache
directory (as scripts/schemathesis-venv and scripts/scanners build theirs), and runs this
tree's code: PYTHONPATH puts it ahead of the copy installed there.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.local_server import LocalServerProcess, local_server  # noqa: F401 - fixture

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).parents[2]
# What the client must not need: the server's and the AWS extras' packages, and the dev tools.
NOT_INSTALLED = (
    "aws_lambda_powertools",
    "boto3",
    "botocore",
    "jwt",
    "sqlalchemy",
    "aiosqlite",
    "uvicorn",
    "starlette",
    "pytest",
    "moto",
)


def _cli_venv() -> Path:
    key = hashlib.sha256(
        (ROOT / "pyproject.toml").read_bytes() + (ROOT / "constraints.txt").read_bytes()
    ).hexdigest()[:12]
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "filestore"
    venv = cache / f"cli-only-{key}"
    if (venv / ".installed").exists():
        return venv
    shutil.rmtree(venv, ignore_errors=True)
    python = subprocess.run(
        [ROOT / "scripts" / "python"], capture_output=True, text=True, check=True
    ).stdout.strip()
    subprocess.run([python, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    subprocess.run([*pip, "-c", str(ROOT / "constraints.txt"), f"{ROOT}[cli]"], check=True)
    (venv / ".installed").touch()
    return venv


@pytest.fixture(scope="module")
def cli_venv() -> Path:
    try:
        return _cli_venv()
    except subprocess.CalledProcessError as error:
        pytest.fail(f"could not build a venv with only filestore[cli]: {error}")


def run(
    venv: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(venv / "bin" / args[0]), *args[1:]],
        capture_output=True,
        text=True,
        timeout=120,
        env={
            "PATH": os.environ["PATH"],
            "HOME": os.environ["HOME"],
            "PYTHONPATH": str(ROOT),
            **(env or {}),
        },
        check=False,
    )


def test_the_cli_extra_installs_no_server_and_no_aws_sdk(cli_venv: Path) -> None:
    probe = "import importlib.util as u; print(' '.join(m for m in {!r} if u.find_spec(m)))"
    found = run(cli_venv, "python", "-c", probe.format(NOT_INSTALLED))
    assert found.returncode == 0, found.stderr
    assert found.stdout.split() == []
    # ... and the code run is this tree's.
    where = run(cli_venv, "python", "-c", "import filestore; print(filestore.__file__)")
    assert where.stdout.strip() == str(ROOT / "filestore" / "__init__.py")


def test_help_and_ls_work_with_only_the_cli_extra(
    cli_venv: Path,
    local_server: LocalServerProcess,  # noqa: F811 - the fixture
) -> None:
    helped = run(cli_venv, "filestore", "--help")
    assert helped.returncode == 0, helped.stderr
    assert "upload" in helped.stdout
    env = {
        "FILESTORE_ENDPOINT": local_server.url,
        "FILESTORE_TOKEN": local_server.token("cli-alone@example.com"),
    }
    listed = run(cli_venv, "filestore", "--json", "ls", env=env)
    assert listed.returncode == 0, listed.stderr
    assert "Traceback" not in listed.stderr
    json.loads(listed.stdout)  # a new user has no files, and says so in JSON
