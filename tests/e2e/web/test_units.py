"""The app's own logic, run where it runs: its modules imported by a real Chromium from the
local server, no Node. Each case calls one exported function and compares the answer."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from tests.support.local_server import LocalServerProcess

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def page(browser: Browser, local_server: LocalServerProcess) -> Iterator[Page]:
    context = browser.new_context()
    opened = context.new_page()
    opened.goto(f"{local_server.url}/s/none")  # any page of the app's origin
    yield opened
    context.close()


def call(page: Page, module: str, expression: str) -> Any:
    """`expression` evaluated with the module `/assets/<module>` bound to `m`."""
    return page.evaluate(
        f"async () => {{ const m = await import('/assets/{module}'); return {expression}; }}"
    )


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("m.humanSize(0)", "0 B"),
        ("m.humanSize(1023)", "1023 B"),
        ("m.humanSize(1536)", "1.5 KiB"),
        ("m.humanSize(10 * 1024 ** 3)", "10.0 GiB"),
        ("m.humanSize(150 * 1024 ** 2)", "150 MiB"),
        ("m.humanSpeed(2 * 1024 ** 2)", "2.0 MiB/s"),
        ("m.humanDuration(1)", "1 second"),
        ("m.humanDuration(7200)", "2 hours"),
        ("m.humanDuration(7 * 86400)", "7 days"),
        ("m.timeLeft('2026-01-01T00:00:00Z', new Date('2026-01-01T01:00:00Z'))", "expired"),
        ("m.timeLeft('2026-01-01T01:00:00Z', new Date('2026-01-01T00:30:00Z'))", "in 30 minutes"),
        ("m.percent(5, 10)", 50),
        ("m.percent(20, 10)", 100),
        ("m.percent(1, 0)", 0),
        ("m.humanDate('not a date')", ""),
    ],
)
def test_format(page: Page, expression: str, expected: object) -> None:
    assert call(page, "format.js", expression) == expected


def test_order_matches_the_apis_sorting(page: Page) -> None:
    rows = """[
        {id: "1", name: "b.txt", size: 5, created_at: "2026-01-01T00:00:01.000001Z"},
        {id: "2", name: "A.txt", size: 9, created_at: "2026-01-01T00:00:02.000000Z"},
        {id: "3", name: "a.txt", size: 5, created_at: "2026-01-01T00:00:03.000000Z"},
    ]"""

    def order(sort: str, direction: str) -> list[str]:
        expression = (
            f"{rows}.sort((a, b) => m.compareUploads(a, b, '{sort}', '{direction}'))"
            ".map((u) => u.id)"
        )
        result: list[str] = call(page, "order.js", expression)
        return result

    assert order("created_at", "desc") == ["3", "2", "1"]
    assert order("name", "asc") == ["2", "3", "1"]  # case-insensitive, ties by id
    assert order("size", "desc") == ["2", "3", "1"]
    assert call(page, "order.js", "[m.defaultOrder('name'), m.defaultOrder('size')]") == [
        "asc",
        "desc",
    ]


def test_timestamps_are_ordered_to_the_microsecond(page: Page) -> None:
    older = call(
        page,
        "order.js",
        "[m.isOlder({updated_at: '2026-01-01T00:00:01Z'}, '2026-01-01T00:00:01.000001Z'),"
        " m.isOlder({updated_at: '2026-01-01T00:00:01.000001Z'}, '2026-01-01T00:00:01Z'),"
        " m.isOlder({updated_at: '2026-01-01T00:00:01.5Z'}, '2026-01-01T00:00:01.500000Z'),"
        " m.isOlder({updated_at: '2026-01-01T00:00:02Z'}, undefined)]",
    )
    # a fraction left out is zero; equal (a repeat) is not older; nothing seen: nothing is
    assert older == [True, False, False, False]


def test_a_late_message_does_not_undo_a_newer_state(page: Page) -> None:
    """A rename, then the file's late `upload.stored` (older `updated_at`): the new name
    stays; a repeat of the rename changes nothing; a late rename after the trashing does
    not bring the file back."""
    script = """async () => {
        const {createFileView} = await import('/assets/files.js');
        const main = document.createElement('main');
        document.body.append(main);
        const stored = [];
        const api = {
            listUploads: async () => ({items: [], next_cursor: null}),
            listFolders: async () => ({items: [], next_cursor: null}),
        };
        const uploads = {control: document.createElement('span'),
            panel: document.createElement('div'), stored: (u) => stored.push(u.name),
            failed: () => {}};
        const view = createFileView(api, {main, uploads, onChange: () => {}});
        view.mount();
        await view.open(null);
        const file = {id: 'f1', size: 5, content_type: 'text/plain', status: 'stored',
            created_at: '2026-01-01T00:00:00Z', stored_at: '2026-01-01T00:00:01Z',
            checksum: null, folder_id: null};
        const names = () => [...main.querySelectorAll('.file .name')].map((n) => n.textContent);
        const seen = [];
        view.apply({type: 'upload.renamed',
            upload: {...file, name: 'new.txt', updated_at: '2026-01-01T00:00:02Z'}});
        view.apply({type: 'upload.stored',
            upload: {...file, name: 'old.txt', updated_at: '2026-01-01T00:00:01Z'}});
        seen.push(names());
        view.apply({type: 'upload.renamed',
            upload: {...file, name: 'new.txt', updated_at: '2026-01-01T00:00:02Z'}});
        seen.push(names());
        view.apply({type: 'upload.trashed',
            upload: {...file, name: 'new.txt', status: 'trashed',
                updated_at: '2026-01-01T00:00:03.000001Z'}});
        view.apply({type: 'upload.renamed',
            upload: {...file, name: 'newer.txt', updated_at: '2026-01-01T00:00:03Z'}});
        seen.push(names());
        main.remove();
        return {seen, stored};
    }"""
    result = page.evaluate(script)
    assert result["seen"] == [["new.txt"], ["new.txt"], []]
    # the upload list still hears of the store, late or not (it tracks progress, not names)
    assert result["stored"] == ["old.txt"]


def test_api_errors_read_as_what_to_do(page: Page) -> None:
    assert "session has expired" in call(page, "api.js", "m.messageFor(401, null)")
    assert call(page, "api.js", "m.messageFor(413, {message: 'Over your quota of 10 GB.'})") == (
        "Over your quota of 10 GB."
    )
    assert "storage is full" in call(page, "api.js", "m.messageFor(413, null)")
    assert call(page, "api.js", "m.messageFor(409, {message: 'A file named x exists.'})") == (
        "A file named x exists."
    )
    assert "waking up" in call(page, "api.js", "m.messageFor(503, null)")
    assert call(page, "api.js", "m.retryAfterSeconds('7')") == 7
    assert call(page, "api.js", "m.retryAfterSeconds(null)") == 2
    assert call(page, "api.js", "m.retryAfterSeconds('3600')") == 30  # capped
    date = "m.retryAfterSeconds('Thu, 01 Jan 2026 00:00:05 GMT', Date.UTC(2026, 0, 1))"
    assert call(page, "api.js", date) == 5


def test_the_client_retries_a_waking_service_and_reports_errors(page: Page) -> None:
    # A fetch that answers 503 (Retry-After: 1) once, then 200: the call succeeds by itself.
    result = call(
        page,
        "api.js",
        """await (async () => {
            const real = window.fetch;
            let calls = 0;
            const waits = [];
            window.fetch = async () => (++calls === 1
              ? new Response('{"message":"waking"}', {status: 503, headers: {'Retry-After': '1'}})
              : new Response('{"ok":true}', {status: 200}));
            try {
              const api = m.createApi({onWaiting: (s) => waits.push(s)});
              const answer = await api.get('/me');
              window.fetch = async () => new Response('{"message":"Not Found"}', {status: 404});
              let problem = null;
              try { await api.get('/uploads/x'); }
              catch (error) { problem = [error.name, error.status]; }
              return {answer, calls, waits, problem};
            } finally { window.fetch = real; }
        })()""",
    )
    assert result == {
        "answer": {"ok": True},
        "calls": 2,
        "waits": [1],
        "problem": ["ApiError", 404],
    }


def test_pkce_challenge_is_rfc_7636s_example(page: Page) -> None:
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    challenge = call(page, "pkce.js", f"await m.challengeOf('{verifier}')")
    assert challenge == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    assert len(call(page, "pkce.js", "m.randomString(32)")) == 43
    token = "x." + "eyJzdWIiOiJhYmMiLCJlbWFpbCI6ImFAYi5jIn0" + ".y"  # {"sub":"abc","email":"a@b.c"}
    assert call(page, "pkce.js", f"m.jwtClaims('{token}')") == {"sub": "abc", "email": "a@b.c"}
    assert call(page, "pkce.js", "m.jwtClaims('garbage')") == {}


def test_live_backoff_grows_to_a_bound(page: Page) -> None:
    delays = call(page, "live.js", "[0, 1, 2, 3, 10].map((n) => m.backoff(n, () => 0.5))")
    assert delays == [1000, 2000, 4000, 8000, 30000]


def test_routes_of_the_fragment(page: Page) -> None:
    assert call(page, "app.js", "m.route('')") == {"view": "files", "folderId": None}
    assert call(page, "app.js", "m.route('#/trash')") == {"view": "trash"}
    assert call(page, "app.js", "m.route('#/f/01J%2Fx')") == {"view": "files", "folderId": "01J/x"}
