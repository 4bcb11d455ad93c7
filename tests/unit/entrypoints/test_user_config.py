"""The per-user config file: where it lives, what it holds, who can read it, and that a write is
all or nothing."""

from __future__ import annotations

import stat
import tomllib
from pathlib import Path

import pytest

from filestore.entrypoints import user_config
from filestore.entrypoints.client_errors import ClientError
from filestore.entrypoints.user_config import (
    config_path,
    dumps,
    load_profiles,
    update_profile,
    write_atomically,
)


def test_the_file_lives_under_xdg_config_home_else_under_dot_config(tmp_path: Path) -> None:
    assert config_path({"XDG_CONFIG_HOME": str(tmp_path)}) == tmp_path / "filestore/config.toml"
    home = Path.home()
    assert config_path({}) == home / ".config/filestore/config.toml"
    # The XDG spec: a relative value is invalid and ignored.
    assert config_path({"XDG_CONFIG_HOME": "relative"}) == home / ".config/filestore/config.toml"


def test_profiles_round_trip_through_toml_whatever_their_names_and_values(tmp_path: Path) -> None:
    path = tmp_path / "filestore" / "config.toml"
    odd = 'quote " backslash \\ newline \n tab \t é ✓'
    update_profile(path, "default", lambda old: {"endpoint": "http://127.0.0.1:8000"})
    update_profile(path, "work space.é", lambda old: {"endpoint": "https://x", "email": odd})

    assert load_profiles(path) == {
        "default": {"endpoint": "http://127.0.0.1:8000"},
        "work space.é": {"endpoint": "https://x", "email": odd},
    }
    text = path.read_text()
    assert "[profiles.default]" in text
    assert tomllib.loads(text)["profiles"]["work space.é"]["email"] == odd


def test_dumps_writes_nested_tables_and_scalars() -> None:
    text = dumps({"version": 1, "on": True, "profiles": {"a": {"x": "1"}, "empty": {}}})
    assert tomllib.loads(text) == {
        "version": 1, "on": True, "profiles": {"a": {"x": "1"}, "empty": {}}
    }  # fmt: skip


def test_updating_one_profile_keeps_the_others_and_none_removes_it(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    update_profile(path, "a", lambda old: {"endpoint": "http://a"})
    update_profile(path, "b", lambda old: {"endpoint": "http://b"})
    seen: list[object] = []
    update_profile(path, "a", lambda old: seen.append(old))  # returns None: removes it
    assert seen == [{"endpoint": "http://a"}]
    assert load_profiles(path) == {"b": {"endpoint": "http://b"}}


def test_the_file_is_its_owners_alone_and_so_is_its_directory(tmp_path: Path) -> None:
    path = tmp_path / "config-home" / "filestore" / "config.toml"
    update_profile(path, "default", lambda old: {"id_token": "secret"})
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_a_loose_file_or_directory_is_tightened_when_written(tmp_path: Path) -> None:
    directory = tmp_path / "filestore"
    directory.mkdir(mode=0o755)
    directory.chmod(0o755)
    path = directory / "config.toml"
    path.write_text("")
    path.chmod(0o644)
    update_profile(path, "default", lambda old: {"id_token": "secret"})
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700


def test_a_write_that_fails_leaves_the_previous_file_and_no_litter(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "filestore" / "config.toml"
    update_profile(path, "default", lambda old: {"endpoint": "http://before"})
    before = path.read_bytes()

    def crash(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(user_config.os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        write_atomically(path, "garbage")
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == ["config.toml", "config.toml.lock"]


def test_no_file_is_no_profiles_and_a_broken_one_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    assert load_profiles(path) == {}
    path.write_text("[profiles.default\nendpoint = ")
    with pytest.raises(ClientError, match=r"config.toml is not valid TOML .*fix it or remove it"):
        load_profiles(path)
    path.write_text('profiles = "nope"\n')
    with pytest.raises(ClientError, match="should be tables"):
        load_profiles(path)


def test_a_file_written_by_hand_is_read(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[profiles.default]\nendpoint = "http://h:1"\n\n[profiles.work]\n'
                    "endpoint = 'https://api.example.com'\n")  # fmt: skip
    assert load_profiles(path) == {
        "default": {"endpoint": "http://h:1"}, "work": {"endpoint": "https://api.example.com"}
    }  # fmt: skip
