"""EXPLAIN of a query written with `:name` parameters, on MySQL/MariaDB through PyMySQL."""

from __future__ import annotations

from typing import Any

import pymysql

from tests.support.dataapi_emulator import translate_named_parameters
from tests.support.mysql import MySQLDatabase


def plan_of(
    database: MySQLDatabase, sql: str, params: dict[str, Any], table: str
) -> dict[str, object]:
    """EXPLAIN's row for one table (by alias) of a query written with `:name` parameters."""
    [found] = [row for row in plans(database, sql, params) if row["table"] == table]
    return found


def plans(database: MySQLDatabase, sql: str, params: dict[str, Any]) -> list[dict[str, object]]:
    """EXPLAIN's rows for a query written with `:name` parameters."""
    statement, names = translate_named_parameters("EXPLAIN " + sql)
    values = tuple(
        v.replace(tzinfo=None) if hasattr(v, "tzinfo") else v
        for v in (params[name] for name in names)
    )
    with (
        pymysql.connect(
            **database.pymysql_kwargs(), cursorclass=pymysql.cursors.DictCursor
        ) as connection,
        connection.cursor() as cursor,
    ):
        cursor.execute(statement, values)
        return [dict(row) for row in cursor.fetchall()]
