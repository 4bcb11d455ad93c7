"""Uploading files and folders into folders: `filestore upload [-r] [--to FOLDER] PATH…`.

Folders are found or made by path (`cli_paths`); each answer says the `path` it was sent to.
When one file fails or Ctrl-C stops one, the files that went up before it are named with their
ids, which would be lost otherwise.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from filestore.entrypoints.cli_paths import ROOT_FOLDER, Entry, NotFound, PathResolver, explained
from filestore.entrypoints.client_errors import ClientError, UploadInterrupted, UsageError

if TYPE_CHECKING:
    from filestore.entrypoints.client import Client


def upload_paths(
    client: Client,
    paths: list[Path],
    *,
    to: str | None = None,
    recursive: bool = False,
    content_type: str | None = None,
    on_conflict: str | None = None,
) -> list[Any]:
    """Uploads files into the folder `to` (created as needed; default the root) and, with
    `recursive`, folders with everything in them, recreating their folders (reusing existing
    ones). Each answer gains the `path` it was sent to. `on_conflict` is the API's (`rename`,
    `fail`) or `skip`: a file whose name is taken is left out, answered as `{"path", "skipped"}`
    with the server's reason, and the others go on.
    """
    for path in paths:
        if path.is_dir() and not recursive:
            raise UsageError(f"{path}: is a folder (upload it with -r)")
        if not path.exists():
            raise NotFound(f"{path}: no such file or folder")
    resolver = PathResolver(client)
    with explained(f"cannot create folder {to!r}"):
        destination = resolver.ensure_folder(to) if to else ROOT_FOLDER

    skip = on_conflict == "skip"

    def send(path: Path, folder: Entry) -> Any:
        where = resolver.path_of(folder).strip("/")
        try:
            sent = client.upload(
                path,
                content_type=content_type,
                folder_id=folder.id,
                on_conflict="fail" if skip else on_conflict,
            )
        except ClientError as error:
            if skip and error.status == 409:
                return {"path": f"{where}/{path.name}" if where else path.name,
                        "skipped": str(error)}  # fmt: skip
            raise type(error)(f"cannot upload {path}: {error}", status=error.status) from error
        return {**sent, "path": f"{where}/{sent['name']}" if where else sent["name"]}

    def send_tree(directory: Path, parent: Entry) -> Iterator[Any]:
        name = directory.resolve().name
        if not name:
            raise ClientError(f"{directory}: upload the folders in it instead")
        with explained(f"cannot create a folder for {directory}"):
            folder = resolver.ensure_subfolder(parent, name)
        for child in sorted(directory.iterdir()):
            if child.is_dir() and not child.is_symlink():  # a linked folder could loop
                yield from send_tree(child, folder)
            elif child.is_file():
                yield send(child, folder)

    sent: list[Any] = []
    try:
        for path in paths:
            if path.is_dir():
                for answer in send_tree(path, destination):
                    sent.append(answer)
            else:
                sent.append(send(path, destination))
    except ClientError as error:
        raise _with_what_went_up(error, sent) from error
    except UploadInterrupted as stopped:
        stopped.sent_before = _went_up(sent)
        raise
    return sent


def _went_up(sent: list[Any]) -> list[str]:
    return [f"{item['path']} ({item['id']})" for item in sent if "id" in item]


def _with_what_went_up(error: ClientError, sent: list[Any]) -> ClientError:
    """The error, saying which files went up before it (their ids would be lost otherwise)."""
    done = _went_up(sent)
    if not done:
        return error
    return type(error)(f"{error}; uploaded before it: {', '.join(done)}", status=error.status)
