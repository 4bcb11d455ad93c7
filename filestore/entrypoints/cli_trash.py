"""`filestore trash ls | restore ID_OR_NAME | rm ID_OR_NAME | empty`: what was deleted.

`rm` puts files and folders in the trash (`cli_organize`); here they are listed, most recent
first, restored where they were (or to the root if that folder is gone) or deleted forever. An
item is named by its id or its name; a name that several items have asks for the id.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from filestore.entrypoints.cli_paths import Entry, NotFound, PathResolver, name_key
from filestore.entrypoints.client_errors import ClientError

if TYPE_CHECKING:
    from filestore.entrypoints.client import Client


def add_trash_commands(commands: Any, output: argparse.ArgumentParser) -> None:
    """Adds `trash` and its actions to the `filestore` parser."""
    trash = commands.add_parser("trash", help="what was deleted: list, restore, delete forever")
    actions = trash.add_subparsers(dest="trash_command", required=True, metavar="ACTION")
    listing = actions.add_parser("ls", help="list the trash, most recent first", parents=[output])
    listing.set_defaults(run=list_trash, show=show_trash)
    restore = actions.add_parser("restore", help="put an item back where it was", parents=[output])
    restore.add_argument("item", metavar="ID_OR_NAME")
    restore.set_defaults(run=restore_from_trash, show=show_restored)
    forever = actions.add_parser("rm", help="delete an item forever", parents=[output])
    forever.add_argument("item", metavar="ID_OR_NAME")
    forever.set_defaults(run=delete_forever, show=show_deleted_forever)
    empty = actions.add_parser(
        "empty", help="delete everything in the trash forever", parents=[output]
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
        raise ClientError(f"{len(named)} items named {wanted!r} in the trash; give an id: "
                          f"{choices}")  # fmt: skip
    return named[0]


def show_trash(items: list[Any]) -> None:
    if not items:
        print("the trash is empty")
    for item in items:
        size = "folder" if item["kind"] == "folder" else str(item.get("size"))
        trashed = str(item["trashed_at"])[:19].replace("T", " ")
        purge = str(item["purge_at"])[:10]
        print(f"{item['id']}  {size:>12}  {trashed}  (kept until {purge})  {item['name']}")


def show_restored(item: Any) -> None:
    suffix = "/" if item["kind"] == "folder" else ""
    print(f"restored: {item['path']}{suffix}  ({item['id']})")


def show_deleted_forever(item: Any) -> None:
    print(f"deleted forever: {item['name']}  ({item['deleted']})")
