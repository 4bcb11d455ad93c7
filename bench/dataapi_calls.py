"""Benchmark: Data API (rds-data) calls per invocation, through the real handlers.

On AWS the latency of filestore is the number of rds-data calls an invocation makes one after
another (~100 ms each at p50 on Aurora Serverless v2). This drives every HTTP route, the
WebSocket routes, the queue consumers, the Cognito trigger and the scheduled functions through
their real async cores (`filestore.entrypoints.*.handle`) on a bus that the composition root
builds with `FILESTORE_DATABASE=dataapi`, pointed at the rds-data emulator
(`tests/support/dataapi_emulator`) over a throw-away MariaDB/MySQL database. Blobs, events,
e-mail and WebSocket posts stay in memory: only rds-data calls are counted.

For each invocation it prints the calls by kind, in order (a botocore `before-call.rds-data`
hook on the adapter's client; the emulator's own counter must agree, and the script says so),
and the wall time of the same invocation with the emulator adding `--latency-ms` to every call.
Two passes, each on a fresh container (a fresh execution environment) and fresh users: the
first at no latency for the counts, the second at the latency for the times.

    python bench/dataapi_calls.py [--mysql-url mysql+aiomysql://root:@127.0.0.1:3306/]
                                  [--latency-ms 100] [--keep]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import secrets
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pymysql

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from host import describe  # bench/ is the script's directory

from filestore.adapters.dataapi.database import data_api_client
from filestore.bootstrap import build, upgrade_database
from filestore.domain.commands import Actor, RequestUpload
from filestore.domain.events import UploadStored
from filestore.domain.ids import uuid7
from filestore.entrypoints import (
    cognito,
    http_api,
    notifications,
    s3_events,
    schedules,
    websocket_api,
)
from filestore.entrypoints.observability import logger
from filestore.settings import Settings
from tests.support.dataapi_emulator import DataApiEmulator
from tests.support.lambda_events import (
    LambdaContext,
    http_event,
    load_event,
    s3_body,
    sns_body,
    sqs_event,
)
from tests.support.mysql_url import mysql_server

RESOURCE_ARN = "arn:aws:rds:eu-west-1:123456789012:cluster:filestore-bench"
SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:filestore-bench-abc123"
REGION = "eu-west-1"
MiB = 1024 * 1024
PUBLIC_URL = "https://files.example.com"


# --- counting ------------------------------------------------------------------------------------


@dataclass
class CallLog:
    """The rds-data calls made since the last `take()`, by kind, in order."""

    kinds: list[str] = field(default_factory=list)

    def on_call(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        """botocore's `before-call` event: once per API call (its retries are not calls)."""
        name = model.name
        request = json.loads(params.get("body") or b"{}")  # the serialized request (REST-JSON)
        where = "" if request.get("transactionId") else "(auto)"
        if name in ("ExecuteStatement", "BatchExecuteStatement"):
            verb = request["sql"].lstrip().split(None, 1)[0].upper()
            batch = "Batch " if name == "BatchExecuteStatement" else ""
            self.kinds.append(f"{batch}{verb}{where}")
        else:
            self.kinds.append(name.replace("Transaction", ""))

    def take(self) -> list[str]:
        kinds, self.kinds = self.kinds, []
        return kinds


@dataclass
class Row:
    invocation: str
    kinds: list[str]
    millis: float | None = None
    emulator_calls: int = 0


# --- one pass over every invocation ---------------------------------------------------------


class Pass:
    """Every invocation once, on a fresh container (a fresh execution environment)."""

    def __init__(
        self, settings: Settings, emulator: DataApiEmulator, log: CallLog, tag: str
    ) -> None:
        self.settings = settings
        self.emulator = emulator
        self.log = log
        self.container = build(settings)
        self.bus = self.container.bus()
        self.rows: list[Row] = []
        self.context = LambdaContext(remaining_ms=300_000)
        self.claims = {"sub": f"bench-{tag}-a", "email": f"a-{tag}@example.com"}
        self.other = {"sub": f"bench-{tag}-b", "email": f"b-{tag}@example.com"}

    async def measure(self, name: str, call: Callable[[], Awaitable[Any]]) -> Any:
        self.log.take()
        before = sum(self.emulator.calls.values())
        started = time.perf_counter()
        result = await call()
        elapsed = (time.perf_counter() - started) * 1000
        served = sum(self.emulator.calls.values()) - before
        self.rows.append(Row(name, self.log.take(), elapsed, served))
        return result

    async def http(
        self,
        name: str,
        method: str,
        path: str,
        body: Any = None,
        *,
        claims: dict[str, str] | None = None,
        public: bool = False,
        expect: int = 200,
    ) -> Any:
        event = http_event(
            method, path, json_body=body, claims=None if public else (claims or self.claims)
        )
        response = await self.measure(
            name,
            lambda: http_api.handle(event, self.context, bus=self.bus, public_url=PUBLIC_URL),
        )
        if response["statusCode"] != expect:
            raise RuntimeError(f"{name}: {response['statusCode']} {response.get('body')}")
        return json.loads(response["body"]) if response.get("body") else None

    def stored_event(self, upload_id: str) -> dict[str, Any]:
        for event in self.container.publisher().published:
            if isinstance(event, UploadStored) and event.upload.id == upload_id:
                return event.envelope()
        raise RuntimeError(f"no upload.stored event published for {upload_id}")

    async def run(self) -> list[Row]:
        blobs = self.container.blobs()
        realtime = self.container.realtime()

        new_user = load_event("cognito_post_confirmation")
        new_user["request"]["userAttributes"].update(
            sub=self.other["sub"], email=self.other["email"]
        )
        await self.measure(
            "Cognito post-confirmation (registers)",
            lambda: cognito.handle(new_user, self.context, bus=self.bus),
        )
        await self.http("GET /me, a user's first request (registers)", "GET", "/me")
        await self.http("GET /me", "GET", "/me")
        await self.http("PATCH /me", "PATCH", "/me", {"notify_email": True})

        single = await self.http(
            "POST /uploads",
            "POST",
            "/uploads",
            {"name": "notes.txt", "size": 1234, "content_type": "text/plain"},
            expect=201,
        )
        upload_id = single["upload"]["id"]
        key = single["upload_url"]["fields"]["key"]
        big = 9 * MiB
        multipart = await self.http(
            "POST /uploads (multipart)",
            "POST",
            "/uploads",
            {"name": "big.bin", "size": big, "content_type": "application/octet-stream"},
            expect=201,
        )
        big_id = multipart["upload"]["id"]
        signed = await self.http(
            "POST /uploads/{id}/parts (sign)",
            "POST",
            f"/uploads/{big_id}/parts",
            {"part_numbers": [1, 2]},
        )
        etags = [blobs.put_part(signed["parts"][0]["url"], b"x" * (8 * MiB))]
        etags.append(blobs.put_part(signed["parts"][1]["url"], b"x" * (big - 8 * MiB)))
        await self.http("GET /uploads/{id}/parts", "GET", f"/uploads/{big_id}/parts")
        await self.http(
            "POST /uploads/{id}/complete",
            "POST",
            f"/uploads/{big_id}/complete",
            {"parts": [{"part_number": n + 1, "etag": e} for n, e in enumerate(etags)]},
        )

        connect = load_event("websocket_connect")
        connect["requestContext"]["authorizer"].update(self.claims)
        connection_id = connect["requestContext"]["connectionId"] = f"conn-{secrets.token_hex(4)}"
        realtime.open(connection_id)
        await self.measure(
            "WebSocket $connect", lambda: websocket_api.handle(connect, self.context, bus=self.bus)
        )

        blobs.put_object(key, b"n" * 1234, "text/plain")
        s3_message = sqs_event(s3_body(key, size=1234))
        for name in ("S3 consumer, one object stored", "S3 consumer, the same object again"):
            result = await self.measure(
                name, lambda: s3_events.handle(s3_message, self.context, bus=self.bus)
            )
            if result["batchItemFailures"]:
                raise RuntimeError(f"{name}: {result}")

        keys = []
        actor = Actor(sub=self.claims["sub"], email=self.claims["email"])
        for n in range(10):
            ticket = await self.bus.handle(RequestUpload(actor, f"{n}.txt", 10, "text/plain"))
            blobs.put_object(ticket.upload.object_key, b"0123456789", "text/plain")
            keys.append(ticket.upload.object_key)
        ten_objects = sqs_event(*(s3_body(key, size=10) for key in keys))
        result = await self.measure(
            "S3 consumer, a batch of 10 objects stored",
            lambda: s3_events.handle(ten_objects, self.context, bus=self.bus),
        )
        if result["batchItemFailures"]:
            raise RuntimeError(f"S3 batch: {result}")

        stored = self.stored_event(upload_id)
        notice = sqs_event(sns_body(json.dumps(stored)))
        for name, handle in (
            ("realtime consumer, one message", notifications.handle_realtime),
            ("realtime consumer, the same message again", notifications.handle_realtime),
            ("e-mail consumer, one message", notifications.handle_email),
            ("e-mail consumer, the same message again", notifications.handle_email),
        ):
            result = await self.measure(
                name, lambda handle=handle: handle(notice, self.context, bus=self.bus)
            )
            if result["batchItemFailures"]:
                raise RuntimeError(f"{name}: {result}")
        ten = sqs_event(*(sns_body(json.dumps(stored | {"id": uuid7()})) for _ in range(10)))
        result = await self.measure(
            "realtime consumer, a batch of 10",
            lambda: notifications.handle_realtime(ten, self.context, bus=self.bus),
        )
        if result["batchItemFailures"]:
            raise RuntimeError(f"realtime batch: {result}")

        await self.http("GET /uploads", "GET", "/uploads")
        await self.http("GET /uploads/{id}", "GET", f"/uploads/{upload_id}")
        await self.http("GET /uploads/{id}/download", "GET", f"/uploads/{upload_id}/download")
        await self.http("PATCH /uploads/{id} (rename)", "PATCH", f"/uploads/{upload_id}",
                        {"name": "renamed.txt"})  # fmt: skip
        share = await self.http(
            "POST /uploads/{id}/shares",
            "POST",
            f"/uploads/{upload_id}/shares",
            {"expires_in": 3600},
            expect=201,
        )
        token = share["token"]
        await self.http("GET /uploads/{id}/shares", "GET", f"/uploads/{upload_id}/shares")
        await self.http("GET /shares/{token} (public)", "GET", f"/shares/{token}", public=True)
        await self.http("DELETE /shares/{token}", "DELETE", f"/shares/{token}", expect=204)
        await self.http("DELETE /uploads/{id}", "DELETE", f"/uploads/{upload_id}", expect=204)
        await self.http("DELETE /uploads/{id} again", "DELETE", f"/uploads/{upload_id}",
                        expect=204)  # fmt: skip

        disconnect = load_event("websocket_disconnect")
        disconnect["requestContext"]["connectionId"] = connection_id
        await self.measure(
            "WebSocket $disconnect",
            lambda: websocket_api.handle(disconnect, self.context, bus=self.bus),
        )
        await self.measure(
            "outbox relay (nothing left)",
            lambda: schedules.handle_relay({}, self.context, bus=self.bus),
        )
        await self.measure(
            "sweep (nothing to settle)",
            lambda: schedules.handle_sweep({}, self.context, bus=self.bus),
        )

        # The first write of a fresh execution environment, for a user registered before.
        fresh = Pass(self.settings, self.emulator, self.log, "unused")
        fresh.claims = self.claims
        await fresh.http(
            "POST /uploads, first write of a fresh environment",
            "POST",
            "/uploads",
            {"name": "later.txt", "size": 10, "content_type": "text/plain"},
            expect=201,
        )
        self.rows.extend(fresh.rows)
        await fresh.container.uow_factory().aclose()
        await self.container.uow_factory().aclose()
        return self.rows


# --- set-up and report ---------------------------------------------------------------------------


def settings_for(emulator: DataApiEmulator, database: str) -> Settings:
    return Settings(
        database="dataapi",
        dataapi_resource_arn=RESOURCE_ARN,
        dataapi_secret_arn=SECRET_ARN,
        dataapi_database=database,
        aws_endpoint_url=emulator.endpoint_url,
        aws_region=REGION,
        # Everything else in memory: only rds-data calls are counted. The queue consumers
        # notify, not the bus (as on AWS); events are published inline and marked published.
        blob_store="memory",
        events="memory",
        email="memory",
        realtime="memory",
        notify_in_process=False,
        multipart_threshold=8 * MiB,
        single_request_limit=8 * MiB,
        public_url=PUBLIC_URL,
    )


def sequence(kinds: list[str]) -> str:
    """`Begin, SELECT, UPDATE, Commit` with runs folded: `Begin, SELECT x2, Commit`; a long
    one (a batch's) as a repeated unit, `10 x (…)`, or as totals by kind if it is none."""
    for period in range(1, len(kinds) // 2 + 1):
        if len(kinds) % period == 0 and kinds == kinds[:period] * (len(kinds) // period):
            if period < len(kinds) and len(kinds) > 12:
                return f"{len(kinds) // period} x ({sequence(kinds[:period])})"
            break
    if len(kinds) > 12:
        totals = Counter(kinds)
        return "in all: " + ", ".join(f"{kind} x{n}" for kind, n in totals.most_common())
    folded: list[str] = []
    count = 0
    for i, kind in enumerate(kinds):
        count += 1
        if i + 1 == len(kinds) or kinds[i + 1] != kind:
            folded.append(kind if count == 1 else f"{kind} x{count}")
            count = 0
    return ", ".join(folded)


def report(counted: list[Row], timed: list[Row], latency_ms: float) -> None:
    agree = all(len(r.kinds) == r.emulator_calls for r in counted + timed)
    same = [len(a.kinds) for a in counted] == [len(b.kinds) for b in timed]
    print(f"\nrds-data calls per invocation; time with {latency_ms:g} ms added to every call")
    print(f"| invocation | calls | ms at {latency_ms:g} ms/call | calls in order |")
    print("|---|---:|---:|---|")
    for row, slow in zip(counted, timed, strict=True):
        print(
            f"| {row.invocation} | {len(row.kinds)} | {slow.millis:,.0f} | {sequence(row.kinds)} |"
        )
    by_name = {r.invocation: r for r in counted}
    slow_by_name = {r.invocation: r for r in timed}
    chain = ("S3 consumer, one object stored", "realtime consumer, one message")
    print(
        f"\nupload -> WebSocket (S3 consumer + realtime consumer): "
        f"{sum(len(by_name[n].kinds) for n in chain)} calls, "
        f"{sum(slow_by_name[n].millis or 0 for n in chain):,.0f} ms at {latency_ms:g} ms/call"
    )
    total = Counter(kind for row in counted for kind in row.kinds)
    print("all calls of the pass by kind:", ", ".join(f"{k} {n}" for k, n in total.most_common()))
    print(f"botocore hook and emulator counter agree on every row: {'yes' if agree else 'NO'}")
    print(f"both passes made the same number of calls per row: {'yes' if same else 'NO'}")


async def run_pass(
    settings: Settings, emulator: DataApiEmulator, log: CallLog, tag: str
) -> list[Row]:
    return await Pass(settings, emulator, log, tag).run()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--mysql-url",
        default=os.environ.get(
            "FILESTORE_TEST_MYSQL_URL", "mysql+aiomysql://root:@127.0.0.1:3306/"
        ),
        help="a server where the benchmark may create and drop a database",
    )
    parser.add_argument("--latency-ms", type=float, default=100.0, help="added to every call")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    for variable in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        os.environ.setdefault(variable, "testing")  # the emulator checks no signature
    logging.getLogger("filestore").setLevel(logging.WARNING)
    logger.setLevel(logging.WARNING)  # Powertools' Logger: one line per request otherwise

    server = mysql_server(args.mysql_url)
    admin = pymysql.connect(
        host=server["host"],
        port=server["port"],
        user=server["user"],
        password=server["password"],
        autocommit=True,
    )
    with admin.cursor() as cursor:
        cursor.execute("SELECT VERSION()")
        (version,) = cursor.fetchone()
    print(f"machine: {describe()}")
    print(f"database: {version} behind the rds-data emulator (tests/support/dataapi_emulator)")
    name = f"filestore_bench_{secrets.token_hex(4)}"
    admin.cursor().execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    parts = urlsplit(args.mysql_url)
    try:
        with DataApiEmulator.from_url(f"{parts.scheme}://{parts.netloc}/{name}") as emulator:
            settings = settings_for(emulator, name)
            asyncio.run(upgrade_database(settings))
            log = CallLog()
            client = data_api_client(settings.aws_endpoint_url, settings.aws_region)
            client.meta.events.register("before-call.rds-data", log.on_call)
            loop = asyncio.new_event_loop()  # one loop for the run, as a Lambda keeps one
            counted = loop.run_until_complete(run_pass(settings, emulator, log, "count"))
            emulator.latency_ms = args.latency_ms
            timed = loop.run_until_complete(run_pass(settings, emulator, log, "timed"))
            loop.close()
            report(counted, timed, args.latency_ms)
    finally:
        if not args.keep:
            admin.cursor().execute(f"DROP DATABASE IF EXISTS `{name}`")
        admin.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
