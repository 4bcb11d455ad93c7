"""Organizing in the web app: folders with breadcrumbs, moving files (the Move dialog and drag
onto a folder), the trash with restore and delete forever, search, and sorting by column."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.web.app import Watched, screenshot, signed_in, upload
from tests.support.local_server import LocalServerProcess

pytestmark = pytest.mark.e2e


def names(app: Watched) -> list[str]:
    return app.page.locator("ul.files > li.file .name").all_inner_texts()


def new_folder(app: Watched, name: str) -> None:
    app.page.get_by_role("button", name="New folder").click()
    dialog = app.page.get_by_role("dialog")
    dialog.get_by_label("Name").fill(name)
    dialog.get_by_role("button", name="Create").click()
    expect(app.row(name)).to_be_visible()


def test_folders_moves_trash_search_and_sorting(
    browser: Browser, local_server: LocalServerProcess, tmp_path: Path
) -> None:
    files = {"b-budget.csv": 3000, "a-agenda.txt": 10, "c-photo.jpg": 200}
    paths = []
    for name, size in files.items():
        (tmp_path / name).write_bytes(b"x" * size)
        paths.append(tmp_path / name)
    with signed_in(browser, local_server, "web-folders@example.com") as (_, app):
        page = app.page
        for path in paths:  # one at a time, so the dates are in this order
            upload(app, path)
        assert names(app) == ["c-photo.jpg", "a-agenda.txt", "b-budget.csv"]  # newest first

        page.get_by_role("button", name="Sort by name").click()
        expect(page.locator("ul.files > li.file .name").first).to_have_text("a-agenda.txt")
        assert names(app) == ["a-agenda.txt", "b-budget.csv", "c-photo.jpg"]
        page.get_by_role("button", name="Sort by name").click()  # again: Z to A
        expect(page.locator("ul.files > li.file .name").first).to_have_text("c-photo.jpg")
        page.get_by_role("button", name="Sort by size").click()  # largest first
        expect(page.locator("ul.files > li.file .name").first).to_have_text("b-budget.csv")
        assert names(app) == ["b-budget.csv", "c-photo.jpg", "a-agenda.txt"]

        new_folder(app, "Work")
        page.get_by_role("button", name="Sort by date").click()
        expect(page.locator("ul.files > li.file .name").first).to_have_text("c-photo.jpg")
        screenshot(page, "web-file-browser.png")
        app.row("b-budget.csv").get_by_role("button", name="Move").click()
        picker = page.get_by_role("dialog")
        picker.get_by_role("button", name="Work").click()
        expect(picker.get_by_text("In: All files / Work")).to_be_visible()
        picker.get_by_role("button", name="Move here").click()
        expect(app.row("b-budget.csv")).to_have_count(0)

        app.row("a-agenda.txt").drag_to(app.row("Work"))
        expect(app.row("a-agenda.txt")).to_have_count(0)

        app.row("Work").get_by_role("link", name="Work").click()
        crumbs = page.get_by_role("navigation", name="Folders")
        expect(crumbs.locator("[aria-current=page]")).to_have_text("Work")
        expect(crumbs.get_by_role("link", name="All files")).to_be_visible()
        expect(app.row("b-budget.csv")).to_be_visible()
        expect(app.row("a-agenda.txt")).to_be_visible()
        new_folder(app, "2026")
        page.get_by_role("navigation", name="Folders").get_by_role("link", name="All files").click()
        expect(app.row("c-photo.jpg")).to_be_visible()

        page.get_by_label("Search").fill("BUDGET")
        expect(page.get_by_text("Search: “BUDGET” in all files")).to_be_visible()
        expect(app.row("b-budget.csv")).to_be_visible()
        expect(app.row("c-photo.jpg")).to_have_count(0)
        page.get_by_label("Search").fill("")
        expect(app.row("c-photo.jpg")).to_be_visible()

        app.row("Work").get_by_role("button", name="Delete").click()
        expect(app.row("Work")).to_have_count(0)
        app.row("c-photo.jpg").get_by_role("button", name="Delete").click()
        expect(app.row("c-photo.jpg")).to_have_count(0)

        page.get_by_role("link", name="Trash").click()
        expect(app.row("Work")).to_be_visible()
        expect(app.row("c-photo.jpg")).to_be_visible()
        app.row("Work").get_by_role("button", name="Restore").click()
        expect(app.row("Work")).to_have_count(0)
        app.row("c-photo.jpg").get_by_role("button", name="Delete forever").click()
        page.get_by_role("dialog").get_by_role("button", name="Delete forever").click()
        expect(page.get_by_text("The trash is empty.")).to_be_visible()

        page.get_by_role("link", name="All files").click()
        expect(app.row("Work")).to_be_visible()
        expect(app.row("c-photo.jpg")).to_have_count(0)
        app.row("Work").get_by_role("link", name="Work").click()
        expect(app.row("b-budget.csv")).to_be_visible()
        app.clean()
