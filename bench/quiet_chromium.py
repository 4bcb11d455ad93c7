"""Headless Chromium driven over the DevTools protocol without watching its network.

Playwright enables DevTools' Network domain on every page it drives, and Chromium then hands
each request's body to the inspector as it goes out: on loopback that slows an upload of
ArrayBuffer bodies about 25 times (8 MiB requests: ~15 MiB/s under Playwright, ~400 MiB/s
without) and of Blob bodies 2 to 3 times. A person's browser has no debugger watching, so an
upload benchmark drives Chromium with the three things it needs and nothing else: open a page
(`Page.navigate`), choose a file in a file input (`DOM.setFileInputFiles`, a file on disk as a
person picks one), evaluate an expression (`Runtime.evaluate`). No domain is enabled, so no
events are sent, and Network is never watched.
"""

from __future__ import annotations

import itertools
import json
import re
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from websockets.sync.client import ClientConnection, connect

_LISTENING = re.compile(r"DevTools listening on (ws://\S+)")


class QuietPage:
    """One page of a Chromium started by `quiet_chromium`."""

    def __init__(self, socket: ClientConnection) -> None:
        self._socket = socket
        self._ids = itertools.count(1)

    def send(self, method: str, params: dict[str, Any] | None = None, timeout: float = 30) -> Any:
        """Send one DevTools command and answer its result (events are ignored)."""
        command_id = next(self._ids)
        self._socket.send(json.dumps({"id": command_id, "method": method, "params": params or {}}))
        deadline = time.monotonic() + timeout
        while True:
            message = json.loads(self._socket.recv(timeout=max(0.0, deadline - time.monotonic())))
            if message.get("id") != command_id:
                continue
            if "error" in message:
                raise RuntimeError(f"{method}: {message['error']}")
            return message["result"]

    def open(self, url: str) -> None:
        """Go to `url` (waiting for it is the caller's: see `wait_for`)."""
        self.send("Page.navigate", {"url": url})

    def evaluate(self, expression: str, timeout: float = 30) -> Any:
        """The value of `expression` (awaited if a promise), as JSON."""
        params = {"expression": expression, "awaitPromise": True, "returnByValue": True}
        result = self.send("Runtime.evaluate", params, timeout=timeout)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression[:60]}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 30) -> None:
        """Wait until `expression` is truthy."""
        deadline = time.monotonic() + timeout
        while not self._truthy(expression):
            if time.monotonic() > deadline:
                raise TimeoutError(f"waited {timeout} s for {expression}")
            time.sleep(0.05)

    def _truthy(self, expression: str) -> bool:
        try:
            return bool(self.evaluate(expression))
        except RuntimeError:  # the page is still loading (its context changes)
            return False

    def choose_file(self, selector: str, path: Path) -> None:
        """Choose `path` in the file input `selector`, as a person does."""
        root = self.send("DOM.getDocument")["root"]["nodeId"]
        node = self.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
        self.send("DOM.setFileInputFiles", {"nodeId": node, "files": [str(path)]})


@contextmanager
def quiet_chromium(executable: str, url: str, args: Sequence[str] = ()) -> Iterator[QuietPage]:
    """A headless Chromium showing `url`, and its page."""
    # Chromium's helper processes may still be writing to the profile as it exits.
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as profile:
        command = [
            executable,
            "--headless=new",
            "--remote-debugging-port=0",
            f"--user-data-dir={profile}",
            *args,
            url,
        ]
        process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        try:
            endpoint = _endpoint(process)
            # Chromium goes on logging: keep its pipe drained so it never blocks on a write.
            threading.Thread(target=process.stderr.read, daemon=True).start()  # type: ignore[union-attr]
            base = endpoint.split("/devtools/", 1)[0].replace("ws://", "http://")
            pages = [
                t for t in httpx.get(f"{base}/json/list", timeout=10).json() if t["type"] == "page"
            ]
            with connect(pages[0]["webSocketDebuggerUrl"], max_size=None) as socket:
                yield QuietPage(socket)
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


def _endpoint(process: subprocess.Popen[str]) -> str:
    for line in process.stderr or ():
        found = _LISTENING.search(line)
        if found:
            return found.group(1)
    raise SystemExit(f"Chromium exited ({process.wait()}) before it listened for DevTools")
