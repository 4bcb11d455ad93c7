"""`filestore completion bash|zsh|fish`: the shell code that completes `filestore`'s commands
and options (argcomplete: the shell runs `filestore` with `_ARGCOMPLETE` set to ask it)."""

from __future__ import annotations

import argparse
import os
from typing import Any

from filestore.entrypoints.cli_options import help_text

SHELLS = ("bash", "zsh", "fish")


def add_completion_command(commands: Any) -> None:
    completion = commands.add_parser(
        "completion",
        **help_text(
            "Print the shell code that completes filestore's commands and options.",
            """
eval "$(filestore completion bash)"                  # in ~/.bashrc
eval "$(filestore completion zsh)"                   # in ~/.zshrc
filestore completion fish > ~/.config/fish/completions/filestore.fish""",
        ),
    )
    completion.add_argument("shell", choices=SHELLS)
    completion.set_defaults(handler=print_completion)


def print_completion(args: argparse.Namespace) -> int:
    from argcomplete.shell_integration import shellcode

    code = shellcode(["filestore"], shell=args.shell)  # names a shell, runs none  # nosec B604
    print(code, end="")
    return 0


def complete(parser: argparse.ArgumentParser) -> None:
    """Answers the shell's completion request and exits, when the shell is asking."""
    if "_ARGCOMPLETE" in os.environ:
        import argcomplete

        argcomplete.autocomplete(parser)
