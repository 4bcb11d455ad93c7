"""The migrations custom resource on its real path: no injected runner, a real database.

With the environment `template.yaml` gives MigrationsFunction (the Data API, pointed at our
rds-data emulator on a fresh, empty MariaDB/MySQL database), CloudFormation's Create, Update and
Delete requests drive the Lambda handler, and the response it PUTs to a local HTTP server (as
CloudFormation's pre-signed S3 URL) is checked along with the schema it left behind. The SQL
path (`FILESTORE_DATABASE=sql`) is driven the same way on a SQLite file.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pymysql
import pytest

from filestore.adapters.sql.migrations import migrations as migration_files
from filestore.entrypoints import migrations
from filestore.entrypoints.runtime import runtime
from tests.support.dataapi_emulator import DataApiEmulator, DataApiError
from tests.support.lambda_events import LambdaContext, load_event
from tests.support.local_http import LocalHttpServer
from tests.support.mysql import MySQLDatabase
from tests.support.sql import RESOURCE_ARN, SECRET_ARN, sqlite_url
from tests.support.template import Intrinsic, function_environment

pytestmark = pytest.mark.integration

RESPONSE_PATH = "/cloudformation-response"
SCHEMA_TABLES = {
    "users", "uploads", "folders", "shares", "connections", "outbox", "processed_events",
    "schema_migrations",
}  # fmt: skip


@pytest.fixture
def cloudformation() -> Iterator[LocalHttpServer]:
    """CloudFormation's side: the pre-signed URL the response is PUT to."""
    with LocalHttpServer() as server:
        yield server


def _event(kind: str, server: LocalHttpServer) -> dict[str, Any]:
    event = load_event(kind)
    # Signed query string, as CloudFormation's S3 URL has: it must be sent back untouched.
    event["ResponseURL"] = f"{server.base_url}{RESPONSE_PATH}?X-Amz-Signature=abc123"
    return event


def _the_response(server: LocalHttpServer) -> dict[str, Any]:
    [put] = server.requests_for(RESPONSE_PATH)
    assert put.method == "PUT"
    assert put.path.endswith("?X-Amz-Signature=abc123")
    assert put.headers.get("content-type") == ""  # what the URL was signed for
    body: dict[str, Any] = put.json()
    return body


@pytest.fixture
def lambda_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """What Lambda gives every function: credentials and region; settings read afresh."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "eu-west-1",
        "AWS_DEFAULT_REGION": "eu-west-1",
    }.items():
        monkeypatch.setenv(name, value)
    runtime.set_settings(None)
    yield monkeypatch
    runtime.set_settings(None)


@pytest.fixture
def dataapi_function(
    lambda_environment: pytest.MonkeyPatch,
    fresh_mysql_database: MySQLDatabase,
    dataapi_emulator: DataApiEmulator,
) -> Iterator[MySQLDatabase]:
    """MigrationsFunction's environment from template.yaml, the Data API being our emulator on a
    fresh database; yields that database."""
    environment = function_environment("MigrationsFunction")
    assert environment["FILESTORE_DATABASE"] == "dataapi"
    # What the stack fills in at deploy time, and where this test's cluster is.
    stand_ins = {
        "FILESTORE_DATAAPI_RESOURCE_ARN": RESOURCE_ARN,
        "FILESTORE_DATAAPI_SECRET_ARN": SECRET_ARN,
        # The cluster's database (DatabaseName) is created with it; here, the fresh one.
        "FILESTORE_DATAAPI_DATABASE": fresh_mysql_database.database,
    }
    assert set(stand_ins) <= set(environment)
    for name, value in environment.items():
        if name in stand_ins:
            lambda_environment.setenv(name, stand_ins[name])
        elif name.startswith("FILESTORE_") and not isinstance(value, Intrinsic):
            lambda_environment.setenv(name, str(value))
    lambda_environment.setenv("FILESTORE_AWS_ENDPOINT_URL", dataapi_emulator.endpoint_url)
    yield fresh_mysql_database
    dataapi_emulator.reset_faults()  # a failed test must leave no faults to the next one


def _mysql_tables(database: MySQLDatabase) -> set[str]:
    with pymysql.connect(**database.pymysql_kwargs()) as connection, connection.cursor() as cur:
        cur.execute("SHOW TABLES")
        return {str(row[0]) for row in cur.fetchall()}


def _mysql_history(database: MySQLDatabase) -> list[tuple[int, str, Any]]:
    with pymysql.connect(**database.pymysql_kwargs()) as connection, connection.cursor() as cur:
        cur.execute("SELECT version, name, applied_at FROM schema_migrations ORDER BY version")
        return [(int(v), str(n), at) for v, n, at in cur.fetchall()]


MYSQL_VERSIONS = [m.version for m in migration_files("mysql")]
SQLITE_VERSIONS = [m.version for m in migration_files("sqlite")]


# --- the Data API --------------------------------------------------------------------------------


def test_create_migrates_through_the_data_api_and_update_is_a_no_op(
    dataapi_function: MySQLDatabase, cloudformation: LocalHttpServer
) -> None:
    assert _mysql_tables(dataapi_function) == set()

    returned = migrations.handler(_event("cfn_create", cloudformation), LambdaContext())

    response = _the_response(cloudformation)
    assert response == returned
    assert response["Status"] == "SUCCESS", response["Reason"]
    assert response["PhysicalResourceId"] == migrations.PHYSICAL_RESOURCE_ID
    assert response["RequestId"] == "unique id for this create request"
    assert response["Data"] == {"Applied": ",".join(map(str, MYSQL_VERSIONS))}
    assert _mysql_tables(dataapi_function) == SCHEMA_TABLES
    history = _mysql_history(dataapi_function)
    assert [(v, n) for v, n, _ in history] == [
        (m.version, m.name) for m in migration_files("mysql")
    ]

    cloudformation.requests.clear()
    migrations.handler(_event("cfn_update", cloudformation), LambdaContext())

    response = _the_response(cloudformation)
    assert response["Status"] == "SUCCESS", response["Reason"]
    assert response["PhysicalResourceId"] == migrations.PHYSICAL_RESOURCE_ID
    assert response["Data"] == {"Applied": ""}
    assert "none needed" in response["Reason"]
    assert _mysql_history(dataapi_function) == history  # not even re-recorded


def test_delete_touches_nothing(
    dataapi_function: MySQLDatabase,
    dataapi_emulator: DataApiEmulator,
    cloudformation: LocalHttpServer,
) -> None:
    # Any Data API call would take this fault and fail: Delete must make none.
    dataapi_emulator.inject_resuming(1)

    migrations.handler(_event("cfn_delete", cloudformation), LambdaContext())

    response = _the_response(cloudformation)
    assert response["Status"] == "SUCCESS", response["Reason"]
    assert response["PhysicalResourceId"] == migrations.PHYSICAL_RESOURCE_ID
    assert _mysql_tables(dataapi_function) == set()  # not even the history table
    # The fault is still there for the next call to take: Delete made no call.
    with pytest.raises(DataApiError) as taken:
        dataapi_emulator.handle("BeginTransaction", {"resourceArn": "a", "secretArn": "s"})
    assert taken.value.code == "DatabaseResumingException"


def test_a_resume_within_the_budget_is_waited_out(
    dataapi_function: MySQLDatabase,
    dataapi_emulator: DataApiEmulator,
    cloudformation: LocalHttpServer,
) -> None:
    dataapi_emulator.inject_resuming(2)  # two back-offs of at most 0.5 s and 1 s

    migrations.handler(_event("cfn_create", cloudformation), LambdaContext())

    response = _the_response(cloudformation)
    assert response["Status"] == "SUCCESS", response["Reason"]
    assert _mysql_tables(dataapi_function) == SCHEMA_TABLES


def test_a_resume_beyond_the_budget_answers_failed_with_the_reason(
    dataapi_function: MySQLDatabase,
    dataapi_emulator: DataApiEmulator,
    cloudformation: LocalHttpServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A budget of 1 s: a back-off or two, then the call gives up (at most 1 s of waiting).
    monkeypatch.setenv("FILESTORE_DATAAPI_RETRY_SECONDS", "1")
    dataapi_emulator.inject_resuming(1000)  # the cluster never wakes up

    migrations.handler(_event("cfn_create", cloudformation), LambdaContext())

    response = _the_response(cloudformation)  # it still arrived
    assert response["Status"] == "FAILED"
    assert response["PhysicalResourceId"] == migrations.PHYSICAL_RESOURCE_ID
    assert "ServiceUnavailable" in response["Reason"]
    assert "waking up" in response["Reason"]
    assert _mysql_tables(dataapi_function) == set()


# --- SQL (SQLite here) ---------------------------------------------------------------------------


@pytest.fixture
def sql_function(lambda_environment: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """The function configured for a SQL database by URL: a new SQLite file."""
    path = tmp_path / "filestore.db"
    lambda_environment.setenv("FILESTORE_DATABASE", "sql")
    lambda_environment.setenv("FILESTORE_DATABASE_URL", sqlite_url(path))
    return path


def _sqlite_tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as connection:
        rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {str(name) for (name,) in rows if not str(name).startswith("sqlite_")}


def _sqlite_versions(path: Path) -> list[int]:
    with sqlite3.connect(path) as connection:
        rows = connection.execute("SELECT version FROM schema_migrations ORDER BY version")
        return [int(v) for (v,) in rows]


def test_create_and_update_migrate_a_sql_database(
    sql_function: Path, cloudformation: LocalHttpServer
) -> None:
    migrations.handler(_event("cfn_create", cloudformation), LambdaContext())

    response = _the_response(cloudformation)
    assert response["Status"] == "SUCCESS", response["Reason"]
    assert response["Data"] == {"Applied": ",".join(map(str, SQLITE_VERSIONS))}
    assert _sqlite_tables(sql_function) == SCHEMA_TABLES
    assert _sqlite_versions(sql_function) == SQLITE_VERSIONS

    cloudformation.requests.clear()
    migrations.handler(_event("cfn_update", cloudformation), LambdaContext())

    response = _the_response(cloudformation)
    assert response["Status"] == "SUCCESS", response["Reason"]
    assert response["Data"] == {"Applied": ""}
    assert _sqlite_versions(sql_function) == SQLITE_VERSIONS


def test_a_sql_database_without_a_url_answers_failed(
    lambda_environment: pytest.MonkeyPatch, cloudformation: LocalHttpServer
) -> None:
    lambda_environment.setenv("FILESTORE_DATABASE", "sql")
    lambda_environment.delenv("FILESTORE_DATABASE_URL", raising=False)

    migrations.handler(_event("cfn_create", cloudformation), LambdaContext())

    response = _the_response(cloudformation)
    assert response["Status"] == "FAILED"
    assert "FILESTORE_DATABASE_URL is unset" in response["Reason"]
    assert response["PhysicalResourceId"] == migrations.PHYSICAL_RESOURCE_ID
