"""`/_local/emails` read in a real browser: each message's subject, recipient and time, its
HTML body rendered in a sandboxed frame where nothing a file name smuggles in can run."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Browser

from tests.e2e.journeys import api, emails_to, stored, upload_bytes, wait_for
from tests.support.local_server import LocalServerProcess

pytestmark = pytest.mark.e2e

# A name users may choose; the e-mail's HTML escapes it, and the frame would block it anyway.
NAME = '<img src=x onerror="parent.document.title=1">"report".txt'


def test_the_inbox_is_a_page_people_read(
    local_server: LocalServerProcess, browser: Browser
) -> None:
    address = "inbox-reader@example.com"
    client = api(local_server, local_server.token(address))
    assert client.patch("/me", json={"notify_email": True}).status_code == 200
    upload = upload_bytes(client, NAME, b"hello")
    stored(client, upload["id"])
    wait_for(lambda: emails_to(local_server, address, upload["id"]), "the e-mail")

    # JSON for programs: the text part, and now the HTML part as well.
    items = httpx.get(
        f"{local_server.url}/_local/emails", headers={"accept": "application/json"}
    ).json()["items"]
    mail = next(m for m in items if address in m["to"])
    assert "<strong>" in mail["html"] and mail["sent_at"]

    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto(f"{local_server.url}/_local/emails")
        item = page.locator("li", has_text=address).first
        assert "Your file has been stored" in item.locator("h2").inner_text()
        meta = item.locator(".meta").inner_text()
        assert f"To {address}" in meta and "UTC" in meta
        frame_element = item.locator("iframe")
        assert frame_element.get_attribute("sandbox") == ""  # every restriction on
        frame = frame_element.element_handle().content_frame()
        assert frame is not None
        body = frame.locator("body")
        assert "has been stored" in body.inner_text()
        assert NAME in body.inner_text()  # shown as text, not run
        assert frame.locator("strong").count() == 1  # rendered as HTML
        assert page.title() == "filestore: sent mail"
        assert errors == []
    finally:
        page.close()
