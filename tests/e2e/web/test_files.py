"""A person's day with the web app, in a real Chromium against `filestore serve`: sign in,
upload, rename, download, share (opened by someone with no account), revoke, delete."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.web.app import screenshot, signed_in, upload, watch
from tests.support.local_server import LocalServerProcess

pytestmark = pytest.mark.e2e


def test_upload_rename_download_share_revoke_delete(
    browser: Browser, local_server: LocalServerProcess, tmp_path: Path
) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_bytes(b"The web app stores these bytes.\n" * 20)
    clipboard = {"permissions": ["clipboard-read", "clipboard-write"]}
    with signed_in(browser, local_server, "web-files@example.com", **clipboard) as (_, app):
        page = app.page
        upload(app, notes)
        row = app.row("notes.txt")
        expect(row).to_contain_text("640 B")

        row.get_by_role("button", name="Rename").click()
        dialog = page.get_by_role("dialog")
        dialog.get_by_label("Name").fill("minutes.txt")
        dialog.get_by_role("button", name="Save").click()
        expect(app.row("minutes.txt")).to_be_visible()
        expect(app.row("notes.txt")).to_have_count(0)
        row = app.row("minutes.txt")

        with page.expect_download() as download:
            row.get_by_role("button", name="Download").click()
        assert download.value.suggested_filename == "minutes.txt"
        assert Path(download.value.path()).read_bytes() == notes.read_bytes()

        row.get_by_role("button", name="Share").click()
        dialog = page.get_by_role("dialog")
        dialog.get_by_label("Expires after").select_option(label="1 hour")
        dialog.get_by_role("button", name="Create link").click()
        link = dialog.get_by_label("Link", exact=True).first
        expect(link).to_have_value(re.compile(rf"^{re.escape(local_server.url)}/s/"))
        url = link.input_value()
        dialog.get_by_role("button", name="Copy link").first.click()
        expect(page.get_by_role("status")).to_contain_text("Link copied.")
        assert page.evaluate("() => navigator.clipboard.readText()") == url
        expect(dialog.get_by_role("list", name="Live links").get_by_role("listitem")).to_have_count(
            1
        )
        # Closed by its button (Escape is the keyboard test's): the page is inert until it is.
        dialog.get_by_role("button", name="Close").click()
        expect(page.get_by_role("dialog")).to_have_count(0)

        shared = browser.new_context(accept_downloads=True)
        try:
            stranger = watch(shared.new_page(), local_server)
            stranger.page.goto(url)
            expect(stranger.page.get_by_role("heading", name="minutes.txt")).to_be_visible()
            expect(stranger.page.get_by_text("640 B")).to_be_visible()
            expect(stranger.page.get_by_text(re.compile("in (59 minutes|1 hour)"))).to_be_visible()
            screenshot(stranger.page, "web-share-page.png")
            with stranger.page.expect_download() as fetched:
                stranger.page.get_by_role("button", name="Download").click()
            assert Path(fetched.value.path()).read_bytes() == notes.read_bytes()

            row.get_by_role("button", name="Share").click()
            dialog = page.get_by_role("dialog")
            dialog.get_by_role("button", name="Revoke").click()
            expect(dialog.get_by_text("No live links.")).to_be_visible()
            dialog.get_by_role("button", name="Close").click()
            expect(page.get_by_role("dialog")).to_have_count(0)

            stranger.page.reload()
            expect(
                stranger.page.get_by_role("heading", name="This link is no longer available")
            ).to_be_visible()
            stranger.clean(expected_404s=1)  # the revoked link's lookup
        finally:
            shared.close()

        row.get_by_role("button", name="Delete").click()
        expect(app.row("minutes.txt")).to_have_count(0)
        page.get_by_role("status").get_by_role("button", name="Undo").click()
        expect(app.row("minutes.txt")).to_be_visible()
        app.row("minutes.txt").get_by_role("button", name="Delete").click()
        expect(app.row("minutes.txt")).to_have_count(0)
        page.reload()
        expect(page.locator("main[data-loaded=true]")).to_be_visible()
        expect(app.row("minutes.txt")).to_have_count(0)
        app.clean()


def test_a_large_file_goes_up_in_parts_and_comes_back_whole(
    browser: Browser, local_server: LocalServerProcess, tmp_path: Path
) -> None:
    big = tmp_path / "archive.bin"
    big.write_bytes(random.Random(14).randbytes(3 * 1024 * 1024 + 123))  # over the threshold
    with signed_in(browser, local_server, "web-parts@example.com") as (_, app):
        methods: list[str] = []
        app.page.on("request", lambda r: methods.append(r.method) if "/_blobs/" in r.url else None)
        upload(app, big)
        assert "PUT" in methods  # a multipart upload: its parts PUT, not one POST
        assert "POST" not in methods
        expect(app.row("archive.bin")).to_contain_text("3.0 MiB")
        with app.page.expect_download() as download:
            app.row("archive.bin").get_by_role("button", name="Download").click()
        assert Path(download.value.path()).read_bytes() == big.read_bytes()
        app.clean()
