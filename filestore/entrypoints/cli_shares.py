"""Links and the account: `filestore share FILE`, `share ls FILE`, `share rm TOKEN|URL`,
`whoami` and `notify on|off`.

`share` keeps its first form (`filestore share FILE --expires 1h` makes a link) beside its
actions: a first word `ls` or `rm` is the action (a file named so is reached as `/ls` or by id).
"""

from __future__ import annotations

import argparse
import re
from typing import TYPE_CHECKING, Any

from filestore.entrypoints.cli_options import help_text
from filestore.entrypoints.cli_output import human_size, table, when
from filestore.entrypoints.cli_transfers import resolve_file
from filestore.entrypoints.client_errors import UsageError

if TYPE_CHECKING:
    from filestore.entrypoints.client import Client

UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def duration(text: str) -> int:
    """Seconds from `90`, `90s`, `15m`, `1h`, `7d`, `1w`."""
    match = re.fullmatch(r"\s*(\d+)\s*([smhdw]?)\s*", text)
    if not match:
        raise argparse.ArgumentTypeError(f"not a duration: {text!r} (try 30s, 15m, 1h, 7d, 1w)")
    return int(match.group(1)) * UNITS[match.group(2)]


def add_account_commands(commands: Any, common: argparse.ArgumentParser) -> None:
    """Adds `share`, `whoami` and `notify` to the `filestore` parser."""
    share = commands.add_parser(
        "share",
        parents=[common],
        **help_text(
            "Make a link anyone can download a file from; list or revoke a file's links.\n\n"
            "  filestore share FILE [--expires 1h]   a new link (at most 1w)\n"
            "  filestore share ls FILE               the file's live links\n"
            "  filestore share rm TOKEN|URL          revoke a link",
            """
filestore share docs/report.pdf --expires 1w   # 30s, 15m, 1h, 7d, 1w (default 1h)
filestore share ls docs/report.pdf
filestore share rm https://files.example.com/s/Xy3…   # or just the token""",
        ),
    )
    share.usage = "filestore share [options] FILE | ls FILE | rm TOKEN|URL"
    share.add_argument("words", nargs="+", metavar="WORD", help="FILE, or ls FILE, or rm TOKEN|URL")
    share.add_argument(
        "--expires", type=duration, default=3600, help="e.g. 30s, 15m, 1h, 7d, 1w (default 1h)"
    )
    share.set_defaults(run=share_command, show=show_share)

    whoami = commands.add_parser(
        "whoami",
        parents=[common],
        **help_text(
            "Who the token says you are: e-mail, id, storage used, e-mail notifications.",
            """
filestore whoami
filestore whoami --json""",
        ),
    )
    whoami.set_defaults(run=lambda client, args: client.whoami(), show=show_me)

    notify = commands.add_parser(
        "notify",
        parents=[common],
        **help_text(
            "Switch e-mail notifications (a file stored, failed, …) on or off.",
            """
filestore notify off
filestore notify on""",
        ),
    )
    notify.add_argument("state", choices=("on", "off"))
    notify.set_defaults(
        run=lambda client, args: client.set_notify(args.state == "on"), show=show_me
    )


def share_token(text: str) -> str:
    """A share's token, from the token itself or a link to it (`…/s/TOKEN`, `…/shares/TOKEN`)."""
    return text.rstrip("/").rsplit("/", 1)[-1].split("?", 1)[0]


def share_command(client: Client, args: argparse.Namespace) -> Any:
    words = args.words
    action = words[0] if len(words) > 1 else None
    if action is None:
        return client.share(str(resolve_file(client, words[0]).id), args.expires)
    if len(words) != 2 or action not in ("ls", "rm"):
        raise UsageError("share takes FILE, or ls FILE, or rm TOKEN (see: filestore share --help)")
    if action == "ls":
        return client.shares(str(resolve_file(client, words[1]).id))
    token = share_token(words[1])
    client.revoke_share(token)
    return {"revoked": token}


def show_share(result: Any) -> None:
    if isinstance(result, list):
        if not result:
            print("no live links (make one: filestore share FILE --expires 1h)")
            return
        rows = [["EXPIRES", "URL"]] + [[when(s["expires_at"]), s["url"]] for s in result]
        print("\n".join(table(rows)))
    elif "revoked" in result:
        print(f"revoked: {result['revoked']}")
    else:
        print(result["url"])
        print(f"  expires {when(result['expires_at'])}")


def show_me(me: Any) -> None:
    used, quota = me["used_bytes"], me["quota_bytes"]
    print(f"{me['email']}  (id {me['id']})")
    print(f"  storage: {human_size(used)} of {human_size(quota)} used")
    print(f"  e-mail notifications: {'on' if me['notify_email'] else 'off'}")
    why = {"bounced": "mail to this address bounced",
           "complained": "one of our e-mails was marked as spam"}  # fmt: skip
    if me.get("email_status") in why:
        print(f"  no e-mail is sent: {why[me['email_status']]}")
