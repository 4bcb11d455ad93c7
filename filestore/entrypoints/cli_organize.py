"""The commands that organize files: listing in order, search, folders, moving and the trash.

    filestore ls [PATH] [--sort created_at|name|size] [--asc|--desc] [--all | --pending]
    filestore find TEXT [--sort …] [--asc|--desc]
    filestore mkdir [-p] PATH…
    filestore mv SRC DST
    filestore rm PATH…

Paths start at the root (`docs/2026/report.pdf`) and are resolved by `cli_paths`; an id does
wherever an existing file or folder is expected (`filestore trash …` is in `cli_trash`; uploads
into folders in `cli_uploads`). Each
command returns what `--json` prints (the API's objects, with `"kind"` where files and folders
mix) and has a `show` that prints it for people.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from filestore.entrypoints.cli_options import help_text
from filestore.entrypoints.cli_output import human_size, table, when
from filestore.entrypoints.cli_paths import (
    ROOT_FOLDER,
    Entry,
    NotFound,
    PathResolver,
    explained,
    name_key,
    split_path,
)
from filestore.entrypoints.cli_transfers import show_pending
from filestore.entrypoints.cli_trash import add_trash_commands
from filestore.entrypoints.client_errors import ClientError, UsageError

if TYPE_CHECKING:
    from filestore.entrypoints.client import Client

SORTS = ("created_at", "name", "size")


def add_organize_commands(commands: Any, output: argparse.ArgumentParser) -> None:
    """Adds `ls`, `find`, `mkdir`, `mv`, `rm` and `trash` to the `filestore` parser."""
    sorting = argparse.ArgumentParser(add_help=False)
    sorting.add_argument(
        "--sort", choices=SORTS, default="created_at", help="files' order (default created_at)"
    )
    direction = sorting.add_mutually_exclusive_group()
    direction.add_argument("--asc", dest="order", action="store_const", const="asc")
    direction.add_argument(
        "--desc",
        dest="order",
        action="store_const",
        const="desc",
        help="the order's direction (default: names A to Z, dates and sizes largest first)",
    )

    ls = commands.add_parser(
        "ls",
        parents=[output, sorting],
        **help_text(
            "List a folder: its folders, then its files (or every file with --all, or the\n"
            "unfinished uploads with --pending).",
            """
filestore ls                        # the root
filestore ls docs/2026 --sort name  # --sort created_at|name|size, --asc|--desc
filestore ls --all                  # every file, with its path
filestore ls --pending              # unfinished uploads, to resume or abort""",
        ),
    )
    ls.add_argument("path", nargs="?", default="", metavar="PATH", help="default: the root")
    shown = ls.add_mutually_exclusive_group()
    shown.add_argument("--all", action="store_true", help="every file, in any folder")
    shown.add_argument(
        "--pending", action="store_true", help="unfinished uploads (resume or abort them)"
    )
    ls.set_defaults(run=list_folder, show=show_listing)

    find = commands.add_parser(
        "find",
        parents=[output, sorting],
        **help_text(
            "Find files whose names contain TEXT (any case or accent), in every folder.",
            """
filestore find resume               # finds Résumé.pdf
filestore find .jpg --sort size""",
        ),
    )
    find.add_argument("text", metavar="TEXT")
    find.set_defaults(run=find_files, show=show_listing)

    mkdir = commands.add_parser(
        "mkdir",
        parents=[output],
        **help_text(
            "Create folders.",
            """
filestore mkdir docs
filestore mkdir -p docs/2026/march  # with its parents; there already is fine""",
        ),
    )
    mkdir.add_argument("paths", nargs="+", metavar="PATH")
    mkdir.add_argument(
        "-p", "--parents", action="store_true", help="create missing parents; existing is fine"
    )
    mkdir.set_defaults(run=make_folders, show=show_folders)

    mv = commands.add_parser(
        "mv",
        parents=[output],
        **help_text(
            "Rename or move a file or folder.\n\n"
            "Moves SRC into DST when DST is a folder; else renames and moves SRC to the path\n"
            "DST (its folder must exist).",
            """
filestore mv report.pdf docs/2026        # into a folder
filestore mv docs/2026/report.pdf r.pdf  # to a path: rename and move at once
filestore mv 0190c3d2 notes.txt          # a file by the start of its id""",
        ),
    )
    mv.add_argument("source", metavar="SRC", help="a path, an id or the start of a file's id")
    mv.add_argument("target", metavar="DST", help="a folder, or the new path")
    mv.set_defaults(run=move, show=show_moved)

    rm = commands.add_parser(
        "rm",
        parents=[output],
        **help_text(
            "Move files or folders to the trash; abort an unfinished upload.\n\n"
            "A folder goes with everything in it; `filestore trash restore` brings it back.\n"
            "The id of an unfinished upload (filestore ls --pending) aborts it.",
            """
filestore rm docs/old.pdf notes.txt
filestore rm docs                   # the folder and everything in it
filestore rm 0190c3d2-…             # abort an unfinished upload""",
        ),
    )
    rm.add_argument("paths", nargs="+", metavar="PATH", help="a path, an id or the start of one")
    rm.set_defaults(run=remove, show=show_removed)

    add_trash_commands(commands, output)


def default_order(sort: str) -> str:
    """Names A to Z; dates newest first and sizes largest first (as file managers do)."""
    return "asc" if sort == "name" else "desc"


# listing and search


def list_folder(client: Client, args: argparse.Namespace) -> list[Any]:
    order = args.order or default_order(args.sort)
    resolver = PathResolver(client)
    if args.pending:
        if args.path.strip("/"):
            raise UsageError("ls --pending lists every unfinished upload: give it no PATH")
        args.show = show_pending
        return [{"kind": "upload", **upload} for upload in client.pending()]
    if args.all:
        if args.path.strip("/"):
            raise UsageError("ls --all lists the files of every folder: give it no PATH")
        files = client.list(sort=args.sort, order=order)
        return [resolver.with_path(Entry.of_upload(f)) for f in files]
    found = resolver.entry(args.path) if args.path.strip("/") else ROOT_FOLDER
    if not found.is_folder:
        return [found.as_json()]
    folders = sort_folders(resolver.subfolders(found), args.sort, order)
    files = client.list(folder_id=found.listing_id, sort=args.sort, order=order)
    return [f.as_json() for f in folders] + [Entry.of_upload(f).as_json() for f in files]


def sort_folders(folders: list[Entry], sort: str, order: str) -> list[Entry]:
    """Folders in the order asked for their files; folders have no size: those go by name."""

    def key(folder: Entry) -> tuple[str, str]:
        first = folder.data.get("created_at", "") if sort == "created_at" else ""
        return (first, name_key(folder.name))

    return sorted(folders, key=key, reverse=order == "desc" and sort != "size")


def find_files(client: Client, args: argparse.Namespace) -> list[Any]:
    order = args.order or default_order(args.sort)
    resolver = PathResolver(client)
    files = client.list(query=args.text, sort=args.sort, order=order)
    return [resolver.with_path(Entry.of_upload(f)) for f in files]


def show_listing(items: list[Any]) -> None:
    if not items:
        print("nothing here")
        return
    rows = [["ID", "STATUS", "SIZE", "CREATED", "NAME"]]
    for item in items:
        created = when(item.get("created_at"))
        if item["kind"] == "folder":
            rows.append([item["id"], "folder", "-", created, f"{item['name']}/"])
        else:
            name = item.get("path") or item["name"]
            rows.append([item["id"], item.get("status", "stored"), human_size(item["size"]),
                         created, name])  # fmt: skip
    print("\n".join(table(rows, right=(2,))))


# folders


def make_folders(client: Client, args: argparse.Namespace) -> list[Any]:
    resolver = PathResolver(client)
    made = []
    for path in args.paths:
        with explained(f"cannot create folder {path!r}"):
            if args.parents:
                folder = resolver.ensure_folder(path)
            else:
                *parents, name = split_path(path) or [""]
                if not name:
                    raise ClientError("the root exists already")
                folder = resolver.create_folder(resolver.folder("/".join(parents)), name)
        made.append(resolver.with_path(folder))
    return made


def show_folders(folders: list[Any]) -> None:
    for folder in folders:
        print(f"{folder['id']}  {folder['path']}/")


def move(client: Client, args: argparse.Namespace) -> Any:
    """`mv SRC DST`: into DST if it is a folder, else to the path DST (its folder must exist)."""
    resolver = PathResolver(client)
    source = resolver.entry(args.source)
    if source.id is None:
        raise ClientError("the root cannot be moved")
    with explained(f"cannot move {args.source!r} to {args.target!r}"):
        parent, name = _destination(resolver, source, args.target)
        moved = _move(client, source, parent, name)
    resolver.moved(moved)
    return resolver.with_path(moved)


def _destination(resolver: PathResolver, source: Entry, target: str) -> tuple[Entry, str]:
    """The folder and name that `target` means for `source`."""
    folder = resolver.find_folder(target)
    # `mv Docs docs` renames: the folder that `docs` finds is the source itself.
    if folder is not None and folder.id != source.id:
        return folder, source.name
    if target.endswith("/") or not split_path(target):
        raise NotFound(f"no folder {target!r}")
    *parents, name = split_path(target)
    return resolver.folder("/".join(parents)), name.strip()


def _move(client: Client, source: Entry, parent: Entry, name: str) -> Entry:
    """One PATCH with what changes (nothing changes: no call)."""
    changes: dict[str, Any] = {}
    if name != source.name:
        changes["name"] = name
    if parent.id != source.parent_id:
        changes["parent_id" if source.is_folder else "folder_id"] = parent.id
    if not changes:
        return source
    if source.is_folder:
        return Entry.of_folder(client.update_folder(str(source.id), changes))
    return Entry.of_upload(client.update(str(source.id), changes))


def show_moved(item: Any) -> None:
    suffix = "/" if item["kind"] == "folder" else ""
    print(f"{item['id']}  {item['path']}{suffix}")


def remove(client: Client, args: argparse.Namespace) -> list[Any]:
    resolver = PathResolver(client)
    entries = [resolver.entry(path) for path in args.paths]  # all found before any is deleted
    ids = [entry.id for entry in entries]
    if None in ids:
        raise ClientError("the root cannot be deleted")
    removed = []
    for path, entry, item_id in zip(args.paths, entries, ids, strict=True):
        if item_id is None:  # refused above; says so to the type checker
            continue
        with explained(f"cannot delete {path!r}"):
            if entry.is_folder:
                client.delete_folder(item_id)
            else:
                client.delete(item_id)
        pending = entry.data.get("status") == "pending"
        removed.append({"deleted": entry.id, "kind": entry.kind, "name": entry.name,
                        **({"aborted": True} if pending else {})})  # fmt: skip
    return removed


def show_removed(removed: list[Any]) -> None:
    for item in removed:
        suffix = "/" if item["kind"] == "folder" else ""
        done = "aborted the upload of" if item.get("aborted") else "moved to the trash:"
        print(f"{done} {item['name']}{suffix}  ({item['deleted']})")
