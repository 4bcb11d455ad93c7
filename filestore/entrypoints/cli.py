"""The `filestore` command: run the local server, issue local tokens, and use any deployment.

The commands live in topic modules: `cli_local` (serve, token, db), `cli_transfers` (upload,
download, cat; `cli_uploads` sends files and folders into folders), `cli_organize` and
`cli_trash` (ls, find, mkdir, mv, rm, trash), `cli_shares` (share, whoami, notify),
`cli_completion`. Each client command has a `run(client, args)` that returns what `--json`
prints and a `show(result)` that prints it for people; the others (serve, token, db,
completion) a `handler(args)` that returns the exit status. The global options (`cli_options`)
go before or after the command. Every error is one line on stderr and an exit status that says
its class (`cli_options.EXIT_CODES`); never a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from typing import Any

from filestore.entrypoints.cli_auth import add_auth_commands
from filestore.entrypoints.cli_completion import add_completion_command, complete
from filestore.entrypoints.cli_local import add_local_commands
from filestore.entrypoints.cli_options import (
    EXIT_CODES,
    FAILED,
    INTERRUPTED,
    UNAVAILABLE,
    USAGE,
    Parser,
    exit_code,
    global_options,
    learn_secrets,
)
from filestore.entrypoints.cli_organize import add_organize_commands
from filestore.entrypoints.cli_output import quiet_lines
from filestore.entrypoints.cli_shares import add_account_commands
from filestore.entrypoints.cli_transfers import add_transfer_commands
from filestore.entrypoints.client_errors import ClientError, UploadInterrupted

EPILOG = f"""getting started:
  filestore serve                              # the whole system on this machine
  filestore login                              # in another shell: sign in (an e-mail, locally)
  filestore upload report.pdf --to docs        # then: ls docs, download docs/report.pdf
  filestore COMMAND --help                     # what a command does, with examples

{EXIT_CODES}

docs/cli.md has every command, shell completion and the exit statuses."""


def version() -> str:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed("filestore")
    except PackageNotFoundError:  # pragma: no cover  # run from a source tree
        return "unknown"


class _Version(argparse.Action):
    """`--version`, looked up when asked for: importlib.metadata costs ~20 ms at every start."""

    def __call__(self, parser: argparse.ArgumentParser, *_: Any) -> None:
        print(f"filestore {version()}")  # on stdout, as argparse's own version action
        parser.exit()


def parser() -> argparse.ArgumentParser:
    common = global_options()
    main = Parser(
        prog="filestore",
        description="filestore: upload, organize, download and share files, on this machine "
        "(filestore serve) or on AWS.",
        epilog=EPILOG,
        parents=[global_options(main=True)],
    )
    main.add_argument("--version", action=_Version, nargs=0, help="show the version and exit")
    commands = main.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_transfer_commands(commands, common)
    add_organize_commands(commands, common)
    add_account_commands(commands, common)
    add_local_commands(commands, common)
    add_auth_commands(commands, common)
    add_completion_command(commands)
    return main


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    learn_secrets(words)
    program = parser()
    complete(program)
    try:
        args = program.parse_args(words)
    except SystemExit as done:  # --help, --version, or a usage error already printed
        return done.code if isinstance(done.code, int) else FAILED
    try:
        if "handler" in args:  # a command that needs no API client: serve, token, db, …
            code: int = args.handler(args)
            return code
        return client_command(args)
    except UploadInterrupted:
        return INTERRUPTED  # the command said how to resume or abort it
    except KeyboardInterrupt:
        print("\nfilestore: interrupted", file=sys.stderr)
        return INTERRUPTED
    except BrokenPipeError:
        # `filestore cat big | head`: the reader has had enough; nothing more to say.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def fail(message: str, status: int = FAILED) -> int:
    print(f"filestore: {message}", file=sys.stderr)
    return status


def client_command(args: argparse.Namespace) -> int:
    try:
        import httpx

        from filestore.entrypoints.client import Client
        from filestore.entrypoints.credentials import connection
    except ImportError as missing:
        return fail(f"the client needs {missing.name}: pip install 'filestore[cli]'")
    try:
        # The command line's, else the environment's, else the profile's (renewed as needed).
        endpoint, token = connection(args)
        client = Client(endpoint, token)
    except ClientError as error:  # e.g. an unreadable config file
        return fail(str(error), exit_code(error))
    except httpx.InvalidURL as error:
        return fail(f"the endpoint {endpoint!r} is not a URL: {error}", USAGE)
    if args.quiet or args.json:
        client.progress = False  # else: shown where stdout and stderr are terminals
    try:
        result = args.run(client, args)
    except ClientError as error:
        return fail(str(error), exit_code(error))
    except BrokenPipeError:
        raise  # the reader of stdout stopped (`cat … | head`): see main
    except OSError as error:  # a local file: missing, unreadable, a full disk
        where = f"{error.filename}: " if error.filename else ""
        return fail(f"{where}{error.strerror or error}")
    except (KeyError, TypeError) as error:  # JSON, but not the answer a filestore API gives
        return fail(f"{endpoint} gave an answer this client does not understand ({error!r}): "
                    "is it a filestore API?", UNAVAILABLE)  # fmt: skip
    finally:
        client.close()
    if isinstance(result, dict) and result.get("to_stdout"):
        return 0  # the file's bytes were the output
    if args.json:
        print(json.dumps(result, indent=2, default=str))
    elif args.quiet:
        for line in quiet_lines(result):
            print(line)
    else:
        args.show(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
