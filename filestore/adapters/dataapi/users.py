"""The database's application users: DML rights on one schema, nothing else.

`DatabaseUsers` runs as a user allowed to create users and grant (the cluster's master user) and
makes sure an application user exists with a given password and exactly SELECT, INSERT, UPDATE
and DELETE on the application's schema: no DDL, no GRANT, nothing on any other schema. It works
over any `Executor` in the MySQL dialect (the Data API with the master secret on AWS).

MySQL cannot bind a user name or a password as a parameter of CREATE USER, ALTER USER or GRANT,
so they are written into the statement: the name only if it matches a strict pattern, the
password as a quoted literal of printable ASCII with its quotes doubled and without a backslash
(whose meaning in a literal depends on the server's `sql_mode`). Generated passwords never hold
either (`ExcludeCharacters` in the template, `credentials.generate_password` here).
"""

from __future__ import annotations

import hashlib
import logging
import re

from filestore.adapters.sql.executor import Executor

log = logging.getLogger(__name__)

# MySQL 8 allows 32 characters in a user name; lower case keeps it one spelling.
USERNAME = re.compile(r"[a-z][a-z0-9_]{0,31}")
SCHEMA = re.compile(r"[A-Za-z0-9_]{1,64}")
# Any host: the Data API connects from AWS's side, not from a known address.
HOST = "%"
PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE")


class DatabaseUserError(Exception):
    """An application user cannot be set up, or is not what it should be; the message says why."""


def user_literal(username: str) -> str:
    """`'name'@'%'`, for a name that matches `USERNAME`."""
    if not USERNAME.fullmatch(username):
        raise DatabaseUserError(
            f"{username!r} is not a valid application user name "
            "(a lower-case letter, then up to 31 lower-case letters, digits or underscores)"
        )
    return f"'{username}'@'{HOST}'"


def password_literal(password: str) -> str:
    """The password as a single-quoted SQL string literal."""
    if not password:
        raise DatabaseUserError("the password is empty")
    if any(not (" " <= c <= "~") for c in password) or "\\" in password:
        raise DatabaseUserError(
            "the password must be printable ASCII without a backslash (generate it with the "
            "template's ExcludeCharacters)"
        )
    return "'" + password.replace("'", "''") + "'"


def schema_pattern(schema: str) -> str:
    """The schema as GRANT reads it: back-quoted, its `_` escaped (in GRANT a bare `_` is a
    wildcard, so `file_store` would also grant on `filexstore`)."""
    if not SCHEMA.fullmatch(schema):
        raise DatabaseUserError(f"{schema!r} is not a schema name this module grants on")
    return "`" + schema.replace("_", "\\_") + "`"


def native_password_hash(password: str) -> str:
    """The `mysql_native_password` hash MySQL keeps in `mysql.user.authentication_string`."""
    # SHA-1 is that plugin's own format, computed here to compare, never to protect anything.
    inner = hashlib.sha1(password.encode(), usedforsecurity=False).digest()
    return "*" + hashlib.sha1(inner, usedforsecurity=False).hexdigest().upper()


_GRANT = re.compile(r"^GRANT (?P<privileges>.+?) ON (?P<target>\S+) TO ", re.IGNORECASE)


class DatabaseUsers:
    """Application users of schema `schema`, administered through `executor`."""

    def __init__(self, executor: Executor, schema: str) -> None:
        self._executor = executor
        self.schema = schema
        self._on = f"{schema_pattern(schema)}.*"
        # How SHOW GRANTS writes it back, without the back-quotes.
        self._shown = self._on.replace("`", "")

    async def ensure(self, username: str, password: str) -> None:
        """Create the user if it is missing, set its password, grant it DML on the schema.

        Idempotent: run on every deploy, it changes nothing but the password when the user
        exists (privileges granted by hand beyond DML stay; `check` reports them).
        """
        user, secret = user_literal(username), password_literal(password)
        await self._executor.execute(f"CREATE USER IF NOT EXISTS {user} IDENTIFIED BY {secret}")
        await self._executor.execute(f"ALTER USER {user} IDENTIFIED BY {secret}")
        await self._executor.execute(f"GRANT {', '.join(PRIVILEGES)} ON {self._on} TO {user}")
        log.info("application user %s has its password and DML on %s", username, self.schema)

    async def check(self, username: str, password: str) -> None:
        """`DatabaseUserError` unless the user exists, signs in with `password` (where the
        server's hash format lets us tell) and holds exactly DML on the schema."""
        user = user_literal(username)
        rows = await self._executor.fetch(
            "SELECT plugin, authentication_string FROM mysql.user "
            "WHERE User = :username AND Host = :host",
            {"username": username, "host": HOST},
        )
        if not rows:
            raise DatabaseUserError(f"no database user {username}")
        plugin, stored = str(rows[0][0] or ""), str(rows[0][1] or "")
        if plugin == "mysql_native_password":
            if stored != native_password_hash(password):
                raise DatabaseUserError(f"the password of {username} is not the secret's")
        else:
            # A salted format (caching_sha2_password): only a sign-in could tell.
            log.warning("cannot compare a %s password here; checked the grants only", plugin)
        grants = [str(row[0]) for row in await self._executor.fetch(f"SHOW GRANTS FOR {user}")]
        self._check_grants(username, grants)

    def _check_grants(self, username: str, grants: list[str]) -> None:
        on_schema: set[str] = set()
        for grant in grants:
            match = _GRANT.match(grant)
            if match is None:
                raise DatabaseUserError(f"{username} holds a grant this check cannot read: {grant}")
            privileges = {p.strip().upper() for p in match["privileges"].split(",")}
            target = match["target"].replace("`", "")
            if target == "*.*" and privileges == {"USAGE"}:
                continue  # "may sign in": every user has it
            if target != self._shown:
                raise DatabaseUserError(f"{username} holds privileges beyond its schema: {grant}")
            on_schema |= privileges
        if on_schema != set(PRIVILEGES):
            raise DatabaseUserError(
                f"{username} should hold {', '.join(PRIVILEGES)} on {self.schema}, "
                f"not {', '.join(sorted(on_schema)) or 'nothing'}"
            )
