"""The `filestore` command: run the local server, issue local tokens, and use any deployment.

    filestore serve [--host H] [--port P] [--data-dir DIR] [--database-url URL] [--aws-endpoint-url URL]
    filestore token [--data-dir DIR] --email EMAIL [--sub SUB]
    filestore db upgrade [--database-url URL]
    filestore [--endpoint URL] [--token T] [--json]
        upload PATH… [-r] [--to FOLDER] [--resume ID] | download ID [-o PATH]
        | share ID --expires 1h | whoami
        | ls [PATH] [--sort …] | find TEXT | mkdir [-p] PATH… | mv SRC DST | rm PATH…
        | trash ls|restore|rm|empty                       (these in cli_organize)

Every error is one line on stderr and a non-zero exit status.
"""  # noqa: E501

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from filestore.entrypoints.cli_organize import add_organize_commands

DEFAULT_DATA_DIR = Path(".filestore")


def _duration(text: str) -> int:
    """Seconds from `90`, `90s`, `15m`, `1h`, `7d`."""
    match = re.fullmatch(r"\s*(\d+)\s*([smhd]?)\s*", text)
    if not match:
        raise argparse.ArgumentTypeError(f"not a duration: {text!r} (try 30s, 15m, 1h, 7d)")
    unit = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[match.group(2)]
    return int(match.group(1)) * unit


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
    from filestore.bootstrap import upgrade_database
    from filestore.settings import Settings

    settings = Settings()
    if args.database_url or settings.database != "dataapi":
        url = args.database_url or settings.database_url
        if not url:
            print("filestore db upgrade: give --database-url or set FILESTORE_DATABASE_URL")
            return 2
        settings = settings.model_copy(update={"database": "sql", "database_url": url})
    applied = asyncio.run(upgrade_database(settings))
    if applied:
        print("applied migrations: " + ", ".join(f"{v:04d}" for v in applied))
    else:
        print("the database is up to date")
    return 0


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(prog="filestore", description="filestore: a file store.")
    main.add_argument(
        "--endpoint",
        default=os.environ.get("FILESTORE_ENDPOINT", "http://127.0.0.1:8000"),
        help="the API's URL (env FILESTORE_ENDPOINT; default http://127.0.0.1:8000)",
    )
    main.add_argument(
        "--token",
        default=os.environ.get("FILESTORE_TOKEN"),
        help="bearer token (env FILESTORE_TOKEN)",
    )
    main.add_argument("--json", action="store_true", help="machine-readable output")
    commands = main.add_subparsers(dest="command", required=True, metavar="COMMAND")
    # `--json` also after the command (`filestore ls --json`); SUPPRESS keeps the global value.
    output = argparse.ArgumentParser(add_help=False)
    output.add_argument("--json", action="store_true", default=argparse.SUPPRESS)

    serve = commands.add_parser("serve", help="run the whole system on this machine")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    serve.add_argument("--database-url", help="a MySQL URL (mysql+aiomysql://…) instead of SQLite")
    serve.add_argument(
        "--aws-endpoint-url", help="an external AWS emulator (LocalStack) for SNS, SQS, SES, S3"
    )
    serve.add_argument(
        "--open-sign-in",
        action="store_true",
        help="offer the password-free e-mail sign-in on a non-loopback address too (UNSAFE: "
        "anyone who reaches the server can sign in as anyone; a trusted network only)",
    )

    token = commands.add_parser("token", help="print a token the local server accepts")
    token.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    token.add_argument("--email", required=True)
    token.add_argument("--sub", help="the user's id (default: derived from the e-mail)")

    upload = commands.add_parser("upload", help="upload files", parents=[output])
    upload.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    upload.add_argument("--resume", metavar="ID", help="continue an interrupted upload")
    upload.add_argument("--content-type")
    upload.add_argument("-r", "--recursive", action="store_true", help="folders and their files")
    upload.add_argument("--to", metavar="FOLDER", help="into this folder (created if missing)")
    upload.add_argument(
        "--on-conflict",
        choices=("rename", "fail", "skip"),
        help="a name already taken: keep both as 'name (2)' (default), refuse, or skip that file "
        "and go on (to finish an interrupted upload -r)",
    )

    download = commands.add_parser("download", help="download a file", parents=[output])
    download.add_argument("id")
    download.add_argument("-o", "--output", type=Path)
    share = commands.add_parser(
        "share", help="make a link anyone can download from", parents=[output]
    )
    share.add_argument("id")
    share.add_argument("--expires", type=_duration, default=3600, help="e.g. 30s, 15m, 1h, 7d")
    commands.add_parser("whoami", help="who the token says you are", parents=[output])
    add_organize_commands(commands, output)
    add_db_commands(commands)
    return main


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        if args.command == "db":
            code: int = args.handler(args)
            return code
        if args.command == "serve":
            return _serve(args)
        if args.command == "token":
            return _token(args)
        return _client_command(args)
    except KeyboardInterrupt:
        return 130


def _fail(message: str, status: int = 1) -> int:
    print(f"filestore: {message}", file=sys.stderr)
    return status


def _serve(args: argparse.Namespace) -> int:
    import logging

    from filestore.entrypoints.local.server import ServeOptions, StartupError, serve

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
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


def _token(args: argparse.Namespace) -> int:
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


def _client_command(args: argparse.Namespace) -> int:
    from filestore.entrypoints.client import Client, ClientError

    client = Client(args.endpoint, args.token)
    try:
        # The organize commands say how they run and show; the others are below.
        result = args.run(client, args) if "run" in args else _run(client, args)
    except ClientError as error:
        return _fail(str(error))
    finally:
        client.close()
    if args.json:
        print(json.dumps(result, indent=2, default=str))
    elif "show" in args:
        args.show(result)
    else:
        _print_human(args.command, result)
    return 0


def _run(client: Any, args: argparse.Namespace) -> Any:
    command = args.command
    if command == "whoami":
        return client.whoami()
    if command == "share":
        return client.share(args.id, args.expires)
    if command == "download":
        return {"id": args.id, "path": str(client.download(args.id, args.output))}
    if command == "upload":
        if args.resume:
            if len(args.paths) != 1:
                from filestore.entrypoints.client import ClientError

                raise ClientError("--resume takes exactly one PATH")
            return [client.resume(args.paths[0], args.resume)]
        from filestore.entrypoints.cli_organize import upload_paths

        return upload_paths(
            client,
            args.paths,
            to=args.to,
            recursive=args.recursive,
            content_type=args.content_type,
            on_conflict=args.on_conflict,
        )
    raise AssertionError(command)  # pragma: no cover


def _print_human(command: str, result: Any) -> None:
    if command == "whoami":
        used, quota = result["used_bytes"], result["quota_bytes"]
        print(f"{result['email']}  (id {result['id']}; {used} of {quota} bytes used; "
              f"e-mail notifications {'on' if result['notify_email'] else 'off'})")  # fmt: skip
        why = {"bounced": "mail to this address bounced",
               "complained": "one of our e-mails was marked as spam"}  # fmt: skip
        if result.get("email_status") in why:
            print(f"no e-mail is sent: {why[result['email_status']]}")
    elif command == "upload":
        for item in result:
            if "skipped" in item:
                print(f"skipped: {item['path']} ({item['skipped']})")
            else:
                print(f"{item['id']}  {item['status']:<8}  {item.get('path') or item['name']}")
    elif command == "download":
        print(result["path"])
    elif command == "share":
        print(f"{result['url']}  (expires {result['expires_at']})")


if __name__ == "__main__":
    sys.exit(main())
