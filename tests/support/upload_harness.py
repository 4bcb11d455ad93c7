"""A page for driving the web app's upload engine (`filestore/web/assets/upload.js`) in a real
browser, on the local server's origin, without the app around it.

The page and the engine's modules are answered by Playwright from the package's files (the
requests never reach the server), so the engine is tested as it is in the tree; everything else
(the API, `/_blobs` storage) is the real `filestore serve`. Playwright then sees every request
of the page (it intercepts all of them once one route is set, bodies included), which costs
little for a few MiB but slows a GiB to a crawl: a benchmark serves the page from a static
server of its own instead (`static_harness`), in a browser that does not enforce CORS, so the
page on that origin can call the API and storage on the server's. The page holds a file input, a
minimal API client with the interface the engine documents (`api.request(method, path, body)`,
errors with `status` and `retryAfter`), and the engine module as `window.engine`;
`window.upload(options)` uploads the chosen file and answers the outcome and the progress
reports (each with `t`, seconds since the start).
"""

from __future__ import annotations

import http.server
import mimetypes
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from playwright.sync_api import Page, Route

ASSETS = Path(__file__).resolve().parents[2] / "filestore" / "web" / "assets"
PAGE_PATH = "/__upload-harness"

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>upload harness</title></head>
<body>
<label>Upload <input type="file" id="file" multiple></label>
<script type="module">
  const base = new URLSearchParams(location.search).get("api") ?? "";
  window.api = {
    async request(method, path, body) {
      const headers = { authorization: `Bearer ${sessionStorage.getItem("token")}` };
      if (body !== undefined) headers["content-type"] = "application/json";
      const response = await fetch(base + path, {
        method, headers, body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      const data = text ? JSON.parse(text) : null;
      if (!response.ok) {
        const error = new Error(data?.message ?? `HTTP ${response.status}`);
        error.status = response.status;
        const retryAfter = response.headers.get("retry-after");
        if (retryAfter) error.retryAfter = Number(retryAfter);
        throw error;
      }
      return data;
    },
  };
  window.engine = await import("/assets/upload.js");
  // Upload the file chosen in the input; the progress reports and the outcome, for the test.
  window.upload = async (options = {}) => {
    const file = document.getElementById("file").files[0];
    const reports = [];
    const controller = new AbortController();
    const started = performance.now();
    try {
      const upload = await window.engine.uploadFile(window.api, file, {
        ...options,
        signal: controller.signal,
        onProgress: (p) => {
          reports.push({ ...p, t: (performance.now() - started) / 1000 });
          const cancel = options.cancelAt;
          if (cancel !== undefined && p.phase === "upload" && p.loaded >= cancel) {
            controller.abort();
          }
        },
      });
      return { upload, reports, seconds: (performance.now() - started) / 1000 };
    } catch (error) {
      return { error: { name: error.name, message: error.message }, reports };
    }
  };
  document.body.dataset.ready = "yes";
</script>
</body></html>
"""


def sign_in(server_url: str, email: str) -> str:
    """An ID token for `email` from the local server's password-free sign-in."""
    answer = httpx.post(f"{server_url}/_local/sign-in", json={"email": email}, timeout=30)
    answer.raise_for_status()
    return str(answer.json()["id_token"])


def _file_for(url_path: str) -> tuple[bytes, str] | None:
    """The harness page or an engine file for a URL path: its bytes and content type."""
    url_path = url_path.split("?", 1)[0]
    if url_path == PAGE_PATH:
        return PAGE.encode(), "text/html; charset=utf-8"
    if not url_path.startswith("/assets/"):
        return None
    path = (ASSETS / url_path.removeprefix("/assets/")).resolve()
    if not path.is_relative_to(ASSETS) or not path.is_file():
        return None
    kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return path.read_bytes(), "text/javascript" if path.suffix == ".js" else kind


def _fulfil(route: Route) -> None:
    found = _file_for("/" + route.request.url.split("://", 1)[1].split("/", 1)[1])
    if found is None:
        route.fulfill(status=404, body="not found")
    else:
        route.fulfill(status=200, body=found[0], headers={"content-type": found[1]})


class _Files(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        found = _file_for(self.path)
        body, kind = found if found is not None else (b"not found", "text/plain")
        self.send_response(200 if found is not None else 404)
        self.send_header("content-type", kind)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@contextmanager
def static_harness() -> Iterator[str]:
    """The harness page and the engine's files on a loopback server of their own: its URL."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Files)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def open_harness(page: Page, server_url: str, token: str, static_url: str | None = None) -> None:
    """Open the harness signed in and wait for the engine: on the server's origin, its files
    answered by Playwright; or, given `static_url`, from that server (see the module's doc)."""
    if static_url is None:
        page.route(f"{server_url}{PAGE_PATH}", _fulfil)
        page.route(f"{server_url}/assets/**", _fulfil)
        page.goto(f"{server_url}{PAGE_PATH}")
    else:
        page.goto(f"{static_url}{PAGE_PATH}?api={server_url}")
    page.evaluate("token => sessionStorage.setItem('token', token)", token)
    page.wait_for_selector("body[data-ready=yes]", state="attached")
