"""The real `filestore serve` in a subprocess, on a free loopback port, with a temp data dir."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import httpx
import pytest

STARTUP_DEADLINE = 60.0
MULTIPART_THRESHOLD = 1024 * 1024


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def filestore(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the `filestore` command (this interpreter's), capturing its output."""
    return subprocess.run(
        [sys.executable, "-m", "filestore.entrypoints.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
        check=False,
    )


class LocalServerProcess:
    """One `filestore serve`; `restart()` stops it (Ctrl-C) and starts it on the same data dir.

    `args` are more `serve` options (`--database-url`, `--aws-endpoint-url`); `env` is added to
    the server's environment (e.g. `FILESTORE_MULTIPART_THRESHOLD`).
    """

    def __init__(
        self, data_dir: Path, args: Sequence[str] = (), env: Mapping[str, str] | None = None
    ) -> None:
        self.data_dir = data_dir
        self.args = list(args)
        self.env = {**os.environ, **(env or {})}
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None
        self.log = data_dir.parent / f"serve-{self.port}.log"

    def start(self) -> None:
        log = self.log.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "filestore.entrypoints.cli", "serve",
             "--port", str(self.port), "--data-dir", str(self.data_dir), *self.args],
            stdout=log, stderr=subprocess.STDOUT, env=self.env,
        )  # fmt: skip
        deadline = time.monotonic() + STARTUP_DEADLINE
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"filestore serve exited early:\n{self.log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.url}/openapi.json", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        pytest.fail(f"filestore serve did not answer in time:\n{self.log.read_text()[-3000:]}")

    def stop(self) -> int:
        """Ctrl-C, as a person would; returns the exit status."""
        assert self.process is not None
        self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            pytest.fail("filestore serve did not stop on Ctrl-C")

    def kill(self) -> None:
        """SIGKILL, as a power cut or the OOM killer would: nothing runs on the way out."""
        assert self.process is not None
        self.process.kill()
        self.process.wait(timeout=60)

    def restart(self) -> None:
        self.stop()
        self.start()

    def token(self, email: str) -> str:
        answer = filestore("token", "--data-dir", str(self.data_dir), "--email", email)
        assert answer.returncode == 0, answer.stderr
        return answer.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def local_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServerProcess]:
    # Multipart from 1 MiB, so a test can resume a multipart upload of a few parts quickly.
    server = LocalServerProcess(
        tmp_path_factory.mktemp("serve") / "data",
        env={"FILESTORE_MULTIPART_THRESHOLD": str(MULTIPART_THRESHOLD)},
    )
    server.start()
    yield server
    if server.process is not None and server.process.poll() is None:
        server.stop()
