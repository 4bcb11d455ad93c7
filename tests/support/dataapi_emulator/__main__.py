"""Run the emulator on its own: ``python -m tests.support.dataapi_emulator --mysql-url URL``,
from the project's root (benchmarks point boto3's ``rds-data`` client at the URL it prints)."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from tests.support.dataapi_emulator.server import DEFAULT_TRANSACTION_TIMEOUT, DataApiEmulator


def main(argv: Sequence[str] | None = None) -> int:
    """Run the emulator until interrupted, printing its endpoint URL on standard output."""
    parser = argparse.ArgumentParser(
        prog="python -m tests.support.dataapi_emulator",
        description="Serve Aurora's Data API (rds-data) over a MySQL or MariaDB database.",
    )
    parser.add_argument(
        "--mysql-url",
        required=True,
        help="the database, e.g. mysql+aiomysql://root:@127.0.0.1:3306/test",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (0: any free)")
    parser.add_argument(
        "--transaction-timeout",
        type=float,
        default=DEFAULT_TRANSACTION_TIMEOUT,
        help="seconds after which an idle transaction is rolled back",
    )
    parser.add_argument(
        "--latency-ms",
        type=float,
        default=0.0,
        help="milliseconds added to every call (the service's round trip; ~100 at p50)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")

    emulator = DataApiEmulator.from_url(
        args.mysql_url,
        listen=(args.host, args.port),
        transaction_timeout=args.transaction_timeout,
    )
    emulator.latency_ms = args.latency_ms
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    with emulator:
        print(emulator.endpoint_url, flush=True)
        while not stop.wait(1.0):
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
