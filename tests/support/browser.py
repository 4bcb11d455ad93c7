"""A real headless Chromium, driven by Playwright for Python, for the web app's tests.

The browser is found like the other services: `FILESTORE_TEST_CHROMIUM` (a path), else
Playwright's own build (if `playwright install` could fetch one), else the system's Chromium
(Debian's `chromium`, which `make test` installs where none is found). Missing, the tests fail
under `FILESTORE_REQUIRE_SERVICES=1` (CI) and skip, saying why, elsewhere.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.support.required import unavailable

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Playwright

SYSTEM_CHROMIUMS = ("chromium", "chromium-browser", "google-chrome")
# Without the background-networking flags Chromium reaches for Google's hosts at every start,
# which a closed network refuses noisily; as root it needs --no-sandbox.
LAUNCH_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
)


def find_chromium(playwright: Playwright | None = None) -> str | None:
    """The browser to drive: a path, or None when there is none."""
    configured = os.environ.get("FILESTORE_TEST_CHROMIUM")
    if configured:
        return configured if Path(configured).is_file() else None
    if playwright is not None:
        own = Path(playwright.chromium.executable_path)
        if own.is_file():
            return str(own)
    for name in SYSTEM_CHROMIUMS:
        found = shutil.which(name)
        if found:
            return found
    return None


# Module-scoped, not session-scoped: while Playwright's sync API runs, its event loop is the
# thread's running loop, and every asyncio test after it in the session would fail ("cannot be
# called from a running event loop"). Stopped after each module of browser tests, it is gone.
@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as error:
        unavailable(f"Playwright for Python is not installed ({error})")
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def chromium_path(playwright: Playwright) -> str:
    path = find_chromium(playwright)
    if path is None:
        unavailable(
            "no Chromium: set FILESTORE_TEST_CHROMIUM, or install one (apt-get install chromium)"
        )
    return path


@pytest.fixture(scope="module")
def browser(playwright: Playwright, chromium_path: str) -> Iterator[Browser]:
    """One headless Chromium per test module; each test opens contexts (fresh profiles)."""
    launched = playwright.chromium.launch(
        executable_path=chromium_path, headless=True, args=list(LAUNCH_ARGS)
    )
    try:
        yield launched
    finally:
        launched.close()
