"""`filestore serve` on its other back-ends: `--aws-endpoint-url` (LocalStack for S3, SNS, SQS and
SES; realtime stays in-process) and `--database-url` (a MySQL/MariaDB it migrates on start)."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pymysql
import pytest

from filestore.adapters.local.emulator import prefix_for
from filestore.domain.checksums import composite_value
from tests.e2e.journeys import api, emails_to, stored, the_round_trip, upload_bytes, wait_for
from tests.support.aws import CREDENTIALS, REGION, ses_messages
from tests.support.cli_journeys import Shell, organize
from tests.support.local_server import MULTIPART_THRESHOLD, LocalServerProcess, filestore
from tests.support.mysql import MySQLDatabase, scratch_database

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def localstack_server(
    aws_endpoint: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LocalServerProcess]:
    # Multipart from 1 MiB, so the CLI's multipart upload goes through S3 quickly.
    env = {**CREDENTIALS, "AWS_DEFAULT_REGION": REGION,
           "FILESTORE_MULTIPART_THRESHOLD": str(MULTIPART_THRESHOLD)}  # fmt: skip
    server = LocalServerProcess(
        tmp_path_factory.mktemp("serve-localstack") / "data",
        args=["--aws-endpoint-url", aws_endpoint],
        env=env,
    )
    server.start()
    yield server
    if server.process is not None and server.process.poll() is None:
        server.stop()


def tables(database: MySQLDatabase) -> set[str]:
    with pymysql.connect(**database.pymysql_kwargs()) as connection, connection.cursor() as cursor:
        cursor.execute("SHOW TABLES")
        return {row[0] for row in cursor.fetchall()}


@pytest.fixture(scope="module")
def fresh_mysql(mysql_database: MySQLDatabase) -> Iterator[MySQLDatabase]:
    with scratch_database(mysql_database) as database:
        yield database


@pytest.fixture(scope="module")
def mysql_server(
    fresh_mysql: MySQLDatabase, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LocalServerProcess]:
    assert tables(fresh_mysql) == set()  # the server, not the fixture, migrates it
    server = LocalServerProcess(
        tmp_path_factory.mktemp("serve-mysql") / "data", args=["--database-url", fresh_mysql.url]
    )
    server.start()
    yield server
    if server.process is not None and server.process.poll() is None:
        server.stop()


def test_the_round_trip_on_localstack(localstack_server: LocalServerProcess) -> None:
    the_round_trip(localstack_server, "ls-alice")


def test_bytes_and_mail_go_through_localstack(
    localstack_server: LocalServerProcess,
    aws_endpoint: str,
    aws_client: Callable[[str], Any],
) -> None:
    """Not the in-process emulator by accident: the object is in LocalStack's bucket, the
    presigned POST is LocalStack's, and `/_local/emails` shows what LocalStack's SES sent."""
    token = localstack_server.token("ls-bob@example.com")
    bob = api(localstack_server, token)
    bob.patch("/me", json={"notify_email": True})
    ticket = bob.post(
        "/uploads", json={"name": "b.txt", "size": 3, "content_type": "text/plain"}
    ).json()
    assert ticket["upload_url"]["url"].startswith(aws_endpoint)
    me = bob.get("/me").json()
    upload = upload_bytes(bob, "b.txt", b"bob")
    stored(bob, upload["id"])
    key = f"u/{me['id']}/{upload['id']}"
    bucket = f"{prefix_for(localstack_server.data_dir)}-uploads"  # its own, per data dir
    assert f"/{bucket}" in ticket["upload_url"]["url"]
    head = aws_client("s3").head_object(Bucket=bucket, Key=key)
    assert head["ContentLength"] == 3
    mail = wait_for(
        lambda: emails_to(localstack_server, "ls-bob@example.com", upload["id"]), "the e-mail"
    )
    assert mail[0]["id"] in {m["Id"] for m in ses_messages(aws_endpoint)}


def test_a_multipart_upload_on_localstack_is_checked_part_by_part(
    localstack_server: LocalServerProcess, tmp_path: Path
) -> None:
    """The CLI sends each part with its SHA-256 (signed into the part URL), S3 checks them and
    keeps their composite, and the upload says so; the download is checked against it."""
    token = localstack_server.token("ls-dave@example.com")
    env = {"FILESTORE_ENDPOINT": localstack_server.url, "FILESTORE_TOKEN": token}
    source = tmp_path / "big.bin"
    data = os.urandom(MULTIPART_THRESHOLD * 9)  # two parts: 8 MiB and 1 MiB
    source.write_bytes(data)
    up = filestore("--json", "upload", str(source), env=env)
    assert up.returncode == 0, up.stderr
    upload_id = json.loads(up.stdout)[0]["id"]
    upload = stored(api(localstack_server, token), upload_id)
    checksum = upload["checksum"]
    assert checksum["type"] == "composite"
    size = int(checksum["part_size"])
    parts = [hashlib.sha256(data[i : i + size]).hexdigest() for i in range(0, len(data), size)]
    assert checksum["value"] == composite_value(parts) and len(parts) == 2
    target = tmp_path / "copy.bin"
    down = filestore("download", upload_id, "-o", str(target), env=env)
    assert down.returncode == 0, down.stderr
    assert target.read_bytes() == data


def test_a_restart_on_localstack_keeps_the_files(localstack_server: LocalServerProcess) -> None:
    carol = api(localstack_server, localstack_server.token("ls-carol@example.com"))
    upload = upload_bytes(carol, "kept.txt", b"kept in LocalStack")
    stored(carol, upload["id"])
    localstack_server.restart()
    assert carol.get(f"/uploads/{upload['id']}").json()["status"] == "stored"


def test_the_server_migrates_a_mysql_and_the_round_trip_works(
    mysql_server: LocalServerProcess, fresh_mysql: MySQLDatabase
) -> None:
    assert {"users", "uploads", "shares", "outbox", "schema_migrations"} <= tables(fresh_mysql)
    the_round_trip(mysql_server, "my-alice")


def test_organizing_with_the_cli_on_mysql(mysql_server: LocalServerProcess, tmp_path: Path) -> None:
    organize(Shell(mysql_server, "my-olive@example.com"), tmp_path, wait_for)


def test_files_on_mysql_survive_a_restart(
    mysql_server: LocalServerProcess, fresh_mysql: MySQLDatabase
) -> None:
    dave = api(mysql_server, mysql_server.token("my-dave@example.com"))
    upload = upload_bytes(dave, "kept.txt", b"kept in MySQL")
    stored(dave, upload["id"])
    mysql_server.restart()  # migrating again changes nothing
    link = dave.get(f"/uploads/{upload['id']}/download").json()
    assert httpx.get(link["url"]).content == b"kept in MySQL"
    # The stop released its pooled connections while its loop still ran.
    assert "Traceback" not in mysql_server.log.read_text()
