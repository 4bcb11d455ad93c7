"""Kill `filestore serve` with SIGKILL while several users work, restart it, then check that
nothing committed was lost.

A bounded, seeded workload: each user uploads small files (no declared checksum), renames,
shares and deletes stored ones, with a WebSocket open that reconnects whenever the server goes
away. Meanwhile the server is killed (SIGKILL, nothing runs on the way out) at random moments and
started again on the same data dir, `--kills` times. Clients retry what the kill interrupted,
as a client would. Then the server runs until its queues are drained, and the invariants are
checked and printed as figures:

  - every upload whose bytes arrived is stored, and its download has the SHA-256 of those bytes;
  - every event reached each consumer at least once: an e-mail for every stored upload (in the
    local inbox, which survives restarts), a `processed_events` row of the e-mail consumer for
    every upload.stored event in the outbox, nothing left unpublished or queued; WebSocket
    messages received by the clients (a live channel: a message is delivered to the
    connections open when it is handled; see docs/benchmarks.md);
  - each user's `used_bytes` equals the sum of the sizes of their pending and stored uploads;
  - no orphans: no object on disk without a live upload, no stored upload without its object,
    no multipart upload left behind.

Not a test: it prints numbers and the machine. With `--database-url` the server runs on MySQL or
MariaDB (a database of its own is created there and dropped afterwards).

    .venv/bin/python bench/chaos.py [--users 4] [--ops 40] [--kills 6] [--seed 1]
        [--database-url mysql+aiomysql://root@127.0.0.1:3306/test]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import random
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import websockets

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from host import describe  # bench/ is the script's directory

from tests.support.local_server import LocalServerProcess

RETRY_FOR = 120.0  # how long a client keeps retrying a request the kills interrupt


@dataclass
class Sent:
    """One upload as the client knows it."""

    id: str
    name: str
    size: int
    sha256: str
    arrived: bool = False  # the storage POST answered 204 (or 412: an earlier try landed)
    seen_stored: bool = False
    deleted: bool = False


@dataclass
class Person:
    email: str
    token: str
    uploads: list[Sent] = field(default_factory=list)
    received: Counter[tuple[str, str]] = field(default_factory=Counter)
    expected_ws: set[tuple[str, str]] = field(default_factory=set)
    requests: int = 0
    retried: int = 0
    reconnects: int = 0


class Client:
    """One user's HTTP side: each request retried across kills until it gets an answer."""

    def __init__(self, server: LocalServerProcess, person: Person) -> None:
        self.server = server
        self.person = person
        self.api = httpx.AsyncClient(
            base_url=server.url, headers={"authorization": f"Bearer {person.token}"}, timeout=30
        )
        self.storage = httpx.AsyncClient(timeout=30)

    async def call(
        self, client: httpx.AsyncClient, method: str, url: str, **kw: Any
    ) -> httpx.Response:
        deadline = time.monotonic() + RETRY_FOR
        while True:
            self.person.requests += 1
            try:
                return await client.request(method, url, **kw)
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                self.person.retried += 1
                await asyncio.sleep(0.3)

    async def upload(self, rng: random.Random, index: int) -> None:
        data = rng.randbytes(rng.randint(1, 64 * 1024))
        name = f"{self.person.email.split('@')[0]}-{index:03}.bin"
        body = {"name": name, "size": len(data), "content_type": "application/octet-stream"}
        answer = await self.call(self.api, "POST", "/uploads", json=body)
        if answer.status_code != 201:
            return
        ticket = answer.json()
        sent = Sent(ticket["upload"]["id"], name, len(data), hashlib.sha256(data).hexdigest())
        self.person.uploads.append(sent)
        form = ticket["upload_url"]
        stored = await self.call(
            self.storage, "POST", form["url"], data=form["fields"], files={"file": (name, data)}
        )
        # 412: a try the kill interrupted had stored these very bytes already.
        sent.arrived = stored.status_code in (204, 412)

    def stored_ones(self) -> list[Sent]:
        return [s for s in self.person.uploads if s.seen_stored and not s.deleted]

    async def refresh(self, sent: Sent) -> None:
        answer = await self.call(self.api, "GET", f"/uploads/{sent.id}")
        if answer.status_code == 200 and answer.json()["status"] == "stored":
            sent.seen_stored = True

    async def rename(self, rng: random.Random) -> None:
        candidates = self.stored_ones()
        if candidates:
            sent = rng.choice(candidates)
            new = f"renamed-{rng.randrange(10**6)}-{sent.name}"
            answer = await self.call(self.api, "PATCH", f"/uploads/{sent.id}", json={"name": new})
            if answer.status_code == 200:
                self.person.expected_ws.add(("upload.renamed", sent.id))

    async def share(self, rng: random.Random) -> None:
        candidates = self.stored_ones()
        if candidates:
            sent = rng.choice(candidates)
            await self.call(
                self.api, "POST", f"/uploads/{sent.id}/shares", json={"expires_in": 600}
            )

    async def delete(self, rng: random.Random) -> None:
        candidates = self.stored_ones()
        if candidates:
            sent = rng.choice(candidates)
            answer = await self.call(self.api, "DELETE", f"/uploads/{sent.id}")
            if answer.status_code == 204:
                sent.deleted = True
                self.person.expected_ws.add(("upload.deleted", sent.id))

    async def work(self, rng: random.Random, ops: int, kills_done: asyncio.Event) -> None:
        """At least `ops` operations, and more until every kill has happened."""
        index = 0
        while index < ops or not kills_done.is_set():
            index += 1
            kind = rng.choices(["upload", "rename", "share", "delete"], [5, 2, 2, 1])[0]
            if kind == "upload":
                await self.upload(rng, index)
            else:
                for sent in self.person.uploads[-5:]:
                    if not sent.seen_stored:
                        await self.refresh(sent)
                await getattr(self, kind)(rng)

    async def aclose(self) -> None:
        await self.api.aclose()
        await self.storage.aclose()


async def listen(server: LocalServerProcess, person: Person, stop: asyncio.Event) -> None:
    """The user's WebSocket, reconnecting whenever the server goes away."""
    url = server.url.replace("http", "ws") + f"/ws?token={person.token}"
    while not stop.is_set():
        try:
            async with websockets.connect(url, open_timeout=5) as socket:
                person.reconnects += 1
                while not stop.is_set():
                    with contextlib.suppress(TimeoutError):
                        message = json.loads(await asyncio.wait_for(socket.recv(), 0.5))
                        upload = message.get("upload") or {}
                        person.received[(message.get("type", ""), upload.get("id", ""))] += 1
        except (OSError, websockets.exceptions.WebSocketException, TimeoutError):
            await asyncio.sleep(0.2)


async def killer(
    server: LocalServerProcess, rng: random.Random, kills: int, done: asyncio.Event
) -> list[float]:
    """SIGKILL at random moments, then `done`; returns how long each restart took."""
    restarts = []
    for _ in range(kills):
        await asyncio.sleep(rng.uniform(0.5, 3.0))
        server.kill()
        began = time.monotonic()
        await asyncio.to_thread(server.start)
        restarts.append(time.monotonic() - began)
    done.set()
    return restarts


# --- what the database and the disk hold ----------------------------------------------------------


class Database:
    """Read-only queries on the server's database, SQLite or MySQL."""

    def __init__(self, data_dir: Path, mysql: dict[str, Any] | None) -> None:
        self.data_dir = data_dir
        self.mysql = mysql

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        if self.mysql is None:
            with contextlib.closing(sqlite3.connect(self.data_dir / "filestore.db")) as db:
                return list(db.execute(sql).fetchall())
        import pymysql

        with contextlib.closing(pymysql.connect(**self.mysql)) as db, db.cursor() as cursor:
            cursor.execute(sql)
            return list(cursor.fetchall())


def mysql_database(url: str) -> tuple[str, dict[str, Any], str]:
    """A fresh database on the server of `url`: its URL, pymysql arguments and name."""
    import pymysql

    parts = urlsplit(url)
    name = f"filestore_chaos_{random.randrange(16**8):08x}"
    args = {
        "host": parts.hostname or "127.0.0.1",
        "port": parts.port or 3306,
        "user": parts.username or "root",
        "password": parts.password or "",
    }
    with contextlib.closing(pymysql.connect(**args)) as db, db.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE {name}")
    return urlunsplit(parts._replace(path=f"/{name}")), {**args, "database": name}, name


def drop_mysql_database(args: dict[str, Any]) -> None:
    import pymysql

    name = args["database"]
    server = {k: v for k, v in args.items() if k != "database"}
    with contextlib.closing(pymysql.connect(**server)) as db, db.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {name}")


def queued_messages(data_dir: Path) -> dict[str, int]:
    if not (data_dir / "messaging.db").exists():
        return {}  # a server whose queues are in memory: nothing to count
    with contextlib.closing(sqlite3.connect(data_dir / "messaging.db")) as db:
        return dict(db.execute("SELECT queue, COUNT(*) FROM messages GROUP BY queue").fetchall())


def objects_on_disk(data_dir: Path) -> set[str]:
    root = data_dir / "blobs" / "objects"
    return {
        str(p.relative_to(root))
        for p in root.rglob("*")
        if p.is_file() and not p.name.endswith(".meta.json")
    }


# --- the run --------------------------------------------------------------------------------------


async def settle(server: LocalServerProcess, db: Database, deadline: float) -> float:
    """Wait until the outbox is published and the queues are empty (or the deadline)."""
    began = time.monotonic()
    while time.monotonic() - began < deadline:
        unpublished = db.rows("SELECT COUNT(*) FROM outbox WHERE published_at IS NULL")[0][0]
        queued = sum(n for q, n in queued_messages(server.data_dir).items() if "dlq" not in q)
        if unpublished == 0 and queued == 0:
            await asyncio.sleep(2)  # what the consumers have in hand
            return time.monotonic() - began
        await asyncio.sleep(0.5)
    return time.monotonic() - began


async def run(args: argparse.Namespace, data_dir: Path, mysql: dict[str, Any] | None) -> None:
    server_args = ["--database-url", args.database_url] if args.database_url else []
    server = LocalServerProcess(data_dir, args=server_args)
    server.start()
    people = [Person(f"user{i}@example.com", server.token(f"user{i}@example.com"))
              for i in range(args.users)]  # fmt: skip
    clients = [Client(server, p) for p in people]
    for client in clients:
        await client.call(client.api, "PATCH", "/me", json={"notify_email": True})
    stop, done = asyncio.Event(), asyncio.Event()
    listeners = [asyncio.create_task(listen(server, p, stop)) for p in people]
    kills = asyncio.create_task(killer(server, random.Random(args.seed + 1), args.kills, done))
    began = time.monotonic()
    await asyncio.gather(
        *(c.work(random.Random(args.seed * 100 + i), args.ops, done) for i, c in enumerate(clients))
    )
    restarts = await kills
    worked = time.monotonic() - began
    db = Database(data_dir, mysql)
    settled = await settle(server, db, args.settle)
    for client in clients:
        for sent in client.person.uploads:
            await client.refresh(sent)
    await asyncio.sleep(1)
    stop.set()
    await asyncio.gather(*listeners)
    figures = await check(server, db, people, clients)
    for client in clients:
        await client.aclose()
    server.stop()
    backend = "MariaDB/MySQL" if mysql else "SQLite"
    print(f"machine: {describe()}")
    print(
        f"run: {backend}; {args.users} users x {args.ops} operations, seed {args.seed}; "
        f"{len(restarts)} SIGKILLs (restart to ready: median "
        f"{sorted(restarts)[len(restarts) // 2]:.1f} s); workload {worked:.0f} s, "
        f"drained in {settled:.0f} s"
        if restarts
        else f"run: {backend}; no kill happened"
    )
    for line in figures:
        print(line)


async def check(
    server: LocalServerProcess, db: Database, people: list[Person], clients: list[Client]
) -> list[str]:
    lines = []
    requests = sum(p.requests for p in people)
    retried = sum(p.retried for p in people)
    reconnects = sum(p.reconnects for p in people)
    lines.append(f"requests: {requests} ({retried} retried after a kill); "
                 f"WebSocket connections: {reconnects}")  # fmt: skip

    # 1. bytes that arrived are stored, with their SHA-256
    arrived = [s for p in people for s in p.uploads if s.arrived]
    live = [s for s in arrived if not s.deleted]
    right = wrong = missing = 0
    by_id = {s.id: c for c in clients for s in c.person.uploads}
    for sent in live:
        client = by_id[sent.id]
        link = await client.call(client.api, "GET", f"/uploads/{sent.id}/download")
        if link.status_code != 200:
            missing += 1
            continue
        got = await client.call(client.storage, "GET", link.json()["url"])
        if got.status_code == 200 and hashlib.sha256(got.content).hexdigest() == sent.sha256:
            right += 1
        else:
            wrong += 1
    never = sum(1 for p in people for s in p.uploads if not s.arrived)
    lines.append(
        f"uploads: {sum(len(p.uploads) for p in people)} requested, {len(arrived)} whose bytes "
        f"arrived ({len(arrived) - len(live)} of them deleted since), {never} never sent; "
        f"live ones stored with the right SHA-256: {right}/{len(live)} "
        f"(wrong bytes {wrong}, not downloadable {missing})"
    )

    # 2. at least once to each consumer
    inbox = await clients[0].call(
        clients[0].storage,
        "GET",
        f"{server.url}/_local/emails",
        headers={"accept": "application/json"},
    )
    inbox = inbox.json()["items"]
    mailed: Counter[str] = Counter()
    for mail in inbox:
        for sent in arrived:
            if sent.id in (mail["text"] or ""):
                mailed[sent.id] += 1
    stored_events = {
        row[0]: json.loads(row[1])["data"]["upload"]["id"]
        for row in db.rows(
            "SELECT event_id, envelope FROM outbox WHERE event_type = 'upload.stored'"
        )
    }
    handled = {row[0] for row in db.rows(
        "SELECT event_id FROM processed_events WHERE consumer = 'email'")}  # fmt: skip
    unpublished = db.rows("SELECT COUNT(*) FROM outbox WHERE published_at IS NULL")[0][0]
    queues = queued_messages(server.data_dir)
    lines.append(
        f"e-mail: {sum(1 for s in arrived if mailed[s.id])}/{len(arrived)} stored uploads mailed "
        f"({sum(mailed.values()) - len(mailed)} duplicates); upload.stored events in the outbox "
        f"handled by the e-mail consumer: {len(set(stored_events) & handled)}/{len(stored_events)};"
        f" unpublished events left: {unpublished}; messages left in queues: "
        f"{sum(n for q, n in queues.items() if 'dlq' not in q)}, in DLQs: "
        f"{sum(n for q, n in queues.items() if 'dlq' in q)}"
    )
    expected: set[tuple[str, str]] = set()
    for person in people:
        expected |= {("upload.stored", s.id) for s in person.uploads if s.arrived}
        expected |= person.expected_ws
    received = {k for p in people for k in p.received}
    by_type = Counter(t for t, _ in expected)
    got_by_type = Counter(t for t, _ in expected & received)
    dupes = sum(n - 1 for p in people for n in p.received.values() if n > 1)
    lines.append(
        "WebSocket: received "
        + ", ".join(f"{t} {got_by_type[t]}/{by_type[t]}" for t in sorted(by_type))
        + f" ({dupes} duplicates)"
    )

    # 3. quota
    quota = db.rows(
        "SELECT u.id, u.used_bytes, COALESCE(SUM(CASE WHEN p.status IN ('pending', 'stored') "
        "THEN p.size ELSE 0 END), 0) FROM users u LEFT JOIN uploads p ON p.user_id = u.id "
        "GROUP BY u.id, u.used_bytes"
    )
    off = [(u, used, int(live_bytes)) for u, used, live_bytes in quota if used != live_bytes]
    lines.append(f"quota: used_bytes equals the pending + stored sizes for "
                 f"{len(quota) - len(off)}/{len(quota)} users {off or ''}")  # fmt: skip

    # 4. orphans
    keys = dict(db.rows("SELECT object_key, status FROM uploads"))
    on_disk = objects_on_disk(server.data_dir)
    orphans = [k for k in on_disk if keys.get(k) not in ("pending", "stored")]
    without = [k for k, status in keys.items() if status == "stored" and k not in on_disk]
    multipart = list((server.data_dir / "blobs" / "multipart").iterdir())
    statuses = Counter(keys.values())
    lines.append(
        f"orphans: objects without a live upload {len(orphans)}, stored uploads without their "
        f"object {len(without)}, multipart uploads left {len(multipart)}; uploads by status "
        f"{dict(statuses)}"
    )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=4)
    parser.add_argument("--ops", type=int, default=40, help="operations per user")
    parser.add_argument("--kills", type=int, default=6)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--settle", type=float, default=120.0, help="seconds to drain, at most")
    parser.add_argument("--database-url", help="mysql+aiomysql://… (a database is made there)")
    args = parser.parse_args()
    mysql = None
    if args.database_url:
        args.database_url, mysql, _ = mysql_database(args.database_url)
    try:
        with tempfile.TemporaryDirectory(prefix="filestore-chaos-") as tmp:
            asyncio.run(run(args, Path(tmp) / "data", mysql))
    finally:
        if mysql is not None:
            drop_mysql_database(mysql)


if __name__ == "__main__":
    main()
