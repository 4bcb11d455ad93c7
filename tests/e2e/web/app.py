"""Driving the web app in a real Chromium: a signed-in page that records what should never
happen (console errors, uncaught exceptions, requests to any host but the server's)."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Locator, Page, expect

from tests.support.local_server import LocalServerProcess

IMAGES = Path(__file__).resolve().parents[3] / "docs" / "images"
SCRATCH = Path(tempfile.gettempdir()) / "filestore-web-screenshots"
TIMEOUT_MS = 30_000


@dataclass
class Watched:
    """A page and what it did that it should not have."""

    page: Page
    server: LocalServerProcess
    errors: list[str] = field(default_factory=list)
    elsewhere: list[str] = field(default_factory=list)

    def row(self, name: str) -> Locator:
        """The row of the file list (or the trash) holding `name`."""
        lists = self.page.get_by_role("list", name=re.compile(r"^(Files|Trash)$"))
        return lists.get_by_role("listitem").filter(has=self.page.locator(".name", has_text=name))

    def clean(
        self, expected_404s: int = 0, expected_401s: range = range(1), expected_413s: int = 0
    ) -> None:
        """No console errors, no uncaught exceptions, no request to another host.

        Chromium logs every answer of 400 and above to the console, even one the page expected
        and handled: `expected_404s` 404s (a gone share link), `expected_413s` 413s (a full
        account) and a number of 401s in `expected_401s` (calls that found the session expired,
        before it was renewed) pass.
        """
        failed = "Failed to load resource: the server responded with a status of "
        counts = {
            status: sum(e.startswith(f"{failed}{status} ") for e in self.errors)
            for status in (401, 404, 413)
        }
        allowed = tuple(f"{failed}{status} " for status in counts)
        errors = [e for e in self.errors if not e.startswith(allowed)]
        assert errors == [], self.errors
        assert counts[404] == expected_404s, self.errors
        assert counts[413] == expected_413s, self.errors
        assert counts[401] in expected_401s, self.errors
        assert self.elsewhere == [], self.elsewhere


def watch(page: Page, server: LocalServerProcess) -> Watched:
    watched = Watched(page, server)
    own = urlsplit(server.url).netloc
    page.set_default_timeout(TIMEOUT_MS)
    expect.set_options(timeout=TIMEOUT_MS)

    def console(message: ConsoleMessage) -> None:
        if message.type == "error":
            watched.errors.append(message.text)

    def away(url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("data", "blob") and parts.netloc != own:
            watched.elsewhere.append(url)

    page.on("console", console)
    page.on("pageerror", lambda error: watched.errors.append(str(error)))
    page.on("request", lambda request: away(request.url))
    page.on("websocket", lambda socket: away(socket.url))
    return watched


@contextmanager
def signed_in(
    browser: Browser, server: LocalServerProcess, email: str, **context_options: object
) -> Iterator[tuple[BrowserContext, Watched]]:
    """A fresh browser profile signed in as `email` through the app's form, list shown."""
    context = browser.new_context(accept_downloads=True, **context_options)  # type: ignore[arg-type]
    try:
        page = watch(context.new_page(), server)
        sign_in(page, email)
        yield context, page
    finally:
        context.close()


def sign_in(watched: Watched, email: str) -> None:
    page = watched.page
    page.goto(f"{watched.server.url}/")
    page.get_by_label("Email").fill(email)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("main[data-loaded=true]")).to_be_visible()
    expect(page.get_by_text(email)).to_be_visible()


def upload(watched: Watched, *paths: Path) -> None:
    """Choose files with the "Upload" picker and wait until each is listed."""
    watched.page.get_by_label("Upload", exact=True).set_input_files([str(p) for p in paths])
    for path in paths:
        expect(watched.row(path.name)).to_be_visible()


def screenshot(page: Page, name: str) -> None:
    """A picture of the page for the docs, without the passing messages over it: written to
    docs/images/ with FILESTORE_UPDATE_SCREENSHOTS=1 (every run would change them: dates),
    else to a temporary folder (still taken, so a page that cannot be pictured fails)."""
    dismiss = page.get_by_role("status").get_by_role("button", name="Dismiss")
    while dismiss.count():
        dismiss.first.click()
    folder = IMAGES if os.environ.get("FILESTORE_UPDATE_SCREENSHOTS") == "1" else SCRATCH
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / name))
