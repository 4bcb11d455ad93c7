"""Live: what changes elsewhere (another tab, the CLI) shows without a reload; and a second
person sees none of the first one's files."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.journeys import api, stored, upload_bytes
from tests.e2e.web.app import sign_in, signed_in, upload, watch
from tests.support.local_server import LocalServerProcess

pytestmark = pytest.mark.e2e


def test_a_second_tab_sees_changes_live(
    browser: Browser, local_server: LocalServerProcess, tmp_path: Path
) -> None:
    email = "web-live@example.com"
    with signed_in(browser, local_server, email) as (context, first):
        # A second tab of the same profile: sessionStorage is per tab, so it signs in too.
        second = watch(context.new_page(), local_server)
        sign_in(second, email)
        expect(second.page.locator("body[data-live=open]")).to_be_attached()

        report = tmp_path / "report.txt"
        report.write_text("quarterly numbers")
        upload(first, report)
        expect(second.row("report.txt")).to_be_visible()

        first.row("report.txt").get_by_role("button", name="Rename").click()
        first.page.get_by_role("dialog").get_by_label("Name").fill("final.txt")
        first.page.get_by_role("dialog").get_by_role("button", name="Save").click()
        expect(second.row("final.txt")).to_be_visible()
        expect(second.row("report.txt")).to_have_count(0)

        # A file the CLI (here: the API, as the CLI calls it) uploads appears in both tabs.
        client = api(local_server, local_server.token(email))
        sent = upload_bytes(client, "from-the-cli.txt", b"sent by a program")
        stored(client, sent["id"])
        expect(first.row("from-the-cli.txt")).to_be_visible()
        expect(second.row("from-the-cli.txt")).to_be_visible()

        second.row("final.txt").get_by_role("button", name="Delete").click()
        expect(first.row("final.txt")).to_have_count(0)
        first.clean()
        second.clean()


def test_a_second_person_sees_none_of_the_first_ones_files(
    browser: Browser, local_server: LocalServerProcess, tmp_path: Path
) -> None:
    private = tmp_path / "private-diary.txt"
    private.write_text("dear diary")
    with signed_in(browser, local_server, "web-alice@example.com") as (_, alice):
        upload(alice, private)
        with signed_in(browser, local_server, "web-bob@example.com") as (_, bob):
            expect(bob.page.get_by_text("Nothing here yet")).to_be_visible()
            expect(bob.row("private-diary.txt")).to_have_count(0)
            bob.page.get_by_label("Search").fill("diary")
            expect(bob.page.get_by_text("Search: “diary”")).to_be_visible()
            expect(bob.page.locator("main[data-loaded=true]")).to_be_visible()
            expect(bob.row("private-diary.txt")).to_have_count(0)
            bob.page.goto(f"{local_server.url}/#/trash")
            expect(bob.page.get_by_text("The trash is empty.")).to_be_visible()
            bob.clean()
        alice.clean()
