"""Organizing files with the real `filestore` command against the real local server on SQLite
(test_local_server_backends runs the same on MySQL): folders, recursive upload, moving, search,
sorting and the trash, as a person types them."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.journeys import wait_for
from tests.support.cli_journeys import Shell, organize
from tests.support.local_server import LocalServerProcess

pytestmark = pytest.mark.e2e


def test_upload_a_folder_and_organize_it(local_server: LocalServerProcess, tmp_path: Path) -> None:
    organize(Shell(local_server, "olive@example.com"), tmp_path, wait_for)
