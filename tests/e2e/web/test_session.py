"""Sessions and trouble: an expired token is renewed without losing the page, sign-out signs
out, and going offline is said plainly."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.web.app import signed_in, upload
from tests.support.local_server import LocalServerProcess

pytestmark = pytest.mark.e2e

BROKEN = """() => {
    const state = JSON.parse(sessionStorage.getItem('filestore.session'));
    state.token = state.token.slice(0, -4) + 'AAAA';  // the signature no longer checks out
    sessionStorage.setItem('filestore.session', JSON.stringify(state));
}"""


def test_an_expired_session_is_renewed_and_nothing_is_lost(
    browser: Browser, local_server: LocalServerProcess, tmp_path: Path
) -> None:
    draft = tmp_path / "draft.txt"
    draft.write_text("words")
    with signed_in(browser, local_server, "web-session@example.com") as (_, app):
        upload(app, draft)
        app.page.evaluate(BROKEN)
        # Not reloaded: the module keeps its copy; a reload reads the broken one back.
        app.page.reload()
        expect(app.row("draft.txt")).to_be_visible()  # the 401 led to a fresh sign-in
        app.row("draft.txt").get_by_role("button", name="Rename").click()
        app.page.get_by_role("dialog").get_by_label("Name").fill("essay.txt")
        app.page.get_by_role("dialog").get_by_role("button", name="Save").click()
        expect(app.row("essay.txt")).to_be_visible()
        app.clean(expected_401s=range(1, 6))  # the first calls, in parallel


def test_sign_out_and_offline(browser: Browser, local_server: LocalServerProcess) -> None:
    with signed_in(browser, local_server, "web-offline@example.com") as (context, app):
        context.set_offline(True)
        app.page.get_by_role("button", name="New folder").click()
        app.page.get_by_role("dialog").get_by_label("Name").fill("Later")
        app.page.get_by_role("dialog").get_by_role("button", name="Create").click()
        expect(app.page.get_by_role("alert")).to_contain_text("You are offline")
        context.set_offline(False)
        expect(app.page.get_by_role("status")).to_contain_text("Back online")
        app.page.get_by_role("button", name="Sign out").click()
        expect(app.page.get_by_label("Email")).to_be_visible()
        app.page.reload()
        expect(app.page.get_by_label("Email")).to_be_visible()  # the session is gone
        assert [e for e in app.errors if "ERR_INTERNET_DISCONNECTED" not in e] == []
        assert app.elsewhere == []
