"""The organize commands' journey through `filestore`'s main against the real HTTP API handler on
in-memory adapters (in-process: no sockets), so the CLI and the API are held to each other
without a server; the e2e suite runs the same journey against `filestore serve`."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from filestore.app import FileStore
from filestore.entrypoints import cli, client
from tests.support.api_transport import InProcessApi
from tests.support.cli_journeys import organize
from tests.unit.entrypoints.conftest import ALICE


class InProcessUser:
    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self.capsys = capsys

    def _run(self, args: tuple[str, ...], status: int) -> str:
        code = cli.main(["--token", "t", *args])
        out, err = self.capsys.readouterr()
        assert code == status, err or out
        assert "Traceback" not in err
        return out if status == 0 else err

    def __call__(self, *args: str) -> str:
        return self._run(args, 0)

    def fails(self, *args: str, status: int) -> str:
        return self._run(args, status)

    def json(self, *args: str) -> Any:
        return json.loads(self(*args, "--json"))

    def names(self, *args: str) -> list[str]:
        return [item["name"] for item in self.json("ls", *args)]


def _at_once(check: Callable[[], Any], what: str) -> Any:
    """In-process, a file is stored before its upload returns: nothing to wait for."""
    result = check()
    assert result, f"{what}: not so"
    return result


def test_the_organize_journey_against_the_api(
    store: FileStore,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    api = InProcessApi(store, ALICE)
    with_api = functools.partial(client.Client, progress=False, transport=api.transport())
    monkeypatch.setattr(client, "Client", with_api)
    organize(InProcessUser(capsys), tmp_path, _at_once)
