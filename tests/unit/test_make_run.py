"""The README's `make run`: any Python 3.11 or newer (scripts/python finds it, or says what to
install), only what running needs, and a banner that points where the server really is."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
FIND_PYTHON = ROOT / "scripts" / "python"


def dry_run(*args: str) -> str:
    """What `make` would run (`-n`: nothing is run, the echo lines included)."""
    if shutil.which("make") is None:
        pytest.fail("make is not installed")
    done = subprocess.run(
        ["make", "--no-print-directory", "-n", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def test_the_banner_uses_the_port_and_data_dir_given() -> None:
    out = dry_run("run", "PORT=8123", "DATA_DIR=/tmp/elsewhere")
    banner = "\n".join(line for line in out.splitlines() if line.startswith("echo"))
    assert "http://127.0.0.1:8123/" in banner  # the web page
    assert "http://127.0.0.1:8123/docs" in banner
    assert "export FILESTORE_ENDPOINT=http://127.0.0.1:8123" in banner
    assert "filestore login" in banner
    assert "--data-dir /tmp/elsewhere" in banner
    assert ":8000" not in banner and ".filestore" not in banner
    assert "filestore serve --port 8123 --data-dir /tmp/elsewhere" in out


def test_make_run_installs_what_running_needs_and_make_test_adds_the_dev_tools() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert "RUN_EXTRAS := aws,local,cli\n" in makefile
    assert "run: $(RUN_STAMP)" in makefile
    assert "$(STAMP): $(RUN_STAMP)" in makefile  # the same venv, one level up
    assert "python3.11" not in makefile  # any Python >= 3.11 will do


def _fake(bin_dir: Path, name: str, script: str) -> None:
    path = bin_dir / name
    path.write_text(f"#!/bin/sh\n{script}\n")
    path.chmod(0o755)


@pytest.fixture
def bin_dir(tmp_path: Path) -> Path:
    """A PATH with bash (scripts/python's interpreter) and sort, and no Python."""
    directory = tmp_path / "bin"
    directory.mkdir()
    for tool in ("bash", "sort", "ls"):
        found = shutil.which(tool)
        assert found is not None
        (directory / tool).symlink_to(found)
    return directory


def find_python(bin_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(FIND_PYTHON), *args],
        env={"PATH": str(bin_dir), "HOME": os.environ.get("HOME", "/")},
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_newest_python_that_fits_is_chosen(bin_dir: Path) -> None:
    # A fake interpreter answers the check by printing its own path, or fails (too old).
    _fake(bin_dir, "python3.13", "exit 1")
    _fake(bin_dir, "python3.12", f"echo {bin_dir}/python3.12")
    _fake(bin_dir, "python3", f"echo {bin_dir}/python3")
    found = find_python(bin_dir)
    assert (found.returncode, found.stdout.strip()) == (0, f"{bin_dir}/python3.12")


def test_pyenv_versions_are_the_fallback(bin_dir: Path, tmp_path: Path) -> None:
    root = tmp_path / "pyenv"
    for version, fits in (("3.9.18", False), ("3.12.1", True), ("3.11.7", True)):
        (root / "versions" / version / "bin").mkdir(parents=True)
        python = root / "versions" / version / "bin" / "python"
        python.write_text(f"#!/bin/sh\necho {python}\n" if fits else "#!/bin/sh\nexit 1\n")
        python.chmod(0o755)
    _fake(bin_dir, "pyenv", f"echo {root}")
    found = find_python(bin_dir)
    assert found.stdout.strip() == f"{root}/versions/3.12.1/bin/python"


def test_without_one_it_says_which_to_install(bin_dir: Path) -> None:
    _fake(bin_dir, "python3", "exit 1")  # a Python 3.10, say
    found = find_python(bin_dir)
    assert found.returncode == 1
    assert found.stdout == ""
    assert "needs Python 3.11 or newer" in found.stderr
    assert "python3.12" in found.stderr


def test_a_named_python_is_checked(bin_dir: Path) -> None:
    _fake(bin_dir, "python3.10", "exit 1")
    found = find_python(bin_dir, "python3.10")
    assert found.returncode == 1
    assert "python3.10 is not a Python 3.11 or newer" in found.stderr
