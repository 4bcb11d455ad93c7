"""The deploy sets up the application user: DML on its schema, nothing else.

The migrations custom resource runs as the master user through the Data API (the emulator on
MariaDB/MySQL, signing each call in as the user of its secret, read from Secrets Manager on moto)
and answers CloudFormation over real HTTP. Then the application signs in with its own secret,
as every function but two does on AWS.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from filestore.adapters.dataapi.users import DatabaseUserError
from filestore.adapters.sql.executor import SqlError
from filestore.bootstrap import provision_database_user
from filestore.entrypoints import migrations
from filestore.entrypoints.runtime import runtime
from tests.factories import make_upload, make_user
from tests.support.app_user import VICTIM_PASSWORD, AppUserStack, app_user_stack_on
from tests.support.lambda_events import LambdaContext, load_event
from tests.support.local_http import LocalHttpServer
from tests.support.mysql import MySQLDatabase

pytestmark = pytest.mark.integration


def deploy(stack: AppUserStack) -> None:
    """Run the migrations custom resource as CloudFormation does on a stack's creation."""
    runtime.set_settings(stack.settings())
    try:
        with LocalHttpServer() as cloudformation:
            event = load_event("cfn_create")
            event["ResponseURL"] = f"{cloudformation.base_url}/cfn?X-Amz-Signature=abc"
            response = migrations.handler(event, LambdaContext(remaining_ms=120_000))
    finally:
        runtime.set_settings(None)
    assert response["Status"] == "SUCCESS", response["Reason"]
    [put] = [r.json() for r in cloudformation.requests_for("/cfn")]
    assert put["Status"] == "SUCCESS"


@pytest.fixture(scope="module")
def deployed_once(mysql_database: MySQLDatabase, moto_endpoint: str) -> Iterator[AppUserStack]:
    """One deployed stack, for the tests that change nothing of it but rows."""
    with app_user_stack_on(mysql_database, moto_endpoint) as stack:
        deploy(stack)
        yield stack


@pytest.fixture
def deployed(app_user_stack: AppUserStack) -> AppUserStack:
    """A stack of its own after its migrations custom resource answered SUCCESS."""
    deploy(app_user_stack)
    return app_user_stack


async def test_the_application_reads_and_writes_as_its_own_user(
    deployed_once: AppUserStack,
) -> None:
    deployed = deployed_once
    app = deployed.data_api(deployed.app_secret_arn)
    user = make_user()
    async with app.uow_factory()() as uow:
        await uow.users.add(user)
        await uow.uploads.add(make_upload(user))
        await uow.commit()
    async with app.uow_factory()() as uow:
        loaded = await uow.users.get(user.id)
        assert loaded is not None and loaded.email == user.email
    executor = app.autocommit()
    assert await executor.execute("UPDATE users SET email = 'b@example.com'") == 1
    assert await executor.execute("DELETE FROM uploads") == 1
    assert await executor.fetch("SELECT CURRENT_USER()") == [[f"{deployed.username}@%"]]


@pytest.mark.parametrize(
    "statement",
    [
        "CREATE TABLE intruder (id INT)",
        "DROP TABLE outbox",
        "ALTER TABLE users ADD COLUMN intruder INT",
        "TRUNCATE TABLE outbox",
        "CREATE INDEX intruder ON users (email)",
        "GRANT SELECT ON {schema}.* TO '{user}'@'%'",
        "CREATE USER 'intruder'@'%' IDENTIFIED BY 'x'",
        "SELECT COUNT(*) FROM mysql.user",
        "CREATE DATABASE intruder",
    ],
)
async def test_the_application_user_cannot_change_the_schema_or_grant(
    deployed_once: AppUserStack, statement: str
) -> None:
    deployed = deployed_once
    app = deployed.data_api(deployed.app_secret_arn).autocommit()
    sql = statement.format(schema=deployed.database.database, user=deployed.username)
    with pytest.raises(SqlError, match="denied"):
        await app.fetch(sql) if sql.startswith("SELECT") else await app.execute(sql)


def test_the_user_holds_exactly_dml_on_the_schema(deployed_once: AppUserStack) -> None:
    deployed = deployed_once
    grants = [row[0] for row in deployed.administer(f"SHOW GRANTS FOR '{deployed.username}'@'%'")]
    schema = deployed.database.database.replace("_", "\\_")
    assert [g for g in grants if "USAGE" not in g] == [
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON `{schema}`.* TO `{deployed.username}`@`%`"
    ]


async def test_provisioning_again_is_a_no_op_and_follows_a_new_password(
    deployed: AppUserStack,
) -> None:
    settings = deployed.settings()
    assert await provision_database_user(settings) == deployed.username
    old = deployed.current()
    # Someone changes the secret's value by hand; the next deploy makes the database follow.
    new = {**old, "password": "another-Password-1"}
    deployed.secretsmanager.put_secret_value(
        SecretId=deployed.app_secret_arn, SecretString=json.dumps(new)
    )
    assert await provision_database_user(settings) == deployed.username
    assert deployed.signs_in(deployed.username, "another-Password-1")
    assert not deployed.signs_in(deployed.username, old["password"])
    app = deployed.data_api(deployed.app_secret_arn).autocommit()
    assert await app.fetch("SELECT 1") == [[1]]


async def test_a_secret_naming_another_user_is_refused(
    app_user_stack: AppUserStack, victim: str
) -> None:
    # Whoever can write the application's secret must not reset the master user's password.
    value: dict[str, Any] = {**app_user_stack.current(), "username": victim, "password": "pwned"}
    app_user_stack.secretsmanager.put_secret_value(
        SecretId=app_user_stack.app_secret_arn, SecretString=json.dumps(value)
    )
    with pytest.raises(DatabaseUserError, match="not the application user"):
        await provision_database_user(app_user_stack.settings())
    assert app_user_stack.signs_in(victim, VICTIM_PASSWORD)
    assert not app_user_stack.administer(f"SHOW GRANTS FOR '{victim}'@'%'")[1:]


@pytest.mark.parametrize(
    "password", ["it's", "quote'); DROP TABLE users; --", "100%_sure", "dollar$$and::colons"]
)
async def test_passwords_with_sql_metacharacters_are_set_literally(
    app_user_stack: AppUserStack, password: str
) -> None:
    value = {**app_user_stack.current(), "password": password}
    app_user_stack.secretsmanager.put_secret_value(
        SecretId=app_user_stack.app_secret_arn, SecretString=json.dumps(value)
    )
    assert await provision_database_user(app_user_stack.settings()) == app_user_stack.username
    assert app_user_stack.signs_in(app_user_stack.username, password)


async def test_a_password_with_a_backslash_is_refused_before_any_sql(
    app_user_stack: AppUserStack,
) -> None:
    value = {**app_user_stack.current(), "password": "back\\slash"}
    app_user_stack.secretsmanager.put_secret_value(
        SecretId=app_user_stack.app_secret_arn, SecretString=json.dumps(value)
    )
    with pytest.raises(DatabaseUserError, match="backslash"):
        await provision_database_user(app_user_stack.settings())
    assert not app_user_stack.administer(
        f"SELECT 1 FROM mysql.user WHERE User = '{app_user_stack.username}'"
    )


def test_a_failed_provisioning_fails_the_deploy(app_user_stack: AppUserStack, victim: str) -> None:
    """The functions switch to the application's secret only after this custom resource: a
    user that could not be set up must stop the deploy, not break every function."""
    runtime.set_settings(app_user_stack.settings())
    app_user_stack.secretsmanager.put_secret_value(
        SecretId=app_user_stack.app_secret_arn,
        SecretString=json.dumps({**app_user_stack.current(), "username": victim}),
    )
    try:
        with LocalHttpServer() as cloudformation:
            event = load_event("cfn_update")
            event["ResponseURL"] = f"{cloudformation.base_url}/cfn"
            response = migrations.handler(event, LambdaContext(remaining_ms=60_000))
    finally:
        runtime.set_settings(None)
    assert response["Status"] == "FAILED"
    assert "not the application user" in response["Reason"]
