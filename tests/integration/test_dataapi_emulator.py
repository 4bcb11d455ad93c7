"""The Data API emulator, driven by boto3's ``rds-data`` client, on a real MySQL or MariaDB."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

import boto3
import pymysql
import pytest
from botocore.config import Config

from tests.support.dataapi_emulator import DataApiEmulator
from tests.support.mysql import MySQLDatabase

if TYPE_CHECKING:
    from mypy_boto3_rds_data import RDSDataServiceClient
    from mypy_boto3_rds_data.type_defs import SqlParameterTypeDef

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


class Arns(TypedDict):
    resourceArn: str
    secretArn: str


# Any ARNs will do: the emulator only checks that they are there.
ARNS: Arns = {
    "resourceArn": "arn:aws:rds:eu-west-1:123456789012:cluster:filestore",
    "secretArn": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:filestore-abc123",
}


def client_for(endpoint_url: str) -> RDSDataServiceClient:
    return boto3.client(
        "rds-data",
        endpoint_url=endpoint_url,
        region_name="eu-west-1",
        aws_access_key_id="testing",  # Dummies: the emulator checks no signature.
        aws_secret_access_key="testing",
        # One attempt: a test must see every answer the emulator gives.
        config=Config(retries={"max_attempts": 1, "mode": "standard"}),
    )


def param(name: str, type_hint: str | None = None, **value: Any) -> SqlParameterTypeDef:
    parameter: dict[str, Any] = {"name": name, "value": value}
    if type_hint is not None:
        parameter["typeHint"] = type_hint
    return parameter  # type: ignore[return-value]


@pytest.fixture
def emulator(dataapi_emulator: DataApiEmulator) -> Iterator[DataApiEmulator]:
    yield dataapi_emulator
    dataapi_emulator.reset_faults()  # A failed test must not leave faults to the next one.


@pytest.fixture
def client(emulator: DataApiEmulator) -> RDSDataServiceClient:
    return client_for(emulator.endpoint_url)


@pytest.fixture
def table(client: RDSDataServiceClient) -> Iterator[str]:
    """A table of files, of its own for each test."""
    name = f"files_{secrets.token_hex(4)}"
    client.execute_statement(
        **ARNS,
        sql=f"""
            CREATE TABLE {name} (
                id BIGINT AUTO_INCREMENT PRIMARY KEY,
                name VARCHAR(100) NOT NULL UNIQUE,
                created_at DATETIME(6) NULL,
                size DECIMAL(12, 2) NULL,
                ratio DOUBLE NULL,
                public BIT(1) NULL,
                checksum VARBINARY(32) NULL,
                note TEXT NULL,
                day DATE NULL,
                at TIME(6) NULL,
                doc JSON NULL,
                ref CHAR(36) NULL
            ) CHARACTER SET utf8mb4
        """,
    )
    yield name
    client.execute_statement(**ARNS, sql=f"DROP TABLE IF EXISTS {name}")


def insert_name(client: RDSDataServiceClient, table: str, name: str, **kwargs: Any) -> Any:
    return client.execute_statement(
        **ARNS,
        sql=f"INSERT INTO {table} (name) VALUES (:name)",
        parameters=[param("name", stringValue=name)],
        **kwargs,
    )


def names(client: RDSDataServiceClient, table: str) -> list[str]:
    response = client.execute_statement(**ARNS, sql=f"SELECT name FROM {table} ORDER BY id")
    return [row[0]["stringValue"] for row in response["records"]]


def test_typed_parameters_are_stored_and_read_back_as_data_api_fields(
    client: RDSDataServiceClient, table: str
) -> None:
    inserted = client.execute_statement(
        **ARNS,
        sql=f"""
            INSERT INTO {table} (name, created_at, size, ratio, public, checksum, note, day, at,
                                 doc, ref)
            VALUES (:name, :created_at, :size, :ratio, :public, :checksum, :note, :day, :at,
                    :doc, :ref)
        """,
        parameters=[
            param("name", stringValue="Zoë's plan 🗂️.pdf"),
            param("created_at", "TIMESTAMP", stringValue="2024-02-29 23:59:58.123456"),
            param("size", "DECIMAL", stringValue="1234.50"),
            param("ratio", doubleValue=0.25),
            param("public", booleanValue=True),
            param("checksum", blobValue=b"\x00\xffsha"),
            param("note", isNull=True),
            param("day", "DATE", stringValue="2024-03-01"),
            param("at", "TIME", stringValue="12:34:56.5"),
            param("doc", "JSON", stringValue='{"a": [1, 2]}'),
            param("ref", "UUID", stringValue="0192f8e4-6d6b-7c3e-8f2a-3b1c9d4e5f60"),
        ],
    )
    assert inserted["numberOfRecordsUpdated"] == 1
    generated = inserted["generatedFields"]
    assert len(generated) == 1
    new_id = generated[0]["longValue"]

    selected = client.execute_statement(
        **ARNS,
        sql=f"""
            SELECT id, name, created_at, size, ratio, public, checksum, note, day, at, doc, ref
            FROM {table} WHERE id = :id
        """,
        parameters=[param("id", longValue=new_id)],
    )

    assert selected["records"] == [
        [
            {"longValue": new_id},
            {"stringValue": "Zoë's plan 🗂️.pdf"},
            {"stringValue": "2024-02-29 23:59:58.123456"},
            {"stringValue": "1234.50"},
            {"doubleValue": 0.25},
            {"booleanValue": True},
            {"blobValue": b"\x00\xffsha"},
            {"isNull": True},
            {"stringValue": "2024-03-01"},
            {"stringValue": "12:34:56.500000"},
            {"stringValue": '{"a": [1, 2]}'},
            {"stringValue": "0192f8e4-6d6b-7c3e-8f2a-3b1c9d4e5f60"},
        ]
    ]
    assert selected["numberOfRecordsUpdated"] == 0


def test_timestamps_without_fraction_read_back_without_one(
    client: RDSDataServiceClient, table: str
) -> None:
    client.execute_statement(
        **ARNS,
        sql=f"INSERT INTO {table} (name, created_at) VALUES ('a', :at)",
        parameters=[param("at", "TIMESTAMP", stringValue="2024-01-02 03:04:05")],
    )

    response = client.execute_statement(**ARNS, sql=f"SELECT created_at FROM {table}")

    assert response["records"] == [[{"stringValue": "2024-01-02 03:04:05"}]]


def test_a_malformed_type_hinted_value_is_a_bad_request(
    client: RDSDataServiceClient, table: str
) -> None:
    with pytest.raises(client.exceptions.BadRequestException, match="TIMESTAMP"):
        client.execute_statement(
            **ARNS,
            sql=f"INSERT INTO {table} (name, created_at) VALUES ('a', :at)",
            parameters=[param("at", "TIMESTAMP", stringValue="2024-01-02T03:04:05Z")],
        )


def test_column_metadata_and_json_records_on_request(
    client: RDSDataServiceClient, table: str
) -> None:
    insert_name(client, table, "report.pdf")

    response = client.execute_statement(
        **ARNS,
        sql=f"SELECT id, name AS file_name, size FROM {table}",
        includeResultMetadata=True,
        formatRecordsAs="JSON",
    )

    assert "records" not in response
    rows = json.loads(response["formattedRecords"])
    assert rows == [{"id": rows[0]["id"], "file_name": "report.pdf", "size": None}]
    metadata = response["columnMetadata"]
    assert [(column["label"], column["typeName"]) for column in metadata] == [
        ("id", "BIGINT"),
        ("file_name", "VARCHAR"),
        ("size", "DECIMAL"),
    ]
    assert metadata[0]["isAutoIncrement"] is True
    assert metadata[1]["name"] == "name"
    assert metadata[1]["tableName"] == table
    assert metadata[1]["nullable"] == 0
    assert metadata[2]["scale"] == 2


def test_batch_execute_returns_each_generated_id(client: RDSDataServiceClient, table: str) -> None:
    response = client.batch_execute_statement(
        **ARNS,
        sql=f"INSERT INTO {table} (name) VALUES (:name)",
        parameterSets=[[param("name", stringValue=f"file-{i}")] for i in range(3)],
    )

    ids = [result["generatedFields"][0]["longValue"] for result in response["updateResults"]]
    assert len(ids) == 3
    assert ids == sorted(ids)
    assert len(set(ids)) == 3
    assert names(client, table) == ["file-0", "file-1", "file-2"]


def test_a_committed_transaction_is_visible_and_only_then(
    client: RDSDataServiceClient, table: str
) -> None:
    transaction_id = client.begin_transaction(**ARNS)["transactionId"]
    insert_name(client, table, "inside.txt", transactionId=transaction_id)
    assert names(client, table) == []

    committed = client.commit_transaction(**ARNS, transactionId=transaction_id)

    assert committed["transactionStatus"] == "Transaction Committed"
    assert names(client, table) == ["inside.txt"]


def test_a_rolled_back_transaction_leaves_nothing(client: RDSDataServiceClient, table: str) -> None:
    transaction_id = client.begin_transaction(**ARNS)["transactionId"]
    insert_name(client, table, "undone.txt", transactionId=transaction_id)

    rolled_back = client.rollback_transaction(**ARNS, transactionId=transaction_id)

    assert rolled_back["transactionStatus"] == "Rollback Complete"
    assert names(client, table) == []


def test_a_transaction_survives_a_failed_statement(
    client: RDSDataServiceClient, table: str
) -> None:
    transaction_id = client.begin_transaction(**ARNS)["transactionId"]
    insert_name(client, table, "kept.txt", transactionId=transaction_id)
    with pytest.raises(client.exceptions.BadRequestException, match="Duplicate entry"):
        insert_name(client, table, "kept.txt", transactionId=transaction_id)

    client.commit_transaction(**ARNS, transactionId=transaction_id)

    assert names(client, table) == ["kept.txt"]


@pytest.mark.parametrize(
    "call", ["execute_statement", "commit_transaction", "rollback_transaction"]
)
def test_an_unknown_transaction_is_not_found(client: RDSDataServiceClient, call: str) -> None:
    arguments: dict[str, Any] = {**ARNS, "transactionId": "bm8tc3VjaC10cmFuc2FjdGlvbg=="}
    if call == "execute_statement":
        arguments["sql"] = "SELECT 1"

    with pytest.raises(client.exceptions.BadRequestException, match="is not found"):
        getattr(client, call)(**arguments)


def test_an_ended_transaction_is_not_found(client: RDSDataServiceClient) -> None:
    transaction_id = client.begin_transaction(**ARNS)["transactionId"]
    client.commit_transaction(**ARNS, transactionId=transaction_id)

    with pytest.raises(client.exceptions.BadRequestException, match="is not found"):
        client.execute_statement(**ARNS, sql="SELECT 1", transactionId=transaction_id)


def test_an_idle_transaction_is_rolled_back_after_its_timeout(
    mysql_database: MySQLDatabase, table: str
) -> None:
    with DataApiEmulator(
        host=mysql_database.host,
        port=mysql_database.port,
        user=mysql_database.user,
        password=mysql_database.password,
        database=mysql_database.database,
        transaction_timeout=0.2,
    ) as emulator:
        client = client_for(emulator.endpoint_url)
        transaction_id = client.begin_transaction(**ARNS)["transactionId"]
        insert_name(client, table, "abandoned.txt", transactionId=transaction_id)

        # Poll rather than sleep a fixed time: how soon the reaper runs is not the point.
        deadline = time.monotonic() + 30
        while emulator.open_transactions and time.monotonic() < deadline:
            time.sleep(0.05)

        assert emulator.open_transactions == 0
        with pytest.raises(client.exceptions.BadRequestException, match="is not found"):
            client.commit_transaction(**ARNS, transactionId=transaction_id)
        assert names(client, table) == []


def test_every_call_is_counted_and_slowed_by_the_latency_asked_for(
    mysql_database: MySQLDatabase, table: str
) -> None:
    slept: list[float] = []
    with DataApiEmulator(
        host=mysql_database.host,
        port=mysql_database.port,
        user=mysql_database.user,
        password=mysql_database.password,
        database=mysql_database.database,
    ) as emulator:
        emulator.latency_ms = 100
        emulator.sleep = slept.append  # Record the waits: a test asserts no wall-clock time.
        client = client_for(emulator.endpoint_url)
        transaction_id = client.begin_transaction(**ARNS)["transactionId"]
        insert_name(client, table, "slow.txt", transactionId=transaction_id)
        client.commit_transaction(**ARNS, transactionId=transaction_id)
        emulator.latency_ms = 0
        assert names(client, table) == ["slow.txt"]

    assert slept == [0.1, 0.1, 0.1]
    assert emulator.calls == {
        "BeginTransaction": 1,
        "ExecuteStatement": 2,
        "CommitTransaction": 1,
    }


def test_a_sql_error_is_a_bad_request_with_the_database_message(
    client: RDSDataServiceClient, table: str
) -> None:
    insert_name(client, table, "twice.txt")

    with pytest.raises(client.exceptions.BadRequestException) as raised:
        insert_name(client, table, "twice.txt")

    error = raised.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert "Duplicate entry 'twice.txt'" in error["Error"]["Message"]
    assert "1062" in error["Error"]["Message"]


def test_a_syntax_error_is_a_bad_request(client: RDSDataServiceClient) -> None:
    with pytest.raises(client.exceptions.BadRequestException, match="SQL syntax"):
        client.execute_statement(**ARNS, sql="SELEKT 1")


def test_resuming_is_answered_exactly_as_often_as_injected(
    emulator: DataApiEmulator, client: RDSDataServiceClient
) -> None:
    emulator.inject_resuming(3)

    for _ in range(3):
        with pytest.raises(client.exceptions.DatabaseResumingException) as raised:
            client.execute_statement(**ARNS, sql="SELECT 1")
        assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
        assert "resuming" in raised.value.response["Error"]["Message"]
    response = client.execute_statement(**ARNS, sql="SELECT 1")

    assert response["records"] == [[{"longValue": 1}]]


def test_an_injected_statement_timeout_does_not_run_the_statement(
    emulator: DataApiEmulator, client: RDSDataServiceClient, table: str
) -> None:
    emulator.inject_statement_timeout(1)

    with pytest.raises(client.exceptions.StatementTimeoutException):
        insert_name(client, table, "late.txt")

    assert names(client, table) == []


def test_resuming_also_answers_begin_transaction_but_not_commit(
    emulator: DataApiEmulator, client: RDSDataServiceClient
) -> None:
    transaction_id = client.begin_transaction(**ARNS)["transactionId"]
    emulator.inject_resuming(1)

    client.commit_transaction(**ARNS, transactionId=transaction_id)  # Not an operation it fails.
    with pytest.raises(client.exceptions.DatabaseResumingException):
        client.begin_transaction(**ARNS)


def test_placeholders_in_literals_identifiers_and_comments_are_left_alone(
    client: RDSDataServiceClient,
) -> None:
    response = client.execute_statement(
        **ARNS,
        sql="""
            SELECT ':name' AS literal, "it's :name" AS quoted, :name AS bound,
                   `:name`.v AS identifier, '100%' AS percent -- :name
            FROM (SELECT 1 AS v) AS `:name` /* :name */ # :name
        """,
        parameters=[param("name", stringValue="value")],
    )

    assert response["records"] == [
        [
            {"stringValue": ":name"},
            {"stringValue": "it's :name"},
            {"stringValue": "value"},
            {"longValue": 1},
            {"stringValue": "100%"},
        ]
    ]


def test_a_missing_parameter_is_a_bad_request(client: RDSDataServiceClient) -> None:
    with pytest.raises(client.exceptions.BadRequestException, match="missing"):
        client.execute_statement(
            **ARNS,
            sql="SELECT :present, :missing",
            parameters=[param("present", longValue=1)],
        )


def test_an_unknown_parameter_is_a_bad_request(client: RDSDataServiceClient) -> None:
    with pytest.raises(client.exceptions.BadRequestException, match="Cannot find parameter"):
        client.execute_statement(**ARNS, sql="SELECT 1", parameters=[param("stray", longValue=1)])


def test_array_parameters_are_refused(client: RDSDataServiceClient) -> None:
    with pytest.raises(client.exceptions.BadRequestException, match="Array"):
        client.execute_statement(
            **ARNS,
            sql="SELECT :ids",
            parameters=[param("ids", arrayValue={"longValues": [1, 2]})],
        )


def test_the_database_parameter_selects_the_schema(
    client: RDSDataServiceClient, mysql_database: MySQLDatabase
) -> None:
    default = client.execute_statement(**ARNS, sql="SELECT DATABASE()")
    chosen = client.execute_statement(
        **ARNS, sql="SELECT DATABASE()", database="information_schema"
    )

    assert default["records"] == [[{"stringValue": mysql_database.database}]]
    assert chosen["records"] == [[{"stringValue": "information_schema"}]]


def test_writes_are_visible_to_other_drivers(
    client: RDSDataServiceClient, table: str, mysql_database: MySQLDatabase
) -> None:
    insert_name(client, table, "shared.txt")

    with (
        pymysql.connect(**mysql_database.pymysql_kwargs()) as connection,
        connection.cursor() as cursor,
    ):
        cursor.execute(f"SELECT name FROM {table}")
        assert cursor.fetchall() == (("shared.txt",),)


def test_runs_from_the_command_line(mysql_database: MySQLDatabase) -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.support.dataapi_emulator",
            "--mysql-url",
            mysql_database.url,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        # As the benchmarks run it: from the project's root, the package need not be installed.
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), *sys.path])},
    )
    try:
        assert process.stdout is not None
        endpoint_url = process.stdout.readline().strip()
        response = client_for(endpoint_url).execute_statement(**ARNS, sql="SELECT DATABASE()")
        assert response["records"] == [[{"stringValue": mysql_database.database}]]
    finally:
        process.terminate()
        assert process.wait(timeout=30) == 0
