"""The browser the web app's tests drive is real and reaches the local server."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser

from tests.support.local_server import LocalServerProcess

pytestmark = pytest.mark.e2e


def test_a_real_chromium_reads_the_local_servers_config(
    browser: Browser, local_server: LocalServerProcess
) -> None:
    context = browser.new_context()
    try:
        page = context.new_page()
        answer = page.goto(f"{local_server.url}/config.json")
        assert answer is not None and answer.status == 200
        config = page.evaluate("() => fetch('/config.json').then(r => r.json())")
        assert config["auth"]["kind"] == "local"
    finally:
        context.close()
