"""Every test gets a config home of its own: the `filestore` command never reads or writes the
config file of whoever runs the tests, and a FILESTORE_TOKEN, FILESTORE_ENDPOINT or
FILESTORE_PROFILE in their shell does not leak into a test (tests set them where they mean to)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _own_config_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("config-home")))
    for name in ("FILESTORE_TOKEN", "FILESTORE_ENDPOINT", "FILESTORE_PROFILE"):
        monkeypatch.delenv(name, raising=False)
