"""The `filestore` command line: one subcommand group per concern.

Each concern adds its commands with an `add_<concern>_commands(subparsers)` function that
registers subparsers and sets `handler` (a function of the parsed arguments returning an exit
code) on each; `main` only dispatches. Heavy imports stay inside the handlers.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from typing import Any


def add_db_commands(subparsers: Any) -> None:
    """`filestore db upgrade [--database-url URL]`."""
    db = subparsers.add_parser("db", help="manage the database schema")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    upgrade = db_commands.add_parser(
        "upgrade",
        help="apply the migrations not yet applied (running it again changes nothing)",
    )
    upgrade.add_argument(
        "--database-url",
        help="mysql+aiomysql://… or sqlite+aiosqlite:///path (default: FILESTORE_DATABASE_URL, "
        "or the Data API when FILESTORE_DATABASE=dataapi)",
    )
    upgrade.set_defaults(handler=_db_upgrade)


def _db_upgrade(args: argparse.Namespace) -> int:
    from filestore.settings import Settings

    settings = Settings()
    if args.database_url or settings.database != "dataapi":
        url = args.database_url or settings.database_url
        if not url:
            print("filestore db upgrade: give --database-url or set FILESTORE_DATABASE_URL")
            return 2
        from filestore.adapters.sql.alchemy import upgrade_database

        applied = asyncio.run(upgrade_database(url))
    else:
        from filestore.adapters.dataapi.database import DataApiDatabase

        applied = asyncio.run(DataApiDatabase.from_settings(settings).migrate())
    if applied:
        print("applied migrations: " + ", ".join(f"{v:04d}" for v in applied))
    else:
        print("the database is up to date")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="filestore", description="A serverless file store.")
    subparsers = parser.add_subparsers(dest="command", required=True)
    add_db_commands(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the process exit code."""
    args = build_parser().parse_args(argv)
    code: int = args.handler(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
