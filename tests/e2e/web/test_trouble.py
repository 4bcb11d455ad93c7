"""Trouble a person meets: an expired token is renewed without losing the page, sign-out signs
out, and going offline is said plainly."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Route, expect

from tests.e2e.web.app import signed_in, upload, watch
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


def test_over_quota_is_said_plainly_and_the_notification_switch_sticks(
    browser: Browser, local_server: LocalServerProcess, tmp_path: Path
) -> None:
    movie = tmp_path / "movie.mkv"
    movie.write_bytes(b"frames")
    refusal = (
        "This upload needs 6 bytes but only 0 of your 10 bytes are free; delete some files first."
    )

    def over_quota(route: Route) -> None:
        # A full account, as the API answers it (a real one would take 10 GB to fill).
        if route.request.method == "POST":
            route.fulfill(status=413, json={"message": refusal})
        else:
            route.fallback()

    with signed_in(browser, local_server, "web-quota@example.com") as (_, app):
        app.page.route("**/uploads", over_quota)
        app.page.get_by_label("Upload", exact=True).set_input_files(str(movie))
        expect(app.page.get_by_role("alert")).to_contain_text(f"movie.mkv: {refusal}")
        expect(app.row("movie.mkv")).to_have_count(0)

        switch = app.page.get_by_role("switch", name="Email me when a file is stored")
        expect(switch).not_to_be_checked()
        switch.check()
        expect(switch).to_be_checked()
        app.page.reload()
        expect(app.page.locator("main[data-loaded=true]")).to_be_visible()
        expect(switch).to_be_checked()  # the server kept it (PATCH /me)
        app.clean(expected_413s=1)


def test_a_server_without_browser_sign_in_takes_a_pasted_token(
    browser: Browser, local_server: LocalServerProcess
) -> None:
    # As a server on a network address answers without --open-sign-in.
    config = {
        "api_url": "",
        "ws_url": local_server.url.replace("http", "ws") + "/ws",
        "auth": {"kind": "local", "sign_in_url": None},
    }
    context = browser.new_context()
    try:
        app = watch(context.new_page(), local_server)
        app.page.route("**/config.json", lambda route: route.fulfill(json=config))
        app.page.goto(f"{local_server.url}/")
        app.page.get_by_label("Token").fill("not a token")
        app.page.get_by_role("button", name="Sign in").click()
        expect(app.page.get_by_role("alert").filter(has_text="That is not a token")).to_be_visible()
        app.page.get_by_label("Token").fill(local_server.token("web-pasted@example.com"))
        app.page.get_by_role("button", name="Sign in").click()
        expect(app.page.locator("main[data-loaded=true]")).to_be_visible()
        expect(app.page.get_by_text("web-pasted@example.com")).to_be_visible()
        app.clean()
    finally:
        context.close()
