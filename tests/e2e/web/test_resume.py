"""A big upload cut off by a reload is offered for resuming, and finishes when the person
chooses the same file again, sending only the parts storage does not have."""

from __future__ import annotations

import random
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Browser, Request, Route, expect

from tests.e2e.web.app import signed_in
from tests.support.local_server import LocalServerProcess

pytestmark = pytest.mark.e2e

SIZE = 17 * 1024 * 1024  # three parts of 8 MiB on the test server


def part_number(url: str) -> int:
    return int(parse_qs(urlsplit(url).query)["partNumber"][0])


def test_a_reload_mid_upload_resumes_when_the_file_is_chosen_again(
    browser: Browser, local_server: LocalServerProcess, tmp_path: Path
) -> None:
    big = tmp_path / "backup.tar"
    big.write_bytes(random.Random(3).randbytes(SIZE))
    with signed_in(browser, local_server, "web-resume@example.com") as (_, app):
        page = app.page
        held: list[Route] = []

        def hold_all_but_the_first(route: Route) -> None:
            if route.request.method == "PUT" and part_number(route.request.url) != 1:
                held.append(route)  # a connection that died on the way
            else:
                route.continue_()

        page.route("**/_blobs/**", hold_all_but_the_first)
        with page.expect_response(lambda r: r.request.method == "PUT" and r.status == 200):
            page.get_by_label("Upload", exact=True).set_input_files(str(big))
        deadline = time.monotonic() + 30
        while len(held) < 2 and time.monotonic() < deadline:
            page.wait_for_timeout(100)
        assert len(held) == 2
        page.unroute("**/_blobs/**")
        page.reload()

        unfinished = page.get_by_text("Unfinished: choose backup.tar again to resume it.")
        expect(unfinished).to_be_visible()
        puts: list[int] = []

        def sent(request: Request) -> None:
            if request.method == "PUT" and "/_blobs/" in request.url:
                puts.append(part_number(request.url))

        page.on("request", sent)
        page.get_by_label("Upload", exact=True).set_input_files(str(big))
        expect(app.row("backup.tar")).to_be_visible()
        expect(unfinished).to_have_count(0)
        # Part 1 had arrived: not sent again. (A held part may still slip through as the page
        # unloads; then it is not sent again either.)
        assert 1 not in puts
        assert len(puts) == len(set(puts))
        with page.expect_download() as download:
            app.row("backup.tar").get_by_role("button", name="Download").click()
        assert Path(download.value.path()).read_bytes() == big.read_bytes()
        app.clean()
