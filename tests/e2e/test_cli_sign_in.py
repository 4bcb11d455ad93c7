"""`filestore login`, `auth status`, `logout` as a person runs them: by e-mail against the real
`filestore serve`, and through a browser (authorization code + PKCE, loopback listener) against a
fake Cognito managed login over real HTTP on loopback (tests/support/fake_oauth). Each test has
a config home of its own (tests/support/user_config)."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from filestore.entrypoints import browser_sign_in, cli
from filestore.entrypoints.user_config import config_path, load_profiles, update_profile
from tests.support import fake_browser
from tests.support.fake_oauth import FakeOAuth, running_fake_oauth
from tests.support.local_server import LocalServerProcess, filestore

pytestmark = pytest.mark.e2e


def _ok(*args: str, env: dict[str, str] | None = None) -> str:
    done = filestore(*args, env=env)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    return done.stdout


def test_login_by_email_then_commands_need_no_token(
    local_server: LocalServerProcess, tmp_path: Path
) -> None:
    endpoint = {"FILESTORE_ENDPOINT": local_server.url}
    out = _ok("login", "--email", "lou@example.com", env=endpoint)
    assert f"Signed in to {local_server.url} as lou@example.com (profile default" in out
    path = config_path()
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert oct(path.parent.stat().st_mode & 0o777) == "0o700"

    # The profile remembers the endpoint: nothing in the environment from now on.
    (tmp_path / "notes.txt").write_text("hello")
    _ok("upload", str(tmp_path / "notes.txt"))
    assert json.loads(_ok("whoami", "--json"))["email"] == "lou@example.com"
    assert "notes.txt" in _ok("ls", "--all")

    status = _ok("auth", "status")
    assert f"endpoint: {local_server.url} (from profile default in {path})" in status
    assert "user:     lou@example.com (local sign-in)" in status

    _ok("logout")
    done = filestore("ls")
    assert done.returncode == 3
    assert "not signed in" in done.stderr and "filestore login" in done.stderr
    assert filestore("auth", "status").returncode == 3


def test_a_local_sign_in_near_its_end_signs_in_again_by_itself(
    local_server: LocalServerProcess,
) -> None:
    _ok("--endpoint", local_server.url, "--profile", "p", "login", "--email", "rene@example.com")
    soon = (datetime.now(UTC) + timedelta(seconds=90)).isoformat(timespec="seconds")
    update_profile(config_path(), "p", lambda old: {**(old or {}), "expires_at": soon})

    assert json.loads(_ok("whoami", "--json", env={"FILESTORE_PROFILE": "p"}))["email"] == (
        "rene@example.com")  # fmt: skip
    renewed = datetime.fromisoformat(load_profiles(config_path())["p"]["expires_at"])
    assert renewed > datetime.now(UTC) + timedelta(hours=1)


def test_the_environment_wins_over_the_sign_in(local_server: LocalServerProcess) -> None:
    _ok("--endpoint", local_server.url, "login", "--email", "pat@example.com")
    other = local_server.token("other@example.com")
    me = json.loads(_ok("whoami", "--json", env={"FILESTORE_TOKEN": other}))
    assert me["email"] == "other@example.com"
    status = json.loads(_ok("auth", "status", "--json", env={"FILESTORE_TOKEN": other}))
    assert (status["token_from"], status["email"]) == ("FILESTORE_TOKEN", "other@example.com")


def _on_a_terminal(args: list[str], answer: bytes, after: bytes) -> tuple[int, str]:
    """Run `filestore ARGS` on a pseudo-terminal, type `answer` once it has printed `after`;
    its exit status and everything it printed."""
    main, secondary = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "filestore.entrypoints.cli", *args],
        stdin=secondary, stdout=secondary, stderr=secondary, env=dict(os.environ),
    )  # fmt: skip
    os.close(secondary)
    seen, typed = b"", False
    try:
        while True:
            ready, _, _ = select.select([main], [], [], 60)
            assert ready, f"no output in time: {seen!r}"
            try:
                chunk = os.read(main, 4096)
            except OSError:  # EIO: the command closed the terminal
                break
            if not chunk:
                break
            seen += chunk
            if not typed and after in seen:
                os.write(main, answer)
                typed = True
    finally:
        os.close(main)
    return process.wait(timeout=60), seen.decode(errors="replace")


def test_login_asks_for_the_email_on_a_terminal(local_server: LocalServerProcess) -> None:
    code, printed = _on_a_terminal(
        ["--endpoint", local_server.url, "login"], b"tess@example.com\n", after=b"E-mail: "
    )
    assert code == 0, printed
    assert "Signed in" in printed and "as tess@example.com" in printed
    assert load_profiles(config_path())["default"]["email"] == "tess@example.com"


def test_login_without_an_email_and_no_terminal_says_what_to_give(
    local_server: LocalServerProcess,
) -> None:
    done = filestore("--endpoint", local_server.url, "login")
    assert done.returncode == 1
    assert "give --email" in done.stderr


def test_login_to_something_that_is_not_filestore_says_so() -> None:
    with running_fake_oauth() as oauth:
        done = filestore("--endpoint", f"{oauth.url}/nothing-here", "login")
    assert done.returncode == 1
    assert "is it a filestore endpoint?" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("config", "says"),
    [
        ({"kind": "local", "sign_in_url": None}, "offers no password-free sign-in"),
        ({"authorize_url": None}, "this deployment has no sign-in page"),
    ],
)
def test_a_server_that_offers_no_sign_in_says_what_to_do_instead(
    config: dict[str, object], says: str
) -> None:
    with running_fake_oauth() as oauth:
        oauth.config_changes = config
        done = filestore("--endpoint", oauth.url, "login", "--email", "a@example.com")
    assert done.returncode == 1
    assert says in done.stderr and "FILESTORE_TOKEN" in done.stderr
    assert "Traceback" not in done.stderr


# Through a browser, against the fake managed login.

Browser = Callable[[str], bool]


@pytest.fixture
def oauth(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOAuth]:
    monkeypatch.setenv("BROWSER", "the test's")  # a browser is available here
    with running_fake_oauth() as server:
        yield server


def _with_browser(monkeypatch: pytest.MonkeyPatch, browser: Browser) -> None:
    monkeypatch.setattr(browser_sign_in.webbrowser, "open", browser)


def _follow(url: str) -> bool:
    """A browser at the sign-in page: the user signs in, it goes where it is sent."""
    return httpx.get(url, follow_redirects=True, timeout=30).status_code == 200


def _main(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli.main(list(args))
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def test_browser_sign_in_with_pkce_then_refresh_and_revoke(
    oauth: FakeOAuth, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    oauth.id_token_seconds = 60  # shorter than the renewal margin: every use refreshes
    visited: list[str] = []
    landed: list[httpx.Response] = []

    def browser(url: str) -> bool:
        visited.append(url)
        landed.append(httpx.get(url, follow_redirects=True, timeout=30))
        return True

    _with_browser(monkeypatch, browser)

    code, out, err = _main(capsys, "--endpoint", oauth.url, "login")
    assert code == 0, err
    assert f"Signed in to {oauth.url} as ada@example.com" in out
    query = parse_qs(urlsplit(visited[0]).query)
    assert query["code_challenge_method"] == ["S256"]
    assert query["redirect_uri"] == [oauth.redirect_uri]
    assert visited[0] in err  # the address is printed too, for a browser that did not open
    assert landed[0].status_code == 200 and "You can close this tab" in landed[0].text
    first = load_profiles(config_path())["default"]
    assert first["kind"] == "cognito" and first["refresh_token"] in oauth.refresh_tokens

    code, out, _ = _main(capsys, "auth", "status", "--json")
    status = json.loads(out)
    assert code == 0
    assert (status["kind"], status["email"], status["renews"]) == (
        "cognito", "ada@example.com", True)  # fmt: skip

    code, out, err = _main(capsys, "whoami", "--json")
    assert code == 0, err
    assert json.loads(out)["email"] == "ada@example.com"
    assert oauth.grants == ["authorization_code", "refresh_token"]
    second = load_profiles(config_path())["default"]
    assert second["refresh_token"] != first["refresh_token"]  # rotated, and the new one kept
    assert first["refresh_token"] not in oauth.refresh_tokens

    code, out, _ = _main(capsys, "logout")
    assert code == 0
    assert oauth.revoked == [second["refresh_token"]]
    assert load_profiles(config_path())["default"] == {"endpoint": oauth.url}
    assert _main(capsys, "whoami")[0] == 3


def test_an_answer_with_another_state_is_refused(
    oauth: FakeOAuth, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pages: list[httpx.Response] = []

    def forging_browser(url: str) -> bool:
        redirect = httpx.get(url).headers["location"]
        parts = urlsplit(redirect)
        forged = {**parse_qs(parts.query), "state": ["forged"]}
        pages.append(httpx.get(parts._replace(query=urlencode(forged, doseq=True)).geturl()))
        return True

    _with_browser(monkeypatch, forging_browser)
    code, _, err = _main(capsys, "--endpoint", oauth.url, "login")
    assert code == 3
    assert "state does not match" in err
    assert pages[0].status_code == 400 and "Sign-in failed" in pages[0].text
    assert oauth.grants == []  # the code was never exchanged
    assert "default" not in load_profiles(config_path())


def test_a_code_issued_for_another_challenge_is_refused(
    oauth: FakeOAuth, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def substituting_browser(url: str) -> bool:
        # Someone swapped the challenge: the code is bound to a verifier the command lacks.
        parts = urlsplit(url)
        query = {**parse_qs(parts.query), "code_challenge": ["A" * 43]}
        return _follow(parts._replace(query=urlencode(query, doseq=True)).geturl())

    _with_browser(monkeypatch, substituting_browser)
    code, _, err = _main(capsys, "--endpoint", oauth.url, "login")
    assert code == 3
    assert "the sign-in was refused: invalid_grant" in err
    assert oauth.grants == ["authorization_code"]
    assert "default" not in load_profiles(config_path())


def test_no_browser_reads_the_pasted_address(
    oauth: FakeOAuth, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    shown: list[str] = []
    real = browser_sign_in.authorize_url
    monkeypatch.setattr(browser_sign_in, "authorize_url",
                        lambda *a: shown.append(real(*a)) or shown[-1])  # fmt: skip

    def paste(prompt: str) -> str:
        # Signed in on another machine: its browser could not load the redirect; copy it.
        return str(httpx.get(shown[0]).headers["location"])

    monkeypatch.setattr("builtins.input", paste)
    _with_browser(monkeypatch, lambda url: pytest.fail("no browser should open"))
    code, _, err = _main(capsys, "--endpoint", oauth.url, "--profile", "aws", "login",
                           "--no-browser")  # fmt: skip
    assert code == 0, err
    assert shown[0] in err and "paste" in err
    assert load_profiles(config_path())["aws"]["email"] == "ada@example.com"


def test_a_real_browser_command_from_the_environment_is_used(oauth: FakeOAuth) -> None:
    browser = f"{sys.executable} {Path(fake_browser.__file__)} %s"
    done = filestore("--endpoint", oauth.url, "login", env={"BROWSER": browser})
    assert done.returncode == 0, done.stderr
    assert "Signed in" in done.stdout
    assert json.loads(_ok("whoami", "--json"))["email"] == "ada@example.com"
