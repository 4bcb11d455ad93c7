"""The HTTP API's routes of folders and the trash (v2); `http_api` imports them."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from filestore.domain import commands
from filestore.domain.handlers import LIST_LIMIT_MAX
from filestore.entrypoints.folder_schemas import (
    FolderIn,
    FolderOut,
    FolderPageOut,
    FolderPatchIn,
    FolderWithPathOut,
    TrashPageOut,
    restored_out,
)
from filestore.entrypoints.http_calls import actor, call
from filestore.entrypoints.http_openapi import BEARER, FOLDERS, TRASH, answers
from filestore.entrypoints.http_resolver import app
from filestore.entrypoints.schemas import UploadOut

Cursor = Annotated[str | None, Query(min_length=1, max_length=4096, pattern="^[A-Za-z0-9_-]+$")]
Limit = Annotated[int, Query(ge=1, le=LIST_LIMIT_MAX)]
# A folder in a query: a folder's id, or `root`.
FolderParam = Annotated[str | None, Query(min_length=1, max_length=64)]


def folder_param(value: str | None) -> str | None:
    """`root` (or nothing) is the root; anything else names a folder."""
    return None if value in (None, "root") else value


@app.post(
    "/folders",
    status_code=201,
    operation_id="create_folder",
    security=BEARER,
    tags=[FOLDERS],
    responses=answers(201, "The new folder.", 400, 404, 409),
)
def create_folder(body: FolderIn) -> FolderOut:
    """Create a folder.

    A new folder in the root or in one of my folders (`parent_id`). Names are unique within a
    folder, ignoring case: a name taken there is 409.
    """
    return FolderOut.of(call(commands.CreateFolder(actor(), body.name, body.parent_id)))


@app.get(
    "/folders",
    operation_id="list_folders",
    security=BEARER,
    tags=[FOLDERS],
    responses=answers(200, "A page of folders, by name.", 404),
)
def list_folders(
    parent_id: FolderParam = None, limit: Limit = 50, cursor: Cursor = None
) -> FolderPageOut:
    """List folders.

    The folders in one folder (`parent_id`, or `root`: the default), by name, a page at a time
    (`next_cursor` back as `cursor`). Files are listed by the files route with `folder_id`.
    """
    command = commands.ListFolders(actor(), folder_param(parent_id), limit, cursor)
    return FolderPageOut.of(call(command))


@app.get(
    "/folders/<folder_id>",
    operation_id="get_folder",
    security=BEARER,
    tags=[FOLDERS],
    responses=answers(200, "The folder and the folders it is in.", 404),
)
def get_folder(folder_id: str) -> FolderWithPathOut:
    """Show a folder.

    One of my folders, with its path: the folders from the outermost down to this one (the root
    not listed).
    """
    return FolderWithPathOut.of_path(call(commands.GetFolder(actor(), folder_id)))


@app.patch(
    "/folders/<folder_id>",
    operation_id="update_folder",
    security=BEARER,
    tags=[FOLDERS],
    responses=answers(200, "The folder, renamed and/or moved.", 400, 404, 409),
)
def update_folder(folder_id: str, body: FolderPatchIn) -> FolderOut:
    """Rename or move a folder.

    Rename and/or move a folder with everything in it (`"parent_id": null`: to the root; an
    absent field stays as it is). Into itself or below itself, or onto a name taken there, is
    409.
    """
    command = commands.UpdateFolder(actor(), folder_id, body.name, body.parent())
    return FolderOut.of(call(command))


@app.delete(
    "/folders/<folder_id>",
    status_code=204,
    operation_id="delete_folder",
    security=BEARER,
    tags=[FOLDERS],
    responses=answers(204, "In the trash, with everything in it (or it already was).", 404),
)
def delete_folder(folder_id: str) -> Response[None]:
    """Delete a folder.

    Put a folder and everything in it in the trash. Deleting it again is fine (204).
    """
    call(commands.DeleteFolder(actor(), folder_id))
    return Response(status_code=204)


@app.get(
    "/trash",
    operation_id="list_trash",
    security=BEARER,
    tags=[TRASH],
    responses=answers(200, "A page of the trash, most recently trashed first."),
)
def list_trash(limit: Limit = 50, cursor: Cursor = None) -> TrashPageOut:
    """List the trash.

    What I put in the trash, most recent first: a trashed folder is one item (not what was in
    it). `purge_at` says when it goes for good.
    """
    return TrashPageOut.of(call(commands.ListTrash(actor(), limit, cursor)))


@app.post(
    "/trash/<item_id>/restore",
    operation_id="restore",
    security=BEARER,
    tags=[TRASH],
    responses=answers(200, "The restored file (Upload) or folder (Folder).", 404),
)
def restore(item_id: str) -> UploadOut | FolderOut:
    """Restore from the trash.

    Put a file or folder back where it was (or in the root, if that folder is gone), as `name
    (2)` if its name is taken there; a folder comes back with everything that went to the trash
    with it. Share links of a restored file stay dead.
    """
    return restored_out(call(commands.RestoreFromTrash(actor(), item_id)))


@app.delete(
    "/trash/<item_id>",
    status_code=204,
    operation_id="delete_forever",
    security=BEARER,
    tags=[TRASH],
    responses=answers(204, "Deleted for good.", 404),
)
def delete_forever(item_id: str) -> Response[None]:
    """Delete for good.

    Delete a file or folder in the trash for good: its bytes no longer count against the quota.
    It cannot be restored.
    """
    call(commands.DeleteFromTrash(actor(), item_id))
    return Response(status_code=204)


@app.delete(
    "/trash",
    status_code=204,
    operation_id="empty_trash",
    security=BEARER,
    tags=[TRASH],
    responses=answers(204, "The trash is empty."),
)
def empty_trash() -> Response[None]:
    """Empty the trash.

    Delete everything in the trash for good.
    """
    call(commands.EmptyTrash(actor()))
    return Response(status_code=204)
