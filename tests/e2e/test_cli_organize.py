"""Organizing files with the real `filestore` command against the real local server: folders,
recursive upload, moving, search, sorting and the trash, as a person types them."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.journeys import wait_for
from tests.support.cli_journeys import organize
from tests.support.local_server import LocalServerProcess, filestore

pytestmark = pytest.mark.e2e


class Shell:
    """`filestore …` as one user of one server."""

    def __init__(self, server: LocalServerProcess, email: str) -> None:
        self.env = {"FILESTORE_ENDPOINT": server.url, "FILESTORE_TOKEN": server.token(email)}

    def __call__(self, *args: str) -> str:
        done = self.run(*args)
        assert done.returncode == 0, done.stderr
        return done.stdout

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        done = filestore(*args, env=self.env)
        assert "Traceback" not in done.stderr, done.stderr
        return done

    def fails(self, *args: str) -> str:
        done = self.run(*args)
        assert done.returncode == 1, done.stdout
        return done.stderr

    def json(self, *args: str) -> Any:
        return json.loads(self(*args, "--json"))

    def names(self, *args: str) -> list[str]:
        return [item["name"] for item in self.json("ls", *args)]


def test_upload_a_folder_and_organize_it(local_server: LocalServerProcess, tmp_path: Path) -> None:
    organize(Shell(local_server, "olive@example.com"), tmp_path, wait_for)
