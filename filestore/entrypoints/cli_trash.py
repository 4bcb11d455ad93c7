"""`filestore trash ls | restore ID_OR_NAME | rm ID_OR_NAME | empty`: what was deleted.

`rm` puts files and folders in the trash (`cli_organize`); here they are listed, most recent
first, restored where they were (or to the root if that folder is gone) or deleted forever. An
item is named by its id or its name; a name that several items have asks for the id.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from filestore.entrypoints.cli_options import help_text
from filestore.entrypoints.cli_output import human_size, table, when
from filestore.entrypoints.cli_paths import Entry, NotFound, PathResolver, name_key
from filestore.entrypoints.client_errors import UsageError

if TYPE_CHECKING:
    from filestore.entrypoints.client import Client


def add_trash_commands(commands: Any, output: argparse.ArgumentParser) -> None:
    """Adds `trash` and its actions to the `filestore` parser."""
    trash = commands.add_parser(
        "trash",
        parents=[output],
        **help_text(
            "What was deleted: list it, restore it, delete it forever.\n\n"
            "Items stay in the trash for a while (see trash ls), then are deleted for good.",
            """
filestore trash ls
filestore trash restore docs        # by name or id
filestore trash rm old.pdf          # forever
filestore trash empty""",
        ),
    )
    actions = trash.add_subparsers(dest="trash_command", required=True, metavar="ACTION")
    listing = actions.add_parser(
        "ls",
        parents=[output],
        **help_text("List the trash, most recent first.", "filestore trash ls"),
    )
    listing.set_defaults(run=list_trash, show=show_trash)
    restore = actions.add_parser(
        "restore",
        parents=[output],
        **help_text(
            "Put an item back where it was (or in the root if its folder is gone).",
            "filestore trash restore report.pdf\nfilestore trash restore 0190c3d2-…",
        ),
    )
    restore.add_argument("item", metavar="ID_OR_NAME")
    restore.set_defaults(run=restore_from_trash, show=show_restored)
    forever = actions.add_parser(
        "rm",
        parents=[output],
        **help_text("Delete an item of the trash forever.", "filestore trash rm report.pdf"),
    )
    forever.add_argument("item", metavar="ID_OR_NAME")
    forever.set_defaults(run=delete_forever, show=show_deleted_forever)
    empty = actions.add_parser(
        "empty",
        parents=[output],
        **help_text("Delete everything in the trash forever.", "filestore trash empty"),
    )
    empty.set_defaults(run=empty_trash, show=lambda _: print("the trash is empty"))


def list_trash(client: Client, args: argparse.Namespace) -> list[Any]:
    return client.trash()


def restore_from_trash(client: Client, args: argparse.Namespace) -> Any:
    item = trashed_item(client.trash(), args.item)
    restored = client.restore(item["id"])
    entry = Entry.of_folder(restored) if item["kind"] == "folder" else Entry.of_upload(restored)
    return PathResolver(client).with_path(entry)


def delete_forever(client: Client, args: argparse.Namespace) -> Any:
    item = trashed_item(client.trash(), args.item)
    client.delete_forever(item["id"])
    return {"deleted": item["id"], "kind": item["kind"], "name": item["name"]}


def empty_trash(client: Client, args: argparse.Namespace) -> Any:
    client.empty_trash()
    return {"emptied": True}


def trashed_item(items: list[Any], wanted: str) -> Any:
    """The item of the trash with this id, or the one with this name (several: say which)."""
    by_id = [item for item in items if item["id"] == wanted.strip().lower()]
    if by_id:
        return by_id[0]
    key = name_key(wanted)
    named = [item for item in items if name_key(item["name"]) == key]
    if not named:
        raise NotFound(f"nothing named {wanted!r} in the trash (see: filestore trash ls)")
    if len(named) > 1:
        choices = "; ".join(
            f"{item['id']} ({item['kind']}, deleted {item['trashed_at'][:19]})" for item in named
        )
        raise UsageError(f"{len(named)} items named {wanted!r} in the trash; give an id: "
                          f"{choices}")  # fmt: skip
    return named[0]


def show_trash(items: list[Any]) -> None:
    if not items:
        print("the trash is empty")
        return
    rows = [["ID", "SIZE", "DELETED", "KEPT UNTIL", "NAME"]]
    for item in items:
        folder = item["kind"] == "folder"
        rows.append([item["id"], "folder" if folder else human_size(item.get("size")),
                     when(item["trashed_at"]), when(item["purge_at"]),
                     f"{item['name']}/" if folder else item["name"]])  # fmt: skip
    print("\n".join(table(rows, right=(1,))))


def show_restored(item: Any) -> None:
    suffix = "/" if item["kind"] == "folder" else ""
    print(f"restored: {item['path']}{suffix}  ({item['id']})")


def show_deleted_forever(item: Any) -> None:
    print(f"deleted forever: {item['name']}  ({item['deleted']})")
