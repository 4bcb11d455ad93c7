"""`filestore serve`'s web app front: the page at `/` and `/s/<token>`, the files under
`/assets/`, their validators and the content security policy (in process, no sockets)."""

from __future__ import annotations

import gzip
import re
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette

from filestore.entrypoints.local.web import ASSETS, WEB_ROOT, web_routes

BASE_URL = "http://127.0.0.1:8000"


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    app = Starlette(routes=web_routes())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as c:
        yield c


async def test_the_page_is_index_html_with_a_policy_naming_only_this_origin(
    client: httpx.AsyncClient,
) -> None:
    for path in ("/", "/s/some-share-token"):
        answer = await client.get(path)
        assert answer.status_code == 200
        assert answer.content == (WEB_ROOT / "index.html").read_bytes()
        assert answer.headers["content-type"].startswith("text/html")
        assert answer.headers["cache-control"] == "no-cache"
        policy = answer.headers["content-security-policy"]
        assert "default-src 'self'" in policy
        assert "connect-src 'self' ws://127.0.0.1:8000 wss://127.0.0.1:8000" in policy
        assert not re.search(r"https?://", policy)


async def test_a_host_header_that_is_no_host_cannot_write_the_policy(
    client: httpx.AsyncClient,
) -> None:
    answer = await client.get("/", headers={"host": "evil.test; script-src *"})
    assert "script-src *" not in answer.headers["content-security-policy"]


async def test_assets_come_with_their_type_an_etag_and_a_304_when_unchanged(
    client: httpx.AsyncClient,
) -> None:
    answer = await client.get("/assets/app.js")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/javascript")
    assert answer.content == (ASSETS / "app.js").read_bytes()
    etag = answer.headers["etag"]
    again = await client.get("/assets/app.js", headers={"if-none-match": etag})
    assert again.status_code == 304
    assert again.content == b""
    css = await client.get("/assets/app.css")
    assert css.headers["content-type"].startswith("text/css")


async def test_assets_are_gzipped_for_a_browser_that_asks(client: httpx.AsyncClient) -> None:
    answer = await client.get("/assets/files.js", headers={"accept-encoding": "gzip"})
    assert answer.headers["content-encoding"] == "gzip"
    assert answer.content == (ASSETS / "files.js").read_bytes()  # httpx decoded it
    assert int(answer.headers["content-length"]) < len(answer.content)
    raw = await client.get("/assets/files.js", headers={"accept-encoding": "identity"})
    assert "content-encoding" not in raw.headers
    assert gzip.compress(raw.content)  # the plain bytes were sent


@pytest.mark.parametrize(
    "path",
    ["/assets/missing.js", "/assets/../index.html", "/assets/%2e%2e/index.html", "/assets/"],
)
async def test_nothing_outside_the_assets_is_served(client: httpx.AsyncClient, path: str) -> None:
    answer = await client.get(path)
    assert answer.status_code == 404
    assert answer.content != (WEB_ROOT / "index.html").read_bytes()


async def test_the_app_refers_to_its_files_only_by_absolute_asset_paths() -> None:
    page = (WEB_ROOT / "index.html").read_text()
    references = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert references, page
    assert all(r.startswith("/assets/") or r.startswith(("/#", "data:")) for r in references)


async def test_head_answers_the_headers_of_get_without_a_body(client: httpx.AsyncClient) -> None:
    got = await client.get("/assets/app.js")
    head = await client.head("/assets/app.js")
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["etag"] == got.headers["etag"]
    assert head.headers["content-length"] == got.headers["content-length"]
    assert head.headers.get("content-encoding") == got.headers.get("content-encoding")
