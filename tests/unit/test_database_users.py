"""The application user's SQL is built only from names and passwords that cannot break out of it,
and its secret's credentials never show in a log line. (Against MariaDB: tests/integration.)"""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from filestore.adapters.dataapi.credentials import (
    EXCLUDED_CHARACTERS,
    PASSWORD_ALPHABET,
    DatabaseCredentials,
    SecretFormatError,
    generate_password,
)
from filestore.adapters.dataapi.rotation import app_usernames
from filestore.adapters.dataapi.users import (
    DatabaseUserError,
    native_password_hash,
    password_literal,
    schema_pattern,
    user_literal,
)
from filestore.bootstrap import provision_database_user, rotate_database_secret
from filestore.entrypoints import database_users
from filestore.entrypoints.runtime import runtime
from filestore.settings import Settings
from tests.support.lambda_events import LambdaContext


@pytest.mark.parametrize("name", ["filestore_app", "a", "app_2", "x" * 32])
def test_valid_user_names_are_quoted_as_they_are(name: str) -> None:
    assert user_literal(name) == f"'{name}'@'%'"


@pytest.mark.parametrize(
    "name",
    ["", "Filestore", "1app", "app-user", "app'@'%", "app;DROP", "root`", "x" * 33, "é"],
)
def test_other_user_names_are_refused(name: str) -> None:
    with pytest.raises(DatabaseUserError, match="not a valid application user name"):
        user_literal(name)


@pytest.mark.parametrize(
    ("password", "literal"),
    [
        ("plain", "'plain'"),
        ("it's", "'it''s'"),
        ("''", "''''''"),
        ("a%_b$:c", "'a%_b$:c'"),
    ],
)
def test_passwords_become_literals_with_quotes_doubled(password: str, literal: str) -> None:
    assert password_literal(password) == literal


@pytest.mark.parametrize("password", ["", "back\\slash", "new\nline", "nul\x00", "café"])
def test_passwords_that_could_mean_two_things_are_refused(password: str) -> None:
    with pytest.raises(DatabaseUserError):
        password_literal(password)


def test_a_schema_is_granted_on_exactly_itself() -> None:
    assert schema_pattern("filestore") == "`filestore`"
    assert schema_pattern("file_store") == "`file\\_store`"  # `_` alone would be a wildcard
    for bad in ["", "a`b", "a.b", "a b", "x" * 65]:
        with pytest.raises(DatabaseUserError):
            schema_pattern(bad)


def test_the_native_password_hash_is_mysqls() -> None:
    # MySQL: SELECT CONCAT('*', UPPER(SHA1(UNHEX(SHA1('pa''ss2')))))
    assert native_password_hash("pa'ss2") == "*21BA3D781DF28A3074C5C84575E6B4AC97E9D3EC"
    inner = hashlib.sha1(b"x").digest()
    assert native_password_hash("x") == "*" + hashlib.sha1(inner).hexdigest().upper()


def test_generated_passwords_avoid_the_excluded_characters() -> None:
    assert not set(EXCLUDED_CHARACTERS) & set(PASSWORD_ALPHABET)
    passwords = {generate_password() for _ in range(50)}
    assert len(passwords) == 50
    for password in passwords:
        assert len(password) == 32
        assert password_literal(password)  # always usable in the SQL


def test_credentials_keep_the_other_fields_and_hide_the_password() -> None:
    text = '{"username": "app", "password": "s3cret", "host": "h", "port": 3306}'
    credentials = DatabaseCredentials.from_json(text)
    assert "s3cret" not in repr(credentials)
    moved = credentials.with_login("app_clone", "n3w")
    assert DatabaseCredentials.from_json(moved.to_json()) == moved
    assert dict(moved.other) == {"host": "h", "port": 3306}


@pytest.mark.parametrize(
    "text", ["not json", "[]", '{"username": "app"}', '{"username": 1, "password": "x"}']
)
def test_a_secret_that_is_not_credentials_is_named_so(text: str) -> None:
    with pytest.raises(SecretFormatError):
        DatabaseCredentials.from_json(text)


def test_the_application_user_alternates_between_two_names() -> None:
    assert app_usernames("filestore_app") == {"filestore_app", "filestore_app_clone"}
    with pytest.raises(DatabaseUserError):
        app_usernames("x" * 30)  # its clone would be too long


# --- the rotation function's event -------------------------------------------------------------

SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:filestore-app-AbCdEf"


@pytest.fixture
def calls() -> Any:
    runtime.set_settings(Settings(database="dataapi", dataapi_app_secret_arn=SECRET))
    made: list[dict[str, Any]] = []

    async def run(settings: Settings, **request: Any) -> None:
        made.append(request)

    yield made, run
    runtime.set_settings(None)


def rotation_event(**overrides: Any) -> dict[str, Any]:
    event = {"Step": "setSecret", "SecretId": SECRET, "ClientRequestToken": "token-1"}
    event.update(overrides)
    return event


def test_a_step_for_the_functions_secret_is_run(calls: Any) -> None:
    made, run = calls
    runtime.run(database_users.handle_rotation(rotation_event(), LambdaContext(), run=run))
    assert made == [{"step": "setSecret", "token": "token-1"}]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"Step": "create_secret"}, "unknown rotation step"),
        ({"Step": None}, "unknown rotation step"),
        ({"ClientRequestToken": ""}, "ClientRequestToken"),
        ({"SecretId": SECRET.replace("app", "master")}, "only its own secret"),
    ],
)
def test_anything_else_is_refused_before_any_call(
    calls: Any, overrides: dict[str, Any], message: str
) -> None:
    made, run = calls
    with pytest.raises(database_users.RotationRefused, match=message):
        runtime.run(
            database_users.handle_rotation(rotation_event(**overrides), LambdaContext(), run=run)
        )
    assert made == []


# --- the composition root ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "settings",
    [
        Settings(),
        Settings(database="sql", database_url="sqlite+aiosqlite:///:memory:"),
        # The Data API without an application user's secret: everything signs in as configured.
        Settings(database="dataapi", dataapi_resource_arn="arn:c", dataapi_secret_arn="arn:s"),
    ],
)
def test_there_is_no_application_user_to_set_up_without_its_secret(settings: Settings) -> None:
    assert runtime.run(provision_database_user(settings)) is None


def test_rotation_without_an_application_user_names_what_to_set() -> None:
    with pytest.raises(RuntimeError, match="FILESTORE_DATAAPI_APP_SECRET_ARN"):
        runtime.run(rotate_database_secret(Settings(), step="createSecret", token="t"))


def test_the_application_user_needs_its_schema() -> None:
    settings = Settings(
        database="dataapi",
        dataapi_resource_arn="arn:c",
        dataapi_secret_arn="arn:s",
        dataapi_app_secret_arn="arn:app",
    )
    with pytest.raises(RuntimeError, match="FILESTORE_DATAAPI_DATABASE"):
        runtime.run(provision_database_user(settings))
