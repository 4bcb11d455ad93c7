"""Secrets Manager rotates the application user's secret through our rotation function.

The tests are synchronous, as Lambda calls the handler: it runs its own event loop.

Secrets Manager's side is played by moto (the test makes the pending version as RotateSecret
does, then calls the function once per step, as the service does); the function's
SQL runs as the master user through the Data API emulator on MariaDB/MySQL, and the application
keeps signing in with its secret throughout.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from filestore.adapters.dataapi.rotation import CLONE_SUFFIX, RotationError
from filestore.adapters.dataapi.users import DatabaseUserError
from filestore.bootstrap import provision_database_user
from filestore.entrypoints import database_users
from filestore.entrypoints.runtime import runtime
from tests.support.app_user import REGION, VICTIM_PASSWORD, AppUserStack
from tests.support.lambda_events import LambdaContext

pytestmark = pytest.mark.integration

STEPS = ["createSecret", "setSecret", "testSecret", "finishSecret"]


@pytest.fixture
def stack(app_user_stack: AppUserStack) -> Iterator[AppUserStack]:
    """A deployed stack: the application user exists (the migrations custom resource's step),
    and the rotation function's settings are in force."""
    app_user_stack.administer("CREATE TABLE notes (id INT PRIMARY KEY, body VARCHAR(20))")
    runtime.set_settings(app_user_stack.settings())
    runtime.run(provision_database_user(app_user_stack.settings()))
    yield app_user_stack
    runtime.set_settings(None)


def start_rotation(stack: AppUserStack) -> str:
    """What RotateSecret does before it calls the function: turn rotation on and add a version
    labelled AWSPENDING with no value yet; its id (the steps' ClientRequestToken).

    moto's RotateSecret, given no Lambda it can run, makes its new version current at once; the
    service does not. So the service's state is written into moto's backend, which runs in this
    process (`ThreadedMotoServer`).
    """
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.secretsmanager.models import secretsmanager_backends

    secret = secretsmanager_backends[DEFAULT_ACCOUNT_ID][REGION].secrets[stack.app_secret_arn]
    token = str(uuid.uuid4())
    secret.remove_version_stages_from_old_versions(["AWSPENDING"])
    secret.versions[token] = {
        "createdate": int(time.time()),
        "version_id": token,
        "version_stages": ["AWSPENDING"],
    }
    secret.rotation_requested = secret.rotation_enabled = True
    secret.rotation_lambda_arn = f"arn:aws:lambda:{REGION}:{DEFAULT_ACCOUNT_ID}:function:rotation"
    secret.auto_rotate_after_days = 30
    return token


def step(stack: AppUserStack, name: str, token: str, secret_id: str | None = None) -> None:
    event = {
        "Step": name,
        "SecretId": secret_id or stack.app_secret_arn,
        "ClientRequestToken": token,
    }
    assert database_users.rotation_handler(event, LambdaContext(remaining_ms=60_000)) is None


def rotate(stack: AppUserStack) -> str:
    token = start_rotation(stack)
    for name in STEPS:
        step(stack, name, token)
    return token


async def app_can_work(stack: AppUserStack) -> None:
    """The application, signing in with its secret, reads and writes as the secret's user."""
    app = stack.data_api(stack.app_secret_arn).autocommit()
    assert await app.execute("INSERT INTO notes (id, body) VALUES (1, 'a')") == 1
    assert await app.execute("UPDATE notes SET body = 'b' WHERE id = 1") == 1
    assert await app.fetch("SELECT body FROM notes") == [["b"]]
    assert await app.execute("DELETE FROM notes") == 1
    (who,) = await app.fetch("SELECT CURRENT_USER()")
    assert who == [f"{stack.current()['username']}@%"]


def test_a_rotation_moves_the_application_to_the_other_user(stack: AppUserStack) -> None:
    before = stack.current()
    token = rotate(stack)
    after = stack.current()
    assert after["username"] == stack.username + CLONE_SUFFIX
    assert after["password"] != before["password"]
    # Host, port, engine, schema: kept.
    assert {k: v for k, v in after.items() if k not in ("username", "password")} == {
        k: v for k, v in before.items() if k not in ("username", "password")
    }
    versions = stack.secretsmanager.describe_secret(SecretId=stack.app_secret_arn)
    assert "AWSCURRENT" in versions["VersionIdsToStages"][token]
    runtime.run(app_can_work(stack))
    # The user the application used until now still signs in: a caller holding the previous
    # version keeps working while it catches up.
    assert stack.signs_in(before["username"], before["password"])
    assert stack.signs_in(after["username"], after["password"])


def test_the_next_rotation_comes_back_to_the_first_user_with_a_new_password(
    stack: AppUserStack,
) -> None:
    first = stack.current()
    rotate(stack)
    second = stack.current()
    rotate(stack)
    third = stack.current()
    assert third["username"] == first["username"]
    assert third["password"] not in (first["password"], second["password"])
    assert not stack.signs_in(first["username"], first["password"])
    assert stack.signs_in(second["username"], second["password"])
    runtime.run(app_can_work(stack))
    # The clone got the same rights as the first user, no more.
    grants = stack.administer(f"SHOW GRANTS FOR '{second['username']}'@'%'")
    schema = stack.database.database.replace("_", "\\_")
    assert [g for (g,) in grants if "USAGE" not in g] == [
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON `{schema}`.* TO `{second['username']}`@`%`"
    ]


def test_each_step_may_run_twice(stack: AppUserStack) -> None:
    token = start_rotation(stack)
    step(stack, "createSecret", token)
    pending = stack.secretsmanager.get_secret_value(
        SecretId=stack.app_secret_arn, VersionId=token, VersionStage="AWSPENDING"
    )["SecretString"]
    for name in STEPS:
        step(stack, name, token)
        step(stack, name, token)  # Secrets Manager retries a step that timed out
    assert stack.current() == json.loads(pending)
    runtime.run(app_can_work(stack))


def test_the_test_step_fails_when_the_password_is_not_the_pending_one(
    stack: AppUserStack,
) -> None:
    token = start_rotation(stack)
    step(stack, "createSecret", token)
    step(stack, "setSecret", token)
    stack.administer(f"ALTER USER '{stack.username}{CLONE_SUFFIX}'@'%' IDENTIFIED BY 'changed'")
    with pytest.raises(DatabaseUserError, match="password"):
        step(stack, "testSecret", token)


def test_the_test_step_fails_when_the_user_holds_more_than_dml(stack: AppUserStack) -> None:
    token = start_rotation(stack)
    step(stack, "createSecret", token)
    step(stack, "setSecret", token)
    schema = stack.database.database.replace("_", "\\_")
    stack.administer(f"GRANT CREATE ON `{schema}`.* TO '{stack.username}{CLONE_SUFFIX}'@'%'")
    with pytest.raises(DatabaseUserError, match="should hold"):
        step(stack, "testSecret", token)


def test_a_new_rotation_configuration_is_tested_on_the_current_credentials(
    stack: AppUserStack,
) -> None:
    """With RotateImmediately off, Secrets Manager runs testSecret alone on a new schedule."""
    token = start_rotation(stack)
    step(stack, "testSecret", token)
    stack.administer(f"ALTER USER '{stack.username}'@'%' IDENTIFIED BY 'drifted'")
    with pytest.raises(DatabaseUserError, match="password"):
        step(stack, "testSecret", token)


def test_a_pending_version_naming_another_user_is_never_set(
    stack: AppUserStack, victim: str
) -> None:
    token = start_rotation(stack)
    value: dict[str, Any] = {**stack.current(), "username": victim, "password": "pwned"}
    stack.secretsmanager.put_secret_value(
        SecretId=stack.app_secret_arn,
        ClientRequestToken=token,
        SecretString=json.dumps(value),
        VersionStages=["AWSPENDING"],
    )
    with pytest.raises(DatabaseUserError, match="not the application user"):
        step(stack, "setSecret", token)
    assert stack.signs_in(victim, VICTIM_PASSWORD)


def test_the_function_rotates_only_its_own_secret(stack: AppUserStack) -> None:
    token = start_rotation(stack)
    with pytest.raises(database_users.RotationRefused, match="only its own secret"):
        step(stack, "createSecret", token, secret_id=stack.master_secret_arn)
    with pytest.raises(database_users.RotationRefused, match="unknown rotation step"):
        step(stack, "dropEverything", token)


def test_a_version_that_is_not_pending_is_refused(stack: AppUserStack) -> None:
    with pytest.raises(RotationError, match="rotation is not enabled"):
        step(stack, "createSecret", "00000000-0000-4000-8000-000000000000")
    start_rotation(stack)
    with pytest.raises(RotationError, match="no version"):
        step(stack, "createSecret", "00000000-0000-4000-8000-000000000000")
    current = stack.secretsmanager.describe_secret(SecretId=stack.app_secret_arn)
    previous = [v for v, s in current["VersionIdsToStages"].items() if "AWSCURRENT" in s]
    token = rotate(stack)
    assert token not in previous
    with pytest.raises(RotationError, match="not pending"):
        step(stack, "setSecret", previous[0])  # now AWSPREVIOUS


def test_a_deploy_in_the_middle_of_a_rotation_leaves_it_whole(stack: AppUserStack) -> None:
    before = stack.current()
    token = start_rotation(stack)
    step(stack, "createSecret", token)
    step(stack, "setSecret", token)
    # The migrations custom resource re-applies the current version meanwhile.
    assert runtime.run(provision_database_user(stack.settings())) == before["username"]
    step(stack, "testSecret", token)
    step(stack, "finishSecret", token)
    assert stack.current()["username"] == stack.username + CLONE_SUFFIX
    runtime.run(app_can_work(stack))
    assert stack.signs_in(before["username"], before["password"])
