"""Benchmark a 1 GiB upload from the web app's engine in headless Chromium against the CLI.

Writes a file of `--mib` MiB of random bytes; then each run uploads it four ways, back to back,
each to a `filestore serve` of its own (a fresh data dir, the default multipart threshold of
100 MiB, so every upload goes up in 8 MiB parts, 4 on the wire at a time):
  - `cli`: `filestore upload FILE` (a process of its own, as a person runs it);
  - `browser`: the web app's engine (`filestore/web/assets/upload.js`) in a headless Chromium
    that no debugger watches (see `quiet_chromium.py`), from `uploadFile(...)` to the completed
    upload, the file chosen in a file input as a person chooses it;
  - `floor`: the same Chromium with no engine: a bare loop that asks for the part URLs and sends
    the file's slices, hashing nothing (the upload declares no checksum). What Chromium itself
    costs to send the bytes, which no page that also hashes them can beat;
  - `playwright`: the engine again, in a page Playwright drives, as the browser tests do
    (DevTools then watches every request go out).
A server of its own for each upload: uploads fill the server's page cache, and on a virtual
machine whose host backs the guest's memory lazily, pages the guest touches anew cost the host a
fault each, so a server that has just stored gigabytes writes slower than a new one and the
order of the uploads would decide the winner. Alongside each speed, CPU seconds per GiB of the
client's processes and of the server, from /proc. Prints MiB/s, the ratio to the CLI within
each run, and medians over the runs. Not a test: nothing is asserted.

    .venv/bin/python bench/browser_upload.py [--mib 1024] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from big_upload import timed  # bench/ is the script's directory
from host import describe
from quiet_chromium import QuietPage, quiet_chromium

from tests.support.browser import LAUNCH_ARGS, find_chromium
from tests.support.local_server import LocalServerProcess
from tests.support.upload_harness import PAGE_PATH, open_harness, sign_in, static_harness

CHUNK = 1024 * 1024
TICK = os.sysconf("SC_CLK_TCK")

# The floor: a bare loop, none of the engine's hashing, pipeline, retries or progress. 4 workers,
# each taking 4 parts at a time, asking for their URLs and sending them as slices of the file.
FLOOR = """async () => {
  const file = document.getElementById("file").files[0];
  const started = performance.now();
  const created = await api.request("POST", "/uploads", {
    name: file.name, size: file.size, content_type: "application/octet-stream",
  });
  const { part_size: size, part_count: count } = created.multipart;
  const path = `/uploads/${created.upload.id}`;
  const parts = new Array(count);
  let next = 1;
  const send = (url, body) => new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("PUT", url);
    xhr.onload = () =>
      xhr.status === 200 ? resolve(xhr.getResponseHeader("ETag")) : reject(xhr.status);
    xhr.onerror = () => reject("network");
    xhr.send(body);
  });
  const worker = async () => {
    while (next <= count) {
      const batch = [];
      while (next <= count && batch.length < 4) batch.push(next++);
      const { parts: urls } = await api.request("POST", `${path}/parts`, { part_numbers: batch });
      for (const { part_number: n, url } of urls) {
        const etag = await send(url, file.slice((n - 1) * size, n * size));
        parts[n - 1] = { part_number: n, etag };
      }
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  await api.request("POST", `${path}/complete`, { parts });
  return { seconds: (performance.now() - started) / 1000, reports: [] };
}"""


@dataclass
class Measured:
    mib_s: float
    client_cpu: float  # CPU seconds per GiB
    server_cpu: float


def cpu_seconds(match: Callable[[str], bool]) -> float:
    """CPU seconds used so far by the live processes whose command line `match`es."""
    total = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        if match(command):
            fields = stat[stat.rindex(")") + 2 :].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / TICK


def is_chromium(command: str) -> bool:
    program = command.split(" ", 1)[0]
    return "chromium" in program or "chrome" in program


def measure(
    mib: int, upload: Callable[[], float], client: Callable[[], float], server: LocalServerProcess
) -> Measured:
    """Speed of `upload` (which answers its seconds), and CPU seconds per GiB of its `client`
    (a counter of CPU seconds) and of the server."""

    def of_server(command: str) -> bool:
        return f"--port {server.port}" in command

    client_before, server_before = client(), cpu_seconds(of_server)
    seconds = upload()
    gib = mib / 1024
    return Measured(
        mib / seconds,
        (client() - client_before) / gib,
        (cpu_seconds(of_server) - server_before) / gib,
    )


def chromium_cpu() -> float:
    return cpu_seconds(is_chromium)


def children_cpu() -> float:
    """CPU seconds of this process's finished children (the CLI)."""
    usage = os.times()
    return usage.children_user + usage.children_system


def cli_upload(server: LocalServerProcess, big: Path, token: str) -> float:
    env = {**os.environ, "FILESTORE_ENDPOINT": server.url, "FILESTORE_TOKEN": token}
    return float(
        timed([sys.executable, "-m", "filestore.entrypoints.cli", "upload", str(big)], env)
    )


def quiet_upload(page: QuietPage, big: Path, call: str = "window.upload()") -> float:
    page.choose_file("#file", big)
    return _seconds(page.evaluate(call, timeout=1800))


def watched_upload(page: Any, big: Path) -> float:
    page.set_input_files("#file", str(big))
    return _seconds(page.evaluate("() => window.upload()"))


def _seconds(result: dict[str, Any]) -> float:
    if "error" in result:
        raise SystemExit(f"the browser's upload failed: {result['error']}")
    return float(result["seconds"])


NAMES = ("cli", "browser", "floor", "playwright")


def one_run(
    mib: int, big: Path, scratch: Path, pages: tuple[QuietPage, Any], static_url: str
) -> dict[str, Measured]:
    """Each way's upload of `big`, back to back, each to a `filestore serve` of its own."""
    quiet, watched = pages
    measured = {}
    for name in NAMES:
        with fresh_server(scratch / name) as server:
            token = sign_in(server.url, f"bench-{name}@example.com")
            upload: Callable[[], float]
            if name == "cli":
                upload = partial(cli_upload, server, big, token)
            elif name == "playwright":
                open_harness(watched, server.url, token, static_url)
                upload = partial(watched_upload, watched, big)
            else:
                open_quiet_harness(quiet, server.url, token, static_url)
                call = "window.upload()" if name == "browser" else f"({FLOOR})()"
                upload = partial(quiet_upload, quiet, big, call)
            client = children_cpu if name == "cli" else chromium_cpu
            measured[name] = measure(mib, upload, client, server)
    return measured


def open_quiet_harness(page: QuietPage, server_url: str, token: str, static_url: str) -> None:
    """The upload harness (see `open_harness`), in the page no debugger watches."""
    harness = f"{static_url}{PAGE_PATH}?api={server_url}"
    page.open(harness)
    page.wait_for(f"location.href === {harness!r} && document.body?.dataset.ready")
    page.evaluate(f"sessionStorage.setItem('token', {token!r})")


@contextmanager
def fresh_server(data: Path) -> Iterator[LocalServerProcess]:
    server = LocalServerProcess(data)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(data, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=1024)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    results: list[dict[str, Measured]] = []
    with (
        tempfile.TemporaryDirectory() as temp,
        sync_playwright() as driver,
        static_harness() as static_url,
    ):
        scratch = Path(temp)
        chromium = find_chromium(driver)
        if chromium is None:
            raise SystemExit("no Chromium: set FILESTORE_TEST_CHROMIUM or install chromium")
        big = scratch / "big.bin"
        with big.open("wb") as out:
            for _ in range(args.mib):
                out.write(os.urandom(CHUNK))
        # The page comes from a static server of its own (not through Playwright's routes,
        # which would carry every byte uploaded), so CORS is off for it to reach the API.
        flags = [*LAUNCH_ARGS, "--disable-web-security"]
        browser = driver.chromium.launch(executable_path=chromium, headless=True, args=flags)
        try:
            with quiet_chromium(chromium, "about:blank", flags) as quiet:
                watched = browser.new_page()
                for run in range(1, args.runs + 1):
                    results.append(one_run(args.mib, big, scratch, (quiet, watched), static_url))
                    print(f"run {run} done", file=sys.stderr)
        finally:
            browser.close()
    report(args, chromium, NAMES, results)


def report(
    args: argparse.Namespace,
    chromium: str,
    names: tuple[str, ...],
    results: list[dict[str, Measured]],
) -> None:
    print("browser upload benchmark")
    print(f"machine: {describe()}")
    print(f"browser: {chromium}")
    print(f"a file of {args.mib} MiB, {args.runs} runs, loopback, a fresh `filestore serve` each")
    print("  each run: MiB/s (ratio to the CLI) [CPU s/GiB: client + server]")
    for run, measured in enumerate(results, 1):
        cli = measured["cli"].mib_s
        cells = [
            f"{name} {m.mib_s:.1f} ({m.mib_s / cli:.2f}x) [{m.client_cpu:.1f} + {m.server_cpu:.1f}]"
            for name, m in measured.items()
        ]
        print(f"  run {run}: " + ", ".join(cells))
    print("  median over the runs:")
    for name in names:
        speed = statistics.median(r[name].mib_s for r in results)
        ratio = statistics.median(r[name].mib_s / r["cli"].mib_s for r in results)
        client = statistics.median(r[name].client_cpu for r in results)
        server = statistics.median(r[name].server_cpu for r in results)
        print(f"    {name:<12} {speed:7.1f} MiB/s  {ratio:.2f}x the CLI  "
              f"CPU s/GiB: client {client:.1f}, server {server:.1f}")  # fmt: skip
    browser = statistics.median(r["browser"].mib_s / r["cli"].mib_s for r in results)
    print(f"  the browser to the CLI: {browser:.2f}x (median of the runs' ratios; target >= 0.7x)")


if __name__ == "__main__":
    main()
