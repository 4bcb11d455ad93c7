"""Benchmark: the owner's newest-first listing on MySQL/MariaDB, keyset against OFFSET.

Loads 1,000,000 uploads across 10,000 users plus one heavy user with 100,000 (multi-row
INSERTs, reporting rows/s) into a throw-away database, then times through the real repository
(aiomysql, `SqlUploadRepository`):

- keyset page 1 and page 1,000 of the heavy user at 100 per page (page 1,000 is the end of
  their 100,000 uploads);
- the same page 1,000 with `LIMIT 100 OFFSET 99900`, for comparison;
- a lookup by object key;
- the listing use case (`list_uploads`, what GET /uploads runs) at page 1 and the last page, in
  a unit of work of its own each time: its statements, connection checkout included.

It prints median and p99 latencies, the plan of the keyset query, and the machine. Not a test:
it asserts nothing.

    python bench/listing.py [--mysql-url mysql+aiomysql://root:@127.0.0.1:3306/] [--keep]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pymysql

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mysql_bench import (  # bench/ is the script's directory
    DEFAULT_URL,
    throwaway_database,
    timed,
    uuid7_at,
)

from filestore.adapters.memory import MemoryBlobStore
from filestore.adapters.sql.alchemy import SqlDatabase, upgrade_database
from filestore.adapters.sql.executor import to_datetime
from filestore.adapters.sql.repositories import list_stored_query
from filestore.adapters.sql.rows import UPLOAD_SELECT, upload_from
from filestore.adapters.system import RandomIds, SystemClock
from filestore.domain.commands import Actor, ListUploads
from filestore.domain.handlers import Services, encode_cursor, list_uploads
from filestore.domain.ports import ListPosition

USERS = 10_000
UPLOADS_PER_USER = 100
HEAVY_UPLOADS = 100_000
PAGE_SIZE = 100
LAST_PAGE = HEAVY_UPLOADS // PAGE_SIZE  # 1,000
ROUNDS = 200
BATCH = 5_000
EPOCH = datetime(2025, 1, 1, tzinfo=UTC)


def load(connection: pymysql.connections.Connection) -> tuple[str, str]:
    """Insert the users and uploads; returns the heavy user's sub and one object key."""
    cursor = connection.cursor()
    started = time.perf_counter()
    users = []
    for n in range(USERS + 1):
        created = EPOCH + timedelta(seconds=n)
        public_id = uuid7_at(created)
        users.append((public_id, f"bench-{n}", f"user{n}@example.com", 10 * 1024**3, created))
    for start in range(0, len(users), BATCH):
        chunk = users[start : start + BATCH]
        cursor.executemany(
            "INSERT INTO users (public_id, sub, email, quota_bytes, created_at, version)"
            " VALUES (%s, %s, %s, %s, %s, %s)",
            [(p, s, e, q, c.replace(tzinfo=None), 1) for p, s, e, q, c in chunk],
        )
    connection.commit()
    cursor.execute("SELECT id, public_id FROM users")
    internal = dict((public, row_id) for row_id, public in cursor.fetchall())
    heavy = users[-1][0]

    def uploads_of(owner: str, count: int, offset: int) -> list[tuple[object, ...]]:
        rows: list[tuple[object, ...]] = []
        for i in range(count):
            # Spread over a year; several uploads share a microsecond now and then.
            created = EPOCH + timedelta(microseconds=(offset + i) * 31_536_000_000 // 1_100_000)
            public_id = uuid7_at(created)
            status = "stored" if owner == heavy or i % 20 else "pending"
            rows.append(
                (
                    public_id,
                    internal[owner],
                    f"u/{owner}/{public_id}",
                    f"file {i}.bin",
                    1024 + i,
                    "application/octet-stream",
                    status,
                    created.replace(tzinfo=None),
                    (created + timedelta(minutes=15)).replace(tzinfo=None),
                    created.replace(tzinfo=None) if status == "stored" else None,
                    1,
                )
            )
        return rows

    sql = (
        "INSERT INTO uploads (public_id, user_id, object_key, name, size, content_type, status,"
        " created_at, expires_at, stored_at, version) VALUES"
        # Only placeholders in VALUES: PyMySQL then sends one multi-row INSERT per batch.
        " (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
    )
    pending: list[tuple[object, ...]] = []
    total = 0
    inserting = 0.0  # seconds spent in INSERT and COMMIT, without making the rows
    owners = [(u[0], UPLOADS_PER_USER) for u in users[:-1]] + [(heavy, HEAVY_UPLOADS)]
    offset = 0
    sample_key = ""
    for owner, count in owners:
        rows = uploads_of(owner, count, offset)
        offset += count
        pending.extend(rows)
        sample_key = str(rows[count // 2][2]) if owner != heavy else sample_key
        while len(pending) >= BATCH:
            begun = time.perf_counter()
            cursor.executemany(sql, pending[:BATCH])  # PyMySQL: one multi-row INSERT
            connection.commit()
            inserting += time.perf_counter() - begun
            total += BATCH
            del pending[:BATCH]
    if pending:
        begun = time.perf_counter()
        cursor.executemany(sql, pending)
        connection.commit()
        inserting += time.perf_counter() - begun
        total += len(pending)
    elapsed = time.perf_counter() - started
    print(f"loaded {len(users):,} users and {total:,} uploads in {elapsed:.1f} s")
    print(
        f"  uploads: {total / inserting:,.0f} rows/s in INSERT+COMMIT (multi-row INSERTs of "
        f"{BATCH:,} rows, 5 indexes); {(total + len(users)) / elapsed:,.0f} rows/s overall, "
        "making the rows in Python included"
    )
    cursor.execute("ANALYZE TABLE users, uploads")
    cursor.fetchall()
    return users[-1][1], sample_key


async def measure(url: str, heavy: str, object_key: str) -> None:
    database = SqlDatabase.from_url(url)
    uow = database.uow_factory()()
    async with uow:
        executor = await uow.transaction()

        async def cursor_before(page_number: int) -> ListPosition:
            """The cursor of the previous page's last row, found once (not timed)."""
            rows = await executor.fetch(
                "SELECT u.created_at, u.public_id FROM uploads u JOIN users o ON o.id = u.user_id"
                " WHERE o.sub = :owner AND u.status = 'stored'"
                " ORDER BY u.created_at DESC, u.public_id DESC LIMIT 1 OFFSET :skip",
                {"owner": heavy, "skip": (page_number - 1) * PAGE_SIZE - 1},
            )
            return ListPosition(to_datetime(rows[0][0]), rows[0][1])

        middle_page = LAST_PAGE // 2
        middle = await cursor_before(middle_page)
        last = await cursor_before(LAST_PAGE)
        sql, params = list_stored_query(heavy, PAGE_SIZE, last)
        print(f"\nEXPLAIN of keyset page {LAST_PAGE:,}:")
        for row in await executor.fetch("EXPLAIN " + sql, params):
            print("  ", row)
        sql, params = list_stored_query(heavy, PAGE_SIZE, middle)
        print(f"EXPLAIN of keyset page {middle_page:,}:")
        for row in await executor.fetch("EXPLAIN " + sql, params):
            print("  ", row)

        async def page(after: ListPosition | None) -> None:
            got = await uow.uploads.list_stored_for_sub(heavy, PAGE_SIZE, after)
            assert len(got) == PAGE_SIZE, len(got)

        offset_sql = (
            f"{UPLOAD_SELECT} WHERE o.sub = :owner_sub AND u.status = :status"
            " ORDER BY u.created_at DESC, u.public_id DESC LIMIT :limit OFFSET :skip"
        )

        async def offset_page(number: int) -> None:
            got = await executor.fetch(
                offset_sql,
                {
                    "owner_sub": heavy,
                    "status": "stored",
                    "limit": PAGE_SIZE,
                    "skip": (number - 1) * PAGE_SIZE,
                },
            )
            # Build the same Upload objects the repository does, for a fair comparison.
            assert len([upload_from(row) for row in got]) == PAGE_SIZE

        async def lookup() -> None:
            assert await uow.uploads.get_by_object_key(object_key) is not None

        # The whole use case, as GET /uploads runs it: its own unit of work, its statements.
        services = Services(
            uow_factory=database.uow_factory(), blobs=MemoryBlobStore(), clock=SystemClock(),
            ids=RandomIds(),
        )  # fmt: skip
        caller = Actor(sub=heavy, email="heavy@example.com")

        async def use_case(after: ListPosition | None) -> None:
            cursor = encode_cursor(after) if after is not None else None
            got = await list_uploads(ListUploads(caller, PAGE_SIZE, cursor), services)
            assert len(got.items) == PAGE_SIZE, len(got.items)

        results = {
            "keyset page 1": await timed(ROUNDS, lambda: page(None)),
            f"keyset page {middle_page:,}": await timed(ROUNDS, lambda: page(middle)),
            f"keyset page {LAST_PAGE:,}": await timed(ROUNDS, lambda: page(last)),
            "OFFSET page 1": await timed(ROUNDS, lambda: offset_page(1)),
            f"OFFSET page {LAST_PAGE:,}": await timed(ROUNDS, lambda: offset_page(LAST_PAGE)),
            "lookup by object key": await timed(ROUNDS, lookup),
            "use case, page 1": await timed(ROUNDS, lambda: use_case(None)),
            f"use case, page {LAST_PAGE:,}": await timed(ROUNDS, lambda: use_case(last)),
        }
    await database.dispose()
    print(f"\n{PAGE_SIZE} per page, {ROUNDS} timed calls each, through aiomysql:")
    print(f"  {'query':<24} {'median ms':>10} {'p99 ms':>10}")
    for name, (median, p99) in results.items():
        print(f"  {name:<24} {median:>10.2f} {p99:>10.2f}")
    first, last_page = results["keyset page 1"][0], results[f"keyset page {LAST_PAGE:,}"][0]
    offset_last = results[f"OFFSET page {LAST_PAGE:,}"][0]
    print(f"\nkeyset page {LAST_PAGE:,} / page 1: {last_page / first:.2f}x (target <= 1.5x)")
    print(f"OFFSET page {LAST_PAGE:,} / keyset page 1: {offset_last / first:.1f}x")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--mysql-url",
        default=DEFAULT_URL,
        help="a server where the benchmark may create and drop a database",
    )
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--small", action="store_true", help="a 1%% load, to try the script")
    args = parser.parse_args()
    if args.small:
        global USERS, HEAVY_UPLOADS, LAST_PAGE, ROUNDS
        USERS, HEAVY_UPLOADS, ROUNDS = 100, 10_000, 50
        LAST_PAGE = HEAVY_UPLOADS // PAGE_SIZE
    with throwaway_database(args.mysql_url, keep=args.keep) as scratch:
        asyncio.run(upgrade_database(scratch.url))
        loader = pymysql.connect(**scratch.pymysql_kwargs, autocommit=False)
        heavy, object_key = load(loader)
        loader.close()
        asyncio.run(measure(scratch.url, heavy, object_key))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
