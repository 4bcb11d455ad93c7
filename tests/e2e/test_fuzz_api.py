"""A short, seeded schemathesis run against the real `filestore serve`: no input a client can
send may answer a 5xx, and every answer must match the OpenAPI document.

The same kind of run as `scripts/fuzz-api` (which runs longer, with random seeds, and is not
part of the suite), bounded by its number of examples (half a minute): the same seed generates
the same requests on every run, so a failure here is reproducible with the command it prints.
schemathesis lives in a venv of its own (`scripts/schemathesis-venv`, installed from PyPI on
first use, as the LocalStack the integration tests use is); a failed install fails the test, it
never skips.
"""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

import pytest

from tests.support.local_server import LocalServerProcess

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
SEED = 15
# Per operation and phase: about 500 requests, half a minute on 2 cores. No `--max-time`: with
# one, schemathesis repeats its fuzzing and stateful phases until the time is spent, so what it
# sends would depend on the machine's speed rather than on the seed alone.
MAX_EXAMPLES = 10
HANG = 300  # seconds: a run that takes this long is stuck


def _schemathesis() -> Path:
    installed = subprocess.run(
        [ROOT / "scripts" / "schemathesis-venv"],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert installed.returncode == 0, f"cannot install schemathesis:\n{installed.stderr}"
    return Path(installed.stdout.strip().splitlines()[-1]) / "st"


def test_no_request_the_schema_allows_or_forbids_gets_a_5xx(tmp_path: Path) -> None:
    st = _schemathesis()
    server = LocalServerProcess(tmp_path / "data")
    server.start()
    try:
        token = server.token("fuzz@example.com")
        command = [
            str(st), "run", f"{server.url}/openapi.json",
            "--header", f"Authorization: Bearer {token}",
            # As scripts/fuzz-api: every check but two that do not apply (see there why).
            "--checks", "all",
            "--exclude-checks", "unsupported_method,positive_data_acceptance",
            "--phases", "examples,coverage,fuzzing,stateful",
            "--seed", str(SEED),
            "--generation-database", "none",
            "--max-examples", str(MAX_EXAMPLES),
            "--workers", "1",
            "--request-timeout", "20",
            "--report", "junit", "--report-dir", str(tmp_path / "report"),
            "--no-color",
        ]  # fmt: skip
        run = subprocess.run(
            command, cwd=tmp_path, capture_output=True, text=True, timeout=HANG,
            check=False,
        )  # fmt: skip
    finally:
        server.stop()
    log = server.log.read_text()
    shown = shlex.join(
        c if not c.startswith("Authorization:") else "Authorization: …" for c in command
    )
    assert run.returncode == 0, f"{shown}\n{run.stdout[-8000:]}\n{run.stderr[-2000:]}"
    assert '"level":"ERROR"' not in log and "Traceback" not in log, log[-5000:]
    assert " passed" in run.stdout, run.stdout  # it did run
