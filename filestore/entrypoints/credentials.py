"""Which endpoint and which token a `filestore` command uses, and where each came from.

Precedence, first found wins:
- profile: `--profile NAME`, `FILESTORE_PROFILE`, else `default`;
- endpoint: `--endpoint`, `FILESTORE_ENDPOINT`, the profile's `endpoint`, else
  `http://127.0.0.1:8000` (the local server);
- token: `--token`, `FILESTORE_TOKEN`, else the profile's sign-in, renewed by itself when it
  is a few minutes from expiry (Cognito's refresh token, or the local sign-in again with the
  profile's e-mail). A profile's token is only ever sent to that profile's endpoint.
"""

from __future__ import annotations

import argparse
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from filestore.entrypoints import sign_in
from filestore.entrypoints.client_errors import ClientError
from filestore.entrypoints.user_config import Profile, config_path, load_profiles, update_profile

if TYPE_CHECKING:
    import httpx

    from filestore.entrypoints.client import Client

DEFAULT_PROFILE = "default"
DEFAULT_ENDPOINT = "http://127.0.0.1:8000"
RENEW_BEFORE = timedelta(minutes=5)  # renew a token this long before it expires
NOT_SIGNED_IN = sign_in.NOT_SIGNED_IN


@dataclass(frozen=True)
class Resolved:
    """A command's profile, endpoint and token, each with where it came from."""

    profile: str
    profile_from: str  # "--profile", "FILESTORE_PROFILE" or "default"
    endpoint: str
    endpoint_from: str  # "--endpoint", "FILESTORE_ENDPOINT", "profile" or "default"
    given_token: str | None  # from --token or FILESTORE_TOKEN
    bearer_from: str | None  # "--token", "FILESTORE_TOKEN", "profile" or None (not signed in)
    stored: Profile | None  # the profile as the config file holds it
    path: Path  # the config file

    def login_command(self) -> str:
        """The `filestore login …` that signs in to this profile and endpoint."""
        words = ["filestore login"]
        if self.profile != DEFAULT_PROFILE:
            words.append(f"--profile {self.profile}")
        if self.endpoint_from in ("--endpoint", "FILESTORE_ENDPOINT") and (
            self.endpoint != DEFAULT_ENDPOINT or (self.stored or {}).get("endpoint")
        ):
            words.append(f"--endpoint {self.endpoint}")
        return " ".join(words)


def resolve(args: argparse.Namespace, environ: Mapping[str, str] | None = None) -> Resolved:
    """Resolve the command line (`args.profile`, `args.endpoint`, `args.token`; absent or None
    when not given) against the environment and the config file."""
    env = os.environ if environ is None else environ
    path = config_path(env)
    profile, profile_from = _first(
        (getattr(args, "profile", None), "--profile"),
        (env.get("FILESTORE_PROFILE"), "FILESTORE_PROFILE"),
        (DEFAULT_PROFILE, "default"),
    )
    stored = load_profiles(path).get(profile)
    endpoint, endpoint_from = _first(
        (getattr(args, "endpoint", None), "--endpoint"),
        (env.get("FILESTORE_ENDPOINT"), "FILESTORE_ENDPOINT"),
        ((stored or {}).get("endpoint"), "profile"),
        (DEFAULT_ENDPOINT, "default"),
    )
    endpoint = endpoint.rstrip("/")
    given, bearer_from = _first(
        (getattr(args, "token", None), "--token"),
        (env.get("FILESTORE_TOKEN"), "FILESTORE_TOKEN"),
    )
    if not given:
        bearer_from = "profile" if _signed_in(stored, endpoint) else ""
    return Resolved(
        profile, profile_from, endpoint, endpoint_from, given or None, bearer_from or None,
        stored, path,
    )  # fmt: skip


def connection(args: argparse.Namespace) -> tuple[str, GivenToken | StoredSignIn | NoSignIn]:
    """The endpoint and the token provider a client command uses (a ClientError if the config
    file cannot be read)."""
    resolved = resolve(args)
    return resolved.endpoint, token_provider(resolved)


def client_for(args: argparse.Namespace, **options: Any) -> Client:
    """The API client for a command: the resolved endpoint, and a token renewed as needed;
    `options` go to `Client` (`progress`)."""
    from filestore.entrypoints import client

    endpoint, token = connection(args)
    return client.Client(endpoint, token, **options)


def token_provider(resolved: Resolved) -> GivenToken | StoredSignIn | NoSignIn:
    """What gives a command its token: the one given, the profile's sign-in, or a hint."""
    if resolved.given_token is not None:
        return GivenToken(resolved.given_token, resolved.bearer_from or "--token")
    if resolved.bearer_from == "profile" and resolved.stored is not None:
        return StoredSignIn(resolved)
    return NoSignIn(resolved)


class GivenToken:
    """A token from `--token` or `FILESTORE_TOKEN`: used as it is; an expired one is named."""

    def __init__(self, token: str, source: str) -> None:
        self.token, self.source = token, source
        self.refused_hint = (
            f"the token from {source} was refused; get a new one, or unset {source} "
            "and sign in with `filestore login`"
            if source == "FILESTORE_TOKEN"
            else "the token from --token was refused; get a new one or sign in with "
            "`filestore login`"
        )

    def __call__(self) -> str:
        expiry = sign_in.expires_at(self.token)
        if expiry is not None and expiry <= datetime.now(UTC):
            raise ClientError(
                f"the token from {self.source} expired {describe_time(expiry)}; "
                + self.refused_hint.split("; ", 1)[1],
                status=NOT_SIGNED_IN,
            )
        return self.token


class NoSignIn:
    """No token at all: every call says how to sign in."""

    def __init__(self, resolved: Resolved) -> None:
        self.resolved = resolved
        self.refused_hint = f"sign in with `{resolved.login_command()}`"

    def __call__(self) -> str:
        stored = self.resolved.stored or {}
        where = self.resolved.endpoint
        if stored.get("id_token") and stored.get("endpoint", "").rstrip("/") != where:
            raise ClientError(
                f"profile {self.resolved.profile} is signed in to {stored['endpoint']}, not "
                f"{where}; sign in there with `{self.resolved.login_command()}`",
                status=NOT_SIGNED_IN,
            )
        raise ClientError(
            f"not signed in to {where}: run `{self.resolved.login_command()}` "
            "(or pass --token or set FILESTORE_TOKEN)",
            status=NOT_SIGNED_IN,
        )


class StoredSignIn:
    """The profile's token, renewed (and saved) when it is `RENEW_BEFORE` from expiry.

    Callable from several threads at once (parts upload in parallel); one of them renews.
    """

    def __init__(self, resolved: Resolved, transport: httpx.BaseTransport | None = None) -> None:
        self.resolved, self.transport = resolved, transport
        self.profile: Profile = dict(resolved.stored or {})
        self.refused_hint = (
            f"the server refused your sign-in; sign in again with `{resolved.login_command()}`"
        )
        self._lock = threading.Lock()

    def __call__(self) -> str:
        with self._lock:
            if _due(self.profile):
                self.profile = self._renewed()
            return self.profile["id_token"]

    def _renewed(self) -> Profile:
        import httpx

        # Another command may have renewed it already: use theirs rather than renew twice
        # (and, with Cognito's rotation, rather than spend a refresh token they replaced).
        latest = load_profiles(self.resolved.path).get(self.resolved.profile) or {}
        if latest.get("endpoint") == self.profile.get("endpoint") and not _due(latest):
            return latest
        current = latest if latest.get("endpoint") == self.profile.get("endpoint") else self.profile
        try:
            with httpx.Client(timeout=30, transport=self.transport) as http:
                renewed = sign_in.refresh(http, current)
        except ClientError as error:
            expiry = _expiry(current)
            if expiry is not None and expiry > datetime.now(UTC):
                return current  # still good for a few minutes: try again next time
            raise ClientError(
                f"your sign-in to {self.resolved.endpoint} expired {describe_time(expiry)} "
                f"and could not be renewed ({error}); sign in again with "
                f"`{self.resolved.login_command()}`",
                status=NOT_SIGNED_IN,
            ) from error
        update_profile(self.resolved.path, self.resolved.profile, lambda _old: renewed)
        return renewed


def describe_time(when: datetime | None) -> str:
    """`at 14:05 CET (3 min ago)` in the local time zone; `at an unknown time` for None."""
    if when is None:
        return "at an unknown time"
    local = when.astimezone()
    now = datetime.now(UTC)
    minutes = round(abs((when - now).total_seconds()) / 60)
    span = f"{minutes} min" if minutes < 120 else f"{minutes // 60} h {minutes % 60} min"
    relative = f"in {span}" if when > now else f"{span} ago"
    day = "%H:%M" if local.date() == datetime.now().astimezone().date() else "%Y-%m-%d %H:%M"
    return f"at {local.strftime(day + ' %Z')} ({relative})"


def stored_expiry(profile: Profile | None) -> datetime | None:
    """When a profile's token expires, if it says."""
    return _expiry(profile or {})


def renewable(profile: Profile | None) -> bool:
    """Whether a profile's sign-in renews itself (a refresh token, or a local e-mail)."""
    profile = profile or {}
    if profile.get("kind") == "cognito":
        return bool(profile.get("refresh_token"))
    return bool(profile.get("kind") == "local" and profile.get("email"))


def _signed_in(stored: Profile | None, endpoint: str) -> bool:
    return bool(
        stored and stored.get("id_token") and stored.get("endpoint", "").rstrip("/") == endpoint
    )


def _due(profile: Profile) -> bool:
    expiry = _expiry(profile)
    return expiry is None or expiry - RENEW_BEFORE <= datetime.now(UTC)


def _expiry(profile: Profile) -> datetime | None:
    try:
        when = datetime.fromisoformat(profile.get("expires_at", ""))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _first(*candidates: tuple[str | None, str]) -> tuple[str, str]:
    for value, source in candidates:
        if value:
            return value, source
    return "", ""
