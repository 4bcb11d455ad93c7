"""A phone-sized screen (360 px wide) without sideways scrolling, the keyboard alone, and an
upload in progress (with its picture for the docs)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.web.app import screenshot, signed_in, upload
from tests.support.local_server import LocalServerProcess

pytestmark = pytest.mark.e2e

NO_SIDEWAYS_SCROLL = (
    "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth"
)


def fits(page: Page) -> bool:
    return bool(page.evaluate(NO_SIDEWAYS_SCROLL))


def test_360_pixels_wide_has_no_sideways_scrolling(
    browser: Browser, local_server: LocalServerProcess, tmp_path: Path
) -> None:
    long_name = tmp_path / ("a-very-long-file-name-without-any-spaces-at-all-" * 3 + ".txt")
    long_name.write_text("long")
    small = {"viewport": {"width": 360, "height": 740}, "device_scale_factor": 1}
    context = browser.new_context(**small)  # type: ignore[arg-type]
    try:
        page = context.new_page()
        page.goto(f"{local_server.url}/")
        expect(page.get_by_label("Email")).to_be_visible()
        assert fits(page)
    finally:
        context.close()
    with signed_in(browser, local_server, "web-narrow@example.com", **small) as (_, app):
        upload(app, long_name)
        page = app.page
        assert fits(page)
        app.row(long_name.name).get_by_role("button", name="Share").click()
        page.get_by_role("dialog").get_by_role("button", name="Create link").click()
        expect(page.get_by_role("dialog").get_by_label("Link", exact=True).first).to_be_visible()
        assert fits(page)
        page.keyboard.press("Escape")
        page.get_by_role("link", name="Trash").click()
        expect(page.get_by_text("The trash is empty.")).to_be_visible()
        assert fits(page)
        app.clean()


def test_the_keyboard_alone_signs_in_renames_and_opens_the_trash(
    browser: Browser, local_server: LocalServerProcess, tmp_path: Path
) -> None:
    plan = tmp_path / "plan.txt"
    plan.write_text("step one")
    with signed_in(browser, local_server, "web-keys@example.com") as (_, app):
        upload(app, plan)
        page = app.page
        rename = app.row("plan.txt").get_by_role("button", name="Rename")
        page.get_by_role("link", name="filestore").focus()
        for _ in range(40):  # Tab until the rename button has the focus
            if rename.evaluate("b => b === document.activeElement"):
                break
            page.keyboard.press("Tab")
        else:
            pytest.fail("Tab never reached the Rename button")
        page.keyboard.press("Enter")
        expect(page.get_by_role("dialog").get_by_label("Name")).to_be_focused()
        page.keyboard.press("Control+A")
        page.keyboard.type("plan-b.txt")
        page.keyboard.press("Enter")
        expect(app.row("plan-b.txt")).to_be_visible()
        page.keyboard.press("Escape")
        app.clean()


def test_an_upload_in_progress_shows_its_progress_and_can_be_cancelled(
    browser: Browser, local_server: LocalServerProcess, tmp_path: Path
) -> None:
    video = tmp_path / "holiday-video.mp4"
    video.write_bytes(b"\0" * 900_000)  # under the test server's multipart threshold
    with signed_in(browser, local_server, "web-progress@example.com") as (context, app):
        page = app.page
        # A slow line, so the upload is still going when we look (about 20 s at 40 KB/s).
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send(
            "Network.emulateNetworkConditions",
            {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": 40_000},
        )
        page.get_by_label("Upload", exact=True).set_input_files(str(video))
        bar = page.get_by_role("progressbar", name="Sending holiday-video.mp4")
        expect(bar).to_be_visible()
        page.wait_for_function("() => document.querySelector('.uploads progress')?.value > 50000")
        expect(page.get_by_text("KiB/s")).to_be_visible()
        # A folder whose first file is on its way is not "empty" to the person sending it.
        expect(page.get_by_text("Nothing here yet")).to_be_hidden()
        screenshot(page, "web-upload-in-progress.png")
        page.get_by_role("button", name="Cancel holiday-video.mp4").click()
        expect(page.get_by_role("status")).to_contain_text("Cancelled holiday-video.mp4")
        expect(bar).to_have_count(0)
        expect(app.row("holiday-video.mp4")).to_have_count(0)
        app.clean()
