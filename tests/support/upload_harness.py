"""A page for driving the web app's upload engine (`filestore/web/assets/upload.js`) in a real
browser, on the local server's origin, without the app around it.

The page and the engine's modules are answered by Playwright from the package's files (the
requests never reach the server), so the engine is tested as it is in the tree; everything else
(the API, `/_blobs` storage) is the real `filestore serve`. The page holds a file input, a
minimal API client with the interface the engine documents (`api.request(method, path, body)`,
errors with `status` and `retryAfter`), and the engine module as `window.engine`.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import TYPE_CHECKING

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
  window.api = {
    async request(method, path, body) {
      const headers = { authorization: `Bearer ${sessionStorage.getItem("token")}` };
      if (body !== undefined) headers["content-type"] = "application/json";
      const response = await fetch(path, {
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
          reports.push(p);
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


def _asset(route: Route) -> None:
    relative = route.request.url.split("/assets/", 1)[1].split("?", 1)[0]
    path = (ASSETS / relative).resolve()
    if not path.is_relative_to(ASSETS) or not path.is_file():
        route.fulfill(status=404, body="not found")
        return
    kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if path.suffix == ".js":
        kind = "text/javascript"
    route.fulfill(status=200, body=path.read_bytes(), headers={"content-type": kind})


def open_harness(page: Page, server_url: str, token: str) -> None:
    """Route the harness and the engine's files, open the page signed in, wait for the engine."""
    page.route(f"{server_url}{PAGE_PATH}", lambda route: route.fulfill(
        status=200, body=PAGE, headers={"content-type": "text/html; charset=utf-8"}
    ))  # fmt: skip
    page.route(f"{server_url}/assets/**", _asset)
    page.goto(f"{server_url}{PAGE_PATH}")
    page.evaluate("token => sessionStorage.setItem('token', token)", token)
    page.wait_for_selector("body[data-ready=yes]", state="attached")
