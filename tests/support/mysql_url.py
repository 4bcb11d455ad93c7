"""The one reader of the SQLAlchemy-style MySQL URLs that tests, the rds-data emulator and the
benchmarks are given (``mysql+aiomysql://root:@127.0.0.1:3306/test``)."""

from __future__ import annotations

from typing import TypedDict
from urllib.parse import unquote, urlsplit

__all__ = ["MySQLServer", "mysql_server"]


class MySQLServer(TypedDict):
    """Where a MySQL or MariaDB server listens, whom to log in as, and which database."""

    host: str
    port: int
    user: str
    password: str
    database: str  # "" when the URL names none


def mysql_server(url: str) -> MySQLServer:
    """The server, credentials and database of a SQLAlchemy-style MySQL URL such as
    ``mysql+aiomysql://root:@127.0.0.1:3306/test`` (the driver part is ignored)."""
    parts = urlsplit(url)
    if parts.scheme.split("+")[0] not in ("mysql", "mariadb"):
        raise ValueError(f"not a MySQL URL: {parts.scheme}://…")
    return MySQLServer(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 3306,
        user=unquote(parts.username) if parts.username else "root",
        password=unquote(parts.password) if parts.password else "",
        database=unquote(parts.path.lstrip("/")),
    )
