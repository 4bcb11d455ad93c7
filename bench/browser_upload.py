"""Benchmark a 1 GiB upload from the web app's engine in headless Chromium against the CLI.

Starts the real `filestore serve` (temp data dir, free port, the default multipart threshold of
100 MiB, so both go up in 8 MiB parts), writes a file of `--mib` MiB of random bytes, then in
each run:
  - `filestore upload FILE` (the CLI, a process of its own, as a person runs it), from start to
    the completed upload;
  - the web app's engine (`filestore/web/assets/upload.js`) in headless Chromium, from
    `uploadFile(...)` to the completed upload (the file chosen in a file input beforehand, as a
    person does); with the time before its first part goes up (`POST /uploads`, and a whole-file
    SHA-256 only where the engine declares one: not for a file this big) and the time spent
    sending the parts (each hashed as it is read).
Prints MiB/s of each, the best run counting (the machine is shared: the best run is the one
least disturbed), and the browser's ratio to the CLI. Not a test: nothing is asserted.

    .venv/bin/python bench/browser_upload.py [--mib 1024] [--runs 2]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from big_upload import timed  # bench/ is the script's directory
from host import describe

from tests.support.browser import LAUNCH_ARGS, find_chromium
from tests.support.local_server import LocalServerProcess
from tests.support.upload_harness import open_harness, sign_in, static_harness

CHUNK = 1024 * 1024


def cli_seconds(server: LocalServerProcess, big: Path, token: str) -> float:
    env = {**os.environ, "FILESTORE_ENDPOINT": server.url, "FILESTORE_TOKEN": token}
    return timed([sys.executable, "-m", "filestore.entrypoints.cli", "upload", str(big)], env)


def browser_run(page: Any, big: Path) -> tuple[float, float]:
    """Seconds for the whole upload, and of them the seconds before its first part."""
    page.set_input_files("#file", str(big))
    result = page.evaluate("() => window.upload()")
    if "error" in result:
        raise SystemExit(f"the browser's upload failed: {result['error']}")
    hashed = next((r["t"] for r in result["reports"] if r["phase"] == "upload"), 0.0)
    return float(result["seconds"]), float(hashed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=1024)
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    cli_best, browser_best, hash_share = 0.0, 0.0, (0.0, 0.0)
    runs: list[str] = []
    with (
        tempfile.TemporaryDirectory() as scratch,
        sync_playwright() as driver,
        static_harness() as static_url,
    ):
        chromium = find_chromium(driver)
        if chromium is None:
            raise SystemExit("no Chromium: set FILESTORE_TEST_CHROMIUM or install chromium")
        big = Path(scratch) / "big.bin"
        with big.open("wb") as out:
            for _ in range(args.mib):
                out.write(os.urandom(CHUNK))
        server = LocalServerProcess(Path(scratch) / "data")
        server.start()
        # The page comes from a static server of its own (not through Playwright's routes,
        # which would carry every byte uploaded), so CORS is off for it to reach the API.
        flags = [*LAUNCH_ARGS, "--disable-web-security"]
        browser = driver.chromium.launch(executable_path=chromium, headless=True, args=flags)
        try:
            page = browser.new_page()
            token = sign_in(server.url, "bench-browser@example.com")
            open_harness(page, server.url, token, static_url)
            cli_token = sign_in(server.url, "bench-cli@example.com")
            for run in range(1, args.runs + 1):
                cli = args.mib / cli_seconds(server, big, cli_token)
                cli_best = max(cli_best, cli)
                seconds, hashing = browser_run(page, big)
                runs.append(f"  run {run}: CLI {cli:.1f} MiB/s, browser {args.mib / seconds:.1f} "
                            f"MiB/s ({args.mib / seconds / cli:.2f}x)")  # fmt: skip
                if args.mib / seconds > browser_best:
                    browser_best, hash_share = args.mib / seconds, (hashing, seconds)
        finally:
            browser.close()
            server.stop()
    hashing, seconds = hash_share
    print("browser upload benchmark")
    print(f"machine: {describe()}")
    print(f"browser: {chromium}")
    print(f"a file of {args.mib} MiB, best of {args.runs} runs, loopback, `filestore serve`")
    print(f"  {'filestore upload (CLI)':<34} {cli_best:7.1f} MiB/s")
    print(f"  {'web app engine (Chromium)':<34} {browser_best:7.1f} MiB/s")
    sending = seconds - hashing
    print(f"    of its {seconds:.1f} s: {hashing:.1f} s before the first part (POST /uploads, and "
          f"any whole-file hashing), {sending:.1f} s hashing and sending parts "
          f"({args.mib / sending:.1f} MiB/s)")  # fmt: skip
    print(f"  ratio of the browser to the CLI: {browser_best / cli_best:.2f}x (target >= 0.7x)")
    print("each run (the ratio within a run, both measured back to back):")
    print("\n".join(runs))


if __name__ == "__main__":
    main()
