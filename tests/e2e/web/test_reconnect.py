"""The live connection comes back by itself: the server restarts, the page reconnects, catches
up on what it missed, and hears what happens next."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.journeys import api, stored, upload_bytes
from tests.e2e.web.app import signed_in
from tests.support.local_server import LocalServerProcess

pytestmark = pytest.mark.e2e


def test_the_socket_reconnects_after_a_restart_and_catches_up(
    browser: Browser, local_server: LocalServerProcess, tmp_path: Path
) -> None:
    email = "web-reconnect@example.com"
    with signed_in(browser, local_server, email) as (_, app):
        page = app.page
        expect(page.locator("body[data-live=open]")).to_be_attached()
        local_server.stop()
        expect(page.locator("body[data-live=closed]")).to_be_attached()
        local_server.start()  # same data dir, same port
        client = api(local_server, local_server.token(email))
        missed = upload_bytes(client, "while-away.txt", b"sent while the page was cut off")
        stored(client, missed["id"])
        expect(page.locator("body[data-live=open]")).to_be_attached(timeout=60_000)
        expect(app.row("while-away.txt")).to_be_visible()  # caught up on reconnecting
        later = upload_bytes(client, "after.txt", b"sent once connected again")
        stored(client, later["id"])
        expect(app.row("after.txt")).to_be_visible()
        # While the server was down the browser logged its failed attempts to reconnect;
        # nothing else may have gone wrong.
        refused = [e for e in app.errors if e.startswith("WebSocket connection to")]
        app.errors[:] = [e for e in app.errors if e not in refused]
        app.clean()
