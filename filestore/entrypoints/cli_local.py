"""The commands that run things on this machine: `filestore serve`, `token` and `db upgrade`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from filestore.entrypoints.cli_options import help_text

DEFAULT_DATA_DIR = Path(".filestore")


def add_local_commands(commands: Any, common: argparse.ArgumentParser) -> None:
    """Adds `serve`, `token` and `db` to the `filestore` parser."""
    serve = commands.add_parser(
        "serve",
        **help_text(
            "Run the whole system on this machine: the API, storage, queues, e-mail and the\n"
            "WebSocket, on SQLite and files under --data-dir (or MySQL, or LocalStack).",
            """
filestore serve                                   # http://127.0.0.1:8000
filestore serve --port 8001 --data-dir /tmp/fs
filestore serve --database-url mysql+aiomysql://root@127.0.0.1/test""",
        ),
    )
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    serve.add_argument("--database-url", help="a MySQL URL (mysql+aiomysql://…) instead of SQLite")
    serve.add_argument(
        "--aws-endpoint-url", help="an external AWS emulator (LocalStack) for SNS, SQS, SES, S3"
    )
    serve.add_argument(
        "--log-format",
        choices=("auto", "text", "json"),
        default="auto",
        help="text: a line per request for people; json: structured; auto (default): text on "
        "a terminal, else json",
    )
    serve.add_argument(
        "--open-sign-in",
        action="store_true",
        help="offer the password-free e-mail sign-in on a non-loopback address too (UNSAFE: "
        "anyone who reaches the server can sign in as anyone; a trusted network only)",
    )
    serve.set_defaults(handler=run_server)

    token = commands.add_parser(
        "token",
        **help_text(
            "Print a token the local server accepts (valid 12 hours), for FILESTORE_TOKEN.",
            """
export FILESTORE_TOKEN=$(filestore token --email you@example.com | tail -n 1)
filestore token --data-dir /tmp/fs --email you@example.com""",
        ),
    )
    token.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    token.add_argument("--email", required=True)
    token.add_argument("--sub", help="the user's id (default: derived from the e-mail)")
    token.set_defaults(handler=issue_token)

    db = commands.add_parser(
        "db",
        **help_text(
            "Manage the database schema.",
            """
filestore db upgrade --database-url mysql+aiomysql://root@127.0.0.1/test""",
        ),
    )
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    upgrade = db_commands.add_parser(
        "upgrade",
        **help_text(
            "Apply the migrations not yet applied (running it again changes nothing).",
            """
filestore db upgrade --database-url sqlite+aiosqlite:///.filestore/filestore.db
FILESTORE_DATABASE=dataapi filestore db upgrade   # Aurora, through the Data API""",
        ),
    )
    upgrade.add_argument(
        "--database-url",
        help="mysql+aiomysql://… or sqlite+aiosqlite:///path (default: FILESTORE_DATABASE_URL, "
        "or the Data API when FILESTORE_DATABASE=dataapi)",
    )
    upgrade.set_defaults(handler=upgrade_database)


def _fail(message: str, status: int = 1) -> int:
    print(f"filestore: {message}", file=sys.stderr)
    return status


def upgrade_database(args: argparse.Namespace) -> int:
    from filestore.bootstrap import upgrade_database
    from filestore.settings import Settings

    settings = Settings()
    if args.database_url or settings.database != "dataapi":
        url = args.database_url or settings.database_url
        if not url:
            return _fail("db upgrade: give --database-url or set FILESTORE_DATABASE_URL", 2)
        settings = settings.model_copy(update={"database": "sql", "database_url": url})
    import asyncio  # here: every command loads this module, and asyncio takes ~50 ms

    applied = asyncio.run(upgrade_database(settings))
    if applied:
        print("applied migrations: " + ", ".join(f"{v:04d}" for v in applied))
    else:
        print("the database is up to date")
    return 0


def run_server(args: argparse.Namespace) -> int:
    from filestore.entrypoints.local.logs import configure
    from filestore.entrypoints.local.server import ServeOptions, StartupError, serve

    configure(args.log_format)
    options = ServeOptions(
        host=args.host,
        port=args.port,
        data_dir=args.data_dir,
        database_url=args.database_url,
        aws_endpoint_url=args.aws_endpoint_url,
        open_sign_in=args.open_sign_in,
    )
    try:
        serve(options)
    except StartupError as error:
        return _fail(str(error))
    except KeyboardInterrupt:
        # uvicorn re-raises Ctrl-C once it has shut down gracefully: a clean stop.
        print("filestore: stopped", file=sys.stderr)
    return 0


def issue_token(args: argparse.Namespace) -> int:
    from filestore.bootstrap import local_token_issuer
    from filestore.entrypoints.local.server import StartupError, check_data_dir

    try:
        data_dir = check_data_dir(args.data_dir)
    except StartupError as error:
        return _fail(str(error))
    token = local_token_issuer(data_dir).issue(email=args.email, sub=args.sub)
    print(f"# a token for {args.email}, valid for 12 hours; use it as", file=sys.stderr)
    print("# export FILESTORE_TOKEN=<the line below>", file=sys.stderr)
    print(token)
    return 0
