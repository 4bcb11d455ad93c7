"""Benchmark: the web app's first load and a long listing, in a real headless Chromium.

Starts `filestore serve` (temp data dir, free port), signs a person in, uploads one file through
the API and copies its row 10,000 times straight into the server's SQLite database (10,001
stored files, newest first), then, in a fresh browser profile with the session in place:
  - the first load of `/`: every resource the page fetched (the app's files and the API's
    answers), their sizes as sent and gzipped (level 6, what the server sends a browser that
    asks; CloudFront compresses likewise), against the target of 300 KB compressed;
  - the time from navigation until the list shows its first row (target: 1 s on loopback),
    median of several fresh loads;
  - scrolling: rows on screen and listing requests after the first load and after each of a
    few scrolls to the bottom, to show the list loads page by page, never all 10,000.
Prints the numbers and the machine. Not a test: it asserts nothing.

    .venv/bin/python bench/web_app.py [--files 10000] [--loads 5] [--scrolls 5]
"""

from __future__ import annotations

import argparse
import base64
import gzip
import json
import sqlite3
import statistics
import sys
import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from playwright.sync_api import Browser, Page, Request

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from host import describe  # bench/ is the script's directory
from mysql_bench import uuid7_at

from filestore.adapters.sql.keys import stored_name_key, stored_search_key
from tests.e2e.journeys import stored, upload_bytes
from tests.support.browser import LAUNCH_ARGS, find_chromium
from tests.support.local_server import LocalServerProcess

EMAIL = "bench-web@example.com"


def seed(server: LocalServerProcess, token: str, files: int) -> None:
    """One real upload, then `files` copies of its row, each a minute older than the last."""
    client = httpx.Client(base_url=server.url, headers={"authorization": f"Bearer {token}"})
    first = upload_bytes(client, "seed.txt", b"seed")
    stored(client, first["id"])
    with sqlite3.connect(server.data_dir / "filestore.db") as db:
        db.row_factory = sqlite3.Row
        row = dict(
            db.execute("SELECT * FROM uploads WHERE public_id = ?", (first["id"],)).fetchone()
        )
        # Only the columns one writes: not the key, not the generated ones (hidden 2 or 3).
        writable = {c[1] for c in db.execute("PRAGMA table_xinfo(uploads)") if c[6] == 0}
        row = {name: value for name, value in row.items() if name in writable and name != "id"}
        created = str(row["created_at"])
        fmt = "%Y-%m-%d %H:%M:%S.%f" if " " in created else "%Y-%m-%dT%H:%M:%S.%f"
        start = datetime.strptime(created[:26], fmt)
        columns = list(row)
        rows = []
        for n in range(files):
            at = start - timedelta(minutes=n + 1)
            copy = dict(row)
            name = f"file-{n:05}.txt"
            public_id = uuid7_at(at.replace(tzinfo=None).astimezone())
            copy |= {
                "public_id": public_id,
                "object_key": f"{row['object_key'].rsplit('/', 1)[0]}/{public_id}",
                "name": name,
                "name_key": stored_name_key(name),
                "search_key": stored_search_key(name),
                "created_at": at.strftime(fmt),
                "stored_at": at.strftime(fmt),
                "updated_at": at.strftime(fmt),
                "size": 1024 + n,
            }
            rows.append(tuple(copy[c] for c in columns))
        marks = ", ".join("?" for _ in columns)
        db.executemany(f"INSERT INTO uploads ({', '.join(columns)}) VALUES ({marks})", rows)


def signed_in_script(server: LocalServerProcess) -> str:
    answer = httpx.post(f"{server.url}/_local/sign-in", json={"email": EMAIL}).json()
    claims = json.loads(base64.urlsafe_b64decode(answer["id_token"].split(".")[1] + "=="))
    state = {"token": answer["id_token"], "expiresAt": claims["exp"], "email": EMAIL}
    return f"sessionStorage.setItem('filestore.session', {json.dumps(json.dumps(state))});"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--loads", type=int, default=5)
    parser.add_argument("--scrolls", type=int, default=5)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as scratch:
        server = LocalServerProcess(Path(scratch) / "data")
        server.start()
        try:
            token = server.token(EMAIL)
            seed(server, token, args.files)
            with sync_playwright() as playwright:
                chromium = find_chromium(playwright)
                if chromium is None:
                    raise SystemExit("no Chromium found (set FILESTORE_TEST_CHROMIUM)")
                browser = playwright.chromium.launch(
                    executable_path=chromium, headless=True, args=list(LAUNCH_ARGS)
                )
                report(browser, server, args)
                browser.close()
        finally:
            server.stop()
    return 0


def report(browser: Browser, server: LocalServerProcess, args: argparse.Namespace) -> None:
    script = signed_in_script(server)
    times: list[float] = []
    sizes: dict[str, bytes] = {}
    lines: list[str] = []
    for n in range(args.loads):
        context = browser.new_context()
        context.add_init_script(script)
        page = context.new_page()
        fetched: dict[str, bytes] = {}

        def finished(request: Request, got: dict[str, bytes] = fetched) -> None:
            got.setdefault(request.url, body(request))

        if n == 0:
            page.on("requestfinished", finished)
        page.goto(f"{server.url}/", wait_until="commit")
        shown = page.wait_for_function(
            "() => document.querySelector('ul.files > li.file') && performance.now()",
            timeout=30_000,
        ).json_value()
        times.append(float(shown))
        if n == 0:
            page.wait_for_load_state("networkidle")
            sizes = dict(fetched)
            lines = scroll(page, args.scrolls)
        context.close()
    static = {
        u: b
        for u, b in sizes.items()
        if not urlsplit(u).path.startswith(("/uploads", "/me", "/folders"))
    }
    api = {u: b for u, b in sizes.items() if u not in static}

    def total(group: dict[str, bytes]) -> tuple[int, int]:
        return sum(len(b) for b in group.values()), sum(
            len(gzip.compress(b, 6)) for b in group.values()
        )

    print(f"web app first load ({args.files + 1} stored files; {describe()})")
    groups = (("app (html, js, css, config)", static), ("API answers", api), ("everything", sizes))
    for label, group in groups:
        raw, zipped = total(group)
        print(
            f"  {label:<28} {len(group):3} requests  {raw / 1024:8.1f} KB"
            f"  gzipped {zipped / 1024:7.1f} KB"
        )
    print("  (target: everything <= 300 KB gzipped)")
    print(
        f"  navigation -> first row shown: median {statistics.median(times):6.0f} ms,"
        f" min {min(times):.0f}, max {max(times):.0f} over {len(times)} fresh loads"
        " (target <= 1000 ms)"
    )
    print("scrolling to the end of the list, each time:")
    for line in lines:
        print(f"  {line}")


def body(request: Request) -> bytes:
    """What a finished request's answer carried (its body as the page received it, decoded)."""
    try:
        response = request.response()
        return response.body() if response is not None else b""
    except Exception:  # the page closed first
        return b""


def scroll(page: Page, times: int) -> list[str]:
    listings: list[str] = []

    def listing(request: Request) -> None:
        if urlsplit(request.url).path == "/uploads":
            listings.append(request.url)

    page.on("request", listing)
    count = "() => document.querySelectorAll('ul.files > li.file').length"
    rows = page.evaluate(count)
    lines = [f"after the first load: {rows} rows"]
    for n in range(times):
        page.evaluate("() => window.scrollTo(0, document.body.scrollHeight)")
        page.wait_for_function(
            f"() => document.querySelectorAll('ul.files > li.file').length > {rows}"
        )
        rows = page.evaluate(count)
        lines.append(f"scroll {n + 1}: {rows} rows, {len(listings)} more listing requests")
    return lines


if __name__ == "__main__":
    raise SystemExit(main())
