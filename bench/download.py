"""Download speed of `filestore serve`'s blob server: one file, several downloads, loopback.

The blob server checks each download against the SHA-256 recorded at store time; this shows
what that costs. Prints the median and range and the machine. Not a test.

    .venv/bin/python bench/download.py [--mib 64] [--times 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from host import describe  # bench/ is the script's directory

from tests.support.local_server import LocalServerProcess


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mib", type=int, default=64)
    parser.add_argument("--times", type=int, default=5)
    args = parser.parse_args()
    data = os.urandom(args.mib * 1024 * 1024)
    with tempfile.TemporaryDirectory(prefix="filestore-download-") as tmp:
        server = LocalServerProcess(Path(tmp) / "data")
        server.start()
        headers = {"authorization": f"Bearer {server.token('bench@example.com')}"}
        with httpx.Client(base_url=server.url, headers=headers, timeout=300) as api:
            body = {"name": "big.bin", "size": len(data), "content_type": "text/plain"}
            ticket = api.post("/uploads", json=body).json()
            form = ticket["upload_url"]
            sent = httpx.post(form["url"], data=form["fields"], files={"file": ("big.bin", data)},
                              timeout=300)  # fmt: skip
            assert sent.status_code == 204, sent.text
            upload_id = ticket["upload"]["id"]
            while api.get(f"/uploads/{upload_id}").json()["status"] != "stored":
                time.sleep(0.2)
            rates = []
            for _ in range(args.times):
                url = api.get(f"/uploads/{upload_id}/download").json()["url"]
                began = time.perf_counter()
                got = httpx.get(url, timeout=300).content
                rates.append(args.mib / (time.perf_counter() - began))
                assert got == data
        server.stop()
    print(f"machine: {describe()}")
    print(
        f"{args.mib} MiB download x {args.times}: median {statistics.median(rates):.0f} MiB/s "
        f"(min {min(rates):.0f}, max {max(rates):.0f})"
    )


if __name__ == "__main__":
    main()
