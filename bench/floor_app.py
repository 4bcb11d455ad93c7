"""The floor of the local server's stack: Starlette + uvicorn + aiosqlite doing the same SQL.

`bench/local_server.py` starts this next to `filestore serve`, on a copy of the server's SQLite
database, to say what the stack itself allows for the same work:

- `GET /uploads`: the owner's newest-first listing, the repository's own query
  (`list_stored_query`), its rows as JSON;
- `POST /uploads`: the statements of a declared upload in one transaction, as the repository
  writes them: the quota reservation (`UPDATE users`), the upload (`INSERT … SELECT`) and its
  outbox row, then COMMIT;
- both under `/checked/…` as well, where the bearer token is verified first (RS256, issuer,
  audience, expiry) with the local issuer's key, as `filestore serve` does.

uvicorn runs with `filestore serve`'s own settings (access log included), so that a ratio
compares the apps, not two configurations of uvicorn.

    python bench/floor_app.py --database PATH --key PEM --port N
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiosqlite
import jwt
import uvicorn
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from filestore.adapters.local.tokens import AUDIENCE, ISSUER
from filestore.adapters.sql.executor import format_db_time
from filestore.adapters.sql.repositories import list_stored_query
from filestore.entrypoints.local.server import uvicorn_config

POOL_SIZE = 5  # as SQLAlchemy's default pool


class Pool:
    """A few aiosqlite connections, configured as filestore configures SQLite."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.free: asyncio.Queue[aiosqlite.Connection] = asyncio.Queue()
        self.all: list[aiosqlite.Connection] = []

    async def open(self) -> None:
        for _ in range(POOL_SIZE):
            connection = await aiosqlite.connect(self.path, isolation_level=None)
            for pragma in ("foreign_keys = ON", "journal_mode = WAL", "busy_timeout = 5000"):
                await connection.execute(f"PRAGMA {pragma}")
            self.all.append(connection)
            self.free.put_nowait(connection)

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[aiosqlite.Connection]:
        connection = await self.free.get()
        try:
            yield connection
        finally:
            self.free.put_nowait(connection)

    async def close(self) -> None:
        for connection in self.all:
            await connection.close()


def build(database: str, key_pem: bytes) -> Starlette:
    pool = Pool(database)
    public_key = load_pem_private_key(key_pem, password=None).public_key()
    owner_ids: dict[str, str] = {}

    def claims(request: Request) -> dict[str, Any] | None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer":
            return None
        try:
            return jwt.decode(
                token, public_key, algorithms=["RS256"], audience=AUDIENCE, issuer=ISSUER
            )
        except jwt.PyJWTError:
            return None

    def unverified_sub(request: Request) -> str:
        token = request.headers.get("authorization", "").partition(" ")[2]
        return str(jwt.decode(token, options={"verify_signature": False})["sub"])

    async def sub_of(request: Request, checked: bool) -> str | None:
        if not checked:
            return unverified_sub(request)
        found = claims(request)
        return None if found is None else str(found["sub"])

    async def listing(request: Request) -> Response:
        sub = await sub_of(request, request.url.path.startswith("/checked"))
        if sub is None:
            return JSONResponse({"message": "Unauthorized"}, 401)
        limit = int(request.query_params.get("limit", "50"))
        sql, params = list_stored_query(sub, limit, None, "sqlite")
        async with pool.connection() as connection, connection.execute(sql, params) as cursor:
            rows = await cursor.fetchall()
        items = [
            {
                "id": row[0],
                "name": row[2],
                "size": row[3],
                "content_type": row[4],
                "status": row[9],
                "created_at": row[6],
                "stored_at": row[10],
                "updated_at": row[21],
            }
            for row in rows
        ]
        return JSONResponse({"items": items, "next_cursor": None})

    async def declare(request: Request) -> Response:
        sub = await sub_of(request, request.url.path.startswith("/checked"))
        if sub is None:
            return JSONResponse({"message": "Unauthorized"}, 401)
        body = json.loads(await request.body())
        now = datetime.now(UTC)
        upload_id = str(uuid.uuid4())
        async with pool.connection() as connection:
            owner = owner_ids.get(sub)
            if owner is None:
                async with connection.execute(
                    "SELECT public_id FROM users WHERE sub = ?", (sub,)
                ) as cursor:
                    row = await cursor.fetchone()
                assert row is not None, "the bench user is registered first"
                owner = owner_ids[sub] = str(row[0])
            await connection.execute("BEGIN")
            try:
                await connection.execute(
                    "UPDATE users SET used_bytes = used_bytes + :size, version = version + 1"
                    " WHERE public_id = :id AND used_bytes + :size <= quota_bytes",
                    {"id": owner, "size": body["size"]},
                )
                await connection.execute(
                    "INSERT INTO uploads (public_id, user_id, object_key, created_at, name, size,"
                    " content_type, expires_at, sha256, status, stored_at, multipart_id,"
                    " part_size, updated_at, version) SELECT :id, o.id, :object_key,"
                    " :created_at, :name, :size, :content_type, :expires_at, :sha256, :status,"
                    " :stored_at, :multipart_id, :part_size, :created_at, 1 FROM users o"
                    " WHERE o.public_id = :owner_id",
                    {
                        "id": upload_id,
                        "owner_id": owner,
                        "object_key": f"u/{owner}/{upload_id}",
                        "created_at": format_db_time(now),
                        "name": body["name"],
                        "size": body["size"],
                        "content_type": body["content_type"],
                        "expires_at": format_db_time(now + timedelta(minutes=15)),
                        "sha256": body.get("sha256"),
                        "status": "pending",
                        "stored_at": None,
                        "multipart_id": None,
                        "part_size": None,
                    },
                )
                envelope = {"id": str(uuid.uuid4()), "type": "upload.requested", "data": body}
                await connection.execute(
                    "INSERT INTO outbox (event_id, event_type, user_id, occurred_at, envelope)"
                    " VALUES (:event_id, :event_type, :user_id, :occurred_at, :envelope)",
                    {
                        "event_id": envelope["id"],
                        "event_type": envelope["type"],
                        "user_id": owner,
                        "occurred_at": format_db_time(now),
                        "envelope": json.dumps(envelope),
                    },
                )
                await connection.execute("COMMIT")
            except BaseException:
                await connection.execute("ROLLBACK")
                raise
        upload = {
            "id": upload_id,
            "name": body["name"],
            "size": body["size"],
            "content_type": body["content_type"],
            "status": "pending",
            "created_at": now.isoformat(),
            "stored_at": None,
            "updated_at": now.isoformat(),
        }
        return JSONResponse({"upload": upload}, 201)

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        await pool.open()
        try:
            yield
        finally:
            await pool.close()

    routes = [
        Route(prefix + "/uploads", handler, methods=[method])
        for prefix in ("", "/checked")
        for handler, method in ((listing, "GET"), (declare, "POST"))
    ]
    return Starlette(routes=routes, lifespan=lifespan)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", required=True)
    parser.add_argument("--key", required=True, help="the local issuer's private key (PEM)")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    app = build(args.database, Path(args.key).read_bytes())
    # `filestore serve`'s own uvicorn settings (access log, protocol class), so that the ratio
    # compares the apps and not two configurations of uvicorn.
    config = uvicorn_config(app)
    config.host, config.port = "127.0.0.1", args.port
    uvicorn.Server(config).run()


if __name__ == "__main__":
    main()
