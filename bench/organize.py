"""Benchmark: folders, sorting, search and the trash on MySQL/MariaDB, at the scale of one heavy
user: 100,000 files in 1,000 folders (one of them, "big", holds 10,000), beside 100 other users
with 100 files each.

Loads them (multi-row INSERTs, keys computed by the application's own functions) into a
throw-away database, then times through the real repositories (aiomysql):

- listing a folder: its subfolders (`GET /folders?parent_id=`) and its files
  (`GET /uploads?folder_id=`), first page of 50;
- the first and the last page (100 per page) of every sort (created_at, name, size, each way)
  over all 100,000 files and over the 10,000 of "big", with the ratio last/first;
- a search by name that matches a few files (`q=resume 2026`, accents and case ignored);
- moving "big" into another folder and back, and trashing it and restoring it: each one unit
  of work as its request runs it (the folder read, the conditional writes, the commit).

It prints p50/p99 in milliseconds, the index each query's plan reads (EXPLAIN), and the
machine. Not a test: it asserts nothing.

    python bench/organize.py [--mysql-url mysql+aiomysql://root:@127.0.0.1:3306/] [--keep]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pymysql

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mysql_bench import (  # bench/ is the script's directory
    DEFAULT_URL,
    throwaway_database,
    timed,
    uuid7_at,
)

from filestore.adapters.sql.alchemy import SqlDatabase, upgrade_database
from filestore.adapters.sql.executor import to_datetime
from filestore.adapters.sql.folders import list_folders_query
from filestore.adapters.sql.keys import stored_name_key, stored_search_key
from filestore.adapters.sql.organize import list_files_query
from filestore.domain.model import Folder
from filestore.domain.names import name_key, search_key
from filestore.domain.ports import ANY_FOLDER, FileQuery, SortField, SortPosition

FOLDERS = 1_000
TOP_FOLDERS = 10
FILES = 100_000
BIG_FILES = 10_000
OTHER_USERS = 100
OTHER_FILES = 100
PAGE = 100
FOLDER_PAGE = 50
ROUNDS = 200
WRITE_ROUNDS = 5
BATCH = 5_000
EPOCH = datetime(2025, 1, 1, tzinfo=UTC)
WORDS = tuple(
    [
        "report",
        "invoice",
        "photo",
        "holiday",
        "budget",
        "draft",
        "notes",
        "scan",
        "contract",
        "meeting",
        "plan",
        "design",
        "img",
        "video",
        "Übersicht",
        "café",
        "Straße",
        "naïve",
        "報告",
        "写真",
        "données",
        "été",
    ]
)
SEARCHED = "Quarterly Résumé 2026"  # a few files carry it; `resume 2026` finds them


@dataclass
class Loaded:
    sub: str
    user_id: str
    big: str  # the folder of 10,000 files
    target: str  # another top folder, where "big" moves
    listed: str  # a top folder: 99 subfolders and ~90 files
    cursors: dict[str, Any] = field(default_factory=dict)


def _upload_row(
    user_row: int, user_id: str, folder: str, n: int, name: str, created: datetime
) -> tuple[object, ...]:
    public_id = uuid7_at(created)
    at = created.replace(tzinfo=None)
    return (
        public_id, user_row, f"u/{user_id}/{public_id}", name, stored_name_key(name),
        stored_search_key(name), 1024 + (n * 7919) % 1_000_000, "application/octet-stream",
        "stored", folder, at, at + timedelta(minutes=15), at, 1,
    )  # fmt: skip


_INSERT_UPLOADS = (
    "INSERT INTO uploads (public_id, user_id, object_key, name, name_key, search_key, size,"
    " content_type, status, folder_id, created_at, expires_at, stored_at, version) VALUES"
    # Only placeholders in VALUES: PyMySQL then sends one multi-row INSERT per batch.
    " (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
)


def load(connection: pymysql.connections.Connection) -> Loaded:
    """Insert the users, the heavy user's folders and everyone's files."""
    cursor = connection.cursor()
    started = time.perf_counter()
    rng = random.Random(12)
    users = []
    for n in range(OTHER_USERS + 1):
        created = EPOCH + timedelta(seconds=n)
        users.append((uuid7_at(created), f"bench-{n}", f"user{n}@example.com", created))
    cursor.executemany(
        "INSERT INTO users (public_id, sub, email, quota_bytes, created_at, version)"
        " VALUES (%s, %s, %s, 1099511627776, %s, 1)",
        [(p, s, e, c.replace(tzinfo=None)) for p, s, e, c in users],
    )
    cursor.execute("SELECT id, public_id FROM users")
    internal = {public: row_id for row_id, public in cursor.fetchall()}
    heavy_id, heavy_sub = users[-1][0], users[-1][1]
    heavy_row = internal[heavy_id]

    # Folders: 10 at the top, 99 in each; "big" is the last one under the first top folder.
    folders: list[tuple[str, str, str]] = []  # (public id, parent public id, name)
    tops = []
    for t in range(TOP_FOLDERS):
        top = uuid7_at(EPOCH + timedelta(days=1, seconds=t))
        tops.append(top)
        folders.append((top, "", f"Projects {t}"))
    for t, top in enumerate(tops):
        for c in range(FOLDERS // TOP_FOLDERS - 1):
            folders.append(
                (
                    uuid7_at(EPOCH + timedelta(days=2, seconds=t * 100 + c)),
                    top,
                    f"{rng.choice(WORDS)} {c}",
                )
            )
    big = folders[-1][0]
    folders[-1] = (big, folders[-1][1], "big")
    cursor.executemany(
        "INSERT INTO folders (public_id, user_id, parent_id, name, name_key, created_at)"
        " VALUES (%s, %s, %s, %s, %s, %s)",
        [
            (p, heavy_row, parent, name, name_key(name), EPOCH.replace(tzinfo=None))
            for p, parent, name in folders
        ],
    )
    cursor.execute(
        "UPDATE folders f JOIN folders p ON p.public_id = f.parent_id"
        " SET f.path = CONCAT('/', p.id, '/')"
    )
    connection.commit()

    rows: list[tuple[object, ...]] = []
    inserted = 0
    inserting = 0.0

    def flush(force: bool = False) -> None:
        nonlocal inserted, inserting
        while len(rows) >= BATCH or (force and rows):
            begun = time.perf_counter()
            chunk = rows[:BATCH]
            cursor.executemany(_INSERT_UPLOADS, chunk)
            connection.commit()
            inserting += time.perf_counter() - begun
            inserted += len(chunk)
            del rows[:BATCH]

    others = [f for f, _, _ in folders if f != big]
    span = 31_536_000_000_000 // FILES  # a year, in microseconds
    for n in range(FILES):
        created = EPOCH + timedelta(microseconds=n * span // 1 + (n % 3))
        if n < BIG_FILES:
            folder, stem = big, f"{rng.choice(WORDS)} {n}"
        else:
            folder, stem = others[n % len(others)], f"{rng.choice(WORDS)} {rng.choice(WORDS)} {n}"
        name = (
            f"{SEARCHED} v{n}.pdf"
            if n % 25_000 == 7
            else f"{stem}.{rng.choice(['pdf', 'jpg', 'txt'])}"
        )
        rows.append(_upload_row(heavy_row, heavy_id, folder, n, name, created))
        flush()
    for u, (public, _, _, _) in enumerate(users[:-1]):
        for n in range(OTHER_FILES):
            created = EPOCH + timedelta(minutes=u, microseconds=n)
            rows.append(_upload_row(internal[public], public, "", n, f"file {n}.txt", created))
        flush()
    flush(force=True)
    elapsed = time.perf_counter() - started
    print(
        f"loaded {len(users)} users, {len(folders):,} folders and {inserted:,} files in"
        f" {elapsed:.1f} s ({inserted / inserting:,.0f} rows/s in INSERT+COMMIT, batches of"
        f" {BATCH:,})"
    )
    cursor.execute("ANALYZE TABLE users, folders, uploads")
    cursor.fetchall()
    return Loaded(sub=heavy_sub, user_id=heavy_id, big=big, target=tops[1], listed=tops[0])


async def _explain(executor: Any, sql: str, params: dict[str, Any], table: str) -> str:
    rows = await executor.fetch("EXPLAIN " + sql, params)
    # id, select_type, table, type, possible_keys, key, key_len, ref, rows, Extra
    for row in rows:
        if row[2] == table:
            extra = f", {row[9]}" if row[9] else ""
            return f"{row[5]} ({row[3]}{extra})"
    return "?"


async def measure(url: str, data: Loaded) -> None:
    database = SqlDatabase.from_url(url)
    results: dict[str, tuple[float, float, str]] = {}
    ratios: list[tuple[str, float]] = []
    uow = database.uow_factory()()
    async with uow:
        executor = await uow.transaction()

        async def last_cursor(query: FileQuery, total: int) -> SortPosition:
            """The cursor before the last page: found once with OFFSET (not timed)."""
            sql, params = list_files_query(data.sub, query, 1)
            sql = sql.replace("LIMIT :limit", "LIMIT 1 OFFSET :skip")
            params["skip"] = total - PAGE - 1 if total % PAGE == 0 else total - total % PAGE - 1
            [row] = await executor.fetch(sql, params)
            key: Any = {
                SortField.CREATED_AT: to_datetime(row[6]),
                SortField.NAME: name_key(row[2]),
                SortField.SIZE: int(row[3]),
            }[query.sort]
            return SortPosition(key, row[0])

        async def files(query: FileQuery, limit: int, after: SortPosition | None) -> None:
            got = await uow.uploads.list_files_for_sub(data.sub, query, limit, after)
            assert got, query

        async def record(
            label: str, query: FileQuery, limit: int, after: SortPosition | None
        ) -> float:
            sql, params = list_files_query(data.sub, query, limit, after)
            plan = await _explain(executor, sql, params, "u")
            p50, p99 = await timed(ROUNDS, lambda: files(query, limit, after))
            results[label] = (p50, p99, plan)
            return p50

        async def record_pair(
            label: str, query: FileQuery, after: SortPosition
        ) -> tuple[float, float]:
            """The first and the last page, their calls alternated so that a burst of load
            from elsewhere on the machine falls on both alike."""
            samples: dict[bool, list[float]] = {True: [], False: []}
            for n in range(10 + 2 * ROUNDS):
                last = n % 2 == 1
                started = time.perf_counter()
                await files(query, PAGE, after if last else None)
                if n >= 10:
                    samples[last].append((time.perf_counter() - started) * 1000)
            p50s = []
            for last, page in ((False, "first page"), (True, "last page")):
                sql, params = list_files_query(data.sub, query, PAGE, after if last else None)
                plan = await _explain(executor, sql, params, "u")
                ordered = sorted(samples[last])
                p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
                results[f"{label}, {page}"] = (statistics.median(ordered), p99, plan)
                p50s.append(statistics.median(ordered))
            return p50s[0], p50s[1]

        for scope, total in ((ANY_FOLDER, FILES), (data.big, BIG_FILES)):
            where = "all files" if scope == ANY_FOLDER else "folder of 10,000"
            for sort in SortField:
                for descending in (True, False):
                    query = FileQuery(folder=scope, sort=sort, descending=descending)
                    label = f"{where}, {sort.value} {'desc' if descending else 'asc'}"
                    after = await last_cursor(query, total)
                    first, last = await record_pair(label, query, after)
                    ratios.append((label, last / first))

        await record("folder's files, page 1", FileQuery(folder=data.listed), FOLDER_PAGE, None)
        sql, params = list_folders_query(data.sub, data.listed, FOLDER_PAGE)
        plan = await _explain(executor, sql, params, "f")

        async def subfolders() -> None:
            assert await uow.folders.list_for_sub(data.sub, data.listed, FOLDER_PAGE)

        results["folder's subfolders, page 1"] = (*await timed(ROUNDS, subfolders), plan)
        search = FileQuery(contains=search_key("resume 2026"))
        matches = await uow.uploads.list_files_for_sub(data.sub, search, PAGE)
        await record(f"search ({len(matches or [])} matches)", search, PAGE, None)
    writes = await measure_writes(database, data)
    await database.dispose()

    print(f"\n{ROUNDS} timed calls each, through aiomysql (ms):")
    print(f"  {'query':<44} {'p50':>7} {'p99':>7}  index (EXPLAIN: type, Extra)")
    for label, (p50, p99, plan) in results.items():
        print(f"  {label:<44} {p50:>7.2f} {p99:>7.2f}  {plan}")
    print("\nlast page / first page (p50), target <= 1.5x:")
    for label, ratio in ratios:
        print(f"  {label:<44} {ratio:>6.2f}x")
    print(f"\nwrites on the folder of {BIG_FILES:,} files, one unit of work each (ms):")
    for label, samples in writes.items():
        print(
            f"  {label:<44} p50 {statistics.median(samples):>7.1f}  max {max(samples):>7.1f}"
            f"  ({len(samples)} runs)"
        )


async def measure_writes(database: SqlDatabase, data: Loaded) -> dict[str, list[float]]:
    """Move "big" away and back, trash it and restore it: each as its request does it."""
    factory = database.uow_factory()
    timings: dict[str, list[float]] = {"move": [], "trash": [], "restore": []}

    async def once(label: str, change: Callable[[Any, Folder], Awaitable[bool | None]]) -> None:
        started = time.perf_counter()
        async with factory() as uow:
            folder = await uow.folders.get_for_sub(data.big, data.sub)
            assert folder is not None
            assert await change(uow, folder) is not False, label
            await uow.commit()
        timings[label].append((time.perf_counter() - started) * 1000)

    now = datetime.now(UTC)
    for n in range(WRITE_ROUNDS):
        for parent in (data.target, data.listed):

            async def move(uow: Any, folder: Folder, parent: str = parent) -> bool:
                folder.move(parent, now)
                result: bool = await uow.folders.update(folder)
                return result

            await once("move", move)

        async def trash(uow: Any, folder: Folder, n: int = n) -> None:
            assert folder.trash(now + timedelta(seconds=n))
            await uow.folders.trash(folder)

        async def restore(uow: Any, folder: Folder) -> bool:
            folder.restore(now, parent_id=folder.parent_id, name=folder.name)
            result: bool = await uow.folders.restore(folder, now=now)
            return result

        await once("trash", trash)
        await once("restore", restore)
    return timings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--mysql-url",
        default=DEFAULT_URL,
        help="a server where the benchmark may create and drop a database",
    )
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--small", action="store_true", help="a 10%% load, to try the script")
    args = parser.parse_args()
    if args.small:
        global FILES, BIG_FILES, ROUNDS, WRITE_ROUNDS
        FILES, BIG_FILES, ROUNDS, WRITE_ROUNDS = 10_000, 1_000, 30, 2
    with throwaway_database(args.mysql_url, keep=args.keep) as scratch:
        asyncio.run(upgrade_database(scratch.url))
        loader = pymysql.connect(**scratch.pymysql_kwargs, autocommit=False)
        data = load(loader)
        loader.close()
        asyncio.run(measure(scratch.url, data))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
