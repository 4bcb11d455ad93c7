"""What the MySQL/MariaDB benchmarks share: a throw-away database, the machine they ran on,
ids made as the application would have made them back then, and a timer of p50/p99."""

from __future__ import annotations

import os
import platform
import secrets
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import pymysql
from host import cpu_model, ram_gib  # bench/ is the scripts' directory

from tests.support.mysql_url import mysql_server

DEFAULT_URL = os.environ.get("FILESTORE_TEST_MYSQL_URL", "mysql+aiomysql://root:@127.0.0.1:3306/")


def uuid7_at(moment: datetime) -> str:
    """A UUIDv7 for a given time (the loaders make ids as the app would have, back then)."""
    ms = int(moment.timestamp() * 1000)
    rand = int.from_bytes(os.urandom(10), "big")
    value = (ms << 80) | (0x7 << 76) | ((rand >> 64) & 0xFFF) << 64 | (0b10 << 62)
    value |= rand & ((1 << 62) - 1)
    return str(uuid.UUID(int=value))


def machine(connection: pymysql.connections.Connection) -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT VERSION()")
        (version,) = cursor.fetchone()
        cursor.execute("SELECT @@innodb_buffer_pool_size")
        (pool,) = cursor.fetchone()
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu_model(),
        "cores": str(os.cpu_count()),
        "ram": ram_gib(),
        "database": str(version),
        "innodb_buffer_pool_size": f"{int(pool) / 1024**2:.0f} MiB",
        "python": platform.python_version(),
        "os": platform.platform(),
    }


async def timed(rounds: int, call: Callable[[], Awaitable[object]]) -> tuple[float, float]:
    """Median and p99 in milliseconds over `rounds` calls (after 10 warm-up calls)."""
    for _ in range(10):
        await call()
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))]
    return statistics.median(samples), p99


@dataclass(frozen=True)
class Scratch:
    """A throw-away database: its URL for the application, pymysql's arguments for loaders."""

    url: str
    pymysql_kwargs: dict[str, Any]


@contextmanager
def throwaway_database(mysql_url: str, *, keep: bool = False) -> Iterator[Scratch]:
    """A new, empty database on the server of `mysql_url` (the machine printed first), dropped
    afterwards unless `keep`."""
    server = mysql_server(mysql_url)
    admin = {
        "host": server["host"],
        "port": server["port"],
        "user": server["user"],
        "password": server["password"],
        "charset": "utf8mb4",
    }
    name = f"filestore_bench_{secrets.token_hex(4)}"
    connection = pymysql.connect(**admin, autocommit=True)
    for key, value in machine(connection).items():
        print(f"{key:>24}: {value}")
    connection.cursor().execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    parts = urlsplit(mysql_url)
    try:
        yield Scratch(
            url=f"{parts.scheme}://{parts.netloc}/{name}?charset=utf8mb4",
            pymysql_kwargs={**admin, "database": name},
        )
    finally:
        if not keep:
            connection.cursor().execute(f"DROP DATABASE IF EXISTS `{name}`")
        connection.close()
