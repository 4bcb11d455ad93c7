"""Fixtures for the database's application user: its secret and the master's in Secrets Manager
(moto), and a Data API emulator that signs each call in as the user of the call's secret, on an
empty database of its own (MariaDB or MySQL), as Aurora would.

Database users are global to a server, and test sessions may share one: each test gets user
names of its own (`fs_app_<random>` and its `_clone`), dropped after it.

Load with `pytest_plugins = ["tests.support.app_user"]` (after `tests.support.mysql` and
`tests.support.aws`).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import boto3
import pymysql
import pytest

from filestore.adapters.dataapi.credentials import generate_password
from filestore.adapters.dataapi.database import DataApiDatabase, RetryBudget
from filestore.adapters.dataapi.rotation import CLONE_SUFFIX
from filestore.settings import Settings
from tests.support.dataapi_emulator import DataApiEmulator
from tests.support.mysql import MySQLDatabase, scratch_database
from tests.support.sql import RESOURCE_ARN, emulator_client

REGION = "us-east-1"
QUICK = RetryBudget(seconds=2.0, first_delay=0.01, max_delay=0.05)


@dataclass(frozen=True)
class AppUserStack:
    """What a deployed stack has for the application user, on local stand-ins."""

    database: MySQLDatabase  # the application's schema (empty), reached as root directly
    username: str  # the application user's base name
    master_secret_arn: str
    app_secret_arn: str
    secretsmanager: Any  # a boto3 client on moto
    moto_endpoint: str
    emulator: DataApiEmulator

    def settings(self, secret_arn: str | None = None) -> Settings:
        """A function's settings: the migrations' and the rotation's sign in as the master."""
        return Settings(
            database="dataapi",
            dataapi_resource_arn=RESOURCE_ARN,
            dataapi_secret_arn=secret_arn or self.master_secret_arn,
            dataapi_database=self.database.database,
            dataapi_app_secret_arn=self.app_secret_arn,
            dataapi_app_username=self.username,
            dataapi_endpoint_url=self.emulator.endpoint_url,
            dataapi_retry_seconds=2.0,
            aws_endpoint_url=self.moto_endpoint,
            aws_region=REGION,
        )

    def data_api(self, secret_arn: str) -> DataApiDatabase:
        """The Data API on the application's schema, signing in with `secret_arn`."""
        return DataApiDatabase(
            emulator_client(self.emulator),
            resource_arn=RESOURCE_ARN,
            secret_arn=secret_arn,
            database=self.database.database,
            retry=QUICK,
        )

    def current(self) -> dict[str, Any]:
        """The application secret's current value."""
        answer = self.secretsmanager.get_secret_value(
            SecretId=self.app_secret_arn, VersionStage="AWSCURRENT"
        )
        value: dict[str, Any] = json.loads(answer["SecretString"])
        return value

    def administer(self, statement: str) -> list[tuple[Any, ...]]:
        """Run `statement` as root, directly (what an operator might do by hand)."""
        with (
            pymysql.connect(**self.database.pymysql_kwargs()) as connection,
            connection.cursor() as cursor,
        ):
            cursor.execute(statement)
            return list(cursor.fetchall())

    def signs_in(self, username: str, password: str) -> bool:
        """Whether `username` can sign in with `password`, straight to MySQL."""
        kwargs = {**self.database.pymysql_kwargs(), "user": username, "password": password}
        kwargs.pop("database", None)  # signing in is all that is asked
        try:
            pymysql.connect(**kwargs).close()
        except pymysql.err.OperationalError:
            return False
        return True


def _secret_reader(client: Any) -> Callable[[str], tuple[str, str]]:
    """The Data API's reading of a secret: its AWSCURRENT version. (Named: moto's default
    version does not follow a label moved by UpdateSecretVersionStage.)"""

    def read(secret_arn: str) -> tuple[str, str]:
        answer = client.get_secret_value(SecretId=secret_arn, VersionStage="AWSCURRENT")
        value = json.loads(answer["SecretString"])
        return str(value["username"]), str(value["password"])

    return read


@contextmanager
def app_user_stack_on(mysql_database: MySQLDatabase, moto_endpoint: str) -> Iterator[AppUserStack]:
    """An empty schema, the master's and a fresh application user's secrets, and an emulator
    that reads them; the users are dropped and the secrets deleted after."""
    client = boto3.client(
        "secretsmanager",
        endpoint_url=moto_endpoint,
        region_name=REGION,
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    username = f"fs_app_{secrets.token_hex(5)}"
    with scratch_database(mysql_database) as database:
        master = client.create_secret(
            Name=f"master-{username}",
            SecretString=json.dumps({"username": database.user, "password": database.password}),
        )["ARN"]
        app = client.create_secret(
            Name=f"app-{username}",
            # As the template's GenerateSecretString writes it.
            SecretString=json.dumps(
                {
                    "username": username,
                    "password": generate_password(),
                    "engine": "mysql",
                    "host": database.host,
                    "port": database.port,
                    "dbname": database.database,
                }
            ),
        )["ARN"]
        emulator = DataApiEmulator(
            host=database.host,
            port=database.port,
            user=database.user,
            password=database.password,
            database=database.database,
            secrets=_secret_reader(client),
        )
        with emulator:
            stack = AppUserStack(
                database=database,
                username=username,
                master_secret_arn=master,
                app_secret_arn=app,
                secretsmanager=client,
                moto_endpoint=moto_endpoint,
                emulator=emulator,
            )
            try:
                yield stack
            finally:
                for name in (username, username + CLONE_SUFFIX):
                    stack.administer(f"DROP USER IF EXISTS '{name}'@'%'")
                for arn in (master, app):
                    client.delete_secret(SecretId=arn, ForceDeleteWithoutRecovery=True)


VICTIM_PASSWORD = "victim-Password-1"


@pytest.fixture
def victim(app_user_stack: AppUserStack) -> Iterator[str]:
    """Another database user (standing for the master), whose password a secret naming it must
    never change. Made for the test, never a real one: a regression must not lock anyone out."""
    name = f"fs_victim_{secrets.token_hex(5)}"
    app_user_stack.administer(f"CREATE USER '{name}'@'%' IDENTIFIED BY '{VICTIM_PASSWORD}'")
    try:
        yield name
    finally:
        app_user_stack.administer(f"DROP USER IF EXISTS '{name}'@'%'")


@pytest.fixture
def app_user_stack(mysql_database: MySQLDatabase, moto_endpoint: str) -> Iterator[AppUserStack]:
    """A stack of its own for one test (see `app_user_stack_on`)."""
    with app_user_stack_on(mysql_database, moto_endpoint) as stack:
        yield stack
