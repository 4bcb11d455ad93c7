"""What every `filestore` command shares: the global options (accepted before or after the
command), help with a description and examples, and the exit status of each class of failure.

The global options are one parent parser given to every command. Its defaults are SUPPRESS, so
an option given after the command overrides the one before it, and one not given after it leaves
the value before it (or the main parser's default) alone.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from filestore.entrypoints.client_errors import (
    ClientError,
    LocalFileExists,
    Unreachable,
    UsageError,
)

# Exit statuses, by class of failure (docs/cli.md and `filestore --help` list them).
OK = 0
FAILED = 1  # anything not below
USAGE = 2  # the command line (or what it asks) is not valid: argparse, an ambiguous name, 400
NOT_SIGNED_IN = 3  # no token, or the API refused it (401)
NOT_FOUND = 4  # no such file, folder, share (404)
CONFLICT = 5  # a name taken, the wrong state (409), a local file in the way (without --force)
TOO_LARGE = 6  # over the size limit or the quota (413)
UNAVAILABLE = 7  # the API or storage cannot be reached, is down (5xx) or is not a filestore API
INTERRUPTED = 130  # Ctrl-C

EXIT_CODES = f"""exit status:
  {OK}    success
  {FAILED}    any other failure
  {USAGE}    usage: a bad option or argument, an ambiguous name, input the API refused (400)
  {NOT_SIGNED_IN}    not signed in: no token, or the token was refused (401)
  {NOT_FOUND}    not found: no such file, folder or share (404)
  {CONFLICT}    conflict: a name taken, the wrong state (409), a local file in the way
  {TOO_LARGE}    too large: over the size limit or the quota (413)
  {UNAVAILABLE}    unavailable: the API or storage cannot be reached or is failing (5xx)
  {INTERRUPTED}  interrupted (Ctrl-C)"""

BY_STATUS = {
    400: USAGE, 422: USAGE, 401: NOT_SIGNED_IN, 403: NOT_SIGNED_IN, 404: NOT_FOUND,
    409: CONFLICT, 412: CONFLICT, 413: TOO_LARGE,
}  # fmt: skip


def exit_code(error: ClientError) -> int:
    """The exit status for an error of the client."""
    if isinstance(error, Unreachable):
        return UNAVAILABLE
    if isinstance(error, LocalFileExists):
        return CONFLICT
    if isinstance(error, UsageError):
        return USAGE
    if error.status is None:
        return FAILED
    if error.status >= 500:
        return UNAVAILABLE
    return BY_STATUS.get(error.status, FAILED)


class _Redacted:
    """The values of `--token` on this command line, which no error message may repeat."""

    secrets: tuple[str, ...] = ()

    @classmethod
    def learn(cls, argv: Sequence[str]) -> None:
        found = []
        for i, word in enumerate(argv):
            if word == "--token" and i + 1 < len(argv):
                found.append(argv[i + 1])
            elif word.startswith("--token="):
                found.append(word.split("=", 1)[1])
        cls.secrets = tuple(s for s in found if s)

    @classmethod
    def hide(cls, text: str) -> str:
        for secret in cls.secrets:
            text = text.replace(secret, "<token hidden>")
        return text


def learn_secrets(argv: Sequence[str]) -> None:
    """Remember the tokens given on this command line, to keep them out of error messages."""
    _Redacted.learn(argv)


class Parser(argparse.ArgumentParser):
    """argparse, whose errors never repeat a token and whose help keeps its examples' layout."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(USAGE, f"{self.prog}: error: {_Redacted.hide(message)}\n")


# None: not given on the command line (the environment, or a profile, may then say).
GLOBAL_DEFAULTS = dict.fromkeys(("endpoint", "token", "profile")) | {"json": False, "quiet": False}


def global_options(*, main: bool = False) -> argparse.ArgumentParser:
    """The options of every command, with SUPPRESS defaults (see the module's docstring); for
    the main parser (`main`), with the values when no global option is given anywhere.

    The two are distinct parsers: argparse shares a parent's actions with its children, and a
    default set on the main parser's would reach every command's.
    """
    options = argparse.ArgumentParser(add_help=False)
    group = options.add_argument_group("global options (before or after the command)")
    suppress = argparse.SUPPRESS
    group.add_argument(
        "--endpoint",
        default=suppress,
        metavar="URL",
        help="the API's URL (env FILESTORE_ENDPOINT; default http://127.0.0.1:8000)",
    )
    group.add_argument(
        "--token", default=suppress, metavar="TOKEN", help="bearer token (env FILESTORE_TOKEN)"
    )
    group.add_argument(
        "--profile", default=suppress, metavar="NAME", help="the signed-in profile to use"
    )
    group.add_argument(
        "--json",
        action="store_true",
        default=suppress,
        help="print the API's answers as JSON, for programs (no progress bar)",
    )
    group.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        default=suppress,
        help="no progress bar or notes; print only ids (or a share's link)",
    )
    if main:
        options.set_defaults(**GLOBAL_DEFAULTS)
    return options


def help_text(description: str, examples: str) -> dict[str, Any]:
    """`add_parser` keywords for a command: the first sentence of `description` is its summary in
    `filestore --help`; `examples` are command lines with their comments, shown under its help."""
    lines = examples.strip("\n").splitlines()
    summary = " ".join(description.split("\n\n", 1)[0].split())
    return {
        "help": summary.split(". ", 1)[0].rstrip("."),
        "description": description,
        "epilog": "examples:\n" + "\n".join(f"  {line}" for line in lines),
        "formatter_class": argparse.RawDescriptionHelpFormatter,
    }
