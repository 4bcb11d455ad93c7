"""The `filestore` command's per-user configuration file: named profiles of endpoint and sign-in.

    $XDG_CONFIG_HOME/filestore/config.toml      (default ~/.config/filestore/config.toml)

    [profiles.default]
    endpoint = "http://127.0.0.1:8000"
    kind = "local"
    email = "ada@example.com"
    id_token = "eyJ…"
    expires_at = "2026-12-02T14:00:00+00:00"

One file holds both the endpoint and the tokens, so it is created for its owner only (mode 0600 in
a 0700 directory) and written atomically (a temporary file in the same directory, renamed over
it): a reader never sees half a file, and a command killed while writing leaves the previous one.
Read-modify-write goes under an advisory lock, so two commands refreshing tokens at once do not
lose each other's profile. Python reads TOML (`tomllib`) but does not write it; this structure
(tables of string values) is small enough for the writer below.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
import tomllib
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from filestore.entrypoints.client_errors import ClientError

Profile = dict[str, str]
"""One profile's settings: `endpoint`, `kind` (`local`/`cognito`), tokens and their expiry."""

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def config_path(environ: Mapping[str, str] | None = None) -> Path:
    """Where the configuration lives: `$XDG_CONFIG_HOME/filestore/config.toml`, else under
    `~/.config`."""
    env = os.environ if environ is None else environ
    base = env.get("XDG_CONFIG_HOME") or ""
    root = Path(base) if os.path.isabs(base) else Path.home() / ".config"
    return root / "filestore" / "config.toml"


def load_profiles(path: Path) -> dict[str, Profile]:
    """Every profile in the file (none if there is no file yet)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as error:
        raise ClientError(f"cannot read {path}: {error.strerror}") from error
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ClientError(f"{path} is not valid TOML ({error}); fix it or remove it") from error
    profiles = document.get("profiles", {})
    if not isinstance(profiles, dict):
        raise ClientError(f"{path}: `profiles` should be tables ([profiles.NAME])")
    return {
        str(name): {str(k): str(v) for k, v in table.items() if not isinstance(v, dict)}
        for name, table in profiles.items()
        if isinstance(table, dict)
    }


def update_profile(
    path: Path, name: str, change: Callable[[Profile | None], Profile | None]
) -> Profile | None:
    """Rewrite one profile: `change` gets its current settings (None if absent) and returns
    the new ones (None removes it). Returns what was stored."""
    with _locked(path):
        profiles = load_profiles(path)
        new = change(profiles.get(name))
        if new is None:
            profiles.pop(name, None)
        else:
            profiles[name] = new
        write_atomically(path, dumps({"profiles": profiles}))
        return new


def write_atomically(path: Path, text: str) -> None:
    """`text` into `path`, readable by its owner only, all or nothing."""
    _private_directory(path.parent)
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        # mkstemp creates the file 0600 already; say so anyway, where the platform can.
        if hasattr(os, "fchmod"):
            os.fchmod(handle, 0o600)
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise
    with contextlib.suppress(OSError):  # the rename's durability; not every system allows it
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)


def dumps(document: Mapping[str, Any]) -> str:
    """TOML for nested tables of strings, integers and booleans (what this file holds)."""
    lines: list[str] = []
    _table(lines, (), document)
    return "\n".join(lines).strip() + "\n"


def _table(lines: list[str], header: tuple[str, ...], table: Mapping[str, Any]) -> None:
    scalars = {k: v for k, v in table.items() if not isinstance(v, Mapping)}
    if header and (scalars or not any(isinstance(v, Mapping) for v in table.values())):
        lines += ["", "[" + ".".join(_key(part) for part in header) + "]"]
    for key, value in scalars.items():
        lines.append(f"{_key(key)} = {_value(value)}")
    for key, value in table.items():
        if isinstance(value, Mapping):
            _table(lines, (*header, key), value)


def _key(key: str) -> str:
    return key if _BARE_KEY.fullmatch(key) else _string(key)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return _string(str(value))


def _string(text: str) -> str:
    # JSON's escapes (\" \\ \n \t \uXXXX …) are all valid in a TOML basic string.
    return json.dumps(text, ensure_ascii=True)


def _private_directory(directory: Path) -> None:
    if not directory.exists():
        directory.mkdir(parents=True, mode=0o700)
    # Ours alone: someone else listing it would learn nothing, but could swap files in it.
    if directory.stat().st_mode & 0o077:
        directory.chmod(0o700)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An advisory lock beside the file (where the platform has `fcntl`)."""
    _private_directory(path.parent)
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: last writer wins
        yield
        return
    with open(path.with_name(path.name + ".lock"), "a") as lock:
        os.chmod(lock.name, 0o600)
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
