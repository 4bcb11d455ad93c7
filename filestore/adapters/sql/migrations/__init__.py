"""One migration history for every database: versioned SQL per dialect, applied in order.

Migrations live beside this module as `<dialect>/<version>_<name>.sql`, one statement per `;`
at the end of a line. `run_migrations(executor)` applies the ones not yet recorded in
`schema_migrations`, statement by statement outside any transaction (MySQL's DDL commits
implicitly anyway), and records each version once all its statements ran. A statement is
idempotent or fails with an "already exists" error when repeated, which the runner takes as
"done": a run that died half-way is finished by the next one, and running twice changes nothing.

A version may also have a step in Python (`AFTER_STATEMENTS`), run after its statements and
before its record, for what only the application can compute (0005: the name keys of existing
rows); it is idempotent as well.

The runner needs only an `Executor`, so it works the same over aiomysql, aiosqlite and the Data
API (`filestore.adapters.sql.alchemy.upgrade_database`, and the CloudFormation custom resource
via `filestore.adapters.dataapi.database.DataApiDatabase.autocommit()`). It imports no driver.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources

from filestore.adapters.sql.executor import Dialect, Executor, SqlError
from filestore.adapters.sql.migrations.name_keys import fill_name_keys

log = logging.getLogger(__name__)

# MySQL errors that mean "this statement already took effect" when it is run again:
# table exists, duplicate column, duplicate key name, can't drop (already dropped),
# duplicate foreign key name.
_DONE_CODES = frozenset({1050, 1060, 1061, 1091, 1826})
# SQLite has no error numbers for these, only messages.
_DONE_MESSAGES = ("already exists", "duplicate column name")

# Python steps, by version: each runs after the statements of its version (on either dialect).
AFTER_STATEMENTS: dict[int, Callable[[Executor], Awaitable[None]]] = {5: fill_name_keys}

_FILE = re.compile(r"^(?P<version>\d{4})_(?P<name>[a-z0-9_]+)\.sql$")

_CREATE_HISTORY = {
    "mysql": (
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INT UNSIGNED NOT NULL PRIMARY KEY,"
        " name VARCHAR(255) NOT NULL,"
        " applied_at DATETIME(6) NOT NULL"
        ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin"
    ),
    "sqlite": (
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER NOT NULL PRIMARY KEY,"
        " name VARCHAR(255) NOT NULL,"
        " applied_at DATETIME NOT NULL"
        ")"
    ),
}
# Two runners at once (two deploys) must not fail on recording the same version.
_RECORD = {
    "mysql": "INSERT IGNORE INTO schema_migrations (version, name, applied_at) "
    "VALUES (:version, :name, :applied_at)",
    "sqlite": "INSERT OR IGNORE INTO schema_migrations (version, name, applied_at) "
    "VALUES (:version, :name, :applied_at)",
}


@dataclass(frozen=True)
class Migration:
    """One versioned step: its statements, in order."""

    version: int
    name: str
    statements: tuple[str, ...]


def split_statements(script: str) -> tuple[str, ...]:
    """The statements of a migration file: `--` comment lines dropped, split at a `;` that
    ends a line (our migrations put no `;` inside a statement)."""
    statements: list[str] = []
    current: list[str] = []
    for line in script.splitlines():
        if line.strip().startswith("--") or not line.strip():
            continue
        current.append(line.rstrip())
        if line.rstrip().endswith(";"):
            statements.append("\n".join(current).rstrip(";").strip())
            current = []
    if current:
        statements.append("\n".join(current).strip())
    return tuple(statements)


def migrations(dialect: Dialect) -> list[Migration]:
    """Every migration of a dialect, oldest first."""
    found: list[Migration] = []
    for entry in (resources.files(__name__) / dialect).iterdir():
        match = _FILE.match(entry.name)
        if match is None:
            continue
        found.append(
            Migration(
                version=int(match["version"]),
                name=match["name"],
                statements=split_statements(entry.read_text(encoding="utf-8")),
            )
        )
    found.sort(key=lambda m: m.version)
    return found


def _already_done(error: SqlError) -> bool:
    if error.code in _DONE_CODES:
        return True
    return error.code is None and any(m in error.message.lower() for m in _DONE_MESSAGES)


async def applied_versions(executor: Executor) -> set[int]:
    """The versions recorded as applied (creating the history table if need be)."""
    await executor.execute(_CREATE_HISTORY[executor.dialect])
    rows = await executor.fetch("SELECT version FROM schema_migrations")
    return {int(row[0]) for row in rows}


async def run_migrations(executor: Executor) -> list[int]:
    """Apply every migration not yet applied; returns the versions applied now (none: `[]`).

    `executor` must run each statement on its own (autocommit), not inside a transaction.
    """
    done = await applied_versions(executor)
    applied: list[int] = []
    for migration in migrations(executor.dialect):
        if migration.version in done:
            continue
        log.info("applying migration %04d_%s", migration.version, migration.name)
        for statement in migration.statements:
            try:
                await executor.execute(statement)
            except SqlError as error:
                if not _already_done(error):
                    raise
                log.info("already applied: %s", statement.splitlines()[0])
        after = AFTER_STATEMENTS.get(migration.version)
        if after is not None:
            await after(executor)
        await executor.execute(
            _RECORD[executor.dialect],
            {
                "version": migration.version,
                "name": migration.name,
                "applied_at": datetime.now(UTC).replace(tzinfo=None),
            },
        )
        applied.append(migration.version)
    return applied
