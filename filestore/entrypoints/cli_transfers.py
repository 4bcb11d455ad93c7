"""Moving bytes: `filestore upload`, `download`, `cat`, and the unfinished uploads (`ls --pending`).

A file is named by its path (`docs/a.txt`), its id or the start of its id (`cli_paths`). A
download never replaces a file without `--force`; `-o -` and `cat` write to stdout. Ctrl-C during
an upload says how to resume it (`upload PATH --resume ID`) or abort it (`rm ID`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from filestore.entrypoints.cli_options import help_text
from filestore.entrypoints.cli_output import human_size, table, when
from filestore.entrypoints.cli_paths import Entry, NotFound, PathResolver, looks_like_id
from filestore.entrypoints.cli_uploads import upload_paths
from filestore.entrypoints.client_errors import UploadInterrupted, UsageError

if TYPE_CHECKING:
    from filestore.entrypoints.client import Client


def add_transfer_commands(commands: Any, common: argparse.ArgumentParser) -> None:
    """Adds `upload`, `download` and `cat` to the `filestore` parser."""
    upload = commands.add_parser(
        "upload",
        parents=[common],
        **help_text(
            "Upload files (or, with -r, folders and everything in them).\n\n"
            "Each file goes straight to storage, with its SHA-256 checked on arrival; a large\n"
            "one goes in parts, in parallel. An interrupted upload (Ctrl-C, a lost connection)\n"
            "can be resumed with --resume: `filestore ls --pending` lists the unfinished ones.",
            """
filestore upload report.pdf                  # into the root; prints the new file's id
filestore upload a.txt b.txt --to docs/2026  # into a folder (made if missing)
filestore upload -r photos --to backup       # a folder with everything in it
filestore upload big.iso --resume 0190c3d2-…  # finish an interrupted upload
filestore upload -q report.pdf               # print only the id""",
        ),
    )
    upload.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    upload.add_argument("--resume", metavar="ID", help="continue an interrupted upload")
    upload.add_argument("--content-type", help="default: guessed from the file's name")
    upload.add_argument("-r", "--recursive", action="store_true", help="folders and their files")
    upload.add_argument("--to", metavar="FOLDER", help="into this folder (created if missing)")
    upload.add_argument(
        "--on-conflict",
        choices=("rename", "fail", "skip"),
        help="a name already taken: keep both as 'name (2)' (default), refuse, or skip that file "
        "and go on (to finish an interrupted upload -r)",
    )
    upload.set_defaults(run=upload_files, show=show_uploaded)

    download = commands.add_parser(
        "download",
        parents=[common],
        **help_text(
            "Download a file, checked against the SHA-256 storage verified.\n\n"
            "FILE is a path (docs/a.txt), an id, or the start of an id. An existing file is\n"
            "not replaced unless --force is given.",
            """
filestore download docs/report.pdf           # to ./report.pdf
filestore download 0190c3d2 -o copies/       # by the start of its id, into a folder
filestore download notes.txt -o - | less     # to stdout
filestore download report.pdf --force        # replace ./report.pdf""",
        ),
    )
    download.add_argument("id", metavar="FILE", help="a path, an id or the start of an id")
    download.add_argument(
        "-o", "--output", metavar="PATH", help="a file or a folder; '-' for stdout"
    )
    download.add_argument("-f", "--force", action="store_true", help="replace an existing file")
    download.set_defaults(run=download_file, show=lambda result: print(result["path"]))

    cat = commands.add_parser(
        "cat",
        parents=[common],
        **help_text(
            "Write a file's bytes to stdout.",
            """
filestore cat notes.txt
filestore cat docs/data.csv | head""",
        ),
    )
    cat.add_argument("id", metavar="FILE", help="a path, an id or the start of an id")
    cat.set_defaults(run=cat_file, show=None)


def resolve_file(client: Client, wanted: str) -> Entry:
    """The file a command line names (a folder is refused)."""
    entry = PathResolver(client).entry(wanted)
    if entry.is_folder:
        raise UsageError(f"{wanted!r} is a folder, not a file")
    return entry


# uploads


def upload_files(client: Client, args: argparse.Namespace) -> list[Any]:
    try:
        if args.resume:
            if len(args.paths) != 1:
                raise UsageError("--resume takes exactly one PATH")
            return [client.resume(args.paths[0], pending_upload(client, args.resume))]
        return upload_paths(
            client,
            args.paths,
            to=args.to,
            recursive=args.recursive,
            content_type=args.content_type,
            on_conflict=args.on_conflict,
        )
    except UploadInterrupted as stopped:
        print(interrupted_message(stopped), file=sys.stderr)
        raise


def pending_upload(client: Client, wanted: str) -> str:
    """The id of the unfinished upload that `wanted` is, or begins (`ls --pending` lists them)."""
    if looks_like_id(wanted):
        return wanted
    found = [u for u in client.pending() if str(u["id"]).startswith(wanted.strip().lower())]
    if not found:
        raise NotFound(f"no unfinished upload {wanted!r} (see: filestore ls --pending)")
    if len(found) > 1:
        shown = "; ".join(f"{u['id']} {u['name']}" for u in found)
        raise UsageError(f"{wanted!r} is the start of {len(found)} unfinished uploads' ids: "
                         f"{shown} (give more of the id)")  # fmt: skip
    return str(found[0]["id"])


def interrupted_message(stopped: UploadInterrupted) -> str:
    """What to do with an upload left pending by Ctrl-C (and which files went up before it)."""
    before = "".join(f"\n  uploaded before it: {done}" for done in stopped.sent_before)
    if stopped.resumable:
        return (
            f"filestore: interrupted; upload {stopped.upload_id} of {stopped.path} is unfinished.\n"
            f"  resume it: filestore upload {stopped.path} --resume {stopped.upload_id}\n"
            f"  abort it:  filestore rm {stopped.upload_id}"
        ) + before
    return (
        f"filestore: interrupted; upload {stopped.upload_id} of {stopped.path} is unfinished "
        "(a small file is sent again whole, not resumed).\n"
        f"  abort it:  filestore rm {stopped.upload_id}   (its bytes count against your quota)\n"
        f"  then send it again: filestore upload {stopped.path}"
    ) + before


def show_uploaded(result: list[Any]) -> None:
    rows = [["ID", "STATUS", "SIZE", "PATH"]]
    notes = []
    for item in result:
        if "skipped" in item:
            notes.append(f"skipped: {item['path']} ({item['skipped']})")
        else:
            rows.append([str(item["id"]), str(item["status"]), human_size(item.get("size")),
                         str(item.get("path") or item["name"])])  # fmt: skip
    if len(rows) > 1:
        print("\n".join(table(rows, right=(2,))))
    for note in notes:
        print(note)


# downloads


def download_file(client: Client, args: argparse.Namespace) -> Any:
    entry = resolve_file(client, args.id)
    if args.output == "-":
        upload = client.write_to(str(entry.id), sys.stdout.buffer)
        sys.stdout.flush()
        return {"id": upload["id"], "path": "-", "to_stdout": True}
    output = Path(args.output) if args.output else None
    path = client.download(str(entry.id), output, overwrite=args.force)
    return {"id": entry.id, "path": str(path)}


def cat_file(client: Client, args: argparse.Namespace) -> Any:
    entry = resolve_file(client, args.id)
    upload = client.write_to(str(entry.id), sys.stdout.buffer)
    sys.stdout.flush()
    return {"id": upload["id"], "path": "-", "to_stdout": True}


# unfinished uploads


def show_pending(items: list[Any]) -> None:
    if not items:
        print("no unfinished uploads")
        return
    rows = [["ID", "SIZE", "STARTED", "NAME"]]
    rows += [
        [str(u["id"]), human_size(u.get("size")), when(u.get("created_at")), str(u["name"])]
        for u in items
    ]
    print("\n".join(table(rows, right=(1,))))
    print(
        "\nresume one: filestore upload PATH --resume ID   (the same file)\n"
        "abort one:  filestore rm ID   (pending bytes count against your quota until then)"
    )
